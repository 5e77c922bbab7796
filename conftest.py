"""Repository-wide pytest configuration (loaded for every test and notebook run).

nbval compares stored ``text/plain`` outputs; this points it at the project's
sanitize file (by absolute path, so it works whatever the current directory)
unless ``--nbval-sanitize-with`` is given on the command line.

Two tiers: every test that executes a notebook (nbval, the book build, the grader's sandbox, a
fresh venv), drives a browser or JupyterLab, or starts Node.js is marked ``slow``; ``make check``
runs the rest (``-m "not slow"``) in a couple of minutes, ``make test`` runs everything.
Fixtures for the unit tests live in ``tests/conftest.py``.
"""

from pathlib import Path

import pytest

NBVAL_SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"

# Fixtures that build the book or open a browser: a test asking for one is slow.
SLOW_FIXTURES = {"browser", "book_build", "built_book", "html_dir", "base_url", "page"}
# Test modules that are slow as a whole, and why.
SLOW_MODULES = {
    "test_chapter_seeds": "executes chapters under other seeds",
    "test_grading_hostile": "grades whole classes of notebooks in the sandbox",
    "test_grading_round2_checks": "grades notebooks in the sandbox",
    "test_grading_round2_collect": "grades notebooks in the sandbox",
    "test_grading_round2_jupyter": "grades notebooks in the sandbox",
    "test_grading_round2_sandbox": "starts sandboxes as root and as a user",
    "test_grading_round2_student": "runs notebooks and a fresh venv",
    "test_grading_round2_text": "grades notebooks in the sandbox",
    "test_homework": "executes the assignments' notebooks",
    "test_homework_readme": "installs into a fresh venv",
    "test_jupyter_lab": "drives JupyterLab in a browser",
    "test_jupyter_setup": "a fresh venv, JupyterLab and every chapter",
    "test_live_engine": "runs the page's JavaScript in Node.js",
    "test_selfcheck": "executes notebooks with the student self-check",
}


def pytest_configure(config):
    if getattr(config.option, "nbval_sanitize_with", "absent") is None:
        config.option.nbval_sanitize_with = str(NBVAL_SANITIZE)
    config.addinivalue_line(
        "markers", "slow: executes notebooks, the book, a sandbox, a browser or a fresh venv (make test only)"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.path.stem
        if item.path.suffix == ".ipynb" or module in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
