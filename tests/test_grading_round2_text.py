"""Issue 24, round 2: text a student controls, graded for real (``hw.py grade``, ``feedback``, ``similarity``).

- an exception message with a lone surrogate leaves every row, the LMS table and every feedback
  page whole, and the next ``grade`` / ``feedback`` work (finding 2);
- a stored result that cannot be read is that student's failed row, not a crash (finding 2);
- a notebook that is deeply nested, has a lone surrogate in an answer cell or is called
  ``reference_…`` costs ``similarity`` only that student (finding 18);
- what a submission recorded of the hidden cases never reaches its feedback page (finding 19):
  the hidden checks run after the notebook's last cell, so an honest student's page still shows
  every cell's output and every public check in full;
- printed output is bounded per notebook, not only per cell (finding 21).

Needs bubblewrap, like tests/test_grading_hostile.py (whose helpers it uses).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_grading_hostile import GENERATED, HOMEWORK, REPO, Class

from grading import batch, grade, notebook, sandbox
from grading.text import clean

UID_BASE = 64000  # sandbox uids of this module's gradings, apart from test_grading_hostile's

if sandbox.isolation() == "none":
    if os.environ.get("CNN_REQUIRE_SANDBOX"):
        pytest.fail("bubblewrap (bwrap) is missing but CNN_REQUIRE_SANDBOX is set", pytrace=False)
    pytestmark = pytest.mark.skip(reason="bubblewrap (bwrap) is not installed: grading has no sandbox here")

SURROGATE_FORWARD = """
def conv_forward_naive(x, w, b, stride=1, padding=0):
    raise ValueError('bad ' + chr(0xD800) + ' \\x1b[31m red')
"""

LEAKING_FAST = """
def conv_forward_fast(x, w, b, stride=1, padding=0):
    raise ValueError(f"LEAKFAST {x.shape}")
"""

RECORDING_WRAPPER = """
SEEN = []
_real = conv_forward_naive
def conv_forward_naive(x, w, b, stride=1, padding=0):
    SEEN.append(tuple(x.shape))
    return _real(x, w, b, stride, padding)
"""

PRINT_RECORDED = """
print("RECORDED", SEEN)
raise ValueError("LEAKED " + str(SEEN))
"""

ERRING_BACKWARD = """
print("backward cell ran")
def conv_backward_naive(dout, x, w, stride=1, padding=0):
    raise IndexError("index 7 is out of bounds")
"""

CRASHING_WRAPPER = """
import os
_real = conv_forward_naive
def conv_forward_naive(x, w, b, stride=1, padding=0):
    if tuple(x.shape) == (1, 4, 10, 7):  # a hidden case of check_conv_forward
        os._exit(3)
    return _real(x, w, b, stride, padding)
