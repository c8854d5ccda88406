"""A finding's remediation due date: ``date(first_seen) + days`` for its severity.

The days come from the policy governing the finding's model (the ``policies`` app looks them
up and passes them in); ``None`` days mean no clock for that severity.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta


def sla_due(first_seen: datetime, severity: str, sla_days: dict[str, int | None]) -> date | None:
    """Due date = date(first_seen) + SLA days for the severity; None when it has no clock."""
    days = sla_days.get(severity)
    if days is None:
        return None
    return (first_seen + timedelta(days=days)).date()
