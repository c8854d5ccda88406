from __future__ import annotations

from celery import shared_task

from governance.policies.services import exceptions_expire


@shared_task(acks_late=True)
def exceptions_expire_task() -> list[int]:
    """Beat, every 15 minutes: end exceptions whose time is up and reopen their findings.
    Returns the ids of the models whose gate changed. Idempotent."""
    return exceptions_expire()
