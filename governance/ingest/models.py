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


class AssessmentUpload(models.Model):
    """The tables (and, for a model-based run, the uploaded model file) of a server-side
    assessment waiting for a worker, with the options of the run. Kept in the database like
    :class:`ReportUpload`, so any worker can run it; deleted when the run finishes."""

    scan_run = models.OneToOneField(
        ScanRun, on_delete=models.CASCADE, related_name="assessment_upload"
    )
    data = models.BinaryField()
    data_name = models.CharField(max_length=255, blank=True)
    reference = models.BinaryField(null=True, blank=True)
    reference_name = models.CharField(max_length=255, blank=True)
    #: An uploaded ONNX or skops file (its SHA-256 is a cleanly scanned artifact of the
    #: version); null when the run uses the version's artifact under WARDEN_ARTIFACT_ROOTS,
    #: or runs no model.
    model_file = models.BinaryField(null=True, blank=True)
    model_name = models.CharField(max_length=255, blank=True)
    #: label, prediction, score, sensitive, features, categorical, thresholds, options: JSON.
    options = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"assessment upload for scan {self.scan_run_id}"
