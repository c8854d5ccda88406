"""Hostile and damaged input: the scanner always returns a result, never raises, and a
truncation never hides an import that is complete before the cut."""

from __future__ import annotations

import gzip
import random

import pytest

from tests.scanners.modelfile import builders as b
from tests.scanners.modelfile.helpers import by_import, scan
from tests.scanners.modelfile.picklegen import call_pickle

EVIL = call_pickle("os", "system", "id")

SAMPLES = {
    "pickle": EVIL,
    "torch": b.torch_zip(pickle_data=EVIL),
    "gguf": b.gguf({"tokenizer.chat_template": "{{ x }}"}, [("w", 8)]),
    "onnx": b.onnx_model([("Conv", "")], [("w", "w.bin")]),
    "safetensors": b.safetensors({"w": ("F32", [2], b"\x00" * 8)}),
    "npy": b.npy("|O", (1,), EVIL),
    "keras": b.keras_zip(b.keras_config([b.dense_layer()])),
    "savedmodel": b.saved_model(["MatMul", "PyFunc"]),
    "gzip": gzip.compress(EVIL),
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_mutations_never_raise(kind: str) -> None:
    rng = random.Random(kind)  # noqa: S311 - reproducible fuzzing, not crypto
    data = SAMPLES[kind]
    for _ in range(40):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        if rng.random() < 0.3:
            del buf[rng.randrange(len(buf)) :]
        res = scan(bytes(buf), f"x.{kind}")
        assert res.format


def test_every_prefix_keeps_a_complete_import() -> None:
    # STACK_GLOBAL of "os"/"system" ends at this offset; any cut after it must report it.
    end_of_import = EVIL.index(b"\x93") + 1
    for cut in range(end_of_import, len(EVIL)):
        assert by_import(scan(EVIL[:cut])).get("os.system") == "critical", cut


def test_random_bytes() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible fuzzing, not crypto
    for n in (1, 2, 9, 64, 4096):
        for _ in range(10):
            scan(bytes(rng.randrange(256) for _ in range(n)), "noise.bin")
