"""Giskard's AVID export (``ScanReport.to_avid()``, JSON Lines): detected on its own so the
scan run says which file it read, and told apart from garak's AVID export by content;
parsed by :mod:`scanners.parsers.giskard`."""

from __future__ import annotations

from scanners.document import Document
from scanners.findings import Report
from scanners.parsers import garak, giskard

SCAN_TYPE = "giskard-avid"
CATEGORY = "assessment"
DESCRIPTION = "Giskard v2 scan: ScanReport.to_avid() JSON Lines (AVID reports)"


def sniff(doc: Document) -> bool:
    return giskard.is_avid(doc) and not garak.family(doc)


def parse(doc: Document) -> Report:
    return giskard.parse(doc)
