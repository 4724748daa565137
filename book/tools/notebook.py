"""Reader notebooks: a MyST chapter as a plain Jupyter notebook.

The chapters are MyST-Markdown notebooks. Opened as they are in JupyterLab or Colab,
their text shows raw MyST (``{glue:text}`` roles, ``:::{admonition}`` fences,
``(label)=`` targets, exercise directives). :func:`reader_notebook` turns a chapter
into a notebook that reads well anywhere, with no MyST-only syntax left:

========================================  =====================================================
MyST in the chapter                        In the reader notebook
========================================  =====================================================
``{glue:text}`key:fmt``` (``{glue:md}``)   the value, formatted exactly as myst-nb does, taken
                                           from the executed notebook of the book build
``{cite:p}``, ``{cite:t}``                 sphinxcontrib-bibtex's ``author_year`` text, linked to
                                           the bibliography page; a final "References" cell
``{term}``                                 a link to the term's anchor in the glossary
``{ref}``, ``{doc}``                       a link to the page on the book's site, titled like
                                           the book (heading title, "Exercise N")
``{func}``, ``{meth}``, ``{mod}``,         inline code linked to the API reference
``{class}``
``{download}``                             a link to the file as the site serves it
``{math}`` role and directive              ``$...$`` and ``$$...$$``
``:::{admonition}`` and ``{note}`` etc.    a blockquote that starts with the bold title
``(label)=`` lines, ``%`` comments         removed
exercises (gated or not)                   "**Exercise N**" (numbered as in the book) and, after
                                           the exercise, one empty code cell for the answer
solutions (gated or not)                   "**Solution to Exercise N**" and the solution's
                                           cells; removed entirely with ``student=True``
the ``# Colab only:`` setup cell           dropped (pass ``first_cells`` to put an install
                                           cell at the top instead)
code cells tagged ``remove-cell`` etc.     kept, collapsed (``metadata.jupyter.source_hidden``)
``from myst_nb import glue``               ``from helpers.glue import glue`` (no display)
========================================  =====================================================

Any other role or directive raises ``ValueError``, so a new construct in a future
chapter cannot leak into the notebooks unnoticed; :func:`raw_myst` lists whatever
MyST-only syntax is left in a piece of Markdown.

Command line::

    python -m book.tools.notebook --out DIR [--student] [--overwrite] [chapters/*.md]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import html
import json
import posixpath
import re
from ast import literal_eval
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import yaml

from book.tools.course import strip_solutions

__all__ = ["glue", "glued", "raw_myst", "reader_notebook", "site_url", "write_reader_notebooks"]

#: Prefix myst-nb puts before the mime types of a ``glue(..., display=False)`` output.
GLUE_PREFIX = "application/papermill.record/"

#: Code-cell tags that only mean something to the book build; they are dropped.
BOOK_TAGS = frozenset({
    "remove-cell", "remove-input", "remove-output", "remove-stderr", "remove_cell", "remove_input",
    "remove_output", "hide-cell", "hide-input", "hide-output", "hide_cell", "hide_input", "hide_output",
    "full-width", "margin", "output_scroll", "scroll-output", "scroll-input",
})
#: Of those, the tags whose code the book hides: the reader notebook collapses it instead.
_HIDDEN_SOURCE_TAGS = frozenset({"remove-cell", "remove-input", "remove_cell", "remove_input",
                                  "hide-cell", "hide-input", "hide_cell", "hide_input"})

_ADMONITIONS = {name: name.capitalize() for name in
                ["attention", "caution", "danger", "error", "hint", "important", "note", "tip", "warning"]}
_ADMONITIONS["seealso"] = "See also"

_DIRECTIVE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})\s*\{(?P<name>[^}\s]+)\}\s*(?P<arg>.*?)\s*$")
_PLAIN_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")
_LABEL = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_ROLE_NAME = re.compile(r"\{(?P<name>[A-Za-z][\w:.+-]*)\}$")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_COLAB_FIRST_LINE = "# Colab only:"

from helpers.glue import glue, glued  # noqa: E402,F401  (re-exported: the reader notebooks' shim)


# --------------------------------------------------------------------------------------------------------------
# Book-level data: site address, labels, titles, exercise numbers, glossary, bibliography


def site_url(book_root: str | Path) -> str:
    """The address of the published book, derived from ``repository.url`` in ``_config.yml``.

    GitHub Pages serves a repository ``https://github.com/<owner>/<repo>`` at
    ``https://<owner>.github.io/<repo>`` (and a repository named ``<owner>.github.io`` at
    ``https://<owner>.github.io``). The owner is lower-cased, as GitHub does for the host.

    Parameters
    ----------
    book_root : str or Path
        The folder holding ``_config.yml``.

    Returns
    -------
    str
        The site's address, without a trailing slash.

    Raises
    ------
    ValueError
        If there is no ``_config.yml`` in ``book_root`` or its ``repository.url`` is not a GitHub address.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "_config.yml").write_text("repository:\\n  url: https://github.com/Some-Org/my-book\\n")
    >>> site_url(root)
    'https://some-org.github.io/my-book'
    """
    from book.tools.links import book_links  # the one place that reads repository.url

    try:
        return book_links(book_root).site_url
    except ValueError as exc:
        raise ValueError(f"book_root: {exc} Or pass site_url explicitly.") from None


def _toc_docnames(root: Path) -> list[str]:
    """Docnames (paths without suffix, relative to the book root) in table-of-contents order."""
    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise ValueError(f"book_root: no _toc.yml in {root}; pass the folder that holds the book's _toc.yml.")
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8")) or {}
    names: list[str] = []

    def add(entry: Any) -> None:
        if isinstance(entry, dict):
            if "file" in entry:
                names.append(re.sub(r"\.(md|ipynb)$", "", str(entry["file"])))
            for key in ("parts", "chapters", "sections"):
                for sub in entry.get(key) or []:
                    add(sub)
        elif isinstance(entry, list):
            for sub in entry:
                add(sub)

    if "root" in toc:
        names.append(re.sub(r"\.(md|ipynb)$", "", str(toc["root"])))
    add({k: v for k, v in toc.items() if k != "root"})
    return names


_CODE_LIKE = frozenset({"code-cell", "code", "code-block", "eval-rst", "raw-cell", "raw"})


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` is a bare fence closing a block opened with ``fence``."""
    s = line.strip()
    return bool(s) and set(s) == {fence[0]} and len(s) >= len(fence)


