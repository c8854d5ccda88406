"""GGUF (llama.cpp): header, metadata key/values, tensor infos, and chat templates.

The chat template (``tokenizer.chat_template``, ``tokenizer.chat_template.<name>``) is Jinja
that loaders render. Rendered outside a sandbox (llama-cpp-python before 0.2.72,
CVE-2024-34359), a template that walks dunder attributes (``__class__``, ``__globals__``,
``__subclasses__``, ``__builtins__``...) reaches ``os`` and runs commands. Real chat templates
never need dunders, name-mangled attributes, escaped underscores, the ``attr`` filter or
Jinja ``import``.
"""

from __future__ import annotations

import re
import struct

from scanners.modelfile.engine import Ctx
from scanners.modelfile.source import Source

_W = "warden-modelscan/"
MAX_KV = 1_000_000
MAX_TENSORS = 10_000_000
MAX_STRING = 64 << 20
TEMPLATE_CAP = 1 << 20
_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
_WINDOW = 1 << 20

_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_CHECKS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"__\w+__"), "critical", "reaches a dunder attribute"),
    (re.compile(r"\._[A-Za-z]\w*__\w+"), "critical", "reaches a name-mangled private attribute"),
    (re.compile(r"\{%-?\s*(?:import|from)\s"), "critical", "uses Jinja import"),
    (re.compile(r"\b(?:popen|subprocess|__import__|eval|exec|system)\s*\("), "critical",
     "calls a process or code execution function"),
    (re.compile(r"\|\s*attr\s*\(|\battr\s*\("), "high",
     "uses the attr filter (attribute access by computed name)"),
    (re.compile(r"\|\s*map\s*\(\s*attribute\s*=\s*['\"]_"), "high",
     "maps a private attribute"),
]  # fmt: skip
_ESCAPES = re.compile(r"\\x5f|\\u005f|\\U0000005f|\\137|\\N\{LOW LINE\}", re.I)


class _Bad(Exception):
    pass


class _Cursor:
    def __init__(self, src: Source, pos: int) -> None:
        self.src = src
        self.pos = pos
        self.base = 0
        self.buf = b""

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.src.size:
            raise _Bad(f"data ends inside a field at byte {self.pos}")
        rel = self.pos - self.base
        if rel < 0 or rel + n > len(self.buf):
            if n > _WINDOW:
                out = self.src.read_at(self.pos, n)
                self.pos += n
                return out
            self.base = self.pos
            self.buf = self.src.read_at(self.pos, _WINDOW)
            rel = 0
        self.pos += n
        return self.buf[rel : rel + n]

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.src.size:
            raise _Bad(f"data ends inside a field at byte {self.pos}")
        self.pos += n


def scan(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    where = member or name
    try:
        templates, problems = parse(src)
    except _Bad as exc:
        templates, problems = [], [str(exc)]
    for problem in problems[:10]:
        ctx.finding(
            _W + "malformed-file",
            "medium",
            member,
            title=f"{where}: invalid GGUF file",
            description=problem,
            key=f"gguf:{problem[:60]}",
            evidence={"format": "gguf"},
        )
    for key, text, off in templates:
        check_template(ctx, member, where, key, text, off)
    return "gguf"


def parse(src: Source) -> tuple[list[tuple[str, str, int]], list[str]]:
    """(chat templates as (key, text, offset), structural problems)."""
    c = _Cursor(src, 0)
    if c.take(4) != b"GGUF":
        raise _Bad("no GGUF magic")
    version = c.u32()
    if version not in (1, 2, 3):
        return [], [f"unknown GGUF version {version}"]
    wide = version >= 2
    count = c.u64 if wide else c.u32
    n_tensors, n_kv = count(), count()
    if n_kv > MAX_KV or n_tensors > MAX_TENSORS:
        return [], [f"implausible counts: {n_kv} metadata entries, {n_tensors} tensors"]
    templates: list[tuple[str, str, int]] = []
    alignment = 32

    def string() -> str:
        n = count()
        if n > MAX_STRING:
            raise _Bad(f"string of {n} bytes at byte {c.pos}")
        return c.take(n).decode("utf-8", "replace")

    def skip_value(vtype: int) -> None:
        if vtype in _SCALAR:
            c.skip(_SCALAR[vtype])
        elif vtype == _STRING:
            n = count()
            c.skip(n)
        elif vtype == _ARRAY:
            etype, n = c.u32(), count()
            if etype in _SCALAR:
                c.skip(_SCALAR[etype] * n)
            elif etype == _STRING:
                for _ in range(n):
                    c.skip(count())
            else:
                raise _Bad(f"unsupported array element type {etype}")
        else:
            raise _Bad(f"unknown value type {vtype} at byte {c.pos}")

    for _ in range(n_kv):
        key = string()
        vtype = c.u32()
        if vtype == _STRING and key.startswith("tokenizer.chat_template"):
            off = c.pos
            n = count()
            templates.append((key, c.take(min(n, TEMPLATE_CAP)).decode("utf-8", "replace"), off))
            c.skip(max(0, n - TEMPLATE_CAP))
        elif key == "general.alignment" and vtype == 4:
            alignment = c.u32() or 32
        else:
            skip_value(vtype)
    problems: list[str] = []
    infos: list[tuple[str, int]] = []
    for _ in range(n_tensors):
        tname = string()
        ndim = c.u32()
        if ndim > 8:
            raise _Bad(f"tensor {tname!r} has {ndim} dimensions")
        c.skip(8 * ndim)
        c.u32()
        infos.append((tname, c.u64()))
    data_start = -(-c.pos // alignment) * alignment
    for tname, off in infos:
        if off % alignment:
            problems.append(f"tensor {tname!r} offset {off} is not aligned to {alignment}")
        if data_start + off > src.size:
            problems.append(f"tensor {tname!r} offset {off} is past the end of the file")
    return templates, problems


def check_template(ctx: Ctx, member: str, where: str, key: str, text: str, off: int) -> None:
    code = " ".join(m.group(0) for m in _BLOCK.finditer(text))
    hits: list[tuple[str, str, str]] = []
    for pattern, severity, why in _CHECKS:
        m = pattern.search(code)
        if m:
            hits.append((severity, why, m.group(0)))
    m2 = _ESCAPES.search(text)
    if m2:
        hits.append(("critical", "hides underscores behind escapes", m2.group(0)))
    if not hits:
        return
    severity = "critical" if any(h[0] == "critical" for h in hits) else "high"
    whys = "; ".join(f"{why} ({snippet[:60]!r})" for _s, why, snippet in hits)
    ctx.finding(
        _W + "gguf-template-injection",
        severity,
        member,
        title=f"{where}: chat template {key} reaches Python internals",
        description=(
            f"The Jinja chat template {whys}. Rendered without a sandbox it runs code "
            "(CVE-2024-34359)."
        ),
        key=key,
        offset=off,
        evidence={"format": "gguf", "key": key, "template": text[:1000]},
        remediation=None,
    )
