"""The autograded assignments: each builds with otter, its solutions pass every test, and nothing leaks.

Every assignment in ``book/assignments/<name>/<name>-master.md`` is built once (``book/assignments/build.py``,
which runs ``otter assign``) into a temporary folder. The master is parsed *here*, independently of otter and
of the build script, to know which questions, solutions and hidden tests it holds; the tests then check otter's
two outputs against it:

* the build succeeded and otter ran the solution notebook against every test, public and hidden;
* the student notebook keeps every question but contains no solution line and no model answer;
* hidden tests appear only in the autograder folder, public tests in both.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import pytest
import yaml

from conftest import ROOT

ASSIGNMENTS = ROOT / "book" / "assignments"
#: One assignment per concept chapter, and the capstone.
EXPECTED = {"measurement", "sampling", "goodhart", "pluralism", "capstone"}
MODEL_ANSWER = "**Model answer.**"
#: Whole build, including otter's start-up and one kernel start; the solutions themselves are kept under ~20 s.
MAX_BUILD_SECONDS = 40


def _load_build_module():
    spec = importlib.util.spec_from_file_location("assignments_build", ASSIGNMENTS / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


build = _load_build_module()
NAMES = build.available()


# --------------------------------------------------------------------------- parsing the master, independently


@dataclass
class Question:
    name: str
    manual: bool
    prompt: list[str] = field(default_factory=list)
    solution_code: list[str] = field(default_factory=list)
    solution_md: list[str] = field(default_factory=list)
    public_tests: list[str] = field(default_factory=list)
    hidden_tests: list[str] = field(default_factory=list)


_BOUNDARY = re.compile(r"#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\b", re.IGNORECASE)


def parse_master(path: Path) -> list[Question]:
    """Questions of a master, with their prompt, solution and test cells, read from otter's raw boundary cells."""
    questions: list[Question] = []
    current: Question | None = None
    block: str | None = None
    for cell in jupytext.read(path, fmt="md:myst").cells:
        m = _BOUNDARY.match(cell.source.strip()) if cell.cell_type == "raw" else None
        if m:
            kind, what = m[1].upper(), m[2].upper()
            if what == "QUESTION":
                config = yaml.safe_load(cell.source.split("\n", 1)[1]) if kind == "BEGIN" else None
                current = Question(config["name"], bool(config.get("manual", False))) if kind == "BEGIN" else None
                if current:
                    questions.append(current)
            else:
                block = what if kind == "BEGIN" else None
            continue
        if current is None:
            continue
        if block == "SOLUTION":
            (current.solution_code if cell.cell_type == "code" else current.solution_md).append(cell.source)
        elif block == "TESTS":
            first = cell.source.lstrip().split("\n", 1)[0]
            hidden = first.startswith("#") and re.search(r"\bhidden\b", first, re.IGNORECASE)
            (current.hidden_tests if hidden else current.public_tests).append(cell.source)
        elif cell.cell_type == "markdown" and not current.prompt:
            current.prompt.append(cell.source)
    return questions


def assert_messages(test_source: str) -> list[str]:
    """The message strings of the ``assert`` statements in a test cell."""
    return [node.msg.value for node in ast.walk(ast.parse(test_source))
            if isinstance(node, ast.Assert) and isinstance(node.msg, ast.Constant)]


_SOLUTION_SUFFIX = re.compile(r"\s*#\s*SOLUTION\s*$")


def solution_lines(code: str) -> list[str]:
    """Lines otter must remove: inside ``# BEGIN SOLUTION`` blocks, or ending in ``# SOLUTION`` (marker dropped)."""
    out, inside = [], False
    for raw in code.splitlines():
        line = raw.strip()
        if re.match(r"#\s*BEGIN SOLUTION", line):
            inside = True
        elif re.match(r"#\s*END SOLUTION", line):
            inside = False
        elif inside and line and not line.startswith("#"):
            out.append(line)
        elif _SOLUTION_SUFFIX.search(line):
            out.append(_SOLUTION_SUFFIX.sub("", line))
    return out


_TARGET = r"[A-Za-z_][\w.]*(?:\[[^\]]*\])*"
_ASSIGNMENT = re.compile(rf"^{_TARGET}(?:\s*,\s*{_TARGET})*\s*[-+*/]?=[^=]|^(?:import|from)\s")


