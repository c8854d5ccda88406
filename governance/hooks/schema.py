"""OpenAPI description of the MLflow webhook: its signature and its body (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class MlflowSignatureScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.hooks.authentication.MlflowSignatureAuthentication"
    name = "MlflowSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-MLflow-Signature",
            "description": "MLflow's webhook signature: `v1,<base64 HMAC-SHA256>` of "
            "`{X-MLflow-Delivery-Id}.{X-MLflow-Timestamp}.{body}` with the team's hook secret "
            "(see docs/registry.md)",
        }


#: ``data`` of a delivery (``source`` would shadow a serializer attribute as a class field).
MlflowWebhookData = inline_serializer(
    "MlflowWebhookData",
    {
        name: serializers.CharField(required=False)
        for name in (
            "name",
            "version",
            "source",
            "storage_location",
            "run_id",
            "key",
            "value",
            "alias",
        )
    },
)
