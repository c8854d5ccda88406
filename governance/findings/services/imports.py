"""A parsed report's findings, written for the subject its scan looked at.

Reimport semantics, per subject and tool family (the subject is what the scan looked at: an
artifact digest, a version's lockfile or image, a deployment):

- a finding in this report that is new to the model is created ``open`` (or in the state the
  tool itself decided, e.g. ``not_affected``); one that was ``resolved`` is reopened;
  ``false_positive`` and ``risk_accepted`` stay as the team decided;
- its occurrence in this subject, for this tool family, is active and last seen now;
- an active occurrence in the same subject, of the same family, that this report does not
  repeat is closed as fixed ("fixed, not seen in scan N") — only when the report is a complete
  analysis (not an SBOM without vulnerabilities, not a runtime batch), never for a package
  the tool could not audit, and never for model-file findings when the scan could not read
  the whole artifact;
- a finding with no active occurrence left is ``resolved`` (resolution ``fixed``): a scan of
  version 2 never resolves what version 1 still has, and ``prod-us`` never resolves
  ``prod-eu``.

Every import is one transaction with a fixed number of queries, whatever the report's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

import scanners
from governance.evidence.models import ScanRun, ScanSubject
from governance.findings.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingOccurrence,
    Status,
)
from governance.findings.sla import sla_due
from governance.findings.upsert import Sighting, findings_upsert
from governance.inventory.models import MLModel
from governance.inventory.services import gate_stamps_bump
from governance.lib.db import statistics_refresh_if_stale
from scanners.fingerprint import normalize_package
from scanners.parsers._modelfile_common import NOT_SCANNED

#: The columns filters, gates and joins plan on (sampled after a big import; see
#: :func:`governance.lib.db.statistics_refresh_if_stale`).
PLANNED_FINDING_COLUMNS = (
    "id", "team_id", "model_id", "version_id", "status", "severity", "category", "sla_due",
    "last_seen", "tools", "package",
)  # fmt: skip
PLANNED_OCCURRENCE_COLUMNS = ("finding_id", "subject_id", "tool_family", "state")

#: The tool decisions Warden keeps as a status (the vocabulary's not-active statuses).
_TOOL_STATES = {s: s for s in ("false_positive", "risk_accepted", "not_affected", "resolved")}


@dataclass(frozen=True)
class ImportCounts:
    total: int
    new: int
    unchanged: int
    reopened: int
    #: Occurrences in this subject closed because this report no longer has them.
    resolved: int


def _dumps(value: Any) -> str:
    if not value:  # most lists are empty: skip the encoder
        return "[]" if isinstance(value, list) else "{}"
    return orjson.dumps(value).decode()


def _not_audited_packages(report: scanners.Report) -> set[str]:
    """Normalized names of the dependencies the report lists as not audited (pip-audit's
    ``skip_reason``): their absence from the findings says nothing."""
    names: set[str] = set()
    for item in report.metadata.get("not_audited") or []:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name:
            names.add(normalize_package(name, "pypi"))
    return names


def findings_import_apply(
    *,
    scan_run: ScanRun,
    subject: ScanSubject,
    report: scanners.Report,
    tool: str,
    tool_family: str,
    sla_days: dict[str, int | None],
    now: datetime,
) -> ImportCounts:
    """Write ``report``'s findings for ``scan_run`` (of ``subject``) and close what the same
    family no longer reports in that subject. ``sla_days`` is the governing policy's SLA
    (the caller looks it up). One transaction; the model's imports run one at a time."""
    with transaction.atomic():
        # Serialize imports per model: reimport bookkeeping reads then writes the model's set.
        model = MLModel.objects.select_for_update().get(pk=scan_run.model_id)
        existing: dict[str, tuple[int, str, str, str]] = {
            fp: (pk, status, sev, tool_state)
            for fp, pk, status, sev, tool_state in Finding.objects.filter(model=model).values_list(
                "fingerprint", "id", "status", "severity", "tool_state"
            )
        }
        # A severity change moves the due date (first_seen + SLA of the new severity); only
        # then are first-seen times needed, so the common reimport reads narrow rows.
        first_seen_by_id: dict[int, Any] = {}
        if any(
            (prior := existing.get(f.fingerprint)) is not None and prior[2] != f.severity
            for f in report.findings
        ):
            first_seen_by_id = dict(
                Finding.objects.filter(model=model).values_list("id", "first_seen")
            )
        now_db = connection.ops.adapt_datetimefield_value(now)  # str on SQLite
        rows, counts, reopened_ids, decided = _build_rows(
            scan_run, model, report, existing, first_seen_by_id, tool, now, now_db, sla_days
        )
        findings_upsert(rows, Sighting(subject.pk, tool_family, scan_run.pk, now_db))
        events = _tool_decision_events(scan_run, model, tool, decided)

        where = subject.label
        events += [
            FindingEvent(
                finding_id=pk,
                kind=FindingEvent.Kind.STATUS,
                from_value=Status.RESOLVED,
                to_value=Status.OPEN,
                actor_label=f"scan:{scan_run.pk}",
                scan_run=scan_run,
                reason=f"seen again in scan {scan_run.pk} ({tool}) of {where}",
            )
            for pk in reopened_ids
        ]
        closed = 0
        if report.complete:
            closed, resolved = _close_absent(scan_run, subject, report, tool_family, now)
            events += [
                FindingEvent(
                    finding_id=pk,
                    kind=FindingEvent.Kind.STATUS,
                    from_value=status,
                    to_value=Status.RESOLVED,
                    actor_label=f"scan:{scan_run.pk}",
                    scan_run=scan_run,
                    reason=f"fixed, not seen in scan {scan_run.pk} ({tool}) of {where}",
                )
                for pk, status in resolved
            ]
        FindingEvent.objects.bulk_create(events, batch_size=2000)
        gate_stamps_bump(model_ids=[model.pk])
        # A big import into a table whose planner statistics predate it: refresh them as
        # soon as the rows are visible, before anyone plans a gate on them.
        grown = {
            Finding._meta.db_table: (counts["new"], PLANNED_FINDING_COLUMNS),
            FindingOccurrence._meta.db_table: (counts["total"], PLANNED_OCCURRENCE_COLUMNS),
        }
        transaction.on_commit(lambda: statistics_refresh_if_stale(grown))
    return ImportCounts(
        total=counts["total"],
        new=counts["new"],
        unchanged=counts["unchanged"],
        reopened=counts["reopened"],
        resolved=closed,
    )


