"""The policies page: read every policy that governs your models, edit your team's as a lead,
decide exceptions. Server-rendered; each view parses input, calls one service, renders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from governance.accounts.selectors import has_role, teams_visible_to
from governance.findings.filters import list_query_clean
from governance.findings.selectors import (
    finding_get_for_user,
    findings_selection,
    findings_visible_to,
)
from governance.lib.api_errors import ApplicationError
from governance.policies.models import RiskPolicy
from governance.policies.schema import (
    policy_document_dump,
    policy_document_parse,
    schema_json,
)
from governance.policies.selectors import (
    BUILTIN_DEFAULT,
    exception_deciders,
    exception_get_for_user,
    exceptions_awaiting_decision,
    exceptions_listed,
    policies_visible_to,
    policy_can_edit,
    policy_get_for_user,
    policy_revisions,
)
from governance.policies.services import (
    exception_approve,
    exception_reject,
    exceptions_request_bulk,
    policy_archive,
    policy_create,
    policy_update,
)

_ORG = "__organization__"

EXAMPLE = """schema: warden.policy/v1
name: high-risk models
description: Example only; adapt it to your risk appetite.
applies_to:
  risk_tiers: [high, critical]
  stages: []
thresholds:
  - id: no-open-critical
    severities: [critical]
  - id: no-fixable-high-dependencies
    category: dependency
    severities: [high]
    fixable_only: true
evidence:
  - id: model-file-scan
    category: model_file
    scope: artifact
    max_age_days: 30
sla:
  days: {critical: 7, high: 30, medium: 90, low: 180}
  overdue: fail
exceptions:
  max_days: 90
"""


class PolicyDocumentForm(forms.Form):
    document = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 28, "cols": 100, "spellcheck": "false"}),
        max_length=256 * 1024,
    )
    change_note = forms.CharField(required=False, max_length=2000)


class PolicyCreateForm(PolicyDocumentForm):
    team = forms.ChoiceField()

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = choices  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=10000)


def _save(request: HttpRequest, form: forms.Form, write: Any) -> RiskPolicy | None:
    """Parse the form's document and run ``write(document, note)``; errors go on the form."""
    if not form.is_valid():
        return None
    try:
        document = policy_document_parse(form.cleaned_data["document"])
        policy: RiskPolicy = write(document, form.cleaned_data["change_note"])
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        form.add_error("document", exc.message)
        return None
    return policy


def policy_list(request: HttpRequest) -> HttpResponse:
    """Policies of your teams and the organization defaults, and exceptions to decide."""
    policies = list(policies_visible_to(request.user).order_by("name", "id"))
    teams = list(teams_visible_to(request.user).order_by("name"))
    sections = [
        {"team": team, "can_edit": has_role(request.user, team.pk, "lead"),
         "policies": [p for p in policies if p.team_id == team.pk]}
        for team in teams
    ]  # fmt: skip
    pending = list(exceptions_awaiting_decision(request.user))
    deciders = exception_deciders(pending)
    for exception in pending:
        exception.can_decide = _can_decide(request.user, exception)  # type: ignore[attr-defined]
        exception.deciders = deciders[exception.pk]  # type: ignore[attr-defined]
    return render(request, "policies/list.html", {
        "sections": sections,
        "org_policies": [p for p in policies if p.team_id is None],
        "can_edit_org": policy_can_edit(request.user, None),
        "can_create": policy_can_edit(request.user, None)
        or any(s["can_edit"] for s in sections),
        "builtin": BUILTIN_DEFAULT,
        "builtin_yaml": policy_document_dump(BUILTIN_DEFAULT.document),
        "pending": pending,
        "next": request.get_full_path(),
    })  # fmt: skip


