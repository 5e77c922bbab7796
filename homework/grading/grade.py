"""Grading one submission: the student's cells run in a sandbox, the checks run here.

The grader process never runs student code. It sends the student's cells to a sandbox
(:mod:`sandbox`), and runs each check cell of the instructor's source *here*, where every name
the check reads comes either from the trusted cells (set-up, data, question options: run here
too) or, for what the student defined, from the sandbox across the :mod:`wire` boundary:
numbers and arrays as data, functions as remote calls, figures and models as descriptions that
are rebuilt here. Patching numpy, the checks or the data inside the student's process cannot
change a verdict, and each check draws fresh random cases (a salt chosen at grading time).

Scores: each top-level statement of a check cell (the public check, then each hidden one) is a
part of equal weight, so a cell scores ``points * passed / statements``. A function that loops
costs one timeout: it is stopped, replaced by one that fails at once, and the sandbox is
restarted (the cells that ran before are run again) for whatever comes next.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import io
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import notebook
from .sandbox import START_SECONDS, Limits, Sandbox, SandboxDied, SandboxError, SandboxTimeout

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
OUTPUT_KEPT = 4000  # characters of a cell's printed output kept for the feedback
MAX_RESTARTS = 6
NOTEBOOK_TIMEOUTS = 10  # a notebook's wall-clock cap, in cell timeouts, unless assignments.toml sets one


@dataclass
class Assignment:
    name: str
    cells: list[notebook.Cell]
    keep: list[str]
    trusted: list[str]
    timeout: float = 60.0
    notebook_timeout: float | None = None  # None: NOTEBOOK_TIMEOUTS cell timeouts

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells if c.kind == "check")


def load_assignments(course: Path) -> dict[str, Assignment]:
    """Every assignment of the course folder (``source/<A>/<A>.ipynb``) with its grading settings."""
    settings = tomllib.loads((Path(__file__).parent / "assignments.toml").read_text())
    out = {}
    for path in sorted((Path(course) / "source").glob("*/*.ipynb")):
        name = path.parent.name
        if path.stem != name:
            continue
        conf = settings.get(name, {})
        out[name] = Assignment(
            name,
            notebook.source_cells(path),
            list(conf.get("keep", [])),
            list(conf.get("trusted", [])),
            float(conf.get("timeout", 60)),
            float(conf["notebook_timeout"]) if "notebook_timeout" in conf else None,
        )
    return out


# ------------------------------------------------------------------ values from the sandbox


class StudentObject:
    """Something the student's code returned that is not plain data (shown by its type and repr)."""

    def __init__(self, description: str) -> None:
        self._description = description

    def __repr__(self) -> str:
        return self._description


def _opaque(type_name: str, description: str) -> StudentObject:
    cls = type(str(type_name)[:60] or "object", (StudentObject,), {})
    return cls(description)


def _student_error(error: dict) -> Exception:
    """The student's exception, as the same built-in type where there is one."""
    name, message = str(error.get("type", "Exception")), str(error.get("message", ""))
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)) or cls in (KeyError,):
        cls = type(name[:60], (Exception,), {})
    err = cls(message)
    err.student_traceback = error.get("traceback", "")
    return err


def rebuild_figure(d: dict) -> Any:
    """A matplotlib Figure drawn here from the description of the student's figure."""
    from matplotlib.figure import Figure

    fig = Figure()
    axes = d.get("axes") or []
    for i, a in enumerate(axes):
        ax = fig.add_subplot(1, len(axes), i + 1)
        for line in a.get("lines", []):
            ax.plot(np.asarray(line["x"], dtype=float), np.asarray(line["y"], dtype=float), label=str(line["label"]))
        for image in a.get("images", []):
            ax.imshow(np.asarray(image, dtype=float))
        ax.set_title(str(a.get("title", "")))
        ax.set_xlabel(str(a.get("xlabel", "")))
        ax.set_ylabel(str(a.get("ylabel", "")))
        if a.get("legend"):
            ax.legend()
    if d.get("suptitle"):
        fig.suptitle(str(d["suptitle"]))
    return fig


