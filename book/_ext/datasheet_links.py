"""Sphinx extension: each datasheet lists, with links, the pages that load its dataset.

A datasheet says ``` ```{used-in} cps1988 ``` ```; the directive finds the book's pages whose code loads that
dataset (``load("cps1988"...)`` from :mod:`helpers.data`) and lists them as links titled like the pages. The list
is computed from the sources at every build, so a new chapter that uses a dataset appears on its datasheet
without anyone editing the datasheet.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

_LOAD = re.compile(r"""\bload\(\s*["']([A-Za-z0-9_]+)["']""")
SOURCES = ("chapters/*.md", "book/*.md")


class UsedIn(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        dataset = self.arguments[0]
        root = Path(self.env.srcdir)
        users = []
        for pattern in SOURCES:
            for source in sorted(root.glob(pattern)):
                docname = source.relative_to(root).with_suffix("").as_posix()
                if docname not in self.env.found_docs:
                    continue
                self.env.note_dependency(str(source))
                if dataset in _LOAD.findall(source.read_text(encoding="utf-8")):
                    users.append(docname)
        if not users:
            raise self.error(f"No page of the book loads the dataset {dataset!r} (load({dataset!r}) in its code); "
                             "check the name, or remove the used-in list from this datasheet.")
        items = nodes.bullet_list()
        for docname in users:
            ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget=f"/{docname}",
                                        refexplicit=False, refdoc=self.env.docname)
            ref += nodes.inline("", docname)
            items += nodes.list_item("", nodes.paragraph("", "", ref))
        return [items]


def setup(app):
    app.add_directive("used-in", UsedIn)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