def policy_new(request: HttpRequest) -> HttpResponse:
    choices = [
        (t.slug, t.name)
        for t in teams_visible_to(request.user).order_by("name")
        if has_role(request.user, t.pk, "lead")
    ]
    if policy_can_edit(request.user, None):
        choices.append((_ORG, "Organization default (every team)"))
    if not choices:
        raise PermissionDenied("only team leads can create policies")
    initial = {"document": EXAMPLE, "team": request.GET.get("team", choices[0][0])}
    form = PolicyCreateForm(request.POST or None, initial=initial, choices=choices)
    if request.method == "POST":
        slug = request.POST.get("team", "")
        team = None if slug == _ORG else teams_visible_to(request.user).filter(slug=slug).first()
        if slug != _ORG and team is None:
            raise Http404("team not found")

        def write(document: dict[str, Any], note: str) -> RiskPolicy:
            return policy_create(team=team, document=document, actor=request.user, change_note=note)

        policy = _save(request, form, write)
        if policy is not None:
            messages.success(request, f"Policy {policy.name!r} created.")
            return redirect("policies:detail", pk=policy.pk)
    return render(request, "policies/new.html", {"form": form}, status=400 if form.errors else 200)


def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One policy: its document, revisions, and (for its editors) an edit form."""
    policy = policy_get_for_user(request.user, pk)
    can_edit = policy_can_edit(request.user, policy.team_id)
    text = policy_document_dump(policy.document)
    form = PolicyDocumentForm(request.POST or None, initial={"document": text})
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("only a lead of the team can change its policies")

        def write(document: dict[str, Any], note: str) -> RiskPolicy:
            return policy_update(
                policy=policy, document=document, actor=request.user, change_note=note
            )

        saved = _save(request, form, write)
        if saved is not None:
            messages.success(request, f"Policy {saved.name!r} is at revision {saved.revision}.")
            return redirect("policies:detail", pk=saved.pk)
    return render(request, "policies/detail.html", {
        "policy": policy, "text": text, "form": form, "can_edit": can_edit,
        "revisions": list(policy_revisions(policy)[:50]),
    }, status=400 if form.errors else 200)  # fmt: skip


def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm (saying what changes); POST archives the policy."""
    policy = policy_get_for_user(request.user, pk)
    if not policy_can_edit(request.user, policy.team_id):
        raise PermissionDenied("only a lead of the team can delete its policies")
    if request.method == "POST":
        policy_archive(
            policy=policy, actor=request.user, change_note=request.POST.get("change_note", "")
        )
        messages.success(request, f"Policy {policy.name!r} deleted; its history is kept.")
        return redirect("policies:list")
    return render(request, "confirm.html", {
        "title": f"Delete the policy {policy.name!r}?",
        "body": "The models it governs fall back to the next matching policy (another of "
        f"{policy.scope_label}'s, an organization default, or the built-in default), so "
        "their gate results may change at once. Its revisions stay in the audit trail.",
        "action": reverse("policies:delete", args=[policy.pk]),
        "button": "Delete this policy",
        "note_label": "Change note",
        "cancel": reverse("policies:detail", args=[policy.pk]),
    })  # fmt: skip


