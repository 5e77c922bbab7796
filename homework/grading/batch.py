"""Grading a class: every submission in parallel, one result per student, the tables and feedback.

Outputs, under the course folder:

    grades/<A>/<student>.json     the full result of one student (kept between runs: a regrade of
                                  one student replaces only that file)
    grades/<A>.csv                one row per student: every check cell's score, total, status, late, problems
    grades/<A>_lms.csv            student_id, score, max_score, late: the columns an LMS import needs
    feedback/<A>/<student>.html   what each student gets back (also when the notebook could not be graded)

Every file is written whole or not at all (a temporary file renamed over the old one), and each
student's files on their own: a result that cannot be read or shown makes that student's row
"failed" with the reason, never a table cut short or a crash for the class.
"""

from __future__ import annotations

import csv
import html
import io
import json
import multiprocessing
import os
import random
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import grade, reference
from .sandbox import Limits, isolation
from .text import clean as clean_text

_WORKER: dict = {}


@dataclass
class Summary:
    graded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # could not be graded: the exit code says so
    skipped: list[str] = field(default_factory=list)  # files collect did not take (with reasons)
    missing: list[str] = field(default_factory=list)  # roster students without a submission

    def text(self) -> str:
        lines = [
            f"graded {len(self.graded)}, failed {len(self.failed)}, skipped {len(self.skipped)}, missing {len(self.missing)}"
        ]
        for label, items in (("failed (could not be graded)", self.failed), ("skipped", self.skipped), ("missing", self.missing)):
            if items:
                lines.append(f"  {label}: " + "; ".join(items))
        return "\n".join(lines)


def _init_worker(course: str, name: str, files: str, limits: Limits) -> None:
    import matplotlib

    matplotlib.use("Agg")
    assignments = grade.load_assignments(Path(course))
    _WORKER.update(
        assignment=assignments[name], files=Path(files), limits=limits, sources={k: v.cells for k, v in assignments.items()}
    )
    _WORKER["trusted"] = grade.trusted_namespace(_WORKER["assignment"])


def _grade_one(student: str, path: str, salt: int, timeout: float | None, notebook_timeout: float | None) -> dict:
    w = _WORKER
    try:
        result = grade.grade_submission(
            Path(path),
            w["assignment"],
            w["sources"],
            w["files"],
            salt=salt,
            timeout=timeout,
            limits=w["limits"],
            trusted=dict(w["trusted"]),
            notebook_timeout=notebook_timeout,
        )
    except Exception as err:  # noqa: BLE001 - a grader fault is this student's failed row, not a crash
        result = grade.failed_result(
            w["assignment"],
            path,
            clean_text(
                f"the grader failed on this notebook ({type(err).__name__}: {err}); regrade this student, "
                "and report it if it happens again",
                2000,
            ),
            salt,
        )
    result["student"] = student
    return result


def grade_class(
    course: Path,
    name: str,
    submissions: dict[str, Path],
    *,
    jobs: int | None = None,
    timeout: float | None = None,
    notebook_timeout: float | None = None,
    salt: int | None = None,
    limits: Limits = Limits(),
    manifest: dict | None = None,
    progress: bool = True,
) -> tuple[list[dict], Summary]:
    """Grade ``submissions`` (student -> notebook) of assignment ``name``; write the results, tables
    and feedback under ``course``; return (all results on file, summary)."""
    course = Path(course)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions) or 1))
    salt = random.SystemRandom().randrange(2**31) if salt is None else salt
    assignment = grade.load_assignments(course)[name]
    manifest = manifest or {}
    late = {s: bool(m.get("late")) for s, m in manifest.get("students", {}).items()}
    out = course / "grades" / name
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cnn-grading-files-") as tmp:
        os.chmod(tmp, 0o755)
        files = reference.build(name, assignment.keep, Path(tmp) / "files")
        ctx = multiprocessing.get_context("forkserver" if sys.platform.startswith("linux") else "spawn")
        bar = _progress(len(submissions), name, progress)
        with ProcessPoolExecutor(
            jobs, mp_context=ctx, initializer=_init_worker, initargs=(str(course), name, str(files), limits)
        ) as pool:
            futures = {
                pool.submit(_grade_one, student, str(path), salt, timeout, notebook_timeout): (student, path)
                for student, path in sorted(submissions.items())
            }
            for future in as_completed(futures):
                student, path = futures[future]
                try:
                    result = future.result()
                except Exception as err:  # noqa: BLE001 - a lost worker is this student's failed row
                    why = clean_text(f"the grader failed on this notebook ({type(err).__name__}: {err}); regrade it", 2000)
                    result = grade.failed_result(assignment, path, why)
                    result["student"] = student
                result["late"] = late.get(student, False)
                _write_atomic(out / f"{student}.json", json.dumps(result, indent=1, default=str))
                bar.update(1)
        bar.close()
    results = results_of(course, name)
    write_tables(course, assignment, results)
    unwritten = []
    for result in results:
        try:
            write_feedback(course, result)
        except Exception as err:  # noqa: BLE001 - one page that cannot be written does not stop the others
            unwritten.append(f"{result['student']}: the feedback page could not be written ({type(err).__name__}: {err})")
    now = [r for r in results if r["student"] in submissions]  # this run's students (a regrade: a few)
    summary = Summary(
        graded=[r["student"] for r in now if r["status"] == "graded"],
        failed=[f"{r['student']}: {r['reason']}" for r in now if r["status"] != "graded"] + unwritten,
        skipped=[f"{s['origin']}: {s['reason']}" for s in manifest.get("skipped", [])],
        missing=list(manifest.get("missing", [])),
    )
    return results, summary


