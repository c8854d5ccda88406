"""``sla/``: active findings overdue or due soon."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView
from governance.findings.api import FindingSerializer
from governance.findings.models import Finding
from governance.lib.api import SafeCursorPagination
from governance.lib.api_errors import ApplicationError
from governance.policies.selectors import (
    SLA_STATES,
    findings_sla_clocks,
)


class SlaFindingSerializer(FindingSerializer):
    sla_state = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "sla_state", "days_left"]

    def get_sla_state(self, finding: Any) -> str:
        return "overdue" if finding.sla_due < self.context["today"] else "due_soon"

    def get_days_left(self, finding: Any) -> int:
        return int((finding.sla_due - self.context["today"]).days)


class DueDatePagination(SafeCursorPagination):
    ordering = ("sla_due", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class SlaListApi(TeamScopedAPIView):
    def base_queryset(self) -> QuerySet[Any]:
        return Finding.objects.all()

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
        qs = findings_sla_clocks(
            self.get_queryset(), state=state, today=today, within_days=int(within)
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
