from django.urls import path

from governance.reports import views

app_name = "reports"

urlpatterns = [
    path("models/<int:pk>/versions/<str:version>/report/", views.report_view, name="report"),
    path(
        "models/<int:pk>/versions/<str:version>/report/pdf/",
        views.report_pdf_request,
        name="report-pdf",
    ),
    path(
        "models/<int:pk>/versions/<str:version>/report/pdf/<int:render_id>/",
        views.report_pdf_download,
        name="report-download",
    ),
]
