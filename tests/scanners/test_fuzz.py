"""Property tests over EVERY fixture under ``tests/fixtures/`` (found at run time, so each
new format is covered): truncated, byte-mutated and JSON-structure-mutated reports given to
``scanners.parse`` (detected, and with the original scan type) either give a valid Report or
raise ReportError - never another exception, never a hang.

Runs derandomized (the same examples every run, so CI is stable); set WARDEN_FUZZ_RANDOM=1
(and WARDEN_FUZZ_EXAMPLES=5000) to explore new examples locally.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scanners
from scanners.document import Document
from scanners.findings import CATEGORIES, SEVERITIES, Report, ReportError

FIX = Path(__file__).resolve().parents[1] / "fixtures"
FILES = sorted(p for p in FIX.glob("*/*") if p.is_file())
RANDOM = os.environ.get("WARDEN_FUZZ_RANDOM") == "1"
EXAMPLES = int(os.environ.get("WARDEN_FUZZ_EXAMPLES", "150"))
PER_PARSE_SECONDS = 10

SETTINGS = settings(
    max_examples=EXAMPLES,
    # A generous per-example deadline: still catches a hang, never trips on a loaded CI box.
    deadline=10_000,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: values of the wrong JSON type to put anywhere in a document
WRONG: list[Any] = [
    None,
    0,
    -1,
    2**63 - 1,
    -(2**63),
    1.5,
    -0.0,
    "",
    "x",
    "🙂\u0000",
    True,
    [],
    [1, "a"],
    {},
    {"a": {"b": None}},
]


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (SIGALRM: POSIX main thread, which is where pytest runs)."""

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"parse took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@cache
def original_type(path: Path) -> str | None:
    try:
        return scanners.detect(Document(path.read_bytes()))
    except ReportError:
        return None


def check(data: bytes, scan_type: str | None) -> None:
    try:
        with time_limit(PER_PARSE_SECONDS):
            report = scanners.parse(data, scan_type=scan_type)
    except ReportError as exc:
        message = str(exc)
        assert message
        assert "\n" not in message, f"error message is not one line: {message!r}"
        return
    assert isinstance(report, Report)
    assert report.category in CATEGORIES
    fingerprints = [f.fingerprint for f in report.findings]
    assert len(fingerprints) == len(set(fingerprints)), "duplicate fingerprints in one report"
    for f in report.findings + report.passed:
        assert f.severity in SEVERITIES, f.severity
        assert f.category in CATEGORIES, f.category
        assert isinstance(f.fingerprint, str)
        assert f.fingerprint
    orjson.dumps(report.to_dict())  # what the CLI and the API write must serialize


def check_both(path: Path, data: bytes) -> None:
    check(data, None)
    kind = original_type(path)
    if kind is not None:
        check(data, kind)


def test_every_fixture_parses_cleanly() -> None:
    for path in FILES:
        check_both(path, path.read_bytes())


@SETTINGS
@given(path=st.sampled_from(FILES), data=st.data())
def test_truncated(path: Path, data: st.DataObject) -> None:
    raw = path.read_bytes()
    cut = data.draw(st.integers(0, len(raw)), label="cut")
    check_both(path, raw[:cut])


@SETTINGS
@given(path=st.sampled_from(FILES), data=st.data())
def test_byte_mutations(path: Path, data: st.DataObject) -> None:
    raw = bytearray(path.read_bytes())
    if not raw:
        return
    edits = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), min_size=1, max_size=8
        )
    )
    for pos, value in edits:
        raw[pos] = value
    check_both(path, bytes(raw))


# -- JSON structure mutations -------------------------------------------------------------


@cache
def decoded(path: Path) -> tuple[str, Any] | None:
    """("json", value) or ("jsonl", rows) for the structured fixtures, else None."""
    doc = Document(path.read_bytes())
    if doc.json is not None:
        return "json", doc.json
    if doc.jsonl is not None:
        return "jsonl", doc.jsonl
    return None


@cache
def containers(path: Path) -> list[tuple[Any, Any]]:
    """Every (container, key) slot of a decoded fixture: the places a value can be swapped."""
    entry = decoded(path)
    assert entry is not None
    slots: list[tuple[Any, Any]] = []
    stack = [entry[1]]
    while stack:
        node = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, value in items:
            slots.append((node, key))
            if isinstance(value, dict | list):
                stack.append(value)
    return slots


STRUCTURED = [p for p in FILES if decoded(p) is not None and containers(p)]


def _serialize(path: Path) -> bytes:
    entry = decoded(path)
    assert entry is not None
    kind, value = entry
    if kind == "json":
        return orjson.dumps(value)
    return b"\n".join(orjson.dumps(row) for row in value)


@SETTINGS
@given(path=st.sampled_from(STRUCTURED), data=st.data())
def test_json_structure_mutations(path: Path, data: st.DataObject) -> None:
    slots = containers(path)
    picks = data.draw(
        st.lists(st.integers(0, len(slots) - 1), min_size=1, max_size=3, unique=True), label="slots"
    )
    replacements = [data.draw(st.sampled_from(WRONG), label="value") for _ in picks]
    saved = []
    try:
        for index, replacement in zip(picks, replacements, strict=True):
            node, key = slots[index]
            saved.append((node, key, node[key]))
            node[key] = replacement
        mutated = _serialize(path)
    finally:
        for node, key, value in reversed(saved):  # the decoded fixture is cached: put it back
            node[key] = value
    check_both(path, mutated)


def test_structured_fixtures_exist() -> None:
    # guard: the structure fuzzer must actually have JSON fixtures to work on
    assert len(STRUCTURED) > 40


@pytest.mark.parametrize(
    "junk", [b"", b"   ", b"null", b"[]", b"{}", b"[[[[[[[[", b"\xff\xfe\x00", b'{"runs": "x"}']
)
def test_junk(junk: bytes) -> None:
    check(junk, None)
