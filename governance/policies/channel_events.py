"""Who hears what on a team's channels (Slack, webhooks, e-mail; delivered by
:mod:`governance.channels.services`). Each trigger names its event with a key that is the
same however often it is noticed, so a sweep that runs again, or two that race, announce it
once per channel:

- a new critical finding: ``finding-critical:<finding>`` (published by the import, in its
  transaction; an import with more than :data:`CRITICAL_EACH_LIMIT` new critical findings
  publishes one ``import-critical:<run>`` event instead);
- a deployed version's gate turning from pass (or warn) to fail:
  ``gate-fail:<version>:<when it turned>`` (the watch keeps the last verdict per version);
- a runtime alert rule starting to fire: ``runtime:<deployment>:<rule>:<firing since>``;
- an SLA due within :data:`SOON_DAYS` days (``sla-soon:<finding>:<due>``) or breached
  (``sla-breached:<finding>:<due>``);
- an approved exception expiring within 7 days (``exception-expiring:<id>:<expiry>``) and on
  expiry (``exception-expired:<id>``);
- required evidence of a deployed version going stale:
  ``evidence-stale:<version>:<rule>:<day it went stale>``.

"Deployed" (in production) means a deployment that has not ended.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.channels.models import Trigger
from governance.channels.services import (
    ChannelEvent,
    channel_events_publish,
    channels_listening,
)
from governance.evidence.models import ScanRun
from governance.findings.models import ACTIVE_STATUSES, Finding, Severity
from governance.inventory.models import Deployment, ModelVersion
from governance.policies.gate import gate_evaluate
from governance.policies.models import GateWatch, RiskException

logger = logging.getLogger(__name__)

CRITICAL_EACH_LIMIT = 20
SOON_DAYS = 7
#: Most SLA events one team gets from one sweep (the rest come with the next one).
SLA_EVENTS_LIMIT = 200
STALE_PREFIX = "evidence too old"


def _model_url(model_id: int) -> str:
    return reverse("web:model", args=[model_id])


# -- critical findings (from the import) ---------------------------------------------------------


def findings_critical_publish(*, scan_run: ScanRun) -> int:
    """The run's new, active critical findings (call inside the import's transaction). One
    query when no channel of the team listens."""
    channels = channels_listening(team_id=scan_run.team_id, triggers={Trigger.CRITICAL_FINDING})
    if not channels:
        return 0
    found = list(
        Finding.objects.filter(
            first_scan=scan_run, severity=Severity.CRITICAL, status__in=ACTIVE_STATUSES
        )
        .select_related("model")
        .order_by("id")[: CRITICAL_EACH_LIMIT + 1]
    )
    if not found:
        return 0
    model = found[0].model
    version = scan_run.version
    where = model.name + (f"@{version.version}" if version is not None else "")
    if len(found) > CRITICAL_EACH_LIMIT:
        total = Finding.objects.filter(
            first_scan=scan_run, severity=Severity.CRITICAL, status__in=ACTIVE_STATUSES
        ).count()
        events = [
            ChannelEvent(
                trigger=Trigger.CRITICAL_FINDING,
                key=f"import-critical:{scan_run.pk}",
                title=f"{total} new critical findings in {where}",
                text=f"{scan_run.tool or scan_run.scan_type} reported them; first: "
                + "; ".join(f.title for f in found[:5]),
                url=_model_url(model.pk),
                severity="critical",
                data={"model": model.pk, "scan": scan_run.pk, "count": total},
            )
        ]
    else:
        events = [
            ChannelEvent(
                trigger=Trigger.CRITICAL_FINDING,
                key=f"finding-critical:{f.pk}",
                title=f"New critical finding in {where}: {f.title}",
                text=f"{f.tool}: {f.rule_id}"
                + (f". Fix: {f.remediation}" if f.remediation else ""),
                url=reverse("findings:detail", args=[f.pk]),
                severity="critical",
                data={"finding": f.pk, "model": model.pk, "scan": scan_run.pk},
            )
            for f in found
        ]
    return channel_events_publish(team_id=scan_run.team_id, events=events, channels=channels)


# -- runtime alert rules (from governance.runtime.alerts) ----------------------------------------


def runtime_alert_publish(
    *,
    deployment: Deployment,
    rule: dict[str, Any],
    title: str,
    figures: dict[str, Any],
    since: datetime,
) -> int:
    """A rule that started firing for ``deployment`` (call in the evaluation's transaction)."""
    event = ChannelEvent(
        trigger=Trigger.RUNTIME_ALERT,
        key=f"runtime:{deployment.pk}:{rule['id']}:{since.isoformat()}",
        title=title,
        text=f"rule {rule['id']} of the policy, deployment {deployment.pk} "
        f"({deployment.environment}); figures: {figures}",
        url=_model_url(deployment.model_id),
        severity=str(rule.get("severity", "")),
        data={"deployment": deployment.pk, "rule": rule["id"], "figures": figures},
    )
    return channel_events_publish(team_id=deployment.team_id, events=[event])


# -- the production gate watch (beat) ------------------------------------------------------------


def production_gates_watch(*, now: datetime | None = None) -> dict[str, int]:
    """Evaluate the gate of every deployed version; announce a turn from pass or warn to fail
    and evidence rules newly gone stale. Returns counts of what was announced."""
    now = now or timezone.now()
    version_ids = set(
        Deployment.objects.filter(until__isnull=True).values_list("version_id", flat=True)
    )
    versions = ModelVersion.objects.filter(pk__in=version_ids).select_related("model")
    watched = {w.version_id: w for w in GateWatch.objects.filter(version_id__in=version_ids)}
    counts = {"evaluated": 0, "gate_failed": 0, "evidence_stale": 0}
    for version in versions:
        model = version.model
        result = gate_evaluate(model, version, now=now)
        counts["evaluated"] += 1
        stale = sorted({r.rule for r in result.reasons if r.message.startswith(STALE_PREFIX)})
        events: list[ChannelEvent] = []
        with transaction.atomic():
            watch = watched.get(version.pk)
            before = watch.verdict if watch else None
            if watch is None:
                watch = GateWatch(version=version, team_id=model.team_id, changed_at=now)
            if before != result.verdict:
                watch.changed_at = now
            where = f"{model.name}@{version.version}"
            if before in ("pass", "warn") and result.verdict == "fail":
                failing = [r for r in result.reasons if r.verdict == "fail"]
                events.append(
                    ChannelEvent(
                        trigger=Trigger.GATE_FAILED,
                        key=f"gate-fail:{version.pk}:{now.isoformat()}",
                        title=f"Gate of {where} (deployed) turned from {before} to fail",
                        text="; ".join(r.message for r in failing[:5]),
                        url=_model_url(model.pk),
                        severity="high",
                        data={
                            "model": model.pk,
                            "version": version.version,
                            "rules": [r.rule for r in failing],
                        },
                    )
                )
                counts["gate_failed"] += 1
            for rule in sorted(set(stale) - set(watch.stale_rules if watch.pk else [])):
                reason = next(r for r in result.reasons if r.rule == rule)
                events.append(
                    ChannelEvent(
                        trigger=Trigger.EVIDENCE_STALE,
                        key=f"evidence-stale:{version.pk}:{rule}:{now.date().isoformat()}",
                        title=f"Required evidence of {where} (deployed) went stale",
                        text=reason.message + ". " + reason.fix,
                        url=_model_url(model.pk),
                        severity="medium",
                        data={"model": model.pk, "version": version.version, "rule": rule},
                    )
                )
                counts["evidence_stale"] += 1
            watch.verdict, watch.evaluated_at, watch.stale_rules = result.verdict, now, stale
            watch.save()
            channel_events_publish(team_id=model.team_id, events=events)
    return counts


# -- SLA clocks and exceptions (beat) ------------------------------------------------------------


def sla_clocks_publish(*, today: date) -> int:
    """Active findings due within :data:`SOON_DAYS` days, and those past due: one event each
    per due date (a due date that moves is a new clock)."""
    horizon = today + timedelta(days=SOON_DAYS)
    per_team: dict[int, list[ChannelEvent]] = {}
    findings = (
        Finding.objects.filter(status__in=ACTIVE_STATUSES, sla_due__lte=horizon)
        .select_related("model")
        .order_by("team_id", "sla_due", "id")
    )
    for f in findings:
        events = per_team.setdefault(f.team_id, [])
        due = f.sla_due
        if due is None or len(events) >= SLA_EVENTS_LIMIT:
            continue
        breached = due < today
        state = "breached" if breached else "soon"
        title = (
            f"SLA breached: {f.title} ({f.severity}, {f.model.name}) was due {due}"
            if breached
            else f"SLA due {due}: {f.title} ({f.severity}, {f.model.name})"
        )
        events.append(
            ChannelEvent(
                trigger=Trigger.SLA,
                key=f"sla-{state}:{f.pk}:{due.isoformat()}",
                title=title,
                url=reverse("findings:detail", args=[f.pk]),
                severity=f.severity,
                data={
                    "finding": f.pk,
                    "model": f.model_id,
                    "due": due.isoformat(),
                    "state": state,
                },
            )
        )
    published = 0
    for team_id, events in per_team.items():
        with transaction.atomic():
            published += channel_events_publish(team_id=team_id, events=events)
    return published


def _exception_event(exception: RiskException, *, expired: bool) -> ChannelEvent:
    what = f"exception #{exception.pk} for {exception.subject} of {exception.model.name}"
    if expired:
        return ChannelEvent(
            trigger=Trigger.EXCEPTION_EXPIRY,
            key=f"exception-expired:{exception.pk}",
            title=f"Expired: {what}",
            text="the risk it accepted counts again (its finding is open)",
            url=_model_url(exception.model_id),
            data={"exception": exception.pk, "model": exception.model_id, "state": "expired"},
        )
    return ChannelEvent(
        trigger=Trigger.EXCEPTION_EXPIRY,
        key=f"exception-expiring:{exception.pk}:{exception.expires_at.isoformat()}",
        title=f"Expires {exception.expires_at:%Y-%m-%d}: {what}",
        text="renew it, or remediate before it ends",
        url=_model_url(exception.model_id),
        data={
            "exception": exception.pk,
            "model": exception.model_id,
            "state": "expiring",
            "expires_at": exception.expires_at.isoformat(),
        },
    )


def exceptions_expiring_publish(*, now: datetime | None = None) -> int:
    """Approved exceptions that end within 7 days."""
    now = now or timezone.now()
    due = (
        RiskException.objects.filter(
            status=RiskException.Status.APPROVED,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=SOON_DAYS),
        )
        .select_related("model")
        .order_by("team_id", "id")
    )
    per_team: dict[int, list[ChannelEvent]] = {}
    for exception in due:
        per_team.setdefault(exception.team_id, []).append(
            _exception_event(exception, expired=False)
        )
    published = 0
    for team_id, events in per_team.items():
        with transaction.atomic():
            published += channel_events_publish(team_id=team_id, events=events)
    return published


def exceptions_expired_publish(*, exceptions: list[RiskException]) -> int:
    """Exceptions that just expired (call in the expiry's transaction)."""
    per_team: dict[int, list[ChannelEvent]] = {}
    for exception in exceptions:
        if exception.status != RiskException.Status.APPROVED:
            continue  # a request nobody decided in time: nothing was accepted
        per_team.setdefault(exception.team_id, []).append(_exception_event(exception, expired=True))
    return sum(
        channel_events_publish(team_id=team_id, events=events)
        for team_id, events in per_team.items()
    )
