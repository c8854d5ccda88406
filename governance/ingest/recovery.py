"""Nothing uploaded is lost: runs that no worker finished are handed to a worker again.

A run can be left unfinished when the broker was down as it was queued (the upload is stored
and answered ``queued``), when a worker died hard with the message, or when every retry of a
transient database failure ran out. The beat sweep (every minute) claims runs that have been
``queued`` or ``running`` for longer than their grace — ``WARDEN_REQUEUE_AFTER_SECONDS`` for
the first re-queue, doubling each time, and for a running run never less than the task time
limit — and hands them over again. Imports are idempotent, so a run handed over twice is
imported once. After ``MAX_ATTEMPTS`` the run is failed with the reason, so a report that
crashes every worker does not loop forever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.evidence.models import ScanRun
from governance.evidence.services import SERVER_ASSESSMENT_PREFIX
from governance.ingest.artifacts import SERVER_SCAN_PREFIX

MAX_ATTEMPTS = 8


def _grace(run: ScanRun) -> timedelta:
    base = timedelta(seconds=settings.WARDEN_REQUEUE_AFTER_SECONDS)
    grace: timedelta = base * (2 ** max(0, run.attempts - 1))
    if run.status == ScanRun.Status.RUNNING:
        grace = max(grace, timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60))
    return grace


def scan_runs_requeue_claim(
    *, now: datetime | None = None
) -> tuple[list[int], list[int], list[int]]:
    """Claim the stale runs for another attempt (their ``attempts`` and ``enqueued_at`` move
    on in the same transaction, so two sweeps never claim one run). Returns the ids to hand
    to the import task, to the artifact-scan task and to the assessment task; runs past
    :data:`MAX_ATTEMPTS` are failed instead."""
    now = now or timezone.now()
    oldest_grace = timedelta(seconds=settings.WARDEN_REQUEUE_AFTER_SECONDS)
    imports: list[int] = []
    scans: list[int] = []
    assessments: list[int] = []
    with transaction.atomic():
        candidates = (
            ScanRun.objects.select_for_update(skip_locked=True)
            .filter(status__in=[ScanRun.Status.QUEUED, ScanRun.Status.RUNNING])
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - oldest_grace))
            .order_by("id")[:500]
        )
        for run in candidates:
            if run.enqueued_at is not None and run.enqueued_at > now - _grace(run):
                continue
            if run.attempts >= MAX_ATTEMPTS:
                ScanRun.objects.filter(pk=run.pk).update(
                    status=ScanRun.Status.FAILED,
                    finished_at=now,
                    error=f"gave up after {run.attempts} attempts: no worker finished this "
                    "import (workers down, or the report crashes them); upload it again",
                )
                continue
            ScanRun.objects.filter(pk=run.pk).update(attempts=run.attempts + 1, enqueued_at=now)
            if run.report_sha256.startswith(SERVER_SCAN_PREFIX):
                scans.append(run.pk)
            elif run.report_sha256.startswith(SERVER_ASSESSMENT_PREFIX):
                assessments.append(run.pk)
            else:
                imports.append(run.pk)
    return imports, scans, assessments