def _scan(lines: list[str]) -> Iterable[tuple[int, str, str]]:
    """Classify lines: "text", "directive" (an opening fence), "close" (a directive's bare closing fence), "code"."""
    stack: list[str] = []
    code: str | None = None
    for i, line in enumerate(lines):
        if code is not None:
            if _closes(line, code):
                code = None
            yield i, line, "code"
            continue
        if d := _DIRECTIVE.match(line):
            if d["name"] in _CODE_LIKE:
                code = d["fence"]
            else:
                stack.append(d["fence"])
            yield i, line, "directive"
            continue
        if stack and _closes(line, stack[-1]):
            stack.pop()
            yield i, line, "close"
            continue
        if p := _PLAIN_FENCE.match(line):
            code = p["fence"]
            yield i, line, "code"
            continue
        yield i, line, "text"


@dataclass
class _Book:
    """What the converter needs to know about the whole book."""

    root: Path
    site: str
    docnames: list[str]
    titles: dict[str, str] = field(default_factory=dict)
    labels: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # label -> (docname, link text)
    exercise_numbers: dict[tuple[str, int], int] = field(default_factory=dict)  # (docname, k-th) -> number
    terms: dict[str, str] = field(default_factory=dict)  # lower-cased term -> term as written
    glossary_doc: str | None = None
    bibliography_doc: str | None = None
    api_modules: dict[str, str] = field(default_factory=dict)  # module -> docname documenting it
    bib_files: list[Path] = field(default_factory=list)
    _bib: Any = None

    @property
    def bib(self) -> Any:
        if self._bib is None:
            from pybtex.database import BibliographyData, parse_file

            data = BibliographyData()
            for path in self.bib_files:
                for key, entry in parse_file(str(path)).entries.items():
                    data.add_entry(key, entry)
            self._bib = data
        return self._bib

    def url(self, docname: str, anchor: str | None = None) -> str:
        return f"{self.site}/{docname}.html" + (f"#{anchor}" if anchor else "")


def _load_book(root: Path, site: str | None, extra_doc: tuple[str, str] | None = None) -> _Book:
    """Scan every page in the table of contents (and ``extra_doc``, a page outside it) once."""
    book = _Book(root=root, site=(site if site is not None else site_url(root)).rstrip("/"),
                 docnames=_toc_docnames(root))
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    book.bib_files = [root / p for p in config.get("bibtex_bibfiles") or []]
    count = 0
    docs = [(d, root / f"{d}.md") for d in book.docnames]
    if extra_doc is not None and extra_doc[0] not in book.docnames:
        docs.append((extra_doc[0], Path(extra_doc[1])))
    for docname, path in docs:
        if not path.is_file():
            continue  # an .ipynb page: nothing to cross-reference from it in this book
        lines = path.read_text(encoding="utf-8").splitlines()
        kth = 0
        pending: list[str] = []
        for i, line, kind in _scan(lines):
            if kind in ("code", "close"):
                continue
            if m := _LABEL.match(line):
                pending.append(m["label"])
                continue
            if m := _HEADING.match(line):
                book.titles.setdefault(docname, m["title"])
                for label in pending:
                    book.labels[label] = (docname, m["title"])
                pending = []
                continue
            if line.strip():
                for label in pending:
                    book.labels.setdefault(label, (docname, None))
                pending = []
            d = _DIRECTIVE.match(line)
            if not d:
                continue
            if d["name"] in ("exercise", "exercise-start"):
                options = _options(lines, i + 1)[0]
                kth += 1
                if "nonumber" not in options:
                    count += 1
                    book.exercise_numbers[(docname, kth)] = count
                if "label" in options:
                    number = book.exercise_numbers.get((docname, kth))
                    book.labels[options["label"]] = (docname, f"Exercise {number}" if number else "Exercise")
            elif d["name"] == "glossary":
                book.glossary_doc = docname
                for j in range(i + 1, len(lines)):
                    if lines[j].strip() == d["fence"]:
                        break
                    if lines[j].strip() and not lines[j][0].isspace() and not _OPTION.match(lines[j]):
                        book.terms[lines[j].strip().lower()] = lines[j].strip()
            elif d["name"] == "bibliography":
                book.bibliography_doc = docname
            elif d["name"] == "eval-rst":
                for j in range(i + 1, len(lines)):
                    if lines[j].strip() == d["fence"]:
                        break
                    if m := re.match(r"^\s*\.\.\s+automodule::\s+(\S+)", lines[j]):
                        book.api_modules[m[1]] = docname
    return book


def _find_book_root(source: Path) -> Path:
    for folder in source.resolve().parents:
        if (folder / "_toc.yml").is_file() and (folder / "_config.yml").is_file():
            return folder
    raise ValueError(f"book_root: no folder above {source} holds _toc.yml and _config.yml; pass book_root.")


