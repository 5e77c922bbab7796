"""Issue 24, collecting and reading submissions: what a student controls (file names, archive
layouts, entry dates, sizes, JSON) is data, never structure.

- a file name imitating another student's LMS prefix never changes whose file it is (finding 3);
- one upload costs only its own student: budgets are per student (finding 4);
- lateness comes from the LMS's / instructor's time of the file, not from entry dates inside a
  student's zip (finding 16);
- any bytes in a file name are collected safely, and the manifest is valid UTF-8 JSON (finding 20);
- deeply nested JSON gets a reason a student can act on, in the grader and the self-check alike
  (finding 22); an nbformat 3 notebook is converted and graded (finding 23).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from test_grading_collect import HW, make_folder, make_zip, notebook, owner_of, run, skipped, write_roster
from test_selfcheck import selfcheck

REPO = Path(__file__).resolve().parents[1]
HOMEWORK = REPO / "homework"
sys.path.insert(0, str(HOMEWORK))
from grading import collect, grade  # noqa: E402
from grading.notebook import NotebookError, read_submission  # noqa: E402

# ----------------------------------------------------------------------------- finding 3: identities

ALICE = "Alice Ahn_12345_assignsubmission_file"  # what Moodle writes for Alice


@pytest.mark.parametrize(
    "files",
    [
        {  # Moodle, "download as folders" off: Bob names his upload after Alice's Moodle prefix
            f"{ALICE}_{HW}.ipynb": notebook("alice"),
            f"Bob Brown_12347_assignsubmission_file_{ALICE}_{HW}.ipynb": notebook("bob"),
        },
        {  # Moodle folders: Bob's file and sub-folder named like Alice's Moodle folder
            f"{ALICE}/{HW}.ipynb": notebook("alice"),
            f"Bob Brown_12347_assignsubmission_file/{ALICE}/{HW}.ipynb": notebook("bob"),
        },
    ],
    ids=["moodle-flat", "moodle-folders"],
)
def test_a_file_named_like_another_students_moodle_prefix_stays_its_uploaders(tmp_path, files):
    roster = write_roster(tmp_path / "roster.csv", "student_id,name,moodle_id\ns_alice,Alice Ahn,12345\ns_bob,Bob Brown,12347\n")
    for packed in (False, True):
        out = tmp_path / f"out{packed}"
        src = make_zip(tmp_path / "moodle.zip", files) if packed else make_folder(tmp_path / "in", files)
        for ids, kw in ((("alice_ahn", "bob_brown"), {}), (("s_alice", "s_bob"), {"roster": roster})):
            result = run(src, out, **kw)
            assert sorted(result.by_id()) == sorted(ids)
            assert owner_of(out / f"{ids[0]}.ipynb") == "alice"
            assert owner_of(out / f"{ids[1]}.ipynb") == "bob"
            assert result.skipped == [] and result.missing == []


def test_a_students_own_names_in_folder_and_canvas_layouts_never_say_whose_it_is(tmp_path):
    folders = make_folder(
        tmp_path / "in",
        {
            f"alice/{HW}.ipynb": notebook("alice"),
            f"bob/{ALICE}/{HW}.ipynb": notebook("bob"),  # Bob's folder: Moodle-looking names inside
            f"bob/{ALICE}_{HW}.ipynb": notebook("bob"),
            f"carol/alice_{HW}.ipynb": notebook("carol"),  # a flat-looking name in Carol's folder
        },
    )
    result = run(folders, tmp_path / "out")
    assert sorted(result.by_id()) == ["alice", "bob", "carol"]
    for who in ("alice", "bob", "carol"):
        assert owner_of(tmp_path / "out" / f"{who}.ipynb") == who
    assert {s.layout for s in result.submissions} == {"folder"}

    canvas = make_zip(
        tmp_path / "canvas.zip",
        {
            f"ahnalice_101_5001_{HW}.ipynb": notebook("alice"),
            f"brownbob_102_9999_ahnalice_101_9998_{HW}.ipynb": notebook("bob"),  # newer attachment id
        },
    )
    result = run(canvas, tmp_path / "out2")
    assert sorted(result.by_id()) == ["ahnalice", "brownbob"]
    assert owner_of(tmp_path / "out2" / "ahnalice.ipynb") == "alice"
    assert owner_of(tmp_path / "out2" / "brownbob.ipynb") == "bob"


def test_another_lms_account_of_the_same_name_never_takes_a_roster_students_place(tmp_path):
    src = make_zip(
        tmp_path / "canvas.zip",
        {
            f"smithjohn_101_5001_{HW}.ipynb": notebook("john"),
            f"smithjohn_199_5009_{HW}.ipynb": notebook("other-john"),  # another account, uploaded later
        },
    )
    with_id = write_roster(tmp_path / "a.csv", "student_id,name,canvas_id\ns1,John Smith,101\n")
    result = run(src, tmp_path / "out", roster=with_id)
    assert owner_of(tmp_path / "out" / "s1.ipynb") == "john"
    assert skipped(result)[f"smithjohn_199_5009_{HW}.ipynb"] == "canvas 'smithjohn' (id 199): not on the roster"

    by_name = write_roster(tmp_path / "b.csv", "student_id,name\ns1,John Smith\n")
    result = run(src, tmp_path / "out", roster=by_name)
    assert result.submissions == [] and result.missing == ["s1"]
    reason = skipped(result)[f"smithjohn_101_5001_{HW}.ipynb"]
    assert "'smithjohn' (id 101), 'smithjohn' (id 199) all match roster student s1 by name" in reason
    assert "add a canvas_id column" in reason


# ----------------------------------------------------------------------------- finding 4: budgets


def padded(owner: str, size: int, filler: bytes = b" ") -> bytes:
    """A valid notebook of exactly ``size`` bytes: ``owner``'s, padded with JSON white space."""
    data = notebook(owner)
    return data[:-2] + (filler * size)[: size - len(data)] + data[-2:]


