"""Tests for helpers.plots: fixed group colours, valid and accessible chart specs that actually draw."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

from helpers import plots


def test_known_groups_keep_their_colour_whatever_else_is_plotted():
    a = plots.group_colors(["afam", "cauc"])
    b = plots.group_colors(["hispanic", "afam", "other", "overall"])
    assert a["afam"] == b["afam"] == plots.GROUP_COLORS["afam"]
    assert b["overall"] == plots.AGGREGATE_COLOR


def test_colours_do_not_depend_on_input_order_and_are_distinct_until_the_palette_runs_out():
    groups = [f"g{i:02d}" for i in range(len(plots.PALETTE))]
    forward, backward = plots.group_colors(groups), plots.group_colors(groups[::-1])
    assert forward == backward
    assert len(set(forward.values())) == len(groups)


def test_more_groups_than_colours_get_distinct_colour_and_shape_pairs():
    groups = [f"lang{i:02d}" for i in range(2 * len(plots.PALETTE) + 3)]  # e.g. a many-language benchmark
    colors, shapes = plots.group_colors(groups), plots.group_shapes(groups)
    pairs = {(colors[g], shapes[g]) for g in groups}
    assert len(pairs) == len(groups)
    assert set(shapes.values()) == {"circle", "square", "triangle-up"}
    assert plots.group_shapes(groups[::-1]) == shapes


def test_scaling_chart_gives_points_shapes_only_when_colours_run_out():
    n = np.logspace(2, 4, 3)
    def chart(k):
        pts = pd.concat([pd.DataFrame({"n": n, "loss": n**-0.3, "lang": f"l{i:02d}"}) for i in range(k)])
        return plots.scaling_chart(pts, x="n", y="loss", group="lang", title="T", description="D.").to_dict()
    assert "shape" not in chart(len(plots.PALETTE))["layer"][-1]["encoding"]
    shape = chart(len(plots.PALETTE) + 1)["layer"][-1]["encoding"]["shape"]
    assert shape["scale"]["range"].count("square") == 1


def _relative_luminance(hex_colour: str) -> float:
    # WCAG 2.x definition (sRGB linearisation, Rec. 709 weights), written out here independently of the library.
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_helper_matches_wcag_reference_values():
    assert _contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert _contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the usual "lightest AA grey"
    assert _contrast("#F0E442", "#ffffff") < 3  # Okabe-Ito yellow, measured at 1.32 in issue 19


def test_every_palette_and_group_colour_reaches_3_to_1_on_the_chart_background():
    assert plots.BACKGROUND.lower() == "#ffffff"
    colours = set(plots.PALETTE) | set(plots.GROUP_COLORS.values()) | {plots.AGGREGATE_COLOR}
    weak = {c: round(_contrast(c, plots.BACKGROUND), 2) for c in colours if _contrast(c, plots.BACKGROUND) < 3}
    assert not weak
    theme = plots.chart_spec(_demo())["config"]
    assert theme["background"] == plots.BACKGROUND
    assert all(_contrast(c, theme["background"]) >= 3 for c in theme["range"]["category"])


def test_legend_is_below_the_plot_one_entry_a_line_at_full_strength():
    legend = plots.chart_spec(_demo())["config"]["legend"]
    assert legend["orient"] == "bottom" and legend["direction"] == "vertical" and legend["symbolOpacity"] == 1


def test_empty_groups_raise():
    with pytest.raises(ValueError, match="empty"):
        plots.group_colors([])


def _demo(with_band: bool = True) -> plots.alt.LayerChart:
    n = np.logspace(2, 5, 6)
    pts = pd.concat([pd.DataFrame({"n": n, "loss": 3 * n**-0.3 + 0.1, "group": g}) for g in ("afam", "cauc")])
    grid = np.logspace(2, 5, 30)
    curves = pd.concat(
        [pd.DataFrame({"n": grid, "loss": 3 * grid**-0.3 + 0.1, "lo": 2.8 * grid**-0.3, "hi": 3.2 * grid**-0.3 + 0.2,
                       "group": g}) for g in ("afam", "cauc")]
    )
    kw = {"lower": "lo", "upper": "hi"} if with_band else {}
    return plots.scaling_chart(pts, x="n", y="loss", group="group", curves=curves, title="T",
                               description="Two groups' loss falls with n.", **kw)


def test_scaling_chart_spec_is_log_log_accessible_and_interactive():
    spec = _demo().to_dict()
    assert spec["description"] == "Two groups' loss falls with n."
    assert spec["title"] == "T"
    layers = spec["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["area", "line", "point", "point"]
    assert layers[2]["mark"]["opacity"] == 0  # hover targets on the fitted curve
    assert {t["field"] for t in layers[2]["encoding"]["tooltip"]} == {"group", "n", "loss", "lo", "hi"}
    points = layers[-1]["encoding"]
    assert points["x"]["scale"]["type"] == "log" and points["y"]["scale"]["type"] == "log"
    assert {t["field"] for t in points["tooltip"]} == {"group", "n", "loss"}
    params = [p for layer in layers for p in layer.get("params", [])] + spec.get("params", [])
    assert any(p.get("bind") == "legend" for p in params)
    assert points["color"]["scale"]["range"] == [plots.GROUP_COLORS["afam"], plots.GROUP_COLORS["cauc"]]


def test_scaling_chart_draws_every_point():
    svg = vlc.vegalite_to_svg(_demo().to_dict())
    # 12 measured points plus 60 invisible hover targets on the two curves, one symbol path each.
    symbols = re.findall(r'<path[^>]*aria-roledescription="point"', svg)
    assert len(symbols) == 12 + 60
    # Vega carries the description into the compiled spec; the browser turns it into the SVG's ARIA label.
    assert vlc.vegalite_to_vega(_demo().to_dict())["description"] == "Two groups' loss falls with n."


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"x": "size"}, "Unknown column"),
        ({"lower": "lo"}, "both `lower` and `upper`"),
        ({"description": " "}, "non-empty description"),
    ],
)
def test_scaling_chart_rejects_bad_input(kwargs, match):
    pts = pd.DataFrame({"n": [1.0, 10.0], "loss": [1.0, 0.5], "lo": [0.9, 0.4]})
    base = {"x": "n", "y": "loss", "title": "T", "description": "D."}
    with pytest.raises(ValueError, match=match):
        plots.scaling_chart(pts, curves=pts if "lower" in kwargs else None, **{**base, **kwargs})


def test_neither_points_nor_curves_raises():
    with pytest.raises(ValueError, match="points"):
        plots.scaling_chart(x="n", y="loss", title="T", description="D.")


def test_use_book_style_sets_svg_renderer_and_theme():
    plots.use_book_style()
    assert plots.alt.theme.active == "book"
    assert plots.alt.renderers.options["embed_options"]["renderer"] == "svg"


def test_offline_bundle_defines_the_libraries_and_the_versions_altair_asks_for():
    js = plots.offline_bundle()
    for name in ("window.vegaEmbed", "window.vega=", "window.vegaLite="):
        assert name in js
    versions = dict(re.findall(r'"(\w+)_version": "([^"]+)"', js.rsplit("VEGA_DEBUG", 1)[1]))
    # Altair's own constants, independent of the HTML template the bundle reads them from.
    assert versions == {"vega": plots.alt.VEGA_VERSION, "vegalite": plots.alt.VEGALITE_VERSION,
                        "vegaembed": plots.alt.VEGAEMBED_VERSION}
    assert "</script" not in js.lower()  # inlinable in an HTML page


def test_chart_spec_applies_the_book_theme_without_changing_the_active_one():
    plots.alt.theme.enable("default")
    try:
        spec = plots.chart_spec(_demo())
        assert spec["config"]["font"] == plots.FONT
        assert spec["config"]["range"]["category"][0] == plots.PALETTE[0]
        assert plots.alt.theme.active == "default"
    finally:
        plots.use_book_style()


# --------------------------------------------------------------------------- charts in notebooks, with no network


def _notebook_output(chart) -> dict:
    bundle = chart._repr_mimebundle_()
    return bundle[0] if isinstance(bundle, tuple) else bundle


def test_use_book_style_switches_on_the_offline_renderer_outside_the_book_build(monkeypatch):
    monkeypatch.delenv(plots.BOOK_BUILD_ENV, raising=False)
    plots.use_book_style()
    assert plots.alt.renderers.active == plots.OFFLINE_RENDERER
    assert plots.alt.renderers.options["embed_options"] == plots.EMBED_OPTIONS


def test_use_book_style_keeps_altairs_html_in_the_book_build(monkeypatch):
    monkeypatch.setenv(plots.BOOK_BUILD_ENV, "1")
    try:
        plots.use_book_style()
        assert plots.alt.renderers.active == plots.BOOK_RENDERER
        html = _notebook_output(_demo())["text/html"]
        assert "altair-viz-" in html and "window.vegaEmbed=" not in html  # the extension adds the bundle
        assert '"width": "container"' in html and f'<details class="{plots.DATA_TABLE_CLASS}">' in html
    finally:
        monkeypatch.delenv(plots.BOOK_BUILD_ENV)
        plots.use_book_style()


SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=", re.I)


def test_notebook_chart_output_loads_nothing_and_carries_vega_itself(monkeypatch):
    monkeypatch.delenv(plots.BOOK_BUILD_ENV, raising=False)
    plots.use_book_style()
    out = _notebook_output(_demo())
    html = out["text/html"]
    assert not SCRIPT_SRC.search(html)  # no <script src=...> at all, so nothing from a CDN or anywhere else
    for loader in ("cdn.jsdelivr", "cdn.", "requirejs", "maybeLoadScript", "import(", "https://esm"):
        assert loader not in html, loader
    # the only addresses are inert strings in the bundle and the spec (SVG namespaces, schema, links)
    assert {u for u in re.findall(r"https?://[^\s\"'<>)]+", html)
            if not u.startswith(("http://www.w3.org/", "https://vega.github.io/", "https://github.com/vega/"))} == set()
    assert plots.offline_bundle() in html
    div = re.search(rf'<div id="({plots.OFFLINE_CHART_CLASS}-[0-9a-f]+)"', html).group(1)
    assert f'document.getElementById("{div}")' in html and "window.vegaEmbed(el, spec, embedOpt)" in html
    assert '"renderer": "svg"' in html
    assert out["text/plain"] == "T: Two groups' loss falls with n."
    # until the script runs (an untrusted notebook never runs it), the element says which chart is missing
    assert "Chart: T: Two groups&#x27; loss falls with n. (run the cell to draw it" in html


def test_notebook_chart_output_is_safe_inside_a_script_element():
    chart = plots.alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x").properties(
        title="</script><script>alert(1)</script>", description="D.")
    html = plots.offline_html_renderer(chart.to_dict())["text/html"]
    assert html.count("</script>") == 2 and "<!--" not in html and html.count("<script") == 2
    # every output has its own element, so several charts can share one page
    assert plots.offline_html_renderer(chart.to_dict())["text/html"] != html


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.mark.slow
def test_notebook_chart_outputs_draw_offline_in_a_shared_page_and_in_iframes():
    """Two chart outputs drawn the way JupyterLab draws trusted HTML outputs (one page: innerHTML, then each
    script re-created) and the way Colab does (an iframe per output), with every request aborted."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    outputs = [plots.offline_html_renderer(plots.chart_spec(_demo()), embed_options=plots.EMBED_OPTIONS)["text/html"]
               for _ in range(2)]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        requests: list[str] = []
        page.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content("<html><body><main></main></body></html>")
        page.evaluate("""(outputs) => {
          for (const html of outputs) {                      // JupyterLab: one page for every output
            const area = document.createElement('div'); area.innerHTML = html;
            document.querySelector('main').appendChild(area);
            for (const old of Array.from(area.querySelectorAll('script'))) {
              const s = document.createElement('script'); s.text = old.text; old.replaceWith(s);
            }
          }
          for (const html of outputs) {                      // Colab: an iframe for every output
            const f = document.createElement('iframe'); f.srcdoc = html; f.className = 'colab';
            document.body.appendChild(f);
          }}""", outputs)
        page.wait_for_function("document.querySelectorAll('main .book-chart svg .mark-symbol.role-mark path').length === 144",
                               timeout=15000)
        for frame in page.frames[1:]:
            frame.wait_for_selector(".book-chart svg .mark-line path", timeout=15000)
            assert frame.locator(".book-chart svg .mark-symbol.role-mark path").count() == 72
        assert page.locator("main .book-chart").count() == 2
        assert page.locator(".book-chart-placeholder").count() == 0  # replaced by the charts
        browser.close()
    assert errors == [] and [u for u in requests if not u.startswith(("about:", "data:"))] == []