MODEL_LAYERS = ("Conv2D", "MaxPool2D", "AvgPool2D", "L2Pool2D", "ReLU", "Sigmoid", "Flatten", "Linear")


def rebuild_model(d: dict) -> Any:
    """A cnn_core model built here with the student's architecture and trained weights, so its
    accuracy is measured by the reference code, not by the student's."""
    from cnn_core import layers as L
    from cnn_core.model import Sequential

    built = []
    for spec in d["layers"]:
        kind = spec["type"]
        if kind not in MODEL_LAYERS:
            raise TypeError(f"layer {kind} is not one of cnn_core's layers {MODEL_LAYERS}")
        cls = getattr(L, kind)
        config = spec.get("config", {})
        names = [p for p in inspect.signature(cls).parameters if p not in ("rng", "dtype")]
        layer = cls(**{k: config[k] for k in names if k in config})
        for key, value in spec.get("params", {}).items():
            have = layer.params.get(key)
            if have is None or np.shape(value) != have.shape:
                raise ValueError(
                    f"{kind}.params[{key!r}] has shape {np.shape(value)}, expected {None if have is None else have.shape}"
                )
            layer.params[key] = np.asarray(value, dtype=have.dtype)
        built.append(layer)
    return built[0] if d.get("single") else Sequential(built)


class RemoteFunction:
    """A function of the student's, called in the sandbox with data in and data out."""

    def __init__(self, session: Session, name: str) -> None:
        self._session, self.__name__ = session, name

    def __call__(self, *args, **kwargs):
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


# ------------------------------------------------------------------ the student's namespace


class NotebookTimeUp(TimeoutError):
    """The notebook's wall-clock cap is used up: nothing more of it runs."""


