"""Existing data migrates: the migration to scan subjects gives every finished scan the
subject it looked at and every finding an occurrence in the subject of the scan that last saw
it; model names that differ only in case are made distinct before the constraint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("findings", "0004_status_not_affected_category_model_code"),
    ("evidence", "0001_initial"),
    ("inventory", "0001_initial"),
    ("ingest", "0002_scanrun_in_evidence"),
]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_old_scans_and_findings_get_subjects_and_occurrences() -> None:
    old = _migrate(BEFORE)
    try:
        Team = old.get_model("accounts", "Team")
        MLModel = old.get_model("inventory", "MLModel")
        ModelVersion = old.get_model("inventory", "ModelVersion")
        ScanRun = old.get_model("evidence", "ScanRun")
        Finding = old.get_model("findings", "Finding")
        FindingEvent = old.get_model("findings", "FindingEvent")
        now = timezone.now()
        team = Team.objects.create(slug="t", name="T")
        model = MLModel.objects.create(team=team, name="Face-Blur")
        MLModel.objects.create(team=team, name="face-blur")  # allowed before: case differs
        v1 = ModelVersion.objects.create(model=model, version="1", artifact_sha256="a" * 64)
        v2 = ModelVersion.objects.create(model=model, version="2")
        common = {"team": team, "model": model, "status": "done", "finished_at": now}
        dep = ScanRun.objects.create(
            version=v2, tool="trivy", category="dependency", report_sha256="1" * 64,
            metadata={"ArtifactName": "registry/app:2"}, **common,
        )  # fmt: skip
        mf = ScanRun.objects.create(
            version=v1, tool="warden-modelscan", category="model_file",
            report_sha256="2" * 64, **common,
        )  # fmt: skip
        rt = ScanRun.objects.create(
            tool="llm-guard", category="runtime", report_sha256="3" * 64,
            metadata={"deployment": "prod-eu"}, **common,
        )  # fmt: skip

        def finding(fp: str, run: Any, status: str = "open", **kw: Any) -> Any:
            return Finding.objects.create(
                team=team, model=model, fingerprint=fp, category=run.category, tool=run.tool,
                tools=f",{run.tool},", title=fp, severity="high", status=status,
                first_seen=now - timedelta(days=3), last_seen=now, first_scan=run,
                last_scan=run, **kw,
            )  # fmt: skip

        open_dep = finding("dep-open", dep)
        fixed_dep = finding("dep-fixed", dep, "resolved", resolved_at=now)
        FindingEvent.objects.create(
            finding=fixed_dep, kind="status", from_value="open", to_value="resolved",
            actor_label=f"scan:{dep.pk}",
        )  # fmt: skip
        closed = finding("dep-closed", dep, "resolved", resolved_at=now)
        model_file = finding("mf", mf)
        runtime = finding("rt", rt)
    finally:
        _migrate(_latest())

    from governance.evidence.models import ScanRun as NewScanRun
    from governance.findings.models import Finding as NewFinding
    from governance.inventory.models import MLModel as NewModel

    runs = {r.pk: r for r in NewScanRun.objects.select_related("subject")}
    assert runs[dep.pk].subject.kind == "target"
    assert runs[dep.pk].subject.target == "registry/app:2"
    assert runs[dep.pk].subject.version_id == v2.pk
    assert runs[dep.pk].tool_family == "trivy"
    assert runs[mf.pk].subject.kind == "artifact"
    assert runs[mf.pk].subject.artifact_sha256 == "a" * 64
    assert runs[rt.pk].subject.kind == "deployment"
    assert runs[rt.pk].subject.environment == "prod-eu"
    assert runs[rt.pk].complete is False

    def occ(pk: int) -> tuple[int, str]:
        (o,) = NewFinding.objects.get(pk=pk).occurrences.all()
        return o.subject_id, o.state

    assert occ(open_dep.pk) == (runs[dep.pk].subject_id, "active")
    assert occ(model_file.pk) == (runs[mf.pk].subject_id, "active")
    assert occ(runtime.pk) == (runs[rt.pk].subject_id, "active")
    assert occ(fixed_dep.pk) == (runs[dep.pk].subject_id, "fixed")
    assert NewFinding.objects.get(pk=fixed_dep.pk).resolution == "fixed"
    assert NewFinding.objects.get(pk=closed.pk).resolution == "closed"
    assert sorted(NewModel.objects.values_list("name", flat=True)) == [
        "Face-Blur",
        "face-blur (2)",
    ]
