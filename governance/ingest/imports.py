"""The import itself: a parsed report written for its scan run, model and subject. Called by
:func:`governance.ingest.services.report_submit` for small reports and by the Celery task for
queued ones; it enqueues nothing, so tasks and services can both call it without a cycle."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

import scanners
from governance.evidence.families import tool_family
from governance.evidence.models import ScanRun
from governance.evidence.selectors import MODEL_FILE_CATEGORIES
from governance.evidence.services import (
    assessment_record,
    check_results_record,
    components_record,
    scan_run_fail,
    scan_run_finish,
    scan_subject_for_report,
)
from governance.findings.services import findings_import_apply
from governance.ingest.models import ReportUpload
from governance.inventory.services import version_get_or_create
from governance.lib.api_errors import ApplicationError
from governance.policies.channel_events import findings_critical_publish
from governance.policies.services import verdict_record_for
from governance.policies.sla import sla_days_for_model

_HEX = frozenset("0123456789abcdef")


def report_parse(data: bytes, filename: str, scan_type: str | None) -> scanners.Report:
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
        uploads = ReportUpload.objects.filter(scan_run=scan_run)
        # One piece in memory at a time as they arrive; the joined bytes are what is parsed.
        raw = b"".join(
            uploads.order_by("seq").values_list("data", flat=True).iterator(chunk_size=1)
        )
        if not raw or len(raw) != (scan_run.report_size or len(raw)):
            scan_run_fail(scan_run_id=scan_run.pk, error="the uploaded report is missing")
            uploads.delete()
            scan_run.refresh_from_db()
            return scan_run
        try:
            report = scanners.parse(
                raw,
                filename=scan_run.report_name or None,
                scan_type=scan_run.scan_type or None,
            )
            with transaction.atomic():
                scan_run_import(scan_run=scan_run, report=report, nul_free=report_nul_free(raw))
        except (scanners.ReportError, ApplicationError) as exc:
            message = exc.message if isinstance(exc, ApplicationError) else str(exc)
            scan_run_fail(scan_run_id=scan_run.pk, error=f"cannot import this report: {message}")
            uploads.delete()
            scan_run.refresh_from_db()
            return scan_run
        uploads.delete()
    scan_run.refresh_from_db()
    return scan_run


def report_nul_free(data: bytes) -> bool:
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
    report.target, report.artifact_sha256 = _strip_nul(report.target), report.artifact_sha256


def scan_run_import(
    *, scan_run: ScanRun, report: scanners.Report, nul_free: bool = False
) -> ScanRun:
    """Write a parsed report's findings for the run's model and subject. One transaction,
    fixed queries.

    ``nul_free=True`` promises no string in the report holds a NUL (see :func:`report_nul_free`);
    otherwise every string is cleaned first, since the database cannot store NUL."""
    if not nul_free:
        _report_strip_nul(report)
    if report.artifact_sha256 and not (
        len(report.artifact_sha256) == 64 and set(report.artifact_sha256) <= _HEX
    ):
        report.artifact_sha256 = ""  # not a digest we can bind anything to
    now = timezone.now()
    tool = (report.tool or report.scan_type)[:60]
    with transaction.atomic():
        version = scan_run.version
        if (
            version is not None
            and report.category in MODEL_FILE_CATEGORIES
            and report.artifact_sha256
            and not version.artifact_sha256
            and not scan_run.artifact_sha256
        ):
            # A model-file scan of one file under a version with no registered artifact:
            # that file is the version's artifact (admission checks it by this digest).
            version_get_or_create(
                model=scan_run.model,
                version=version.version,
                artifact_sha256=report.artifact_sha256,
            )
            version.refresh_from_db()
        subject = scan_subject_for_report(scan_run=scan_run, report=report)
        counts = findings_import_apply(
            scan_run=scan_run,
            subject=subject,
            report=report,
            tool=tool,
            tool_family=tool_family(tool),
            sla_days=sla_days_for_model(scan_run.model),
            now=now,
        )
        if counts.new:
            findings_critical_publish(scan_run=scan_run)  # the team's channels, on commit
        passed = check_results_record(scan_run=scan_run, report=report, tool=tool)
        components_record(scan_run=scan_run, subject=subject, report=report)
        assessment_record(scan_run=scan_run, report=report, now=now)
        scan_run_finish(
            scan_run=scan_run,
            report=report,
            subject=subject,
            tool=tool,
            counts={
                "total": counts.total,
                "new": counts.new,
                "unchanged": counts.unchanged,
                "reopened": counts.reopened,
                "resolved": counts.resolved,
            },
            passed=passed,
            metadata=_trim_metadata(report.metadata),
            now=now,
        )
        if scan_run.version_id is not None:
            # The version's verdict history (the audit report) learns of the scan once it
            # commits; a failure there is logged and never undoes the import.
            version_id = scan_run.version_id
            transaction.on_commit(
                lambda: verdict_record_for(version_id=version_id, source="scan"), robust=True
            )
    return scan_run


def _trim_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    from scanners.evidence import trim

    # Deep enough for an ML-BOM's model cards (metadata.models[i].model_card, itself trimmed
    # to the usual depth by the parser): the ML-BOM export reads their datasets and metrics.
    trimmed: dict[str, Any] = trim(metadata, limit=64 * 1024, max_depth=10)
    return trimmed
