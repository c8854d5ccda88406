from __future__ import annotations

from django.db import models

from governance.evidence.models import ScanRun

#: Bytes per stored piece of a queued report: the web process holds one piece at a time,
#: whatever the report's size (a 200 MB report is 25 rows, never 200 MB in memory).
REPORT_CHUNK_BYTES = 8 * 1024 * 1024


class ReportUpload(models.Model):
    """One piece (``seq`` 0, 1, …) of the bytes of a report waiting for an async import. Kept
    in the database (not a local disk) so any worker on any machine can import it; deleted
    when the import commits."""

    scan_run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="uploads")
    seq = models.PositiveIntegerField(default=0)
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scan_run", "seq"], name="reportupload_run_seq_uniq")
        ]

    def __str__(self) -> str:
        return f"upload for scan {self.scan_run_id} (piece {self.seq})"
