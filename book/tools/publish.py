"""Fill the ``notebooks`` branch that Binder and Colab open: reader notebooks, the library and its data.

The repository keeps chapters only as MyST text. Readers who launch a chapter need plain notebooks instead, and
an environment that installs the way Binder installs it. This command takes a finished book build and writes,
on the notebooks branch (``notebooks_branch`` of :class:`book.tools.links.BookLinks`) of a git remote:

* ``chapters/<name>.ipynb``: the reader notebooks with solutions (what Binder and Colab open);
* ``student/chapters/<name>.ipynb``: the same without solutions;
* ``helpers/``, ``data/``, ``pyproject.toml``, ``requirements.txt``, ``runtime.txt``, ``postBuild`` and the
  licences, as tracked on the source branch, so Binder's repo2docker builds the book's pinned environment and
  Colab's install cell can ``pip install`` the library with its data from the same branch;
* a ``README.md`` that says where it all came from (the source commit) and not to edit the branch by hand.

The notebooks are the ones the book build wrote into ``_build/html/notebooks`` (``book/_ext/course_links.py``),
so the branch holds exactly what the web page offers as downloads. Each run adds one commit on top of the branch
(or starts it), and pushes only if something changed.

Command line (after ``jupyter-book build .``)::

    python -m book.tools.publish --remote origin          # push to the notebooks branch of a remote
    python -m book.tools.publish --out DIR                # only write the branch's files into a new folder
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from book.tools.links import SOURCE_ROOT, book_links

#: What the branch carries from the source branch (tracked files only).
SOURCE_PATHS = ("helpers", "data", "pyproject.toml", "requirements.txt", "runtime.txt", "postBuild",
                "LICENSE", "LICENSE-text.md")
#: Where the book build writes its reader notebooks, below the HTML folder.
NOTEBOOKS = "notebooks"


@dataclass(frozen=True)
class Published:
    """What one run of :func:`publish` did.

    Attributes
    ----------
    branch : str
        The branch written.
    commit : str or None
        The new commit, or None if the branch already held exactly this content.
    source_commit : str
        The source commit the branch's files come from.
    files : list of str
        Files on the branch, relative to its root.
    """

    branch: str
    commit: str | None
    source_commit: str
    files: list[str]


def _git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    # A fixed identity, so CI runners without a git config can commit; the push credentials are the caller's.
    env = {**os.environ, "GIT_AUTHOR_NAME": os.environ.get("GIT_AUTHOR_NAME", "book.tools.publish"),
           "GIT_AUTHOR_EMAIL": os.environ.get("GIT_AUTHOR_EMAIL", "publish@localhost"),
           "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", "book.tools.publish"),
           "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", "publish@localhost")}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}:\n{done.stderr.strip()}")
    return done


def _readme(source_commit: str, root: Path) -> str:
    links = book_links(root)
    return f"""# Reader notebooks of "Scaling laws do not scale"

This branch is generated: do not edit it by hand. `python -m book.tools.publish` writes it from commit
`{source_commit}` of the `{links.branch}` branch of {links.clone_url}, after a full book build.

- `chapters/*.ipynb`: every chapter as a plain notebook (numbers filled in, citations and cross-references as
  links, an empty answer cell after each exercise, solutions included). Binder and Colab open these.
- `student/chapters/*.ipynb`: the same notebooks without the solutions.
- `helpers/`, `data/`, `pyproject.toml`, `requirements.txt`: the book's library, its data and its pinned
  environment, so that Binder builds the same environment as the book and Colab can install the library with
  `pip install "{links.pip_source()}"`.

