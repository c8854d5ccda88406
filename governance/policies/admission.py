"""Admission: may a model server load the artifact with this SHA-256?

Allowed only when a version of the caller's models carries the digest, a model-file scan of
that very digest completed, the version is not retired, and the gate of every version
carrying it does not fail. Answers are cached for :data:`CACHE_SECONDS` under a key made of
the digest, the versions carrying it and their models' gate stamps (moved on by every scan,
triage, exception, policy or retirement), so a change is seen by the next request in every
process; the expiry bounds what time alone changes (a due date passing, an exception ending).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.evidence.models import ScanSubject
from governance.evidence.selectors import artifact_model_file_scanned
from governance.inventory.models import ModelVersion
from governance.policies.gate import VERDICT_RANK, gate_evaluate
from governance.policies.models import AdmissionQuery

CACHE_SECONDS = 60


def admission_decide(versions: QuerySet[ModelVersion], *, digest: str) -> dict[str, Any] | None:
    """The admission answer for ``digest`` among ``versions`` (scoped by the caller); None
    when no version of them carries it. One query when the answer is cached."""
    carrying = list(
        versions.filter(
            Q(artifact_sha256=digest)
            | Q(subjects__kind=ScanSubject.Kind.ARTIFACT, subjects__artifact_sha256=digest)
        )
        .values_list("id", "model_id", "model__gate_stamp__value", "retired_at")
        .distinct()
        .order_by("id")[:20]
    )
    if not carrying:
        return None
    key = "admission:" + hashlib.sha256(f"{digest}|{carrying!r}".encode()).hexdigest()
    cached: dict[str, Any] | None = cache.get(key)
    if cached is not None:
        return cached
    found = ModelVersion.objects.filter(pk__in=[c[0] for c in carrying]).select_related("model")
    answers = [admission_for_version(v, digest) for v in found.order_by("id")]
    # Fail closed: the artifact is admitted only if every version carrying it is.
    worst = max(answers, key=lambda a: (not a["allowed"], VERDICT_RANK[a["verdict"]]))
    answer = {
        **worst,
        "allowed": all(a["allowed"] for a in answers),
        "sha256": digest,
        "model_id": found.get(pk=carrying[0][0]).model_id if len(carrying) == 1 else None,
    }
    cache.set(key, answer, CACHE_SECONDS)
    return answer


def admission_for_version(version: ModelVersion, digest: str) -> dict[str, Any]:
    """The answer for one version carrying the digest (uncached)."""
    model = version.model
    scanned = artifact_model_file_scanned(team_id=model.team_id, digest=digest)
    result = gate_evaluate(model, version)
    reasons = result.to_dict()["reasons"]
    blockers = []
    if not scanned:
        blockers.append({
            "rule": "never-scanned", "verdict": "fail",
            "message": f"no completed model-file scan of artifact {digest[:12]}… "
            f"({model.name}@{version.version}); dependency and other scans do not count",
            "fix": "scan the artifact (warden scan FILE --upload --artifact FILE) and "
            "upload the result",
            "findings": [],
        })  # fmt: skip
    if version.retired_at is not None:
        blockers.append({
            "rule": "version-retired", "verdict": "fail",
            "message": f"{model.name}@{version.version} was retired on "
            f"{version.retired_at:%Y-%m-%d}",
            "fix": "deploy a live version", "findings": [],
        })  # fmt: skip
    verdict = "fail" if blockers else result.verdict
    return {
        "allowed": verdict != "fail",
        "model": model.name,
        "version": version.version,
        "verdict": verdict,
        "reasons": blockers + reasons,
        "policy": result.policy,
    }


def admission_record(
    *,
    team_id: int,
    digest: str,
    environment: str,
    asked_by: str,
    answer: dict[str, Any] | None,
    model_id: int | None,
) -> None:
    """Remember that ``asked_by`` asked about ``digest`` (from ``environment``) and what it
    was told: at most one write per asker, digest, environment and answer per minute and
    process (the cache says whether this minute is recorded already)."""
    now = timezone.now().replace(second=0, microsecond=0)
    allowed = bool(answer and answer["allowed"])
    key = hashlib.sha256(
        f"{team_id}|{digest}|{environment}|{asked_by}|{allowed}|{now.isoformat()}".encode()
    ).hexdigest()
    if not cache.add(f"admission-asked:{key}", 1, timeout=120):
        return
    AdmissionQuery.objects.bulk_create(
        [
            AdmissionQuery(
                team_id=team_id,
                digest=digest,
                environment=environment[:60],
                asked_by=asked_by[:150],
                allowed=allowed,
                verdict=(answer or {}).get("verdict") or "",
                model_id=model_id,
                version=str((answer or {}).get("version") or "")[:100],
                minute=now,
            )
        ],
        ignore_conflicts=True,
    )
