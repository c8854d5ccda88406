"""The parser conformance suite: every variant every generator writes (see ``harness.py``)
parses, detected and chosen, in every encoding, to the findings the variant expects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import scanners
from scanners.document import Document
from scanners.findings import CATEGORIES, SEVERITIES, Report
from tests.scanners.conformance import (
    gen_assessment,
    gen_cyclonedx,
    gen_grype,
    gen_osv,
    gen_sarif,
    gen_sca,
    gen_trivy,
)
from tests.scanners.conformance.harness import ENCODINGS, Case, keys

GENERATORS = [gen_trivy, gen_grype, gen_osv, gen_sarif, gen_cyclonedx, gen_sca, gen_assessment]
CASES = [case for gen in GENERATORS for case in gen.cases()]
FIX = Path(__file__).resolve().parents[2] / "fixtures"


def _ids(case: Case) -> str:
    return f"{case.scan_type}: {case.name}"


def _valid(report: Report) -> Iterator[None]:
    assert report.category in CATEGORIES
    for f in report.findings + report.passed:
        assert f.severity in SEVERITIES
        assert f.category in CATEGORIES
        assert f.fingerprint
    yield None


def _expect(case: Case, report: Report) -> None:
    assert report.scan_type == case.scan_type
    list(_valid(report))
    assert keys(report, case.key) == sorted(case.findings, key=repr)
    if case.passed is not None:
        assert len(report.passed) == case.passed
    if case.notices:
        assert report.warnings, "an odd variant must leave a notice"
    if case.check is not None:
        case.check(report)
    fingerprints = [f.fingerprint for f in report.findings]
    assert len(fingerprints) == len(set(fingerprints))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_variant_gives_the_findings_it_holds(case: Case) -> None:
    data = case.data()
    _expect(case, scanners.parse(data))  # detected by content
    _expect(case, scanners.parse(data, scan_type=case.scan_type))  # chosen


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_variant_reads_the_same_in_every_encoding(case: Case, encoding: str) -> None:
    data = ENCODINGS[encoding](case.data())
    assert scanners.detect(Document(data)) == case.scan_type
    _expect(case, scanners.parse(data))


FIXTURES = sorted(p for p in FIX.glob("*/*") if p.is_file() and p.name != "insecure_app.py.txt")


@pytest.mark.parametrize("encoding", [e for e in ENCODINGS if e != "utf-8"])
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_report_reads_the_same_with_a_byte_order_mark(path: Path, encoding: str) -> None:
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8 text")
    plain = scanners.parse(raw)
    again = scanners.parse(ENCODINGS[encoding](raw))
    assert again.to_dict() == plain.to_dict()
