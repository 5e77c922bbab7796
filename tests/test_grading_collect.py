"""homework/grading/collect.py: taking in a class's submissions from folders, zips, Canvas, Moodle."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "homework"))
from grading import collect  # noqa: E402
from grading.collect import Roster, collect as run_collect  # noqa: E402

HW = "hw2_conv"
BERLIN = ZoneInfo("Europe/Berlin")


# ----------------------------------------------------------------------------- helpers


def notebook(owner: str, assignment: str | None = HW) -> bytes:
    """A minimal notebook; ``owner`` is written in a cell so tests can tell which file was kept."""
    nb = nbformat.v4.new_notebook()
    if assignment is not None:
        nb.metadata["hw"] = assignment
    nb.cells.append(nbformat.v4.new_code_cell(f"owner = {owner!r}"))
    return nbformat.writes(nb).encode()


def identify(path: Path) -> str | None:
    """Stand-in for the grader's identify(): the marker in the notebook's metadata."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["metadata"]["hw"]
    except (ValueError, KeyError, TypeError):
        return None


def owner_of(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    source = "".join(nb["cells"][0]["source"])
    return source.split("=", 1)[1].strip().strip("'")


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def make_zip(path: Path, files: dict[str, bytes], when: tuple = (2026, 2, 20, 12, 0, 0)) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def run(source: Path, dest: Path, **kw) -> collect.CollectResult:
    return run_collect(source, HW, dest, identify=identify, **kw)


def skipped(result) -> dict[str, str]:
    return {s.origin: s.reason for s in result.skipped}


def manifest(result) -> dict:
    return json.loads(result.manifest.read_text(encoding="utf-8"))


def write_roster(path: Path, text: str) -> Roster:
    path.write_text(text, encoding="utf-8")
    return Roster.read(path)


# ----------------------------------------------------------------------------- plain layouts


def test_flat_folder_ids_keep_underscores(tmp_path):
    src = make_folder(
        tmp_path / "in",
        {
            f"jane_doe_{HW}.ipynb": notebook("jane"),
            f"s_12_ab_{HW}.ipynb": notebook("s12"),
            f"bob_{HW}.ipynb": notebook("bob"),
        },
    )
    result = run(src, tmp_path / "out")
    assert sorted(result.by_id()) == ["bob", "jane_doe", "s_12_ab"]
    assert owner_of(tmp_path / "out" / "jane_doe.ipynb") == "jane"
    assert {s.layout for s in result.submissions} == {"flat"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "bob.ipynb",
        "jane_doe.ipynb",
        "manifest.json",
        "s_12_ab.ipynb",
    ]


def test_one_folder_per_student_with_any_file_name(tmp_path):
    # Today's collect names both files after the notebook and loses a student.
    src = make_folder(
        tmp_path / "in",
        {
            f"alice/{HW}.ipynb": notebook("alice"),
            "bob/my_work.ipynb": notebook("bob"),
            "carol/deep/er/answers.ipynb": notebook("carol"),
            "dan/hw2_2024_03_01.ipynb": notebook("dan"),  # looks like a Canvas name, but lies in dan's folder
        },
    )
    result = run(src, tmp_path / "out")
    assert sorted(result.by_id()) == ["alice", "bob", "carol", "dan"]
    assert result.by_id()["dan"].layout == "folder"
    assert owner_of(tmp_path / "out" / "bob.ipynb") == "bob"
    assert result.by_id()["carol"].origin == "carol/deep/er/answers.ipynb"
    assert result.skipped == []


def test_a_single_top_folder_is_looked_into(tmp_path):
    src = make_zip(
        tmp_path / "class.zip",
        {
            f"submissions/alice/{HW}.ipynb": notebook("alice"),
            "submissions/bob/x.ipynb": notebook("bob"),
            "__MACOSX/submissions/alice/._x.ipynb": b"\0",
            "grades.csv": b"student,points\n",  # not a notebook: does not hide the wrapper
        },
    )
    result = run(src, tmp_path / "out")
    assert sorted(result.by_id()) == ["alice", "bob"]
    assert any("submissions/" in n for n in result.notes)
    assert skipped(result)["grades.csv"] == "not a notebook (.csv)"


def test_a_single_students_folder_is_that_student(tmp_path):
    src = make_folder(tmp_path / "in", {"alice/answers.ipynb": notebook("alice")})
    assert sorted(run(src, tmp_path / "out").by_id()) == ["alice"]
    # ... also when it holds only a zip of her work
    src = tmp_path / "in2" / "alice"
    src.mkdir(parents=True)
    make_zip(src / "work.zip", {f"{HW}.ipynb": notebook("alice")})
    result = run(tmp_path / "in2", tmp_path / "out2")
    assert [(s.student_id, s.origin) for s in result.submissions] == [("alice", f"alice/work.zip!/{HW}.ipynb")]


def test_unsafe_or_odd_ids_become_safe_file_names_with_a_note(tmp_path):
    src = make_folder(
        tmp_path / "in",
        {
            "Émile Zola/work.ipynb": notebook("emile"),
            f"Bob.Smith_{HW}.ipynb": notebook("bob"),
        },
    )
    result = run(src, tmp_path / "out")
    subs = result.by_id()
    assert sorted(subs) == ["bob.smith", "emile_zola"]
    assert any("'Émile Zola' was changed to 'emile_zola'" in n for n in subs["emile_zola"].notes)
    for sid in subs:
        assert collect.safe_id(sid) == sid and "/" not in sid


def test_safe_id():
    assert collect.safe_id("Jane Doe") == "jane_doe"
    assert collect.safe_id("../../etc/passwd") == "etc_passwd"
    assert collect.safe_id(".hidden") == "hidden"
    assert collect.safe_id("a__b  c") == "a_b_c"
    other_script = collect.safe_id("王伟")
    assert other_script.startswith("student_") and other_script == collect.safe_id("王伟")


# ----------------------------------------------------------------------------- skipping


def test_another_assignments_notebook_is_skipped_not_a_phantom_student(tmp_path):
    src = make_folder(
        tmp_path / "in",
        {
            f"alice_{HW}.ipynb": notebook("alice"),
            "carol_hw3_pool.ipynb": notebook("carol", assignment="hw3_pool"),
        },
    )
    result = run(src, tmp_path / "out")
    assert sorted(result.by_id()) == ["alice"]
    assert skipped(result)["carol_hw3_pool.ipynb"].startswith(f"cannot tell whose file this is: name it <student>_{HW}.ipynb")
    assert not (tmp_path / "out" / "carol.ipynb").exists()


def test_the_wrong_notebook_handed_in_for_this_assignment_gets_a_row(tmp_path):
    """dave uploaded hw3's notebook as his hw2: his row must tell him, not leave him missing."""
    src = make_folder(tmp_path / "in", {f"dave_{HW}.ipynb": notebook("dave", assignment="hw3_pool")})
    dave = run(src, tmp_path / "out").by_id()["dave"]
    assert dave.readable is False
    assert "is hw3_pool's notebook: collected so that the grader reports it" in dave.notes


def test_unreadable_notebook_is_still_collected(tmp_path):
    broken = b'{"cells": [ this is not json'
    src = make_folder(tmp_path / "in", {f"dave_{HW}.ipynb": broken, f"erin_{HW}.ipynb": notebook("erin")})
    result = run(src, tmp_path / "out")
    dave = result.by_id()["dave"]
    assert dave.readable is False and result.by_id()["erin"].readable is True
    assert (tmp_path / "out" / "dave.ipynb").read_bytes() == broken
    assert any("grader reports it" in n for n in dave.notes)


def test_identify_raising_counts_as_unreadable(tmp_path):
    def fussy(path: Path) -> str | None:
        raise RuntimeError("boom")

    src = make_folder(tmp_path / "in", {f"dave_{HW}.ipynb": notebook("dave")})
    result = run_collect(src, HW, tmp_path / "out", identify=fussy)
    assert result.by_id()["dave"].readable is False
    assert any("RuntimeError: boom" in n for n in result.by_id()["dave"].notes)


def test_non_notebooks_checkpoints_and_mac_metadata_are_skipped_with_reasons(tmp_path):
    src = make_zip(
        tmp_path / "class.zip",
        {
            f"alice_{HW}.ipynb": notebook("alice"),
            "alice_helpers.py": b"x = 1\n",
            "report.pdf": b"%PDF",
            f"__MACOSX/._alice_{HW}.ipynb": b"\0\0",
            f"__MACOSX/._bob_{HW}.ipynb": b"\0\0",
            f"bob/.ipynb_checkpoints/{HW}-checkpoint.ipynb": notebook("bob-old"),
            f"bob/{HW}.ipynb": notebook("bob"),
            ".DS_Store": b"\0",
            "stray.ipynb": notebook("who?"),
        },
    )
    result = run(src, tmp_path / "out")
    assert sorted(result.by_id()) == ["alice", "bob"]
    assert owner_of(tmp_path / "out" / "bob.ipynb") == "bob"
    reasons = skipped(result)
    assert reasons["alice_helpers.py"] == "not a notebook (.py)"
    assert reasons["report.pdf"] == "not a notebook (.pdf)"
    assert reasons["__MACOSX/"] == "macOS metadata, ignored (2 files)"
    assert reasons["bob/.ipynb_checkpoints/"] == "Jupyter checkpoints, ignored (1 file)"
    assert reasons[".DS_Store"].startswith("hidden or system file")
    assert reasons["stray.ipynb"].startswith("cannot tell whose file this is: name it <student>_hw2_conv.ipynb")


# ----------------------------------------------------------------------------- Canvas


CANVAS = {
    # <lastnamefirstname>[_LATE]_<user id>_<attachment id>_<file>
    f"smithjohn_LATE_101_5001_{HW}.ipynb": notebook("john"),
    f"doejane_102_9002_{HW}.ipynb": notebook("jane-first"),
    f"doejane_102_10010_{HW}-1.ipynb": notebook("jane-resubmitted"),  # newer, though "1..." < "9..."
    f"o_brienmary_104_5005_{HW}.ipynb": notebook("mary"),
    f"LATE_anon_x7Kq2_5003_{HW}.ipynb": notebook("anonymous"),
    "leeann_103_text.html": b"<p>online text entry</p>",
}


def test_canvas_download_late_mark_and_resubmission(tmp_path):
    result = run(make_zip(tmp_path / "canvas.zip", CANVAS), tmp_path / "out")
    subs = result.by_id()
    assert sorted(subs) == ["anon_x7kq2", "doejane", "o_brienmary", "smithjohn"]
    assert {s.layout for s in subs.values()} == {"canvas"}
    # The resubmission ("-1", newer attachment id) wins; the first upload is skipped with the reason.
    assert owner_of(tmp_path / "out" / "doejane.ipynb") == "jane-resubmitted"
    assert subs["doejane"].attempt == 2 and subs["smithjohn"].attempt == 1
    reason = skipped(result)[f"doejane_102_9002_{HW}.ipynb"]
    assert reason == f"doejane sent several notebooks; kept the newest: doejane_102_10010_{HW}-1.ipynb"
    assert subs["smithjohn"].late is True and subs["doejane"].late is False
    assert subs["anon_x7kq2"].late is True
    assert "Canvas marked it LATE" in subs["smithjohn"].notes
    # A download carries the download's time, not the submission's.
    assert subs["smithjohn"].submitted_at is None
    assert skipped(result)["leeann_103_text.html"] == "not a notebook (.html)"


def test_canvas_due_date_does_not_trust_download_times(tmp_path):
    due = datetime(2026, 1, 1, tzinfo=BERLIN)  # long before the zip entries' time
    result = run(make_zip(tmp_path / "canvas.zip", CANVAS), tmp_path / "out", due=due)
    assert result.by_id()["doejane"].late is False
    assert result.by_id()["smithjohn"].late is True
    assert any("LATE mark only" in n for n in result.notes)


def test_canvas_same_name_two_people_get_distinct_ids(tmp_path):
    src = make_zip(
        tmp_path / "canvas.zip",
        {
            f"smithjohn_101_5001_{HW}.ipynb": notebook("john-101"),
            f"smithjohn_105_5007_{HW}.ipynb": notebook("john-105"),
        },
    )
    result = run(src, tmp_path / "out")
    assert sorted(result.by_id()) == ["smithjohn_101", "smithjohn_105"]
    assert owner_of(tmp_path / "out" / "smithjohn_105.ipynb") == "john-105"


def test_canvas_student_zip_is_opened_one_level(tmp_path):
    inner = tmp_path / "inner.zip"
    make_zip(
        inner,
        {
            f"work/{HW}.ipynb": notebook("ann"),
            f"work/.ipynb_checkpoints/{HW}-checkpoint.ipynb": notebook("ann-old"),
            "work/data.zip": b"PK",
            "work/notes.txt": b"hi",
        },
    )
    src = make_zip(
        tmp_path / "canvas.zip",
        {
            "leeann_LATE_103_5004_my work.zip": inner.read_bytes(),
            f"doejane_102_5002_{HW}.ipynb": notebook("jane"),
        },
    )
    result = run(src, tmp_path / "out")
    ann = result.by_id()["leeann"]
    assert ann.origin == f"leeann_LATE_103_5004_my work.zip!/work/{HW}.ipynb"
    assert ann.late is True
    assert owner_of(tmp_path / "out" / "leeann.ipynb") == "ann"
    reasons = skipped(result)
    assert reasons["leeann_LATE_103_5004_my work.zip!/work/data.zip"] == "a zip inside a student's zip is not unpacked"
    assert reasons["leeann_LATE_103_5004_my work.zip!/work/.ipynb_checkpoints/"].startswith("Jupyter checkpoints")


def test_canvas_roster_by_canvas_id_then_by_name(tmp_path):
    roster = write_roster(
        tmp_path / "roster.csv",
        "student_id,name,email,canvas_id\n"
        "s001,John Smith,js@uni.example,101\n"
        's002,"Doe, Jane",jd@uni.example,\n'
        "s003,Mary O'Brien,mo@uni.example,\n"
        "s004,Never Submitted,ns@uni.example,\n",
    )
    result = run(make_zip(tmp_path / "canvas.zip", CANVAS), tmp_path / "out", roster=roster)
    subs = result.by_id()
    assert sorted(subs) == ["s001", "s002", "s003"]
    assert owner_of(tmp_path / "out" / "s002.ipynb") == "jane-resubmitted"
    assert any("matched to the roster by name" in n for n in subs["s002"].notes)
    assert not any("by name" in n for n in subs["s001"].notes)  # matched by canvas_id
    assert result.missing == ["s004"]
    assert skipped(result)[f"LATE_anon_x7Kq2_5003_{HW}.ipynb"].endswith("not on the roster")


# ----------------------------------------------------------------------------- Moodle


MOODLE = {
    # Moodle 4.1+: <Full Name>_<participant id>_assignsubmission_file/<file>
    f"Mary Smith_12345_assignsubmission_file/{HW}.ipynb": notebook("mary"),
    "Mary Smith_12345_assignsubmission_onlinetext/onlinetext.html": b"<p>hi</p>",
    # Moodle 3.1-4.0 ends the folder with "_"; a file in a sub-folder keeps its path.
    "Ann Lee_12346_assignsubmission_file_/work/answers.ipynb": notebook("ann"),
    # "download as folders" off: one flat file name.
    f"Tom Brown_12347_assignsubmission_file_{HW}.ipynb": notebook("tom"),
    "Tom Brown_12347_assignsubmission_file_notes.pdf": b"%PDF",
}


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "zip"])
def test_moodle_download_folders_and_flat(tmp_path, packed):
    src = make_zip(tmp_path / "moodle.zip", MOODLE) if packed else make_folder(tmp_path / "in", MOODLE)
    result = run(src, tmp_path / "out")
    subs = result.by_id()
    assert sorted(subs) == ["ann_lee", "mary_smith", "tom_brown"]
    assert {s.layout for s in subs.values()} == {"moodle"}
    assert owner_of(tmp_path / "out" / "ann_lee.ipynb") == "ann"
    reasons = skipped(result)
    assert reasons["Mary Smith_12345_assignsubmission_onlinetext/onlinetext.html"] == (
        "Moodle onlinetext entry, ignored (only file submissions are collected)"
    )
    assert reasons["Tom Brown_12347_assignsubmission_file_notes.pdf"] == "not a notebook (.pdf)"
    assert all(s.submitted_at is None for s in subs.values())


