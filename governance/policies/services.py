"""Writes for policies and exceptions. Each is one transaction with its audit event.

Policies: every change is a :class:`RiskPolicyRevision` (full document, author, note) and a
:class:`PolicyEvent`. The gate is computed on read, so the next gate call reflects a change;
the one stored value derived from a policy, the SLA due date of open findings, is recomputed
in the same transaction for every model whose governing SLA changed.

Exceptions: a member requests, a lead of the team who is not the requester decides (four
eyes). Approval marks the finding ``risk_accepted``; expiry (the beat task) reopens it.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.accounts.models import Team
from governance.accounts.selectors import has_role
from governance.findings.models import ACTIVE_STATUSES, Finding, Status
from governance.findings.services import (
    finding_comment_record,
    finding_status_set,
    findings_reopen,
    findings_sla_due_set,
)
from governance.inventory.models import MLModel, ModelVersion
from governance.inventory.services import gate_stamps_bump, model_update
from governance.lib.actors import actor_fields
from governance.lib.api_errors import ApplicationError
from governance.policies.channel_events import exceptions_expired_publish
from governance.policies.gate import GateResult, gate_evaluate
from governance.policies.models import (
    PolicyEvent,
    RiskException,
    RiskPolicy,
    RiskPolicyRevision,
    VerdictRecord,
)
from governance.policies.notify import (
    exception_decided_notify_task,
    exception_requested_notify_task,
    exceptions_expired_notify_task,
)
from governance.policies.schema import policy_document_normalize
from governance.policies.selectors import (
    BUILTIN_DEFAULT,
    policy_can_edit,
    policy_candidates,
    policy_effective_for,
    policy_resolve,
)

logger = logging.getLogger(__name__)


class _Operator:
    """The actor of ``manage.py policies``: someone with shell access to the server."""

    pk = None
    username = "operator (manage.py)"
    is_authenticated = True
    is_active = True


OPERATOR = _Operator()


def _require_policy_editor(actor: Any, team: Team | None) -> None:
    if actor is OPERATOR:
        return
    if not policy_can_edit(actor, team.pk if team else None):
        who = "a superuser" if team is None else "a lead of the team"
        raise ApplicationError(f"only {who} can change this policy", status_code=403)


# --- policies --------------------------------------------------------------------------------


def _sla_refresh(
    *, team_id: int | None, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> int:
    """Recompute the due date of open findings of every model whose governing SLA days
    changed between ``before`` and ``after`` (policy candidate lists). Returns the models."""
    models = MLModel.objects.all() if team_id is None else MLModel.objects.filter(team_id=team_id)
    groups: dict[tuple[tuple[str, int | None], ...], list[int]] = {}
    for model_id, model_team, tier, stage in models.values_list(
        "id", "team_id", "risk_tier", "stage"
    ):
        days = []
        for candidates in (before, after):
            found = policy_resolve(candidates, team_id=model_team, risk_tier=tier, stage=stage)
            days.append((found["document"] if found else BUILTIN_DEFAULT.document)["sla"]["days"])
        if days[0] != days[1]:
            groups.setdefault(tuple(days[1].items()), []).append(model_id)
    for days_items, model_ids in groups.items():
        sla_apply(model_ids=model_ids, days=dict(days_items))
    return sum(len(ids) for ids in groups.values())


def sla_apply(*, model_ids: list[int], days: dict[str, int | None]) -> None:
    """Set the due date of the models' active findings under ``days`` (the findings app
    writes them)."""
    findings_sla_due_set(model_ids=model_ids, days=days)


def _write_revision(
    *, policy: RiskPolicy, action: str, actor: Any, change_note: str, kind: str, message: str
) -> None:
    # Any policy change can change the verdict of every model it may govern.
    gate_stamps_bump(team_id=policy.team_id)  # team None: an organization default, every team
    RiskPolicyRevision.objects.create(
        policy=policy,
        number=policy.revision,
        action=action,
        document=policy.document,
        change_note=change_note.strip()[:5000],
        **actor_fields(actor, "author"),
    )
    PolicyEvent.objects.create(
        kind=kind,
        team_id=policy.team_id,
        policy=policy,
        message=message,
        data={"revision": policy.revision, "change_note": change_note.strip()[:5000]},
        **actor_fields(actor),
    )


def _apply_document(policy: RiskPolicy, document: dict[str, Any]) -> None:
    policy.document = document
    policy.name = document["name"]
    policy.description = document["description"]
    policy.risk_tiers = document["applies_to"]["risk_tiers"]
    policy.stages = document["applies_to"]["stages"]


def _save_unique(policy: RiskPolicy) -> None:
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        where = f"team {policy.team.slug}" if policy.team_id else "the organization"  # type: ignore[union-attr]
        raise ApplicationError(f"{where} already has a policy named {policy.name!r}") from None


def policy_create(
    *, team: Team | None, document: dict[str, Any], actor: Any, change_note: str = ""
) -> RiskPolicy:
    """A new policy for ``team`` (None: an organization default), revision 1."""
    _require_policy_editor(actor, team)
    document = policy_document_normalize(document)
    with transaction.atomic():
        team_id = team.pk if team else None
        before = policy_candidates(None if team_id is None else [team_id])
        policy = RiskPolicy(team=team)
        _apply_document(policy, document)
        _save_unique(policy)
        _write_revision(
            policy=policy,
            action=RiskPolicyRevision.Action.CREATED,
            actor=actor,
            change_note=change_note or "created",
            kind=PolicyEvent.Kind.POLICY_CREATED,
            message=f"policy {policy.name!r} created",
        )
        _sla_refresh(
            team_id=team_id,
            before=before,
            after=policy_candidates(None if team_id is None else [team_id]),
        )
    return policy


def policy_update(
    *, policy: RiskPolicy, document: dict[str, Any], actor: Any, change_note: str = ""
) -> RiskPolicy:
    """Replace a policy's document; a new revision unless nothing changed."""
    _require_policy_editor(actor, policy.team)
    document = policy_document_normalize(document)
    with transaction.atomic():
        policy = (
            RiskPolicy.objects.select_for_update(of=("self",))
            .select_related("team")
            .get(pk=policy.pk)
        )
        if policy.archived_at is not None:
            raise ApplicationError("this policy was deleted", status_code=404)
        if policy.document == document:
            return policy
        team_ids = None if policy.team_id is None else [policy.team_id]
        before = policy_candidates(team_ids)
        changed = [k for k in document if document[k] != policy.document.get(k)]
        _apply_document(policy, document)
        policy.revision += 1
        _save_unique(policy)
        _write_revision(
            policy=policy,
            action=RiskPolicyRevision.Action.UPDATED,
            actor=actor,
            change_note=change_note,
            kind=PolicyEvent.Kind.POLICY_UPDATED,
            message=f"policy {policy.name!r} updated to revision {policy.revision} "
            f"({', '.join(changed)})",
        )
        _sla_refresh(team_id=policy.team_id, before=before, after=policy_candidates(team_ids))
    return policy


