"""Server-side assessments: Warden's runner (:mod:`scanners.assess`) on an uploaded evaluation
table, in a Celery worker, recorded through the same import path as an uploaded
``warden.assessment/v1`` document.

:func:`assessment_request` checks what it can without computing a metric (the tables load,
the columns exist, the label has two classes, each sensitive feature two groups, the model is
one Warden runs and its model-file scan is clean), stores the upload and queues the run;
:func:`assessment_run` (the task's body) runs the assessment and imports its document: failed
results become findings, passed ones coverage evidence, and the whole document is kept for the
assessment page (:class:`governance.evidence.models.Assessment`).

A model is run only when its bytes are an artifact of the version that a finished model-file
scan found clean (no open finding of severity high or above in that artifact), and only in
the runner's limited worker subprocess; the check runs again in the worker before the model
is loaded. Never a pickle-based format: the runner refuses those by content.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import scanners
from governance.evidence.models import ScanRun, ScanSubject
from governance.evidence.selectors import MODEL_FILE_CATEGORIES
from governance.evidence.services import SERVER_ASSESSMENT_PREFIX, scan_run_create, scan_run_fail
from governance.findings.models import ACTIVE_STATUSES, Finding, FindingOccurrence
from governance.ingest.artifacts import artifact_path
from governance.ingest.imports import scan_run_import
from governance.ingest.models import AssessmentUpload
from governance.inventory.models import ModelVersion
from governance.inventory.services import version_accepts_scans
from governance.lib.api_errors import ApplicationError
from governance.lib.queue import enqueue
from governance.policies.selectors import policy_effective_for

logger = logging.getLogger(__name__)

SCAN_TYPE = "warden-assessment"
#: Severities of a model-file finding that make its artifact "not clean" (the runner's rule).
BLOCKING_SEVERITIES = ("critical", "high")
#: Options a request may set, with their types (the rest of Options keeps its defaults).
OPTION_FIELDS = ("task", "positive_label", "decision_threshold", "min_group_size", "seed")


def _extra_installed() -> None:
    """503 naming the extra when this server lacks the assessment libraries."""
    from scanners.assess import MissingExtra
    from scanners.assess._deps import require_core

    try:
        require_core()
    except MissingExtra as exc:
        raise ApplicationError(
            f"this Warden server cannot run assessments: {exc}", status_code=503
        ) from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def artifact_refusal(*, version: ModelVersion, digest: str) -> str | None:
    """Why the model file with SHA-256 ``digest`` may not run for ``version`` (None: it may):
    it must be an artifact of the version, and a finished model-file scan of those bytes must
    have found nothing of severity high or above that is still open."""
    model = version.model
    label = f"{model.name}@{version.version}"
    is_artifact = (
        version.artifact_sha256 == digest
        or ScanSubject.objects.filter(
            model=model, version=version, kind=ScanSubject.Kind.ARTIFACT, artifact_sha256=digest
        ).exists()
    )
    if not is_artifact:
        registered = version.artifact_sha256[:12] + "…" if version.artifact_sha256 else "none"
        return (
            f"the model file (sha256 {digest[:12]}…) is not an artifact of {label} (registered: "
            f"{registered}); Warden runs only a version's scanned artifact"
        )
    scanned = ScanRun.objects.filter(
        team_id=model.team_id,
        status=ScanRun.Status.DONE,
        category__in=MODEL_FILE_CATEGORIES,
        subject__kind=ScanSubject.Kind.ARTIFACT,
        subject__artifact_sha256=digest,
    ).exists()
    if not scanned:
        return (
            f"no finished model-file scan of the artifact {digest[:12]}… of {label}: scan it "
            "first (POST .../scan/ or `warden scan FILE --upload`), then assess"
        )
    subjects = ScanSubject.objects.filter(
        team_id=model.team_id, kind=ScanSubject.Kind.ARTIFACT, artifact_sha256=digest
    ).values("id")
    blocking = list(
        Finding.objects.filter(
            team_id=model.team_id,
            status__in=ACTIVE_STATUSES,
            category__in=MODEL_FILE_CATEGORIES,
            severity__in=BLOCKING_SEVERITIES,
            occurrences__state=FindingOccurrence.State.ACTIVE,
            occurrences__subject_id__in=subjects,
        )
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()[:10]
    )
    if blocking:
        ids = ", ".join(f"#{i}" for i in blocking)
        return (
            f"its model-file scan is not clean: open high or critical findings ({ids}) in the "
            f"artifact {digest[:12]}… of {label}; Warden does not run it"
        )
    return None


def _policy_thresholds(version: ModelVersion) -> list[str]:
    """The governing policy's limits on metrics the runner measures, as runner thresholds:
    its ``assessments`` rules and the conditions of its ``warden_assessment`` evidence."""
    from scanners.assess.measurement import catalogue

    known = catalogue()
    doc = policy_effective_for(version.model).document
    rules = [(r["metric"], r["comparator"], r["value"]) for r in doc.get("assessments", [])]
    for rule in doc.get("evidence", []):
        for c in (rule.get("warden_assessment") or {}).get("metrics", []):
            rules.append((c["metric"], c["comparator"], c["value"]))
    out: dict[str, str] = {}
    for metric, comparator, value in rules:
        if metric.split("[", 1)[0] in known:
            out.setdefault(metric, f"{metric}{comparator}{value!r}")
    return list(out.values())


def _thresholds(version: ModelVersion, given: list[str]) -> list[str]:
    """The request's thresholds, then the policy's for metrics the request does not name."""
    from scanners.assess.thresholds import parse_threshold

    try:
        keys = {parse_threshold(t).key for t in given}
    except scanners.ReportError as exc:
        raise ApplicationError(_one_line(exc)) from None
    return [*given, *(t for t in _policy_thresholds(version) if parse_threshold(t).key not in keys)]


def _options(spec: dict[str, Any]) -> Any:
    from dataclasses import replace

    from scanners.assess import Options, RobustnessPlan

    return Options(
        task=spec.get("task") or "auto",
        positive_label=spec.get("positive_label") or None,
        decision_threshold=float(spec.get("decision_threshold", 0.5)),
        min_group_size=int(spec.get("min_group_size", 30)),
        robustness=replace(RobustnessPlan(), seed=int(spec.get("seed", 0))),
    )


def _size_check(name: str, size: int) -> None:
    limit = settings.WARDEN_MAX_REPORT_BYTES
    if size > limit:
        raise ApplicationError(
            f"{name} is {size:,} bytes; the limit is {limit:,} (WARDEN_MAX_REPORT_BYTES)",
            status_code=413,
        )


def assessment_request(
    *,
    version: ModelVersion,
    actor: Any,
    data: bytes,
    data_name: str = "eval",
    label: str,
    prediction: str = "",
    score: str = "",
    sensitive: list[str] | None = None,
    reference: bytes | None = None,
    reference_name: str = "reference",
    run_model: bool = False,
    model_file: bytes | None = None,
    model_name: str = "",
    features: list[str] | None = None,
    categorical: list[str] | None = None,
    thresholds: list[str] | None = None,
    with_robustness: bool = True,
    options: dict[str, Any] | None = None,
) -> ScanRun:
    """Check and queue a server-side assessment of ``version`` on ``data``; returns its queued
    run (poll it like an upload). From predictions (``prediction``/``score`` columns), or,
    with ``run_model`` or ``model_file``, from the model: the uploaded ONNX/skops file, else
    the version's artifact under WARDEN_ARTIFACT_ROOTS. Bad input is an ApplicationError
    with the runner's one line (400), a missing extra a 503 naming it."""
    _extra_installed()
    from scanners.assess import AssessmentError
    from scanners.assess.model import inspect_model
    from scanners.assess.runner import check_inputs
    from scanners.assess.table import load_table

    # One limit for the whole upload, as for reports: the files are stored until a worker
    # takes them.
    _size_check("the upload", len(data) + len(reference or b"") + len(model_file or b""))
    if not data.strip():
        raise ApplicationError("the evaluation table is empty")
    version_accepts_scans(version)
    sensitive, features, categorical = sensitive or [], features, categorical or []
    runs_model = run_model or model_file is not None
    spec = {k: v for k, v in (options or {}).items() if k in OPTION_FIELDS}
    limits = _thresholds(version, list(thresholds or []))
    digest = ""
    try:
        if runs_model:
            digest = _model_check(version, model_file, model_name, inspect_model)
        check_inputs(
            load_table(data, name=data_name),
            label=label,
            prediction=prediction or None,
            score=score or None,
            sensitive=sensitive,
            features=features,
            reference=load_table(reference, name=reference_name) if reference else None,
            thresholds=limits,
            options=_options(spec),
            runs_model=runs_model,
        )
    except AssessmentError as exc:
        raise ApplicationError(_one_line(exc)) from None
    if not digest:
        digest = version.artifact_sha256
    with transaction.atomic():
        run = scan_run_create(
            team_id=version.model.team_id,
            model=version.model,
            version=version,
            scan_type=SCAN_TYPE,
            tool="warden",
            report_sha256=f"{SERVER_ASSESSMENT_PREFIX}{uuid.uuid4().hex}"[:64],
            report_name=data_name[:255],
            artifact_sha256=digest,
            created_by=actor if getattr(actor, "pk", None) else None,
            api_token=getattr(actor, "token", None),
            attempts=1,
            enqueued_at=timezone.now(),
        )
        AssessmentUpload.objects.create(
            scan_run=run,
            data=data,
            data_name=data_name[:255],
            reference=reference,
            reference_name=reference_name[:255] if reference else "",
            model_file=model_file,
            model_name=model_name[:255],
            options={
                "label": label,
                "prediction": prediction,
                "score": score,
                "sensitive": sensitive,
                "features": features,
                "categorical": categorical,
                "thresholds": limits,
                "runs_model": runs_model,
                "with_robustness": with_robustness,
                "model_sha256": digest if runs_model else "",
                **spec,
            },
        )
        from governance.ingest.tasks import assessment_run_task

        run_id = run.pk
        transaction.on_commit(lambda: enqueue(assessment_run_task, run_id))
    return run


