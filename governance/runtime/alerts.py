"""Alert rules over a deployment's events (the ``alerts`` of the governing policy).

Three shapes, each over one deployment only (one deployment's events never touch another's
findings):

- ``more_than`` N events of ``rule`` (and ``kind``) ``within_minutes``: a burst of blocks;
- ``days_in_a_row``: events of ``rule`` on each of the last N days (UTC, today included):
  drift that does not go away;
- ``ratio_above`` r: count(``rule``) / count(``per``) ``within_minutes`` above r: an error
  rate. No denominator events: no rate, the rule does not fire.

``rule`` and ``per`` match event rules with ``*`` and ``?`` wildcards. A rule that fires
opens one runtime finding for the deployment (or updates its figures); it resolves itself
once the condition has been clear for ``quiet_minutes``. The evaluation is evidence like a
scan: a complete run of ``warden-alerts`` on the deployment's subject whose findings are the
rules firing, so what stops firing is closed by the usual reimport rule.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

import scanners
from governance.evidence.services import scan_run_create
from governance.ingest.imports import scan_run_import
from governance.inventory.models import Deployment
from governance.policies.channel_events import runtime_alert_publish
from governance.policies.selectors import policy_effective_for
from governance.runtime.models import AlertState, EventRollup
from governance.runtime.partitions import TABLE

ALERT_TOOL = "warden-alerts"


def _like(pattern: str) -> str:
    """A rule pattern with * and ? as a SQL LIKE pattern (LIKE's own wildcards escaped)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _events_sum(deployment_id: int, pattern: str, kind: str | None, since: datetime) -> int:
    sql = (
        f'SELECT COALESCE(SUM("count"), 0) FROM {TABLE} '  # noqa: S608 - fixed table name
        f"WHERE deployment_id = %s AND \"time\" > %s AND rule LIKE %s ESCAPE '\\'"
    )
    args: list[Any] = [deployment_id, since, _like(pattern)]
    if kind:
        sql += " AND kind = %s"
        args.append(kind)
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return int(cursor.fetchone()[0])


def _condition(
    deployment: Deployment, rule: dict[str, Any], now: datetime
) -> tuple[bool, dict[str, Any]]:
    """Whether ``rule`` holds for ``deployment`` at ``now``, and the figures that say so."""
    kind = rule.get("kind")
    if "days_in_a_row" in rule:
        days = rule["days_in_a_row"]
        today = now.astimezone(UTC).date()
        midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
        start = midnight - timedelta(days=days - 1)
        hours = EventRollup.objects.filter(
            deployment=deployment, hour__gte=start, rule__regex=_regex(rule["rule"])
        )
        if kind:
            hours = hours.filter(kind=kind)
        seen = {h.astimezone(UTC).date() for h in hours.values_list("hour", flat=True)}
        streak = 0
        for back in range(days):
            if today - timedelta(days=back) in seen:
                streak += 1
            else:
                break
        return streak >= days, {"days_in_a_row": streak, "needed": days}
    since = now - timedelta(minutes=rule["within_minutes"])
    count = _events_sum(deployment.pk, rule["rule"], kind, since)
    if "ratio_above" in rule:
        total = _events_sum(deployment.pk, rule["per"], None, since)
        ratio = count / total if total else 0.0
        held = bool(total) and ratio > rule["ratio_above"]
        return held, {"count": count, "per": total, "ratio": round(ratio, 6)}
    return count > rule["more_than"], {"count": count, "more_than": rule["more_than"]}


def _regex(pattern: str) -> str:
    """A rule pattern with * and ? as an anchored regular expression."""
    parts = (".".join(re.escape(p) for p in part.split("?")) for part in pattern.split("*"))
    return "^" + ".*".join(parts) + "$"


def _title(deployment: Deployment, rule: dict[str, Any], figures: dict[str, Any]) -> str:
    where = f"{deployment.model.name}@{deployment.version.version} in {deployment.environment}"
    if "days_in_a_row" in rule:
        what = f"'{rule['rule']}' events on {figures['days_in_a_row']} days in a row"
    elif "ratio_above" in rule:
        what = (
            f"'{rule['rule']}' at {figures['ratio']:.2%} of '{rule['per']}' in "
            f"{rule['within_minutes']} min (limit {rule['ratio_above']:.2%})"
        )
    else:
        what = (
            f"{figures['count']} '{rule['rule']}' events in {rule['within_minutes']} min "
            f"(limit {rule['more_than']})"
        )
    return f"alert {rule['id']} fired on {where}: {what}"


def alerts_evaluate(*, deployment: Deployment, now: datetime | None = None) -> list[str]:
    """Evaluate the alert rules of the policy governing the deployment's model; record the
    rules firing (or still within their quiet period) as the deployment's ``warden-alerts``
    evidence. Returns the ids of the rules firing."""
    now = now or timezone.now()
    deployment = Deployment.objects.select_related("model", "version").get(pk=deployment.pk)
    rules = policy_effective_for(deployment.model).document.get("alerts", [])
    with transaction.atomic():
        states = {
            s.rule_id: s
            for s in AlertState.objects.select_for_update().filter(deployment=deployment)
        }
        firing: list[tuple[dict[str, Any], dict[str, Any], datetime]] = []
        started: list[tuple[dict[str, Any], dict[str, Any], datetime]] = []
        changed = False
        for rule in rules:
            held, figures = _condition(deployment, rule, now)
            state = states.get(rule["id"]) or AlertState(deployment=deployment, rule_id=rule["id"])
            was_firing = state.firing_since is not None
            if held:
                state.last_true_at = now
                state.firing_since = state.firing_since or now
            elif (
                was_firing
                and state.last_true_at is not None
                and (now - state.last_true_at >= timedelta(minutes=rule["quiet_minutes"]))
            ):
                state.firing_since = None  # clear for the quiet period: it resolves
            changed |= was_firing != (state.firing_since is not None) or state.figures != figures
            state.figures = figures
            state.last_evaluated_at = now
            state.save()
            if state.firing_since is not None:
                firing.append((rule, figures, state.firing_since))
                if not was_firing:
                    started.append((rule, figures, state.firing_since))
        gone = set(states) - {r["id"] for r in rules}
        if gone:  # rules removed from the policy stop firing
            AlertState.objects.filter(deployment=deployment, rule_id__in=gone).delete()
            changed = changed or any(states[g].firing_since for g in gone)
        if changed:
            _record(deployment, firing, now)
        for rule, figures, since in started:  # the team's channels hear of it on commit
            runtime_alert_publish(
                deployment=deployment,
                rule=rule,
                title=_title(deployment, rule, figures),
                figures=figures,
                since=since,
            )
    return [rule["id"] for rule, _, _ in firing]


def _record(
    deployment: Deployment,
    firing: list[tuple[dict[str, Any], dict[str, Any], datetime]],
    now: datetime,
) -> None:
    report = scanners.Report(
        tool=ALERT_TOOL, tool_version="1", scan_type=ALERT_TOOL, category="runtime",
        target=deployment.environment,
    )  # fmt: skip
    for rule, figures, since in firing:
        report.findings.append(
            scanners.NormalizedFinding(
                fingerprint=hashlib.sha256(
                    f"{ALERT_TOOL}|{deployment.pk}|{rule['id']}".encode()
                ).hexdigest(),
                category="runtime",
                tool=ALERT_TOOL,
                rule_id=rule["id"],
                title=_title(deployment, rule, figures)[:500],
                severity=rule["severity"],
                metric_name="window_count",
                metric_value=float(figures.get("count", figures.get("days_in_a_row", 0))),
                remediation="look at the deployment's events for this rule; the finding "
                f"resolves itself after {rule['quiet_minutes']} quiet minutes",
                evidence={
                    "deployment": deployment.pk,
                    "environment": deployment.environment,
                    "endpoint": deployment.endpoint,
                    "rule": rule,
                    "figures": figures,
                    "firing_since": since.isoformat(),
                    "evaluated_at": now.isoformat(),
                },
            )
        )
    run = scan_run_create(
        team_id=deployment.team_id,
        model=deployment.model,
        version=deployment.version,
        scan_type=ALERT_TOOL,
        tool=ALERT_TOOL,
        report_sha256=f"alerts-{deployment.pk}-{uuid.uuid4().hex}"[:64],
        report_name=f"alert rules of deployment {deployment.pk}",
        environment=deployment.environment,
    )
    scan_run_import(scan_run=run, report=report, nul_free=True)


def alerts_due(*, now: datetime | None = None) -> list[int]:
    """Deployments the minute sweep evaluates: running ones with events in the last two
    minutes (a debounced batch may not have been evaluated) or with a rule firing (it may
    have gone quiet)."""
    now = now or timezone.now()
    recent = EventRollup.objects.filter(
        hour__gte=(now - timedelta(minutes=2)).replace(minute=0, second=0, microsecond=0),
        deployment__until__isnull=True,
    ).values_list("deployment_id", flat=True)
    firing = AlertState.objects.filter(firing_since__isnull=False).values_list(
        "deployment_id", flat=True
    )
    return sorted(set(recent) | set(firing))


def event_counts(deployment: Deployment, *, since: datetime) -> dict[str, Any]:
    """Hourly event counts per rule since ``since`` (for charts)."""
    rows = (
        EventRollup.objects.filter(deployment=deployment, hour__gte=since)
        .values("kind", "rule", "hour")
        .annotate(n=Sum("count"))
        .order_by("hour")
    )
    out: dict[str, Any] = {}
    for row in rows:
        out.setdefault(f"{row['kind']}:{row['rule']}", []).append((row["hour"], row["n"]))
    return out
