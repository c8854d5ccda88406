"""Benchmark Warden's model-file scanner against picklescan, modelscan and ModelAudit.

    .venv/bin/python bench/bench_modelfile.py [--skip-big] [--only-corpus] [--workdir DIR]

The other tools are installed from PyPI into a throw-away venv under /tmp (they are not
dependencies of Warden). Everything scanned is generated here:

1. a corpus of crafted malicious files, one per technique, including the known bypasses of
   pickle scanners, and benign files in real frameworks' layouts: detections, false alarms
   (an alarm on a benign file) and whole-process time for the whole corpus;
2. a dense pickle (a dict with ~5 million small entries, ~100 MB, ~15 million opcodes): time,
   MB/s, peak memory (max RSS of the process) and false alarms;
3. a 2 GB zip checkpoint written sparse (tensor data are holes): time and peak memory.

Alarm levels: Warden high or critical; picklescan "dangerous"; modelscan HIGH or CRITICAL;
ModelAudit critical (its warnings are counted separately).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scanners.modelfile import builders as b  # noqa: E402
from tests.scanners.modelfile.picklegen import P, call_pickle, proto0_call  # noqa: E402

VENV = Path("/tmp/warden-bench-venv")  # noqa: S108 - throw-away venv, as documented
TOOLS = ("warden", "picklescan", "modelscan", "modelaudit")
QUIET_ENV = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "NO_ANALYTICS": "1",
    "HF_HUB_OFFLINE": "1",
    "NO_COLOR": "1",
}
TIMEOUT = 900


# ------------------------------------------------------------------------- tools


def ensure_venv() -> None:
    bins = [VENV / "bin" / t for t in ("picklescan", "modelscan", "modelaudit")]
    have_h5py = (
        subprocess.run(
            [str(VENV / "bin" / "python"), "-c", "import h5py"], capture_output=True, check=False
        ).returncode
        == 0
        if (VENV / "bin" / "python").exists()
        else False
    )
    if all(p.exists() for p in bins) and have_h5py:
        return
    print(f"installing picklescan, modelscan, modelaudit (+ h5py) into {VENV} ...", flush=True)
    if not (VENV / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pkgs = ["picklescan", "modelscan", "modelaudit", "h5py"]
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *pkgs], check=True)


_H5_SCRIPT = """
import h5py, json, sys
cfg = json.loads(sys.argv[2])
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["model_config"] = json.dumps(cfg).encode()
    f.attrs["keras_version"] = b"2.12.0"
    f.attrs["backend"] = b"tensorflow"
    f.create_group("model_weights").create_dataset("dense/kernel", data=[[0.5, 1.5]])
"""


def real_h5(path: Path, config: dict[str, object]) -> None:
    """A real Keras-2-style HDF5 file, written by h5py in the throw-away venv (Warden itself
    reads HDF5 without h5py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(VENV / "bin" / "python"), "-c", _H5_SCRIPT, str(path), json.dumps(config)],
        check=True,
    )


def versions() -> dict[str, str]:
    out = subprocess.run(
        [str(VENV / "bin" / "pip"), "list", "--format", "json"], capture_output=True, check=True
    )
    pkgs = {p["name"].lower(): p["version"] for p in json.loads(out.stdout)}
    return {t: pkgs.get(t, "?") for t in ("picklescan", "modelscan", "modelaudit")}


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    code: int
    stdout: bytes
    report: object = None


GNU_TIME = Path("/usr/bin/time")


def run(cmd: list[str], timeout: int = TIMEOUT) -> Run:
    """Run a process: wall time and its peak RSS. With GNU time the RSS is the tool's own
    (time forks from a tiny process); the wait4 fallback also counts the bench's pages that
    the child had before exec."""
    env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile() as rss:
        full = ["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME.exists() else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            full,
            stdout=out,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
            start_new_session=True,  # a timeout ends the tool too, not only GNU time
        )
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, 9)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        max_rss = usage.ru_maxrss / 1024
        if GNU_TIME.exists():
            text = Path(rss.name).read_text().strip().splitlines()
            if text and text[-1].isdigit():
                max_rss = int(text[-1]) / 1024
        out.seek(0)
        return Run(seconds, max_rss, proc.returncode, out.read())


