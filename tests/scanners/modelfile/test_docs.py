"""docs/modelfile-scanner.md lists every rule the scanner can report, with an example."""

from __future__ import annotations

import re
from pathlib import Path

from scanners.modelfile.rules import RULES

DOC = Path(__file__).resolve().parents[3] / "docs" / "modelfile-scanner.md"


def test_every_rule_has_a_row_with_an_example() -> None:
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \| (.+) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2).strip(), m.group(4).strip())
    assert set(RULES) <= set(rows), sorted(set(RULES) - set(rows))
    for rule_id, (severity, example) in rows.items():
        if rule_id in RULES:
            assert example.startswith("`"), rule_id
            first = RULES[rule_id].severity.split("|")[0]
            assert first in severity, (rule_id, severity)
