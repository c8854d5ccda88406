"""What SARIF 1.0.0, the 2.0.0 drafts and 2.1.0 each call the parts Warden reads.

Tools of the last years still write all three: the .NET compilers' ``/errorlog`` writes
SARIF 1.0.0 unless told otherwise (with a UTF-8 byte-order mark), analyzers built on the
2018-2019 SDKs write ``2.0.0`` (``2.0.0-csd.2.beta.*``), everything recent writes 2.1.0.

- tool name and version: ``tool.driver`` (2.1.0), ``tool`` itself (2.0.0, 1.0.0);
- rules: ``tool.driver.rules[]`` (2.1.0), ``resources.rules`` / ``tool.driver.ruleDescriptors``
  (2.0.0 drafts, an array or an object keyed by id), ``run.rules{id: rule}`` (1.0.0);
- a rule's default level: ``defaultConfiguration.level``, ``configuration.defaultLevel``,
  ``defaultLevel``;
- a result's message: ``{text | id, arguments}``, ``{text | messageId}``, a plain string
  (1.0.0, or ``formattedRuleMessage`` with the rule's ``messageFormats``);
- the file of a location: ``physicalLocation.artifactLocation`` (2.1.0),
  ``physicalLocation.fileLocation`` (2.0.0), ``resultFile`` (1.0.0);
- suppressions: ``suppressions[]`` (2.1.0; their ``status`` was ``state`` before rtm.5),
  ``suppressionStates[]`` (2.0.0, 1.0.0);
- files: ``artifacts[]`` (2.1.0), ``files`` (2.0.0, 1.0.0).

The helpers here accept every form and return the 2.1.0 meaning; nothing else in the SARIF
parser needs to know the version.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from scanners.parsers._kit import cut

PLACEHOLDER = re.compile(r"\{(\d+)\}")
#: SARIF versions read as they are; others are read as 2.1.0 with a notice.
KNOWN_VERSIONS = ("2.1.0", "2.0.0", "1.0.0")
#: 1.0.0 / 2.0.0 ``suppressionStates`` values -> the 2.1.0 suppression ``kind``.
_STATE_KIND = {"suppressedinsource": "inSource", "suppressedexternally": "external"}
#: 2.0.0 drafts carried the result kind in ``level`` (``pass``, ``open``, ...).
LEVEL_KINDS = {"pass": "pass", "notapplicable": "notApplicable", "open": "open"}


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def message_text(obj: Any) -> str:
    """The text of a message-like value: ``{"text": ...}`` / ``{"markdown": ...}`` (2.x) or
    a plain string (1.0.0 and some 2.0.0 writers)."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return text(obj.get("text")) or text(obj.get("markdown"))
    return ""


def version_known(version: str) -> bool:
    return version in KNOWN_VERSIONS or version.startswith("2.0.0-") or version == "2.1.0-rtm"


def driver(tool: dict[str, Any]) -> dict[str, Any]:
    """The tool component that ran: ``tool.driver`` (2.1.0), else the tool object itself
    (1.0.0 and 2.0.0 put ``name``/``version`` on ``tool``)."""
    drv = tool.get("driver")
    return drv if isinstance(drv, dict) else tool


