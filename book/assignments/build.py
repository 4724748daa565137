"""Build the autograded assignments: text master -> Jupyter notebook -> ``otter assign``.

Each assignment is one reviewable text file, ``book/assignments/<name>/<name>-master.md``, a
MyST-Markdown notebook (jupytext) in otter-grader's assignment format: otter's raw cells
(``# ASSIGNMENT CONFIG``, ``# BEGIN QUESTION``, ``# BEGIN SOLUTION``, ``# BEGIN TESTS``, ...) are
written as ``{raw-cell}`` blocks. No ``.ipynb`` is kept in git; this script makes one in a temporary
folder, named ``<name>.ipynb`` (the name students see), and runs ``otter assign`` on it, which writes

* ``OUT/<name>/student/``: the notebook without solutions and without hidden tests;
* ``OUT/<name>/autograder/``: the solution notebook and the autograder zip with every test.

``otter assign`` runs the solution notebook against every test, public and hidden, and stops with
an error if any fails; this script refuses masters that switch that off and raises
:class:`BuildError` with otter's output when otter fails.

Command line (from the repository root)::

    python book/assignments/build.py --out DIR [names...]

Without names, every assignment is built.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml

HERE = Path(__file__).resolve().parent
MASTER_SUFFIX = "-master.md"
#: What otter assign logs (with -v) once the solutions passed every test.
PASSED_LINE = "All autograder tests passed."
RUNS_ON = ("default", "colab")


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
    """

    name: str
    student_dir: Path
    autograder_dir: Path
    seconds: float
    log: str


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
    if runs_on != "default":
        # otter requires test files (not notebook metadata) for Colab: the notebook is not on Colab's disk.
        config["runs_on"] = runs_on
        config["tests"] = {**config.get("tests", {}), "files": True}
        cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
    return nb


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
        notebook = Path(tmp) / f"{name}.ipynb"
        nbformat.write(nb, notebook)
        start = time.perf_counter()
        # A subprocess, not otter.assign.main(): otter changes directory and logging globally.
        proc = subprocess.run(
            [sys.executable, "-m", "otter", "assign", "-v", str(notebook), str(target)],
            capture_output=True, text=True, cwd=tmp, check=False,
        )
        seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise BuildError(f"otter assign failed for {name!r} (exit {proc.returncode}):\n{log[-6000:]}")
    if PASSED_LINE not in log:
        raise BuildError(f"otter assign did not report that the solutions passed the tests for {name!r}:\n{log[-4000:]}")
    return BuildResult(name, target / "student", target / "autograder", seconds, log)


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