def _options(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """Directive options (``:key: value`` lines) from ``start``; returns them and the index after them."""
    options: dict[str, str] = {}
    j = start
    while j < len(lines) and (m := _OPTION.match(lines[j])):
        options[m["key"]] = m["value"]
        j += 1
    return options, j


# --------------------------------------------------------------------------------------------------------------
# Glue values


def _format_plain_text(text: str, fmt_spec: str) -> str:
    """Exactly myst-nb 1.4.0's ``myst_nb.core.variables.format_plain_text`` (what ``{glue:text}`` shows)."""
    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt_spec == "":
        return str(value)
    type_char = fmt_spec[-1]
    if type_char == "s":
        value = str(value)
    elif type_char in ("b", "c", "d", "o", "x", "X"):
        value = int(value)
    elif type_char in ("e", "E", "f", "F", "g", "G", "n", "%"):
        value = float(value)
    return format(value, fmt_spec)


def glue_text(data: dict[str, Any], content: str) -> str:
    """The text myst-nb pastes for ``{glue:text}`content```, from a chapter's glue data.

    Parameters
    ----------
    data : dict
        Glue key -> mime bundle (``{"text/plain": ...}``), as read from the executed notebook.
    content : str
        The role's content: ``key`` or ``key:format_spec``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the key is missing, has no ``text/plain`` value, or the value does not take the format.

    Examples
    --------
    >>> glue_text({"share": {"text/plain": "0.4567"}}, "share:.1%")
    '45.7%'
    >>> glue_text({"name": {"text/plain": "'pooled'"}}, "name")
    'pooled'
    """
    key, fmt_spec = content.rsplit(":", 1) if ":" in content else (content, "s")
    if "::" in key:
        raise ValueError(f"{{glue:text}}`{content}` pastes from another document, which reader notebooks do not "
                         "support; glue the value in this chapter.")
    if key not in data:
        raise ValueError(f"executed: glue key {key!r} is not in the executed notebook; rebuild the book "
                         "(`jupyter-book build .`) so that its executed notebook has every glued value.")
    bundle = data[key]
    if "text/plain" not in bundle:
        raise ValueError(f"executed: glue key {key!r} has no text/plain value, so {{glue:text}} cannot show it.")
    try:
        return _format_plain_text(bundle["text/plain"], fmt_spec)
    except Exception as exc:  # noqa: BLE001 - report any formatting failure the same way
        raise ValueError(f"glue key {key!r}: cannot format {bundle['text/plain']!r} with {fmt_spec!r}: {exc}") from exc


def read_glue(executed: str | Path) -> dict[str, dict[str, Any]]:
    """Glue data of an executed chapter: key -> mime bundle (mime prefixes removed).

    myst-nb removes the ``glue(..., display=False)`` outputs from the notebook it writes to
    ``_build/jupyter_execute/`` and keeps them in ``<name>.glue.json`` beside it; a notebook
    executed by other means (nbclient, Jupyter) keeps them as outputs whose
    ``metadata.scrapbook.name`` is the key. Both are read; the JSON file wins on a clash.

    Parameters
    ----------
    executed : str or Path
        The executed notebook (``.ipynb``) or its ``.glue.json``.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If neither the notebook nor its ``.glue.json`` exists.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> from pathlib import Path
    >>> out = nbformat.v4.new_output("display_data", data={GLUE_PREFIX + "text/plain": "3"},
    ...                              metadata={"scrapbook": {"name": "k", "mime_prefix": GLUE_PREFIX}})
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("glue('k', 3)", outputs=[out])])
    >>> path = Path(tempfile.mkdtemp()) / "ch.ipynb"
    >>> nbformat.write(nb, path)
    >>> read_glue(path)
    {'k': {'text/plain': '3'}}
    """
    path = Path(executed)
    if path.name.endswith(".glue.json"):
        notebook_path, json_path = path.with_name(path.name[: -len(".glue.json")] + ".ipynb"), path
    else:
        notebook_path, json_path = path, path.with_name(path.stem + ".glue.json")
    if not notebook_path.is_file() and not json_path.is_file():
        raise ValueError(f"executed: no executed notebook at {path}; build the book first (`jupyter-book build .` "
                         "writes _build/jupyter_execute/chapters/<name>.ipynb) and pass that path.")
    data: dict[str, dict[str, Any]] = {}
    if notebook_path.is_file():
        nb = nbformat.read(notebook_path, as_version=4)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                meta = output.get("metadata", {}).get("scrapbook")
                if not meta or "data" not in output:
                    continue
                prefix = meta.get("mime_prefix", "")
                data[meta["name"]] = {k[len(prefix):] if k.startswith(prefix) else k: v
                                      for k, v in output["data"].items()}
    if json_path.is_file():
        for key, output in json.loads(json_path.read_text(encoding="utf-8")).items():
            data[key] = dict(output.get("data", {}))
    return data


# --------------------------------------------------------------------------------------------------------------
# Inline roles


def _tokens(text: str) -> list[tuple[str, str, str]]:
    """Split Markdown into ("text", s, s) and ("code", content, raw) pieces (CommonMark's backtick rule)."""
    pieces: list[tuple[str, str, str]] = []
    pos = 0
    plain_start = 0
    for m in re.finditer(r"`+", text):
        if m.start() < pos:
            continue
        n = len(m.group())
        close = re.compile(r"(?<!`)`{%d}(?!`)" % n).search(text, m.end())
        if close is None:
            continue
        if m.start() > plain_start:
            pieces.append(("text", text[plain_start:m.start()], text[plain_start:m.start()]))
        pieces.append(("code", text[m.end():close.start()], text[m.start():close.end()]))
        pos = plain_start = close.end()
    if plain_start < len(text):
        pieces.append(("text", text[plain_start:], text[plain_start:]))
    return pieces


def _roles(text: str) -> list[tuple[str, str | None, str, str]]:
    """Split Markdown into ("text"|"code"|"role", role name or None, content, raw text) pieces."""
    out: list[tuple[str, str | None, str, str]] = []
    for kind, s, raw in _tokens(text):
        if kind == "code" and out and out[-1][0] == "text" and (m := _ROLE_NAME.search(out[-1][2])):
            before = out[-1][2][: m.start()]
            out[-1] = ("text", None, before, before)
            out.append(("role", m["name"], s, m.group() + raw))
        else:
            out.append((kind, None, s, raw))
    return out


def _escape(text: str) -> str:
    """Backslash-escape the characters that would turn plain text into Markdown or math."""
    return re.sub(r"([\\`*_\[\]<>$|])", r"\\\1", text)


def _link(text: str, url: str) -> str:
    return f"[{text}]({url.replace(' ', '%20').replace(')', '%29')})"


@dataclass
class _Context:
    """State of one conversion."""

    source: Path
    docname: str
    book: _Book
    glue: dict[str, dict[str, Any]] | None
    exercise_count: int = 0
    open_exercise: int | None = None
    cited: list[str] = field(default_factory=list)

    def where(self) -> str:
        return str(self.source)


@functools.cache
def _pybtex_plugin(kind: str, name: str) -> Any:
    # pybtex looks a plugin up among all installed entry points on every call (about 50 ms in the book's
    # environment, which was most of a chapter's conversion time); the answer cannot change within a process.
    import pybtex.plugin

    return pybtex.plugin.find_plugin(kind, name)


def _render(text: Any, backend: str) -> str:
    """``text.render_as(backend)`` with the backend looked up once."""
    return text.render(_pybtex_plugin("pybtex.backends", backend)())


@functools.cache
def _plain_style() -> Any:
    """pybtex's plain formatting style (its constructor looks up four plugins, so it is built once)."""
    from pybtex.style.formatting.plain import Style

    return Style()


def _names(persons: Sequence[Any], full: bool = False) -> str:
    """Person list as sphinxcontrib-bibtex's author_year style shows it ("A", "A and B", "A *et al.*")."""
    style = _pybtex_plugin("pybtex.style.names", "last")()
    # rendered as HTML and unescaped, so that a tie (``De~Boeck``) stays a no-break space, as in the book
    names = [_escape(html.unescape(_render(style.format(p, True).format(), "html"))) for p in persons]
    names = [n for n in names if n]
    if len(names) <= 1:
        return "".join(names)
    if len(names) == 2:
        return " and ".join(names)
    if full:
        return ", ".join(names[:-1]) + ", and " + names[-1]
    return names[0] + " *et al.*"


def _author_or_editor_or_title(entry: Any, full: bool) -> str:
    from pybtex.richtext import Text

    for role in ("author", "editor"):
        if entry.persons.get(role):
            return _names(entry.persons[role], full)
    return _escape(_render(Text.from_latex(entry.fields.get("title", "")), "text"))


def _sorted_keys(keys: Sequence[str], ctx: _Context) -> list[str]:
    """Keys in the bibliography's order (sphinxcontrib-bibtex lists a group of citations that way)."""
    entries = ctx.book.bib.entries
    for key in keys:
        if key not in entries:
            raise ValueError(f"{ctx.where()}: citation key {key!r} is not in {', '.join(map(str, ctx.book.bib_files))}.")
    order = {id(e): i for i, e in enumerate(_plain_style().sort([entries[k] for k in dict.fromkeys(keys)]))}
    return sorted(dict.fromkeys(keys), key=lambda k: order[id(entries[k])])


def _cite(name: str, content: str, ctx: _Context) -> str:
    if "{" in content:
        raise ValueError(f"{ctx.where()}: citation {{{name}}}`{content}` has pre/post text, which reader notebooks "
                         "do not support yet; write the text outside the role.")
    keys = _sorted_keys([k.strip() for k in content.split(",") if k.strip()], ctx)
    if ctx.book.bibliography_doc is None:
        raise ValueError(f"book_root: no page with a {{bibliography}} directive in {ctx.book.root}'s table of contents.")
    url = ctx.book.url(ctx.book.bibliography_doc)
    for key in keys:
        if key not in ctx.cited:
            ctx.cited.append(key)
    full = name.endswith("s")
    parts = []
    for key in keys:
        entry = ctx.book.bib.entries[key]
        who, year = _author_or_editor_or_title(entry, full), entry.fields.get("year", "")
        if name in ("cite", "cite:p", "cite:ps"):
            parts.append(_link(", ".join(x for x in (who, year) if x), url))
        else:
            parts.append(f"{who} \\[{_link(year, url)}\\]")
    text = ", ".join(parts)
    return f"\\[{text}\\]" if name in ("cite", "cite:p", "cite:ps") else text


def _explicit(content: str) -> tuple[str | None, str]:
    m = _EXPLICIT.match(content.strip())
    return (m["text"], m["target"].strip()) if m and m["text"] else (None, content.strip())


def _term(content: str, ctx: _Context) -> str:
    from sphinx.util.nodes import _make_id  # the rule Sphinx 7.4 uses for glossary anchors

    text, target = _explicit(content)
    if ctx.book.glossary_doc is None:
        raise ValueError(f"book_root: no page with a {{glossary}} directive in {ctx.book.root}'s table of contents.")
    term = ctx.book.terms.get(target.lower())
    if term is None:
        raise ValueError(f"{ctx.where()}: {{term}}`{content}`: {target!r} is not a term of the glossary "
                         f"({ctx.book.glossary_doc}.md); add it there or fix the spelling.")
    return _link(_escape(text or target), ctx.book.url(ctx.book.glossary_doc, _make_id(f"term-{term}")))


def _ref(content: str, ctx: _Context) -> str:
    text, label = _explicit(content)
    if label not in ctx.book.labels:
        raise ValueError(f"{ctx.where()}: {{ref}}`{content}`: no label ({label})= in the pages of the table of "
                         "contents.")
    docname, title = ctx.book.labels[label]
    if text is None and title is None:
        raise ValueError(f"{ctx.where()}: {{ref}}`{content}`: the label does not precede a heading, so give the "
                         "link text: {ref}`text <label>`.")
    return _link(text if text is not None else title, ctx.book.url(docname, label))


def _doc(content: str, ctx: _Context) -> str:
    text, target = _explicit(content)
    docname = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join(posixpath.dirname(ctx.docname), target))
    docname = re.sub(r"\.(md|ipynb)$", "", docname)
    if docname not in ctx.book.docnames or (text is None and docname not in ctx.book.titles):
        raise ValueError(f"{ctx.where()}: {{doc}}`{content}`: no page {docname}.md with a heading in the table of "
                         "contents.")
    return _link(text if text is not None else ctx.book.titles[docname], ctx.book.url(docname))


