"""Course tools: the notebooks students open, with or without solutions, on any platform.

Chapters are MyST-Markdown notebooks whose exercise solutions sit between
``{solution-start}`` and ``{solution-end}`` (or inside a ``{solution}`` block).
This module writes them as reader notebooks (:mod:`book.tools.notebook`), optionally
with every solution removed, so instructors can hand out a student version that
cannot drift from the book, and gives each one a first cell that installs what it
needs on Colab (:func:`colab_cell`), pinned to ``requirements.txt``.

Command line (after ``jupyter-book build .``, whose executed notebooks hold the numbers)::

    python -m book.tools.course student --out DIR [chapters/*.md]
    python -m book.tools.course full --out DIR [chapters/*.md]
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import jupytext
import nbformat

from book.tools.links import SOURCE_ROOT, BookLinks, book_links

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


def write_notebooks(
    pages: Iterable[str | Path],
    out_dir: str | Path,
    *,
    student: bool,
    executed_dir: str | Path | None = None,
    links: BookLinks | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write each chapter as the reader notebook students open: ``out_dir/<name>.ipynb``.

    The notebook is :func:`book.tools.notebook.reader_notebook` (plain Markdown, the book's numbers filled in, an
    answer cell after each exercise; without solutions if ``student``), with :func:`colab_cell` as its first
    cell, so it runs on Binder, a hub, a laptop and Colab alike.

    Parameters
    ----------
    pages : iterable of str or Path
        Chapter files (``chapters/*.md``).
    out_dir : str or Path
        Folder to write into (created if needed); never a chapter's own folder.
    student : bool
        Remove exercise solutions.
    executed_dir : str or Path, optional
        Executed notebooks of the book build, with the glued values; default ``_build/jupyter_execute/chapters``.
    links : BookLinks, optional
        Where the Colab cell installs the library from; default :func:`book.tools.links.book_links`.
    overwrite : bool, default False
        Replace notebooks that already exist in ``out_dir``.

    Returns
    -------
    list of Path

    Raises
    ------
    ValueError
        If a page is not a MyST notebook, the book has not been built (a glued value is missing), or a target
        exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile
    >>> from book.tools.course import write_notebooks
    >>> from book.tools.links import SOURCE_ROOT
    >>> page = SOURCE_ROOT / "chapters" / "01-scaling-laws.md"
    >>> built = SOURCE_ROOT / "_build" / "jupyter_execute" / "chapters"
    >>> if built.is_dir():  # after `jupyter-book build .`
    ...     (path,) = write_notebooks([page], tempfile.mkdtemp(), student=True, executed_dir=built)
    ...     assert path.name == "01-scaling-laws.ipynb"
    """
    from book.tools.notebook import write_reader_notebooks  # imports this module: import it only when used

    links = links or book_links()
    executed = Path(executed_dir) if executed_dir is not None else SOURCE_ROOT / "_build" / "jupyter_execute" / "chapters"

    def first_cells(page: Path) -> list[nbformat.NotebookNode]:
        code = [c.source for c in jupytext.read(page).cells if c.cell_type == "code"]
        return [colab_cell(code, links=links)]

    return write_reader_notebooks([Path(p) for p in pages], out_dir, executed_dir=executed, student=student,
                                  overwrite=overwrite, site_url=links.site_url, first_cells=first_cells)


# ----------------------------------------------------------------------------------------- what a notebook needs

#: Installed on every Colab runtime, and not ours to pin: reinstalling them can break Colab's own kernel.
COLAB_PROVIDES = frozenset({"ipython", "ipykernel", "google-colab"})
#: Modules a reader notebook never imports at run time although a chapter source does (the glue shim replaces it).
_BOOK_ONLY = frozenset({"myst_nb"})


def _code(cell_source: str) -> ast.Module:
    from IPython.core.inputtransformer2 import TransformerManager  # turns %magics and !shell into Python

    return ast.parse(TransformerManager().transform_cell(cell_source))


