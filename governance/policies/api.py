"""``/api/v1/`` for governance: policies (as code), exceptions, SLA clocks, admission.

- ``policies/`` list, create or import (upsert by name); ``policies/{id}/`` read, replace
  (PUT), delete; ``policies/{id}/export/?as=yaml|json``; ``policies/{id}/revisions/``.
  Leads edit their team's policies; superusers edit organization defaults.
- ``exceptions/`` list, request; ``exceptions/{id}/`` read; ``…/approve/``, ``…/reject/``.
- ``sla/`` open findings overdue or due soon; ``sla/metrics/?team=`` MTTR and compliance.
- ``artifacts/{sha256}/admission``: may a model server load this artifact?
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.authentication import TokenUser
from governance.accounts.models import Team
from governance.accounts.selectors import team_ids_for, teams_visible_to
from governance.evidence.models import ScanRun
from governance.findings.api import FindingSerializer
from governance.findings.selectors import finding_get_for_user, findings_visible_to
from governance.inventory.models import ModelVersion
from governance.inventory.selectors import model_get_for_user
from governance.lib.api import TeamScopedMixin
from governance.lib.api_errors import ApplicationError
from governance.metrics.sla import sla_metrics
from governance.policies.gate import VERDICT_RANK, gate_evaluate
from governance.policies.models import RiskException, RiskPolicy
from governance.policies.schema import policy_document_dump, policy_document_parse
from governance.policies.selectors import (
    SLA_STATES,
    findings_sla_visible_to,
    policies_visible_to,
    policy_can_edit,
    policy_get_for_user,
    policy_revisions,
)
from governance.policies.services import (
    exception_approve,
    exception_reject,
    exception_request,
    policy_archive,
    policy_import,
    policy_update,
)

# --- policies --------------------------------------------------------------------------------


class PolicyOutputSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    applies_to = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = RiskPolicy
        fields = [
            "id",
            "team",
            "name",
            "description",
            "applies_to",
            "revision",
            "can_edit",
            "created_at",
            "updated_at",
            "document",
        ]

    def get_applies_to(self, policy: RiskPolicy) -> dict[str, list[str]]:
        return {"risk_tiers": policy.risk_tiers, "stages": policy.stages}

    def get_can_edit(self, policy: RiskPolicy) -> bool:
        return policy_can_edit(self.context["request"].user, policy.team_id)


@extend_schema_field(OpenApiTypes.OBJECT)
class DocumentField(serializers.Field):
    """A policy document: a JSON object, or YAML/JSON text."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            return data
        if isinstance(data, str | bytes):
            return policy_document_parse(data)
        raise serializers.ValidationError("must be an object, or YAML or JSON text")

    def to_representation(self, value: Any) -> Any:
        return value


def _policy_team(request: Request, slug: str | None) -> Team | None:
    """The team a new policy is for: one of the caller's (404 otherwise), or None for an
    organization default."""
    if slug is None:
        return None
    user = request.user
    if isinstance(user, TokenUser):
        if slug != user.token.team.slug:
            raise Http404("team not found")
        return user.token.team
    team = teams_visible_to(user).filter(slug=slug).first()
    if team is None:
        raise Http404("team not found")
    return team


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


