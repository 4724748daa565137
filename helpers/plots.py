"""One look for every chart in the book, and the chart builders chapters share.

Three promises:

* **one theme** (fonts, sizes, a colour-blind-safe palette), switched on with
  :func:`use_book_style`;
* **a fixed colour per group**: a group that appears in several chapters (say
  ``"afam"`` in the census chapters) is drawn in the same colour everywhere, see
  :func:`group_colors`;
* **accessible, interactive charts**: every builder requires a title and a
  one-sentence description (Vega renders it as the chart's ARIA label for screen
  readers), draws SVG, and adds tooltips and a clickable legend.

The charts are plain Altair objects, so readers can keep layering on them. :func:`offline_bundle` and
:func:`chart_spec` let a chart be drawn without the network, in the book (``book/_ext/offline_charts.py``) and
in the stand-alone reports of :mod:`helpers.audit`; :func:`offline_html_renderer`, which :func:`use_book_style`
switches on outside the book build, does the same for a chapter run as a notebook in JupyterLab or Colab.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import pandas as pd

from helpers._docs import fill_doc
from helpers._validate import (MAX_COUNT, as_float_array, finite_scalar, flag, has_columns, label, label_list,
                               positive_int, sequence)

#: Chart background in both colour schemes: in dark mode a chart is a white card (book/_static/reader.css), so
#: one palette and one set of text colours serve both.
BACKGROUND = "#ffffff"
#: The Okabe and Ito colour-blind-safe colours that reach WCAG's 3:1 non-text contrast on :data:`BACKGROUND`
#: (their orange, sky blue and yellow do not, and are left out).
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
#: Paul Tol's colour-blind-safe colours that reach 3:1 on :data:`BACKGROUND`: the dark yellow of his
#: high-contrast scheme, standing in for Okabe and Ito's orange, and the darker half of his "muted" scheme.
TOL_MUTED: tuple[str, ...] = ("#997700", "#332288", "#117733", "#AA4499", "#882255", "#999933", "#CC6677")
#: Every group colour, in the order groups receive them. Beyond this many groups colours repeat, and
#: :func:`group_shapes` gives the points of each repeat a shape of its own.
PALETTE: tuple[str, ...] = OKABE_ITO + TOL_MUTED
#: Point shapes, in the order repeated colours receive them (Vega's names).
SHAPES: tuple[str, ...] = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down")
#: Colour of aggregates (always black, because the pooled law is what the book questions).
AGGREGATE_COLOR = "#000000"
AGGREGATE_NAMES = frozenset({"overall", "pooled", "aggregate", "all"})

#: Groups that recur across chapters keep one colour everywhere.
GROUP_COLORS: dict[str, str] = {
    # race and ethnicity (CPS 1988, 1980 census, GSS, CCES)
    "cauc": "#0072B2", "white": "#0072B2", "White": "#0072B2",
    "afam": "#D55E00", "black": "#D55E00", "Black": "#D55E00",
    "hispanic": "#009E73", "Hispanic": "#009E73",
    "other": "#CC79A7", "Other": "#CC79A7",
    "Asian": "#997700", "Mixed": "#332288", "Native American": "#882255",
    "Middle Eastern": "#999933",
    # census regions
    "northeast": "#332288", "midwest": "#117733", "south": "#CC6677", "west": "#997700",
    # sex and gender as the datasets code them
    "Male": "#117733", "male": "#117733", "M": "#117733",
    "Female": "#AA4499", "female": "#AA4499", "F": "#AA4499",
    # simulated majority/minority groups
    "majority": "#0072B2", "minority": "#D55E00",
}

FONT = "Source Sans Pro, Helvetica Neue, Arial, sans-serif"
#: vega-embed options of every book chart: SVG, and an action menu with image export only (no off-site links).
EMBED_OPTIONS: dict[str, Any] = {
    "renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}


#: Docstring fragments shared by the per-group colour and shape maps (helpers._docs).
_doc = fill_doc({"groups_in": """
Parameters
----------
groups : iterable
    Group labels (converted to ``str``).