def rule_lists(run: dict[str, Any], drv: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(JSON path, rules)`` of every place a version keeps rules: an array or an object
    keyed by rule id."""
    places: list[tuple[str, Any]] = []
    for key in ("rules", "ruleDescriptors"):
        if key in drv:
            places.append((f"tool.driver.{key}" if drv is not run.get("tool") else key, drv[key]))
    resources = run.get("resources")
    if isinstance(resources, dict) and "rules" in resources:
        places.append(("resources.rules", resources["rules"]))
    if "rules" in run:
        places.append(("rules", run["rules"]))
    return places


def default_level(rule: dict[str, Any]) -> str:
    """A rule's default level: ``defaultConfiguration.level`` (2.1.0),
    ``configuration.defaultLevel`` (2.0.0) or ``defaultLevel`` (1.0.0)."""
    for key, sub in (("defaultConfiguration", "level"), ("configuration", "defaultLevel")):
        config = rule.get(key)
        if isinstance(config, dict) and isinstance(config.get(sub), str):
            return str(config[sub])
    return text(rule.get("defaultLevel"))


def rule_message(rule: dict[str, Any], message_id: str) -> str:
    """A rule's message template by id: ``messageStrings`` (2.x, ``{text}`` or a string) or
    ``messageFormats`` (1.0.0)."""
    for key in ("messageStrings", "messageFormats"):
        strings = rule.get(key)
        if isinstance(strings, dict) and message_id in strings:
            return message_text(strings[message_id])
    return ""


def message(result: dict[str, Any]) -> tuple[str, str, list[Any]]:
    """``(text, template id, arguments)`` of a result's message in any version."""
    msg = result.get("message")
    if isinstance(msg, str):
        return msg, "", []
    formatted = result.get("formattedRuleMessage")  # 1.0.0
    if not isinstance(msg, dict):
        if isinstance(formatted, dict):
            args = formatted.get("arguments")
            return "", text(formatted.get("formatId")), args if isinstance(args, list) else []
        return "", "", []
    args = msg.get("arguments")
    mid = text(msg.get("id")) or text(msg.get("messageId"))
    return text(msg.get("text")), mid, args if isinstance(args, list) else []


def file_location(location: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(artifact location, region)`` of a location: ``physicalLocation.artifactLocation``
    (2.1.0), ``physicalLocation.fileLocation`` (2.0.0) or ``resultFile`` (1.0.0); ``({},
    {})`` when it names no file."""
    phys = location.get("physicalLocation")
    if isinstance(phys, dict):
        art = phys.get("artifactLocation", phys.get("fileLocation"))
        region = phys.get("region")
        return (
            art if isinstance(art, dict) else {},
            region if isinstance(region, dict) else {},
        )
    result_file = location.get("resultFile")  # 1.0.0: {uri, region}
    if isinstance(result_file, dict):
        region = result_file.get("region")
        return result_file, region if isinstance(region, dict) else {}
    return {}, {}


def suppression_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A result's suppressions as 2.1.0 objects (``kind``, ``status``, ``justification``):
    ``suppressions[]`` (2.1.0; ``state`` before rtm.5) or ``suppressionStates[]``."""
    out: list[dict[str, Any]] = []
    entries = result.get("suppressions")
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict):
                status = entry.get("status", entry.get("state"))
                out.append({**entry, "status": status})
    states = result.get("suppressionStates")
    if isinstance(states, list):
        for state in states:
            kind = _STATE_KIND.get(text(state).lower())
            if kind:
                out.append({"kind": kind, "status": None, "justification": ""})
    return out


# -- paths, templates, targets ---------------------------------------------------------


def fill(template: str, args: list[Any]) -> str:
    """Substitute ``{n}`` placeholders with ``args[n]`` (plain text, no format spec)."""
    if not args or "{" not in template:
        return template

    def repl(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return (
            str(args[i]) if i < len(args) and isinstance(args[i], str | int | float) else m.group(0)
        )

    return PLACEHOLDER.sub(repl, template)


def clean_uri(uri: str) -> str:
    """A report path from an artifact URI: percent-decoded, ``file://`` dropped, no ``./``."""
    path = unquote(uri) if "%" in uri else uri
    if path.startswith("file://"):
        path = path[7:]
        # file:///C:/x -> C:/x ; file:///home/x -> /home/x ; file://app.py -> app.py
        if len(path) > 3 and path[0] == "/" and path[2] == ":" and path[1].isalpha():
            path = path[1:]
        while path.startswith("//"):
            path = path[1:]
    while path.startswith("./"):
        path = path[2:]
    return path


def target(run: dict[str, Any]) -> str:
    """What the run analysed, when the log says: its automation id or description, Trivy's
    image name, else the root its relative paths are based on."""
    details = run.get("automationDetails", run.get("id"))  # 2.0.0 called it run.id
    if isinstance(details, dict):
        name = text(details.get("id")) or message_text(details.get("description"))
        if name:
            return cut(name, 500)
    props = run.get("properties")
    if isinstance(props, dict) and text(props.get("imageName")):
        return cut(text(props.get("imageName")), 500)
    bases = run.get("originalUriBaseIds")
    if isinstance(bases, dict):
        for key in ("%SRCROOT%", "SRCROOT", "ROOTPATH", "PROJECTROOT", "REPO_ROOT"):
            base = bases.get(key)
            uri = text(base.get("uri")) if isinstance(base, dict) else text(base)
            if uri:
                return cut(clean_uri(uri).rstrip("/") or "/", 500)
        for base in bases.values():
            uri = text(base.get("uri")) if isinstance(base, dict) else text(base)
            if uri:
                return cut(clean_uri(uri).rstrip("/") or "/", 500)
    return ""
