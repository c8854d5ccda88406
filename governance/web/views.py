"""Server-rendered pages. Each view parses input, calls one selector or service, renders."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.accounts.selectors import has_role, teams_visible_to
from governance.exports.selectors import DASHBOARD_COLUMNS, dashboard_rows
from governance.findings.models import ACTIVE_STATUSES, SEVERITY_ORDER
from governance.findings.selectors import (
    active_version_labels,
    models_with_open_counts,
    with_active_versions,
)
from governance.findings.services import version_retire
from governance.ingest.services import artifact_scan_request
from governance.inventory.models import ModelVersion, RiskTier, Stage
from governance.inventory.selectors import model_get_for_user
from governance.lib.api_errors import ApplicationError
from governance.lib.streams import csv_lines
from governance.metrics import assessments as assessment_pages
from governance.metrics import figures
from governance.metrics import selectors as metrics
from governance.metrics.sla import REMEDIATION_WINDOW_DAYS
from governance.policies.gate import gate_evaluate
from governance.policies.selectors import policy_effective_for
from governance.policies.services import model_governance_update
from governance.runtime.selectors import deployments_of_model, event_rates
from governance.vocabulary import CATEGORY_CHOICES

#: The window of the dashboard's remediation figures (MTTR, SLA compliance) and trend: the
#: same as ``/api/v1/sla/metrics/``.
DASHBOARD_DAYS = REMEDIATION_WINDOW_DAYS
#: The model page charts runtime events of its running deployments over this many hours.
EVENT_HOURS = 7 * 24


def home(request: HttpRequest) -> HttpResponse:
    """The user's teams and their models with open findings by severity."""
    models = list(models_with_open_counts(request.user))
    teams = list(teams_visible_to(request.user).order_by("name"))
    by_team: dict[int, list[object]] = {t.pk: [] for t in teams}
    for m in models:
        by_team.setdefault(m.team_id, []).append(m)
    return render(
        request,
        "web/home.html",
        {
            "teams": [(t, by_team.get(t.pk, [])) for t in teams],
            "model_count": len(models),
            "lead_team_ids": {t.pk for t in teams if has_role(request.user, t.pk, "lead")},
        },
    )


#: Open findings listed on a model's page; beyond, it links to the findings list.
MODEL_PAGE_FINDINGS = 200


def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One model: gate verdict for its latest version, versions, recent scans, open findings."""
    model = model_get_for_user(request.user, pk)
    versions = list(model.versions.order_by("-created_at", "-id")[:20])
    latest = versions[0] if versions else None
    gate = gate_evaluate(model, latest)
    severity_rank = Case(
        *[When(severity=s, then=Value(r)) for s, r in SEVERITY_ORDER.items()],
        output_field=IntegerField(),
    )
    active = model.findings.filter(status__in=ACTIVE_STATUSES)
    findings = list(
        with_active_versions(active)
        .select_related("assignee", "version")
        .annotate(rank=severity_rank)
        .order_by("-rank", "sla_due", "id")[:MODEL_PAGE_FINDINGS]
    )
    # Only when the page is full: the exact total and a link to all of them on /findings/.
    findings_total = active.count() if len(findings) == MODEL_PAGE_FINDINGS else len(findings)
    for f in findings:
        f.versions = active_version_labels(f)  # type: ignore[attr-defined]
    scans = list(
        model.scan_runs.select_related("version", "subject__model", "subject__version").order_by(
            "-id"
        )[:15]
    )
    trend = metrics.model_trend(model, today=timezone.localdate(), days=DASHBOARD_DAYS)
    deployments = deployments_of_model(model)
    rates = event_rates(
        [d for d in deployments if d.until is None], now=timezone.now(), hours=EVENT_HOURS
    )
    return render(
        request,
        "web/model_detail.html",
        {
            "model": model,
            "versions": versions,
            "latest": latest,
            "gate": gate,
            "findings": findings,
            "findings_total": findings_total,
            "findings_all_url": f"{reverse('findings:list')}?"
            + urlencode({"model": model.pk, "status": "active"}),
            "policy": policy_effective_for(model),
            "scans": scans,
            "can_write": has_role(request.user, model.team_id, "member"),
            "is_lead": has_role(request.user, model.team_id, "lead"),
            "members": model.team.memberships.select_related("user").order_by("user__username"),
            "tiers": RiskTier.choices,
            "stages": Stage.choices,
            "days": DASHBOARD_DAYS,
            "fig_trend": figures.trend_figure(trend),
            "deployments": deployments,
            "event_hours": EVENT_HOURS,
            "fig_events": figures.event_rates_figure(
                [
                    (
                        f"{s.deployment.environment} {s.kind}/{s.rule}",
                        [h.isoformat() for h in s.hours],
                        s.counts,
                    )
                    for s in rates
                ]
            )
            if rates
            else None,
        },
    )


@require_POST
def version_scan(request: HttpRequest, pk: int, version: str) -> HttpResponse:
    """Start a server-side scan of a version's artifact (members and leads)."""
    model = model_get_for_user(request.user, pk)
    if not has_role(request.user, model.team_id, "member"):
        raise PermissionDenied("viewers cannot start scans")
    found = get_object_or_404(ModelVersion, model=model, version=version)
    try:
        run = artifact_scan_request(version=found, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Scan #{run.pk} of {found.version} queued.")
    return redirect("web:model", pk=model.pk)


def version_assessment(request: HttpRequest, pk: int, version: str) -> HttpResponse:
    """A version's Warden assessment (the newest, or ``?run=ID``): verdict, judged figures,
    per-group tables, charts, the dataset's fingerprint and the library versions."""
    model = model_get_for_user(request.user, pk)
    found = get_object_or_404(ModelVersion, model=model, version=version)
    run_id = request.GET.get("run", "")
    record = assessment_pages.assessment_latest(found, int(run_id) if run_id.isdigit() else None)
    return render(
        request,
        "web/assessment.html",
        {
            "model": model,
            "version": found,
            "record": record,
            "page": assessment_pages.assessment_page(record.document) if record else None,
            "runs": assessment_pages.assessments_of_version(found),
            "gate": gate_evaluate(model, found),
        },
    )


@require_POST
def version_retire_view(request: HttpRequest, pk: int, version: str) -> HttpResponse:
    """Retire a version (leads): its findings close as "version retired"."""
    model = model_get_for_user(request.user, pk)
    if not has_role(request.user, model.team_id, "lead"):
        raise PermissionDenied("only a team lead retires a version")
    found = get_object_or_404(ModelVersion, model=model, version=version)
    closed = version_retire(version=found, actor=request.user)
    messages.success(
        request, f"{found.version} retired; {closed} finding(s) closed as 'version retired'."
    )
    return redirect("web:model", pk=model.pk)


@require_POST
def model_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the model page's edit form (members; tier and stage for leads)."""
    model = model_get_for_user(request.user, pk)
    changes: dict[str, object] = {
        "description": request.POST.get("description", model.description).strip(),
        "use_case": request.POST.get("use_case", model.use_case).strip(),
        "owner": request.POST.get("owner", ""),
        "tags": [t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()],
    }
    if has_role(request.user, model.team_id, "lead"):
        changes["risk_tier"] = request.POST.get("risk_tier", model.risk_tier)
        changes["stage"] = request.POST.get("stage", model.stage)
    try:
        model_governance_update(model=model, actor=request.user, changes=changes)
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, "Model saved.")
    return redirect("web:model", pk=model.pk)


