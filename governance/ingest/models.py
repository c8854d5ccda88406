from __future__ import annotations

from django.db import models

from governance.evidence.models import ScanRun


class ReportUpload(models.Model):
    """The bytes of a report waiting for an async import. Kept in the database (not a local
    disk) so any worker on any machine can import it; deleted when the import commits."""

    scan_run = models.OneToOneField(ScanRun, on_delete=models.CASCADE, related_name="upload")
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"upload for scan {self.scan_run_id}"
