"""Parser for Warden's own model-file scanner JSON (``scan --format json``)."""

from __future__ import annotations

import json

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.modelfile import scan_bytes, to_json_doc, to_report
from scanners.parsers import warden_modelscan
from tests.scanners.modelfile.picklegen import call_pickle


def _doc() -> dict:  # type: ignore[type-arg]
    results = [
        scan_bytes(call_pickle("os", "system", "id"), "models/evil.pkl"),
        scan_bytes(call_pickle("textwrap", "dedent", "x"), "models/odd.pkl"),
        scan_bytes(b"plain text", "models/README"),
    ]
    return json.loads(json.dumps(to_json_doc(results)))


def test_sniff_and_detect() -> None:
    data = json.dumps(_doc()).encode()
    assert warden_modelscan.sniff(Document(data))
    assert not warden_modelscan.sniff(Document(b'{"issues": [], "summary": {}}'))
    assert parse(data).scan_type == "warden-modelscan"


def test_round_trip_keeps_every_field() -> None:
    doc = _doc()
    report = parse(json.dumps(doc).encode())
    assert report.tool == "warden-modelscan"
    assert report.category == "model_file"
    assert report.tool_version == doc["version"]
    original = [f for file in doc["files"] for f in file["findings"]]
    assert [f.to_dict() for f in report.findings] == original
    assert {m["path"] for m in report.metadata["files"]} == {
        "models/evil.pkl",
        "models/odd.pkl",
        "models/README",
    }
    assert all(len(m["sha256"]) == 64 for m in report.metadata["files"])


def test_matches_to_report() -> None:
    results = [scan_bytes(call_pickle("os", "system", "id"), "evil.pkl")]
    parsed = parse(json.dumps(to_json_doc(results)).encode())
    direct = to_report(results)
    assert [f.fingerprint for f in parsed.findings] == [f.fingerprint for f in direct.findings]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema="warden.modelscan/v9"), "schema"),
        (lambda d: d["files"][0]["findings"][0].update(severity="urgent"), "severity"),
        (lambda d: d["files"][0]["findings"][0].pop("fingerprint"), "fingerprint"),
        (lambda d: d["files"][0]["findings"][0].update(category="code"), "category"),
        (lambda d: d["files"][0]["findings"][0].update(atlas=[1]), "atlas"),
        (lambda d: d["files"][0].pop("path"), "path"),
    ],
)
def test_errors_name_the_place(mutate: object, message: str) -> None:
    doc = _doc()
    assert callable(mutate)
    mutate(doc)
    with pytest.raises(ReportError, match=message):
        parse(json.dumps(doc).encode(), scan_type="warden-modelscan")


def test_unreadable_file_becomes_a_warning() -> None:
    doc = _doc()
    doc["files"][2]["error"] = "Permission denied"
    report = parse(json.dumps(doc).encode())
    assert report.warnings == ["models/README: Permission denied"]
