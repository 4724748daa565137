"""Tests for book.tools.notebook: chapters as plain reader notebooks.

Expected values are written by hand from the sources (the bib file, the glossary, Sphinx's and myst-nb's
documented rules) or read from the built book, never from the converter's own output. The `build` tests compare
the notebooks with `_build/html`, which CI builds before running them.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

from conftest import ROOT
from book.tools import notebook
from book.tools.notebook import raw_myst, reader_notebook, write_reader_notebooks

CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
EXECUTED = ROOT / "_build" / "jupyter_execute" / "chapters"
SITE = "https://scaling-laws-book.github.io/scaling-laws-do-not-scale"
HEADER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

"""


def md_text(nb) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


# --- raw_myst ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, found", [
    ("See {ref}`ch-x`.", ["{ref}`ch-x`"]),
    ("Two {cite:p}`a,b` and\n{glue:text}`k:.2f`", ["{cite:p}`a,b`", "{glue:text}`k:.2f`"]),
    ("(my-label)=\n# Title", ["(my-label)="]),
    (":::{admonition} Goals\n:class: tip\n- a\n:::", [":::{admonition} Goals", ":::"]),
    ("```{exercise-start}\n:label: e\n```\nBody", ["```{exercise-start}", "```"]),
    ("% a MyST comment\ntext", ["% a MyST comment"]),
])
def test_raw_myst_finds_each_construct(text, found):
    assert raw_myst(text) == found


@pytest.mark.parametrize("text", [
    "Plain **bold** and $\\sum_{i} x_i$ math, `code` and `{term}` as inline code.",
    "```python\n{ref}`not-a-role-in-code`\n(x)=\n```\nafter",
    "> **Note**\n>\n> - a [link](https://example.org/#anchor)",
])
def test_raw_myst_leaves_plain_markdown_alone(text):
    assert raw_myst(text) == []


# --- a small book around the real bibliography and glossary ---------------------------------------------------------


@pytest.fixture
def book(tmp_path):
    """A book with the real _config.yml, bibliography and glossary, and a chapter the test writes."""
    for rel in ["_config.yml", "book/references.bib", "book/glossary.md", "book/bibliography.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: chapters/other\n  - file: chapters/t\n"
        "  - file: book/glossary\n  - file: book/bibliography\n")
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "other.md").write_text(
        HEADER + "(ch-other)=\n# The other chapter\n\n```{exercise-start}\n:label: o-ex-1\n```\nQ\n"
        "```{exercise-end}\n```\n\n(sec-deep)=\n## A deeper section\n")

    def write(body: str, glue: dict | None = None):
        chapter = tmp_path / "chapters" / "t.md"
        chapter.write_text(HEADER + body)
        executed = tmp_path / "_build" / "t.ipynb"
        if glue is not None:
            executed.parent.mkdir(exist_ok=True)
            outputs = [nbformat.v4.new_output(
                "display_data", data={notebook.GLUE_PREFIX + "text/plain": v},
                metadata={"scrapbook": {"name": k, "mime_prefix": notebook.GLUE_PREFIX}}) for k, v in glue.items()]
            nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=outputs)]), executed)
        return chapter, executed

    return write


def convert(book, body, glue=None, **kwargs):
    chapter, executed = book(body, glue)
    return reader_notebook(chapter, executed=executed if glue is not None else None, **kwargs)


def test_glued_values_are_formatted_like_myst_nb(book):
    glue = {"b": "0.3512", "n": "12345", "share": "0.4567", "name": "'pooled'", "far": "1000000000.0",
            "text": "'10 billion'", "small": "0.000123"}
    nb = convert(book, "# T\n\nb={glue:text}`b:.2f`; n={glue:text}`n:,d`; s={glue:text}`share:.1%`; "
                       "{glue:text}`name`; far={glue:text}`far:.0e`; {glue:text}`text`; raw={glue:text}`b`; "
                       "g={glue:text}`small:.3g`\n", glue)
    # format(0.3512, ".2f"), format(12345, ",d"), ... written out by hand; an unformatted role shows str(value).
    assert nb.cells[0].source == ("# T\n\nb=0.35; n=12,345; s=45.7%; pooled; far=1e+09; 10 billion; raw=0.3512; "
                                  "g=0.000123")