def _py(name: str, content: str, ctx: _Context) -> str:
    text, target = _explicit(content)
    short = target.startswith("~")
    target = target.lstrip("~.")
    kind = name.removeprefix("py:")
    module = max((m for m in ctx.book.api_modules if target == m or target.startswith(m + ".")), key=len,
                 default=None)
    if module is None:
        raise ValueError(f"{ctx.where()}: {{{name}}}`{content}`: {target!r} is not in a module documented with "
                         "automodule in the book's pages.")
    if text is None:
        text = target.rsplit(".", 1)[-1] if short else target
        if kind in ("func", "meth"):
            text += "()"
    anchor = f"module-{target}" if kind == "mod" else target
    return _link(f"`{text}`", ctx.book.url(ctx.book.api_modules[module], anchor))


def _download(content: str, ctx: _Context) -> str:
    text, target = _explicit(content)
    if re.match(r"^[a-z]+://", target):
        return _link(_escape(text or target), target)
    rel = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join(posixpath.dirname(ctx.docname), target))
    digest = hashlib.md5(rel.encode(), usedforsecurity=False).hexdigest()  # Sphinx 7.4's DownloadFiles rule
    return _link(_escape(text or posixpath.basename(rel)), f"{ctx.book.site}/_downloads/{digest}/{posixpath.basename(rel)}")


