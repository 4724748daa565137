"""The ``glue`` of reader notebooks: records values, displays nothing, needs nothing but Python.

Chapters call ``myst_nb.glue`` so that the book's text can quote computed numbers. Reader notebooks (written by
the book's tools, ``book.tools.notebook``, which are not part of this library) already show those numbers in their
text, filled in from the book build, and must run where myst-nb and Sphinx are not installed (Colab), so their
``from myst_nb import glue`` becomes ``from helpers.glue import glue``. This module imports nothing heavy on purpose: the Colab install cell installs
what a notebook imports, and this import must add nothing to it.
"""

from __future__ import annotations

from typing import Any

#: Values recorded by :func:`glue` while a reader notebook runs (name -> value).
glued: dict[str, Any] = {}


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Record a value the way ``myst_nb.glue`` does, without myst-nb or Sphinx installed.

    Reader notebooks import this instead of ``myst_nb.glue``: the chapter's text already
    shows the values from the book build, so here the value is only kept in :data:`glued`.

    Parameters
    ----------
    name : str
        The glue key, as in the chapter.
    variable : object
        The value.
    display : bool, default True
        Accepted for compatibility with ``myst_nb.glue``; nothing is displayed either way.

    Raises
    ------
    ValueError
        If ``name`` is not a non-empty string.

    Examples
    --------
    >>> from helpers.glue import glue, glued
    >>> glue("demo_exponent", 0.35, display=False)
    >>> glued["demo_exponent"]
    0.35
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string (the glue key), got {name!r}.")
    glued[name] = variable