def test_glue_data_is_read_from_myst_nb_glue_json(book, tmp_path):
    chapter, _ = book("# T\n\n{glue:text}`k:.1f`\n")
    executed = tmp_path / "_build" / "jupyter_execute" / "t.ipynb"
    executed.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), executed)  # myst-nb strips the glue outputs from this file...
    executed.with_name("t.glue.json").write_text(json.dumps(  # ... and keeps them here
        {"k": {"output_type": "display_data", "data": {"text/plain": "2.25"}, "metadata": {}}}))
    assert reader_notebook(chapter, executed=executed).cells[0].source == "# T\n\n2.2"  # round-half-even, as Python


def test_glue_without_executed_notebook_or_key_raises(book):
    with pytest.raises(ValueError, match="executed"):
        convert(book, "# T\n\n{glue:text}`k`\n")
    with pytest.raises(ValueError, match="'missing'.*rebuild"):
        convert(book, "# T\n\n{glue:text}`missing`\n", {"k": "1"})
    with pytest.raises(ValueError, match="executed: no executed notebook"):
        reader_notebook(book("# T\n")[0], executed=ROOT / "nowhere.ipynb")


def test_citations_follow_the_bib_in_author_year_style(book):
    nb = convert(book, "# T\n\nA {cite:p}`kaplan2020scaling,hestness2017deep` and {cite:t}`diaz2024scaling`, "
                       "{cite:p}`schaeffer2023emergent`.\n")
    bib = f"{SITE}/book/bibliography.html"
    # From book/references.bib: Kaplan (10 authors, 2020), Hestness (9, 2017), Diaz & Madaio (2024),
    # Schaeffer, Miranda, Koyejo (3, 2023); a group is listed in bibliography order, as the built book does.
    assert nb.cells[0].source == (
        f"# T\n\nA \\[[Hestness *et al.*, 2017]({bib}), [Kaplan *et al.*, 2020]({bib})\\] and "
        f"Diaz and Madaio \\[[2024]({bib})\\], \\[[Schaeffer *et al.*, 2023]({bib})\\].")
    refs = nb.cells[-1].source
    assert refs.startswith("## References")
    items = [line for line in refs.splitlines() if line.startswith("- ")]
    assert len(items) == 4
    assert items[0].startswith("- Fernando Diaz and Michael Madaio. Scaling laws do not scale.")
    assert "Jared Kaplan, Sam McCandlish" in refs and "2020" in refs and "arXiv:2001.08361" in refs


def test_unknown_citation_key_raises(book):
    with pytest.raises(ValueError, match="'nobody2099' is not in"):
        convert(book, "# T\n\n{cite:p}`nobody2099`\n")


def test_terms_link_to_sphinx_glossary_anchors(book):
    nb = convert(book, "# T\n\nA {term}`law <Scaling law>`, {term}`Goodhart's law` and {term}`proxy <proxy>`.\n")
    g = f"{SITE}/book/glossary.html"
    # Sphinx 7.4: "term-" + the term as written in the glossary, runs of other characters -> "-".
    assert nb.cells[0].source == (f"# T\n\nA [law]({g}#term-Scaling-law), [Goodhart's law]({g}#term-Goodhart-s-law)"
                                  f" and [proxy]({g}#term-Proxy).")
    with pytest.raises(ValueError, match="not a term of the glossary"):
        convert(book, "# T\n\n{term}`Flux capacitor`\n")


def test_refs_and_docs_link_to_the_site_with_the_book_titles(book):
    nb = convert(book, "# T\n\nSee {ref}`ch-other`, {ref}`the section <sec-deep>`, {ref}`o-ex-1`, "
                       "{doc}`other`, {doc}`Glossary page <../book/glossary>` and {download}`data <files/x.csv>`.\n")
    # Sphinx 7.4 serves a download at _downloads/<md5 of its path in the book>/<name>.
    digest = hashlib.md5(b"chapters/files/x.csv").hexdigest()
    assert nb.cells[0].source == (
        f"# T\n\nSee [The other chapter]({SITE}/chapters/other.html#ch-other), "
        f"[the section]({SITE}/chapters/other.html#sec-deep), "
        f"[Exercise 1]({SITE}/chapters/other.html#o-ex-1), [The other chapter]({SITE}/chapters/other.html), "
        f"[Glossary page]({SITE}/book/glossary.html) and [data]({SITE}/_downloads/{digest}/x.csv).")
    with pytest.raises(ValueError, match="no label"):
        convert(book, "# T\n\n{ref}`nowhere`\n")