def _model_check(
    version: ModelVersion, model_file: bytes | None, model_name: str, inspect: Any
) -> str:
    """The digest of the model a run will execute, after every refusal check (refusals are
    ModelRefused, which the caller turns into a 400)."""
    from scanners.assess import ModelRefused

    if model_file is not None:
        digest = hashlib.sha256(model_file).hexdigest()
        label = model_name or "the uploaded model"
        with tempfile.TemporaryDirectory(prefix="warden-assess-") as tmp:
            path = Path(tmp) / (Path(model_name).name or "model")
            path.write_bytes(model_file)
            inspect(path, scan_clean=True)  # the format first: a pickle is never run
            _refuse_unless_clean(version, digest, label)
        return digest
    try:
        path = artifact_path(version)
    except ApplicationError as exc:
        raise ApplicationError(f"cannot run the version's model: {exc.message}") from None
    if not path.is_file():
        raise ModelRefused(f"model {path.name}: a directory, not a model file")
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if version.artifact_sha256 and digest != version.artifact_sha256:
        raise ModelRefused(
            f"model {path.name} refused: its sha256 {digest[:12]}… is not the version's "
            f"registered artifact {version.artifact_sha256[:12]}… (the file changed?)"
        )
    inspect(path, scan_clean=True)  # the format first: a pickle is never run
    _refuse_unless_clean(version, digest, path.name)
    return digest


