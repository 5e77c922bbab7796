"""Chapter 10's asserts state robust facts about training, not one run's numbers: they must hold
for other seeds (new starting weights, new shuffling) and in float64 as in float32.

The chapter reads CNN_BOOK_SEED (default 0) and CNN_BOOK_DTYPE (default float32); the normal
nbval run covers (0, float32), this test the rest of seeds 0-2 x both types. About a minute each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "10_training.ipynb"
RUNS = [(1, "float32"), (2, "float32"), (0, "float64"), (1, "float64"), (2, "float64")]


def test_chapter_reads_its_seed_and_number_type_from_the_environment():
    code = "\n".join("".join(c["source"]) for c in json.loads(CHAPTER.read_text())["cells"] if c["cell_type"] == "code")
    assert 'os.environ.get("CNN_BOOK_SEED", "0")' in code and 'os.environ.get("CNN_BOOK_DTYPE", "float32")' in code
    # every network and every fit of the chapter follows them
    assert "dtype=np.float32" not in code and "dtype=DTYPE" in code
    assert "rng=SEED" in code and "seed=SEED" in code and "rng=seed" in code


@pytest.mark.parametrize("seed,dtype", RUNS, ids=[f"seed{s}-{d}" for s, d in RUNS])
def test_chapter_10_asserts_hold_for_other_seeds_and_float64(seed, dtype, tmp_path):
    env = dict(os.environ, CNN_BOOK_SEED=str(seed), CNN_BOOK_DTYPE=dtype)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "-q",
        "--nbval-lax",
        "--nbval-current-env",
        "--nbval-cell-timeout=300",
        str(CHAPTER),
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"chapter 10 with seed {seed}, {dtype}:\n{proc.stdout[-4000:]}"
