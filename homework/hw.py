#!/usr/bin/env python3
"""Instructor commands for the homework: student versions, collecting, sandboxed grading, feedback.

    python homework/hw.py generate [A ...]          student versions -> homework/release/<A>/<A>.ipynb (nbgrader)
    python homework/hw.py collect A SOURCE [--roster CSV] [--due ISO-TIME]
                                                    a folder or .zip (flat <student>_<A>.ipynb, one folder per
                                                    student, Canvas or Moodle download) -> homework/submitted/<A>/
    python homework/hw.py grade A [--student S ...] [--jobs N] [--timeout S] [--notebook-timeout S]
                                                    grade every collected notebook (or only S) in sandboxes ->
                                                    homework/grades/<A>.csv, <A>_lms.csv, homework/feedback/<A>/
    python homework/hw.py feedback A                write the feedback pages again from the stored results
    python homework/hw.py similarity A              copied code: homework/grades/<A>_similarity.{csv,html}
    python homework/hw.py samples A DEST            the sample submissions of homework/samples/<A>/ -> DEST

Assignments A: hw1_shapes, hw2_conv, hw3_pool, hw4_train, hw5_transposed (optional). Run it with the project's .venv Python.
``grade`` exits with status 1 when a student could not be graded (their row says why), 2 on a usage error.
Everything happens inside the course folder that holds this file (copy homework/ to rehearse).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

COURSE = Path(__file__).resolve().parent
sys.path.insert(0, str(COURSE))
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"


def assignments() -> list[str]:
    return sorted(p.name for p in (COURSE / "source").iterdir() if (p / f"{p.name}.ipynb").is_file())


def nbgrader(*args: str) -> None:
    """Run one nbgrader command in the course folder (its bin first on PATH: nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    print("$ nbgrader " + " ".join(args), flush=True)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=COURSE, env=env)
    if proc.returncode:
        sys.exit(f"nbgrader {args[0]} failed (exit {proc.returncode})")


def _check_assignment(name: str) -> str:
    if name not in assignments():
        print(f"unknown assignment {name!r}; choose from {', '.join(assignments())}", file=sys.stderr)
        sys.exit(2)
    return name


# ---------------------------------------------------------------- commands


def cmd_generate(args) -> None:
    names = [_check_assignment(a) for a in args.assignments] or assignments()
    if names == assignments():
        nbgrader("generate_assignment", "*", "--force")  # one start of nbgrader for all of them
    else:
        for name in names:
            nbgrader("generate_assignment", name, "--force")
    for name in names:
        print(f"student version: {COURSE / 'release' / name / (name + '.ipynb')}")


@functools.cache
def _sources() -> dict:
    from grading import grade

    return {k: v.cells for k, v in grade.load_assignments(COURSE).items()}


def _identify(path: Path) -> str | None:
    from grading import notebook

    sources = _sources()
    try:
        return notebook.identify(notebook.read_submission(path), sources)
    except (notebook.NotebookError, OSError):
        return None


def cmd_collect(args) -> None:
    from grading import collect

    name = _check_assignment(args.assignment)
    roster = collect.Roster.read(Path(args.roster)) if args.roster else None
    due = datetime.fromisoformat(args.due) if args.due else None
    if due is not None and due.tzinfo is None:
        due = due.astimezone()  # a due time without a zone is in this machine's zone
    result = collect.collect(Path(args.source), name, COURSE / "submitted" / name, roster=roster, due=due, identify=_identify)
    late = sum(s.late for s in result.submissions)
    print(f"collected {len(result.submissions)} submission(s) of {name} ({late} late) into {COURSE / 'submitted' / name}")
    for s in result.skipped:
        print(f"  skipped {s.origin}: {s.reason}")
    if result.missing:
        print(f"  missing ({len(result.missing)}): {', '.join(result.missing)}")


def _collected(name: str) -> tuple[dict[str, Path], dict]:
    folder = COURSE / "submitted" / name
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    return {p.stem: p for p in sorted(folder.glob("*.ipynb"))}, manifest


def cmd_grade(args) -> None:
    from grading import batch
    from grading.sandbox import Limits

    name = _check_assignment(args.assignment)
    submissions, manifest = _collected(name)
    if args.student:
        unknown = sorted(set(args.student) - set(submissions))
        if unknown:
            print(
                f"no collected submission of {name} for {', '.join(unknown)} (in {COURSE / 'submitted' / name})", file=sys.stderr
            )
            sys.exit(2)
        submissions = {s: submissions[s] for s in args.student}
    if not submissions:
        print(f"nothing to grade: no notebooks in {COURSE / 'submitted' / name}; run collect first", file=sys.stderr)
        sys.exit(2)
    batch.warn_without_isolation()
    limits = Limits(memory=args.memory << 20)
    results, summary = batch.grade_class(
        COURSE,
        name,
        submissions,
        jobs=args.jobs,
        timeout=args.timeout,
        notebook_timeout=args.notebook_timeout,
        salt=args.salt,
        limits=limits,
        manifest=manifest,
        progress=not args.quiet,
    )
    print(
        f"scores: {COURSE / 'grades' / (name + '.csv')}; for the LMS: {COURSE / 'grades' / (name + '_lms.csv')}; "
        f"feedback: {COURSE / 'feedback' / name}/"
    )
    print(summary.text())
    if summary.failed:
        sys.exit(1)


