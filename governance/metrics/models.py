"""Rollups the dashboards read instead of re-aggregating every finding's history."""

from __future__ import annotations

from django.db import models

from governance.accounts.models import Team
from governance.findings.models import Severity
from governance.inventory.models import MLModel
from governance.vocabulary import CATEGORY_CHOICES


class PostureSnapshot(models.Model):
    """Active findings of one model, severity and category, as counted on ``day``.

    Written set-based by :func:`governance.metrics.services.posture_snapshot_take` (hourly by
    beat: the last run of a day is that day's figure). History cannot be re-derived from the
    findings' current state (a finding resolved today was open last week), hence the rollup.
    Only non-zero groups are stored: a missing row means zero.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    category = models.CharField(max_length=16, choices=CATEGORY_CHOICES)
    open_count = models.PositiveIntegerField()
    overdue_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "day", "severity", "category"], name="posture_snapshot_unique"
            )
        ]
        # the dashboard's trend reads one team (or model) over a range of days
        indexes = [models.Index(fields=["team", "day"], name="posture_snapshot_team_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.model_id} {self.severity}/{self.category}: {self.open_count}"


class PostureDay(models.Model):
    """A day the posture rollup was taken: a day without one is a gap in the trend, not a
    day with zero findings."""

    day = models.DateField(unique=True)
    taken_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} (taken {self.taken_at:%Y-%m-%d %H:%M})"