def _glue_role(name: str, content: str, ctx: _Context) -> str:
    if ctx.glue is None:
        raise ValueError(f"executed: {ctx.where()} pastes glued values ({{{name}}}`{content}`); pass the executed "
                         "notebook of the book build, e.g. _build/jupyter_execute/chapters/<name>.ipynb.")
    if name == "glue:text":
        return _escape(glue_text(ctx.glue, content))
    if name == "glue:md":
        key = content.rsplit(":", 1)[0] if content.endswith((":commonmark", ":myst", ":gfm")) else content
        bundle = ctx.glue.get(key)
        if bundle is None or "text/markdown" not in bundle:
            raise ValueError(f"executed: glue key {key!r} has no text/markdown value in the executed notebook.")
        return str(bundle["text/markdown"])
    key = content
    bundle = ctx.glue.get(key)
    if bundle is None:
        raise ValueError(f"executed: glue key {key!r} is not in the executed notebook; rebuild the book.")
    if set(bundle) - {"text/plain"}:
        raise ValueError(f"{ctx.where()}: {{{name}}}`{content}` pastes a rich output ({', '.join(bundle)}), which "
                         "cannot be written into Markdown; use {glue:text} or a code cell.")
    return _escape(str(bundle["text/plain"]))


def _inline(text: str, ctx: _Context) -> str:
    """Replace every role in a piece of Markdown; raise ValueError on an unknown one."""
    out = []
    for kind, name, s, raw in _roles(text):
        if kind != "role":
            out.append(raw)
            continue
        content = " ".join(s.split("\n"))
        assert name is not None
        if name.startswith("glue"):
            if name not in ("glue", "glue:", "glue:any", "glue:text", "glue:md"):
                raise ValueError(f"{ctx.where()}: unknown glue role {{{name}}}`{s}`.")
            out.append(_glue_role(name, content, ctx))
        elif name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
            out.append(_cite(name, content, ctx))
        elif name == "term":
            out.append(_term(content, ctx))
        elif name == "ref":
            out.append(_ref(content, ctx))
        elif name == "doc":
            out.append(_doc(content, ctx))
        elif name in ("func", "meth", "mod", "class", "py:func", "py:meth", "py:mod", "py:class"):
            out.append(_py(name, content, ctx))
        elif name == "download":
            out.append(_download(content, ctx))
        elif name == "math":
            out.append(f"${content}$")
        else:
            raise ValueError(f"{ctx.where()}: unknown role {{{name}}}`{s}`: reader notebooks cannot show it; add a "
                             "rule for it in book/tools/notebook.py or write the text without it.")
    return "".join(out)


# --------------------------------------------------------------------------------------------------------------
# Blocks: directives, labels, comments


def _block_end(lines: list[str], start: int, fence: str, ctx: _Context) -> int:
    for j in range(start, len(lines)):
        if _closes(lines[j], fence):
            return j
    raise ValueError(f"{ctx.where()}: the directive {lines[start - 1].strip()!r} is never closed with {fence!r}.")


def _exercise_header(ctx: _Context, title: str, options: dict[str, str]) -> str:
    ctx.exercise_count += 1
    number = ctx.book.exercise_numbers.get((ctx.docname, ctx.exercise_count))
    if "nonumber" in options:
        number = None
    elif number is None:  # a page outside the table of contents: number within the chapter
        number = ctx.exercise_count
    ctx.open_exercise = number
    head = f"**Exercise {number}**" if number is not None else "**Exercise**"
    return head + (f" — {_inline(title, ctx)}" if title else "")


def _solution_header(ctx: _Context, label: str) -> str:
    target = ctx.book.labels.get(label.strip())
    if target is None:
        raise ValueError(f"{ctx.where()}: solution for {label!r}, but no exercise has :label: {label}.")
    return f"**Solution to {target[1]}**"


Block = tuple[str, str]  # ("md", text) | ("answer", text) | ("break", "")


