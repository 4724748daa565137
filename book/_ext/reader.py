"""Sphinx extension: pages that readers on phones, keyboards, screen readers and paper can use, and that load less.

What the theme and the other extensions leave to do (issue 19; checked by tests/test_reader.py):

* **No Thebe when it is off.** With ``launch_buttons.thebe: false`` (it needs a CDN), sphinx-thebe still puts its
  scripts on every page, its config twice (a console error, "THEBE_JS_URL has already been declared"): they go.
* ``reader.css`` (``book/_static``): charts and tables that fit the column, scroll boxes, visible focus, print.
* **MathJax only where there is math.** myst-nb asks Sphinx to put every asset on every page; MathJax (over a
  megabyte) is taken off the pages whose body has no formula.
* **Tables and lists screen readers understand.** pandas writes an empty ``<th>`` above the index (an empty
  header to assistive technology): it becomes a ``<td>``. The bibliography's entries get the ``listitem`` role
  their ``role="list"`` container requires (``doc-biblioentry`` is deprecated in ARIA 1.3).
* **sphinx-design only where it is used.** Its stylesheet and tab script (62 kB) come with every page; they stay
  only on pages with a sphinx-design component (``class="sd-...``), which no page of the book has now.
* **Search index on the search page only** (0.4 MB): the theme's search box opens ``search.html``, which loads it.
* **Named controls.** The sidebar's expand buttons (``<summary>`` with only an icon) are named after the
  section they open.
* **Icons without the icon script.** The theme loads Font Awesome twice: its stylesheet carries Font Awesome's CSS
  and web fonts, and a 1.5 MB script turns each icon into SVG as well. The icons draw from the stylesheet alone
  (the page then loads the two web fonts it uses), so the script tag is removed.
* **Icon fonts with the icons the book uses.** Those two fonts hold Font Awesome's 2,000 icons (0.27 MB) and the
  stylesheet names every one of them (90 kB); a page shows about twenty. After the build, the stylesheet keeps the
  rules of the icon classes that appear on some page or in the theme's scripts, and the fonts keep the characters
  that the remaining CSS can still ask for (those rules, and the theme's own icons in generated content).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

FONTAWESOME_JS = "scripts/fontawesome.js"
MATH_MARKER = 'class="math'
DESIGN_MARKER = re.compile(r'class="(?:[^"]* )?sd-')

_EMPTY_TH = re.compile(r"<th(\s[^>]*)?>\s*(?:&nbsp;|&#160;)?\s*</th>")
_SIDEBAR_SUMMARY = re.compile(
    r'(<a class="[^"]*reference internal[^"]*" href="[^"]*">(?P<title>.*?)</a>\s*<details(?: open="open")?>)<summary>')
_SEARCH_TAGS = re.compile(r'<script src="[^"]*(?:searchtools|language_data|searchindex)\.js[^"]*"></script>\s*')
# The theme's inline script reads the colour mode with "" as fallback, which its own code rejects with a console
# error on a first visit; "auto" is what it falls back to anyway.
_MODE_FALLBACK = ('localStorage.getItem("mode") || ""', 'localStorage.getItem("mode") || "auto"')
_FONTAWESOME_TAG = re.compile(r'<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\s*')


def _is_mathjax(script) -> bool:
    filename = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", "")) if hasattr(script, "attributes") else ""
    return "mathjax" in filename.lower() or body.lstrip().startswith("window.MathJax")


def _is_thebe(script) -> bool:
    filename = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", "")) if hasattr(script, "attributes") else ""
    return "thebe" in filename.lower() or "THEBE_JS_URL" in body


def _is_design(asset) -> bool:
    filename = str(getattr(asset, "filename", asset) or "").lower()
    return "sphinx-design" in filename or "design-tabs" in filename


def _page_context(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body", "")
    scripts = context.get("script_files")
    if not DESIGN_MARKER.search(body):
        for key in ("script_files", "css_files"):
            if context.get(key) is not None:
                context[key][:] = [a for a in context[key] if not _is_design(a)]
    if scripts is not None and MATH_MARKER not in body:
        scripts[:] = [s for s in scripts if not _is_mathjax(s)]
    if scripts is not None and not app.config.html_theme_options.get("launch_buttons", {}).get("thebe"):
        scripts[:] = [s for s in scripts if not _is_thebe(s)]
    if body:
        body = re.sub(r"<table[^>]*>.*?</table>", lambda m: _EMPTY_TH.sub(r"<td\1></td>", m.group(0)), body,
                      flags=re.S)
        body = body.replace('role="doc-biblioentry"', 'role="listitem"')
        context["body"] = body


def _label_summaries(text: str) -> str:
    def name(m: re.Match) -> str:
        title = html.escape(html.unescape(re.sub(r"<[^>]+>", "", m.group("title"))).strip(), quote=True)
        return f'{m.group(1)}<summary aria-label="Sections of {title}">'

    return _SIDEBAR_SUMMARY.sub(name, text)


# Font Awesome's own rules: one icon class (or a group of aliases) and its character.
_FA_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:(?:before|after),?)+)\{content:"(\\[0-9a-f]+)"\}')
_FA_CLASS = re.compile(r"\bfa-[a-z0-9-]+")
_CSS_CHAR = re.compile(r'\\([0-9a-fA-F]{2,6})')
FONTS = ("fa-solid-900.woff2", "fa-brands-400.woff2", "fa-regular-400.woff2")


def _icon_classes(out: Path, pages: list[Path]) -> set[str]:
    used: set[str] = set()
    for path in [*pages, *(out / "_static").rglob("*.js")]:
        if "fontawesome" in path.parts or path.name == "vega-offline.js":
            continue
        used.update(_FA_CLASS.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return used


def _trim_icons(out: Path, pages: list[Path]) -> None:
    """Drop the icon rules no page uses from the theme's stylesheet, then cut the fonts down to the characters
    the stylesheets can still ask for. Running it again on its own output changes nothing."""
    from fontTools import subset

    used = _icon_classes(out, pages)
    styles = list((out / "_static").rglob("*.css"))
    for css in styles:
        text = css.read_text(encoding="utf-8")
        if "fa-" not in text:
            continue

        def keep(m: re.Match) -> str:
            names = {n.split(":")[0][1:] for n in m.group(1).rstrip(",").split(",")}
            return m.group(0) if names & used else ""

        new = _FA_RULE.sub(keep, text)
        if new != text:
            css.write_text(new, encoding="utf-8")
    chars = {int(c, 16) for css in styles for c in _CSS_CHAR.findall(css.read_text(encoding="utf-8"))
             if int(c, 16) <= 0x10FFFF}
    chars |= set(range(0x20, 0x7F))  # the fonts' ASCII (some icons are letters and digits)
    for font in FONTS:
        path = out / "_static" / "vendor" / "fontawesome" / "webfonts" / font
        if not path.exists():
            continue
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        ttf = subset.load_font(str(path), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(chars))
        subsetter.subset(ttf)
        subset.save_font(ttf, str(path), options)


def _finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    fontawesome = out / "_static" / FONTAWESOME_JS
    pages = [p for p in out.rglob("*.html") if "_static" not in p.parts]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        new = _label_summaries(text)
        if fontawesome.exists():
            new = _FONTAWESOME_TAG.sub("", new)
        if page.name != "search.html":  # the search box sends readers to search.html, which loads the index
            new = _SEARCH_TAGS.sub("", new)
        new = new.replace(*_MODE_FALLBACK)
        if new != text:
            page.write_text(new, encoding="utf-8")
    _trim_icons(out, pages)


def setup(app):
    app.add_css_file("reader.css")
    app.add_js_file("reader.js", loading_method="defer")
    # After Sphinx's MathJax handler (priority 500), which adds the scripts this one takes off.
    app.connect("html-page-context", _page_context, priority=700)
    app.connect("build-finished", _finish)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
