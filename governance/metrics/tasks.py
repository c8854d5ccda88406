from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from governance.metrics.services import posture_snapshot_take


@shared_task(acks_late=True)
def posture_snapshot_task() -> int:
    """Hourly: today's posture rollup (the day's last run stands as its figure)."""
    return posture_snapshot_take(day=timezone.localdate())
