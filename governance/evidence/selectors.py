"""Reads of evidence: scan runs and the subjects they looked at, scoped by the caller."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from governance.accounts.selectors import team_ids_for
from governance.evidence.models import ScanRun, ScanSubject
from governance.inventory.models import MLModel, ModelVersion

MODEL_FILE_CATEGORIES = ("model_file", "model_code")


def scan_runs_visible_to(user: Any) -> QuerySet[ScanRun]:
    return ScanRun.objects.filter(team_id__in=team_ids_for(user))


def version_subjects_q(model: MLModel, version: ModelVersion) -> Q:
    """The subjects whose findings concern ``version`` (as a filter on ScanSubject): its own
    (artifacts, targets, deployments), the same artifact bytes scanned under another version
    name, and model-wide subjects (scans uploaded without a version)."""
    q = Q(model=model) & (Q(version=version) | Q(version__isnull=True))
    if version.artifact_sha256:
        q |= Q(
            model=model,
            kind=ScanSubject.Kind.ARTIFACT,
            artifact_sha256=version.artifact_sha256,
        )
    return q


def version_subject_ids(model: MLModel, version: ModelVersion) -> list[int]:
    """Ids of :func:`version_subjects_q` (one query)."""
    return list(
        ScanSubject.objects.filter(version_subjects_q(model, version)).values_list("id", flat=True)
    )


def artifact_model_file_scanned(*, team_id: int, digest: str) -> bool:
    """Whether a model-file scan of the artifact with this SHA-256 finished for the team
    (Warden's scanner, or an ingested model-file report bound to that digest)."""
    return ScanRun.objects.filter(
        team_id=team_id,
        status=ScanRun.Status.DONE,
        category__in=MODEL_FILE_CATEGORIES,
        subject__kind=ScanSubject.Kind.ARTIFACT,
        subject__artifact_sha256=digest,
    ).exists()