Returns
-------
dict""", "groups_raises": """
Raises
------
ValueError
    If ``groups`` is empty."""})


@_doc
def group_colors(groups: Iterable[object]) -> dict[str, str]:
    """Assign each group a colour, fixed for groups the book knows.

    Known groups (:data:`GROUP_COLORS`) and aggregates (``"overall"``, ``"pooled"``)
    keep their colour in every chapter; other groups get unused palette colours in
    sorted order, so the same set of groups always gets the same colours.

    {{groups_in}}
        Group label to hex colour.

    {{groups_raises}}

    Examples
    --------
    >>> from helpers.plots import group_colors
    >>> group_colors(["afam", "cauc", "overall"])["afam"]
    '#D55E00'
    """
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Iterable):
        raise ValueError(f"groups must be a list of group labels, e.g. groups=['a', 'b']; got {groups!r}.")
    labels = sorted({str(g) for g in groups})
    if not labels:
        raise ValueError("groups is empty; pass at least one group label.")
    colors: dict[str, str] = {}
    for g in labels:
        if g.lower() in AGGREGATE_NAMES:
            colors[g] = AGGREGATE_COLOR
        elif g in GROUP_COLORS:
            colors[g] = GROUP_COLORS[g]
    spare = [c for c in PALETTE if c not in colors.values()] or list(PALETTE)
    for i, g in enumerate(g for g in labels if g not in colors):
        colors[g] = spare[i % len(spare)]
    return colors


@_doc
def group_shapes(groups: Iterable[object]) -> dict[str, str]:
    """A point shape per group, so that groups sharing a colour (more groups than colours) still differ.

    The first group of each colour (in sorted order) is a circle, the second to share it a square, and so on
    through :data:`SHAPES`; with no more groups than colours every group is a circle.

    {{groups_in}}
        Group label to a Vega shape name.

    {{groups_raises}}

    Examples
    --------
    >>> from helpers.plots import group_shapes, PALETTE
    >>> shapes = group_shapes([f"g{i:02d}" for i in range(len(PALETTE) + 1)])
    >>> sorted(set(shapes.values()))
    ['circle', 'square']
    """
    colors = group_colors(groups)
    seen: dict[str, int] = {}
    shapes: dict[str, str] = {}
    for g, c in colors.items():
        shapes[g] = SHAPES[seen.get(c, 0) % len(SHAPES)]
        seen[c] = seen.get(c, 0) + 1
    return shapes


def _scale(mapping: dict[str, str]) -> alt.Scale:
    """A categorical Altair scale sending each key of ``mapping`` to its value (domain in the mapping's order)."""
    return alt.Scale(domain=list(mapping), range=list(mapping.values()))


def shape_scale(groups: Iterable[object]) -> alt.Scale:
    """The shapes of :func:`group_shapes` as an Altair scale, for ``alt.Shape(..., scale=shape_scale(groups))``.

    Examples
    --------
    >>> from helpers.plots import shape_scale, PALETTE
    >>> scale = shape_scale([f"g{i:02d}" for i in range(len(PALETTE) + 1)])  # one group more than colours
    >>> scale.to_dict()["range"][-1]
    'square'
    """
    return _scale(group_shapes(groups))


def color_scale(groups: Iterable[object]) -> alt.Scale:
    """The colours of :func:`group_colors` as an Altair scale, for ``alt.Color(..., scale=color_scale(groups))``.

    Examples
    --------
    >>> from helpers.plots import color_scale
    >>> color_scale(["south", "west"]).to_dict()["domain"]
    ['south', 'west']
    """
    return _scale(group_colors(groups))


def _theme() -> dict:
    return {
        "config": {
            "font": FONT,
            "background": BACKGROUND,
            "view": {"continuousWidth": 420, "continuousHeight": 280, "stroke": None},
            "title": {"fontSize": 15, "anchor": "start", "fontWeight": 600, "subtitleFontSize": 12, "limit": 340},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e6e6e6",
                     "domainColor": "#767676", "tickColor": "#767676", "labelColor": "#333", "titleColor": "#222",
                     "titleLimit": 320},
            # Below the plot, one entry a line: a legend never widens a chart beyond a phone's column, and its
            # swatches are drawn at full strength (a selection is shown on the marks, see _LEGEND_PATCH).
            "legend": {"orient": "bottom", "direction": "vertical", "labelFontSize": 12, "titleFontSize": 12,
                       "symbolSize": 90, "labelLimit": 300, "symbolOpacity": 1, "columns": 1,
                       "layout": {"bottom": {"anchor": "start", "direction": "vertical"}}},
            "range": {"category": list(PALETTE)},
            "line": {"strokeWidth": 2},
            "point": {"size": 45, "filled": True},
        }
    }


