"""The CI gate: one verdict for a model version, a pure function of stored state.

Until risk policies exist the rule is the baseline: any active (open, confirmed, in progress)
critical or high finding fails the gate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Q

from governance.findings.models import ACTIVE_STATUSES, Finding
from governance.inventory.models import MLModel, ModelVersion

VERDICT_RANK = {"pass": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class GateReason:
    rule: str
    verdict: str  # "fail" or "warn"
    message: str
    fix: str = ""
    findings: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class GateResult:
    verdict: str
    reasons: list[GateReason]

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": [asdict(r) for r in self.reasons]}


def _scope(model: MLModel, version: ModelVersion | None) -> Q:
    q = Q(model=model, status__in=ACTIVE_STATUSES)
    if version is not None:
        q &= Q(version=version) | Q(version__isnull=True)
    return q


def gate_evaluate(model: MLModel, version: ModelVersion | None = None) -> GateResult:
    """``fail`` when any active critical or high finding applies to the model (and version)."""
    reasons: list[GateReason] = []
    blocking = list(
        Finding.objects.filter(_scope(model, version), severity__in=("critical", "high"))
        .order_by("-severity", "id")
        .values_list("id", "severity")[:1001]
    )
    for severity in ("critical", "high"):
        ids = [pk for pk, sev in blocking if sev == severity]
        if ids:
            reasons.append(
                GateReason(
                    rule=f"no-open-{severity}",
                    verdict="fail",
                    message=f"{len(ids)}{'+' if len(blocking) > 1000 else ''} open {severity} "
                    f"finding{'s' if len(ids) != 1 else ''}",
                    fix="fix them, mark false positives, or get an approved exception",
                    findings=ids[:50],
                )
            )
    verdict = max((r.verdict for r in reasons), key=VERDICT_RANK.__getitem__, default="pass")
    return GateResult(verdict=verdict, reasons=reasons)
