"""An AI firewall's Prometheus metrics (text exposition format, one scrape of ``/metrics``),
e.g. Robust Intelligence AI Firewall::

    <prefix>_rule_evaluated_total{flagged="True",rule="Prompt Injection",
                                  validation_type="input"} 46.0

The text format is parsed here (no client library): ``# HELP`` / ``# TYPE`` and other
comments, label values with ``\\\\``, ``\\"`` and ``\\n`` escapes, ``+Inf`` / ``-Inf`` / ``NaN``
values and optional timestamps.

One runtime finding (kind ``firewall_block``) per rule and validation type (input prompts
and model outputs are different problems: toxic *output* is the model's) with at least one
flagged evaluation: ``metric_value`` / ``failure_count`` = flagged count, ``sample_count``
= all evaluations (flagged + not flagged), severity by the flagged share: >= 20 % high,
>= 5 % medium, else low. ATLAS / OWASP from the rule name (prompt injection -> AML.T0051 +
LLM01:2025, PII -> AML.T0057 + LLM02:2025, denial of service -> AML.T0029 + LLM10:2025...).

Counters are cumulative since the firewall process started (``*_created``), so the events
of a period are the *difference between two scrapes*, and a counter that went down means
the process restarted. This parser reports the absolute counters of one scrape; every
firewall counter (labels, value, created) is in ``metadata["counters"]`` so the ingestion
side can diff consecutive scrapes. The deployment is the ``deployment`` label if the
scraper added one, else the ``instance`` label, else empty (the uploader knows it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._assessment_common import runtime_fingerprint, runtime_taxonomy
from scanners.parsers._fields import Fields

SCAN_TYPE = "prometheus-firewall"
#: A text format: a line that starts with "{" is not broken JSON.
OWN_JSON_ERRORS = True
CATEGORY = "runtime"
DESCRIPTION = "AI firewall Prometheus metrics (*_rule_evaluated_total{flagged,rule,...})"

KIND = "firewall_block"
_F = Fields(SCAN_TYPE)
_RULE_SUFFIX = "_rule_evaluated_total"
_CREATED_SUFFIX = "_rule_evaluated_created"
_REQUESTS_SUFFIX = "_requests_total"
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SNIFF = re.compile(rb'(?m)^[A-Za-z_:][A-Za-z0-9_:]*_rule_evaluated_total\{[^\n}]*flagged="')
_SPECIAL = {"+inf": math.inf, "inf": math.inf, "-inf": -math.inf, "nan": math.nan}


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample line: metric name, labels, value and optional timestamp (ms)."""

    name: str
    labels: dict[str, str]
    value: float
    timestamp: int | None
    line: int


@dataclass
class _Rule:
    deployment: str
    rule: str
    validation_type: str
    flagged: float = 0.0
    passed: float = 0.0
    created: list[float] = field(default_factory=list)


def sniff(doc: Document) -> bool:
    head = doc.data[:262144]
    return head.lstrip()[:1] not in (b"{", b"[") and bool(_SNIFF.search(head))


def parse(doc: Document) -> Report:
    samples = parse_exposition(doc.text)
    rules: dict[tuple[str, str, str], _Rule] = {}
    counters: list[dict[str, object]] = []
    requests: dict[str, float] = {}
    created: dict[tuple[str, str, str, str], float] = {}
    prefix = ""
    seen = 0
    warnings: list[str] = []
    for s in samples:
        if s.name.endswith(_CREATED_SUFFIX):
            created[_key(s)] = s.value
    for s in samples:
        if s.name.endswith(_REQUESTS_SUFFIX) and "flagged" in s.labels:
            state = "flagged" if _flag(s.labels["flagged"]) else "not_flagged"
            requests[state] = requests.get(state, 0.0) + s.value
            continue
        if not s.name.endswith(_RULE_SUFFIX):
            continue
        prefix = prefix or s.name[: -len(_RULE_SUFFIX)]
        seen += 1
        if "rule" not in s.labels or "flagged" not in s.labels:
            _F.fail(f"line {s.line}", f'{s.name} sample without "rule" and "flagged" labels')
        if not math.isfinite(s.value) or s.value < 0:
            warnings.append(f"line {s.line}: counter {s.name} has value {s.value}; skipped")
            continue
        deployment = s.labels.get("deployment") or s.labels.get("instance", "")
        vtype = s.labels.get("validation_type", "")
        rule = rules.setdefault(
            (deployment, s.labels["rule"], vtype), _Rule(deployment, s.labels["rule"], vtype)
        )
        flagged = _flag(s.labels["flagged"])
        if flagged:
            rule.flagged += s.value
        else:
            rule.passed += s.value
        when = created.get(_key(s))
        if when is not None:
            rule.created.append(when)
        counters.append(
            {
                "metric": s.name,
                "labels": dict(s.labels),
                "value": s.value,
                "created": when,
                "timestamp": s.timestamp,
            }
        )
    if not seen:
        _F.fail("", f"no *{_RULE_SUFFIX} counters with rule and flagged labels")
    tool = prefix.replace("_", "-") or "ai-firewall"
    # A scrape of runtime counters: what it does not count was not looked for.
    report = Report(
        tool=tool, tool_version="", scan_type=SCAN_TYPE, category=CATEGORY, complete=False
    )
    report.warnings.extend(warnings)
    for rule in rules.values():
        if rule.flagged > 0:
            report.findings.append(_finding(tool, rule))
    report.metadata = {
        "counters": counters[:1000],
        "requests": requests,
        "series": len(samples),
        "note": "absolute counters since each counter was created; events of a period are "
        "the difference between two scrapes",
    }
    return report


