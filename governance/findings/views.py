"""Findings pages: a filtered list with in-place triage (htmx), and a detail page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance.accounts.selectors import has_role, teams_visible_to
from governance.findings.filters import finding_filters_parse
from governance.findings.models import Severity, Status
from governance.findings.selectors import (
    finding_events,
    finding_get_for_user,
    finding_occurrences,
    findings_filtered,
    findings_visible_to,
)
from governance.findings.services import finding_assign, finding_comment, finding_triage
from governance.lib.api_errors import ApplicationError
from governance.vocabulary import CATEGORY_CHOICES

PAGE_SIZE = 100


def _filtered(request: HttpRequest) -> tuple[Any, dict[str, str], str]:
    """The list's findings under the page's filter (the same parser and selector as the API;
    the page shows what needs work unless told otherwise), the filter as parameters for the
    form and links, and an error message for a bad value."""
    try:
        filters = finding_filters_parse(request.GET, default_status="active")
    except ApplicationError as exc:
        return findings_visible_to(request.user).none(), {"status": "active"}, exc.message
    qs = findings_filtered(request.user, filters=filters).select_related(
        "model", "team", "assignee"
    )
    params = filters.as_params()
    params.setdefault("status", "active")
    return qs, params, ""


def finding_list(request: HttpRequest) -> HttpResponse:
    """Team-scoped findings, newest first, 100 a page (keyset on id: constant cost)."""
    qs, params, error = _filtered(request)
    before = request.GET.get("before", "")
    if before.isdigit():
        qs = qs.filter(pk__lt=int(before))
    rows = list(qs.order_by("-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = urlencode({k: v for k, v in params.items() if v})
    return render(
        request,
        "findings/list.html",
        {
            "findings": rows,
            "params": params,
            "filter_error": error,
            "reachable_choices": [
                ("false", "never called"),
                ("true", "called"),
                ("unknown", "not analysed"),
            ],
            "next_url": f"?{query}&before={rows[-1].pk}" if more and rows else "",
            # every finding of the page's filter (not just this page), as the API exports it
            "export_url": reverse("api:findings-export") + (f"?{query}&" if query else "?"),
            "teams": teams_visible_to(request.user).order_by("name"),
            "statuses": [("active", "Needs work"), ("all", "All"), *Status.choices],
            "severities": Severity.choices,
            "categories": CATEGORY_CHOICES,
            "triage_statuses": Status.choices,
            "writable_team_ids": {
                t.pk
                for t in teams_visible_to(request.user)
                if has_role(request.user, t.pk, "member")
            },
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
    return render(
        request,
        "findings/detail.html",
        {
            "f": finding,
            "events": finding_events(finding),
            "occurrences": list(occurrences),
            "versions": versions,
            "can_write": has_role(request.user, finding.team_id, "member"),
            "triage_statuses": Status.choices,
            "members": finding.team.memberships.select_related("user").order_by("user__username"),
        },
    )


@require_POST
def finding_triage_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Triage from the list (htmx swaps the row) or the detail page (redirect back)."""
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
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        error = exc.message
    if request.htmx:  # type: ignore[attr-defined]
        finding = finding_get_for_user(request.user, pk)
        return render(
            request,
            "findings/_row.html",
            {
                "f": finding,
                "error": error,
                "triage_statuses": Status.choices,
                "writable_team_ids": {finding.team_id},
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Saved.")
    return redirect("findings:detail", pk=pk)