def _progress(total: int, name: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"grading {name}", unit="notebook", disable=not enabled)


# ------------------------------------------------------------------ tables


def problems(result: dict) -> str:
    """One line: why the student lost points (the first failure of each part)."""
    if result["status"] != "graded":
        return f"not graded: {result['reason']}"
    out = []
    for part in result["parts"]:
        failure = next((c for c in part["checks"] if not c["ok"]), None)
        if failure:
            out.append(f"{part['id']}: {failure.get('name')} {failure.get('problem')}".strip())
    return "; ".join(out)


def _fmt(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")


def write_tables(course: Path, assignment: grade.Assignment, results: list[dict]) -> None:
    """``grades/<A>.csv`` and ``grades/<A>_lms.csv``, each written whole (a row that cannot be
    written becomes a failed row with the reason, the others are unaffected)."""
    checks = [c for c in assignment.cells if c.kind == "check"]
    grades = Path(course) / "grades"
    header = ["student_id", *[c.grade_id for c in checks], "total", "max_total", "status", "late", "problems"]

    def row(r: dict) -> list:
        scores = {p["id"]: p["score"] for p in r["parts"]}
        return [
            r["student"],
            *[_fmt(scores.get(c.grade_id, 0)) for c in checks],
            _fmt(r["score"]),
            _fmt(assignment.max_score),
            r["status"],
            "late" if r.get("late") else "",
            problems(r),
        ]

    def lms_row(r: dict) -> list:
        return [r["student"], _fmt(r["score"]), _fmt(assignment.max_score), "yes" if r.get("late") else "no"]

    def broken(r: dict, err: Exception) -> dict:
        student = clean_text(str(r.get("student")), 200)
        reason = f"its result could not be written to the table ({type(err).__name__}: {err}); regrade this student"
        reason = clean_text(reason, 500)
        return {**grade.failed_result(assignment, Path(f"{student}.ipynb"), reason), "student": student}

    _write_atomic(grades / f"{assignment.name}.csv", _csv([header], results, row, broken))
    lms_header = ["student_id", "score", "max_score", "late"]
    _write_atomic(grades / f"{assignment.name}_lms.csv", _csv([lms_header], results, lms_row, broken))


def _csv(head: list[list], results: list[dict], row: Callable[[dict], list], broken: Callable[[dict, Exception], dict]) -> str:
    """The CSV text of ``head`` and one ``row(r)`` per result; ``row(broken(r, err))`` where that fails."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(head)
    for r in results:
        try:
            line = _csv_line(row(r))
        except Exception as err:  # noqa: BLE001 - one student's bad result is that student's row
            line = _csv_line(row(broken(r, err)))
        out.write(line)
    return out.getvalue()


def _csv_line(values: list) -> str:
    """One CSV line, checked to be text a UTF-8 file can hold."""
    buf = io.StringIO()
    csv.writer(buf).writerow(values)
    line = buf.getvalue()
    line.encode("utf-8")
    return line


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file beside it, renamed over it."""
    data = text.encode("utf-8")  # fails before the old file is touched
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ feedback

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
.ok{color:#176b2c}.bad{color:#a0141e}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;white-space:pre-wrap}"""


HIDDEN_RULE = (
    "Hidden checks run after your last cell, on cases your code has not seen before: for them this page shows "
    "only whether they passed and the likely mistake."
)


def _failure_html(check: dict) -> str:
    """A failed check for the student: all of a public check (they run before any hidden case is
    sent); of a hidden one (``after_hidden``), only its name, the likely mistake and a problem in
    the grader's own words (a time-out, a missing name): the student's code could write what it
    sees of a hidden case into its errors or values. Of a hidden multiple-choice question only its name."""
    if check.get("after_hidden", check["hidden"]):
        problem = check.get("problem") if check.get("grader_text") else "did not pass"
        text = f"<b>{html.escape(str(check.get('name')))}</b>: {html.escape(str(problem))}"
        fields = [] if check["hidden"] and check.get("choice") else ["hint"]
    else:
        text = f"<b>{html.escape(str(check.get('name')))}</b>: {html.escape(str(check.get('problem')))}"
        fields = ["case", "expected", "got", "hint"]
    for key in fields:
        if check.get(key) not in (None, ""):
            label = "likely mistake" if key == "hint" else key
            text += f"<br><i>{label}:</i> {html.escape(str(check[key]))}"
    return text


def write_feedback(course: Path, result: dict) -> Path:
    a, student = result["assignment"], result["student"]
    path = Path(course) / "feedback" / a / f"{student}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    e = html.escape
    body = [
        f"<h1>{e(a)}: feedback for {e(student)}</h1>",
        f"<p><b>Score: {_fmt(result['score'])} / {_fmt(result['max_score'])}</b>"
        + (" (submitted late)" if result.get("late") else "")
        + "</p>",
    ]
    if result["status"] != "graded":
        body.append(f"<p class=bad><b>Your notebook could not be graded:</b> {e(str(result['reason']))}</p>")
    for note in result.get("shown_notes", result.get("notes", [])):
        body.append(f"<p>Note: {e(note)}</p>")
    withheld = False
    if result["parts"]:
        body.append("<h2>Checks</h2><table><tr><th>part</th><th>score</th><th>what went wrong</th></tr>")
        for part in result["parts"]:
            failed = [c for c in part["checks"] if not c["ok"]]
            n = len(part["checks"])
            if not n:
                detail = "not checked: the notebook could not be graded (see above)"
            else:
                detail = f"{n - len(failed)} of {n} checks passed" + "".join("<br>" + _failure_html(c) for c in failed)
                withheld = withheld or any(c.get("after_hidden") for c in failed)
            body.append(
                f"<tr><td>{e(part['id'])}</td><td class={'bad' if failed or not n else 'ok'}>"
                f"{_fmt(part['score'])} / {_fmt(part['points'])}</td><td>{detail}</td></tr>"
            )
        body.append("</table>")
    ran = result.get("cells", [])
    later = sum(1 for c in ran if c.get("after_hidden"))
    if withheld or later:
        after = f" {later} of your notebook's cells ran after a hidden check; their output is not shown." if later else ""
        body.append(f"<p>{HIDDEN_RULE}{after}</p>")
    cells = [c for c in ran if (c["origin"] != "source" or c["status"] != "ok") and not c.get("after_hidden")]
    if cells:
        body.append("<h2>Your cells as the grader ran them</h2>")
        for c in cells:
            status = {
                "ok": "ran",
                "error": "raised an error",
                "timeout": "was stopped (time limit)",
                "died": "crashed the notebook's process",
            }.get(c["status"], c["status"])
            body.append(f"<h3>{e(c['label'])}: {e(status)} ({c['seconds']:.1f} s)</h3>")
            if c.get("error"):
                body.append(f"<pre class=bad>{e(c['error'])}\n{e(c.get('traceback', ''))}</pre>")
            if c.get("output"):
                body.append(f"<pre>{e(c['output'])}</pre>")
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{e(a)} feedback: {e(student)}</title>"
        f"<style>{_STYLE}</style><body>{''.join(body)}</body></html>"
    )
    _write_atomic(path, page)
    return path


def warn_without_isolation(stream=sys.stderr) -> bool:
    """Print a loud warning when student code would run without a sandbox; True if so."""
    if isolation() != "none":
        return False
    bar = "!" * 78
    print(
        f"{bar}\nWARNING: bubblewrap (bwrap) is not available, so student code runs WITHOUT ISOLATION:\n"
        "it can read and change your files, use the network and see the other submissions.\n"
        "Grade on Linux with bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap); see\n"
        f"homework/README.md, 'Isolation'.\n{bar}",
        file=stream,
    )
    return True


RESULT_FIELDS = {"student": str, "status": str, "score": (int, float), "max_score": (int, float), "parts": list, "cells": list}


def results_of(course: Path, name: str) -> list[dict]:
    """The stored result of every student of assignment ``name``; one that cannot be read (cut
    short, not valid text, not a result) is that student's failed row with the reason."""
    assignment = grade.load_assignments(Path(course))[name]
    out = []
    for path in sorted((Path(course) / "grades" / name).glob("*.json")):
        try:
            result = _read_result(path)
        except Exception as err:  # noqa: BLE001 - any unreadable file is this student's row, with why
            reason = clean_text(
                f"the stored result {path.name} could not be read ({type(err).__name__}: {err}); "
                f"regrade this student: hw.py grade {name} --student {path.stem}",
                500,
            )
            result = grade.failed_result(assignment, Path(f"{path.stem}.ipynb"), reason)
            result["student"] = clean_text(path.stem, 200)
        out.append(result)
    return out


def _read_result(path: Path) -> dict:
    """A stored result, checked: a dict with the fields the tables read, all of it valid text."""
    result = json.loads(path.read_bytes().decode("utf-8"))
    if not isinstance(result, dict):
        raise ValueError("not a result")
    wrong = [k for k, kind in RESULT_FIELDS.items() if not isinstance(result.get(k), kind)]
    if wrong:
        raise ValueError(f"missing or malformed: {', '.join(wrong)}")
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError on a lone surrogate
    return result


__all__ = ["Summary", "grade_class", "write_tables", "write_feedback", "warn_without_isolation", "problems", "results_of"]
