"""The homework (homework/, nbgrader): generated student versions leak nothing and are up to date,
the instructor versions pass every check, the unfilled student versions run to the end with every
check failing on a teaching message, typical mistakes get their hint, and grading a folder of
sample submissions (right, partly wrong, crashing + infinite loop, dead kernel) gives the expected
score table.

Everything runs offline in a copy of the course folder under tmp (no state left in the repo).
nbgrader (pinned in requirements.txt) is required: without it these tests fail, they are not skipped.
"""
from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
HOMEWORK = REPO / "homework"
ASSIGNMENTS = ["hw1_shapes", "hw2_conv", "hw3_pool", "hw4_train"]
GENERATED = ("release", "gradebook.db", "downloaded", "extracted", "submitted", "autograded", "feedback",
             "grades", "__pycache__", ".ipynb_checkpoints")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
CELL_TIMEOUT = 120


def _env() -> dict[str, str]:
    """This interpreter's environment, with cnn_core importable by kernels and subprocesses."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), env.get("PYTHONPATH", "")] if p)
    return env


def hw(course: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the course copy's hw.py; fail with its output if it fails."""
    proc = subprocess.run([sys.executable, str(course / "hw.py"), *args], cwd=course, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"hw.py {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    return proc


def execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    """Run a notebook top to bottom (errors recorded, not raised), as a student would."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute(env=_env())
    return nb


def errors_by_cell(nb) -> dict[str, tuple[str, str]]:
    """cell id -> (error name, error message) of every code cell that raised."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                out[cell.id] = (o.ename, o.evalue)
    return out


def grade_ids(nb) -> list[str]:
    return [c.id for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    """A copy of homework/ (sources, samples, config, hw.py) with freshly generated student versions."""
    if importlib.util.find_spec("nbgrader") is None:
        pytest.fail("nbgrader is not installed: the homework tests need it (pip install -r requirements.txt)")
    dest = tmp_path_factory.mktemp("course") / "homework"
    shutil.copytree(HOMEWORK, dest, ignore=shutil.ignore_patterns(*GENERATED))
    hw(dest, "generate")
    return dest


# ---------------------------------------------------------------- generated versions


def _hidden_or_solution_lines(source_nb) -> tuple[set[str], set[str]]:
    """Distinctive lines inside solution / hidden-test regions, and every line outside them."""
    inside, outside = set(), set()
    for cell in source_nb.cells:
        region = None
        for line in cell.source.splitlines():
            text = line.strip()
            if text in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                region = text
            elif text in ("### END SOLUTION", "### END HIDDEN TESTS"):
                region = None
            elif text:
                (inside if region else outside).add(text)
    return {t for t in inside - outside if len(t) >= 12}, outside


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_leaks_no_solution_or_hidden_test(course, name):
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    student_path = course / "release" / name / f"{name}.ipynb"
    text = student_path.read_text()
    for marker in MARKERS:
        assert marker not in text, f"{name}: student version contains {marker!r}"
    secret, _ = _hidden_or_solution_lines(source)
    assert len(secret) > 5, "the leak test found almost no solution lines to look for"
    student = nbformat.read(student_path, as_version=4)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    leaked = sorted(line for line in secret if line in code)
    assert not leaked, f"{name}: solution / hidden-test code in the student version: {leaked[:5]}"
    stubs = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert stubs and all("raise NotImplementedError()" in c.source for c in stubs)
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_release_matches_a_fresh_generate(course, name):
    committed = HOMEWORK / "release" / name / f"{name}.ipynb"
    assert committed.is_file(), f"{committed} missing: run `python homework/hw.py generate`"
    old, new = (nbformat.read(p, as_version=4) for p in (committed, course / "release" / name / f"{name}.ipynb"))
    strip = lambda nb: [(c.cell_type, c.source, c.metadata) for c in nb.cells]  # noqa: E731
    assert strip(old) == strip(new), f"homework/release/{name} is stale: run `python homework/hw.py generate`"


# ---------------------------------------------------------------- running the notebooks


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_instructor_version_passes_all_checks(course, name, tmp_path):
    nb = execute(course / "source" / name / f"{name}.ipynb", tmp_path)
    assert errors_by_cell(nb) == {}
    passed = [c for c in nb.cells if c.id in grade_ids(nb)]
    for cell in passed:  # every check (public and hidden) printed its success line
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "\u2713" in printed, f"{name}: check cell {cell.id} printed no success line"


NOT_DONE = "is not implemented yet"
# For the unfilled student version: the error every failing cell must show. Check cells fail with a
# CheckFailure whose message matches; other cells may fail only where they run a stub.
EXPECTED_STUB_ERRORS = {
    "hw1_shapes": {
        "check_output_size": NOT_DONE, "fits": None, "check_fits": "has no answer for", "conv_layer": None,
        "check_conv_layer": "out_shape: has no answer yet", "check_num_params": NOT_DONE, "fc_vs_conv": None,
        "check_fc_vs_conv": "fc_weights: has no answer yet", "check_receptive_field": NOT_DONE,
        "rf_numbers": None, "check_rf_numbers": "rf_three_3x3: has no answer yet",
    },
    "hw2_conv": {
        "check_conv_forward": NOT_DONE, "demo_cat": None, "check_conv_backward": NOT_DONE, "gradcheck": None,
        "check_gradcheck": "errors: is empty", "check_conv_fast": NOT_DONE,
    },
    "hw3_pool": {
        "check_relu_forward": NOT_DONE, "check_relu_backward": NOT_DONE, "check_pool_forward_max": NOT_DONE,
        "check_pool_forward_avg": NOT_DONE, "check_pool_forward_l2": NOT_DONE, "demo_cat": None,
        "check_pool_backward_max": NOT_DONE, "check_pool_backward_avg": NOT_DONE,
        "check_pool_backward_l2": NOT_DONE, "gradcheck": None, "check_gradcheck": "errors: is empty",
    },
    "hw4_train": {
        "model": None, "check_model": "not a cnn_core Sequential", "train": None,
        "check_training": "not the dict that fit returns", "check_accuracy": "not a cnn_core model",
        "show_curves": None, "check_curves": "history: is not fit's history", "show_filters": "AttributeError",
        "check_filters": "the model has no Conv2D layer", "first_layer_weights": None,
        "check_first_layer_weights": "has no answer yet", "questions": None,
        "check_q_loss": "q_loss: has no answer yet", "check_q_gap": "q_gap: has no answer yet",
        "check_q_edge": "q_edge: has no answer yet", "check_q_lr": "q_lr: has no answer yet",
    },
}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_unfilled_student_version_runs_to_the_end_and_its_checks_fail(course, name, tmp_path):
    nb = execute(course / "release" / name / f"{name}.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "not every cell ran"
    errors = errors_by_cell(nb)
    expected = EXPECTED_STUB_ERRORS[name]
    assert set(errors) == set(expected), f"cells that failed: {sorted(errors)}"
    checks = set(grade_ids(nb))
    assert checks <= set(errors), f"checks that passed on empty stubs: {sorted(checks - set(errors))}"
    for cell_id, (ename, evalue) in errors.items():
        want = expected[cell_id]
        if cell_id in checks:
            assert ename == "CheckFailure" and want in evalue, f"{cell_id}: {ename}: {evalue}"
        elif want is None:  # an answer cell (or a demo calling it) still raising the stub's error
            assert ename == "NotImplementedError", f"{cell_id}: {ename}: {evalue}"
        else:
            assert ename == want, f"{cell_id}: {ename}: {evalue}"


def test_typical_mistakes_get_the_helpful_message(course, tmp_path):
    """hw3 sample 'erin': ReLU gradient not masked, max-pool gradient sent to every position."""
    hw(course, "samples", "hw3_pool", str(tmp_path))
    nb = execute(tmp_path / "erin_hw3_pool.ipynb", tmp_path)
    errors = errors_by_cell(nb)
    assert set(errors) == {"check_relu_backward", "check_pool_backward_max", "check_gradcheck"}, errors
    assert all(ename == "CheckFailure" for ename, _ in errors.values())
    relu = errors["check_relu_backward"][1]
    assert "likely mistake: the gradient also flowed where x <= 0" in relu
    # the notebook shows the student's cell and the message, not the frames of cnn_core/checks.py
    cell = next(c for c in nb.cells if c.id == "check_pool_backward_max")
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(line for o in cell.outputs if o.output_type == "error"
                                                       for line in o.traceback))
    assert "check_pool_backward(pool_backward" in traceback and "checks.py" not in traceback
    pool = errors["check_pool_backward_max"][1]
    assert re.search(r"expected: +cnn_core\.pool2d_backward_naive", pool) and "got:" in pool
    assert ("likely mistake: max-pool gradient went to all 4 positions of a window: it belongs only to "
            "the position of the max") in pool
    assert "relu: relative error" in errors["check_gradcheck"][1] and "wrong" in errors["check_gradcheck"][1]


# ---------------------------------------------------------------- grading a folder


# hw2_conv points: forward 3, backward 3, gradient check 1, vectorized 3.
EXPECTED_SCORES = {
    "alice": (["3", "3", "1", "3"], "10", ""),
    "ben": (["3", "3", "1", "0"], "7", "check_conv_fast: conv_forward_fast is not defined: a cell before this "
                                      "check did not finish (cell conv_forward_fast: the notebook's process died"),
    "bob": (["0", "3", "0", "3"], "6", "check_conv_forward: conv_forward_naive wrong output shape"),
    "carol": (["3", "0", "0", "0"], "3", "check_conv_backward: conv_backward_naive raised IndexError"),
}


def test_grading_a_folder_of_submissions(course, tmp_path):
    """The README's instructor path on the samples: collect, grade (sandboxed), CSVs, feedback."""
    hw(course, "samples", "hw2_conv", str(tmp_path / "inbox"))
    assert sorted(p.name for p in (tmp_path / "inbox").iterdir()) == [
        f"{s}_hw2_conv.ipynb" for s in sorted(EXPECTED_SCORES)]
    out = hw(course, "collect", "hw2_conv", str(tmp_path / "inbox")).stdout
    assert "collected 4 submission(s) of hw2_conv (0 late)" in out
    out = hw(course, "grade", "hw2_conv", "--timeout", "10", "--quiet").stdout
    assert "graded 4, failed 0, skipped 0, missing 0" in out

    with (course / "grades" / "hw2_conv.csv").open() as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == sorted(EXPECTED_SCORES)
    columns = ["check_conv_forward", "check_conv_backward", "check_gradcheck", "check_conv_fast"]
    for student, (scores, total, problems) in EXPECTED_SCORES.items():
        row = rows[student]
        assert [row[c] for c in columns] == scores, (student, row)
        assert (row["total"], row["max_total"], row["status"]) == (total, "10", "graded"), (student, row)
        assert row["problems"].startswith(problems) and (problems or row["problems"] == ""), (student, row)
    assert "conv_forward_fast did not return within 10 s" in rows["carol"]["problems"]

    with (course / "grades" / "hw2_conv_lms.csv").open() as f:   # what an LMS gradebook import takes
        lms = {r["student_id"]: r for r in csv.DictReader(f)}
    assert {s: float(r["score"]) for s, r in lms.items()} == {"alice": 10.0, "ben": 7.0, "bob": 6.0,
                                                                 "carol": 3.0}

    # bob's feedback carries the teaching message of his mistake; carol's says her cell was stopped
    bob = (course / "feedback" / "hw2_conv" / "bob.html").read_text()
    assert "output is 5×5 but should be 3×3: did you apply the stride?" in bob
    assert "6 / 10" in bob

    (course / "feedback" / "hw2_conv" / "carol.html").unlink()
    out = hw(course, "feedback", "hw2_conv").stdout
    report = course / "feedback" / "hw2_conv" / "carol.html"
    assert report.is_file() and f"feedback for carol: {report}" in out
    assert "3 / 10" in report.read_text() and "did not return within 10 s" in report.read_text()

    # a regrade of one student leaves the others' rows alone
    hw(course, "grade", "hw2_conv", "--student", "bob", "--timeout", "10", "--quiet")
    with (course / "grades" / "hw2_conv.csv").open() as f:
        assert {r["student_id"]: r["total"] for r in csv.DictReader(f)} == {s: v[1] for s, v in EXPECTED_SCORES.items()}