def policy_archive(*, policy: RiskPolicy, actor: Any, change_note: str = "") -> None:
    """Delete a policy from use; its revisions and events stay for the audit trail."""
    _require_policy_editor(actor, policy.team)
    with transaction.atomic():
        policy = RiskPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.archived_at is not None:
            return
        team_ids = None if policy.team_id is None else [policy.team_id]
        before = policy_candidates(team_ids)
        policy.archived_at = timezone.now()
        policy.revision += 1
        policy.save(update_fields=["archived_at", "revision", "updated_at"])
        _write_revision(
            policy=policy,
            action=RiskPolicyRevision.Action.ARCHIVED,
            actor=actor,
            change_note=change_note or "deleted",
            kind=PolicyEvent.Kind.POLICY_ARCHIVED,
            message=f"policy {policy.name!r} deleted",
        )
        _sla_refresh(team_id=policy.team_id, before=before, after=policy_candidates(team_ids))


def policy_import(
    *, team: Team | None, document: dict[str, Any], actor: Any, change_note: str = ""
) -> tuple[RiskPolicy, bool]:
    """Policy as code: create the team's policy of the document's name, or update it.
    Returns ``(policy, created)``; importing an identical document changes nothing."""
    _require_policy_editor(actor, team)
    name = str(document.get("name", "")).strip() if isinstance(document, dict) else ""
    existing = RiskPolicy.objects.filter(team=team, name=name, archived_at__isnull=True).first()
    if existing is None:
        return policy_create(
            team=team, document=document, actor=actor, change_note=change_note or "imported"
        ), True
    return policy_update(
        policy=existing, document=document, actor=actor, change_note=change_note or "imported"
    ), False