def responsive_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The specification with a single or layered chart as wide as its column.

    A single view or a layer gets ``width="container"`` (the page's CSS caps it, book/_static/reader.css): it
    fits any column from a phone's up, whatever width the chart was built with. Vega-Lite cannot size facets and
    concatenations to their container; those keep their size and the page's CSS scales them down to the
    column. The input is not changed.

    Parameters
    ----------
    spec : dict
        A Vega-Lite specification (``chart.to_dict()``).

    Returns
    -------
    dict
        A copy, resized as above.

    Raises
    ------
    ValueError
        If ``spec`` is not a dict.

    Examples
    --------
    >>> from helpers.plots import responsive_spec
    >>> responsive_spec({"mark": "point", "width": 420})["width"]
    'container'
    >>> responsive_spec({"hconcat": [], "width": 420})["width"]
    420
    """
    if not isinstance(spec, dict):
        raise ValueError("spec must be a Vega-Lite specification as a dict (chart.to_dict()).")
    out = dict(spec)
    compound = any(k in out for k in ("facet", "hconcat", "vconcat", "concat", "repeat"))
    if not compound and ("mark" in out or "layer" in out):
        out["width"] = "container"
        out.pop("autosize", None)
    return out


#: Environment variable the book's Sphinx extension (``book/_ext/offline_charts.py``) sets in ``setup()``; the
#: kernels that myst-nb starts to execute the chapters inherit it, so :func:`use_book_style` knows it is in the build.
BOOK_BUILD_ENV = "SCALING_BOOK_BUILD"
#: Name of :func:`offline_html_renderer` in ``altair.renderers``.
OFFLINE_RENDERER = "book-offline"
#: Class of the element every offline chart is drawn in (tests and readers' CSS can find it).
OFFLINE_CHART_CLASS = "book-chart"
#: Name of :func:`book_html_renderer` in ``altair.renderers``.
BOOK_RENDERER = "book-html"
#: Class of the collapsible data table under every chart (:func:`data_table_html`).
DATA_TABLE_CLASS = "book-chart-data"
#: Rows of each dataset the table under a chart shows; the notebook has the rest.
DATA_TABLE_ROWS = 150


def in_book_build() -> bool:
    """Whether this process runs inside the book's Sphinx build (see :data:`BOOK_BUILD_ENV`).

    Examples
    --------
    >>> import os
    >>> from helpers.plots import in_book_build, BOOK_BUILD_ENV
    >>> in_book_build() == (os.environ.get(BOOK_BUILD_ENV) == "1")
    True
    """
    return os.environ.get(BOOK_BUILD_ENV) == "1"


def use_book_style() -> None:
    """Switch on the book's theme, embed options and a renderer that draws charts with no network.

    Charts are drawn as SVG (readable by screen readers, crisp when zoomed) and the
    action menu offers image export only (no links that leave the page).

    Where the chart is drawn depends on where the chapter runs:

    * **in the book build** (the Sphinx extension sets :data:`BOOK_BUILD_ENV`), :func:`book_html_renderer`:
      Altair's own HTML output, which the extension completes with one shared copy of :func:`offline_bundle`
      per page;
    * **anywhere else** (JupyterLab on Binder or a course hub, Colab, VS Code, Notebook 7),
      :func:`offline_html_renderer`: every chart output carries vega itself, from the installed
      ``vl-convert-python``, instead of Altair's default, which loads vega from a CDN and leaves the chart blank
      offline.

    Examples
    --------
    >>> from helpers.plots import use_book_style, OFFLINE_RENDERER, BOOK_RENDERER, in_book_build
    >>> use_book_style()
    >>> import altair as alt
    >>> alt.theme.active
    'book'
    >>> alt.renderers.active == (BOOK_RENDERER if in_book_build() else OFFLINE_RENDERER)
    True
    """
    alt.theme.register("book", enable=True)(_theme)
    alt.renderers.enable(BOOK_RENDERER if in_book_build() else OFFLINE_RENDERER)
    alt.renderers.set_embed_options(**EMBED_OPTIONS)


def offline_html_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """An Altair renderer whose HTML draws the chart with no network: vega comes inside the output.

    Registered as :data:`OFFLINE_RENDERER` and switched on by :func:`use_book_style` outside the book build. The
    ``text/html`` output holds a ``<div>``, the :func:`offline_bundle` (vega, vega-lite and vega-embed from the
    installed ``vl-convert-python``) and a call to ``vegaEmbed``; it never loads a script from anywhere. The
    ``text/plain`` part is the chart's title and description, for frontends that cannot run HTML, and the
    ``<div>`` shows the same text until the script replaces it with the chart (so an untrusted notebook in
    JupyterLab, which does not run output scripts, says what is missing instead of showing nothing).

    Why a renderer of our own rather than one of Altair's (checked against Altair 6.3 and JupyterLab 4.6):

    * Altair's ``default``/``html``/``colab`` renderers load vega from a CDN (``cdn.jsdelivr.net``): blank
      charts offline, and a third-party request from every reader.
    * ``mimetype``/``jupyterlab`` emit ``application/vnd.vegalite.v6+json``; JupyterLab 4's built-in
      ``@jupyterlab/vega5-extension`` renders only Vega-Lite v3 to v5, and Colab renders none of them.
    * ``jupyter`` with ``offline=True`` (``alt.JupyterChart.enable_offline()``) is an anywidget: offline in
      JupyterLab, but Colab displays third-party widgets only through its custom widget manager, which loads
      widget code from third-party sites; and a widget output draws nothing once its kernel is gone.
    * Altair's ``template="inline"`` HTML is a whole page meant for ``chart.save(..., inline=True)``: it declares
      top-level ``const`` names, so in JupyterLab, where all outputs share one page, the second chart on the page
      fails with a redeclaration error.

    Here the bundle runs in a function scope and only when the page does not have it yet, and the spec is
    passed to a function, so any number of charts can share a JupyterLab page, while in Colab, which renders
    each output in an iframe of its own, every output is complete on its own. JupyterLab runs output scripts
    only for trusted outputs: those of cells run in the session, and those of notebooks the reader saved.
    The price is size: each chart output carries the bundle (about 0.9 MB).

    Parameters
    ----------
    spec : dict
        The Vega-Lite specification (Altair passes it after its data transformers).
    **metadata
        Renderer options; ``embed_options`` is passed to ``vegaEmbed`` (:func:`use_book_style` sets
        :data:`EMBED_OPTIONS`).

    Returns
    -------
    dict
        A mimebundle with ``text/html`` and ``text/plain``.

    Examples
    --------
    >>> import altair as alt, pandas as pd
    >>> from helpers.plots import offline_html_renderer
    >>> spec = alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x").to_dict()
    >>> bundle = offline_html_renderer(spec)
    >>> "window.vegaEmbed" in bundle["text/html"] and "<script src" not in bundle["text/html"]
    True
    """
    _check_spec(spec)
    embed_options = {"mode": "vega-lite", **(metadata.get("embed_options") or {})}
    # No container width here: an output's frame (Colab's iframe) may have no width yet when the chart is drawn.
    table = data_table_html(spec)
    div = f"{OFFLINE_CHART_CLASS}-{uuid.uuid4().hex}"
    vl_version = json.dumps(alt.VEGALITE_VERSION)
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    text = [t if isinstance(t, str) else " ".join(map(str, t)) for t in (title, spec.get("description")) if t]
    plain = ": ".join(text) or "<Altair chart>"
    html_out = (
        f'<div id="{div}" class="{OFFLINE_CHART_CLASS}"><p class="{OFFLINE_CHART_CLASS}-placeholder">'
        f"Chart: {html.escape(plain)} (run the cell to draw it; JupyterLab draws the charts saved in a notebook "
        "only once the notebook is trusted)</p></div>\n"
        '<script type="text/javascript">\n'
        "if (typeof window.vegaEmbed !== 'function' || !window.VEGA_DEBUG\n"
        f"    || window.VEGA_DEBUG.vegalite_version !== {vl_version}) {{\n"
        f"{offline_bundle()}\n}}\n"
        "</script>\n"
        '<script type="text/javascript">\n'
        "(function (spec, embedOpt) {\n"
        f"  var el = document.getElementById({json.dumps(div)});\n"
        "  el.textContent = '';\n"
        "  window.vegaEmbed(el, spec, embedOpt).catch(function (err) {\n"
        "    el.textContent = 'The chart could not be drawn: ' + err;\n"
        "  });\n"
        f"}})({_script_json(spec)}, {_script_json(embed_options)});\n"
        "</script>\n" + table
    )
    return {"text/html": html_out, "text/plain": plain}


def book_html_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """The renderer of the book build: Altair's HTML output, as wide as the column, with the chart's data under it.

    Registered as :data:`BOOK_RENDERER`; :func:`use_book_style` switches it on in the book build. The chart is
    Altair's own ``html`` output of :func:`responsive_spec` (the book's Sphinx extension adds the vega bundle to
    the page), followed by :func:`data_table_html`.

    Parameters
    ----------
    spec : dict
        The Vega-Lite specification.
    **metadata
        Renderer options, passed to Altair's renderer.

    Returns
    -------
    dict
        A mimebundle with ``text/html``.

    Examples
    --------
    >>> import altair as alt, pandas as pd
    >>> from helpers.plots import book_html_renderer, DATA_TABLE_CLASS
    >>> chart = alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x").properties(title="T", description="D.")
    >>> html = book_html_renderer(chart.to_dict())["text/html"]
    >>> "vegaEmbed(" in html and DATA_TABLE_CLASS in html and '"width": "container"' in html
    True
    """
    from altair.vegalite.v6.display import html_renderer

    out = html_renderer(responsive_spec(spec), **metadata)
    bundle = dict(out[0] if isinstance(out, tuple) else out)
    bundle["text/html"] = bundle["text/html"] + "\n" + data_table_html(spec)
    return bundle


def _check_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        raise ValueError(f"spec must be a Vega-Lite specification (a dict, e.g. chart.to_dict()); got {spec!r}.")


def _check_chart(chart: Any) -> None:
    if not isinstance(chart, alt.TopLevelMixin):
        raise ValueError(f"chart must be an Altair chart (alt.Chart(...) or a layer of them); got {chart!r}.")


def _optional_text(value: Any, name: str) -> None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be text or None; got {value!r}.")


def _size(value: Any, name: str) -> int:
    """A chart's width or height in pixels."""
    return positive_int(value, name, maximum=100_000)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        # whole numbers as whole numbers (120,000, not 120000.0), others to four significant digits
        if float(value).is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) < 1e15 else f"{value:.3e}"
    return html.escape(str(value))


