"""The triage day in a real browser (Debian's Chromium, Playwright): search, sort, bulk
triage, an exception requested by a member and approved by a lead, a refusal said inline,
the tokens page's title; and no console errors on the way."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import _login, page  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(page: Any) -> list[str]:  # noqa: F811
    """Every console error and uncaught exception of the page, to assert there are none."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture
def sixty(team_alpha: Any, seed_findings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from governance.findings.models import Finding

    seed_findings(team_alpha, "churn", [(f"CVE-2024-{1000 + i}", "high") for i in range(60)])
    today = timezone.localdate()
    for i, f in enumerate(Finding.objects.order_by("id")):
        f.sla_due = today + timedelta(days=60 - i)  # the newest is due first
        f.save(update_fields=["sla_due"])


def test_search_sort_and_bulk_false_positive_of_fifty(
    live_server: Any,
    page: Any,  # noqa: F811
    console: list[str],
    member: Any,
    sixty: None,
) -> None:
    from governance.findings.models import Finding, FindingEvent

    base = live_server.url
    _login(page, base, "member", "pw-member")
    page.click("nav >> text=Findings")
    page.wait_for_url("**/findings/")
    assert page.locator("[data-total]").get_attribute("data-total") == "60"
    # search a CVE id: the row
    page.fill("input[name=q]", "cve-2024-1042")
    page.click("button >> text=Filter")
    page.wait_for_url("**/findings/?q=cve-2024-1042*")
    assert page.locator("tr[data-finding]").count() == 1
    assert page.locator("tr[data-finding] [data-vuln]").inner_text() == "CVE-2024-1042"
    # sort by due date, from the column header
    page.goto(f"{base}/findings/")
    page.click("th >> a[data-sort=sla_due]")
    page.wait_for_url("**ordering=sla_due*")
    assert page.locator("th[aria-sort=ascending]").inner_text().lower().startswith("due")
    first_due = page.locator("tr[data-finding] td:nth-child(6)").first.inner_text()
    expected = Finding.objects.order_by("sla_due").first()
    assert expected is not None
    assert first_due == expected.sla_due.isoformat()  # type: ignore[union-attr]
    # select 50 and mark them false positives with a reason, without leaving the page
    boxes = page.locator("input[type=checkbox][name=ids]")
    for i in range(50):
        boxes.nth(i).check()
    page.select_option("#bulk select[name=status]", "false_positive")
    page.fill("#bulk input[name=reason]", "synthetic test rows")
    page.click("#bulk button >> text=Apply")
    page.wait_for_selector("[data-bulk-result] [data-changed='50']")
    assert "/findings/" in page.url
    assert Finding.objects.filter(status="false_positive").count() == 50
    assert FindingEvent.objects.filter(kind="status", to_value="false_positive").count() == 50
    # every one's history shows its event
    changed = Finding.objects.filter(status="false_positive").first()
    assert changed is not None
    page.goto(f"{base}/findings/{changed.pk}/")
    history = page.locator("ul.events li[data-kind=status]")
    assert history.count() == 1
    assert "synthetic test rows" in history.inner_text()
    # a refused action shows its reason in place
    page.goto(f"{base}/findings/?status=all")
    page.locator("input[type=checkbox][name=ids]").first.check()
    page.select_option("#bulk select[name=status]", "false_positive")
    page.click("#bulk button >> text=Apply")
    page.wait_for_selector("[data-bulk-result] [data-refused]")
    assert "a reason is required" in page.locator("[data-bulk-result]").inner_text()
    assert console == []


def test_member_requests_an_exception_and_a_second_lead_approves(
    live_server: Any,
    page: Any,  # noqa: F811
    console: list[str],
    member: Any,
    lead: Any,
    team_alpha: Any,
    seed_findings: Any,
) -> None:
    from governance.findings.models import Finding

    seed_findings(team_alpha, "churn", [("CVE-2025-1", "critical")])
    f = Finding.objects.get()
    base = live_server.url
    _login(page, base, "member", "pw-member")
    page.goto(f"{base}/findings/")
    # a member is not offered risk acceptance in the row: it offers an exception instead
    options = page.locator(f"#finding-{f.pk} select[name=status] option").all_inner_texts()
    assert "Risk accepted" not in options
    page.click(f"#finding-{f.pk} >> text=request an exception")
    page.wait_for_url(f"**/findings/{f.pk}/#exception")
    page.fill("[data-request-exception] input[name=justification]", "WAF rule blocks the path")
    page.fill("[data-request-exception] input[name=days]", "14")
    page.click("[data-request-exception] button")
    page.wait_for_selector("text=Requested 1 exception(s)")
    assert page.locator("table[data-exceptions] tr[data-status=requested]").count() == 1
    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/**")
    _login(page, base, "lead", "pw-lead")
    page.goto(f"{base}/policies/exceptions/")
    row = page.locator("tr[data-exception]")
    assert f"finding #{f.pk}" in row.locator("a[data-subject]").inner_text()
    row.locator("input[name=reason]").fill("until the patch ships")
    row.locator("button >> text=Approve").click()
    page.wait_for_selector("tr[data-exception][data-status=approved]")
    page.click("tr[data-exception] a[data-subject]")
    page.wait_for_url(f"**/findings/{f.pk}/")
    assert page.locator("td[data-status]").get_attribute("data-status") == "risk_accepted"
    assert "the risk is accepted until" in page.locator("#exception ~ p").first.inner_text()
    assert console == []


def test_tokens_page_title_is_plain_text(
    live_server: Any,
    page: Any,  # noqa: F811
    console: list[str],
    lead: Any,
) -> None:
    _login(page, live_server.url, "lead", "pw-lead")
    page.click("text=API tokens")
    page.wait_for_url("**/tokens/")
    assert page.title() == "API tokens · Alpha · Warden"
    page.fill("input[name=name]", "ci")
    page.click("text=Create token")
    page.wait_for_selector("[data-testid=new-token]")
    assert page.url.endswith("/teams/alpha/tokens/")  # redirected after the POST
    page.reload()
    assert page.locator("[data-testid=new-token]").count() == 0  # shown once
    assert console == []


def test_the_keyboard_walks_the_triage_queue(
    live_server: Any,
    page: Any,  # noqa: F811
    console: list[str],
    member: Any,
    team_alpha: Any,
    seed_findings: Any,
) -> None:
    seed_findings(team_alpha, "churn", [("CVE-A", "critical"), ("CVE-B", "high"), ("CVE-C", "low")])
    base = live_server.url
    _login(page, base, "member", "pw-member")
    page.goto(f"{base}/findings/")
    rows = page.locator("tr[data-finding]")
    page.keyboard.press("j")
    page.keyboard.press("j")
    second = rows.nth(1)
    assert second.evaluate("el => el === document.activeElement")
    page.keyboard.press("x")
    assert second.locator("input[name=ids]").is_checked()
    page.keyboard.press("k")
    assert rows.nth(0).evaluate("el => el === document.activeElement")
    page.keyboard.press("s")
    assert (
        rows.nth(0).locator("select[name=status]").evaluate("el => el === document.activeElement")
    )
    rows.nth(2).focus()
    page.keyboard.press("o")
    page.wait_for_url("**/findings/*/")
    assert "CVE-C" in page.locator("h1").inner_text()
    assert console == []