def test_moodle_roster_by_name_in_any_order(tmp_path):
    roster = write_roster(
        tmp_path / "roster.csv",
        "Student_ID,Name\n"  # header case does not matter
        'u1,"Smith, Mary"\n'
        "u2,ANN LEE\n"
        "u3,Zed Absent\n",
    )
    result = run(make_folder(tmp_path / "in", MOODLE), tmp_path / "out", roster=roster)
    assert sorted(result.by_id()) == ["u1", "u2"]
    assert result.missing == ["u3"]
    assert skipped(result)[f"Tom Brown_12347_assignsubmission_file_{HW}.ipynb"] == (
        "moodle 'Tom Brown' (id 12347): not on the roster"
    )


# ----------------------------------------------------------------------------- roster, duplicates, lateness


def test_roster_matches_ids_emails_and_reports_missing_and_strangers(tmp_path):
    roster = write_roster(
        tmp_path / "roster.csv",
        "\ufeffstudent_id,name,email\n"  # Excel's byte-order mark
        "alice,Alice A,alice@uni.example\n"
        "B.Bob,Bob B,bob@uni.example\n"
        "carl,Carl C,carl@uni.example\n"
        "\n",
    )
    src = make_folder(
        tmp_path / "in",
        {
            f"alice_{HW}.ipynb": notebook("alice"),
            f"b.bob/{HW}.ipynb": notebook("bob"),  # case differs from the roster id
            f"mallory_{HW}.ipynb": notebook("mallory"),
        },
    )
    result = run(src, tmp_path / "out", roster=roster)
    assert sorted(result.by_id()) == ["B.Bob", "alice"]
    assert (tmp_path / "out" / "B.Bob.ipynb").is_file()
    assert result.missing == ["carl"]
    assert skipped(result)[f"mallory_{HW}.ipynb"] == "flat 'mallory': not on the roster"
    data = manifest(result)
    assert data["missing"] == ["carl"] and sorted(data["students"]) == ["B.Bob", "alice"]


