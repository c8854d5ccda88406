from django.urls import path

from governance.findings import views

app_name = "findings"

urlpatterns = [
    path("", views.finding_list, name="list"),
    path("<int:pk>/", views.finding_detail, name="detail"),
    path("<int:pk>/triage/", views.finding_triage_view, name="triage"),
]
