"""The opcode stream is read as CPython's unpicklers read it: frames, text arguments, limits.

Where the C unpickler (``pickle.load``, ``torch.load``) and the pure-Python one (``joblib``,
``pickle._load``) disagree, the scanner reads on the way the one that goes further does and
reports the layout; a layout it cannot read the way either does is a finding, never clean.
Every pickle here is written opcode by opcode (or by ``pickle.dumps``) and never loaded.
"""

from __future__ import annotations

import collections
import pickle
import random
import struct

import pytest

from scanners.modelfile import pickle_scan
from scanners.modelfile.pickle_scan import scan_pickle
from scanners.modelfile.source import BytesSource
from tests.scanners.modelfile.helpers import (
    assert_critical,
    by_import,
    genops_imports,
    rule_ids,
    scan,
)
from tests.scanners.modelfile.picklegen import P, call_pickle

AMBIGUITY = "warden-modelscan/pickle-ambiguity"


def _frame(n: int) -> bytes:
    return b"\x95" + struct.pack("<Q", n)


def test_oversized_frame_is_read_on_like_the_pure_python_unpickler() -> None:
    data = P(4).frame(1 << 40).global_("posix", "system").str_("id").tuple1().reduce().stop()
    res = scan(data.data, "model.joblib")
    assert_critical(res, "posix.system")
    f = next(f for f in res.findings if f.rule_id == AMBIGUITY)
    assert f.severity == "high"
    assert "1,099,511,627,776" in f.description
    assert "reads on" in f.description


def test_frame_that_ends_inside_an_argument_is_read_on_like_the_c_unpickler() -> None:
    """FRAME(5) ends inside the SHORT_BINUNICODE "posix": the pure-Python unpickler stops
    ("pickle exhausted before end of frame"), the C one reads on and calls os.system."""
    body = P().str_("posix").str_("system").stack_global().str_("id").tuple1().reduce().stop()
    data = b"\x80\x04" + _frame(5) + body.data
    res = scan(data)
    assert_critical(res, "posix.system")
    amb = [f for f in res.findings if f.rule_id == AMBIGUITY]
    assert amb
    assert "across the end of its frame" in amb[0].description


def test_frame_boundaries_between_reads_are_not_reported() -> None:
    """A frame may end between an opcode and its argument's reads: both loaders agree."""
    body = P().str_("a").str_("b").tuple2().stop().data
    data = b"\x80\x04" + _frame(2) + body  # ends after the length byte of "a"
    res = scan(data)
    assert not res.findings, [f.title for f in res.findings]


def test_frame_inside_a_frame_is_reported_and_read_through() -> None:
    inner = P().global_("os", "system").str_("id").tuple1().reduce().stop().data
    data = b"\x80\x04" + _frame(20) + b"N0" + _frame(len(inner)) + inner
    res = scan(data)
    assert_critical(res, "os.system")
    assert any("starts before the previous frame ends" in f.description for f in res.findings)


def test_frames_hide_nothing_from_a_reader_that_skips_them() -> None:
    """A naive reader that jumps over each frame's content would see an empty pickle."""
    payload = P().str_("os").str_("system").stack_global().str_("id").tuple1().reduce().data
    data = b"\x80\x04" + _frame(len(payload)) + payload + _frame(1) + b"."
    assert_critical(scan(data), "os.system")


def test_real_pickler_frames_are_not_ambiguous() -> None:
    value = {"rows": [(i, f"name-{i}", float(i) / 3) for i in range(40_000)], "blob": b"x" * 300}
    for proto in (4, 5):
        data = pickle.dumps(value, protocol=proto)
        assert data.count(b"\x95") > 3  # several frames
        res = scan(data, "rows.pkl")
        assert not res.findings, [f.title for f in res.findings]


def test_inst_cut_by_the_end_of_the_data_is_read_the_pure_python_way() -> None:
    """``readline()[:-1]`` drops the last byte of a line without newline: ``systemm`` names
    ``os.system`` and INST calls it before the pure-Python unpickler hits the end."""
    data = b"(S'id'\nios\nsystemm"
    res = scan(data, "model.joblib")
    assert_critical(res, "os.system")
    f = next(f for f in res.findings if f.rule_id == "unsafe-import")
    assert f.evidence["called"] is True
    assert AMBIGUITY in rule_ids(res)


def test_global_cut_by_the_end_of_the_data_still_imports() -> None:
    res = scan(b"cos\nsystemX", "model.pkl")
    assert_critical(res, "os.system")