class Session:
    """The student's namespace in a sandbox, kept alive across kills by replaying its cells.
    ``notebook_timeout``: seconds of wall clock for everything, restarts and replays included."""

    def __init__(self, files: Path, timeout: float, limits: Limits, notebook_timeout: float | None = None) -> None:
        self.files, self.timeout, self.limits = files, timeout, limits
        self.notebook_timeout = notebook_timeout
        self.ends = None if notebook_timeout is None else time.monotonic() + notebook_timeout
        self.box: Sandbox | None = None
        self.replay: list[notebook.Step] = []  # run steps that succeeded, in order
        self.hung: dict[str, str] = {}  # student functions stopped for looping
        self.restarts = 0
        self.deadline: float | None = None  # budget of the current check cell
        self.isolation = "not started"

    def close(self) -> None:
        if self.box is not None:
            self.box.close()

    def _ensure(self) -> Sandbox:
        if self.box is not None and self.box.alive:
            return self.box
        if self.box is not None:
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise SandboxDied(f"not run: the notebook's process was restarted {MAX_RESTARTS} times")
            self.box.close()
        self.box = Sandbox(self.files, limits=self.limits)
        self.isolation = self.box.isolation
        self._start()
        for step in list(self.replay):
            limit = self.budget(self.timeout)
            try:
                reply = self.box.request({"op": "run", "cell": step.label, "code": step.cell.source}, limit)
            except SandboxError:
                if limit < self.timeout:  # the notebook's time ran out, not the cell's
                    raise NotebookTimeUp(self.time_up) from None
                self.replay.remove(step)  # it does not run again: leave it out from now on
                self.box = Sandbox(self.files, limits=self.limits)
                self._start()
                continue
            if not reply.get("ok"):
                self.replay.remove(step)
        if self.hung:
            self.box.request(
                {"op": "poison", "names": sorted(self.hung), "why": "stopped earlier in grading: it did not return in time"},
                self.budget(self.timeout),
            )
        return self.box

    def _start(self) -> None:
        limit = self.budget(START_SECONDS)
        try:
            self.box.start(limit)
        except SandboxTimeout:
            if limit < START_SECONDS:
                raise NotebookTimeUp(self.time_up) from None
            raise

    @property
    def time_up(self) -> str:
        return (
            f"not run: the notebook used up its {self.notebook_timeout:g} s of grading time "
            "(all its cells, checks and restarts together; see --notebook-timeout)"
        )

    def out_of_time(self) -> bool:
        return self.ends is not None and self.ends - time.monotonic() < 0.5

    def budget(self, limit: float) -> float:
        """``limit``, or less where the notebook's cap comes first; NotebookTimeUp once it has come."""
        if self.ends is None:
            return limit
        if self.out_of_time():
            raise NotebookTimeUp(self.time_up)
        return min(limit, self.ends - time.monotonic())

    def _timeout(self) -> float:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the checks of this cell ran out of time (see the grading timeout)")
        return min(self.timeout, left)

    def _tagged(self, d: dict) -> Any:
        if "__callable__" in d:
            return RemoteFunction(self, str(d["__callable__"]))
        try:
            if "__figure__" in d:
                return rebuild_figure(d["__figure__"])
            if "__model__" in d:
                return rebuild_model(d["__model__"])
        except Exception as err:  # noqa: BLE001 - a description that does not build is the student's
            return _opaque("UnreadableObject", f"<an object the grader could not rebuild: {err}>")
        return _opaque(d.get("__object__", "object"), str(d.get("repr", "")))

    def run(self, step: notebook.Step) -> dict:
        """Run one cell; a record of what happened (never raises)."""
        record = {"label": step.label, "origin": step.origin, "status": "ok", "seconds": 0.0, "output": ""}
        start, limit = time.monotonic(), self.timeout
        try:
            box = self._ensure()
            limit = self.budget(self.timeout)
            reply = box.request({"op": "run", "cell": step.label, "code": step.cell.source}, limit)
        except NotebookTimeUp as err:
            record.update(status="timeout", seconds=time.monotonic() - start, error=str(err))
            return record
        except SandboxTimeout as err:
            if limit < self.timeout:
                record.update(status="timeout", seconds=time.monotonic() - start, error=self.time_up)
                return record
            self._stopped(err.functions)
            inside = f" in {', '.join(err.functions)}" if err.functions else ""
            record.update(
                status="timeout",
                seconds=self.timeout,
                error=f"did not finish within {self.timeout:g} s (an endless loop{inside}?); it was stopped",
            )
            return record
        except SandboxError as err:
            record.update(status="died", error=f"the notebook's process died while running this cell: {err}")
            return record
        record["seconds"] = reply.get("wall_seconds", 0.0)
        record["output"] = _cap(reply.get("output", ""))
        if reply.get("ok"):
            self.replay.append(step)
        else:
            error = reply.get("error") or {}
            record.update(
                status="error",
                error=f"{error.get('type')}: {error.get('message')}",
                traceback=_cap(error.get("traceback", ""), 2000),
            )
        return record

    def fetch(self, name: str) -> Any:
        """The value of ``name`` in the student's namespace; KeyError if it is not defined."""
        if name in self.hung:
            return RemoteFunction(self, name)
        reply = self._request({"op": "get", "name": name}, name)
        if reply.get("missing"):
            raise KeyError(name)
        return reply.get("value")

    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        if name in self.hung:
            raise TimeoutError(self.hung[name])
        try:
            reply = self._request({"op": "call", "name": name, "args": list(args), "kwargs": kwargs}, name)
        except SandboxTimeout as err:
            self._stopped([name, *err.functions])
            raise TimeoutError(self.hung[name]) from None
        return reply.get("value")

    def _stopped(self, functions: list[str]) -> None:
        """Functions that ran out of time: each is stopped once, and fails at once from now on."""
        for name in functions:
            self.hung.setdefault(
                name,
                f"{name} did not return within {self.timeout:g} s (an endless loop?); "
                "it was stopped and is not run again in this grading",
            )

    def _request(self, message: dict, name: str) -> dict:
        limit = budget = self._timeout()
        try:
            box = self._ensure()
            budget = self.budget(limit)
            reply = box.request(message, budget, self._tagged)
        except SandboxTimeout:
            if budget < limit:
                raise NotebookTimeUp(self.time_up) from None
            raise
        except SandboxError as err:
            raise ChildProcessError(f"the notebook's process died while running {name}: {err}") from None
        if not reply.get("ok"):
            raise _student_error(reply.get("error") or {})
        return reply


