from django.urls import path

from governance.accounts import views

app_name = "accounts"

urlpatterns = [
    path("teams/<slug:slug>/tokens/", views.tokens, name="tokens"),
    path("teams/<slug:slug>/settings/", views.team_settings, name="team-settings"),
    path(
        "teams/<slug:slug>/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"
    ),
]
