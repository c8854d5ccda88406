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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.accounts.models import ApiToken, Team
from governance.evidence.models import ScanRun
from governance.evidence.services import scan_run_create
from governance.ingest.artifacts import SCAN_TYPE, SERVER_SCAN_PREFIX, artifact_path
from governance.ingest.imports import report_nul_free, report_parse, scan_run_import
from governance.ingest.models import REPORT_CHUNK_BYTES, ReportUpload
from governance.ingest.tasks import artifact_scan_task, scan_import_task
from governance.inventory.models import ModelVersion
from governance.inventory.services import (
    model_get_or_create,
    version_accepts_scans,
    version_get_or_create,
)
from governance.lib.api_errors import ApplicationError
from governance.lib.queue import enqueue
from scanners.registry import PARSERS

__all__ = ["SubmitResult", "artifact_scan_request", "report_submit", "scan_run_import"]

logger = logging.getLogger(__name__)

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class SubmitResult:
    scan_run: ScanRun
    created: bool  # False: this exact report was already imported for this model/version


class ReportBody:
    """A report's bytes, in memory or in a file, read in bounded pieces."""

    _PIECE = 1024 * 1024

    def __init__(self, data: bytes | IO[bytes]) -> None:
        self._data = data
        if isinstance(data, bytes | bytearray | memoryview):
            self.size = len(data)
        else:
            size = getattr(data, "size", None)
            if size is None:
                data.seek(0, 2)
                size = data.tell()
            self.size = int(size)

    def pieces(self, piece_bytes: int = _PIECE) -> Iterator[bytes]:
        if isinstance(self._data, bytes | bytearray | memoryview):
            view = memoryview(self._data)
            for start in range(0, len(view), piece_bytes):
                yield bytes(view[start : start + piece_bytes])
            return
        self._data.seek(0)
        while piece := self._data.read(piece_bytes):
            yield piece

    def digest(self) -> tuple[str, bool]:
        """The sha256 of the bytes, and whether they are only whitespace."""
        sha, blank = hashlib.sha256(), True
        for piece in self.pieces():
            sha.update(piece)
            blank = blank and not piece.strip()
        return sha.hexdigest(), blank

    def read(self) -> bytes:
        if isinstance(self._data, bytes):
            return self._data
        return b"".join(self.pieces())


def report_submit(
    *,
    team: Team,
    model_name: str,
    data: bytes | IO[bytes],
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
    unknown model is a 404 unless ``create_model`` (and the team allows it).

    ``data`` is the report's bytes or a file holding them (an upload Django spooled to a
    temporary file): a queued report is hashed and stored piece by piece, so the process
    never holds it whole."""
    body = ReportBody(data)
    if body.size > settings.WARDEN_MAX_REPORT_BYTES:
        raise ApplicationError(
            f"report is {body.size:,} bytes; the limit is {settings.WARDEN_MAX_REPORT_BYTES:,} "
            "(WARDEN_MAX_REPORT_BYTES)",
            status_code=413,
        )
    digest, blank = body.digest()
    if blank:
        raise ApplicationError("the report file is empty")
    if scan_type and scan_type not in PARSERS:
        raise ApplicationError(
            f"unknown scan type {scan_type!r} (scan_type, or --scan-type in the warden client); "
            f"supported: {', '.join(PARSERS)}"
        )
    if artifact_sha256 and (len(artifact_sha256) != 64 or not set(artifact_sha256) <= _HEX):
        raise ApplicationError("artifact_sha256 must be 64 lower-case hex characters")
    if artifact_sha256 and not version.strip():
        raise ApplicationError("artifact_sha256 needs a version")
    if run_async is None:
        # Without a broker the "worker" is this process: storing the report to read it back
        # at once would only cost time (a second a 24 MB report) and memory.
        run_async = (
            body.size > settings.WARDEN_ASYNC_THRESHOLD_BYTES
            and not settings.CELERY_TASK_ALWAYS_EAGER
        )

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
    data_now = b""
    if not run_async:
        # Parse before opening the transaction: a bad report writes nothing, not even a model.
        data_now = body.read()
        report = report_parse(data_now, filename, scan_type)

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
                    report_size=body.size,
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
            scan_run_import(scan_run=scan_run, report=report, nul_free=report_nul_free(data_now))
        else:
            for seq, piece in enumerate(body.pieces(REPORT_CHUNK_BYTES)):
                ReportUpload.objects.create(scan_run=scan_run, seq=seq, data=piece)
            ScanRun.objects.filter(pk=scan_run.pk).update(attempts=1, enqueued_at=timezone.now())
            run_id = scan_run.pk
            transaction.on_commit(lambda: enqueue(scan_import_task, run_id))
    scan_run.refresh_from_db()
    return SubmitResult(scan_run, created=True)


def artifact_scan_request(*, version: ModelVersion, actor: Any) -> ScanRun:
    """Queue a server-side scan of the version's artifact with Warden's model-file scanner;
    the run is polled like any upload. Refused early, with the reason, when the artifact
    cannot be scanned here."""
    artifact_path(version)
    with transaction.atomic():
        run = scan_run_create(
            team_id=version.model.team_id,
            model=version.model,
            version=version,
            scan_type=SCAN_TYPE,
            tool=SCAN_TYPE,
            report_sha256=f"{SERVER_SCAN_PREFIX}{uuid.uuid4().hex}"[:64],
            report_name=version.artifact_uri[:255],
            created_by=actor if getattr(actor, "pk", None) else None,
            api_token=getattr(actor, "token", None),
            attempts=1,
            enqueued_at=timezone.now(),
        )
        run_id = run.pk
        transaction.on_commit(lambda: enqueue(artifact_scan_task, run_id))
    return run
