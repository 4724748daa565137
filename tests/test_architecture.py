"""The shape of the library: no module of ``helpers`` reaches into another module's private names, and the
library never imports the book's tools (``book/tools``), which depend on it.

A private name (``_x``) is an implementation detail of its module and can change with it. Code shared between
modules lives in a package-private module (``helpers/_solver.py``, ``helpers/_stats.py``, ``helpers/_validate.py``)
under names without a leading underscore: that is its documented internal interface. The scan reads the source,
so it also sees imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
BOOK_TOOLS = Path(__file__).resolve().parents[1] / "book" / "tools"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(source: str, module: str, modules: set[str]) -> list[str]:
    """Every use in ``source`` (the module ``module``) of a private name of another module of ``helpers``.

    ``modules`` holds the names of the package's modules (``"scaling"``, ``"_solver"``, ...). Reported are
    ``from helpers.m import _x``, ``from helpers import _x`` where ``_x`` is not a module, and ``m._x`` on a name
    bound to a module of the package (``from helpers import m``, ``import helpers.m as m``).
    """
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> module of helpers it is bound to
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] != "helpers":
                continue
            if len(parts) == 1:  # from helpers import x: a module of the package, or a name of __init__
                for a in node.names:
                    if a.name in modules:
                        aliases[a.asname or a.name] = a.name
                    elif _is_private(a.name):
                        found.append(f"line {node.lineno}: from helpers import {a.name}")
                continue
            source_module = parts[1]
            if source_module == module:
                continue
            for a in node.names:
                if _is_private(a.name):
                    found.append(f"line {node.lineno}: from {node.module} import {a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "helpers" and len(parts) == 2 and a.asname:
                    aliases[a.asname] = parts[1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = node.value
            if isinstance(base, ast.Name) and aliases.get(base.id, module) != module:
                found.append(f"line {node.lineno}: {base.id}.{node.attr}")
            elif (isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "helpers"
                  and base.attr in modules and base.attr != module):
                found.append(f"line {node.lineno}: helpers.{base.attr}.{node.attr}")
    return found


def _modules() -> set[str]:
    return {p.stem for p in HELPERS.glob("*.py") if p.stem != "__init__"}


@pytest.mark.parametrize("path", sorted(HELPERS.glob("*.py")), ids=lambda p: p.name)
def test_no_module_imports_another_modules_private_names(path: Path):
    uses = private_uses(path.read_text(encoding="utf-8"), path.stem, _modules())
    assert not uses, (
        f"helpers/{path.name} uses private names of other modules: {uses}. Move the shared code into a private "
        f"module (helpers/_x.py) under a name without a leading underscore, and document it there."
    )


@pytest.mark.parametrize("path", sorted(BOOK_TOOLS.glob("*.py")), ids=lambda p: p.name)
def test_the_book_tools_use_only_public_names_of_the_library(path: Path):
    # The tools moved out of helpers (book/tools) are its clients now, bound by the same rule as its modules.
    uses = private_uses(path.read_text(encoding="utf-8"), "", _modules())
    assert not uses, f"book/tools/{path.name} uses private names of helpers: {uses}."


@pytest.mark.parametrize("source, expected", [
    ("from helpers.scaling import _fit_batch, PowerLawFit", ["from helpers.scaling import _fit_batch"]),
    ("from helpers.scaling import fit_power_law as _fit", []),  # a private alias of a public name is fine
    ("from helpers._solver import polish", []),
    ("from helpers import _solver\n_solver.polish(1)", []),
    ("from helpers import _solver\n_solver._secret(1)", ["_solver._secret"]),
    ("import helpers.scaling as sc\nsc._options(1)", ["sc._options"]),
    ("import helpers\nhelpers.scaling._options(1)", ["helpers.scaling._options"]),
    ("def f():\n    from helpers.disaggregate import _tidy_points\n", ["_tidy_points"]),
    ("from helpers import __version__", []),
    ("from helpers.audit import _own", []),  # a module's own private names are its business
    ("self._cache = 1\nx = self._cache", []),
])
def test_the_scan_finds_private_uses_and_only_those(source, expected):
    found = private_uses(source, "audit", {"scaling", "_solver", "disaggregate", "audit"})
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found)), found


def book_imports(source: str) -> list[str]:
    """Every import of the book's package (``book``, ``book.tools``, ...) in ``source``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"line {node.lineno}: {n}" for n in names if n.split(".")[0] == "book"]
    return found


@pytest.mark.parametrize("path", sorted(HELPERS.glob("*.py")), ids=lambda p: p.name)
def test_the_library_never_imports_the_book_tools(path: Path):
    # The tools (book/tools) import helpers and are not in the wheel: an import the other way would break every
    # install of the library outside the repository (Binder, Colab, a course hub).
    uses = book_imports(path.read_text(encoding="utf-8"))
    assert not uses, f"helpers/{path.name} imports the book's tools: {uses}. Keep what the library needs in helpers/."


@pytest.mark.parametrize("source, expected", [
    ("import book.tools.links", ["book.tools.links"]),
    ("def f():\n    from book.tools import course\n", ["book.tools"]),
    ("from book import tools", ["book"]),
    ("import bookkeeping\nfrom helpers import plots\nfrom .book import x", []),
])
def test_the_book_import_scan_finds_those_and_only_those(source, expected):
    assert [u.split(": ")[1] for u in book_imports(source)] == expected