def _refuse_unless_clean(version: ModelVersion, digest: str, label: str) -> None:
    from scanners.assess import ModelRefused

    why = artifact_refusal(version=version, digest=digest)
    if why is not None:
        raise ModelRefused(f"model {label} refused: {why}")


def assessment_run(*, scan_run_id: int) -> ScanRun:
    """The task's body: run the assessment of a queued upload and import its document. Safe
    to retry: a run already done or failed is left alone; the import marks it done in the
    same transaction that writes its findings."""
    ScanRun.objects.filter(pk=scan_run_id, status=ScanRun.Status.QUEUED).update(
        status=ScanRun.Status.RUNNING, started_at=timezone.now()
    )
    run = ScanRun.objects.select_related("version__model", "model").get(pk=scan_run_id)
    if run.status not in (ScanRun.Status.QUEUED, ScanRun.Status.RUNNING):
        return run
    if run.version is None:
        scan_run_fail(scan_run_id=run.pk, error="the model version was deleted before the run")
        AssessmentUpload.objects.filter(scan_run=run).delete()
        run.refresh_from_db()
        return run
    upload = AssessmentUpload.objects.filter(scan_run=run).first()
    if upload is None:
        scan_run_fail(scan_run_id=run.pk, error="the uploaded evaluation table is missing")
        run.refresh_from_db()
        return run
    try:
        doc = _assess(run, upload)
        report = scanners.parse(_to_json(doc), scan_type=SCAN_TYPE)
    except (scanners.ReportError, ApplicationError) as exc:
        message = exc.message if isinstance(exc, ApplicationError) else _one_line(exc)
        scan_run_fail(scan_run_id=run.pk, error=message)
        upload.delete()
        run.refresh_from_db()
        return run
    with transaction.atomic():
        locked = ScanRun.objects.select_for_update().get(pk=scan_run_id)
        if locked.status not in (ScanRun.Status.DONE, ScanRun.Status.FAILED):
            scan_run_import(scan_run=locked, report=report)
        AssessmentUpload.objects.filter(pk=upload.pk).delete()
    run.refresh_from_db()
    return run


