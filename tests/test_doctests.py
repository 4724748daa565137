"""Every example in the docstrings of helpers and of the book's tools (book.tools) runs and prints what it says (the
API's documentation is tested)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import book.tools
import helpers

MODULES = sorted(m.name for m in pkgutil.iter_modules(helpers.__path__, "helpers.") if m.name != "helpers.datafiles")
MODULES += sorted(m.name for m in pkgutil.iter_modules(book.tools.__path__, "book.tools."))


def test_the_book_tools_are_collected():
    # iter_modules finds nothing in a folder it cannot see: a wrong path would skip these doctests silently.
    assert {"book.tools.course", "book.tools.notebook", "book.tools.links", "book.tools.publish"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    if name == "helpers.lm_train":  # the precompute's trainer; the book and its tests run without torch
        pytest.importorskip("torch", reason="helpers.lm_train needs torch (pip install -r requirements-lm.txt)")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (run with -s)"
