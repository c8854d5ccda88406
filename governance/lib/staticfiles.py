"""collectstatic without what Warden never serves: the plotly package's directory is a static
root for ``plotly.min.js``, but it also ships ``widgetbundle.js`` (4.8 MB, Jupyter widgets),
which would otherwise be hashed and compressed (gzip and brotli) on every deploy."""

from __future__ import annotations

from django.contrib.staticfiles.apps import StaticFilesConfig


class WardenStaticFilesConfig(StaticFilesConfig):
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "widgetbundle.js"]
