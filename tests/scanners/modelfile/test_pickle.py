"""The pickle machine: imports, calls, memo, protocols, concatenation, malformed streams."""

from __future__ import annotations

import collections
import datetime
import decimal
import os
import pickle
import struct

import pytest

from scanners.modelfile.pickle_scan import scan_pickle
from scanners.modelfile.source import BytesSource
from tests.scanners.modelfile.helpers import (
    assert_clean,
    assert_critical,
    at_least,
    by_import,
    rule_ids,
    scan,
)
from tests.scanners.modelfile.picklegen import P, call_pickle, proto0_call


class _Reduce:
    """Pickles as a call of ``func(*args)`` (generation only; never unpickled)."""

    def __init__(self, func: object, *args: object) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


@pytest.mark.parametrize("proto", [0, 1, 2, 3, 4, 5])
def test_os_system_every_protocol(proto: int) -> None:
    data = pickle.dumps(_Reduce(os.system, "touch /nonexistent/x"), protocol=proto)
    res = scan(data, "model.pkl")
    assert res.format == "pickle"
    assert_critical(res, f"{os.system.__module__}.system")
    f = next(f for f in res.findings if f.rule_id == "unsafe-import")
    assert f.evidence["called"] is True
    assert "touch /nonexistent/x" in " ".join(f.evidence["args"])
    assert f.byte_offset is not None
    assert f.atlas == ["AML.T0011.000", "AML.T0010.003"]
    assert f.owasp_ml == ["ML06:2023"]
    assert f.remediation
    assert "safetensors" in f.remediation


@pytest.mark.parametrize("proto", [0, 1, 2, 3, 4, 5])
def test_benign_data_every_protocol(proto: int) -> None:
    value = {
        "ints": list(range(300)),
        "floats": (1.5, -2.25),
        "set": {1, 2, 3},
        "frozen": frozenset({"a"}),
        "bytes": b"\x00\x01" * 40,
        "nested": [{"a": None, "b": True}],
        "od": collections.OrderedDict(a=1),
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "dec": decimal.Decimal("1.5"),
        "big": 2**100,
        "text": "é" * 300,
    }
    res = scan(pickle.dumps(value, protocol=proto), "state.pkl")
    assert res.format == "pickle"
    assert_clean(res)
    assert not res.findings, [f.title for f in res.findings]


def test_stack_global_operands_from_memo() -> None:
    p = P(4).str_("os").memoize().str_("system").memoize().pop().pop()
    p.binget(0).binget(1).stack_global().str_("id").tuple1().reduce().stop()
    assert_critical(scan(p.data), "os.system")


def test_stack_global_operands_from_long_binget_and_put() -> None:
    p = P(4).str_("subprocess").long_binput(700).str_("Popen").binput(3).pop().pop()
    p.long_binget(700).binget(3).stack_global().mark().str_("id").tuple_().reduce().stop()
    assert_critical(scan(p.data), "subprocess.Popen")


def test_protocol0_get_put_operands_and_inst() -> None:
    # text memo ops and INST (import + call in one opcode)
    data = b"(S'touch x'\np0\nios\nsystem\np1\n."
    assert_critical(scan(data), "os.system")
    data2 = b"Vos\np0\n0Vsystem\np1\n0g0\ng1\n\x93(S'x'\ntR."
    assert_critical(scan(data2), "os.system")


