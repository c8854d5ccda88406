"""Remediation clocks: days allowed per severity, and the due date they give.

A finding's due date is ``date(first_seen) + days`` for its severity under the policy that
governs its model, set when it is first seen, recomputed when its severity changes (import) or
when the governing policy's SLA changes (:mod:`governance.policies.services` keeps stored due
dates in step with policy edits).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from governance.inventory.models import MLModel
from governance.policies.schema import DEFAULT_SLA_DAYS  # critical 7, high 30, medium 90, low 180
from governance.policies.selectors import policy_effective_for

__all__ = ["DEFAULT_SLA_DAYS", "sla_days_for_model", "sla_due"]


def sla_due(
    first_seen: datetime, severity: str, sla_days: dict[str, int | None] | None = None
) -> date | None:
    """Due date = date(first_seen) + SLA days for the severity; None when it has no clock."""
    days = (sla_days or DEFAULT_SLA_DAYS).get(severity)
    if days is None:
        return None
    return (first_seen + timedelta(days=days)).date()


def sla_days_for_model(model: MLModel) -> dict[str, int | None]:
    """SLA days of the policy governing ``model`` (one query). Look it up once per import."""
    return policy_effective_for(model).sla_days
