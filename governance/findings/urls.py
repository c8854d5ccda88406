from django.urls import path

from governance.findings import views

app_name = "findings"

urlpatterns = [
    path("", views.finding_list, name="list"),
    path("bulk/", views.findings_bulk_view, name="bulk"),
    path("views/", views.saved_view_create, name="view-create"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="view-delete"),
    path("<int:pk>/", views.finding_detail, name="detail"),
    path("<int:pk>/triage/", views.finding_triage_view, name="triage"),
]