# --- model governance ------------------------------------------------------------------------


def model_governance_update(*, model: MLModel, actor: Any, changes: dict[str, Any]) -> MLModel:
    """Edit a model (``inventory.model_update``). A risk tier or stage change is recorded in
    the governance audit trail and re-applies the governing policy's SLA to the model's
    active findings; a model moved to stage ``retired`` retires its versions (their findings
    close as "version retired", not as remediations). One transaction."""
    from governance.findings.services import version_retire
    from governance.policies.sla import sla_days_for_model

    with transaction.atomic():
        days_before = sla_days_for_model(model)
        change = model_update(model=model, actor=actor, changes=changes)
        model = change.model
        if not change.governance_changed:
            return model
        gate_stamps_bump(model_ids=[model.pk])
        days_after = sla_days_for_model(model)
        if days_after != days_before:
            sla_apply(model_ids=[model.pk], days=days_after)
        before, after = change.before, change.after
        PolicyEvent.objects.create(
            kind=PolicyEvent.Kind.MODEL_GOVERNANCE_CHANGED,
            team_id=model.team_id,
            message=f"{model.name}: "
            + ", ".join(f"{k} {before[k]} -> {after[k]}" for k in before if before[k] != after[k]),
            data={"model_id": model.pk, "before": before, "after": after},
            **actor_fields(actor),
        )
        if after["stage"] == "retired" and before["stage"] != "retired":
            for version in model.versions.filter(retired_at__isnull=True):
                version_retire(version=version, actor=actor)
    return model


# --- exceptions ------------------------------------------------------------------------------


def _require_person(actor: Any) -> None:
    if not getattr(actor, "pk", None):
        raise ApplicationError(
            "exceptions are requested and decided by a signed-in person, not an API token",
            status_code=403,
        )


def _exception_rules(model: MLModel) -> list[str]:
    doc = policy_effective_for(model).document
    rules = [r["id"] for section in ("thresholds", "evidence", "assessments") for r in doc[section]]
    return [*rules, "sla-overdue"]


