"""Demo data: teams, users, ~20 models, and real sample reports imported through the API's path.

Idempotent: teams, users and models are fetched or created, and report imports are keyed on
the report's sha256, so running it again changes nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from governance.accounts.models import Role, Team
from governance.accounts.services import membership_set, team_create
from governance.evidence.models import ScanRun
from governance.findings.models import Finding, FindingEvent, FindingOccurrence, Status
from governance.findings.services import finding_assign, finding_triage
from governance.findings.sla import sla_due
from governance.ingest.services import report_submit
from governance.inventory.models import MLModel
from governance.inventory.services import gate_stamps_bump
from governance.lib.api_errors import ApplicationError
from governance.metrics.services import posture_backfill
from governance.policies.schema import policy_document_parse
from governance.policies.services import policy_import
from governance.policies.sla import sla_days_for_model

FIXTURES = Path(settings.BASE_DIR) / "tests" / "fixtures"
#: Days of history the demo lays down: the dashboard's trend window.
HISTORY_DAYS = 90
#: Days a fix of each severity takes in the demo's history (give or take four).
FIX_DAYS = {"critical": 5, "high": 14, "medium": 30, "low": 45, "info": 45}

TEAMS = {
    "fraud-risk": "Fraud & Risk ML",
    "nlp-platform": "NLP Platform",
    "vision": "Computer Vision",
}

# (team, model, risk tier, stage, use case, [(version, [report paths under tests/fixtures])])
MODELS: list[tuple[str, str, str, str, str, list[tuple[str, list[str]]]]] = [
    (
        "fraud-risk",
        "card-fraud-xgb",
        "critical",
        "production",
        "Card transaction fraud scoring",
        [
            ("1.4.0", ["pip-audit/many_vulns.json", "modelscan/malicious_os_system.json"]),
            ("1.5.0", ["pip-audit/many_vulns_new.json", "modelscan/benign_torch_model.json"]),
        ],
    ),
    (
        "fraud-risk",
        "credit-default-lgbm",
        "high",
        "production",
        "Loan default probability",
        [("2.1.0", ["grype/fix_available.json", "evidently/snapshot_datadrift_with_tests.json"])],
    ),
    (
        "fraud-risk",
        "aml-graph-gnn",
        "high",
        "staging",
        "Anti-money-laundering graph model",
        [("0.9.0", ["trivy/scheme_2_many_vulns.json", "picklescan/malicious_torch_model.txt"])],
    ),
    (
        "fraud-risk",
        "chargeback-classifier",
        "medium",
        "production",
        "Chargeback triage",
        [
            (
                "3.0.1",
                ["osv-scanner/some_findings.json", "evidently/legacy_testsuite_datadrift.json"],
            )
        ],
    ),
    (
        "fraud-risk",
        "merchant-risk-scorer",
        "medium",
        "development",
        "Merchant onboarding risk",
        [("0.2.0", ["cyclonedx/valid-vulnerability-1.4.json"])],
    ),
    (
        "fraud-risk",
        "kyc-doc-matcher",
        "low",
        "retired",
        "KYC document matching (retired)",
        [("1.0.0", ["pip-audit/zero_vulns_new.json"])],
    ),
    (
        "fraud-risk",
        "txn-anomaly-iforest",
        "high",
        "production",
        "Transaction anomaly detection",
        [
            (
                "1.2.0",
                [
                    "grype/many_vulns_with_epss_values.json",
                    "evidently/legacy_report_datadrift.json",
                ],
            )
        ],
    ),
    (
        "nlp-platform",
        "support-chat-llm",
        "critical",
        "production",
        "Customer support assistant",
        [
            (
                "2025.11",
                [
                    "garak/report_with_ci.report.jsonl",
                    "promptfoo/many_findings.json",
                    "ai-firewall/firewall_metrics.prom",
                ],
            )
        ],
    ),
    (
        "nlp-platform",
        "toxicity-filter",
        "high",
        "production",
        "Moderation of user content",
        [("4.2.0", ["garak/quack_with_digest.report.jsonl", "sarif/taint-python-report.sarif"])],
    ),
    (
        "nlp-platform",
        "doc-summarizer",
        "medium",
        "staging",
        "Internal document summaries",
        [("0.7.0", ["garak/many_hits.hitlog.jsonl", "bandit/insecure_app.sarif"])],
    ),
    (
        "nlp-platform",
        "intent-router",
        "medium",
        "production",
        "Routes chats to teams",
        [("1.1.0", ["ruff/insecure_app.sarif", "pip-audit/formatter_with_fix.json"])],
    ),
    (
        "nlp-platform",
        "embedding-service",
        "low",
        "production",
        "Sentence embeddings",
        [("1.0.3", ["cyclonedx/python_env_sbom_1.6.json", "cyclonedx/ml_bom_1.6_handmade.json"])],
    ),
    (
        "nlp-platform",
        "translation-mt5",
        "medium",
        "development",
        "EN<->DE translation",
        [("0.3.0", ["modelaudit/malicious_torch_model.json", "fickling/malicious_os_system.json"])],
    ),
    (
        "vision",
        "defect-detector-yolo",
        "high",
        "production",
        "Factory line defect detection",
        [("5.0.0", ["trivy/all_statuses.json", "modelaudit/benign_torch_model.json"])],
    ),
    (
        "vision",
        "face-blur",
        "critical",
        "staging",
        "Privacy blurring for street imagery",
        [("0.4.1", ["grype/check_all_fields.json", "modelscan/malicious_torch_model.json"])],
    ),
    (
        "vision",
        "ocr-receipts",
        "medium",
        "production",
        "Receipt OCR",
        [
            (
                "2.3.0",
                ["osv-scanner/test-vuln-results-a.json", "semgrep/high-medium-low-severities.json"],
            )
        ],
    ),
    (
        "vision",
        "shelf-counter",
        "low",
        "development",
        "Retail shelf stock counting",
        [("0.1.0", ["trivy/misconfigurations_and_secrets.json"])],
    ),
    (
        "vision",
        "xray-triage",
        "critical",
        "development",
        "Radiology pre-screening",
        [("0.8.0", ["picklescan/malicious_os_system.txt", "sarif/gitleaks_7.5.0.sarif"])],
    ),
    (
        "vision",
        "plate-reader",
        "high",
        "retired",
        "Licence plate reading (retired)",
        [("1.9.0", ["trivy/legacy_trivy_mix.json"])],
    ),
]
OUTSIDER_MODELS = [("partner-scoring", "high", "production", ["grype/fix_available.json"])]


class Command(BaseCommand):
    help = "Load demo teams, users, models and sample reports (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = settings.WARDEN_DEMO_PASSWORD
        users = {name: self._user(name, password) for name in ("lead", "member", "viewer")}
        outsider = self._user("outsider", password)
        teams: dict[str, Team] = {}
        for slug, name in TEAMS.items():
            teams[slug] = team_create(slug=slug, name=name)
            for role in (Role.LEAD, Role.MEMBER, Role.VIEWER):
                membership_set(team=teams[slug], user=users[role.value], role=role.value)
        outsiders = team_create(slug="outsiders", name="Partner Analytics")
        membership_set(team=outsiders, user=outsider, role=Role.LEAD)

        imported = skipped = 0
        for slug, name, tier, stage, use_case, versions in MODELS:
            model = self._model(teams[slug], name, tier, stage, use_case, users["member"])
            for version, reports in versions:
                for rel in reports:
                    imported, skipped = self._import(model, version, rel, imported, skipped)
        imported, skipped = self._remediation_and_deployments(teams, imported, skipped)
        for name, tier, stage, reports in OUTSIDER_MODELS:
            model = self._model(outsiders, name, tier, stage, "", outsider)
            for rel in reports:
                imported, skipped = self._import(model, "1.0.0", rel, imported, skipped)
        self._triage_examples(teams, users)
        self._example_policies(teams["fraud-risk"], users["lead"])
        fixed = self._history(teams, users)
        rollups = posture_backfill(today=timezone.localdate(), days=HISTORY_DAYS - 1)
        self.stdout.write(
            f"demo data ready: {len(TEAMS) + 1} teams, "
            f"{MLModel.objects.filter(team__slug__in=[*TEAMS, 'outsiders']).count()} models, "
            f"{Finding.objects.filter(team__slug__in=[*TEAMS, 'outsiders']).count()} findings "
            f"({imported} reports imported now, {skipped} skipped); history: {fixed} fixes "
            f"laid down now, {rollups} rollup rows backfilled"
        )

    def _user(self, username: str, password: str) -> Any:
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=username, email=f"{username}@warden.example", password=password
            )
        return user

    def _model(
        self, team: Team, name: str, tier: str, stage: str, use_case: str, owner: Any
    ) -> MLModel:
        model, _ = MLModel.objects.get_or_create(
            team=team,
            name=name,
            defaults={
                "risk_tier": tier,
                "stage": stage,
                "use_case": use_case,
                "owner": owner,
                "description": f"{use_case}. Demo model.",
                "tags": ["demo", team.slug],
            },
        )
        return model

    def _import(
        self, model: MLModel, version: str, rel: str, imported: int, skipped: int
    ) -> tuple[int, int]:
        path = FIXTURES / rel
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.stderr.write(f"skipped {rel} for {model.name}: {exc}")
            return imported, skipped + 1
        return self._submit(model, version, data, path.name, imported, skipped)

    def _submit(
        self,
        model: MLModel,
        version: str,
        data: bytes,
        filename: str,
        imported: int,
        skipped: int,
        **fields: Any,
    ) -> tuple[int, int]:
        try:
            result = report_submit(
                team=model.team,
                model_name=model.name,
                version=version,
                data=data,
                filename=filename,
                commit="0" * 7 + "demo",
                branch="main",
                run_async=False,
                **fields,
            )
        except ApplicationError as exc:
            self.stderr.write(f"skipped {filename} for {model.name}: {exc}")
            return imported, skipped + 1
        return imported + int(result.created), skipped

    def _remediation_and_deployments(
        self, teams: dict[str, Team], imported: int, skipped: int
    ) -> tuple[int, int]:
        """Real remediations (the same subject scanned again after an upgrade: pip-audit of
        card-fraud-xgb 1.5.0 no longer reports two upgraded packages, which 1.4.0 still has;
        intent-router 1.1.0 no longer reports requests) and two deployments of one model
        (runtime events for prod-eu and prod-us, each its own subject)."""
        card = MLModel.objects.get(team=teams["fraud-risk"], name="card-fraud-xgb")
        deps = json.loads((FIXTURES / "pip-audit" / "many_vulns.json").read_bytes())
        upgraded = set(sorted(d["name"] for d in deps if d.get("vulns"))[:2])
        after = [
            {**d, "version": d["version"] + ".post1", "vulns": []} if d["name"] in upgraded else d
            for d in deps
        ]
        imported, skipped = self._submit(
            card, "1.5.0", json.dumps(after).encode(), "pip-audit-after-upgrade.json",
            imported, skipped,
        )  # fmt: skip
        # intent-router 1.1.0 upgraded requests as pip-audit advised: the CVE is fixed there.
        router = MLModel.objects.get(team=teams["nlp-platform"], name="intent-router")
        fixed = json.loads((FIXTURES / "pip-audit" / "formatter_with_fix.json").read_bytes())
        for dep in fixed["dependencies"]:
            if dep.get("vulns"):
                dep["version"], dep["vulns"] = dep["vulns"][0]["fix_versions"][0], []
        fixed["fixes"] = []
        imported, skipped = self._submit(
            router, "1.1.0", json.dumps(fixed).encode(), "pip-audit-after-upgrade.json",
            imported, skipped,
        )  # fmt: skip
        anomaly = MLModel.objects.get(team=teams["fraud-risk"], name="txn-anomaly-iforest")
        for env, blocks, drift in (("prod-eu", 7, True), ("prod-us", 2, False)):
            events = [
                {"time": "2026-11-30T10:00:00Z", "kind": "attack", "rule": "evasion_probe",
                 "count": blocks, "severity": "high"},
            ]  # fmt: skip
            if drift:
                events.append(
                    {"time": "2026-11-30T11:00:00Z", "kind": "drift",
                     "rule": "feature_drift:amount", "count": 1}
                )  # fmt: skip
            doc = {"schema": "warden.runtime/v1", "tool": "warden-monitor", "deployment": env,
                   "model": anomaly.name, "model_version": "1.2.0", "events": events}  # fmt: skip
            imported, skipped = self._submit(
                anomaly, "1.2.0", json.dumps(doc).encode(), f"runtime-{env}.json",
                imported, skipped, environment=env,
            )  # fmt: skip
        return imported, skipped

    def _example_policies(self, team: Team, lead: Any) -> None:
        """The shipped example policies for high and critical tiers, as one team's policies,
        so the demo shows policy-driven gates (evidence, thresholds). Import is idempotent."""
        for tier in ("high", "critical"):
            path = Path(settings.BASE_DIR) / "docs" / "policies" / f"{tier}.yaml"
            policy_import(team=team, document=policy_document_parse(path.read_text()), actor=lead)

    @transaction.atomic
    def _triage_examples(self, teams: dict[str, Team], users: dict[str, Any]) -> None:
        """A little triage history so the audit trail and statuses are not all 'open'."""
        for team in teams.values():
            if FindingEvent.objects.filter(finding__team=team, actor__isnull=False).exists():
                continue  # already done on an earlier run
            active = list(Finding.objects.filter(team=team, status=Status.OPEN).order_by("id")[:3])
            if len(active) < 3:
                continue
            finding_assign(finding=active[0], actor=users["lead"], assignee_username="member")
            finding_triage(
                finding=active[0],
                actor=users["member"],
                status=Status.IN_PROGRESS,
                reason="upgrade scheduled for next sprint",
            )
            finding_triage(
                finding=active[1],
                actor=users["member"],
                status=Status.FALSE_POSITIVE,
                reason="the vulnerable code path is not reachable from the service",
            )
            finding_triage(
                finding=active[2],
                actor=users["member"],
                status=Status.CONFIRMED,
                reason="reproduced",
            )

    @transaction.atomic
    def _history(self, teams: dict[str, Team], users: dict[str, Any]) -> int:
        """90 days of history, set-based: the imported findings were first seen over the last
        90 days (scan runs dated with the earliest finding each found), about four in ten of
        the open ones were fixed since (after a severity-dependent time, by a later scan of
        the same subject: resolved, resolution ``fixed``, occurrences closed, the status event
        dated then), a tenth moved to in progress by the member. The trend, MTTR and SLA
        charts then have real shapes; ``posture_backfill`` derives the daily rollups.

        Done once: when a demo finding is already older than two days, nothing changes.
        """
        now = timezone.now()
        scope = Finding.objects.filter(team__in=teams.values())
        if scope.filter(first_seen__lt=now - timedelta(days=2)).exists():
            return 0
        touched = set(
            FindingEvent.objects.filter(finding__in=scope, actor__isnull=False).values_list(
                "finding_id", flat=True
            )
        )
        sla_days: dict[int, dict[str, int | None]] = {}
        findings = list(scope.select_related("model").order_by("id"))
        events: list[tuple[FindingEvent, Any]] = []
        fixed_ids: list[int] = []
        for f in findings:
            age = 1 + (f.pk * 37) % (HISTORY_DAYS - 2)
            f.first_seen = now - timedelta(days=age, hours=(f.pk * 7) % 24)
            if f.model_id not in sla_days:
                sla_days[f.model_id] = sla_days_for_model(f.model)
            f.sla_due = sla_due(f.first_seen, f.severity, sla_days[f.model_id])
            if f.status == Status.RESOLVED and f.resolved_at is not None:
                continue  # a real rescan fixed it (today): its MTTR now spans its history
            if f.status != Status.OPEN or f.pk in touched:
                continue
            if f.pk % 10 < 4:
                took = FIX_DAYS.get(f.severity, 30) + (f.pk % 9) - 4
                resolved_at = f.first_seen + timedelta(days=max(1, took), hours=3)
                if resolved_at >= now - timedelta(hours=1):
                    continue
                f.status, f.resolution = Status.RESOLVED, Finding.Resolution.FIXED
                f.resolved_at = f.last_seen = resolved_at
                fixed_ids.append(f.pk)
                event = FindingEvent(
                    finding=f,
                    kind=FindingEvent.Kind.STATUS,
                    from_value=Status.OPEN,
                    to_value=Status.RESOLVED,
                    actor_label=f"scan:{f.last_scan_id}" if f.last_scan_id else "system",
                    reason="no longer reported by a later scan of the same subject",
                )
                events.append((event, resolved_at))
            elif f.pk % 10 == 4:
                f.status = Status.IN_PROGRESS
                event = FindingEvent(
                    finding=f,
                    kind=FindingEvent.Kind.STATUS,
                    actor=users["member"],
                    from_value=Status.OPEN,
                    to_value=Status.IN_PROGRESS,
                    reason="fix scheduled",
                )
                events.append((event, min(f.first_seen + timedelta(days=2), now)))
        Finding.objects.bulk_update(
            findings,
            ["first_seen", "last_seen", "sla_due", "status", "resolution", "resolved_at"],
            batch_size=2000,
        )
        created = FindingEvent.objects.bulk_create([e for e, _ in events], batch_size=2000)
        for event, (_, when) in zip(created, events, strict=True):
            event.created_at = when  # auto_now_add set "now" on insert; bulk_update keeps this
        FindingEvent.objects.bulk_update(created, ["created_at"], batch_size=2000)
        first_seen = Finding.objects.filter(pk=OuterRef("finding_id")).values("first_seen")
        FindingOccurrence.objects.filter(finding__in=scope).update(first_seen=Subquery(first_seen))
        fixed_at = Finding.objects.filter(pk=OuterRef("finding_id")).values("resolved_at")
        FindingOccurrence.objects.filter(
            finding_id__in=fixed_ids, state=FindingOccurrence.State.ACTIVE
        ).update(state=FindingOccurrence.State.FIXED, closed_at=Subquery(fixed_at))
        earliest = (
            Finding.objects.filter(first_scan_id=OuterRef("pk"))
            .order_by("first_seen")
            .values("first_seen")[:1]
        )
        found_first = Finding.objects.filter(first_scan_id=OuterRef("pk"))
        runs = ScanRun.objects.filter(Exists(found_first), team__in=teams.values())
        runs.update(created_at=Subquery(earliest), finished_at=Subquery(earliest))
        # Cached figures (dashboard, gate) are keyed on the models' gate stamps: move them on.
        gate_stamps_bump(model_ids=sorted({f.model_id for f in findings}))
        return len(fixed_ids)
