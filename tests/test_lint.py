"""The code passes the project's linter and formatter with the settings in pyproject.toml:
`ruff check .` and `ruff format --check .` (run `ruff format .` to fix the second)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args", [["check", "--output-format", "concise", "."], ["format", "--check", "."]])
def test_ruff_passes(args):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: pip install -r requirements.txt"
    proc = subprocess.run([ruff, *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"ruff {' '.join(args)} failed:\n" + proc.stdout[-5000:] + proc.stderr[-2000:]
