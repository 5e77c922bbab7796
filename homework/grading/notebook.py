"""Reading a submission: what the student wrote, matched to the assignment's source, cell by cell.

The cells run in the student's order, as Jupyter's Restart & Run All runs them. Only the
student's **answer cells** (and cells they added) are taken from the submission. Every locked
cell, set-up and check alike, comes from the instructor's source, whatever the submission holds
in its place: a deleted, edited or duplicated check cell changes nothing, and the checks
themselves run in the grader (see :mod:`grade`), never in the student's process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cnn_homework.selfcheck import UnusableFile, read_notebook


class NotebookError(ValueError):
    """A submission that cannot be graded at all, with the reason for the student."""


@dataclass
class Cell:
    grade_id: str | None
    source: str
    kind: str  # "answer", "locked" or "check" (source cells); "added" (student's own)
    points: float = 0.0


@dataclass
class Step:
    """One thing to do while grading: run a cell in the sandbox, or run a check cell's checks."""

    kind: str  # "run" or "check"
    cell: Cell
    origin: str  # "source", "student" or "added"
    label: str


@dataclass
class Program:
    steps: list[Step]
    notes: list[str] = field(default_factory=list)
    missing_answers: list[str] = field(default_factory=list)


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source or "")


def source_cells(path: Path) -> list[Cell]:
    """The code cells of an assignment's source notebook, each with its nbgrader role."""
    nb = json.loads(Path(path).read_text())
    cells = []
    for c in nb["cells"]:
        if c.get("cell_type") != "code":
            continue
        meta = c.get("metadata", {}).get("nbgrader", {})
        kind = "check" if meta.get("grade") else "answer" if meta.get("solution") else "locked"
        cells.append(Cell(meta.get("grade_id"), _text(c.get("source")), kind, float(meta.get("points", 0) or 0)))
    return cells


def read_submission(path: Path) -> list[dict]:
    """The cells of a submitted notebook; NotebookError (with a reason a student can act on) if it
    is not a readable Jupyter notebook (the reasons are the student self-check's, word for word)."""
    try:
        return read_notebook(Path(path))["cells"]
    except UnusableFile as err:
        raise NotebookError(str(err)) from None


def identify(cells: list[dict], sources: dict[str, list[Cell]]) -> str | None:
    """The assignment whose answer cells the notebook has most of (None if it has none)."""
    ids = {(c.get("metadata") or {}).get("nbgrader", {}).get("grade_id") for c in cells}
    best, best_count = None, 0
    for name, src in sources.items():
        count = len(ids & {c.grade_id for c in src if c.kind == "answer"})
        if count > best_count:
            best, best_count = name, count
    return best


def build_program(cells: list[dict], source: list[Cell]) -> Program:
    """The steps of grading, in the student's cell order, as Restart & Run All runs their notebook.

    Answer cells (every copy) and the cells they added are theirs; every locked cell, set-up and
    check alike, is the source's text at the place the student has it (the first place, if they
    copied it). A locked cell they deleted is put back after the cell that precedes it in the
    source (after that cell's last copy; at the start if it is the first), so a deleted check
    cell is still graded, right after the answer it checks."""
    by_id = {c.grade_id: c for c in source if c.grade_id}
    steps: list[Step] = []
    placed: set[str] = set()  # grade_ids of the source cells the submission has
    copies: dict[str, int] = {}
    added = 0
    for c in cells:
        if c.get("cell_type") != "code":
            continue
        meta = (c.get("metadata") or {}).get("nbgrader") or {}
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        text = _text(c.get("source"))
        cell = by_id.get(gid)
        if cell is not None and cell.kind == "answer":
            copies[gid] = copies.get(gid, 0) + 1
            steps.append(Step("run", Cell(gid, text, "answer"), "student", gid))
        elif cell is not None:
            if gid in placed:
                continue  # a copied locked cell runs once, at its first place
            steps.append(Step("check" if cell.kind == "check" else "run", cell, "source", gid))
        elif text.strip():
            added += 1
            after = next((s.label for s in reversed(steps) if s.origin != "added"), "the start")
            steps.append(Step("run", Cell(None, text, "added"), "added", f"your cell {added} (after {after})"))
            continue
        else:
            continue
        placed.add(gid)
    _restore_deleted(steps, source, placed)
    _label_copies(steps, copies)
    notes, missing = [], []
    for cell in source:
        if cell.kind != "answer":
            continue
        n = copies.get(cell.grade_id, 0)
        if not n:
            missing.append(cell.grade_id)
            notes.append(
                f"the answer cell '{cell.grade_id}' is missing from the notebook: its parts "
                "score 0 (did you delete it, or clear its metadata?)"
            )
        elif n > 1:
            notes.append(
                f"the answer cell '{cell.grade_id}' appears {n} times; all copies were "
                "run in order, as Restart & Run All does, so the last one's definitions count"
            )
    return Program(steps, notes, missing)


def _restore_deleted(steps: list[Step], source: list[Cell], placed: set[str]) -> None:
    """Put each locked cell missing from the submission back after its predecessor in the source."""
    where = 0  # index after the previous source cell (its last copy, or what was put back after it)
    for cell in source:
        if cell.grade_id in placed and cell.kind == "answer":
            where = max(i + 1 for i, s in enumerate(steps) if s.origin == "student" and s.cell.grade_id == cell.grade_id)
        elif cell.grade_id in placed:
            where = next(i + 1 for i, s in enumerate(steps) if s.origin == "source" and s.cell is cell)
        elif cell.kind != "answer":
            steps.insert(where, Step("check" if cell.kind == "check" else "run", cell, "source", cell.grade_id or "locked cell"))
            where += 1


def _label_copies(steps: list[Step], copies: dict[str, int]) -> None:
    seen: dict[str, int] = {}
    for step in steps:
        gid = step.cell.grade_id
        if step.origin == "student" and copies.get(gid, 0) > 1:
            seen[gid] = seen.get(gid, 0) + 1
            step.label = f"{gid} (copy {seen[gid]})"
