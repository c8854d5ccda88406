"""Thresholds: ``metric<=value`` (every figure of that metric) or ``metric[scope]<=value``
(one figure, e.g. ``demographic_parity_difference[sex]<=0.05``); the more specific wins.
They come from the command line in CI, or from the version's policy on the server."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanners.assess.errors import AssessmentError
from scanners.assess.measurement import METRICS, Measurement
from scanners.findings import COMPARATORS

_SPEC = re.compile(
    r"^\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]+\])?)\s*"
    r"(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>[^\s]+)\s*$"
)


@dataclass(frozen=True, slots=True)
class Threshold:
    """``key <comparator> value`` must hold for the figure to pass."""

    key: str
    comparator: str
    value: float

    def __post_init__(self) -> None:
        if self.comparator not in COMPARATORS:
            raise AssessmentError(f"threshold {self.key}: unknown comparator {self.comparator!r}")
        if not math.isfinite(self.value):
            raise AssessmentError(f"threshold {self.key}: the value must be a finite number")

    @property
    def metric(self) -> str:
        return self.key.split("[", 1)[0]

    def __str__(self) -> str:
        return f"{self.key}{self.comparator}{self.value:g}"


def parse_threshold(text: str) -> Threshold:
    """``"demographic_parity_difference<=0.1"`` -> Threshold. AssessmentError when malformed."""
    match = _SPEC.match(text)
    if not match:
        raise AssessmentError(
            f"threshold {text!r}: expected METRIC<=VALUE (or >=, <, >, ==, !=), "
            "e.g. demographic_parity_difference<=0.1"
        )
    try:
        value = float(match["value"])
    except ValueError:
        raise AssessmentError(f"threshold {text!r}: {match['value']!r} is not a number") from None
    return Threshold(match["key"], match["op"], value)


def coerce(items: Iterable[Threshold | str]) -> list[Threshold]:
    """Thresholds from Threshold objects or strings; unknown metric names are an error (a
    typo must not silently leave a figure unjudged)."""
    out = [t if isinstance(t, Threshold) else parse_threshold(t) for t in items]
    keys = [t.key for t in out]
    for t in out:
        if keys.count(t.key) > 1:
            raise AssessmentError(f"threshold {t.key}: given more than once")
        if t.metric not in METRICS:
            close = difflib.get_close_matches(t.metric, list(METRICS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise AssessmentError(f"threshold {t}: unknown metric {t.metric!r}{hint}")
    return out


@dataclass(slots=True)
class Judged:
    measurement: Measurement
    threshold: Threshold


def match(
    measurements: Sequence[Measurement], thresholds: Sequence[Threshold]
) -> tuple[list[Judged], list[str]]:
    """Pair each figure with its threshold. Returns the judged figures and one warning per
    threshold that judged nothing (the metric was not measured, or is undefined here)."""
    by_key = {t.key: t for t in thresholds}
    judged: list[Judged] = []
    used: set[str] = set()
    undefined: dict[str, list[str]] = {}
    for m in measurements:
        t = by_key.get(m.test) or by_key.get(m.metric)
        if t is None:
            continue
        used.add(t.key)
        if m.value is None:
            undefined.setdefault(t.key, []).append(f"{m.test} ({m.why_undefined})")
            continue
        judged.append(Judged(m, t))
    warnings: list[str] = []
    for t in thresholds:
        if t.key in undefined:
            warnings.append(f"threshold {t} cannot be judged: {'; '.join(undefined[t.key])}")
        elif t.key not in used:
            warnings.append(f"threshold {t} cannot be judged: {t.key} was not measured")
    return judged, warnings
