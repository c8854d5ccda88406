"""``/api/v1/scans/``: CI uploads a report and gets the import result and the gate verdict."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedViewSetMixin
from governance.accounts.selectors import has_role, team_for_request
from governance.evidence.models import ScanRun, ScanSubject
from governance.ingest.assessments import SCAN_TYPE as ASSESSMENT_SCAN_TYPE
from governance.ingest.assessments import assessment_request
from governance.ingest.services import artifact_scan_request, report_submit
from governance.inventory.api import ModelScopedAPIView
from governance.lib.api_errors import ApplicationError
from governance.policies.services import gate_evaluate_recorded
from scanners import registry as scanner_registry


def scan_subject_payload(subject: ScanSubject) -> dict[str, Any]:
    """What a scan looked at, as the API shows it."""
    return {
        "id": subject.pk,
        "kind": subject.kind,
        "label": subject.label,
        "version": subject.version.version if subject.version_id else None,  # type: ignore[union-attr]
        "artifact_sha256": subject.artifact_sha256 or None,
        "target": subject.target or None,
        "environment": subject.environment or None,
    }


def scan_run_payload(run: ScanRun, request: Request, *, with_gate: bool = True) -> dict[str, Any]:
    """The upload response and ``GET /scans/{id}/`` share this shape. Lists leave ``gate``
    null: a verdict per row would cost a gate evaluation per row."""
    done = run.status == "done"
    gate = (
        gate_evaluate_recorded(run.model, run.version, source="upload").to_dict()
        if with_gate and done
        else None
    )
    return {
        "id": run.pk,
        "url": request.build_absolute_uri(reverse("api:scan-detail", args=[run.pk])),
        "status": run.status,
        "error": run.error or None,
        "model": run.model.name,
        "model_id": run.model_id,
        "team": run.team.slug,
        "version": run.version.version if run.version else None,
        "scan_type": run.scan_type,
        "tool": run.tool,
        "tool_version": run.tool_version,
        "category": run.category,
        "report_sha256": run.report_sha256,
        "subject": scan_subject_payload(run.subject) if run.subject is not None else None,
        "commit": run.commit,
        "branch": run.branch,
        "pipeline_url": run.pipeline_url,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "counts": run.counts,
        "warnings": run.warnings,
        "gate": gate,
    }


@extend_schema_field({"type": "string", "enum": sorted(scanner_registry.available())})
class ScanTypeField(serializers.CharField):
    """A report format name; the schema lists them (``python -m scanners formats``). Empty:
    Warden recognizes the format from the content."""


class GateReasonSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="the policy rule that fired")
    verdict = serializers.ChoiceField(choices=["fail", "warn"])
    message = serializers.CharField(help_text="what is wrong, in words")
    fix = serializers.CharField(help_text="how to make the rule pass")
    findings = serializers.ListField(
        child=serializers.IntegerField(), help_text="ids of the findings behind it (up to 50)"
    )


class GateSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=["pass", "warn", "fail"])
    reasons = GateReasonSerializer(many=True)


class AdmissionAnswerSerializer(serializers.Serializer):
    allowed = serializers.BooleanField(help_text="true: the artifact may be loaded")
    model = serializers.CharField(allow_null=True)
    model_id = serializers.IntegerField(
        allow_null=True, help_text="null when versions of several models carry the digest"
    )
    version = serializers.CharField(allow_null=True)
    verdict = serializers.ChoiceField(choices=["pass", "warn", "fail"], allow_null=True)
    reasons = GateReasonSerializer(many=True)


class ScanCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="findings in the report")
    new = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    reopened = serializers.IntegerField()
    resolved = serializers.IntegerField(help_text="open before, absent from this report")


class ScanSubjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="artifact, target or deployment")
    label = serializers.CharField()  # type: ignore[assignment]
    version = serializers.CharField(allow_null=True)
    artifact_sha256 = serializers.CharField(allow_null=True)
    target = serializers.CharField(allow_null=True)
    environment = serializers.CharField(allow_null=True)


class ScanRunSerializer(serializers.Serializer):
    """The shape of ``scan_run_payload()`` (documentation only)."""

    id = serializers.IntegerField()
    url = serializers.URLField(help_text="poll this while status is queued or running")
    status = serializers.ChoiceField(choices=ScanRun.Status.choices)
    error = serializers.CharField(allow_null=True)
    model = serializers.CharField()
    model_id = serializers.IntegerField()
    team = serializers.CharField()
    version = serializers.CharField(allow_null=True)
    scan_type = ScanTypeField(allow_null=True)
    tool = serializers.CharField()
    tool_version = serializers.CharField()
    category = serializers.CharField()
    report_sha256 = serializers.CharField()
    subject = ScanSubjectSerializer(allow_null=True)
    commit = serializers.CharField()
    branch = serializers.CharField()
    pipeline_url = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    counts = ScanCountsSerializer(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())
    gate = GateSerializer(allow_null=True, help_text="null in lists and until the import is done")


SCAN_EXAMPLE = OpenApiExample(
    "A pip-audit upload, imported in the request",
    response_only=True,
    value={
        "id": 812,
        "url": "https://warden.example.com/api/v1/scans/812/",
        "status": "done",
        "error": None,
        "model": "fraud-scorer",
        "model_id": 3,
        "team": "fraud-risk",
        "version": "2.4.0",
        "scan_type": "pip-audit",
        "tool": "pip-audit",
        "tool_version": "2.7.3",
        "category": "dependency",
        "report_sha256": "9f2c" + "0" * 60,
        "subject": None,
        "commit": "4be1c0d",
        "branch": "main",
        "pipeline_url": "https://ci.example.com/pipelines/1234",
        "created_at": "2026-03-01T09:12:44Z",
        "finished_at": "2026-03-01T09:12:45Z",
        "counts": {"total": 14, "new": 2, "unchanged": 12, "reopened": 0, "resolved": 1},
        "warnings": [],
        "gate": {
            "verdict": "fail",
            "reasons": [
                {
                    "rule": "max-critical",
                    "verdict": "fail",
                    "message": "1 critical finding open (the policy allows 0)",
                    "fix": "upgrade torch to 2.6.0 or request an exception",
                    "findings": [90211],
                }
            ],
        },
    },
)


class ScanUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="the report file")
    model = serializers.CharField(
        max_length=200, help_text="model name (matched case-insensitively; must exist)"
    )
    create_model = serializers.BooleanField(
        required=False,
        default=False,
        help_text="register the model if the team has none of that name (and allows it)",
    )
    version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    artifact_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "must be 64 lower-case hex characters"},
    )
    target = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="what was scanned (lockfile, image, manifest path, dataset); default: what "
        "the report names",
    )
    scan_type = ScanTypeField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="the report's format; empty: recognized from the content",
    )
    team = serializers.SlugField(
        required=False,
        allow_blank=True,
        default="",
        help_text="team slug (browser sessions in several teams)",
    )
    commit = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    branch = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    pipeline_url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    environment = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


#: What a scan run's payload reads, in one query.
SCAN_RUN_RELATED = ("model", "version", "team", "subject__model", "subject__version")


@extend_schema_view(
    list=extend_schema(
        description="Scan runs of your teams, newest first (``model`` filters by name). Lists "
        "leave ``gate`` null: fetch one run for its verdict.",
    ),
    retrieve=extend_schema(
        description="One scan run: its import status, counts and, once done, the CI gate "
        "verdict. Poll it after an asynchronous upload.",
    ),
    create=extend_schema(
        description="Upload a scanner report for a model (multipart form). Small reports "
        "import in the request; large ones (or ``?async=1``) in a worker: poll ``url``. "
        "201 for a new run, 200 when the same report was already uploaded.",
    ),
)
class ScanViewSet(
    TeamScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ScanUploadSerializer  # what OPTIONS describes for POST

    def base_queryset(self) -> Any:
        return ScanRun.objects.select_related(*SCAN_RUN_RELATED).order_by("-id")

    @extend_schema(responses={200: ScanRunSerializer(many=True)}, operation_id="v1_scans_list")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        qs = self.get_queryset()
        if request.query_params.get("model"):
            qs = qs.filter(model__name=request.query_params["model"])
        page = self.paginate_queryset(qs)
        runs = page if page is not None else qs[:100]
        rows = [scan_run_payload(run, request, with_gate=False) for run in runs]
        return self.get_paginated_response(rows) if page is not None else Response(rows)

    @extend_schema(responses={200: ScanRunSerializer}, examples=[SCAN_EXAMPLE])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(scan_run_payload(self.get_object(), request))

    @extend_schema(
        request={"multipart/form-data": ScanUploadSerializer},
        responses={201: ScanRunSerializer, 200: ScanRunSerializer},
        parameters=[OpenApiParameter("async", bool, description="import in a background worker")],
        examples=[SCAN_EXAMPLE],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = ScanUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        team = team_for_request(request.user, data["team"])
        if not has_role(request.user, team.pk, "member"):
            raise ApplicationError(
                "uploading needs a write-scoped token or a member role in the team",
                status_code=403,
            )
        upload = data["file"]
        run_async = request.query_params.get("async") in ("1", "true", "yes") or None
        result = report_submit(
            team=team,
            model_name=data["model"],
            data=upload,  # the spooled file: hashed and stored piece by piece
            filename=upload.name or "",
            version=data["version"],
            artifact_sha256=data["artifact_sha256"],
            target=data["target"],
            create_model=data["create_model"],
            scan_type=data["scan_type"] or None,
            commit=data["commit"],
            branch=data["branch"],
            pipeline_url=data["pipeline_url"],
            environment=data["environment"],
            user=request.user,
            api_token=getattr(request.user, "token", None),
            run_async=run_async,
        )
        run = self.get_queryset().get(pk=result.scan_run.pk)
        return Response(
            scan_run_payload(run, request),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class VersionScanApi(ModelScopedAPIView):
    @extend_schema(request=None, responses={202: ScanRunSerializer})
    def post(self, request: Request, pk: str, version: str) -> Response:
        """Scan this version's artifact on the server with Warden's model-file scanner (it
        never loads the file); poll the returned run like an upload."""
        model = self.get_object()
        if not has_role(request.user, model.team_id, "member"):
            raise ApplicationError("scanning needs a member role or a write token", status_code=403)
        found = self.get_version(model, version)
        run = artifact_scan_request(version=found, actor=request.user)
        run = ScanRun.objects.select_related(*SCAN_RUN_RELATED).get(pk=run.pk)
        return Response(scan_run_payload(run, request), status=202)


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


class AssessUploadSerializer(serializers.Serializer):
    """The options of ``warden assess``, as form fields. (``data`` and ``label`` shadow
    Serializer attributes only for the type checker: DRF's metaclass moves declared fields
    out of the class body, so ``.data`` stays the serializer's own.)"""

    data = serializers.FileField(  # type: ignore[assignment]
        help_text="the evaluation table (CSV or Parquet)"
    )
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=200, help_text="column of the true labels"
    )
    prediction = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="column of the predictions",
    )
    score = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="column of P(positive) (binary tasks)",
    )
    sensitive = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="comma-separated sensitive columns",
    )
    reference = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="reference (training) table: drift, leakage",
    )
    threshold = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        default=list,
        help_text="METRIC<=VALUE, repeatable; the policy's limits apply to metrics not named",
    )
    run_model = serializers.BooleanField(
        required=False,
        default=False,
        help_text="run the version's artifact (under WARDEN_ARTIFACT_ROOTS) for the predictions",
    )
    model_file = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="an ONNX or skops file to run; its sha256 must be a cleanly scanned "
        "artifact of the version",
    )
    features = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="comma-separated feature columns",
    )
    categorical = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="numeric columns that are categories",
    )
    robustness = serializers.BooleanField(
        required=False, default=True, help_text="model runs: measure robustness"
    )
    task = serializers.ChoiceField(
        choices=["auto", "classification", "regression"], required=False, default="auto"
    )
    positive_label = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    decision_threshold = serializers.FloatField(
        required=False, default=0.5, min_value=0.0, max_value=1.0
    )
    min_group_size = serializers.IntegerField(required=False, default=30, min_value=1)
    seed = serializers.IntegerField(required=False, default=0, min_value=0)