def test_roster_errors_say_what_to_fix(tmp_path):
    with pytest.raises(ValueError, match="no 'student_id' column"):
        write_roster(tmp_path / "a.csv", "id,name\n1,x\n")
    with pytest.raises(ValueError, match=r"line 3: student_id 'a/b' is not usable as a file name"):
        write_roster(tmp_path / "b.csv", "student_id\nok\na/b\n")
    with pytest.raises(ValueError, match="repeats line 2"):
        write_roster(tmp_path / "c.csv", "student_id\nBob\nbob\n")


def test_two_files_of_one_student_keep_the_newest(tmp_path):
    src = make_folder(
        tmp_path / "in",
        {
            f"alice/{HW}.ipynb": notebook("alice-old"),
            "alice/final.ipynb": notebook("alice-new"),
            f"bob/{HW}.ipynb": notebook("bob-good"),
            "bob/zzz_broken.ipynb": b"not json",
        },
    )
    t0 = datetime(2026, 2, 1, tzinfo=timezone.utc).timestamp()
    os.utime(src / "alice" / f"{HW}.ipynb", (t0, t0))
    os.utime(src / "alice" / "final.ipynb", (t0 + 60, t0 + 60))
    os.utime(src / "bob" / f"{HW}.ipynb", (t0, t0))
    os.utime(src / "bob" / "zzz_broken.ipynb", (t0 + 60, t0 + 60))  # newer, but unreadable
    result = run(src, tmp_path / "out")
    assert owner_of(tmp_path / "out" / "alice.ipynb") == "alice-new"
    assert skipped(result)[f"alice/{HW}.ipynb"] == "alice sent several notebooks; kept the newest: alice/final.ipynb"
    assert owner_of(tmp_path / "out" / "bob.ipynb") == "bob-good"
    assert skipped(result)["bob/zzz_broken.ipynb"] == f"unreadable, and bob has a readable notebook: bob/{HW}.ipynb"