def unmarked_lines(code: str) -> list[str]:
    """Code lines that otter keeps in the student version (the complement of :func:`solution_lines`)."""
    out, inside = [], False
    for raw in code.splitlines():
        line = raw.strip()
        if re.match(r"#\s*BEGIN SOLUTION", line):
            inside = True
        elif re.match(r"#\s*END SOLUTION", line):
            inside = False
        elif not inside and line and not line.startswith("#") and not _SOLUTION_SUFFIX.search(line):
            out.append(line)
    return out


def notebook_text(path: Path) -> tuple[list[str], str]:
    """Cell sources and everything else (metadata, including otter's embedded tests) of a notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]
    return sources, json.dumps(nb["metadata"], ensure_ascii=False)


def folder_text(folder: Path) -> str:
    """All text in a folder, notebooks decoded and zip members included, so a search cannot miss escaped text."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".ipynb":
            sources, meta = notebook_text(path)
            parts += [*sources, meta, path.read_text(encoding="utf-8")]
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                parts += [zf.read(n).decode("utf-8", errors="replace") for n in zf.namelist()]
        else:
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


# --------------------------------------------------------------------------- one build of everything


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Build every assignment once (two at a time); a failed build is kept as its exception."""
    out = tmp_path_factory.mktemp("assignments")

    def one(name: str) -> object:
        try:
            return build.build(name, out)
        except build.BuildError as err:
            return err

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(NAMES, pool.map(one, NAMES)))


def _result(built: dict[str, object], name: str):
    res = built[name]
    if isinstance(res, Exception):
        pytest.fail(f"build of {name!r} failed:\n{res}")
    return res


def _student_notebook(res) -> Path:
    return res.student_dir / f"{res.name}.ipynb"


# --------------------------------------------------------------------------- tests


def test_one_assignment_per_concept_chapter_and_a_capstone():
    assert set(NAMES) == EXPECTED


@pytest.mark.parametrize("name", NAMES)
def test_master_is_text_and_round_trips_through_jupytext(name: str):
    path = build.master_path(name)
    text = path.read_text(encoding="utf-8")
    assert jupytext.writes(jupytext.reads(text, fmt="md:myst"), fmt="md:myst") == text
    assert not list(path.parent.glob("*.ipynb")), "no notebook is kept next to the master"


@pytest.mark.parametrize("name", NAMES)
def test_master_structure(name: str):
    questions = parse_master(build.master_path(name))
    assert 3 <= len(questions) <= 6
    assert len({q.name for q in questions}) == len(questions)
    assert any(q.manual for q in questions) and any(not q.manual for q in questions), "mix code and written questions"
    for q in questions:
        assert q.prompt and q.prompt[0].strip(), f"{q.name} has no prompt"
        if q.manual:
            assert q.solution_md and all(s.startswith(MODEL_ANSWER) for s in q.solution_md), q.name
            continue
        assert q.public_tests and q.hidden_tests, f"{q.name} needs public and hidden tests"
        assert q.solution_code and all(solution_lines(c) for c in q.solution_code), f"{q.name}: unmarked solution cell"
        for cell in q.solution_code:
            # Unmarked lines stay visible to students; they may print or display, but never compute an answer.
            visible = [line for line in unmarked_lines(cell) if _ASSIGNMENT.match(line)]
            assert not visible, f"{q.name}: assignment without a # SOLUTION marker: {visible}"
        for test in q.hidden_tests:
            messages = assert_messages(test)
            # The messages identify a hidden test in the built folders, so they must exist and survive escaping.
            assert messages and all(m.isprintable() and not set(m) & set("'\"\\") for m in messages), q.name


@pytest.mark.parametrize("name", NAMES)
def test_build_runs_solutions_against_every_test(built, name: str):
    res = _result(built, name)
    assert build.PASSED_LINE in res.log
    assert res.seconds < MAX_BUILD_SECONDS, f"{name} took {res.seconds:.1f} s"
    [zip_path] = res.autograder_dir.glob("*.zip")
    with zipfile.ZipFile(zip_path) as zf:
        for q in parse_master(build.master_path(name)):
            if q.manual:
                continue
            ns: dict = {}
            exec(zf.read(f"tests/{q.name}.py").decode(), ns)  # otter's OK-format test file defines `test`
            cases = [c for suite in ns["test"]["suites"] for c in suite["cases"]]
            assert len(cases) == len(q.public_tests) + len(q.hidden_tests), q.name
            assert sum(c["hidden"] for c in cases) == len(q.hidden_tests), q.name


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_has_no_solutions(built, name: str):
    res = _result(built, name)
    sources, meta = notebook_text(_student_notebook(res))
    student_lines = {line.strip() for src in sources for line in src.splitlines()}
    student_all = "\n".join([*sources, meta])
    ag_sources, _ = notebook_text(res.autograder_dir / f"{name}.ipynb")
    ag_all = "\n".join(ag_sources)
    for q in parse_master(build.master_path(name)):
        for cell in q.solution_code:
            for line in solution_lines(cell):
                assert line not in student_lines, f"{q.name}: solution line in the student notebook: {line}"
                rhs = line.split("=", 1)[1].strip() if re.match(r"^[\w., ]+=[^=]", line) else line
                if len(rhs) >= 20:
                    assert rhs not in student_all, f"{q.name}: solution code in the student notebook: {rhs}"
                assert line in ag_all, f"{q.name}: solution line missing from the autograder notebook: {line}"
        for md in q.solution_md:
            first = md.splitlines()[0][len(MODEL_ANSWER):].strip()[:60]
            assert first not in student_all and first in ag_all, q.name
    assert "Model answer" not in student_all


@pytest.mark.parametrize("name", NAMES)
def test_hidden_tests_only_in_autograder(built, name: str):
    res = _result(built, name)
    student, autograder = folder_text(res.student_dir), folder_text(res.autograder_dir)
    for q in parse_master(build.master_path(name)):
        for test in q.hidden_tests:
            for msg in assert_messages(test):
                assert msg not in student, f"{q.name}: hidden test visible to students: {msg}"
                assert msg in autograder, f"{q.name}: hidden test missing from the autograder: {msg}"
        for test in q.public_tests:
            for msg in assert_messages(test):
                assert msg in student and msg in autograder, f"{q.name}: public test missing: {msg}"


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_keeps_every_question(built, name: str):
    res = _result(built, name)
    sources, _ = notebook_text(_student_notebook(res))
    text = "\n".join(sources)
    for q in parse_master(build.master_path(name)):
        first_line = q.prompt[0].strip().splitlines()[0]
        assert first_line in text, f"{q.name}: prompt missing from the student notebook"
        if not q.manual:
            assert f'grader.check("{q.name}")' in sources, f"{q.name}: no check cell"


BROKEN = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

```{raw-cell}
# ASSIGNMENT CONFIG
name: broken
export_cell: false
```

```{raw-cell}
# BEGIN QUESTION
name: q1
```

Set `x` to the number of days in a week.

```{raw-cell}
# BEGIN SOLUTION
```

```{code-cell} ipython3
x = 8  # SOLUTION
```

```{raw-cell}
# END SOLUTION
```

```{raw-cell}
# BEGIN TESTS
```

```{code-cell} ipython3
assert isinstance(x, int), "x is a whole number"
```

```{code-cell} ipython3
# HIDDEN
assert x == 7, "a week has seven days"
```

```{raw-cell}
# END TESTS
```

```{raw-cell}
# END QUESTION
```
"""


