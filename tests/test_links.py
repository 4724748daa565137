"""One place for the repository URL: `repository.url` in _config.yml, and every generated link follows it."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml

from conftest import ROOT
from book.tools import course, publish
from book.tools.links import BookLinks, book_links

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import course_links  # noqa: E402  (the book's Sphinx extension)

CONFIG = (ROOT / "_config.yml").read_text(encoding="utf-8")
URL = yaml.safe_load(CONFIG)["repository"]["url"]
OWNER_REPO = URL.removeprefix("https://github.com/").rstrip("/")


def _fork(tmp_path, url="https://github.com/A-Course/Fork-Of-Book"):
    """A copy of the book's config with only the repository URL line changed, as a fork would."""
    lines = [f"  url: {url}" if line.strip().startswith("url:") and URL in line else line
             for line in CONFIG.splitlines()]
    assert sum(URL in line for line in CONFIG.splitlines()) == 1, "the URL must be written exactly once"
    (tmp_path / "_config.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_the_repository_url_is_written_only_in_the_config():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    holders = []
    for rel in tracked:
        path = ROOT / rel
        if path.suffix in {".png", ".zip", ".gz"} or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if OWNER_REPO in text:
            holders.append(rel)
    assert holders == ["_config.yml"]


def test_changing_the_one_line_moves_every_generated_link(tmp_path):
    fork = book_links(_fork(tmp_path))
    assert fork.owner_repo == "A-Course/Fork-Of-Book"
    generated = {
        "site": fork.site_url,
        "colab": fork.colab_url("chapters/01-scaling-laws.ipynb"),
        "binder": fork.binder_url("chapters/01-scaling-laws.ipynb"),
        "pip": fork.pip_source(),
        "clone": fork.clone_url,
        "colab cell": course.colab_cell(["import numpy"], links=fork).source,
        "branch readme": publish._readme("0" * 40, tmp_path),
    }
    for name, text in generated.items():
        assert OWNER_REPO not in text, name
        assert "A-Course/Fork-Of-Book" in text or "a-course.github.io/Fork-Of-Book" in text, (name, text)
    assert generated["site"] == "https://a-course.github.io/Fork-Of-Book"

    # The book's launch buttons, as the Sphinx extension rewrites them for a chapter page and for another page.
    app = SimpleNamespace(srcdir=str(tmp_path))
    for pagename, chapter in (("chapters/01-scaling-laws", True), ("book/intro", False)):
        context = {"pathto": lambda target, _: target, "header_buttons": [
            {"label": "launch-buttons", "buttons": [{"text": "Binder", "url": "theme"},
                                                    {"text": "Colab", "url": "theme"}]},
            {"label": "download-buttons", "buttons": [{"text": ".md"}, {"text": ".ipynb"}, {"text": ".pdf"}]},
        ]}
        course_links._rewrite_buttons(app, pagename, "page.html", context, None)
        launch = {b["text"]: b["url"] for b in context["header_buttons"][0]["buttons"]}
        downloads = [b["text"] for b in context["header_buttons"][1]["buttons"]]
        assert launch["Binder"].startswith("https://mybinder.org/v2/gh/A-Course/Fork-Of-Book/notebooks?urlpath=lab")
        if chapter:
            assert launch["Colab"] == fork.colab_url(f"{pagename}.ipynb")
            assert launch["Binder"].endswith("lab/tree/chapters/01-scaling-laws.ipynb")
            assert downloads == [".md", ".ipynb", "student .ipynb", ".pdf"]
            assert context["header_buttons"][1]["buttons"][1]["url"] == f"notebooks/full/{pagename}.ipynb"
        else:
            assert "Colab" not in launch  # Colab cannot open a page that is not a chapter notebook
            assert downloads == [".md", ".ipynb", ".pdf"]


@pytest.mark.parametrize("bad", ["", "https://gitlab.com/a/b", "github.com/a/b", "https://github.com/a", 3])
def test_book_links_reject_a_url_that_is_not_a_github_repository(bad):
    with pytest.raises(ValueError, match="repository_url"):
        BookLinks(repository_url=bad)


def test_book_links_need_a_config(tmp_path):
    with pytest.raises(ValueError, match="_config.yml"):
        book_links(tmp_path)
    (tmp_path / "_config.yml").write_text("title: x\n")
    with pytest.raises(ValueError, match="repository.url"):
        book_links(tmp_path)


def test_colab_urls_must_be_notebooks():
    with pytest.raises(ValueError, match=r"\.ipynb"):
        book_links().colab_url("chapters/01-scaling-laws.md")
