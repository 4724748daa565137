"""The book's registered data files, shipped inside the library as the package ``helpers.datafiles``.

This folder is mapped to ``helpers.datafiles`` in ``pyproject.toml`` (``package-dir``), so the files reach the
code through the installed package in every kind of install: editable (``pip install -e .``), a plain
``pip install .`` (what Binder's repo2docker runs), a wheel or an sdist. :mod:`helpers.data` finds them with
:func:`importlib.resources.files`, never through a path relative to the source tree.
"""
