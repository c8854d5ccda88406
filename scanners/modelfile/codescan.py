"""What custom model code does, read statically with :mod:`ast` (parsed, never imported).

A model repository can carry Python that loading runs: ``modeling_*.py`` files named by a
Hugging Face ``auto_map`` (``trust_remote_code=True``), an MLflow ``loader_module`` or
``python_model`` file. :func:`read_code` lists the calls in such a file that reach outside
the model - process execution, network, file writes, ``eval``/``exec``, dynamic imports,
nested deserialisation, native code - each with its line, the call as written and what it
resolves to through the file's imports (``import subprocess as sp`` makes ``sp.run``
``subprocess.run``), and the relative imports the file makes (which loading runs too).

The reading is syntactic: a call through a variable (``f = os.system; f(x)``) or built at run
time is not resolved, and ``getattr(module, name)`` with a computed name is reported as a
dynamic attribute. It is a review aid that names the lines to read, not a proof of safety.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

MAX_SOURCE = 4 << 20

#: kind -> (severity, plain words)
KINDS: dict[str, tuple[str, str]] = {
    "process": ("critical", "runs a process or a shell command"),
    "eval": ("critical", "evaluates or executes code built at run time"),
    "network": ("high", "opens a network connection or downloads"),
    "file-write": ("high", "writes, moves or deletes files"),
    "dynamic-import": ("high", "imports code by a name computed at run time"),
    "deserialization": ("high", "deserialises data that can carry code (pickle and kin)"),
    "native": ("high", "loads native code"),
}

_PROCESS = {
    "os": "system popen execl execle execlp execlpe execv execve execvp execvpe spawnl spawnle "
    "spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe posix_spawn posix_spawnp fork forkpty "
    "startfile",
    "subprocess": "*",
    "pty": "spawn fork",
    "commands": "*",
    "popen2": "*",
    "platform": "popen",
    "asyncio": "create_subprocess_exec create_subprocess_shell",
    "sh": "*",
    "pexpect": "*",
    "plumbum": "*",
}
_NETWORK = {
    "socket": "*",
    "ssl": "*",
    "urllib.request": "*",
    "urllib": "urlopen urlretrieve",
    "urllib2": "*",
    "urllib3": "*",
    "http.client": "*",
    "httplib": "*",
    "requests": "*",
    "httpx": "*",
    "aiohttp": "*",
    "ftplib": "*",
    "smtplib": "*",
    "telnetlib": "*",
    "paramiko": "*",
    "websocket": "*",
    "websockets": "*",
    "wget": "*",
    "xmlrpc.client": "*",
    "huggingface_hub": "hf_hub_download snapshot_download cached_download HfApi hf_api",
    "transformers.utils.hub": "*",
    "torch.hub": "*",
    "webbrowser": "*",
}
_FILE_WRITE = {
    "os": "remove unlink rmdir removedirs rename renames replace chmod chown lchown mkdir "
    "makedirs symlink link truncate mkfifo mknod",
    "shutil": "rmtree move copy copy2 copyfile copytree copymode copystat chown make_archive "
    "unpack_archive",
    "tempfile": "mkstemp mkdtemp NamedTemporaryFile TemporaryFile SpooledTemporaryFile "
    "TemporaryDirectory",
    "torch": "save",
    "numpy": "save savez savez_compressed savetxt tofile",
    "pickle": "dump",
    "joblib": "dump",
}
_EVAL = {
    "builtins": "eval exec compile execfile",
    "code": "*",
    "codeop": "*",
    "runpy": "*",
    "timeit": "*",
}
_DYNAMIC = {
    "builtins": "__import__",
    "importlib": "*",
    "importlib.util": "*",
    "imp": "*",
    "pkgutil": "*",
    "zipimport": "*",
}
_DESERIALIZE = {
    "pickle": "load loads Unpickler",
    "_pickle": "load loads Unpickler",
    "cPickle": "load loads",
    "dill": "*",
    "cloudpickle": "*",
    "marshal": "load loads",
    "shelve": "open",
    "joblib": "load",
    "pandas": "read_pickle",
    "yaml": "unsafe_load full_load load_all unsafe_load_all",
    "jsonpickle": "decode loads",
}
_NATIVE = {
    "ctypes": "*",
    "cffi": "*",
    "torch.ops": "load_library",
    "torch.utils.cpp_extension": "*",
}
#: attribute names that write files on any receiver (pathlib.Path and file-like objects)
_WRITE_METHODS = frozenset({"write_text", "write_bytes", "unlink", "rmtree", "touch"})


def _table(spec: dict[str, str]) -> dict[str, frozenset[str]]:
    return {m: frozenset(names.split()) for m, names in spec.items()}


_RULES: list[tuple[str, dict[str, frozenset[str]]]] = [
    ("process", _table(_PROCESS)),
    ("eval", _table(_EVAL)),
    ("network", _table(_NETWORK)),
    ("native", _table(_NATIVE)),
    ("deserialization", _table(_DESERIALIZE)),
    ("dynamic-import", _table(_DYNAMIC)),
    ("file-write", _table(_FILE_WRITE)),
]


@dataclass(slots=True)
class CodeHit:
    """One call in the file that reaches outside the model."""

    kind: str
    line: int
    call: str  # what it resolves to, e.g. "subprocess.run"
    written: str  # the call as written, e.g. "sp.run"
    function: str  # enclosing def/class path ("" at module level)
    snippet: str


@dataclass(slots=True)
class CodeReading:
    hits: list[CodeHit] = field(default_factory=list)
    relative_imports: list[tuple[int, str]] = field(default_factory=list)  # level, dotted
    absolute_imports: set[str] = field(default_factory=set)
    error: str = ""


def classify_call(name: str) -> str | None:
    """The kind of a resolved dotted call name (``subprocess.run``), or None."""
    module, _, attr = name.rpartition(".")
    if not module:
        module, attr = "builtins", name
    for kind, table in _RULES:
        for mod, names in table.items():
            if module == mod and ("*" in names or attr in names):
                return kind
            if "*" in names and module.startswith(mod + "."):
                return kind
    return None


class _Reader(ast.NodeVisitor):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.aliases: dict[str, str] = {}
        self.scope: list[str] = []
        self.out = CodeReading()

    # -- imports
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.out.absolute_imports.add(a.name)
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                self.aliases.setdefault(a.name.split(".")[0], a.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            for a in node.names:
                target = f"{module}.{a.name}" if module else a.name
                self.out.relative_imports.append((node.level, module or a.name))
                if module:
                    self.out.relative_imports.append((node.level, target))
            return
        self.out.absolute_imports.add(module)
        for a in node.names:
            self.aliases[a.asname or a.name] = f"{module}.{a.name}"

    # -- scopes
    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = _scoped
    visit_AsyncFunctionDef = _scoped
    visit_ClassDef = _scoped

    # -- calls
    def _dotted(self, node: ast.expr) -> tuple[str, str] | None:
        """(resolved, written) dotted name of a call target, or None."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            written = ".".join([node.id, *reversed(parts)])
            base = self.aliases.get(node.id, node.id)
            return ".".join([base, *reversed(parts)]), written
        if isinstance(node, ast.Call):
            module = self._imported_by_call(node)
            if module:
                return ".".join([module, *reversed(parts)]), f"<import {module}>." + ".".join(
                    reversed(parts)
                )
        return None

    def _imported_by_call(self, node: ast.Call) -> str:
        """``__import__("os")`` / ``importlib.import_module("os")`` with a literal name."""
        target = self._dotted(node.func)
        importer = target is not None and target[0] in (
            "__import__", "builtins.__import__", "importlib.import_module"
        )  # fmt: skip
        if importer and node.args and isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            if isinstance(value, str):
                return value
        return ""

    def _hit(self, kind: str, node: ast.AST, call: str, written: str) -> None:
        line = getattr(node, "lineno", 0)
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.out.hits.append(CodeHit(kind, line, call, written, ".".join(self.scope), text[:200]))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        target = self._dotted(node.func)
        if target is None:
            if isinstance(node.func, ast.Attribute) and node.func.attr in _WRITE_METHODS:
                self._hit("file-write", node, f"*.{node.func.attr}", f"….{node.func.attr}")
            return
        resolved, written = target
        if resolved in ("getattr", "builtins.getattr") and len(node.args) >= 2:
            self._getattr(node, written)
            return
        if resolved in ("open", "builtins.open", "io.open", "codecs.open") and _writes(node):
            self._hit("file-write", node, resolved, written)
            return
        kind = classify_call(resolved)
        if kind is None and resolved.rpartition(".")[2] in _WRITE_METHODS:
            kind = "file-write"
        if kind == "deserialization" and _safe_load(resolved, node):
            return
        if resolved in ("torch.load", "numpy.load", "yaml.load"):
            kind = None if _safe_load(resolved, node) else "deserialization"
        if kind is not None:
            self._hit(kind, node, resolved, written)

    def _getattr(self, node: ast.Call, written: str) -> None:
        owner = self._dotted(node.args[0])
        name = node.args[1]
        if owner is None:
            return
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            full = f"{owner[0]}.{name.value}"
            kind = classify_call(full)
            if kind is not None:
                self._hit(kind, node, full, f"getattr({owner[1]}, {name.value!r})")
            return
        if classify_call(f"{owner[0]}.x") is not None or owner[0] in ("os", "builtins", "sys"):
            self._hit("dynamic-import", node, f"getattr({owner[0]}, <computed>)", written)