The book itself: {links.site_url}
"""


def branch_files(html_dir: str | Path, out_dir: str | Path, *, root: str | Path | None = None,
                 overwrite: bool = False) -> list[str]:
    """Write the notebooks branch's files into ``out_dir`` and return their paths relative to it.

    Parameters
    ----------
    html_dir : str or Path
        The built book (``_build/html``), holding ``notebooks/full`` and ``notebooks/student``.
    out_dir : str or Path
        A new or empty folder.
    root : str or Path, optional
        The source repository (a git checkout); default the one these tools belong to.
    overwrite : bool, default False
        Allow a non-empty ``out_dir`` (its files are replaced).

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        If the build has no reader notebooks, ``out_dir`` is not empty (without ``overwrite``) or lies inside
        the source repository, or ``root`` is not a git checkout.
    """
    root = Path(root) if root is not None else SOURCE_ROOT
    html_dir, out_dir = Path(html_dir), Path(out_dir)
    full, student = html_dir / NOTEBOOKS / "full" / "chapters", html_dir / NOTEBOOKS / "student" / "chapters"
    if not sorted(full.glob("*.ipynb")) or not sorted(student.glob("*.ipynb")):
        raise ValueError(f"No reader notebooks under {html_dir / NOTEBOOKS}; build the book first "
                         "(jupyter-book build .), then publish.")
    if out_dir.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"out_dir {out_dir} is inside the source repository; choose a folder outside it.")
    if out_dir.exists() and any(p.name != ".git" for p in out_dir.iterdir()) and not overwrite:
        raise ValueError(f"out_dir {out_dir} is not empty; pass overwrite=True (--overwrite) to replace its files.")
    tracked = _git("ls-files", "-z", "--", *SOURCE_PATHS, cwd=root).stdout.split("\0")
    tracked = [t for t in tracked if t]
    if not tracked:
        raise ValueError(f"{root} is not a git checkout of the book (no tracked {SOURCE_PATHS[0]}/).")
    source_commit = _git("rev-parse", "HEAD", cwd=root).stdout.strip()
    if out_dir.exists():
        for p in out_dir.iterdir():
            if p.name != ".git":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rel in tracked:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
        written.append(rel)
    for folder, prefix in ((full, "chapters"), (student, "student/chapters")):
        for nb in sorted(folder.glob("*.ipynb")):
            (out_dir / prefix).mkdir(parents=True, exist_ok=True)
            shutil.copy2(nb, out_dir / prefix / nb.name)
            written.append(f"{prefix}/{nb.name}")
    (out_dir / "README.md").write_text(_readme(source_commit, root), encoding="utf-8")
    written.append("README.md")
    return sorted(written)


def publish(remote: str, *, html_dir: str | Path | None = None, root: str | Path | None = None,
            branch: str | None = None, push: bool = True) -> Published:
    """Commit the notebooks branch's files on top of ``branch`` of ``remote`` and push them.

    Parameters
    ----------
    remote : str
        A git remote: a name configured in ``root`` (``"origin"``), a URL or a path (a bare repository).
    html_dir : str or Path, optional
        The built book; default ``_build/html`` of ``root``.
    root : str or Path, optional
        The source repository; default the one these tools belong to.
    branch : str, optional
        Default the configured notebooks branch (:func:`book.tools.links.book_links`).
    push : bool, default True
        Push the new commit (False: commit in a temporary clone only, for a dry run).

    Returns
    -------
    Published
    """
    root = Path(root) if root is not None else SOURCE_ROOT
    html_dir = Path(html_dir) if html_dir is not None else root / "_build" / "html"
    branch = branch or book_links(root).notebooks_branch
    url = _git("remote", "get-url", remote, cwd=root, check=False)
    url = url.stdout.strip() if url.returncode == 0 else str(remote)
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        work = Path(tmp) / "branch"
        _git("init", "-q", str(work), cwd=Path(tmp))
        _git("remote", "add", "origin", url, cwd=work)
        exists = _git("ls-remote", "--exit-code", "--heads", "origin", branch, cwd=work, check=False).returncode == 0
        if exists:
            _git("fetch", "-q", "--depth", "1", "origin", branch, cwd=work)
            _git("checkout", "-q", "-B", branch, "FETCH_HEAD", cwd=work)
        else:
            _git("checkout", "-q", "--orphan", branch, cwd=work)
        files = branch_files(html_dir, work, root=root, overwrite=True)
        source_commit = _git("rev-parse", "HEAD", cwd=root).stdout.strip()
        _git("add", "-A", cwd=work)
        if exists and _git("diff", "--cached", "--quiet", cwd=work, check=False).returncode == 0:
            return Published(branch, None, source_commit, files)
        _git("commit", "-q", "-m", f"Reader notebooks and library from {source_commit[:12]}", cwd=work)
        commit = _git("rev-parse", "HEAD", cwd=work).stdout.strip()
        if push:
            _git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
        return Published(branch, commit, source_commit, files)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m book.tools.publish``)."""
    parser = argparse.ArgumentParser(prog="python -m book.tools.publish", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--remote", help="git remote name, URL or path to push the notebooks branch to")
    where.add_argument("--out", type=Path, help="only write the branch's files into this new folder")
    parser.add_argument("--html", type=Path, default=None, help="built book (default _build/html)")
    parser.add_argument("--branch", default=None, help="branch to write (default: notebooks_branch of _config.yml)")
    parser.add_argument("--overwrite", action="store_true", help="with --out: replace the files of a non-empty folder")
    args = parser.parse_args(argv)
    html = args.html or SOURCE_ROOT / "_build" / "html"
    try:
        if args.out:
            files = branch_files(html, args.out, overwrite=args.overwrite)
            print(f"wrote {len(files)} files to {args.out}")
        else:
            done = publish(args.remote, html_dir=html, branch=args.branch)
            print(f"{done.branch}: {'commit ' + done.commit[:12] if done.commit else 'unchanged'} "
                  f"({len(done.files)} files, from {done.source_commit[:12]})")
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