def _blocks(source: str, ctx: _Context) -> list[Block]:
    """Convert one Markdown cell into Markdown blocks, answer cells and cell breaks."""
    lines = source.split("\n")
    blocks: list[Block] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            blocks.append(("md", _inline("\n".join(prose), ctx)))
            prose.clear()

    def answer(number: int | None) -> None:
        flush()
        label = f"exercise {number}" if number is not None else "the exercise"
        blocks.append(("answer", f"# Your answer to {label}\n"))

    i = 0
    while i < len(lines):
        line = lines[i]
        d = _DIRECTIVE.match(line)
        if d is None and (p := _PLAIN_FENCE.match(line)):
            flush()
            end = _block_end(lines, i + 1, p["fence"], ctx)
            blocks.append(("md", "\n".join(lines[i:end + 1])))
            i = end + 1
            continue
        if d is None:
            if _LABEL.match(line) or line.startswith("%"):
                i += 1
                continue
            prose.append(line)
            i += 1
            continue
        name, fence, arg = d["name"], d["fence"], d["arg"]
        options, body_start = _options(lines, i + 1)
        end = _block_end(lines, body_start, fence, ctx)
        body = "\n".join(lines[body_start:end])
        i = end + 1
        if name == "admonition" or name in _ADMONITIONS:
            flush()
            title = _inline(arg, ctx) if name == "admonition" else _ADMONITIONS[name]
            if name != "admonition" and arg:
                body = arg + ("\n" + body if body else "")
            inner = []
            for kind, text in _blocks(body, ctx):
                if kind != "md":
                    raise ValueError(f"{ctx.where()}: an exercise inside the {name} {arg!r} cannot be converted.")
                inner.append(text)
            quoted = "\n".join(">" + (" " + x if x else "") for x in "\n\n".join(inner).split("\n"))
            blocks.append(("md", f"> **{title}**\n>\n{quoted}" if inner and quoted.strip(">\n ") else
                           f"> **{title}**"))
        elif name == "exercise-start":
            flush()
            blocks.append(("break", ""))
            prose.append(_exercise_header(ctx, arg, options))
            prose.append("")
        elif name == "exercise-end":
            if ctx.open_exercise is None and ctx.exercise_count == 0:
                raise ValueError(f"{ctx.where()}: {{exercise-end}} without an {{exercise-start}} before it.")
            answer(ctx.open_exercise)
            blocks.append(("break", ""))
        elif name == "exercise":
            flush()
            blocks.append(("break", ""))
            prose.append(_exercise_header(ctx, arg, options))
            prose.append("")
            flush()
            blocks.extend(_blocks(body, ctx))
            answer(ctx.open_exercise)
            blocks.append(("break", ""))
        elif name in ("solution-start", "solution"):
            flush()
            blocks.append(("break", ""))
            prose.append(_solution_header(ctx, arg))
            prose.append("")
            if name == "solution":
                prose.extend(body.split("\n"))
                flush()
                blocks.append(("break", ""))
        elif name == "solution-end":
            flush()
            blocks.append(("break", ""))
        elif name == "math":
            flush()
            blocks.append(("md", f"$$\n{body.strip()}\n$$"))
        else:
            raise ValueError(f"{ctx.where()}: unknown directive {{{name}}} ({line.strip()!r}): reader notebooks "
                             "cannot show it; add a rule for it in book/tools/notebook.py or write it differently.")
    flush()
    return blocks


# --------------------------------------------------------------------------------------------------------------
# Checks


def raw_myst(text: str) -> list[str]:
    """MyST-only syntax left in a piece of Markdown.

    Looks for roles (``{name}`` right before a code span), directive fences (````` ```{name} `````,
    ``:::``), ``(label)=`` targets and ``%`` comment lines. Code spans and fenced code blocks are
    not searched: a backticked ```{term}``` is code, not a role.

    Parameters
    ----------
    text : str
        Markdown.

    Returns
    -------
    list of str
        Each offending piece, in order; empty if the Markdown is plain.

    Examples
    --------
    >>> raw_myst("A {term}`law <Scaling law>` and `{term}` as code.\\n(sec)=\\n:::{note}\\n:::")
    ['{term}`law <Scaling law>`', '(sec)=', ':::{note}', ':::']
    >>> raw_myst("Plain *Markdown* with $x^{2}$ and [a link](https://example.org).")
    []
    """
    lines = text.split("\n")
    kept = [""] * len(lines)
    found: list[str] = []
    for i, line, kind in _scan(lines):
        stripped = line.strip()
        if kind in ("directive", "close"):
            found.append(stripped)
        elif kind == "text":
            if stripped.startswith(":::") or _LABEL.match(line) or line.startswith("%") or stripped == "+++":
                found.append(stripped)
            else:
                kept[i] = line
    roles = [raw for kind, _, _, raw in _roles("\n".join(kept)) if kind == "role"]
    return roles + found


# --------------------------------------------------------------------------------------------------------------
# The notebook


def _code_cell(cell: nbformat.NotebookNode, ctx: _Context) -> nbformat.NotebookNode | None:
    source = cell.source
    if source.lstrip().startswith(_COLAB_FIRST_LINE):
        return None
    source = re.sub(r"^([ \t]*)from myst_nb import glue[ \t]*$", r"\1from helpers.glue import glue", source,
                    flags=re.MULTILINE)
    if re.search(r"\bmyst_nb\b", source):
        raise ValueError(f"{ctx.where()}: a code cell uses myst_nb beyond `from myst_nb import glue`, which reader "
                         f"notebooks replace; the cell starts {source[:80]!r}.")
    tags = list(cell.metadata.get("tags", []))
    metadata: dict[str, Any] = {k: v for k, v in cell.metadata.items() if k not in ("tags", "jupyter")}
    kept = [t for t in tags if t not in BOOK_TAGS]
    if kept:
        metadata["tags"] = kept
    if any(t in _HIDDEN_SOURCE_TAGS for t in tags):
        metadata["jupyter"] = {"source_hidden": True}
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def _references_cell(ctx: _Context) -> nbformat.NotebookNode | None:
    if not ctx.cited:
        return None
    style = _plain_style()
    entries = style.sort([ctx.book.bib.entries[k] for k in ctx.cited])
    items = []
    for formatted in style.format_entries(entries):
        text = " ".join(_render(formatted.text, "markdown").split())
        # pybtex escapes every punctuation mark; keep the escapes only where Markdown needs them
        items.append("- " + re.sub(r"\\([^\\`*_\[\]<>$|#])", r"\1", text))
    url = ctx.book.url(ctx.book.bibliography_doc or "book/bibliography")
    return nbformat.v4.new_markdown_cell(
        "## References\n\n" + "\n".join(items) + f"\n\nThe book's full bibliography: {_link(url, url)}\n")


