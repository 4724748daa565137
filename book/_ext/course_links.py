"""Sphinx extension: launch and download links that work for course use.

Two things the theme cannot do on its own:

* **Colab opens notebooks, not MyST files.** The theme's Colab button points at the chapter's ``.md`` file in the
  repository, which Colab cannot open. Chapters are never committed as ``.ipynb`` (they are reviewed as text), so
  the button is rewritten to open ``chapters/<name>.ipynb`` on the ``colab_branch`` of the same repository
  (default ``notebooks``). That branch holds the notebooks this extension writes, published from
  ``_build/html/notebooks/full`` by the maintainers (see the instructor guide). The first cell of every chapter
  installs the pinned environment when it runs on Colab.
* **Student notebooks.** Every chapter's download menu gets a "student notebook" entry: the chapter as a notebook
  with every exercise solution removed (:func:`helpers.course.chapter_notebook`), written at build time from the
  same source as the page, so it cannot drift from the book.
"""

from __future__ import annotations

from pathlib import Path

NOTEBOOKS = "notebooks"


def _chapter(pagename: str) -> bool:
    return pagename.startswith("chapters/")


def _rewrite_buttons(app, pagename, templatename, context, doctree) -> None:
    if not _chapter(pagename):
        return
    url = app.config.html_theme_options.get("repository_url") or ""
    org_repo = url.rstrip("/").removeprefix("https://github.com/")
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            if button.get("text") == "Colab" and org_repo:
                button["url"] = (f"https://colab.research.google.com/github/{org_repo}/blob/"
                                 f"{app.config.colab_branch}/{pagename}.ipynb")
        if group.get("label") == "download-buttons":
            group["buttons"].insert(1, {
                "type": "link",
                "url": context["pathto"](f"{NOTEBOOKS}/student/{pagename}.ipynb", 1),
                "text": "student .ipynb",
                "tooltip": "Download the notebook without exercise solutions",
                "icon": "fas fa-graduation-cap",
                "label": "download-student-notebook-button",
            })


def _write_notebooks(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from helpers.course import write_notebooks  # the book's own library, installed with requirements.txt

    pages = [Path(app.srcdir) / f"{doc}.md" for doc in sorted(app.env.found_docs) if _chapter(doc)]
    for kind in ("student", "full"):
        write_notebooks(pages, Path(app.outdir) / NOTEBOOKS / kind / "chapters", student=kind == "student")


def setup(app):
    app.add_config_value("colab_branch", "notebooks", "html")
    # After the theme's own handlers (priority 501), which build the buttons this one edits.
    app.connect("html-page-context", _rewrite_buttons, priority=600)
    app.connect("build-finished", _write_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