def test_due_date_marks_late_from_file_times(tmp_path):
    due = datetime(2026, 3, 1, 23, 59, tzinfo=BERLIN)
    src = make_folder(tmp_path / "in", {f"early_{HW}.ipynb": notebook("e"), f"tardy_{HW}.ipynb": notebook("t")})
    before, after = (due - timedelta(hours=1)).timestamp(), (due + timedelta(minutes=5)).timestamp()
    os.utime(src / f"early_{HW}.ipynb", (before, before))
    os.utime(src / f"tardy_{HW}.ipynb", (after, after))
    result = run(src, tmp_path / "out", due=due)
    subs = result.by_id()
    assert subs["early"].late is False and subs["tardy"].late is True
    assert subs["tardy"].submitted_at == due + timedelta(minutes=5)
    assert manifest(result)["students"]["tardy"]["submitted_at"] == "2026-03-02T00:04:00+01:00"


def test_zip_times_without_a_zone_are_read_in_the_due_dates_zone(tmp_path):
    due = datetime(2026, 3, 1, 23, 59, tzinfo=BERLIN)
    src = tmp_path / "class.zip"
    with zipfile.ZipFile(src, "w") as zf:
        # 23:00 Berlin is on time; read as UTC it would be midnight Berlin, i.e. late.
        zf.writestr(zipfile.ZipInfo(f"ontime_{HW}.ipynb", date_time=(2026, 3, 1, 23, 0, 0)), notebook("o"))
        zf.writestr(zipfile.ZipInfo(f"late_{HW}.ipynb", date_time=(2026, 3, 2, 0, 30, 0)), notebook("l"))
    result = run(src, tmp_path / "out", due=due)
    assert result.by_id()["ontime"].late is False
    assert result.by_id()["late"].late is True