def test_exercises_are_numbered_through_the_book_and_get_one_answer_cell(book):
    body = ("# T\n\n```{exercise-start}\n:label: t-ex-1\n```\nFirst question.\n```{exercise-end}\n```\n\n"
            "```{solution-start} t-ex-1\n:class: dropdown\n```\nSOLUTION-TEXT-ONE\n```{code-cell} ipython3\n"
            "SOLUTION_CODE = 1\n```\n```{solution-end}\n```\n\n"
            "```{exercise-start} A title\n:label: t-ex-2\n```\nSecond question.\n```{exercise-end}\n```\n\nAfter.\n")
    full = convert(book, body)
    sources = [(c.cell_type, c.source) for c in full.cells]
    # chapters/other.md comes first in the table of contents and has one exercise, so these are 2 and 3.
    assert sources == [
        ("markdown", "# T"),
        ("markdown", "**Exercise 2**\n\nFirst question."),
        ("code", "# Your answer to exercise 2\n"),
        ("markdown", "**Solution to Exercise 2**\n\nSOLUTION-TEXT-ONE"),
        ("code", "SOLUTION_CODE = 1"),
        ("markdown", "**Exercise 3** — A title\n\nSecond question."),
        ("code", "# Your answer to exercise 3\n"),
        ("markdown", "After."),
    ]
    student = convert(book, body, student=True)
    assert "SOLUTION" not in json.dumps(student)
    assert [c.source for c in student.cells if c.cell_type == "code"] == [
        "# Your answer to exercise 2\n", "# Your answer to exercise 3\n"]


def test_admonitions_labels_and_comments_become_plain_markdown(book):
    nb = convert(book, "(t-label)=\n# T\n\n% an authors' note\n:::{admonition} Learning goals\n:class: tip\n"
                       "- one\n  continued\n- two\n:::\n\n```{note}\nMind the $x$.\n```\n")
    assert nb.cells[0].source == ("# T\n\n> **Learning goals**\n>\n> - one\n>   continued\n> - two\n\n"
                                  "> **Note**\n>\n> Mind the $x$.")


@pytest.mark.parametrize("body, what", [
    ("# T\n\nAn {abbr}`LLM (large language model)`.\n", "unknown role {abbr}"),
    ("# T\n\n```{figure} x.png\nCaption\n```\n", "unknown directive {figure}"),
    ("# T\n\n{numref}`fig-x`\n", "unknown role {numref}"),
])
def test_unknown_roles_and_directives_raise(book, body, what):
    with pytest.raises(ValueError, match=re.escape(what)):
        convert(book, body)


def test_code_cells_colab_cell_glue_import_and_book_tags(book):
    nb = convert(book, "# T\n\n```{code-cell} ipython3\n:tags: [remove-cell]\n# Colab only: fetch the book\n"
                       "import os\n```\n\n```{code-cell} ipython3\nfrom myst_nb import glue\nglue('k', 1)\n```\n\n"
                       "```{code-cell} ipython3\n:tags: [remove-cell, raises-exception]\nassert True\n```\n",
                 first_cells=[nbformat.v4.new_code_cell("%pip install demo")])
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.source for c in code] == ["%pip install demo", "from helpers.glue import glue\nglue('k', 1)",
                                        "assert True"]
    assert code[2].metadata == {"tags": ["raises-exception"], "jupyter": {"source_hidden": True}}
    assert nb.metadata.kernelspec.name == "python3"
    nbformat.validate(nb)


def test_glue_shim_records_and_displays_nothing(capsys):
    notebook.glue("test_shim", [1, 2], display=True)
    assert notebook.glued["test_shim"] == [1, 2] and capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="name"):
        notebook.glue("", 1)


def test_site_url_from_config():
    assert notebook.site_url(ROOT) == SITE


def test_bad_source_raises(tmp_path):
    with pytest.raises(ValueError, match="source: no chapter"):
        reader_notebook(tmp_path / "missing.md")
    (tmp_path / "plain.md").write_text("# Not a notebook\n")
    with pytest.raises(ValueError, match="source: .* not a MyST notebook"):
        reader_notebook(tmp_path / "plain.md")


