"""Writes of the metrics app: the daily posture rollup."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from governance.findings.models import ACTIVE_STATUSES, Finding
from governance.metrics.models import PostureDay, PostureSnapshot


def posture_snapshot_take(*, day: date) -> int:
    """Record, for ``day``, the active findings of every model by severity and category.

    open_count = #findings with status in ACTIVE_STATUSES (open, confirmed, in progress);
    overdue_count = those of them with ``sla_due < day``. One aggregate query, one delete and
    one bulk insert in a transaction: running it again on the same day replaces that day's
    rows (the hourly beat run keeps today current), other recent days are never touched.
    Days older than ``WARDEN_POSTURE_RETENTION_DAYS`` are dropped in the same transaction (the
    dashboard reads 90). Returns the number of rows written.
    """
    groups = (
        Finding.objects.filter(status__in=ACTIVE_STATUSES)
        .order_by()
        .values("team_id", "model_id", "severity", "category")
        .annotate(open_count=Count("id"), overdue_count=Count("id", filter=Q(sla_due__lt=day)))
    )
    rows = [PostureSnapshot(day=day, **group) for group in groups]
    with transaction.atomic():
        PostureSnapshot.objects.filter(day=day).delete()
        PostureSnapshot.objects.bulk_create(rows, batch_size=5000)
        PostureDay.objects.update_or_create(day=day, defaults={"taken_at": timezone.now()})
        oldest = day - timedelta(days=settings.WARDEN_POSTURE_RETENTION_DAYS)
        PostureSnapshot.objects.filter(day__lt=oldest).delete()
        PostureDay.objects.filter(day__lt=oldest).delete()
    return len(rows)
