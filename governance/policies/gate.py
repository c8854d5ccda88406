"""The CI gate: one verdict for a model version, a pure function of stored state.

``gate_evaluate(model, version)`` reads the policy governing the model (a team policy, an
organization default, or :data:`~governance.policies.selectors.BUILTIN_DEFAULT`: no open
critical or high finding) and checks, in this order:

1. thresholds on open findings by category, severity and fix availability;
2. remediation SLAs: open findings past their due date (fail, per policy), due soon (warn);
3. required evidence: scans (status done) of this version or of the same artifact digest, by
   category and tool, recent enough; about to expire: warn. A ``warden_assessment`` rule
   asks for a Warden assessment of the artifact digest on a recent enough dataset, whose
   figures meet the rule's conditions;
4. assessment thresholds: the latest recorded value of each metric, compared with the
   policy's own limit (the tool's pass/fail is overridden);

skipping any rule waived by an approved, unexpired exception for the model. Findings that are
``risk_accepted`` (an approved exception) or ``false_positive`` are not open and never count.

The verdict is computed on read, so any change of policy, findings, scans or exceptions shows
in the next call: there is no stored verdict to go stale. It aggregates in the database (one
``GROUP BY category, severity`` over the findings) and loads finding ids only for rules that
fail, so its cost does not grow with the number of findings beyond that one aggregate.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from governance.evidence.models import Assessment, CheckResult, ScanRun, ScanSubject
from governance.evidence.selectors import version_subject_ids
from governance.findings.models import ACTIVE_STATUSES, Finding, FindingOccurrence, Status
from governance.inventory.models import MLModel, ModelVersion
from governance.policies.models import RiskException
from governance.policies.selectors import EffectivePolicy, policy_effective_for

VERDICT_RANK = {"pass": 0, "warn": 1, "fail": 2}
#: The built-in default's evidence rule: without any scan, no verdict can be a pass.
NO_EVIDENCE_RULE = "some-evidence"
FINDING_IDS_LIMIT = 50

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip


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
    #: The policy evaluated ("built-in default" or "name rN"); not part of ``to_dict()``,
    #: whose shape the API and CLI rely on.
    policy: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": [asdict(r) for r in self.reasons]}


def _scope(model: MLModel, version: ModelVersion | None) -> Q:
    """Active findings of the model; for a version, only those present in it: an active
    occurrence in one of the version's subjects (its artifact, targets, deployments)."""
    q = Q(model=model, status__in=ACTIVE_STATUSES)
    if version is not None:
        present = FindingOccurrence.objects.filter(
            finding=OuterRef("pk"),
            state=FindingOccurrence.State.ACTIVE,
            subject_id__in=version_subject_ids(model, version),
        )
        q &= Q(Exists(present))
    return q


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _days(delta: timedelta) -> int:
    return max(0, delta.days)


