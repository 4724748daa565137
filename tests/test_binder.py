"""Binder, reproduced here: repo2docker's install steps in a fresh virtual environment, every reader notebook
executed there, and JupyterLab driven in headless Chromium with the network off (``tests/binder/run.py``).

Selected with ``pytest -m binder`` (about three minutes; pip needs the package registry).

Its virtual environment is its own, not shared with the autograder's (``tests/test_assignments.py``), on purpose:
this one must hold exactly what Binder installs (``requirements.txt`` then ``pip install .``), that one exactly what
an autograder zip declares (otter with its extras, a subset of the pins, ``helpers`` from the zip's archive). Either
installed over the other would hide the package that one of them forgets. ``.ci/run`` runs the two side by side. The checkout is
``$BINDER_CHECKOUT`` if set (say, a clone of the notebooks branch), otherwise the notebooks branch's files as
``helpers.publish`` would write them from the built book in ``_build/html`` (run ``jupyter-book build .`` first).
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

#: CPU seconds for the whole reproduction (pip, every notebook's kernel, JupyterLab, Chromium). Measured: about
#: 220 s on this project's CI machine. CPU, not wall time: CI runs this beside the autograder on two cores.
BUDGET_CPU_S = 300
#: Each reader notebook's own kernel CPU seconds, in the Binder install: "each chapter well under 30 s on one core".
CHAPTER_CPU_S = 30
#: Wall seconds past which something hangs rather than runs slowly (the budgets above are the real limits).
HANG_S = 600


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    given = os.environ.get("BINDER_CHECKOUT")
    if given:
        return Path(given)
    if not (HTML / "notebooks" / "full" / "chapters").is_dir():
        pytest.fail(f"No reader notebooks in {HTML}: run `jupyter-book build .` first, or set BINDER_CHECKOUT.")
    from helpers.publish import branch_files

    out = tmp_path_factory.mktemp("binder") / "notebooks-branch"
    branch_files(HTML, out)
    return out


def test_binder_installs_runs_every_notebook_and_draws_charts_offline_in_jupyterlab(checkout, tmp_path):
    result = binder.run(checkout, notebook="chapters/01-scaling-laws.ipynb", screenshot=tmp_path / "jupyterlab.png")
    lab = result["lab"]
    assert lab["raw_myst"] == [] and lab["saved_error_outputs"] == [] and lab["dom_errors"] == []
    assert any(c["svg_marks"] for c in lab["charts"])
    slow = {r["notebook"]: r["kernel_cpu_s"] for r in result["notebooks"] if not r["kernel_cpu_s"] < CHAPTER_CPU_S}
    assert not slow, f"reader notebooks over {CHAPTER_CPU_S} s of kernel CPU in the Binder install: {slow}"
    if result["cpu"] > BUDGET_CPU_S or result["total"] > HANG_S:
        pytest.fail(f"the Binder reproduction used {result['cpu']:.0f} s CPU (budget {BUDGET_CPU_S} s) and "
                    f"{result['total']:.0f} s wall (limit {HANG_S} s): {result['timings']}")
