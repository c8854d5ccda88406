"""What an MLflow model-registry event does in Warden.

- ``model_version.created``: the version is registered (the model too, when the team lets CI
  register models) with its source URI as the artifact; when that path lies under
  ``WARDEN_ARTIFACT_ROOTS`` a server-side model-file scan is queued (the artifact scan of
  :mod:`governance.ingest.artifacts`).
- ``model_version_tag.set``: the version is registered if it is new; a ``stage`` tag set to a
  production name counts as a move to production.
- ``model_version_alias.created``: an alias that means production (``production``, ``prod``,
  ``champion``: ``WARDEN_HOOK_PRODUCTION_ALIASES``) records a deployment of the version in
  ``WARDEN_HOOK_ENVIRONMENT`` (the runtime app's deployment service: admission is checked).
- ``model_version_alias.deleted``: such an alias removed ends that deployment.

Every delivery is handled once: its id is stored with what it did, and a redelivery is
answered with that record.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.accounts.models import Team
from governance.accounts.selectors import has_role
from governance.hooks.models import RegistryDelivery, RegistryHook
from governance.ingest.artifacts import artifact_path
from governance.ingest.services import artifact_scan_request
from governance.inventory.models import Deployment, MLModel, ModelVersion
from governance.inventory.services import model_get_or_create, version_get_or_create
from governance.lib.api_errors import ApplicationError
from governance.runtime.services import deployment_create, deployment_end

EVENTS = (
    "model_version.created",
    "model_version_tag.set",
    "model_version_alias.created",
    "model_version_alias.deleted",
)
STAGE_TAGS = ("stage", "environment")
ENDPOINT = "mlflow"


def registry_hook_set(*, team: Team, actor: Any, secret: str = "") -> tuple[RegistryHook, str]:
    """Create or replace the team's MLflow webhook secret (team leads). Returns the hook and
    the secret, generated when not given, to paste into MLflow's ``create_webhook``."""
    if not has_role(actor, team.pk, "lead"):
        raise ApplicationError("only a team lead sets the registry hook secret", status_code=403)
    secret = secret.strip() or f"whsec_{secrets.token_urlsafe(32)}"
    if len(secret) < 16 or len(secret) > 200:
        raise ApplicationError("the secret must be 16 to 200 characters long")
    hook, _ = RegistryHook.objects.update_or_create(
        team=team,
        defaults={"secret": secret, "created_by": actor if getattr(actor, "pk", None) else None},
    )
    return hook, secret


def _production(name: str) -> bool:
    return name.strip().lower() in {a.lower() for a in settings.WARDEN_HOOK_PRODUCTION_ALIASES}


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise ApplicationError(f"the event's data has no {key!r}", detail={"field": key})
    text = str(value).strip()
    if len(text) > limit:
        raise ApplicationError(f"{key} is longer than {limit} characters")
    return text


def _version(hook: RegistryHook, data: dict[str, Any]) -> tuple[MLModel, ModelVersion]:
    model, _ = model_get_or_create(team=hook.team, name=_text(data, "name", 200), create=True)
    version = version_get_or_create(model=model, version=_text(data, "version", 100))
    return model, version


def _source(data: dict[str, Any]) -> str:
    """Where the version's files are: ``storage_location`` (the resolved artifact location,
    MLflow 3) before ``source`` (which may be a ``models:/`` or ``runs:/`` URI)."""
    for key in ("storage_location", "source"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:1000]
    return ""


def _created(hook: RegistryHook, data: dict[str, Any], caller: Any) -> dict[str, Any]:
    model, version = _version(hook, data)
    source = _source(data)
    if source and not version.artifact_uri:
        version.artifact_uri = source
        version.save(update_fields=["artifact_uri"])
    result: dict[str, Any] = {
        "model_id": model.pk,
        "version": version.version,
        "artifact_uri": version.artifact_uri or None,
        "scan_id": None,
    }
    if version.artifact_uri and version.retired_at is None:
        try:
            artifact_path(version)  # under WARDEN_ARTIFACT_ROOTS, local, present?
        except ApplicationError as exc:
            result["scan"] = f"not scanned: {exc.message}"
        else:
            result["scan_id"] = artifact_scan_request(version=version, actor=caller).pk
            result["scan"] = "queued"
    return result