def tool_cmd(tool: str, path: Path, out_json: Path) -> list[str]:
    v = VENV / "bin"
    if tool == "warden-text":
        return [str(ROOT / ".venv/bin/python"), "-m", "scanners", "scan", str(path)]
    if tool == "warden":
        return [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "scanners",
            "scan",
            str(path),
            "--format",
            "json",
        ]
    if tool == "picklescan":
        return [str(v / "picklescan"), "-p", str(path)]
    if tool == "modelscan":
        return [str(v / "modelscan"), "-p", str(path), "-r", "json", "-o", str(out_json)]
    return [str(v / "modelaudit"), "scan", str(path), "--format", "json", "--no-cache",
            "-o", str(out_json)]  # fmt: skip


@dataclass
class Verdict:
    alarm: bool
    warnings: int = 0
    error: bool = False


def verdict(tool: str, r: Run, out_json: Path) -> Verdict:
    """Did the tool raise an alarm (at its high/critical level)?"""
    try:
        if tool == "warden":
            doc = json.loads(r.stdout)
            sev = [f["severity"] for f in doc["files"] for f in f["findings"]]
            return Verdict(
                any(s in ("high", "critical") for s in sev), sum(s == "medium" for s in sev)
            )
        if tool == "picklescan":
            text = r.stdout.decode("utf-8", "replace")
            return Verdict("dangerous import" in text, text.count("suspicious import"), r.code == 2)
        doc = json.loads(out_json.read_text()) if out_json.exists() else {}
    except (ValueError, KeyError, OSError):
        return Verdict(False, 0, True)
    issues = doc.get("issues", []) if isinstance(doc, dict) else []
    if tool == "modelscan":
        sev = [str(i.get("severity", "")).upper() for i in issues]
        err = bool(doc.get("errors")) or r.code in (2, 3)
        return Verdict(any(s in ("HIGH", "CRITICAL") for s in sev), sev.count("MEDIUM"), err)
    sev = [str(i.get("severity", "")).lower() for i in issues]
    return Verdict("critical" in sev, sev.count("warning"), r.code == 2)


# ------------------------------------------------------------------------- corpus

LAMBDA = {
    "class_name": "Lambda",
    "config": {"name": "l", "function": ["4wEA", None, None], "function_type": "lambda"},
}
DENSE = {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "relu"}}


def _patch(data: bytes, name: bytes, **kw: object) -> bytes:
    out = bytearray(data)

    def find(sig: bytes, name_at: int, len_at: int) -> int:
        pos = out.find(sig)
        while pos >= 0:
            n = struct.unpack_from("<H", out, pos + len_at)[0]
            if bytes(out[pos + name_at : pos + name_at + n]) == name:
                return pos
            pos = out.find(sig, pos + 4)
        raise ValueError(name)

    lpos, cpos = find(b"PK\x03\x04", 30, 26), find(b"PK\x01\x02", 46, 28)
    if kw.get("crc"):
        struct.pack_into("<I", out, lpos + 14, 0xDEADBEEF)
        struct.pack_into("<I", out, cpos + 16, 0xDEADBEEF)
    if kw.get("flag"):
        for pos, off in ((lpos, 6), (cpos, 8)):
            struct.pack_into("<H", out, pos + off, struct.unpack_from("<H", out, pos + off)[0] | 1)
    if kw.get("local_name"):
        new = kw["local_name"]
        assert isinstance(new, bytes)
        out[lpos + 30 : lpos + 30 + len(new)] = new
    return bytes(out)


