"""Triage writes. Each change is one transaction and one FindingEvent."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance.accounts.models import Membership
from governance.accounts.selectors import assignable_members, has_role
from governance.findings.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingOccurrence,
    Status,
)
from governance.inventory.services import gate_stamps_bump
from governance.lib.actors import actor_fields
from governance.lib.api_errors import ApplicationError

REASON_REQUIRED = (Status.FALSE_POSITIVE, Status.RISK_ACCEPTED)


def _require_member(actor: Any, finding: Finding) -> None:
    if not has_role(actor, finding.team_id, "member"):
        raise ApplicationError("viewers cannot change findings", status_code=403)


@transaction.atomic
def finding_triage(*, finding: Finding, actor: Any, status: str, reason: str = "") -> Finding:
    """Move a finding to ``status``. False positives and accepted risks need a reason; only a
    team lead may accept a risk directly (members request an exception instead)."""
    _require_member(actor, finding)
    if status not in Status.values:
        raise ApplicationError(f"unknown status {status!r}; use one of {', '.join(Status.values)}")
    reason = reason.strip()
    if status in REASON_REQUIRED and not reason:
        raise ApplicationError(f"a reason is required to mark a finding {status}")
    if status == Status.RISK_ACCEPTED and not has_role(actor, finding.team_id, "lead"):
        raise ApplicationError(
            "only a team lead can accept a risk; request an exception instead", status_code=403
        )
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.status == status:
        return finding
    old = finding.status
    finding.status = status
    finding.resolved_at = timezone.now() if status == Status.RESOLVED else None
    # A person closing it is a remediation they vouch for; any other status clears it.
    finding.resolution = Finding.Resolution.CLOSED if status == Status.RESOLVED else ""
    finding.save(update_fields=["status", "resolution", "resolved_at", "updated_at"])
    if old == Status.RESOLVED and status in ACTIVE_STATUSES:
        # A person says it is not fixed: it is back where scans last saw it (a retired
        # version stays retired).
        FindingOccurrence.objects.filter(
            finding=finding, state=FindingOccurrence.State.FIXED
        ).update(state=FindingOccurrence.State.ACTIVE, closed_at=None, closed_by_scan=None)
    FindingEvent.objects.create(
        finding=finding,
        kind=FindingEvent.Kind.STATUS,
        from_value=old,
        to_value=status,
        reason=reason,
        **actor_fields(actor),
    )
    gate_stamps_bump(model_ids=[finding.model_id])
    return finding


@transaction.atomic
def finding_assign(*, finding: Finding, actor: Any, assignee_username: str | None) -> Finding:
    """Assign to a member of the finding's team (or unassign with None/"")."""
    _require_member(actor, finding)
    assignee = None
    if assignee_username:
        assignee = get_user_model().objects.filter(username=assignee_username).first()
        if (
            assignee is None
            or not Membership.objects.filter(team_id=finding.team_id, user=assignee).exists()
        ):
            raise ApplicationError(f"{assignee_username!r} is not a member of this team")
        if not assignable_members(finding.team_id).filter(user=assignee).exists():
            raise ApplicationError(
                f"{assignee_username!r} is a viewer of this team (read only): assign a member "
                "or a lead"
            )
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    old = finding.assignee.get_username() if finding.assignee else ""
    new = assignee.get_username() if assignee else ""
    if old == new:
        return finding
    finding.assignee = assignee
    finding.save(update_fields=["assignee", "updated_at"])
    FindingEvent.objects.create(
        finding=finding,
        kind=FindingEvent.Kind.ASSIGN,
        from_value=old,
        to_value=new,
        **actor_fields(actor),
    )
    return finding


def finding_comment(*, finding: Finding, actor: Any, text: str) -> FindingEvent:
    _require_member(actor, finding)
    text = text.strip()
    if not text:
        raise ApplicationError("a comment needs text")
    return FindingEvent.objects.create(
        finding=finding,
        kind=FindingEvent.Kind.COMMENT,
        reason=text[:10000],
        **actor_fields(actor),
    )


def finding_comment_record(*, finding_id: int, actor: Any, text: str) -> FindingEvent:
    """A note on a finding's history written by another service on someone's behalf (an
    exception requested or rejected); the caller has checked who may act."""
    return FindingEvent.objects.create(
        finding_id=finding_id,
        kind=FindingEvent.Kind.COMMENT,
        reason=text[:10000],
        **actor_fields(actor),
    )