def test_write_refuses_to_overwrite_and_to_write_into_the_sources(book, tmp_path):
    chapter, _ = book("# T\n\nText.\n")
    out = tmp_path / "out"
    assert write_reader_notebooks([chapter], out, executed_dir=tmp_path, student=False) == [out / "t.ipynb"]
    before = (out / "t.ipynb").read_text()
    chapter.write_text(HEADER + "# T\n\nChanged.\n")
    with pytest.raises(ValueError, match="overwrite=True"):
        write_reader_notebooks([chapter], out, executed_dir=tmp_path, student=False)
    assert (out / "t.ipynb").read_text() == before
    write_reader_notebooks([chapter], out, executed_dir=tmp_path, student=False, overwrite=True)
    assert "Changed." in (out / "t.ipynb").read_text()
    with pytest.raises(ValueError, match="out_dir: .* folder of the sources"):
        write_reader_notebooks([chapter], chapter.parent, executed_dir=tmp_path, student=False, overwrite=True)


# --- every chapter --------------------------------------------------------------------------------------------------


def synthetic_executed(chapter: Path, folder: Path) -> Path:
    """A glue file giving every glued key of the chapter the value 1 (valid for every format the book uses)."""
    keys = re.findall(r"\{glue:text\}`([^`:]+)", chapter.read_text())
    path = folder / f"{chapter.stem}.glue.json"
    path.write_text(json.dumps({k: {"data": {"text/plain": "1"}} for k in keys}))
    return path.with_suffix("").with_suffix(".ipynb")


def solution_lines(chapter: Path) -> list[str]:
    """Distinctive lines inside solutions: long, and nowhere else in the chapter."""
    text = chapter.read_text()
    inside = re.findall(r"```\{solution-start\}.*?```\{solution-end\}", text, flags=re.S)
    outside = re.sub(r"```\{solution-start\}.*?```\{solution-end\}", "", text, flags=re.S)
    lines = {line.strip() for block in inside for line in block.splitlines()
             if len(line.strip()) > 50 and "{" not in line and "`" not in line and "$" not in line}
    return sorted(line for line in lines if line not in outside)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("executed")
    return {(c.stem, student): reader_notebook(c, executed=synthetic_executed(c, folder), student=student)
            for c in CHAPTERS for student in (False, True)}


def test_every_chapter_in_the_table_of_contents_is_converted():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [c["file"] for part in toc["parts"] for c in part["chapters"] if c["file"].startswith("chapters/")]
    assert len(listed) >= 10  # 01-08, language models (09), local designs (10)
    assert sorted(f"chapters/{c.stem}" for c in CHAPTERS) == sorted(listed)


@pytest.mark.parametrize("student", [False, True], ids=["full", "student"])
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_notebook_is_plain_and_complete(converted, chapter, student):
    nb = converted[chapter.stem, student]
    nbformat.validate(nb)
    source = chapter.read_text()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert raw_myst(cell.source) == [], cell.source[:200]
        else:
            assert cell.get("outputs", []) == [] and "myst_nb" not in cell.source and "google.colab" not in cell.source
    n_exercises = source.count("```{exercise-start}") + source.count("```{exercise}")
    answers = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith("# Your answer")]
    assert len(answers) == n_exercises >= 4
    assert all(re.fullmatch(r"# Your answer to exercise \d+\n", a) for a in answers)
    headers = re.findall(r"^\*\*Exercise (\d+)\*\*", md_text(nb), flags=re.M)
    assert len(headers) == n_exercises and [int(h) for h in headers] == list(
        range(int(headers[0]), int(headers[0]) + n_exercises))
    solutions = solution_lines(chapter)
    assert solutions, "no distinctive solution line found"
    text = json.dumps(nb.cells)
    for line in solutions:
        assert (json.dumps(line)[1:-1] in text) is (not student), line
    assert ("**Solution to Exercise" in md_text(nb)) is (not student)
    # Every code cell of the book is kept (except the Colab setup cell), in order, glue import replaced.
    book_code = [c.source.replace("from myst_nb import glue", "from helpers.glue import glue")
                 for c in jupytext.reads(source if not student else notebook.strip_solutions(source),
                                         fmt="md:myst").cells
                 if c.cell_type == "code" and not c.source.startswith("# Colab only")]
    assert [c.source for c in nb.cells if c.cell_type == "code" and not c.source.startswith("# Your answer")] == \
        book_code
    assert md_text(nb).rstrip().splitlines()[0].startswith("# ")
    assert nb.cells[-1].source.startswith("## References")


