"""Thin tasks of the channels app: ids in, a service call out."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from governance.channels.services import (
    channel_digests_build,
    deliveries_sweep,
    delivery_attempt,
)


@shared_task(bind=True, acks_late=True, max_retries=None)
def delivery_send_task(self: Any, delivery_id: int) -> str:
    """Send one delivery; a transient failure retries with exponential backoff (the attempt
    count and the limit live on the delivery, so a redelivered message cannot exceed it)."""
    attempt = delivery_attempt(delivery_id=delivery_id)
    while attempt.retry_in is not None:
        if not self.request.is_eager:
            raise self.retry(countdown=attempt.retry_in)
        # eager (no broker): nothing to hand a delayed retry to, so retry in place; the
        # attempts limit on the delivery bounds the loop
        attempt = delivery_attempt(delivery_id=delivery_id)
    return attempt.status


@shared_task(acks_late=True)
def channel_digests_task() -> list[int]:
    """Beat, daily: each digest channel's waiting events in one message."""
    return channel_digests_build(today=timezone.localdate())


@shared_task(acks_late=True)
def deliveries_sweep_task() -> dict[str, int]:
    """Beat, every 5 minutes: deliveries the broker never took are handed over again."""
    return deliveries_sweep()
