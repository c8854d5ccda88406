"""``/api/v1/findings/``: list with filters, detail, triage (PATCH) and comments."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import (
    ReadOrMemberWrite,
    TeamScopedAPIView,
    TeamScopedViewSetMixin,
)
from governance.findings.filters import finding_filters_parse, finding_ordering_parse
from governance.findings.models import Finding, FindingEvent, FindingOccurrence, Status
from governance.findings.selectors import (
    active_version_labels,
    components_usage,
    finding_events,
    finding_occurrences,
    findings_filter_apply,
    findings_with_severity_rank,
    with_active_versions,
)
from governance.findings.services import (
    finding_assign,
    finding_comment,
    finding_triage,
    findings_bulk_triage,
)
from governance.lib.api import CountedCursorPagination
from governance.lib.api_errors import ApplicationError


class FindingSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name")
    team = serializers.CharField(source="team.slug")
    version = serializers.CharField(
        source="version.version", default=None, help_text="the latest version it was seen in"
    )
    versions = serializers.SerializerMethodField(
        help_text="every version it is present in now (one decision covers them all)"
    )
    assignee = serializers.CharField(source="assignee.username", default=None)
    tools = serializers.ListField(source="tool_list", child=serializers.CharField())

    def get_versions(self, finding: Finding) -> list[str]:
        if not hasattr(finding, "active_occurrences"):  # not prefetched: one query
            finding = with_active_versions(Finding.objects.filter(pk=finding.pk)).get()
        return active_version_labels(finding)

    class Meta:
        model = Finding
        fields = [
            "id", "team", "model", "model_id", "version", "versions", "fingerprint", "category",
            "tool",
            "tools", "rule_id", "title", "description", "severity", "raw_severity", "cvss_score",
            "cvss_vector", "vuln_id", "aliases", "package", "package_version", "fixed_version",
            "ecosystem", "purl", "file_path", "archive_member", "line", "byte_offset",
            "metric_name", "metric_value", "metric_threshold", "comparator", "sample_count",
            "failure_count", "atlas", "owasp", "references", "remediation", "status",
            "resolution", "tool_state", "justification", "reachable",
            "first_seen", "last_seen", "resolved_at", "sla_due", "assignee", "first_scan_id",
            "last_scan_id",
        ]  # fmt: skip


class OccurrenceSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    first_scan = serializers.IntegerField(source="first_scan_id", allow_null=True)
    last_scan = serializers.IntegerField(source="last_scan_id", allow_null=True)
    closed_by_scan = serializers.IntegerField(source="closed_by_scan_id", allow_null=True)

    class Meta:
        model = FindingOccurrence
        fields = [
            "subject", "tool_family", "state", "first_seen", "first_scan", "last_seen",
            "last_scan", "closed_at", "closed_by_scan",
        ]  # fmt: skip

    def get_subject(self, occ: FindingOccurrence) -> dict[str, Any]:
        s = occ.subject
        return {
            "id": s.pk,
            "kind": s.kind,
            "label": s.label,
            "version": s.version.version if s.version_id else None,  # type: ignore[union-attr]
            "artifact_sha256": s.artifact_sha256 or None,
            "target": s.target or None,
            "environment": s.environment or None,
        }


class FindingDetailSerializer(FindingSerializer):
    occurrences = serializers.SerializerMethodField(
        help_text="where it was seen: per subject and tool family, its lifecycle"
    )

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "evidence", "occurrences"]

    def get_occurrences(self, finding: Finding) -> list[dict[str, Any]]:
        rows = finding_occurrences(finding)
        return list(OccurrenceSerializer(rows, many=True).data)


class FindingEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = FindingEvent
        fields = [
            "id",
            "kind",
            "actor",
            "from_value",
            "to_value",
            "reason",
            "scan_run_id",
            "created_at",
        ]

    def get_actor(self, event: FindingEvent) -> str:
        return event.actor.get_username() if event.actor is not None else event.actor_label


class TriageSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    assignee = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class BulkTriageSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=20_000,
        help_text="the findings to change; or instead:",
    )
    filter = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="every finding the list's filter matches (the same names as GET: q, team, "
        "model, status, severity, ...); status defaults to active",
    )
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    assignee = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text='"" or null unassigns'
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError("give either ids or filter")
        if "status" not in attrs and "assignee" not in attrs:
            raise serializers.ValidationError("give a status (with a reason) or an assignee")
        return attrs


class BulkGroupSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="the first 1,000")


class BulkResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField()
    changed_ids = serializers.ListField(child=serializers.IntegerField())
    events = serializers.IntegerField(help_text="audit events written: one per change")
    unchanged = BulkGroupSerializer(many=True, help_text="already as asked")
    refused = BulkGroupSerializer(many=True, help_text="not changed, and why")
    summary = serializers.CharField()


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000)


class FindingViewSet(
    TeamScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Findings of your teams: list (the findings page's filters and search: q, team, model,
    version, status, severity, category, tool, assignee, since, overdue, reachable; sorted by
    ``ordering``, newest first by default; with a ``count``), detail with where it was seen,
    triage (PATCH), comments and history."""

    pagination_class = CountedCursorPagination
    permission_classes = [IsAuthenticated, ReadOrMemberWrite]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_serializer_class(self) -> Any:
        return FindingDetailSerializer if self.action == "retrieve" else FindingSerializer

    def base_queryset(self) -> Any:
        return with_active_versions(
            Finding.objects.select_related("model", "team", "version", "assignee")
        )

    def filter_queryset(self, queryset: Any) -> Any:
        if self.action != "list":
            return queryset
        filters = finding_filters_parse(self.request.query_params, default_status="all")
        return findings_filter_apply(queryset, filters, user=self.request.user)

    def paginate_queryset(self, queryset: Any) -> Any:
        ordering = finding_ordering_parse(
            self.request.query_params.get("ordering", ""), default=("-id",)
        )
        fields = []
        for key in ordering:
            if key.lstrip("-") == "severity":
                queryset = findings_with_severity_rank(queryset)
                key = key.replace("severity", "severity_rank")
            fields.append(key)
        if not any(k.lstrip("-") == "id" for k in fields):
            fields.append("-id")
        assert self.paginator is not None
        self.paginator.ordering = tuple(fields)  # type: ignore[attr-defined]
        return super().paginate_queryset(queryset)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        finding = self.get_object()
        form = TriageSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if "status" not in data and "assignee" not in data:
            raise ApplicationError("nothing to change: send status (with reason) or assignee")
        if "status" in data:
            finding = finding_triage(
                finding=finding, actor=request.user, status=data["status"], reason=data["reason"]
            )
        if "assignee" in data:
            finding = finding_assign(
                finding=finding, actor=request.user, assignee_username=data["assignee"] or None
            )
        fresh = self.get_queryset().get(pk=finding.pk)
        return Response(FindingDetailSerializer(fresh).data)

    @extend_schema(request=BulkTriageSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Triage many findings at once, in one transaction: ``ids`` or a ``filter``; a status
        (false positives and accepted risks need a reason) and/or an assignee. Each finding
        is judged as a single triage would be; what was refused says why (your role in its
        team, already decided). An id that is not one of your teams' findings is a 404."""
        form = BulkTriageSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        visible = self.get_queryset()
        if "ids" in data:
            wanted = set(data["ids"])
            selection = visible.filter(pk__in=wanted)
            if selection.count() != len(wanted):
                raise Http404("finding not found")
        else:
            filters = finding_filters_parse(
                QueryDict(urlencode(data["filter"])), default_status="active"
            )
            selection = findings_filter_apply(visible, filters, user=request.user)
        result = findings_bulk_triage(
            user=request.user,
            findings_qs=selection,
            status=data.get("status"),
            reason=data["reason"],
            assignee_username=(data.get("assignee") or "") if "assignee" in data else None,
        )
        return Response(BulkResultSerializer(result.as_dict()).data)

    @action(detail=True, methods=["get", "post"])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        finding = self.get_object()
        if request.method == "GET":
            return Response(FindingEventSerializer(finding_events(finding), many=True).data)
        form = CommentSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        event = finding_comment(
            finding=finding, actor=request.user, text=form.validated_data["text"]
        )
        return Response(FindingEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        return Response(FindingEventSerializer(finding_events(self.get_object()), many=True).data)


class ComponentVulnerabilitySerializer(serializers.Serializer):
    finding_id = serializers.IntegerField()
    id = serializers.CharField(help_text="the vulnerability id (CVE, GHSA, ...)")
    severity = serializers.CharField()
    status = serializers.CharField()
    fixed_version = serializers.CharField()


class ComponentUseSerializer(serializers.Serializer):
    model_id = serializers.IntegerField()
    model = serializers.CharField()
    team = serializers.CharField()
    package = serializers.CharField()
    version = serializers.CharField()
    ecosystem = serializers.CharField()
    purl = serializers.CharField()
    sources = serializers.ListField(
        child=serializers.CharField(), help_text="sbom (an inventory) and/or finding"
    )
    model_versions = serializers.ListField(child=serializers.CharField())
    vulnerabilities = ComponentVulnerabilitySerializer(many=True)


class ComponentListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    models = serializers.IntegerField(help_text="distinct models among the results")
    results = ComponentUseSerializer(many=True)


class ComponentsApi(TeamScopedAPIView):
    """Which models of your teams use a package, or are affected by a vulnerability, with
    the package versions: from uploaded inventories (SBOMs) and dependency findings."""

    @extend_schema(
        parameters=[
            OpenApiParameter("package", str, description="part of a package name or purl"),
            OpenApiParameter("cve", str, description="a vulnerability id or alias"),
        ],
        responses={200: ComponentListSerializer},
    )
    def get(self, request: Request) -> Response:
        p = request.query_params
        rows = components_usage(request.user, package=p.get("package", ""), cve=p.get("cve", ""))
        return Response({
            "count": len(rows),
            "models": len({r.model_id for r in rows}),
            "results": [r.as_dict() for r in rows],
        })  # fmt: skip
