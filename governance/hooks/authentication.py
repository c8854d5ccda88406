"""MLflow's webhook signature, checked as MLflow sends it.

MLflow (``mlflow/webhooks/delivery.py``) sends three headers with each delivery:
``X-MLflow-Delivery-Id`` (a UUID), ``X-MLflow-Timestamp`` (Unix seconds) and, when the webhook
has a secret, ``X-MLflow-Signature: v1,<base64 HMAC-SHA256>`` computed with the secret over
``"{delivery_id}.{timestamp}.{body}"`` (the Standard Webhooks scheme). Warden recomputes it
over the raw body, compares in constant time, and refuses deliveries whose timestamp is more
than ``WARDEN_HOOK_TOLERANCE_SECONDS`` away from now (a replayed capture). The team is named
in the webhook's URL (``?team=<slug>``); a missing team, a missing or wrong signature and a
stale timestamp are all the same 401, so the endpoint reveals no team.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from governance.hooks.models import RegistryHook

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
MAX_BODY_BYTES = 1024 * 1024


def mlflow_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """``v1,<base64>``: the signature MLflow computes for a delivery."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


class HookCaller:
    """The principal of a verified delivery: a member of the hook's team only (it registers
    versions, queues scans and records deployments there), like an API token's."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    token = None

    def __init__(self, hook: RegistryHook) -> None:
        self.hook = hook
        self.username = "hook:mlflow"
        self._warden_team_ids = [hook.team_id]
        self._warden_roles = {hook.team_id: "member"}

    def __str__(self) -> str:
        return self.username

    def has_perm(self, *args: Any) -> bool:
        return False


class MlflowSignatureAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[HookCaller, RegistryHook]:
        denied = exceptions.AuthenticationFailed(
            "the delivery is not signed by this team's MLflow webhook secret (or is stale)"
        )
        headers = request._request.headers
        signature = headers.get(SIGNATURE_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        delivery_id = headers.get(DELIVERY_HEADER, "")
        slug = request.query_params.get("team", "")
        if not (signature and timestamp and delivery_id and slug):
            raise denied
        if not timestamp.isdigit() or len(delivery_id) > 100:
            raise denied
        if abs(time.time() - int(timestamp)) > settings.WARDEN_HOOK_TOLERANCE_SECONDS:
            raise denied
        body = request._request.body
        if len(body) > MAX_BODY_BYTES:
            raise denied
        hook = RegistryHook.objects.select_related("team").filter(team__slug=slug).first()
        # A missing hook is checked against a throwaway secret, so both take the same time.
        expected = mlflow_signature(
            hook.secret if hook else "no hook", delivery_id, timestamp, body
        )
        # Standard Webhooks allows several space-separated signatures (secret rotation).
        offered = signature.split()
        matched = any(hmac.compare_digest(expected.encode(), s.encode()) for s in offered)
        if hook is None or not matched:
            raise denied
        return HookCaller(hook), hook

    def authenticate_header(self, request: Request) -> str:
        return "MLflow-Signature"
