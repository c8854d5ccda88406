"""Thin Celery tasks: ids in, a service call, the run's status out.

Both imports are idempotent (the run row is locked and a run already done is left alone), so
a retried, redelivered or re-queued message never imports twice. Transient failures of the
database or the broker are retried with backoff; a run that still never finishes is handed to
a worker again by the re-queue sweep (:func:`governance.ingest.recovery.scan_runs_requeue_stale`).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.ingest.artifacts import artifact_scan_run
from governance.ingest.assessments import assessment_run
from governance.ingest.imports import scan_run_import_queued
from governance.ingest.recovery import scan_runs_requeue_claim
from governance.lib.queue import enqueue

logger = logging.getLogger(__name__)

#: Errors worth another try: the database or the network went away for a while.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
_RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": False,
    "max_retries": 8,
}


@shared_task(**_RETRY)
def scan_import_task(scan_run_id: int) -> str:
    """Import a queued report."""
    return scan_run_import_queued(scan_run_id=scan_run_id).status


@shared_task(**_RETRY)
def artifact_scan_task(scan_run_id: int) -> str:
    """Scan a model version's artifact (statically: nothing in it is loaded) and import."""
    return artifact_scan_run(scan_run_id=scan_run_id).status


@shared_task(**_RETRY)
def assessment_run_task(scan_run_id: int) -> str:
    """Run a server-side assessment (the model, if any, in the runner's limited subprocess)
    and import its document."""
    return assessment_run(scan_run_id=scan_run_id).status


@shared_task(acks_late=True)
def scan_runs_requeue_task() -> list[int]:
    """Beat, every minute: hand runs that no worker finished to a worker again."""
    imports, artifact_scans, assessments = scan_runs_requeue_claim()
    for run_id in imports:
        enqueue(scan_import_task, run_id)
    for run_id in artifact_scans:
        enqueue(artifact_scan_task, run_id)
    for run_id in assessments:
        enqueue(assessment_run_task, run_id)
    return imports + artifact_scans + assessments