class _ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


class DatasetFingerprintSerializer(serializers.Serializer):
    """What an assessment ran on (documentation only)."""

    name = serializers.CharField()
    format = serializers.CharField(help_text="csv or parquet")
    sha256 = serializers.CharField(help_text="of the file as uploaded: sha256sum eval.csv")
    bytes = serializers.IntegerField()
    rows = serializers.IntegerField()
    columns = _ColumnSerializer(many=True)


class AssessmentSummarySerializer(serializers.Serializer):
    origin = serializers.ChoiceField(["server", "client"])
    mode = serializers.CharField(help_text="predictions, or model (the model was run)")
    assessed_at = serializers.DateTimeField()
    artifact_sha256 = serializers.CharField(allow_null=True)
    dataset_fingerprint = DatasetFingerprintSerializer()
    verdict = serializers.CharField()
    page = serializers.URLField(help_text="the version's assessment page")


class AssessRunSerializer(ScanRunSerializer):
    """A scan run of an assessment (documentation only): ``assessment`` is null until the
    run is done."""

    assessment = AssessmentSummarySerializer(allow_null=True)


class VersionAssessApi(ModelScopedAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": AssessUploadSerializer},
        responses={202: AssessRunSerializer},
    )
    def post(self, request: Request, pk: str, version: str) -> Response:
        """Assess this version on the uploaded table in a worker (Warden's runner: the
        options of ``warden assess``); poll the returned run like an upload. Failed figures
        become findings, passed ones coverage evidence; the page shows the whole document."""
        model = self.get_object()
        if not has_role(request.user, model.team_id, "member"):
            raise ApplicationError(
                "assessing needs a member role or a write token", status_code=403
            )
        found = self.get_version(model, version)
        form = AssessUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        d = form.validated_data
        reference, model_file = d["reference"], d["model_file"]
        run = assessment_request(
            version=found,
            actor=request.user,
            data=d["data"].read(),
            data_name=(d["data"].name or "eval")[:255],
            label=d["label"],
            prediction=d["prediction"],
            score=d["score"],
            sensitive=_columns(d["sensitive"]),
            reference=reference.read() if reference else None,
            reference_name=(reference.name or "reference") if reference else "",
            run_model=d["run_model"],
            model_file=model_file.read() if model_file else None,
            model_name=(model_file.name or "model") if model_file else "",
            features=_columns(d["features"]) or None,
            categorical=_columns(d["categorical"]),
            thresholds=d["threshold"],
            with_robustness=d["robustness"],
            options={
                "task": d["task"],
                "positive_label": d["positive_label"],
                "decision_threshold": d["decision_threshold"],
                "min_group_size": d["min_group_size"],
                "seed": d["seed"],
            },
        )
        run = ScanRun.objects.select_related(*SCAN_RUN_RELATED).get(pk=run.pk)
        return Response(_assessment_payload(run, request), status=202)

    @extend_schema(responses={200: AssessRunSerializer(many=True)})
    def get(self, request: Request, pk: str, version: str) -> Response:
        """This version's assessment runs, newest first (at most 50): status, and for a
        finished one its verdict and dataset fingerprint."""
        model = self.get_object()
        found = self.get_version(model, version)
        runs = (
            ScanRun.objects.filter(version=found, scan_type=ASSESSMENT_SCAN_TYPE)
            .select_related(*SCAN_RUN_RELATED, "assessment")
            .order_by("-id")[:50]
        )
        return Response([_assessment_payload(run, request, with_gate=False) for run in runs])


def _assessment_payload(
    run: ScanRun, request: Request, *, with_gate: bool = True
) -> dict[str, Any]:
    from governance.evidence.models import Assessment

    body = scan_run_payload(run, request, with_gate=with_gate)
    try:
        record: Assessment | None = run.assessment
    except Assessment.DoesNotExist:
        record = None
    body["assessment"] = None
    if record is not None and run.version is not None:
        from scanners.assess.document import verdict

        body["assessment"] = {
            "origin": record.origin,
            "mode": record.mode,
            "assessed_at": record.assessed_at,
            "artifact_sha256": record.artifact_sha256 or None,
            "dataset_fingerprint": record.document.get("dataset_fingerprint"),
            "verdict": verdict(record.document),
            "page": request.build_absolute_uri(
                reverse("web:version-assessment", args=[run.model_id, run.version.version])
            ),
        }
    return body