def dashboard(request: HttpRequest) -> HttpResponse:
    """Risk posture of the user's teams (or one, ``?team=slug``): headline figures, active
    findings per layer, the trend, remediation speed, and the riskiest models' evidence."""
    board = metrics.dashboard_get(
        request.user,
        request.GET.get("team") or None,
        today=timezone.localdate(),
        days=DASHBOARD_DAYS,
    )
    findings_list = reverse("findings:list")
    scope = board.scope
    return render(
        request,
        "web/dashboard.html",
        {
            "board": board,
            # the findings list filtered to the same scope: the drill-downs add to it
            "findings_url": findings_list
            + "?"
            + urlencode({"team": scope.team.slug} if scope.team else {"status": "active"}),
            "teams": teams_visible_to(request.user).order_by("name"),
            "riskiest": [
                (
                    row,
                    [board.coverage[row.model.pk][c] for c in metrics.CATEGORIES],
                    findings_list
                    + "?"
                    # by id: the list's model filter matches part of a name ("churn" would
                    # also list "churn-v2"), an id exactly the row counted here
                    + urlencode({"team": row.model.team.slug, "model": row.model.pk}),
                )
                for row in board.risk.riskiest
            ],
            "layers": [
                (label, board.layers[value], board.risk.models) for value, label in CATEGORY_CHOICES
            ],
            "category_labels": [label for _, label in CATEGORY_CHOICES],
            "fig_categories": figures.active_by_category_figure(board.active.matrix),
            "fig_trend": figures.trend_figure(board.trend),
            "fig_remediation": figures.remediation_figure(
                board.mttr.by_severity, board.compliance.by_severity
            ),
        },
    )


def dashboard_export(request: HttpRequest) -> StreamingHttpResponse:
    """The dashboard's figures as CSV, for the same scope (``?team=slug`` or all the user's
    teams) and from the same selector as the page."""
    board = metrics.dashboard_get(
        request.user,
        request.GET.get("team") or None,
        today=timezone.localdate(),
        days=DASHBOARD_DAYS,
    )
    response = StreamingHttpResponse(
        csv_lines(DASHBOARD_COLUMNS, dashboard_rows(board)), content_type="text/csv; charset=utf-8"
    )
    scope = board.scope.team.slug if board.scope.team else "all"
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="warden-dashboard-{scope}-{day}.csv"'
    return response