def test_zip_extended_timestamp_is_utc():
    info = zipfile.ZipInfo("x.ipynb", date_time=(2000, 1, 1, 0, 0, 0))
    stamp = int(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc).timestamp())
    info.extra = b"UT" + (5).to_bytes(2, "little") + b"\x01" + stamp.to_bytes(4, "little")
    assert collect._zip_time(info, BERLIN) == datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_naive_due_is_refused(tmp_path):
    src = make_folder(tmp_path / "in", {f"a_{HW}.ipynb": notebook("a")})
    with pytest.raises(ValueError, match="timezone-aware"):
        run(src, tmp_path / "out", due=datetime(2026, 3, 1))


# ----------------------------------------------------------------------------- safety


def test_zip_slip_entries_are_skipped_and_nothing_escapes(tmp_path):
    src = make_zip(
        tmp_path / "evil.zip",
        {
            f"../escaped_{HW}.ipynb": notebook("evil"),
            f"/abs/rooted_{HW}.ipynb": notebook("evil"),
            f"..\\..\\windows_{HW}.ipynb": notebook("evil"),
            f"alice_{HW}.ipynb": notebook("alice"),
        },
    )
    dest = tmp_path / "box" / "out"
    result = run(src, dest)
    assert sorted(result.by_id()) == ["alice"]
    reasons = skipped(result)
    assert reasons[f"../escaped_{HW}.ipynb"].startswith("unsafe path in the zip")
    assert reasons[f"/abs/rooted_{HW}.ipynb"].startswith("unsafe path in the zip")
    assert reasons[f"..\\..\\windows_{HW}.ipynb"].startswith("unsafe path in the zip")
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["box/out/alice.ipynb", "box/out/manifest.json", "evil.zip"]


