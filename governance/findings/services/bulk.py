"""Bulk triage: one decision applied to many findings in one transaction, with one audit
event per finding changed, and an account of what was refused and why."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance.accounts.models import Membership, Role
from governance.accounts.selectors import has_role
from governance.findings.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingOccurrence,
    Status,
)
from governance.findings.services.triage import REASON_REQUIRED
from governance.inventory.services import gate_stamps_bump
from governance.lib.actors import actor_fields
from governance.lib.api_errors import ApplicationError

#: At most this many findings per bulk action (one transaction holds their row locks).
BULK_LIMIT = 20_000
_CHUNK = 2000


@dataclass
class BulkResult:
    """What a bulk action did: ids changed, left as they were (with why) and refused (why)."""

    changed: list[int] = field(default_factory=list)
    unchanged: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    refused: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    events: int = 0

    @property
    def total(self) -> int:
        return (
            len(self.changed)
            + sum(map(len, self.unchanged.values()))
            + sum(map(len, self.refused.values()))
        )

    def summary(self) -> str:
        parts = [f"Changed {len(self.changed)} of {self.total} finding(s)"]
        same = sum(map(len, self.unchanged.values()))
        if same:
            parts.append(f"{same} already as asked")
        refused = sum(map(len, self.refused.values()))
        if refused:
            parts.append(f"{refused} refused")
        return "; ".join(parts) + "."

    def refusal_lines(self) -> list[str]:
        lines = []
        for why, ids in [*self.refused.items(), *self.unchanged.items()]:
            shown = ", ".join(f"#{i}" for i in ids[:10]) + (" …" if len(ids) > 10 else "")
            lines.append(f"{len(ids)} finding(s): {why} ({shown})")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": len(self.changed),
            "changed_ids": self.changed[:1000],
            "events": self.events,
            "unchanged": [
                {"reason": why, "count": len(ids), "ids": ids[:1000]}
                for why, ids in self.unchanged.items()
            ],
            "refused": [
                {"reason": why, "count": len(ids), "ids": ids[:1000]}
                for why, ids in self.refused.items()
            ],
            "summary": self.summary(),
        }


def _assignee_for(username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApplicationError(f"no user {username!r}")
    return user


@transaction.atomic
def findings_bulk_triage(
    *,
    user: Any,
    findings_qs: QuerySet[Finding],
    status: str | None = None,
    reason: str = "",
    assignee_username: str | None = None,
) -> BulkResult:
    """Set ``status`` (with ``reason``) and/or assign (``assignee_username``; "" unassigns,
    None leaves it) on every finding of ``findings_qs`` (already scoped to ``user``), as the
    one-at-a-time triage would: viewers change nothing, only leads accept a risk, false
    positives and accepted risks need a reason, an assignee must be a member or lead of the
    finding's team. One transaction; one FindingEvent per change; the gates of the models
    touched move on."""
    if status is None and assignee_username is None:
        raise ApplicationError("nothing to do: give a status (with a reason) or an assignee")
    reason = reason.strip()
    if status is not None:
        if status not in Status.values:
            raise ApplicationError(
                f"unknown status {status!r}; use one of {', '.join(Status.values)}"
            )
        if status in REASON_REQUIRED and not reason:
            raise ApplicationError(f"a reason is required to mark findings {status}")
    assignee = _assignee_for(assignee_username) if assignee_username else None
    ids = list(findings_qs.order_by("id").values_list("id", flat=True)[: BULK_LIMIT + 1])
    if len(ids) > BULK_LIMIT:
        raise ApplicationError(
            f"this matches more than {BULK_LIMIT:,} findings; narrow the filter and repeat"
        )
    assignable: set[int] = set()
    if assignee is not None:
        assignable = set(
            Membership.objects.filter(user=assignee)
            .exclude(role=Role.VIEWER)
            .values_list("team_id", flat=True)
        )
    result = BulkResult()
    now = timezone.now()
    events: list[FindingEvent] = []
    by_status: dict[str, list[int]] = defaultdict(list)  # old status -> ids moving
    assigned: list[int] = []
    model_ids: set[int] = set()
    who = actor_fields(user)
    for start in range(0, len(ids), _CHUNK):
        rows = list(
            Finding.objects.select_for_update(of=("self",))
            .filter(pk__in=ids[start : start + _CHUNK])
            .select_related("assignee", "team")
            .order_by("id")
            .only("id", "team_id", "team__name", "model_id", "status", "assignee__username")
        )
        for f in rows:
            if not has_role(user, f.team_id, "member"):
                result.refused[
                    f"you are a viewer in {f.team.name}: viewers cannot change findings"
                ].append(f.pk)
                continue
            if status == Status.RISK_ACCEPTED and not has_role(user, f.team_id, "lead"):
                result.refused[
                    f"only a lead of {f.team.name} can accept a risk; request an exception instead"
                ].append(f.pk)
                continue
            if assignee is not None and f.team_id not in assignable:
                result.refused[
                    f"{assignee.get_username()} is not a member or lead of {f.team.name}"
                ].append(f.pk)
                continue
            old_assignee = f.assignee.get_username() if f.assignee_id else ""  # type: ignore[union-attr]
            new_assignee = assignee.get_username() if assignee is not None else ""
            moves = status is not None and f.status != status
            reassigns = assignee_username is not None and old_assignee != new_assignee
            if not moves and not reassigns:
                label = (
                    Status(status).label.lower()
                    if status
                    else f"assigned to {new_assignee or 'nobody'}"
                )
                result.unchanged[f"already {label}"].append(f.pk)
                continue
            if moves:
                assert status is not None
                by_status[f.status].append(f.pk)
                model_ids.add(f.model_id)
                events.append(FindingEvent(
                    finding_id=f.pk, kind=FindingEvent.Kind.STATUS, from_value=f.status,
                    to_value=status, reason=reason[:10000], **who,
                ))  # fmt: skip
            if reassigns:
                assigned.append(f.pk)
                events.append(FindingEvent(
                    finding_id=f.pk, kind=FindingEvent.Kind.ASSIGN, from_value=old_assignee,
                    to_value=new_assignee, reason=reason[:10000] if not moves else "", **who,
                ))  # fmt: skip
            result.changed.append(f.pk)
    if status is not None:
        resolved = status == Status.RESOLVED
        for old, moved in by_status.items():
            for start in range(0, len(moved), _CHUNK):
                chunk = moved[start : start + _CHUNK]
                Finding.objects.filter(pk__in=chunk).update(
                    status=status,
                    resolved_at=now if resolved else None,
                    resolution=Finding.Resolution.CLOSED if resolved else "",
                    updated_at=now,
                )
                if old == Status.RESOLVED and status in ACTIVE_STATUSES:
                    FindingOccurrence.objects.filter(
                        finding_id__in=chunk, state=FindingOccurrence.State.FIXED
                    ).update(
                        state=FindingOccurrence.State.ACTIVE, closed_at=None, closed_by_scan=None
                    )
    for start in range(0, len(assigned), _CHUNK):
        Finding.objects.filter(pk__in=assigned[start : start + _CHUNK]).update(
            assignee=assignee, updated_at=now
        )
    FindingEvent.objects.bulk_create(events, batch_size=_CHUNK)
    result.events = len(events)
    if model_ids:
        gate_stamps_bump(model_ids=sorted(model_ids))
    return result