def reader_notebook(
    source: str | Path,
    *,
    executed: str | Path | None = None,
    student: bool = False,
    site_url: str | None = None,
    book_root: str | Path | None = None,
    first_cells: Sequence[nbformat.NotebookNode] = (),
) -> nbformat.NotebookNode:
    """A chapter as a plain Jupyter notebook, with no MyST-only syntax left.

    See the module docstring for what each MyST construct becomes.

    Parameters
    ----------
    source : str or Path
        A chapter: MyST Markdown with a jupytext header (``chapters/<name>.md``).
    executed : str or Path, optional
        The chapter's executed notebook from the book build,
        ``_build/jupyter_execute/chapters/<name>.ipynb`` (its ``<name>.glue.json`` beside it holds the
        glued values; see :func:`read_glue`). Needed if the chapter pastes glued values.
    student : bool, default False
        Remove every solution (see :func:`book.tools.course.strip_solutions`); the answer cells stay.
    site_url : str, optional
        The published book's address; links go there. Default: :func:`site_url` of ``book_root``.
    book_root : str or Path, optional
        The folder with ``_toc.yml`` and ``_config.yml``. Default: the nearest such folder above ``source``.
    first_cells : sequence of nbformat.NotebookNode, default ()
        Cells put at the very top (for example a generated install cell for Colab).

    Returns
    -------
    nbformat.NotebookNode
        A valid nbformat 4 notebook without outputs, kernel ``python3``.

    Raises
    ------
    ValueError
        If ``source`` is not a MyST notebook, ``executed`` is missing or lacks a glued value the text
        pastes, a cross-reference cannot be resolved, or the chapter uses a role or directive the
        converter does not know.

    Examples
    --------
    A two-page book made for the examples (see ``_example_book``): the chapter glues a value,
    cites a paper and has one exercise with its solution.

    >>> chapter, executed = _example_book()
    >>> nb = reader_notebook(chapter, executed=executed, site_url="https://example.org/book")
    >>> print(nb.cells[0].source)
    # A demo chapter
    <BLANKLINE>
    > **Learning goals**
    >
    > - Read a glued value.
    >>> print(nb.cells[2].source)
    The exponent is 0.35, as found by \\[[Kaplan *et al.*, 2020](https://example.org/book/bibliography.html)\\].
    >>> [c.source for c in nb.cells if c.cell_type == "code"]
    ['from helpers.glue import glue\\nglue("b", 0.3512, display=False)', '# Your answer to exercise 1\\n', 'b = 0.35']
    >>> student = reader_notebook(chapter, executed=executed, student=True, site_url="https://example.org/book")
    >>> [c.source for c in student.cells if c.cell_type == "code"][-1]
    '# Your answer to exercise 1\\n'
    """
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"source: no chapter at {path}; pass the path of a chapters/*.md file.")
    text = path.read_text(encoding="utf-8")
    if "kernelspec:" not in text[:800]:
        raise ValueError(f"source: {path} has no jupytext/kernelspec header, so it is not a MyST notebook.")
    for cell in first_cells:
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise ValueError("first_cells: pass notebook cells, e.g. nbformat.v4.new_code_cell('...').")
    root = Path(book_root) if book_root is not None else _find_book_root(path)
    if not (root / "_toc.yml").is_file():
        raise ValueError(f"book_root: no _toc.yml in {root}; pass the folder that holds the book's _toc.yml.")
    try:
        docname = path.resolve().relative_to(root.resolve()).with_suffix("").as_posix()
    except ValueError:
        raise ValueError(f"book_root: {path} is not inside {root}; pass the book folder that holds it.") from None
    book = _load_book(root, site_url, extra_doc=(docname, str(path)))
    glue_data = read_glue(executed) if executed is not None else None
    ctx = _Context(source=path, docname=docname, book=book, glue=glue_data)
    if student:
        text = strip_solutions(text)
    myst = jupytext.reads(text, fmt="md:myst")

    cells: list[nbformat.NotebookNode] = [nbformat.from_dict(dict(c)) for c in first_cells]
    md: list[str] = []

    def flush_md() -> None:
        joined = "\n\n".join(s.strip("\n") for s in md if s.strip())
        md.clear()
        if joined.strip():
            cells.append(nbformat.v4.new_markdown_cell(joined))

    for cell in myst.cells:
        if cell.cell_type == "code":
            new = _code_cell(cell, ctx)
            if new is not None:  # a dropped cell leaves the Markdown around it in one cell
                flush_md()
                cells.append(new)
        elif cell.cell_type == "markdown":
            for kind, block in _blocks(cell.source, ctx):
                if kind == "md":
                    md.append(block)
                elif kind == "answer":
                    flush_md()
                    cells.append(nbformat.v4.new_code_cell(block))
                else:
                    flush_md()
        else:  # raw cells stay raw
            flush_md()
            cells.append(nbformat.v4.new_raw_cell(cell.source))
    flush_md()
    if (refs := _references_cell(ctx)) is not None:
        cells.append(refs)
    for cell in cells:
        if cell.cell_type == "markdown" and (left := raw_myst(cell.source)):
            raise ValueError(f"{path}: MyST-only syntax left after conversion: {left[:3]}; add a rule for it in "
                             "book/tools/notebook.py.")
    for i, cell in enumerate(cells):
        cell["id"] = f"{path.stem[:40]}-{i:03d}"
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    return nb


_EXAMPLE_CHAPTER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

(ch-demo)=
# A demo chapter

:::{admonition} Learning goals
:class: tip
- Read a glued value.
:::

```{code-cell} ipython3
from myst_nb import glue
glue("b", 0.3512, display=False)
```

The exponent is {glue:text}`b:.2f`, as found by {cite:p}`kaplan2020scaling`.

```{exercise-start}
:label: demo-ex-1
```
Refit the law.
```{exercise-end}
```

