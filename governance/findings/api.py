"""``/api/v1/findings/``: list with filters, detail, triage (PATCH) and comments."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import ReadOrMemberWrite, TeamScopedViewSetMixin
from governance.findings.filters import finding_filters_parse
from governance.findings.models import Finding, FindingEvent, FindingOccurrence, Status
from governance.findings.selectors import (
    active_version_labels,
    finding_events,
    finding_occurrences,
    findings_filter_apply,
    with_active_versions,
)
from governance.findings.services import finding_assign, finding_comment, finding_triage
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


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000)


class FindingViewSet(
    TeamScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Findings of your teams: list (the findings page's filters: team, model, version,
    status, severity, category, tool, since, overdue), detail with where it was seen, triage
    (PATCH), comments and history."""

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
        return findings_filter_apply(queryset, filters)

    def paginate_queryset(self, queryset: Any) -> Any:
        ordering = self.request.query_params.get("ordering", "-id")
        allowed = {
            "id",
            "-id",
            "last_seen",
            "-last_seen",
            "sla_due",
            "-sla_due",
            "first_seen",
            "-first_seen",
        }
        if ordering not in allowed:
            raise ApplicationError(f"ordering must be one of {', '.join(sorted(allowed))}")
        assert self.paginator is not None
        self.paginator.ordering = (ordering, "-id") if "id" not in ordering else ordering  # type: ignore[attr-defined]
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
