"""Governance actions on one model: ``models/{id or name}/`` (read, edit), its gate, and
``models/{id or name}/versions/{version}/`` (read, retire)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.selectors import has_role
from governance.findings.services import version_retire
from governance.inventory.api import MLModelSerializer, ModelScopedAPIView, ModelVersionSerializer
from governance.inventory.models import RiskTier, Stage
from governance.lib.api_errors import ApplicationError
from governance.policies.services import gate_evaluate_recorded, model_governance_update

_REF = OpenApiParameter("pk", str, OpenApiParameter.PATH, description="model id or name")


class ModelUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    use_case = serializers.CharField(required=False, allow_blank=True, max_length=300)
    owner = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)


class ModelDetailApi(ModelScopedAPIView):
    @extend_schema(parameters=[_REF], responses={200: MLModelSerializer})
    def get(self, request: Request, pk: str) -> Response:
        """One model, by id or by name (names match case-insensitively)."""
        return Response(MLModelSerializer(self.get_object()).data)

    @extend_schema(
        parameters=[_REF], request=ModelUpdateSerializer, responses={200: MLModelSerializer}
    )
    def patch(self, request: Request, pk: str) -> Response:
        """Edit a model: members edit description, use case, owner and tags; leads also the
        risk tier and stage (they pick the governing policy; stage ``retired`` retires every
        version)."""
        model = self.get_object()
        form = ModelUpdateSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        model = model_governance_update(
            model=model, actor=request.user, changes=dict(form.validated_data)
        )
        return Response(MLModelSerializer(self.get_queryset().get(pk=model.pk)).data)


class ModelGateApi(ModelScopedAPIView):
    @extend_schema(
        parameters=[_REF, OpenApiParameter("version", str, description="the model version")],
        responses={200: dict},
    )
    def get(self, request: Request, pk: str) -> Response:
        """The CI gate: ``pass``, ``warn`` or ``fail`` with reasons, for a version (or the
        whole model). Only the findings present in that version count."""
        model = self.get_object()
        label = request.query_params.get("version", "")
        version = self.get_version(model, label) if label else None
        result = gate_evaluate_recorded(model, version, source="gate")
        return Response(
            {"model": model.name, "model_id": model.pk, "version": label or None} | result.to_dict()
        )


class VersionUpdateSerializer(serializers.Serializer):
    retired = serializers.BooleanField(
        help_text="true retires the version: its findings close as 'version retired'"
    )


class VersionDetailApi(ModelScopedAPIView):
    @extend_schema(
        parameters=[_REF],
        responses={200: ModelVersionSerializer},
        operation_id="v1_models_version_retrieve",
    )
    def get(self, request: Request, pk: str, version: str) -> Response:
        found = self.get_version(self.get_object(), version)
        return Response(ModelVersionSerializer(found).data)

    @extend_schema(parameters=[_REF], request=VersionUpdateSerializer, responses={200: dict})
    def patch(self, request: Request, pk: str, version: str) -> Response:
        """Retire a version (leads): it takes no more scans and its findings close with the
        reason "version retired" — not a remediation, so MTTR and SLA compliance leave them
        out. A retired version is never admitted."""
        model = self.get_object()
        found = self.get_version(model, version)
        form = VersionUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if not form.validated_data["retired"]:
            if found.retired_at is not None:
                raise ApplicationError("a retired version stays retired; publish a new version")
            return Response({**ModelVersionSerializer(found).data, "findings_resolved": 0})
        if not has_role(request.user, model.team_id, "lead"):
            raise ApplicationError("only a team lead retires a version", status_code=403)
        resolved = version_retire(version=found, actor=request.user)
        found.refresh_from_db()
        body: dict[str, Any] = {**ModelVersionSerializer(found).data, "findings_resolved": resolved}
        return Response(body)
