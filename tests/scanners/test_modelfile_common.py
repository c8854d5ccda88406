"""The shared model-file rules, and the cross-tool check: modelscan, picklescan, ModelAudit and
fickling were run on the same crafted files (malicious_os_system.pkl: a bare pickle calling
os.system, pickled on Linux as posix.system; malicious_torch_model.pt: a torch zip whose
archive/data.pkl does the same), so where two reports name the same member and import they
must give the same fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners import parse
from scanners.document import Document
from scanners.parsers import _modelfile_common as mf
from scanners.parsers import fickling

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def unsafe(name: str) -> list[str]:
    return [f.fingerprint for f in parse(fixture(name)).findings if f.rule_id == "unsafe-import"]


def test_all_four_tools_agree_on_the_os_system_pickle() -> None:
    modelscan = unsafe("modelscan/malicious_os_system.json")
    picklescan = unsafe("picklescan/malicious_os_system.txt")
    modelaudit = unsafe("modelaudit/malicious_os_system.json")
    # fickling's report does not name the file: the runner that knows it passes it on
    fick = fickling.parse(
        Document(fixture("fickling/malicious_os_system.json")), artifact="malicious_os_system.pkl"
    )
    fickling_fp = [f.fingerprint for f in fick.findings if f.rule_id == "unsafe-import"]

    assert len(modelscan) == 1
    assert modelscan == picklescan == modelaudit == fickling_fp


def test_without_the_artifact_name_fickling_agrees_on_rule_and_import_only() -> None:
    [fick] = [
        f
        for f in parse(fixture("fickling/malicious_os_system.json")).findings
        if f.rule_id == "unsafe-import"
    ]
    [scan] = parse(fixture("modelscan/malicious_os_system.json")).findings

    assert (fick.rule_id, fick.evidence["import"]) == (scan.rule_id, scan.evidence["import"])
    assert fick.fingerprint != scan.fingerprint


def test_three_tools_agree_on_the_torch_archive_member() -> None:
    modelscan = unsafe("modelscan/malicious_torch_model.json")
    picklescan = unsafe("picklescan/malicious_torch_model.txt")
    modelaudit = unsafe("modelaudit/malicious_torch_model.json")

    assert len(modelscan) == 1
    assert modelscan == picklescan == modelaudit
    assert modelscan != unsafe("modelscan/malicious_os_system.json")


def test_no_tool_reports_an_unsafe_import_in_the_benign_model() -> None:
    for name in (
        "modelscan/benign_torch_model.json",
        "picklescan/benign_torch_model.txt",
        "modelaudit/benign_torch_model.json",
    ):
        assert unsafe(name) == [], name


@pytest.mark.parametrize(
    ("location", "split", "key"),
    [
        ("model.pkl", ("model.pkl", ""), "model.pkl"),
        ("m.pt:archive/data.pkl (pos 291)", ("m.pt", "archive/data.pkl"), "m.pt:archive/data.pkl"),
        (
            "./models/m.pt:./archive/data.pkl",
            ("./models/m.pt", "archive/data.pkl"),
            "m.pt:archive/data.pkl",
        ),
        ("/builds/x1/m.pt", ("/builds/x1/m.pt", ""), "m.pt"),
        (
            "C:\\models\\m.pt:archive/data.pkl",
            ("C:/models/m.pt", "archive/data.pkl"),
            "m.pt:archive/data.pkl",
        ),
        (
            "https://host:443/org/m/resolve/main/m.bin:archive/data.pkl",
            ("https://host:443/org/m/resolve/main/m.bin", "archive/data.pkl"),
            "m.bin:archive/data.pkl",
        ),
        (
            "outer.zip:inner.pt:archive/data.pkl",
            ("outer.zip", "inner.pt:archive/data.pkl"),
            "outer.zip:inner.pt:archive/data.pkl",
        ),
        ("", ("", ""), ""),
    ],
)
def test_locations_split_into_file_and_member(
    location: str, split: tuple[str, str], key: str
) -> None:
    assert mf.split_location(location) == split
    assert mf.member_key(location) == key


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("posix system", "posix.system"),
        ("posix.system", "posix.system"),
        ("torch._utils _rebuild_tensor_v2", "torch._utils._rebuild_tensor_v2"),
    ],
)
def test_pickle_globals_normalize_to_module_dot_name(given: str, expected: str) -> None:
    assert mf.import_from_global(given) == expected


def test_import_statements_normalize_to_module_dot_name() -> None:
    assert mf.imports_from_statement("from posix import system") == ["posix.system"]
    assert mf.imports_from_statement("from os import system as s, popen") == [
        "os.system",
        "os.popen",
    ]
    assert mf.imports_from_statement("import subprocess") == ["subprocess"]
    assert mf.imports_from_statement("system('id')") == []


def test_merge_keeps_one_finding_with_the_worst_severity() -> None:
    low = mf.import_finding(
        tool="t", tool_rule="a", location="m.pkl", import_name="os.system", severity="medium"
    )
    high = mf.import_finding(
        tool="t",
        tool_rule="b",
        location="dir/m.pkl (pos 3)",
        import_name="os.system",
        severity="critical",
    )
    other = mf.import_finding(
        tool="t", tool_rule="a", location="m.pkl", import_name="builtins.eval", severity="high"
    )

    merged = mf.merge([low, high, other])

    assert [f.evidence["import"] for f in merged] == ["os.system", "builtins.eval"]
    assert merged[0].severity == "critical"
    assert merged[0].evidence["also_reported_as"][0]["tool_rule"] == "b"
