"""Sphinx extension: interactive Altair charts that render with the network off.

Altair's HTML output asks for vega, vega-lite and vega-embed from a CDN unless a
page already provides them (it checks ``VEGA_DEBUG``). This extension writes one
self-contained bundle from ``vl-convert-python`` (pinned in requirements.txt)
into ``_static/`` and adds it, synchronously in ``<head>``, to the pages that
contain a chart and only those, together with the ``VEGA_DEBUG`` versions that
tell Altair's loader the libraries are already there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

BUNDLE = "vega-offline.js"
CHART_MARKER = "altair-viz-"


def _altair_versions() -> dict[str, str]:
    """The (library, version) pairs Altair's loader checks, read from its own output."""
    import altair as alt
    import pandas as pd

    html = alt.Chart(pd.DataFrame({"x": [0]})).mark_point().encode(x="x")._repr_mimebundle_()["text/html"]
    pairs = re.findall(r'maybeLoadScript\("([\w-]+)", "([^"]+)"\)', html)
    if not pairs:
        raise RuntimeError("Could not read vega versions from Altair's HTML template; update offline_charts.py.")
    return {f"{lib.replace('-', '', 1)}_version": version for lib, version in pairs}


def _bundle_source() -> str:
    import altair as alt
    import vl_convert as vlc

    vl_minor = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    js = vlc.javascript_bundle(vl_version=vl_minor)
    versions = json.dumps(_altair_versions())
    # The bundle declares top-level consts; a function scope keeps them off the page's globals.
    return (
        "/* vega + vega-lite + vega-embed, bundled by vl-convert-python; BSD-3-Clause licences. */\n"
        f"(function(){{\n{js}\n}})();\n"
        f"var VEGA_DEBUG = Object.assign(window.VEGA_DEBUG || {{}}, {versions});\n"
    )


def _write_bundle(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / BUNDLE
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _bundle_source()
    if not target.exists() or target.read_text(encoding="utf-8") != source:
        target.write_text(source, encoding="utf-8")


def _add_to_chart_pages(app, pagename, templatename, context, doctree) -> None:
    if CHART_MARKER in context.get("body", ""):
        app.add_js_file(BUNDLE, priority=100)


def setup(app):
    app.connect("html-page-context", _add_to_chart_pages)
    app.connect("build-finished", _write_bundle)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