"""

# x's shape in each hidden case of hw2 (source/hw2_conv: check_conv_forward, check_conv_fast)
HIDDEN_SHAPES = ["(3, 2, 5, 5)", "(1, 4, 10, 7)", "(2, 1, 9, 9)", "(1, 3, 4, 6)"]

PRINTING_CELLS = 2000


def hw(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), CNN_GRADING_UID_BASE=str(UID_BASE))
    return subprocess.run(
        [sys.executable, str(course / "hw.py"), *args], cwd=course, env=env, capture_output=True, text=True, timeout=900
    )


def rows_of(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("round2text") / "homework"
    shutil.copytree(HOMEWORK, dest, ignore=shutil.ignore_patterns(*GENERATED))
    return dest


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> dict:
    """An hw2 class graded once: an honest student, one whose errors carry a lone surrogate, one
    that records the hidden cases and prints them later, one with 2,000 printing cells, one
    whose backward pass raises an error, and one whose process dies on a hidden case."""
    inbox = tmp_path_factory.mktemp("inbox") / "hw2"
    cls = Class(course, "hw2_conv", inbox)
    cls.student("honest")
    cls.student(
        "surrogate",
        {"conv_forward_naive": SURROGATE_FORWARD, "conv_forward_fast": LEAKING_FAST},
        after={"setup": "print('out ' + chr(0xDFFF) + '\\x00\\x07 end')"},
    )
    cls.student("recorder", after={"conv_forward_naive": RECORDING_WRAPPER, "conv_forward_fast": PRINT_RECORDED})
    cls.student("erring", {"conv_backward_naive": ERRING_BACKWARD})
    cls.student("crasher", after={"conv_forward_naive": CRASHING_WRAPPER})
    printer = cls.student("printer")
    nb = nbformat.read(printer, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_forward_naive")
    nb.cells[i + 1 : i + 1] = [nbformat.v4.new_code_cell(f"print({n}, 'y' * 5000)") for n in range(PRINTING_CELLS)]
    nbformat.write(nb, printer)
    assert hw(course, "collect", "hw2_conv", str(inbox)).returncode == 0
    proc = hw(course, "grade", "hw2_conv", "--timeout", "10", "--quiet")
    return {"proc": proc, "results": {p.stem: p for p in (course / "grades" / "hw2_conv").glob("*.json")}}


STUDENTS = ["crasher", "erring", "honest", "printer", "recorder", "surrogate"]


def test_a_lone_surrogate_in_an_error_leaves_every_table_and_page_whole(graded, course):
    proc = graded["proc"]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    rows = rows_of(course / "grades" / "hw2_conv.csv")
    assert sorted(rows) == STUDENTS, proc.stdout + proc.stderr[-3000:]
    assert {s: rows[s]["status"] for s in rows} == dict.fromkeys(STUDENTS, "graded")
    assert rows["honest"]["total"] == "10" and rows["recorder"]["total"] == "10" and rows["printer"]["total"] == "10"
    assert rows["surrogate"]["check_conv_forward"] == "0"
    assert "\ufffd" in rows["surrogate"]["problems"] and "\x1b" not in rows["surrogate"]["problems"]
    lms = rows_of(course / "grades" / "hw2_conv_lms.csv")
    assert {s: r["score"] for s, r in lms.items()} == {s: rows[s]["total"] for s in STUDENTS}
    pages = course / "feedback" / "hw2_conv"
    assert sorted(p.stem for p in pages.glob("*.html")) == STUDENTS
    page = (pages / "surrogate.html").read_text(encoding="utf-8")
    assert "raised ValueError: bad \ufffd [31m red" in page  # a public check before any hidden case: shown
    assert "out \ufffd end" in page  # printed output: the surrogate replaced, NUL and BEL gone
    stored = graded["results"]["surrogate"].read_text()
    assert "\\ud800" not in stored and "\\udfff" not in stored and "\\u001b" not in stored


def test_the_next_grade_and_feedback_work(graded, course):
    again = hw(course, "feedback", "hw2_conv")
    assert again.returncode == 0, again.stderr[-3000:]
    regrade = hw(course, "grade", "hw2_conv", "--student", "surrogate", "--quiet")
    assert regrade.returncode == 0 and "graded 1, failed 0" in regrade.stdout, regrade.stdout + regrade.stderr[-3000:]
    assert sorted(rows_of(course / "grades" / "hw2_conv.csv")) == STUDENTS


def test_what_a_submission_recorded_of_the_hidden_cases_stays_out_of_its_feedback(graded, course):
    recorder = json.loads(graded["results"]["recorder"].read_text())
    kept = "\n".join(c.get("output", "") + c.get("error", "") for c in recorder["cells"])
    assert "RECORDED [(1, 1, 7, 7)" in kept  # its cells ran before any hidden case: only the public ones recorded
    page = (course / "feedback" / "hw2_conv" / "recorder.html").read_text(encoding="utf-8")
    assert "RECORDED [(1, 1, 7, 7)" in page and "LEAKED [(1, 1, 7, 7)" in page
    for shape in HIDDEN_SHAPES:
        assert shape not in kept and shape not in page, shape
    assert "10 / 10" in page
    # the same through a check's message: the student's function raises what it was called with
    surrogate = json.loads(graded["results"]["surrogate"].read_text())
    fast = next(p for p in surrogate["parts"] if p["id"] == "check_conv_fast")
    assert all("LEAKFAST" in c["problem"] for c in fast["checks"])
    assert any(shape in c["problem"] for c in fast["checks"] for shape in HIDDEN_SHAPES)  # the instructor's JSON has it
    page = (course / "feedback" / "hw2_conv" / "surrogate.html").read_text(encoding="utf-8")
    assert "LEAKFAST (1, 1, 7, 7)" in page  # the public check, in full
    assert "conv_forward_fast</b>: did not pass" in page  # the hidden one: its name only
    for shape in HIDDEN_SHAPES:
        assert shape not in page, shape
    assert grading_rule() in page


def grading_rule() -> str:
    return batch.HIDDEN_RULE.split(":")[0]


def test_an_honest_students_page_shows_every_cell_and_public_check_in_full(graded, course):
    """hw2's first check cell holds hidden cases; the cells and public checks after it still show
    everything, because the hidden cases run after the last cell."""
    page = (course / "feedback" / "hw2_conv" / "erring.html").read_text(encoding="utf-8")
    assert "conv_backward_naive</b>: raised IndexError: index 7 is out of bounds<br><i>case:</i> dout" in page
    assert "backward cell ran" in page  # the answer cell's output
    assert "cells ran after" not in page
    result = json.loads(graded["results"]["erring"].read_text())
    assert not any(c["after_hidden"] for c in result["cells"])
    checks = [c for p in result["parts"] for c in p["checks"]]
    assert all(c["after_hidden"] == c["hidden"] for c in checks)
    backward = next(p for p in result["parts"] if p["id"] == "check_conv_backward")
    assert [c["hidden"] for c in backward["checks"]] == [False, True] and backward["score"] == 0
    rows = rows_of(course / "grades" / "hw2_conv.csv")
    assert rows["erring"]["check_conv_forward"] == rows["honest"]["check_conv_forward"]


def test_a_process_that_dies_on_a_hidden_case_is_restarted_for_the_next_hidden_checks(graded, course):
    result = json.loads(graded["results"]["crasher"].read_text())
    parts = {p["id"]: p for p in result["parts"]}
    forward = parts["check_conv_forward"]["checks"]
    assert forward[0]["ok"] and not forward[1]["ok"] and "process died" in forward[1]["problem"]
    assert all(c["ok"] for part in ("check_conv_backward", "check_conv_fast") for c in parts[part]["checks"])
    assert parts["check_conv_forward"]["score"] == parts["check_conv_forward"]["points"] / 2
    assert all(c["status"] == "ok" for c in result["cells"])
    page = (course / "feedback" / "hw2_conv" / "crasher.html").read_text(encoding="utf-8")
    assert "conv_forward_naive</b>: did not pass" in page


# ---------------------------------------------------------------- hidden statements, run last


def check_cell(source: str, points: float = 4.0) -> notebook.Cell:
    return notebook.Cell("check_x", source, "check", points)


def test_hidden_statements_run_last_in_order_in_the_cells_namespace(tmp_path):
    """A hidden statement sees what the public ones and the hidden ones before it set, and the
    student's values as the notebook holds them at the end (hw4's answers)."""
    session = grade.Session(tmp_path, timeout=5, limits=sandbox.Limits())
    values = {"answer": "a"}
    session.fetch = values.__getitem__  # the student's namespace, without a sandbox
    cell = check_cell(
        "seen = answer\nassert seen == 'a'\n### BEGIN HIDDEN TESTS\nfirst = seen + answer\nassert first == 'ab'\n"
        "### END HIDDEN TESTS\n"
    )
    part, block = grade.run_check(cell, {}, session)
    assert [c["ok"] for c in part["checks"]] == [True, True, False, False] and part["score"] == 2.0
    values["answer"] = "b"  # a later cell changes it
    assert grade.run_hidden_checks([block], session)
    assert [(c["hidden"], c["ok"], c["after_hidden"]) for c in part["checks"]] == [
        (False, True, False),
        (False, True, False),
        (True, True, True),
        (True, True, True),
    ]
    assert part["score"] == 4.0


def test_hidden_statements_left_when_the_notebooks_time_is_up_score_0_saying_why(tmp_path):
    session = grade.Session(tmp_path, timeout=5, limits=sandbox.Limits(), notebook_timeout=60)
    cell = check_cell("x = 1\n### BEGIN HIDDEN TESTS\nx = 2\n### END HIDDEN TESTS\n", points=2.0)
    part, block = grade.run_check(cell, {}, session)
    session.ends = time.monotonic()  # the notebook's time runs out before the hidden checks
    assert not grade.run_hidden_checks([block], session)
    assert part["checks"][1]["problem"] == session.time_up and part["score"] == 1.0
    assert batch._failure_html(part["checks"][1]).endswith(session.time_up)


def test_printed_output_is_bounded_per_notebook(graded, course):
    stored = graded["results"]["printer"]
    result = json.loads(stored.read_text())
    kept = sum(len(c.get("output", "")) for c in result["cells"])
    assert grade.OUTPUT_BUDGET - 5000 < kept <= grade.OUTPUT_BUDGET
    assert any("more characters of printed output and errors were not kept" in n for n in result["notes"]), result["notes"]
    assert stored.stat().st_size < 1_000_000
    page = course / "feedback" / "hw2_conv" / "printer.html"
    assert page.stat().st_size < 1_000_000
    assert "(the grader keeps 100,000 per notebook)" in page.read_text(encoding="utf-8")


def test_a_stored_result_that_cannot_be_read_is_that_students_failed_row(graded, course):
    folder = course / "grades" / "hw2_conv"
    old = json.loads((folder / "recorder.json").read_text())
    old["parts"][0]["checks"] = [{"hidden": False, "ok": False, "name": "x", "problem": "bad \ud800"}]
    (folder / "recorder.json").write_text(json.dumps(old))  # as the grader stored it before: an escaped surrogate
    (folder / "printer.json").write_text((folder / "printer.json").read_text()[:1000])  # cut short
    feedback = hw(course, "feedback", "hw2_conv")
    assert feedback.returncode == 0, feedback.stderr[-3000:]
    proc = hw(course, "grade", "hw2_conv", "--student", "honest", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    rows = rows_of(course / "grades" / "hw2_conv.csv")
    assert sorted(rows) == STUDENTS
    assert rows["honest"]["total"] == "10" and rows["honest"]["status"] == "graded"
    for student in ("recorder", "printer"):
        assert rows[student]["status"] == "failed" and rows[student]["total"] == "0"
        assert f"the stored result {student}.json could not be read" in rows[student]["problems"]
        assert f"hw.py grade hw2_conv --student {student}" in rows[student]["problems"]
    assert sorted(rows_of(course / "grades" / "hw2_conv_lms.csv")) == STUDENTS
    page = (course / "feedback" / "hw2_conv" / "printer.html").read_text(encoding="utf-8")
    assert "could not be graded" in page and "could not be read" in page


# ---------------------------------------------------------------- tables without a grading


def test_a_row_that_cannot_be_written_leaves_the_others_and_the_old_table_is_replaced_whole(course):
    assignment = grade.load_assignments(course)["hw3_pool"]
    good = {**grade.failed_result(assignment, Path("a.ipynb"), "why"), "student": "a", "status": "graded", "score": 2.0}
    bad = {**good, "student": "b", "parts": None}  # a result the table cannot read
    last = {**good, "student": "c"}
    (course / "grades").mkdir(exist_ok=True)
    batch.write_tables(course, assignment, [good, bad, last])
    rows = rows_of(course / "grades" / "hw3_pool.csv")
    assert list(rows) == ["a", "b", "c"]
    assert rows["b"]["status"] == "failed" and "could not be written to the table" in rows["b"]["problems"]
    assert rows["a"]["total"] == rows["c"]["total"] == "2"
    assert list(rows_of(course / "grades" / "hw3_pool_lms.csv")) == ["a", "b", "c"]
    assert not list((course / "grades").glob(".*.tmp"))


def test_clean_makes_any_text_writable():
    assert clean("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert clean("x\x00\x07\x1b[31m\r\ny\tz\x85") == "x[31m\ny\tz"
    assert clean("é—✓ 中文 😀") == "é—✓ 中文 😀"
    long = clean("z" * 200_000)
    assert long.startswith("z" * 100_000) and "100,000 more characters not shown" in long
    clean("\ud83d" + "\ude00").encode("utf-8")  # even a split pair is made writable


# ---------------------------------------------------------------- similarity


def test_similarity_costs_a_broken_notebook_only_its_own_comparison(course, tmp_path):
    """A notebook nested too deep to read, a lone surrogate in an answer cell, and a student
    called ``reference``: each compared or listed as not compared, the others compared."""
    cls = Class(course, "hw3_pool", tmp_path / "inbox")
    folder = course / "submitted" / "hw3_pool"
    folder.mkdir(parents=True, exist_ok=True)
    for who in ("alice", "bob", "reference"):
        shutil.copy(cls.student(who), folder / f"{who}.ipynb")
    nb = json.loads(cls.student("surr").read_text())
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    cell["source"] = "".join(cell["source"]) + "\n# note " + "\ud800" + "\n"
    (folder / "surr.ipynb").write_text(json.dumps(nb))
    (folder / "deep.ipynb").write_text('{"cells": [], "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = hw(course, "similarity", "hw3_pool")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not compared: deep: the file is not a readable notebook: its JSON is nested" in proc.stdout
    with (course / "grades" / "hw3_pool_similarity" / "similarity.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    pairs = {(r["student_a"], r["student_b"]) for r in rows if not r["verdict"].startswith("not compared")}
    students = ["alice", "bob", "reference", "surr"]
    assert pairs == {(a, b) for i, a in enumerate(students) for b in [*students[i + 1 :], "(reference solution)"]}
    skipped = [r for r in rows if r["verdict"].startswith("not compared")]
    assert [r["student_a"] for r in skipped] == ["deep"]
    html = (course / "grades" / "hw3_pool_similarity" / "similarity.html").read_text(encoding="utf-8")
    assert "students/alice.py" in html and "s0000" not in html
