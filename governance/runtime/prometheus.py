"""An AI firewall's Prometheus counters as events: the difference between two scrapes.

Counters (``*_total``) are cumulative since the firewall process started, so a scrape's
events are what each counter grew since the deployment's previous scrape. A counter smaller
than before was reset (the process restarted): its whole value is new. The first scrape of a
series only records where it stands (nothing is known about before it).

Samples with a ``flagged`` label (the firewall's rule evaluations) become ``firewall_block``
events when flagged and ``request`` events otherwise, with the ``rule`` label as the rule
(``rule:validation_type`` when there is one), so an alert rule can watch blocks or a flagged
share. Other counters become ``request`` events named by the metric.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.inventory.models import Deployment
from governance.lib.api_errors import ApplicationError
from governance.runtime.events import events_ingest
from governance.runtime.models import PrometheusCounter
from scanners.findings import ReportError
from scanners.parsers.prometheus_firewall import parse_exposition

_TRUE = {"true", "1", "yes"}


def _series(name: str, labels: dict[str, str]) -> str:
    text = name + "{" + ",".join(f"{k}={labels[k]}" for k in sorted(labels)) + "}"
    return hashlib.sha256(text.encode()).hexdigest()


def _event(name: str, labels: dict[str, str]) -> tuple[str, str]:
    if "flagged" in labels:
        rule = labels.get("rule") or name
        if labels.get("validation_type"):
            rule = f"{rule}:{labels['validation_type']}"
        return ("firewall_block" if labels["flagged"].lower() in _TRUE else "request"), rule
    return "request", name.removesuffix("_total")


def prometheus_ingest(*, deployment: Deployment, text: str) -> dict[str, int]:
    """Turn one scrape into events for ``deployment``. Returns the events and series seen."""
    try:
        samples = [s for s in parse_exposition(text) if s.name.endswith("_total")]
    except ReportError as exc:
        raise ApplicationError(f"not a Prometheus text exposition: {exc}") from None
    if not samples:
        raise ApplicationError("no counters (*_total samples) in this scrape")
    now = timezone.now()
    with transaction.atomic():
        known = {
            c.series: c
            for c in PrometheusCounter.objects.select_for_update().filter(deployment=deployment)
        }
        events: list[dict[str, Any]] = []
        fresh: list[PrometheusCounter] = []
        for sample in samples:
            if sample.value != sample.value or sample.value < 0:  # NaN or nonsense: skip
                continue
            key = _series(sample.name, sample.labels)
            before = known.get(key)
            if before is None:
                fresh.append(
                    PrometheusCounter(
                        deployment=deployment, series=key, value=sample.value, scraped_at=now
                    )
                )
                continue
            delta = sample.value - before.value if sample.value >= before.value else sample.value
            before.value, before.scraped_at = sample.value, now
            if delta >= 1:
                kind, rule = _event(sample.name, sample.labels)
                events.append({"time": now.isoformat(), "kind": kind, "rule": rule[:200],
                               "count": int(delta)})  # fmt: skip
        PrometheusCounter.objects.bulk_create(fresh)
        PrometheusCounter.objects.bulk_update(list(known.values()), ["value", "scraped_at"])
        accepted = events_ingest(deployment=deployment, events=events) if events else 0
    return {"accepted": accepted, "series": len(samples), "new_series": len(fresh)}
