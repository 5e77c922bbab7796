"""Repository-wide pytest configuration (loaded for every test and notebook run).

nbval compares stored ``text/plain`` outputs; this points it at the project's
sanitize file (by absolute path, so it works whatever the current directory)
unless ``--nbval-sanitize-with`` is given on the command line.
Fixtures for the unit tests live in ``tests/conftest.py``.
"""

from pathlib import Path

NBVAL_SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"


def pytest_configure(config):
    if getattr(config.option, "nbval_sanitize_with", "absent") is None:
        config.option.nbval_sanitize_with = str(NBVAL_SANITIZE)
