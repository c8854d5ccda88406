"""Beat tasks of the policies app. The notification tasks live beside the messages they send
(:mod:`governance.policies.notify`); importing them here registers them with every worker,
since Celery's autodiscovery imports each app's ``tasks`` module."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from governance.policies.channel_events import (
    exceptions_expiring_publish,
    production_gates_watch,
    sla_clocks_publish,
)
from governance.policies.notify import (
    exception_decided_notify_task,
    exception_requested_notify_task,
    exceptions_expired_notify_task,
    sla_digest_task,
)
from governance.policies.services import exceptions_expire

__all__ = [
    "exception_decided_notify_task",
    "exception_requested_notify_task",
    "exceptions_expire_task",
    "exceptions_expired_notify_task",
    "sla_digest_task",
]  # and the channel triggers' sweeps below


@shared_task(acks_late=True)
def exceptions_expire_task() -> list[int]:
    """Beat, every 15 minutes: end exceptions whose time is up and reopen their findings.
    Returns the ids of the models whose gate changed. Idempotent."""
    return exceptions_expire()


@shared_task(acks_late=True)
def production_gates_watch_task() -> dict[str, int]:
    """Beat, every 15 minutes: deployed versions' gates; channels hear of a turn to fail and
    of evidence gone stale."""
    return production_gates_watch()


@shared_task(acks_late=True)
def channel_clocks_task() -> dict[str, int]:
    """Beat, daily: SLA clocks due soon or breached, exceptions ending within a week."""
    return {
        "sla": sla_clocks_publish(today=timezone.localdate()),
        "exceptions": exceptions_expiring_publish(),
    }
