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


def test_colours_do_not_depend_on_input_order_and_are_distinct():
    groups = [f"g{i}" for i in range(14)]
    forward, backward = plots.group_colors(groups), plots.group_colors(groups[::-1])
    assert forward == backward
    assert len(set(forward.values())) == len(groups)


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
        assert spec["config"]["range"]["category"][0] == plots.OKABE_ITO[0]
        assert plots.alt.theme.active == "default"
    finally:
        plots.use_book_style()
