from django.urls import path

from governance.channels import views

app_name = "channels"

urlpatterns = [
    path("teams/<slug:slug>/channels/", views.channel_list, name="list"),
    path("teams/<slug:slug>/channels/<int:channel_id>/", views.channel_detail, name="detail"),
    path(
        "teams/<slug:slug>/channels/<int:channel_id>/delete/",
        views.channel_remove,
        name="delete",
    ),
    path("teams/<slug:slug>/channels/<int:channel_id>/test/", views.channel_test, name="test"),
]
