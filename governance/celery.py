"""The Celery app: JSON only, acks_late, time limits, and the beat schedule in one place."""

from __future__ import annotations

import json
import os
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


class JsonTask(Task):  # type: ignore[misc]
    """In eager mode (no broker) task arguments never cross a wire, so a non-JSON argument
    would only break in production. Round-trip them through JSON here so tests catch it."""

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        if self.app.conf.task_always_eager:
            args = json.loads(json.dumps(list(args or ())))
            kwargs = json.loads(json.dumps(dict(kwargs or {})))
        return super().apply_async(args, kwargs, **options)


app = Celery("governance", task_cls=JsonTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Nothing uploaded is lost: runs no worker finished are handed to a worker again.
    "requeue-stale-scan-runs": {
        "task": "governance.ingest.tasks.scan_runs_requeue_task",
        "schedule": 60.0,
    },
    # Runtime alert rules of deployments with fresh events or a rule firing.
    "alerts-sweep": {
        "task": "governance.runtime.tasks.alerts_sweep_task",
        "schedule": 60.0,
    },
    # The event table's partitions a week ahead, and the retention behind.
    "event-partitions": {
        "task": "governance.runtime.tasks.event_partitions_task",
        "schedule": crontab(hour=0, minute=10),
    },
    # Risk acceptances that expired go back to open and their gates are re-evaluated.
    "expire-exceptions": {
        "task": "governance.policies.tasks.exceptions_expire_task",
        "schedule": crontab(minute="*/15"),
    },
    # Channels: deployed versions whose gate turned to fail, or whose evidence went stale.
    "production-gates-watch": {
        "task": "governance.policies.tasks.production_gates_watch_task",
        "schedule": crontab(minute="*/15"),
    },
    # Channels: SLA clocks due soon or breached, exceptions ending within a week.
    "channel-clocks": {
        "task": "governance.policies.tasks.channel_clocks_task",
        "schedule": crontab(hour=6, minute=30),
    },
    # Channel deliveries the broker never took (it was down) go to a worker again.
    "channel-deliveries-sweep": {
        "task": "governance.channels.tasks.deliveries_sweep_task",
        "schedule": crontab(minute="*/5"),
    },
    # Channels in digest mode: the day's events in one message.
    "channel-digests": {
        "task": "governance.channels.tasks.channel_digests_task",
        "schedule": crontab(hour=7, minute=30),
    },
    # The dashboard's trend: today's active findings per model, severity and category.
    "posture-snapshot": {
        "task": "governance.metrics.tasks.posture_snapshot_task",
        "schedule": crontab(minute=5),
    },
    # Each assignee's findings past due or due within a week, one mail a day.
    "sla-digest": {
        "task": "governance.policies.notify.sla_digest_task",
        "schedule": crontab(hour=7, minute=0),
    },
}
