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
        indexes = [
            models.Index(fields=["team", "day"], name="posture_snapshot_team_day"),
            # the rollup replaces a day's rows and drops days past retention
            models.Index(fields=["day"], name="posture_snapshot_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model_id} {self.severity}/{self.category}: {self.open_count}"


class PostureDay(models.Model):
    """A day the posture rollup was taken: a day without one is a gap in the trend, not a
    day with zero findings."""

    day = models.DateField(unique=True)
    taken_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} (taken {self.taken_at:%Y-%m-%d %H:%M})"


class PostureTeamDay(models.Model):
    """Active findings of one team and severity on ``day``: the sums of that day's
    :class:`PostureSnapshot` rows, written with them, so a 90-day trend of 50 teams reads
    22,500 rows instead of millions."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    open_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "day", "severity"], name="posture_team_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.severity}: {self.open_count}"


class ModelPosture(models.Model):
    """The figures of one model as of ``day`` (a read-through cache of the dashboard): its
    active findings by layer and severity with their overdue counts, and the sums behind
    MTTR and SLA compliance over the remediation window, as
    :func:`governance.metrics.services.model_postures_current` computes them.

    Valid while ``stamp`` equals the model's gate stamp (moved on by every change to its
    findings, see :class:`governance.inventory.models.GateStamp`) and ``day`` is today: the
    overdue and window figures depend on the date, nothing else does."""

    model = models.OneToOneField(
        MLModel, on_delete=models.CASCADE, primary_key=True, related_name="posture"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    stamp = models.PositiveBigIntegerField()
    day = models.DateField()
    figures = models.JSONField()
    computed_at = models.DateTimeField()
    #: The day and stamp of the figures the daily rollup last wrote for this model: a
    #: rollup run rewrites only the models whose figures moved on since.
    rolled_day = models.DateField(null=True)
    rolled_stamp = models.PositiveBigIntegerField(null=True)

    def __str__(self) -> str:
        return f"posture of model {self.model_id} on {self.day} (stamp {self.stamp})"