def test_obj_newobj_newobj_ex_build() -> None:
    obj = P(2).mark().global_("subprocess", "Popen").str_("ls").obj().stop()
    assert_critical(scan(obj.data), "subprocess.Popen")
    new = P(2).global_("socket", "socket").empty_tuple().newobj().stop()
    assert_critical(scan(new.data), "socket.socket")
    newex = P(4).str_("ctypes").str_("CDLL").stack_global().empty_tuple().empty_dict()
    assert_critical(scan(newex.newobj_ex().stop().data), "ctypes.CDLL")
    built = P(2).global_("mylib.config", "Settings").empty_dict().build().stop()
    res = scan(built.data)
    assert "warden-modelscan/build-on-import" in rule_ids(res)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("posix", "system"),
        ("nt", "system"),
        ("os", "popen"),
        ("subprocess", "check_output"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("builtins", "getattr"),
        ("builtins", "__import__"),
        ("builtins", "type"),
        ("builtins", "open"),
        ("operator", "attrgetter"),
        ("_operator", "methodcaller"),
        ("operator", "itemgetter"),
        ("functools", "partial"),
        ("pip", "main"),
        ("pip._internal.cli.main", "main"),
        ("runpy", "_run_code"),
        ("runpy", "run_path"),
        ("pdb", "run"),
        ("cProfile", "run"),
        ("profile", "run"),
        ("code", "interact"),
        ("code", "InteractiveInterpreter"),
        ("idlelib.pyshell", "ModifiedInterpreter"),
        ("idlelib.autocomplete", "AutoComplete"),
        ("webbrowser", "open"),
        ("ctypes", "CDLL"),
        ("marshal", "loads"),
        ("pickle", "loads"),
        ("_pickle", "loads"),
        ("dill", "loads"),
        ("importlib", "import_module"),
        ("shutil", "rmtree"),
        ("socket", "create_connection"),
        ("urllib.request", "urlopen"),
        ("timeit", "timeit"),
        ("numpy.testing._private.utils", "runstring"),
        ("torch", "load"),
        ("types", "CodeType"),
        ("sys", "modules"),
    ],
)
def test_dangerous_imports_are_critical(module: str, name: str) -> None:
    assert_critical(scan(call_pickle(module, name, "x")), f"{module}.{name}")
    assert_critical(scan(proto0_call(module, name, "x")), f"{module}.{name}")


def test_python2_aliases() -> None:
    res = scan(P(2).global_("__builtin__", "eval").mark().str_("1").tuple_().reduce().stop().data)
    assert_critical(res, "__builtin__.eval")
    f = next(f for f in res.findings if f.rule_id == "unsafe-import")
    assert f.evidence["resolved"].endswith("eval")


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("serialization.os.system", "os.system"),
        ("os.system", "os.system"),
        ("__builtins__.eval", ""),
        ("testing._private.utils.runstring", ""),
    ],
)
def test_protocol4_dotted_names(name: str, resolved: str) -> None:
    module = "numpy" if name.startswith("testing") else "torch"
    p = P(4).str_(module).str_(name).stack_global().str_("x").tuple1().reduce().stop()
    res = scan(p.data)
    assert_critical(res, f"{module}.{name}")
    if resolved:
        f = next(f for f in res.findings if f.rule_id == "unsafe-import")
        assert f.evidence["resolved"] == resolved


def test_dunder_traversal_is_critical() -> None:
    p = P(4).str_("builtins").str_("object.__subclasses__").stack_global().empty_tuple()
    assert_critical(scan(p.reduce().stop().data), "builtins.object.__subclasses__")


def test_imports_off_the_allow_list_are_high_called_or_not() -> None:
    # Issue 12 changed this: an import that is only referenced, or that is third-party, was
    # medium (exit 0); it is high now, because an allow-listed rebuild helper can call it.
    called = scan(call_pickle("textwrap", "dedent", "x"))
    assert by_import(called) == {"textwrap.dedent": "high"}
    only = scan(P(2).global_("textwrap", "dedent").stop().data)
    assert by_import(only) == {"textwrap.dedent": "high"}
    unknown = scan(call_pickle("mycompany.layers", "Block", "x"))
    assert by_import(unknown) == {"mycompany.layers.Block": "high"}
    f = unknown.findings[0]
    assert f.rule_id == "suspicious-import"
    assert "mycompany.layers.Block" in f.title
    assert "allow-list" in f.title
    assert "review" in f.description


def test_concatenated_pickles_every_one_scanned() -> None:
    benign = pickle.dumps({"a": 1}, protocol=4)
    second = proto0_call("os", "system", "x")
    third = call_pickle("webbrowser", "open", "http://example.invalid")
    res = scan(benign + second + third)
    assert_critical(res, "os.system")
    assert_critical(res, "webbrowser.open")
    rep = scan_pickle(BytesSource(benign + second + third))
    assert rep.pickles == 3
    assert not rep.errors


