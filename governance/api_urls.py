from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

import governance.api_docs  # noqa: F401 - registers the API docs' view extensions
from governance.exports.api import AuditExportApi, FindingsExportApi, ModelMlBomApi
from governance.findings.api import ComponentsApi, FindingViewSet
from governance.hooks.api import MlflowHookApi
from governance.ingest.api import ScanViewSet, VersionAssessApi, VersionScanApi
from governance.inventory.api import ModelViewSet
from governance.metrics.api import SlaMetricsApi
from governance.policies import api as policies_api
from governance.runtime.api import DeploymentViewSet, PrometheusEventsApi, RuntimeEventsApi

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.register("scans", ScanViewSet, basename="scan")
router.register("models", ModelViewSet, basename="model")
router.register("findings", FindingViewSet, basename="finding")
router.register("exceptions", policies_api.ExceptionViewSet, basename="exception")
router.register("deployments", DeploymentViewSet, basename="deployment")
router.register("admission-log", policies_api.AdmissionLogViewSet, basename="admission-log")

urlpatterns = [
    # Governance (policies app): policies as code, SLA clocks, artifact admission.
    re_path(r"^policies/$", policies_api.PolicyListApi.as_view(), name="policy-list"),
    re_path(
        r"^policies/(?P<pk>[^/.]+)/$", policies_api.PolicyDetailApi.as_view(), name="policy-detail"
    ),
    re_path(
        r"^policies/(?P<pk>[^/.]+)/export/$",
        policies_api.PolicyExportApi.as_view(),
        name="policy-export",
    ),
    re_path(
        r"^policies/(?P<pk>[^/.]+)/revisions/$",
        policies_api.PolicyRevisionsApi.as_view(),
        name="policy-revisions",
    ),
    re_path(r"^sla/$", policies_api.SlaListApi.as_view(), name="sla-list"),
    re_path(r"^sla/metrics/$", SlaMetricsApi.as_view(), name="sla-metrics"),
    re_path(
        r"^artifacts/(?P<sha256>[^/]+)/admission$",
        policies_api.ArtifactAdmissionApi.as_view(),
        name="artifact-admission",
    ),
    # One model (by id or name): governance actions (policies app) and server scans (ingest).
    re_path(r"^models/(?P<pk>[^/]+)/$", policies_api.ModelDetailApi.as_view(), name="model-detail"),
    re_path(
        r"^models/(?P<pk>[^/]+)/gate/$", policies_api.ModelGateApi.as_view(), name="model-gate"
    ),
    re_path(
        r"^models/(?P<pk>[^/]+)/versions/(?P<version>[^/]+)/$",
        policies_api.VersionDetailApi.as_view(),
        name="model-version-detail",
    ),
    re_path(
        r"^models/(?P<pk>[^/]+)/versions/(?P<version>[^/]+)/scan/$",
        VersionScanApi.as_view(),
        name="model-scan-artifact",
    ),
    re_path(r"^components/$", ComponentsApi.as_view(), name="components"),
    # Evidence out (exports app): before the router, whose findings/{pk}/ would take "export".
    re_path(r"^models/(?P<pk>[^/]+)/mlbom/$", ModelMlBomApi.as_view(), name="model-mlbom"),
    re_path(r"^findings/export/$", FindingsExportApi.as_view(), name="findings-export"),
    re_path(r"^audit/export/$", AuditExportApi.as_view(), name="audit-export"),
    re_path(
        r"^models/(?P<pk>[^/]+)/versions/(?P<version>[^/]+)/assess/$",
        VersionAssessApi.as_view(),
        name="model-assess",
    ),
    re_path(r"^events/$", RuntimeEventsApi.as_view(), name="events"),
    re_path(r"^events/prometheus/$", PrometheusEventsApi.as_view(), name="events-prometheus"),
    # Model registry hooks (hooks app): signed by the registry, not by a token.
    re_path(r"^hooks/mlflow/$", MlflowHookApi.as_view(), name="hook-mlflow"),
    path("", include(router.urls)),
]
