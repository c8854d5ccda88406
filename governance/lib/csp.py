"""A strict Content-Security-Policy on every response (Django 5.2 has none built in).

Warden's pages load every script and style from ``static/`` (no inline script, no inline
style, no CDN), so the policy allows only the site itself: ``script-src 'self'`` with no
``'unsafe-inline'`` or ``'unsafe-eval'``, no plugins, no framing, no foreign form targets.
Chart data travels in ``<script type="application/json">`` blocks, which a browser never
executes, so they need no exception. The exceptions, each for a documented reason:

- ``style-src``: two hashes for the ``<style>`` elements plotly.js creates when it loads
  (``PLOTLY_STYLE_HASHES``). Hashes, not ``'unsafe-inline'``: nothing else is allowed.
- ``img-src data:``: Plotly's mode bar and Swagger UI's stylesheet draw their icons as
  ``data:`` SVG images. An image cannot run code.
- ``/api/docs/`` (Swagger UI from drf-spectacular-sidecar, served by the split view so its
  start-up script is a file, not inline): its page template carries one inline ``<style>``
  block. The policy on that path only adds exactly that block by its SHA-256 hash, computed
  from the installed template at start-up, so an upgrade that changes it cannot widen the
  policy (and tests/web/test_csp_browser.py would report the violation).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from django.http import HttpRequest, HttpResponse

#: plotly.js creates two <style> elements when it loads: an empty one that it then fills
#: through the CSSOM (``insertRule``, which no policy governs), and maplibre's stylesheet for
#: map traces (Warden draws none, but the bundle injects it anyway). The first hash is the empty
#: string's; the second pins maplibre's CSS as shipped in the installed plotly.js (4.1.1). If a
#: Plotly upgrade changes that CSS, tests/web/test_csp_browser.py reports the violation.
PLOTLY_STYLE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
)

POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    # Two hashes, for plotly.min.js (see PLOTLY_STYLE_HASHES); any other <style>, injected or
    # not, stays refused.
    "style-src": "'self' " + " ".join(PLOTLY_STYLE_HASHES),
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}

DOCS_PATH = "/api/docs/"


def _swagger_style_hashes() -> str:
    import drf_spectacular

    template = Path(drf_spectacular.__file__).parent / "templates/drf_spectacular/swagger_ui.html"
    blocks = re.findall(r"<style>(.*?)</style>", template.read_text(), flags=re.DOTALL)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


def render(policy: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = render(POLICY)
        docs_styles = _swagger_style_hashes()
        docs_policy = {**POLICY, "style-src": f"{POLICY['style-src']} {docs_styles}".strip()}
        self.docs_header = render(docs_policy)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A view that sets its own policy keeps it; Swagger UI's page gets its hash.
        header = self.docs_header if request.path_info == DOCS_PATH else self.header
        response.headers.setdefault("Content-Security-Policy", header)
        return response