def test_dangerous_import_before_malformed_tail() -> None:
    p = P(4).str_("os").str_("system").stack_global().str_("x").tuple1().reduce()
    res = scan(p.data + b"\xff\xfe garbage")
    assert_critical(res, "os.system")
    bad = [f for f in res.findings if f.rule_id == "not-scanned"]
    assert bad
    assert bad[0].severity == "high"
    assert bad[0].byte_offset == len(p.data)


def test_truncated_pickle_reports_what_precedes() -> None:
    data = call_pickle("subprocess", "Popen", "x")
    for cut in (len(data) - 1, len(data) - 3):
        res = scan(data[:cut])
        assert_critical(res, "subprocess.Popen")
        assert "not-scanned" in rule_ids(res)


def test_truncated_inside_argument() -> None:
    data = P(2).global_("os", "system").bytes_(b"x" * 200).data[:-50]
    res = scan(data)
    assert_critical(res, "os.system")
    assert "not-scanned" in rule_ids(res)


def test_frame_follows_cpython() -> None:
    # A frame shorter than its content does not matter to the C unpickler.
    p = P(4).frame(1).str_("os").str_("system").stack_global().str_("x").tuple1().reduce()
    assert_critical(scan(p.stop().data), "os.system")
    # A frame longer than the data stops the C unpickler at the FRAME, but the pure-Python
    # one (joblib, pickle._load) reads on and runs what follows (issue 12 changed this).
    q = P(4).frame(1 << 40).global_("posix", "system").str_("id").tuple1().reduce().stop()
    res = scan(q.data)
    assert by_import(res)["posix.system"] == "critical"
    assert "warden-modelscan/pickle-ambiguity" in rule_ids(res)


def test_stack_underflow_through_mark_is_an_error() -> None:
    # REDUCE cannot pop through a MARK (C unpickler semantics)
    p = P(2).global_("os", "system").mark().reduce().stop()
    res = scan(p.data)
    assert by_import(res)["os.system"] == "critical"
    assert "not-scanned" in rule_ids(res)


def test_dynamic_stack_global_is_critical() -> None:
    p = P(4).global_("codecs", "decode").mark().bytes_(b"os").str_("ascii").tuple_().reduce()
    p.str_("system").stack_global().stop()
    res = scan(p.data)
    assert "warden-modelscan/dynamic-global" in rule_ids(res)


def test_extension_codes_reported() -> None:
    res = scan(P(2).ext1(42).stop().data)
    assert "warden-modelscan/extension-code" in rule_ids(res)


def test_safe_torch_and_numpy_globals_are_silent() -> None:
    p = P(2)
    p.global_("numpy.core.multiarray", "_reconstruct").global_("numpy", "ndarray")
    p.int_(0).tuple1().bytes_(b"b").tuple3().reduce()
    p.mark().int_(1).int_(3).tuple1().global_("numpy", "dtype").str_("f8").raw(b"\x89\x88")
    p.tuple3().reduce().raw(b"\x89").bytes_(b"\x00" * 24).tuple_().build().stop()
    res = scan(p.data)
    assert not res.findings, [f.title for f in res.findings]


def _sklearn_like(proto: int) -> bytes:
    """A fitted-estimator-shaped pickle with made-up state but real class paths."""
    p = P(proto)
    p.global_("sklearn.pipeline", "Pipeline").empty_tuple().newobj().binput(0)
    p.empty_dict().mark().str_("steps").empty_list().mark()
    for cls_mod, cls in (
        ("sklearn.preprocessing._data", "StandardScaler"),
        ("sklearn.linear_model._logistic", "LogisticRegression"),
        ("sklearn.ensemble._forest", "RandomForestClassifier"),
        ("sklearn.tree._classes", "DecisionTreeClassifier"),
        ("xgboost.sklearn", "XGBClassifier"),
        ("lightgbm.sklearn", "LGBMClassifier"),
    ):
        p.str_(cls.lower()).global_(cls_mod, cls).empty_tuple().newobj()
        p.empty_dict().mark().str_("C").float_(1.0).str_("random_state").int_(0)
        p.str_("coef_").global_("numpy.core.multiarray", "_reconstruct")
        p.global_("numpy", "ndarray").int_(0).tuple1().bytes_(b"b").tuple3().reduce()
        p.setitems().build().tuple2()
    p.appends().setitems().build().stop()
    return p.data


