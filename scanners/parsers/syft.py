"""Syft's own JSON SBOM (``syft -o json``): an inventory of packages, no analysis.

``{artifacts: [{name, version, type, purl, locations, licenses, ...}], source: {type, name,
version, metadata | target}, distro, descriptor: {name: "syft", version}, schema}``.

There are no findings: the packages go to ``metadata["components_list"]`` as ``{name,
version, purl, ecosystem}`` (the first :data:`scanners.parsers.cyclonedx.MAX_LISTED`; the
"which models use package X" inventory) and ``Report.complete`` is False -- an SBOM says what
is there, not what is vulnerable, so its silence proves nothing. ``Report.target`` is what
Syft catalogued (the image or directory it was given). Syft's CycloneDX and SPDX outputs are
read by the CycloneDX parser the same way.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import Report
from scanners.parsers._fields import Lenient
from scanners.parsers._kit import DependencyIds, Purl, Reader, cut
from scanners.parsers.cyclonedx import MAX_LISTED

SCAN_TYPE = "syft"
CATEGORY = "dependency"
DESCRIPTION = "Syft JSON SBOM (syft -o json): package inventory, no vulnerabilities"

_R = Reader(SCAN_TYPE)


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or not isinstance(data.get("artifacts"), list):
        return False
    descriptor = data.get("descriptor")
    if isinstance(descriptor, dict) and descriptor.get("name") == "syft":
        return True
    schema = data.get("schema")
    url = schema.get("url") if isinstance(schema, dict) else None
    return isinstance(url, str) and "anchore/syft" in url


def _target(source: dict[str, Any]) -> str:
    """What Syft catalogued: the image the user named, else the path, else the name."""
    for key in ("metadata", "target"):  # "target" before Syft 0.80
        value = source.get(key)
        if isinstance(value, dict):
            for name in ("userInput", "path"):
                if isinstance(value.get(name), str) and value[name]:
                    return str(value[name])
        elif isinstance(value, str) and value:
            return value
    named = source.get("name")
    return named if isinstance(named, str) else ""


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", 'expected a Syft JSON object with "artifacts"')
    loose = Lenient(SCAN_TYPE)
    artifacts = _R.arr(data.get("artifacts"), "artifacts")
    ids = DependencyIds()
    listed: list[dict[str, str]] = []
    for i, raw in enumerate(artifacts):
        where = f"artifacts[{i}]"
        if not isinstance(raw, dict):
            loose.notes.add(where, "expected an object; left out")
            continue
        if len(listed) >= MAX_LISTED:
            break
        name = loose.text(raw, "name", where)
        purl_text = loose.text(raw, "purl", where)
        purl = Purl.parse(purl_text)
        kind = loose.text(raw, "type", where)
        eco = ids.ecosystem(purl.type if purl is not None else kind)
        if purl is not None and (purl.namespace or not name):
            name = purl.package_name()
        if not name:
            loose.notes.add(where, "a package without a name; left out")
            continue
        listed.append(
            {
                "name": cut(name, 300),
                "version": cut(loose.text(raw, "version", where), 100),
                "purl": cut(purl_text, 500),
                "ecosystem": eco,
            }
        )
    descriptor = loose.obj(data, "descriptor", "")
    source = loose.obj(data, "source", "")
    meta: dict[str, Any] = {
        "components": len(artifacts),
        "components_list": listed,
        "source_type": cut(loose.text(source, "type", "source"), 50),
        "schema_version": cut(loose.text(loose.obj(data, "schema", ""), "version", "schema"), 50),
    }
    if len(artifacts) > len(listed):
        meta["components_listed"] = len(listed)
    distro = data.get("distro")
    if isinstance(distro, dict):
        meta["distro"] = {k: cut(v, 100) for k, v in distro.items() if isinstance(v, str)}
    return Report(
        tool=SCAN_TYPE,
        tool_version=cut(loose.text(descriptor, "version", "descriptor"), 100),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        metadata=meta,
        warnings=loose.notes.all(),
        target=cut(_target(source), 500),
        complete=False,  # an inventory: nothing was looked for
    )
