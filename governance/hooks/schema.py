"""OpenAPI description of the MLflow webhook signature (for drf-spectacular)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
