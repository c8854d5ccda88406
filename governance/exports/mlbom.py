"""The CycloneDX 1.6 ML-BOM of one model version, with its findings as VEX.

Built with ``cyclonedx-python-lib`` (components, hashes, vulnerabilities, analysis), then the
``modelCard`` is added to the model's component in the serialized document: the library does
not model cards yet (``Component.model_card`` is a placeholder in its source). The result
validates against the official 1.6 JSON schema (``tests/exports/test_mlbom.py``).

What goes in:

- ``metadata.component``: the model, type ``machine-learning-model``, version = the model
  version, hashes = the SHA-256 of the version's artifact and of every artifact scanned under
  it; its ``modelCard``: model parameters from the latest ingested ML-BOM's card of this model
  (``ScanRun.metadata["models"]``), datasets from that card and from Warden's assessments
  (their target and dataset fingerprint), quantitative analysis from assessment results
  (failed: findings; passed: check results) and the ingested card's metrics, with each
  threshold in the card's ``properties``; considerations: the use case, the ingested card's,
  the policy's assessment rules and description as ethical considerations, failed fairness
  assessments as fairness assessments;
- ``components``: the packages SBOMs and inventories listed for the version's subjects
  (:class:`governance.evidence.models.Component`) and the packages of its dependency findings;
- ``vulnerabilities``: every finding seen in the version's subjects (any state), with its VEX
  analysis (:data:`VEX_STATES`), ratings, references and the component it affects (the
  package for dependency findings, the model itself for the rest).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisJustification,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from django.db.models import Q
from packageurl import PackageURL

from governance.evidence.models import CheckResult, ScanRun, ScanSubject
from governance.evidence.models import Component as PackageRow
from governance.evidence.selectors import version_subjects_q
from governance.findings.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingOccurrence,
    Status,
)
from governance.inventory.models import MLModel, ModelVersion
from governance.policies.models import RiskException
from governance.policies.selectors import EffectivePolicy, policy_effective_for

#: Warden status -> (VEX state, response). ``open`` is a finding no person has looked at yet:
#: ``in_triage``; a confirmed or in-progress one is ``exploitable``; an accepted risk is
#: ``exploitable`` that will not be fixed (the cyclonedx parser reads that back as accepted).
VEX_STATES: dict[str, tuple[ImpactAnalysisState, ImpactAnalysisResponse | None]] = {
    Status.OPEN: (ImpactAnalysisState.IN_TRIAGE, None),
    Status.CONFIRMED: (ImpactAnalysisState.EXPLOITABLE, None),
    Status.IN_PROGRESS: (ImpactAnalysisState.EXPLOITABLE, ImpactAnalysisResponse.UPDATE),
    Status.RISK_ACCEPTED: (ImpactAnalysisState.EXPLOITABLE, ImpactAnalysisResponse.WILL_NOT_FIX),
    Status.FALSE_POSITIVE: (ImpactAnalysisState.FALSE_POSITIVE, None),
    Status.NOT_AFFECTED: (ImpactAnalysisState.NOT_AFFECTED, None),
    Status.RESOLVED: (ImpactAnalysisState.RESOLVED, None),
}
_JUSTIFICATIONS = {j.value: j for j in ImpactAnalysisJustification}
_SEVERITIES = {s.value: s for s in VulnerabilitySeverity}
#: Metric names that are fairness measures (their failed results become fairness assessments).
_FAIRNESS_WORDS = ("parity", "fairness", "equal_opportunity", "equalized_odds", "disparate")
_APPROACHES = ("supervised", "unsupervised", "reinforcement-learning", "semi-supervised",
               "self-supervised")  # fmt: skip
_DATA_TYPES = ("source-code", "configuration", "dataset", "definition", "other")
_MAX_TEXT = 2000


@dataclass(frozen=True)
class MlBom:
    """The document (a JSON-ready dict) and what a download names it."""

    document: dict[str, Any]
    filename: str

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False)


def _text(value: Any, limit: int = _MAX_TEXT) -> str:
    """A string of the input, or "" (also for the "…" an ingest left of a trimmed value)."""
    if not isinstance(value, str) or not value.strip(" …"):
        return ""
    return value[:limit]


def _purl(text: str) -> PackageURL | None:
    if not text:
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _score(value: float | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _prop(name: str, value: Any) -> Property | None:
    text = "" if value is None else str(value)
    return Property(name=name, value=text[:_MAX_TEXT]) if text else None


def _props(**values: Any) -> list[Property]:
    found = (_prop(f"warden:{k}", v) for k, v in values.items())
    return [p for p in found if p is not None]


# --- reads -------------------------------------------------------------------------------------


@dataclass
class _Evidence:
    subjects: list[ScanSubject]
    packages: list[PackageRow]
    findings: list[Finding]
    reasons: dict[int, str]  # finding id -> the person's reason for its current status
    exceptions: dict[int, RiskException]  # finding id -> its approved exception
    runs: list[ScanRun]  # assessment and ML-BOM runs, newest first
    checks: list[CheckResult]


def _evidence(model: MLModel, version: ModelVersion) -> _Evidence:
    """Everything the document shows, in a fixed number of queries (eight)."""
    subjects = list(ScanSubject.objects.filter(version_subjects_q(model, version)).order_by("id"))
    subject_ids = [s.pk for s in subjects]
    packages = list(
        PackageRow.objects.filter(subject_id__in=subject_ids).order_by("name", "version", "id")
    )
    seen_in = FindingOccurrence.objects.filter(subject_id__in=subject_ids).values("finding_id")
    findings = list(
        Finding.objects.filter(model=model, pk__in=seen_in)
        .select_related("last_scan")
        .order_by("id")
    )
    decided = [f.pk for f in findings if f.status != Status.OPEN]
    reasons: dict[int, str] = {}
    events = FindingEvent.objects.filter(
        finding_id__in=decided, kind=FindingEvent.Kind.STATUS
    ).order_by("finding_id", "created_at", "id")
    status_of = {f.pk: f.status for f in findings}
    for ev in events.only("finding_id", "to_value", "reason"):
        if ev.to_value == status_of[ev.finding_id] and ev.reason:
            reasons[ev.finding_id] = ev.reason
    exceptions = {
        e.finding_id: e
        for e in RiskException.objects.filter(
            finding_id__in=decided, status=RiskException.Status.APPROVED
        ).select_related("decided_by")
        if e.finding_id is not None
    }
    runs = list(
        ScanRun.objects.filter(
            Q(version=version) | Q(version__isnull=True),
            model=model,
            status=ScanRun.Status.DONE,
        )
        .filter(Q(category="assessment") | Q(scan_type="cyclonedx"))
        .order_by("-id")[:200]
    )
    checks = list(
        CheckResult.objects.filter(scan_run_id__in=[r.pk for r in runs if r.category]).order_by(
            "id"
        )
    )
    return _Evidence(subjects, packages, findings, reasons, exceptions, runs, checks)


# --- the model card ------------------------------------------------------------------------------


def _ingested_card(model: MLModel, runs: list[ScanRun]) -> dict[str, Any]:
    """The model card of the latest ingested ML-BOM that describes this model (by name; else
    its only model)."""
    for run in runs:
        listed = run.metadata.get("models") if isinstance(run.metadata, dict) else None
        if not isinstance(listed, list):
            continue
        cards = [m for m in listed if isinstance(m, dict) and isinstance(m.get("model_card"), dict)]
        named = [m for m in cards if str(m.get("name", "")).lower() == model.name.lower()]
        chosen = named or (cards if len(cards) == 1 else [])
        if chosen:
            card: dict[str, Any] = chosen[0]["model_card"]
            return card
    return {}


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else []
    return [t for t in (_text(v) for v in items) if t]


def _objects(value: Any, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """Objects of ``value`` reduced to the string ``keys`` the schema allows."""
    out = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            kept = {k: _text(item.get(k)) for k in keys if _text(item.get(k))}
            if kept:
                out.append(kept)
    return out


def _parameters(card: dict[str, Any], ev: _Evidence) -> dict[str, Any]:
    given = card.get("modelParameters")
    given = given if isinstance(given, dict) else {}
    params: dict[str, Any] = {}
    approach = given.get("approach")
    if isinstance(approach, dict) and approach.get("type") in _APPROACHES:
        params["approach"] = {"type": approach["type"]}
    for key in ("task", "architectureFamily", "modelArchitecture"):
        if _text(given.get(key)):
            params[key] = _text(given.get(key))
    datasets: list[dict[str, Any]] = []
    for d in given.get("datasets") or []:
        if isinstance(d, dict) and d.get("type") in _DATA_TYPES:
            datasets.append(
                {"type": d["type"]}
                | {k: _text(d.get(k)) for k in ("name", "description") if _text(d.get(k))}
            )
    names = {d.get("name") for d in datasets}
    for run in ev.runs:
        if run.category != "assessment":
            continue
        meta = run.metadata if isinstance(run.metadata, dict) else {}
        name = run.target or _text(meta.get("dataset"), 500)
        if not name or name in names:
            continue
        names.add(name)
        entry: dict[str, Any] = {"type": "dataset", "name": name}
        fingerprint = meta.get("dataset_fingerprint")
        detail = f"evaluation dataset of {run.tool or 'an assessment'} (scan #{run.pk})"
        if isinstance(fingerprint, dict) and fingerprint:
            detail += "; fingerprint " + json.dumps(fingerprint, sort_keys=True)[:500]
        entry["description"] = detail
        datasets.append(entry)
    if datasets:
        params["datasets"] = datasets
    for key in ("inputs", "outputs"):
        formats = _objects(given.get(key), ("format",))
        if formats:
            params[key] = formats
    return params


def _threshold(comparator: str, threshold: float | None) -> str:
    return f"{comparator} {threshold:g}" if comparator and threshold is not None else ""


def _quantitative(
    card: dict[str, Any], ev: _Evidence
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """(performance metrics, card properties naming each threshold, failed fairness results)."""
    metrics: list[dict[str, str]] = []
    props: list[dict[str, str]] = []
    fairness: list[dict[str, str]] = []
    given = card.get("quantitativeAnalysis")
    given = given if isinstance(given, dict) else {}
    for m in _objects(given.get("performanceMetrics"), ("type", "value", "slice")):
        metrics.append(m)
    results: list[tuple[str, float | None, float | None, str, str, str]] = [
        (c.metric_name or c.rule_id, c.metric_value, c.metric_threshold, c.comparator, c.tool,
         "passed")
        for c in ev.checks
        if c.metric_name or c.rule_id
    ]  # fmt: skip
    for f in ev.findings:
        if f.category == "assessment" and (f.metric_name or f.rule_id):
            outcome = "failed" if f.status in ACTIVE_STATUSES else f.status
            results.append(
                (f.metric_name or f.rule_id, f.metric_value, f.metric_threshold, f.comparator,
                 f.tool, outcome)
            )  # fmt: skip
            name = (f.metric_name or f.rule_id).lower()
            evidence = f.evidence if isinstance(f.evidence, dict) else {}
            is_fairness = evidence.get("category") == "fairness" or any(
                w in name for w in _FAIRNESS_WORDS
            )
            if outcome == "failed" and is_fairness:
                groups = evidence.get("by_group")
                fairness.append(
                    {
                        "groupAtRisk": ", ".join(sorted(groups))[:_MAX_TEXT]
                        if isinstance(groups, dict) and groups
                        else "groups compared by " + (f.metric_name or f.rule_id),
                        "harms": _text(f.title),
                        "mitigationStrategy": _text(f.remediation)
                        or f"tracked as Warden finding #{f.pk} ({f.status})",
                    }
                )
    for name, value, threshold, comparator, tool, outcome in results:
        entry = {"type": name[:200], "slice": f"{tool} ({outcome})" if tool else outcome}
        if value is not None:
            entry["value"] = f"{value:g}"
        metrics.append(entry)
        limit = _threshold(comparator, threshold)
        if limit:
            props.append(
                {
                    "name": f"warden:threshold:{name[:200]}",
                    "value": f"value {limit} to pass ({tool or 'assessment'}: {outcome})",
                }
            )
    return metrics, props, fairness


def _considerations(
    model: MLModel, card: dict[str, Any], policy: EffectivePolicy, fairness: list[dict[str, str]]
) -> dict[str, Any]:
    given = card.get("considerations")
    given = given if isinstance(given, dict) else {}
    out: dict[str, Any] = {}
    for key in ("users", "useCases", "technicalLimitations", "performanceTradeoffs"):
        values = _strings(given.get(key))
        if key == "useCases" and model.use_case and model.use_case not in values:
            values.insert(0, model.use_case)
        if values:
            out[key] = values
    ethical = _objects(given.get("ethicalConsiderations"), ("name", "mitigationStrategy"))
    document = policy.document or {}
    if _text(document.get("description")):
        ethical.append(
            {
                "name": f"Governed by policy {policy.label}: {_text(document['description'])}",
                "mitigationStrategy": "Warden's release gate evaluates every version against it",
            }
        )
    for rule in document.get("assessments") or []:
        if isinstance(rule, dict) and rule.get("metric"):
            ethical.append(
                {
                    "name": f"Policy {policy.label} rule {rule.get('id')}: {rule['metric']} "
                    f"{rule.get('comparator', '')} {rule.get('value', '')}".strip(),
                    "mitigationStrategy": "the gate fails a version whose latest result "
                    "misses the threshold"
                    + (" or that has none" if rule.get("required", True) else ""),
                }
            )
    if ethical:
        out["ethicalConsiderations"] = ethical
    assessed = _objects(
        given.get("fairnessAssessments"),
        ("groupAtRisk", "benefits", "harms", "mitigationStrategy"),
    )
    if assessed + fairness:
        out["fairnessAssessments"] = assessed + fairness
    return out


def _model_card(model: MLModel, ev: _Evidence, policy: EffectivePolicy) -> dict[str, Any]:
    card = _ingested_card(model, ev.runs)
    metrics, threshold_props, fairness = _quantitative(card, ev)
    out: dict[str, Any] = {}
    params = _parameters(card, ev)
    if params:
        out["modelParameters"] = params
    if metrics:
        out["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations = _considerations(model, card, policy, fairness)
    if considerations:
        out["considerations"] = considerations
    props = [{"name": "warden:policy", "value": policy.label}, *threshold_props]
    out["properties"] = props
    return out


# --- components and vulnerabilities --------------------------------------------------------------


def _package_ref(purl: str, ecosystem: str, name: str, version: str) -> str:
    return purl or f"pkg:{(ecosystem or 'generic').lower()}/{name}@{version}".rstrip("@")


def _vex(finding: Finding, ev: _Evidence) -> VulnerabilityAnalysis:
    """The finding's state as VEX: the reporting tool's own decision with its justification
    (when the status is the tool's), else the person's reason for the status."""
    state, response = VEX_STATES.get(finding.status, (ImpactAnalysisState.IN_TRIAGE, None))
    justification = None
    detail = ev.reasons.get(finding.pk, "")
    if finding.tool_state and finding.tool_state == finding.status:
        why, _, rest = (finding.justification or "").partition(":")
        justification = _JUSTIFICATIONS.get(why.strip())
        detail = (rest.strip() if justification else finding.justification) or detail
    exception = ev.exceptions.get(finding.pk)
    if exception is not None and finding.status == Status.RISK_ACCEPTED:
        who = exception.decided_by.get_username() if exception.decided_by else "a lead"
        detail = (
            f"exception #{exception.pk} approved by {who} until "
            f"{exception.expires_at.date().isoformat()}: {exception.justification}"
        )
    if finding.status == Status.RESOLVED and not detail:
        detail = finding.get_resolution_display() if finding.resolution else "resolved"
    return VulnerabilityAnalysis(
        state=state,
        justification=justification,
        responses=[response] if response else None,
        detail=detail[:_MAX_TEXT] or None,
    )


def _rating(finding: Finding) -> VulnerabilityRating:
    vector = finding.cvss_vector or None
    method = VulnerabilityScoreSource.get_from_vector(vector) if vector else None
    if method == VulnerabilityScoreSource.OTHER:
        method = None
    rating = VulnerabilityRating(
        source=VulnerabilitySource(name=finding.tool[:100] or None),
        score=_score(finding.cvss_score),
        severity=_SEVERITIES.get(finding.severity, VulnerabilitySeverity.UNKNOWN),
        method=method,
    )
    # The vector as the tool gave it ("CVSS:3.1/AV:N/..."): the library would strip the
    # prefix, and readers (Warden's own parser among them) tell the version by it.
    rating.vector = vector if method else None
    return rating


def _vulnerability(finding: Finding, affected: str, ev: _Evidence) -> Vulnerability:
    aliases = [a for a in finding.aliases if isinstance(a, str) and a][:20]
    recommendation = finding.remediation or (
        f"Upgrade {finding.package} to {finding.fixed_version}" if finding.fixed_version else ""
    )
    return Vulnerability(
        bom_ref=f"warden-finding-{finding.pk}",
        id=(finding.vuln_id or finding.rule_id or f"WARDEN-{finding.pk}")[:200],
        source=VulnerabilitySource(name=finding.tool[:100] or None),
        references=[
            VulnerabilityReference(id=a[:200], source=VulnerabilitySource(name="alias"))
            for a in aliases
        ],
        ratings=[_rating(finding)],
        description=(finding.title + ("\n\n" + finding.description if finding.description else ""))[
            :10000
        ],
        recommendation=recommendation[:_MAX_TEXT] or None,
        created=finding.first_seen,
        updated=finding.last_seen,
        analysis=_vex(finding, ev),
        affects=[BomTarget(ref=affected)],
        properties=_props(
            finding_id=finding.pk,
            status=finding.status,
            category=finding.category,
            fingerprint=finding.fingerprint,
            sla_due=finding.sla_due.isoformat() if finding.sla_due else "",
        ),
    )


def mlbom_build(*, model: MLModel, version: ModelVersion) -> MlBom:
    """The ML-BOM of ``version`` (the caller has checked the user may see ``model``)."""
    ev = _evidence(model, version)
    policy = policy_effective_for(model)
    model_ref = f"warden-model-{model.pk}-version-{version.pk}"
    digests = [version.artifact_sha256] if version.artifact_sha256 else []
    digests += [
        s.artifact_sha256
        for s in ev.subjects
        if s.kind == ScanSubject.Kind.ARTIFACT and s.artifact_sha256
    ]
    hashes = [
        HashType(alg=HashAlgorithm.SHA_256, content=d)
        for d in dict.fromkeys(digests)
        if len(d) == 64
    ]
    root = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref=model_ref,
        name=model.name,
        version=version.version,
        group=model.team.slug,
        description=model.description[:_MAX_TEXT] or None,
        hashes=hashes,
        properties=_props(
            risk_tier=model.risk_tier,
            stage=model.stage,
            owner=model.owner.get_username() if model.owner else "",
            framework=version.framework,
            artifact_uri=version.artifact_uri,
            retired_at=version.retired_at.isoformat() if version.retired_at else "",
        ),
    )
    bom = Bom()
    bom.metadata.component = root
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="warden"))
    packages: dict[str, Component] = {}

    def package(purl: str, ecosystem: str, name: str, version_label: str) -> str:
        parsed = _purl(purl)
        ref = _package_ref(str(parsed) if parsed else "", ecosystem, name, version_label)
        if ref not in packages:
            packages[ref] = Component(
                type=ComponentType.LIBRARY,
                bom_ref=ref,
                name=name[:300],
                version=version_label[:100] or None,
                purl=parsed,
            )
        return ref

    for row in ev.packages:
        package(row.purl, row.ecosystem, row.name, row.version)
    vulnerabilities = []
    for f in ev.findings:
        affected = model_ref
        if f.category == "dependency" and f.package:
            affected = package(f.purl, f.ecosystem, f.package, f.package_version)
        vulnerabilities.append(_vulnerability(f, affected, ev))
    for component in packages.values():
        bom.components.add(component)
    for vulnerability in vulnerabilities:
        bom.vulnerabilities.add(vulnerability)
    bom.register_dependency(root, list(packages.values()))
    bom.serial_number = uuid.uuid4()
    bom.metadata.timestamp = datetime.now(UTC)
    document: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    document["metadata"]["component"]["modelCard"] = _model_card(model, ev, policy)
    safe = "".join(
        c if c.isalnum() or c in "-_." else "_" for c in f"{model.name}-{version.version}"
    )
    return MlBom(document=document, filename=f"{safe}.cdx.json")
