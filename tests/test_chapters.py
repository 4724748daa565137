"""Every notebook page in _toc.yml executes cleanly, with the same working directory as the book build."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
import yaml
from nbclient import NotebookClient

from conftest import ROOT


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


def test_toc_lists_executable_chapters():
    names = {p.relative_to(ROOT).as_posix() for p in notebook_pages()}
    assert "book/intro.md" in names


@pytest.mark.parametrize("page", notebook_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_executes_without_errors(page: Path):
    nb = jupytext.read(page)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(page.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors


def chapter_pages() -> list[Path]:
    return [p for p in notebook_pages() if p.parent.name == "chapters"]


def test_every_chapter_is_in_the_table_of_contents():
    listed = {p.name for p in chapter_pages()}
    on_disk = {p.name for p in (ROOT / "chapters").glob("*.md")}
    assert on_disk and on_disk == listed


@pytest.mark.parametrize("page", chapter_pages(), ids=lambda p: p.name)
def test_chapter_has_learning_goals_and_four_exercises_each_with_a_solution(page: Path):
    text = page.read_text(encoding="utf-8")
    assert "Learning goals" in text
    import re

    exercises = re.findall(r"```\{exercise-start\}\s*\n:label:\s*(\S+)", text)
    solutions = re.findall(r"```\{solution-start\}\s+(\S+)", text)
    assert len(exercises) >= 4, f"{page.name} has {len(exercises)} exercises; the book promises at least four"
    assert sorted(exercises) == sorted(solutions), "every exercise needs exactly one solution, and vice versa"
    # The Colab install cell is generated into the reader notebooks (helpers.course.colab_cell), never typed here.
    assert "google.colab" not in text