def _writes(node: ast.Call) -> bool:
    """Does this ``open(...)`` call open for writing (mode with w, a, x or +)?"""
    mode: ast.expr | None = node.args[1] if len(node.args) > 1 else None
    for kw in node.keywords:
        if kw.arg == "mode":
            mode = kw.value
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return any(c in mode.value for c in "wax+")
    return True  # a computed mode may be a write


def _safe_load(resolved: str, node: ast.Call) -> bool:
    """``torch.load(..., weights_only=True)``, ``numpy.load`` without ``allow_pickle=True``,
    ``yaml.load(..., Loader=SafeLoader)`` do not run code."""
    kws = {kw.arg: kw.value for kw in node.keywords if kw.arg}
    if resolved == "torch.load":
        v = kws.get("weights_only")
        return isinstance(v, ast.Constant) and v.value is True
    if resolved == "numpy.load":
        v = kws.get("allow_pickle")
        return not (isinstance(v, ast.Constant) and v.value is True)
    if resolved == "yaml.load":
        loader = kws.get("Loader") or (node.args[1] if len(node.args) > 1 else None)
        return isinstance(loader, ast.Attribute | ast.Name) and "Safe" in ast.unparse(loader)
    return False


def read_code(text: str) -> CodeReading:
    """Read one Python file (never imported or run)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        out = CodeReading()
        out.error = f"{type(exc).__name__}: {exc}"[:300]
        return out
    reader = _Reader(text.splitlines())
    try:
        reader.visit(tree)
    except RecursionError:
        reader.out.error = "nested too deeply to read completely"
    return reader.out
