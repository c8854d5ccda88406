"""Server-side assessments: ``POST /api/v1/models/{id}/versions/{v}/assess/`` stores the
upload, a Celery task (eager here) runs Warden's runner, and the document is imported like an
uploaded warden.assessment/v1 report; the assessment page shows it."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.evidence.models import Assessment, CheckResult, ScanRun
from governance.findings.models import Finding
from governance.ingest.models import AssessmentUpload
from governance.inventory.models import MLModel, ModelVersion
from tests.assess import builders

pytestmark = pytest.mark.django_db


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture
def version(team_alpha: Any) -> ModelVersion:
    model = MLModel.objects.create(team=team_alpha, name="credit")
    return ModelVersion.objects.create(model=model, version="2.0", artifact_sha256="ab" * 32)


@pytest.fixture
def assess(client_of: Any, member: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """``assess(version, **fields)`` -> (response, client); the queued task runs (eagerly)
    when the request's transaction commits, as with a broker."""
    c = client_of(member)

    def post(version: ModelVersion, **fields: Any) -> Any:
        url = f"/api/v1/models/{version.model_id}/versions/{version.version}/assess/"
        with django_capture_on_commit_callbacks(execute=True):
            response = c.post(url, fields, format="multipart")
        return response

    post.client = c  # type: ignore[attr-defined]
    return post


