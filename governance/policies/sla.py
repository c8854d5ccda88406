"""Remediation clocks: days allowed per severity under the policy that governs a model.

A finding's due date is ``date(first_seen) + days`` for its severity
(:func:`governance.findings.sla.sla_due`), set when it is first seen, recomputed when its
severity changes (import) or when the governing policy's SLA changes
(:mod:`governance.policies.services` keeps stored due dates in step with policy edits).
"""

from __future__ import annotations

from datetime import date, datetime

from governance.findings.sla import sla_due as _sla_due
from governance.inventory.models import MLModel
from governance.policies.schema import DEFAULT_SLA_DAYS  # critical 7, high 30, medium 90, low 180
from governance.policies.selectors import policy_effective_for

__all__ = ["DEFAULT_SLA_DAYS", "sla_days_for_model", "sla_due"]


def sla_due(
    first_seen: datetime, severity: str, sla_days: dict[str, int | None] | None = None
) -> date | None:
    """Due date under ``sla_days`` (default: Warden's default SLA days)."""
    return _sla_due(first_seen, severity, sla_days or DEFAULT_SLA_DAYS)


def sla_days_for_model(model: MLModel) -> dict[str, int | None]:
    """SLA days of the policy governing ``model`` (one query). Look it up once per import."""
    return policy_effective_for(model).sla_days