def policy_export(request: HttpRequest, pk: int) -> HttpResponse:
    policy = policy_get_for_user(request.user, pk)
    fmt = "json" if request.GET.get("as") == "json" else "yaml"
    response = HttpResponse(
        policy_document_dump(policy.document, fmt), content_type=f"application/{fmt}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="policy-{policy.pk}.{fmt}"'
    return response


def policy_schema(request: HttpRequest) -> HttpResponse:
    """The published JSON Schema of ``warden.policy/v1`` documents."""
    return HttpResponse(schema_json(), content_type="application/schema+json")


def _next_url(request: HttpRequest, default: str) -> str:
    """Where a form goes back to: its ``next`` when it is a path of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return default


@require_POST
def exception_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject with a comment. A refusal (four eyes, not a lead, already decided)
    is said where the form was: in the row for htmx, as a message otherwise."""
    exception = exception_get_for_user(request.user, pk)
    back = _next_url(request, reverse("policies:exceptions"))
    form = DecisionForm(request.POST)
    error = ""
    decided = None
    if not form.is_valid():
        error = "Choose approve or reject."
    else:
        approve = form.cleaned_data["decision"] == "approve"
        decide = exception_approve if approve else exception_reject
        try:
            decided = decide(
                exception=exception, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            error = exc.message
    if request.htmx:  # type: ignore[attr-defined]
        shown = exception_get_for_user(request.user, pk)
        shown.deciders = exception_deciders([shown])[shown.pk]  # type: ignore[attr-defined]
        shown.can_decide = _can_decide(request.user, shown)  # type: ignore[attr-defined]
        return render(request, "policies/_exception_row.html", {
            "e": shown, "error": error, "next": back,
            "done": f"Exception #{decided.pk} {decided.status}." if decided else "",
        })  # fmt: skip
    if error:
        messages.error(request, error)
    else:
        assert decided is not None
        messages.success(request, f"Exception #{decided.pk} {decided.status}.")
    return redirect(back)


def _can_decide(user: Any, exception: Any) -> bool:
    return (
        exception.status == "requested"
        and has_role(user, exception.team_id, "lead")
        and exception.requested_by_id != user.pk
    )


EXCEPTION_STATES = [
    ("pending", "Awaiting a decision"),
    ("active", "Active"),
    ("expired", "Expired"),
    ("rejected", "Rejected"),
]


def exception_list(request: HttpRequest) -> HttpResponse:
    """Exceptions of your teams by state, each saying who may decide it."""
    state = request.GET.get("state", "pending")
    if state not in dict(EXCEPTION_STATES):
        state = "pending"
    rows = list(exceptions_listed(request.user, state=state)[:500])
    deciders = exception_deciders(rows)
    for e in rows:
        e.deciders = deciders[e.pk]  # type: ignore[attr-defined]
        e.can_decide = _can_decide(request.user, e)  # type: ignore[attr-defined]
    return render(request, "policies/exceptions.html", {
        "rows": rows, "state": state, "states": EXCEPTION_STATES,
        "next": request.get_full_path(),
    })  # fmt: skip


class ExceptionRequestForm(forms.Form):
    justification = forms.CharField(max_length=10000)
    days = forms.IntegerField(min_value=1, max_value=3650, required=False)
    expires_on = forms.DateField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("days") and not data.get("expires_on"):
            raise forms.ValidationError("give the number of days or the date it expires")
        return data


@require_POST
def exception_request_view(request: HttpRequest) -> HttpResponse:
    """Request exceptions from a finding's page (``finding``) or a list's selection (``ids``
    or ``scope=filter`` with the list's ``query``): a justification and an expiry (days, or
    a date). Answers with what was requested and what was refused and why."""
    single = request.POST.get("finding", "")
    if single:
        finding = finding_get_for_user(request.user, int(single) if single.isdigit() else 0)
        selection = findings_visible_to(request.user).filter(pk=finding.pk)
        error = ""
        back = reverse("findings:detail", args=[finding.pk])
    else:
        selection, error = findings_selection(request.user, request.POST)
        back = _list_url(request.POST.get("query", ""))
    made: list[Any] = []
    refused: dict[str, list[int]] = {}
    form = ExceptionRequestForm(request.POST)
    if not error and not form.is_valid():
        error = "; ".join(str(m) for msgs in form.errors.values() for m in msgs)
    if not error:
        data = form.cleaned_data
        if data.get("days"):
            expires_at = timezone.now() + timedelta(days=data["days"])
        else:
            day = data["expires_on"]
            expires_at = datetime(day.year, day.month, day.day, tzinfo=UTC)
        try:
            made, refused = exceptions_request_bulk(
                actor=request.user,
                findings=selection,
                justification=data["justification"],
                expires_at=expires_at,
            )
        except ApplicationError as exc:
            error = exc.message
    lines = [
        f"{len(ids)} finding(s): {why} ({', '.join(f'#{i}' for i in ids[:10])})"
        for why, ids in refused.items()
    ]
    summary = ""
    if made:
        summary = (
            f"Requested {len(made)} exception(s): "
            + ", ".join(f"#{e.pk}" for e in made[:20])
            + ". A lead of the team who is not you decides each."
        )
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "policies/_request_result.html", {
            "error": error, "summary": summary, "lines": lines, "made": made,
        })  # fmt: skip
    if error:
        messages.error(request, error)
    if summary:
        messages.success(request, summary)
    for line in lines:
        messages.warning(request, line)
    return redirect(back)


def _list_url(query: str) -> str:
    clean = list_query_clean(query)
    return reverse("findings:list") + (f"?{clean}" if clean else "")
