"""docs/grafana/warden.json is valid JSON and every panel's query names series /metrics
exposes (so the example dashboard cannot drift from the exporter)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from governance.exporter.collector import FAMILIES

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "warden.json"
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def _exposed() -> set[str]:
    return {name + s for name, kind in FAMILIES.items() for s in SUFFIXES[kind]}


def test_every_expr_names_an_exposed_series() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    exposed = _exposed()
    for expr in exprs:
        names = set(re.findall(r"\bwarden_[a-z_]+", expr))
        assert names, expr
        assert names <= exposed, f"{expr}: {sorted(names - exposed)} not in /metrics"
    # and every family is charted somewhere
    charted = {n for e in exprs for n in re.findall(r"\bwarden_[a-z_]+", e)}
    for name, kind in FAMILIES.items():
        assert any(name + s in charted for s in SUFFIXES[kind]), name
    variables = dashboard["templating"]["list"]
    assert {v["name"] for v in variables} == {"datasource", "team"}
