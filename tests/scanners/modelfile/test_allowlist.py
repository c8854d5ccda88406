"""Fail closed: only exactly allow-listed imports are silent; known code runners are critical,
also inside packages that are otherwise trusted; everything else is high with the import
named. The allow-list is exact qualified names, each with its reason."""

from __future__ import annotations

import pytest

from scanners.modelfile import allowlist
from scanners.modelfile import classify as cl
from tests.scanners.modelfile.helpers import assert_critical, by_import, scan
from tests.scanners.modelfile.picklegen import P, call_pickle


def test_every_allow_listed_name_has_a_one_line_reason() -> None:
    rows = allowlist.entries()
    assert len(rows) > 400
    for module, name, why in rows:
        assert module, name
        assert name, module
        assert "*" not in name, (module, name)
        assert 15 < len(why) < 250, (module, name, why)
        assert "\n" not in why


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("pathlib", "PosixPath"),
        ("pathlib", "PurePosixPath"),
        ("pathlib._local", "WindowsPath"),
        ("argparse", "Namespace"),
        ("datetime", "datetime"),
        ("decimal", "Decimal"),
        ("uuid", "UUID"),
        ("fractions", "Fraction"),
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch.nn.modules.linear", "Linear"),
        ("sklearn.ensemble._forest", "RandomForestClassifier"),
        ("lightning.fabric.utilities.data", "AttributeDict"),
        ("omegaconf.dictconfig", "DictConfig"),
    ],
)
def test_data_building_names_are_allowed(module: str, name: str) -> None:
    assert cl.classify(module, name).level == cl.SAFE
    assert not scan(call_pickle(module, name, "x")).findings


@pytest.mark.parametrize(
    ("module", "name"),
    [
        # interpreter internals that run code strings or commands
        ("_xxsubinterpreters", "run_string"),
        ("_interpreters", "run_string"),
        ("_pyrepl.pager", "pipe_pager"),
        ("_osx_support", "_read_output"),
        ("platform", "_syscmd_file"),
        ("uuid", "_get_command_stdout"),
        ("ctypes.util", "find_library"),
        ("tkinter", "Tcl"),
        ("antigravity", "geohash"),
        ("weakref", "finalize"),
        ("atexit", "register"),
        ("itertools", "starmap"),
        ("builtins", "map"),
        # functions inside otherwise trusted packages that run commands or code
        ("torch.utils.collect_env", "run"),
        ("torch.utils.collect_env", "run_and_read_all"),
        ("torch.utils.bottleneck.__main__", "run_cprofile"),
        ("torch.fx.graph_module", "reduce_graph_module"),
        ("torch.fx.graph_module", "_forward_from_src"),
        ("torch.jit.unsupported_tensor_ops", "execWrapper"),
        ("torch._inductor.codecache", "compile_file"),
        ("torch.utils.cpp_extension", "load_inline"),
        ("torch.storage", "UntypedStorage.from_file"),
        ("numpy.core", "_ufunc_reconstruct"),
        ("numpy.testing._private.utils", "runstring"),
        ("numpy.f2py", "compile"),
        ("pandas.io.pickle", "read_pickle"),
        ("pandas.core.computation.eval", "eval"),
        ("sklearn.utils._testing", "assert_run_python_script"),
        ("joblib.parallel", "Parallel"),
        ("huggingface_hub", "hf_hub_download"),
        ("transformers.dynamic_module_utils", "get_class_from_dynamic_module"),
        ("transformers", "AutoModel.from_pretrained"),
        ("pathlib", "Path.write_text"),
        ("keras.src.utils.file_utils", "get_file"),
    ],
)
def test_code_runners_are_critical_even_in_trusted_packages(module: str, name: str) -> None:
    assert_critical(scan(call_pickle(module, name, "x")), f"{module}.{name}")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("torch.nn.modules.linear", "NotALayer"),  # a trusted module, a name not on the list
        ("torch.utils.data.dataloader", "DataLoader"),
        ("sklearn.pipeline", "_name_estimators"),
        ("numpy.lib.stride_tricks", "as_strided"),
        ("collections.abc", "Callable"),
        ("textwrap", "dedent"),
        ("acme_models.layers", "Block"),
        ("__main__", "Net"),
    ],
)
def test_anything_off_the_list_is_high_called_or_only_imported(module: str, name: str) -> None:
    called = scan(call_pickle(module, name, "x"))
    assert by_import(called) == {f"{module}.{name}": "high"}
    only = scan(P(2).global_(module, name).stop().data)
    assert by_import(only) == {f"{module}.{name}": "high"}
    f = only.findings[0]
    assert f"{module}.{name}" in f.title
    assert "allow-list" in f.title


def test_a_prefix_of_a_trusted_package_allows_nothing() -> None:
    for module, name in (("torch", "nn"), ("sklearn", "Pipeline"), ("numpy", "lib")):
        assert cl.classify(module, name).level != cl.SAFE, (module, name)
    # the allow-listed exact name next to one that is not
    assert cl.classify("pathlib", "PosixPath").level == cl.SAFE
    assert cl.classify("pathlib", "PosixPath.read_text").level == cl.DANGEROUS


def test_extension_registry_imports_are_high() -> None:
    res = scan(P(2).ext1(42).stop().data)
    f = next(f for f in res.findings if f.rule_id == "warden-modelscan/extension-code")
    assert f.severity == "high"