def test_a_zip_of_padded_notebooks_costs_only_its_student(tmp_path):
    """The reported attack: 260 KB of zip, ten 20 MB notebooks; before, every classmate after it was missing."""
    inner = tmp_path / "padded.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(10):
            zf.writestr(f"copy{i}_{HW}.ipynb", padded("mallory", collect.MAX_FILE_BYTES))
    assert inner.stat().st_size < 1 << 20
    files = {"aaronmallory_100_5000_work.zip": inner.read_bytes()}
    files |= {f"student{i:02d}_{200 + i}_{6000 + i}_{HW}.ipynb": notebook(f"s{i}") for i in range(30)}
    result = run(make_zip(tmp_path / "canvas.zip", files), tmp_path / "out")
    assert sorted(result.by_id()) == [f"student{i:02d}" for i in range(30)]  # everyone else is collected
    reasons = skipped(result)
    assert len(reasons) == 10 and all(
        "zip bomb" in reasons[f"aaronmallory_100_5000_work.zip!/copy{i}_{HW}.ipynb"] for i in range(10)
    )


def test_a_students_budget_is_their_own_and_the_class_has_none(tmp_path):
    """Incompressible padding: the per-student budget stops a student after what they may send."""
    big = 300_000
    files = {f"mallory/{i}_{HW}.ipynb": padded("mallory", big, b"\t\n \r") for i in range(6)}
    files |= {f"s{i:02d}/{HW}.ipynb": padded(f"s{i}", big, b"\n\t\r ") for i in range(20)}
    src = make_folder(tmp_path / "in", files)
    result = run(src, tmp_path / "out", max_file_bytes=big, max_student_bytes=2 * big)
    assert sorted(result.by_id()) == ["mallory"] + [f"s{i:02d}" for i in range(20)]  # 21 x 300 KB > 6 x 300 KB
    reasons = skipped(result)
    over = [o for o, why in reasons.items() if "one student may send" in why]
    assert over == [f"mallory/{i}_{HW}.ipynb" for i in range(2, 6)]


def test_a_zip_bomb_entry_is_not_unpacked_and_the_rest_of_the_zip_is(tmp_path):
    inner = tmp_path / "work.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"a_{HW}.ipynb", padded("bomb", 8 << 20))
        zf.writestr(f"b_{HW}.ipynb", notebook("ann"))
    result = run(make_zip(tmp_path / "canvas.zip", {"leeann_103_5004_work.zip": inner.read_bytes()}), tmp_path / "out")
    assert owner_of(tmp_path / "out" / "leeann.ipynb") == "ann"
    assert "unpacks to more than 200 times" in skipped(result)[f"leeann_103_5004_work.zip!/a_{HW}.ipynb"]


