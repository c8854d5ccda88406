"""Severity helpers shared by every parser: CVSS v3 bands and a strict table lookup."""

from __future__ import annotations

from collections.abc import Mapping

SEVERITY_RANK: dict[str, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def from_cvss(score: float | None) -> str:
    """CVSS v3.x qualitative rating: 9.0-10 critical, 7.0-8.9 high, 4.0-6.9 medium,
    0.1-3.9 low, 0 (or unknown) info."""
    if score is None:
        return "info"
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "info"


def from_table(raw: str, table: Mapping[str, str], default: str = "info") -> str:
    """Map a tool's raw severity through its table (case-insensitive)."""
    return table.get(raw.strip().lower(), default)


def worst(*severities: str) -> str:
    """The most severe of the given severities."""
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, -1))
