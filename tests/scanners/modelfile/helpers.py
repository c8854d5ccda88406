"""Small assertions shared by the model-file scanner tests."""

from __future__ import annotations

import _compat_pickle
import pickletools

from scanners.findings import NormalizedFinding
from scanners.modelfile import FileResult, scan_bytes
from scanners.severity import SEVERITY_RANK


def scan(data: bytes, name: str = "model.bin") -> FileResult:
    return scan_bytes(data, name)


def by_import(result: FileResult) -> dict[str, str]:
    """import name -> worst severity among import findings."""
    out: dict[str, str] = {}
    for f in result.findings:
        imp = f.evidence.get("import")
        if not isinstance(imp, str) or not imp:
            continue
        if imp not in out or SEVERITY_RANK[f.severity] > SEVERITY_RANK[out[imp]]:
            out[imp] = f.severity
    return out


def rule_ids(result: FileResult) -> set[str]:
    return {f.rule_id for f in result.findings}


def at_least(result: FileResult, severity: str) -> list[NormalizedFinding]:
    return [f for f in result.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[severity]]


def assert_clean(result: FileResult) -> None:
    """No finding at high or above (benign files)."""
    bad = at_least(result, "high")
    assert not bad, [(f.rule_id, f.title) for f in bad]


def assert_critical(result: FileResult, import_name: str) -> None:
    got = by_import(result)
    assert got.get(import_name) == "critical", (
        import_name,
        got,
        [f.title for f in result.findings],
    )


def genops_imports(data: bytes) -> set[str]:
    """Imports as CPython's own static opcode reader (pickletools.genops) sees them, with the
    memo of strings followed for STACK_GLOBAL. Nothing is unpickled."""
    proto = 0
    memo: dict[int, object] = {}
    stack: list[object] = []
    out: set[str] = set()
    for op, arg, _pos in pickletools.genops(data):
        name = op.name
        if name == "PROTO":
            assert isinstance(arg, int)
            proto = arg
        if name in ("GLOBAL", "INST"):
            assert isinstance(arg, str)
            module, attr = arg.split(" ")
            if proto < 3:  # the loaders map Python 2 names (find_class, fix_imports)
                if (module, attr) in _compat_pickle.NAME_MAPPING:
                    module, attr = _compat_pickle.NAME_MAPPING[(module, attr)]
                else:
                    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            out.add(f"{module}.{attr}")
        if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
            stack.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1] if stack else None
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            assert isinstance(arg, int)
            memo[arg] = stack[-1] if stack else None
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            assert isinstance(arg, int)
            stack.append(memo.get(arg))
        elif name == "STACK_GLOBAL":
            attr, module = stack.pop(), stack.pop()
            out.add(f"{module}.{attr}")
            stack.append(None)
        else:
            stack.append(None)
    return out
