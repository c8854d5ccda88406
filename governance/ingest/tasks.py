from __future__ import annotations

from celery import shared_task

from governance.ingest.artifacts import artifact_scan_run
from governance.ingest.imports import scan_run_import_queued


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(ConnectionError, TimeoutError, OSError),
    retry_backoff=True,
    max_retries=5,
)
def scan_import_task(self: object, scan_run_id: int) -> str:
    """Import a queued report. Idempotent: a retried or redelivered task finds the run done."""
    return scan_run_import_queued(scan_run_id=scan_run_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True, max_retries=3)
def artifact_scan_task(scan_run_id: int) -> str:
    """Scan a model version's artifact (statically: nothing in it is loaded) and import."""
    return artifact_scan_run(scan_run_id=scan_run_id).status