# --------------------------------------------------------------------------- charts that fit, data without a mouse


def test_single_and_layered_charts_take_their_column_width_compound_charts_keep_theirs():
    layered = plots.responsive_spec(_demo().to_dict())
    assert layered["width"] == "container" and "autosize" not in layered
    c = plots.alt.Chart(pd.DataFrame({"x": [1], "g": ["a"]})).mark_point().encode(x="x").properties(width=900)
    assert plots.responsive_spec(c.to_dict())["width"] == "container"
    facet = c.facet(column="g:N").to_dict()
    assert plots.responsive_spec(facet) == facet
    original = _demo().to_dict()
    plots.responsive_spec(original)
    assert original["width"] == 420  # the input is not changed
    with pytest.raises(ValueError, match="spec"):
        plots.responsive_spec("not a spec")


def test_container_width_chart_draws_at_a_phones_width():
    spec = plots.chart_spec(_demo())
    spec = plots.responsive_spec(spec)
    spec["width"], spec["autosize"] = 300, {"type": "fit-x", "contains": "padding"}  # "container" in 300px
    svg = vlc.vegalite_to_svg(spec)
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)"', svg).group(1))
    assert width <= 300 + 1  # the legend is below the plot, so nothing widens the chart beyond its column


def test_data_table_lists_every_row_with_whole_numbers_as_integers():
    df = pd.DataFrame({"examples": [120000.0, 5.0], "loss": [0.123456, 2.5], "group": ["a<b", None]})
    chart = plots.alt.Chart(df).mark_point().encode(x="examples", y="loss").properties(title="T", description="D.")
    html = plots.data_table_html(chart.to_dict())
    assert html.startswith('<details class="book-chart-data"><summary>Data behind the chart: T</summary>')
    assert html.count("<tr>") == 3  # header and two rows
    assert "<td>120,000</td>" in html and "120000.0" not in html
    assert "<td>0.1235</td>" in html and "<td>a&lt;b</td>" in html
    assert '<th scope="col">examples</th>' in html and "<th></th>" not in html
    assert 'tabindex="0"' in html  # a scrolling box keyboard users can reach


