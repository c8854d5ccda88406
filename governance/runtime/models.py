"""What production sees: runtime events (append-only, built for volume), their hourly rollup,
the state of alert rules per deployment, and the last Prometheus scrape of each counter."""

from __future__ import annotations

from django.db import models

from governance.accounts.models import Team
from governance.inventory.models import Deployment, MLModel

#: What a runtime event reports: the warden.runtime/v1 kinds, plus requests and errors so a
#: rule can watch a rate ("errors above 5 % of requests for 15 minutes").
EVENT_KINDS = ("drift", "attack", "firewall_block", "anomaly", "error", "request")


class RuntimeEvent(models.Model):
    """One event a monitor, guardrail or firewall sent for a deployment.

    On PostgreSQL the table is partitioned by ``time`` (one partition a day, created ahead and
    dropped after ``WARDEN_EVENT_RETENTION_DAYS`` by a beat task, see
    :mod:`governance.runtime.partitions`), so the primary key is ``(id, time)`` and Django
    does not manage the table: its migration creates it with SQL of each vendor. Rows are
    written with COPY and never updated.
    """

    id = models.BigIntegerField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.DO_NOTHING, db_constraint=False)
    model = models.ForeignKey(MLModel, on_delete=models.DO_NOTHING, db_constraint=False)
    deployment = models.ForeignKey(Deployment, on_delete=models.DO_NOTHING, db_constraint=False)
    time = models.DateTimeField()
    kind = models.CharField(max_length=16)
    rule = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=1)
    severity = models.CharField(max_length=8, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "runtime_event"
        ordering = ["-time"]

    def __str__(self) -> str:
        return f"{self.kind} {self.rule} x{self.count} at {self.time:%Y-%m-%d %H:%M}"


class EventRollup(models.Model):
    """Events of one deployment, kind and rule in one hour: what charts and day-scale alert
    rules read instead of the raw events. Upserted (added to) with every batch."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="event_rollups", db_index=False
    )
    hour = models.DateTimeField()
    kind = models.CharField(max_length=16)
    rule = models.CharField(max_length=200)
    count = models.PositiveBigIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "kind", "rule", "hour"], name="eventrollup_unique"
            )
        ]
        indexes = [models.Index(fields=["team", "hour"], name="eventrollup_team_hour")]

    def __str__(self) -> str:
        return f"{self.deployment_id} {self.kind}/{self.rule} {self.hour:%Y-%m-%d %H}: {self.count}"


class AlertState(models.Model):
    """Where one alert rule of the policy stands for one deployment: firing since when, when
    its condition last held, and the window's figures at the last evaluation."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="alerts")
    rule_id = models.CharField(max_length=80)
    firing_since = models.DateTimeField(null=True, blank=True)
    last_true_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    figures = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "rule_id"], name="alertstate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id}/{self.rule_id}: {'firing' if self.firing_since else 'ok'}"


class PrometheusCounter(models.Model):
    """The last value seen of one firewall counter of a deployment: the next scrape's events
    are the difference (a smaller value means the counter was reset: it counts from zero)."""

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="prometheus_counters"
    )
    series = models.CharField(max_length=64)  # sha256 of the metric name and labels
    value = models.FloatField()
    scraped_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "series"], name="promcounter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id} {self.series[:12]}: {self.value}"
