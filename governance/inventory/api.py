"""``/api/v1/models/``: the team's models and their versions."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView, TeamScopedViewSetMixin
from governance.inventory.models import MLModel, ModelVersion
from governance.inventory.selectors import model_lookup


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id", "version", "artifact_uri", "artifact_sha256", "framework", "created_at",
            "retired_at",
        ]  # fmt: skip


class MLModelSerializer(serializers.ModelSerializer):
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    owner: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

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


class ModelScopedAPIView(TeamScopedAPIView):
    # An action on one model of the caller's teams, named by id or name in the URL (a
    # comment, not a docstring: the API docs show docstrings, inherited ones too).

    def base_queryset(self) -> QuerySet[Any]:
        return MLModel.objects.select_related("team", "owner")

    def lookup_object(self, queryset: QuerySet[Any], ref: str) -> Model:
        return model_lookup(queryset, ref)

    def get_version(self, model: MLModel, label: str) -> ModelVersion:
        found = model.versions.filter(version=label).first()
        if found is None:
            raise Http404(f"{model.name} has no version {label!r}")
        return found


# One model (``models/{id or name}/``), its edits, gate, versions' retirement and scans are
# governance actions: see governance.policies.api and governance.ingest.api.
@extend_schema_view(
    list=extend_schema(
        description="Models of your teams (filters: ``team``, ``risk_tier``, ``stage``), with "
        "their owner, risk tier and stage."
    ),
    versions=extend_schema(
        description="The versions of one model (by id or name), newest first, with their "
        "artifact digest and whether they are retired."
    ),
)
class ModelViewSet(TeamScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
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

    def lookup_object(self, queryset: QuerySet[Any], ref: str) -> Model:
        # By id, or by name (CI knows models by name), within the caller's teams.
        return model_lookup(queryset, ref)

    @extend_schema(responses={200: ModelVersionSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        model = self.get_object()
        page = self.paginate_queryset(model.versions.order_by("-id"))
        data = ModelVersionSerializer(page, many=True).data
        return self.get_paginated_response(data)
