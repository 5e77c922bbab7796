"""Grading a class: every submission in parallel, one result per student, the tables and feedback.

Outputs, under the course folder:

    grades/<A>/<student>.json     the full result of one student (kept between runs: a regrade of
                                  one student replaces only that file)
    grades/<A>.csv                one row per student: every check cell's score, total, status, late, problems
    grades/<A>_lms.csv            student_id, score, max_score, late: the columns an LMS import needs
    feedback/<A>/<student>.html   what each student gets back (also when the notebook could not be graded)
"""

from __future__ import annotations

import csv
import html
import json
import multiprocessing
import os
import random
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import grade, reference
from .sandbox import Limits, isolation

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
            f"the grader failed on this notebook "
            f"({type(err).__name__}: {err}); regrade this student, and report it "
            "if it happens again",
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
            futures = [
                pool.submit(_grade_one, student, str(path), salt, timeout, notebook_timeout)
                for student, path in sorted(submissions.items())
            ]
            for future in as_completed(futures):
                result = future.result()
                result["late"] = late.get(result["student"], False)
                (out / f"{result['student']}.json").write_text(json.dumps(result, indent=1, default=str))
                bar.update(1)
        bar.close()
    results = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    write_tables(course, assignment, results)
    for result in results:
        write_feedback(course, result)
    now = [r for r in results if r["student"] in submissions]  # this run's students (a regrade: a few)
    summary = Summary(
        graded=[r["student"] for r in now if r["status"] == "graded"],
        failed=[f"{r['student']}: {r['reason']}" for r in now if r["status"] != "graded"],
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
    checks = [c for c in assignment.cells if c.kind == "check"]
    grades = Path(course) / "grades"
    with open(grades / f"{assignment.name}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", *[c.grade_id for c in checks], "total", "max_total", "status", "late", "problems"])
        for r in results:
            scores = {p["id"]: p["score"] for p in r["parts"]}
            writer.writerow(
                [
                    r["student"],
                    *[_fmt(scores.get(c.grade_id, 0)) for c in checks],
                    _fmt(r["score"]),
                    _fmt(assignment.max_score),
                    r["status"],
                    "late" if r.get("late") else "",
                    problems(r),
                ]
            )
    with open(grades / f"{assignment.name}_lms.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "score", "max_score", "late"])
        for r in results:
            writer.writerow([r["student"], _fmt(r["score"]), _fmt(assignment.max_score), "yes" if r.get("late") else "no"])


# ------------------------------------------------------------------ feedback

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
.ok{color:#176b2c}.bad{color:#a0141e}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;white-space:pre-wrap}"""


def _failure_html(check: dict) -> str:
    """A failed check for the student: all of a public check; of a hidden one only what went wrong
    and the likely mistake (no case, no expected value, no answer key)."""
    text = f"<b>{html.escape(str(check.get('name')))}</b>: {html.escape(str(check.get('problem')))}"
    fields = ["hint"] if check["hidden"] else ["case", "expected", "got", "hint"]
    if check["hidden"] and check.get("choice"):
        fields = []
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
    for note in result.get("notes", []):
        body.append(f"<p>Note: {e(note)}</p>")
    if result["parts"]:
        body.append("<h2>Checks</h2><table><tr><th>part</th><th>score</th><th>what went wrong</th></tr>")
        for part in result["parts"]:
            failed = [c for c in part["checks"] if not c["ok"]]
            n = len(part["checks"])
            if not n:
                detail = "not checked: the notebook could not be graded (see above)"
            else:
                detail = f"{n - len(failed)} of {n} checks passed" + "".join("<br>" + _failure_html(c) for c in failed)
            body.append(
                f"<tr><td>{e(part['id'])}</td><td class={'bad' if failed or not n else 'ok'}>"
                f"{_fmt(part['score'])} / {_fmt(part['points'])}</td><td>{detail}</td></tr>"
            )
        body.append("</table>")
    cells = [c for c in result.get("cells", []) if c["origin"] != "source" or c["status"] != "ok"]
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
    path.write_text(page)
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


def results_of(course: Path, name: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((Path(course) / "grades" / name).glob("*.json"))]


__all__ = ["Summary", "grade_class", "write_tables", "write_feedback", "warn_without_isolation", "problems", "results_of"]