def test_a_prediction_table_with_a_known_disparity_is_assessed_in_a_worker(
    assess: Any, version: ModelVersion
) -> None:
    frame = builders.disparity_table(6000)
    reference = builders.disparity_table(6000, seed=11)
    response = assess(
        version,
        data=_file("holdout.csv", _csv(frame)),
        reference=_file("train.csv", _csv(reference)),
        label="y",
        prediction="yhat",
        score="p",
        sensitive="sex,age_band",
        threshold=["demographic_parity_difference[sex]<=0.1", "roc_auc>=0.6"],
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    run = assess.client.get(body["url"]).json()  # GET the run for its status
    assert run["status"] == "done", run
    assert run["tool"] == "warden"
    assert run["scan_type"] == "warden-assessment"

    # The same figure computed with plain numpy: the selection-rate gap between a and b.
    rates = {g: frame.loc[frame.sex == g, "yhat"].mean() for g in ("a", "b")}
    expected = abs(rates["a"] - rates["b"])
    finding = Finding.objects.get(model=version.model, metric_name="demographic_parity_difference")
    assert finding.metric_value == pytest.approx(expected, abs=1e-12)
    assert finding.metric_threshold == 0.1
    assert finding.status == "open"
    passed = CheckResult.objects.get(scan_run_id=body["id"], metric_name="roc_auc")
    assert passed.metric_value >= 0.6

    record = Assessment.objects.get(scan_run_id=body["id"])
    assert record.origin == "server"
    assert record.mode == "predictions"
    assert record.artifact_sha256 == version.artifact_sha256  # tied to the version's digest
    assert record.dataset_sha256 == hashlib.sha256(_csv(frame)).hexdigest()
    assert record.dataset_rows == 6000
    gap = next(r for r in record.document["results"] if r["test"].endswith("[sex]"))
    assert gap["by_group"] == pytest.approx(rates)
    assert not AssessmentUpload.objects.exists()  # the stored tables are gone once it ran

    listed = assess.client.get(f"/api/v1/models/{version.model_id}/versions/2.0/assess/").json()
    assert [r["id"] for r in listed] == [body["id"]]
    assert listed[0]["assessment"]["verdict"]["failed"] == ["demographic_parity_difference[sex]"]
    assert listed[0]["assessment"]["page"].endswith(
        f"/models/{version.model_id}/versions/2.0/assessment/"
    )


def test_the_assessment_page_shows_verdict_groups_charts_fingerprint_and_versions(
    assess: Any, version: ModelVersion
) -> None:
    import sklearn

    frame = builders.disparity_table(4000)
    assess(
        version,
        data=_file("holdout.csv", _csv(frame)),
        reference=_file("train.csv", _csv(builders.disparity_table(4000, seed=5))),
        label="y", prediction="yhat", score="p", sensitive="sex,age_band",
        threshold=["demographic_parity_difference<=0.1"],
    )  # fmt: skip
    page = assess.client.get(f"/models/{version.model_id}/versions/2.0/assessment/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-verdict="fail"' in html
    assert 'data-groups="sex"' in html
    assert 'data-groups="sex+age_band"' in html
    for chart in ("fig-group-0", "fig-roc", "fig-calibration", "fig-drift"):
        assert f'data-figure="{chart}"' in html
        assert f'id="{chart}"' in html
    assert hashlib.sha256(_csv(frame)).hexdigest() in html
    assert f"<code>{sklearn.__version__}</code>" in html
    assert "<script>" not in html  # charts travel as JSON blocks (CSP: no inline script)
    # linked from the model page
    model_page = assess.client.get(f"/models/{version.model_id}/").content.decode()
    assert f"/models/{version.model_id}/versions/2.0/assessment/" in model_page


def test_a_threshold_line_sits_where_the_gap_limit_puts_it(
    assess: Any, version: ModelVersion
) -> None:
    from governance.metrics.assessments import assessment_page

    assess(
        version,
        data=_file("e.csv", _csv(builders.disparity_table(3000))),
        label="y", prediction="yhat", sensitive="sex",
        threshold=["demographic_parity_difference<=0.1"],
    )  # fmt: skip
    document = Assessment.objects.get().document
    page = assessment_page(document)
    gap = next(r for r in document["results"] if r["metric"] == "demographic_parity_difference")
    chart = page.charts[0].figure
    line = chart["layout"]["shapes"][0]
    assert line["y0"] == pytest.approx(max(gap["by_group"].values()) - 0.1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "target"}, "no column 'target' (label)"),
        ({"sensitive": "region"}, "no column 'region' (sensitive feature)"),
        ({"data": ("one.csv", "one_class")}, "has a single class"),
        ({"data": ("one.csv", "one_group")}, "has a single group"),
        ({"data": ("book.xlsx", "zip")}, "not CSV or Parquet"),
        ({"threshold": ["accurcy>=0.8"]}, "unknown metric 'accurcy' (did you mean accuracy?)"),
    ],
)
def test_bad_input_is_one_clear_400_and_queues_nothing(
    assess: Any, version: ModelVersion, fields: dict[str, Any], message: str
) -> None:
    frame = builders.disparity_table(500)
    blobs = {
        "one_class": _csv(frame.assign(y=1)),
        "one_group": _csv(frame.assign(sex="a")),
        "zip": b"PK\x03\x04" + b"\x00" * 200,
    }
    data = fields.pop("data", None)
    upload = _file(data[0], blobs[data[1]]) if data else _file("e.csv", _csv(frame))
    response = assess(
        version,
        **{"data": upload, "label": "y", "prediction": "yhat", "sensitive": "sex", **fields},
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert not ScanRun.objects.exists()


def test_an_upload_over_the_size_limit_is_413(
    assess: Any, version: ModelVersion, settings: Any
) -> None:
    settings.WARDEN_MAX_REPORT_BYTES = 1000
    response = assess(
        version, data=_file("e.csv", _csv(builders.disparity_table(500))), label="y",
        prediction="yhat",
    )  # fmt: skip
    assert response.status_code == 413
    assert "WARDEN_MAX_REPORT_BYTES" in response.json()["error"]


def test_without_the_assess_extra_the_server_answers_503_naming_it(
    assess: Any, version: ModelVersion, monkeypatch: Any
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fairlearn" else real(name)
    )
    response = assess(version, data=_file("e.csv", b"y,yhat\n1,0\n0,1\n"), label="y",
                      prediction="yhat")  # fmt: skip
    assert response.status_code == 503
    assert "pip install 'warden[assess]'" in response.json()["error"]
    assert "fairlearn" in response.json()["error"]


def test_a_viewer_cannot_start_an_assessment(
    client_of: Any, viewer: Any, version: ModelVersion
) -> None:
    response = client_of(viewer).post(
        f"/api/v1/models/{version.model_id}/versions/2.0/assess/",
        {"data": _file("e.csv", b"y\n1\n"), "label": "y"},
    )
    assert response.status_code == 403


# -- model-based runs ---------------------------------------------------------------------------


@pytest.fixture
def artifact_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "artifacts"
    root.mkdir()
    settings.WARDEN_ARTIFACT_ROOTS = [root.resolve()]
    return root


def _scanned_version(
    team: Any, artifact: Path, client: Any, capture: Any, name: str = "scorer"
) -> ModelVersion:
    """A version whose artifact is ``artifact``, scanned on the server (Warden's scanner)."""
    model = MLModel.objects.create(team=team, name=name)
    found = ModelVersion.objects.create(
        model=model,
        version="1.0",
        artifact_uri=str(artifact),
        artifact_sha256=hashlib.sha256(artifact.read_bytes()).hexdigest(),
    )
    with capture(execute=True):
        response = client.post(f"/api/v1/models/{model.pk}/versions/1.0/scan/")
    assert response.status_code == 202
    assert ScanRun.objects.get(pk=response.json()["id"]).status == "done"
    return found


def test_the_versions_onnx_artifact_is_run_on_the_server_with_robustness(
    assess: Any,
    team_alpha: Any,
    artifact_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    artifact = builders.logistic_onnx(artifact_root / "model.onnx", [1.0, 0.2], -0.4)
    found = _scanned_version(
        team_alpha, artifact, assess.client, django_capture_on_commit_callbacks
    )
    frame = builders.features_table(3000)
    response = assess(
        found,
        data=_file("eval.csv", _csv(frame)),
        label="y",
        run_model="true",
        features="x1,x2",
        sensitive="sex",
        threshold=["accuracy>=0.7", "noise_accuracy[0.1]>=0.6"],
    )
    assert response.status_code == 202, response.content
    run = ScanRun.objects.get(pk=response.json()["id"])
    assert run.status == "done", run.error
    record = Assessment.objects.get(scan_run=run)
    assert record.mode == "model"
    assert record.artifact_sha256 == found.artifact_sha256
    assert record.document["metadata"]["model_file"]["format"] == "onnx"
    # The model's accuracy, recomputed with numpy from the same logistic rule.
    z = frame.x1.to_numpy() * np.float32(1.0) + frame.x2.to_numpy() * np.float32(0.2) - 0.4
    expected = float(np.mean((z > 0).astype(int) == frame.y.to_numpy()))
    accuracy = next(r for r in record.document["results"] if r["test"] == "accuracy")
    assert accuracy["value"] == pytest.approx(expected, abs=2e-3)
    tests = {i["test"] for i in [*record.document["results"], *record.document["measurements"]]}
    assert {"noise_accuracy[0.1]", "evasion_rate", "min_perturbation"} <= tests
    assert CheckResult.objects.filter(scan_run=run, metric_name="noise_accuracy").exists()


def test_an_uploaded_onnx_file_runs_only_when_it_is_the_cleanly_scanned_artifact(
    assess: Any,
    team_alpha: Any,
    artifact_root: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    artifact = builders.logistic_onnx(artifact_root / "model.onnx", [1.0, 0.2], -0.4)
    found = _scanned_version(
        team_alpha, artifact, assess.client, django_capture_on_commit_callbacks
    )
    data = _csv(builders.features_table(1000))
    other = builders.logistic_onnx(tmp_path / "other.onnx", [0.5, 0.5], 0.0)
    refused = assess(
        found, data=_file("e.csv", data), label="y", features="x1,x2", robustness="false",
        model_file=_file("other.onnx", other.read_bytes()),
    )  # fmt: skip
    assert refused.status_code == 400
    assert "model other.onnx refused" in refused.json()["error"]
    assert "is not an artifact of scorer@1.0" in refused.json()["error"]

    accepted = assess(
        found, data=_file("e.csv", data), label="y", features="x1,x2", robustness="false",
        model_file=_file("model.onnx", artifact.read_bytes()),
    )  # fmt: skip
    assert accepted.status_code == 202, accepted.content
    assert ScanRun.objects.get(pk=accepted.json()["id"]).status == "done"


def test_a_pickle_model_is_refused_even_with_a_clean_looking_name(
    assess: Any,
    team_alpha: Any,
    artifact_root: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # A harmless pickle (an empty dict, no call) named like an ONNX file: the format found
    # by content is the refusal, whatever its scan says.
    from tests.scanners.modelfile.picklegen import P

    artifact = artifact_root / "model.onnx"
    artifact.write_bytes(P(4).raw(b"}").stop().data)
    found = _scanned_version(
        team_alpha, artifact, assess.client, django_capture_on_commit_callbacks
    )
    canary = tmp_path / "canary"
    response = assess(
        found, data=_file("e.csv", _csv(builders.features_table(500))), label="y",
        run_model="true", features="x1,x2",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"].startswith("model model.onnx refused: the file is a pickle")
    assert not canary.exists()
    assert not ScanRun.objects.filter(scan_type="warden-assessment").exists()


def test_a_model_whose_scan_is_not_clean_is_refused(
    assess: Any,
    team_alpha: Any,
    artifact_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from governance.ingest.services import scan_run_import
    from scanners import NormalizedFinding, Report

    artifact = builders.logistic_onnx(artifact_root / "model.onnx", [1.0, 0.2], -0.4)
    found = _scanned_version(
        team_alpha, artifact, assess.client, django_capture_on_commit_callbacks
    )
    # Another model-file scanner reports a high finding in these very bytes.
    report = Report(
        tool="modelaudit", tool_version="1", scan_type="modelaudit", category="model_file"
    )
    report.artifact_sha256 = found.artifact_sha256
    report.findings.append(
        NormalizedFinding(
            fingerprint="f" * 64, category="model_file", tool="modelaudit", rule_id="S999",
            title="suspicious operator", severity="high",
        )
    )  # fmt: skip
    run = ScanRun.objects.create(
        team=team_alpha, model=found.model, version=found, report_sha256="1" * 64,
        artifact_sha256=found.artifact_sha256,
    )  # fmt: skip
    scan_run_import(scan_run=run, report=report)
    finding = Finding.objects.get(rule_id="S999")

    response = assess(
        found, data=_file("e.csv", _csv(builders.features_table(500))), label="y",
        run_model="true", features="x1,x2",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"] == (
        f"model model.onnx refused: its model-file scan is not clean: open high or critical "
        f"findings (#{finding.pk}) in the artifact {found.artifact_sha256[:12]}… of "
        "scorer@1.0; Warden does not run it"
    )
    assert not ScanRun.objects.filter(scan_type="warden-assessment").exists()


def test_a_model_never_scanned_is_refused_with_how_to_scan_it(
    assess: Any, team_alpha: Any, artifact_root: Path
) -> None:
    artifact = builders.logistic_onnx(artifact_root / "model.onnx", [1.0, 0.2], -0.4)
    model = MLModel.objects.create(team=team_alpha, name="unscanned")
    found = ModelVersion.objects.create(
        model=model, version="1.0", artifact_uri=str(artifact),
        artifact_sha256=hashlib.sha256(artifact.read_bytes()).hexdigest(),
    )  # fmt: skip
    response = assess(
        found, data=_file("e.csv", _csv(builders.features_table(500))), label="y",
        run_model="true", features="x1,x2",
    )  # fmt: skip
    assert response.status_code == 400
    assert "no finished model-file scan" in response.json()["error"]


def test_a_model_that_exceeds_the_worker_memory_limit_fails_the_run_with_the_limit(
    assess: Any,
    team_alpha: Any,
    artifact_root: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WARDEN_ASSESS_MEMORY_MB = 1024
    artifact = builders.memory_hog_onnx(artifact_root / "hog.onnx")
    found = _scanned_version(
        team_alpha, artifact, assess.client, django_capture_on_commit_callbacks, name="hog"
    )
    response = assess(
        found, data=_file("e.csv", _csv(builders.features_table(200))), label="y",
        run_model="true", features="x1,x2", robustness="false",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    run = assess.client.get(response.json()["url"]).json()
    assert run["status"] == "failed"
    assert "memory" in run["error"]
    assert "1024 MiB" in run["error"]


def test_the_list_and_the_page_cost_a_fixed_number_of_queries(
    assess: Any, version: ModelVersion, django_assert_max_num_queries: Any
) -> None:
    data = _csv(builders.disparity_table(600))
    for i in range(3):
        assess(version, data=_file(f"e{i}.csv", data), label="y", prediction="yhat",
               sensitive="sex")  # fmt: skip
    url = f"/api/v1/models/{version.model_id}/versions/2.0/assess/"
    # session, user, teams, model, version, the runs joined with their assessments: the same
    # for 3 runs as for 50
    with django_assert_max_num_queries(6):
        rows = assess.client.get(url).json()
    assert len(rows) == 3
    # the access path, the newest assessment, the runs, and the gate's fixed set of queries
    with django_assert_max_num_queries(12):
        page = assess.client.get(f"/models/{version.model_id}/versions/2.0/assessment/")
    assert page.status_code == 200


def test_a_queued_assessment_no_worker_finished_is_handed_to_the_assessment_task(
    assess: Any, version: ModelVersion, settings: Any, client_of: Any, member: Any
) -> None:
    from governance.ingest.recovery import scan_runs_requeue_claim

    # Queued, but the task never ran (the broker was down): no on_commit execution here.
    response = client_of(member).post(
        f"/api/v1/models/{version.model_id}/versions/2.0/assess/",
        {"data": _file("e.csv", _csv(builders.disparity_table(300))), "label": "y",
         "prediction": "yhat"},
    )  # fmt: skip
    assert response.status_code == 202
    run_id = response.json()["id"]
    later = timezone.now() + timedelta(seconds=settings.WARDEN_REQUEUE_AFTER_SECONDS + 1)

    imports, scans, assessments = scan_runs_requeue_claim(now=later)

    assert (imports, scans, assessments) == ([], [], [run_id])
    from governance.ingest.tasks import assessment_run_task

    assert assessment_run_task(run_id) == "done"
    assert Assessment.objects.filter(scan_run_id=run_id).exists()


def test_the_policys_limits_judge_a_server_run_unless_the_request_names_the_metric(
    assess: Any, version: ModelVersion, team_alpha: Any
) -> None:
    from governance.policies.services import OPERATOR, policy_create

    policy_create(
        team=team_alpha,
        document={
            "schema": "warden.policy/v1",
            "name": "fairness",
            "evidence": [{"id": "fair", "warden_assessment": {"metrics": [
                {"metric": "demographic_parity_difference", "comparator": "<=", "value": 0.1}
            ]}}],
            "assessments": [
                {"id": "acc", "metric": "accuracy", "comparator": ">=", "value": 0.5},
                {"id": "art", "metric": "adversarial_accuracy", "comparator": ">=", "value": 0.5},
            ],
        },
        actor=OPERATOR,
    )  # fmt: skip
    data = _csv(builders.disparity_table(3000))
    response = assess(
        version, data=_file("e.csv", data), label="y", prediction="yhat", sensitive="sex",
        threshold=["accuracy>=0.99"],
    )  # fmt: skip
    assert response.status_code == 202, response.content
    document = Assessment.objects.get(scan_run_id=response.json()["id"]).document
    # the request's accuracy limit wins; the policy's parity limit applies; a metric the runner
    # does not measure (another tool's adversarial_accuracy) is left to that tool
    assert document["metadata"]["thresholds"] == [
        "accuracy>=0.99",
        "demographic_parity_difference<=0.1",
    ]
    judged = {r["test"]: r["threshold"] for r in document["results"]}
    assert judged == {"accuracy": 0.99, "demographic_parity_difference[sex]": 0.1}


def test_a_version_without_an_assessment_shows_how_to_get_one(
    client_of: Any, viewer: Any, version: ModelVersion
) -> None:
    page = client_of(viewer).get(f"/models/{version.model_id}/versions/2.0/assessment/")
    assert page.status_code == 200  # viewers read it
    html = page.content.decode()
    assert 'data-verdict="none"' in html
    assert f"/api/v1/models/{version.model_id}/versions/2.0/assess/" in html


def test_a_failed_run_shows_its_error_on_the_page(
    assess: Any,
    team_alpha: Any,
    artifact_root: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WARDEN_ASSESS_MEMORY_MB = 1024
    artifact = builders.memory_hog_onnx(artifact_root / "hog.onnx")
    found = _scanned_version(
        team_alpha, artifact, assess.client, django_capture_on_commit_callbacks, name="hog"
    )
    assess(
        found, data=_file("e.csv", _csv(builders.features_table(200))), label="y",
        run_model="true", features="x1,x2", robustness="false",
    )  # fmt: skip
    html = assess.client.get(f"/models/{found.model_id}/versions/1.0/assessment/").content
    assert b"data-error>the model worker ran out of memory" in html