def test_data_table_says_when_it_shows_only_part_of_the_data():
    df = pd.DataFrame({"x": range(10)})
    chart = plots.alt.Chart(df).mark_point().encode(x="x")
    html = plots.data_table_html(chart.to_dict(), max_rows=4)
    assert html.count("<tr>") == 5 and "the first 4 of 10 rows" in html
    assert plots.data_table_html({"mark": "point"}) == ""
    with pytest.raises(ValueError, match="max_rows"):
        plots.data_table_html(chart.to_dict(), max_rows=0)


def test_notebook_output_also_carries_the_data_table(monkeypatch):
    monkeypatch.delenv(plots.BOOK_BUILD_ENV, raising=False)
    plots.use_book_style()
    html = _notebook_output(_demo())["text/html"]
    assert f'<details class="{plots.DATA_TABLE_CLASS}">' in html


def test_embed_patch_keeps_legends_opaque_and_says_b_for_billions():
    js = plots.offline_bundle()
    assert "bookPatched" in js and "u.opacity = {value: 1}" in js
    assert 'replace(format($1, $2), "G", "B")' in js
    assert "bookVegaQueue" in js and "bookVegaQueue" in plots.embed_queue_script()


@pytest.mark.slow
def test_every_mark_container_of_a_faceted_layered_chart_has_a_text_alternative_or_is_hidden():
    """ARIA gives a graphics symbol or image no text alternative unless it is named (axe-core: svg-img-alt).
    Vega draws a mark with no item in a facet cell as an empty container marked up as a graphics symbol, named only
    by the mark's description: here the interval rules of panel "b" have no rows (missing bounds), as in ch02."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    df = pd.DataFrame({"panel": ["a", "a", "b", "b"], "x": [1, 2, 1, 2], "y": [1.0, 2.0, 1.5, 2.5],
                       "low": [0.5, 1.5, None, None], "high": [1.5, 2.5, None, None]})
    base = plots.alt.Chart().encode(x="x:O", tooltip=["x:O", "y:Q"])
    layered = plots.alt.layer(
        plots.alt.Chart().mark_rule(color="#767676").encode(y=plots.alt.datum(0)),  # a decorative guide
        base.mark_point().encode(y="y:Q"),
        base.mark_rule().encode(y="low:Q", y2="high:Q"),
        data=df,
    ).properties(width=120, height=100)
    chart = layered.facet(column="panel:N").properties(title="T", description="D.")
    html = plots.offline_html_renderer(plots.chart_spec(chart), embed_options=plots.EMBED_OPTIONS)["text/html"]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", lambda route: route.abort())
        page.set_content(f"<html><body>{html}</body></html>")
        page.wait_for_selector(".book-chart svg .mark-symbol path", timeout=15000)
        found = page.evaluate("""() => {
          const svg = document.querySelector('.book-chart svg');
          const hidden = e => !!e.closest('[aria-hidden="true"]');
          const named = e => (e.getAttribute('aria-label') || '').trim().length > 0;
          const symbols = [...svg.querySelectorAll('[role="graphics-symbol"], [role="img"]')];
          return {
            unnamed: symbols.filter(e => !hidden(e) && !named(e)).map(e => e.outerHTML.slice(0, 120)),
            emptyRuleContainers: [...svg.querySelectorAll('g.mark-rule.role-mark')]
              .filter(g => !g.children.length && !hidden(g)).map(g => g.getAttribute('aria-label')),
            namedItems: symbols.filter(e => e.tagName !== 'g' && named(e)).length,
          };
        }""")
        browser.close()
    assert found["unnamed"] == []
    assert found["emptyRuleContainers"] == ["rule marks"]  # panel "b": named, not silent
    assert found["namedItems"] >= 6  # the points and intervals themselves are still read out


def test_interval_chart_draws_rule_and_point_and_keeps_a_fixed_domain_on_every_layer():
    df = pd.DataFrame({"who": ["A", "B", "A", "B"], "g": ["x", "x", "y", "y"], "est": [0.6, 0.7, 0.65, 0.8],
                       "lo": [0.55, 0.6, 0.6, 0.75], "hi": [0.65, 0.8, 0.7, 0.85]})
    chart = plots.interval_chart(df, category="who", estimate="est", low="lo", high="hi", group="g",
                                 x_title="alpha (95% interval)", domain=[0.5, 0.9], reference=0.7)
    spec = chart.to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["rule", "rule", "point"]
    # The reference rule shares the fixed domain: a datum encoding left to itself would add zero to the axis.
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0.5, 0.9]
    assert spec["layer"][1]["encoding"]["x"]["scale"]["domain"] == [0.5, 0.9]
    assert spec["layer"][1]["encoding"]["x2"]["field"] == "hi"
    assert spec["layer"][1]["encoding"]["yOffset"]["field"] == "g"
    # The data sit on the layer, so the chart can be faceted.
    assert "data" in spec and chart.facet(row="g").to_dict()["spec"]["layer"]
    # A reference given as a column draws each row's (or facet's) own value, e.g. a simulation's truth.
    by_col = plots.interval_chart(df, category="who", estimate="est", low="lo", high="hi", x_title="x",
                                  reference="est").to_dict()
    assert by_col["layer"][0]["encoding"]["x"]["field"] == "est"
    with pytest.raises(ValueError, match=r"Unknown column\(s\) \['low'\]"):
        plots.interval_chart(df, category="who", estimate="est", low="low", high="hi", x_title="x")


def test_third_axis_chart_scales_to_many_groups_and_tells_orders_apart():
    k = np.arange(1, 10_001)
    curve = pd.DataFrame({"k": k, "share_described": 1 / np.sqrt(k), "share_low": 0.9 / np.sqrt(k),
                          "share_high": 1 / np.sqrt(k), "aggregate_rmse": 0.01})
    spec = plots.chart_spec(plots.third_axis_chart(curve, tolerance=0.1))  # the audit's path: no row limit
    share, fit = spec["hconcat"]
    # No explicit tick list: 10,000 tick values would swamp the axis and the page.
    axis = share["layer"][1]["encoding"]["x"]["axis"]
    assert "values" not in axis and axis["tickMinStep"] == 1 and axis["format"] == "d"
    assert share["layer"][0]["encoding"]["y2"]["field"] == "share_high"
    assert fit["encoding"]["y"]["field"] == "aggregate_rmse"
    two = pd.concat([curve.head(5).assign(o="a"), curve.head(5).assign(o="b")])
    one = plots.third_axis_chart(two, tolerance=0.1, order="o", rmse=False).to_dict()
    assert one["layer"][1]["encoding"]["color"]["scale"]["domain"] == ["a", "b"]
    with pytest.raises(ValueError, match="aggregate_rmse"):
        plots.third_axis_chart(curve.drop(columns="aggregate_rmse"), tolerance=0.1)


# --------------------------------------------------------------------------- the contract walk's findings


def _pts() -> pd.DataFrame:
    return pd.DataFrame({"n": [1e2, 1e3, 1e4], "loss": [1.0, 0.5, 0.25], "g": ["a", "a", "b"], "0": 1})


@pytest.mark.parametrize("kw, message", [
    ({"log_x": None}, "log_x must be True or False"), ({"width": None}, "width must be an integer"),
    ({"height": 2**70}, "height must be <="), ({"x_title": pd.NA}, "x_title must be text"),
    ({"group": np.ones((2, 2))}, "group must be a single group label"),
    # group=0 was falsy, so the chart was drawn ungrouped without a word
    ({"group": 0}, r"Unknown column\(s\) \[0\]"),
])
def test_scaling_chart_options_get_the_librarys_error(kw, message):
    with pytest.raises(ValueError, match=message):
        plots.scaling_chart(_pts(), x="n", y="loss", title="T", description="D.", **kw)


@pytest.mark.parametrize("kw, message", [
    ({"reference": 1 + 2j}, "reference must be a single real number"), ({"domain": "abc"}, "domain must"),
    ({"domain": [1.0, 0.0]}, "domain must be a pair"), ({"tooltip": None}, "tooltip must be a list"),
    ({"sort": 1 + 2j}, "sort must be a list"), ({"offset": None}, "offset must be True or False"),
    ({"group_title": pd.NA}, "group_title must be text"),
])
def test_interval_chart_options_get_the_librarys_error(kw, message):
    df = pd.DataFrame({"who": ["A", "B"], "gap": [0.1, -0.05], "lo": [0.02, -0.2], "hi": [0.2, 0.1]})
    with pytest.raises(ValueError, match=message):
        plots.interval_chart(df, category="who", estimate="gap", low="lo", high="hi", x_title="Gap", **kw)


def test_third_axis_chart_and_the_spec_helpers_check_what_they_are_given():
    curve = pd.DataFrame({"k": [1, 2], "share_described": [1.0, 0.5], "share_low": [1.0, 0.5],
                          "share_high": [1.0, 0.5], "aggregate_rmse": [0.01, 0.02]})
    for kw, message in (({"tolerance": None}, "tolerance must be"), ({"rmse": None}, "rmse must be True or False"),
                        ({"orders": 1 + 2j}, "orders must be a list"), ({"width": 0}, "width must be >= 1")):
        with pytest.raises(ValueError, match=message):
            plots.third_axis_chart(curve, **{"tolerance": 0.1, **kw})
    with pytest.raises(ValueError, match="chart must be an Altair chart"):
        plots.chart_spec(None)
    with pytest.raises(ValueError, match="chart must be an Altair chart"):
        plots.require_text_alternative(np.ones(2), title="T", description="D.")
    with pytest.raises(ValueError, match="spec must be a Vega-Lite specification"):
        plots.offline_html_renderer(None)
    with pytest.raises(ValueError, match="max_rows must be an integer"):
        plots.data_table_html({}, max_rows=True)
    with pytest.raises(ValueError, match="groups must be a list of group labels"):
        plots.group_colors(None)
