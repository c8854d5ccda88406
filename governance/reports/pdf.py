"""HTML to PDF with WeasyPrint, fetching nothing: the only resources a report may load are
Warden's own static files (its stylesheet), read from disk through the static files
finders. Any other URL (a remote image, a file path, a data URI) is refused and recorded, so a
test can prove a report loads nothing it should not and has no broken image. Fonts are the
system's (Debian's fonts-dejavu-core via fontconfig), never downloaded."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders

#: The base URL the report's relative links resolve against: never fetched, only matched.
BASE_URL = "https://warden.invalid/"

logger = logging.getLogger(__name__)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs (pango) are missing."""


def _fetcher_class() -> Any:
    try:
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except (ImportError, OSError) as exc:  # OSError: pango's shared libraries are missing
        raise PdfUnavailable(f"PDF rendering is not available here: {exc}") from exc

    class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
        """Serves ``BASE_URL + STATIC_URL + path`` from the static files; refuses the rest."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("https",), allow_redirects=False)
            self.served: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            prefix = BASE_URL + settings.STATIC_URL.lstrip("/")
            path = url[len(prefix) :].split("?")[0].split("#")[0] if url.startswith(prefix) else ""
            found = _static_file(path) if path and ".." not in path.split("/") else None
            if not found:
                self.refused.append(url[:200])
                raise ValueError(f"the report may only load Warden's static files, not {url[:80]}")
            with open(found, "rb") as fh:
                body = fh.read()
            self.served.append(path)
            mime = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return StaticOnlyFetcher


def _static_file(path: str) -> str | None:
    """A static file on disk: from the finders (the repository's static/), else collected
    under STATIC_ROOT."""
    found = finders.find(path)
    if isinstance(found, str):
        return found
    collected = Path(settings.STATIC_ROOT) / path
    return str(collected) if collected.is_file() else None


def stylesheet_href() -> str:
    """The report stylesheet's URL as the PDF document names it."""
    return BASE_URL + settings.STATIC_URL.lstrip("/") + "reports/report.css"


def pdf_fetcher() -> Any:
    """A fresh fetcher (it records what it served and refused)."""
    return _fetcher_class()()


def html_to_pdf(html: str, *, fetcher: Any = None) -> bytes:
    """The PDF of ``html``. Raises :class:`PdfUnavailable` when WeasyPrint cannot run here."""
    fetcher = fetcher or pdf_fetcher()
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    if fetcher.refused:
        logger.warning("audit report: refused to fetch %s", ", ".join(fetcher.refused))
    return pdf
