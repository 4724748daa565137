"""book.tools.publish fills the notebooks branch of a git remote: tested against a local bare repository."""

from __future__ import annotations

import subprocess

import nbformat
import pytest

from conftest import HTML, ROOT
from book.tools import publish


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def _fake_build(tmp_path, text="Hello"):
    html = tmp_path / "html"
    for kind in ("full", "student"):
        folder = html / "notebooks" / kind / "chapters"
        folder.mkdir(parents=True, exist_ok=True)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"{text} ({kind})")])
        nbformat.write(nb, folder / "01-x.ipynb")
    return html


@pytest.fixture
def bare(tmp_path):
    remote = tmp_path / "remote.git"
    _git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    return remote


def test_publish_creates_the_branch_then_adds_commits_only_for_changes(tmp_path, bare):
    html = _fake_build(tmp_path)
    first = publish.publish(str(bare), html_dir=html, root=ROOT, branch="notebooks")
    assert first.commit and first.source_commit == _git("rev-parse", "HEAD", cwd=ROOT)
    clone = tmp_path / "clone"
    _git("clone", "-q", "--branch", "notebooks", str(bare), str(clone), cwd=tmp_path)
    assert _git("rev-parse", "HEAD", cwd=clone) == first.commit
    for rel in ("chapters/01-x.ipynb", "student/chapters/01-x.ipynb", "helpers/data.py", "data/published_fits.csv",
                "data/__init__.py", "pyproject.toml", "requirements.txt", "postBuild", "runtime.txt", "README.md",
                "helpers/glue.py"):  # the reader notebooks import helpers.glue
        assert (clone / rel).is_file(), rel
    # Binder and Colab need the library, not the tools that wrote the branch (postBuild only configures JupyterLab).
    assert not (clone / "book").exists() and not (clone / "helpers" / "notebook.py").exists()
    assert "(student)" in (clone / "student/chapters/01-x.ipynb").read_text()
    assert first.source_commit in (clone / "README.md").read_text()
    assert (clone / "data/published_fits.csv").read_bytes() == (ROOT / "data/published_fits.csv").read_bytes()
    assert not (clone / "tests").exists() and not (clone / "chapters" / "01-scaling-laws.md").exists()

    again = publish.publish(str(bare), html_dir=html, root=ROOT, branch="notebooks")
    assert again.commit is None  # nothing changed, nothing pushed

    changed = publish.publish(str(bare), html_dir=_fake_build(tmp_path, "Changed"), root=ROOT, branch="notebooks")
    assert changed.commit and changed.commit != first.commit
    _git("fetch", "-q", "origin", cwd=clone)
    assert _git("rev-parse", "origin/notebooks~1", cwd=clone) == first.commit  # on top, history kept
    assert _git("log", "-1", "--format=%s", "origin/notebooks", cwd=clone).endswith(first.source_commit[:12])


def test_branch_files_never_replace_a_folder_or_write_into_the_sources(tmp_path):
    html = _fake_build(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not empty"):
        publish.branch_files(html, out, root=ROOT)
    assert (out / "mine.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="inside the source repository"):
        publish.branch_files(html, ROOT / "_build" / "branch", root=ROOT)
    with pytest.raises(ValueError, match="build the book first"):
        publish.branch_files(tmp_path / "nothing", tmp_path / "new", root=ROOT)


@pytest.mark.build
def test_publishing_the_built_book_puts_every_chapter_on_the_branch(tmp_path, bare, built_html):
    done = publish.publish(str(bare), html_dir=HTML, root=ROOT)
    clone = tmp_path / "clone"
    _git("clone", "-q", "--branch", done.branch, str(bare), str(clone), cwd=tmp_path)
    chapters = sorted(p.stem for p in (ROOT / "chapters").glob("*.md"))
    for prefix in ("chapters", "student/chapters"):
        assert sorted(p.stem for p in (clone / prefix).glob("*.ipynb")) == chapters
    assert not list((clone / "chapters").rglob("*.md")) and (clone / "README.md").exists()


def test_the_workflow_builds_deploys_and_publishes_on_every_push_to_main():
    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text())
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"]
    steps = [s.get("run", "") or s.get("uses", "") for job in flow["jobs"].values() for s in job.get("steps", [])]
    readme = (ROOT / "README.md").read_text()
    build = "jupyter-book build . -W -n --keep-going"
    assert build in readme and build in steps  # the same build command as the README's
    assert "pip install -r requirements.txt" in steps
    publish_step = next(s for s in steps if s.startswith("python -m book.tools.publish --remote"))
    assert steps.index(build) < steps.index(publish_step) and "GITHUB_TOKEN" in publish_step
    assert any(s.startswith("actions/deploy-pages@") for s in steps)
    assert flow["permissions"]["contents"] == "write" and flow["permissions"]["pages"] == "write"
