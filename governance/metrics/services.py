"""Writes of the metrics app: the daily posture rollup."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from governance.findings.models import ACTIVE_STATUSES, Finding, Status
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


def posture_backfill(*, today: date, days: int) -> int:
    """Rollups for the ``days`` days before ``today`` that have none, from the findings'
    dates: a finding counts as active on day D when it was first seen by the end of D and is
    still active now, or was resolved after D. (Triage states other than resolved carry no
    date, so a false positive or an accepted risk counts as inactive on every past day.)

    For data loaded after the fact (the demo's 90 days of history, an import of old
    reports); a day that already has its rollup is never touched. One aggregate query and
    one bulk insert per day. Returns the number of rows written.
    """
    written = 0
    taken = set(
        PostureDay.objects.filter(day__gte=today - timedelta(days=days), day__lt=today).values_list(
            "day", flat=True
        )
    )
    tz = timezone.get_current_timezone()
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        if day in taken:
            continue
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
        groups = (
            Finding.objects.filter(first_seen__lt=end)
            .filter(Q(status__in=ACTIVE_STATUSES) | Q(status=Status.RESOLVED, resolved_at__gte=end))
            .order_by()
            .values("team_id", "model_id", "severity", "category")
            .annotate(open_count=Count("id"), overdue_count=Count("id", filter=Q(sla_due__lt=day)))
        )
        rows = [PostureSnapshot(day=day, **group) for group in groups]
        with transaction.atomic():
            PostureSnapshot.objects.bulk_create(rows, batch_size=5000)
            PostureDay.objects.create(day=day, taken_at=end)
        written += len(rows)
    return written