@pytest.mark.parametrize("proto", [2, 4])
def test_sklearn_like_estimators_are_not_flagged(proto: int) -> None:
    assert_clean(scan(_sklearn_like(proto), "model.joblib"))


def test_joblib_inline_array_data_is_skipped() -> None:
    """joblib writes raw array bytes right after the wrapper's BUILD; bytes that are not
    opcodes (0xff) must not break the scan, and what follows must still be scanned."""
    for tail_call in (None, ("os", "system")):
        p = P(4).empty_list().mark()
        _joblib_wrapper(p, (2, 3), "f8", b"\xff" * 48)
        _joblib_wrapper(p, (4,), "i4", b"\xfe" * 16)
        if tail_call:
            p.call(*tail_call, "x")
        data = p.appends().stop().data
        res = scan(data, "model.joblib")
        if tail_call:
            assert_critical(res, "os.system")
        else:
            assert not res.findings, [f.title for f in res.findings]


def test_joblib_object_array_is_a_nested_pickle() -> None:
    p = P(4)
    _joblib_wrapper(p, (1,), "O", call_pickle("os", "system", "x"), align=False)
    res = scan(p.stop().data, "model.joblib")
    assert_critical(res, "os.system")
    assert "not-scanned" not in rule_ids(res)


def _joblib_wrapper(
    p: P, shape: tuple[int, ...], descr: str, raw: bytes, align: bool = True
) -> None:
    p.str_("joblib.numpy_pickle").str_("NumpyArrayWrapper").stack_global().memoize()
    p.empty_tuple().newobj().memoize().empty_dict().memoize().mark()
    p.str_("subclass").str_("numpy").str_("ndarray").stack_global()
    p.str_("shape")
    for d in shape:
        p.int_(d)
    {1: p.tuple1, 2: p.tuple2, 3: p.tuple3}[len(shape)]()
    p.str_("order").str_("C").str_("dtype")
    p.str_("numpy").str_("dtype").stack_global().str_(descr).raw(b"\x89\x88").tuple3().reduce()
    p.mark().int_(3).str_("<").none().none().none().int_(-1).int_(-1).int_(0).tuple_().build()
    p.str_("allow_mmap").raw(b"\x89")
    if align:
        p.str_("numpy_array_alignment_bytes").int_(16)
    p.setitems().build()
    if align:
        pad = 16 - ((len(p.b) + 1) % 16)
        p.raw(bytes([pad]) + b"\xff" * pad)
    p.raw(raw)


def test_nested_load_from_bytes_payload_is_scanned() -> None:
    inner = call_pickle("os", "system", "x")
    p = P(2).global_("torch.storage", "_load_from_bytes").bytes_(inner).tuple1().reduce().stop()
    res = scan(p.data)
    assert_critical(res, "os.system")
    f = next(f for f in res.findings if f.rule_id == "unsafe-import")
    assert "_load_from_bytes" in f.archive_member


def test_memo_heavy_benign_pickle_is_fast_and_clean() -> None:
    data = pickle.dumps({f"key{i}": float(i) for i in range(200_000)}, protocol=4)
    res = scan(data)
    assert not res.findings
    assert res.seconds < 3.0


def test_offsets_point_at_the_opcode() -> None:
    data = proto0_call("os", "system", "x")
    f = scan(data).findings[0]
    assert data[f.byte_offset : f.byte_offset + 1] == b"c"
    p = P(4).str_("os").str_("system").stack_global().stop()
    g = scan(p.data).findings[0]
    assert p.data[g.byte_offset : g.byte_offset + 1] == b"\x93"


def test_legacy_binstring_negative_length_is_malformed() -> None:
    data = P(2).global_("os", "system").raw(b"T" + struct.pack("<i", -5)).stop().data
    res = scan(data)
    assert "not-scanned" in rule_ids(res)
    assert at_least(res, "critical")
