"""``/api/v1/models/``: the team's models and their versions."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance.inventory.models import MLModel, ModelVersion, RiskTier, Stage
from governance.inventory.selectors import model_get_for_user
from governance.lib.api import TeamScopedMixin


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id", "version", "artifact_uri", "artifact_sha256", "framework", "created_at",
            "retired_at",
        ]  # fmt: skip


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


class ModelViewSet(TeamScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The team's models and their versions. One model (``models/{id or name}/``), its edits,
    gate, versions' retirement and scans are governance actions: see
    :mod:`governance.policies.api` and :mod:`governance.ingest.api`."""

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

    def get_object(self) -> MLModel:
        # By id, or by name (CI knows models by name); scoped, 404 when not the caller's.
        return model_get_for_user(self.request.user, self.kwargs["pk"])

    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        model = self.get_object()
        page = self.paginate_queryset(model.versions.order_by("-id"))
        data = ModelVersionSerializer(page, many=True).data
        return self.get_paginated_response(data)
