"""Report import: parse with ``scanners``, map to a model and version, record what the scan
looked at (its subject), and hand the findings to the findings app.

The pipeline sits on top: it calls services of ``inventory`` (models, versions), ``evidence``
(scan runs, subjects, passed checks), ``findings`` (the set-based import) and ``policies``
(the SLA of the governing policy); nothing below imports it. Reimport semantics are the
findings app's (:mod:`governance.findings.services.imports`): absence resolves only what an
earlier scan of the same subject by the same tool family reported.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import scanners
from governance.accounts.models import ApiToken, Team
from governance.evidence.families import tool_family
from governance.evidence.models import ScanRun
from governance.evidence.selectors import MODEL_FILE_CATEGORIES
from governance.evidence.services import (
    check_results_record,
    scan_run_create,
    scan_run_fail,
    scan_run_finish,
    scan_subject_for_report,
)
from governance.findings.services import findings_import_apply
from governance.ingest.models import ReportUpload
from governance.inventory.services import (
    model_get_or_create,
    version_accepts_scans,
    version_get_or_create,
)
from governance.lib.api_errors import ApplicationError
from governance.policies.sla import sla_days_for_model

logger = logging.getLogger(__name__)

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class SubmitResult:
    scan_run: ScanRun
    created: bool  # False: this exact report was already imported for this model/version


def report_submit(
    *,
    team: Team,
    model_name: str,
    data: bytes,
    filename: str = "",
    version: str = "",
    artifact_sha256: str = "",
    target: str = "",
    scan_type: str | None = None,
    commit: str = "",
    branch: str = "",
    pipeline_url: str = "",
    environment: str = "",
    create_model: bool = False,
    user: Any = None,
    api_token: ApiToken | None = None,
    run_async: bool | None = None,
) -> SubmitResult:
    """Accept a report for a model. Idempotent on (model, version, report sha256). Small
    reports import now; large ones (or ``run_async=True``) are queued for a worker. An
    unknown model is a 404 unless ``create_model`` (and the team allows it)."""
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
    if artifact_sha256 and (len(artifact_sha256) != 64 or not set(artifact_sha256) <= _HEX):
        raise ApplicationError("artifact_sha256 must be 64 lower-case hex characters")
    if artifact_sha256 and not version.strip():
        raise ApplicationError("artifact_sha256 needs a version")
    digest = hashlib.sha256(data).hexdigest()
    if run_async is None:
        run_async = len(data) > settings.WARDEN_ASYNC_THRESHOLD_BYTES

    # Idempotency first: a re-posted report is answered from its first run without parsing.
    target = target.replace("\x00", "").strip()[:500]
    known = ScanRun.objects.filter(
        team=team, model__name__iexact=model_name.strip(), report_sha256=digest, target=target
    )
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
        model, _ = model_get_or_create(team=team, name=model_name, create=create_model)
        model_version = None
        if version.strip():
            model_version = version_get_or_create(
                model=model, version=version, artifact_sha256=artifact_sha256
            )
            version_accepts_scans(model_version)
        try:
            with transaction.atomic():
                scan_run = scan_run_create(
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
                    artifact_sha256=artifact_sha256,
                    target=target,
                    created_by=user if getattr(user, "pk", None) else None,
                    api_token=api_token,
                )
        except IntegrityError:
            # The same report arrived concurrently and won the race (the check above ran
            # before either committed): answer with its run.
            existing = ScanRun.objects.get(
                model=model, version=model_version, target=target, report_sha256=digest
            )
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
            scan_run_fail(scan_run_id=scan_run.pk, error="the uploaded report is missing")
            scan_run.refresh_from_db()
            return scan_run
        raw = bytes(upload.data)
        try:
            report = scanners.parse(
                raw,
                filename=scan_run.report_name or None,
                scan_type=scan_run.scan_type or None,
            )
            with transaction.atomic():
                scan_run_import(scan_run=scan_run, report=report, nul_free=_nul_free(raw))
        except (scanners.ReportError, ApplicationError) as exc:
            message = exc.message if isinstance(exc, ApplicationError) else str(exc)
            scan_run_fail(scan_run_id=scan_run.pk, error=f"cannot import this report: {message}")
            upload.delete()
            scan_run.refresh_from_db()
            return scan_run
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
    report.target, report.artifact_sha256 = _strip_nul(report.target), report.artifact_sha256


def scan_run_import(
    *, scan_run: ScanRun, report: scanners.Report, nul_free: bool = False
) -> ScanRun:
    """Write a parsed report's findings for the run's model and subject. One transaction,
    fixed queries.

    ``nul_free=True`` promises no string in the report holds a NUL (see :func:`_nul_free`);
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
        passed = check_results_record(scan_run=scan_run, report=report, tool=tool)
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
    return scan_run


def _trim_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    from scanners.evidence import trim

    trimmed: dict[str, Any] = trim(metadata, limit=64 * 1024)
    return trimmed