class StudentNames(dict):
    """A check cell's namespace: trusted names first, anything else read from the sandbox."""

    def __init__(self, trusted: dict, session: Session) -> None:
        super().__init__(trusted)
        self._session = session

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name) or name.startswith("__"):
            raise KeyError(name)
        value = self._session.fetch(name)
        self[name] = value
        return value


# ------------------------------------------------------------------ checks


def trusted_namespace(assignment: Assignment) -> dict:
    """The assignment's trusted cells, run here (never in the student's process)."""
    ns: dict = {"__name__": "__grading__", "__builtins__": builtins}
    for cell in assignment.cells:
        if cell.grade_id in assignment.trusted:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"<source cell {cell.grade_id}>", "exec"), ns)
    return ns


def check_statements(source: str) -> list[tuple[ast.Module, bool, str]]:
    """(code, hidden, text) for each top-level statement of a check cell."""
    tree = ast.parse(source)
    lines = source.splitlines()
    hidden_lines: set[int] = set()
    inside = False
    for i, line in enumerate(lines, 1):
        if line.strip() == HIDDEN_BEGIN:
            inside = True
        elif line.strip() == HIDDEN_END:
            inside = False
        elif inside:
            hidden_lines.add(i)
    out = []
    for stmt in tree.body:
        text = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno])
        out.append((ast.Module([stmt], type_ignores=[]), stmt.lineno in hidden_lines, text))
    return out


def run_check(cell: notebook.Cell, trusted: dict, session: Session, trouble: list[str] = ()) -> dict:
    """Score one check cell: each statement is a part; what failed and why, for the feedback.
    ``trouble``: what went wrong in the cells run so far, to explain a name that is not defined."""
    from cnn_homework.checks import CheckFailure

    results = []
    names = StudentNames(trusted, session)
    session.deadline = time.monotonic() + 3 * session.timeout
    try:
        for code, hidden, text in check_statements(cell.source):
            entry: dict = {"hidden": hidden, "ok": False}
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, f"<check {cell.grade_id}>", "exec"), names)
                entry["ok"] = True
            except CheckFailure as err:
                entry.update(
                    name=err.name,
                    problem=err.problem,
                    case=err.case,
                    hint=err.hint,
                    expected=_short(err.expected),
                    got=_short(err.got),
                    choice="check_choice" in text,
                )
            except NameError as err:
                missing = getattr(err, "name", None) or str(err)
                why = (
                    f"a cell before this check did not finish ({'; '.join(trouble[-2:])})"
                    if trouble
                    else "its answer cell is missing"
                )
                entry.update(name=missing, problem=f"is not defined: {why}")
            except TimeoutError as err:
                entry.update(name=cell.grade_id, problem=str(err))
            except Exception as err:  # noqa: BLE001 - what the student's values did to a check is their row
                entry.update(name=cell.grade_id, problem=f"could not be checked: {type(err).__name__}: {err}")
            results.append(entry)
    finally:
        session.deadline = None
    passed = sum(r["ok"] for r in results)
    score = cell.points * passed / len(results) if results else 0.0
    if "correct=" in cell.source and passed < len(results):
        score = 0.0  # a multiple-choice answer is right or wrong: a valid but wrong option earns nothing
    return {"id": cell.grade_id, "points": cell.points, "score": round(score, 2), "checks": results}


def failed_result(assignment: Assignment, path: Path, reason: str, salt: int = 0) -> dict:
    """The result of a notebook that could not be graded: every part 0, with the reason."""
    return {
        "assignment": assignment.name,
        "file": Path(path).name,
        "status": "failed",
        "reason": reason,
        "score": 0.0,
        "max_score": assignment.max_score,
        "cells": [],
        "notes": [],
        "salt": salt,
        "parts": [
            {"id": c.grade_id, "points": c.points, "score": 0.0, "checks": []} for c in assignment.cells if c.kind == "check"
        ],
    }


