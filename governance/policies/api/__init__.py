"""``/api/v1/`` for governance: policies as code, exceptions, SLA clocks, admission, and the
governance actions on a model (edit, gate, retiring a version)."""

from governance.policies.api.admission import AdmissionLogViewSet, ArtifactAdmissionApi
from governance.policies.api.exceptions import ExceptionViewSet
from governance.policies.api.governed import ModelDetailApi, ModelGateApi, VersionDetailApi
from governance.policies.api.rules import (
    PolicyDetailApi,
    PolicyExportApi,
    PolicyListApi,
    PolicyRevisionsApi,
)
from governance.policies.api.sla import SlaListApi

__all__ = [
    "AdmissionLogViewSet",
    "ArtifactAdmissionApi",
    "ExceptionViewSet",
    "ModelDetailApi",
    "ModelGateApi",
    "PolicyDetailApi",
    "PolicyExportApi",
    "PolicyListApi",
    "PolicyRevisionsApi",
    "SlaListApi",
    "VersionDetailApi",
]
