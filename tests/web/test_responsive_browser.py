"""Every main page in Debian's Chromium at a phone's width (390 px): the page itself never
scrolls sideways (wide tables scroll inside their box) and nothing logs an error (CSP
violations included). With WARDEN_SCREENSHOTS=1 (``docs/screenshots/take.py``) the same run
writes desktop screenshots of the main pages to docs/screenshots/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.web.test_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def browser() -> Iterator[Any]:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _pages() -> list[tuple[str, str]]:
    from governance.accounts.models import Team
    from governance.findings.models import Finding
    from governance.inventory.models import MLModel

    model = MLModel.objects.get(name="card-fraud-xgb")
    finding = Finding.objects.filter(model=model, vuln_id__startswith="").order_by("id").first()
    assert finding is not None
    team = Team.objects.get(slug="fraud-risk")
    return [
        ("models", "/"),
        ("dashboard", "/dashboard/"),
        ("findings", "/findings/"),
        ("model", f"/models/{model.pk}/"),
        ("finding", f"/findings/{finding.pk}/"),
        ("policies", "/policies/"),
        ("tokens", f"/teams/{team.slug}/tokens/"),
        ("not-found", "/no-such-page/"),
    ]


def _session(browser: Any, base: str, width: int, height: int) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "lead")
    page.fill("input[name=password]", "warden-demo")
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page, errors


def _no_sideways_scroll(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def test_every_main_page_fits_a_phone_and_logs_no_error(live_server: Any, browser: Any) -> None:
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    pages = _pages()
    # Signed out: the login page.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    scroll, inner = _no_sideways_scroll(page)
    assert scroll <= inner, f"login: {scroll} > {inner}"
    assert page.locator("label[for=id_login]").count() == 1
    context.close()

    context, page, errors = _session(browser, live_server.url, 390, 844)
    logged: dict[str, list[str]] = {}
    for name, path in pages:
        errors.clear()
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if name in ("dashboard", "model"):
            page.wait_for_selector("[data-figure] .main-svg")
        scroll, inner = _no_sideways_scroll(page)
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => !e.closest('table.grid *')"
            " && e.getBoundingClientRect().right > window.innerWidth + 0.5).slice(0, 8)"
            ".map(e => e.tagName + '.' + e.className + ' ' + Math.round("
            "e.getBoundingClientRect().right))"
        )
        tables = page.evaluate(
            "[...document.querySelectorAll('table, form, main, pre, code')].map(e => [e.tagName,"
            " e.className, getComputedStyle(e).display, getComputedStyle(e).overflowX,"
            " e.scrollWidth, e.clientWidth, Math.round(e.getBoundingClientRect().right)])"
        )
        assert scroll <= inner, f"{name} ({path}) is {scroll} px wide: {wide} {tables}"
        # The nav wrapped onto the screen: every link is inside the viewport.
        right = page.evaluate(
            "Math.max(...[...document.querySelectorAll('.topbar a, .topbar button')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert right <= inner, f"{name}: the top bar overflows ({right} > {inner})"
        # The 404 page's own status is the one error Chromium logs there.
        logged[name] = [e for e in errors if not (name == "not-found" and "404" in e)]
    assert all(not e for e in logged.values()), logged
    # A wide table scrolls inside its own box instead.
    page.goto(f"{live_server.url}/findings/")
    table = page.evaluate(
        "(() => { const t = document.querySelector('table.grid');"
        " return t && [t.scrollWidth, t.clientWidth, getComputedStyle(t).overflowX]; })()"
    )
    if table and table[0] > table[1]:
        assert table[2] == "auto"
    context.close()

    if os.environ.get("WARDEN_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        context, page, errors = _session(browser, live_server.url, 1280, 900)
        for name, path in pages:
            if name == "not-found":
                continue
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            if name in ("dashboard", "model"):
                page.wait_for_selector("[data-figure] .main-svg")
                page.wait_for_timeout(500)
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
        context.close()
        context, page, _ = _session(browser, live_server.url, 390, 844)
        page.goto(f"{live_server.url}/dashboard/")
        page.wait_for_selector("[data-figure] .main-svg")
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "dashboard-phone.png"), full_page=False)
        context.close()
        assert errors == [], errors
