from django.urls import include, path
from rest_framework.routers import DefaultRouter

from governance.findings.api import FindingViewSet
from governance.ingest.api import ScanViewSet
from governance.inventory.api import ModelViewSet

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.register("scans", ScanViewSet, basename="scan")
router.register("models", ModelViewSet, basename="model")
router.register("findings", FindingViewSet, basename="finding")

urlpatterns = [path("", include(router.urls))]
