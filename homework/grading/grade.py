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

Hidden checks run last: a check cell's public statements run at its place in the notebook, its
hidden statements after the notebook's last cell (in source order, in the cell's namespace, with
what is left of the cell's time), so no cell of the student's runs after a hidden case has
reached their process, and everything the notebook printed or raised can be shown in full.

Text: every string of a sandbox's reply is cleaned as it is decoded (``Sandbox.request``:
lone surrogates, control characters and length made safe, once), a notebook's kept output has a total budget, and each
cell record and check result says whether it came after the first hidden check began
(``after_hidden``: the hidden results only, as the program runs), so the feedback shows of those
nothing the student's code produced.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import io
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import notebook
from .sandbox import START_SECONDS, Limits, Sandbox, SandboxDied, SandboxError, SandboxTimeout
from .text import clean as clean_text

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
OUTPUT_KEPT = 4000  # characters of a cell's printed output kept for the feedback
OUTPUT_BUDGET = 100_000  # characters of printed output, errors and tracebacks kept for a whole notebook
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


def grader_timeout(message: str) -> TimeoutError:
    """The grader stopped a student's function or a check cell for time: a TimeoutError whose
    message is the grader's own words (and names), never text of the student's, so feedback may
    always show it (``grader_text``)."""
    err = TimeoutError(message)
    err.grader_text = True
    return err


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


# Limits on what the grader rebuilds from a student's description (a figure or a model): it is
# rebuilt in the grader's own process, so it must cost little time and memory whatever it says.
MAX_AXES = 128  # one per first-layer filter in hw4's filter plot
MAX_LINES = 32  # per axes
MAX_POINTS = 100_000  # numbers in one line, or in all images of a figure together


class TooLarge(ValueError):
    """A description the grader refuses to rebuild; the message says what is over which limit."""


def _figure_size_problem(axes: list) -> str | None:
    if len(axes) > MAX_AXES:
        return f"the figure has {len(axes)} axes; the grader draws at most {MAX_AXES}"
    pixels = 0
    for a in axes:
        lines = a.get("lines", [])
        if len(lines) > MAX_LINES:
            return f"an axes of the figure has {len(lines)} lines; the grader draws at most {MAX_LINES}"
        for line in lines:
            if max(np.size(line["x"]), np.size(line["y"])) > MAX_POINTS:
                return f"a line of the figure has more than {MAX_POINTS:,} points"
        pixels += sum(np.size(image) for image in a.get("images", []))
    if pixels > MAX_POINTS:
        return f"the figure's images have {pixels:,} pixels; the grader draws at most {MAX_POINTS:,}"
    return None


def rebuild_figure(d: dict) -> Any:
    """A matplotlib Figure drawn here from the description of the student's figure (TooLarge if it
    is over the limits above)."""
    from matplotlib.figure import Figure

    axes = list(d.get("axes") or [])
    problem = _figure_size_problem(axes)
    if problem:
        raise TooLarge(problem)
    fig = Figure()
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
MAX_LAYERS = 30
MAX_PARAMS = 1_000_000  # weights and biases of the whole model (hw4's check allows 50,000)
# What the checks do with a model is classify hw4's digits, (1, 8, 8) each; per digit, summed over
# the layers (a model within hw4's 50,000 parameters stays far below both):
MODEL_INPUT = (1, 8, 8)
MAX_ACTIVATIONS = 50_000  # numbers the layers produce (kept until the batch is done)
MAX_MULTIPLY_ADDS = 5_000_000


def _whole(kind: str, config: dict, key: str, default: Any = None) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{kind}.{key} is {value!r}, not a whole number >= 1")
    return value


