"""Report import: parse with ``scanners``, map to a model, upsert findings, close what is gone.

Reimport semantics, per model and tool:

- a finding in this report that is new is created ``open``; one that was ``resolved`` is
  reopened; ``false_positive`` and ``risk_accepted`` stay as the team decided;
- an active finding (open/confirmed/in_progress) last seen by an earlier run of the same tool
  on the same model, and absent from this report, is resolved ("fixed, not seen in scan N");
- the same vulnerability from two tools is one finding (same fingerprint) listing both tools.

Every import is one transaction with a fixed number of queries, whatever the report's size.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import scanners
from governance.accounts.models import ApiToken, Team
from governance.evidence.models import CheckResult, ScanRun
from governance.findings.models import ACTIVE_STATUSES, Finding, FindingEvent, Status
from governance.ingest.models import ReportUpload
from governance.ingest.upsert import findings_upsert
from governance.inventory.models import MLModel
from governance.inventory.services import model_get_or_create, version_get_or_create
from governance.lib.api_errors import ApplicationError
from governance.policies.sla import sla_days_for_model, sla_due
from scanners.fingerprint import normalize_package
from scanners.parsers._modelfile_common import NOT_SCANNED

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmitResult:
    scan_run: ScanRun
    created: bool  # False: this exact report was already imported for this model/version


def _dumps(value: Any) -> str:
    if not value:  # most lists are empty: skip the encoder
        return "[]" if isinstance(value, list) else "{}"
    return orjson.dumps(value).decode()


def report_submit(
    *,
    team: Team,
    model_name: str,
    data: bytes,
    filename: str = "",
    version: str = "",
    artifact_sha256: str = "",
    scan_type: str | None = None,
    commit: str = "",
    branch: str = "",
    pipeline_url: str = "",
    environment: str = "",
    user: Any = None,
    api_token: ApiToken | None = None,
    run_async: bool | None = None,
) -> SubmitResult:
    """Accept a report for a model. Idempotent on (model, version, report sha256). Small
    reports import now; large ones (or ``run_async=True``) are queued for a worker."""
    if len(data) > settings.WARDEN_MAX_REPORT_BYTES:
        raise ApplicationError(
            f"report is {len(data):,} bytes; the limit is {settings.WARDEN_MAX_REPORT_BYTES:,} "
            "(WARDEN_MAX_REPORT_BYTES)",
            status_code=413,
        )
    if not data.strip():
        raise ApplicationError("the report file is empty")
    if scan_type and scan_type not in scanners.PARSERS:
        raise ApplicationError(
            f"unknown scan_type {scan_type!r}; supported: {', '.join(scanners.PARSERS)}"
        )
    if artifact_sha256 and (
        len(artifact_sha256) != 64 or any(c not in "0123456789abcdef" for c in artifact_sha256)
    ):
        raise ApplicationError("artifact_sha256 must be 64 lower-case hex characters")
    if artifact_sha256 and not version.strip():
        raise ApplicationError("artifact_sha256 needs a version")
    digest = hashlib.sha256(data).hexdigest()
    if run_async is None:
        run_async = len(data) > settings.WARDEN_ASYNC_THRESHOLD_BYTES

    # Idempotency first: a re-posted report is answered from its first run without parsing.
    known = ScanRun.objects.filter(team=team, model__name=model_name.strip(), report_sha256=digest)
    if version.strip():
        known = known.filter(version__version=version.strip())
    else:
        known = known.filter(version__isnull=True)
    first_run = known.select_related("model", "version").first()
    if first_run is not None:
        return SubmitResult(first_run, created=False)

    report = None
    if not run_async:
        # Parse before opening the transaction: a bad report writes nothing, not even a model.
        report = _parse(data, filename, scan_type)

    with transaction.atomic():
        model, _ = model_get_or_create(team=team, name=model_name)
        model_version = None
        if version.strip():
            model_version = version_get_or_create(
                model=model, version=version, artifact_sha256=artifact_sha256
            )
        try:
            with transaction.atomic():
                scan_run = ScanRun.objects.create(
                    team=team,
                    model=model,
                    version=model_version,
                    scan_type=scan_type or (report.scan_type if report else ""),
                    report_sha256=digest,
                    report_size=len(data),
                    report_name=(filename or "").replace("\x00", "")[:255],
                    commit=commit[:64],
                    branch=branch[:255],
                    pipeline_url=pipeline_url[:1000],
                    environment=environment[:60],
                    created_by=user if getattr(user, "pk", None) else None,
                    api_token=api_token,
                    status=ScanRun.Status.QUEUED,
                )
        except IntegrityError:
            # The same report arrived concurrently and won the race (the check above ran
            # before either committed): answer with its run.
            existing = ScanRun.objects.get(model=model, version=model_version, report_sha256=digest)
            return SubmitResult(existing, created=False)
        if report is not None:
            scan_run_import(scan_run=scan_run, report=report, nul_free=_nul_free(data))
        else:
            ReportUpload.objects.create(scan_run=scan_run, data=data)
            from governance.ingest.tasks import scan_import_task

            run_id = scan_run.pk
            transaction.on_commit(lambda: scan_import_task.delay(run_id))
    scan_run.refresh_from_db()
    return SubmitResult(scan_run, created=True)


def _parse(data: bytes, filename: str, scan_type: str | None) -> scanners.Report:
    try:
        return scanners.parse(data, filename=filename or None, scan_type=scan_type or None)
    except scanners.ReportError as exc:
        raise ApplicationError(f"cannot import this report: {exc}") from exc


def scan_run_import_queued(*, scan_run_id: int) -> ScanRun:
    """Import a queued upload (the Celery task's body). Safe to retry: everything happens in
    one transaction that also marks the run done, so a killed worker leaves nothing half
    written, and a run already done is not imported twice."""
    # Visible progress first, in its own short transaction ("running" is only informative:
    # a retry of a run left "running" by a killed worker imports it again from scratch).
    ScanRun.objects.filter(pk=scan_run_id, status=ScanRun.Status.QUEUED).update(
        status=ScanRun.Status.RUNNING, started_at=timezone.now()
    )
    with transaction.atomic():
        scan_run = ScanRun.objects.select_for_update().get(pk=scan_run_id)
        if scan_run.status in (ScanRun.Status.DONE, ScanRun.Status.FAILED):
            return scan_run
        upload = ReportUpload.objects.filter(scan_run=scan_run).first()
        if upload is None:
            scan_run.status = ScanRun.Status.FAILED
            scan_run.error = "the uploaded report is missing"
            scan_run.save(update_fields=["status", "error"])
            return scan_run
        try:
            raw = bytes(upload.data)
            report = scanners.parse(
                raw,
                filename=scan_run.report_name or None,
                scan_type=scan_run.scan_type or None,
            )
        except scanners.ReportError as exc:
            scan_run.status = ScanRun.Status.FAILED
            scan_run.error = f"cannot import this report: {exc}"
            scan_run.finished_at = timezone.now()
            scan_run.save(update_fields=["status", "error", "finished_at"])
            upload.delete()
            return scan_run
        scan_run_import(scan_run=scan_run, report=report, nul_free=_nul_free(raw))
        upload.delete()
    scan_run.refresh_from_db()
    return scan_run


def _nul_free(data: bytes) -> bool:
    """True when no string parsed from ``data`` can hold a NUL character: no raw NUL byte and
    no JSON ``\\u0000`` escape (a C-speed scan of the bytes)."""
    return b"\x00" not in data and b"\\u0000" not in data


def _strip_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from every string (PostgreSQL text and jsonb
    cannot store them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    return value


def _report_strip_nul(report: scanners.Report) -> None:
    for f in [*report.findings, *report.passed]:
        for name in f.__slots__:
            value = getattr(f, name)
            if isinstance(value, str | list | dict):
                setattr(f, name, _strip_nul(value))
    report.metadata = _strip_nul(report.metadata)
    report.warnings = _strip_nul(report.warnings)
    report.tool, report.tool_version = _strip_nul(report.tool), _strip_nul(report.tool_version)


def scan_run_import(
    *, scan_run: ScanRun, report: scanners.Report, nul_free: bool = False
) -> ScanRun:
    """Write a parsed report's findings for the run's model. One transaction, fixed queries.

    ``nul_free=True`` promises no string in the report holds a NUL (see :func:`_nul_free`);
    otherwise every string is cleaned first, since the database cannot store NUL."""
    if not nul_free:
        _report_strip_nul(report)
    now = timezone.now()
    with transaction.atomic():
        # Serialize imports per model: reimport bookkeeping reads then writes the model's set.
        model = MLModel.objects.select_for_update().get(pk=scan_run.model_id)
        tool = (report.tool or report.scan_type)[:60]
        existing: dict[str, tuple[int, str, str]] = {
            fp: (pk, status, sev)
            for fp, pk, status, sev in Finding.objects.filter(model=model).values_list(
                "fingerprint", "id", "status", "severity"
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
        sla_days = sla_days_for_model(model)  # once per import: the governing policy's SLA
        rows, counts, reopened_ids = _build_rows(
            scan_run, model, report, existing, first_seen_by_id, tool, now, sla_days
        )
        findings_upsert(rows)

        events: list[FindingEvent] = [
            FindingEvent(
                finding_id=pk,
                kind=FindingEvent.Kind.STATUS,
                from_value=Status.RESOLVED,
                to_value=Status.OPEN,
                actor_label=f"scan:{scan_run.pk}",
                scan_run=scan_run,
                reason=f"seen again in scan {scan_run.pk} ({tool})",
            )
            for pk in reopened_ids
        ]
        # Gone since the last run of this tool: the fix landed.
        # A package the tool says it could NOT audit is unknown, not fixed: keep its findings.
        # Likewise a model-file scan that could not read part of the artifact ("not-scanned")
        # proves nothing about the model-file findings it did not report.
        unaudited = _not_audited_packages(report)
        partial_model_scan = any(f.rule_id == NOT_SCANNED for f in report.findings)
        gone = [
            (pk, status)
            for pk, status, package, ecosystem, category in Finding.objects.filter(
                model=model, status__in=ACTIVE_STATUSES, last_scan__tool=tool
            )
            .exclude(last_scan=scan_run)
            .values_list("id", "status", "package", "ecosystem", "category")
            if not (unaudited and normalize_package(package, ecosystem or "pypi") in unaudited)
            and not (partial_model_scan and category == "model_file")
        ]
        if gone:
            Finding.objects.filter(pk__in=[pk for pk, _ in gone]).update(
                status=Status.RESOLVED, resolved_at=now, updated_at=now
            )
            events += [
                FindingEvent(
                    finding_id=pk,
                    kind=FindingEvent.Kind.STATUS,
                    from_value=status,
                    to_value=Status.RESOLVED,
                    actor_label=f"scan:{scan_run.pk}",
                    scan_run=scan_run,
                    reason=f"fixed, not seen in scan {scan_run.pk} ({tool})",
                )
                for pk, status in gone
            ]
        FindingEvent.objects.bulk_create(events, batch_size=2000)
        CheckResult.objects.bulk_create(
            [
                CheckResult(
                    scan_run=scan_run,
                    model=model,
                    fingerprint=f.fingerprint,
                    tool=tool,
                    rule_id=f.rule_id[:300],
                    title=f.title[:500],
                    metric_name=f.metric_name[:200],
                    metric_value=f.metric_value,
                    metric_threshold=f.metric_threshold,
                    comparator=f.comparator[:2],
                    sample_count=f.sample_count,
                )
                for f in report.passed
            ],
            batch_size=2000,
        )
        scan_run.tool = tool
        scan_run.tool_version = (report.tool_version or "")[:60]
        scan_run.scan_type = report.scan_type
        scan_run.category = report.category
        scan_run.status = ScanRun.Status.DONE
        scan_run.started_at = scan_run.started_at or now
        scan_run.finished_at = timezone.now()
        scan_run.count_total = counts["total"]
        scan_run.count_new = counts["new"]
        scan_run.count_unchanged = counts["unchanged"]
        scan_run.count_reopened = counts["reopened"]
        scan_run.count_resolved = len(gone)
        scan_run.count_passed = len(report.passed)
        scan_run.metadata = _trim_metadata(report.metadata)
        scan_run.warnings = report.warnings[:100]
        scan_run.error = ""
        scan_run.save()
    return scan_run


def _not_audited_packages(report: scanners.Report) -> set[str]:
    """Normalized names of the dependencies the report lists as not audited (pip-audit's
    ``skip_reason``): their absence from the findings says nothing."""
    names: set[str] = set()
    for item in report.metadata.get("not_audited") or []:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name:
            names.add(normalize_package(name, "pypi"))
    return names


def _trim_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    from scanners.evidence import trim

    trimmed: dict[str, Any] = trim(metadata, limit=64 * 1024)
    return trimmed


def _build_rows(
    scan_run: ScanRun,
    model: MLModel,
    report: scanners.Report,
    existing: dict[str, tuple[int, str, str]],
    first_seen_by_id: dict[int, Any],
    tool: str,
    now: Any,
    sla_days: dict[str, int | None] | None = None,
) -> tuple[list[tuple[Any, ...]], dict[str, int], list[int]]:
    counts = {"total": 0, "new": 0, "unchanged": 0, "reopened": 0}
    reopened: list[int] = []
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    now_db = connection.ops.adapt_datetimefield_value(now)  # str on SQLite, datetime on PG
    tools = f",{tool},"
    team_id, model_id, run_id = model.team_id, model.pk, scan_run.pk
    version_id = scan_run.version_id
    for f in report.findings:
        if f.fingerprint in seen:  # a parser may repeat one; the upsert needs unique keys
            continue
        seen.add(f.fingerprint)
        prior = existing.get(f.fingerprint)
        due = None  # kept as is by the upsert unless the row is new or changed severity
        if prior is None:
            counts["new"] += 1
            due = sla_due(now, f.severity, sla_days)
        else:
            pk, status, old_sev = prior
            if status == Status.RESOLVED:
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
                _dumps(f.references), f.remediation, _dumps(f.evidence), Status.OPEN.value,
                now_db, now_db, None, due.isoformat() if due else None, None, run_id, run_id,
                now_db,
            )
        )  # fmt: skip
    return rows, counts, reopened
