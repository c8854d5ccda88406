"""Reads of findings, always scoped to the caller's teams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    F,
    OrderBy,
    Prefetch,
    Q,
    QuerySet,
)
from django.http import Http404, QueryDict
from django.utils import timezone

from governance.accounts.models import Membership, Role
from governance.accounts.selectors import team_ids_for
from governance.findings.filters import FindingFilters, finding_filters_parse
from governance.findings.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingOccurrence,
    SavedView,
    finding_search_document,
    severity_rank,
)
from governance.inventory.models import MLModel
from governance.inventory.selectors import models_visible_to
from governance.lib.api_errors import ApplicationError


def findings_visible_to(user: Any) -> QuerySet[Finding]:
    return Finding.objects.filter(team_id__in=team_ids_for(user))


def findings_filtered(user: Any, *, filters: FindingFilters) -> QuerySet[Finding]:
    """The user's findings matching ``filters`` (one definition for the page, the API, and
    whatever acts on a list: bulk triage, exports)."""
    return findings_filter_apply(findings_visible_to(user), filters, user=user)


def findings_filter_apply(
    qs: QuerySet[Finding], filters: FindingFilters, *, user: Any = None
) -> QuerySet[Finding]:
    """``qs`` (already scoped to the caller, ``user``) narrowed by ``filters``."""
    f = filters
    if f.q:
        qs = findings_search(qs, f.q)
    if f.team:
        qs = qs.filter(team__slug=f.team)
    if f.model:
        qs = (
            qs.filter(model_id=int(f.model))
            if f.model.isdigit()
            else qs.filter(model__name__icontains=f.model)
        )
    if f.version:
        qs = qs.filter(version__version=f.version)
    if f.statuses:
        qs = qs.filter(status__in=f.statuses)
    if f.severities:
        qs = qs.filter(severity__in=f.severities)
    if f.categories:
        qs = qs.filter(category__in=f.categories)
    if f.tool:
        qs = qs.filter(tools__icontains=f.tool)
    if f.since is not None:
        qs = qs.filter(last_seen__gte=f.since)
    if f.overdue:
        qs = qs.filter(sla_due__lt=timezone.localdate())
    if f.reachable:
        qs = qs.filter(reachable={"true": True, "false": False, "unknown": None}[f.reachable])
    if f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee == "me":
        user_id = getattr(user, "pk", None)
        qs = qs.filter(assignee_id=user_id) if user_id else qs.none()
    elif f.assignee:
        qs = qs.filter(assignee__username=f.assignee)
    return qs


def findings_search(qs: QuerySet[Finding], text: str) -> QuerySet[Finding]:
    """Findings whose id is ``text`` (``123`` or ``#123``) or whose search document (the
    vulnerability id, aliases, package, title and file path, upper-cased) contains it. On
    PostgreSQL a trigram GIN index over that same expression answers the ``LIKE`` (migration
    ``findings.0008``); SQLite scans."""
    text = text.strip()
    match = Q(search_document__contains=text.upper())
    ident = text.removeprefix("#")
    if ident.isdigit() and len(ident) < 19:
        match |= Q(pk=int(ident))
    return qs.alias(search_document=finding_search_document()).filter(match)


_SEVERITY_RANK = severity_rank()


def findings_with_severity_rank(qs: QuerySet[Finding]) -> QuerySet[Finding]:
    """``qs`` with ``severity_rank`` (critical 4 … info 0) to sort and page by."""
    return qs.annotate(severity_rank=_SEVERITY_RANK)


def findings_ordered(qs: QuerySet[Finding], ordering: tuple[str, ...]) -> QuerySet[Finding]:
    """``qs`` sorted by ``ordering`` (keys of ``filters.ORDERING_KEYS``); a missing due date
    sorts last either way; ties end newest first."""
    exprs: list[OrderBy] = []
    for key in ordering:
        desc = key.startswith("-")
        name = key.lstrip("-")
        if name == "severity":
            qs = qs.alias(severity_rank=_SEVERITY_RANK)
            name = "severity_rank"
        exprs.append(F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True))
    if not any(k.lstrip("-") == "id" for k in ordering):
        exprs.append(F("id").desc())
    return qs.order_by(*exprs)


#: Counting stops here: the first page of a million findings stays fast ("10,000+").
COUNT_CAP = 10_000


@dataclass(frozen=True)
class FindingsPage:
    rows: list[Finding]
    number: int
    page_size: int
    count: int  #: capped at COUNT_CAP
    capped: bool  #: more than COUNT_CAP match

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.capped or self.number < self.pages

    @property
    def start(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0

    def page_numbers(self) -> list[int | None]:
        """Page links around the current one (None: a gap)."""
        last = self.pages
        wanted = {1, last, *range(self.number - 2, self.number + 3)}
        shown = sorted(n for n in wanted if 1 <= n <= last)
        out: list[int | None] = []
        for n in shown:
            prev = out[-1] if out else None
            if prev is not None and n - prev > 1:
                out.append(None)
            out.append(n)
        return out


def findings_count_capped(qs: QuerySet[Finding], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows ``qs`` has, counting at most ``cap`` + 1 (one bounded query)."""
    n = qs.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


