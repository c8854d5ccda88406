"""A limit never makes a file pass, and padding or a bomb in one member hides nothing.

The layouts are the ones of published bypasses: a PyTorch zip whose ``data.pkl`` comes after
100,001 empty members, or after one deflate-bomb member.
"""

from __future__ import annotations

import functools
import io
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from scanners.cli import main
from scanners.modelfile import Limits, scan_bytes
from tests.scanners.modelfile.helpers import assert_critical, rule_ids
from tests.scanners.modelfile.picklegen import call_pickle

EVIL = call_pickle("posix", "system", "id", proto=2)
LIMIT = "warden-modelscan/archive-limit"


def _zip(members: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, method in members:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


@functools.cache
def _deflate_zeros(megabytes: int) -> bytes:
    """A raw deflate stream of ``megabytes`` MiB of zeros (about 1 KB per MiB)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    return b"".join(comp.compress(block) for _ in range(megabytes)) + comp.flush()


def _with_bomb_first(megabytes: int, payload_name: str) -> bytes:
    """The bomb member first in the directory, then the payload, then ``version``."""
    return _hand_zip(
        [
            ("archive/aaa.pkl", _deflate_zeros(megabytes), megabytes << 20, 8),
            (payload_name, EVIL, len(EVIL), 0),
            ("archive/version", b"3\n", 2, 0),
        ]
    )


def _hand_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """Local headers + central directory (+ zip64 sizes when needed), by the APPNOTE layout."""
    out = bytearray()
    central = bytearray()
    for name, data, usize, method in members:
        nb = name.encode()
        crc = 0 if method else zlib.crc32(data)
        big = usize >= 0xFFFFFFFF
        extra = (b"\x01\x00\x10\x00" + usize.to_bytes(8, "little")
                 + len(data).to_bytes(8, "little")) if big else b""  # fmt: skip
        off = len(out)
        out += b"PK\x03\x04" + (45).to_bytes(2, "little") + b"\x00\x00"
        out += method.to_bytes(2, "little") + b"\x00\x00\x00\x00" + crc.to_bytes(4, "little")
        out += (0xFFFFFFFF if big else len(data)).to_bytes(4, "little")
        out += (0xFFFFFFFF if big else usize).to_bytes(4, "little")
        out += len(nb).to_bytes(2, "little") + len(extra).to_bytes(2, "little") + nb + extra
        out += data
        central += b"PK\x01\x02" + (45).to_bytes(2, "little") + (45).to_bytes(2, "little")
        central += b"\x00\x00" + method.to_bytes(2, "little") + b"\x00\x00\x00\x00"
        central += crc.to_bytes(4, "little")
        central += (0xFFFFFFFF if big else len(data)).to_bytes(4, "little")
        central += (0xFFFFFFFF if big else usize).to_bytes(4, "little")
        central += len(nb).to_bytes(2, "little") + len(extra).to_bytes(2, "little")
        central += b"\x00\x00" * 3 + b"\x00\x00\x00\x00" + off.to_bytes(4, "little") + nb + extra
    cd_off = len(out)
    out += central
    n = len(members)
    if n > 0xFFFF:  # zip64 end record and locator, then an end record that points at them
        z64 = len(out)
        out += b"PK\x06\x06" + (44).to_bytes(8, "little") + (45).to_bytes(2, "little") * 2
        out += b"\x00" * 8 + n.to_bytes(8, "little") * 2
        out += len(central).to_bytes(8, "little") + cd_off.to_bytes(8, "little")
        out += b"PK\x06\x07" + b"\x00" * 4 + z64.to_bytes(8, "little") + (1).to_bytes(4, "little")
        n = 0xFFFF
    out += b"PK\x05\x06" + b"\x00\x00\x00\x00" + n.to_bytes(2, "little") * 2
    out += len(central).to_bytes(4, "little") + cd_off.to_bytes(4, "little") + b"\x00\x00"
    return bytes(out)


def test_data_pkl_after_100001_empty_members_is_scanned(tmp_path: Path) -> None:
    members = [(f"archive/pad/{i}", b"", 0, 0) for i in range(100_001)]
    members += [("archive/data.pkl", EVIL, len(EVIL), 0), ("archive/version", b"3\n", 2, 0)]
    data = _hand_zip(members)
    assert len(data) > 10_000_000  # the published file is 10.9 MB
    res = scan_bytes(data, "model.pt")
    assert res.format == "pytorch-zip"
    assert_critical(res, "posix.system")
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    assert main(["scan", str(path)]) == 1


@pytest.mark.parametrize("payload", ["archive/data.pkl", "archive/zzz"])
def test_a_deflate_bomb_member_hides_no_other_member(payload: str) -> None:
    """~320 KB of deflate that inflates to 320 MiB, before the pickle (named so the loader
    runs it, or with a name that gives it no priority at all)."""
    data = _with_bomb_first(320, payload)
    assert len(data) < 400_000
    res = scan_bytes(data, "model.pt")
    assert_critical(res, "posix.system")
    bomb = [f for f in res.findings if f.rule_id == LIMIT]
    assert bomb
    assert bomb[0].severity == "high"
    assert bomb[0].archive_member == "archive/aaa.pkl"
    assert "ratio" in bomb[0].title


def test_padding_past_the_member_limit_is_high_and_the_pickle_still_scanned() -> None:
    members = [(f"pad/{i}.txt", b"x", 0) for i in range(1500)]
    members.append(("archive/data.pkl", EVIL, 0))
    res = scan_bytes(_zip(members), "model.pt", limits=Limits(max_members=1000))
    assert_critical(res, "posix.system")
    f = next(f for f in res.findings if f.rule_id == LIMIT)
    assert f.severity == "high"
    assert "1,000 scanned members" in f.title
    assert "501" in f.title


def test_total_size_limit_is_high_and_names_the_limit() -> None:
    members = [(f"blob{i}.bin", bytes(2 << 20), zipfile.ZIP_DEFLATED) for i in range(4)]
    members.append(("archive/data.pkl", EVIL, zipfile.ZIP_DEFLATED))
    res = scan_bytes(_zip(members), "m.zip", limits=Limits(max_total_size=3 << 20))
    assert_critical(res, "posix.system")
    f = next(f for f in res.findings if f.rule_id == LIMIT and "total" in f.title)
    assert f.severity == "high"


def test_depth_limit_is_high() -> None:
    import gzip

    data = EVIL
    for _ in range(4):
        data = gzip.compress(data)
    res = scan_bytes(data, "deep.gz", limits=Limits(max_depth=2))
    f = next(f for f in res.findings if f.rule_id == LIMIT)
    assert f.severity == "high"
    assert "nesting" in f.title


def test_tar_padding_and_member_limit() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for i in range(3000):
            ti = tarfile.TarInfo(f"pad/{i}")
            ti.size = 0 if i % 2 else 1
            tf.addfile(ti, io.BytesIO(b"x" * ti.size))
        ti = tarfile.TarInfo("model/model.pkl")
        ti.size = len(EVIL)
        tf.addfile(ti, io.BytesIO(EVIL))
    res = scan_bytes(buf.getvalue(), "bundle.tar", limits=Limits(max_members=100))
    assert_critical(res, "posix.system")
    assert LIMIT in rule_ids(res)
    f = next(f for f in res.findings if f.rule_id == LIMIT)
    assert "1,401 member(s) not scanned" in f.title


def test_a_member_is_inflated_no_further_than_its_declared_size() -> None:
    """The loader allocates the declared size and reads no more; neither does the scanner, so
    a bomb that lies about its size costs nothing and the pickle in front of it is scanned."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = comp.compress(EVIL) + b"".join(comp.compress(bytes(1 << 20)) for _ in range(64))
    stream += comp.flush()
    data = _hand_zip(
        [("archive/data.pkl", stream, len(EVIL), 8), ("archive/version", b"3\n", 2, 0)]
    )
    res = scan_bytes(data, "model.pt")
    assert_critical(res, "posix.system")
    assert res.seconds < 1.0