def test_size_limits_per_file_and_per_student(tmp_path):
    src = make_folder(
        tmp_path / "in",
        {
            f"big_{HW}.ipynb": notebook("big") + b" " * 5000,
            f"a/{HW}.ipynb": notebook("a"),
            "a/second.ipynb": notebook("a2"),
            f"b_{HW}.ipynb": notebook("b"),
        },
    )
    size = len(notebook("a2"))
    result = run(src, tmp_path / "out", max_file_bytes=2000, max_student_bytes=size + 10)
    assert sorted(result.by_id()) == ["a", "b"]  # a's second file would pass a's budget, never b's
    reasons = skipped(result)
    assert "over the 0 MB limit for one file" in reasons[f"big_{HW}.ipynb"]
    assert "of the 0 MB one student may send" in reasons["a/second.ipynb"]


def test_zip_entry_lying_about_its_size_is_not_extracted(tmp_path):
    src = make_zip(tmp_path / "class.zip", {f"bomb_{HW}.ipynb": b"x" * 10_000, f"ok_{HW}.ipynb": notebook("ok")})
    real_entries = collect._zip_entries

    def lying(zf, tz):
        for entry in real_entries(zf, tz):
            entry.size = 10  # a crafted header
            yield entry

    collect._zip_entries, saved = lying, collect._zip_entries
    try:
        result = run(src, tmp_path / "out", max_file_bytes=5000)
    finally:
        collect._zip_entries = saved
    assert sorted(result.by_id()) == ["ok"]
    assert "holds more than" in skipped(result)[f"bomb_{HW}.ipynb"]