@transaction.atomic
def exception_request(
    *,
    actor: Any,
    justification: str,
    expires_at: datetime,
    finding: Finding | None = None,
    model: MLModel | None = None,
    rule: str = "",
) -> RiskException:
    """Ask to accept the risk of one open finding, or to waive one policy rule for a model,
    until ``expires_at`` (at most the governing policy's ``exceptions.max_days`` away)."""
    _require_person(actor)
    if (finding is None) == (model is None):
        raise ApplicationError("name either a finding, or a model and a rule")
    if finding is not None:
        model = finding.model
        rule = ""
    assert model is not None
    if not has_role(actor, model.team_id, "member"):
        raise ApplicationError("viewers cannot request exceptions", status_code=403)
    justification = justification.strip()
    if len(justification) < 10:
        raise ApplicationError("a justification of at least 10 characters is required")
    policy = policy_effective_for(model)
    now = timezone.now()
    max_days = policy.document["exceptions"]["max_days"]
    if timezone.is_naive(expires_at):
        raise ApplicationError("expires_at needs a time zone (e.g. 2030-01-31T00:00:00Z)")
    if expires_at <= now:
        raise ApplicationError("expires_at must be in the future")
    if expires_at > now + timedelta(days=max_days):
        raise ApplicationError(
            f"expires_at is too far: the policy {policy.label!r} allows exceptions of at most "
            f"{max_days} days (until {now + timedelta(days=max_days):%Y-%m-%d %H:%M} UTC)"
        )
    if finding is not None:
        finding = Finding.objects.select_for_update().get(pk=finding.pk)
        if finding.status not in ACTIVE_STATUSES:
            raise ApplicationError(
                f"finding #{finding.pk} is {finding.status}; only open findings need an exception"
            )
        clash = RiskException.objects.filter(finding=finding)
    else:
        rule = rule.strip()
        allowed = _exception_rules(model)
        if rule not in allowed:
            raise ApplicationError(
                f"{model.name} is governed by {policy.label!r}, which has no rule {rule!r}; "
                f"rules: {', '.join(allowed)}"
            )
        clash = RiskException.objects.filter(model=model, rule=rule, finding__isnull=True)
    open_one = clash.filter(status__in=RiskException.PENDING_OR_ACTIVE).first()
    if open_one is not None:
        raise ApplicationError(
            f"exception #{open_one.pk} for this {'finding' if finding else 'rule'} is already "
            f"{open_one.status}",
            status_code=409,
        )
    try:
        with transaction.atomic():
            exception = RiskException.objects.create(
                team_id=model.team_id,
                model=model,
                finding=finding,
                rule=rule,
                policy_id=policy.policy_id,
                justification=justification[:10000],
                expires_at=expires_at,
                requested_by=actor,
            )
    except IntegrityError:
        raise ApplicationError(
            "an exception for this is already pending", status_code=409
        ) from None
    message = (
        f"exception #{exception.pk} requested for {exception.subject} of {model.name} "
        f"until {expires_at:%Y-%m-%d %H:%M} UTC: {justification}"
    )
    if finding is not None:
        finding_comment_record(finding_id=finding.pk, actor=actor, text=message)
    PolicyEvent.objects.create(
        kind=PolicyEvent.Kind.EXCEPTION_REQUESTED,
        team_id=model.team_id,
        exception=exception,
        policy_id=policy.policy_id,
        message=message,
        **actor_fields(actor),
    )
    exception_id = exception.pk
    transaction.on_commit(lambda: exception_requested_notify_task.delay(exception_id))
    return exception


def _lock_for_decision(exception: RiskException, actor: Any, verb: str) -> RiskException:
    _require_person(actor)
    exception = (
        RiskException.objects.select_for_update().select_related("model").get(pk=exception.pk)
    )
    if not has_role(actor, exception.team_id, "lead"):
        raise ApplicationError(f"only a lead of the team can {verb} exceptions", status_code=403)
    if exception.requested_by_id == actor.pk:
        raise ApplicationError(
            f"four eyes: you requested exception #{exception.pk}; another lead must {verb} it",
            status_code=403,
        )
    if exception.status != RiskException.Status.REQUESTED:
        raise ApplicationError(
            f"exception #{exception.pk} is already {exception.status}", status_code=409
        )
    return exception


