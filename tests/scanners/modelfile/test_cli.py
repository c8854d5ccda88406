"""``python -m scanners scan``: output formats, exit codes, directories, the canary."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanners import parse
from scanners.cli import main
from scanners.modelfile import scan_path, to_report
from tests.scanners.modelfile import builders as b
from tests.scanners.modelfile.picklegen import P, call_pickle

ROOT = Path(__file__).resolve().parents[3]


def _tree(tmp_path: Path) -> Path:
    d = tmp_path / "models"
    (d / "sub").mkdir(parents=True)
    (d / "clean.safetensors").write_bytes(b.safetensors({"w": ("F32", [2], b"\x00" * 8)}))
    (d / "sub" / "ckpt.bin").write_bytes(b.torch_zip())
    (d / "sub" / "evil.pt").write_bytes(b.torch_zip(pickle_data=call_pickle("os", "system", "id")))
    (d / "README.md").write_bytes(b"# model card\n")
    return d


def test_json_output_lists_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _tree(tmp_path)
    assert main(["scan", str(d), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "warden.modelscan/v1"
    assert doc["tool"] == "warden-modelscan"
    files = {Path(f["path"]).name: f for f in doc["files"]}
    assert set(files) == {"clean.safetensors", "ckpt.bin", "evil.pt", "README.md"}
    assert files["ckpt.bin"]["format"] == "pytorch-zip"
    assert files["clean.safetensors"]["findings"] == []
    assert len(files["evil.pt"]["sha256"]) == 64
    assert files["evil.pt"]["size"] > 0
    finding = files["evil.pt"]["findings"][0]
    assert finding["rule_id"] == "unsafe-import"
    assert finding["severity"] == "critical"
    assert finding["archive_member"] == "archive/data.pkl"
    assert finding["evidence"]["import"] == "os.system"
    for key in (
        "fingerprint",
        "category",
        "tool",
        "byte_offset",
        "atlas",
        "owasp_ml",
        "remediation",
    ):
        assert key in finding


def test_exit_codes_and_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "ok.safetensors"
    clean.write_bytes(b.safetensors({"w": ("F32", [1], b"\x00" * 4)}))
    assert main(["scan", str(clean)]) == 0
    high_only = tmp_path / "stdlib.pkl"
    high_only.write_bytes(call_pickle("textwrap", "dedent", "x"))
    assert main(["scan", str(high_only)]) == 1
    assert main(["scan", str(high_only), "--fail-on", "critical"]) == 0
    # An import off the allow-list is high since issue 12 (it was medium, exit 0).
    custom = tmp_path / "custom.pkl"
    custom.write_bytes(P(2).global_("mypkg.models", "Net").stop().data)
    assert main(["scan", str(custom)]) == 1
    assert main(["scan", str(custom), "--fail-on", "critical"]) == 0
    numbers = tmp_path / "npy-object.npy"
    numbers.write_bytes(b.npy("|O", (1,), P(2).none().stop().data))
    assert main(["scan", str(numbers)]) == 0
    assert main(["scan", str(numbers), "--fail-on", "medium"]) == 1
    capsys.readouterr()
    assert main(["scan", str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "missing.pt" in err


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["scan", "x", "--format", "yaml"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_unreadable_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    f = tmp_path / "locked.pt"
    f.write_bytes(b"x")
    f.chmod(0)
    assert main(["scan", str(f)]) == 2


def test_sarif_output_ingests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _tree(tmp_path)
    assert main(["scan", str(d), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "warden-modelscan"
    result = run["results"][0]
    assert result["ruleId"] == "unsafe-import"
    assert result["level"] == "error"
    assert result["locations"][0]["logicalLocations"][0]["name"] == "archive/data.pkl"


def test_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _tree(tmp_path)
    main(["scan", str(d)])
    out = capsys.readouterr().out
    assert "CRITICAL" in out
    assert "unsafe-import" in out
    assert "pytorch-zip" in out
    assert out.rstrip().splitlines()[-1].startswith("Scanned 4 file(s)")


def test_json_round_trips_through_the_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _tree(tmp_path)
    main(["scan", str(d), "--format", "json"])
    report = parse(capsys.readouterr().out.encode())
    assert report.scan_type == "warden-modelscan"
    direct = to_report(scan_path(d))
    assert [f.fingerprint for f in report.findings] == [f.fingerprint for f in direct.findings]
    assert {m["path"] for m in report.metadata["files"]} == {
        m["path"] for m in direct.metadata["files"]
    }


def test_module_entry_point(tmp_path: Path) -> None:
    f = tmp_path / "m.pkl"
    f.write_bytes(call_pickle("os", "system", "x"))
    proc = subprocess.run(
        [sys.executable, "-m", "scanners", "scan", str(f), "--format", "json"],
        capture_output=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["by_severity"]["critical"] == 1


def test_canary_nothing_executes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Payloads that would create files, in every container format; scanning them (API and
    CLI) must never create the files."""
    canary = tmp_path / "canary"
    canary2 = tmp_path / "canary2"
    payloads = [
        call_pickle("os", "system", f"touch {canary}"),
        call_pickle("posix", "system", f"touch {canary}", proto=2),
        call_pickle("subprocess", "call", f"touch {canary}"),
        P(2)
        .global_("builtins", "open")
        .mark()
        .str_(str(canary2))
        .str_("w")
        .tuple_()
        .reduce()
        .stop()
        .data,
        P(4)
        .str_("builtins")
        .str_("exec")
        .stack_global()
        .str_(f"open({str(canary2)!r}, 'w')")
        .tuple1()
        .reduce()
        .stop()
        .data,
    ]
    d = tmp_path / "payloads"
    d.mkdir()
    for i, p in enumerate(payloads):
        (d / f"{i}.pkl").write_bytes(p)
        (d / f"{i}.pt").write_bytes(b.torch_zip(pickle_data=p))
        (d / f"{i}.npy").write_bytes(b.npy("|O", (1,), p))
        (d / f"{i}.joblib").write_bytes(gzip.compress(p))
        (d / f"{i}.safetensors").write_bytes(p)
    results = scan_path(d)
    assert main(["scan", str(d), "--format", "json"]) == 1
    capsys.readouterr()
    assert all(r.max_severity == "critical" for r in results), [
        (r.path, r.max_severity) for r in results
    ]
    assert not canary.exists()
    assert not canary2.exists()