def _imports(tree: ast.AST) -> set[str]:
    """Absolute module names imported anywhere in ``tree`` (function-level imports too: they run when called)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from helpers import plots` imports the submodule helpers.plots
            if node.module == "helpers":
                names.update(f"helpers.{alias.name}" for alias in node.names)
    return names


def _helpers_closure(modules: set[str], package_dir: Path) -> set[str]:
    """``modules`` plus every module imported, directly or not, by the ``helpers`` modules among them."""
    seen: set[str] = set()
    todo = [m for m in modules]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.split(".")[0] != "helpers":
            continue
        parts = name.split(".")[1:]
        path = package_dir.joinpath(*parts).with_suffix(".py") if parts else package_dir / "__init__.py"
        if path.is_file():
            todo.extend(_imports(ast.parse(path.read_text(encoding="utf-8"))))
    return seen


@lru_cache(maxsize=None)
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(path: str | Path | None = None) -> dict[str, str]:
    """The ``name==version`` pins of a requirements file, keyed by normalised distribution name.

    Examples
    --------
    >>> from book.tools.course import pinned_requirements
    >>> pinned_requirements()["numpy"].startswith("numpy==")
    True
    """
    path = Path(path) if path is not None else SOURCE_ROOT / "requirements.txt"
    if not path.is_file():
        raise ValueError(f"No requirements file at {path}; pass path= the book's requirements.txt.")
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)", line)
        if m:
            pins[_normal(m[1])] = f"{m[1]}=={m[2]}"
    return pins


def notebook_requirements(
    sources: Iterable[str], *, requirements: str | Path | None = None, package_dir: str | Path | None = None
) -> list[str]:
    """The pinned distributions that code cells need, through the ``helpers`` modules they import.

    Imports are read from the code (module level and inside functions, in the cells and, transitively, in every
    ``helpers`` module they use), mapped to the distributions that provide them in this environment, and pinned
    from ``requirements.txt``. The standard library, ``helpers`` itself and what Colab always provides
    (:data:`COLAB_PROVIDES`) are left out.

    Parameters
    ----------
    sources : iterable of str
        Code cell sources (IPython magics allowed).
    requirements : str or Path, optional
        The pinned requirements file; default the repository's ``requirements.txt``.
    package_dir : str or Path, optional
        Folder of the ``helpers`` package to follow imports into; default the repository's ``helpers/``.

    Returns
    -------
    list of str
        Sorted ``name==version`` pins.

    Raises
    ------
    ValueError
        If an imported module is not installed here, or its distribution is not pinned.

    Examples
    --------
    >>> from book.tools.course import notebook_requirements
    >>> pins = notebook_requirements(["import numpy as np", "from helpers.scaling import fit_power_law"])
    >>> [p.split("==")[0] for p in pins]
    ['numpy', 'pandas', 'scipy']
    """
    pins = pinned_requirements(requirements)
    package_dir = Path(package_dir) if package_dir is not None else SOURCE_ROOT / "helpers"
    modules: set[str] = set()
    for source in sources:
        modules |= _imports(_code(source))
    needed: set[str] = set()
    for module in _helpers_closure(modules, package_dir):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in {"helpers", "__future__"} or top in _BOOK_ONLY:
            continue
        dists = _distributions().get(top)
        if not dists:
            raise ValueError(f"Module {top!r} is imported but not installed; add it to requirements.txt.")
        needed.update(_normal(d) for d in dists)
    needed -= COLAB_PROVIDES
    unpinned = sorted(needed - set(pins))
    if unpinned:
        raise ValueError(f"{unpinned} are needed but not pinned in requirements.txt; pin them with ==.")
    return sorted(pins[d] for d in needed)


COLAB_MARK = "# Colab only:"


def colab_cell(
    sources: Iterable[str], *, links: BookLinks | None = None, requirements: str | Path | None = None
) -> nbformat.NotebookNode:
    """A first code cell that, on Colab only, installs what the notebook needs, pinned, and the book's library.

    The library and its data come from the notebooks branch of the book's repository (:meth:`BookLinks.pip_source`),
    installed without its dependencies so that only the pins of :func:`notebook_requirements` decide versions.
    Elsewhere (Binder, a hub, a laptop with ``requirements.txt``) the cell does nothing.

    Parameters
    ----------
    sources : iterable of str
        The notebook's code cell sources.
    links : BookLinks, optional
        Default :func:`book.tools.links.book_links` of this repository.
    requirements : str or Path, optional
        Pinned requirements file (default ``requirements.txt``).

    Returns
    -------
    nbformat.NotebookNode
        A code cell.

    Examples
    --------
    >>> from book.tools.course import colab_cell
    >>> from book.tools.links import BookLinks
    >>> cell = colab_cell(["import pandas"], links=BookLinks("https://github.com/me/course"))
    >>> "git+https://github.com/me/course@notebooks" in cell.source
    True
    """
    links = links or book_links()
    pins = notebook_requirements(sources, requirements=requirements)
    source = "\n".join([
        f"{COLAB_MARK} install this notebook's pinned packages and the book's library (does nothing elsewhere).",
        "# If Colab then asks to restart the session, restart it and run the notebook again from the top.",
        "import sys",
        'if "google.colab" in sys.modules:',
        f"    %pip install -q {' '.join(pins)}",
        f'    %pip install -q --no-deps "{links.pip_source()}"',
    ])
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["colab-setup"]})


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point (``python -m book.tools.course``)."""
    parser = argparse.ArgumentParser(prog="python -m book.tools.course", description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["student", "full"], help="student: solutions removed; full: as in the book")
    parser.add_argument("--out", required=True, help="folder to write the .ipynb files into")
    parser.add_argument("--executed", default=None,
                        help="executed notebooks of the book build (default _build/jupyter_execute/chapters)")
    parser.add_argument("--overwrite", action="store_true", help="replace notebooks already in --out")
    parser.add_argument("pages", nargs="*", help="chapter files (default: chapters/*.md)")
    args = parser.parse_args(argv)
    pages = args.pages or sorted((SOURCE_ROOT / "chapters").glob("*.md"))
    try:
        written = write_notebooks(pages, args.out, student=args.kind == "student", executed_dir=args.executed,
                                  overwrite=args.overwrite)
    except ValueError as exc:
        parser.error(str(exc))
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