class _Evaluation:
    def __init__(
        self, model: MLModel, version: ModelVersion | None, policy: EffectivePolicy, now: datetime
    ) -> None:
        self.model, self.version, self.policy, self.now = model, version, policy, now
        self.doc = policy.document
        self.today = now.date()
        self.warn_days: int = self.doc["warn_within_days"]
        self.reasons: list[GateReason] = []
        self.governed_metrics = sorted({a["metric"] for a in self.doc["assessments"]})
        scope = _scope(model, version)
        if self.governed_metrics:  # the policy judges these metrics, not the tool
            scope &= ~Q(category="assessment", metric_name__in=self.governed_metrics)
        self.scope = scope
        self.subject = (
            f"{model.name}@{version.version}" if version else f"{model.name} (any version)"
        )
        self.waivers: dict[str, tuple[int, datetime]] = {}
        self.ending: list[tuple[int, datetime]] = []  # accepted findings whose exception ends

    # -- helpers ------------------------------------------------------------------------------

    def add(
        self,
        rule: str,
        verdict: str,
        message: str,
        fix: str = "",
        findings: list[int] | None = None,
    ) -> None:
        self.reasons.append(GateReason(rule, verdict, message, fix, findings or []))

    def ids(self, q: Q, order: tuple[str, ...] = ("id",)) -> list[int]:
        return list(
            Finding.objects.filter(self.scope & q).order_by(*order)
            .values_list("id", flat=True)[:FINDING_IDS_LIMIT]
        )  # fmt: skip

    def waived(self, rule: str) -> bool:
        """True when an approved exception waives ``rule``; warns when it ends soon."""
        found = self.waivers.get(rule)
        if found is None:
            return False
        exception_id, expires_at = found
        if expires_at - self.now <= timedelta(days=self.warn_days):
            self.add(
                rule,
                "warn",
                f"rule waived by exception #{exception_id} until "
                f"{expires_at:%Y-%m-%d %H:%M} UTC; it then applies again",
                "fix what the rule checks, or request a new exception before then",
            )
        return True

    # -- steps --------------------------------------------------------------------------------

    def load_exceptions(self) -> None:
        soon = self.now + timedelta(days=self.warn_days)
        rows = RiskException.objects.filter(
            Q(finding__isnull=True) | Q(expires_at__lte=soon),
            model=self.model,
            status=RiskException.Status.APPROVED,
            expires_at__gt=self.now,
        ).values_list("id", "rule", "finding_id", "finding__version_id", "expires_at")
        for exception_id, rule, finding_id, finding_version, expires_at in rows:
            if finding_id is None:
                self.waivers[rule] = (exception_id, expires_at)
            elif self.version is None or finding_version in (None, self.version.pk):
                self.ending.append((finding_id, expires_at))

    def exceptions_ending(self) -> None:
        ending = sorted(self.ending, key=lambda e: (e[1], e[0]))
        if ending:
            self.add(
                "exceptions-ending",
                "warn",
                f"{_plural(len(ending), 'accepted risk')} "
                f"{'ends' if len(ending) == 1 else 'end'} within {self.warn_days} days "
                f"(first on {ending[0][1]:%Y-%m-%d}); the findings then count again",
                "remediate them, or request new exceptions",
                [f for f, _ in ending[:FINDING_IDS_LIMIT]],
            )

    def findings_and_sla(self) -> None:
        soon = self.today + timedelta(days=self.warn_days)
        rows = list(
            Finding.objects.filter(self.scope).order_by()
            .values("category", "severity")
            .annotate(
                n=Count("id"),
                fixable=Count("id", filter=~Q(fixed_version="")),
                overdue=Count("id", filter=Q(sla_due__lt=self.today)),
                soon=Count("id", filter=Q(sla_due__gte=self.today, sla_due__lte=soon)),
                soon_fixable=Count("id", filter=Q(sla_due__gte=self.today, sla_due__lte=soon)
                                   & ~Q(fixed_version="")),
                unreachable=Count("id", filter=Q(reachable=False)),
                unreachable_fixable=Count("id", filter=Q(reachable=False) & ~Q(fixed_version="")),
            )
        )  # fmt: skip
        failing: list[Q] = []  # findings a failed threshold already names: no due-soon warning
        for rule in self.doc["thresholds"]:
            if self.waived(rule["id"]):
                continue
            category, severities = rule.get("category"), rule["severities"]
            fixable_only, max_open = rule["fixable_only"], rule["max_open"]
            skip_unreachable = rule.get("ignore_unreachable", False)
            count = sum(
                (r["fixable"] if fixable_only else r["n"])
                - (
                    (r["unreachable_fixable"] if fixable_only else r["unreachable"])
                    if skip_unreachable
                    else 0
                )
                for r in rows
                if r["severity"] in severities and (category is None or r["category"] == category)
            )
            if count <= max_open:
                continue
            q = Q(severity__in=severities)
            if category:
                q &= Q(category=category)
            if fixable_only:
                q &= ~Q(fixed_version="")
            if skip_unreachable:
                q &= ~Q(reachable=False)
            words = " or ".join(severities) + " " if len(severities) < 5 else ""
            words += f"{category.replace('_', ' ')} " if category else ""
            noun = "finding" if count == 1 else "findings"
            message = f"{count} open {words}{noun}"
            if fixable_only:
                message += " with a fixed version available"
            if max_open:
                message += f" (the policy allows {max_open})"
            fix = (
                "upgrade to the fixed versions, or get an approved exception"
                if fixable_only
                else "fix them, mark false positives, or get an approved exception"
            )
            self.add(rule["id"], "fail", message, fix, self.ids(q))
            failing.append(q)
            for r in rows:
                if r["severity"] in severities and category in (None, r["category"]):
                    r["soon"] -= r["soon_fixable"] if fixable_only else r["soon"]
                    r["soon_fixable"] = 0

        mode = self.doc["sla"]["overdue"]
        if mode == "ignore":
            return
        overdue = sum(r["overdue"] for r in rows)
        if overdue and not self.waived("sla-overdue"):
            days = ", ".join(f"{s} {d} d" for s, d in self.doc["sla"]["days"].items() if d)
            self.add(
                "sla-overdue",
                mode,
                f"{overdue} open {'finding is' if overdue == 1 else 'findings are'} past "
                "the remediation due date",
                f"remediate them, or get an approved exception (SLA: {days})",
                self.ids(Q(sla_due__lt=self.today), ("sla_due", "id")),
            )
        due_soon = sum(r["soon"] for r in rows)
        if due_soon:
            q = Q(sla_due__gte=self.today, sla_due__lte=soon)
            if failing:
                q &= ~Q(*failing, _connector=Q.OR)
            self.add(
                "sla-due-soon",
                "warn",
                f"{due_soon} open {'finding is' if due_soon == 1 else 'findings are'} due "
                f"within {self.warn_days} days",
                "remediate them before the due date",
                self.ids(q, ("sla_due", "id")),
            )

    def evidence(self) -> None:
        rules = self.doc["evidence"]
        if not rules:
            return
        model, version = self.model, self.version
        digest = version.artifact_sha256 if version else ""
        if version is None:
            where = Q(model=model)
        else:
            where = Q(version=version)
            if digest:  # the same bytes scanned under another version name count too
                where |= Q(team_id=model.team_id, version__artifact_sha256=digest)
                where |= Q(
                    team_id=model.team_id,
                    subject__kind=ScanSubject.Kind.ARTIFACT,
                    subject__artifact_sha256=digest,
                )
        runs = list(
            ScanRun.objects.filter(where, status=ScanRun.Status.DONE, finished_at__isnull=False)
            .order_by().values("category", "tool", "scan_type").annotate(latest=Max("finished_at"))
        )  # fmt: skip
        for rule in rules:
            if self.waived(rule["id"]):
                continue
            if "warden_assessment" in rule:
                self.warden_assessment(rule)
                continue
            categories = rule.get("categories") or (
                [rule["category"]] if rule.get("category") else []
            )
            tools = rule.get("tools")
            what = (
                " or ".join(c.replace("_", " ") for c in categories) + " scan"
                if categories
                else "scan"
            )
            if tools:
                what += f" ({' or '.join(tools)})"
            if rule["scope"] == "artifact" and not digest:
                self.add(
                    rule["id"],
                    "fail",
                    f"missing evidence: a {what} of the model artifact is required, but "
                    f"{self.subject} has no artifact digest registered",
                    "upload reports with --version and --artifact FILE (or --sha256) so the "
                    "scan is bound to the artifact",
                )
                continue
            wanted = {t.lower() for t in tools} if tools else None
            latest = max(
                (r["latest"] for r in runs
                 if (not categories or r["category"] in categories)
                 and (wanted is None or r["tool"].lower() in wanted
                      or r["scan_type"].lower() in wanted)),
                default=None,
            )  # fmt: skip
            target = f"{self.subject}" + (f" (artifact {digest[:12]}…)" if digest else "")
            upload = f"run a {what} of {target} and upload the report"
            if latest is None:
                if rule["id"] == NO_EVIDENCE_RULE:
                    kinds = " or ".join(c.replace("_", "-") for c in categories)
                    this = "this version" if version is not None else "this model"
                    message = f"no evidence: no {kinds} scan for {this} ({target})"
                else:
                    message = f"missing evidence: no {what} of {target}"
                self.add(rule["id"], "fail", message, upload)
                continue
            max_age = rule.get("max_age_days")
            if max_age is None:
                continue
            age = self.now - latest
            left = timedelta(days=max_age) - age
            if left <= timedelta(0):
                self.add(
                    rule["id"],
                    "fail",
                    f"evidence too old: the latest {what} of {target} finished "
                    f"{_days(age)} days ago; the policy accepts {max_age} days",
                    upload + " again",
                )
            elif left <= timedelta(days=self.warn_days):
                self.add(
                    rule["id"],
                    "warn",
                    f"evidence expires soon: the latest {what} of {target} will be older "
                    f"than {max_age} days on {latest + timedelta(days=max_age):%Y-%m-%d}",
                    upload + " again before then",
                )

    def warden_assessment(self, rule: dict[str, Any]) -> None:
        """The newest Warden assessment of the version's artifact digest (any version of the
        team carrying those bytes): it must exist, be recent enough, and its figures must
        meet every condition of the rule."""
        spec, rid = rule["warden_assessment"], rule["id"]
        version, model = self.version, self.model
        digest = version.artifact_sha256 if version else ""
        origin = " computed on the server" if spec["origin"] == "server" else ""
        where = (
            f"POST /api/v1/models/{model.pk}/versions/{version.version}/assess/ with the "
            f"evaluation table, or `warden assess ... --upload --model {model.name} "
            f"--version {version.version}`"
            if version
            else f"POST /api/v1/models/{model.pk}/versions/VERSION/assess/"
        )
        if version is not None and not digest:
            self.add(
                rid,
                "fail",
                f"missing evidence: a Warden assessment of the model artifact is required, but "
                f"{self.subject} has no artifact digest registered",
                "register the artifact (warden upload --artifact FILE, or artifact_sha256 on "
                f"the version), then assess it: {where}",
            )
            return
        qs = Assessment.objects.filter(team_id=model.team_id)
        qs = qs.filter(artifact_sha256=digest) if version is not None else qs.filter(model=model)
        if spec["origin"] == "server":
            qs = qs.filter(origin=Assessment.Origin.SERVER)
        latest = qs.order_by("-assessed_at", "-id").first()
        target = f"{self.subject}" + (f" (artifact {digest[:12]}…)" if digest else "")
        if latest is None:
            self.add(
                rid,
                "fail",
                f"missing evidence: no Warden assessment{origin} of {target}",
                f"assess it on your evaluation data: {where}",
            )
            return
        dataset = (latest.document.get("dataset_fingerprint") or {}).get("sha256", "")
        about = f"the latest Warden assessment of {target} (scan {latest.scan_run_id}" + (
            f", dataset {dataset[:12]}…)" if dataset else ")"
        )
        max_age = rule.get("max_age_days")
        if max_age is not None:
            age = self.now - latest.assessed_at
            left = timedelta(days=max_age) - age
            if left <= timedelta(0):
                self.add(
                    rid,
                    "fail",
                    f"evidence too old: {about} measured its dataset {_days(age)} days ago; "
                    f"the policy accepts {max_age} days",
                    f"assess it again on current evaluation data: {where}",
                )
                return
            if left <= timedelta(days=self.warn_days):
                self.add(
                    rid,
                    "warn",
                    f"evidence expires soon: {about} will be older than {max_age} days on "
                    f"{latest.assessed_at + timedelta(days=max_age):%Y-%m-%d}",
                    f"assess it again on current evaluation data before then: {where}",
                )
        figures = [*latest.document.get("results", []), *latest.document.get("measurements", [])]
        for condition in spec["metrics"]:
            self.assessment_condition(rid, condition, figures, about, where)

    def assessment_condition(
        self,
        rid: str,
        condition: dict[str, Any],
        figures: list[dict[str, Any]],
        about: str,
        where: str,
    ) -> None:
        metric, op, limit = condition["metric"], condition["comparator"], condition["value"]
        scoped = "[" in metric
        found = [
            f for f in figures
            if (f["test"] == metric if scoped else f.get("metric", f["test"]) == metric)
        ]  # fmt: skip
        if not found:
            self.add(
                rid,
                "fail",
                f"{about} did not measure {metric}; the policy requires {metric} {op} {limit:g}",
                "assess with what the figure needs (a score column for roc_auc, sensitive "
                f"features for fairness, a model file for robustness, a reference table for "
                f"drift): {where}",
            )
            return
        undefined = [f for f in found if f.get("value") is None]
        failing = [f for f in found if f.get("value") is not None
                   and not COMPARE[op](float(f["value"]), limit)]  # fmt: skip
        if failing:
            worst = max(failing, key=lambda f: abs(float(f["value"]) - limit))
            more = f" (and {_plural(len(failing) - 1, 'other figure')})" if len(failing) > 1 else ""
            self.add(
                rid,
                "fail",
                f"{worst['test']} = {float(worst['value']):g} in {about}{more}; the policy "
                f"requires {metric} {op} {limit:g}",
                f"improve the model on this data until {metric} {op} {limit:g} (per-group "
                f"values on the assessment page), then assess again; or get an approved "
                f"exception for rule {rid}",
            )
        elif undefined:
            first = undefined[0]
            self.add(
                rid,
                "fail",
                f"{first['test']} could not be judged in {about}: "
                f"{first.get('note') or 'undefined on this data'}",
                f"assess on data where {metric} is defined (enough rows per group, both "
                f"classes): {where}",
            )

    def assessments(self) -> None:
        rules = self.doc["assessments"]
        if not rules:
            return
        version = self.version
        common = Q(
            model=self.model, metric_name__in=self.governed_metrics, metric_value__isnull=False
        )
        fq, cq = common & Q(category="assessment"), common
        if version is not None:
            fq &= Q(version=version) | Q(version__isnull=True)
            cq &= Q(scan_run__version=version) | Q(scan_run__version__isnull=True)
        columns = ("id", "metric_name", "metric_value", "tool", "last_scan_id", "status")
        # (run id, source, metric, value, tool, finding id, finding status): newest run wins.
        seen: list[tuple[int, int, str, float, str, int | None, str]] = [
            (run or 0, 1, metric, value, tool, pk, status)
            for pk, metric, value, tool, run, status in Finding.objects.filter(fq)
            .order_by("-last_scan_id", "-id").values_list(*columns)[:1000]
        ] + [
            (run, 0, metric, value, tool, None, "")
            for metric, value, tool, run in CheckResult.objects.filter(cq)
            .order_by("-scan_run_id", "-id")
            .values_list("metric_name", "metric_value", "tool", "scan_run_id")[:1000]
        ]  # fmt: skip
        seen.sort(key=lambda s: (s[0], s[1]), reverse=True)
        for rule in rules:
            if self.waived(rule["id"]):
                continue
            metric, comparator, limit = rule["metric"], rule["comparator"], rule["value"]
            tool = rule.get("tool")
            latest = next(
                (s for s in seen if s[2] == metric and (tool is None or s[4] == tool)), None
            )
            by = f" by {tool}" if tool else ""
            if latest is None:
                if rule["required"]:
                    self.add(
                        rule["id"],
                        "fail",
                        f"missing evidence: no {metric} result{by} recorded for {self.subject}",
                        f"run the assessment{by} on {self.subject} and upload its report",
                    )
                continue
            run, _, _, value, source_tool, finding_id, status = latest
            if COMPARE[comparator](value, limit):
                continue
            if status in (Status.RISK_ACCEPTED, Status.FALSE_POSITIVE):
                continue  # the team's decision on that very result stands
            self.add(
                rule["id"],
                "fail",
                f"{metric} = {value:g} ({source_tool}, scan {run}); the policy requires "
                f"{comparator} {limit:g}",
                f"improve the model until {metric} {comparator} {limit:g}, or get an "
                f"approved exception for rule {rule['id']}",
                [finding_id] if finding_id else [],
            )


def gate_evaluate(
    model: MLModel, version: ModelVersion | None = None, *, now: datetime | None = None
) -> GateResult:
    """The gate verdict (``pass``, ``warn`` or ``fail``) of ``model`` (at ``version``) under
    the policy governing it, with one reason per failed or warning rule."""
    policy = policy_effective_for(model)
    ev = _Evaluation(model, version, policy, now or timezone.now())
    ev.load_exceptions()
    ev.findings_and_sla()
    ev.evidence()
    ev.assessments()
    ev.exceptions_ending()
    reasons = ev.reasons
    verdict = max((r.verdict for r in reasons), key=VERDICT_RANK.__getitem__, default="pass")
    return GateResult(verdict=verdict, reasons=reasons, policy=policy.label)
