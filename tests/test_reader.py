"""The built book as readers meet it: on a phone, a tablet and a laptop, with a keyboard or a screen reader, and
on paper.

Every page of the book is opened in headless Chromium at 390, 768 and 1300 px (network blocked) once per width;
the tests below check what that survey saw. They run after `jupyter-book build .` (``pytest -m build``). axe-core
comes from npm (``npm install --prefix .node axe-core@...``, see .ci/run), injected from that local copy.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT
from test_built_html import CHROMIUM, CHROMIUM_ARGS, _pages, browser, server  # noqa: F401  (fixtures shared with the older checks)

pytestmark = pytest.mark.build

WIDTHS = (390, 768, 1300)
AXE = ROOT / ".node" / "node_modules" / "axe-core" / "axe.min.js"
#: The axe-core rules issue 19 names: the pandas index header, unnamed <summary>, the bibliography's ARIA
#: roles, Vega marks without text alternative, plus the scroll boxes this change adds (keyboard-reachable).
AXE_RULES = [
    "empty-table-header", "summary-name", "aria-allowed-role", "aria-required-children", "aria-required-parent",
    "aria-deprecated-role", "aria-prohibited-attr", "svg-img-alt", "role-img-alt", "scrollable-region-focusable",
]
#: A chapter page, everything it loads included (the chart bundle too), stays under this.
PAGE_BUDGET_BYTES = 3_000_000
#: What they weigh now at most (uncompressed), so that the weight cannot creep back up unnoticed.
PAGE_CEILING_BYTES = 4_000_000

# Run in the page once the charts have drawn: everything the tests below need, measured in one pass.
MEASURE = """() => {
  const column = document.querySelector('.bd-article') || document.querySelector('main') || document.body;
  const col = column.getBoundingClientRect();
  const charts = [...document.querySelectorAll("[id^='altair-viz-']")].map(e => {
    const svg = e.querySelector('svg'); const r = svg ? svg.getBoundingClientRect() : null;
    return {id: e.id, width: r ? r.width : -1, left: r ? r.left : 0, right: r ? r.right : 0};
  });
  const focusables = [...document.querySelectorAll(
      '.article-header-buttons .btn, .article-header-buttons .dropdown-toggle, .header-article-items .btn,'
    + ' .bd-sidebar-primary summary, .bd-sidebar-primary .toctree-toggle, .bd-sidebar-primary a')]
    .filter(e => e.offsetParent !== null).length;
  const mathTabStops = [...document.querySelectorAll('mjx-container')]
    .filter(e => e.tabIndex >= 0 && e.getAttribute('tabindex') !== '-1').length;
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    column: {left: col.left, right: col.right, width: col.width}, charts, focusables, mathTabStops,
    chartDivs: document.querySelectorAll("[id^='altair-viz-']").length,
    formulas: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('.math mjx-container, mjx-container.math').length,
    mathErrors: document.querySelectorAll('mjx-merror').length
      + [...document.querySelectorAll('mjx-container mjx-mtext')].filter(e => /red/.test(e.getAttribute('style') || '')).length,
    dataTables: document.querySelectorAll("details.book-chart-data > summary").length,
    swatches: [...document.querySelectorAll("[id^='altair-viz-'] .role-legend-symbol path")].map(p => {
      const filled = !['transparent', 'none', null].includes(p.getAttribute('fill'));
      const o = k => parseFloat(p.getAttribute(k) ?? '1');
      return {colour: filled ? p.getAttribute('fill') : p.getAttribute('stroke'),
              opacity: o('opacity') * (filled ? o('fill-opacity') : o('stroke-opacity')),
              chart: p.closest("[id^='altair-viz-']").id};
    }),
  };
}"""


def _local_file(built_html: Path, server_url: str, url: str) -> Path | None:
    if not url.startswith(server_url):
        return None
    path = unquote(urlparse(url).path).lstrip("/")
    target = built_html / path
    return target if target.is_file() else None


#: What axe-core checks at each width, as an axe context. The article's markup is the same at every width, and a
#: phone shows all of it (scroll boxes included: a narrower column only adds overflow), so it is checked at 390 px;
#: at 1300 px only what lies outside the article, the theme's sidebars and header, which a phone keeps folded away.
#: (Checking the whole page at both widths cost about 40 s a width.)
AXE_CONTEXT = {390: "document", 1300: '{exclude: [[".bd-article"]]}'}


def _visit_all(browser, server, built_html, width: int, *, axe: str | None) -> dict[str, dict]:  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server) else route.abort())
    page = context.new_page()
    errors: list[str] = []
    requested: set[str] = set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requested.add(r.url))
    survey: dict[str, dict] = {}
    for html in sorted(p for p in _pages(built_html) if "_downloads" not in p.parts):
        name = html.relative_to(built_html).as_posix()
        errors.clear()
        requested.clear()
        # A redirect stub (index.html's meta refresh) is followed until the network is quiet; every other page
        # only to "load" ("networkidle" idles 500 ms on every page), then its fonts (widths are measured with
        # them), charts and formulas are waited for.
        stub = re.search(r"http-equiv=.refresh", html.read_text(encoding="utf-8")[:2000], flags=re.I)
        page.goto(f"{server}/{name}", wait_until="networkidle" if stub else "load")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        n_charts = page.locator("[id^='altair-viz-']").count()
        if n_charts:
            page.wait_for_function(
                f"document.querySelectorAll(\"[id^='altair-viz-'] svg.marks\").length >= {n_charts}", timeout=20000)
        if page.evaluate("() => !!window.MathJax"):
            page.wait_for_function("() => window.MathJax.startup && window.MathJax.startup.promise", timeout=20000)
            page.evaluate("() => window.MathJax.startup.promise.then(() => true)")
        record = page.evaluate(MEASURE)
        record["errors"] = list(errors)
        files = {f for u in requested if (f := _local_file(built_html, server, u))}
        record["bytes"] = sum(f.stat().st_size for f in files)
        record["files"] = sorted(f.relative_to(built_html).as_posix() for f in files)
        if axe:
            record["axe"] = _axe(page, axe)
        survey[name] = record
    context.close()
    return survey


def _axe(page, context: str) -> list[dict]:
    """axe-core's violations of :data:`AXE_RULES` in ``context`` (an axe context, as JavaScript) of the open page."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(f"(rules) => axe.run({context}, {{runOnly: {{type: 'rule', values: rules}}}})"
                         ".then(r => r.violations.map(v => ({id: v.id, nodes: v.nodes.length,"
                         " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))", AXE_RULES)