def test_a_zip_of_many_files_keeps_the_manifest_short_and_a_huge_one_is_not_opened(tmp_path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(30):
            zf.writestr(f"junk/{i:02d}.txt", b"")
            zf.writestr(f".hidden{i:02d}", b"")
        zf.writestr(f"{HW}.ipynb", notebook("ann"))
    huge = tmp_path / "huge.zip"
    with zipfile.ZipFile(huge, "w") as zf:
        for i in range(collect.MAX_ZIP_ENTRIES + 1):
            zf.writestr(f"{i}", b"")
    files = {"leeann_103_5004_many.zip": many.read_bytes(), "mallory_104_5005_huge.zip": huge.read_bytes()}
    result = run(make_zip(tmp_path / "canvas.zip", files | {f"bob_105_5006_{HW}.ipynb": notebook("bob")}), tmp_path / "out")
    assert sorted(result.by_id()) == ["bob", "leeann"]
    reasons = skipped(result)
    assert reasons["mallory_104_5005_huge.zip"].startswith("a zip of more than 10000 files: not opened")
    assert len([o for o in reasons if o.startswith("leeann")]) == 21
    assert reasons["leeann_103_5004_many.zip!/"] == "further files of this zip skipped (40 files)"


def test_thousands_of_tiny_uploads_cost_only_their_student(tmp_path):
    cap = collect.MAX_STUDENT_FILES
    files = {f"mallory_100_{5000 + i}_{i}.ipynb": notebook("mallory") for i in range(cap + 100)}
    files[f"bob_105_9000_{HW}.ipynb"] = notebook("bob")
    result = run(make_zip(tmp_path / "canvas.zip", files), tmp_path / "out")
    assert sorted(result.by_id()) == ["bob", "mallory"]
    reasons = skipped(result)
    assert reasons["canvas 'mallory' (id 100)"] == f"files beyond the first {cap} of one student, not read (100 files)"
    assert len(reasons) == cap  # the older uploads read, and one line for the rest


# ----------------------------------------------------------------------------- finding 16: lateness


@pytest.mark.parametrize("where", ["alice/my work.zip", f"alice_{HW}.zip"], ids=["folder", "flat"])
def test_a_late_zip_is_late_whatever_its_entries_say(tmp_path, where):
    due = datetime(2026, 3, 1, 23, 59, tzinfo=timezone.utc)
    inner = make_zip(tmp_path / "inner.zip", {f"{HW}.ipynb": notebook("alice")}, when=(2026, 2, 1, 12, 0, 0))
    src = make_folder(tmp_path / "in", {where: inner.read_bytes(), f"bob_{HW}.ipynb": notebook("bob")})
    handed_in = (due + timedelta(days=2)).timestamp()
    os.utime(src / where, (handed_in, handed_in))
    on_time = (due - timedelta(hours=1)).timestamp()
    os.utime(src / f"bob_{HW}.ipynb", (on_time, on_time))
    subs = run(src, tmp_path / "out", due=due).by_id()
    assert subs["alice"].late is True
    assert subs["alice"].submitted_at == due + timedelta(days=2)
    assert subs["bob"].late is False


def test_the_outer_files_time_picks_the_newest_not_a_zips_entry_dates(tmp_path):
    old = make_zip(tmp_path / "old.zip", {f"{HW}.ipynb": notebook("alice-old")}, when=(2099, 1, 1, 0, 0, 0))
    src = make_folder(tmp_path / "in", {"alice/old.zip": old.read_bytes(), f"alice/{HW}.ipynb": notebook("alice-new")})
    t0 = datetime(2026, 2, 1, tzinfo=timezone.utc).timestamp()
    os.utime(src / "alice" / "old.zip", (t0, t0))
    os.utime(src / "alice" / f"{HW}.ipynb", (t0 + 60, t0 + 60))
    run(src, tmp_path / "out")
    assert owner_of(tmp_path / "out" / "alice.ipynb") == "alice-new"


# ----------------------------------------------------------------------------- finding 20: any bytes in a name


def test_any_bytes_in_a_file_name_are_data_and_the_manifest_stays_utf8(tmp_path):
    src = make_folder(tmp_path / "in", {f"bob_{HW}.ipynb": notebook("bob")})
    base = os.fsencode(src)
    os.mkdir(base + b"/caf\xe9")
    for raw, owner in ((b"/caf\xe9/" + HW.encode() + b".ipynb", "cafe"), (b"/\x1b[2Jeve_" + HW.encode() + b".ipynb", "eve")):
        with open(base + raw, "wb") as f:
            f.write(notebook(owner))
    result = run(src, tmp_path / "out")
    subs = result.by_id()
    assert owner_of(tmp_path / "out" / "bob.ipynb") == "bob"
    assert subs["caf_xe9"].origin == f"caf\\xe9/{HW}.ipynb"
    assert f"the file's name has bytes that are not UTF-8 or characters that do not print: shown as caf\\xe9/{HW}.ipynb" in (
        subs["caf_xe9"].notes
    )
    assert subs["x1b_2jeve"].origin == f"\\x1b[2Jeve_{HW}.ipynb"  # no terminal control reaches the instructor
    data = json.loads(result.manifest.read_bytes().decode("utf-8"))
    assert sorted(data["students"]) == ["bob", "caf_xe9", "x1b_2jeve"]


def test_identify_errors_with_lone_surrogates_are_written_safely(tmp_path):
    def broken(path: Path) -> str | None:
        raise ValueError("bad " + chr(0xD800))

    src = make_folder(tmp_path / "in", {f"bob_{HW}.ipynb": notebook("bob")})
    result = collect.collect(src, HW, tmp_path / "out", identify=broken)
    data = json.loads(result.manifest.read_bytes().decode("utf-8"))
    assert "identify() failed: ValueError: bad \\ud800" in data["students"]["bob"]["notes"]
    assert collect.safe_id(chr(0xD800)).startswith("student_")


# ----------------------------------------------------------------------------- findings 22-23: reading a notebook


def test_deeply_nested_json_gets_a_students_reason_in_the_grader_and_the_self_check(tmp_path):
    path = tmp_path / f"{HW}.ipynb"
    depth = 100_000
    path.write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + "[" * depth + "]" * depth + "}}")
    reason = f"the file is not a readable notebook: its JSON is nested {depth + 2} levels deep"
    with pytest.raises(NotebookError, match=reason):
        read_submission(path)
    assignments = grade.load_assignments(HOMEWORK)
    sources = {name: a.cells for name, a in assignments.items()}
    result = grade.grade_submission(path, assignments[HW], sources, tmp_path)
    assert result["status"] == "failed" and result["reason"].startswith(reason)
    proc = selfcheck(path)
    assert proc.returncode == 2 and f"✗ cannot be graded: {reason}" in proc.stdout, proc.stdout + proc.stderr
    assert "Recursion" not in proc.stdout + proc.stderr + result["reason"]


