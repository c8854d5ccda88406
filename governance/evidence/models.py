"""Evidence: what was scanned, when, by which tool, and what it looked at.

A :class:`ScanRun` is one imported report or one native scan. Findings (the ``findings`` app)
and verdicts (``policies``) stand on these rows; the import pipeline (``ingest``) writes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.accounts.models import ApiToken, Team
from governance.inventory.models import MLModel, ModelVersion
from governance.vocabulary import CATEGORY_CHOICES


class ScanRun(models.Model):
    """One imported report (or one native scan) for a model and optionally a version."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="scan_runs")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="scan_runs")
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="scan_runs"
    )
    tool = models.CharField(max_length=60, blank=True)
    tool_version = models.CharField(max_length=60, blank=True)
    scan_type = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=16, choices=CATEGORY_CHOICES, blank=True)
    report_sha256 = models.CharField(max_length=64)
    report_size = models.BigIntegerField(default=0)
    report_name = models.CharField(max_length=255, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    branch = models.CharField(max_length=255, blank=True)
    pipeline_url = models.URLField(max_length=1000, blank=True)
    environment = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL)
    count_total = models.PositiveIntegerField(default=0)
    count_new = models.PositiveIntegerField(default=0)
    count_unchanged = models.PositiveIntegerField(default=0)
    count_reopened = models.PositiveIntegerField(default=0)
    count_resolved = models.PositiveIntegerField(default=0)
    count_passed = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "ingest_scanrun"  # moved from ingest; the table kept its name
        ordering = ["-created_at", "-id"]
        constraints = [
            # Idempotency: the same report for the same model and version is one ScanRun.
            models.UniqueConstraint(
                fields=["model", "version", "report_sha256"],
                condition=models.Q(version__isnull=False),
                name="scanrun_unique_report_per_version",
            ),
            models.UniqueConstraint(
                fields=["model", "report_sha256"],
                condition=models.Q(version__isnull=True),
                name="scanrun_unique_report_unversioned",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="scanrun_team_created"),
            models.Index(fields=["model", "tool", "-created_at"], name="scanrun_model_tool"),
            models.Index(fields=["version", "category"], name="scanrun_version_category"),
        ]

    def __str__(self) -> str:
        return f"{self.tool or self.scan_type} scan #{self.pk} of {self.model_id}"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "total": self.count_total,
            "new": self.count_new,
            "unchanged": self.count_unchanged,
            "reopened": self.count_reopened,
            "resolved": self.count_resolved,
            "passed": self.count_passed,
        }


class CheckResult(models.Model):
    """A check that ran and passed (assessments): evidence of coverage, not a problem."""

    scan_run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="passed_checks")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="passed_checks")
    fingerprint = models.CharField(max_length=64)
    tool = models.CharField(max_length=60)
    rule_id = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500)
    metric_name = models.CharField(max_length=200, blank=True)
    metric_value = models.FloatField(null=True, blank=True)
    metric_threshold = models.FloatField(null=True, blank=True)
    comparator = models.CharField(max_length=2, blank=True)
    sample_count = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "ingest_checkresult"
        indexes = [models.Index(fields=["model", "metric_name"], name="checkresult_model_metric")]

    def __str__(self) -> str:
        return self.title
