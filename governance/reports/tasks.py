"""Thin Celery task: a report rendering's id in, its status out."""

from __future__ import annotations

from celery import shared_task

from governance.reports.services import report_render_run


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def report_render_task(render_id: int) -> str:
    """Render a large version's audit report to PDF."""
    return report_render_run(render_id=render_id).status
