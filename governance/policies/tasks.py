"""Beat tasks of the policies app. The notification tasks live beside the messages they send
(:mod:`governance.policies.notify`); importing them here registers them with every worker,
since Celery's autodiscovery imports each app's ``tasks`` module."""

from __future__ import annotations

from celery import shared_task

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
]


@shared_task(acks_late=True)
def exceptions_expire_task() -> list[int]:
    """Beat, every 15 minutes: end exceptions whose time is up and reopen their findings.
    Returns the ids of the models whose gate changed. Idempotent."""
    return exceptions_expire()
