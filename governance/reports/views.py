"""The audit report pages: the report of a version (HTML), asking for its PDF, and the
download. Every member of the model's team reads it; members and leads ask for a PDF (a
viewer reads and downloads what exists)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from governance.accounts.selectors import has_role
from governance.inventory.models import ModelVersion
from governance.inventory.selectors import model_get_for_user
from governance.reports.models import ReportRender
from governance.reports.selectors import (
    audit_report_build,
    report_render_get,
    report_renders_of,
    version_get_for_report,
)
from governance.reports.services import report_render_request


def _pdf_context(version: ModelVersion) -> dict[str, object]:
    renders = list(report_renders_of(version)[:5])
    pending = next((r for r in renders if r.status in ("queued", "running")), None)
    done = next((r for r in renders if r.status == ReportRender.Status.DONE), None)
    return {"renders": renders, "pending": pending, "done": done}


@require_GET
def report_view(request: HttpRequest, pk: int, version: str) -> HttpResponse:
    """The audit report of one version, with its PDF renderings (polled while one is being
    generated: ``?part=pdf`` answers the fragment only)."""
    model = model_get_for_user(request.user, pk)
    found = version_get_for_report(model, version)
    pdf = _pdf_context(found)
    context = {
        "model": model,
        "version": found,
        "can_render": has_role(request.user, model.team_id, "member"),
        **pdf,
    }
    if request.GET.get("part") == "pdf":
        return render(request, "reports/_pdf.html", context)
    context["report"] = audit_report_build(model, found)
    return render(request, "reports/report.html", context)


@require_POST
def report_pdf_request(request: HttpRequest, pk: int, version: str) -> HttpResponse:
    """Generate the PDF (members and leads)."""
    model = model_get_for_user(request.user, pk)
    found = version_get_for_report(model, version)
    if not has_role(request.user, model.team_id, "member"):
        raise PermissionDenied("viewers read reports; members and leads generate them")
    rendering = report_render_request(version=found, actor=request.user)
    if rendering.status == ReportRender.Status.FAILED:
        messages.error(request, f"The PDF could not be generated: {rendering.error}")
    elif rendering.status == ReportRender.Status.DONE:
        messages.success(request, "PDF generated.")
    else:
        messages.success(request, "The PDF is being generated; this page shows it when done.")
    return redirect(reverse("reports:report", args=[model.pk, found.version]) + "#pdf")


@require_GET
def report_pdf_download(
    request: HttpRequest, pk: int, version: str, render_id: int
) -> HttpResponse:
    """A finished PDF of the version's report, as an attachment."""
    model = model_get_for_user(request.user, pk)
    found = version_get_for_report(model, version)
    rendering = report_render_get(found, render_id)
    response = HttpResponse(bytes(rendering.pdf or b""), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{rendering.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