def test_first_exercise_numbers_follow_the_table_of_contents(converted):
    # Exercises are numbered through the book (as the built book does): chapter k starts after all earlier ones.
    first = 1
    for chapter in CHAPTERS:
        nb = converted[chapter.stem, False]
        assert re.search(r"^\*\*Exercise (\d+)\*\*", md_text(nb), flags=re.M)[1] == str(first), chapter.stem
        first += chapter.read_text().count("```{exercise-start}")


def test_distinctive_solution_of_chapter_one(converted):
    phrase = "The losses are measured on different evaluation texts (WebText2 and MassiveText)"
    assert phrase in (ROOT / "chapters" / "01-scaling-laws.md").read_text()
    assert phrase in md_text(converted["01-scaling-laws", False])
    assert phrase not in json.dumps(converted["01-scaling-laws", True])


def test_hidden_book_cells_are_kept_but_collapsed(converted):
    nb = converted["04-goodhart", False]
    guards = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# Guards for the qualitative")]
    assert guards and all(c.metadata.get("jupyter", {}).get("source_hidden") for c in guards)
    assert all("tags" not in c.metadata for c in guards)


# A reader notebook running top to bottom is checked where readers run it: the Binder check (`-m binder`) executes
# chapter 01's reader notebook of the build in JupyterLab, in a fresh Binder-like install.


# --- against the built book -----------------------------------------------------------------------------------------


def html_text(fragment: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment))
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def md_plain(markdown: str) -> str:
    """Markdown as a reader sees it, for comparing with the HTML text: links by their text, escapes resolved."""
    text = re.sub(r"\[((?:\\\]|[^\]])*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace("*et al.*", "et al.")


@pytest.fixture(scope="module")
def built(built_html):
    return {c.stem: reader_notebook(c, executed=EXECUTED / f"{c.stem}.ipynb") for c in CHAPTERS}


@pytest.mark.build
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_glued_values_match_the_built_html(built, built_html, chapter):
    page = (built_html / "chapters" / f"{chapter.stem}.html").read_text()
    shown = [html_text(s) for s in re.findall(r'<span class="pasted-text">(.*?)</span>', page, flags=re.S)]
    glue = notebook.read_glue(EXECUTED / f"{chapter.stem}.ipynb")
    roles = re.findall(r"\{glue:text\}`([^`]+)`", chapter.read_text())
    ours = [notebook.glue_text(glue, r).replace("\u2019", "'") for r in roles]
    assert len(shown) == len(roles) > 0
    assert ours == shown
    # ... and they are in the notebook's text, in that order.
    text, pos = md_plain(md_text(built[chapter.stem])), 0
    for value in ours:
        pos = text.index(value, pos) + len(value)


@pytest.mark.build
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_citations_and_exercise_numbers_match_the_built_html(built, built_html, chapter):
    page = (built_html / "chapters" / f"{chapter.stem}.html").read_text()
    text = md_plain(md_text(built[chapter.stem]))
    cites = [html_text(s) for s in re.findall(r'<span class="bibtex-citation"[^>]*>(.*?)</span>', page, flags=re.S)]
    assert cites
    pos = 0
    for cite in cites:
        pos = text.index(cite, pos) + len(cite)
    numbers = re.findall(r'class="caption-number">Exercise (\d+) ', page)
    ours = re.findall(r"^\*\*Exercise (\d+)\*\*", md_text(built[chapter.stem]), flags=re.M)
    assert ours == numbers and numbers


@pytest.mark.build
def test_every_link_into_the_site_exists_in_the_built_html(built, built_html):
    links = sorted({url for nb in built.values()
                    for url in re.findall(rf"\]\(({re.escape(SITE)}/[^)\s]+)\)", md_text(nb))})
    assert any("glossary.html#term-" in u for u in links) and any("api.html#" in u for u in links)
    assert any("_downloads/" in u for u in links)
    for url in links:
        rel, _, anchor = url[len(SITE) + 1:].partition("#")
        target = built_html / rel
        assert target.is_file(), url
        if anchor:
            assert f'id="{anchor}"' in target.read_text(), url


@pytest.mark.build
def test_student_notebooks_of_the_build_have_no_raw_myst(built_html):
    for chapter in CHAPTERS:
        nb = reader_notebook(chapter, executed=EXECUTED / f"{chapter.stem}.ipynb", student=True)
        assert all(raw_myst(c.source) == [] for c in nb.cells if c.cell_type == "markdown")