def _to_production(
    hook: RegistryHook, model: MLModel, version: ModelVersion, caller: Any
) -> dict[str, Any]:
    deployment, answer, created = deployment_create(
        model=model,
        version=version,
        environment=settings.WARDEN_HOOK_ENVIRONMENT,
        endpoint=ENDPOINT,
        actor=caller,
    )
    return {
        "deployment_id": deployment.pk,
        "deployment_created": created,
        "admission": answer.get("allowed") if answer else None,
    }


def _tag_set(hook: RegistryHook, data: dict[str, Any], caller: Any) -> dict[str, Any]:
    model, version = _version(hook, data)
    result: dict[str, Any] = {"model_id": model.pk, "version": version.version}
    key, value = str(data.get("key", "")).lower(), str(data.get("value", ""))
    if key in STAGE_TAGS and _production(value):
        result |= _to_production(hook, model, version, caller)
    return result


def _alias_created(hook: RegistryHook, data: dict[str, Any], caller: Any) -> dict[str, Any]:
    model, version = _version(hook, data)
    alias = _text(data, "alias", 256)
    result: dict[str, Any] = {"model_id": model.pk, "version": version.version, "alias": alias}
    if _production(alias):
        result |= _to_production(hook, model, version, caller)
    return result


def _alias_deleted(hook: RegistryHook, data: dict[str, Any], caller: Any) -> dict[str, Any]:
    alias = _text(data, "alias", 256)
    model = MLModel.objects.filter(team=hook.team, name__iexact=_text(data, "name", 200)).first()
    result: dict[str, Any] = {"model_id": model.pk if model else None, "alias": alias}
    if model is not None and _production(alias):
        running = Deployment.objects.filter(
            model=model,
            environment=settings.WARDEN_HOOK_ENVIRONMENT,
            endpoint=ENDPOINT,
            until__isnull=True,
        ).first()
        if running is not None:
            deployment_end(deployment=running, actor=caller)
            result["deployment_ended"] = running.pk
    return result


HANDLERS = {
    "model_version.created": _created,
    "model_version_tag.set": _tag_set,
    "model_version_alias.created": _alias_created,
    "model_version_alias.deleted": _alias_deleted,
}


def registry_event_apply(
    *, hook: RegistryHook, caller: Any, delivery_id: str, payload: Any
) -> tuple[dict[str, Any], bool]:
    """Apply one verified delivery. Returns what it did and whether it is new (False: the
    same delivery id was handled before, and nothing happened now)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ApplicationError(
            "expected MLflow's webhook payload: {entity, action, timestamp, data}"
        )
    event = f"{payload.get('entity', '')}.{payload.get('action', '')}"[:60]
    earlier = RegistryDelivery.objects.filter(hook=hook, delivery_id=delivery_id).first()
    if earlier is not None:
        return {**earlier.result, "event": earlier.event, "status": "duplicate"}, False
    handler = HANDLERS.get(event)
    try:
        with transaction.atomic():
            result: dict[str, Any] = (
                {"status": "processed", **handler(hook, payload["data"], caller)}
                if handler is not None
                else {"status": "ignored"}
            )
            RegistryDelivery.objects.create(
                hook=hook, delivery_id=delivery_id, event=event, result=result
            )
            RegistryHook.objects.filter(pk=hook.pk).update(last_delivery_at=timezone.now())
    except IntegrityError:  # the same delivery, concurrently: the first one won
        earlier = RegistryDelivery.objects.get(hook=hook, delivery_id=delivery_id)
        return {**earlier.result, "event": earlier.event, "status": "duplicate"}, False
    return {"event": event, **result}, True
