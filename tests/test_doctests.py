"""Every example in the docstrings of helpers runs and prints what it says (the API's documentation is tested)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import helpers

MODULES = sorted(m.name for m in pkgutil.iter_modules(helpers.__path__, "helpers.") if m.name != "helpers.datafiles")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    if name == "helpers.lm_train":  # the precompute's trainer; the book and its tests run without torch
        pytest.importorskip("torch", reason="helpers.lm_train needs torch (pip install -r requirements-lm.txt)")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (run with -s)"
