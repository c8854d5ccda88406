"""Rendered audit reports: a PDF of one model version's report, kept until replaced."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.accounts.models import Team
from governance.inventory.models import MLModel, ModelVersion


class ReportRender(models.Model):
    """One PDF rendering of a version's audit report. Small versions render in the request;
    large ones in a Celery task (the page shows "being generated" until it is done). The PDF
    is stored in the row: reports are small (tens to hundreds of kilobytes) and a backup of
    the database then holds the very document that was attached to a release."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="report_renders"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    size = models.PositiveIntegerField(default=0)
    #: The report's gate verdict when it was rendered (shown next to the download link).
    verdict = models.CharField(max_length=4, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]),
                name="reportrender_status_valid",
            )
        ]
        indexes = [models.Index(fields=["version", "-created_at"], name="reportrender_version")]

    def __str__(self) -> str:
        return f"report of {self.version_id} ({self.status})"

    @property
    def filename(self) -> str:
        stamp = f"{self.created_at:%Y%m%d-%H%M}" if self.created_at else "report"
        return f"audit-report-{self.model_id}-{self.version_id}-{stamp}.pdf"
