"""Sphinx extension: launch and download links that work for course use.

What the theme cannot do on its own:

* **Binder and Colab open reader notebooks.** The repository keeps chapters only as MyST text, which JupyterLab
  and Colab show raw. The theme's Binder and Colab buttons are rewritten to open ``chapters/<name>.ipynb`` on the
  generated notebooks branch (``python -m book.tools.publish``), whose notebooks this extension writes. Pages that
  are not chapters get no Colab button, and their Binder button opens the chapters folder. Every URL comes from
  :func:`book.tools.links.book_links`, that is from ``repository.url`` in ``_config.yml`` alone.
* **Reader and student notebooks.** After the build, every chapter is written as a plain notebook, with the numbers
  the page shows, links instead of MyST roles and an answer cell after each exercise (:mod:`book.tools.notebook`):
  with solutions to ``notebooks/full/chapters`` and without to ``notebooks/student/chapters``. Each chapter's
  download menu offers both, and its first cell installs what the chapter needs when it runs on Colab.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Sphinx puts book/_ext on sys.path, not the repository root, and the book's tools (book.tools) are not installed
# with the library: make them importable from this checkout, whatever folder the build started in (autodoc needs
# them too, for book/api.md).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOTEBOOKS = "notebooks"


def _chapter(pagename: str) -> bool:
    return pagename.startswith("chapters/")


def _links(app):
    from book.tools.links import book_links  # the book's tools, importable from the root put on sys.path above

    return book_links(app.srcdir)


def _rewrite_buttons(app, pagename, templatename, context, doctree) -> None:
    links = _links(app)
    chapter = _chapter(pagename)
    for group in context.get("header_buttons", []):
        buttons = group.get("buttons", [])
        if group.get("label") == "launch-buttons":
            kept = []
            for button in buttons:
                text = button.get("text")
                if text == "Colab":
                    if not chapter:
                        continue
                    button["url"] = links.colab_url(f"{pagename}.ipynb")
                elif text == "Binder":
                    button["url"] = links.binder_url(f"{pagename}.ipynb" if chapter else "chapters")
                kept.append(button)
            group["buttons"] = kept
        if group.get("label") == "download-buttons" and chapter:
            # The theme's own ".ipynb" entry would be the MyST source converted verbatim: offer the reader
            # notebooks instead.
            buttons[:] = [b for b in buttons if not str(b.get("text", "")).endswith(".ipynb")]
            for position, (kind, text, tip, icon) in enumerate([
                ("full", ".ipynb", "Download the chapter as a notebook", "fas fa-code"),
                ("student", "student .ipynb", "Download the notebook without exercise solutions",
                 "fas fa-graduation-cap"),
            ], start=1):
                buttons.insert(position, {
                    "type": "link",
                    "url": context["pathto"](f"{NOTEBOOKS}/{kind}/{pagename}.ipynb", 1),
                    "text": text, "tooltip": tip, "icon": icon,
                    "label": f"download-{kind}-notebook-button",
                })
    if "header_buttons" in context:
        context["header_buttons"] = [g for g in context["header_buttons"]
                                     if g.get("label") != "launch-buttons" or g.get("buttons")]


def _write_notebooks(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import shutil

    from book.tools.course import write_notebooks

    pages = [Path(app.srcdir) / f"{doc}.md" for doc in sorted(app.env.found_docs) if _chapter(doc)]
    executed = Path(app.outdir).parent / "jupyter_execute" / "chapters"
    out = Path(app.outdir) / NOTEBOOKS
    for kind in ("student", "full"):
        write_notebooks(pages, out / kind / "chapters", student=kind == "student", executed_dir=executed,
                        links=_links(app), overwrite=True)
    # The theme also copies each executed MyST notebook to _sources/ (raw MyST in its Markdown). Its button is
    # gone; replace the file too, so that no notebook the site serves shows raw MyST.
    for page in pages:
        theme_copy = Path(app.outdir) / "_sources" / "chapters" / f"{page.stem}.ipynb"
        if theme_copy.exists():
            shutil.copyfile(out / "full" / "chapters" / f"{page.stem}.ipynb", theme_copy)


def setup(app):
    # After the theme's own handlers (priority 501), which build the buttons this one edits.
    app.add_config_value("notebooks_branch", "notebooks", "html")
    app.connect("html-page-context", _rewrite_buttons, priority=600)
    app.connect("build-finished", _write_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
