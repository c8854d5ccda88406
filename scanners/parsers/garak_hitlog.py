"""garak hitlogs (``*.hitlog.jsonl``: one row per failing output): detected on their own so
the scan run says which garak file it read; parsed by :mod:`scanners.parsers.garak`."""

from __future__ import annotations

from scanners.document import Document
from scanners.findings import Report
from scanners.parsers import garak

SCAN_TYPE = "garak-hitlog"
CATEGORY = "assessment"
DESCRIPTION = "garak *.hitlog.jsonl (one row per failing output)"


def sniff(doc: Document) -> bool:
    return garak.family(doc) == SCAN_TYPE


def parse(doc: Document) -> Report:
    return garak.parse(doc)
