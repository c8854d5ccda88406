"""Formats by content, never by a guess on text: text is a pickle only when a real parse
says so, and Python source is recognised as source."""

from __future__ import annotations

import pickle

import pytest

from tests.scanners.modelfile.helpers import assert_critical, scan

SOURCES = {
    "inference.py": "import json\nimport subprocess\n\ndef predict(x):\n    return x\n",
    "handler.py": "class EndpointHandler:\n    def __init__(self, path=''):\n        pass\n",
    "config.py": "config = {'lr': 0.1}\n",
    "app.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    "cli.py": "if __name__ == '__main__':\n    print('hi')\n",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_python_source_is_source_not_a_pickle(name: str) -> None:
    res = scan(SOURCES[name].encode(), name)
    assert res.format == "python-source"
    assert not res.findings, [f.title for f in res.findings]


@pytest.mark.parametrize(
    "text",
    [
        b"cat\ndog\nelephant\n",  # a vocabulary: 'c' starts a GLOBAL of at.dog
        b"In the beginning\n",  # 'I' is INT
        b"a,b,c\n1,2,3\n",  # 'a' is APPEND
        b"(draft notes)\n",  # '(' is MARK
        b"Vocabulary file\nline two\n",  # 'V' is UNICODE
        b"import os\n",  # not valid as a pickle, and a bare import is not a program
        b"lorem ipsum\n",
    ],
)
def test_text_that_starts_with_an_opcode_is_not_a_pickle(text: bytes) -> None:
    res = scan(text, "notes.txt")
    assert res.format != "pickle"
    assert not res.findings, [f.title for f in res.findings]


def test_a_real_protocol_0_pickle_is_a_pickle() -> None:
    data = pickle.dumps({"a": [1, 2.5, "x"]}, protocol=0)
    res = scan(data, "state.txt")
    assert res.format == "pickle"
    assert not res.findings


def test_a_protocol_0_call_without_stop_is_a_pickle() -> None:
    """The loader runs the call before it finds the data truncated."""
    res = scan(b"cos\nsystem\n(S'id'\ntR", "notes.txt")
    assert res.format == "pickle"
    assert_critical(res, "os.system")


def test_a_pickle_named_py_is_a_pickle() -> None:
    res = scan(b"cposix\nsystem\n(S'id'\ntR.", "handler.py")
    assert res.format == "pickle"
    assert_critical(res, "posix.system")