def _joblib_array_pickle(tail: tuple[str, str] | None) -> bytes:
    p = P(4).empty_list().mark()
    p.str_("joblib.numpy_pickle").str_("NumpyArrayWrapper").stack_global().memoize()
    p.empty_tuple().newobj().memoize().empty_dict().memoize().mark()
    p.str_("subclass").str_("numpy").str_("ndarray").stack_global()
    p.str_("shape").int_(2).int_(3).tuple2().str_("order").str_("C").str_("dtype")
    p.str_("numpy").str_("dtype").stack_global().str_("f8").raw(b"\x89\x88").tuple3().reduce()
    p.mark().int_(3).str_("<").none().none().none().int_(-1).int_(-1).int_(0).tuple_().build()
    p.str_("allow_mmap").raw(b"\x89").setitems().build().raw(b"\xff" * 48)
    if tail:
        p.call(*tail, "id")
    return p.appends().stop().data


def _issue12_malicious() -> dict[str, bytes]:
    """The bypass classes of issue 12 (2024-2026 advisories against pickle scanners)."""
    import struct as _struct
    import zipfile

    from tests.scanners.modelfile.test_archive_limits import _deflate_zeros, _hand_zip
    from tests.scanners.modelfile.test_keras_tf import _functional, _lookup

    frame = b"\x95" + _struct.pack("<Q", 5)
    straddle = P().str_("posix").str_("system").stack_global().str_("id").tuple1().reduce()
    evil2 = call_pickle("posix", "system", "id", proto=2)
    padded = [(f"archive/pad/{i}", b"", 0, 0) for i in range(100_001)]
    padded += [("archive/data.pkl", evil2, len(evil2), 0), ("archive/version", b"3\n", 2, 0)]
    bomb = [
        ("archive/aaa.pkl", _deflate_zeros(320), 320 << 20, zipfile.ZIP_DEFLATED),
        ("archive/data.pkl", evil2, len(evil2), 0),
        ("archive/version", b"3\n", 2, 0),
    ]
    tfsm = {"module": "keras.layers", "class_name": "TFSMLayer",
            "config": {"name": "wrapped", "filepath": "/srv/other_model"}}  # fmt: skip
    return {
        "i12_subinterpreter_run_string.pkl": call_pickle("_xxsubinterpreters", "run_string", "x"),
        "i12_pyrepl_pager.pkl": call_pickle("_pyrepl.pager", "pipe_pager", "x", "id"),
        "i12_torch_collect_env_run.pkl": call_pickle("torch.utils.collect_env", "run", "id"),
        "i12_torch_fx_exec.pkl": call_pickle("torch.fx.graph_module", "_forward_from_src", "x"),
        "i12_unknown_callable.pkl": call_pickle("acme_ops.helpers", "shell", "id"),
        "i12_frame_2e40.joblib": P(4)
        .frame(1 << 40)
        .global_("posix", "system")
        .str_("id")
        .tuple1()
        .reduce()
        .stop()
        .data,
        "i12_frame_straddle.pkl": b"\x80\x04" + frame + straddle.stop().data,
        "i12_inst_cut.joblib": b"(S'id'\nios\nsystemm",
        "i12_100001_empty_members.pt": _hand_zip(padded),
        "i12_deflate_bomb_member.pt": _hand_zip(bomb),
        "i12_keras_lookup_path.keras": b.keras_zip(
            _functional("m", [_lookup("StringLookup", "lookup", "/etc/passwd")])
        ),
        "i12_keras_tfsmlayer.keras": b.keras_zip(_functional("m", [tfsm])),
        "i12_savedmodel_graph_in_string/saved_model.pb": b.saved_model_with_graph_in_string(
            ["Const", "WriteFile"]
        ),
    }


def _issue12_benign() -> dict[str, bytes]:
    """Ordinary files that issue 12 reports as false alarms."""
    import argparse
    import pathlib
    import pickle

    from tests.scanners.modelfile.test_repository import INFERENCE

    meta = {
        "args": argparse.Namespace(data="/data/wmt", save_dir=pathlib.PosixPath("ckpt")),
        "paths": [pathlib.PurePosixPath("/runs/1"), pathlib.PosixPath("/data")],
    }
    return {
        "i12_run_meta_paths_namespace.pkl": pickle.dumps(meta, protocol=4),
        "i12_run_meta_p2.pkl": pickle.dumps(meta, protocol=2),
        "i12_inference.py": INFERENCE.encode(),
        "i12_handler.py": b"import json\n\nclass EndpointHandler:\n    def __init__(self, p=''):\n"
        b"        self.p = p\n",
    }