def _to_json(doc: dict[str, Any]) -> bytes:
    from scanners.assess.document import to_json

    return to_json(doc)


def _assess(run: ScanRun, upload: AssessmentUpload) -> dict[str, Any]:
    """The runner on the stored upload (AssessmentError on bad input, a refused model or a
    worker limit: the caller records its one line on the run)."""
    from scanners.assess import ModelRefused, WorkerLimits
    from scanners.assess._deps import require_core
    from scanners.assess.runner import assess_model, assess_predictions
    from scanners.assess.table import load_table

    require_core()
    version = run.version
    assert version is not None
    spec = upload.options
    table = load_table(bytes(upload.data), name=upload.data_name or "eval")
    reference = (
        load_table(bytes(upload.reference), name=upload.reference_name or "reference")
        if upload.reference is not None
        else None
    )
    common: dict[str, Any] = {
        "label": spec["label"],
        "sensitive": spec.get("sensitive") or [],
        "reference": reference,
        "thresholds": spec.get("thresholds") or [],
        "options": _options(spec),
        "model": version.model.name,
        "model_version": version.version,
    }
    if not spec.get("runs_model"):
        return assess_predictions(
            table,
            prediction=spec.get("prediction") or None,
            score=spec.get("score") or None,
            features=spec.get("features"),
            artifact_sha256=run.artifact_sha256,
            **common,
        )
    limits = WorkerLimits(
        cpu_seconds=settings.WARDEN_ASSESS_CPU_SECONDS,
        memory_mb=settings.WARDEN_ASSESS_MEMORY_MB,
        wall_seconds=settings.WARDEN_ASSESS_WALL_SECONDS,
    )
    with tempfile.TemporaryDirectory(prefix="warden-assess-") as tmp:
        if upload.model_file is not None:
            path = Path(tmp) / (Path(upload.model_name).name or "model")
            path.write_bytes(bytes(upload.model_file))
        else:
            path = artifact_path(version)
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        if digest != spec.get("model_sha256"):
            raise ModelRefused(
                f"model {path.name} refused: it changed since the request (sha256 "
                f"{digest[:12]}…, requested {str(spec.get('model_sha256'))[:12]}…)"
            )
        # Checked again here: the scan may have changed since the request was accepted.
        _refuse_unless_clean(version, digest, path.name)
        return assess_model(
            path,
            table,
            features=spec.get("features"),
            categorical=spec.get("categorical") or [],
            scan_clean=True,
            limits=limits,
            with_robustness=bool(spec.get("with_robustness", True)),
            **common,
        )
