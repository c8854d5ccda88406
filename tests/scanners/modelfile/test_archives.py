"""Archives scanned recursively, with limits; member paths in findings."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib

from scanners.modelfile import Limits, scan_bytes
from tests.scanners.modelfile.builders import torch_zip, zip_bytes
from tests.scanners.modelfile.helpers import assert_critical, rule_ids, scan
from tests.scanners.modelfile.picklegen import call_pickle

EVIL = call_pickle("os", "system", "x")


def _tar(members: dict[str, bytes], mode: str = "w", links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        for name, target in (links or {}).items():
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.SYMTYPE
            ti.linkname = target
            tf.addfile(ti)
    return buf.getvalue()


def test_nested_zip_tar_gz_zip_checkpoint() -> None:
    ckpt = torch_zip(pickle_data=EVIL)
    inner_tgz = _tar({"models/model.pt": ckpt, "README": b"hello"}, mode="w:gz")
    outer = zip_bytes({"release/bundle.tar.gz": inner_tgz}, zipfile.ZIP_DEFLATED)
    res = scan(outer, "release.zip")
    assert_critical(res, "os.system")
    f = next(f for f in res.findings if f.rule_id == "unsafe-import")
    assert f.archive_member == "release/bundle.tar.gz/[gzip]/models/model.pt/archive/data.pkl"


def test_plain_gz_and_tar() -> None:
    res = scan(gzip.compress(EVIL), "model.pkl.gz")
    assert res.format == "pickle+gzip"
    assert_critical(res, "os.system")
    res2 = scan(_tar({"a/model.pkl": EVIL}), "bundle.tar")
    assert res2.format == "tar"
    assert_critical(res2, "os.system")


def test_depth_limit() -> None:
    data = EVIL
    for _ in range(4):
        data = gzip.compress(data)
    res = scan_bytes(data, "deep.gz", limits=Limits(max_depth=2))
    assert "warden-modelscan/archive-limit" in rule_ids(res)
    assert "os.system" not in {f.evidence.get("import") for f in res.findings}


def test_member_count_limit() -> None:
    data = zip_bytes({f"f{i}.txt": b"x" for i in range(20)})
    res = scan_bytes(data, "many.zip", limits=Limits(max_members=5))
    assert "warden-modelscan/archive-limit" in rule_ids(res)


def test_decompression_bomb_ratio() -> None:
    bomb = zlib.compress(b"\x00" * (8 << 20), 9)
    res = scan_bytes(bomb, "bomb.joblib", limits=Limits(ratio_floor=1 << 20, max_ratio=100))
    ids = rule_ids(res)
    assert "warden-modelscan/archive-limit" in ids
    assert any("ratio" in f.description for f in res.findings)


def test_member_size_limit() -> None:
    data = zip_bytes({"big.bin": b"\x01" * (3 << 20)}, zipfile.ZIP_DEFLATED)
    res = scan_bytes(data, "a.zip", limits=Limits(max_member_size=1 << 20))
    assert "warden-modelscan/archive-limit" in rule_ids(res)


def test_path_traversal_and_links() -> None:
    z = zip_bytes({"../../etc/cron.d/x": b"x", "/abs/path": b"y"})
    res = scan(z, "evil.zip")
    assert sum(f.rule_id == "warden-modelscan/archive-path" for f in res.findings) == 2
    t = _tar({"ok.txt": b"x"}, links={"link": "/etc/passwd"})
    res2 = scan(t, "evil.tar")
    assert "warden-modelscan/archive-path" in rule_ids(res2)
    assert all(f.severity == "high" for f in res2.findings)


def test_corrupt_zip_is_not_clean() -> None:
    data = torch_zip(pickle_data=EVIL)
    cut = data[: data.find(b"PK\x01\x02")] + b"PK\x05\x06" + b"\x00" * 18
    res = scan(cut, "broken.pt")
    assert res.findings
