"""Tests for helpers.course: student notebooks keep every exercise and lose every solution."""

from __future__ import annotations

import nbformat
import pytest

from conftest import ROOT
from helpers import course

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


def test_student_notebook_drops_solution_code_cells(chapter):
    full = course.chapter_notebook(chapter)
    student = course.chapter_notebook(chapter, student=True)
    full_code = [c.source for c in full.cells if c.cell_type == "code"]
    student_code = [c.source for c in student.cells if c.cell_type == "code"]
    assert full_code == ["x = 1", "SECRET_CODE = x + 1"]
    assert student_code == ["x = 1"]


def test_write_notebooks_round_trips_through_nbformat(chapter, tmp_path):
    (path,) = course.write_notebooks([chapter], tmp_path / "out", student=True)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert path.name == "07-demo.ipynb"
    assert "SECRET" not in nbformat.writes(nb)


def test_unclosed_solution_raises():
    with pytest.raises(ValueError, match="solution-end"):
        course.strip_solutions("```{solution-start} x\n```\nno end\n")


def test_non_notebook_page_raises(tmp_path):
    page = tmp_path / "plain.md"
    page.write_text("# Just markdown\n")
    with pytest.raises(ValueError, match="not a MyST notebook"):
        course.chapter_notebook(page)


@pytest.mark.parametrize("page", sorted((ROOT / "chapters").glob("*.md")), ids=lambda p: p.name)
def test_every_chapter_student_version_has_exercises_and_no_solutions(page):
    text = page.read_text()
    student = nbformat.writes(course.chapter_notebook(page, student=True))
    assert text.count("{exercise-start}") + text.count("{exercise}") >= 4, "every chapter has >= 4 exercises"
    assert "{solution" not in student
    assert student.count("{exercise") == text.count("{exercise")
