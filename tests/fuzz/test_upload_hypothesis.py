"""Whatever a client uploads to POST /api/v1/scans/, the answer is JSON, never a server
error, and a refused upload writes nothing (no run, no model, no finding)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.evidence.models import ScanRun
from governance.findings.models import Finding
from governance.inventory.models import MLModel

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20,
)  # fmt: skip
# Report-like JSON (keys the parsers look for), arbitrary JSON, and arbitrary bytes.
report_like = st.fixed_dictionaries(
    {},
    optional={
        "SchemaVersion": st.integers(0, 3), "ArtifactName": st.text(max_size=10),
        "Results": st.lists(st.dictionaries(st.sampled_from(
            ["Target", "Class", "Type", "Vulnerabilities", "VulnerabilityID", "Severity"]),
            json_values, max_size=4), max_size=3),
        "matches": json_values, "dependencies": json_values, "runs": json_values,
        "bomFormat": st.just("CycloneDX"), "specVersion": st.text(max_size=4),
        "vulnerabilities": json_values, "schema": st.text(max_size=30),
    },
)  # fmt: skip
bodies = (
    report_like.map(lambda d: json.dumps(d).encode())
    | json_values.map(lambda d: json.dumps(d).encode())
    | st.binary(max_size=300)
)
fields = st.fixed_dictionaries(
    {"model": st.text(max_size=30)},
    optional={
        "version": st.text(max_size=12), "target": st.text(max_size=12),
        "scan_type": st.sampled_from(["", "trivy", "grype", "sarif", "cyclonedx", "nope"]),
        "artifact_sha256": st.text(alphabet="0123456789abcdefX", max_size=66),
        "create_model": st.sampled_from(["true", "false", "maybe"]),
    },
)  # fmt: skip


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)  # fmt: skip
@given(body=bodies, form=fields)
def test_any_upload_is_answered_in_json_and_a_refusal_writes_nothing(
    api: Any, make_token: Any, team_alpha: Any, body: bytes, form: dict[str, str]
) -> None:
    token = make_token(team_alpha, "write")
    before = (ScanRun.objects.count(), MLModel.objects.count(), Finding.objects.count())
    payload = {"file": SimpleUploadedFile("report.json", body), **form}
    response = api(token).post("/api/v1/scans/", payload, format="multipart")
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        assert response.json()["error"]
        after = (ScanRun.objects.count(), MLModel.objects.count(), Finding.objects.count())
        assert after == before
