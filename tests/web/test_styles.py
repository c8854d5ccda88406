"""The stylesheet keeps its promises: AA contrast of the palette, visible keyboard focus,
layouts that fit a 390 px phone, and no inline styles anywhere (the CSP forbids them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory

from governance.lib import errors

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "static" / "css" / "warden.css").read_text()


def _vars() -> dict[str, str]:
    root = re.search(r":root\s*\{([^}]*)\}", CSS)
    assert root
    return dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{3,6})", root.group(1)))


def _luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = []
    for i in (0, 2, 4):
        c = int(h[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


V = _vars()
#: (text, background) as the stylesheet pairs them.
PAIRS = [
    (V["fg"], V["bg"]),
    (V["fg"], V["card"]),
    (V["muted"], V["card"]),
    (V["muted"], V["bg"]),
    (V["muted"], "#fafbfc"),  # table headers
    (V["muted"], "#eef2ff"),  # tier badge
    (V["accent"], V["card"]),  # links
    (V["accent"], V["bg"]),
    ("#ffffff", V["accent"]),  # buttons
    (V["crit"], "#fee4e2"),
    (V["crit"], V["card"]),
    (V["high"], "#ffedd5"),
    (V["high"], V["card"]),
    (V["med"], "#fef9c3"),
    (V["med"], "#fef3c7"),
    (V["low"], "#dcfce7"),
    ("#e5e7eb", "#111827"),  # the top bar's links
    ("#9ca3af", "#111827"),  # the top bar's user name
]


@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_palette_meets_wcag_aa_for_normal_text(fg: str, bg: str) -> None:
    assert contrast(fg, bg) >= 4.5, f"{fg} on {bg}: {contrast(fg, bg):.2f}:1"


def test_focus_is_visible_and_layout_has_narrow_breakpoints() -> None:
    assert re.search(r":focus-visible\s*\{[^}]*outline:\s*3px solid", CSS)
    assert "@media (max-width: 600px)" in CSS
    assert "@media (max-width: 900px)" in CSS
    narrow = CSS[CSS.index("@media (max-width: 900px)") :]
    assert re.search(r"table\.grid\s*\{[^}]*overflow-x:\s*auto", narrow)
    assert re.search(r"\.topbar\s*\{[^}]*flex-wrap:\s*wrap", narrow)
    # Grid columns never demand more than the screen is wide.
    assert "minmax(min(360px, 100%), 1fr)" in CSS


def test_no_template_has_inline_style() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "templates").rglob("*.html")
        if re.search(r"<style|\sstyle=", re.sub(r"\{#.*?#\}", "", p.read_text()))
    ]
    assert not offenders


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [("/no-such-page/", 404, "Not found"), ("/policies/999999/", 404, "Not found")],
)
def test_error_pages_use_the_site_layout(
    client_of: Any, member: Any, path: str, status: int, heading: str
) -> None:
    response = client_of(member).get(path)
    assert response.status_code == status
    html = response.content.decode()
    assert f"<h1>{heading}</h1>" in html
    assert 'class="topbar"' in html
    assert 'class="skip-link"' in html
    assert 'class="error-page card"' in html
    assert re.search(r'<link rel="stylesheet" href="/static/css/warden[^"]*\.css">', html)


@pytest.mark.django_db
def test_403_and_500_pages_are_styled(member: Any) -> None:
    for view, code, heading in (
        (lambda r: errors.permission_denied(r, Exception()), 403, "You cannot do this here"),
        (errors.server_error, 500, "Something went wrong"),
    ):
        response = view(RequestFactory().get("/somewhere/"))
        html = response.content.decode()
        assert response.status_code == code
        assert f"<h1>{heading}</h1>" in html
        assert f'data-error="{code}"' in html
        assert 'class="topbar"' in html
