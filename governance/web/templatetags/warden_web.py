"""Page helpers: links for vulnerability ids and references, the demo users' note."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html

from governance.accounts.selectors import ASSIGNABLE_ROLES

register = template.Library()

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_GHSA = re.compile(r"^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$", re.IGNORECASE)
_PYSEC = re.compile(r"^PYSEC-\d{4}-\d+$", re.IGNORECASE)


def advisory_url(vuln_id: str) -> str | None:
    """Where a vulnerability id is described: NVD for CVEs, GitHub for GHSAs, OSV for PYSEC.
    Only a link: nothing is fetched."""
    value = (vuln_id or "").strip()
    if _CVE.match(value):
        return f"https://nvd.nist.gov/vuln/detail/{value.upper()}"
    if _GHSA.match(value):
        return f"https://github.com/advisories/{value[:4].upper()}{value[4:].lower()}"
    if _PYSEC.match(value):
        return f"https://osv.dev/vulnerability/{value.upper()}"
    return None


@register.filter
def vuln_link(vuln_id: Any) -> str:
    """``{{ finding.vuln_id|vuln_link }}``: the id as a link to its advisory (escaped text
    when there is no known advisory site)."""
    text = str(vuln_id or "")
    url = advisory_url(text)
    if url is None:
        return format_html("{}", text)
    return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', url, text)


@register.filter
def reference_link(reference: Any) -> str:
    """A reference as a link when it is an http(s) URL or a known advisory id; other text (and
    other URL schemes, ``javascript:`` included) stays plain, escaped text."""
    text = str(reference or "").strip()
    if advisory_url(text):
        return vuln_link(text)
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', text, text
        )
    return format_html("{}", text)


@register.filter
def assignable(memberships: Any) -> Any:
    """``{% for m in members|assignable %}``: only those a finding may be assigned to (no
    read-only viewers; ``accounts.selectors.assignable_members`` is the same rule)."""
    if hasattr(memberships, "filter"):
        return memberships.filter(role__in=ASSIGNABLE_ROLES)
    return [m for m in memberships if m.role in ASSIGNABLE_ROLES]


#: What each user created by ``seed_demo`` sees (their address is <name>@warden.example).
DEMO_USERS = {
    "lead": "the security lead of fraud-risk, nlp-platform and vision: edits policies, "
    "approves exceptions, manages API tokens",
    "member": "a data scientist in the same three teams: triages findings, uploads reports, "
    "requests exceptions",
    "viewer": "read only in the same three teams",
    "outsider": "the lead of another team (partners): sees none of the three teams' models",
}


@register.inclusion_tag("web/_demo_note.html", takes_context=True)
def demo_note(context: template.Context) -> dict[str, Any]:
    user = context.get("user")
    name = user.get_username() if user is not None and user.is_authenticated else ""
    is_demo = name in DEMO_USERS and getattr(user, "email", "") == f"{name}@warden.example"
    others = [(n, what) for n, what in DEMO_USERS.items() if n != name]
    return {"is_demo": is_demo, "me": name, "what": DEMO_USERS.get(name, ""), "others": others}
