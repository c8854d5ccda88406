"""Helpers shared by the dependency and code report parsers (pip-audit, OSV-Scanner, Trivy,
Grype, CycloneDX, SARIF, semgrep, bandit).

Conventions every dependency parser follows:

- ``vuln_id`` is the *canonical* id (CVE first, then GHSA, then the rest, see
  :func:`scanners.fingerprint.canonical_vuln_id`), ``rule_id`` is the tool's own id for the
  advisory (``PYSEC-2018-28``, ``GO-2021-0053``) and ``aliases`` are every other id.
- A vulnerability the tool reports without any rating (pip-audit always, CycloneDX without
  ``ratings``, OSV without ``severity``, Grype ``Unknown``, Trivy ``UNKNOWN`` without a CVSS
  score) gets :data:`UNRATED` (``medium``) with ``raw_severity`` left as the tool said it
  (often ``""``): a known vulnerability nobody scored is not informational.
- Inside one report fingerprints are unique: :class:`Collector` merges duplicates (worst
  severity wins, aliases, references and locations are united).

Nothing here opens, imports or evaluates anything named in a report.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from scanners import fingerprint
from scanners.findings import NormalizedFinding
from scanners.parsers._fields import Fields, as_number
from scanners.parsers._fields import fail as fail  # re-exported for the parsers
from scanners.parsers._fields import kind as kind  # re-exported for the parsers
from scanners.severity import SEVERITY_RANK

#: Severity of a known vulnerability the tool did not rate.
UNRATED = "medium"

#: Longest string kept for a single evidence value.
EVIDENCE_STR = 1024
#: Most locations (paths, targets) kept per finding after merging duplicates.
MAX_LOCATIONS = 50
#: Most references (URLs) kept per finding.
MAX_REFERENCES = 30
#: Longest description kept.
MAX_DESCRIPTION = 8192


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big report is turned into findings.

    Findings, their lists and dicts form no reference cycles, so nothing is lost; without the
    pause, the collector keeps re-scanning the freshly decoded document (hundreds of
    thousands of young containers) and parsing a large report takes about twice as long."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: One JSON reader for every parser (see :mod:`scanners.parsers._fields`).
Reader = Fields


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else ``[]`` (for optional, loosely typed fields)."""
    return value if isinstance(value, list) else []


def cut(text: str, limit: int = EVIDENCE_STR) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[:limit] + "…"


def cvss_score(value: Any) -> float | None:
    """A CVSS base score in [0, 10], else ``None``."""
    number = as_number(value)
    if number is None or number < 0 or number > 10:
        return None
    return number


# -- CVSS v3 vectors ------------------------------------------------------------------------

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_U = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_C = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}


