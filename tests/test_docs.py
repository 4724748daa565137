"""helpers._docs: the ``{{name}}`` placeholders of the docstrings that share parameter descriptions."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import helpers
from helpers import pluralism
from helpers._docs import fill_doc, substitute


def test_a_multi_line_fragment_takes_the_indentation_of_its_placeholder():
    fragment = "weights : array-like\n    One weight per row.\n\n    Default: equal."
    text = "Summary.\n\n    Parameters\n    ----------\n    {{weights}}\n    seed : int\n"
    assert substitute(text, {"weights": fragment}) == (
        "Summary.\n\n    Parameters\n    ----------\n    weights : array-like\n        One weight per row.\n"
        "\n        Default: equal.\n    seed : int\n"
    )


def test_an_indented_fragment_is_dedented_before_it_is_set_in():
    fragment = """\
        Raises
        ------
        ValueError
            Bad counts."""
    assert substitute("  {{raises}}", {"raises": fragment}) == "  Raises\n  ------\n  ValueError\n      Bad counts."


def test_braces_and_percent_signs_that_are_not_placeholders_stay_as_they_are():
    text = "{x} and {'a': 1} and 50% and %(name)s and {0} and {{ x }} and {{known}}"
    assert substitute(text, {"known": "K"}) == "{x} and {'a': 1} and 50% and %(name)s and {0} and {{ x }} and K"


def test_an_unknown_placeholder_raises_when_the_decorator_runs():
    with pytest.raises(ValueError, match=r"f has the placeholder \{\{wieghts\}\}.*'weights'"):
        @fill_doc({"weights": "w"})
        def f():
            """Uses {{wieghts}}."""


def test_the_decorator_returns_the_object_and_leaves_a_missing_docstring_alone():
    def f():
        pass

    assert fill_doc({})(f) is f and f.__doc__ is None
    cls = fill_doc({"x": "filled"})(type("C", (), {"__doc__": "Class {{x}}."}))
    assert cls.__doc__ == "Class filled."


#: Every module of the library (lm_train needs torch, the lm extra).
MODULES = [importlib.import_module(f"helpers.{m.name}") for m in pkgutil.iter_modules(helpers.__path__)
           if m.name not in ("lm_train", "_docs")]  # _docs describes the placeholders themselves


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_no_placeholder_is_left_in_a_public_docstring(module):
    own = [obj for name, obj in vars(module).items()
           if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__]
    assert own
    for obj in own + [m for c in own if inspect.isclass(c) for m in vars(c).values() if inspect.isfunction(m)]:
        assert "{{" not in (obj.__doc__ or ""), f"{obj.__qualname__} still holds a placeholder"


def test_a_filled_docstring_reads_as_written_out():
    # The shared weights description of aggregate_rankings stands in pairwise_majority as one parameter entry,
    # indented like the others, so numpydoc and help() see a normal Parameters section.
    doc = inspect.getdoc(pluralism.pairwise_majority)
    assert (
        "Parameters\n----------\npreferences : pandas.DataFrame\n    As ``rankings`` in :func:`aggregate_rankings`.\n"
        "weights : array-like or pandas.Series, optional\n    One non-negative weight per voter (e.g. group size); "
        "a Series is\n    matched to the rows by index. Default: equal weights.\nhigher_is_better : bool\n"
    ) in doc
    assert "\nReturns\n-------\npandas.DataFrame\n" in doc and "\nRaises\n------\nValueError\n" in doc