class PolicyListApi(APIView):
    @extend_schema_serializer(component_name="PolicyImportInput")
    class InputSerializer(serializers.Serializer):
        """Create or import (update by name) a policy."""

        team = serializers.SlugField(
            allow_null=True, help_text="team slug; null for an organization default"
        )
        document = DocumentField(help_text="warden.policy/v1 document (object or YAML text)")
        change_note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="only this team's policies"),
            OpenApiParameter("scope", str, enum=["team", "organization"]),
        ],
        responses={200: PolicyOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        qs = policies_visible_to(request.user).order_by("team__name", "name", "id")
        if request.query_params.get("team"):
            qs = qs.filter(team__slug=request.query_params["team"])
        scope = request.query_params.get("scope")
        if scope == "team":
            qs = qs.filter(team__isnull=False)
        elif scope == "organization":
            qs = qs.filter(team__isnull=True)
        data = PolicyOutputSerializer(qs, many=True, context={"request": request}).data
        return Response({"results": data})

    @extend_schema(
        request=InputSerializer,
        responses={201: PolicyOutputSerializer, 200: PolicyOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        """Create a policy, or update the team's policy of the same name (import)."""
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        team = _policy_team(request, data["team"])
        policy, created = policy_import(
            team=team,
            document=data["document"],
            actor=request.user,
            change_note=data["change_note"],
        )
        body = PolicyOutputSerializer(policy, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PolicyDetailApi(APIView):
    @extend_schema_serializer(component_name="PolicyReplaceInput")
    class InputSerializer(serializers.Serializer):
        """Replace a policy's document."""

        document = DocumentField()
        change_note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(parameters=[_ID], responses={200: PolicyOutputSerializer})
    def get(self, request: Request, pk: str) -> Response:
        policy = policy_get_for_user(request.user, pk)
        return Response(PolicyOutputSerializer(policy, context={"request": request}).data)

    @extend_schema(
        parameters=[_ID], request=InputSerializer, responses={200: PolicyOutputSerializer}
    )
    def put(self, request: Request, pk: str) -> Response:
        policy = policy_get_for_user(request.user, pk)
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        policy = policy_update(
            policy=policy,
            document=form.validated_data["document"],
            actor=request.user,
            change_note=form.validated_data["change_note"],
        )
        return Response(PolicyOutputSerializer(policy, context={"request": request}).data)

    @extend_schema(parameters=[_ID, OpenApiParameter("change_note", str)], responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        policy = policy_get_for_user(request.user, pk)
        policy_archive(
            policy=policy,
            actor=request.user,
            change_note=request.query_params.get("change_note", ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyExportApi(APIView):
    @extend_schema(
        parameters=[_ID, OpenApiParameter("as", str, enum=["yaml", "json"])],
        responses={(200, "application/yaml"): OpenApiTypes.STR},
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        """The policy as code: import it with ``POST /api/v1/policies/``."""
        policy = policy_get_for_user(request.user, pk)
        fmt = request.query_params.get("as", "yaml")
        text = policy_document_dump(policy.document, fmt)
        ctype = "application/json" if fmt == "json" else "application/yaml"
        response = HttpResponse(text, content_type=f"{ctype}; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="policy-{policy.pk}.{fmt}"'
        return response


class PolicyRevisionsApi(APIView):
    @extend_schema(parameters=[_ID], responses={200: inline_serializer("PolicyRevision", {
        "number": serializers.IntegerField(), "action": serializers.CharField(),
        "author": serializers.CharField(), "change_note": serializers.CharField(),
        "created_at": serializers.DateTimeField(), "document": serializers.JSONField(),
    }, many=True)})  # fmt: skip
    def get(self, request: Request, pk: str) -> Response:
        policy = policy_get_for_user(request.user, pk)
        rows = [
            {"number": r.number, "action": r.action,
             "author": r.author.get_username() if r.author_id else r.author_label,
             "change_note": r.change_note, "created_at": r.created_at, "document": r.document}
            for r in policy_revisions(policy)
        ]  # fmt: skip
        return Response({"results": rows})


# --- exceptions ------------------------------------------------------------------------------


class ExceptionSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    model = serializers.CharField(source="model.name")
    finding = serializers.IntegerField(source="finding_id", allow_null=True)
    policy = serializers.CharField(source="policy.name", default=None)
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    status = serializers.CharField(help_text="requested, approved, rejected or expired")

    class Meta:
        model = RiskException
        fields = [
            "id",
            "team",
            "model",
            "model_id",
            "finding",
            "rule",
            "policy",
            "status",
            "justification",
            "expires_at",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "ended_at",
        ]


class ExceptionRequestSerializer(serializers.Serializer):
    finding = serializers.IntegerField(required=False, help_text="a finding id, or:")
    model = serializers.CharField(required=False, help_text="a model id or name, with rule")
    rule = serializers.CharField(required=False, max_length=80, default="")
    justification = serializers.CharField(max_length=10000)
    expires_at = serializers.DateTimeField(required=False)
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        help_text="instead of expires_at: this many days from now",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("finding" in attrs) == ("model" in attrs):
            raise serializers.ValidationError("name either a finding, or a model and a rule")
        if "model" in attrs and not attrs["rule"]:
            raise serializers.ValidationError({"rule": "a rule is required with a model"})
        if "finding" in attrs and attrs["rule"]:
            raise serializers.ValidationError({"rule": "name a model with a rule, not a finding"})
        if ("expires_at" in attrs) == ("days" in attrs):
            raise serializers.ValidationError("give either expires_at or days")
        return attrs


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


_EXCEPTION_STATUSES = set(RiskException.Status.values)


class ExceptionViewSet(
    TeamScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ExceptionSerializer
    http_method_names = ["get", "post", "head", "options"]

    def base_queryset(self) -> Any:
        qs = RiskException.objects.select_related(
            "team", "model", "policy", "requested_by", "decided_by"
        )
        if self.action != "list":
            return qs
        p = self.request.query_params
        if p.get("status"):
            wanted = set(p["status"].split(","))
            if wanted - _EXCEPTION_STATUSES:
                raise ApplicationError(
                    f"status must be among {', '.join(sorted(_EXCEPTION_STATUSES))}"
                )
            qs = qs.filter(status__in=wanted)
        if p.get("model"):
            m = p["model"]
            qs = qs.filter(model_id=int(m)) if m.isdigit() else qs.filter(model__name=m)
        if p.get("finding", "").isdigit():
            qs = qs.filter(finding_id=int(p["finding"]))
        return qs

    @extend_schema(request=ExceptionRequestSerializer, responses={201: ExceptionSerializer})
    def create(self, request: Request) -> Response:
        form = ExceptionRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        finding = model = None
        if "finding" in data:
            finding = finding_get_for_user(request.user, data["finding"])
        else:
            model = model_get_for_user(request.user, data["model"])
        expires_at = data.get("expires_at") or timezone.now() + timedelta(days=data["days"])
        exception = exception_request(
            actor=request.user,
            finding=finding,
            model=model,
            rule=data["rule"],
            justification=data["justification"],
            expires_at=expires_at,
        )
        fresh = self.base_queryset().get(pk=exception.pk)
        return Response(ExceptionSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={200: ExceptionSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        exception = exception_approve(
            exception=self.get_object(), actor=request.user, reason=form.validated_data["reason"]
        )
        return Response(ExceptionSerializer(self.base_queryset().get(pk=exception.pk)).data)

    @extend_schema(request=DecisionSerializer, responses={200: ExceptionSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        exception = exception_reject(
            exception=self.get_object(), actor=request.user, reason=form.validated_data["reason"]
        )
        return Response(ExceptionSerializer(self.base_queryset().get(pk=exception.pk)).data)


# --- SLA -------------------------------------------------------------------------------------


class SlaFindingSerializer(FindingSerializer):
    sla_state = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "sla_state", "days_left"]

    def get_sla_state(self, finding: Any) -> str:
        return "overdue" if finding.sla_due < self.context["today"] else "due_soon"

    def get_days_left(self, finding: Any) -> int:
        return int((finding.sla_due - self.context["today"]).days)


class DueDatePagination(CursorPagination):
    ordering = ("sla_due", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class SlaListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=list(SLA_STATES),
                description="overdue or due_soon; both when absent",
            ),
            OpenApiParameter("within", int, description="due-soon window in days (default 7)"),
            OpenApiParameter("team", str),
            OpenApiParameter("model", str),
            OpenApiParameter("severity", str),
        ],
        responses={200: SlaFindingSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        """Open findings of your teams past their remediation due date or due soon, soonest
        first."""
        p = request.query_params
        state = p.get("state", "")
        if state and state not in SLA_STATES:
            raise ApplicationError(f"state must be one of {', '.join(SLA_STATES)}")
        within = p.get("within", "7")
        if not within.isdigit() or int(within) > 365:
            raise ApplicationError("within must be a number of days from 0 to 365")
        today = timezone.now().date()
        qs = findings_sla_visible_to(
            request.user, state=state, today=today, within_days=int(within)
        )
        if p.get("team"):
            qs = qs.filter(team__slug=p["team"])
        if p.get("model"):
            m = p["model"]
            qs = qs.filter(model_id=int(m)) if m.isdigit() else qs.filter(model__name=m)
        if p.get("severity"):
            qs = qs.filter(severity__in=p["severity"].split(","))
        paginator = DueDatePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = SlaFindingSerializer(page, many=True, context={"today": today}).data
        return paginator.get_paginated_response(data)


class SlaMetricsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "team", str, description="team slug (required when you are in several teams)"
            ),
            OpenApiParameter("model", str, description="one model (id or name)"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        """MTTR and SLA compliance of a team (or one of its models); formulas in
        ``governance/metrics/sla.py``."""
        slug = request.query_params.get("team", "")
        teams = (
            list(teams_visible_to(request.user))
            if not isinstance(request.user, TokenUser)
            else [request.user.token.team]
        )
        if slug:
            team = next((t for t in teams if t.slug == slug), None)
            if team is None:
                raise Http404("team not found")
        elif len(teams) == 1:
            team = teams[0]
        else:
            raise ApplicationError("team is required: you are in several teams (or none)")
        findings = findings_visible_to(request.user).filter(team=team)
        model_name = None
        if request.query_params.get("model"):
            model = model_get_for_user(request.user, request.query_params["model"])
            if model.team_id != team.pk:
                raise Http404("model not found")
            findings = findings.filter(model=model)
            model_name = model.name
        body = {
            "team": team.slug,
            "model": model_name,
            **sla_metrics(findings, today=timezone.now().date()),
        }
        return Response(body)


# --- admission -------------------------------------------------------------------------------

_HEX = set("0123456789abcdef")


class ArtifactAdmissionApi(APIView):
    @extend_schema(responses={200: inline_serializer("Admission", {
        "allowed": serializers.BooleanField(), "model": serializers.CharField(allow_null=True),
        "version": serializers.CharField(allow_null=True),
        "verdict": serializers.CharField(allow_null=True),
        "reasons": serializers.ListField(child=serializers.DictField()),
    })})  # fmt: skip
    def get(self, request: Request, sha256: str) -> Response:
        """May a model server load the artifact with this SHA-256? Only when a version of one
        of your models has that digest, it was scanned, and its gate does not fail. Unknown
        digests (and other teams') answer 404 with ``allowed: false``."""
        digest = sha256.lower()
        if len(digest) != 64 or not set(digest) <= _HEX:
            raise ApplicationError("sha256 must be 64 hex characters")
        versions = list(
            ModelVersion.objects.filter(
                artifact_sha256=digest, model__team_id__in=team_ids_for(request.user)
            ).select_related("model").order_by("id")[:20]
        )  # fmt: skip
        if not versions:
            return Response(
                {"allowed": False, "model": None, "version": None, "verdict": None,
                 "reasons": [{"rule": "unknown-artifact", "verdict": "fail",
                              "message": "no model version of yours has this artifact digest",
                              "fix": "register it: upload a scan with --version and --artifact",
                              "findings": []}],
                 "error": "unknown artifact", "detail": {}},
                status=status.HTTP_404_NOT_FOUND,
            )  # fmt: skip
        answers = [self._admit(version, digest) for version in versions]
        # Fail closed: the artifact is admitted only if every version carrying it is.
        worst = max(answers, key=lambda a: (not a["allowed"], VERDICT_RANK[a["verdict"]]))
        return Response({**worst, "allowed": all(a["allowed"] for a in answers), "sha256": digest})

    @staticmethod
    def _admit(version: ModelVersion, digest: str) -> dict[str, Any]:
        model = version.model
        scanned = ScanRun.objects.filter(
            team_id=model.team_id, version__artifact_sha256=digest, status=ScanRun.Status.DONE
        ).exists()
        result = gate_evaluate(model, version)
        reasons = result.to_dict()["reasons"]
        if not scanned:
            reasons.insert(
                0,
                {
                    "rule": "never-scanned",
                    "verdict": "fail",
                    "message": f"{model.name}@{version.version} has no finished scan "
                    "of this artifact",
                    "fix": "scan the artifact and upload the report with --artifact",
                    "findings": [],
                },
            )
        verdict = "fail" if not scanned else result.verdict
        return {
            "allowed": scanned and verdict != "fail",
            "model": model.name,
            "version": version.version,
            "verdict": verdict,
            "reasons": reasons,
            "policy": result.policy,
        }
