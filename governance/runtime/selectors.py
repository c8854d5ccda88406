"""Reads of the runtime app: a model's deployments and what production saw. Callers have
already checked the user may see the model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum

from governance.inventory.models import Deployment, MLModel
from governance.runtime.models import EventRollup

#: Deployments the model page lists: the running ones and the most recent ended ones.
RECENT_DEPLOYMENTS = 20


@dataclass(frozen=True)
class EventSeries:
    """Events per hour of one deployment and rule (``count`` summed: a batch of 7 blocks is
    7), every hour of the window (zero when none came)."""

    deployment: Deployment
    kind: str
    rule: str
    hours: list[datetime]
    counts: list[int]


def deployments_of_model(model: MLModel) -> list[Deployment]:
    """The running deployments first (newest first), then recent ended ones (one query)."""
    found = list(model.deployments.select_related("version").order_by("-since", "-id")[:200])
    running = [d for d in found if d.until is None]
    ended = [d for d in found if d.until is not None]
    return (running + ended)[: max(RECENT_DEPLOYMENTS, len(running))]


def event_rates(deployments: list[Deployment], *, now: datetime, hours: int) -> list[EventSeries]:
    """Hourly event counts per deployment, kind and rule over the last ``hours`` hours, from
    the hourly rollup (one query, whatever the number of events)."""
    if not deployments:
        return []
    by_id = {d.pk: d for d in deployments}
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    window = [first + timedelta(hours=i) for i in range(hours)]
    slot = {h: i for i, h in enumerate(window)}
    rows = (
        EventRollup.objects.filter(deployment_id__in=list(by_id), hour__gte=first)
        .order_by("deployment_id", "kind", "rule", "hour")
        .values("deployment_id", "kind", "rule", "hour")
        .annotate(n=Sum("count"))
    )
    series: dict[tuple[int, str, str], EventSeries] = {}
    for r in rows:
        key = (r["deployment_id"], r["kind"], r["rule"])
        if key not in series:
            series[key] = EventSeries(by_id[key[0]], key[1], key[2], window, [0] * hours)
        if r["hour"] in slot:
            series[key].counts[slot[r["hour"]]] += int(r["n"])
    return list(series.values())
