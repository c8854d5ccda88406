"""The audit report of a model version: the page, the PDF (its text read back with
pdftotext), no broken image, team isolation and roles."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.reports.models import ReportRender

pytestmark = pytest.mark.django_db


def _weasyprint_works() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None or not _weasyprint_works(),
    reason="needs pdftotext (apt-get install poppler-utils) and WeasyPrint with pango "
    "(apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)",
)
needs_weasyprint = pytest.mark.skipif(
    not _weasyprint_works(), reason="needs WeasyPrint with pango (libpango-1.0-0)"
)


def _url(world: dict[str, Any], tail: str = "") -> str:
    return f"/models/{world['model'].pk}/versions/{world['version'].version}/report/{tail}"


def test_the_report_page_shows_every_section(
    client_of: Any, member: Any, report_world: Any
) -> None:
    response = client_of(member).get(_url(report_world))
    assert response.status_code == 200
    html = response.content.decode()
    f = report_world["findings"]
    for text in (
        "fraud-detector",
        "@2.1",
        "member",  # the owner
        "lead",  # the team lead
        "High",  # risk tier
        "Staging",
        "release-policy, revision 1",
        "Gate verdict: <strong>FAIL</strong>",
        "no-open-critical",
        "accuracy-floor",
        "Dependency",
        "ab" * 32,  # the artifact digest
        f"#{f['CVE-2024-0001'].pk}",
        "CVE-2024-0001",
        "SLA state",
        f"#{report_world['exception'].pk}",
        "accepted for this release",  # who approved, and why
        "urllib3 is vendored but never imported",  # the false-positive decision
        "demographic_parity_difference",
        "Verdict history",
        "MEASURE 2.7",
        "EU AI Act Art. 15",
    ):
        assert text in html, text
    # the accepted and the dismissed findings are not open: only the critical one is listed
    open_rows = html.split('id="findings"')[1].split('id="decisions"')[0]
    assert "CVE-2024-0001" in open_rows
    assert "CVE-2024-0002" not in open_rows
    # the approver of the exception is named in the exceptions table
    exceptions = html.split("Risk exceptions")[1].split("Triage decisions")[0]
    assert "lead" in exceptions
    assert "Approved" in exceptions


def test_the_charts_are_server_drawn_svg_and_no_image_is_loaded(
    client_of: Any, member: Any, report_world: Any
) -> None:
    html = client_of(member).get(_url(report_world)).content.decode()
    document = html.split('<article class="audit-report"')[1]
    assert "<img" not in document
    assert document.count("<svg") >= 3  # findings by severity, two assessment bars
    assert 'aria-label="accuracy 0.85"' in document


def test_the_verdict_history_lists_each_change_once(
    api: Any, make_token: Any, team_alpha: Any, client_of: Any, member: Any, report_world: Any
) -> None:
    from governance.policies.models import VerdictRecord

    token = make_token(team_alpha, "read")
    model = report_world["model"]
    for _ in range(3):
        assert api(token).get(f"/api/v1/models/{model.pk}/gate/?version=2.1").status_code == 200
    records = list(VerdictRecord.objects.filter(version=report_world["version"]))
    assert [(r.verdict, r.source) for r in records] == [("fail", "gate")]


def test_the_report_costs_a_fixed_number_of_queries(
    client_of: Any, member: Any, report_world: Any, seed_findings: Any, team_alpha: Any
) -> None:
    client = client_of(member)
    client.get(_url(report_world))
    with CaptureQueriesContext(connection) as small:
        assert client.get(_url(report_world)).status_code == 200
    # many more findings in the same version (from another scanner, so the first one's
    # findings stay open): the count of queries does not move
    seed_findings(
        team_alpha,
        "fraud-detector",
        [(f"CVE-2025-{i}", "low") for i in range(60)],
        tool="grype",
        version="2.1",
    )
    with CaptureQueriesContext(connection) as large:
        assert client.get(_url(report_world)).status_code == 200
    assert len(large) == len(small), [q["sql"][:90] for q in large.captured_queries]
    # Why this many: session and user; the model and the team role (twice: page and form);
    # the version; the renders; the policy and its revision; the gate (its own fixed set);
    # subjects; leads; scans; open findings (counts, SLA counts, rows); decisions; exceptions;
    # the history; assessment findings and passed checks.
    assert len(small) <= 40


def test_another_teams_report_is_404(client_of: Any, outsider: Any, report_world: Any) -> None:
    client = client_of(outsider)
    assert client.get(_url(report_world)).status_code == 404
    assert client.post(_url(report_world, "pdf/")).status_code == 404
    assert not ReportRender.objects.exists()


def test_an_unknown_version_is_404(client_of: Any, member: Any, report_world: Any) -> None:
    url = f"/models/{report_world['model'].pk}/versions/9.9/report/"
    assert client_of(member).get(url).status_code == 404


def test_a_viewer_reads_the_report_but_cannot_generate_a_pdf(
    client_of: Any, viewer: Any, report_world: Any
) -> None:
    client = client_of(viewer)
    page = client.get(_url(report_world))
    assert page.status_code == 200
    assert "Generate PDF" not in page.content.decode()
    assert client.post(_url(report_world, "pdf/")).status_code == 403
    assert not ReportRender.objects.exists()


@needs_weasyprint
def test_a_member_generates_the_pdf_and_downloads_it(
    client_of: Any, member: Any, report_world: Any
) -> None:
    client = client_of(member)
    response = client.post(_url(report_world, "pdf/"))
    assert response.status_code == 302
    rendering = ReportRender.objects.get()
    assert rendering.status == "done", rendering.error
    assert rendering.verdict == "fail"
    assert rendering.requested_by_label == "member"
    page = client.get(_url(report_world)).content.decode()
    assert "Download PDF" in page
    download = client.get(_url(report_world, f"pdf/{rendering.pk}/"))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF-")
    assert "attachment" in download["Content-Disposition"]


@needs_pdftotext
def test_the_pdf_text_names_the_model_verdict_findings_and_approver(
    report_world: Any, tmp_path: Any, caplog: Any
) -> None:
    from governance.reports.pdf import html_to_pdf, pdf_fetcher
    from governance.reports.services import report_html

    html, verdict = report_html(report_world["version"])
    fetcher = pdf_fetcher()
    with caplog.at_level("WARNING"):
        pdf = html_to_pdf(html, fetcher=fetcher)
    # nothing was refused (no broken image, no remote resource), the stylesheet was served
    # from static/, and WeasyPrint reported no resource it failed to load
    assert fetcher.refused == []
    assert fetcher.served == ["reports/report.css"]
    # (font subsetting through fontTools when HarfBuzz-Subset is missing is no defect of
    # the document: that notice aside, WeasyPrint must have nothing to say)
    complaints = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("weasyprint") and "HarfBuzz-Subset" not in r.getMessage()
    ]
    assert complaints == []
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    f = report_world["findings"]
    assert verdict == "fail"
    for expected in (
        "fraud-detector",
        "Gate verdict: FAIL",
        f"#{f['CVE-2024-0001'].pk}",
        "CVE-2024-0001",
        "accepted for this release",
        "lead",
        "release-policy, revision 1",
        "MANAGE 4.1",
        "page 1 of",
    ):
        assert expected in text, expected


@needs_weasyprint
def test_the_pdf_refuses_every_resource_outside_static(tmp_path: Any) -> None:
    from governance.reports.pdf import html_to_pdf, pdf_fetcher

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG")
    fetcher = pdf_fetcher()
    html = (
        f'<img src="file://{secret}"><img src="https://example.com/x.png">'
        '<img src="/static/../governance/settings.py"><p>hello</p>'
    )
    assert html_to_pdf(html, fetcher=fetcher).startswith(b"%PDF-")
    assert len(fetcher.refused) == 3
    assert fetcher.served == []


def test_a_large_version_renders_in_a_worker_and_the_page_says_so(
    client_of: Any,
    member: Any,
    report_world: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WARDEN_REPORT_SYNC_MAX_FINDINGS = 0  # every version is "large"
    client = client_of(member)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.post(_url(report_world, "pdf/")).status_code == 302
    rendering = ReportRender.objects.get()
    assert rendering.status == "queued"
    assert len(callbacks) == 1
    page = client.get(_url(report_world)).content.decode()
    assert "being generated" in page
    assert 'hx-trigger="every 3s"' in page
    fragment = client.get(_url(report_world) + "?part=pdf").content.decode()
    assert fragment.lstrip().startswith('<section id="pdf"')
    # asking again while it is queued does not queue a second one
    client.post(_url(report_world, "pdf/"))
    assert ReportRender.objects.count() == 1
    if _weasyprint_works():
        callbacks[0]()  # the worker (eager here: no broker in tests) renders it
        rendering.refresh_from_db()
        assert rendering.status == "done", rendering.error
        assert "Download PDF" in client.get(_url(report_world) + "?part=pdf").content.decode()


def test_a_rendering_of_another_version_cannot_be_downloaded(
    client_of: Any, member: Any, report_world: Any
) -> None:
    from governance.inventory.models import ModelVersion

    other = ModelVersion.objects.create(model=report_world["model"], version="3.0")
    rendering = ReportRender.objects.create(
        team_id=other.model.team_id, model_id=other.model_id, version=other, status="done",
        pdf=b"%PDF-1.7 other",
    )  # fmt: skip
    response = client_of(member).get(_url(report_world, f"pdf/{rendering.pk}/"))
    assert response.status_code == 404


def test_a_rendering_no_worker_finished_stops_blocking_after_a_while(
    client_of: Any, member: Any, report_world: Any, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    settings.WARDEN_REPORT_SYNC_MAX_FINDINGS = 0
    client = client_of(member)
    client.post(_url(report_world, "pdf/"))
    stuck = ReportRender.objects.get()
    ReportRender.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    client.post(_url(report_world, "pdf/"))
    stuck.refresh_from_db()
    assert stuck.status == "failed"
    assert "no worker finished" in stuck.error
    assert ReportRender.objects.filter(status="queued").count() == 1


def test_a_completed_scan_records_the_version_verdict(
    team_alpha: Any, seed_findings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from governance.policies.models import VerdictRecord

    with django_capture_on_commit_callbacks(execute=True):
        run = seed_findings(team_alpha, "m", [("CVE-1", "critical")], version="1.0")
    record = VerdictRecord.objects.get(version=run.version)
    assert (record.verdict, record.source) == ("fail", "scan")
    assert {"rule": "no-open-critical", "verdict": "fail"} in record.reasons
    # the same verdict again: no new row
    with django_capture_on_commit_callbacks(execute=True):
        seed_findings(team_alpha, "m", [("CVE-1", "critical"), ("CVE-2", "high")], version="1.0")
    assert VerdictRecord.objects.filter(version=run.version).count() == 1


def test_the_model_page_links_each_version_to_its_report(
    client_of: Any, viewer: Any, report_world: Any
) -> None:
    html = client_of(viewer).get(f"/models/{report_world['model'].pk}/").content.decode()
    assert f'href="{_url(report_world)}"' in html
