"""``/api/v1/sla/metrics/``: MTTR and SLA compliance of a team or model, over the same window
as the dashboard (formulas in :mod:`governance.metrics.sla`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView
from governance.accounts.selectors import team_for_request
from governance.findings.models import Finding
from governance.inventory.models import MLModel
from governance.inventory.selectors import model_lookup
from governance.lib.api_errors import ApplicationError
from governance.metrics.sla import REMEDIATION_WINDOW_DAYS, sla_metrics


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
        responses={200: OpenApiTypes.OBJECT},
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
