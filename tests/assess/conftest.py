from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a DataFrame as CSV (or Parquet) in the test's directory; returns the path."""

    def to_file(frame: pd.DataFrame, name: str = "eval.csv") -> Path:
        path = tmp_path / name
        if name.endswith(".parquet"):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        return path

    return to_file


def figure(doc: dict[str, Any], test: str) -> dict[str, Any]:
    """The result or measurement with this test id."""
    for item in [*doc["results"], *doc["measurements"]]:
        if item["test"] == test:
            return item
    raise AssertionError(f"no figure {test}; have {[i['test'] for i in doc['measurements']]}")


def value(doc: dict[str, Any], test: str) -> float:
    v = figure(doc, test)["value"]
    assert v is not None, figure(doc, test)
    return float(v)
