"""Status changes other apps ask for: an exception's decision and expiry (``policies``), a
retired version, a policy's SLA days. Each writes its audit events with the change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import DateField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from governance.evidence.models import ScanSubject
from governance.findings.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingOccurrence,
    Status,
)
from governance.inventory.models import ModelVersion
from governance.inventory.services import gate_stamps_bump, version_retired_set
from governance.lib.actors import actor_fields
from governance.lib.api_errors import ApplicationError


def finding_status_set(
    *, finding_id: int, status: str, actor: Any, reason: str, require: tuple[str, ...]
) -> Finding:
    """Move one finding to ``status`` if its current status is in ``require`` (checked under
    a row lock, so a concurrent triage or import cannot slip in between), with its event."""
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding_id)
        if finding.status not in require:
            raise ApplicationError(
                f"finding #{finding.pk} is {finding.status} now; nothing to change"
            )
        old = finding.status
        finding.status = status
        if status != Status.RESOLVED:
            finding.resolution = ""
            finding.resolved_at = None
        finding.save(update_fields=["status", "resolution", "resolved_at", "updated_at"])
        FindingEvent.objects.create(
            finding=finding,
            kind=FindingEvent.Kind.STATUS,
            from_value=old,
            to_value=status,
            reason=reason[:10000],
            **actor_fields(actor),
        )
        gate_stamps_bump(model_ids=[finding.model_id])
    return finding


def findings_reopen(*, reasons: dict[int, str], from_status: str) -> list[int]:
    """Reopen the findings of ``reasons`` (id -> why) that still have ``from_status`` (under
    a row lock); one event each. Returns the ids reopened."""
    with transaction.atomic():
        ids = list(
            Finding.objects.select_for_update()
            .filter(pk__in=list(reasons), status=from_status)
            .values_list("id", flat=True)
        )
        now = timezone.now()
        Finding.objects.filter(pk__in=ids).update(status=Status.OPEN, updated_at=now)
        gate_stamps_bump(
            model_ids=list(
                Finding.objects.filter(pk__in=ids).values_list("model_id", flat=True).distinct()
            )
        )
        FindingEvent.objects.bulk_create(
            FindingEvent(
                finding_id=pk,
                kind=FindingEvent.Kind.STATUS,
                from_value=from_status,
                to_value=Status.OPEN,
                actor_label="system",
                reason=reasons[pk][:10000],
            )
            for pk in ids
        )
    return ids


def findings_sla_due_set(*, model_ids: list[int], days: dict[str, int | None]) -> None:
    """Set the due date of the models' active findings to first_seen + ``days[severity]``
    (no clock where the days are None). One UPDATE per severity and 500 models."""
    for start in range(0, len(model_ids), 500):
        chunk = model_ids[start : start + 500]
        for severity, n in days.items():
            due: Any = (
                Cast(F("first_seen") + Value(timedelta(days=n)), output_field=DateField())
                if n
                else None
            )
            Finding.objects.filter(
                model_id__in=chunk, severity=severity, status__in=ACTIVE_STATUSES
            ).update(sla_due=due)
        gate_stamps_bump(model_ids=chunk)


def version_retire(*, version: ModelVersion, actor: Any) -> int:
    """Retire ``version``: it takes no more scans, its occurrences close as retired, and a
    finding seen nowhere else is resolved with the reason "version retired" (resolution
    ``retired``: not a remediation, so MTTR and SLA compliance leave it out). An artifact
    digest another live version of the model still carries stays open. Returns the number of
    findings resolved."""
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
        )
        if version.retired_at is not None:
            return 0
        now = timezone.now()
        version_retired_set(version=version, when=now)
        live_digests = list(
            ModelVersion.objects.filter(model_id=version.model_id, retired_at__isnull=True)
            .exclude(artifact_sha256="")
            .values_list("artifact_sha256", flat=True)
        )
        subjects = ScanSubject.objects.filter(version=version).exclude(
            kind=ScanSubject.Kind.ARTIFACT, artifact_sha256__in=live_digests
        )
        return subjects_close(
            subjects=subjects,
            model_id=version.model_id,
            reason=f"version retired: {version.model.name}@{version.version}",
            actor=actor,
            now=now,
        )


def subjects_close(
    *, subjects: QuerySet[ScanSubject], model_id: int, reason: str, actor: Any, now: Any = None
) -> int:
    """Close every active occurrence in ``subjects`` as retired (a version retired, a
    deployment ended: the thing they were seen in is gone, which is not a remediation); a
    finding seen nowhere else is resolved with ``reason`` and resolution ``retired``. Returns
    the number of findings resolved."""
    now = now or timezone.now()
    with transaction.atomic():
        FindingOccurrence.objects.filter(
            subject__in=subjects, state=FindingOccurrence.State.ACTIVE
        ).update(state=FindingOccurrence.State.RETIRED, closed_at=now)
        still_seen = FindingOccurrence.objects.filter(
            finding=OuterRef("pk"), state=FindingOccurrence.State.ACTIVE
        )
        retired_here = FindingOccurrence.objects.filter(
            subject__in=subjects, state=FindingOccurrence.State.RETIRED, closed_at=now
        ).values("finding_id")
        resolved = list(
            Finding.objects.select_for_update()
            .filter(Q(pk__in=retired_here), status__in=ACTIVE_STATUSES)
            .filter(~Exists(still_seen))
            .values_list("id", "status")
        )
        ids = [pk for pk, _ in resolved]
        Finding.objects.filter(pk__in=ids).update(
            status=Status.RESOLVED,
            resolution=Finding.Resolution.RETIRED,
            resolved_at=now,
            updated_at=now,
        )
        who = actor_fields(actor)
        FindingEvent.objects.bulk_create(
            FindingEvent(
                finding_id=pk,
                kind=FindingEvent.Kind.STATUS,
                from_value=status,
                to_value=Status.RESOLVED,
                reason=reason[:10000],
                **who,
            )
            for pk, status in resolved
        )
        gate_stamps_bump(model_ids=[model_id])
    return len(ids)