def test_text_argument_longer_than_the_read_window_is_followed() -> None:
    long_arg = P().string0("x" * (3 << 20)).pop().data
    call = P().global_("os", "system").mark().string0("id").tuple_().reduce().stop().data
    data = long_arg + call
    res = scan(data, "model.pkl")
    assert_critical(res, "os.system")
    assert "not-scanned" not in rule_ids(res)


def test_an_import_across_a_window_boundary_is_read_once() -> None:
    """Protocol-0 lines that cross the scanner's read window used to be read twice."""
    data = b"cos\nsystem\n(" + b"I1\n0" * 16300 + b"S'" + b"x" * 2000 + b"'\ntR."
    rep = scan_pickle(BytesSource(data))
    (rec,) = rep.imports.values()
    assert rec.count == 1
    assert rec.called


@pytest.mark.parametrize(
    ("arg", "who"),
    [(b"0123", "C"), (b"1_000", "pure-Python"), (b"  7", "")],
)
def test_int_spellings_only_one_unpickler_accepts_are_read_on(arg: bytes, who: str) -> None:
    data = b"I" + arg + b"\n0" + P().global_("os", "system").str_("id").tuple1().reduce().data
    res = scan(data + b".", "model.pkl")
    assert_critical(res, "os.system")
    notes = [f.description for f in res.findings if f.rule_id == AMBIGUITY]
    if who:
        assert notes, [f.title for f in res.findings]
        assert f"accepted by the {who} unpickler" in notes[0]
    else:
        assert not notes


def test_int_both_unpicklers_reject_stops_the_scan_as_they_stop() -> None:
    call = P().global_("os", "system").str_("id").tuple1().reduce().stop().data
    res = scan(b"\x80\x02Inot-a-number\n0" + call, "model.pkl")
    assert "os.system" not in by_import(res)
    f = next(f for f in res.findings if f.rule_id == "not-scanned")
    assert f.title.endswith("the loader may read it differently")


def test_stack_depth_limit_is_high_and_names_the_imports_past_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pickle_scan, "MAX_STACK", 1000)
    p = P(2)
    for _ in range(70_000):  # past one read window, so the limit check runs
        p.none()
    p.global_("os", "system").str_("id").tuple1().reduce().stop()
    res = scan(p.data, "deep.pkl")
    limit = next(f for f in res.findings if f.rule_id == "warden-modelscan/scan-limit")
    assert limit.severity == "high"
    assert "stack depth limit (1,000 entries)" in limit.title
    assert_critical(res, "os.system")


def test_protocol_2_load_from_bytes_payload_is_scanned() -> None:
    """pickle.dumps(storage, protocol=2) stores bytes as _codecs.encode(str, 'latin1')."""
    inner = call_pickle("os", "system", "id", proto=2)
    p = P(2).global_("torch.storage", "_load_from_bytes")
    p.global_("_codecs", "encode").str_(inner.decode("latin-1")).str_("latin1").tuple2().reduce()
    res = scan(p.tuple1().reduce().stop().data)
    assert_critical(res, "os.system")


def test_load_from_bytes_with_an_untraceable_argument_is_not_clean() -> None:
    p = P(2).global_("torch.storage", "_load_from_bytes").empty_list().tuple1().reduce().stop()
    res = scan(p.data)
    f = next(f for f in res.findings if f.rule_id == "not-scanned")
    assert f.severity == "high"
    assert "_load_from_bytes" in f.description


# --------------------------------------------------------------- differential reading


def test_scanner_sees_the_same_imports_as_pickletools_on_real_pickles() -> None:
    rng = random.Random(12)  # noqa: S311 - reproducible data, not crypto
    import datetime
    import decimal
    import fractions
    import pathlib
    import uuid

    pool: list[object] = [
        pathlib.PurePosixPath("/data/run1"),
        datetime.date(2024, 5, 1),
        decimal.Decimal("2.5"),
        fractions.Fraction(1, 7),
        uuid.UUID(int=12345),
        collections.OrderedDict(a=1),
        collections.Counter("abc"),
        collections.deque([1, 2]),
        {1, 2, 3},
        frozenset({"x"}),
        b"\x00" * 300,
        "text" * 100,
    ]
    for trial in range(60):
        value = {f"k{i}": rng.choice(pool) for i in range(rng.randint(1, 400))}
        value["shared"] = [value["k0"]] * 3
        for proto in range(6):
            data = pickle.dumps(value, protocol=proto)
            rep = scan_pickle(BytesSource(data))
            assert not rep.errors, (trial, proto, rep.errors)
            assert not rep.anomalies, (trial, proto, rep.anomalies)
            seen = {r.qualname for r in rep.imports.values()}
            assert seen == genops_imports(data), (trial, proto)
