"""Every refusal names the problem in the user's terms, on one line: the format, the field
path, the line and column, the CLI flag -- never a Python exception or a wrong guess."""

from __future__ import annotations

import os

import orjson
import pytest

import scanners
from scanners.document import Document, to_utf8
from scanners.findings import ReportError
from scanners.registry import PARSERS


def error(data: bytes, scan_type: str | None = None) -> str:
    with pytest.raises(ReportError) as err:
        scanners.parse(data, scan_type=scan_type)
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "scan_type", [None, "trivy", "grype", "sarif", "cyclonedx", "osv-scanner", "snyk"]
)
def test_invalid_json_says_where(scan_type: str | None) -> None:
    data = b'{\n  "SchemaVersion": 2,\n  "Results": [\n    {"Target": "x",, }\n  ]\n}\n'
    message = error(data, scan_type)
    assert "not valid JSON at line 4 column 20" in message
    assert "expected an object" not in message


def test_a_truncated_report_is_called_cut_off() -> None:
    message = error(b'{"SchemaVersion": 2, "Results": [', "trivy")
    assert message == (
        "trivy: not valid JSON at line 1 column 34 (the report ends early; was it cut off?)"
    )


def test_a_broken_json_lines_report_names_the_line() -> None:
    data = b'{"entry_type": "init"}\n{"entry_type": "eval", "probe": \n'
    assert "not valid JSON Lines: line 2 column" in error(data)


def test_random_bytes_are_binary_data_not_a_text_document() -> None:
    message = error(os.urandom(4096) + b"\x00")
    assert message == (
        "unknown format: the report is binary data, not a JSON, JSON Lines or text report"
    )


@pytest.mark.parametrize("scan_type", [None, *PARSERS])
def test_deeply_nested_json_is_a_clean_error(scan_type: str | None) -> None:
    deep = b'{"Results": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    message = ""
    try:
        scanners.parse(deep, scan_type=scan_type)
    except ReportError as exc:  # refusing is fine; a Python RecursionError is not
        message = str(exc)
    assert "Recursion" not in message
    assert "\n" not in message


def test_deep_nesting_says_how_deep() -> None:
    deep = b'{"Results": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert "nested more than 1024 levels deep" in error(deep, "trivy")
    assert "nested more than 1024 levels deep" in error(deep)


def test_an_unknown_format_names_the_flag_to_choose_one() -> None:
    message = error(orjson.dumps({"hello": "world"}))
    assert message.startswith("unknown format: this JSON document matches none")
    assert "--scan-type" in message
    assert "pass scan_type" not in message


def test_an_unknown_scan_type_names_the_flag() -> None:
    message = error(b"{}", "nessus")
    assert message.startswith("unknown scan type 'nessus' given with --scan-type; supported:")


def test_text_that_is_not_utf8_is_named_with_its_place() -> None:
    message = error(
        b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "caf\xe9"}}}]}', "sarif"
    )
    assert message.startswith("sarif: not valid UTF-8 at line 1 column 64 (byte 0xE9)")


def test_a_bom_that_lies_is_named() -> None:
    message = error(b"\xff\xfe" + b"{\x00\x00")  # UTF-16 LE mark, an odd number of bytes
    assert message.startswith("the report is marked as UTF-16 but is not valid UTF-16")


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"\xef\xbb\xbf{}", "UTF-8 with a byte-order mark"),
        ("{}".encode("utf-16"), "UTF-16 with a byte-order mark"),
        (b"\xfe\xff" + "{}".encode("utf-16-be"), "UTF-16 with a byte-order mark"),
        ("{}".encode("utf-32"), "UTF-32 with a byte-order mark"),
        (b"\x00\x00\xfe\xff" + "{}".encode("utf-32-be"), "UTF-32 with a byte-order mark"),
        ('{"a": 1}'.encode("utf-16-le"), "UTF-16"),  # no mark: JSON's NUL pattern tells
        ('{"a": 1}'.encode("utf-32-be"), "UTF-32"),
        (b"{}", ""),
    ],
)
def test_encodings_become_utf8_before_detection(raw: bytes, what: str) -> None:
    data, encoding = to_utf8(raw)
    assert encoding == what
    assert Document(raw).json is not None
    assert data.decode("utf-8").startswith("{")


def test_a_plain_report_is_not_copied() -> None:
    raw = b'{"a": 1}' * 10
    assert to_utf8(raw)[0] is raw
