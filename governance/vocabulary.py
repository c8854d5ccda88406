"""The domain's shared words: evidence categories, severities and finding statuses.

Every app may import this module (it imports nothing of Warden's): one place for the values
that models, filters, gates and metrics agree on.
"""

from __future__ import annotations

from django.db import models

#: The supply-chain layers a scan or finding belongs to (and code findings).
CATEGORY_CHOICES = [
    ("dependency", "Dependency"),
    ("model_file", "Model file"),
    ("model_code", "Model code"),
    ("assessment", "Assessment"),
    ("runtime", "Runtime"),
    ("code", "Code"),
]
CATEGORIES: tuple[str, ...] = tuple(value for value, _ in CATEGORY_CHOICES)
CATEGORY_LABELS: dict[str, str] = dict(CATEGORY_CHOICES)


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"


#: Most severe first.
SEVERITIES: tuple[str, ...] = tuple(Severity.values)
SEVERITY_ORDER = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


class Status(models.TextChoices):
    OPEN = "open", "Open"
    CONFIRMED = "confirmed", "Confirmed"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    FALSE_POSITIVE = "false_positive", "False positive"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"
    #: The reporting tool's own analysis says the product is not affected (VEX).
    NOT_AFFECTED = "not_affected", "Not affected"


#: Statuses that count as "needs work": they fail gates and run SLA clocks.
ACTIVE_STATUSES = (Status.OPEN, Status.CONFIRMED, Status.IN_PROGRESS)
