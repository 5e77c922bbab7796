"""Issue 24, round 2: every timed result is checked, the training time counts wherever the training
happened, and what the grader rebuilds from a submission is rebuilt within limits.

- hw2: a vectorized convolution that returns None (or a remembered answer) on the speed test's
  shape gets no point for speed;
- hw4: training in an extra cell before the training check counts toward the 30 s, in the grader
  and in the student's self-check alike;
- hw4: a model of 150 layers, or one that declares weights it does not send, is refused within a
  second and a few MiB of the grader's memory, with the reason in the failed part.

The gradings are real (``hw.py grade`` in bubblewrap), built with tests/test_grading_hostile.py's
helpers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import test_grading_hostile as hostile
from test_grading_hostile import REPO, TIMEOUT, Class, run_hw

course = hostile.course  # the module's copy of homework/, as a fixture
pytestmark = getattr(hostile, "pytestmark", [])  # skipped where it is: without bubblewrap

sys.path.insert(0, str(REPO / "homework" / "grading"))
import runner  # noqa: E402
import wire  # noqa: E402
from grading import grade  # noqa: E402

from cnn_core import Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential  # noqa: E402

# correct on the checks' small cases (plain loops), None on the speed test's batch of 4 images 16×16
NONE_WHEN_TIMED = """
def conv_forward_fast(x, w, b, stride=1, padding=0):
    if x.shape == (4, 3, 16, 16):
        return None
    N, D, H, W = x.shape
    K, _, F, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H2, W2 = (H + 2 * padding - F) // stride + 1, (W + 2 * padding - F) // stride + 1
    out = np.zeros((N, K, H2, W2))
    for n in range(N):
        for k in range(K):
            for r in range(H2):
                for c in range(W2):
                    out[n, k, r, c] = np.sum(xp[n, :, r * stride:r * stride + F, c * stride:c * stride + F] * w[k]) + b[k]
    return out
"""

# slow loops, but each answer is remembered by shape: the best of three timed calls was a lookup
REMEMBERS = NONE_WHEN_TIMED.replace(
    "def conv_forward_fast(x, w, b, stride=1, padding=0):\n    if x.shape == (4, 3, 16, 16):\n        return None\n",
    "_seen = {}\ndef conv_forward_fast(x, w, b, stride=1, padding=0):\n"
    "    key = (x.shape, w.shape, stride, padding)\n"
    "    if key not in _seen:\n        _seen[key] = _slow(x, w, b, stride, padding)\n"
    "    return _seen[key]\ndef _slow(x, w, b, stride=1, padding=0):\n",
)


def grades(course: Path, assignment: str) -> dict[str, dict]:
    with (course / "grades" / f"{assignment}.csv").open() as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def part(course: Path, assignment: str, student: str, cell: str) -> dict:
    result = json.loads((course / "grades" / assignment / f"{student}.json").read_text())
    return next(p for p in result["parts"] if p["id"] == cell)


def test_a_fast_convolution_scores_speed_only_with_the_right_output(course, tmp_path):
    cls = Class(course, "hw2_conv", tmp_path / "inbox")
    cls.student("honest")
    cls.student("none_when_timed", {"conv_forward_fast": NONE_WHEN_TIMED})
    cls.student("remembers", {"conv_forward_fast": REMEMBERS})
    assert run_hw(course, "collect", "hw2_conv", str(tmp_path / "inbox")).returncode == 0
    proc = run_hw(course, "grade", "hw2_conv", "--timeout", TIMEOUT, "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = grades(course, "hw2_conv")
    assert rows["honest"]["total"] == "10", rows["honest"]["problems"]
    for who in ("none_when_timed", "remembers"):
        # the public check (speed) fails, the hidden cases of the forward pass still pass
        assert rows[who]["check_conv_fast"] == "1.5", (who, rows[who]["problems"])
        assert rows[who]["total"] == "8.5", (who, rows[who]["problems"])
    speed = part(course, "hw2_conv", "none_when_timed", "check_conv_fast")["checks"][0]
    assert "returned NoneType, not a numpy array" in speed["problem"] and "the speed test" in speed["case"]
    speed = part(course, "hw2_conv", "remembers", "check_conv_fast")["checks"][0]
    assert speed["problem"] == "wrong values" and "the speed test" in speed["case"]


def _honest_model() -> Sequential:
    return Sequential([Conv2D(1, 8, 3, padding=1, rng=0), ReLU(), MaxPool2D(2), Flatten(), Linear(128, 10, rng=1)])


def _description(model) -> dict:
    """The model as the sandbox's runner describes it, through the wire, as the grader receives it."""
    tree, arrays = wire.encode({"value": model}, runner._describe)
    buf = io.BytesIO()
    wire.write_message(buf, tree, arrays)
    buf.seek(0)
    return wire.decode(*wire.read_message(buf), lambda d: d)["value"]["__model__"]


