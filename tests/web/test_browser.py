"""The real thing in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page() -> Iterator[Any]:
    # Playwright's sync API runs an event loop; the ORM calls in the test itself are sync code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        context = browser.new_context()
        yield context.new_page()
        context.close()
        browser.close()


def _login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_login_and_see_only_my_teams_models(
    live_server: Any, page: Any, member: Any, team_alpha: Any, team_beta: Any
) -> None:
    from governance.inventory.models import MLModel

    MLModel.objects.create(team=team_alpha, name="alpha-fraud", risk_tier="critical")
    MLModel.objects.create(team=team_beta, name="beta-secret", risk_tier="low")
    _login(page, live_server.url, "member", "pw-member")
    assert page.locator("tr[data-model=alpha-fraud]").count() == 1
    assert page.locator("text=beta-secret").count() == 0
    assert page.locator("tr[data-model=alpha-fraud] .tier-critical").inner_text() == "Critical"
    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/**")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # the session is gone


def test_lead_creates_and_revokes_a_token_in_the_browser(
    live_server: Any, page: Any, lead: Any
) -> None:
    from governance.accounts.models import ApiToken

    _login(page, live_server.url, "lead", "pw-lead")
    page.click("text=API tokens")
    page.fill("input[name=name]", "github-actions")
    page.select_option("select[name=scope]", "write")
    page.click("text=Create token")
    token = page.locator("[data-testid=new-token]").inner_text()
    assert token.startswith("wdn_")
    assert ApiToken.objects.get().name == "github-actions"
    page.click("tr[data-token=github-actions] >> text=Revoke")
    # a confirm step, naming what stops working, with a danger-styled button
    page.wait_for_url("**/revoke/")
    assert "Revoke the token 'github-actions'?" in page.locator("h1").inner_text()
    assert ApiToken.objects.get().revoked_at is None
    page.click("button.danger >> text=Revoke this token")
    page.wait_for_selector("tr[data-token=github-actions] >> text=revoked")
    assert ApiToken.objects.get().revoked_at is not None


def test_member_triages_a_finding_in_place_with_htmx(
    live_server: Any, page: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    from governance.findings.models import Finding

    seed_findings(team_alpha, "churn", [("CVE-1", "critical"), ("CVE-2", "low")])
    f = Finding.objects.get(vuln_id="CVE-1")
    _login(page, live_server.url, "member", "pw-member")
    page.click("nav >> text=Findings")
    row = page.locator(f"#finding-{f.pk}")
    row.locator("select[name=status]").select_option("false_positive")
    row.locator("button").click()
    # Without a reason the row comes back with the error, still in the list (no reload).
    page.wait_for_selector(f"#finding-{f.pk} >> text=a reason is required")
    row = page.locator(f"#finding-{f.pk}")
    row.locator("select[name=status]").select_option("false_positive")
    row.locator("input[name=reason]").fill("test data only")
    row.locator("button").click()
    page.wait_for_selector(f"#finding-{f.pk}[data-status=false_positive]")
    assert "/findings/" in page.url
    f.refresh_from_db()
    assert f.status == "false_positive"
    assert f.events.get().reason == "test data only"


def test_dashboard_draws_its_charts_from_local_assets(
    live_server: Any, page: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    seed_findings(team_alpha, "fraud", [("C1", "critical"), ("H1", "high"), ("H2", "high")])
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    _login(page, live_server.url, "member", "pw-member")
    page.click("nav >> text=Dashboard")
    page.wait_for_url("**/dashboard/")
    for figure in ("fig-categories", "fig-trend", "fig-remediation"):
        page.wait_for_selector(f"[data-figure={figure}] .main-svg")
    # two stacked bars on the Dependency layer (critical and high): Plotly drew the numbers
    widths = page.eval_on_selector_all(
        "[data-figure=fig-categories] .bars .point path",
        "paths => paths.map(p => p.getBBox().width).filter(w => w > 0)",
    )
    short, long = sorted(widths)
    assert long == pytest.approx(2 * short, rel=0.05)  # 2 high stacked after 1 critical
    assert page.locator("[data-metric=active] .value").inner_text() == "3"
    # everything came from Warden itself: no CDN, nothing fetched elsewhere
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requested)
    page.select_option("select[name=team]", "alpha")  # the filter submits on change
    page.wait_for_url("**/dashboard/?team=alpha")
    assert page.locator("h1").inner_text() == "Risk posture · Alpha"
    # a click on the high part of the Dependency bar lists exactly those findings
    page.wait_for_selector("[data-figure=fig-categories] .main-svg")
    page.locator("[data-figure=fig-categories] .trace.bars").nth(1).locator(
        ".point path"
    ).first.click(force=True)
    page.wait_for_url("**/findings/?team=alpha&category=dependency&severity=high")
    assert page.locator("tr[data-finding]").count() == 2
    # the model page charts the same model's trend, drawn the same way
    page.goto(f"{live_server.url}/dashboard/")
    page.click("tr[data-model=fraud] >> text=fraud")
    page.wait_for_selector("[data-figure=fig-trend] .main-svg")
    assert page.locator("h1").inner_text().startswith("fraud")
