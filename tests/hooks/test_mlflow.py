"""MLflow model-registry webhooks, replayed in the shape MLflow sends them
(``mlflow/webhooks/delivery.py``): body ``{"entity", "action", "timestamp", "data"}``,
headers ``X-MLflow-Delivery-Id``, ``X-MLflow-Timestamp`` and
``X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "{delivery_id}.{timestamp}.{body}">``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from governance.evidence.models import ScanRun
from governance.hooks.models import RegistryDelivery, RegistryHook
from governance.inventory.models import Deployment, MLModel, ModelVersion

pytestmark = pytest.mark.django_db

SECRET = "whsec_alpha-team-secret-0123456789"
URL = "/api/v1/hooks/mlflow/?team=alpha"


def _sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    # Written from MLflow's documented scheme, independently of Warden's implementation.
    mac = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def deliver(
    client: Any,
    entity: str,
    action: str,
    data: dict[str, Any],
    *,
    secret: str = SECRET,
    url: str = URL,
    delivery_id: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    body = json.dumps(
        {
            "entity": entity,
            "action": action,
            "timestamp": datetime.now(UTC).isoformat(),
            "data": data,
        }
    )
    delivery_id = delivery_id or str(uuid.uuid4())
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "HTTP_X_MLFLOW_DELIVERY_ID": delivery_id,
        "HTTP_X_MLFLOW_TIMESTAMP": ts,
        "HTTP_X_MLFLOW_SIGNATURE": signature or _sign(secret, delivery_id, ts, body),
    }
    return client.post(url, body, content_type="application/json", **headers)


@pytest.fixture
def hook(team_alpha: Any, lead: Any) -> RegistryHook:
    from governance.hooks.services import registry_hook_set

    found, _ = registry_hook_set(team=team_alpha, actor=lead, secret=SECRET)
    return found


@pytest.fixture
def artifact_root(settings: Any, tmp_path: Path) -> Path:
    root = (tmp_path / "registry").resolve()
    root.mkdir()
    settings.WARDEN_ARTIFACT_ROOTS = [root]
    return root


def _created(
    name: str = "fraud", version: str = "1", source: str = "models:/m-1"
) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "source": source,
        "run_id": "abcd1234abcd5678",
        "tags": {"team": "risk"},
        "description": "nightly retrain",
    }


def _alias(alias: str, version: str) -> dict[str, Any]:
    return {"name": "fraud", "alias": alias, "version": version}


def test_a_created_version_is_registered_with_its_source(client: Any, hook: Any) -> None:
    response = deliver(client, "model_version", "created", _created(source="s3://bucket/m/1"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "processed"
    assert body["event"] == "model_version.created"
    version = ModelVersion.objects.get(model__name="fraud", version="1")
    assert version.model.team_id == hook.team_id
    assert version.artifact_uri == "s3://bucket/m/1"
    assert body["scan_id"] is None
    assert "remote" in body["scan"]  # Warden fetches nothing


def test_storage_location_is_preferred_to_a_models_uri(client: Any, hook: Any) -> None:
    data = _created(source="models:/m-abc") | {"storage_location": "s3://b/models/m-abc"}
    deliver(client, "model_version", "created", data)
    assert ModelVersion.objects.get().artifact_uri == "s3://b/models/m-abc"


def test_a_version_under_the_artifact_root_is_scanned(
    client: Any, hook: Any, artifact_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    artifact = artifact_root / "fraud" / "1" / "model.safetensors"
    artifact.parent.mkdir(parents=True)
    header = b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    artifact.write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 8)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(
            client, "model_version", "created", _created(source=f"file://{artifact}")
        )
    body = response.json()
    assert body["scan"] == "queued", body
    run = ScanRun.objects.get(pk=body["scan_id"])
    assert run.scan_type == "warden-modelscan"
    assert run.version.version == "1"
    run.refresh_from_db()
    assert run.status == "done", run.error  # eager here: no broker in tests


def test_a_path_outside_the_roots_is_not_scanned(
    client: Any, hook: Any, artifact_root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    body = deliver(client, "model_version", "created", _created(source=str(outside))).json()
    assert body["scan_id"] is None
    assert "outside WARDEN_ARTIFACT_ROOTS" in body["scan"]
    assert not ScanRun.objects.exists()


def test_an_alias_to_production_records_a_deployment(client: Any, hook: Any) -> None:
    deliver(client, "model_version", "created", _created(version="3"))
    response = deliver(
        client,
        "model_version_alias",
        "created",
        {"name": "fraud", "alias": "champion", "version": "3"},
    )
    body = response.json()
    assert response.status_code == 200, body
    deployment = Deployment.objects.get(pk=body["deployment_id"])
    assert deployment.environment == "production"
    assert deployment.version.version == "3"
    assert deployment.deployed_by == "hook:mlflow"
    assert deployment.until is None
    # the alias moves to a new version: the new one replaces the old deployment
    deliver(client, "model_version", "created", _created(version="4"))
    deliver(
        client,
        "model_version_alias",
        "created",
        {"name": "fraud", "alias": "champion", "version": "4"},
    )
    running = Deployment.objects.get(until__isnull=True)
    assert running.version.version == "4"
    # the alias removed: the deployment ends
    body = deliver(
        client, "model_version_alias", "deleted", {"name": "fraud", "alias": "champion"}
    ).json()
    assert body["deployment_ended"] == running.pk
    assert not Deployment.objects.filter(until__isnull=True).exists()


def test_an_alias_that_is_not_production_records_nothing(client: Any, hook: Any) -> None:
    deliver(client, "model_version", "created", _created())
    body = deliver(
        client,
        "model_version_alias",
        "created",
        {"name": "fraud", "alias": "staging", "version": "1"},
    ).json()
    assert body["status"] == "processed"
    assert "deployment_id" not in body
    assert not Deployment.objects.exists()


def test_the_production_aliases_are_configurable(client: Any, hook: Any, settings: Any) -> None:
    settings.WARDEN_HOOK_PRODUCTION_ALIASES = ["live"]
    data = {"name": "fraud", "alias": "live", "version": "1"}
    assert "deployment_id" in deliver(client, "model_version_alias", "created", data).json()
    data = {"name": "fraud", "alias": "champion", "version": "1"}
    assert "deployment_id" not in deliver(client, "model_version_alias", "created", data).json()


def test_a_stage_tag_set_to_production_records_a_deployment(client: Any, hook: Any) -> None:
    data = {"name": "fraud", "version": "2", "key": "stage", "value": "Production"}
    body = deliver(client, "model_version_tag", "set", data).json()
    assert ModelVersion.objects.filter(version="2").exists()
    assert Deployment.objects.get().pk == body["deployment_id"]
    other = {"name": "fraud", "version": "2", "key": "owner", "value": "prod"}
    assert "deployment_id" not in deliver(client, "model_version_tag", "set", other).json()


def test_a_redelivery_is_answered_and_changes_nothing(client: Any, hook: Any) -> None:
    delivery = str(uuid.uuid4())
    first = deliver(client, "model_version", "created", _created(), delivery_id=delivery).json()
    ModelVersion.objects.all().delete()  # were it applied again, the version would come back
    again = deliver(client, "model_version", "created", _created(), delivery_id=delivery).json()
    assert again["status"] == "duplicate"
    assert again["model_id"] == first["model_id"]
    assert not ModelVersion.objects.exists()
    assert RegistryDelivery.objects.count() == 1


def test_other_events_are_acknowledged_and_ignored(client: Any, hook: Any) -> None:
    response = deliver(client, "registered_model", "created", {"name": "fraud", "tags": {}})
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert not MLModel.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    ["bad-signature", "other-secret", "no-signature", "no-delivery-id", "unknown-team"],
)
def test_an_unsigned_or_badly_signed_delivery_is_401(
    client: Any, hook: Any, team_beta: Any, tamper: str
) -> None:
    from governance.hooks.services import registry_hook_set
    from tests.conftest import _user

    beta_lead = _user("beta-lead", team_beta, "lead")
    registry_hook_set(team=team_beta, actor=beta_lead, secret="whsec_beta-secret-abcdefghij")
    kwargs: dict[str, Any] = {}
    if tamper == "bad-signature":
        kwargs["signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
    elif tamper == "other-secret":  # beta's secret cannot speak for alpha
        kwargs["secret"] = "whsec_beta-secret-abcdefghij"
    elif tamper == "unknown-team":
        kwargs["url"] = "/api/v1/hooks/mlflow/?team=nosuchteam"
    if tamper in ("no-signature", "no-delivery-id"):
        body = json.dumps({"entity": "model_version", "action": "created", "data": _created()})
        headers = {"HTTP_X_MLFLOW_TIMESTAMP": str(int(time.time()))}
        if tamper == "no-delivery-id":
            headers["HTTP_X_MLFLOW_SIGNATURE"] = _sign(
                SECRET, "", headers["HTTP_X_MLFLOW_TIMESTAMP"], body
            )
        response = client.post(URL, body, content_type="application/json", **headers)
    else:
        response = deliver(client, "model_version", "created", _created(), **kwargs)
    assert response.status_code == 401, response.content
    assert "error" in response.json()
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("age", [-3600, 301, 86400])
def test_a_stale_delivery_is_refused_even_when_signed(client: Any, hook: Any, age: int) -> None:
    response = deliver(
        client, "model_version", "created", _created(), timestamp=int(time.time()) - age
    )
    assert response.status_code == 401
    assert "stale" in response.json()["error"]
    assert not ModelVersion.objects.exists()


def test_a_session_or_token_does_not_replace_the_signature(
    client_of: Any, lead: Any, hook: Any, api: Any, make_token: Any, team_alpha: Any
) -> None:
    body = json.dumps({"entity": "model_version", "action": "created", "data": _created()})
    assert client_of(lead).post(URL, body, content_type="application/json").status_code == 401
    token = api(make_token(team_alpha, "write"))
    assert token.post(URL, body, content_type="application/json").status_code == 401


def test_a_team_that_registers_models_itself_gets_a_clear_error(
    client: Any, hook: Any, team_alpha: Any
) -> None:
    team_alpha.allow_model_autocreate = False
    team_alpha.save()
    response = deliver(client, "model_version", "created", _created())
    assert response.status_code == 400
    assert "register the model first" in response.json()["error"]
    assert not RegistryDelivery.objects.exists()  # a retry after registering it will apply


def test_a_lead_sets_the_secret_with_the_management_command(
    team_alpha: Any, lead: Any, member: Any
) -> None:
    out = StringIO()
    call_command("registry_hook", "--team", "alpha", "--lead", "lead", stdout=out)
    printed = out.getvalue()
    secret = printed.split("secret: ")[1].split()[0]
    assert RegistryHook.objects.get(team=team_alpha).secret == secret
    assert "url: /api/v1/hooks/mlflow/?team=alpha" in printed
    with pytest.raises(CommandError, match="only a team lead"):
        call_command("registry_hook", "--team", "alpha", "--lead", "member", stdout=StringIO())
