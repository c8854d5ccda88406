"""Fingerprints and identifier normalization (the rules are in :mod:`scanners.findings`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_PEP503 = re.compile(r"[-_.]+")


def make(*parts: object) -> str:
    """A stable fingerprint: sha256 over the parts joined with a separator no part contains."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


#: Ecosystem synonyms -> the one name Warden uses (see :func:`normalize_ecosystem`).
_ECOSYSTEM_SYNONYMS = {
    "python": "pypi",
    "pip": "pypi",
    "python-pkg": "pypi",
    "node": "npm",
    "node-pkg": "npm",
    "golang": "go",
    "gobinary": "go",
    "gomod": "go",
    "java": "maven",
    "jar": "maven",
    "java-archive": "maven",
    "rust": "cargo",
    "ruby": "gem",
    "gemspec": "gem",
    "bundler": "gem",
    # additions (dependency parsers): Trivy result types, Grype artifact types, OSV
    # ecosystems and purl types of the same package universe fold to one name; OS
    # packages fold to their package format (grype "deb" == trivy "debian"/"ubuntu").
    "poetry": "pypi",
    "pipenv": "pypi",
    "uv": "pypi",
    "pylock": "pypi",
    "yarn": "npm",
    "pnpm": "npm",
    "bun": "npm",
    "javascript": "npm",
    "go-module": "go",
    "crates.io": "cargo",
    "rust-crate": "cargo",
    "rust-binary": "cargo",
    "pom": "maven",
    "gradle": "maven",
    "sbt": "maven",
    "rubygems": "gem",
    "packagist": "composer",
    "php-composer": "composer",
    "dotnet": "nuget",
    "dotnet-core": "nuget",
    "dotnet-deps": "nuget",
    "packages-props": "nuget",
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "redhat": "rpm",
    "centos": "rpm",
    "rocky": "rpm",
    "rocky linux": "rpm",
    "alma": "rpm",
    "almalinux": "rpm",
    "amazon": "rpm",
    "oracle": "rpm",
    "fedora": "rpm",
    "photon": "rpm",
    "cbl-mariner": "rpm",
    "azurelinux": "rpm",
    "suse": "rpm",
    "sles": "rpm",
    "opensuse": "rpm",
    "opensuse.leap": "rpm",
    "opensuse.tumbleweed": "rpm",
    "suse linux enterprise server": "rpm",
    # Snyk package managers, Dependabot and GitLab ecosystems, Syft package types
    "gomodules": "go",
    "golangdep": "go",
    "govendor": "go",
    "setuptools": "pypi",
    "paket": "nuget",
    "erlang": "hex",
    "dart": "pub",
    "gradle-lockfile": "maven",
    "python-package": "pypi",
    "npm-package": "npm",
    "dpkg": "deb",
}


def normalize_ecosystem(ecosystem: str) -> str:
    """Lower-case ecosystem names with common synonyms folded (``python`` -> ``pypi``)."""
    e = ecosystem.strip().lower()
    return _ECOSYSTEM_SYNONYMS.get(e, e)


def normalize_package(name: str, ecosystem: str) -> str:
    """Per-ecosystem canonical package name: PEP 503 for PyPI, lower case for npm/go/cargo."""
    eco = normalize_ecosystem(ecosystem)
    n = name.strip()
    if eco == "pypi":
        return _PEP503.sub("-", n).lower()
    if eco in {"npm", "cargo", "gem", "nuget", "composer"}:
        return n.lower()
    return n


def _id_rank(vid: str) -> tuple[int, str]:
    u = vid.upper()
    if u.startswith("CVE-"):
        return (0, u)
    if u.startswith("GHSA-"):
        return (1, vid.lower())
    return (2, u)


def canonical_vuln_id(ids: Iterable[str]) -> str:
    """Pick one id among a vulnerability's id and aliases: CVE first, then GHSA, then the
    rest, each group sorted. Returns ``""`` when there are none."""
    cleaned = {i.strip() for i in ids if i and i.strip()}
    if not cleaned:
        return ""
    best = min(cleaned, key=_id_rank)
    u = best.upper()
    if u.startswith("CVE-"):
        return u
    if u.startswith("GHSA-"):
        return "GHSA-" + best[5:].lower()
    return best


def identity_keys(ecosystem: str, package: str, ids: Iterable[str]) -> list[str]:
    """One key per id of a dependency finding (``dependency\x1fpypi\x1fjinja2\x1fGHSA-...``,
    hashed like fingerprints): two findings of the same package that share any key describe
    the same vulnerability, whichever id each tool chose. For matching across tools and
    reports, where the canonical id of one tool's ids (the fingerprint) can differ from
    another's: index these keys and look a new finding up by all of them."""
    eco = normalize_ecosystem(ecosystem)
    pkg = normalize_package(package, eco)
    keys = {canonical_vuln_id([i]) for i in ids if i and i.strip()}
    return sorted(make("dependency", eco, pkg, k) for k in keys)


def dependency(ecosystem: str, package: str, ids: Iterable[str]) -> str:
    """Fingerprint of a dependency vulnerability (same across pip-audit, OSV, Grype, Trivy)."""
    eco = normalize_ecosystem(ecosystem)
    return make("dependency", eco, normalize_package(package, eco), canonical_vuln_id(ids))