def _survey(server: str, built_html: Path, width: int) -> dict[str, dict]:  # noqa: F811
    """One width's survey in a browser of its own (playwright's sync API is per thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        own = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            return _visit_all(own, server, built_html, width, axe=AXE_CONTEXT.get(width))
        finally:
            own.close()


@pytest.fixture(scope="module")
def surveys(browser, server, built_html):  # noqa: F811
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: npm install --prefix .node --no-save axe-core@4.11.0")
    # The three widths side by side: most of a page visit is the browser laying out and drawing, in its own
    # processes, so three browsers share two cores well (221 s one after the other on two busy cores).
    with ThreadPoolExecutor(len(WIDTHS)) as pool:
        futures = {w: pool.submit(_survey, server, built_html, w) for w in WIDTHS}
        return {w: f.result() for w, f in futures.items()}


def _report(name: str, data: object) -> None:
    out = ROOT / "_build" / "reader-survey"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_screen(surveys, width):
    wide = {p: r["scrollWidth"] for p, r in surveys[width].items() if r["scrollWidth"] > r["innerWidth"]}
    _report(f"page-widths-{width}", {p: r["scrollWidth"] for p, r in surveys[width].items()})
    assert not wide, f"pages wider than a {width}px screen: {wide}"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_draws_inside_its_column(surveys, width):
    over = []
    checked = 0
    for name, r in surveys[width].items():
        col = r["column"]
        for i, c in enumerate(r["charts"]):
            checked += 1
            if c["width"] <= 0 or c["left"] < col["left"] - 1 or c["right"] > col["right"] + 1:
                over.append(f"{name} chart {i}: {c['width']:.0f}px, column {col['width']:.0f}px")
    _report(f"chart-widths-{width}", {n: [round(c["width"]) for c in r["charts"]] for n, r in surveys[width].items()
                                      if r["charts"]})
    assert checked >= 40
    assert not over, over


NAMED = {"black": "#000000", "white": "#ffffff"}


def _rgb(colour: str) -> tuple[float, float, float]:
    colour = NAMED.get(colour.strip().lower(), colour.strip())
    if colour.startswith("#"):
        h = colour[1:]
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    nums = [float(x) for x in re.findall(r"[\d.]+", colour)[:3]]
    return tuple(x / 255 for x in nums)


def _contrast_on_white(colour: str, opacity: float) -> float:
    # WCAG 2.x relative luminance of the colour as drawn (alpha-blended over the white chart background)
    rgb = [opacity * c + (1 - opacity) * 1.0 for c in _rgb(colour)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return 1.05 / (lum + 0.05)


def test_every_legend_swatch_reaches_3_to_1_on_the_chart_background(surveys):
    swatches = [(p, s) for p, r in surveys[1300].items() for s in r["swatches"]
                if s["colour"] and re.match(r"#|rgb|black|white", s["colour"].strip().lower())]
    assert len(swatches) >= 60
    assert _contrast_on_white("#767676", 1.0) == pytest.approx(4.54, abs=0.01)
    weak = [(p, s["colour"], round(s["opacity"], 2), round(_contrast_on_white(s["colour"], s["opacity"]), 2))
            for p, s in swatches if _contrast_on_white(s["colour"], s["opacity"]) < 3]
    _report("weak-swatches", weak)
    assert not weak, weak[:10]


@pytest.mark.parametrize("width", sorted(AXE_CONTEXT))
def test_axe_finds_no_violation_of_the_named_rules(surveys, width):
    found = {p: r["axe"] for p, r in surveys[width].items() if r["axe"]}
    _report(f"axe-{width}", found)
    assert not found, json.dumps(found, indent=1)[:4000]


def test_axe_contexts_check_the_article_at_phone_width_and_the_theme_around_it_when_wide(server, browser):  # noqa: F811
    """An unnamed <summary> (rule summary-name) planted in the article and one in the primary sidebar: at 390 px
    both are reported; at 1300 px the sidebar's, and not the article's (checked at 390 px)."""
    planted = {}
    for width, context in AXE_CONTEXT.items():
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server) else route.abort())
        page.goto(f"{server}/{FOCUS_CHAPTER}", wait_until="load")
        page.evaluate("""() => { for (const [sel, id] of [['.bd-article', 'planted-article'],
                                                           ['.bd-sidebar-primary', 'planted-sidebar']]) {
            const d = document.createElement('details'); d.id = id;
            d.appendChild(document.createElement('summary')); d.appendChild(document.createTextNode('x'));
            document.querySelector(sel).prepend(d); } }""")
        planted[width] = {t for v in _axe(page, context) if v["id"] == "summary-name" for t in v["targets"]}
        page.close()
    assert any("planted-article" in t for t in planted[390]), planted
    assert any("planted-sidebar" in t for t in planted[1300]), planted
    assert not any("planted-article" in t for t in planted[1300]), planted


@pytest.mark.parametrize("width", WIDTHS)
def test_no_console_error_on_any_page(surveys, width):
    errors = {p: r["errors"] for p, r in surveys[width].items() if r["errors"]}
    assert not errors, errors


def test_every_chart_has_its_data_table_for_keyboard_and_screen_reader_users(surveys):
    for name, r in surveys[1300].items():
        assert r["dataTables"] == r["chartDivs"], name


def test_every_formula_is_typeset_without_error(surveys):
    """MathJax is loaded as components (TeX input, CommonHTML output, extensions on demand): every formula of
    every page is drawn, with no TeX error and no undefined macro (which MathJax shows in red)."""
    untypeset = {p: (r["formulas"], r["typeset"]) for p, r in surveys[1300].items() if r["typeset"] < r["formulas"]}
    errors = {p: r["mathErrors"] for p, r in surveys[1300].items() if r["mathErrors"]}
    assert sum(r["formulas"] for r in surveys[1300].values()) >= 400
    assert not untypeset and not errors, (untypeset, errors)


def test_formulas_are_not_tab_stops(surveys):
    stops = {p: r["mathTabStops"] for p, r in surveys[1300].items() if r["mathTabStops"]}
    assert not stops


def _chapter_weights(surveys) -> dict[str, int]:
    _report("page-weights", {p: [r["bytes"], r["files"]] for p, r in surveys[1300].items()})
    chapters = {p: r["bytes"] for p, r in surveys[1300].items() if p.startswith("chapters/")}
    assert len(chapters) >= 8
    assert all(w > 100_000 for w in chapters.values())  # the measurement sees the page's assets at all
    return chapters


def test_chapter_pages_are_no_heavier_than_after_issue_19(surveys):
    """Uncompressed bytes of everything a chapter loads; before issue 19 they were 6.1 to 6.4 MB."""
    heavy = {p: w for p, w in _chapter_weights(surveys).items() if w >= PAGE_CEILING_BYTES}
    assert not heavy, heavy


def test_chapter_pages_stay_under_the_weight_budget(surveys):
    heavy = {p: w for p, w in _chapter_weights(surveys).items() if w >= PAGE_BUDGET_BYTES}
    assert not heavy, heavy


def test_mathjax_loads_only_on_pages_with_math(surveys, built_html):
    for name, r in surveys[1300].items():
        text = (built_html / name).read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text or 'http-equiv="refresh"' in text:
            continue  # a redirect (index.html): the browser measured the page it leads to
        has_math = bool(re.search(r'class="math[ "]', text))
        loads = any("mathjax/" in f for f in r["files"])
        assert loads == has_math, name


# --------------------------------------------------------------------------- keyboard and print, on one chapter

FOCUS_CHAPTER = "chapters/04-goodhart.html"

FOCUS_STYLE = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const s = getComputedStyle(e); const r = e.getBoundingClientRect();
  return {tag: e.tagName, cls: String(e.className).slice(0, 60), text: (e.innerText || e.getAttribute('aria-label')
          || '').trim().slice(0, 40), outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0,
          shadow: s.boxShadow, visible: r.width > 0 && r.height > 0,
          header: !!e.closest('.bd-header-article, .article-header-buttons'), sidebar: !!e.closest('.bd-sidebar-primary')};
}"""


