"""Checks of the built book: offline assets only, chart bundle where charts are, and charts that draw.

These run after `jupyter-book build .` (see .ci/run) and are selected with `pytest -m build`.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.build

OFFSITE = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)
STYLESHEET_OR_SCRIPT = re.compile(r"<(script|link)\b[^>]*>", re.I)


def _pages(html_root: Path) -> list[Path]:
    return [p for p in html_root.rglob("*.html") if "_static" not in p.parts]


def _offsite_assets(text: str) -> list[str]:
    hits = []
    for tag in STYLESHEET_OR_SCRIPT.finditer(text):
        t = tag.group(0)
        if t.lower().startswith("<link") and "stylesheet" not in t.lower() and "preload" not in t.lower():
            continue  # plain hyperlinks to other sites are fine; loaded assets are not
        if OFFSITE.search(t):
            hits.append(t)
    return hits


def test_no_page_loads_anything_from_another_site(built_html):
    bad = {p.relative_to(built_html).as_posix(): _offsite_assets(p.read_text(encoding="utf-8"))
           for p in _pages(built_html)}
    assert not {k: v for k, v in bad.items() if v}


def test_no_page_shows_the_build_machines_paths(built_html):
    # An attribute's value printed by autodoc (a data folder, a cache under HOME) would show where the book was
    # built, which is no reader's path.
    root = Path(__file__).resolve().parent.parent
    leaks = {p.relative_to(built_html).as_posix(): needle for p in _pages(built_html)
             for needle in (str(root), str(Path.home()) + "/") if needle in p.read_text(encoding="utf-8")}
    assert not leaks, leaks


def test_chart_bundle_is_on_chart_pages_and_only_there(built_html):
    bundle = built_html / "_static" / "vega-offline.js"
    assert bundle.exists() and "window.vegaEmbed" in bundle.read_text(encoding="utf-8")
    chart_pages = 0
    for page in _pages(built_html):
        text = page.read_text(encoding="utf-8")
        has_chart = "altair-viz-" in text
        chart_pages += has_chart
        assert ("_static/vega-offline.js" in text) == has_chart, page
    assert chart_pages >= 1


def test_book_pages_carry_altairs_chart_output_not_the_notebook_renderer(built_html):
    """The Sphinx extension sets helpers.plots.BOOK_BUILD_ENV in setup(); the kernels that execute the chapters
    inherit it, so use_book_style keeps Altair's HTML (completed by one shared bundle) instead of the notebook
    renderer, which would put a copy of vega into every chart."""
    from helpers import plots

    for page in _pages(built_html):
        assert f'class="{plots.OFFLINE_CHART_CLASS}"' not in page.read_text(encoding="utf-8"), page


def test_every_chart_has_a_title_and_description(built_html):
    for page in _pages(built_html):
        text = page.read_text(encoding="utf-8")
        for script in re.findall(r"<script type=\"text/javascript\">(.*?)</script>", text, re.S):
            if "vegaEmbed" in script and "altair-viz-" in script:
                assert '"description": "' in script, page
                assert '"title": ' in script, page


def test_mathjax_is_served_locally(built_html):
    text = (built_html / "chapters" / "01-scaling-laws.html").read_text(encoding="utf-8")
    assert "_static/mathjax/startup.js" in text
    mathjax = built_html / "_static" / "mathjax"
    # the components the loader is told to load, and the files they fetch in turn, all served from the book
    for component in ("core", "input/tex", "output/chtml", "output/chtml/fonts/tex", "a11y/assistive-mml",
                      "input/tex/extensions/boldsymbol"):
        assert (mathjax / f"{component}.js").is_file(), component
    assert (mathjax / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


@pytest.fixture(scope="module")
def server(built_html):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output readable
            pass

    handler = functools.partial(Quiet, directory=str(built_html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed for the browser test: apt-get install chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_chart_draws_offline_and_shows_a_tooltip(server, browser, built_html):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    left_machine: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(server) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            left_machine.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/book/intro.html", wait_until="networkidle")
    svg = page.locator("[id^='altair-viz-'] svg").first
    svg.wait_for(state="visible", timeout=15000)
    assert page.locator("[id^='altair-viz-'] svg .mark-line path").count() >= 2
    # Vega puts the chart's description on its graphics-document container, for screen readers.
    label = page.locator("[id^='altair-viz-'] [role='graphics-document']").first.get_attribute("aria-label") or ""
    assert "Predicted loss against model size" in label
    assert not page.locator("[id^='altair-viz-'] .error").count()

    target = page.locator("[id^='altair-viz-'] svg .mark-symbol path").nth(10)
    target.hover(force=True)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5000)
    assert "loss" in tooltip.inner_text()

    shots = built_html.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    page.locator("[id^='altair-viz-']").first.screenshot(path=str(shots / "intro-chart-offline.png"))
    context.close()
    assert left_machine == []
    assert not [e for e in console_errors if "vega" in e.lower() or "script" in e.lower()]


# --------------------------------------------------------------------------- launch buttons and student notebooks


def _chapter_pages(html_root: Path) -> list[Path]:
    return sorted((html_root / "chapters").glob("*.html"))


def _links_in(page: Path) -> set[str]:
    return set(re.findall(r'href="(https://[^"]+)"', page.read_text(encoding="utf-8")))


def test_launch_buttons_open_reader_notebooks_on_the_notebooks_branch(built_html):
    from conftest import ROOT
    from book.tools.links import book_links

    links = book_links(ROOT)
    owner_repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].split("github.com/")[1]
    pages = _chapter_pages(built_html)
    assert len(pages) == len(list((ROOT / "chapters").glob("*.md")))
    for page in pages:
        found = _links_in(page)
        binder = f"https://mybinder.org/v2/gh/{owner_repo}/notebooks?urlpath=lab/tree/chapters/{page.stem}.ipynb"
        colab = f"https://colab.research.google.com/github/{owner_repo}/blob/notebooks/chapters/{page.stem}.ipynb"
        assert binder in found, (page.name, [u for u in found if "binder" in u])
        assert colab in found, (page.name, [u for u in found if "colab" in u])
        assert (built_html / "notebooks" / "full" / "chapters" / f"{page.stem}.ipynb").is_file()
    assert links.notebooks_branch == "notebooks"


def test_no_colab_link_points_at_a_markdown_file_and_only_chapters_have_one(built_html):
    checked = 0
    for page in built_html.rglob("*.html"):
        colab = [u for u in _links_in(page) if "colab.research.google.com/github/" in u]
        if page.parent.name != "chapters":
            assert not colab, (page, colab)
        for url in colab:
            assert url.endswith(".ipynb"), url
            checked += 1
    assert checked >= 8


def test_every_chapter_offers_reader_and_student_notebooks(built_html):
    import nbformat

    from book.tools.notebook import raw_myst

    for page in _chapter_pages(built_html):
        text = page.read_text(encoding="utf-8")
        assert f'href="../_sources/chapters/{page.stem}.ipynb"' not in text  # the theme's raw-MyST copy
        theme_copy = built_html / "_sources" / "chapters" / f"{page.stem}.ipynb"
        if theme_copy.exists():
            copy = nbformat.read(theme_copy, as_version=4)
            assert not raw_myst("\n".join(c.source for c in copy.cells if c.cell_type == "markdown")), theme_copy
        notebooks = {}
        for kind in ("full", "student"):
            href = f"../notebooks/{kind}/chapters/{page.stem}.ipynb"
            assert f'href="{href}"' in text, (page.name, kind)
            notebooks[kind] = nbformat.read(built_html / "notebooks" / kind / "chapters" / f"{page.stem}.ipynb",
                                            as_version=4)
        for kind, nb in notebooks.items():
            markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
            assert not raw_myst(markdown), (page.name, kind, raw_myst(markdown)[:5])
            # the Colab install cell is the notebook's first code cell, and installs no build or test tool
            first = next(c for c in nb.cells if c.cell_type == "code").source
            assert "google.colab" in first and "git+https://github.com/" in first, (page.name, first)
            for tool in ("jupyter-book", "sphinx", "pytest", "playwright", "otter-grader", "-r requirements"):
                assert tool not in first, (page.name, tool)
        full_src = "\n".join(c.source for c in notebooks["full"].cells)
        student_src = "\n".join(c.source for c in notebooks["student"].cells)
        assert re.search(r"Solution to Exercise \d+", full_src) and "Solution to Exercise" not in student_src
        assert len(notebooks["student"].cells) < len(notebooks["full"].cells)


# Every chart drawing inside the text column is checked by the reader survey (tests/test_reader.py,
# test_every_chart_draws_inside_its_column) at phone, tablet and laptop widths in one visit per page; the separate
# pass over every chart page at 1,400 px that stood here checked a subset of it and took 40 s of the CI run.
