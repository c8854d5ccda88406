"""Thin tasks: ids in, mails out. Retried when the mail server is unreachable."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from governance.notifications import services

_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 60, "max_retries": 5}


@shared_task(**_RETRY)
def exception_requested_notify_task(exception_id: int) -> int:
    return services.exception_requested_notify(exception_id=exception_id)


@shared_task(**_RETRY)
def exception_decided_notify_task(exception_id: int) -> int:
    return services.exception_decided_notify(exception_id=exception_id)


@shared_task(**_RETRY)
def exceptions_expired_notify_task(
    exception_ids: list[int], reopened_finding_ids: list[int]
) -> int:
    return services.exceptions_expired_notify(
        exception_ids=exception_ids, reopened_finding_ids=reopened_finding_ids
    )


@shared_task(**_RETRY)
def sla_digest_task() -> int:
    """Beat, daily: each assignee's findings past due or due soon."""
    return services.sla_digest_send(today=timezone.localdate())
