"""Writes of evidence: scan runs, the subjects they looked at, passed checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

import scanners
from governance.evidence.families import tool_family
from governance.evidence.models import Assessment, CheckResult, Component, ScanRun, ScanSubject
from governance.evidence.selectors import MODEL_FILE_CATEGORIES
from governance.inventory.models import MLModel, ModelVersion
from governance.lib.api_errors import ApplicationError


def scan_subject_get_or_create(
    *,
    model: MLModel,
    kind: str,
    version: ModelVersion | None = None,
    artifact_sha256: str = "",
    target: str = "",
    environment: str = "",
) -> ScanSubject:
    """The subject row for these coordinates (created on first use; race-safe)."""
    target, environment = target.strip()[:500], environment.strip()[:60]
    key = ScanSubject.make_key(
        kind=kind,
        version_id=version.pk if version else None,
        artifact_sha256=artifact_sha256,
        target=target,
        environment=environment,
    )
    found = ScanSubject.objects.filter(model=model, key=key).first()
    if found is not None:
        found.model, found.version = model, version  # known already: no queries for a label
        return found
    try:
        with transaction.atomic():
            return ScanSubject.objects.create(
                team_id=model.team_id,
                model=model,
                kind=kind,
                version=version,
                artifact_sha256=artifact_sha256,
                target=target,
                environment=environment,
                key=key,
            )
    except IntegrityError:  # created concurrently by another import
        return ScanSubject.objects.get(model=model, key=key)


def scan_subject_for_report(*, scan_run: ScanRun, report: scanners.Report) -> ScanSubject:
    """What ``report`` (imported as ``scan_run``) looked at.

    - model-file reports: the artifact, by the digest the report names for its one file, else
      the digest the upload named, else the version's registered digest; a report naming a
      file other than the artifact the upload named is refused (it would vouch for bytes it
      never read). With no digest at all (a directory), the version's target;
    - runtime reports: the deployment (the report's, else the upload's ``environment``);
    - everything else: the version's target (the upload's ``target``, else what the report
      says it scanned: an image, a lockfile, the SBOM's component).
    """
    model, version = scan_run.model, scan_run.version
    if report.category in MODEL_FILE_CATEGORIES:
        named, found = scan_run.artifact_sha256, report.artifact_sha256
        if named and found and named != found:
            raise ApplicationError(
                f"the report scanned a file with sha256 {found[:12]}…, not the artifact "
                f"{named[:12]}… named with the upload; upload the scan of that artifact"
            )
        digest = found or named or (version.artifact_sha256 if version else "")
        if digest:
            return scan_subject_get_or_create(
                model=model, kind=ScanSubject.Kind.ARTIFACT, version=version,
                artifact_sha256=digest,
            )  # fmt: skip
        return scan_subject_get_or_create(
            model=model, kind=ScanSubject.Kind.TARGET, version=version, target=report.target
        )
    if report.category == "runtime":
        return scan_subject_get_or_create(
            model=model,
            kind=ScanSubject.Kind.DEPLOYMENT,
            version=version,
            environment=report.target or scan_run.environment,
        )
    return scan_subject_get_or_create(
        model=model,
        kind=ScanSubject.Kind.TARGET,
        version=version,
        target=scan_run.target or report.target,
    )


def scan_run_create(**fields: Any) -> ScanRun:
    """A new run (queued); IntegrityError when the same report already has one."""
    return ScanRun.objects.create(status=ScanRun.Status.QUEUED, **fields)


def scan_run_finish(
    *,
    scan_run: ScanRun,
    report: scanners.Report,
    subject: ScanSubject,
    tool: str,
    counts: dict[str, int],
    passed: int,
    metadata: dict[str, Any],
    now: datetime,
) -> ScanRun:
    """Record a finished import on its run: tool, subject, counts, metadata."""
    scan_run.tool = tool
    scan_run.tool_version = (report.tool_version or "")[:60]
    scan_run.tool_family = tool_family(tool)
    scan_run.scan_type = report.scan_type
    scan_run.category = report.category
    scan_run.subject = subject
    scan_run.complete = report.complete
    scan_run.status = ScanRun.Status.DONE
    scan_run.started_at = scan_run.started_at or now
    scan_run.finished_at = timezone.now()
    scan_run.count_total = counts["total"]
    scan_run.count_new = counts["new"]
    scan_run.count_unchanged = counts["unchanged"]
    scan_run.count_reopened = counts["reopened"]
    scan_run.count_resolved = counts["resolved"]
    scan_run.count_passed = passed
    scan_run.metadata = metadata
    scan_run.warnings = report.warnings[:100]
    scan_run.error = ""
    scan_run.save()
    return scan_run


def scan_run_fail(*, scan_run_id: int, error: str) -> None:
    ScanRun.objects.filter(pk=scan_run_id).update(
        status=ScanRun.Status.FAILED, error=error[:10000], finished_at=timezone.now()
    )


def check_results_record(*, scan_run: ScanRun, report: scanners.Report, tool: str) -> int:
    """Keep the report's passed checks as coverage evidence. Returns how many."""
    CheckResult.objects.bulk_create(
        [
            CheckResult(
                scan_run=scan_run,
                model_id=scan_run.model_id,
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
    return len(report.passed)


def components_record(*, scan_run: ScanRun, subject: ScanSubject, report: scanners.Report) -> int:
    """Keep the components an inventory lists (``metadata["components_list"]``: SBOMs,
    Syft) for its subject, replacing the subject's earlier list; they leave the run's
    metadata, which stays small. Returns how many."""
    listed = report.metadata.pop("components_list", None)
    if not isinstance(listed, list):
        return 0
    rows = [
        Component(
            team_id=scan_run.team_id,
            model_id=scan_run.model_id,
            subject=subject,
            scan_run=scan_run,
            name=str(c.get("name") or "")[:300],
            version=str(c.get("version") or "")[:100],
            purl=str(c.get("purl") or "")[:500],
            ecosystem=str(c.get("ecosystem") or "")[:40],
        )
        for c in listed
        if isinstance(c, dict) and c.get("name")
    ]
    Component.objects.filter(subject=subject).delete()
    Component.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


#: Runs of server-side assessments carry this prefix and a random suffix as their
#: report_sha256 (there is no uploaded report), like server-side artifact scans.
SERVER_ASSESSMENT_PREFIX = "assessment-"


def _created(document: dict[str, Any], now: datetime) -> datetime:
    text = document.get("created")
    if not isinstance(text, str):
        return now
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return now
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(when, now)


def assessment_record(*, scan_run: ScanRun, report: scanners.Report, now: datetime) -> int:
    """Keep the whole document of a Warden assessment (``metadata["assessment_document"]``,
    set by the warden-assessment parser for Warden's own runner) for its run; it leaves the
    run's metadata, which stays small. Returns 1 when one was recorded, else 0."""
    from scanners.parsers.warden_assessment import DOCUMENT_KEY

    document = report.metadata.pop(DOCUMENT_KEY, None)
    if not isinstance(document, dict):
        return 0
    version = scan_run.version
    digest = (
        report.artifact_sha256
        or scan_run.artifact_sha256
        or (version.artifact_sha256 if version is not None else "")
    )
    fingerprint = document.get("dataset_fingerprint") or {}
    server = scan_run.report_sha256.startswith(SERVER_ASSESSMENT_PREFIX)
    Assessment.objects.update_or_create(
        scan_run=scan_run,
        defaults={
            "team_id": scan_run.team_id,
            "model_id": scan_run.model_id,
            "version": version,
            "artifact_sha256": digest,
            "dataset_sha256": str(fingerprint.get("sha256") or "")[:64],
            "dataset_rows": int(fingerprint.get("rows") or 0),
            "mode": str((document.get("metadata") or {}).get("mode") or "")[:12],
            "origin": Assessment.Origin.SERVER if server else Assessment.Origin.CLIENT,
            "assessed_at": _created(document, now),
            "document": document,
        },
    )
    return 1
