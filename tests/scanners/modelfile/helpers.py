"""Small assertions shared by the model-file scanner tests."""

from __future__ import annotations

from scanners.findings import NormalizedFinding
from scanners.modelfile import FileResult, scan_bytes
from scanners.severity import SEVERITY_RANK


def scan(data: bytes, name: str = "model.bin") -> FileResult:
    return scan_bytes(data, name)


def by_import(result: FileResult) -> dict[str, str]:
    """import name -> worst severity among import findings."""
    out: dict[str, str] = {}
    for f in result.findings:
        imp = f.evidence.get("import")
        if not isinstance(imp, str) or not imp:
            continue
        if imp not in out or SEVERITY_RANK[f.severity] > SEVERITY_RANK[out[imp]]:
            out[imp] = f.severity
    return out


def rule_ids(result: FileResult) -> set[str]:
    return {f.rule_id for f in result.findings}


def at_least(result: FileResult, severity: str) -> list[NormalizedFinding]:
    return [f for f in result.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[severity]]


def assert_clean(result: FileResult) -> None:
    """No finding at high or above (benign files)."""
    bad = at_least(result, "high")
    assert not bad, [(f.rule_id, f.title) for f in bad]


def assert_critical(result: FileResult, import_name: str) -> None:
    got = by_import(result)
    assert got.get(import_name) == "critical", (
        import_name,
        got,
        [f.title for f in result.findings],
    )
