"""Bad input gets one clear line naming the problem."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scanners import ReportError
from scanners.assess import AssessmentError, Options, assess_predictions, load_table
from tests.assess.test_performance import HAND


def _error(call: Callable[[], Any]) -> str:
    with pytest.raises(AssessmentError) as excinfo:
        call()
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_a_missing_column_is_named_with_the_columns_there(write: Callable[..., Path]) -> None:
    path = write(HAND)

    message = _error(lambda: assess_predictions(path, label="target", prediction="yhat"))

    assert message == "eval.csv: no column 'target' (label); columns: y, yhat, p, g"
    assert _error(
        lambda: assess_predictions(path, label="y", prediction="yhat", sensitive=["sex"])
    ).startswith("eval.csv: no column 'sex' (sensitive feature)")


def test_a_label_with_one_class_is_refused(write: Callable[..., Path]) -> None:
    path = write(HAND.assign(y=1))

    message = _error(lambda: assess_predictions(path, label="y", prediction="yhat"))

    assert message == "label 'y' has a single class ('1'): nothing to compare predictions with"


def test_a_sensitive_feature_with_a_single_group_is_refused(write: Callable[..., Path]) -> None:
    path = write(HAND.assign(g="a"))

    message = _error(
        lambda: assess_predictions(path, label="y", prediction="yhat", sensitive=["g"])
    )

    assert message == "sensitive feature 'g' has a single group ('a'): nothing to compare"


def test_a_sensitive_feature_with_too_many_groups_must_be_banded(
    write: Callable[..., Path],
) -> None:
    frame = pd.concat([HAND] * 20, ignore_index=True).assign(g=range(200))

    message = _error(
        lambda: assess_predictions(write(frame), label="y", prediction="yhat", sensitive=["g"])
    )

    assert message == (
        "sensitive feature 'g' has 200 groups (at most 100): group its values into bands first"
    )


def test_two_text_classes_need_the_positive_one_named(write: Callable[..., Path]) -> None:
    frame = HAND.assign(
        y=HAND["y"].map({1: "yes", 0: "no"}), yhat=HAND["yhat"].map({1: "yes", 0: "no"})
    )

    message = _error(lambda: assess_predictions(write(frame), label="y", prediction="yhat"))

    assert message == (
        "label 'y' has the classes 'no' and 'yes': say which is positive (--positive-label)"
    )
    assert (
        _error(
            lambda: assess_predictions(
                write(frame), label="y", prediction="yhat", options=Options(positive_label="maybe")
            )
        )
        == "positive label 'maybe' is not a class of 'y' (classes: no, yes)"
    )


def test_neither_prediction_nor_score_is_refused(write: Callable[..., Path]) -> None:
    assert (
        _error(lambda: assess_predictions(write(HAND), label="y"))
        == "give a prediction column, a score column or both"
    )


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "the file is a zip archive (an Excel workbook"),
        (
            gzip.compress(b"y,yhat\n1,1\n", mtime=0),
            "the file is gzip-compressed (decompress it first)",
        ),
        (b'{"y": [1, 0]}', "the file looks like JSON"),
        (b"\x08\x01\x12\x00\x00binary", "the file is binary"),
        (b"y,yhat\n\xff\xfe1,1\n", "not UTF-8 text (byte 7)"),
    ],
    ids=["zip", "gzip", "json", "binary", "latin"],
)
def test_a_table_that_is_not_csv_or_parquet_is_refused(
    tmp_path: Path, content: bytes, why: str
) -> None:
    path = tmp_path / "eval.csv"
    path.write_bytes(content)

    message = _error(lambda: load_table(path))

    assert message.startswith(f"eval.csv: not CSV or Parquet: {why}")


def test_the_format_is_read_from_the_content_not_the_name(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    HAND.to_parquet(buffer, index=False)
    path = tmp_path / "eval.csv"  # a Parquet file with a CSV name
    path.write_bytes(buffer.getvalue())

    table = load_table(path)

    assert table.format == "parquet"
    assert table.rows == 10


def test_a_truncated_parquet_file_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    HAND.to_parquet(buffer, index=False)
    path = tmp_path / "eval.parquet"
    path.write_bytes(buffer.getvalue()[:-20])

    assert _error(lambda: load_table(path)) == (
        "eval.parquet: a Parquet file without its footer (truncated?)"
    )


def test_a_ragged_csv_is_refused_with_the_parser_reason(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text("y,yhat\n1,1\n0,1,5\n")

    message = _error(lambda: load_table(path))

    assert message.startswith("eval.csv: not a valid CSV table: CSV parse error: Expected 2")


def test_an_empty_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text("y,yhat\n")

    assert _error(lambda: load_table(path)) == "eval.csv: the table has no rows"


def test_bytes_can_be_assessed_like_a_file() -> None:
    data = HAND.to_csv(index=False).encode()

    doc = assess_predictions(data, label="y", prediction="yhat")

    assert doc["dataset"] == "<data>"
    assert doc["dataset_fingerprint"]["format"] == "csv"


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        (
            "accurcy>=0.8",
            "threshold accurcy>=0.8: unknown metric 'accurcy' (did you mean accuracy?)",
        ),
        ("accuracy=>0.8", "threshold 'accuracy=>0.8': expected METRIC<=VALUE"),
        ("accuracy>=high", "threshold 'accuracy>=high': 'high' is not a number"),
        ("accuracy>=nan", "threshold accuracy: the value must be a finite number"),
    ],
)
def test_a_bad_threshold_is_refused_before_any_work(
    write: Callable[..., Path], threshold: str, message: str
) -> None:
    error = _error(
        lambda: assess_predictions(
            write(HAND), label="y", prediction="yhat", thresholds=[threshold]
        )
    )

    assert error.startswith(message)


def test_assessment_errors_are_report_errors() -> None:
    # The import service already turns ReportError into one line for the user.
    assert issubclass(AssessmentError, ReportError)


def test_a_zip_in_disguise_is_named(tmp_path: Path) -> None:
    path = tmp_path / "eval.parquet"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("eval.csv", "y,yhat\n1,1\n")

    assert "a zip archive" in _error(lambda: load_table(path))
