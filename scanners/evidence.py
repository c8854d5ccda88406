"""Raw evidence kept with a finding, trimmed so one hostile report cannot bloat the database."""

from __future__ import annotations

from typing import Any

EVIDENCE_LIMIT = 4096  # characters of string content kept per finding
_MAX_ITEMS = 50
_MAX_DEPTH = 6


def trim(value: Any, limit: int = EVIDENCE_LIMIT, *, max_depth: int = _MAX_DEPTH) -> Any:
    """A JSON-ready copy of ``value`` with long strings cut, long lists shortened and
    nesting deeper than ``max_depth`` replaced by ``"…"``; the total string budget is
    ``limit`` characters."""
    budget = [limit]

    def walk(v: Any, depth: int) -> Any:
        if depth > max_depth or budget[0] <= 0:
            return "…"
        if isinstance(v, str):
            cut = v[: budget[0]]
            budget[0] -= len(cut)
            return cut if len(cut) == len(v) else cut + "…"
        if isinstance(v, bool) or v is None or isinstance(v, int | float):
            return v
        if isinstance(v, dict):
            out: dict[str, Any] = {}
            for i, (k, item) in enumerate(v.items()):
                if i >= _MAX_ITEMS or budget[0] <= 0:
                    out["…"] = f"{len(v) - i} more"
                    break
                out[str(k)[:200]] = walk(item, depth + 1)
            return out
        if isinstance(v, list | tuple):
            items = [walk(item, depth + 1) for item in list(v)[:_MAX_ITEMS]]
            if len(v) > _MAX_ITEMS:
                items.append(f"… {len(v) - _MAX_ITEMS} more")
            return items
        return walk(str(v), depth)

    return walk(value, 0)
