"""Findings pages: a filtered list with in-place triage (htmx), and a detail page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance.accounts.selectors import has_role, teams_visible_to
from governance.findings.filters import (
    DEFAULT_ORDERING,
    finding_filters_parse,
    finding_ordering_parse,
    list_query_clean,
)
from governance.findings.models import ACTIVE_STATUSES, Severity, Status
from governance.findings.selectors import (
    COMPONENT_ROWS,
    COUNT_CAP,
    components_usage,
    finding_events,
    finding_get_for_user,
    finding_occurrences,
    findings_filtered,
    findings_ordered,
    findings_page,
    findings_selection,
    findings_visible_to,
    saved_view_get_for_user,
    saved_views_for,
    team_assignees,
)
from governance.findings.services import (
    finding_assign,
    finding_comment,
    finding_triage,
    findings_bulk_triage,
    saved_view_remove,
    saved_view_save,
)
from governance.lib.api_errors import ApplicationError
from governance.vocabulary import CATEGORY_CHOICES

PAGE_SIZE = 100

#: The list's sortable columns: (header, ordering key, the direction a first click sorts).
COLUMNS = [
    ("Severity", "severity", "-"),
    ("Finding", "title", ""),
    ("Category", "", ""),
    ("Tools", "", ""),
    ("Due", "sla_due", ""),
    ("Last seen", "last_seen", "-"),
    ("Status", "status", ""),
]


def _filtered(request: HttpRequest) -> tuple[Any, dict[str, str], str]:
    """The list's findings under the page's filter (the same parser and selector as the API;
    the page shows what needs work unless told otherwise), sorted by ``ordering``; the filter
    as parameters for the form and links; and an error message for a bad value."""
    try:
        filters = finding_filters_parse(request.GET, default_status="active")
        ordering = finding_ordering_parse(request.GET.get("ordering", ""), default=DEFAULT_ORDERING)
    except ApplicationError as exc:
        return findings_visible_to(request.user).none(), {"status": "active"}, exc.message
    qs = findings_ordered(
        findings_filtered(request.user, filters=filters).select_related(
            "model", "team", "assignee"
        ),
        ordering,
    )
    params = filters.as_params()
    params.setdefault("status", "active")
    if ordering != DEFAULT_ORDERING:
        params["ordering"] = ",".join(ordering)
    return qs, params, ""


def _columns(params: dict[str, str]) -> list[dict[str, str]]:
    """Header cells: a link that sorts by the column (again: the other way), aria-sort."""
    current = params.get("ordering", ",".join(DEFAULT_ORDERING)).split(",")[0]
    out = []
    for label, key, first in COLUMNS:
        cell = {"label": label, "key": key, "url": "", "aria_sort": ""}
        if key:
            now = "descending" if current == f"-{key}" else "ascending" if current == key else ""
            cell["aria_sort"] = now or "none"
            flip = {"descending": key, "ascending": f"-{key}"}.get(now, f"{first}{key}")
            query = {k: v for k, v in params.items() if k != "ordering"}
            query["ordering"] = flip
            cell["url"] = "?" + urlencode(query)
        out.append(cell)
    return out


def _roles(user: Any) -> tuple[set[int], set[int]]:
    """Team ids where the user may triage (member) and accept risks (lead)."""
    teams = list(teams_visible_to(user))
    writable = {t.pk for t in teams if has_role(user, t.pk, "member")}
    leading = {t.pk for t in teams if has_role(user, t.pk, "lead")}
    return writable, leading


def _statuses_for(can_lead: bool) -> list[tuple[str, str]]:
    """Statuses a person may set: risk acceptance only for leads (members request one)."""
    return [(v, label) for v, label in Status.choices if can_lead or v != Status.RISK_ACCEPTED]


def finding_list(request: HttpRequest) -> HttpResponse:
    """Team-scoped findings, searchable and sortable, 100 a page with page numbers and a
    total (counted up to ``COUNT_CAP``), with bulk actions on a selection or the filter."""
    qs, params, error = _filtered(request)
    page_arg = request.GET.get("page", "1")
    number = int(page_arg) if page_arg.isdigit() and len(page_arg) < 7 else 1
    page = findings_page(qs, number=number, page_size=PAGE_SIZE)
    query = urlencode({k: v for k, v in params.items() if v})
    writable, leading = _roles(request.user)
    teams = list(teams_visible_to(request.user).order_by("name"))
    return render(
        request,
        "findings/list.html",
        {
            "findings": page.rows,
            "page": page,
            "params": params,
            "query": query,
            "columns": _columns(params),
            "filter_error": error,
            "reachable_choices": [
                ("false", "never called"),
                ("true", "called"),
                ("unknown", "not analysed"),
            ],
            "next_url": f"?{query}&page={page.number + 1}" if page.has_next else "",
            # every finding of the page's filter (not just this page), as the API exports it
            "export_url": reverse("api:findings-export") + (f"?{query}&" if query else "?"),
            "teams": teams,
            "statuses": [("active", "Needs work"), ("all", "All"), *Status.choices],
            "severities": Severity.choices,
            "categories": CATEGORY_CHOICES,
            "triage_statuses": Status.choices,
            "bulk_statuses": _statuses_for(bool(leading)),
            "writable_team_ids": writable,
            "lead_team_ids": leading,
            "can_bulk": bool(writable),
            "assignees": team_assignees(team_ids=sorted(writable)),
            "saved_views": list(saved_views_for(request.user)),
            "count_cap": COUNT_CAP,
        },
    )


def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = finding_get_for_user(request.user, pk)
    occurrences = finding_occurrences(finding)
    versions: list[str] = []
    for occ in occurrences:
        if occ.state == "active":
            label = occ.subject.version.version if occ.subject.version else "(any version)"
            if label not in versions:
                versions.append(label)
    can_lead = has_role(request.user, finding.team_id, "lead")
    exceptions = list(
        finding.risk_exceptions.select_related("requested_by", "decided_by").order_by(
            "-requested_at", "-id"
        )
    )
    return render(
        request,
        "findings/detail.html",
        {
            "f": finding,
            "events": finding_events(finding),
            "occurrences": list(occurrences),
            "versions": versions,
            "can_write": has_role(request.user, finding.team_id, "member"),
            "can_lead": can_lead,
            "triage_statuses": _statuses_for(can_lead),
            "members": team_assignees(team_ids=[finding.team_id]),
            "exceptions": exceptions,
            "open_exception": next(
                (e for e in exceptions if e.status in ("requested", "approved")), None
            ),
            "can_request_exception": finding.status in ACTIVE_STATUSES
            and has_role(request.user, finding.team_id, "member"),
        },
    )


@require_POST
def finding_triage_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Triage from the list (htmx swaps the row) or the detail page (redirect back). A
    refused change (a member accepting a risk, a viewer) comes back with its reason: in the
    row for htmx, as a message on the detail page; never a bare 403."""
    finding = finding_get_for_user(request.user, pk)
    error = ""
    try:
        if "status" in request.POST:
            finding = finding_triage(
                finding=finding,
                actor=request.user,
                status=request.POST["status"],
                reason=request.POST.get("reason", ""),
            )
        if "assignee" in request.POST:
            finding = finding_assign(
                finding=finding, actor=request.user, assignee_username=request.POST["assignee"]
            )
        if request.POST.get("comment", "").strip():
            finding_comment(finding=finding, actor=request.user, text=request.POST["comment"])
    except ApplicationError as exc:
        error = exc.message
    if request.htmx:  # type: ignore[attr-defined]
        finding = finding_get_for_user(request.user, pk)
        writable, leading = _roles(request.user)
        return render(
            request,
            "findings/_row.html",
            {
                "f": finding,
                "error": error,
                "triage_statuses": Status.choices,
                "writable_team_ids": writable,
                "lead_team_ids": leading,
                "can_bulk": bool(writable),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Saved.")
    return redirect("findings:detail", pk=pk)


@require_POST
def findings_bulk_view(request: HttpRequest) -> HttpResponse:
    """Bulk triage from the list: assign and/or set a status (with a reason) on the selection
    or the whole filter, in one transaction; answers with what changed and what was refused
    and why (an htmx fragment, or a message after a redirect back to the list)."""
    qs, error = findings_selection(request.user, request.POST)
    result = None
    status = request.POST.get("status", "")
    assignee = request.POST.get("assignee", "")
    if not error and not status and not assignee:
        error = "choose a status or an assignee to apply"
    if not error:
        try:
            result = findings_bulk_triage(
                user=request.user,
                findings_qs=qs,
                status=status or None,
                reason=request.POST.get("reason", ""),
                assignee_username=None if not assignee else ("" if assignee == "-" else assignee),
            )
        except ApplicationError as exc:
            error = exc.message
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "findings/_bulk_result.html", {"result": result, "error": error})
    if error:
        messages.error(request, error)
    elif result is not None:
        messages.success(request, result.summary())
        for line in result.refusal_lines():
            messages.warning(request, line)
    return redirect(_back_to_list(request.POST.get("query", ""), request.POST.get("page", "")))


def _back_to_list(query: str, page: str = "") -> str:
    clean = list_query_clean(query)
    if page.isdigit() and page != "1":
        clean = f"{clean}&page={page}" if clean else f"page={page}"
    return reverse("findings:list") + (f"?{clean}" if clean else "")


@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the list's current filter under a name (one per name and person)."""
    name = request.POST.get("name", "").strip()
    query = request.POST.get("query", "")
    try:
        view = saved_view_save(user=request.user, name=name, query=query)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_back_to_list(query))
    messages.success(request, f"Saved the view {view.name!r}.")
    return redirect(_back_to_list(view.query))


def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes (a person's own views only: 404 otherwise)."""
    view = saved_view_get_for_user(request.user, pk)
    if request.method == "POST":
        saved_view_remove(view=view)
        messages.success(request, f"Deleted the view {view.name!r}.")
        return redirect("findings:list")
    return render(
        request,
        "confirm.html",
        {
            "title": f"Delete the saved view {view.name!r}?",
            "body": "The findings stay as they are; only this shortcut goes.",
            "action": reverse("findings:view-delete", args=[view.pk]),
            "button": "Delete the view",
            "cancel": _back_to_list(view.query),
        },
    )


def components(request: HttpRequest) -> HttpResponse:
    """Which of your teams' models use package X, or are affected by vulnerability Y, at
    which versions: from their inventories (SBOMs) and dependency findings."""
    package = request.GET.get("package", "").strip()
    cve = request.GET.get("cve", "").strip()
    rows = components_usage(request.user, package=package, cve=cve) if package or cve else []
    return render(
        request,
        "findings/components.html",
        {
            "rows": rows,
            "package": package,
            "cve": cve,
            "models": len({r.model_id for r in rows}),
            "limit": COMPONENT_ROWS,
        },
    )