def data_table_html(spec: dict[str, Any], *, max_rows: int = DATA_TABLE_ROWS) -> str:
    """The data behind a chart as HTML tables, collapsed under the chart (``<details>``).

    Keyboard and screen-reader users read the values here that mouse users read from tooltips. One table per
    dataset of the specification (a layered chart may have several), each with at most ``max_rows`` rows.

    Parameters
    ----------
    spec : dict
        A Vega-Lite specification with its data in ``datasets`` (Altair's default) or ``data.values``.
    max_rows : int, default DATA_TABLE_ROWS
        Rows shown of each dataset; the caption says when there are more.

    Returns
    -------
    str
        HTML; empty if the specification carries no data.

    Raises
    ------
    ValueError
        If ``max_rows`` is not a positive integer.

    Examples
    --------
    >>> from helpers.plots import data_table_html
    >>> html = data_table_html({"title": "T", "data": {"values": [{"n": 120000.0, "g": "a"}]}})
    >>> "<summary>Data behind the chart: T</summary>" in html and "<td>120,000</td>" in html
    True
    """
    _check_spec(spec)
    max_rows = positive_int(max_rows, "max_rows", maximum=MAX_COUNT)
    frames = [rows for rows in (spec.get("datasets") or {}).values() if isinstance(rows, list) and rows]
    values = (spec.get("data") or {}).get("values") if isinstance(spec.get("data"), dict) else None
    if isinstance(values, list) and values:
        frames.append(values)
    frames = [rows for rows in frames if all(isinstance(r, dict) for r in rows)]
    if not frames:
        return ""
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    title = " ".join(map(str, title)) if isinstance(title, list) else (title or "chart")
    tables = []
    for i, rows in enumerate(frames, start=1):
        columns = list(dict.fromkeys(k for r in rows[:max_rows] for k in r))
        shown = rows[:max_rows]
        what = f"Table {i} of {len(frames)}: " if len(frames) > 1 else ""
        more = (f"the first {len(shown):,} of {len(rows):,} rows (the notebook has them all)"
                if len(rows) > len(shown) else f"{len(rows):,} rows")
        head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in shown)
        tables.append(
            f'<div class="{DATA_TABLE_CLASS}-scroll" tabindex="0" role="region" '
            f'aria-label="{html.escape(what + title)} data">'
            f"<table><caption>{html.escape(what)}{more}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
    return (f'<details class="{DATA_TABLE_CLASS}"><summary>Data behind the chart: {html.escape(str(title))}'
            f"</summary>{''.join(tables)}</details>")


def _script_json(value: object) -> str:
    """JSON that is safe inside an HTML ``<script>`` element (no ``</script``, no ``<!--``)."""
    return json.dumps(value).replace("<", "\\u003c")


# Registered on import, so a reader can also switch it on by name: ``alt.renderers.enable("book-offline")``.
alt.renderers.register(OFFLINE_RENDERER, offline_html_renderer)
alt.renderers.register(BOOK_RENDERER, book_html_renderer)


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite specification of a chart in the book's theme, whatever theme is active.

    Parameters
    ----------
    chart : altair chart
        Any top-level Altair chart.

    Returns
    -------
    dict
        The JSON-ready specification, with the data inlined, for ``vegaEmbed`` in a page that has
        :func:`offline_bundle`.

    Examples
    --------
    >>> import altair as alt, pandas as pd
    >>> from helpers.plots import chart_spec, FONT
    >>> spec = chart_spec(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x"))
    >>> spec["config"]["font"] == FONT
    True
    """
    _check_chart(chart)
    alt.theme.register("book", enable=False)(_theme)
    # The specification is for a self-contained page that carries its data anyway, so Altair's 5,000-row guard
    # (meant to keep notebooks small) would only turn a large report into a MaxRowsError.
    with alt.theme.enable("book"), alt.data_transformers.disable_max_rows():
        return chart.to_dict()


def _altair_versions() -> dict[str, str]:
    """The (library, version) pairs Altair's loader checks, read from the output of its own HTML renderer."""
    with alt.renderers.enable("html"):  # whichever renderer is active (it may be ours, which has no loader)
        html = alt.Chart(pd.DataFrame({"x": [0]})).mark_point().encode(x="x")._repr_mimebundle_()["text/html"]
    pairs = re.findall(r'maybeLoadScript\("([\w-]+)", "([^"]+)"\)', html)
    if not pairs:
        raise RuntimeError("Could not read vega versions from Altair's HTML template; update helpers/plots.py.")
    return {f"{lib.replace('-', '', 1)}_version": version for lib, version in pairs}


@functools.cache
def offline_bundle() -> str:
    """vega, vega-lite and vega-embed as one script, so that charts draw with the network off.

    Altair's HTML asks a CDN for the three libraries unless the page already has them, which it checks with
    the ``VEGA_DEBUG`` versions. The script defines ``window.vegaEmbed`` from the bundle that
    ``vl-convert-python`` ships for Altair's Vega-Lite version, and sets ``VEGA_DEBUG`` so that Altair's loader
    finds them. The book serves it as a static file of its own (``book/_ext/offline_charts.py``);
    :mod:`helpers.audit` inlines it in its reports. Built once per process (about a megabyte, a second or so).

    Returns
    -------
    str
        JavaScript source; safe to inline in a ``<script>`` element (it contains no ``</script`` or ``<!--``).

    Examples
    --------
    >>> from helpers.plots import offline_bundle
    >>> js = offline_bundle()
    >>> "window.vegaEmbed" in js and "VEGA_DEBUG" in js
    True
    """
    import vl_convert as vlc  # only needed here: an optional, pinned dependency of Altair's offline modes

    vl_minor = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    js = vlc.javascript_bundle(vl_version=vl_minor)
    if "</script" in js.lower() or "<!--" in js:
        raise RuntimeError("The vega bundle contains '</script' or '<!--' and cannot be inlined in a page; "
                           "update helpers/plots.py.")
    versions = json.dumps(_altair_versions())
    # The bundle declares top-level consts; a function scope keeps them off the page's globals.
    return (
        "/* vega + vega-lite + vega-embed, bundled by vl-convert-python; BSD-3-Clause licences. */\n"
        f"(function(){{\n{js}\n}})();\n"
        f"var VEGA_DEBUG = Object.assign(window.VEGA_DEBUG || {{}}, {versions});\n"
        + _EMBED_PATCH
    )


# Applied by vega-embed to every compiled chart (its `patch` option), wherever the bundle runs: in the book, in
# notebooks and in audit reports. Legend swatches stay at full strength (Vega-Lite fades the unselected ones to
# 0.35, below 3:1 for most colours); the selected entry is shown by emphasis instead (a bold label), and the
# marks of the other groups fade.
# SI tick labels and tooltips say B for billions, not G. Charts drawn before the bundle arrived (the book
# defers it, book/_ext/offline_charts.py queues the calls) are drawn now.
_EMBED_PATCH = r"""(function () {
  var embed = window.vegaEmbed;
  if (typeof embed !== 'function' || embed.bookPatched) { return; }
  var SI = /format\((datum(?:\.\w+|\[[^\]]+\])), *("[^"]*s"|'[^']*s')\)/g;
  function billions(expr) { return expr.replace(SI, 'replace(format($1, $2), "G", "B")'); }
  function legend(l) {
    var enc = l.encode = l.encode || {};
    ['symbols', 'labels'].forEach(function (part) {
      var p = enc[part] = enc[part] || {}; var u = p.update = p.update || {};
      var test = Array.isArray(u.opacity) && u.opacity[0] && u.opacity[0].test;
      u.opacity = {value: 1};
      if (!test) { return; }
      var chosen = test.replace(/^\(!length\((data\("[^"]+"\))\) \|\| /, '(length($1) && ');
      if (chosen === test) { return; }
      // Vega's legend layout does not accept production rules on symbols: the label carries the emphasis.
      if (part === 'labels') { u.fontWeight = [{test: chosen, value: 'bold'}, {value: 'normal'}]; }
    });
  }
  function axis(a) {
    if (typeof a.format === 'string' && /s$/.test(a.format)) {
      var enc = a.encode = a.encode || {}; var lab = enc.labels = enc.labels || {};
      lab.update = lab.update || {};
      // datum.label is Vega's own label (a log axis leaves most ticks unlabelled), so only the letter changes
      lab.update.text = {signal: 'replace(datum.label, "G", "B")'};
    }
  }
  function described(enc) {
    return Object.keys(enc || {}).some(function (k) { return enc[k] && (enc[k].description || enc[k].tooltip); });
  }
  function walk(node) {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (!node || typeof node !== 'object') { return; }
    // Marks with neither description nor tooltip are decoration (guides, reference rules): hidden from screen
    // readers, which read the chart's description and its data table instead. The others get a name of their
    // own: a mark with no item in some facet cell is still drawn there as an empty container, which Vega marks
    // up as a graphics symbol named by the mark's description, so without one it has no text alternative.
    if (Array.isArray(node.marks)) {
      node.marks.forEach(function (m) {
        if (!m || !m.type || m.type === 'group' || m.aria !== undefined) { return; }
        if (!described(m.encode)) { m.aria = false; }
        else if (m.description === undefined) { m.description = m.type + ' marks'; }
      });
    }
    if (Array.isArray(node.legends)) { node.legends.forEach(legend); }
    if (Array.isArray(node.axes)) { node.axes.forEach(axis); }
    Object.keys(node).forEach(function (k) {
      if (typeof node[k] === 'string' && (k === 'signal' || k === 'expr')) { node[k] = billions(node[k]); }
      else if (node[k] && typeof node[k] === 'object') { walk(node[k]); }
    });
  }
  function named(el) {
    var node = typeof el === 'string' ? document.querySelector(el) : el;
    var summary = node && node.querySelector('details > summary');
    if (summary && !summary.getAttribute('aria-label')) { summary.setAttribute('aria-label', 'Chart menu: save as image'); }
  }
  function patched(el, spec, opt) {
    opt = Object.assign({}, opt || {});
    var user = opt.patch;
    opt.patch = function (vg) { if (typeof user === 'function') { vg = user(vg); } walk(vg); return vg; };
    return embed(el, spec, opt).then(function (result) { named(el); return result; });
  }
  Object.keys(embed).forEach(function (k) { patched[k] = embed[k]; });
  patched.bookPatched = true;
  window.vegaEmbed = patched;
  var queued = window.bookVegaQueue || [];
  window.bookVegaQueue = null;
  queued.forEach(function (q) { patched.apply(null, q.args).then(q.resolve, q.reject); });
})();
"""


def embed_queue_script() -> str:
    """A few lines for a page's ``<head>`` that let the page load :func:`offline_bundle` deferred.

    Altair's chart output calls ``vegaEmbed`` as soon as the page's parser reaches it. With this script in the
    head, that call is queued (and Altair's loader finds the ``VEGA_DEBUG`` versions, so it asks no CDN); the
    bundle, loaded with ``defer`` so that it does not hold up the first paint, draws the queued charts when it
    runs. The book's Sphinx extension (``book/_ext/offline_charts.py``) puts it on chart pages.

    Returns
    -------
    str
        JavaScript source.

    Examples
    --------
    >>> from helpers.plots import embed_queue_script
    >>> "bookVegaQueue" in embed_queue_script()
    True
    """
    versions = json.dumps(_altair_versions())
    return (
        f"window.VEGA_DEBUG = Object.assign(window.VEGA_DEBUG || {{}}, {versions});\n"
        "if (typeof window.vegaEmbed !== 'function') {\n"
        "  window.bookVegaQueue = [];\n"
        "  window.vegaEmbed = function () {\n"
        "    var args = arguments;\n"
        "    return new Promise(function (resolve, reject) {\n"
        "      window.bookVegaQueue.push({args: args, resolve: resolve, reject: reject});\n"
        "    });\n"
        "  };\n"
        "}\n"
    )


def require_text_alternative(chart: alt.TopLevelMixin, *, title: str, description: str) -> alt.TopLevelMixin:
    """Give a chart the title and one-sentence description every book chart needs.

    Parameters
    ----------
    chart : altair chart
        Any top-level Altair chart.
    title : str
        Short visible title.
    description : str
        One sentence saying what the chart shows; Vega uses it as the SVG's ARIA label.

    Returns
    -------
    altair chart
        The same chart with ``title`` and ``description`` set.

    Raises
    ------
    ValueError
        If either text is empty.

    Examples
    --------
    >>> import altair as alt, pandas as pd
    >>> from helpers.plots import require_text_alternative
    >>> c = alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x")
    >>> require_text_alternative(c, title="T", description="A dot.").to_dict()["description"]
    'A dot.'
    """
    _check_chart(chart)
    for name, text in (("title", title), ("description", description)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"Every chart needs a non-empty {name} (it is the text alternative for screen readers).")
    return chart.properties(title=title, description=description)


def _tooltip(df: pd.DataFrame, columns: Sequence[str]) -> list[alt.Tooltip]:
    tips = []
    for c in columns:
        if pd.api.types.is_numeric_dtype(df[c]):
            tips.append(alt.Tooltip(c, type="quantitative", format=",.4~g"))
        else:
            tips.append(alt.Tooltip(c, type="nominal"))
    return tips


def _log_axis(frames: Sequence[pd.DataFrame], column: str) -> alt.Axis | object:
    """Tick labels for a log axis: SI prefixes (1k, 10M) for sizes, powers of ten beyond them, plain otherwise."""
    values = pd.concat([pd.to_numeric(f[column], errors="coerce") for f in frames]).abs()
    top = values.max()
    if not top or pd.isna(top) or top < 1e4:
        return alt.Undefined
    # SI prefixes past tera (1P, 1E, 1Z, 1Y) are unfamiliar to most readers; scientific notation is not.
    return alt.Axis(format="~s" if top < 1e15 else ".0e")


def scaling_chart(
    points: pd.DataFrame | None = None,
    *,
    x: str,
    y: str,
    title: str,
    description: str,
    group: str | None = None,
    curves: pd.DataFrame | None = None,
    lower: str | None = None,
    upper: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    log_x: bool = True,
    log_y: bool = True,
    width: int = 420,
    height: int = 280,
) -> alt.LayerChart:
    """Log-log scaling plot: measured points, fitted curves and a CI band per group.

    Parameters
    ----------
    points : DataFrame, optional
        Measured points, one row each, with columns ``x``, ``y`` (and ``group``).
    x, y : str
        Column names for size and metric (shared by ``points`` and ``curves``).
    title, description : str
        Visible title and one-sentence text alternative (both required).
    group : str, optional
        Column that identifies the group; colours follow :func:`group_colors` (and shapes
        :func:`group_shapes` when there are more groups than colours), and clicking a legend
        entry highlights that group.
    curves : DataFrame, optional
        Fitted curves evaluated on a grid: columns ``x``, ``y`` (and ``group``).
    lower, upper : str, optional
        Columns of ``curves`` holding a confidence band around the curve.
    x_title, y_title : str, optional
        Axis titles (default: the column names).
    log_x, log_y : bool, default True
        Logarithmic axes.
    width, height : int
        Size in pixels. In the book the width gives way to the column's (:func:`responsive_spec`).

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        If neither ``points`` nor ``curves`` is given, a named column is missing,
        or only one of ``lower``/``upper`` is given.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from helpers.plots import scaling_chart
    >>> pts = pd.DataFrame({"n": [1e2, 1e3, 1e4], "loss": [1.0, 0.5, 0.25]})
    >>> chart = scaling_chart(pts, x="n", y="loss", title="Loss falls",
    ...                       description="Loss halves with every tenfold increase in n.")
    >>> chart.to_dict()["description"]
    'Loss halves with every tenfold increase in n.'
    """
    if points is None and curves is None:
        raise ValueError("Pass measured `points`, fitted `curves`, or both.")
    if group is not None:
        label(group, "group")
    _optional_text(x_title, "x_title")
    _optional_text(y_title, "y_title")
    log_x, log_y = flag(log_x, "log_x"), flag(log_y, "log_y")
    width, height = _size(width, "width"), _size(height, "height")
    if (lower is None) != (upper is None):
        raise ValueError("Pass both `lower` and `upper` for a band, or neither.")
    frames = [f for f in (points, curves) if f is not None]
    groups: list[object] = []
    for f in frames:
        has_columns(f, [x, y] + ([group] if group is not None else []), what="the chart data")
        if group is not None:
            groups.extend(f[group].dropna().unique())
    if curves is not None and lower is not None:
        has_columns(curves, [lower, upper], what="`curves`")

    # nice=False keeps a log axis on the data instead of stretching it to whole decades.
    sx = alt.Scale(type="log", nice=False) if log_x else alt.Scale(zero=False)
    sy = alt.Scale(type="log", nice=False) if log_y else alt.Scale(zero=False)
    enc_x = alt.X(f"{x}:Q", scale=sx, title=x_title or x, axis=_log_axis(frames, x) if log_x else alt.Undefined)
    enc_y = alt.Y(f"{y}:Q", scale=sy, title=y_title or y, axis=_log_axis(frames, y) if log_y else alt.Undefined)
    layers: list[alt.Chart] = []
    select = None
    color = opacity = alt.Undefined
    shape = stroke_width = alt.Undefined
    if group is not None:
        select = alt.selection_point(fields=[group], bind="legend")
        color = alt.Color(f"{group}:N", scale=color_scale(groups), title=group)
        # A legend click emphasises the chosen group: the others fade and their lines thin.
        opacity = alt.condition(select, alt.value(1.0), alt.value(0.2))
        stroke_width = alt.condition(select, alt.value(2.5), alt.value(1.0))
        if len(set(map(str, groups))) > len(PALETTE):
            shape = alt.Shape(f"{group}:N", scale=shape_scale(groups), title=group)

    if curves is not None and lower is not None:
        band_opacity = alt.condition(select, alt.value(0.2), alt.value(0.04)) if select else alt.value(0.2)
        layers.append(
            alt.Chart(curves).mark_area().encode(
                x=enc_x, y=alt.Y(f"{lower}:Q", scale=sy, title=y_title or y), y2=f"{upper}:Q",
                color=color, opacity=band_opacity,
            )
        )
    if curves is not None:
        layers.append(alt.Chart(curves).mark_line().encode(x=enc_x, y=enc_y, color=color, opacity=opacity,
                                                            strokeWidth=stroke_width))
        # Invisible, generous hover targets along each curve, so a reader can read values off the fit.
        curve_tips = [c for c in (group, x, y, lower, upper) if c]
        layers.append(
            alt.Chart(curves).mark_point(size=120, opacity=0).encode(
                x=enc_x, y=enc_y, tooltip=_tooltip(curves, curve_tips)
            )
        )
    if points is not None:
        tip_cols = [c for c in (group, x, y) if c]
        layers.append(
            alt.Chart(points).mark_point().encode(
                x=enc_x, y=enc_y, color=color, opacity=opacity, shape=shape, tooltip=_tooltip(points, tip_cols)
            )
        )
    chart = alt.layer(*layers).properties(width=width, height=height)
    if select is not None:
        chart = chart.add_params(select)
    return require_text_alternative(chart, title=title, description=description)


def interval_chart(
    data: pd.DataFrame,
    *,
    category: str,
    estimate: str,
    low: str,
    high: str,
    x_title: str,
    group: str | None = None,
    groups: Sequence[str] | None = None,
    group_title: str | None = None,
    sort: Sequence[object] | None = None,
    reference: float | str | None = None,
    domain: Sequence[float] | None = None,
    tooltip: Sequence[str] = (),
    offset: bool = True,
    legend: bool = True,
) -> alt.LayerChart:
    """Estimates with their intervals, one row per category: a horizontal rule from ``low`` to ``high`` and a point.

    The chart every chapter and the audit draw for "which groups differ, and by more than the noise?". It is
    a layer with the data at the top, so it can be faceted (``.facet(row=...)``), and it carries no text
    alternative: pass it through :func:`require_text_alternative`.

    Parameters
    ----------
    data : DataFrame
        One row per (category[, group]).
    category : str
        Column on the vertical axis (nominal), in the order ``sort`` (default: as in ``data``).
    estimate, low, high : str
        Columns of the point estimate and the interval's bounds.
    x_title : str
        Title of the horizontal axis (say what the interval is, e.g. "95% bootstrap interval").
    group : str, optional
        Column of groups drawn side by side within a category, coloured by :func:`color_scale` in the order
        ``groups`` (default: order of appearance), with the legend titled ``group_title`` (default: the column;
        ``legend=False`` for none, e.g. when the groups are the categories); ``offset=False`` draws them on one
        line instead.
    reference : float or str, optional
        A dashed vertical rule: at a value (e.g. 0 for a difference), or at a column's value (e.g. the truth
        of a simulation, which may differ between facets).
    domain : pair of float, optional
        Fixed range of the horizontal axis.
    tooltip : sequence of str
        Extra columns for the tooltip, after the category, group, estimate and bounds.

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.plots import interval_chart
    >>> df = pd.DataFrame({"who": ["A", "B"], "gap": [0.1, -0.05], "lo": [0.02, -0.2], "hi": [0.2, 0.1]})
    >>> chart = interval_chart(df, category="who", estimate="gap", low="lo", high="hi",
    ...                        x_title="Difference (95% interval)", reference=0)
    >>> [layer.mark.type if hasattr(layer.mark, "type") else layer.mark for layer in chart.layer]
    ['rule', 'rule', 'point']
    """
    if group is not None:
        label(group, "group")
    tooltip = sequence(tooltip, "tooltip", example='["n"]', hashable=True)
    has_columns(data, [category, estimate, low, high, *([group] if group is not None else []), *tooltip],
                what="interval_chart's data")
    _optional_text(group_title, "group_title")
    if groups is not None:
        groups = label_list(groups, "groups", example='["a", "b"]')
    if sort is not None:
        sort = sequence(sort, "sort", example='["A", "B"]', hashable=True)
    if reference is not None and not isinstance(reference, str):
        reference = finite_scalar(reference, "reference", example=0)
    elif isinstance(reference, str):
        has_columns(data, [reference], what="interval_chart's data (reference)")
    if domain is not None:
        domain = as_float_array(domain, "domain").tolist()
        if len(domain) != 2 or domain[0] >= domain[1]:
            raise ValueError(f"domain must be a pair (low, high) with low < high, e.g. domain=(-1, 1); got {domain}.")
    offset, legend = flag(offset, "offset"), flag(legend, "legend")
    order = list(sort) if sort is not None else list(dict.fromkeys(data[category]))
    enc: dict[str, Any] = {"y": alt.Y(f"{category}:N", sort=order, title=None)}
    tips: list[Any] = [alt.Tooltip(f"{category}:N")]
    if group is not None:
        names = list(groups) if groups is not None else [str(g) for g in dict.fromkeys(data[group])]
        enc["color"] = alt.Color(f"{group}:N", scale=color_scale(names), sort=names, title=group_title or group,
                                 **({} if legend else {"legend": None}))
        if offset:
            enc["yOffset"] = alt.YOffset(f"{group}:N", sort=names)
        tips.append(alt.Tooltip(f"{group}:N"))
    tips += [alt.Tooltip(f"{c}:Q", format=".3f") for c in (estimate, low, high)] + _tooltip(data, list(tooltip))
    base = alt.Chart().encode(tooltip=tips, **enc)
    scale = alt.Scale(domain=list(domain)) if domain is not None else alt.Scale(zero=False)
    rule = base.mark_rule(strokeWidth=2).encode(x=alt.X(f"{low}:Q", title=x_title, scale=scale), x2=f"{high}:Q")
    point = (base.mark_point(size=60, filled=True) if group is not None else
             base.mark_point(size=60, filled=True, color="#000000")).encode(x=f"{estimate}:Q")
    layers: list[Any] = [rule, point]
    if isinstance(reference, str):
        has_columns(data, [reference], what="interval_chart's data")
        layers.insert(0, alt.Chart().mark_rule(color="#888888", strokeDash=[3, 3]).encode(
            x=alt.X(f"{reference}:Q", scale=scale), tooltip=[alt.Tooltip(f"{reference}:Q", format=".3f")]))
    elif reference is not None:
        layers.insert(0, alt.Chart().mark_rule(color="#888888", strokeDash=[3, 3]).encode(
            x=alt.XDatum(float(reference), type="quantitative", scale=scale)))  # its scale too, or zero creeps in
    return alt.layer(*layers, data=data)


def third_axis_chart(
    curve: pd.DataFrame,
    *,
    tolerance: float,
    order: str | None = None,
    orders: Sequence[str] | None = None,
    unit: str = "groups",
    rmse: bool = True,
    width: int = 260,
    height: int = 220,
) -> alt.LayerChart | alt.HConcatChart:
    """The third axis as a chart: the share of included groups the aggregate law describes, as groups join.

    Draws :attr:`helpers.disaggregate.ThirdAxisResult.curve` (columns ``k``, ``share_described``, ``share_low``,
    ``share_high`` and, for the right panel, ``aggregate_rmse``): the share as a line with its band across
    orders and, with ``rmse=True``, a second panel with how closely the law fits the aggregate curve itself.
    Several curves (largest groups first, random orders) are told apart by the column ``order``, coloured in
    the order ``orders``. No text alternative: pass the result through :func:`require_text_alternative`.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.plots import third_axis_chart
    >>> curve = pd.DataFrame({"k": [1, 2, 3], "share_described": [1.0, 0.5, 0.33], "share_low": [1.0, 0.5, 0.33],
    ...                       "share_high": [1.0, 0.5, 0.33], "aggregate_rmse": [0.01, 0.01, 0.02]})
    >>> type(third_axis_chart(curve, tolerance=0.1)).__name__
    'HConcatChart'
    """
    tolerance = finite_scalar(tolerance, "tolerance", low=0.0, low_open=True, example=0.1)
    rmse = flag(rmse, "rmse")
    if order is not None:
        label(order, "order")
    if orders is not None:
        orders = label_list(orders, "orders", example='["size", "random"]')
    if not isinstance(unit, str):
        raise ValueError(f"unit must be text naming what k counts, e.g. unit='languages'; got {unit!r}.")
    width, height = _size(width, "width"), _size(height, "height")
    need = ["k", "share_described", "share_low", "share_high", *(["aggregate_rmse"] if rmse else []),
            *([order] if order is not None else [])]
    has_columns(curve, need, what="the third-axis curve")
    # Whole numbers only, and no list of tick values: k counts groups, and there may be 10,000 of them.
    x = alt.X("k:Q", title=f"{unit} in the evaluation population", axis=alt.Axis(tickMinStep=1, format="d"))
    tips: list[Any] = [alt.Tooltip("k:Q", title=f"{unit} included"),
                       alt.Tooltip("share_described:Q", format=".0%"), alt.Tooltip("share_low:Q", format=".0%"),
                       alt.Tooltip("share_high:Q", format=".0%")]
    if order is not None:
        names = list(orders) if orders is not None else [str(o) for o in dict.fromkeys(curve[order])]
        palette = [AGGREGATE_COLOR, "#D55E00", "#0072B2", "#009E73"]
        # Opaque legend swatches: the band's faded one would not reach 3:1 against the page.
        colour: Any = alt.Color(f"{order}:N", title="order", sort=names, legend=alt.Legend(symbolOpacity=1),
                                scale=alt.Scale(domain=names, range=palette[:len(names)]))
        tips.insert(0, alt.Tooltip(f"{order}:N"))
    else:
        colour = alt.value(AGGREGATE_COLOR)
    if rmse:
        tips.append(alt.Tooltip("aggregate_rmse:Q", format=".4f"))
    base = alt.Chart(curve).encode(x=x, color=colour)
    share = alt.layer(
        base.mark_area(opacity=0.2).encode(y="share_low:Q", y2="share_high:Q"),
        base.mark_line(point=True).encode(
            y=alt.Y("share_described:Q", title=f"share described within {tolerance:.0%}",
                    scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")), tooltip=tips),
    ).properties(width=width, height=height)
    if not rmse:
        return share
    fit = base.mark_line(point=True).encode(
        y=alt.Y("aggregate_rmse:Q", title="aggregate fit error (RMS log residual)", scale=alt.Scale(zero=True)),
        tooltip=tips).properties(width=width, height=height)
    return alt.hconcat(share, fit)
