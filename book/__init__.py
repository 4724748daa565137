"""The book's own Python code, beside its text: the tools that build, hand out and publish it (``book.tools``).

A regular package (not a namespace package), so that ``book`` always means this folder: a namespace package would
merge any other ``book/`` folder on ``sys.path`` into it. It is importable from the repository root only (the
current folder of ``python -m``, pytest's ``pythonpath``, or the root that the Sphinx extensions and
``book/assignments/build.py`` put on ``sys.path``); the installed library, ``helpers``, never imports it.
"""
