"""Every notebook page in _toc.yml: cheap static checks of its text, and checks of the build's execution of it.

The chapters execute once in CI, in the book build (``jupyter-book build . -W``; a cell error fails it, since
``nb_execution_raise_on_error`` is set in ``_config.yml``). The default test command does not execute them again:
it checks what can be read from the text (the table of contents, exercises and solutions, labels, glue names, that
every code cell parses). The ``build``-marked tests at the end read the build's executed notebooks
(``_build/jupyter_execute``) and its execution cache, and check that every page was executed from its current
text, with no error output, every glued number the prose quotes, and within the per-chapter time budget.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

from conftest import ROOT

EXECUTED = ROOT / "_build" / "jupyter_execute"
#: Where the build's execution cache lives (``execute.cache: ""`` in _config.yml means ``_build/.jupyter_cache``).
CACHE_DB = ROOT / "_build" / ".jupyter_cache" / "global.db"
#: The project guide: each chapter well under 30 s on one core.
MAX_CHAPTER_SECONDS = 30


def _toc_files(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_toc_files(item))
    return found


def notebook_pages() -> list[Path]:
    """Pages listed in the table of contents that are executable MyST notebooks."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [ROOT / f"{name}.md" for name in _toc_files(toc)]
    return [p for p in pages if p.exists() and "kernelspec:" in p.read_text()[:600]]


def chapter_pages() -> list[Path]:
    return [p for p in notebook_pages() if p.parent.name == "chapters"]


def _id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _code_sources(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


# --------------------------------------------------------------------------- static checks (default test command)


def test_toc_lists_executable_chapters():
    names = {_id(p) for p in notebook_pages()}
    assert "book/intro.md" in names


def test_every_chapter_is_in_the_table_of_contents():
    listed = {p.name for p in chapter_pages()}
    on_disk = {p.name for p in (ROOT / "chapters").glob("*.md")}
    assert on_disk and on_disk == listed


@pytest.mark.parametrize("page", chapter_pages(), ids=lambda p: p.name)
def test_chapter_has_learning_goals_and_four_exercises_each_with_a_solution(page: Path):
    text = page.read_text(encoding="utf-8")
    assert "Learning goals" in text
    exercises = re.findall(r"```\{exercise-start\}\s*\n:label:\s*(\S+)", text)
    solutions = re.findall(r"```\{solution-start\}\s+(\S+)", text)
    assert len(exercises) >= 4, f"{page.name} has {len(exercises)} exercises; the book promises at least four"
    assert sorted(exercises) == sorted(solutions), "every exercise needs exactly one solution, and vice versa"
    # The Colab install cell is generated into the reader notebooks (book.tools.course.colab_cell), never typed here.
    assert "google.colab" not in text


def test_each_chapter_has_one_label_right_above_its_title_and_the_labels_differ():
    labels = {}
    for page in chapter_pages():
        body = page.read_text(encoding="utf-8").split("\n---\n", 1)[1]  # after the jupytext front matter
        match = re.match(r"\s*\((ch-[a-z0-9-]+)\)=\n# \S", body)
        assert match, f"{page.name}: the first lines after the front matter must be `(ch-name)=` and the `# ` title"
        labels[page.name] = match[1]
    assert len(set(labels.values())) == len(labels), labels


def _glue_names(text: str) -> tuple[set[str], list[re.Pattern]]:
    """Names a page glues: literal ``glue("name", ...)`` calls, and f-string names as patterns."""
    literal = set(re.findall(r"""\bglue\(\s*["']([A-Za-z0-9_]+)["']""", text))
    patterns = [re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(f)) + r"\Z")
                for _, f in re.findall(r"""\bglue\(\s*f(["'])(.+?)\1""", text)]
    return literal, patterns


def _glue_references(text: str) -> set[str]:
    """Names the prose and figures of a page quote with ``{glue...}`` roles and directives."""
    roles = re.findall(r"\{glue(?::\w+)?\}`([A-Za-z0-9_]+)", text)
    directives = re.findall(r"```\{glue(?::\w+)?\}\s+([A-Za-z0-9_]+)", text)
    return set(roles) | set(directives)


@pytest.mark.parametrize("page", notebook_pages(), ids=_id)
def test_every_quoted_glue_name_is_glued_on_its_page(page: Path):
    # Statically, as far as the text tells: the build's check (below) sees the names actually glued.
    text = page.read_text(encoding="utf-8")
    literal, patterns = _glue_names(text)
    unknown = sorted(n for n in _glue_references(text) if n not in literal and not any(p.match(n) for p in patterns))
    assert not unknown, f"{page.name} quotes names it never glues: {unknown[:10]}"
    if page.parent.name == "chapters":
        prefix = f"ch{page.name[:2]}_"
        foreign = sorted(n for n in literal if not n.startswith(prefix))
        assert not foreign, f"{page.name}: glue names start with {prefix} so chapters never clash: {foreign}"


