"""Every taxonomy id a parser or the model-file scanner can emit is a real one: MITRE ATLAS
5.6.0 techniques (the shipped table), OWASP ML Top 10 2023, OWASP LLM Top 10 2025."""

from __future__ import annotations

import re
from pathlib import Path

from scanners import taxonomy

SCANNERS = Path(taxonomy.__file__).resolve().parent
SOURCES = sorted(p for p in SCANNERS.rglob("*.py") if p.name != "taxonomy.py")


def _ids(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        found |= set(re.findall(pattern, path.read_text()))
    return found


def test_every_atlas_id_in_the_scanners_is_an_atlas_technique() -> None:
    ids = _ids(r"AML\.T\d{4}(?:\.\d{3})?")
    assert "AML.T0011.000" in ids  # the scan is not vacuous
    unknown = {i for i in ids if not taxonomy.is_atlas_id(i)}
    assert not unknown, f"not in MITRE ATLAS 5.6.0: {sorted(unknown)}"
    assert taxonomy.atlas_techniques()["AML.T0011.000"] == "Unsafe AI Artifacts"


def test_every_owasp_id_in_the_scanners_is_in_its_top_10() -> None:
    ml = _ids(r"ML\d{2}:\d{4}")
    llm = _ids(r"LLM\d{2}:\d{4}")
    assert ml
    assert llm
    assert ml <= set(taxonomy.OWASP_ML_2023), sorted(ml - set(taxonomy.OWASP_ML_2023))
    assert llm <= set(taxonomy.OWASP_LLM_2025), sorted(llm - set(taxonomy.OWASP_LLM_2025))
    assert set(taxonomy.OWASP_LLM_2023_TO_2025.values()) <= set(taxonomy.OWASP_LLM_2025)
