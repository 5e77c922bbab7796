#!/usr/bin/env python3
"""Instructor commands for the homework, wrapping nbgrader (offline, no server).

    python homework/hw.py generate [A ...]        student versions -> homework/release/<A>/<A>.ipynb
    python homework/hw.py collect A SOURCE        submissions (a folder or .zip of <student>_<A>.ipynb)
                                                  -> homework/submitted/<student>/<A>/ (nbgrader zip_collect)
    python homework/hw.py grade A [--timeout S]   run every submission (per-cell timeout) -> gradebook.db,
                                                  homework/grades/<A>.csv (one row per student, one column
                                                  per check) and grades/gradebook.csv (nbgrader export)
    python homework/hw.py feedback A              one HTML report per student -> homework/feedback/
    python homework/hw.py samples A DEST          write the sample submissions of homework/samples/<A>/
                                                  to DEST (a dry run of collect + grade)

Assignments A: hw1_shapes, hw2_conv, hw3_pool, hw4_train. Run it with the Python of the
environment that has nbgrader and cnn_core (the project's .venv). Everything happens inside the
course folder that holds this file (use a copy of homework/ to rehearse without touching it).
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parent
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"


def assignments() -> list[str]:
    return sorted(p.name for p in (COURSE / "source").iterdir() if (p / f"{p.name}.ipynb").is_file())


def _env() -> dict[str, str]:
    """nbgrader and its kernels must run in this interpreter's environment: its bin first on PATH
    (nbgrader calls `alembic`, the python3 kernelspec calls `python`), and cnn_core importable."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    try:
        import cnn_core
        root = str(Path(cnn_core.__file__).resolve().parent.parent)
    except ImportError:
        root = str(COURSE.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [root, env.get("PYTHONPATH", "")] if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def nbgrader(*args: str, check: bool = True) -> int:
    """Run one nbgrader command in the course folder; stop with its exit code if it fails (if check)."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    print("$ nbgrader " + " ".join(args), flush=True)
    proc = subprocess.run(cmd, cwd=COURSE, env=_env())
    if proc.returncode and check:
        sys.exit(f"nbgrader {args[0]} failed (exit {proc.returncode})")
    return proc.returncode


def _check_assignment(name: str) -> str:
    if name not in assignments():
        sys.exit(f"unknown assignment {name!r}; choose from {', '.join(assignments())}")
    return name


# ---------------------------------------------------------------- commands


def cmd_generate(args) -> None:
    names = [_check_assignment(a) for a in args.assignments] or assignments()
    if names == assignments():
        nbgrader("generate_assignment", "*", "--force")   # one start of nbgrader for all of them
    else:
        for name in names:
            nbgrader("generate_assignment", name, "--force")
    for name in names:
        print(f"student version: {COURSE / 'release' / name / (name + '.ipynb')}")


def cmd_collect(args) -> None:
    name = _check_assignment(args.assignment)
    src = Path(args.source).resolve()
    archive = COURSE / "downloaded" / name / "archive"
    shutil.rmtree(COURSE / "downloaded" / name, ignore_errors=True)
    shutil.rmtree(COURSE / "extracted" / name, ignore_errors=True)
    archive.mkdir(parents=True)
    if src.is_dir():
        for path in sorted(src.rglob("*")):
            if path.is_file() and path.suffix in (".ipynb", ".zip"):
                shutil.copy2(path, archive / path.name)
    elif src.suffix == ".zip":
        shutil.copy2(src, archive / src.name)
    else:
        sys.exit(f"{src} is neither a folder nor a .zip")
    nbgrader("zip_collect", name, "--force")
    students = sorted(p.parent.parent.name for p in (COURSE / "submitted").glob(f"*/{name}/{name}.ipynb"))
    print(f"collected {len(students)} submission(s) of {name}: {', '.join(students) or '-'}")


def cmd_grade(args) -> None:
    name = _check_assignment(args.assignment)
    extra = [f"--Execute.timeout={args.timeout}"] if args.timeout else []
    # autograde exits non-zero when a notebook could not be run at all (e.g. its kernel died);
    # the other submissions are graded anyway, and the table marks that one.
    failed = nbgrader("autograde", name, "--force", *extra, check=False)
    table = score_table(name)
    out = COURSE / "grades" / f"{name}.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]) if table else ["student_id"])
        writer.writeheader()
        writer.writerows(table)
    nbgrader("export", "--to", str(COURSE / "grades" / "gradebook.csv"))
    print_table(table)
    print(f"scores per question: {out}\ntotals of all assignments: {COURSE / 'grades' / 'gradebook.csv'}")
    if failed:
        print("note: nbgrader could not run some notebooks to the end (see the log above); they score 0")


def cmd_feedback(args) -> None:
    name = _check_assignment(args.assignment)
    nbgrader("generate_feedback", name, "--force")
    for path in sorted((COURSE / "feedback").glob(f"*/{name}/{name}.html")):
        print(f"feedback for {path.parent.parent.name}: {path}")


def cmd_samples(args) -> None:
    name = _check_assignment(args.assignment)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    for sample in sorted((COURSE / "samples" / name).glob("*.py")):
        path = dest / f"{sample.stem}_{name}.ipynb"
        write_sample(name, sample, path)
        print(f"wrote {path}")


# ---------------------------------------------------------------- scores


def grade_cells(name: str) -> list[tuple[str, float]]:
    """(grade_id, points) of the graded cells of an assignment, in notebook order."""
    import nbformat

    nb = nbformat.read(COURSE / "source" / name / f"{name}.ipynb", as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cells.append((meta["grade_id"], float(meta.get("points", 0))))
    return cells


def _problems(student: str, name: str) -> str:
    """'cell: ErrorName' for every graded cell that raised in the autograded notebook."""
    import nbformat

    path = COURSE / "autograded" / student / name / f"{name}.ipynb"
    if not path.is_file():
        return ("not graded: the notebook could not be run (its kernel died, e.g. os._exit or out of "
                "memory; see the autograde log)")
    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            errors = [o.get("ename", "error") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                out.append(f"{meta['grade_id']}: {errors[-1]}")
    return "; ".join(out)


def score_table(name: str) -> list[dict[str, object]]:
    """One row per submitted student: the score of every graded cell, the total and the problems."""
    from nbgrader.api import Gradebook, MissingEntry

    cells = grade_cells(name)
    rows = []
    with Gradebook("sqlite:///" + str(COURSE / "gradebook.db")) as gb:
        for student in sorted(gb.students, key=lambda s: s.id):
            try:
                submission = gb.find_submission(name, student.id)
            except MissingEntry:
                continue
            scores = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
            row: dict[str, object] = {"student_id": student.id}
            for grade_id, _ in cells:
                row[grade_id] = _fmt(scores.get(grade_id, 0.0))
            row["total"] = _fmt(sum(float(scores.get(g, 0.0)) for g, _ in cells))
            row["max_total"] = _fmt(sum(p for _, p in cells))
            row["problems"] = _problems(student.id, name)
            rows.append(row)
    return rows


def _fmt(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def print_table(rows: list[dict[str, object]]) -> None:
    if not rows:
        print("no graded submissions")
        return
    keys = [k for k in rows[0] if k != "problems"]
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys).rstrip())
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in keys).rstrip())
    for r in rows:
        if r["problems"]:
            print(f"{r['student_id']}: {r['problems']}")


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
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
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
    p = sub.add_parser("collect", help="take in submissions from a folder or .zip")
    p.add_argument("assignment")
    p.add_argument("source")
    p.set_defaults(run=cmd_collect)
    p = sub.add_parser("grade", help="autograde all collected submissions, write the CSVs")
    p.add_argument("assignment")
    p.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: nbgrader_config.py)")
    p.set_defaults(run=cmd_grade)
    p = sub.add_parser("feedback", help="HTML feedback per student")
    p.add_argument("assignment")
    p.set_defaults(run=cmd_feedback)
    p = sub.add_parser("samples", help="write the sample submissions")
    p.add_argument("assignment")
    p.add_argument("dest")
    p.set_defaults(run=cmd_samples)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