def test_a_solution_failing_a_hidden_test_fails_the_build(tmp_path: Path):
    # The wrong solution passes the public test and fails only the hidden one: the build must still stop.
    (tmp_path / "src" / "broken").mkdir(parents=True)
    (tmp_path / "src" / "broken" / "broken-master.md").write_text(BROKEN, encoding="utf-8")
    with pytest.raises(build.BuildError, match="a week has seven days"):
        build.build("broken", tmp_path / "out", root=tmp_path / "src")


def test_master_that_disables_solution_checks_is_refused(tmp_path: Path):
    (tmp_path / "broken").mkdir()
    text = BROKEN.replace("export_cell: false", "export_cell: false\nrun_tests: false")
    (tmp_path / "broken" / "broken-master.md").write_text(text, encoding="utf-8")
    with pytest.raises(build.BuildError, match="run_tests"):
        build.master_notebook("broken", root=tmp_path)


def test_colab_variant_keeps_hidden_tests_out_of_the_student_test_files(tmp_path: Path):
    res = build.build("pluralism", tmp_path, runs_on="colab")
    assert (res.student_dir / "tests").is_dir(), "Colab students get the public tests as files"
    student = folder_text(res.student_dir)
    assert "%pip install" in student and "otter.Notebook()" in student
    for q in parse_master(build.master_path("pluralism")):
        for test in q.hidden_tests:
            assert not any(msg in student for msg in assert_messages(test)), q.name
        for test in q.public_tests:
            assert all(msg in student for msg in assert_messages(test)), q.name
