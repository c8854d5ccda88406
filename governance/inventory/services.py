"""Writes for models and versions."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from governance.accounts.models import Team
from governance.inventory.models import MLModel, ModelVersion, RiskTier, Stage
from governance.lib.api_errors import ApplicationError


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


#: Fields a member may edit; risk tier and stage decide which policy governs the model, so
#: only a lead changes those.
MEMBER_FIELDS = ("description", "use_case", "owner", "tags")
LEAD_FIELDS = ("risk_tier", "stage")


def model_update(*, model: MLModel, actor: Any, changes: dict[str, Any]) -> MLModel:
    """Edit a model. A tier or stage change re-applies the governing policy's SLA to the
    model's open findings and is recorded in the governance audit trail."""
    from governance.accounts.models import Membership
    from governance.accounts.selectors import has_role
    from governance.policies.models import PolicyEvent
    from governance.policies.services import sla_apply
    from governance.policies.sla import sla_days_for_model

    unknown = set(changes) - set(MEMBER_FIELDS) - set(LEAD_FIELDS)
    if unknown:
        raise ApplicationError(f"cannot change {', '.join(sorted(unknown))}")
    if not has_role(actor, model.team_id, "member"):
        raise ApplicationError("viewers cannot edit models", status_code=403)
    if set(changes) & set(LEAD_FIELDS) and not has_role(actor, model.team_id, "lead"):
        raise ApplicationError(
            "only a team lead changes risk tier or stage (they decide the governing policy)",
            status_code=403,
        )
    if "risk_tier" in changes and changes["risk_tier"] not in RiskTier.values:
        raise ApplicationError(f"risk_tier must be one of {', '.join(RiskTier.values)}")
    if "stage" in changes and changes["stage"] not in Stage.values:
        raise ApplicationError(f"stage must be one of {', '.join(Stage.values)}")
    if "tags" in changes and (
        not isinstance(changes["tags"], list)
        or not all(isinstance(t, str) and 0 < len(t) <= 50 for t in changes["tags"])
        or len(changes["tags"]) > 30
    ):
        raise ApplicationError("tags must be a list of up to 30 strings of 1-50 characters")
    if changes.get("owner"):
        owner = (
            Membership.objects.filter(team_id=model.team_id, user__username=changes["owner"])
            .select_related("user")
            .first()
        )
        if owner is None:
            raise ApplicationError(f"{changes['owner']!r} is not a member of this team")
        changes = {**changes, "owner": owner.user}
    elif "owner" in changes:
        changes = {**changes, "owner": None}
    with transaction.atomic():
        model = MLModel.objects.select_for_update().get(pk=model.pk)
        before = {f: getattr(model, f) for f in LEAD_FIELDS}
        days_before = sla_days_for_model(model)
        for field, value in changes.items():
            setattr(model, field, value)
        model.save()
        after = {f: getattr(model, f) for f in LEAD_FIELDS}
        if before != after:
            days_after = sla_days_for_model(model)
            if days_after != days_before:
                sla_apply(model_ids=[model.pk], days=days_after)
            real = actor if getattr(actor, "pk", None) else None
            PolicyEvent.objects.create(
                kind=PolicyEvent.Kind.MODEL_GOVERNANCE_CHANGED,
                team_id=model.team_id,
                message=f"{model.name}: "
                + ", ".join(
                    f"{k} {before[k]} -> {after[k]}" for k in LEAD_FIELDS if before[k] != after[k]
                ),
                data={"model_id": model.pk, "before": before, "after": after},
                actor=real,
                actor_label=str(getattr(actor, "username", ""))[:150],
            )
    return model
