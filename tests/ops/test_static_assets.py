"""Static files as `make serve` serves them: hashed names (CompressedManifestStaticFilesStorage),
plotly.min.js pre-compressed (brotli and gzip) and cached for a year by the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.ops.conftest import free_port, http, server_env


def test_make_serve_sends_plotly_compressed_with_a_long_cache_header(
    serve: Any, tmp_path: Path
) -> None:
    server = serve(
        server_env(
            tmp_path,
            PORT=str(free_port()),
            DATABASE_URL=f"sqlite:///{tmp_path / 'w.sqlite3'}",
            WEB_CONCURRENCY="1",
            WEB_THREADS="2",
        ),
        make=True,
    )
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["vendor/plotly/plotly.min.js"]
    assert re.fullmatch(r"vendor/plotly/plotly\.min\.[0-9a-f]{12}\.js", hashed), hashed
    assert (tmp_path / "static" / f"{hashed}.gz").is_file()
    assert (tmp_path / "static" / f"{hashed}.br").is_file()
    plain_size = (tmp_path / "static" / hashed).stat().st_size
    url = f"{server.url}/static/{hashed}"

    for accept, encoding in (("br, gzip", "br"), ("gzip", "gzip")):
        status, headers, body = http("GET", url, headers={"Accept-Encoding": accept})
        assert status == 200
        assert headers["Content-Encoding"] == encoding
        assert headers["Content-Type"].startswith("text/javascript")
        assert "Accept-Encoding" in headers["Vary"]
        cache = headers["Cache-Control"]
        assert "immutable" in cache
        assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= 365 * 24 * 3600  # type: ignore[union-attr]
        assert len(body) < plain_size / 3, (encoding, len(body), plain_size)

    # Without Accept-Encoding, the plain file (a client that cannot decompress still works).
    status, headers, body = http("GET", url, headers={"Accept-Encoding": "identity"})
    assert status == 200
    assert "Content-Encoding" not in headers
    assert len(body) == plain_size
    # Only the hashed copies are kept (and compressed): pages name them through {% static %}.
    css = manifest["css/warden.css"]
    status, headers, _ = http("GET", f"{server.url}/static/{css}")
    assert status == 200
    assert "immutable" in headers["Cache-Control"]
    assert http("GET", f"{server.url}/static/css/warden.css")[0] == 404
    # What Warden never serves is not collected: plotly's Jupyter widget bundle (4.8 MB).
    assert not list((tmp_path / "static").rglob("widgetbundle*"))
    # Source maps are served but not pre-compressed (developer tools only).
    maps = list((tmp_path / "static").rglob("*.map"))
    assert maps
    assert not list((tmp_path / "static").rglob("*.map.br"))
