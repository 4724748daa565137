"""Course tools: student versions of the chapters, and notebooks for Colab.

Chapters are MyST-Markdown notebooks whose exercise solutions sit between
``{solution-start}`` and ``{solution-end}`` (or inside a ``{solution}`` block).
This module turns a chapter into a Jupyter notebook, optionally with every
solution removed, so instructors can hand out a student version that cannot
drift from the book: it is produced from the same source at every build.

Command line::

    python -m helpers.course student --out DIR [chapters/*.md]
    python -m helpers.course full --out DIR [chapters/*.md]
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import jupytext
import nbformat

_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w-]+)\}")


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the directive opened at ``start`` (same fence, nothing after it)."""
    for j in range(start + 1, len(lines)):
        if lines[j].strip() == fence:
            return j
    raise ValueError(f"Directive opened at line {start + 1} is never closed with {fence!r}.")


def strip_solutions(text: str) -> str:
    """Remove every exercise solution from a MyST-Markdown chapter.

    Both forms are removed: a gated block from ``{solution-start}`` to the end of
    ``{solution-end}`` (including the code cells in between), and a single
    ``{solution}`` directive.

    Parameters
    ----------
    text : str
        The chapter source.

    Returns
    -------
    str
        The source without solutions; everything else is unchanged.

    Raises
    ------
    ValueError
        If a solution block is opened but never closed.

    Examples
    --------
    >>> src = "Q\\n```{solution-start} ex\\n```\\nA\\n```{solution-end}\\n```\\nAfter\\n"
    >>> strip_solutions(src)
    'Q\\nAfter\\n'
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i].strip())
        if m and m["name"] == "solution":
            i = _fence_end(lines, i, m["fence"]) + 1
            continue
        if m and m["name"] == "solution-start":
            end = next((j for j in range(i + 1, len(lines))
                        if (e := _FENCE.match(lines[j].strip())) and e["name"] == "solution-end"), None)
            if end is None:
                raise ValueError(f"{{solution-start}} at line {i + 1} has no matching {{solution-end}}.")
            i = _fence_end(lines, end, _FENCE.match(lines[end].strip())["fence"]) + 1
            continue
        out.append(lines[i])
        i += 1
    return "".join(out)


def chapter_notebook(path: str | Path, *, student: bool = False) -> nbformat.NotebookNode:
    """Read a MyST chapter as a Jupyter notebook, optionally without solutions.

    Parameters
    ----------
    path : str or Path
        A chapter file (MyST Markdown with a jupytext header).
    student : bool, default False
        Remove exercise solutions (see :func:`strip_solutions`).

    Returns
    -------
    nbformat.NotebookNode

    Raises
    ------
    ValueError
        If the file does not exist or is not a MyST notebook.

    Examples
    --------
    >>> from pathlib import Path
    >>> from helpers.course import chapter_notebook
    >>> page = Path(__file__).resolve().parent.parent / "book" / "intro.md"
    >>> chapter_notebook(page).cells[0].cell_type
    'markdown'
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"No chapter at {path}; pass the path of a chapters/*.md file.")
    text = path.read_text(encoding="utf-8")
    if "kernelspec:" not in text[:800]:
        raise ValueError(f"{path} has no jupytext/kernelspec header, so it is not a MyST notebook.")
    if student:
        text = strip_solutions(text)
    return jupytext.reads(text, fmt="md:myst")


def write_notebooks(pages: Iterable[str | Path], out_dir: str | Path, *, student: bool) -> list[Path]:
    """Write each chapter as ``out_dir/<name>.ipynb`` and return the written paths.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from helpers.course import write_notebooks
    >>> page = Path(__file__).resolve().parent.parent / "book" / "intro.md"
    >>> [p.name for p in write_notebooks([page], tempfile.mkdtemp(), student=True)]
    ['intro.ipynb']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        nb = chapter_notebook(page, student=student)
        target = out / f"{Path(page).stem}.ipynb"
        nbformat.write(nb, target)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point (``python -m helpers.course``)."""
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="python -m helpers.course", description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["student", "full"], help="student: solutions removed; full: as in the book")
    parser.add_argument("--out", required=True, help="folder to write the .ipynb files into")
    parser.add_argument("pages", nargs="*", help="chapter files (default: chapters/*.md)")
    args = parser.parse_args(argv)
    pages = args.pages or sorted((root / "chapters").glob("*.md"))
    for path in write_notebooks(pages, args.out, student=args.kind == "student"):
        print(path)


if __name__ == "__main__":
    main()