def _close_absent(
    scan_run: ScanRun,
    subject: ScanSubject,
    report: scanners.Report,
    tool_family: str,
    now: datetime,
) -> tuple[int, list[tuple[int, str]]]:
    """Close the subject's active occurrences of this family that the report does not repeat;
    resolve the findings left with no active occurrence. Returns (occurrences closed,
    [(finding id, previous status)] resolved)."""
    # A package the tool says it could NOT audit is unknown, not fixed: keep its findings.
    # Likewise a model-file scan that could not read part of the artifact ("not-scanned")
    # proves nothing about the model-file (or model-code) findings it did not report.
    unaudited = _not_audited_packages(report)
    partial_model_scan = any(f.rule_id == NOT_SCANNED for f in report.findings)
    gone = FindingOccurrence.objects.filter(
        subject=subject, tool_family=tool_family, state=FindingOccurrence.State.ACTIVE
    ).exclude(last_scan_id=scan_run.pk)
    if partial_model_scan:
        gone = gone.exclude(finding__category__in=("model_file", "model_code"))
    if unaudited:
        keep = [
            pk
            for pk, package, ecosystem in gone.values_list(
                "id", "finding__package", "finding__ecosystem"
            )
            if normalize_package(package, ecosystem or "pypi") in unaudited
        ]
        gone = gone.exclude(pk__in=keep)
    closed = gone.update(
        state=FindingOccurrence.State.FIXED, closed_at=now, closed_by_scan_id=scan_run.pk
    )
    if not closed:
        return 0, []
    # Findings this closure left without an active occurrence anywhere; locked, and still
    # active when the lock is granted (a triage that committed meanwhile stands).
    still_seen = FindingOccurrence.objects.filter(
        finding=OuterRef("pk"), state=FindingOccurrence.State.ACTIVE
    )
    just_closed = FindingOccurrence.objects.filter(
        closed_by_scan_id=scan_run.pk, closed_at=now
    ).values("finding_id")
    resolved = list(
        Finding.objects.select_for_update()
        .filter(model_id=scan_run.model_id, status__in=ACTIVE_STATUSES, pk__in=just_closed)
        .filter(~Exists(still_seen))
        .values_list("id", "status")
    )
    ids = [pk for pk, _ in resolved]
    for start in range(0, len(ids), 5000):
        Finding.objects.filter(pk__in=ids[start : start + 5000]).update(
            status=Status.RESOLVED,
            resolution=Finding.Resolution.FIXED,
            resolved_at=now,
            updated_at=now,
        )
    return closed, resolved


