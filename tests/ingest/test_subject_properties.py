"""Property: over any sequence of scans of several versions, targets, artifacts and
deployments, by several tools, a finding is active iff the latest complete scan of one of its
subjects by one tool family reported it (or an event batch reported it), unless triaged; the
gate of each version and the admission of each digest agree with a brute-force recomputation
from the scan history alone."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.findings.models import Finding
from governance.findings.services import finding_triage
from governance.ingest.services import report_submit
from governance.inventory.models import MLModel
from governance.policies.admission import admission_for_version
from governance.policies.gate import gate_evaluate
from tests.reportgen import grype_report, trivy_report

pytestmark = pytest.mark.django_db

VERSIONS = ("1", "2")
CVES = range(4)  # trivy_vuln severities: 0 critical, 1 high, 2 medium, 3 low
MODEL_ISSUES = ("mf0", "mf1")  # model-file findings: 0 critical, 1 medium
RULES = ("r0", "r1")  # runtime rules (attacks: high)
_counter = itertools.count()


def _artifact(version: str) -> bytes:
    return f"weights of version {version}".encode()


@dataclass(frozen=True)
class Scan:
    kind: str  # "dep", "model", "runtime"
    version: str
    family: str  # dep: trivy/grype; model: warden-modelscan; runtime: the deployment name
    target: str  # dep: the target; runtime: the deployment
    reported: frozenset[Any]


scans = st.one_of(
    st.builds(
        Scan,
        kind=st.just("dep"),
        version=st.sampled_from(VERSIONS),
        family=st.sampled_from(("trivy", "grype")),
        target=st.sampled_from(("lockfile", "image")),
        reported=st.frozensets(st.sampled_from(list(CVES))),
    ),
    st.builds(
        Scan,
        kind=st.just("model"),
        version=st.sampled_from(VERSIONS),
        family=st.just("warden-modelscan"),
        target=st.just(""),
        reported=st.frozensets(st.sampled_from(MODEL_ISSUES)),
    ),
    st.builds(
        Scan,
        kind=st.just("runtime"),
        version=st.sampled_from(VERSIONS),
        family=st.just("llm-guard"),
        target=st.sampled_from(("prod-eu", "prod-us")),
        reported=st.frozensets(st.sampled_from(RULES), min_size=1),
    ),
)
steps = st.lists(
    st.one_of(scans, st.tuples(st.just("false_positive"), st.integers(0, 3))),
    min_size=1,
    max_size=8,
)


def _bytes(scan: Scan, nonce: int) -> bytes:
    if scan.kind == "dep":
        ids = sorted(scan.reported)
        data = trivy_report(ids) if scan.family == "trivy" else grype_report(ids)
    elif scan.kind == "model":
        content = _artifact(scan.version)
        findings = [
            {"fingerprint": hashlib.sha256(i.encode()).hexdigest(), "rule_id": i, "title": i,
             "severity": "critical" if i == "mf0" else "medium"}
            for i in sorted(scan.reported)
        ]  # fmt: skip
        data = orjson.dumps({"schema": "warden.modelscan/v1", "tool": "warden-modelscan",
                             "version": "0.1.0", "files": [{
                                 "path": "model.pt", "format": "pytorch",
                                 "sha256": hashlib.sha256(content).hexdigest(),
                                 "size": len(content), "findings": findings}]})  # fmt: skip
    else:
        events = [
            {"time": "2026-11-30T10:00:00Z", "kind": "attack", "rule": r, "count": 1}
            for r in sorted(scan.reported)
        ]
        data = orjson.dumps({"schema": "warden.runtime/v1", "tool": "llm-guard",
                             "deployment": scan.target, "events": events})  # fmt: skip
    # Every scan is a new report (a re-post of identical bytes is the same scan, by design).
    return data + b" " * nonce


@dataclass
class World:
    """The brute-force model: what each (subject, family) last said, from the history."""

    active: dict[tuple[Any, ...], set[str]] = field(default_factory=dict)
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (severity, kind)
    false_positive: set[str] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)  # versions with a dep or model scan
    model_scanned: set[str] = field(default_factory=set)  # versions whose artifact was scanned

    def record(self, scan: Scan) -> None:
        where = (scan.kind, scan.version, scan.target, scan.family)
        if scan.kind == "dep":
            keys = {f"CVE-2024-{10000 + i}" for i in scan.reported}
            for i in scan.reported:
                self.seen[f"CVE-2024-{10000 + i}"] = (
                    ("critical", "high", "medium", "low")[i],
                    "dep",
                )
            self.active[where] = keys  # complete: the report is the whole picture
            self.evidence.add(scan.version)
        elif scan.kind == "model":
            self.active[where] = set(scan.reported)
            for i in scan.reported:
                self.seen[i] = ("critical" if i == "mf0" else "medium", "model")
            self.evidence.add(scan.version)
            self.model_scanned.add(scan.version)
        else:  # an event batch adds to what its deployment showed, resolves nothing
            keys = {f"{scan.target}/{r}" for r in scan.reported}
            for k in keys:
                self.seen[k] = ("high", "runtime")
            self.active.setdefault(where, set()).update(keys)

    def active_keys(self, version: str | None = None) -> set[str]:
        out: set[str] = set()
        for (_, v, _, _), keys in self.active.items():
            if version is None or v == version:
                out |= keys
        return out - self.false_positive

    def gate_fails(self, version: str) -> bool:
        severe = {k for k in self.active_keys(version) if self.seen[k][0] in ("critical", "high")}
        return bool(severe) or version not in self.evidence


def _key(f: Finding) -> str:
    if f.category == "runtime":
        return f"{f.evidence['deployment']}/{f.rule_id}"
    return f.vuln_id or f.rule_id


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_findings_gate_and_admission_follow_the_scan_history(
    history: list[Any], team_alpha: Any, member: Any
) -> None:
    name = f"prop-{next(_counter)}"
    MLModel.objects.create(team=team_alpha, name=name)
    world = World()
    for nonce, step in enumerate(history):
        if isinstance(step, tuple):  # a person marks a finding false positive
            found = list(Finding.objects.filter(model__name=name, status="open").order_by("id"))
            if not found:
                continue
            f = found[step[1] % len(found)]
            finding_triage(finding=f, actor=member, status="false_positive", reason="not ours")
            world.false_positive.add(_key(f))
            continue
        report_submit(
            team=team_alpha,
            model_name=name,
            data=_bytes(step, nonce),
            version=step.version,
            target=step.target if step.kind == "dep" else "",
            run_async=False,
        )
        world.record(step)

        model = MLModel.objects.get(team=team_alpha, name=name)
        actual = {_key(f) for f in Finding.objects.filter(model=model, status__in=("open",))}
        assert actual == world.active_keys(), history
        for label in VERSIONS:
            version = model.versions.filter(version=label).first()
            if version is None:
                continue
            verdict = gate_evaluate(model, version).verdict
            assert (verdict == "fail") == world.gate_fails(label), (label, history)
            digest = hashlib.sha256(_artifact(label)).hexdigest()
            if version.artifact_sha256 == digest:
                allowed = admission_for_version(version, digest)["allowed"]
                expected = label in world.model_scanned and not world.gate_fails(label)
                assert allowed == expected, (label, history)
