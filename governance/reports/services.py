"""Writes of the reports app: asking for a PDF of a version's audit report, and rendering it.

A version with few open findings renders in the request (a second or so); a larger one is
queued for a worker and the page shows "being generated" until the row is done. One pending
rendering per version at a time: asking again while one is queued returns it."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from governance.inventory.models import ModelVersion
from governance.lib.actors import actor_fields
from governance.lib.queue import enqueue
from governance.reports.models import ReportRender
from governance.reports.pdf import PdfUnavailable, html_to_pdf, stylesheet_href
from governance.reports.selectors import audit_report_build, version_open_findings_count

logger = logging.getLogger(__name__)

PENDING = (ReportRender.Status.QUEUED, ReportRender.Status.RUNNING)
STALE_AFTER = timedelta(minutes=15)


def report_html(version: ModelVersion) -> tuple[str, str]:
    """The report as a standalone HTML document (what WeasyPrint renders), and its verdict."""
    report = audit_report_build(version.model, version)
    html = render_to_string("reports/pdf.html", {"report": report, "stylesheet": stylesheet_href()})
    return html, report.gate.verdict


def report_render_request(*, version: ModelVersion, actor: Any) -> ReportRender:
    """Ask for a PDF of ``version``'s audit report. Renders now when the version is small
    (``WARDEN_REPORT_SYNC_MAX_FINDINGS`` open findings or fewer), else queues it."""
    from governance.reports.tasks import report_render_task

    # A rendering no worker finished (the broker was down, the worker died) stops blocking
    # new requests after STALE_AFTER: it is marked failed, with the reason.
    ReportRender.objects.filter(
        version=version, status__in=PENDING, created_at__lt=timezone.now() - STALE_AFTER
    ).update(
        status=ReportRender.Status.FAILED,
        error="no worker finished this rendering; generate it again",
        finished_at=timezone.now(),
    )
    pending = ReportRender.objects.filter(version=version, status__in=PENDING).first()
    if pending is not None:
        return pending
    who = actor_fields(actor, "requested_by")
    small = (
        version_open_findings_count(version.model, version)
        <= settings.WARDEN_REPORT_SYNC_MAX_FINDINGS
    )
    with transaction.atomic():
        render = ReportRender.objects.create(
            team_id=version.model.team_id, model_id=version.model_id, version=version, **who
        )
        if not small:
            render_id = render.pk
            transaction.on_commit(lambda: enqueue(report_render_task, render_id))
    if small:
        report_render_run(render_id=render.pk)
        render.refresh_from_db()
    return render


def report_render_run(*, render_id: int) -> ReportRender:
    """Render a queued report (the task's body; safe to run twice: only a queued row is
    claimed)."""
    claimed = ReportRender.objects.filter(pk=render_id, status=ReportRender.Status.QUEUED).update(
        status=ReportRender.Status.RUNNING
    )
    render = ReportRender.objects.select_related("version__model").get(pk=render_id)
    if not claimed:
        return render
    try:
        html, verdict = report_html(render.version)
        pdf = html_to_pdf(html)
    except PdfUnavailable as exc:
        _fail(render, str(exc))
    except Exception as exc:  # the row must say it failed; the worker logs the rest
        logger.exception("audit report %s failed", render_id)
        _fail(render, f"rendering failed: {type(exc).__name__}")
    else:
        ReportRender.objects.filter(pk=render_id).update(
            status=ReportRender.Status.DONE,
            pdf=pdf,
            size=len(pdf),
            verdict=verdict,
            finished_at=timezone.now(),
        )
    render.refresh_from_db()
    return render


def _fail(render: ReportRender, error: str) -> None:
    ReportRender.objects.filter(pk=render.pk).update(
        status=ReportRender.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