#: A status the reporting tool set or lifted: (finding id, or fingerprint of a new finding,
#: from, to, why).
ToolDecision = tuple[int | str, str, str, str]


def _tool_decision_events(
    scan_run: ScanRun, model: MLModel, tool: str, decided: list[ToolDecision]
) -> list[FindingEvent]:
    """One event per status the tool's own decision changed (new findings' ids are read back
    after the upsert: one query, only when there are such findings)."""
    if not decided:
        return []
    new_fps = [ref for ref, *_ in decided if isinstance(ref, str)]
    ids = (
        dict(
            Finding.objects.filter(model=model, fingerprint__in=new_fps).values_list(
                "fingerprint", "id"
            )
        )
        if new_fps
        else {}
    )
    return [
        FindingEvent(
            finding_id=ids[ref] if isinstance(ref, str) else ref,
            kind=FindingEvent.Kind.STATUS,
            from_value=old,
            to_value=new,
            actor_label=f"scan:{scan_run.pk}",
            scan_run=scan_run,
            reason=why[:10000],
        )
        for ref, old, new, why in decided
        if not isinstance(ref, str) or ref in ids
    ]


def _build_rows(
    scan_run: ScanRun,
    model: MLModel,
    report: scanners.Report,
    existing: dict[str, tuple[int, str, str, str]],
    first_seen_by_id: dict[int, Any],
    tool: str,
    now: datetime,
    now_db: Any,
    sla_days: dict[str, int | None],
) -> tuple[list[tuple[Any, ...]], dict[str, int], list[int], list[ToolDecision]]:
    counts = {"total": 0, "new": 0, "unchanged": 0, "reopened": 0}
    reopened: list[int] = []
    decided: list[ToolDecision] = []
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    tools = f",{tool},"
    team_id, model_id, run_id = model.team_id, model.pk, scan_run.pk
    version_id = scan_run.version_id
    for f in report.findings:
        if f.fingerprint in seen:  # a parser may repeat one; the upsert needs unique keys
            continue
        seen.add(f.fingerprint)
        prior = existing.get(f.fingerprint)
        state = _TOOL_STATES.get(f.state, "")
        due = None  # kept as is by the upsert unless the row is new or changed severity
        said = f"{tool} reports it {state.replace('_', ' ')}" + (
            f": {f.justification}" if f.justification else ""
        )
        if prior is None:
            counts["new"] += 1
            due = sla_due(now, f.severity, sla_days)
            if state:
                decided.append((f.fingerprint, "", state, said))
        else:
            pk, status, old_sev, old_state = prior
            # The same rules as the upsert's (governance.findings.upsert): a tool's decision
            # moves open or resolved findings; dropping it reopens what it had set.
            if state and status in (Status.OPEN, Status.RESOLVED) and status != state:
                decided.append((pk, status, state, said))
                counts["unchanged"] += 1
            elif not state and old_state and status == old_state:
                counts["reopened"] += 1
                decided.append(
                    (pk, status, Status.OPEN, f"{tool} no longer reports it {old_state}")
                )
            elif status == Status.RESOLVED and not state:
                counts["reopened"] += 1
                reopened.append(pk)
            else:
                counts["unchanged"] += 1
            if old_sev != f.severity:  # the remediation clock follows the severity
                due = sla_due(first_seen_by_id[pk], f.severity, sla_days)
        counts["total"] += 1
        owasp = f.owasp_ml + f.owasp_llm
        rows.append(
            (
                team_id, model_id, version_id, f.fingerprint, f.category, tool, tools,
                f.rule_id[:300], f.title[:500] or f.rule_id[:500] or "(untitled)",
                f.description, f.severity, f.raw_severity[:40], f.cvss_score,
                f.cvss_vector[:200], f.vuln_id[:100], _dumps(f.aliases), f.package[:300],
                f.package_version[:100], f.fixed_version[:200], f.ecosystem[:40], f.purl[:500],
                f.file_path[:1000], f.archive_member[:1000], f.line, f.byte_offset,
                f.metric_name[:200], f.metric_value, f.metric_threshold, f.comparator[:2],
                f.sample_count, f.failure_count, _dumps(f.atlas), _dumps(owasp),
                _dumps(f.references), f.remediation, _dumps(f.evidence),
                state or Status.OPEN.value, "tool" if state == "resolved" else "", state,
                f.justification[:10000] if state else "", f.reachable,
                now_db, now_db, now_db if state == "resolved" else None,
                due.isoformat() if due else None, None, run_id, run_id, now_db,
            )
        )  # fmt: skip
    return rows, counts, reopened, decided
