"""``/api/v1/models/``: the team's models, their versions and the gate verdict."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.selectors import has_role
from governance.evidence.models import ScanRun
from governance.ingest.api import scan_run_payload
from governance.ingest.artifacts import artifact_scan_request
from governance.inventory.models import MLModel, ModelVersion, RiskTier, Stage
from governance.inventory.selectors import model_get_for_user
from governance.inventory.services import model_update
from governance.lib.api import TeamScopedMixin
from governance.lib.api_errors import ApplicationError
from governance.policies.gate import gate_evaluate


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "version", "artifact_uri", "artifact_sha256", "framework", "created_at"]


class MLModelSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MLModel
        fields = [
            "id",
            "team",
            "name",
            "description",
            "owner",
            "use_case",
            "risk_tier",
            "stage",
            "tags",
            "created_at",
            "updated_at",
        ]


class ModelUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    use_case = serializers.CharField(required=False, allow_blank=True, max_length=300)
    owner = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)


class ModelViewSet(TeamScopedMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = MLModelSerializer
    lookup_value_regex = "[^/]+"

    def base_queryset(self) -> Any:
        qs = MLModel.objects.select_related("team", "owner")
        params = self.request.query_params
        if params.get("team"):
            qs = qs.filter(team__slug=params["team"])
        if params.get("risk_tier"):
            qs = qs.filter(risk_tier=params["risk_tier"])
        if params.get("stage"):
            qs = qs.filter(stage=params["stage"])
        return qs

    @extend_schema(request=ModelUpdateSerializer, responses={200: MLModelSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit a model: members edit description/use case/owner/tags; leads also the risk
        tier and stage (they pick the governing policy)."""
        model = self.get_object()
        form = ModelUpdateSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        model = model_update(model=model, actor=request.user, changes=dict(form.validated_data))
        model = MLModel.objects.select_related("team", "owner").get(pk=model.pk)
        return Response(MLModelSerializer(model).data)

    def get_object(self) -> MLModel:
        # By id, or by name (CI knows models by name); scoped, 404 when not the caller's.
        return model_get_for_user(self.request.user, self.kwargs["pk"])

    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        model = self.get_object()
        page = self.paginate_queryset(model.versions.order_by("-id"))
        data = ModelVersionSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<version>[^/]+)/scan")
    def scan_artifact(self, request: Request, pk: str | None = None, version: str = "") -> Response:
        """Scan this version's artifact on the server with Warden's model-file scanner."""
        model = self.get_object()
        if not has_role(request.user, model.team_id, "member"):
            raise ApplicationError("scanning needs a member role or a write token", status_code=403)
        found = model.versions.filter(version=version).first()
        if found is None:
            raise Http404(f"{model.name} has no version {version!r}")
        run = artifact_scan_request(version=found, actor=request.user)
        run = ScanRun.objects.select_related("model", "version", "team").get(pk=run.pk)
        return Response(scan_run_payload(run, request), status=202)

    @extend_schema(
        parameters=[OpenApiParameter("version", str, description="the model version")],
        responses={200: dict},
    )
    @action(detail=True, methods=["get"])
    def gate(self, request: Request, pk: str | None = None) -> Response:
        model = self.get_object()
        version = None
        label = request.query_params.get("version", "")
        if label:
            version = model.versions.filter(version=label).first()
            if version is None:
                raise Http404(f"{model.name} has no version {label!r}")
        result = gate_evaluate(model, version)
        return Response(
            {
                "model": model.name,
                "model_id": model.pk,
                "version": label or None,
                **result.to_dict(),
            }
        )