def grade_submission(
    path: Path,
    assignment: Assignment,
    sources: dict[str, list[notebook.Cell]],
    files: Path,
    *,
    salt: int = 0,
    timeout: float | None = None,
    limits: Limits = Limits(),
    trusted: dict | None = None,
    notebook_timeout: float | None = None,
) -> dict:
    """Grade one notebook; the result as a JSON-able dict (never raises for the student's faults).
    ``notebook_timeout`` (default: the assignment's, else NOTEBOOK_TIMEOUTS cell timeouts) caps the
    whole notebook: after it, the remaining cells are not run and their checks score 0."""
    from cnn_homework import checks

    start = time.monotonic()
    result: dict = {
        "assignment": assignment.name,
        "file": Path(path).name,
        "status": "graded",
        "reason": None,
        "score": 0.0,
        "max_score": assignment.max_score,
        "parts": [],
        "cells": [],
        "notes": [],
        "salt": salt,
    }
    try:
        cells = notebook.read_submission(path)
        found = notebook.identify(cells, sources)
        if found is None:
            raise notebook.NotebookError(
                f"the notebook has none of {assignment.name}'s answer cells: submit the "
                f"{assignment.name}.ipynb you downloaded and filled in"
            )
        if found != assignment.name:
            raise notebook.NotebookError(f"this is {found}'s notebook, not {assignment.name}'s: submit {assignment.name}.ipynb")
        program = notebook.build_program(cells, assignment.cells)
    except (notebook.NotebookError, OSError) as err:
        return failed_result(assignment, path, str(err), salt)
    result["notes"] = list(program.notes)
    trusted = trusted if trusted is not None else trusted_namespace(assignment)
    timeout = timeout or assignment.timeout
    cap = notebook_timeout or assignment.notebook_timeout or NOTEBOOK_TIMEOUTS * timeout
    session = Session(files, timeout, limits, cap)
    seconds: dict[str, float] = {}
    trouble: list[str] = []
    anchor = None
    cut = False
    try:
        for step in program.steps:
            if session.out_of_time():  # what is left is not run: its checks score 0, and say why
                cut = True
                if step.kind == "check":
                    problem = {"hidden": False, "ok": False, "name": step.cell.grade_id, "problem": session.time_up}
                    part = {"id": step.cell.grade_id, "points": step.cell.points, "score": 0.0, "checks": [problem]}
                    result["parts"].append(part)
                continue
            if step.kind == "run":
                record = session.run(step)
                result["cells"].append(record)
                if record["status"] != "ok":
                    trouble.append(f"cell {record['label']}: {_cap(record['error'], 200)}")
                if step.origin == "student":
                    anchor = step.cell.grade_id
                    seconds[anchor] = 0.0 if "(copy" not in step.label else seconds.get(anchor, 0.0)
                if anchor is not None and step.origin in ("student", "added"):
                    seconds[anchor] = seconds.get(anchor, 0.0) + record["seconds"]
            else:
                checks.set_grading(salt=salt, cell_seconds=dict(seconds))
                try:
                    result["parts"].append(run_check(step.cell, trusted, session, trouble))
                finally:
                    checks.set_grading()
    finally:
        result["isolation"] = session.isolation
        session.close()
    result["score"] = round(sum(p["score"] for p in result["parts"]), 2)
    if cut:
        result["notes"].append(
            f"stopped after {cap:g} s: the notebook used up its grading time; the cells and checks after that were not run"
        )
    if session.hung:
        result["notes"].append("stopped for not returning in time: " + ", ".join(sorted(session.hung)))
    result["seconds"] = round(time.monotonic() - start, 2)
    return result


def _cap(text: str, limit: int = OUTPUT_KEPT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit:,} more characters not shown)"


def _short(value: Any, limit: int = 300) -> str | None:
    return None if value is None else _cap(repr(value) if not isinstance(value, str) else value, limit)
