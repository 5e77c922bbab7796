"""The student's self-check, ``python -m cnn_homework check FILE``, as a student runs it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnn_homework.selfcheck import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[1]
HOMEWORK = REPO / "homework"


def selfcheck(path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "cnn_homework", "check", str(path), *args],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def hw():
    spec = importlib.util.spec_from_file_location("course_hw", HOMEWORK / "hw.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(ASSIGNMENTS))
def test_the_table_of_cells_matches_the_sources(name):
    nb = nbformat.read(HOMEWORK / "source" / name / f"{name}.ipynb", as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    assert ASSIGNMENTS[name].answers == tuple(m["grade_id"] for m in meta if m.get("solution"))
    assert ASSIGNMENTS[name].checks == tuple(m["grade_id"] for m in meta if m.get("grade"))


def test_a_finished_notebook_passes(hw, tmp_path):
    path = tmp_path / "hw1_shapes.ipynb"
    sample = tmp_path / "none.py"
    sample.write_text("")
    hw.write_sample("hw1_shapes", sample, path)  # every answer from the solution
    before = path.read_bytes()
    proc = selfcheck(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "hw1_shapes.ipynb: hw1_shapes" in proc.stdout
    assert proc.stdout.count("✓") == 7 and "7 of 7 public checks pass" in proc.stdout
    assert path.read_bytes() == before  # the student's file is not touched


def test_the_unfilled_notebook_lists_what_is_left(tmp_path):
    path = tmp_path / "hw2_conv.ipynb"
    path.write_bytes((HOMEWORK / "release" / "hw2_conv" / "hw2_conv.ipynb").read_bytes())
    proc = selfcheck(path)
    assert proc.returncode == 1
    assert "✗ check_conv_forward: CheckFailure: conv_forward_naive: is not implemented yet" in proc.stdout
    assert "0 of 4 public checks pass" in proc.stdout


def test_copied_deleted_cells_and_a_bad_name_are_explained(tmp_path):
    nb = nbformat.read(HOMEWORK / "release" / "hw2_conv" / "hw2_conv.ipynb", as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_forward_naive")
    copy = nbformat.from_dict(json.loads(json.dumps(answer)))
    copy.id = "pasted-answer"  # Jupyter gives a pasted cell a new id; its nbgrader metadata comes along
    nb.cells.append(copy)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "check_gradcheck"]
    path = tmp_path / "my homework.ipynb"
    nbformat.write(nb, path)
    out = selfcheck(path, "--timeout", "60").stdout
    assert "the answer cell 'conv_forward_naive' appears 2 times" in out
    assert "the check cell 'check_gradcheck' is missing: the grader puts it back" in out
    assert "name it hw2_conv.ipynb" in out


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"cells": [ oops', "is not a valid notebook (broken JSON at line 1, column 13)"),
        (b"PK\x03\x04\xff\xfe", "is not a text file"),
        (
            json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
            "this is not one of the homework notebooks",
        ),
    ],
)
def test_a_file_that_cannot_be_graded_says_why(tmp_path, content, reason):
    path = tmp_path / "hw2_conv.ipynb"
    path.write_bytes(content)
    proc = selfcheck(path)
    assert proc.returncode == 2 and reason in proc.stdout, proc.stdout