@transaction.atomic
def exception_approve(*, exception: RiskException, actor: Any, reason: str = "") -> RiskException:
    """Approve: the finding becomes ``risk_accepted`` (or the rule is waived) until expiry."""
    exception = _lock_for_decision(exception, actor, "approve")
    now = timezone.now()
    if exception.expires_at <= now:
        raise ApplicationError(f"exception #{exception.pk} expired before it was approved")
    who = actor.get_username()
    until = f"{exception.expires_at:%Y-%m-%d %H:%M} UTC"
    if exception.finding_id:
        finding = Finding.objects.select_for_update().get(pk=exception.finding_id)
        if finding.status not in ACTIVE_STATUSES:
            raise ApplicationError(
                f"finding #{finding.pk} is {finding.status} now; there is no open risk to accept"
            )
        finding_status_set(
            finding_id=finding.pk,
            status=Status.RISK_ACCEPTED,
            actor=actor,
            reason=f"exception #{exception.pk} approved by {who} until {until}: "
            f"{exception.justification}",
            require=ACTIVE_STATUSES,
        )
    gate_stamps_bump(model_ids=[exception.model_id])  # a waived rule changes the verdict
    exception.status = RiskException.Status.APPROVED
    exception.decided_by = actor
    exception.decided_at = now
    exception.decision_reason = reason.strip()[:10000]
    exception.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    PolicyEvent.objects.create(
        kind=PolicyEvent.Kind.EXCEPTION_APPROVED,
        team_id=exception.team_id,
        exception=exception,
        policy_id=exception.policy_id,
        message=f"exception #{exception.pk} for {exception.subject} of {exception.model.name} "
        f"approved by {who} until {until}" + (f": {reason.strip()}" if reason.strip() else ""),
        **actor_fields(actor),
    )
    exception_id = exception.pk
    transaction.on_commit(lambda: exception_decided_notify_task.delay(exception_id))
    return exception


@transaction.atomic
def exception_reject(*, exception: RiskException, actor: Any, reason: str) -> RiskException:
    exception = _lock_for_decision(exception, actor, "reject")
    reason = reason.strip()
    if not reason:
        raise ApplicationError("a reason is required to reject an exception")
    message = (
        f"exception #{exception.pk} for {exception.subject} of {exception.model.name} "
        f"rejected by {actor.get_username()}: {reason}"
    )
    exception.status = RiskException.Status.REJECTED
    exception.decided_by = actor
    exception.decided_at = timezone.now()
    exception.decision_reason = reason[:10000]
    exception.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    if exception.finding_id:
        finding_comment_record(finding_id=exception.finding_id, actor=actor, text=message)
    PolicyEvent.objects.create(
        kind=PolicyEvent.Kind.EXCEPTION_REJECTED,
        team_id=exception.team_id,
        exception=exception,
        policy_id=exception.policy_id,
        message=message,
        **actor_fields(actor),
    )
    exception_id = exception.pk
    transaction.on_commit(lambda: exception_decided_notify_task.delay(exception_id))
    return exception