def test_moderately_nested_json_is_refused_alike_and_normal_notebooks_pass(tmp_path):
    path = tmp_path / f"{HW}.ipynb"
    path.write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + "[" * 300 + "]" * 300 + "}}")
    with pytest.raises(NotebookError, match="nested 302 levels deep"):
        read_submission(path)
    for scalar in ("5", '"text"', "null"):
        path.write_text(scalar)
        with pytest.raises(NotebookError, match="the file is JSON but not a Jupyter notebook"):
            read_submission(path)
    cells = read_submission(HOMEWORK / "release" / HW / f"{HW}.ipynb")
    assert any((c.get("metadata") or {}).get("nbgrader", {}).get("grade_id") == "conv_forward_naive" for c in cells)


@pytest.mark.parametrize(
    "cell",
    [
        {"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": "conv_forward_naive"}},
        {"cell_type": "code", "source": "x = 1", "metadata": ["nbgrader"]},
        {"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": {"grade_id": ["conv_forward_naive"]}}},
        {"cell_type": "code", "source": ["x = ", 1], "metadata": {}},
    ],
    ids=["nbgrader-text", "metadata-list", "grade-id-list", "source-number"],
)
def test_malformed_cell_metadata_gets_the_same_students_reason_in_the_grader_and_the_self_check(tmp_path, cell):
    path = tmp_path / f"{HW}.ipynb"
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    reason = "cell 1 of the notebook is malformed; open it in Jupyter and save it again"
    assignments = grade.load_assignments(HOMEWORK)
    result = grade.grade_submission(path, assignments[HW], {n: a.cells for n, a in assignments.items()}, tmp_path)
    assert (result["status"], result["reason"]) == ("failed", reason)
    proc = selfcheck(path)
    assert proc.returncode == 2 and f"✗ cannot be graded: {reason}" in proc.stdout, proc.stdout + proc.stderr


def test_an_nbformat3_notebook_is_converted_collected_and_graded(tmp_path):
    from test_grading_hostile import load_hw, run_hw

    course = tmp_path / "homework"
    shutil.copytree(HOMEWORK, course, ignore=shutil.ignore_patterns("submitted", "grades", "feedback", "__pycache__"))
    name = "hw1_shapes"
    sample = tmp_path / "none.py"
    sample.write_text("")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    v4 = inbox / "v4.ipynb"
    load_hw(course).write_sample(name, sample, v4)
    old = nbformat.convert(nbformat.read(v4, as_version=4), 3)
    (inbox / f"oldformat_{name}.ipynb").write_text(nbformat.writes(old, version=3))
    v4.unlink()
    assert json.loads((inbox / f"oldformat_{name}.ipynb").read_text())["nbformat"] == 3
    out = run_hw(course, "collect", name, str(inbox))
    assert out.returncode == 0 and "collected 1 submission" in out.stdout, out.stdout + out.stderr
    proc = run_hw(course, "grade", name, "--quiet")
    with (course / "grades" / f"{name}.csv").open() as f:
        row = next(csv.DictReader(f))
    assert (row["student_id"], row["status"], row["total"]) == ("oldformat", "graded", row["max_total"]), (
        row,
        proc.stdout,
        proc.stderr,
    )
    check = selfcheck(course / "submitted" / name / "oldformat.ipynb", "--timeout", "120")
    assert "7 of 7 public checks pass" in check.stdout, check.stdout + check.stderr