def corpus() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(malicious, benign): file name -> bytes."""
    evil2 = call_pickle("os", "system", "id", proto=2)
    memo = P(4).str_("os").memoize().str_("system").memoize().pop().pop()
    memo.binget(0).binget(1).stack_global().str_("id").tuple1().reduce().stop()
    dotted = P(4).str_("torch").str_("serialization.os.system").stack_global()
    dotted.str_("id").tuple1().reduce().stop()
    ckpt = b.torch_zip(pickle_data=evil2)
    malformed = P(4).str_("os").str_("system").stack_global().str_("id").tuple1().reduce()
    legacy_magic = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"."
    lam = LAMBDA
    mal: dict[str, bytes] = {
        "os_system_p0.pkl": proto0_call("os", "system", "id"),
        "os_system_p2.pkl": evil2,
        "os_system_p4.pkl": call_pickle("os", "system", "id"),
        "posix_alias.pkl": call_pickle("posix", "system", "id", proto=2),
        "operator_alias.pkl": call_pickle("_operator", "attrgetter", "system", proto=2),
        "memo_stack_global.pkl": memo.data,
        "dotted_protocol4.pkl": dotted.data,
        "concatenated.pkl": P(2).none().stop().data + call_pickle("subprocess", "Popen", "id"),
        "malformed_tail.pkl": malformed.data + b"\xff\xff\xff",
        "inst_protocol0.pkl": b"(S'id'\nios\nsystem\n.",
        "attrgetter.pkl": call_pickle("operator", "attrgetter", "system"),
        "functools_partial.pkl": call_pickle("functools", "partial", "x"),
        "pip_main.pkl": call_pickle("pip", "main", "install"),
        "runpy.pkl": call_pickle("runpy", "_run_code", "import os"),
        "pdb_run.pkl": call_pickle("pdb", "run", "import os"),
        "cprofile_run.pkl": call_pickle("cProfile", "run", "import os"),
        "code_interact.pkl": call_pickle("code", "interact", "x"),
        "idlelib.pkl": call_pickle("idlelib.pyshell", "ModifiedInterpreter", "x"),
        "webbrowser_open.pkl": call_pickle("webbrowser", "open", "http://example.invalid"),
        "builtins_getattr.pkl": call_pickle("builtins", "getattr", "x"),
        "builtin_eval_py2.pkl": P(2)
        .global_("__builtin__", "eval")
        .str_("1")
        .tuple1()
        .reduce()
        .stop()
        .data,
        "numpy_runstring.pkl": call_pickle("numpy.testing._private.utils", "runstring", "x"),
        "torch_nonstandard_root.pt": b.torch_zip(root="not_archive", pickle_data=evil2),
        "torch_member_renamed.pt": b.torch_zip(
            extra={"archive/blob": proto0_call("os", "system", "id")}
        ),
        "torch_bad_crc.pt": _patch(ckpt, b"archive/data.pkl", crc=True),
        "torch_flag_bits.pt": _patch(ckpt, b"archive/data.pkl", flag=True),
        "torch_name_mismatch.pt": _patch(ckpt, b"archive/data.pkl", local_name=b"archive/data.pkX"),
        "torch_zip_named.bin": ckpt,
        "torch_legacy.pt": legacy_magic + evil2,
        "pickle_named.safetensors": evil2,
        "joblib_zlib.joblib": zlib.compress(evil2),
        "joblib_gzip.joblib": gzip.compress(evil2),
        "joblib_inline_array.joblib": _joblib_array_pickle(("os", "system")),
        "object_array.npy": b.npy("|O", (1,), evil2),
        "keras_lambda.keras": b.keras_zip(b.keras_config([lam])),
        "savedmodel_pyfunc/saved_model.pb": b.saved_model(["PyFunc"]),
        "onnx_traversal.onnx": b.onnx_model([("Conv", "")], [("w", "../../../etc/passwd")]),
        "gguf_ssti.gguf": b.gguf(
            {"tokenizer.chat_template": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
        ),
        "nested.tar.gz": _targz({"m/model.pt": ckpt}),
        **_issue12_malicious(),
    }
    sk = P(2).global_("sklearn.linear_model._logistic", "LogisticRegression").empty_tuple().newobj()
    sk.empty_dict().mark().str_("C").float_(1.0).str_("coef_")
    sk.global_("numpy.core.multiarray", "_reconstruct").global_("numpy", "ndarray")
    sk.int_(0).tuple1().bytes_(b"b").tuple3().reduce().setitems().build().stop()
    import pickle

    benign: dict[str, bytes] = {
        "torch_ckpt.pt": b.torch_zip(),
        "torch_ckpt_named.bin": b.torch_zip(root="resnet50"),
        "state_dict_p0.pkl": pickle.dumps({"lr": 0.1, "steps": list(range(100))}, protocol=0),
        "state_dict_p4.pkl": pickle.dumps(
            {"lr": 0.1, "names": ["a", "b"], "t": (1, 2)}, protocol=4
        ),
        "sklearn_like.pkl": sk.data,
        "joblib_inline_array.joblib": _joblib_array_pickle(None),
        "joblib_zlib.joblib": zlib.compress(sk.data),
        "weights.npy": b.npy("<f4", (4, 4), b"\x00" * 64),
        "weights.npz": b.zip_bytes({"w.npy": b.npy("<f4", (2,), b"\x00" * 8)}),
        "model.safetensors": b.safetensors({"w": ("F32", [4, 4], b"\x00" * 64)}),
        "model.gguf": b.gguf(
            {"tokenizer.chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"},
            [("w", 8)],
        ),
        "model.keras": b.keras_zip(b.keras_config([b.dense_layer()])),
        "model.onnx": b.onnx_model([("Conv", ""), ("Relu", "")], [("w", "weights.bin")]),
        "savedmodel_ok/saved_model.pb": b.saved_model(["MatMul", "SaveV2", "RestoreV2"]),
        "config.json": json.dumps({"hidden_size": 768}).encode(),
        **_issue12_benign(),
    }
    return mal, benign


def _targz(members: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def write(base: Path, files: dict[str, bytes]) -> list[Path]:
    out = []
    for name, data in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out.append(path.parent if "savedmodel" in name.split("/")[0] else path)
    return out


# --------------------------------------------------------------------- big inputs


def dense_pickle(path: Path, n: int = 5_000_000) -> None:
    """{"k0": 0.0, ...}: ~100 MB, 3 opcodes per entry (SHORT_BINUNICODE, MEMOIZE, BINFLOAT).
    Written by a child process so the bench itself stays small."""
    code = (
        "import pickle, sys\n"
        "d = {f'k{i}': float(i) for i in range(int(sys.argv[2]))}\n"
        "with open(sys.argv[1], 'wb') as fh:\n"
        "    pickle.dump(d, fh, protocol=4)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(n)], check=True)


def sparse_checkpoint(path: Path, total: int = 2 << 30, tensors: int = 64) -> None:
    """A 2 GB PyTorch zip checkpoint whose tensor members are sparse holes (all zeros)."""
    each = total // tensors
    zero_crc = 0
    block = bytes(16 << 20)
    left = each
    while left:
        n = min(left, len(block))
        zero_crc = zlib.crc32(block[:n], zero_crc)
        left -= n
    from tests.scanners.modelfile.picklegen import rebuild_tensor_pickle

    keys = [str(i) for i in range(tensors)]
    members: list[tuple[str, bytes | int, int]] = [
        ("archive/data.pkl", rebuild_tensor_pickle(keys), 0)
    ]
    members += [(f"archive/data/{k}", each, zero_crc) for k in keys]
    members.append(("archive/version", b"3\n", 0))
    central = b""
    with open(path, "wb") as fh:
        for name, data, crc in members:
            nb = name.encode()
            size = data if isinstance(data, int) else len(data)
            if not isinstance(data, int):
                crc = zlib.crc32(data)
            offset = fh.tell()
            fh.write(
                struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, size, size, len(nb), 0)
            )
            fh.write(nb)
            if isinstance(data, int):
                fh.seek(size, os.SEEK_CUR)  # a hole: no bytes written
            else:
                fh.write(data)
            central += (
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    20,
                    20,
                    0,
                    0,
                    0,
                    0,
                    crc,
                    size,
                    size,
                    len(nb),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + nb
            )
        cd_off = fh.tell()
        fh.write(central)
        fh.write(
            struct.pack(
                "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), cd_off, 0
            )
        )


# ------------------------------------------------------------------------- report


@dataclass
class Row:
    tool: str
    detected: int = 0
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    benign_warnings: int = 0
    errors: int = 0
    corpus_s: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)


def per_file(tool: str, paths: list[Path], names: list[str], work: Path) -> list[Verdict]:
    out = []
    for i, path in enumerate(paths):
        js = work / f"{tool}-{i}.json"
        js.unlink(missing_ok=True)
        r = run(tool_cmd(tool, path, js), timeout=300)
        out.append(verdict(tool, r, js))
    return out


def bench_big(tool: str, path: Path, work: Path) -> tuple[Run, Verdict]:
    js = work / f"{tool}-big.json"
    js.unlink(missing_ok=True)
    r = run(tool_cmd(tool, path, js))
    return r, verdict(tool, r, js)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--skip-big", action="store_true", help="corpus only (no dense pickle, no 2 GB)"
    )
    ap.add_argument("--workdir", default="/tmp/warden-bench")  # noqa: S108
    ap.add_argument("--tools", default=",".join(TOOLS))
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    ensure_venv()
    # pip byte-compiles the other tools at install time; do the same for Warden's package
    py = str(ROOT / ".venv/bin/python")
    subprocess.run([py, "-m", "compileall", "-q", "scanners"], cwd=ROOT, check=True)
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    (work / "mal").mkdir(parents=True)
    (work / "ben").mkdir()
    mal, ben = corpus()
    mal_paths, ben_paths = write(work / "mal", mal), write(work / "ben", ben)
    real_h5(
        work / "mal" / "keras_lambda.h5",
        {"class_name": "Sequential", "config": {"layers": [LAMBDA]}},
    )
    real_h5(
        work / "ben" / "keras_dense.h5", {"class_name": "Sequential", "config": {"layers": [DENSE]}}
    )
    mal["keras_lambda.h5"] = b""
    ben["keras_dense.h5"] = b""
    mal_paths.append(work / "mal" / "keras_lambda.h5")
    ben_paths.append(work / "ben" / "keras_dense.h5")
    rows: dict[str, Row] = {}
    print(f"corpus: {len(mal_paths)} malicious, {len(ben_paths)} benign files; tools {versions()}")
    for tool in tools:
        row = rows[tool] = Row(tool)
        for name, v in zip(mal, per_file(tool, mal_paths, list(mal), work), strict=True):
            row.detected += v.alarm
            row.errors += v.error
            if not v.alarm:
                row.missed.append(name)
        for name, v in zip(ben, per_file(tool, ben_paths, list(ben), work), strict=True):
            row.benign_warnings += v.warnings
            if v.alarm:
                row.false_alarms.append(name)
        # whole-process time: the whole corpus in one run
        # best of 3 for Warden; the other tools take minutes on the padded archives: once
        repeat = 3 if tool == "warden" else 1
        times = [
            run(tool_cmd(tool, work, work / f"{tool}-all.json")).seconds for _ in range(repeat)
        ]
        row.corpus_s = min(times)
    big: dict[str, dict[str, str]] = {t: {} for t in tools}
    dense_runs: dict[str, Run] = {}
    if not args.skip_big:
        dense = work / "dense.pkl"
        print("writing the dense pickle ...", flush=True)
        dense_pickle(dense)
        mb = dense.stat().st_size / 1e6
        ckpt = work / "sparse-2GB.pt"
        sparse_checkpoint(ckpt)
        with open(ckpt, "rb") as fh:  # warm the page cache once (holes read as zeros)
            while fh.read(16 << 20):
                pass
        for tool in tools:
            print(f"  {tool}: dense pickle ...", flush=True)
            r, v = bench_big(tool, dense, work)
            dense_runs[tool] = r
            big[tool]["dense"] = (
                f"{r.seconds:7.2f} s {mb / r.seconds:6.1f} MB/s {r.max_rss_mb:7.0f} MB "
                f"{'ALARM' if v.alarm else 'ok'}{f' +{v.warnings} warn' if v.warnings else ''}"
                f"{' (exit ' + str(r.code) + ')' if r.code not in (0, 1) else ''}"
            )
            print(f"  {tool}: 2 GB checkpoint ...", flush=True)
            r, v = bench_big(tool, ckpt, work)
            big[tool]["ckpt"] = (
                f"{r.seconds:6.2f} s {r.max_rss_mb:6.0f} MB {'ALARM' if v.alarm else 'ok'}"
                f"{' (exit ' + str(r.code) + ')' if r.code not in (0, 1) else ''}"
            )
        if "warden" in tools:
            for key, path in (("dense_text", dense), ("ckpt_text", ckpt)):
                r = run(tool_cmd("warden-text", path, work / "x.json"))
                big["warden"][key] = f"{r.seconds:.2f} s, {r.max_rss_mb:.0f} MB peak RSS"
            t0 = time.perf_counter()
            from scanners.modelfile import scan_path

            res = scan_path(ckpt, sha256=False)
            api = time.perf_counter() - t0
            big["warden"]["ckpt_api"] = f"{api:.3f} s ({res[0].format})"
        print(f"dense pickle: {mb:.1f} MB")
    print_table(rows, big, len(mal_paths), len(ben_paths))
    w = rows.get("warden")
    if w is not None:
        verdict_1s = "yes" if w.corpus_s < 1.0 else "NO"
        print(
            f"\nwarden, whole corpus in one process: {w.corpus_s:.2f} s (under 1 s: {verdict_1s})"
        )
    if "warden" in dense_runs and "picklescan" in dense_runs:
        wr, pr = dense_runs["warden"], dense_runs["picklescan"]
        speed = pr.seconds / wr.seconds
        memory = pr.max_rss_mb / wr.max_rss_mb
        print(
            f"dense pickle, warden vs picklescan: {speed:.1f}x faster (target 8x), "
            f"1/{memory:.0f} of its peak memory (target 1/10)"
        )
    return 0


def print_table(
    rows: dict[str, Row], big: dict[str, dict[str, str]], n_mal: int, n_ben: int
) -> None:
    print()
    head = f"{'tool':11} {'detected':>9} {'false alarms':>12} {'warn(benign)':>12} {'corpus s':>9}"
    print(head)
    print("-" * len(head))
    for r in rows.values():
        print(
            f"{r.tool:11} {r.detected:>4}/{n_mal:<4} {len(r.false_alarms):>6}/{n_ben:<5} "
            f"{r.benign_warnings:>12} {r.corpus_s:>9.2f}"
        )
    for r in rows.values():
        if r.missed:
            print(f"  {r.tool} missed: {', '.join(r.missed)}")
        if r.false_alarms:
            print(f"  {r.tool} false alarms: {', '.join(r.false_alarms)}")
    if any(big.values()):
        print()
        print(f"{'tool':11} {'dense pickle: time, MB/s, peak RSS, verdict':52} 2 GB checkpoint")
        for tool, vals in big.items():
            if "dense" in vals:
                print(f"{tool:11} {vals['dense']:52} {vals.get('ckpt', '')}")
        w = big.get("warden", {})
        if "ckpt_text" in w:
            print("(warden rows above: --format json, which hashes every file with SHA-256)")
            print(f"warden --format text, dense pickle:    {w['dense_text']}")
            print(f"warden --format text, 2 GB checkpoint: {w['ckpt_text']}")
            print(f"warden scan_path(sha256=False), 2 GB checkpoint, in process: {w['ckpt_api']}")


if __name__ == "__main__":
    sys.exit(main())