def _roundup(value: float) -> float:
    # CVSS v3.1 Roundup: the smallest number with one decimal >= value, robust to float error.
    scaled = round(value * 100000)
    if scaled % 10000 == 0:
        return scaled / 100000.0
    return (math.floor(scaled / 10000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The CVSS v3.0/v3.1 base score of a vector string such as
    ``CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H`` (7.5); ``None`` when it is not a
    complete v3 vector."""
    if not vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
        return None
    metrics: dict[str, str] = {}
    for part in vector.split("/")[1:]:
        key, sep, val = part.partition(":")
        if not sep:
            return None
        metrics[key] = val
    try:
        scope_changed = {"U": False, "C": True}[metrics["S"]]
        av, ac, ui = _AV[metrics["AV"]], _AC[metrics["AC"]], _UI[metrics["UI"]]
        pr = (_PR_C if scope_changed else _PR_U)[metrics["PR"]]
        c, i, a = _CIA[metrics["C"]], _CIA[metrics["I"]], _CIA[metrics["A"]]
    except KeyError:
        return None
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if scope_changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    exploitability = 8.22 * av * ac * pr * ui
    total = impact + exploitability
    if scope_changed:
        total *= 1.08
    return _roundup(min(total, 10.0))


# -- severities -----------------------------------------------------------------------------

#: Common textual severities across tools (lower-cased).
TEXT_SEVERITY: dict[str, str] = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "error": "high",
    "moderate": "medium",
    "medium": "medium",
    "warning": "medium",
    "low": "low",
    "negligible": "low",
    "minor": "low",
    "note": "low",
    "info": "info",
    "informational": "info",
    "none": "info",
}


def worse(a: str, b: str) -> str:
    """The more severe of two Warden severities."""
    return a if SEVERITY_RANK.get(a, -1) >= SEVERITY_RANK.get(b, -1) else b


# -- ecosystems, purls, versions ------------------------------------------------------------

#: OSV / GitHub advisory id prefixes that name their ecosystem.
_ID_ECOSYSTEM: tuple[tuple[str, str], ...] = (
    ("PYSEC-", "pypi"),
    ("RUSTSEC-", "cargo"),
    ("GO-", "go"),
    ("GSD-", ""),
    ("RUBYSEC-", "gem"),
)


def ecosystem_from_ids(ids: Iterable[str]) -> str:
    """An ecosystem implied by an advisory id (``PYSEC-`` -> ``pypi``), else ``""``."""
    for vid in ids:
        upper = vid.upper()
        for prefix, eco in _ID_ECOSYSTEM:
            if upper.startswith(prefix) and eco:
                return eco
    return ""


def osv_ecosystem(name: str) -> str:
    """An OSV ecosystem name without its release suffix (``Debian:10`` -> ``debian``)."""
    return fingerprint.normalize_ecosystem(name.split(":", 1)[0])


#: Lockfile / manifest names -> the ecosystem of the packages a result names there.
_LOCKFILE_ECOSYSTEM: tuple[tuple[str, str], ...] = (
    ("requirements", "pypi"),
    ("pipfile", "pypi"),
    ("poetry.lock", "pypi"),
    ("uv.lock", "pypi"),
    ("pdm.lock", "pypi"),
    ("pyproject.toml", "pypi"),
    ("site-packages", "pypi"),
    ("dist-packages", "pypi"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
    ("yarn.lock", "npm"),
    ("pnpm-lock.yaml", "npm"),
    ("node_modules", "npm"),
    ("package.json", "npm"),
    ("go.mod", "go"),
    ("go.sum", "go"),
    ("cargo.lock", "cargo"),
    ("gemfile.lock", "gem"),
    ("composer.lock", "composer"),
    ("pom.xml", "maven"),
    ("gradle.lockfile", "maven"),
    (".jar", "maven"),
    ("packages.lock.json", "nuget"),
    (".deps.json", "nuget"),
)


def ecosystem_from_path(path: str) -> str:
    """The ecosystem a lockfile or install path implies (``poetry.lock`` -> ``pypi``)."""
    lowered = path.lower()
    for needle, eco in _LOCKFILE_ECOSYSTEM:
        if needle in lowered:
            return eco
    return ""


class Purl:
    """The parts of a package URL that identify a package (``pkg:type/ns/name@version``)."""

    __slots__ = ("name", "namespace", "type", "version")

    def __init__(self, type_: str, namespace: str, name: str, version: str) -> None:
        self.type = type_
        self.namespace = namespace
        self.name = name
        self.version = version

    @classmethod
    def parse(cls, text: str) -> Purl | None:
        """Parse a purl; ``None`` when ``text`` is not one."""
        if not isinstance(text, str) or not text.startswith("pkg:"):
            return None
        rest = text[4:].lstrip("/")
        rest = rest.split("#", 1)[0].split("?", 1)[0]
        version = ""
        if "@" in rest:
            head, _, tail = rest.rpartition("@")
            # "@" inside the path belongs to npm scopes ("%40scope" when encoded properly).
            if "/" not in tail:
                rest, version = head, unquote(tail)
        parts = [p for p in rest.split("/") if p]
        if len(parts) < 2:
            return None
        type_ = parts[0].lower()
        name = unquote(parts[-1])
        namespace = "/".join(unquote(p) for p in parts[1:-1])
        if not name:
            return None
        return cls(type_, namespace, name, version)

    def package_name(self) -> str:
        """The package name as the ecosystem's tools write it: ``group:artifact`` for Maven,
        ``@scope/name`` for npm, ``namespace/name`` for Go and Composer, else the name."""
        if not self.namespace:
            return self.name
        if self.type == "maven":
            return f"{self.namespace}:{self.name}"
        if self.type in {"npm", "golang", "composer", "swift", "github", "huggingface"}:
            return f"{self.namespace}/{self.name}"
        return self.name  # deb/rpm/apk namespaces are the distro, not part of the name


_VERSION = re.compile(r"\s*[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?")


@lru_cache(maxsize=4096)
def _version_key(version: str) -> tuple[int, ...] | None:
    """The leading dotted numbers of a version, up to four (``v1.2.3-r1`` -> ``(1, 2, 3)``),
    else ``None``."""
    m = _VERSION.match(version)
    if m is None:
        return None
    return tuple([int(g) for g in m.groups() if g is not None])


def pick_fix(installed: str, candidates: list[str]) -> str:
    """The fixed version to show: with several candidates (one per release line), the lowest
    one above ``installed`` when the versions compare numerically, else all of them joined
    with ``", "``."""
    fixes = [c.strip() for c in candidates if c and c.strip()]
    if not fixes:
        return ""
    if len(fixes) == 1:
        return fixes[0]
    current = _version_key(installed)
    if current is not None:
        above = []
        for fix in fixes:
            key = _version_key(fix)
            if key is None:
                break
            if key > current:
                above.append((key, fix))
        else:
            if above:
                return min(above)[1]
    return ", ".join(dict.fromkeys(fixes))


# -- fingerprints -----------------------------------------------------------------------------


class DependencyIds:
    """``fingerprint.dependency`` with per-report caches for the normalized parts (big reports
    repeat the same packages many times). Gives exactly the same value as
    :func:`scanners.fingerprint.dependency`."""

    __slots__ = ("_eco", "_pkg")

    def __init__(self) -> None:
        self._eco: dict[str, str] = {}
        self._pkg: dict[tuple[str, str], str] = {}

    def ecosystem(self, raw: str) -> str:
        eco = self._eco.get(raw)
        if eco is None:
            eco = self._eco[raw] = fingerprint.normalize_ecosystem(raw)
        return eco

    def package(self, name: str, eco: str) -> str:
        key = (name, eco)
        pkg = self._pkg.get(key)
        if pkg is None:
            pkg = self._pkg[key] = fingerprint.normalize_package(name, eco)
        return pkg

    def fingerprint(self, eco: str, name: str, canonical_id: str) -> str:
        """``eco`` must already be normalized; ``canonical_id`` from
        :func:`fingerprint.canonical_vuln_id`."""
        return fingerprint.make("dependency", eco, self.package(name, eco), canonical_id)


def canonical(primary: str, aliases: Iterable[str]) -> tuple[str, list[str]]:
    """``(canonical id, other ids)`` of a vulnerability known as ``primary`` and ``aliases``;
    the other ids keep their order and include ``primary`` when it is not the canonical one."""
    ids = [primary, *aliases] if primary else list(aliases)
    vid = fingerprint.canonical_vuln_id(ids)
    seen = {vid.upper()}
    others: list[str] = []
    for i in ids:
        i = i.strip()
        if i and i.upper() not in seen:
            seen.add(i.upper())
            others.append(i)
    return vid, others


# -- merging ------------------------------------------------------------------------------------


def _union(into: list[Any], items: Iterable[Any], limit: int) -> None:
    for item in items:
        if len(into) >= limit:
            return
        if item not in into:
            into.append(item)


def merge(into: NormalizedFinding, other: NormalizedFinding) -> None:
    """Fold a duplicate finding (same fingerprint) into ``into``: worst severity (with its raw
    severity and score), united aliases, references and evidence locations."""
    if SEVERITY_RANK.get(other.severity, -1) > SEVERITY_RANK.get(into.severity, -1):
        into.severity = other.severity
        into.raw_severity = other.raw_severity
    if other.cvss_score is not None and (
        into.cvss_score is None or other.cvss_score > into.cvss_score
    ):
        into.cvss_score = other.cvss_score
        into.cvss_vector = other.cvss_vector
    seen = {a.upper() for a in into.aliases}
    seen.add(into.vuln_id.upper())
    for alias in other.aliases:
        if alias.upper() not in seen:
            seen.add(alias.upper())
            into.aliases.append(alias)
    if other.vuln_id and other.vuln_id.upper() not in seen:
        into.aliases.append(other.vuln_id)
    _union(into.references, other.references, MAX_REFERENCES)
    for name in (
        "fixed_version",
        "description",
        "remediation",
        "package_version",
        "purl",
        "file_path",
    ):
        if not getattr(into, name) and getattr(other, name):
            setattr(into, name, getattr(other, name))
    if into.line is None and other.line is not None:
        into.line = other.line
    # A problem anywhere is a problem: an active occurrence outweighs a suppressed one.
    if into.state and not other.state:
        into.state, into.justification = "", ""
    elif into.state and other.state and not into.justification:
        into.justification = other.justification
    into.reachable = either_reachable(into.reachable, other.reachable)
    locs = into.evidence.get("locations")
    more = other.evidence.get("locations")
    if isinstance(more, list) and more:
        if not isinstance(locs, list):
            locs = into.evidence["locations"] = []
        _union(locs, more, MAX_LOCATIONS)
    into.evidence["occurrences"] = int(into.evidence.get("occurrences", 1)) + int(
        other.evidence.get("occurrences", 1)
    )


def either_reachable(a: bool | None, b: bool | None) -> bool | None:
    """Reachability of two occurrences of one finding: called if either is, unknown if
    either is unknown, else not called."""
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


class Collector:
    """Findings of one report with unique fingerprints, in first-seen order; dependency
    findings of one package that share an id are one finding (see :func:`unify_aliases`)."""

    __slots__ = ("by_fp",)

    def __init__(self) -> None:
        self.by_fp: dict[str, NormalizedFinding] = {}

    def add(self, finding: NormalizedFinding) -> None:
        have = self.by_fp.get(finding.fingerprint)
        if have is None:
            self.by_fp[finding.fingerprint] = finding
        else:
            merge(have, finding)

    def findings(self) -> list[NormalizedFinding]:
        """The findings, once: merging aliases may change fingerprints, so the collector is
        done after this."""
        return unify_aliases(list(self.by_fp.values()), self.by_fp)


_sha256 = hashlib.sha256


def _single_canonical(vid: str) -> str:
    """``fingerprint.canonical_vuln_id([vid])`` for one id."""
    vid = vid.strip()
    upper = vid.upper()
    if upper.startswith("CVE-"):
        return upper
    if upper.startswith("GHSA-"):
        return "GHSA-" + vid[5:].lower()
    return vid


def _finder(parent: dict[str, str]) -> Callable[[str], str]:
    """The root lookup of a union-find over ``parent`` (with path halving)."""

    def find(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    return find


def unify_aliases(
    findings: list[NormalizedFinding], by_fp: dict[str, NormalizedFinding] | None = None
) -> list[NormalizedFinding]:
    """Merge the dependency findings of one package whose ids overlap: one entry known as
    ``GHSA-x`` and another as ``CVE-y`` with the alias ``GHSA-x`` are one vulnerability. The
    merged finding takes the canonical id of all their ids (CVE first) and its fingerprint;
    findings that merge with nothing keep theirs.

    Only findings with aliases can join another (two findings of one package without
    aliases have different ids, or they would share a fingerprint): each alias is looked up
    as the fingerprint it would give -- a hit is the finding whose id it is -- and as an
    alias another finding already has. Cost: one hash per alias, not a pass over every id.
    ``by_fp`` (fingerprint -> finding, as the Collector keeps it) saves building it."""
    candidates = [
        f for f in findings if f.aliases and f.category == "dependency" and f.package and f.vuln_id
    ]
    if not candidates:
        return findings
    if by_fp is None:
        by_fp = {f.fingerprint: f for f in findings}
    parent: dict[str, str] = {}
    find = _finder(parent)
    alias_owner: dict[str, str] = {}
    packages: dict[tuple[str, str], str] = {}
    for f in candidates:
        prefix = packages.get((f.ecosystem, f.package))
        if prefix is None:
            eco = fingerprint.normalize_ecosystem(f.ecosystem)
            pkg = fingerprint.normalize_package(f.package, eco)
            prefix = packages[f.ecosystem, f.package] = f"dependency\x1f{eco}\x1f{pkg}\x1f"
        me = f.fingerprint
        for alias in f.aliases:
            # fingerprint.dependency(eco, package, [alias]), without its generic overhead
            key = _sha256(
                (prefix + _single_canonical(alias)).encode("utf-8", "surrogatepass")
            ).hexdigest()
            other = by_fp.get(key)
            if other is not None and key != me and other.category == "dependency":
                _join(parent, find, me, key)
            owner = alias_owner.setdefault(key, me)
            if owner != me:
                _join(parent, find, me, owner)
    if not parent:
        return findings
    position = {f.fingerprint: n for n, f in enumerate(findings)}
    components: dict[str, list[str]] = {}
    for node in parent:
        components.setdefault(find(node), []).append(node)
    dropped: set[str] = set()
    for parts in components.values():
        if len(parts) < 2:
            continue
        parts.sort(key=position.__getitem__)  # the first-seen finding absorbs the others
        into = by_fp[parts[0]]
        for node in parts[1:]:
            merge(into, by_fp[node])
            dropped.add(node)
        vid, others = canonical(into.vuln_id, into.aliases)
        into.vuln_id, into.aliases = vid, others
        into.fingerprint = fingerprint.dependency(into.ecosystem, into.package, [vid])
    gone = {id(by_fp[node]) for node in dropped}
    return [f for f in findings if id(f) not in gone]


def _join(parent: dict[str, str], find: Callable[[str], str], a: str, b: str) -> None:
    parent.setdefault(a, a)
    parent.setdefault(b, b)
    ra, rb = find(a), find(b)
    if ra != rb:
        parent[rb] = ra


def majority_category(findings: list[NormalizedFinding], default: str = "dependency") -> str:
    """The category most findings have (``default`` when none, or on a tie with it)."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.category] = counts.get(f.category, 0) + 1
    if not counts:
        return default
    best = max(counts.values())
    if counts.get(default) == best:
        return default
    return max(counts, key=lambda c: (counts[c], c))


def references(urls: Iterable[Any]) -> list[str]:
    """Unique http(s) URLs (strings only), at most :data:`MAX_REFERENCES`."""
    out: list[str] = []
    for u in urls:
        if isinstance(u, str) and u.startswith(("http://", "https://")) and u not in out:
            out.append(cut(u, 2048))
            if len(out) >= MAX_REFERENCES:
                break
    return out
