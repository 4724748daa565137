"""Reproduce what Binder (repo2docker) does with a checkout, then use it the way a reader does.

Usage::

    python tests/binder/run.py CHECKOUT_DIR [--notebook chapters/01-scaling-laws.ipynb] [--screenshot PNG]
    python tests/binder/run.py --make-stand-in OUT_DIR      # a stand-in checkout of the notebooks branch

``CHECKOUT_DIR`` is a checkout of what Binder opens: the ``notebooks`` branch (``book.tools.publish``), with
``requirements.txt``, ``pyproject.toml``, ``postBuild``, ``helpers/``, ``data/`` and ``chapters/*.ipynb``.

The steps, in repo2docker's order (its Python buildpack, ``repo2docker/buildpacks/python/__init__.py``: the
``requirements.txt`` of a repository with a local requirement such as ``-e .`` is installed in the assemble
stage, then ``pip install .`` because ``pyproject.toml`` declares ``[project]`` and ``[build-system]``, and last
the executable ``postBuild``, as the notebook user, from the repository folder):

1. a fresh virtual environment in a temporary folder; from inside the checkout ``pip install -r
   requirements.txt``, then ``pip install .`` (non-editable: it replaces the editable install of ``-e .``), then
   ``./postBuild`` with a fresh temporary ``HOME``, which the kernels and JupyterLab then use too. (repo2docker
   passes ``--no-cache-dir``; here pip keeps the caller's configuration and cache, and passes ``--no-compile``,
   which skips writing bytecode for every installed file: both change how long the install takes, not what gets
   installed.)
2. a probe in that environment, from ``chapters/`` (a Binder kernel's working directory): it imports every module
   that any reader notebook imports and every module of ``helpers``, and loads every data file and result cache
   the library ships, through its public loaders; it fails on any error, and if ``helpers`` is imported from the
   checkout instead of the environment's site-packages. (The chapters are executed once, in the book build; see
   ``_PROBE`` for why a probe is enough here.)
3. that environment's ``jupyter lab`` on 127.0.0.1 with a token, the fresh ``HOME``, no browser; headless
   Chromium, with every request that is not to 127.0.0.1 aborted, opens the notebook, checks that it opens as a
   notebook (not in the text editor), runs all cells from the Run menu, waits for the kernel to be idle, saves,
   and checks: no error output, no raw MyST in the rendered Markdown (``{glue``, ``{cite``, ``{term}``, ...),
   a chart drawn (an SVG with marks, or a canvas, inside a vega-embed container), and no request that tried to
   leave the machine. A screenshot is written.

``--allow-raw-myst`` reports raw MyST instead of failing on it; it exists only for developing against a stand-in
checkout (``--make-stand-in``: the chapters converted with ``jupytext``, which keeps their MyST), never for
checking the real notebooks branch. Timings of every step are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Raw MyST that must never reach a reader's notebook.
RAW_MYST = ("{glue", "{cite", "{term}", "{ref}", "{doc}", ":::", "{admonition}", "{exercise", "{solution")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Variables of the calling environment that would let the checkout or another Jupyter setup leak in.
#: PYTHONDONTWRITEBYTECODE too: a Binder image's Python writes and reuses bytecode (pip compiles what it installs
#: there), and with the variable set, as on this project's CI machines, with ``--no-compile`` below every process
#: compiled every module it imported from source again: the probe, JupyterLab and the kernel each paid for it.
LEAKY_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_PATH",
             "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_PATH", "IPYTHONDIR", "SCALING_BOOK_BUILD", "PYTHONDONTWRITEBYTECODE")


class BinderCheckFailed(AssertionError):
    """A step of the Binder reproduction failed."""


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished child processes and the children they waited for:
    pip, the kernels (reaped by the executing process), JupyterLab and Chromium once stopped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Timer:
    """Named wall-clock timings, printed as they happen, and the CPU time the steps' processes used (printed with
    the total, to tell a slow step from a busy machine)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.cpu_start = _children_cpu()
        self.steps: dict[str, float] = {}

    def step(self, name: str, t0: float) -> None:
        self.steps[name] = time.monotonic() - t0
        print(f"[binder] {name}: {self.steps[name]:.1f} s", flush=True)

    def total(self) -> float:
        return time.monotonic() - self.start

    def cpu(self) -> float:
        return _children_cpu() - self.cpu_start


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], what: str, timeout: float = 600) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise BinderCheckFailed(f"{what} failed ({done.returncode}): {' '.join(cmd)}\n"
                                f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return done.stdout


def install_env(venv: Path) -> dict[str, str]:
    """The environment pip runs in: the venv first on PATH, the caller's pip setup (indexes, cache) kept."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", PIP_NO_INPUT="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    return env


def reader_env(venv: Path, home: Path) -> dict[str, str]:
    """The environment of a Binder user (postBuild, kernels, JupyterLab): also a fresh HOME, so no Jupyter
    settings, kernels or user site-packages of the caller's can leak in."""
    return {**install_env(venv), "HOME": str(home)}


# --------------------------------------------------------------------------- 1. install, as repo2docker does


def runtime_python(checkout: Path) -> str:
    """The Python that ``runtime.txt`` asks for (``python-3.11``: ``python3.11`` on PATH), as Binder would use."""
    runtime = checkout / "runtime.txt"
    text = runtime.read_text().strip() if runtime.exists() else ""
    match = re.fullmatch(r"python-(\d+\.\d+)(\.\d+)?", text)
    if not match:
        return sys.executable
    found = shutil.which(f"python{match.group(1)}")
    if not found:
        raise BinderCheckFailed(f"runtime.txt asks for Python {match.group(1)}, and python{match.group(1)} "
                                "is not on PATH")
    return found


def install(checkout: Path, work: Path, timer: Timer) -> tuple[Path, dict[str, str]]:
    venv, home = work / "venv", work / "home"
    home.mkdir()
    env = install_env(venv)
    t0 = time.monotonic()
    _run([runtime_python(checkout), "-m", "venv", str(venv)], cwd=work, env=env,
         what="creating the virtual environment")
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    _run([*pip, "install", "-q", "--upgrade", "pip"], cwd=checkout, env=env, what="upgrading pip")
    timer.step("venv", t0)
    t0 = time.monotonic()
    _run([*pip, "install", "-q", "--no-compile", "-r", "requirements.txt"], cwd=checkout, env=env,
         what="pip install -r requirements.txt")
    timer.step("pip install -r requirements.txt", t0)
    t0 = time.monotonic()
    _run([*pip, "install", "-q", "--no-compile", "."], cwd=checkout, env=env, what="pip install .")
    timer.step("pip install .", t0)
    env = reader_env(venv, home)
    post_build = checkout / "postBuild"
    if post_build.exists():
        if not os.access(post_build, os.X_OK):
            raise BinderCheckFailed("postBuild is not executable; repo2docker runs it as ./postBuild")
        t0 = time.monotonic()
        _run(["./postBuild"], cwd=checkout, env=env, what="postBuild")
        timer.step("postBuild", t0)
    return venv, env


# --------------------------------------------------------------------------- 2. probe the environment


# Why a probe and not an execution of every reader notebook: the book build has executed every chapter once (CI runs
# each chapter once), with the editable install and the repository at hand. What only this environment can get
# wrong is what `pip install -r requirements.txt` and `pip install .` put in site-packages: a module a notebook
# imports that the requirements lack, a data file missing from the package data, a module of the library that
# does not import from the wheel. The probe asks exactly that, of everything the notebooks can reach: every module
# any reader notebook imports (read from the notebooks' code), every module of `helpers`, and every data file and
# result cache the library ships, loaded through its public loaders with their checksums. What it cannot see, a
# path into the repository written in a chapter, is refused in the chapters' text by the default tests
# (tests/test_chapters.py), and the wheel's declared dependencies cover the library's lazy imports
# (tests/test_install.py). Chapter 01 is then executed in full, in JupyterLab, as a reader runs it.
_PROBE = textwrap.dedent('''
    import importlib, json, pkgutil, sys

    out = {"python": sys.executable, "files": {}, "failed": {}, "loaded": {}}

    def attempt(what, call):
        try:
            return call()
        except Exception as e:  # every failure is reported, not only the first
            out["failed"][what] = f"{type(e).__name__}: {e}"

    for name in json.loads(sys.argv[1]):
        mod = attempt(f"import {name}", lambda: importlib.import_module(name))
        if mod is not None:
            out["files"][name] = getattr(mod, "__file__", None)
    import helpers
    for info in pkgutil.iter_modules(helpers.__path__):
        if info.name != "lm_train":  # needs torch, which only the language-model precompute installs
            mod = attempt(f"import helpers.{info.name}", lambda: importlib.import_module(f"helpers.{info.name}"))
            if mod is not None:
                out["files"][f"helpers.{info.name}"] = mod.__file__
    from helpers import data, experiments, lm
    loaders = {f"data.load({n!r})": (lambda n=n: data.load(n)) for n in data.list_datasets()["name"]}
    loaders.update({f"experiments.load_results({n!r})": (lambda n=n: experiments.load_results(n))
                    for n in experiments.EXPERIMENTS})
    loaders.update({"lm.load_runs()": lm.load_runs, "lm.load_corpus_stats()": lm.load_corpus_stats,
                    "lm.load_provenance()": lm.load_provenance})
    for what, call in loaders.items():
        got = attempt(what, call)
        if got is not None:
            out["loaded"][what] = len(got)
    print(json.dumps(out))
''')


def notebook_imports(checkout: Path) -> list[str]:
    """The top-level modules that the reader notebooks (with and without solutions) import, read from their code
    cells (IPython magics and shell lines turned into Python as the kernel turns them)."""
    import ast

    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell

    paths = sorted(checkout.glob("chapters/*.ipynb")) + sorted(checkout.glob("student/chapters/*.ipynb"))
    if not paths:
        raise BinderCheckFailed(f"no notebooks in {checkout / 'chapters'}")
    found: set[str] = set()
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(transform(cell.source))
            except SyntaxError as e:
                raise BinderCheckFailed(f"{path.name}: a code cell does not parse ({e})") from e
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    found.discard("__future__")
    return sorted(found)


def probe_environment(checkout: Path, venv: Path, env: dict[str, str], timer: Timer) -> dict:
    """Import and load everything the notebooks can reach, in the reader's environment, from ``chapters/``."""
    t0 = time.monotonic()
    modules = notebook_imports(checkout)
    out = _run([str(venv / "bin" / "python"), "-c", _PROBE, json.dumps(modules)], cwd=checkout / "chapters",
               env=env, what="probing the environment", timeout=300)
    timer.step("probe: imports and data", t0)
    result = json.loads(out.strip().splitlines()[-1])
    site = _site_packages(venv)
    problems = [f"{what}: {why}" for what, why in result["failed"].items()]
    if "helpers" not in modules:
        problems.append(f"the notebooks never import helpers (found: {modules})")
    for name, file in result["files"].items():
        if name.split(".")[0] == "helpers" and not Path(file).resolve().is_relative_to(site):
            problems.append(f"{name} imported from {file}, not from {site}")
    if Path(result["python"]).parent.resolve() != (venv / "bin").resolve():
        problems.append(f"the probe ran {result['python']}, not the Binder environment's python")
    if problems:
        raise BinderCheckFailed("in the Binder environment:\n" + "\n".join(problems))
    print(f"[binder] imported {len(result['files'])} modules ({', '.join(modules)}) and loaded "
          f"{len(result['loaded'])} data files and caches, helpers from {site}", flush=True)
    return result


def _site_packages(venv: Path) -> Path:
    found = list((venv / "lib").glob("python3*/site-packages"))
    if len(found) != 1:
        raise BinderCheckFailed(f"cannot find the site-packages of {venv}")
    return found[0].resolve()


# --------------------------------------------------------------------------- 3. JupyterLab in a browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(checkout: Path, venv: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str, str]:
    port, token = _free_port(), os.urandom(16).hex()
    cmd = [str(venv / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={checkout}",
           "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:  # Binder runs JupyterLab as an ordinary user; this machine's sessions may be root
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BinderCheckFailed(f"jupyter lab exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return proc, base, token
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise BinderCheckFailed(f"jupyter lab did not answer in 90 s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check_in_lab(checkout: Path, notebook: str, base: str, token: str, screenshot: Path, *,
                 allow_raw_myst: bool, timer: Timer) -> dict:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise BinderCheckFailed("Debian's chromium is needed: apt-get install chromium")
    left: list[str] = []
    found: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})

        def guard(route):
            url = route.request.url
            if re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]", url) or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                left.append(url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        t0 = time.monotonic()
        page.goto(f"{base}/lab/tree/{notebook}?token={token}", wait_until="domcontentloaded")
        panel = page.locator(".jp-NotebookPanel")
        try:
            panel.first.wait_for(state="visible", timeout=60000)
        except Exception as e:  # noqa: BLE001 - report what opened instead
            editors = page.locator(".jp-FileEditor").count()
            raise BinderCheckFailed(f"{notebook} did not open as a notebook (text editors open: {editors})") from e
        if page.locator(".jp-MainAreaWidget .jp-FileEditor").count():
            raise BinderCheckFailed(f"{notebook} opened in a text editor as well as a notebook")
        _wait_idle(page, timeout=90)
        timer.step("JupyterLab: notebook open, kernel idle", t0)

        t0 = time.monotonic()
        if page.evaluate("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                         ".some(p => /\\[\\d+\\]/.test(p.textContent))"):
            # Outputs saved in the notebook would make "every cell has run" true before anything ran.
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Edit$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Clear Outputs of All Cells$")).click()
            page.wait_for_function("() => ![...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                                   ".some(p => /\\[\\d+\\]/.test(p.textContent))", timeout=30000)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        # Every code cell with code in it has run (an empty cell is never sent to the kernel).
        page.wait_for_function(
            """() => {
                const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].filter(
                    c => (c.querySelector('.cm-content')?.textContent ?? 'x').trim() !== '');
                return cells.length > 0 && cells.every(
                    c => /\\[\\d+\\]/.test(c.querySelector('.jp-InputPrompt')?.textContent ?? ''));
            }""", timeout=240000, polling=500)
        _wait_idle(page, timeout=120)
        timer.step("JupyterLab: Run All Cells until idle", t0)

        page.keyboard.press("Control+s")
        page.wait_for_timeout(1500)
        found["code_cells"] = page.locator(".jp-CodeCell").count()
        found["dom_errors"] = page.evaluate("""() => [...document.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
            .map(e => e.textContent).filter(t => /Traceback|\\w+Error\\b/.test(t)).map(t => t.slice(0, 300))""")
        markdown = page.evaluate(
            "() => [...document.querySelectorAll('.jp-RenderedMarkdown')].map(e => e.textContent).join('\\n')")
        found["markdown_chars"] = len(markdown)
        found["raw_myst"] = sorted({pat for pat in RAW_MYST if pat in markdown})
        found["charts"] = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output .vega-embed')]
            .map(v => ({svg_marks: v.querySelectorAll('svg .role-mark path, svg .role-mark line, svg .role-mark rect,'
                                                     + ' svg .role-mark text').length,
                        canvas: v.querySelectorAll('canvas').length}))""")
        chart = page.locator(".jp-OutputArea-output .vega-embed").first
        if chart.count():
            chart.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
        no_news = page.locator(".jp-toast-button", has_text=re.compile(r"^No$"))
        if no_news.count():  # "Would you like to get notified about official Jupyter news?"
            no_news.first.click()
            page.wait_for_timeout(500)
        page.screenshot(path=str(screenshot))
        found["page_errors"] = page_errors
        browser.close()

    saved = json.loads((checkout / notebook).read_text(encoding="utf-8"))
    found["saved_error_outputs"] = [f"{o.get('ename')}: {o.get('evalue')}" for c in saved["cells"]
                                    if c["cell_type"] == "code" for o in c.get("outputs", [])
                                    if o.get("output_type") == "error"]
    found["requests_blocked"] = sorted(set(left))
    print(f"[binder] JupyterLab: {json.dumps(found)[:1500]}", flush=True)

    problems = []
    if found["dom_errors"] or found["saved_error_outputs"]:
        problems.append(f"error output in {notebook}: {found['dom_errors'] or found['saved_error_outputs']}")
    if not found["markdown_chars"]:
        problems.append("no rendered Markdown at all")
    if found["raw_myst"]:
        message = f"raw MyST in the rendered Markdown: {found['raw_myst']}"
        if allow_raw_myst:
            print(f"[binder] WARNING (allowed with --allow-raw-myst): {message}", flush=True)
        else:
            problems.append(message)
    if found["requests_blocked"]:
        problems.append(f"the page tried to leave the machine (offline, these fail): {found['requests_blocked']}")
    drawn = [c for c in found["charts"] if c["svg_marks"] or c["canvas"]]
    if not drawn:
        problems.append(f"no chart drew (vega-embed containers: {found['charts']})")
    if problems:
        raise BinderCheckFailed("\n".join(problems) + f"\nscreenshot: {screenshot}")
    return found


def _wait_idle(page, *, timeout: float) -> None:
    """Wait until the notebook has a kernel and it is idle, as the status bar says ("Python 3 (ipykernel) | Idle").

    The toolbar's execution indicator says "idle" before the kernel has even started, and a Run All given then is
    lost, so it is not enough on its own.
    """
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
                e => /\\S.*\\|\\s*Idle\\s*$/.test(e.textContent) && !/^\\s*No Kernel/.test(e.textContent))""",
        timeout=timeout * 1000, polling=250)


# --------------------------------------------------------------------------- stand-in checkout


def make_stand_in(out: Path, *, ref: str = "HEAD") -> Path:
    """A stand-in for the notebooks branch: the files it carries at ``ref``, chapters converted with jupytext.

    The chapters keep their MyST (only ``book.tools.publish``'s reader notebooks lose it), so the MyST check needs
    ``--allow-raw-myst`` on a stand-in. Chapter cells that only make sense on Colab are dropped, and the
    ``myst_nb.glue`` import (a book-build tool) becomes a no-op function, as in the reader notebooks.
    """
    import jupytext

    out.mkdir(parents=True, exist_ok=False)
    keep = ["helpers", "data", "pyproject.toml", "requirements.txt", "runtime.txt", "postBuild", "README.md",
            "LICENSE", "LICENSE-text.md"]
    tracked = set(subprocess.run(["git", "ls-tree", "--name-only", ref], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split())
    archive = subprocess.run(["git", "archive", "--format=tar", ref, "chapters", *[k for k in keep if k in tracked]],
                             cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    for md in sorted((out / "chapters").glob("*.md")):
        nb = jupytext.read(md)
        nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and "# Colab only" in c.source)]
        for c in nb.cells:
            if c.cell_type == "code":
                c.source = c.source.replace("from myst_nb import glue",
                                            "def glue(name, value, display=True):  # the book build's glue\n"
                                            "    return value if display else None")
        jupytext.write(nb, md.with_suffix(".ipynb"))
        md.unlink()
    for other in (out / "chapters").iterdir():
        if other.suffix != ".ipynb":
            shutil.rmtree(other) if other.is_dir() else other.unlink()
    return out


# --------------------------------------------------------------------------- main


def run(checkout: Path, *, notebook: str, allow_raw_myst: bool = False, screenshot: Path | None = None,
        keep: bool = False) -> dict:
    """Every step on ``checkout``; raises :class:`BinderCheckFailed` on the first failing one."""
    checkout = checkout.resolve()
    for needed in ("requirements.txt", "pyproject.toml", notebook):
        if not (checkout / needed).exists():
            raise BinderCheckFailed(f"{checkout} has no {needed}")
    timer = Timer()
    work = Path(tempfile.mkdtemp(prefix="binder-"))
    screenshot = screenshot or work / "jupyterlab.png"
    proc = None
    try:
        venv, env = install(checkout, work, timer)
        probe = probe_environment(checkout, venv, env, timer)
        t0 = time.monotonic()
        proc, base, token = start_lab(checkout, venv, env, work / "jupyterlab.log")
        timer.step("JupyterLab: server up", t0)
        found = check_in_lab(checkout, notebook, base, token, screenshot, allow_raw_myst=allow_raw_myst,
                             timer=timer)
    finally:
        if proc is not None:
            stop(proc)
        if not keep:
            for sub in ("venv", "home"):
                shutil.rmtree(work / sub, ignore_errors=True)
    print(f"[binder] screenshot: {screenshot}", flush=True)
    print(f"[binder] total: {timer.total():.1f} s wall, {timer.cpu():.1f} s CPU in its processes", flush=True)
    return {"timings": timer.steps, "total": timer.total(), "cpu": timer.cpu(), "screenshot": str(screenshot),
            "lab": found, "probe": probe}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, nargs="?", help="checkout of the branch Binder opens")
    parser.add_argument("--notebook", default="chapters/01-scaling-laws.ipynb",
                        help="notebook to open in JupyterLab, relative to the checkout")
    parser.add_argument("--screenshot", type=Path, help="where to write the screenshot (default: a temp folder)")
    parser.add_argument("--allow-raw-myst", action="store_true",
                        help="report raw MyST instead of failing (only for stand-in checkouts while developing)")
    parser.add_argument("--keep", action="store_true", help="keep the virtual environment and HOME")
    parser.add_argument("--make-stand-in", type=Path, metavar="OUT_DIR",
                        help="write a stand-in notebooks-branch checkout of this repository's HEAD and exit")
    args = parser.parse_args(argv)
    if args.make_stand_in:
        print(make_stand_in(args.make_stand_in))
        return 0
    if args.checkout is None:
        parser.error("CHECKOUT_DIR is required")
    try:
        run(args.checkout, notebook=args.notebook, allow_raw_myst=args.allow_raw_myst,
            screenshot=args.screenshot, keep=args.keep)
    except BinderCheckFailed as e:
        print(f"[binder] FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    print("[binder] OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