```{solution-start} demo-ex-1
:class: dropdown
```
```{code-cell} ipython3
b = 0.35
```
```{solution-end}
```
"""


def _example_book(folder: str | Path | None = None) -> tuple[Path, Path]:
    """Write a tiny book for the examples and tests; return its chapter and the chapter's executed notebook.

    The executed notebook carries the glue output the way a notebook executed with myst-nb's
    ``glue(..., display=False)`` does (``metadata.scrapbook``, prefixed mime type).
    """
    import tempfile

    root = Path(folder) if folder is not None else Path(tempfile.mkdtemp())
    (root / "chapters").mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text("repository:\n  url: https://github.com/demo/demo-book\n"
                                      "bibtex_bibfiles:\n  - refs.bib\n", encoding="utf-8")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/demo\n"
                                   "  - file: bibliography\n", encoding="utf-8")
    (root / "intro.md").write_text("# Introduction\n", encoding="utf-8")
    (root / "bibliography.md").write_text("# Bibliography\n\n```{bibliography}\n```\n", encoding="utf-8")
    (root / "refs.bib").write_text(
        "@article{kaplan2020scaling,\n  author = {Kaplan, Jared and McCandlish, Sam and Henighan, Tom},\n"
        "  title = {Scaling Laws for Neural Language Models},\n  journal = {arXiv preprint arXiv:2001.08361},\n"
        "  year = {2020}\n}\n", encoding="utf-8")
    chapter = root / "chapters" / "demo.md"
    chapter.write_text(_EXAMPLE_CHAPTER, encoding="utf-8")
    output = nbformat.v4.new_output("display_data", data={GLUE_PREFIX + "text/plain": "0.3512"},
                                    metadata={"scrapbook": {"name": "b", "mime_prefix": GLUE_PREFIX}})
    executed = root / "_build" / "jupyter_execute" / "chapters" / "demo.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("glue(...)", outputs=[output])]),
                   executed)
    return chapter, executed


def write_reader_notebooks(
    pages: Iterable[str | Path],
    out_dir: str | Path,
    *,
    executed_dir: str | Path,
    student: bool,
    overwrite: bool = False,
    site_url: str | None = None,
    book_root: str | Path | None = None,
    first_cells: Sequence[nbformat.NotebookNode] | Callable[[Path], Sequence[nbformat.NotebookNode]] = (),
) -> list[Path]:
    """Write each chapter's reader notebook as ``out_dir/<name>.ipynb``; return the written paths.

    Parameters
    ----------
    pages : iterable of str or Path
        Chapter files (``chapters/*.md``).
    out_dir : str or Path
        Where to write; created if needed. Must not be the folder of a page.
    executed_dir : str or Path
        The folder of the executed notebooks, ``_build/jupyter_execute/chapters``; the page
        ``<name>.md`` is matched with ``<name>.ipynb`` there.
    student : bool
        Remove the solutions.
    overwrite : bool, default False
        Replace existing notebooks; without it an existing file is an error and nothing is written.
    site_url, book_root
        As for :func:`reader_notebook`.
    first_cells : sequence of cells, or a callable page -> sequence of cells
        Cells to put at the top of every notebook (or of each page, if a callable).

    Returns
    -------
    list of Path

    Raises
    ------
    ValueError
        If ``out_dir`` is a page's own folder, a target exists and ``overwrite`` is False, or a
        page cannot be converted (see :func:`reader_notebook`).

    Examples
    --------
    >>> chapter, executed = _example_book()
    >>> out = chapter.parent.parent / "_build" / "notebooks"
    >>> [p.name for p in write_reader_notebooks([chapter], out, executed_dir=executed.parent, student=True)]
    ['demo.ipynb']
    >>> write_reader_notebooks([chapter], out, executed_dir=executed.parent, student=True)
    Traceback (most recent call last):
    ...
    ValueError: out_dir: ... exists; pass overwrite=True to replace it.
    >>> write_reader_notebooks([chapter], chapter.parent, executed_dir=executed.parent, student=True)
    Traceback (most recent call last):
    ...
    ValueError: out_dir: ... is the folder of the sources (demo.md); write the notebooks somewhere else, ...
    """
    pages = [Path(p) for p in pages]
    out = Path(out_dir)
    for page in pages:
        if out.resolve() == page.resolve().parent:
            raise ValueError(f"out_dir: {out} is the folder of the sources ({page.name}); write the notebooks "
                             "somewhere else, e.g. _build/notebooks.")
    targets = [out / f"{page.stem}.ipynb" for page in pages]
    if not overwrite:
        for target in targets:
            if target.exists():
                raise ValueError(f"out_dir: {target} exists; pass overwrite=True to replace it.")
    executed = Path(executed_dir)
    notebooks = []
    for page in pages:
        cells = first_cells(page) if callable(first_cells) else first_cells
        done = executed / f"{page.stem}.ipynb"
        has_run = done.is_file() or done.with_name(f"{page.stem}.glue.json").is_file()
        # a page without an executed notebook is fine as long as it glues nothing (reader_notebook checks)
        notebooks.append(reader_notebook(page, executed=done if has_run else None, student=student,
                                         site_url=site_url, book_root=book_root, first_cells=cells))
    out.mkdir(parents=True, exist_ok=True)
    for nb, target in zip(notebooks, targets):
        nbformat.write(nb, target)
    return targets


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point (``python -m book.tools.notebook``)."""
    root = Path(__file__).resolve().parents[2]  # the repository root, above book/tools/
    parser = argparse.ArgumentParser(prog="python -m book.tools.notebook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the .ipynb files into")
    parser.add_argument("--executed-dir", default=str(root / "_build" / "jupyter_execute" / "chapters"),
                        help="executed notebooks of the book build (default: _build/jupyter_execute/chapters)")
    parser.add_argument("--student", action="store_true", help="remove the solutions")
    parser.add_argument("--overwrite", action="store_true", help="replace existing notebooks")
    parser.add_argument("pages", nargs="*", help="chapter files (default: chapters/*.md)")
    args = parser.parse_args(argv)
    pages = args.pages or sorted((root / "chapters").glob("*.md"))
    for path in write_reader_notebooks(pages, args.out, executed_dir=args.executed_dir, student=args.student,
                                       overwrite=args.overwrite):
        print(path)


if __name__ == "__main__":
    main()