def findings_page(qs: QuerySet[Finding], *, number: int, page_size: int) -> FindingsPage:
    """One page of an ordered ``qs`` with a capped total: two queries."""
    count, capped = findings_count_capped(qs)
    last = max(1, -(-count // page_size))
    number = max(1, number if capped else min(number, last))
    offset = (number - 1) * page_size
    rows = list(qs[offset : offset + page_size])
    return FindingsPage(rows, number, page_size, count, capped)


def saved_views_for(user: Any) -> QuerySet[SavedView]:
    if not getattr(user, "pk", None):
        return SavedView.objects.none()
    return SavedView.objects.filter(user_id=user.pk).order_by("name")


def saved_view_get_for_user(user: Any, pk: int) -> SavedView:
    found = saved_views_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404("saved view not found")
    return found


def finding_get_for_user(user: Any, pk: int) -> Finding:
    """The finding, or 404 for missing and not-yours alike."""
    found = (
        findings_visible_to(user)
        .select_related("model", "version", "assignee", "team")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("finding not found")
    return found


def finding_events(finding: Finding) -> QuerySet[FindingEvent]:
    return finding.events.select_related("actor").order_by("created_at", "id")


def finding_occurrences(finding: Finding) -> QuerySet[FindingOccurrence]:
    """Where the finding was seen: one row per subject and tool family, active first, with
    the scans that first and last saw it and the one that closed it."""
    return finding.occurrences.select_related(
        "subject__model", "subject__version", "first_scan", "last_scan", "closed_by_scan"
    ).order_by("state", "-last_seen", "id")


def with_active_versions(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """``findings`` with ``active_occurrences`` prefetched (subject and version): the versions
    each finding is present in, for lists, in one more query per page."""
    return findings.prefetch_related(
        Prefetch(
            "occurrences",
            queryset=FindingOccurrence.objects.filter(state=FindingOccurrence.State.ACTIVE)
            .select_related("subject__version")
            .order_by("subject__version_id", "id"),
            to_attr="active_occurrences",
        )
    )


def active_version_labels(finding: Finding) -> list[str]:
    """Distinct versions a prefetched finding is present in (see :func:`with_active_versions`)
    in version order; "(any version)" for scans uploaded without one."""
    labels: list[str] = []
    for occ in getattr(finding, "active_occurrences", []):
        version = occ.subject.version
        label = version.version if version is not None else "(any version)"
        if label not in labels:
            labels.append(label)
    return labels


def models_with_open_counts(user: Any) -> QuerySet[MLModel]:
    """Models of the user's teams with open-finding counts per severity, in one query."""
    open_q = Q(findings__status__in=ACTIVE_STATUSES)
    return (
        models_visible_to(user)
        .select_related("team", "owner")
        .annotate(
            open_critical=Count("findings", filter=open_q & Q(findings__severity="critical")),
            open_high=Count("findings", filter=open_q & Q(findings__severity="high")),
            open_total=Count("findings", filter=open_q),
        )
        .order_by("team__name", "name")
    )


def team_assignees(*, team_ids: list[int]) -> list[Membership]:
    """Who findings of these teams may be assigned to: members and leads (viewers only read),
    one row per person (the first team's membership), by username."""
    rows = (
        Membership.objects.filter(team_id__in=team_ids)
        .exclude(role=Role.VIEWER)
        .select_related("user")
        .order_by("user__username", "team_id")
    )
    seen: set[int] = set()
    out = []
    for m in rows:
        if m.user_id not in seen:
            seen.add(m.user_id)
            out.append(m)
    return out


def findings_selection(user: Any, data: Any) -> tuple[QuerySet[Finding], str]:
    """The findings a bulk form names, scoped to ``user``: the checked ``ids``, or with
    ``scope=filter`` everything the list's filter (``query``, its query string) matches;
    and an error message when it names nothing."""
    if data.get("scope") == "filter":
        try:
            filters = finding_filters_parse(
                QueryDict(str(data.get("query", ""))), default_status="active"
            )
        except ApplicationError as exc:
            return findings_visible_to(user).none(), exc.message
        return findings_filtered(user, filters=filters), ""
    raw = data.getlist("ids") if hasattr(data, "getlist") else data.get("ids", [])
    ids = [int(i) for i in raw if str(i).isdigit() and len(str(i)) < 19]
    if not ids:
        return (
            findings_visible_to(user).none(),
            "select at least one finding (or everything matching the filter)",
        )
    return findings_visible_to(user).filter(pk__in=ids), ""


# --- components: which models use package X / are affected by CVE Y ---------------------

#: At most this many package rows are read for one answer (a narrower query shows the rest).
COMPONENT_ROWS = 2000


@dataclass
class ComponentUse:
    """A package (at one version) in one model: from its inventories (SBOM components) and
    from dependency findings, with the model versions it was seen in and the vulnerabilities
    reported against it."""

    model_id: int
    model: str
    team: str
    package: str
    version: str
    ecosystem: str = ""
    purl: str = ""
    sources: set[str] = field(default_factory=set)
    model_versions: set[str] = field(default_factory=set)
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def versions_label(self) -> str:
        return ", ".join(sorted(self.model_versions))

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model": self.model,
            "team": self.team,
            "package": self.package,
            "version": self.version,
            "ecosystem": self.ecosystem,
            "purl": self.purl,
            "sources": sorted(self.sources),
            "model_versions": sorted(self.model_versions),
            "vulnerabilities": self.vulnerabilities,
        }


def components_usage(user: Any, *, package: str = "", cve: str = "") -> list[ComponentUse]:
    """Across the user's teams: the models that ship ``package`` (part of its name or purl,
    case-insensitive) according to their inventories and dependency findings, and/or the
    models with a finding for vulnerability ``cve`` (its id or an alias), each with the
    package versions involved. Neither given: every package known. Three queries."""
    from governance.evidence.models import Component

    package, cve = package.strip()[:200], cve.strip()[:100]
    ids = team_ids_for(user)
    uses: dict[tuple[int, str, str], ComponentUse] = {}

    def use(model_id: int, model: str, team: str, name: str, version: str) -> ComponentUse:
        key = (model_id, name.lower(), version)
        if key not in uses:
            uses[key] = ComponentUse(model_id, model, team, name, version)
        return uses[key]

    if not cve:
        components = Component.objects.filter(team_id__in=ids)
        if package:
            components = components.filter(Q(name__icontains=package) | Q(purl__icontains=package))
        for row in components.values(
            "model_id", "model__name", "model__team__slug", "name", "version", "ecosystem",
            "purl", "subject__version__version",
        ).order_by("name", "version", "model_id")[:COMPONENT_ROWS]:  # fmt: skip
            u = use(row["model_id"], row["model__name"], row["model__team__slug"], row["name"],
                    row["version"])  # fmt: skip
            u.sources.add("sbom")
            u.ecosystem = u.ecosystem or row["ecosystem"]
            u.purl = u.purl or row["purl"]
            u.model_versions.add(row["subject__version__version"] or "(any version)")
    findings = Finding.objects.filter(team_id__in=ids, category="dependency").exclude(package="")
    if package:
        findings = findings.filter(Q(package__icontains=package) | Q(purl__icontains=package))
    if cve:
        # the vulnerability id or an alias: the search document holds both (trigram index)
        findings = findings.alias(search_document=finding_search_document()).filter(
            search_document__contains=cve.upper()
        )
    for frow in findings.values(
        "id", "model_id", "model__name", "team__slug", "package", "package_version", "ecosystem",
        "purl", "vuln_id", "severity", "status", "fixed_version", "version__version",
    ).order_by("package", "package_version", "model_id", "id")[:COMPONENT_ROWS]:  # fmt: skip
        u = use(frow["model_id"], frow["model__name"], frow["team__slug"], frow["package"],
                frow["package_version"])  # fmt: skip
        u.sources.add("finding")
        u.ecosystem = u.ecosystem or frow["ecosystem"]
        u.purl = u.purl or frow["purl"]
        if frow["version__version"]:
            u.model_versions.add(frow["version__version"])
        u.vulnerabilities.append({
            "finding_id": frow["id"], "id": frow["vuln_id"], "severity": frow["severity"],
            "status": frow["status"], "fixed_version": frow["fixed_version"],
        })  # fmt: skip
    return sorted(uses.values(), key=lambda u: (u.package.lower(), u.version, u.model, u.team))
