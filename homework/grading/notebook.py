"""Reading a submission: what the student wrote, matched to the assignment's source, cell by cell.

Only the student's **answer cells** (and cells they added) are taken from the submission. Every
locked cell, set-up and check alike, comes from the instructor's source, whatever the submission
holds in its place: a deleted, edited or duplicated check cell changes nothing, and the checks
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
    """The steps of grading: the source's cells in order, with the student's answer cells (every
    copy, in their order, as Restart & Run All would run them) and the cells they added, each
    after the cell it followed in their notebook."""
    by_id = {c.grade_id: c for c in source if c.grade_id}
    answers: dict[str, list[str]] = {}
    added_after: dict[str | None, list[str]] = {}
    anchor: str | None = None
    notes: list[str] = []
    for c in cells:
        if c.get("cell_type") != "code":
            continue
        meta = (c.get("metadata") or {}).get("nbgrader") or {}
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        text = _text(c.get("source"))
        if gid in by_id:
            if by_id[gid].kind == "answer":
                answers.setdefault(gid, []).append(text)
            anchor = gid
        elif text.strip():
            added_after.setdefault(anchor, []).append(text)
    steps: list[Step] = []
    missing = []

    def add_extra(after: str | None) -> None:
        for i, text in enumerate(added_after.pop(after, [])):
            steps.append(Step("run", Cell(None, text, "added"), "added", f"your cell after {after or 'the start'} ({i + 1})"))

    for cell in source:
        if cell.kind == "answer":
            copies = answers.get(cell.grade_id, [])
            if not copies:
                missing.append(cell.grade_id)
                notes.append(
                    f"the answer cell '{cell.grade_id}' is missing from the notebook: its parts "
                    "score 0 (did you delete it, or clear its metadata?)"
                )
            elif len(copies) > 1:
                notes.append(
                    f"the answer cell '{cell.grade_id}' appears {len(copies)} times; all copies were "
                    "run in order, as Restart & Run All does, so the last one's definitions count"
                )
            for i, text in enumerate(copies):
                label = cell.grade_id if len(copies) == 1 else f"{cell.grade_id} (copy {i + 1})"
                steps.append(Step("run", Cell(cell.grade_id, text, "answer"), "student", label))
        elif cell.kind == "check":
            steps.append(Step("check", cell, "source", cell.grade_id))
        else:
            steps.append(Step("run", cell, "source", cell.grade_id or "locked cell"))
        add_extra(cell.grade_id)
        if cell is source[0]:
            add_extra(None)
    for after in list(added_after):
        add_extra(after)
    return Program(steps, notes, missing)
