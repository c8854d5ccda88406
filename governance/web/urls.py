from django.urls import path

from governance.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", views.dashboard_export, name="dashboard-export"),
    path("models/<int:pk>/", views.model_detail, name="model"),
    path("models/<int:pk>/edit/", views.model_edit, name="model-edit"),
    path("models/<int:pk>/versions/<str:version>/scan/", views.version_scan, name="version-scan"),
    path(
        "models/<int:pk>/versions/<str:version>/assessment/",
        views.version_assessment,
        name="version-assessment",
    ),
    path(
        "models/<int:pk>/versions/<str:version>/retire/",
        views.version_retire_view,
        name="version-retire",
    ),
]
