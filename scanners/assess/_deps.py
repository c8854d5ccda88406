"""The ``assess`` extra: a clear error when it is missing, and the versions actually used."""

from __future__ import annotations

import importlib
import importlib.util
import platform
from importlib import metadata
from types import ModuleType

from scanners.assess.errors import MissingExtra

EXTRA_HINT = "pip install 'warden[assess]'"

#: import name -> distribution name, for the versions recorded in each assessment.
CORE = {
    "numpy": "numpy",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "fairlearn": "fairlearn",
}
MODEL = {"onnxruntime": "onnxruntime", "skops": "skops"}


def need(module: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtra` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        dist = CORE.get(module) or MODEL.get(module) or module
        raise MissingExtra(
            f"the assessment runner needs {dist}, which is not installed: {EXTRA_HINT}"
        ) from exc


def require_core() -> None:
    """Raise :class:`MissingExtra` unless every core library is installed (found, not
    imported: importing them all costs seconds)."""
    for module, dist in CORE.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingExtra(
                f"the assessment runner needs {dist}, which is not installed: {EXTRA_HINT}"
            )


def library_versions(modules: dict[str, str]) -> dict[str, str]:
    """Installed versions of the distributions in ``modules`` (and Python's)."""
    out = {"python": platform.python_version()}
    for dist in modules.values():
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def warden_version() -> str:
    try:
        return metadata.version("warden")
    except metadata.PackageNotFoundError:
        return "0"
