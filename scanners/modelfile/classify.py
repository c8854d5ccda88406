"""Which imports a model file may make: an allow-list first, then a deny-list.

A pickle (or a Keras config's ``module``) names Python objects that the loader imports and,
usually, calls. Weights need very few of them: tensor and array rebuild helpers, a handful of
containers and numbers, and the classes of well-known estimators. Everything else is judged:

``safe``
    Known to rebuild data only (``torch._utils._rebuild_tensor_v2``,
    ``collections.OrderedDict``, ``numpy.core.multiarray._reconstruct``, estimator classes of
    scikit-learn / XGBoost / LightGBM...). No finding.
``dangerous``
    Runs processes or code, touches files or the network, imports by name, or is a gadget that
    turns data into a call (``getattr``, ``operator.attrgetter``, ``functools.partial``, nested
    ``pickle``/``marshal``/``dill`` loads, ``ctypes``, pip, debuggers and profilers that run
    strings, ``webbrowser``...). Critical, called or not: importing it is already the attack.
``stdlib``
    Any other standard-library object. A model has no business calling into the standard
    library beyond containers and numbers: high when called or instantiated, medium when only
    imported.
``unknown``
    Third-party or user code that is not on the allow-list: medium, "review".

Names are resolved like the loader resolves them: Python 2 aliases (``__builtin__``,
``copy_reg``...) are mapped, C accelerator modules are folded into their public module
(``posix``/``nt`` -> ``os``, ``_operator`` -> ``operator``, ``_pickle`` -> ``pickle``...),
and protocol-4 dotted names (``module`` + ``a.b.c``) are checked part by part, so
``torch.serialization`` + ``os.system`` (a module that imported ``os``) is ``os.system``.
Any dunder in a dotted path (``__class__``, ``__globals__``, ``__subclasses__``...) is a
sandbox-escape gadget and dangerous.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache

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
        "property __build_class__ execfile file reload apply",
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
    "numpy.lib.format": _names("read_array", "reads arrays with allow_pickle"),
    "torch": _names("load save from_file", "loads or saves files (nested unrestricted load)"),
    "torch.serialization": _names("load _load save", "nested unrestricted load"),
    "torch.jit": _names("load", "loads TorchScript programs"),
    "torch.ops": _names("load_library", "loads native libraries"),
    "torch.classes": _names("load_library", "loads native libraries"),
    "pandas": _names("read_pickle eval read_csv", "nested unpickling or evaluation"),
    "joblib": _names("load", "nested unpickling"),
    "joblib.numpy_pickle": _names("load load_compatibility", "nested unpickling"),
    "yaml": _names(
        "load unsafe_load full_load load_all unsafe_load_all UnsafeLoader FullLoader Loader",
        "unsafe YAML loading constructs arbitrary objects",
    ),
    "tensorflow": _names("py_function numpy_function", "runs Python inside the graph"),
    "keras.layers": _names("Lambda", "runs Python code stored in the model"),
    "tensorflow.keras.layers": _names("Lambda", "runs Python code stored in the model"),
}

_TORCH_DTYPES = _words(
    "float16 float32 float64 bfloat16 half float double complex32 complex64 complex128 "
    "cfloat cdouble uint8 uint16 uint32 uint64 int8 int16 int32 int64 short int long bool "
    "qint8 quint8 qint32 quint4x2 quint2x4 float8_e4m3fn float8_e5m2 float8_e4m3fnuz "
    "float8_e5m2fnuz bits8 bits16"
)
_TORCH_STORAGES = [
    f"{t}Storage"
    for t in _words(
        "Float Double Half BFloat16 Long Int Short Char Byte Bool ComplexFloat ComplexDouble "
        "QUInt8 QInt8 QInt32 QUInt4x2 QUInt2x4 Untyped Typed"
    )
]
_NUMPY_SCALARS = _words(
    "ndarray dtype bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 "
    "float64 float128 complex64 complex128 complex256 longlong ulonglong intc uintc int_ uint "
    "float_ double longdouble half single csingle cdouble clongdouble complex_ str_ bytes_ "
    "void object_ datetime64 timedelta64 intp uintp byte ubyte short ushort bool"
)

#: Exactly these names are safe. Why: they rebuild tensors, arrays, containers and numbers.
SAFE_NAMES: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "builtins": ["set", "frozenset", "slice", "range", "complex", "bytearray", "bytes",
                     "object", "int", "float", "bool", "str", "list", "dict", "tuple",
                     "Ellipsis", "NotImplemented", "unicode", "long", "xrange"],
        "copyreg": ["_reconstructor", "__newobj__", "__newobj_ex__"],
        "_codecs": ["encode"],
        "collections": ["OrderedDict", "defaultdict", "Counter", "deque"],
        "datetime": ["datetime", "date", "time", "timedelta", "timezone"],
        "decimal": ["Decimal"],
        "fractions": ["Fraction"],
        "uuid": ["UUID"],
        "types": ["SimpleNamespace"],
        "array": ["array", "_array_reconstructor"],
        "re": ["_compile"],
        "torch._utils": ["_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
                         "_rebuild_parameter", "_rebuild_parameter_with_state",
                         "_rebuild_sparse_tensor", "_rebuild_sparse_csr_tensor",
                         "_rebuild_qtensor", "_rebuild_device_tensor_from_numpy",
                         "_rebuild_device_tensor_from_cpu_tensor",
                         "_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass",
                         "_rebuild_nested_tensor", "_rebuild_xla_tensor", "_rebuild_mlc_tensor"],
        "torch": ["Size", "device", "dtype", "Tensor", "strided", "sparse_coo", "sparse_csr",
                  "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
                  "contiguous_format", "channels_last", "channels_last_3d",
                  "preserve_format", "memory_format", "layout", "finfo", "iinfo",
                  *_TORCH_DTYPES, *_TORCH_STORAGES],
        "torch.storage": ["UntypedStorage", "TypedStorage", "_load_from_bytes"],
        "torch.nn.parameter": ["Parameter", "UninitializedParameter", "Buffer"],
        "torch._tensor": ["_rebuild_from_type_v2", "Tensor"],
        "torch.serialization": ["_get_layout"],
        "torch.jit._pickle": ["build_tensor_from_id", "build_intlist", "build_doublelist",
                              "build_boollist", "build_tensorlist", "build_complexlist",
                              "restore_type_tag"],
        "numpy": _NUMPY_SCALARS,
        "numpy.core.multiarray": ["_reconstruct", "scalar"],
        "numpy._core.multiarray": ["_reconstruct", "scalar"],
        "numpy.core.numeric": ["_frombuffer"],
        "numpy._core.numeric": ["_frombuffer"],
        "numpy.ma.core": ["_mareconstruct", "MaskedArray", "MaskedConstant"],
        "numpy.random._pickle": ["__randomstate_ctor", "__bit_generator_ctor",
                                 "__generator_ctor"],
        "numpy.random.mtrand": ["RandomState"],
        "numpy.random._generator": ["Generator"],
        "numpy.random._mt19937": ["MT19937"],
        "numpy.random._pcg64": ["PCG64", "PCG64DXSM"],
        "numpy.random._philox": ["Philox"],
        "numpy.random._sfc64": ["SFC64"],
        "numpy.random.bit_generator": ["SeedSequence"],
        "joblib.numpy_pickle": ["NumpyArrayWrapper"],
        "sklearn.externals.joblib.numpy_pickle": ["NumpyArrayWrapper"],
        "pandas._libs.internals": ["_unpickle_block"],
        "pandas.core.indexes.base": ["_new_Index", "Index"],
        "pandas._libs.tslibs.timestamps": ["_unpickle_timestamp"],
        "pandas._libs.tslibs.timedeltas": ["_timedelta_unpickle"],
        "scipy.sparse._csr": ["csr_matrix", "csr_array"],
    }.items()
}  # fmt: skip

#: Class names (CapWords, not dotted) in these packages are estimator/model classes: safe to
#: rebuild. Functions in them are not on the list and stay "unknown".
SAFE_CLASS_PACKAGES: tuple[str, ...] = (
    "sklearn.linear_model", "sklearn.tree", "sklearn.ensemble", "sklearn.preprocessing",
    "sklearn.pipeline", "sklearn.compose", "sklearn.svm", "sklearn.neighbors",
    "sklearn.naive_bayes", "sklearn.cluster", "sklearn.decomposition",
    "sklearn.feature_extraction", "sklearn.feature_selection", "sklearn.impute",
    "sklearn.neural_network", "sklearn.kernel_ridge", "sklearn.discriminant_analysis",
    "sklearn.calibration", "sklearn.isotonic", "sklearn.gaussian_process",
    "sklearn.cross_decomposition", "sklearn.manifold", "sklearn.mixture", "sklearn.multiclass",
    "sklearn.multioutput", "sklearn.semi_supervised", "sklearn.dummy",
    "sklearn.random_projection", "sklearn.kernel_approximation", "sklearn._loss",
    "sklearn.model_selection", "sklearn.covariance", "sklearn.metrics._scorer",
    "sklearn.utils._bunch", "xgboost.sklearn", "xgboost.core", "lightgbm.sklearn",
    "lightgbm.basic", "catboost.core", "scipy.sparse", "pandas.core", "numpy.dtypes",
    "torch.nn.modules",
)  # fmt: skip

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
    safe = SAFE_NAMES.get(mod)
    if safe is not None and attr in safe:
        return Verdict(SAFE, "rebuilds data", resolved)
    for prefix, why in DANGEROUS_MODULES.items():
        if _under(mod, prefix):
            return Verdict(DANGEROUS, why, resolved)
    names = DANGEROUS_NAMES.get(mod)
    if names is not None and (attr in names or first in names):
        return Verdict(DANGEROUS, names.get(attr) or names[first], resolved)
    if "." not in attr and attr[:1].isupper() and not _is_dunder(attr):
        for prefix in SAFE_CLASS_PACKAGES:
            if _under(mod, prefix):
                return Verdict(SAFE, "a known estimator or container class", resolved)
    top = module.split(".", 1)[0]
    if top in _STDLIB or mod.split(".", 1)[0] in _STDLIB:
        return Verdict(STDLIB, "a standard-library object a model file does not need", resolved)
    return Verdict(
        UNKNOWN, "code outside the allow-list: it runs when the file is loaded", resolved
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
    if len(parts) == 1 and len(verdicts) == 1:
        return verdicts[0]
    if verdicts[0].level == SAFE:
        return verdicts[0]  # the exact dotted name is allow-listed
    return max(verdicts, key=lambda v: _RANK[v.level])


def severity_for(verdict: Verdict, called: bool) -> str | None:
    """Severity of a finding for this import, or None when it needs none."""
    if verdict.level == DANGEROUS:
        return "critical"
    if verdict.level == STDLIB:
        return "high" if called else "medium"
    if verdict.level == UNKNOWN:
        return "medium"
    return None
