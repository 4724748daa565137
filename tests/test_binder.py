"""Binder, reproduced here: repo2docker's install steps in a fresh virtual environment, a probe there of every
module the reader notebooks import and every data file the library ships, and JupyterLab driven in headless
Chromium with the network off, running chapter 01 (``tests/binder/run.py``).

Selected with ``pytest -m binder`` (about two minutes; pip needs the package registry).

Its virtual environment is its own, not shared with the autograder's (``tests/test_assignments.py``), on purpose:
this one must hold exactly what Binder installs (``requirements.txt`` then ``pip install .``), that one exactly what
an autograder zip declares (otter with its extras, a subset of the pins, ``helpers`` from the zip's archive). Either
installed over the other would hide the package that one of them forgets. ``.ci/run`` runs the two side by side. The checkout is
``$BINDER_CHECKOUT`` if set (say, a clone of the notebooks branch), otherwise the notebooks branch's files as
``book.tools.publish`` would write them from the built book in ``_build/html`` (run ``jupyter-book build .`` first).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import HTML

pytestmark = [pytest.mark.binder, pytest.mark.slow]

sys.path.insert(0, str(Path(__file__).resolve().parent / "binder"))
import run as binder  # noqa: E402  (tests/binder/run.py)

#: Wall seconds for the whole reproduction. Measured on this project's 2-core CI machine: 78 s alone (install 39 s,
#: probe 8 s, JupyterLab with chapter 01 23 s). CI runs it beside the built-book checks and the autograder, which can
#: double that. A regression guard with room for those neighbours, not a promise about Binder's own machines. Each
#: chapter's execution time is checked in the build (tests/test_chapters.py).
BUDGET_S = 240


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    given = os.environ.get("BINDER_CHECKOUT")
    if given:
        return Path(given)
    if not (HTML / "notebooks" / "full" / "chapters").is_dir():
        pytest.fail(f"No reader notebooks in {HTML}: run `jupyter-book build .` first, or set BINDER_CHECKOUT.")
    from book.tools.publish import branch_files

    out = tmp_path_factory.mktemp("binder") / "notebooks-branch"
    branch_files(HTML, out)
    return out


def test_binder_installs_imports_and_loads_everything_and_draws_charts_offline_in_jupyterlab(checkout, tmp_path):
    result = binder.run(checkout, notebook="chapters/01-scaling-laws.ipynb", screenshot=tmp_path / "jupyterlab.png")
    lab = result["lab"]
    assert lab["raw_myst"] == [] and lab["saved_error_outputs"] == [] and lab["dom_errors"] == []
    assert any(c["svg_marks"] for c in lab["charts"])
    probe = result["probe"]
    assert {"helpers", "numpy", "pandas", "altair"} <= set(probe["files"]), sorted(probe["files"])
    assert "data.load('tv16')" in probe["loaded"] and "lm.load_runs()" in probe["loaded"], sorted(probe["loaded"])
    if result["total"] > BUDGET_S:
        pytest.fail(f"the Binder reproduction took {result['total']:.0f} s, over its {BUDGET_S} s budget "
                    f"({result['cpu']:.0f} s CPU in its processes): {result['timings']}")
