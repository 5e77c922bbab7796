"""Shared fixtures for the test suite.

``built_book`` builds the Jupyter Book once per test session (notebooks executed,
``-W -n --keep-going``) into a temporary folder and returns the HTML directory,
so the build test and later browser tests share one build.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # figures render off-screen in every test

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 1800
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class BookBuild:
    returncode: int
    log: str
    html_dir: Path


def _jupyter_book_cmd() -> list[str]:
    # The console script next to the running interpreter (the project's .venv).
    exe = Path(sys.executable).with_name("jupyter-book")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> BookBuild:
    """Run the full book build once; never fails itself, tests inspect the result."""
    out = tmp_path_factory.mktemp("book")
    cmd = _jupyter_book_cmd() + [
        "build",
        str(REPO_ROOT),
        "--path-output",
        str(out),
        "-W",
        "-n",
        "--keep-going",
        "--all",
    ]
    # The kernels that run the chapters must draw with their own inline backend: the Agg backend set
    # above for the tests would reach them through the environment, and a figure a cell makes
    # without displaying it explicitly would then be missing from the book.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"} | {"PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        rc, log = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, log = -1, f"timed out after {BUILD_TIMEOUT_S}s\n{exc.stdout or ''}{exc.stderr or ''}"
    html_dir = out / "_build" / "html"
    # MyST-NB writes the traceback of a failed notebook to reports/*.err.log: show it.
    for report in sorted((html_dir / "reports").rglob("*.err.log")):
        log += f"\n--- {report.relative_to(html_dir)} ---\n{report.read_text(errors='replace')}"
    return BookBuild(returncode=rc, log=_ANSI.sub("", log), html_dir=html_dir)


@pytest.fixture(scope="session")
def built_book(book_build: BookBuild) -> Path:
    """Path of the built book's HTML directory (``.../_build/html``); fails if the build failed."""
    if book_build.returncode != 0:
        pytest.fail(
            f"book build failed (exit {book_build.returncode}); its log is in the failure of test_book_builds_without_warnings",
            pytrace=False,
        )
    return book_build.html_dir


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure a test left open."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# ---------------------------------------------------------------- the browser of the page tests

#: Debian's Chromium (``make test`` installs it); flags from /work/shared/notes/toolchain.md: no
#: sandbox (root in CI), no GPU, and no background traffic of the browser itself (which would show
#: up as outside requests).
CHROMIUM = os.environ.get("CNN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module (tests/test_browser.py, tests/test_jupyter_lab.py)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no browser at {CHROMIUM}: `make test` installs Debian's chromium, or set CNN_CHROMIUM", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def digits():
    """200 training and 100 test digits (8x8, float32): (X_tr, y_tr, X_te, y_te)."""
    import numpy as np

    from cnn_core.data import load_digits

    X_tr, y_tr, X_te, y_te = load_digits(dtype=np.float32)
    return X_tr[:200], y_tr[:200], X_te[:100], y_te[:100]


@pytest.fixture
def small_cnn():
    """A function that builds the same small digits CNN each call: Conv-ReLU-Pool x2, FC (float32)."""
    import numpy as np

    from cnn_core.architectures import typical_architecture

    return lambda: typical_architecture(1, 2, 0, input_shape=(1, 8, 8), filters=4, dtype=np.float32, rng=0)
