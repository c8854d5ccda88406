"""modelscan (Protect AI) JSON report, as written with ``-r json -o FILE``.

(The JSON modelscan prints to stdout is wrapped by its console library and is not valid;
only the ``-o`` file is.)

- ``issues[]`` -> one finding each: pickle scanners (``PickleUnsafeOpScan``, numpy, PyTorch)
  give ``unsafe-import`` of ``module.operator``; Keras/TensorFlow scanners give
  ``unsafe-operator``. Severity is modelscan's (CRITICAL/HIGH/MEDIUM/LOW).
- ``errors[]`` with a ``source`` and ``summary.skipped.skipped_files[]`` whose category says
  the file could not be read (BAD_ZIP, MAGIC_NUMBER, MODEL_CONFIG, H5_DATA,
  NOT_IMPLEMENTED) -> a ``not-scanned`` finding for that file, plus a warning.
- ``summary.scanned.total_scanned == 0`` (modelscan exits 3: corrupt zip, unknown
  extension) -> a warning and a ``not-scanned`` finding for the input path: nothing was
  scanned, which is not the same as clean.
- Files skipped as SCAN_NOT_SUPPORTED (a README next to the model, archive members that are
  not pickles) are counted in metadata only.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers import _modelfile_common as mf
from scanners.parsers._fields import Fields, at
from scanners.severity import from_table

SCAN_TYPE = "modelscan"
CATEGORY = "model_file"
DESCRIPTION = "modelscan JSON report (-r json -o FILE): unsafe pickle/Keras/TF operators"

_F = Fields(SCAN_TYPE)
_SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}
# Scanners whose "module.operator" is a layer or graph op, not a pickle import.
_OPERATOR_SCANNERS = ("lambda", "tensorflow", "savedmodel", "keras", "h5")
_UNREADABLE_SKIPS = {"BAD_ZIP", "MAGIC_NUMBER", "MODEL_CONFIG", "H5_DATA", "NOT_IMPLEMENTED"}


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or not isinstance(data.get("issues"), list):
        return False
    summary = data.get("summary")
    if not isinstance(summary, dict):
        return False
    return "modelscan_version" in summary or (
        "total_issues_by_severity" in summary and "scanned" in summary
    )


def parse(doc: Document) -> Report:
    data = _F.obj(_F.json(doc), "")
    summary = _F.obj(_F.req(data, "summary", ""), "summary")
    scanned = _F.opt_obj(summary, "scanned", "summary")
    skipped = _F.opt_obj(summary, "skipped", "summary")
    input_path = _F.opt_str(summary, "input_path", "summary")
    report = Report(
        tool="modelscan",
        tool_version=_F.opt_str(summary, "modelscan_version", "summary"),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
    )
    findings: list[NormalizedFinding] = []

    for i, raw in enumerate(_F.arr(_F.req(data, "issues", ""), "issues")):
        findings.append(_issue(_F.obj(raw, at("issues", i)), at("issues", i)))

    error_sources: list[str] = []
    for i, raw in enumerate(_F.opt_arr(data, "errors", "")):
        where = at("errors", i)
        err = _F.obj(raw, where)
        message = _F.opt_str(err, "description", where) or _F.opt_str(err, "message", where)
        category = _F.opt_str(err, "category", where)
        source = _F.opt_str(err, "source", where)
        report.warnings.append(f"modelscan error ({category or 'unknown'}): {message} {source}")
        if source and source != "None":
            error_sources.append(source)
            findings.append(
                mf.not_scanned(
                    tool="modelscan",
                    tool_rule=f"error:{category}" if category else "error",
                    location=source,
                    reason=message or "modelscan reported an error for this file",
                )
            )

    unsupported = 0
    for i, raw in enumerate(_F.opt_arr(skipped, "skipped_files", "summary.skipped")):
        where = at("summary.skipped.skipped_files", i)
        item = _F.obj(raw, where)
        category = _F.opt_str(item, "category", where)
        if category not in _UNREADABLE_SKIPS:
            unsupported += 1
            continue
        source = _F.opt_str(item, "source", where)
        message = _F.opt_str(item, "description", where)
        report.warnings.append(f"modelscan skipped {source} ({category}): {message}")
        findings.append(
            mf.not_scanned(
                tool="modelscan",
                tool_rule=f"skipped:{category}",
                location=source or input_path,
                reason=message or f"skipped ({category})",
            )
        )

    total_scanned = _F.opt_int(scanned, "total_scanned", "summary.scanned")
    if total_scanned == 0:
        report.warnings.append(
            f"modelscan scanned nothing in {input_path or 'the input'} (exit code 3): "
            "the artifact was not scanned, which is not a clean result"
        )
        if not findings:
            findings.append(
                mf.not_scanned(
                    tool="modelscan",
                    tool_rule="total_scanned=0",
                    location=input_path,
                    reason="modelscan found no file it could scan (unsupported format or "
                    "corrupt archive)",
                )
            )

    report.findings = mf.merge(findings)
    report.metadata = {
        "input_path": input_path,
        "timestamp": _F.opt_str(summary, "timestamp", "summary"),
        "total_issues": _F.opt_int(summary, "total_issues", "summary"),
        "total_scanned": total_scanned,
        "scanned_files": [str(s) for s in _F.opt_arr(scanned, "scanned_files", "summary.scanned")][
            :200
        ],
        "total_skipped": _F.opt_int(skipped, "total_skipped", "summary.skipped"),
        "skipped_unsupported": unsupported,
        "errors": len(error_sources),
    }
    report.target = input_path[:500]  # the file or directory modelscan was given
    return report


def _issue(issue: dict[str, Any], where: str) -> NormalizedFinding:
    raw_severity = _F.opt_str(issue, "severity", where)
    severity = from_table(raw_severity, _SEVERITY, default="high")
    scanner = _F.opt_str(issue, "scanner", where)
    source = _F.opt_str(issue, "source", where)
    module = _F.opt_str(issue, "module", where)
    operator = _F.opt_str(issue, "operator", where)
    description = _F.opt_str(issue, "description", where)
    name = mf.normalize_import(module, operator)
    short = scanner.rsplit(".", 1)[-1] or "issue"
    evidence = {"scanner": scanner, "message": description}
    if name and not any(word in short.lower() for word in _OPERATOR_SCANNERS):
        return mf.import_finding(
            tool="modelscan",
            tool_rule=short,
            location=source,
            import_name=name,
            severity=severity,
            raw_severity=raw_severity,
            description=description,
            evidence=evidence,
        )
    rule_id = mf.UNSAFE_OPERATOR if name else f"modelscan/{short}"
    return mf.finding(
        tool="modelscan",
        rule_id=rule_id,
        tool_rule=short,
        title=f"Unsafe operator {name} in {mf.member_key(source)}"
        if name
        else description or short,
        severity=severity,
        location=source,
        import_name=name,
        raw_severity=raw_severity,
        description=description,
        evidence=evidence,
    )
