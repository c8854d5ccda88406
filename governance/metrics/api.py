"""``/api/v1/sla/metrics/``: MTTR and SLA compliance of a team or model, over the same window
as the dashboard (formulas in :mod:`governance.metrics.sla`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView
from governance.accounts.selectors import team_for_request
from governance.findings.models import Finding
from governance.inventory.models import MLModel
from governance.inventory.selectors import model_lookup
from governance.lib.api_errors import ApplicationError
from governance.metrics.sla import REMEDIATION_WINDOW_DAYS, sla_metrics


class SlaMetricsSerializer(serializers.Serializer):
    team = serializers.CharField()
    model = serializers.CharField(allow_null=True, help_text="null: every model of the team")
    window_days = serializers.IntegerField()
    mttr_days = serializers.FloatField(
        allow_null=True, help_text="mean days from first seen to fixed; null: nothing fixed"
    )
    mttr_days_by_severity = serializers.DictField(child=serializers.FloatField(allow_null=True))
    resolved = serializers.IntegerField(help_text="real remediations in the window")
    sla_compliance = serializers.FloatField(
        allow_null=True, help_text="share of findings due in the window fixed in time (0..1)"
    )
    sla_compliance_by_severity = serializers.DictField(
        child=serializers.FloatField(allow_null=True)
    )
    sla_met = serializers.IntegerField()
    sla_missed = serializers.IntegerField()
    sla_running = serializers.IntegerField(help_text="due in the window, still open, not late")


class SlaMetricsApi(TeamScopedAPIView):
    def base_queryset(self) -> QuerySet[Any]:
        return Finding.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "team", str, description="team slug (required when you are in several teams)"
            ),
            OpenApiParameter("model", str, description="one model (id or name)"),
            OpenApiParameter(
                "days",
                int,
                description=f"window in days (default {REMEDIATION_WINDOW_DAYS}, as the dashboard)",
            ),
        ],
        responses={200: SlaMetricsSerializer},
        examples=[
            OpenApiExample(
                "A team's last 90 days",
                response_only=True,
                value={
                    "team": "fraud-risk",
                    "model": None,
                    "window_days": 90,
                    "mttr_days": 11.4,
                    "mttr_days_by_severity": {"critical": 3.2, "high": 9.8},
                    "resolved": 57,
                    "sla_compliance": 0.86,
                    "sla_compliance_by_severity": {"critical": 1.0, "high": 0.81},
                    "sla_met": 49,
                    "sla_missed": 8,
                    "sla_running": 12,
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        """MTTR and SLA compliance of a team (or one of its models) over the last ``days``
        days. Only real remediations count: closures by a retired version do not."""
        p = request.query_params
        days_text = p.get("days", str(REMEDIATION_WINDOW_DAYS))
        if not days_text.isdigit() or not 1 <= int(days_text) <= 3650:
            raise ApplicationError("days must be a number of days from 1 to 3650")
        team = team_for_request(request.user, p.get("team", ""))
        findings = self.get_queryset().filter(team=team)
        model_name = None
        if p.get("model"):
            model = model_lookup(MLModel.objects.filter(team=team), p["model"])
            findings = findings.filter(model=model)
            model_name = model.name
        body = {
            "team": team.slug,
            "model": model_name,
            **sla_metrics(findings, today=timezone.localdate(), days=int(days_text)),
        }
        return Response(body)