def test_symlinks_in_a_folder_are_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    src = make_folder(tmp_path / "in", {f"alice_{HW}.ipynb": notebook("alice")})
    (src / f"mallory_{HW}.ipynb").symlink_to(secret)
    result = run(src, tmp_path / "out")
    assert sorted(result.by_id()) == ["alice"]
    assert skipped(result)[f"mallory_{HW}.ipynb"] == "a symbolic link: not followed"


def test_dest_is_replaced_but_foreign_folders_are_refused(tmp_path):
    src = make_folder(tmp_path / "in", {f"alice_{HW}.ipynb": notebook("alice")})
    dest = tmp_path / "out"
    run(src, dest)
    (dest / "stale.ipynb").write_text("from an earlier run")
    run(src, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["alice.ipynb", "manifest.json"]

    foreign = tmp_path / "my_documents"
    make_folder(foreign, {"thesis.tex": b"..."})
    with pytest.raises(ValueError, match="non-empty folder that collect did not write"):
        run(src, foreign)
    assert (foreign / "thesis.tex").exists()
    with pytest.raises(ValueError, match="inside the source"):
        run(src, src / "collected")
    with pytest.raises(ValueError, match="would delete the source"):
        run(src, tmp_path)


def test_bad_sources_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run(tmp_path / "nope.zip", tmp_path / "out")
    damaged = make_zip(tmp_path / "damaged.zip", {f"a_{HW}.ipynb": notebook("a") * 50})
    data = bytearray(damaged.read_bytes())
    data[40:400] = bytes(360)  # the entry's data and header, not the directory at the end
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged zip"):
        run(damaged, tmp_path / "out")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="neither a folder nor a .zip"):
        run(tmp_path / "notes.txt", tmp_path / "out")


def test_class_zip_inside_a_folder_is_not_guessed(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    make_zip(src / "canvas_download.zip", CANVAS)
    result = run(src, tmp_path / "out")
    assert result.submissions == []
    assert skipped(result)["canvas_download.zip"].startswith("a zip that is not one student's submission")


# ----------------------------------------------------------------------------- manifest


def test_manifest_is_complete_and_deterministic(tmp_path):
    files = {**CANVAS, "carol_hw3_pool.ipynb": notebook("c", assignment="hw3_pool"), "x.py": b""}
    src = make_zip(tmp_path / "canvas.zip", files)
    first = run(src, tmp_path / "one")
    second = run(src, tmp_path / "two")
    assert first.manifest.read_bytes() == second.manifest.read_bytes()
    data = manifest(first)
    assert data["assignment"] == HW and data["source"] == "canvas.zip" and data["due"] is None
    assert list(data["students"]) == sorted(data["students"])
    john = data["students"]["smithjohn"]
    assert john == {
        "file": "smithjohn.ipynb",
        "origin": f"smithjohn_LATE_101_5001_{HW}.ipynb",
        "layout": "canvas",
        "submitted_at": None,
        "late": True,
        "attempt": 1,
        "readable": True,
        "notes": john["notes"],
    }
    origins = [s["origin"] for s in data["skipped"]]
    assert origins == sorted(origins)
    assert "carol_hw3_pool.ipynb" in origins
    assert data["missing"] == []