def exceptions_expire(*, now: datetime | None = None) -> list[int]:
    """End every requested or approved exception whose time is up. An approved one's finding,
    if still ``risk_accepted``, is reopened with an event. Returns the affected model ids:
    their gates change with it (gates are computed on read, so nothing else to update)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            RiskException.objects.select_for_update()
            .filter(status__in=RiskException.PENDING_OR_ACTIVE, expires_at__lte=now)
            .select_related("model").order_by("id")
        )  # fmt: skip
        if not due:
            return []
        accepted = {
            e.finding_id: e
            for e in due
            if e.status == RiskException.Status.APPROVED and e.finding_id
        }
        reopened = findings_reopen(
            reasons={
                pk: f"exception #{e.pk} expired on {e.expires_at:%Y-%m-%d %H:%M} UTC"
                for pk, e in accepted.items()
            },
            from_status=Status.RISK_ACCEPTED,
        )
        events = []
        for exception in due:
            was = exception.status
            events.append(PolicyEvent(
                kind=PolicyEvent.Kind.EXCEPTION_EXPIRED, team_id=exception.team_id,
                exception=exception, policy_id=exception.policy_id, actor_label="system",
                message=f"exception #{exception.pk} for {exception.subject} of "
                f"{exception.model.name} expired ({was})"
                + ("; finding reopened" if exception.finding_id in reopened else ""),
            ))  # fmt: skip
        RiskException.objects.filter(pk__in=[e.pk for e in due]).update(
            status=RiskException.Status.EXPIRED, ended_at=now
        )
        PolicyEvent.objects.bulk_create(events)
        model_ids = sorted({e.model_id for e in due})
        gate_stamps_bump(model_ids=model_ids)
        exceptions_expired_publish(exceptions=due)  # the teams' channels (statuses as they were)
        expired_ids = [e.pk for e in due]
        transaction.on_commit(
            lambda: exceptions_expired_notify_task.delay(expired_ids, list(reopened))
        )
    logger.info("expired %d exception(s); gates changed for models %s", len(due), model_ids)
    return model_ids


# --- verdict history -------------------------------------------------------------------------


def verdict_record(
    *, version: ModelVersion, result: GateResult, source: str
) -> VerdictRecord | None:
    """Remember ``result`` as the version's verdict when it differs from the last one
    recorded (one read; a write only on a change). Returns the new row, or None."""
    last = (
        VerdictRecord.objects.filter(version=version)
        .order_by("-created_at", "-id")
        .values_list("verdict", flat=True)
        .first()
    )
    if last == result.verdict:
        return None
    return VerdictRecord.objects.create(
        team_id=version.model.team_id,
        model_id=version.model_id,
        version=version,
        verdict=result.verdict,
        reasons=[{"rule": r.rule, "verdict": r.verdict} for r in result.reasons],
        policy=result.policy[:140],
        source=source,
    )


def gate_evaluate_recorded(
    model: MLModel, version: ModelVersion | None, *, source: str
) -> GateResult:
    """The gate verdict, as :func:`~governance.policies.gate.gate_evaluate`, recorded in the
    version's verdict history (a model-wide verdict has no history)."""
    result = gate_evaluate(model, version)
    if version is not None:
        verdict_record(version=version, result=result, source=source)
    return result


def verdict_record_for(*, version_id: int, source: str) -> None:
    """Evaluate and record the verdict of a version by id (after a scan committed)."""
    version = ModelVersion.objects.select_related("model").filter(pk=version_id).first()
    if version is not None and version.retired_at is None:
        gate_evaluate_recorded(version.model, version, source=source)


#: At most this many exception requests at once (each is its own row, event and notice).
BULK_EXCEPTIONS_LIMIT = 500


def exceptions_request_bulk(
    *, actor: Any, findings: Any, justification: str, expires_at: datetime
) -> tuple[list[RiskException], dict[str, list[int]]]:
    """Request an exception for each finding of ``findings`` (already scoped to ``actor``),
    in one transaction: each is the request :func:`exception_request` makes, and one that it
    refuses (a viewer, a closed finding, one already pending or approved) is listed with its
    reason instead. Returns the requests made and the refusals (reason -> finding ids)."""
    if len(justification.strip()) < 10:
        raise ApplicationError("a justification of at least 10 characters is required")
    ids = list(findings.order_by("id").values_list("id", flat=True)[: BULK_EXCEPTIONS_LIMIT + 1])
    if len(ids) > BULK_EXCEPTIONS_LIMIT:
        raise ApplicationError(
            f"at most {BULK_EXCEPTIONS_LIMIT} exceptions are requested at once; "
            "narrow the selection"
        )
    made: list[RiskException] = []
    refused: dict[str, list[int]] = {}
    with transaction.atomic():
        for finding in Finding.objects.filter(pk__in=ids).select_related("model").order_by("id"):
            try:
                with transaction.atomic():  # a refusal undoes only its own request
                    made.append(
                        exception_request(
                            actor=actor,
                            finding=finding,
                            justification=justification,
                            expires_at=expires_at,
                        )
                    )
            except ApplicationError as exc:
                reason = re.sub(r"#\d+", "#…", exc.message)
                refused.setdefault(reason, []).append(finding.pk)
    return made, refused
