"""Writes for models and versions."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from governance.accounts.models import Team
from governance.inventory.models import MLModel, ModelVersion
from governance.lib.api_errors import ApplicationError


def model_create(*, team: Team, name: str, **fields: Any) -> MLModel:
    name = name.strip()
    if not name:
        raise ApplicationError("a model needs a name")
    try:
        with transaction.atomic():
            return MLModel.objects.create(team=team, name=name, **fields)
    except IntegrityError:
        raise ApplicationError(f"team {team.slug} already has a model named {name!r}") from None


def model_get_or_create(*, team: Team, name: str) -> tuple[MLModel, bool]:
    """The team's model of that name, creating it when the team allows (CI uploads)."""
    name = name.strip()
    if not name:
        raise ApplicationError("model is required: pass the model's name")
    found = MLModel.objects.filter(team=team, name=name).first()
    if found is not None:
        return found, False
    if not team.allow_model_autocreate:
        raise ApplicationError(
            f"team {team.slug} has no model named {name!r} and does not allow creating models "
            "from uploads; register the model first",
            status_code=400,
        )
    model, created = MLModel.objects.get_or_create(team=team, name=name)
    return model, created


def version_get_or_create(
    *,
    model: MLModel,
    version: str,
    artifact_sha256: str = "",
    artifact_uri: str = "",
    framework: str = "",
) -> ModelVersion:
    version = version.strip()
    obj, created = ModelVersion.objects.get_or_create(
        model=model,
        version=version,
        defaults={
            "artifact_sha256": artifact_sha256,
            "artifact_uri": artifact_uri,
            "framework": framework,
        },
    )
    if not created and artifact_sha256 and obj.artifact_sha256 != artifact_sha256:
        if obj.artifact_sha256:
            raise ApplicationError(
                f"{model.name}@{version} is registered with artifact sha256 "
                f"{obj.artifact_sha256[:12]}…, not {artifact_sha256[:12]}…: a version's artifact "
                "cannot change; publish a new version"
            )
        obj.artifact_sha256 = artifact_sha256
        obj.save(update_fields=["artifact_sha256"])
    return obj
