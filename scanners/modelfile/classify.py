"""Which imports a model file may make: an exact allow-list, then a deny-list; fail closed.

A pickle (or a Keras config's ``module``) names Python objects that the loader imports and,
usually, calls. Weights need few of them. Every import gets one verdict:

``safe``
    On the allow-list (:mod:`scanners.modelfile.allowlist`) by its exact qualified name: it
    builds data and calls nothing it is not handed. No finding.
``dangerous``
    Runs processes or code, touches files or the network, imports by name, or is a gadget that
    turns data into a call (``getattr``, ``operator.attrgetter``, ``functools.partial``, nested
    ``pickle``/``marshal``/``dill`` loads, ``ctypes``, pip, debuggers and profilers that run
    strings, interpreter internals that run code strings (``_xxsubinterpreters.run_string``,
    ``_pyrepl.pager``), and functions inside trusted packages that run commands or evaluate
    code (``torch.utils.collect_env.run``, ``torch.fx.graph_module._forward_from_src``,
    ``numpy.testing._private.utils.runstring``...). Critical, called or not.
``stdlib`` / ``unknown``
    Anything else, in the standard library or not: the scanner cannot vouch for it, so it is
    high (exit 1) whether the pickle calls it or only imports it - an imported object can be
    handed to an allow-listed rebuild helper that calls it, and importing a module runs it.

Names are resolved like the loader resolves them: Python 2 aliases (``__builtin__``,
``copy_reg``...) are mapped, C accelerator modules are folded into their public module
(``posix``/``nt`` -> ``os``, ``_operator`` -> ``operator``, ``_pickle`` -> ``pickle``...),
and protocol-4 dotted names (``module`` + ``a.b.c``) are checked part by part, so
``torch.serialization`` + ``os.system`` (a module that imported ``os``) is ``os.system``.
Any dunder in a dotted path (``__class__``, ``__globals__``, ``__subclasses__``...) is a
sandbox-escape gadget and dangerous. A package prefix never makes a name safe.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache

from scanners.modelfile.allowlist import why_safe

SAFE, DANGEROUS, STDLIB, UNKNOWN = "safe", "dangerous", "stdlib", "unknown"
_RANK = {SAFE: 0, UNKNOWN: 1, STDLIB: 2, DANGEROUS: 3}


@dataclass(frozen=True, slots=True)
class Verdict:
    level: str  # safe | dangerous | stdlib | unknown
    why: str  # plain words: what this import can do
    resolved: str = ""  # "module.name" actually judged (after aliases / dotted resolution)


#: C accelerator and Python 2 module names -> the public module whose rules apply.
MODULE_ALIASES: dict[str, str] = {
    "__builtin__": "builtins",
    "__builtins__": "builtins",
    "exceptions": "builtins",
    "posix": "os",
    "nt": "os",
    "posixpath": "os.path",
    "ntpath": "os.path",
    "_posixsubprocess": "subprocess",
    "commands": "subprocess",
    "popen2": "subprocess",
    "_operator": "operator",
    "_functools": "functools",
    "copy_reg": "copyreg",
    "cPickle": "pickle",
    "_pickle": "pickle",
    "_io": "io",
    "_socket": "socket",
    "thread": "_thread",
    "_ctypes": "ctypes",
    "_lsprof": "cProfile",
    "_collections": "collections",
    "urllib2": "urllib",
    "httplib": "http",
    "SocketServer": "socketserver",
    "_winapi": "subprocess",
    "_signal": "signal",
    "_multiprocessing": "multiprocessing",
    "_posixshmem": "multiprocessing",
    "_sqlite3": "sqlite3",
    "_bz2": "bz2",
    "_lzma": "lzma",
    "_imp": "importlib",
    "_frozen_importlib": "importlib",
    "_frozen_importlib_external": "importlib",
    "_weakref": "weakref",
    "_abc": "abc",
    "_sre": "re",
    "_xxsubinterpreters": "_interpreters",
    "_xxinterpchannels": "_interpreters",
    "_interpchannels": "_interpreters",
    "_interpqueues": "_interpreters",
    "_tkinter": "tkinter",
    "_pydecimal": "decimal",
    "_datetime": "datetime",
    "_pydatetime": "datetime",
    "_pickle_compat": "pickle",
}

#: Every name in these modules (and their submodules) is dangerous. Why, in plain words.
DANGEROUS_MODULES: dict[str, str] = {
    # processes and the operating system
    "os": "runs commands and reads/writes files (os.system, os.popen, os.remove...)",
    "subprocess": "runs commands",
    "pty": "spawns processes with a terminal",
    "sys": "reaches the interpreter's internals (sys.modules, sys.settrace...)",
    "signal": "installs signal handlers",
    "_thread": "starts threads running arbitrary callables",
    "threading": "starts threads running arbitrary callables",
    "multiprocessing": "starts processes running arbitrary callables",
    "concurrent": "runs arbitrary callables in pools",
    "asyncio": "runs subprocesses and network I/O",
    "resource": "changes process limits",
    "fcntl": "low-level file descriptor control",
    "mmap": "maps files into memory",
    "msvcrt": "Windows console and process internals",
    "winreg": "reads and writes the Windows registry",
    # file system
    "shutil": "copies, moves and deletes files",
    "tempfile": "creates files",
    "glob": "lists the file system",
    "fileinput": "reads files",
    "pathlib": "reads, writes and deletes files",
    "tarfile": "extracts archives onto the file system",
    "zipfile": "extracts archives onto the file system",
    "shelve": "opens a pickle database (nested unpickling)",
    "dbm": "opens database files",
    "sqlite3": "opens database files and runs SQL",
    "logging.config": "logging.config can listen on a socket and run received configuration",
    # network
    "socket": "opens network connections",
    "ssl": "opens network connections",
    "select": "network I/O",
    "selectors": "network I/O",
    "socketserver": "starts network servers",
    "asyncore": "network I/O",
    "asynchat": "network I/O",
    "http": "makes HTTP requests or starts servers",
    "urllib": "downloads from the network",
    "urllib3": "downloads from the network",
    "requests": "downloads from the network",
    "httpx": "downloads from the network",
    "aiohttp": "downloads from the network",
    "ftplib": "network file transfer",
    "smtplib": "sends e-mail",
    "poplib": "network mail access",
    "imaplib": "network mail access",
    "nntplib": "network access",
    "telnetlib": "network access",
    "xmlrpc": "remote procedure calls",
    "webbrowser": "opens URLs in a browser (and runs the browser command)",
    "paramiko": "SSH connections and remote commands",
    # code execution and import machinery
    "importlib": "imports modules by name",
    "imp": "imports modules by name",
    "pkgutil": "imports modules by name",
    "zipimport": "imports code from archives",
    "runpy": "runs modules and scripts",
    "site": "changes the import path",
    "code": "runs Python source (code.interact, InteractiveInterpreter)",
    "codeop": "compiles Python source",
    "pdb": "the debugger runs Python source (pdb.run)",
    "bdb": "the debugger runs Python source",
    "cProfile": "the profiler runs Python source (cProfile.run)",
    "profile": "the profiler runs Python source (profile.run)",
    "trace": "runs Python source under tracing",
    "timeit": "runs Python source (timeit.timeit)",
    "doctest": "runs Python source found in strings",
    "idlelib": "IDLE helpers run Python source and commands",
    "pydoc": "imports modules by name and starts servers",
    "inspect": "reaches frames, globals and source of live objects",
    "gc": "reaches every live object (gc.get_objects)",
    "ctypes": "calls native code and writes memory",
    "cffi": "calls native code",
    "ensurepip": "installs packages",
    "pip": "installs packages (pip.main)",
    "setuptools": "builds and installs packages",
    "distutils": "builds and installs packages",
    "pkg_resources": "loads entry points by name",
    "venv": "creates environments and runs installers",
    "IPython": "runs Python source and shell commands",
    "sh": "runs commands",
    "plumbum": "runs commands",
    "pexpect": "runs commands",
    "invoke": "runs commands",
    "fabric": "runs remote commands",
    "jinja2": "renders templates (template injection reaches Python objects)",
    "numexpr": "evaluates expressions",
    # interpreter internals and helpers that run code strings or shell commands
    "_interpreters": "runs code strings in a sub-interpreter (run_string)",
    "_pyrepl": "the REPL's helpers run shell commands (pager) and code strings",
    "_sitebuiltins": "help() and license() read files and start the documentation browser",
    "tkinter": "the Tcl interpreter evaluates Tcl code, which runs commands",
    "turtle": "starts Tk (a Tcl interpreter)",
    "turtledemo": "runs demo scripts",
    "antigravity": "opens a web browser when imported",
    "this": "prints when imported",
    "__hello__": "runs code when imported",
    "__phello__": "runs code when imported",
    "_osx_support": "runs build tools and shell commands",
    "_aix_support": "runs shell commands",
    "platform": "runs shell commands to describe the system (_syscmd_file, popen)",
    "mailcap": "runs the commands of mailcap entries",
    "atexit": "registers callables to run at exit",
    "sched": "runs scheduled callables",
    "unittest.mock": "imports by name (patch targets) and calls whatever it is given",
    "test": "CPython's test suite helpers run scripts and commands",
    "lib2to3": "loads pickled grammars and rewrites files",
    "py_compile": "writes compiled files",
    "compileall": "writes compiled files",
    "linecache": "reads source files",
    "sysconfig": "imports configuration modules by name",
    "jsonpickle": "rebuilds arbitrary objects from JSON (nested deserialisation)",
    "srsly": "bundles cloudpickle and pickle loaders (nested deserialisation)",
    "huggingface_hub": "downloads files and code from the network",
    # nested deserialisers: what they load is not checked by the outer loader
    "pickle": "nested unpickling of data the scanner of the outer file does not see",
    "pickletools": "pickle internals",
    "marshal": "loads Python bytecode",
    "dill": "nested unpickling that can carry code",
    "cloudpickle": "nested unpickling that can carry code",
    "copyreg": "changes how objects are pickled (extension registry)",
    # third-party entry points that run or load code
    "numpy.testing": "numpy.testing helpers run Python source (runstring)",
    "numpy.f2py": "compiles and imports Fortran/C code",
    "numpy.distutils": "builds native code",
    "numpy.ctypeslib": "loads native libraries",
    "torch.hub": "downloads and runs code from the network",
    "torch.utils.cpp_extension": "compiles and loads native code",
    "torch.package": "loads code packaged with the model",
    "tensorflow.io": "reads and writes files",
    "tensorflow.compat.v1.gfile": "reads and writes files",
    "tensorflow.python.platform.gfile": "reads and writes files",
    "tensorflow.python.lib.io": "reads and writes files",
    "torch.utils.bottleneck": "runs a script under the profilers (run_cprofile, exec)",
    "torch.utils.collect_env": "runs shell commands (collect_env.run)",
    "torch.utils.benchmark": "compiles and runs code strings (Timer(stmt))",
    "torch.utils.model_zoo": "downloads and loads checkpoints",
    "torch.utils.tensorboard": "writes event files",
    "torch.utils.data.datapipes": "opens files and URLs",
    "torch.fx.graph_module": "executes the generated forward source (exec)",
    "torch.fx.experimental": "evaluates guard expressions and code strings",
    "torch.jit.unsupported_tensor_ops": "executes code strings (execWrapper)",
    "torch.jit.frontend": "parses and compiles source",
    "torch._dynamo": "compiles and runs generated code",
    "torch._inductor": "compiles and runs generated code and compilers",
    "torch._export": "loads serialised programs",
    "torch.export": "loads serialised programs",
    "torch.testing._internal": "test helpers run commands and code strings",
    "torch.distributed": "starts processes and network connections",
    "torch.multiprocessing": "starts processes running arbitrary callables",
    "torch.onnx": "exports models to files",
    "torch.cuda.memory": "writes memory snapshots to files",
    "numpy.core._ufunc_reconstruct": "imports a module by name and gets an attribute from it",
    "numpy._core._ufunc_reconstruct": "imports a module by name and gets an attribute from it",
    "numpy.lib._datasource": "downloads URLs and opens files",
    "numpy.lib.utils": "imports modules by name and inspects source",
    "numpy.lib._utils_impl": "imports modules by name and inspects source",
    "pandas.io": "reads and writes files and URLs (read_pickle, read_csv, to_csv...)",
    "pandas.core.computation": "evaluates expressions (eval, query)",
    "sklearn.utils._testing": "runs Python scripts (assert_run_python_script)",
    "sklearn.datasets": "downloads datasets and reads files",
    "joblib.parallel": "calls functions in worker processes",
    "joblib.memory": "calls functions and writes a cache on disk",
    "joblib._store_backends": "reads and writes files",
    "joblib.pool": "starts processes",
    "joblib.externals": "bundled cloudpickle and process pools",
    "transformers.dynamic_module_utils": "downloads and imports code from model repositories",
    "transformers.utils.hub": "downloads files from the network",
    "keras.utils.file_utils": "downloads files (get_file)",
    "keras.src.utils.file_utils": "downloads files (get_file)",
    "mlflow": "loads models and runs their code",
    "tensorflow.python.ops.script_ops": "runs Python functions inside the graph",
    "pandas.io.pickle": "nested unpickling",
    "joblib.externals.cloudpickle": "nested unpickling that can carry code",
}


def _words(text: str) -> list[str]:
    return text.split()


def _names(names: str, why: str) -> dict[str, str]:
    return dict.fromkeys(_words(names), why)


#: Dangerous names inside modules that are otherwise judged normally.
DANGEROUS_NAMES: dict[str, dict[str, str]] = {
    "builtins": _names(
        "eval exec compile open __import__ getattr setattr delattr hasattr globals locals vars "
        "dir input breakpoint help type exit quit memoryview super classmethod staticmethod "
        "property __build_class__ execfile file reload apply map filter print license "
        "copyright credits",
        "evaluates code, imports by name, opens files or reaches attributes by name",
    ),
    "operator": _names(
        "attrgetter methodcaller itemgetter call getitem setitem delitem __getitem__ "
        "__setitem__ __call__",
        "a getattr-style gadget: calls or reaches attributes by name",
    ),
    "functools": _names(
        "partial partialmethod reduce update_wrapper wraps singledispatch cached_property "
        "lru_cache cache",
        "a gadget that binds and calls arbitrary callables",
    ),
    "codecs": _names("open EncodedFile StreamReaderWriter", "opens files"),
    "io": _names(
        "open open_code FileIO BufferedReader BufferedWriter BufferedRandom TextIOWrapper",
        "opens files",
    ),
    "types": _names(
        "FunctionType CodeType LambdaType MethodType ModuleType new_class BuiltinFunctionType "
        "GeneratorType CellType",
        "builds functions, code objects and modules",
    ),
    "numpy": _names(
        "load save savez savez_compressed savetxt loadtxt genfromtxt fromfile tofile memmap "
        "fromregex DataSource",
        "reads or writes files, or unpickles nested data",
    ),
    "numpy.lib.npyio": _names("load save savez", "reads or writes files"),
    "numpy.lib._npyio_impl": _names("load save savez loadtxt genfromtxt", "reads or writes files"),
    "numpy.lib.format": _names("read_array open_memmap", "reads arrays with allow_pickle"),
    "numpy.core.records": _names("fromfile", "reads files"),
    "numpy._core.records": _names("fromfile", "reads files"),
    "numpy.rec": _names("fromfile", "reads files"),
    "torch": _names(
        "load save from_file hub compile", "loads or saves files (nested unrestricted load)"
    ),
    "torch.serialization": _names("load _load save", "nested unrestricted load"),
    "torch.storage": _names(
        "UntypedStorage.from_file TypedStorage.from_file", "maps a file from disk"
    ),
    "torch.jit": _names("load CompilationUnit", "loads or compiles TorchScript programs"),
    "torch.ops": _names("load_library", "loads native libraries"),
    "torch.classes": _names("load_library", "loads native libraries"),
    "pandas": _names(
        "read_pickle eval read_csv read_table read_fwf read_excel read_json read_html read_xml "
        "read_hdf read_feather read_parquet read_orc read_sas read_spss read_sql read_sql_query "
        "read_sql_table read_stata read_clipboard read_gbq to_pickle",
        "reads files or URLs, unpickles nested data or evaluates expressions",
    ),
    "joblib": _names("load dump Parallel delayed Memory", "nested unpickling or calls"),
    "joblib.numpy_pickle": _names("load load_compatibility", "nested unpickling"),
    "yaml": _names(
        "load unsafe_load full_load load_all unsafe_load_all UnsafeLoader FullLoader Loader",
        "unsafe YAML loading constructs arbitrary objects",
    ),
    "tensorflow": _names(
        "py_function numpy_function load_op_library load_library",
        "runs Python or loads native code inside the graph",
    ),
    "tensorflow.compat.v1": _names("py_func", "runs Python inside the graph"),
    "itertools": _names("starmap", "a gadget that calls a callable on each item"),
    "weakref": _names("finalize", "calls a callable when an object is collected"),
    "uuid": _names("_get_command_stdout _popen", "runs shell commands"),
    "ctypes.util": _names("find_library", "runs compilers and ldconfig"),
    "imaplib": _names("IMAP4_stream", "runs a command"),
    "keras.layers": _names("Lambda", "runs Python code stored in the model"),
    "tensorflow.keras.layers": _names("Lambda", "runs Python code stored in the model"),
}

#: Final attribute names that run code, commands or downloads wherever they live; an import
#: ending in one is dangerous even in a module the lists above do not know.
DANGEROUS_ATTRS: dict[str, str] = _names(
    "system popen exec execfile eval run_path run_module runctx runcall check_output "
    "check_call Popen getoutput getstatusoutput spawn spawnv spawnve spawnl spawnlp execv "
    "execve execvp execvpe execl execlp startfile load_library load_op_library from_pretrained "
    "hf_hub_download snapshot_download cached_download urlopen urlretrieve get_file "
    "import_module load_source exec_module spec_from_file_location run_cprofile "
    "run_autograd_prof runstring load_inline execWrapper _forward_from_src reduce_graph_module "
    "load_model",
    "runs commands or code, imports by name, or downloads and loads models",
)

_ALLOWED_DUNDERS = frozenset({"__newobj__", "__newobj_ex__"})
_PY2_STDLIB = frozenset(
    {"__builtin__", "exceptions", "copy_reg", "cPickle", "commands", "popen2", "urllib2",
     "httplib", "SocketServer", "thread", "cStringIO", "StringIO", "Queue", "ConfigParser"}
)  # fmt: skip
_STDLIB = frozenset(sys.stdlib_module_names) | _PY2_STDLIB


def _is_dunder(part: str) -> bool:
    return len(part) > 4 and part.startswith("__") and part.endswith("__")


def canonical_module(module: str) -> str:
    """The module whose rules apply (aliases folded; submodules keep their suffix)."""
    top, _, rest = module.partition(".")
    alias = MODULE_ALIASES.get(module) or MODULE_ALIASES.get(top)
    if alias is None:
        return module
    if module in MODULE_ALIASES:
        return alias
    return f"{alias}.{rest}"


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _judge(module: str, attr: str) -> Verdict:
    """One (module, attribute path) pair, without dotted-path decomposition."""
    mod = canonical_module(module)
    first = attr.split(".", 1)[0]
    resolved = f"{module}.{attr}"
    safe = why_safe(mod, attr)
    if safe is not None:
        return Verdict(SAFE, safe, resolved)
    for prefix, why in DANGEROUS_MODULES.items():
        if _under(mod, prefix) or _under(f"{mod}.{attr}", prefix):
            return Verdict(DANGEROUS, why, resolved)
    names = DANGEROUS_NAMES.get(mod)
    if names is not None and (attr in names or first in names):
        return Verdict(DANGEROUS, names.get(attr) or names[first], resolved)
    top = module.split(".", 1)[0]
    if top in _STDLIB or mod.split(".", 1)[0] in _STDLIB:
        return Verdict(
            STDLIB,
            "a standard-library object that is not on the allow-list: the scanner cannot "
            "vouch for what it does when the pickle hands it arguments",
            resolved,
        )
    return Verdict(
        UNKNOWN,
        "code outside the allow-list: importing it runs its module, and the pickle can call it",
        resolved,
    )


@lru_cache(maxsize=8192)
def classify(module: str, name: str) -> Verdict:
    """Judge one import as the loader resolves it (``find_class(module, name)``)."""
    if not module or not name:
        return Verdict(DANGEROUS, "an empty module or name cannot be a legitimate import")
    parts = name.split(".")
    mod_parts = module.split(".")
    dunder = any(_is_dunder(p) and p not in _ALLOWED_DUNDERS for p in parts + mod_parts[1:])
    if dunder and not (len(parts) == 1 and canonical_module(module) == "builtins"):
        return Verdict(
            DANGEROUS,
            "reaches a dunder attribute (__class__, __globals__, __subclasses__...): "
            "a sandbox-escape gadget",
            f"{module}.{name}",
        )
    verdicts = [_judge(module, name)]
    # Protocol 4 resolves "a.b.c" attribute by attribute: every prefix is a module-like
    # object whose attributes follow, and any part naming a known module (a module that
    # imported os, say) is judged as that module.
    for i in range(1, len(parts)):
        verdicts.append(_judge(f"{module}.{'.'.join(parts[:i])}", ".".join(parts[i:])))
    for i, part in enumerate(parts[:-1]):
        if part in MODULE_ALIASES or part in DANGEROUS_MODULES or part in DANGEROUS_NAMES:
            verdicts.append(_judge(part, ".".join(parts[i + 1 :])))
    for i, part in enumerate(mod_parts[1:], start=1):
        if part in MODULE_ALIASES or part in DANGEROUS_MODULES:
            rest = ".".join(mod_parts[i + 1 :] + parts)
            verdicts.append(_judge(part, rest))
    if verdicts[0].level == SAFE:
        return verdicts[0]  # the exact (dotted) name is allow-listed
    worst = max(verdicts, key=lambda v: _RANK[v.level])
    if worst.level != DANGEROUS and parts[-1] in DANGEROUS_ATTRS:
        return Verdict(DANGEROUS, DANGEROUS_ATTRS[parts[-1]], f"{module}.{name}")
    return worst


def severity_for(verdict: Verdict, called: bool = True) -> str | None:
    """Severity of a finding for this import, or None when it needs none. Fail closed: any
    import that is not allow-listed is at least high, called or only imported (``called`` is
    kept for callers that describe the call)."""
    if verdict.level == DANGEROUS:
        return "critical"
    if verdict.level in (STDLIB, UNKNOWN):
        return "high"
    return None
