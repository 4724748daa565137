"""Docstring fragments: a parameter described once, set into every docstring that takes it.

Private to the package. Internal interface:

``fill_doc(fragments)``
    A decorator for a function or class: it replaces each placeholder ``{{name}}`` in the ``__doc__`` by
    ``fragments[name]`` and returns the object itself. Use it as ``@fill_doc(FRAGMENTS)``.
``substitute(text, fragments, *, where="a docstring")``
    The same replacement on a string; ``where`` names the docstring in the error message.

This is what pandas (``pandas.util._decorators.doc`` with ``_shared_docs``) and scipy (``scipy._lib.doccer``)
do for their shared parameter descriptions, cut down to the one thing needed here. Placeholders are
``{{name}}`` and nothing else is read: docstrings hold ``{...}`` (dict examples) and ``%`` (percentages), which
``str.format`` or ``%`` formatting would take as fields. A fragment of several lines takes the indentation of
the line its placeholder stands on, so the finished ``__doc__`` is an ordinary NumPy-style docstring: ``help()``,
Sphinx autodoc and doctest read it as if it were written out in full. An unknown name raises a ``ValueError``
when the decorator runs, i.e. when the module is imported, so a misspelt placeholder cannot reach a reader.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")

#: Fragments for parameters that mean the same in several modules: the deprecated aliases of this release's renames
#: (see the conventions on the API page). Modules merge them into their own: ``fill_doc({**SHARED, ...})``.
SHARED = {
    "size_deprecated_n": """\
        size : int, optional
            Deprecated old name of ``n`` (``size`` names a column of sizes elsewhere in the library), accepted
            with a ``FutureWarning`` until the next release.""",
    "size_deprecated_model": """\
        size : str, optional
            Deprecated old name of ``model_size`` (``size`` names a column of sizes elsewhere in the library),
            accepted with a ``FutureWarning`` until the next release.""",
}


def substitute(text: str, fragments: Mapping[str, str], *, where: str = "a docstring") -> str:
    """``text`` with every ``{{name}}`` replaced by ``fragments[name]``, indented like the placeholder's line."""
    out = []
    for line in text.splitlines(keepends=True):
        indent = line[: len(line) - len(line.lstrip(" \t"))]

        def fragment(match: re.Match[str], indent: str = indent) -> str:
            name = match.group(1)
            if name not in fragments:
                raise ValueError(
                    f"{where} has the placeholder {{{{{name}}}}}, but there is no fragment {name!r}; "
                    f"known fragments: {sorted(fragments)}."
                )
            lines = textwrap.dedent(fragments[name]).strip("\n").split("\n")
            # Continuation lines get the placeholder line's indentation; empty lines stay empty.
            return "\n".join([lines[0], *(indent + rest if rest.strip() else "" for rest in lines[1:])])

        out.append(_PLACEHOLDER.sub(fragment, line))
    return "".join(out)


def fill_doc(fragments: Mapping[str, str]) -> Callable[[T], T]:
    """A decorator that fills the ``{{name}}`` placeholders of the decorated object's docstring."""

    def decorate(obj: T) -> T:
        if obj.__doc__ is not None:  # None under python -OO, which strips docstrings
            obj.__doc__ = substitute(obj.__doc__, fragments, where=getattr(obj, "__qualname__", repr(obj)))
        return obj

    return decorate
