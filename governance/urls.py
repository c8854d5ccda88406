from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance.exporter.views import MetricsView
from governance.findings import views as findings_views

# /livez, /readyz and /healthz are answered by governance.lib.health.HealthCheckMiddleware,
# before the Host check and the HTTPS redirect that probes must not meet.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # API views authenticate themselves (token or session): see WardenLoginRequiredMiddleware.
    path("api/v1/", include("governance.api_urls", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The Prometheus scrape: a metrics-scoped token or an allow-listed network (no session).
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("policies/", include("governance.policies.urls")),
    path("findings/", include("governance.findings.urls")),
    path("", include("governance.reports.urls")),
    path("components/", findings_views.components, name="components"),
    path("", include("governance.accounts.urls")),
    path("", include("governance.channels.urls")),
    path("", include("governance.web.urls")),
]

# Errors outside a view's own handling: JSON on /api/, styled pages elsewhere, 503 with
# Retry-After when a dependency is down (governance.lib.errors).
handler400 = "governance.lib.errors.bad_request"
handler403 = "governance.lib.errors.permission_denied"
handler404 = "governance.lib.errors.not_found"
handler500 = "governance.lib.errors.server_error"
