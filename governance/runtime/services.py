"""Deployments: recording what runs where, and checking it against admission.

Deploying records a :class:`~governance.inventory.models.Deployment` (a new version in the
same environment and endpoint ends the one before) and checks the deployed artifact with the
admission rules. The check is evidence like any scan: a run of ``warden-admission`` on the
deployment's subject, with one critical finding when admission refuses the artifact ("in
production, refused by admission"), none when it allows it — so a later allowed check closes
an earlier refusal, and ending the deployment closes what was seen in it.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

import scanners
from governance.evidence.models import ScanRun, ScanSubject
from governance.evidence.services import scan_run_create, scan_subject_get_or_create
from governance.findings.services import subjects_close
from governance.ingest.imports import scan_run_import
from governance.inventory.models import Deployment, MLModel, ModelVersion
from governance.lib.actors import actor_fields
from governance.lib.api_errors import ApplicationError
from governance.policies.admission import admission_decide

ADMISSION_TOOL = "warden-admission"
_HEX = frozenset("0123456789abcdef")


def _clean_name(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise ApplicationError(f"{what} is longer than {limit} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise ApplicationError(f"{what} cannot contain control or formatting characters")
    return value


def deployment_create(
    *,
    model: MLModel,
    version: ModelVersion,
    environment: str,
    actor: Any,
    endpoint: str = "",
    artifact_sha256: str = "",
    pipeline_url: str = "",
) -> tuple[Deployment, dict[str, Any] | None, bool]:
    """Record that ``version`` runs in ``environment`` (and ``endpoint``), and check its
    artifact against admission. Returns the deployment, the admission answer (None when no
    digest is known) and whether it is new (the same version already running there is the
    same deployment: re-running a deploy step changes nothing)."""
    environment = _clean_name(environment, "environment", 60)
    if not environment:
        raise ApplicationError("environment is required (e.g. prod-eu)")
    endpoint = _clean_name(endpoint, "endpoint", 300)
    digest = (artifact_sha256 or version.artifact_sha256).lower()
    if digest and (len(digest) != 64 or not set(digest) <= _HEX):
        raise ApplicationError("artifact_sha256 must be 64 hex characters")
    now = timezone.now()
    with transaction.atomic():
        MLModel.objects.select_for_update().get(pk=model.pk)  # one deploy per model at a time
        running = Deployment.objects.filter(
            model=model, environment=environment, endpoint=endpoint, until__isnull=True
        ).first()
        same = running is not None and (running.version_id, running.artifact_sha256) == (
            version.pk,
            digest,
        )
        if running is not None and same:
            return running, _admission(model, digest), False
        if running is not None:
            _end(running, now=now, actor=actor, reason="replaced by a new deployment")
        deployment = Deployment.objects.create(
            team_id=model.team_id,
            model=model,
            version=version,
            environment=environment,
            endpoint=endpoint,
            artifact_sha256=digest,
            since=now,
            deployed_by=actor_fields(actor)["actor_label"],
            pipeline_url=pipeline_url[:1000],
        )
        answer = _admission(model, digest)
        _record_check(deployment, answer, actor)
    return deployment, answer, True


def deployment_end(*, deployment: Deployment, actor: Any) -> Deployment:
    """The deployment stops running: what was seen in it closes (not a remediation)."""
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if deployment.until is None:
            _end(deployment, now=timezone.now(), actor=actor, reason="deployment ended")
    return deployment


def deployment_subject(deployment: Deployment) -> ScanSubject:
    """The subject runtime evidence of this deployment is recorded under."""
    return scan_subject_get_or_create(
        model=deployment.model,
        kind=ScanSubject.Kind.DEPLOYMENT,
        version=deployment.version,
        environment=deployment.environment,
    )


def _end(deployment: Deployment, *, now: Any, actor: Any, reason: str) -> None:
    Deployment.objects.filter(pk=deployment.pk).update(until=now)
    deployment.until = now
    others_running = Deployment.objects.filter(
        model_id=deployment.model_id,
        version_id=deployment.version_id,
        environment=deployment.environment,
        until__isnull=True,
    ).exclude(pk=deployment.pk)
    if others_running.exists():
        return  # another endpoint of the same version still runs there: its evidence stands
    subject = deployment_subject(deployment)
    where = f"{deployment.model.name}@{deployment.version.version} in {deployment.environment}"
    subjects_close(
        subjects=ScanSubject.objects.filter(pk=subject.pk),
        model_id=deployment.model_id,
        reason=f"{reason}: {where}",
        actor=actor,
        now=now,
    )


def _admission(model: MLModel, digest: str) -> dict[str, Any] | None:
    if not digest:
        return None
    versions = ModelVersion.objects.filter(model__team_id=model.team_id)
    return admission_decide(versions, digest=digest)


def _record_check(deployment: Deployment, answer: dict[str, Any] | None, actor: Any) -> ScanRun:
    """The admission check of a deployment as evidence on its subject."""
    where = deployment.environment + (f"/{deployment.endpoint}" if deployment.endpoint else "")
    report = scanners.Report(
        tool=ADMISSION_TOOL,
        tool_version="1",
        scan_type=ADMISSION_TOOL,
        category="runtime",
        target=deployment.environment,
    )
    refused = answer is None or not answer["allowed"]
    if refused:
        digest = deployment.artifact_sha256
        reasons = (answer or {}).get("reasons") or [
            {"rule": "no-artifact", "message": "the deployed version has no artifact digest"}
        ]
        report.findings.append(
            scanners.NormalizedFinding(
                fingerprint=hashlib.sha256(
                    f"{ADMISSION_TOOL}|{where}|{digest}".encode()
                ).hexdigest(),
                category="runtime",
                tool=ADMISSION_TOOL,
                rule_id="deployed-artifact-refused",
                title=f"{deployment.model.name}@{deployment.version.version} runs in {where} "
                "but admission refuses its artifact",
                severity="critical",
                description="; ".join(f"{r.get('rule')}: {r.get('message')}" for r in reasons[:10]),
                remediation="roll back to an admitted version, or fix what the admission "
                "reasons name and deploy again",
                file_path=digest,
                evidence={
                    "deployment": deployment.pk,
                    "environment": deployment.environment,
                    "endpoint": deployment.endpoint,
                    "artifact_sha256": digest,
                    "reasons": reasons[:10],
                },
            )
        )
    run = scan_run_create(
        team_id=deployment.team_id,
        model=deployment.model,
        version=deployment.version,
        scan_type=ADMISSION_TOOL,
        tool=ADMISSION_TOOL,
        report_sha256=f"deploy-check-{deployment.pk}-{uuid.uuid4().hex}"[:64],
        report_name=f"deployment {deployment.pk}",
        environment=deployment.environment,
        created_by=actor if getattr(actor, "pk", None) else None,
        api_token=getattr(actor, "token", None),
    )
    return scan_run_import(scan_run=run, report=report, nul_free=True)
