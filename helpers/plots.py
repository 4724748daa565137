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

from helpers._validate import has_columns

#: The Okabe and Ito colour-blind-safe palette, with yellow last (weak contrast on white).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
)
#: Paul Tol's "muted" scheme, used after Okabe-Ito runs out (also colour-blind safe).
TOL_MUTED: tuple[str, ...] = (
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
    "#882255", "#AA4499",
)
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
    "Asian": "#E69F00", "Mixed": "#56B4E9", "Native American": "#882255",
    "Middle Eastern": "#999933",
    # census regions
    "northeast": "#332288", "midwest": "#44AA99", "south": "#CC6677", "west": "#DDCC77",
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


def group_colors(groups: Iterable[object]) -> dict[str, str]:
    """Assign each group a colour, fixed for groups the book knows.

    Known groups (:data:`GROUP_COLORS`) and aggregates (``"overall"``, ``"pooled"``)
    keep their colour in every chapter; other groups get unused palette colours in
    sorted order, so the same set of groups always gets the same colours.

    Parameters
    ----------
    groups : iterable
        Group labels (converted to ``str``).

    Returns
    -------
    dict
        Group label to hex colour.

    Raises
    ------
    ValueError
        If ``groups`` is empty.

    Examples
    --------
    >>> from helpers.plots import group_colors
    >>> group_colors(["afam", "cauc", "overall"])["afam"]
    '#D55E00'
    """
    labels = sorted({str(g) for g in groups})
    if not labels:
        raise ValueError("groups is empty; pass at least one group label.")
    colors: dict[str, str] = {}
    for g in labels:
        if g.lower() in AGGREGATE_NAMES:
            colors[g] = AGGREGATE_COLOR
        elif g in GROUP_COLORS:
            colors[g] = GROUP_COLORS[g]
    spare = [c for c in OKABE_ITO + TOL_MUTED if c not in colors.values()]
    for i, g in enumerate(g for g in labels if g not in colors):
        colors[g] = spare[i % len(spare)]
    return colors


def color_scale(groups: Iterable[object]) -> alt.Scale:
    """An Altair colour scale using :func:`group_colors`.

    Examples
    --------
    >>> from helpers.plots import color_scale
    >>> color_scale(["south", "west"]).to_dict()["domain"]
    ['south', 'west']
    """
    mapping = group_colors(groups)
    return alt.Scale(domain=list(mapping), range=list(mapping.values()))


def _theme() -> dict:
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": 420, "continuousHeight": 280, "stroke": None},
            "title": {"fontSize": 15, "anchor": "start", "fontWeight": 600, "subtitleFontSize": 12},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e6e6e6",
                     "domainColor": "#888", "tickColor": "#888"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "symbolSize": 90, "labelLimit": 320},
            "range": {"category": list(OKABE_ITO + TOL_MUTED)},
            "line": {"strokeWidth": 2},
            "point": {"size": 45, "filled": True},
        }
    }


#: Environment variable the book's Sphinx extension (``book/_ext/offline_charts.py``) sets in ``setup()``; the
#: kernels that myst-nb starts to execute the chapters inherit it, so :func:`use_book_style` knows it is in the build.
BOOK_BUILD_ENV = "SCALING_BOOK_BUILD"
#: Name of :func:`offline_html_renderer` in ``altair.renderers``.
OFFLINE_RENDERER = "book-offline"
#: Class of the element every offline chart is drawn in (tests and readers' CSS can find it).
OFFLINE_CHART_CLASS = "book-chart"


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

    * **in the book build** (the Sphinx extension sets :data:`BOOK_BUILD_ENV`), Altair's own ``default`` HTML
      renderer, whose output the extension completes with one shared copy of :func:`offline_bundle` per page;
    * **anywhere else** (JupyterLab on Binder or a course hub, Colab, VS Code, Notebook 7),
      :func:`offline_html_renderer`: every chart output carries vega itself, from the installed
      ``vl-convert-python``, instead of Altair's default, which loads vega from a CDN and leaves the chart blank
      offline.

    Examples
    --------
    >>> from helpers.plots import use_book_style, OFFLINE_RENDERER, in_book_build
    >>> use_book_style()
    >>> import altair as alt
    >>> alt.theme.active
    'book'
    >>> alt.renderers.active == ("default" if in_book_build() else OFFLINE_RENDERER)
    True
    """
    alt.theme.register("book", enable=True)(_theme)
    alt.renderers.enable("default" if in_book_build() else OFFLINE_RENDERER)
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
    embed_options = {"mode": "vega-lite", **(metadata.get("embed_options") or {})}
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
        "</script>"
    )
    return {"text/html": html_out, "text/plain": plain}


def _script_json(value: object) -> str:
    """JSON that is safe inside an HTML ``<script>`` element (no ``</script``, no ``<!--``)."""
    return json.dumps(value).replace("<", "\\u003c")


# Registered on import, so a reader can also switch it on by name: ``alt.renderers.enable("book-offline")``.
alt.renderers.register(OFFLINE_RENDERER, offline_html_renderer)


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
        Column that identifies the group; colours follow :func:`group_colors`, and
        clicking a legend entry highlights that group.
    curves : DataFrame, optional
        Fitted curves evaluated on a grid: columns ``x``, ``y`` (and ``group``).
    lower, upper : str, optional
        Columns of ``curves`` holding a confidence band around the curve.
    x_title, y_title : str, optional
        Axis titles (default: the column names).
    log_x, log_y : bool, default True
        Logarithmic axes.
    width, height : int
        Size in pixels.

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
    if (lower is None) != (upper is None):
        raise ValueError("Pass both `lower` and `upper` for a band, or neither.")
    frames = [f for f in (points, curves) if f is not None]
    groups: list[object] = []
    for f in frames:
        has_columns(f, [x, y] + ([group] if group else []), what="the chart data")
        if group:
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
    if group:
        select = alt.selection_point(fields=[group], bind="legend")
        color = alt.Color(f"{group}:N", scale=color_scale(groups), title=group)
        opacity = alt.condition(select, alt.value(1.0), alt.value(0.15))

    if curves is not None and lower is not None:
        band_opacity = alt.condition(select, alt.value(0.2), alt.value(0.04)) if select else alt.value(0.2)
        layers.append(
            alt.Chart(curves).mark_area().encode(
                x=enc_x, y=alt.Y(f"{lower}:Q", scale=sy, title=y_title or y), y2=f"{upper}:Q",
                color=color, opacity=band_opacity,
            )
        )
    if curves is not None:
        layers.append(alt.Chart(curves).mark_line().encode(x=enc_x, y=enc_y, color=color, opacity=opacity))
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
                x=enc_x, y=enc_y, color=color, opacity=opacity, tooltip=_tooltip(points, tip_cols)
            )
        )
    chart = alt.layer(*layers).properties(width=width, height=height)
    if select is not None:
        chart = chart.add_params(select)
    return require_text_alternative(chart, title=title, description=description)