def cmd_feedback(args) -> None:
    from grading import batch

    name = _check_assignment(args.assignment)
    failed = 0
    for result in batch.results_of(COURSE, name):
        try:  # one page that cannot be written does not stop the others
            print(f"feedback for {result['student']}: {batch.write_feedback(COURSE, result)}")
        except Exception as err:  # noqa: BLE001
            failed += 1
            print(f"feedback for {result['student']} not written: {type(err).__name__}: {err}", file=sys.stderr)
    if failed:
        sys.exit(1)


def cmd_similarity(args) -> None:
    from grading import grade, notebook, similarity

    name = _check_assignment(args.assignment)
    submissions, _ = _collected(name)
    assignment = grade.load_assignments(COURSE)[name]

    def answers(cells: list[dict]) -> str:
        """A notebook's answer cells in the assignment's order (every copy), read as the grader reads them."""
        return "\n\n".join(s.cell.source for s in notebook.build_program(cells, assignment.cells).steps if s.origin == "student")

    codes, skipped = {}, {}
    for student, path in submissions.items():
        try:  # whatever a notebook holds (nesting, broken text) is that student's problem only
            codes[student] = answers(notebook.read_submission(path))
        except notebook.NotebookError as err:
            skipped[student] = str(err)
        except Exception as err:  # noqa: BLE001
            skipped[student] = f"the notebook could not be read ({type(err).__name__})"
    release = notebook.read_submission(COURSE / "release" / name / f"{name}.ipynb")
    reference = solution_code("\n\n".join(c.source for c in assignment.cells if c.kind == "answer"))
    pairs = similarity.similarity_report(
        codes, COURSE / "grades" / f"{name}_similarity", reference=reference, boilerplate=answers(release), skipped=skipped
    )
    print(f"{len(pairs)} pair(s) above the threshold; report: {COURSE / 'grades' / (name + '_similarity')}/")
    for pair in pairs:
        print(f"  {pair}")
    for student, reason in sorted(skipped.items()):
        print(f"  not compared: {student}: {reason}")


def cmd_samples(args) -> None:
    name = _check_assignment(args.assignment)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    for sample in sorted((COURSE / "samples" / name).glob("*.py")):
        path = dest / f"{sample.stem}_{name}.ipynb"
        write_sample(name, sample, path)
        print(f"wrote {path}")


# ---------------------------------------------------------------- sample submissions


def solution_code(source: str) -> str:
    """A source cell as a student who solved it would hand it in: the solution markers removed."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (SOLUTION_BEGIN, SOLUTION_END))


def read_sample(path: Path) -> dict[str, str]:
    """Cells of a sample file: blocks that start with a line `# %% <grade_id>`."""
    cells: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        m = re.match(r"# %% (\S+)\s*$", line)
        if m:
            current = m.group(1)
            cells[current] = []
        elif current is not None:
            cells[current].append(line)
    return {k: "\n".join(v).strip("\n") for k, v in cells.items()}


def write_sample(name: str, sample: Path, dest: Path) -> None:
    """The student version with every answer cell filled in: from the sample file where it has the
    cell, else with the source's solution."""
    import nbformat

    overrides = read_sample(sample)
    source = nbformat.read(COURSE / "source" / name / f"{name}.ipynb", as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    unknown = set(overrides) - set(solutions)
    if unknown:
        sys.exit(f"{sample}: no answer cells {sorted(unknown)} in {name}")
    nb = nbformat.read(COURSE / "release" / name / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = overrides.get(grade_id, solution_code(solutions[grade_id]))
    nbformat.write(nb, dest)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("generate", help="make the student versions (release/)")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(run=cmd_generate)
    p = sub.add_parser("collect", help="take in submissions from a folder or .zip (flat, folders, Canvas, Moodle)")
    p.add_argument("assignment")
    p.add_argument("source")
    p.add_argument("--roster", help="CSV with a student_id column (optional: name, email, canvas_id, moodle_id)")
    p.add_argument("--due", help="due time, e.g. 2027-03-01T23:59+01:00; later submissions are marked late")
    p.set_defaults(run=cmd_collect)
    p = sub.add_parser("grade", help="grade the collected submissions in sandboxes; write CSVs and feedback")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="regrade only this student (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="parallel sandboxes (default: all cores)")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds for one cell or one call of a student's function (default: assignments.toml)",
    )
    p.add_argument(
        "--notebook-timeout",
        type=float,
        default=None,
        help="seconds for a whole notebook, restarts included, after which the rest is skipped (default: 10 x timeout)",
    )
    p.add_argument("--memory", type=int, default=3072, help="MiB of memory per sandbox (default 3072)")
    p.add_argument("--salt", type=int, default=None, help="fix the random cases (default: fresh each run)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_grade)
    p = sub.add_parser("feedback", help="write the feedback pages again from the stored results")
    p.add_argument("assignment")
    p.set_defaults(run=cmd_feedback)
    p = sub.add_parser("similarity", help="flag submissions too similar to each other or to the solution")
    p.add_argument("assignment")
    p.set_defaults(run=cmd_similarity)
    p = sub.add_parser("samples", help="write the sample submissions")
    p.add_argument("assignment")
    p.add_argument("dest")
    p.set_defaults(run=cmd_samples)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
