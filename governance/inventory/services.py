"""Writes for models and versions."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from governance.accounts.models import Team
from governance.inventory.models import GateStamp, MLModel, ModelVersion, RiskTier, Stage
from governance.lib.api_errors import ApplicationError


def model_get_or_create(*, team: Team, name: str, create: bool = False) -> tuple[MLModel, bool]:
    """The team's model of that name (matched case-insensitively). A name the team does not
    have is a 404 naming the closest models, unless ``create`` is asked for explicitly and the
    team allows CI to register models: a typo must never create a second, empty model."""
    from governance.inventory.selectors import model_name_suggestions

    name = name.strip()
    if not name:
        raise ApplicationError("model is required: pass the model's name")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ApplicationError("model names cannot contain control or formatting characters")
    found = MLModel.objects.filter(team=team, name__iexact=name).first()
    if found is not None:
        return found, False
    if not create:
        close = model_name_suggestions(team_ids=[team.pk], name=name)
        hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
        raise ApplicationError(
            f"no model {name!r} in team {team.slug}{hint} (to register a new model, pass "
            "create_model=true, or --create-model to the warden client)",
            status_code=404,
        )
    if not team.allow_model_autocreate:
        raise ApplicationError(
            f"team {team.slug} has no model named {name!r} and does not allow creating models "
            "from uploads; register the model first",
            status_code=400,
        )
    try:
        with transaction.atomic():
            return MLModel.objects.create(team=team, name=name), True
    except IntegrityError:  # created concurrently, perhaps in another case
        return MLModel.objects.get(team=team, name__iexact=name), False


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


def version_retired_set(*, version: ModelVersion, when: Any) -> None:
    """Mark ``version`` retired (the findings app closes its findings: ``version_retire``)."""
    ModelVersion.objects.filter(pk=version.pk).update(retired_at=when)
    version.retired_at = when


def version_accepts_scans(version: ModelVersion | None) -> None:
    """Refuse new evidence for a retired version (its findings were closed as retired)."""
    if version is not None and version.retired_at is not None:
        raise ApplicationError(
            f"{version.model.name}@{version.version} was retired on "
            f"{version.retired_at:%Y-%m-%d}; it takes no more scans (publish a new version)"
        )


#: Fields a member may edit; risk tier and stage decide which policy governs the model, so
#: only a lead changes those.
MEMBER_FIELDS = ("description", "use_case", "owner", "tags")
LEAD_FIELDS = ("risk_tier", "stage")


@dataclass(frozen=True)
class ModelChange:
    model: MLModel
    #: Risk tier and stage before and after: they decide the governing policy.
    before: dict[str, str]
    after: dict[str, str]

    @property
    def governance_changed(self) -> bool:
        return self.before != self.after


def model_update(*, model: MLModel, actor: Any, changes: dict[str, Any]) -> ModelChange:
    """Edit a model: members edit description, use case, owner and tags; only a lead changes
    the risk tier and stage. Must run in the caller's transaction when the caller acts on a
    governance change (``governance.policies.services.model_governance_update`` does)."""
    from governance.accounts.models import Membership
    from governance.accounts.selectors import has_role

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
        for field, value in changes.items():
            setattr(model, field, value)
        model.save()
        after = {f: getattr(model, f) for f in LEAD_FIELDS}
    return ModelChange(model=model, before=before, after=after)


def gate_stamps_bump(*, model_ids: list[int] | None = None, team_id: int | None = None) -> None:
    """Move on the gate stamp of ``model_ids`` (or of every model of ``team_id``, or of every
    model when both are None: an organization-wide policy), in the caller's transaction, as
    its last write: the stamp commits with the change it stands for, and its row lock is held
    only until that commit."""
    if model_ids is None:
        models = (
            MLModel.objects.all() if team_id is None else MLModel.objects.filter(team_id=team_id)
        )
        model_ids = list(models.values_list("id", flat=True))
    ids = sorted(set(model_ids))
    table = connection.ops.quote_name(GateStamp._meta.db_table)
    with connection.cursor() as cursor:
        # One statement per 1,000 models, on PostgreSQL and SQLite alike (an upsert).
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            cursor.execute(
                f"INSERT INTO {table} (model_id, value) VALUES "  # noqa: S608 - fixed SQL
                + ", ".join(["(%s, 1)"] * len(chunk))
                + f" ON CONFLICT (model_id) DO UPDATE SET value = {table}.value + 1",
                chunk,
            )
