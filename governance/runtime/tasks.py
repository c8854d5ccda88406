"""Thin tasks of the runtime app: ids in, a service call out."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.inventory.models import Deployment
from governance.lib.queue import enqueue
from governance.runtime.alerts import alerts_due, alerts_evaluate
from governance.runtime.partitions import partitions_maintain


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, ConnectionError),
    retry_backoff=2,
    max_retries=5,
)
def alerts_evaluate_task(deployment_id: int) -> list[str]:
    """Evaluate one deployment's alert rules (after a batch of its events, or the sweep)."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is None:
        return []
    return alerts_evaluate(deployment=deployment)


@shared_task(acks_late=True)
def alerts_sweep_task() -> list[int]:
    """Beat, every minute: deployments with fresh events or a rule firing are evaluated, so
    an event becomes a finding within a minute and a quiet rule resolves."""
    due = alerts_due()
    for deployment_id in due:
        enqueue(alerts_evaluate_task, deployment_id)
    return due


@shared_task(acks_late=True)
def event_partitions_task() -> dict[str, int]:
    """Beat, daily: the event table's partitions ahead, and the retention behind."""
    return partitions_maintain()
