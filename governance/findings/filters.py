"""One findings filter for every list: the findings page, ``GET /api/v1/findings/``, and the
bulk actions and exports that reuse a list's filter. Parsed once from query parameters
(:func:`finding_filters_parse`), applied once
(:func:`governance.findings.selectors.findings_filtered`).

Parameters (the same names on the page and in the API):

- ``q``: search: a finding id, or text found (case-insensitive, partial) in the vulnerability
  id, its aliases, the package, the title or the file path;
- ``team``: a team slug; ``model``: a model id, or part of its name (case-insensitive);
  ``version``;
- ``status``: statuses, comma-separated or repeated; ``active`` (open, confirmed, in
  progress) and ``all`` are shorthands; ``severity``, ``category``: values, comma-separated;
- ``tool``: part of the name of a tool that reported it; ``since``: last seen at or after
  (ISO 8601);
- ``assignee``: a username, ``me`` or ``none``;
- ``overdue=1``: past the SLA due date;
- ``reachable``: ``false`` (the tool's call analysis says never called), ``true``, ``unknown``.

Sorting is ``ordering``: comma-separated keys of :data:`ORDERING_KEYS`, each ascending or with
``-`` descending (``-severity`` is most severe first); ties end newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.lib.api_errors import ApplicationError
from governance.vocabulary import ACTIVE_STATUSES, CATEGORIES, SEVERITIES, Status

_CHOICES = {
    "status": set(Status.values),
    "severity": set(SEVERITIES),
    "category": set(CATEGORIES),
}


@dataclass(frozen=True)
class FindingFilters:
    team: str = ""
    model: str = ""
    version: str = ""
    statuses: tuple[str, ...] = ()  # () = every status
    severities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tool: str = ""
    since: datetime | None = None
    overdue: bool = False
    reachable: str = ""  # "", "true", "false" or "unknown"
    q: str = ""
    assignee: str = ""  # a username, "me" or "none"
    #: The ``status`` parameter as given ("active", "all", "open,confirmed"), for links.
    status_param: str = ""

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (for links to the next page, exports)."""
        params = {
            "q": self.q,
            "team": self.team,
            "model": self.model,
            "version": self.version,
            "status": self.status_param,
            "severity": ",".join(self.severities),
            "category": ",".join(self.categories),
            "tool": self.tool,
            "since": self.since.isoformat() if self.since else "",
            "overdue": "1" if self.overdue else "",
            "reachable": self.reachable,
            "assignee": self.assignee,
        }
        return {k: v for k, v in params.items() if v}


def _values(params: Any, name: str) -> list[str]:
    raw = params.getlist(name) if hasattr(params, "getlist") else [params.get(name, "")]
    return [v.strip() for item in raw for v in str(item).split(",") if v.strip()]


def finding_filters_parse(params: Any, *, default_status: str = "all") -> FindingFilters:
    """Read the filter from query parameters; an unknown value is an ApplicationError naming
    the parameter and the values allowed. ``default_status`` applies when none is given (the
    page shows what needs work, ``active``; the API everything, ``all``)."""
    statuses = _values(params, "status") or [default_status]
    expanded: list[str] = []
    for value in statuses:
        if value == "all":
            expanded = []
            break
        expanded += list(ACTIVE_STATUSES) if value == "active" else [value]
    unknown = set(expanded) - _CHOICES["status"]
    if unknown:
        allowed = ", ".join(["active", "all", *sorted(_CHOICES["status"])])
        raise ApplicationError(f"unknown status {sorted(unknown)[0]!r}; use {allowed}")
    lists: dict[str, list[str]] = {}
    for name in ("severity", "category"):
        values = _values(params, name)
        unknown = set(values) - _CHOICES[name]
        if unknown:
            allowed = ", ".join(sorted(_CHOICES[name]))
            raise ApplicationError(f"unknown {name} {sorted(unknown)[0]!r}; use {allowed}")
        lists[name] = values
    reachable = str(params.get("reachable", "") or "").strip().lower()
    if reachable not in ("", "true", "false", "unknown"):
        raise ApplicationError("reachable must be true, false or unknown")
    since = None
    if str(params.get("since", "") or "").strip():
        try:
            since = parse_datetime(params["since"].strip())
        except ValueError:
            since = None
        if since is None:
            raise ApplicationError("since must be an ISO 8601 date or date-time")
        if timezone.is_naive(since):
            since = timezone.make_aware(since, UTC)
    return FindingFilters(
        team=str(params.get("team", "") or "").strip(),
        model=str(params.get("model", "") or "").strip(),
        version=str(params.get("version", "") or "").strip(),
        statuses=tuple(dict.fromkeys(expanded)),
        severities=tuple(lists["severity"]),
        categories=tuple(lists["category"]),
        tool=str(params.get("tool", "") or "").strip(),
        since=since,
        overdue=str(params.get("overdue", "") or "").strip() in ("1", "true", "yes", "on"),
        reachable=reachable,
        status_param=",".join(statuses),
        q=str(params.get("q", "") or "").strip()[:200],
        assignee=str(params.get("assignee", "") or "").strip(),
    )


#: What a list may be sorted by (the page's column headers, the API's ``ordering``).
ORDERING_KEYS = ("severity", "sla_due", "last_seen", "first_seen", "title", "status", "id")
#: The page's default: most severe first, then the nearest due date.
DEFAULT_ORDERING = ("-severity", "sla_due")


def finding_ordering_parse(value: str, *, default: tuple[str, ...]) -> tuple[str, ...]:
    """``ordering`` as a tuple of keys ("-severity", "sla_due"); an unknown key is an
    ApplicationError naming the keys allowed."""
    keys = tuple(k.strip() for k in str(value or "").split(",") if k.strip())
    if not keys:
        return default
    if len(keys) > 3:
        raise ApplicationError("ordering takes at most three keys")
    for key in keys:
        if key.lstrip("-") not in ORDERING_KEYS:
            allowed = ", ".join(ORDERING_KEYS)
            raise ApplicationError(
                f"ordering must be among {allowed} (each may start with '-'), not {key!r}"
            )
    return keys


#: The query parameters of a findings list (what a saved view or a link back may carry).
LIST_PARAMS = (
    "q", "team", "model", "version", "status", "severity", "category", "tool", "since",
    "overdue", "reachable", "assignee", "ordering",
)  # fmt: skip


def list_query_clean(query: str) -> str:
    """``query`` (a list's query string) with only the list's own parameters, in a stable
    order: what a saved view stores and a redirect goes back to."""
    from urllib.parse import parse_qsl, urlencode

    pairs = parse_qsl(str(query or "").lstrip("?"), keep_blank_values=False)
    return urlencode(sorted((k, v) for k, v in pairs if k in LIST_PARAMS and v)[:40])
