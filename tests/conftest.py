"""Shared pytest fixtures and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def built_html() -> Path:
    """The built book; the `build` tests run after `jupyter-book build .` (see .ci/run)."""
    if not (HTML / "index.html").exists():
        pytest.fail(f"No built book at {HTML}: run `jupyter-book build .` first (the build tests check its output).")
    return HTML
