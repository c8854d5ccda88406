"""``artifacts/{sha256}/admission``: may a model server load this artifact?"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView, TeamScopedViewSetMixin
from governance.inventory.models import MLModel, ModelVersion
from governance.lib.api_errors import ApplicationError
from governance.policies.admission import admission_decide, admission_record
from governance.policies.models import AdmissionQuery

_HEX = set("0123456789abcdef")


class ArtifactAdmissionApi(TeamScopedAPIView):
    team_field = "model__team_id"

    def base_queryset(self) -> QuerySet[Any]:
        return ModelVersion.objects.select_related("model")

    @extend_schema(parameters=[OpenApiParameter(
        "environment", str, description="where the asking server runs (or the "
        "X-Warden-Environment header): recorded with the answer for leads to see",
    )], responses={200: inline_serializer("Admission", {
        "allowed": serializers.BooleanField(), "model": serializers.CharField(allow_null=True),
        "model_id": serializers.IntegerField(allow_null=True, help_text="null when versions "
                                             "of several models carry the digest"),
        "version": serializers.CharField(allow_null=True),
        "verdict": serializers.CharField(allow_null=True),
        "reasons": serializers.ListField(child=serializers.DictField()),
    })})  # fmt: skip
    def get(self, request: Request, sha256: str) -> Response:
        """May a model server load the artifact with this SHA-256? Only when a version of one
        of your models carries that digest, a model-file scan of that very digest completed
        (a dependency scan does not count), and the gate of every version carrying it does not
        fail. Unknown digests (and other teams') answer 404 with ``allowed: false``."""
        digest = sha256.lower()
        if len(digest) != 64 or not set(digest) <= _HEX:
            raise ApplicationError("sha256 must be 64 hex characters")
        answer = admission_decide(self.get_queryset(), digest=digest)
        self._record(request, digest, answer)
        if answer is None:
            return Response(
                {"allowed": False, "model": None, "version": None, "verdict": None,
                 "reasons": [{"rule": "unknown-artifact", "verdict": "fail",
                              "message": "no model version of yours has this artifact digest",
                              "fix": "register it: upload a scan with --version and --artifact",
                              "findings": []}],
                 "error": "unknown artifact", "detail": {}},
                status=status.HTTP_404_NOT_FOUND,
            )  # fmt: skip
        return Response(answer)

    @staticmethod
    def _record(request: Request, digest: str, answer: dict[str, Any] | None) -> None:
        """Leads see which servers asked and what they were told (see AdmissionQuery)."""
        token = getattr(request.user, "token", None)
        team_id = token.team_id if token is not None else None
        model_id = (answer or {}).get("model_id")
        if team_id is None and model_id is not None:
            team_id = MLModel.objects.filter(pk=model_id).values_list("team_id", flat=True).first()
        if team_id is None:
            return  # a person asking about an unknown digest: no team to show it to
        environment = (
            request.query_params.get("environment")
            or request.headers.get("X-Warden-Environment", "")
        ).strip()
        admission_record(
            team_id=team_id,
            digest=digest,
            environment=environment,
            asked_by=str(getattr(request.user, "username", "")) or "unknown",
            answer=answer,
            model_id=model_id,
        )


class AdmissionQuerySerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name", default=None)

    class Meta:
        model = AdmissionQuery
        fields = [
            "digest", "environment", "asked_by", "allowed", "verdict", "model", "version",
            "minute",
        ]  # fmt: skip


class AdmissionLogViewSet(TeamScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Which servers asked whether an artifact may run, from where, and what they were told
    (one row per asker, digest, environment and answer per minute), newest first."""

    serializer_class = AdmissionQuerySerializer

    def base_queryset(self) -> QuerySet[Any]:
        return AdmissionQuery.objects.select_related("model")

    def filter_queryset(self, queryset: Any) -> Any:
        p = self.request.query_params
        if p.get("digest"):
            queryset = queryset.filter(digest=p["digest"].lower())
        if p.get("environment"):
            queryset = queryset.filter(environment=p["environment"])
        if p.get("allowed") in ("true", "false"):
            queryset = queryset.filter(allowed=p["allowed"] == "true")
        return queryset