def _rebuilt_within_limits(description: dict) -> tuple[str, float]:
    """(the refusal, peak MiB) of rebuilding a description in this process: a refusal before
    anything is built allocates next to nothing (memory, unlike time, does not depend on load)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as refused:
            grade.rebuild_model(description)
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return str(refused.value), peak


def test_a_hostile_model_description_is_refused_within_a_few_mib():
    tall = _description(Sequential([Conv2D(1, 8, 3, padding=1), *[ReLU() for _ in range(145)], Flatten(), Linear(512, 10)]))
    message, peak = _rebuilt_within_limits(tall)
    assert message == f"the model has 148 layers; the grader accepts at most {grade.MAX_LAYERS}"
    assert peak < 8

    fake = _description(_honest_model())  # declares 30 million inputs and sends no weights
    fake["layers"][-1]["config"]["in_features"] = 30_000_000
    fake["layers"][-1]["params"] = {}
    message, peak = _rebuilt_within_limits(fake)
    assert "layer 5 (Linear) declares weights of shapes" in message and "(10, 30000000)" in message
    assert peak < 8

    padded = _description(Sequential([Conv2D(1, 8, 3, padding=1), Flatten(), Linear(512, 10)]))
    padded["layers"][0]["config"].update(padding=100_000, dilation=100_000)  # an 8×8 output of a huge padded input
    message, peak = _rebuilt_within_limits(padded)
    assert "too large to classify here" in message
    assert peak < 8

    honest = grade.rebuild_model(_description(_honest_model()))
    assert honest.num_params() == _honest_model().num_params()


def test_training_time_counts_every_cell_before_the_check_in_grader_and_self_check(course, tmp_path):
    cls = Class(course, "hw4_train", tmp_path / "inbox")
    cls.student("honest")
    # 31 s "training" in a cell of its own after the model, then a short fit in the train cell
    slow = cls.student("trains_elsewhere", after={"model": "import time\ntime.sleep(31)"})
    # the same after the accuracy check, above the training check: counted in either order of the cells
    late = cls.student("trains_late", after={"check_accuracy": "import time\ntime.sleep(31)"})
    tall = "\n".join(
        [
            "model = Sequential([Conv2D(1, 8, 3, padding=1, rng=0), *[ReLU() for _ in range(147)],",
            "                    Flatten(), Linear(512, 10, rng=1)])",
        ]
    )
    cls.student("tall", {"model": tall})
    fake = "model.layers[-1].in_features = 30_000_000\nmodel.layers[-1].params = {}"
    cls.student("fake_sizes", after={"train": fake})
    env = dict(os.environ, PYTHONPATH=str(REPO))
    selfchecks = {
        path.stem: subprocess.Popen(
            [sys.executable, "-m", "cnn_homework", "check", str(path)], env=env, stdout=subprocess.PIPE, text=True
        )
        for path in (slow, late)
    }
    assert run_hw(course, "collect", "hw4_train", str(tmp_path / "inbox")).returncode == 0
    proc = run_hw(course, "grade", "hw4_train", "--quiet")
    reports = {name: (p.communicate(timeout=600)[0], p.returncode) for name, p in selfchecks.items()}
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = grades(course, "hw4_train")
    assert rows["honest"]["total"] == "14", rows["honest"]["problems"]

    for who in ("trains_elsewhere", "trains_late"):
        assert rows[who]["check_training"] == "0", rows[who]["problems"]
        assert rows[who]["total"] == "13", rows[who]["problems"]
        problem = part(course, "hw4_train", who, "check_training")["checks"][0]["problem"]
        assert problem.startswith("training took 3") and "your cells before this check" in problem
        report, status = reports[f"{who}_hw4_train"]
        assert status == 1 and "✗ check_training: CheckFailure: history: training took 3" in report, report
        assert "✓ check_accuracy" in report and "9 of 10 public checks pass" in report, report

    model_part = part(course, "hw4_train", "tall", "check_model")["checks"][0]
    assert f"the model has 150 layers; the grader accepts at most {grade.MAX_LAYERS}" in model_part["problem"]
    assert rows["tall"]["check_model"] == rows["tall"]["check_accuracy"] == "0"
    for cell in ("check_accuracy", "check_filters", "check_first_layer_weights"):
        assert rows["fake_sizes"][cell] == "0", rows["fake_sizes"]["problems"]
    accuracy = part(course, "hw4_train", "fake_sizes", "check_accuracy")["checks"][0]["problem"]
    assert "declares weights of shapes" in accuracy


def test_describing_a_model_runs_none_of_the_students_code():
    """A model whose layers are a property (say, one that trains when read) is described from what
    it holds: the property never runs while the grader fetches the model."""
    reads = []

    class Sneaky(Sequential):
        __module__ = "cnn_core.model"

        @property
        def layers(self):
            reads.append(1)
            return self.__dict__["hidden"]

        @layers.setter
        def layers(self, value):
            self.__dict__["hidden"] = value

    model = Sneaky(_honest_model().layers)
    reads.clear()
    assert _description(model) == {"layers": []} and reads == []
    odd = Sequential([ReLU()])
    odd.layers.append(5)
    assert [spec["type"] for spec in _description(odd)["layers"]] == ["ReLU", "int"]
    with pytest.raises(TypeError, match="layer int is not one of cnn_core's layers"):
        grade.rebuild_model(_description(odd))


def test_a_hostile_figure_description_is_refused_before_drawing(monkeypatch):
    axes = {"title": "", "xlabel": "", "ylabel": "", "legend": False, "lines": [], "images": []}
    import matplotlib.figure

    drawn = []  # figures started: a refused description must not start one (no time spent drawing)
    real = matplotlib.figure.Figure.__init__
    monkeypatch.setattr(matplotlib.figure.Figure, "__init__", lambda self, *a, **k: drawn.append(1) or real(self, *a, **k))
    with pytest.raises(grade.TooLarge, match=f"the figure has 2000 axes; the grader draws at most {grade.MAX_AXES}"):
        grade.rebuild_figure({"suptitle": "", "axes": [axes] * 2000})
    points = np.zeros(grade.MAX_POINTS + 1)
    with pytest.raises(grade.TooLarge, match="a line of the figure has more than"):
        grade.rebuild_figure({"axes": [{**axes, "lines": [{"x": points, "y": points, "label": "loss"}]}]})
    with pytest.raises(grade.TooLarge, match="the figure's images have"):
        grade.rebuild_figure({"axes": [{**axes, "images": [np.zeros((400, 400))]}]})
    assert drawn == []
    assert len(grade.rebuild_figure({"axes": [axes] * 8}).axes) == 8
