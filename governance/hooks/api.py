"""``POST /api/v1/hooks/mlflow/?team=<slug>``: MLflow model-registry webhooks.

Authenticated by MLflow's own HMAC signature (:mod:`governance.hooks.authentication`), not
by a session or token: the caller is the team's hook, a member of that team only. See
``docs/registry.md`` for the set-up."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView
from governance.hooks.authentication import DELIVERY_HEADER, MlflowSignatureAuthentication
from governance.hooks.models import RegistryHook
from governance.hooks.schema import MlflowWebhookData
from governance.hooks.services import registry_event_apply
from governance.lib.api_errors import ApplicationError


class MlflowHookApi(TeamScopedAPIView):
    authentication_classes = [MlflowSignatureAuthentication]

    def base_queryset(self) -> Any:
        return RegistryHook.objects.select_related("team")

    @extend_schema(
        parameters=[OpenApiParameter("team", str, description="the team whose hook this is")],
        request=inline_serializer("MlflowWebhookDelivery", {
            "entity": serializers.CharField(help_text="e.g. model_version, model_version_alias"),
            "action": serializers.CharField(help_text="e.g. created, set, deleted"),
            "data": MlflowWebhookData,
        }),
        responses={200: inline_serializer("MlflowWebhookResult", {
            "event": serializers.CharField(help_text="entity.action of the delivery"),
            "status": serializers.ChoiceField(["processed", "ignored", "duplicate"]),
            "model_id": serializers.IntegerField(required=False),
            "version": serializers.CharField(required=False),
            "artifact_uri": serializers.CharField(required=False, allow_null=True),
            "scan_id": serializers.IntegerField(required=False, allow_null=True),
            "scan": serializers.CharField(required=False, help_text="queued, or why not"),
            "deployment_id": serializers.IntegerField(required=False),
            "deployment_created": serializers.BooleanField(required=False),
            "admission": serializers.BooleanField(required=False, allow_null=True),
        })},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        """Receive an MLflow model-registry event (``model_version.created``,
        ``model_version_tag.set``, ``model_version_alias.created``/``deleted``); other events
        are acknowledged and ignored. Idempotent on ``X-MLflow-Delivery-Id``."""
        hook = self.get_queryset().get(pk=request.auth.pk)  # the verified hook, in scope
        try:
            payload = json.loads(request._request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApplicationError("the delivery body is not JSON") from exc
        result, _ = registry_event_apply(
            hook=hook,
            caller=request.user,
            delivery_id=request._request.headers[DELIVERY_HEADER],
            payload=payload,
        )
        return Response(result)
