"""PyTorch checkpoints: zip (any root, every pickle member, CRC/flag/name tricks), legacy
sequential and tar formats, TorchScript, and the promise that tensor data is never read."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from scanners.modelfile.archive import Limits
from scanners.modelfile.engine import Ctx, FileResult, scan_source
from scanners.modelfile.pickle_ops import LEGACY_TORCH_MAGIC
from scanners.modelfile.source import FileSource
from tests.scanners.modelfile.builders import torch_zip, zip_bytes
from tests.scanners.modelfile.helpers import assert_clean, assert_critical, rule_ids, scan
from tests.scanners.modelfile.picklegen import P, call_pickle, proto0_call, rebuild_tensor_pickle


def test_benign_checkpoint_layout() -> None:
    res = scan(torch_zip(), "pytorch_model.bin")
    assert res.format == "pytorch-zip"
    assert not res.findings, [f.title for f in res.findings]
    kinds = {m["name"]: m["format"] for m in res.members}
    assert kinds["archive/data/0"] == "tensor-data"
    assert kinds["archive/data.pkl"] == "pickle"


def test_malicious_data_pkl() -> None:
    res = scan(torch_zip(pickle_data=call_pickle("posix", "system", "id", proto=2)), "model.pt")
    assert_critical(res, "posix.system")
    f = next(f for f in res.findings if f.rule_id == "unsafe-import")
    assert f.archive_member == "archive/data.pkl"
    assert f.file_path == "model.pt"


def test_any_root_folder_name() -> None:
    res = scan(torch_zip(root="resnet_final_v2", pickle_data=call_pickle("os", "system", "x")))
    assert_critical(res, "os.system")


def test_every_pickle_member_by_content_whatever_its_name() -> None:
    extra = {
        "archive/extra/notes": proto0_call("subprocess", "Popen", "x"),  # protocol 0, no magic
        "archive/.data/serialization_id": call_pickle("webbrowser", "open", "u"),
        "archive/data/99": call_pickle("runpy", "run_path", "x"),  # not a referenced storage
    }
    res = scan(torch_zip(extra=extra))
    assert_critical(res, "subprocess.Popen")
    assert_critical(res, "webbrowser.open")
    assert_critical(res, "runpy.run_path")


def test_zip_checkpoint_named_bin_and_pickle_named_safetensors() -> None:
    assert scan(torch_zip(), "weights.bin").format == "pytorch-zip"
    res = scan(call_pickle("os", "system", "x"), "model.safetensors")
    assert res.format == "pickle"
    assert_critical(res, "os.system")
    mismatch = [f for f in res.findings if f.rule_id == "warden-modelscan/format-mismatch"]
    assert mismatch
    assert mismatch[0].severity == "high"


def _patch_member(
    data: bytes, name: bytes, *, crc: bool = False, flag: int = 0, local_name: bytes | None = None
) -> bytes:
    """Corrupt the CRC / set flag bits in both headers / rename in the local header only."""
    out = bytearray(data)
    lpos = out.find(b"PK\x03\x04" + b"\x00" * 0)  # first local header search below
    while lpos >= 0:
        nlen = struct.unpack_from("<H", out, lpos + 26)[0]
        if bytes(out[lpos + 30 : lpos + 30 + nlen]) == name:
            break
        lpos = out.find(b"PK\x03\x04", lpos + 4)
    cpos = out.find(b"PK\x01\x02")
    while cpos >= 0:
        nlen = struct.unpack_from("<H", out, cpos + 28)[0]
        if bytes(out[cpos + 46 : cpos + 46 + nlen]) == name:
            break
        cpos = out.find(b"PK\x01\x02", cpos + 4)
    assert lpos >= 0
    assert cpos >= 0
    if crc:
        struct.pack_into("<I", out, lpos + 14, 0xDEADBEEF)
        struct.pack_into("<I", out, cpos + 16, 0xDEADBEEF)
    if flag:
        struct.pack_into("<H", out, lpos + 6, struct.unpack_from("<H", out, lpos + 6)[0] | flag)
        struct.pack_into("<H", out, cpos + 8, struct.unpack_from("<H", out, cpos + 8)[0] | flag)
    if local_name is not None:
        assert len(local_name) == len(name)
        out[lpos + 30 : lpos + 30 + len(name)] = local_name
    return bytes(out)


@pytest.mark.parametrize(
    ("kwargs", "python_error"),
    [
        ({"crc": True}, "CRC"),
        ({"flag": 0x1}, "encrypted"),
        ({"local_name": b"archive/data.pkX"}, "differ"),
    ],
)
def test_zip_tricks_that_python_zipfile_refuses(
    kwargs: dict[str, object], python_error: str
) -> None:
    data = torch_zip(pickle_data=call_pickle("os", "system", "x"))
    bad = _patch_member(data, b"archive/data.pkl", **kwargs)  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(bad)) as z, pytest.raises(Exception, match=python_error):
        z.read("archive/data.pkl")
    res = scan(bad, "model.pt")
    assert_critical(res, "os.system")
    if "crc" not in kwargs:
        assert "warden-modelscan/zip-anomaly" in rule_ids(res)


def test_deflated_members_are_read() -> None:
    data = zip_bytes(
        {"m/data.pkl": call_pickle("os", "system", "x"), "m/version": b"3"}, zipfile.ZIP_DEFLATED
    )
    assert_critical(scan(data), "os.system")


def test_tensor_data_is_never_read(tmp_path: Path) -> None:
    storages = {str(i): bytes([i]) * (1 << 20) for i in range(8)}  # 8 MiB of tensors
    path = tmp_path / "model.pt"
    path.write_bytes(torch_zip(storages=storages))
    spans = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if "/data/" in info.filename:
                start = info.header_offset + 30 + len(info.filename) + len(info.extra)
                spans.append((info.header_offset, start + info.file_size))
    src = FileSource(str(path), record=True)
    try:
        res = FileResult(path=str(path), size=src.size)
        fmt = scan_source(Ctx(res, Limits()), src, "", "model.pt", 0)
    finally:
        src.close()
    assert fmt == "pytorch-zip"
    assert not res.findings
    for lo, hi in src.ranges:
        for s_lo, s_hi in spans:
            assert hi <= s_lo or lo >= s_hi, (
                f"read [{lo}, {hi}) inside tensor data [{s_lo}, {s_hi})"
            )
    assert src.bytes_read < 512 * 1024


def test_torchscript_archive() -> None:
    code = (
        b"import os\nclass Model(Module):\n"
        b"  def forward(self: __torch__.Model, x: Tensor) -> Tensor:\n"
        b"    return ops.my_ops.custom(x)\n"
    )
    ts_pickle = P(2).global_("__torch__.Model", "Model").empty_tuple().newobj().stop().data
    data = zip_bytes(
        {
            "model/data.pkl": ts_pickle,
            "model/constants.pkl": P(2).empty_tuple().stop().data,
            "model/code/__torch__/model.py": code,
            "model/version": b"3",
        }
    )
    res = scan(data, "scripted.pt")
    assert res.format == "torchscript"
    ids = rule_ids(res)
    assert "warden-modelscan/torchscript-code" in ids
    assert "unsafe-import" in ids  # import os in the code
    assert not any("__torch__" in str(f.evidence.get("import", "")) for f in res.findings)
    ts = next(f for f in res.findings if f.title.endswith("code file(s)"))
    assert ts.severity == "medium"
    assert "my_ops" in ts.description


def _legacy(main_pickle: bytes) -> bytes:
    magic = pickle.dumps(LEGACY_TORCH_MAGIC, protocol=2)
    parts = [
        magic,
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"little_endian": True}, protocol=2),
    ]
    keys = pickle.dumps(["0"], protocol=2)
    raw = struct.pack("<q", 128) + b"\x80\x00\xff" * 128  # storage bytes that are not a pickle
    return b"".join(parts) + main_pickle + keys + raw


def test_legacy_sequential_format() -> None:
    benign = scan(_legacy(rebuild_tensor_pickle(["0"])), "old.pt")
    assert benign.format == "pytorch-legacy"
    assert not benign.findings, [f.title for f in benign.findings]
    bad = scan(_legacy(call_pickle("os", "system", "x", proto=2)), "old.pt")
    assert_critical(bad, "os.system")


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _legacy_storages(second_record: bytes) -> bytes:
    rec1 = P(2).str_("0").str_("cpu").global_("torch", "FloatStorage").tuple3().stop().data
    out = pickle.dumps(2, protocol=2) + rec1 + struct.pack("<q", 4) + b"\xff" * 16
    out += second_record + struct.pack("<q", 2) + b"\xfe" * 16
    return out + pickle.dumps([], protocol=2)


def test_legacy_tar_format() -> None:
    rec2 = P(2).str_("1").str_("cpu").global_("torch", "DoubleStorage").tuple3().stop().data
    tensors = pickle.dumps(1, protocol=2) + P(2).str_("t").str_("0").int_(1).tuple3().stop().data
    tensors += struct.pack("<i", 1) + b"\x00" * 4 + struct.pack("<qq", 4, 1) + struct.pack("<q", 0)
    members = {
        "sys_info": pickle.dumps({"little_endian": True}, protocol=2),
        "pickle": rebuild_tensor_pickle(["0"]),
        "storages": _legacy_storages(rec2),
        "tensors": tensors,
    }
    res = scan(_tar(members), "old.tar")
    assert res.format == "pytorch-legacy-tar"
    assert_clean(res)
    assert not res.findings, [f.title for f in res.findings]
    evil = P(2).global_("os", "system").mark().str_("x").tuple_().reduce().pop()
    evil.str_("1").str_("cpu").global_("torch", "DoubleStorage").tuple3().stop()
    members["storages"] = _legacy_storages(evil.data)
    assert_critical(scan(_tar(members), "old.tar"), "os.system")


def test_pickle_zip_polyglot() -> None:
    data = call_pickle("os", "system", "x") + torch_zip()
    res = scan(data, "model.pt")
    assert_critical(res, "os.system")
    assert "warden-modelscan/polyglot" in rule_ids(res)


def test_zip_with_prepended_pickle_is_seen_both_ways() -> None:
    zipped = torch_zip(pickle_data=call_pickle("subprocess", "Popen", "x"))
    data = proto0_call("os", "system", "x") + zipped
    res = scan(data)
    assert_critical(res, "os.system")
    assert_critical(res, "subprocess.Popen")