def _finding(tool: str, rule: _Rule) -> NormalizedFinding:
    evaluated = rule.flagged + rule.passed
    share = rule.flagged / evaluated if evaluated else 1.0
    severity = "high" if share >= 0.2 else "medium" if share >= 0.05 else "low"
    rule_id = f"{rule.rule} ({rule.validation_type})" if rule.validation_type else rule.rule
    atlas, llm, ml = runtime_taxonomy(rule.rule)
    where = f" on {rule.deployment}" if rule.deployment else ""
    return NormalizedFinding(
        fingerprint=runtime_fingerprint(tool, rule.deployment, KIND, rule_id),
        category=CATEGORY,
        tool=tool,
        rule_id=rule_id,
        title=f"Firewall rule '{rule_id}' flagged {rule.flagged:g} of {evaluated:g}{where}",
        severity=severity,
        metric_name="flagged_count",
        metric_value=rule.flagged,
        sample_count=int(evaluated),
        failure_count=int(rule.flagged),
        atlas=atlas,
        owasp_llm=llm,
        owasp_ml=ml,
        evidence=trim(
            {
                "deployment": rule.deployment,
                "kind": KIND,
                "rule": rule.rule,
                "validation_type": rule.validation_type,
                "flagged": rule.flagged,
                "evaluated": evaluated,
                "flagged_share": round(share, 4),
                "counter_created": min(rule.created) if rule.created else None,
                "cumulative": True,
            }
        ),
    )


def _flag(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def _key(s: Sample) -> tuple[str, str, str, str]:
    return (
        s.labels.get("deployment") or s.labels.get("instance", ""),
        s.labels.get("rule", ""),
        s.labels.get("validation_type", ""),
        s.labels.get("flagged", "").lower(),
    )


# -- the text exposition format -------------------------------------------------------------


def parse_exposition(text: str) -> list[Sample]:
    """Every sample of a Prometheus text exposition (comments, HELP and TYPE skipped).
    Raises ReportError ``prometheus-firewall: line N: ...`` on a malformed line."""
    samples: list[Sample] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        samples.append(_sample(line, number))
    return samples


def _sample(line: str, number: int) -> Sample:
    where = f"line {number}"
    match = _NAME.match(line)
    if not match:
        _F.fail(where, "expected a metric name")
    name = match.group(0)
    pos = match.end()
    labels: dict[str, str] = {}
    brace = len(line) - len(line[pos:].lstrip(" \t"))
    if brace < len(line) and line[brace] == "{":
        labels, pos = _labels(line, brace + 1, where)
    rest = line[pos:].split()
    if not rest or len(rest) > 2 or (pos < len(line) and not line[pos].isspace()):
        _F.fail(where, "expected '<name>[{labels}] <value> [<timestamp>]'")
    value = _value(rest[0], where)
    timestamp: int | None = None
    if len(rest) == 2:
        try:
            timestamp = int(float(rest[1]) if "." in rest[1] or "e" in rest[1].lower() else rest[1])
        except ValueError:
            _F.fail(where, f"bad timestamp {rest[1]!r}")
    return Sample(name, labels, value, timestamp, number)


def _labels(line: str, pos: int, where: str) -> tuple[dict[str, str], int]:
    labels: dict[str, str] = {}
    n = len(line)
    while True:
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos < n and line[pos] == "}":
            return labels, pos + 1
        match = _LABEL_NAME.match(line, pos)
        if not match:
            _F.fail(where, f"expected a label name at column {pos + 1}")
        key = match.group(0)
        pos = match.end()
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos >= n or line[pos] != "=":
            _F.fail(where, f'expected ="..." after label {key}')
        pos += 1
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos >= n or line[pos] != '"':
            _F.fail(where, f'expected ="..." after label {key}')
        pos += 1
        chars: list[str] = []
        while True:
            if pos >= n:
                _F.fail(where, f"unterminated value of label {key}")
            c = line[pos]
            if c == "\\":
                if pos + 1 >= n:
                    _F.fail(where, f"unterminated value of label {key}")
                nxt = line[pos + 1]
                chars.append("\n" if nxt == "n" else nxt)
                pos += 2
                continue
            if c == '"':
                pos += 1
                break
            chars.append(c)
            pos += 1
        if key in labels:
            _F.fail(where, f"label {key} given twice")
        labels[key] = "".join(chars)
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos < n and line[pos] == ",":
            pos += 1
        elif pos < n and line[pos] == "}":
            return labels, pos + 1
        else:
            _F.fail(where, "expected ',' or '}' after a label value")


def _value(text: str, where: str) -> float:
    special = _SPECIAL.get(text.lower())
    if special is not None:
        return special
    try:
        return float(text)
    except ValueError:
        _F.fail(where, f"bad sample value {text!r}")
