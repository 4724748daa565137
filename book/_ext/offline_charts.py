"""Sphinx extension: interactive Altair charts that render with the network off.

Altair's HTML output asks for vega, vega-lite and vega-embed from a CDN unless a
page already provides them (it checks ``VEGA_DEBUG``). This extension writes the
self-contained bundle of :func:`helpers.plots.offline_bundle` (built from
``vl-convert-python``, pinned in requirements.txt) into ``_static/`` and adds it,
deferred, to the pages that contain a chart and only those, after the few lines of
:func:`helpers.plots.embed_queue_script` in ``<head>``: they set the ``VEGA_DEBUG``
versions that tell Altair's loader the libraries are there, and queue the charts
until the bundle has run (so that the megabyte of vega does not delay the page).

In ``setup()`` it also sets :data:`helpers.plots.BOOK_BUILD_ENV` in the environment, before any chapter runs:
the kernels myst-nb starts to execute the chapters inherit it, and :func:`helpers.plots.use_book_style` then keeps
Altair's own HTML output, which this extension completes, instead of the self-contained notebook renderer that
readers get in JupyterLab and Colab.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BUNDLE = "vega-offline.js"
CHART_MARKER = "altair-viz-"
ROOT = Path(__file__).resolve().parents[2]


def _plots():
    # The book is built from its repository, so the helpers next to it are the ones to use, installed or not.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from helpers import plots

    return plots


def _bundle_source() -> str:
    return _plots().offline_bundle()


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
        app.add_js_file(None, body=_plots().embed_queue_script(), priority=100)
        app.add_js_file(BUNDLE, priority=100, loading_method="defer")


def setup(app):
    os.environ[_plots().BOOK_BUILD_ENV] = "1"  # inherited by the kernels that execute the chapters
    app.connect("html-page-context", _add_to_chart_pages)
    app.connect("build-finished", _write_bundle)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
