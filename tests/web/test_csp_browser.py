"""The Content-Security-Policy in a real browser: Chromium enforces it on Warden's main pages as
a demo user sees them, and nothing is refused, nothing fails in the console, and the pages still
work (charts drawn, Swagger UI rendered). A canary proves the listener hears a violation."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Runs before any page script: records every violation the browser reports.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber].join(" "));
});
"""


@pytest.fixture
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_init_script(LISTEN)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        yield page, errors
        context.close()
        browser.close()


def _visit(page: Any, url: str, ready: str) -> list[str]:
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self';" in policy, (url, policy)
    assert "unsafe-inline" not in policy, (url, policy)
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    page.wait_for_selector(ready)
    page.wait_for_timeout(300)  # let late scripts (Plotly's resize, Swagger's fetch) run
    return list(page.evaluate("window.__csp"))


def test_main_pages_run_under_the_policy_without_a_violation(
    live_server: Any, browser_page: tuple[Any, list[str]], settings: Any
) -> None:
    from django.core.management import call_command

    from governance.inventory.models import MLModel

    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    page, errors = browser_page
    base = live_server.url
    violations: dict[str, list[str]] = {}

    violations["login"] = _visit(page, f"{base}/accounts/login/", "input[name=login]")
    page.fill("input[name=login]", "member")
    page.fill("input[name=password]", settings.WARDEN_DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    model = MLModel.objects.get(name="card-fraud-xgb")
    pages = {
        "home": ("/", "tr[data-model=card-fraud-xgb]"),
        "dashboard": ("/dashboard/", "[data-figure=fig-categories] .main-svg"),
        "model": (f"/models/{model.pk}/", "[data-figure=fig-trend] .main-svg"),
        "findings": ("/findings/", "tr[data-finding]"),
        "policies": ("/policies/", "h1"),
        "api docs": ("/api/docs/", ".swagger-ui .opblock"),
    }
    for name, (path, ready) in pages.items():
        violations[name] = _visit(page, base + path, ready)

    assert {name: v for name, v in violations.items() if v} == {}
    assert errors == []
    # The pages did their work under the policy: every dashboard chart was drawn, and Swagger
    # UI listed the API's operations from /api/schema/.
    page.goto(f"{base}/dashboard/")
    for figure in ("fig-categories", "fig-trend", "fig-remediation"):
        page.wait_for_selector(f"[data-figure={figure}] .main-svg")
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() > 10


def test_the_policy_refuses_inline_script_and_style(
    live_server: Any, browser_page: tuple[Any, list[str]], member: Any
) -> None:
    """The canary: what an injection would add is refused, and the listener hears it."""
    page, errors = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
      const s = document.createElement("script");
      s.textContent = "window.__ran = true";
      document.head.appendChild(s);
      const st = document.createElement("style");
      st.textContent = "body { display: none }";
      document.head.appendChild(st);
    }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")  # the inline script never ran
    assert page.is_visible("input[name=login]")  # the inline style was not applied
    directives = " ".join(page.evaluate("window.__csp"))
    assert "script-src-elem" in directives
    assert "style-src-elem" in directives
    assert any("Content Security Policy" in e for e in errors)


def test_the_assessment_page_draws_its_charts_under_the_policy(
    live_server: Any, browser_page: tuple[Any, list[str]], member: Any, team_alpha: Any
) -> None:
    """The assessment page's Plotly charts (per-group bars with the threshold line, ROC,
    calibration, drift) are drawn from JSON blocks by static/js/charts.js: no violation."""
    from governance.ingest.services import report_submit
    from governance.inventory.models import MLModel, ModelVersion
    from scanners.assess import assess_predictions, to_json
    from tests.assess import builders

    model = MLModel.objects.create(team=team_alpha, name="credit")
    ModelVersion.objects.create(model=model, version="1.0", artifact_sha256="ab" * 32)
    frame = builders.disparity_table(3000)
    doc = assess_predictions(
        frame.to_csv(index=False).encode(),
        label="y", prediction="yhat", score="p", sensitive=["sex", "age_band"],
        reference=builders.disparity_table(3000, seed=4).to_csv(index=False).encode(),
        thresholds=["demographic_parity_difference<=0.1"],
    )  # fmt: skip
    report_submit(team=team_alpha, model_name="credit", data=to_json(doc), version="1.0")
    page, errors = browser_page
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", member.username)
    page.fill("input[name=password]", "pw-" + member.username)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    violations = _visit(
        page,
        f"{base}/models/{model.pk}/versions/1.0/assessment/",
        "[data-figure=fig-drift] .main-svg",
    )

    assert violations == []
    assert errors == []
    for figure in ("fig-group-0", "fig-roc", "fig-calibration", "fig-drift"):
        assert page.locator(f"[data-figure={figure}] .main-svg").count() >= 1, figure
