"""Taxonomy references: MITRE ATLAS 5.6.0 techniques, OWASP ML Top 10 2023, OWASP LLM Top 10 2025.

The ATLAS technique table ships as data (``scanners/data/atlas-5.6.0-techniques.tsv``) so ids
can be validated and named offline.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

# Model-file findings: User Execution: Unsafe AI Artifacts; AI Supply Chain Compromise: Model.
ATLAS_UNSAFE_ARTIFACT = ["AML.T0011.000", "AML.T0010.003"]
OWASP_ML_SUPPLY_CHAIN = "ML06:2023"

OWASP_ML_2023: dict[str, str] = {
    "ML01:2023": "Input Manipulation Attack",
    "ML02:2023": "Data Poisoning Attack",
    "ML03:2023": "Model Inversion Attack",
    "ML04:2023": "Membership Inference Attack",
    "ML05:2023": "Model Theft",
    "ML06:2023": "AI Supply Chain Attacks",
    "ML07:2023": "Transfer Learning Attack",
    "ML08:2023": "Model Skewing",
    "ML09:2023": "Output Integrity Attack",
    "ML10:2023": "Model Poisoning",
}

OWASP_LLM_2025: dict[str, str] = {
    "LLM01:2025": "Prompt Injection",
    "LLM02:2025": "Sensitive Information Disclosure",
    "LLM03:2025": "Supply Chain",
    "LLM04:2025": "Data and Model Poisoning",
    "LLM05:2025": "Improper Output Handling",
    "LLM06:2025": "Excessive Agency",
    "LLM07:2025": "System Prompt Leakage",
    "LLM08:2025": "Vector and Embedding Weaknesses",
    "LLM09:2025": "Misinformation",
    "LLM10:2025": "Unbounded Consumption",
}

#: OWASP LLM Top 10 2023 (as in garak's ``owasp:llmNN`` tags) -> 2025 list.
OWASP_LLM_2023_TO_2025: dict[str, str] = {
    "llm01": "LLM01:2025",
    "llm02": "LLM05:2025",  # Insecure Output Handling -> Improper Output Handling
    "llm03": "LLM04:2025",  # Training Data Poisoning -> Data and Model Poisoning
    "llm04": "LLM10:2025",  # Model Denial of Service -> Unbounded Consumption
    "llm05": "LLM03:2025",  # Supply Chain Vulnerabilities -> Supply Chain
    "llm06": "LLM02:2025",  # Sensitive Information Disclosure
    "llm07": "LLM06:2025",  # Insecure Plugin Design -> Excessive Agency (closest)
    "llm08": "LLM06:2025",  # Excessive Agency
    "llm09": "LLM09:2025",  # Overreliance -> Misinformation
    "llm10": "LLM10:2025",  # Model Theft -> Unbounded Consumption (closest)
}


@cache
def atlas_techniques() -> dict[str, str]:
    """ATLAS technique id -> name, from the shipped 5.6.0 table."""
    text = resources.files("scanners").joinpath("data/atlas-5.6.0-techniques.tsv").read_text()
    out: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].startswith("AML."):
            out[cols[0]] = cols[1]
    return out


def is_atlas_id(technique_id: str) -> bool:
    return technique_id in atlas_techniques()