def _weight_shapes(kind: str, config: dict) -> dict[str, tuple[int, ...]]:
    """The shapes of the weights a layer of this kind and configuration has (checked against the
    arrays sent, before the layer is built: building allocates what the configuration declares)."""
    if kind == "Linear":
        n_in, n_out = _whole(kind, config, "in_features"), _whole(kind, config, "out_features")
        return {"W": (n_out, n_in), "b": (n_out,)}
    if kind == "Conv2D":
        n_in, n_out = _whole(kind, config, "in_channels"), _whole(kind, config, "out_channels")
        groups = _whole(kind, config, "groups", 1)
        size = config.get("kernel_size")
        fh, fw = size if isinstance(size, (list, tuple)) and len(size) == 2 else (size, size)
        fh, fw = _whole(kind, {"kernel_size": fh}, "kernel_size"), _whole(kind, {"kernel_size": fw}, "kernel_size")
        if n_in % groups:
            raise ValueError(f"Conv2D.groups={groups} does not divide in_channels={n_in}")
        return {"W": (n_out, n_in // groups, fh, fw), "b": (n_out,)}
    return {}


def _cost_problem(model: Any) -> str | None:
    """Why classifying one digit with the model would cost more than the limits allow (None: it
    does not; a model whose shapes stop fitting costs no more than the layers before that point)."""
    from cnn_core.inputs import pair
    from cnn_core.layers import Conv2D, Linear, _Pool2D

    shape, activations, multiply_adds = MODEL_INPUT, 0, 0
    for layer in model.layers:
        before = shape
        try:
            shape = tuple(layer.output_shape(shape))
        except (ValueError, TypeError):
            break
        outputs = int(np.prod(shape, dtype=object))
        activations += outputs
        if isinstance(layer, (Conv2D, _Pool2D)):  # the zero-padded input is made too
            (ph, pw), (d, h, w) = pair("padding", layer.padding, 0), before
            activations += d * (h + 2 * ph) * (w + 2 * pw)
        if isinstance(layer, (Conv2D, Linear)):
            multiply_adds += outputs * int(np.prod(layer.params["W"].shape[1:]))
        elif isinstance(layer, _Pool2D):
            multiply_adds += outputs * int(np.prod(np.broadcast_to(layer.kernel_size, 2), dtype=object))
        if activations > MAX_ACTIVATIONS:
            return f"its layers produce over {MAX_ACTIVATIONS:,} numbers for one 8×8 digit; the grader accepts at most that"
        if multiply_adds > MAX_MULTIPLY_ADDS:
            return f"it needs over {MAX_MULTIPLY_ADDS:,} multiply-adds for one 8×8 digit; the grader accepts at most that"
    return None


def rebuild_model(d: dict) -> Any:
    """A cnn_core model built here with the student's architecture and trained weights, so its
    accuracy is measured by the reference code, not by the student's. The description is checked
    first (TooLarge, ValueError): at most MAX_LAYERS layers and MAX_PARAMS weights, each layer's
    declared sizes equal to the weight arrays sent, and classifying a digit within the limits."""
    from cnn_core import layers as L
    from cnn_core.model import Sequential

    specs = list(d["layers"])
    if len(specs) > MAX_LAYERS:
        raise TooLarge(f"the model has {len(specs)} layers; the grader accepts at most {MAX_LAYERS}")
    sent = sum(int(np.size(v)) for spec in specs for v in spec.get("params", {}).values())
    if sent > MAX_PARAMS:
        raise TooLarge(f"the model has {sent:,} weights; the grader accepts at most {MAX_PARAMS:,}")
    built = []
    for i, spec in enumerate(specs):
        kind = spec["type"]
        if kind not in MODEL_LAYERS:
            raise TypeError(f"layer {kind} is not one of cnn_core's layers {MODEL_LAYERS}")
        config, params = spec.get("config", {}), spec.get("params", {})
        declared = _weight_shapes(kind, config)
        got = {k: np.shape(v) for k, v in params.items()}
        if got != declared:
            raise ValueError(f"layer {i + 1} ({kind}) declares weights of shapes {declared} but has {got}")
        cls = getattr(L, kind)
        names = [p for p in inspect.signature(cls).parameters if p not in ("rng", "dtype", "kernels")]
        layer = cls(**{k: config[k] for k in names if k in config})
        for key, value in params.items():
            layer.params[key] = np.asarray(value, dtype=layer.params[key].dtype)
        built.append(layer)
    model = Sequential(built)
    problem = _cost_problem(model)
    if problem:
        raise TooLarge(f"the model is too large to classify here: {problem}")
    return built[0] if d.get("single") else model


class RemoteFunction:
    """A function of the student's, called in the sandbox with data in and data out.

    ``cpu_seconds``: the CPU time the sandbox used for the last call, measured outside it (None when
    it could not be read); the speed checks time the student's code with it."""

    def __init__(self, session: Session, name: str) -> None:
        self._session, self.__name__ = session, name
        self.cpu_seconds: float | None = None

    def __call__(self, *args, **kwargs):
        self.cpu_seconds = None
        reply = self._session.call(self.__name__, args, kwargs)
        self.cpu_seconds = reply.get("cpu_seconds")
        return reply.get("value")

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


# ------------------------------------------------------------------ the student's namespace


class NotebookTimeUp(TimeoutError):
    """The notebook's wall-clock cap is used up: nothing more of it runs."""

    grader_text = True  # its message is the grader's own (Session.time_up)


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
        self.hidden_started = False  # a hidden check has run: what the code does from now on may reflect its cases
        self.hung_before_hidden: list[str] = []  # stopped functions the feedback may name
        self.output_left = OUTPUT_BUDGET  # characters of cell text still kept for this notebook
        self.output_dropped = 0

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
            raise grader_timeout("the checks of this cell ran out of time (see the grading timeout)")
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
        record = {
            "label": step.label,
            "origin": step.origin,
            "status": "ok",
            "seconds": 0.0,
            "output": "",
            "after_hidden": self.hidden_started,
        }
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
            functions = list(err.functions)
            self._stopped(functions)
            inside = f" in {', '.join(functions)}" if functions else ""
            record.update(
                status="timeout",
                seconds=self.timeout,
                error=f"did not finish within {self.timeout:g} s (an endless loop{inside}?); it was stopped",
            )
            return record
        except SandboxError as err:
            why = self._kept(clean_text(str(err)), 2000)
            record.update(status="died", error=f"the notebook's process died while running this cell: {why}")
            return record
        record["seconds"] = reply.get("wall_seconds", 0.0)
        record["output"] = self._kept(reply.get("output", ""))
        if reply.get("ok"):
            self.replay.append(step)
        else:
            error = reply.get("error") or {}
            record.update(
                status="error",
                error=self._kept(f"{error.get('type')}: {error.get('message')}", 2000),
                traceback=self._kept(error.get("traceback", ""), 2000),
            )
        return record

    def _kept(self, text: str, limit: int = OUTPUT_KEPT) -> str:
        """``text`` capped for one cell and taken from the notebook's budget (OUTPUT_BUDGET): a
        notebook of thousands of printing cells keeps the first 100,000 characters, not megabytes."""
        text = _cap(text, limit)
        if len(text) > self.output_left:
            self.output_dropped += len(text) - self.output_left
            text = text[: self.output_left]
        self.output_left -= len(text)
        return text

    def fetch(self, name: str) -> Any:
        """The value of ``name`` in the student's namespace; KeyError if it is not defined."""
        if name in self.hung:
            return RemoteFunction(self, name)
        reply = self._request({"op": "get", "name": name}, name)
        if reply.get("missing"):
            raise KeyError(name)
        return reply.get("value")

    def call(self, name: str, args: tuple, kwargs: dict) -> dict:
        if name in self.hung:
            raise grader_timeout(self.hung[name])
        try:
            reply = self._request({"op": "call", "name": name, "args": list(args), "kwargs": kwargs}, name)
        except SandboxTimeout as err:
            self._stopped([name, *err.functions])
            raise grader_timeout(self.hung[name]) from None
        return reply

    def _stopped(self, functions: list[str]) -> None:
        """Functions that ran out of time: each is stopped once, and fails at once from now on."""
        for name in functions:
            if name not in self.hung and not self.hidden_started:
                self.hung_before_hidden.append(name)
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
            why = clean_text(str(err), 2000)
            raise ChildProcessError(f"the notebook's process died while running {name}: {why}") from None
        if not reply.get("ok"):
            raise _student_error(reply.get("error") or {})
        return reply


class StudentNames(dict):
    """A check cell's namespace: trusted names first, anything else read from the sandbox."""

    def __init__(self, trusted: dict, session: Session) -> None:
        super().__init__(trusted)
        self._session = session
        self._read: dict[str, Any] = {}  # the values read from the sandbox, by name

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name) or name.startswith("__"):
            raise KeyError(name)
        value = self._session.fetch(name)
        self[name] = value
        self._read[name] = value
        return value

    def read_again(self) -> None:
        """Forget the values read from the sandbox (not what the check cell itself set), so the
        next use reads them as the notebook has them now."""
        for name, value in self._read.items():
            if self.get(name) is value:
                del self[name]
        self._read.clear()


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


@dataclass
class HiddenBlock:
    """A check cell's hidden statements, queued by :func:`run_check` to run after the notebook's
    last cell (:func:`run_hidden`): their results go to ``part["checks"]`` at their place."""

    cell: notebook.Cell
    part: dict
    names: StudentNames
    statements: list[tuple[int, ast.Module, str]]  # (index in part["checks"], code, text)
    seconds_left: float  # of the cell's time for its checks, after its public statements
    trouble: list[str]
    cell_seconds: dict[str, float] = field(default_factory=dict)  # the cell times its public checks saw


def run_check(cell: notebook.Cell, trusted: dict, session: Session, trouble: list[str] = ()) -> tuple[dict, HiddenBlock | None]:
    """Score one check cell's public statements now; its hidden ones, if any, are returned as a
    HiddenBlock to run after the notebook's last cell. Each statement is a part; the result says
    what failed and why, for the feedback. ``trouble``: what went wrong in the cells run so far, to
    explain a name that is not defined."""
    names = StudentNames(trusted, session)
    entries: list[dict] = []
    hidden: list[tuple[int, ast.Module, str]] = []
    session.deadline = time.monotonic() + 3 * session.timeout
    try:
        for code, is_hidden, text in check_statements(cell.source):
            if is_hidden:
                hidden.append((len(entries), code, text))
                entries.append(_not_run(cell, "not run: the grading stopped before the hidden checks"))
            else:
                entries.append(_run_statement(cell, code, text, False, names, session, trouble))
        seconds_left = max(0.0, session.deadline - time.monotonic())
    finally:
        session.deadline = None
    part = {"id": cell.grade_id, "points": cell.points, "score": 0.0, "checks": entries}
    _score(part, cell)
    block = HiddenBlock(cell, part, names, hidden, seconds_left, list(trouble)) if hidden else None
    return part, block


def run_hidden_checks(blocks: list[HiddenBlock], session: Session, salt: int = 0) -> bool:
    """Run the queued hidden statements, after the notebook's last cell, cell by cell in the order
    of the program; False if the notebook's time ran out first (those left score 0, saying why)."""
    from cnn_homework import checks

    session.hidden_started = True
    finished = True
    for block in blocks:
        if session.out_of_time():
            finished = False
            block.part["checks"] = [_not_run(block.cell, session.time_up) if c["hidden"] else c for c in block.part["checks"]]
            continue
        checks.set_grading(salt=salt, cell_seconds=block.cell_seconds)
        try:
            run_hidden(block, session)
        finally:
            checks.set_grading()
    return finished


def run_hidden(block: HiddenBlock, session: Session) -> None:
    """Run a check cell's hidden statements in order, in the namespace its public statements left
    (the student's values read again: what the notebook holds after its last cell), and score the part."""
    block.names.read_again()
    session.deadline = time.monotonic() + block.seconds_left
    try:
        for index, code, text in block.statements:
            block.part["checks"][index] = _run_statement(block.cell, code, text, True, block.names, session, block.trouble)
    finally:
        session.deadline = None
    _score(block.part, block.cell)


def _not_run(cell: notebook.Cell, why: str) -> dict:
    """A hidden statement's result when it was not run, for a reason in the grader's words."""
    return {"hidden": True, "ok": False, "after_hidden": True, "name": cell.grade_id, "problem": why, "grader_text": True}


def _score(part: dict, cell: notebook.Cell) -> None:
    results = part["checks"]
    passed = sum(r["ok"] for r in results)
    score = cell.points * passed / len(results) if results else 0.0
    if "correct=" in cell.source and passed < len(results):
        score = 0.0  # a multiple-choice answer is right or wrong: a valid but wrong option earns nothing
    part["score"] = round(score, 2)


def _run_statement(
    cell: notebook.Cell, code: ast.Module, text: str, hidden: bool, names: StudentNames, session: Session, trouble: list[str]
) -> dict:
    """One statement of a check cell run in ``names``: passed, or what failed and why."""
    from cnn_homework.checks import CheckFailure

    entry: dict = {"hidden": hidden, "ok": False, "after_hidden": session.hidden_started}
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
            grader_text=getattr(err.__cause__, "grader_text", False),
        )
    except NameError as err:
        missing = getattr(err, "name", None) or str(err)
        why = f"a cell before this check did not finish ({'; '.join(trouble[-2:])})" if trouble else "its answer cell is missing"
        entry.update(name=missing, problem=f"is not defined: {why}", grader_text=not trouble)
    except TimeoutError as err:
        entry.update(name=cell.grade_id, problem=str(err), grader_text=getattr(err, "grader_text", False))
    except Exception as err:  # noqa: BLE001 - what the student's values did to a check is their row
        entry.update(name=cell.grade_id, problem=f"could not be checked: {type(err).__name__}: {err}")
    return entry


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
    hidden: list[HiddenBlock] = []  # run after the last cell
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
                if step.origin in ("student", "added"):  # every cell of the student's is timed
                    key = anchor or "your cells before the first answer cell"
                    seconds[key] = seconds.get(key, 0.0) + record["seconds"]
            else:
                checks.set_grading(salt=salt, cell_seconds=dict(seconds))
                try:
                    part, block = run_check(step.cell, trusted, session, trouble)
                finally:
                    checks.set_grading()
                result["parts"].append(part)
                if block is not None:
                    block.cell_seconds = dict(seconds)
                    hidden.append(block)
        cut = not run_hidden_checks(hidden, session, salt) or cut  # no cell of the student's runs after a hidden case
    finally:
        result["isolation"] = session.isolation
        session.close()
    result["score"] = round(sum(p["score"] for p in result["parts"]), 2)
    if cut:
        result["notes"].append(
            f"stopped after {cap:g} s: the notebook used up its grading time; the cells and checks after that were not run"
        )
    result["shown_notes"] = list(result["notes"])  # the notes the feedback page shows
    if session.hung:
        result["notes"].append("stopped for not returning in time: " + ", ".join(sorted(session.hung)))
    if session.hung_before_hidden:
        result["shown_notes"].append("stopped for not returning in time: " + ", ".join(sorted(session.hung_before_hidden)))
    if session.output_dropped:
        for notes in (result["notes"], result["shown_notes"]):
            notes.append(
                f"{session.output_dropped:,} more characters of printed output and errors were not kept "
                f"(the grader keeps {OUTPUT_BUDGET:,} per notebook)"
            )
    result["seconds"] = round(time.monotonic() - start, 2)
    return result


def _cap(text: str, limit: int = OUTPUT_KEPT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit:,} more characters not shown)"


def _short(value: Any, limit: int = 300) -> str | None:
    return None if value is None else _cap(repr(value) if not isinstance(value, str) else value, limit)