def test_every_control_shows_where_the_keyboard_focus_is(server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server) else route.abort())
    page = context.new_page()
    page.goto(f"{server}/{FOCUS_CHAPTER}", wait_until="networkidle")
    seen, unmarked = [], []
    for _ in range(150):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_STYLE)
        if not focus or not focus["visible"]:
            continue
        seen.append(focus)
        if not ((focus["outline"] != "none" and focus["width"] >= 2) or focus["shadow"] not in ("none", "")):
            unmarked.append(focus)
    context.close()
    assert sum(f["header"] for f in seen) >= 3  # launch, repository, download ... were reached
    assert sum(f["sidebar"] for f in seen) >= 5
    assert not unmarked, unmarked[:5]


def test_a_printed_chapter_wraps_its_code_and_hides_screen_only_parts(server, browser, built_html):  # noqa: F811
    context = browser.new_context(viewport={"width": 700, "height": 1000})  # about an A4 page's text width
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server) else route.abort())
    page = context.new_page()
    page.goto(f"{server}/{FOCUS_CHAPTER}", wait_until="networkidle")
    page.emulate_media(media="print")
    found = page.evaluate("""() => ({
      pre: [...document.querySelectorAll('pre')].filter(p => p.offsetParent !== null).map(p => ({
        ws: getComputedStyle(p).whiteSpace, over: p.scrollWidth - p.clientWidth})),
      menus: [...document.querySelectorAll('.vega-embed details, details.book-chart-data')]
        .filter(e => getComputedStyle(e).display !== 'none').length,
      solutions: [...document.querySelectorAll('div.solution > :not(.admonition-title)')]
        .filter(e => getComputedStyle(e).display !== 'none').length,
      solutionCount: document.querySelectorAll('div.solution').length})""")
    out = built_html.parent / "screenshots"
    out.mkdir(exist_ok=True)
    page.pdf(path=str(out / "04-goodhart-print.pdf"), format="A4")
    context.close()
    assert len(found["pre"]) >= 10
    assert {p["ws"] for p in found["pre"]} <= {"pre-wrap", "break-spaces"}
    assert max(p["over"] for p in found["pre"]) <= 1  # no code line runs past its box: nothing is cut off
    assert found["menus"] == 0
    assert found["solutionCount"] >= 1 and found["solutions"] == 0
