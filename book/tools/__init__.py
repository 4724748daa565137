"""Book and course tooling: reader notebooks, Colab cells, links and the notebooks branch.

These modules work on the repository (its chapters, ``_config.yml``, ``requirements.txt`` and a book build), not
on a reader's results, so they are not part of the ``helpers`` wheel; they need the book's environment
(``requirements.txt``, or the ``book`` extra). They import ``helpers``; ``helpers`` never imports them.

* :mod:`book.tools.notebook`: chapters as plain reader notebooks.
* :mod:`book.tools.course`: the notebooks students open, and their Colab install cell.
* :mod:`book.tools.links`: every link the book hands out, from one repository URL.
* :mod:`book.tools.publish`: the generated notebooks branch that Binder and Colab open.
"""
