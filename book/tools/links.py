"""Every link the book hands out, derived from the one repository URL in ``_config.yml``.

A course that forks the book changes one line, ``repository.url`` in ``_config.yml``, and every generated link
follows: the Binder and Colab buttons, the Colab install cell of every notebook, the notebooks branch that
publishing fills, the published site's address and the clone command of the instructor guide. Nothing else in the
repository types the URL (``tests/test_links.py`` checks both halves of that promise).

Examples
--------
>>> from book.tools.links import BookLinks
>>> links = BookLinks(repository_url="https://github.com/me/my-course")
>>> links.site_url
'https://me.github.io/my-course'
>>> links.colab_url("chapters/01-scaling-laws.ipynb")
'https://colab.research.google.com/github/me/my-course/blob/notebooks/chapters/01-scaling-laws.ipynb'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: The repository root (``book/tools/`` is two folders below it): the tools work on its chapters and configuration.
#:
#: :meta hide-value:
SOURCE_ROOT = Path(__file__).resolve().parents[2]
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class BookLinks:
    """The book's public addresses, all derived from its GitHub repository.

    Parameters
    ----------
    repository_url : str
        ``https://github.com/OWNER/REPO``.
    branch : str, default "main"
        Branch the book's sources live on.
    notebooks_branch : str, default "notebooks"
        Generated branch with the reader notebooks, the library and its data (filled by
        ``python -m book.tools.publish``); Binder and Colab open notebooks from it.
    binderhub_url : str, default "https://mybinder.org"
    colab_url_base : str, default "https://colab.research.google.com"

    Raises
    ------
    ValueError
        If ``repository_url`` is not a GitHub repository URL.
    """

    repository_url: str
    branch: str = "main"
    notebooks_branch: str = "notebooks"
    binderhub_url: str = "https://mybinder.org"
    colab_url_base: str = "https://colab.research.google.com"

    def __post_init__(self) -> None:
        if not isinstance(self.repository_url, str) or not _GITHUB.match(self.repository_url):
            raise ValueError(
                f"repository_url must look like https://github.com/OWNER/REPO; got {self.repository_url!r}. "
                "Set repository.url in _config.yml to your fork's address."
            )
        for name in ("branch", "notebooks_branch"):
            value = getattr(self, name)
            if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9._/-]+", value):
                raise ValueError(f"{name} must be a git branch name; got {value!r}.")

    @property
    def owner_repo(self) -> str:
        """``OWNER/REPO``."""
        m = _GITHUB.match(self.repository_url)
        return f"{m['owner']}/{m['repo']}"

    @property
    def clone_url(self) -> str:
        """The repository URL without a trailing slash, for ``git clone``."""
        return f"https://github.com/{self.owner_repo}"

    @property
    def site_url(self) -> str:
        """Where GitHub Pages serves the book: ``https://OWNER.github.io/REPO`` (a repository named
        ``OWNER.github.io`` is served at ``https://OWNER.github.io``; the host is lower-case)."""
        owner, repo = self.owner_repo.split("/")
        owner = owner.lower()
        if repo.lower() == f"{owner}.github.io":
            return f"https://{owner}.github.io"
        return f"https://{owner}.github.io/{repo}"

    def page_url(self, docname: str, anchor: str = "") -> str:
        """URL of a page of the published book (``docname`` without suffix, e.g. ``"book/glossary"``)."""
        return f"{self.site_url}/{docname}.html" + (f"#{anchor}" if anchor else "")

    def colab_url(self, path: str) -> str:
        """Colab link that opens ``path`` (a ``.ipynb`` on the notebooks branch)."""
        if not path.endswith(".ipynb"):
            raise ValueError(f"path must be a .ipynb file (Colab cannot open {path!r}); pass the notebook's path.")
        return f"{self.colab_url_base}/github/{self.owner_repo}/blob/{self.notebooks_branch}/{path}"

    def binder_url(self, path: str = "") -> str:
        """Binder link that builds the notebooks branch and opens ``path`` in JupyterLab (its folder if empty)."""
        target = f"lab/tree/{path}" if path else "lab"
        return f"{self.binderhub_url}/v2/gh/{self.owner_repo}/{self.notebooks_branch}?urlpath={target}"

    def pip_source(self) -> str:
        """pip requirement that installs the library, with its data, from the notebooks branch."""
        return f"helpers @ git+{self.clone_url}@{self.notebooks_branch}"


def book_links(root: str | Path | None = None) -> BookLinks:
    """Read the book's links from ``_config.yml``.

    Parameters
    ----------
    root : str or Path, optional
        Folder holding ``_config.yml``; default the repository these tools belong to.

    Returns
    -------
    BookLinks

    Raises
    ------
    ValueError
        If there is no ``_config.yml`` in ``root`` or it has no ``repository.url``.

    Examples
    --------
    >>> from book.tools.links import book_links
    >>> book_links().notebooks_branch
    'notebooks'
    """
    import yaml  # only here: a BookLinks made from a URL (the doctests, a fork's check) needs no YAML parser

    config_path = Path(root if root is not None else SOURCE_ROOT) / "_config.yml"
    if not config_path.is_file():
        raise ValueError(f"No _config.yml at {config_path}; pass root= the book's repository folder.")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    repo = config.get("repository") or {}
    if not repo.get("url"):
        raise ValueError(f"{config_path} has no repository.url; set it to https://github.com/OWNER/REPO.")
    launch = config.get("launch_buttons") or {}
    sphinx_config = (config.get("sphinx") or {}).get("config") or {}
    return BookLinks(
        repository_url=repo["url"],
        branch=repo.get("branch", "main"),
        notebooks_branch=sphinx_config.get("notebooks_branch", "notebooks"),
        binderhub_url=launch.get("binderhub_url", "https://mybinder.org").rstrip("/"),
        colab_url_base=launch.get("colab_url", "https://colab.research.google.com").rstrip("/"),
    )
