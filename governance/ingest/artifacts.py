"""Server-side scans of a model version's artifact with Warden's own model-file scanner.

The artifact is read, never loaded: :mod:`scanners.modelfile` parses bytes statically. Only
paths below ``WARDEN_ARTIFACT_ROOTS`` are read, so an ``artifact_uri`` cannot make the worker
read arbitrary files; remote URIs are refused (Warden fetches nothing).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.evidence.models import ScanRun
from governance.ingest.imports import scan_run_import
from governance.inventory.models import ModelVersion
from governance.lib.api_errors import ApplicationError
from scanners.modelfile import scan_path
from scanners.modelfile.report import to_report

SCAN_TYPE = "warden-modelscan"
#: A server-side scan has no uploaded report: its run's report_sha256 is this prefix and a
#: random suffix, so idempotency keys of real uploads stay intact.
SERVER_SCAN_PREFIX = "artifact-scan-"


def artifact_path(version: ModelVersion) -> Path:
    """The local path of a version's artifact, or ApplicationError saying why it cannot be
    scanned here."""
    uri = version.artifact_uri.strip()
    if not uri:
        raise ApplicationError(f"{version} has no artifact_uri to scan")
    parts = urlsplit(uri)
    if parts.scheme not in ("", "file"):
        raise ApplicationError(
            f"artifact_uri {uri!r} is remote; Warden scans local files only. Run "
            "`warden scan PATH --upload` where the artifact is, or mount it under "
            "WARDEN_ARTIFACT_ROOTS"
        )
    path = Path(unquote(parts.path) if parts.scheme == "file" else uri).resolve()
    roots: list[Path] = settings.WARDEN_ARTIFACT_ROOTS
    if not any(path == root or root in path.parents for root in roots):
        raise ApplicationError(
            f"artifact_uri {uri!r} is outside WARDEN_ARTIFACT_ROOTS; the server only scans there"
        )
    if not path.exists():
        raise ApplicationError(f"artifact {uri!r} does not exist on the server")
    if not (path.is_file() or path.is_dir()):
        raise ApplicationError(
            f"artifact {uri!r} is not a regular file or directory (a pipe or device): not read"
        )
    return path


def artifact_scan_run(*, scan_run_id: int) -> ScanRun:
    """The task body: scan, then import through the same path as uploaded reports."""
    ScanRun.objects.filter(pk=scan_run_id, status=ScanRun.Status.QUEUED).update(
        status=ScanRun.Status.RUNNING, started_at=timezone.now()
    )
    run = ScanRun.objects.select_related("version", "model").get(pk=scan_run_id)
    if run.status not in (ScanRun.Status.QUEUED, ScanRun.Status.RUNNING) or run.version is None:
        return run
    try:
        # Confined: a symlink inside the artifact roots that leads out of them is not read.
        results = scan_path(
            artifact_path(run.version), confine=[str(r) for r in settings.WARDEN_ARTIFACT_ROOTS]
        )
    except (ApplicationError, OSError) as exc:
        message = exc.message if isinstance(exc, ApplicationError) else str(exc)
        ScanRun.objects.filter(pk=run.pk).update(
            status=ScanRun.Status.FAILED, error=message, finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    with transaction.atomic():
        run = ScanRun.objects.select_for_update().get(pk=scan_run_id)
        if run.status == ScanRun.Status.DONE:
            return run
        scan_run_import(scan_run=run, report=to_report(results))
    run.refresh_from_db()
    return run