@pytest.mark.parametrize("page", notebook_pages(), ids=_id)
def test_every_code_cell_parses(page: Path):
    transform = TransformerManager().transform_cell  # %magics and !shell become Python, as in the kernel
    for i, source in enumerate(_code_sources(jupytext.read(page))):
        try:
            compile(transform(source), f"{page.name} code cell {i + 1}", "exec")
        except SyntaxError as err:
            pytest.fail(f"{page.name}: code cell {i + 1} does not parse: {err}")


#: A string in a chapter's code that points into the repository: a parent folder, or a top-level folder of the
#: source tree. Readers on Colab have no repository around their notebook, and on Binder ``helpers`` comes from
#: site-packages, so chapters reach data only through the library (``helpers.data.load`` and its loaders).
REPO_PATH = re.compile(r"(^|[\\/])\.\.([\\/]|$)|^\.?/?(data|helpers|book|chapters|tests|_build)([\\/]|$)")


def _repository_paths(code: str) -> list[str]:
    import ast

    return [node.value for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and REPO_PATH.search(node.value)]


def test_the_repository_path_pattern_finds_those_and_only_those():
    assert _repository_paths('pd.read_csv("../data/x.csv"); open("data/y.json"); Path("helpers") / "data.py"') == [
        "../data/x.csv", "data/y.json", "helpers"]
    assert _repository_paths('Path("audit-example"); f"{x}/{y}"; "datasets"; "book value"; "x/../"') == ["x/../"]


@pytest.mark.parametrize("page", chapter_pages(), ids=_id)
def test_chapters_reach_data_only_through_the_library(page: Path):
    # The Binder check imports what the notebooks import and loads what the library ships, but executes only
    # chapter 01 (tests/binder/run.py): a path into the repository written in a chapter would pass it and break
    # on Colab, so it is refused here.
    transform = TransformerManager().transform_cell
    found = [p for source in _code_sources(jupytext.read(page)) for p in _repository_paths(transform(source))]
    assert not found, f"{page.name}: paths into the repository in code cells: {found}; load data through helpers"


# --------------------------------------------------------------------------- the build's execution (-m build)


def _executed(page: Path) -> nbformat.NotebookNode:
    path = EXECUTED / page.relative_to(ROOT).with_suffix(".ipynb")
    if not path.exists():
        pytest.fail(f"the build did not execute {_id(page)} (no {path.relative_to(ROOT)}): run "
                    "`jupyter-book build . -W -n --keep-going` first")
    return nbformat.read(path, as_version=4)


def _glued(page: Path) -> set[str]:
    """Names the execution glued: myst-nb moves glue outputs out of the notebook into ``<page>.glue.json``."""
    path = EXECUTED / page.relative_to(ROOT).with_suffix(".glue.json")
    return set(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else set()


@pytest.mark.build
@pytest.mark.parametrize("page", notebook_pages(), ids=_id)
def test_build_executed_the_page_from_its_current_text_without_errors(built_html, page: Path):
    nb = _executed(page)
    assert _code_sources(nb) == _code_sources(jupytext.read(page)), \
        f"{_id(page)}: the executed notebook is not of the current text (a stale build?)"
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f"{_id(page)}: code cell {i + 1} has an error output: {errors}"
        if cell.source.strip():
            assert cell.get("execution_count") is not None, f"{_id(page)}: code cell {i + 1} was not executed"
    missing = sorted(_glue_references(page.read_text(encoding="utf-8")) - _glued(page))
    assert not missing, f"{_id(page)}: quoted but never glued during execution: {missing[:10]}"


def execution_seconds() -> dict[str, float]:
    """Seconds each notebook page took in the build's execution, from its execution cache (jupyter-cache)."""
    if not CACHE_DB.exists():
        pytest.fail(f"no execution cache at {CACHE_DB}: build the book first")
    with sqlite3.connect(f"file:{CACHE_DB}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT uri, data FROM nbcache ORDER BY created, pk").fetchall()
    out = {}  # the latest record of a page wins: the cache keeps older versions of a page too
    for uri, data in rows:
        seconds = json.loads(data or "{}").get("execution_seconds")
        if seconds is not None:
            out[Path(uri).resolve().as_posix()] = float(seconds)
    return out


@pytest.mark.build
def test_every_chapter_executes_within_its_time_budget(built_html):
    seconds = execution_seconds()
    missing = [_id(p) for p in notebook_pages() if p.resolve().as_posix() not in seconds]
    assert not missing, f"no execution time recorded for {missing}"
    # The budget is the guide's for chapters; the book matter (datasheets, instructor guide) has only the
    # build's per-cell timeout.
    slow = {_id(p): round(seconds[p.resolve().as_posix()], 1) for p in chapter_pages()
            if seconds[p.resolve().as_posix()] >= MAX_CHAPTER_SECONDS}
    assert not slow, f"over {MAX_CHAPTER_SECONDS} s in the build: {slow}"
