"""Tests for book.tools.course: student notebooks keep every exercise and lose every solution."""

from __future__ import annotations

import nbformat
import pytest

from conftest import ROOT
from book.tools import course

CHAPTER = '''---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
x = 1
```

```{exercise-start}
:label: t-ex-1
```
Compute x + 1.
```{exercise-end}
```

```{solution-start} t-ex-1
:class: dropdown
```
SECRET-ONE: add one.
```{code-cell} ipython3
SECRET_CODE = x + 1
```
```{solution-end}
```

````{exercise}
:label: t-ex-2
Explain.
````

````{solution} t-ex-2
:class: dropdown
SECRET-TWO
````

Closing text.
'''


@pytest.fixture
def chapter(tmp_path):
    path = tmp_path / "07-demo.md"
    path.write_text(CHAPTER)
    return path


def test_strip_removes_both_solution_forms_and_keeps_the_rest():
    stripped = course.strip_solutions(CHAPTER)
    assert "SECRET" not in stripped
    assert "solution" not in stripped
    assert "Compute x + 1." in stripped and "Explain." in stripped and "Closing text." in stripped
    # Exactly the solution lines went (counted by hand in CHAPTER): 9 for the gated block with its code cell,
    # 4 for the plain directive; blank lines around them stay.
    assert len(CHAPTER.splitlines()) - len(stripped.splitlines()) == 9 + 4


def test_written_notebooks_start_with_the_colab_cell_and_drop_solutions(tmp_path):
    page = tmp_path / "chapters" / "07-demo.md"
    page.parent.mkdir()
    page.write_text(CHAPTER.split("````{exercise}")[0])  # the gated exercise form, which the chapters use
    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "book").mkdir()
    (path,) = course.write_notebooks([page], tmp_path / "out", student=True, executed_dir=tmp_path)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert path.name == "07-demo.ipynb"
    assert nb.cells[0].source.startswith(course.COLAB_MARK)
    assert "SECRET" not in nbformat.writes(nb)
    with pytest.raises(ValueError, match="overwrite"):
        course.write_notebooks([page], tmp_path / "out", student=True, executed_dir=tmp_path)


def test_unclosed_solution_raises():
    with pytest.raises(ValueError, match="solution-end"):
        course.strip_solutions("```{solution-start} x\n```\nno end\n")


# ------------------------------------------------------------------------------------ what a notebook installs


def test_notebook_requirements_follow_imports_through_magics_functions_and_helpers():
    pins = course.pinned_requirements()
    got = course.notebook_requirements([
        "%matplotlib inline\n!echo hi\nimport os, json\nfrom sklearn.linear_model import LogisticRegression",
        "def f():\n    import krippendorff\n    return krippendorff",
    ])
    assert got == sorted([pins["krippendorff"], pins["scikit-learn"]])
    # helpers.measurement imports krippendorff at module level; the chapter itself does not.
    assert "krippendorff" in (ROOT / "helpers" / "measurement.py").read_text()
    via_helpers = course.notebook_requirements(["from helpers import measurement"])
    assert pins["krippendorff"] in via_helpers and pins["numpy"] in via_helpers


def test_notebook_requirements_leave_out_what_is_not_needed_on_colab():
    got = course.notebook_requirements(["import IPython, sys\nfrom myst_nb import glue"])
    assert got == []


def test_notebook_requirements_refuse_unknown_or_unpinned_modules(tmp_path):
    with pytest.raises(ValueError, match="not installed"):
        course.notebook_requirements(["import a_module_that_does_not_exist_anywhere"])
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("numpy==2.4.6\n")
    with pytest.raises(ValueError, match="not pinned"):
        course.notebook_requirements(["import pandas"], requirements=reqs)


def test_colab_cell_installs_only_pinned_chapter_needs_and_the_library():
    from book.tools.links import BookLinks

    links = BookLinks("https://github.com/me/course", notebooks_branch="nb")
    cell = course.colab_cell(["import numpy as np\nimport altair as alt"], links=links)
    lines = cell.source.splitlines()
    assert lines[0].startswith(course.COLAB_MARK)
    installs = [line.strip() for line in lines if "%pip install" in line]
    pins = course.pinned_requirements()
    assert installs[0].split()[3:] == sorted([pins["altair"], pins["numpy"]])
    assert installs[1] == '%pip install -q --no-deps "helpers @ git+https://github.com/me/course@nb"'
    # Off Colab the cell does nothing: it runs as plain Python with the magics guarded by the check.
    from IPython.core.inputtransformer2 import TransformerManager

    exec(TransformerManager().transform_cell(cell.source), {"get_ipython": None})
