"""The grader runs a notebook as Jupyter's Restart & Run All does, and says what the self-check says
(issue 24, findings 7-10 and the syntax error): IPython magics and shell lines run as in Jupyter,
cells run in the student's order, the helpers the course offers (``pad``) are not withheld, a
syntax error is named as the cause, and on every sample and on these notebooks the self-check's
verdict on each public check equals the grader's.

Needs bubblewrap, like tests/test_grading_hostile.py (whose helpers it uses).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from test_grading_hostile import GENERATED, HOMEWORK, REPO, Class, reference, run_student_side, sandbox

from cnn_homework.selfcheck import ASSIGNMENTS, withheld_uses

TIMEOUT = "10"
UID_BASE = 64000  # this module's sandbox uids (other modules grade at the same time with other ranges)


def run_hw(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), CNN_GRADING_UID_BASE=str(UID_BASE))
    return subprocess.run(
        [sys.executable, str(course / "hw.py"), *args], cwd=course, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("jupyter") / "homework"
    shutil.copytree(HOMEWORK, dest, ignore=shutil.ignore_patterns(*GENERATED))
    return dest


def solution(course: Path, name: str, gid: str) -> str:
    """The source's solution of an answer cell, as a student who solved it hands it in."""
    hw = Class(course, name, course.parent / "unused").hw
    nb = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    return hw.solution_code(cell.source)


PAD_FORWARD = """
from cnn_core.functional import pad

def conv_forward_naive(x, w, b, stride=1, padding=0):
    N, D, H, W = x.shape
    K, _, F, _ = w.shape
    H2 = (H + 2 * padding - F) // stride + 1
    W2 = (W + 2 * padding - F) // stride + 1
    xp = pad(x, padding)
    out = np.zeros((N, K, H2, W2))
    for n in range(N):
        for k in range(K):
            for r in range(H2):
                for c in range(W2):
                    window = xp[n, :, r * stride : r * stride + F, c * stride : c * stride + F]
                    out[n, k, r, c] = np.sum(window * w[k]) + b[k]
    return out
"""

CALLS_A_HELPER = "def conv_forward_naive(x, w, b, stride=1, padding=0):\n    return _loops(x, w, b, stride, padding)"
SHELL_LINES = "!pip install --no-index no-such-package\n!ls /tmp\n%matplotlib inline\n%load_ext autoreload\n%autoreload 2\n"

# student -> expected total of the hw2 batch (forward 3, backward 3, gradient check 1, fast 3)
HW2_EXPECTED = {
    "alice": 10,
    "ben": 7,
    "bob": 6,
    "carol": 3,  # the samples (homework/samples/hw2_conv)
    "timer": 10,  # %%time and %%capture on answer cells
    "linetimer": 10,  # %time before the gradient check's statements, %timeit in a cell of hers
    "sheller": 10,  # !pip, !ls, %matplotlib inline, %load_ext autoreload above her definitions
    "mover": 10,  # moved an answer cell up, with the helper cell it needs under it
    "padder": 10,  # uses cnn_core.functional.pad, which the notebook offers
    "syntaxer": 6,  # a syntax error in the backward cell: backward and gradient check 0
}


@pytest.fixture(scope="module")
def hw2(course, tmp_path_factory):
    """The hw2 class (samples and the notebooks of this file), graded once: notebooks and results."""
    inbox = tmp_path_factory.mktemp("jupyter") / "hw2"
    subprocess.run([sys.executable, str(course / "hw.py"), "samples", "hw2_conv", str(inbox)], check=True, capture_output=True)
    cls = Class(course, "hw2_conv", inbox)
    forward, backward = solution(course, "hw2_conv", "conv_forward_naive"), solution(course, "hw2_conv", "conv_backward_naive")
    gradcheck, fast = solution(course, "hw2_conv", "gradcheck"), solution(course, "hw2_conv", "conv_forward_fast")
    cls.student("timer", {"conv_forward_naive": "%%time\n" + forward, "conv_backward_naive": "%%capture noise\n" + backward})
    cls.student(
        "linetimer",
        {"gradcheck": re.sub(r"^errors\[", "%time errors[", gradcheck, flags=re.M)},
        after={"conv_forward_fast": "%timeit -n 1 -r 1 conv_forward_fast(x, w, b, 2, 1)"},
    )
    cls.student(
        "sheller",
        {"conv_forward_fast": SHELL_LINES + fast},
    )
    mover = cls.student(  # her forward pass calls _loops, defined in a cell under the moved one
        "mover",
        {"conv_forward_naive": CALLS_A_HELPER},
    )
    nb = nbformat.read(mover, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    moved = nb.cells.pop(ids.index("conv_forward_fast"))
    at = ids.index("conv_forward_naive") + 1
    nb.cells[at:at] = [moved, nbformat.v4.new_code_cell(forward.replace("def conv_forward_naive(", "def _loops("))]
    nbformat.write(nb, mover)
    cls.student("padder", {"conv_forward_naive": PAD_FORWARD})
    cls.student("syntaxer", {"conv_backward_naive": backward.replace("padding=0):", "padding=0)", 1)})
    assert run_hw(course, "collect", "hw2_conv", str(inbox)).returncode == 0
    proc = run_hw(course, "grade", "hw2_conv", "--timeout", TIMEOUT, "--quiet")
    results = {p.stem: json.loads(p.read_text()) for p in (course / "grades" / "hw2_conv").glob("*.json")}
    notebooks = {p.name.removesuffix("_hw2_conv.ipynb"): p for p in inbox.glob("*_hw2_conv.ipynb")}
    return {"proc": proc, "results": results, "notebooks": notebooks}


def self_check(path: Path) -> tuple[dict[str, bool], str]:
    """``python -m cnn_homework check``: (check cell -> ✓, the whole report)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, "-m", "cnn_homework", "check", str(path), "--timeout", TIMEOUT],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    ).stdout
    return {m[1]: m[0] == "✓" for m in re.findall(r"^  ([✓✗]) (\w+)", out, flags=re.M)}, out


def public_verdicts(result: dict) -> dict[str, bool]:
    """Check cell -> every public part of it passed, in the grader."""
    return {p["id"]: bool(p["checks"]) and all(c["ok"] for c in p["checks"] if not c["hidden"]) for p in result["parts"]}


def test_magics_moved_cells_and_pad_score_as_in_jupyter(hw2):
    results = hw2["results"]
    got = {s: results[s]["score"] for s in HW2_EXPECTED}
    assert got == HW2_EXPECTED, {
        s: [c for c in results[s]["cells"] if c["status"] != "ok"] for s in got if got[s] != HW2_EXPECTED[s]
    }
    outputs = {s: "\n".join(c["output"] for c in results[s]["cells"]) for s in ("timer", "linetimer", "sheller")}
    assert outputs["timer"].count("Wall time") == 1 and "noise" not in outputs["timer"], outputs["timer"]
    assert outputs["linetimer"].count("Wall time") == 3 and "per loop" in outputs["linetimer"], outputs["linetimer"]
    assert "skipped" not in "".join(outputs.values())
    assert "pip" in outputs["sheller"] or "ERROR" in outputs["sheller"], outputs["sheller"]  # pip ran, and failed


def test_a_syntax_error_is_named_as_the_cause(hw2):
    result = hw2["results"]["syntaxer"]
    cell = next(c for c in result["cells"] if c["label"] == "conv_backward_naive")
    assert cell["status"] == "error" and cell["error"].startswith("SyntaxError: expected ':' at line "), cell
    backward = next(p for p in result["parts"] if p["id"] == "check_conv_backward")["checks"][0]
    assert "cell conv_backward_naive: SyntaxError: expected ':' at line" in backward["problem"], backward
    report = self_check(hw2["notebooks"]["syntaxer"])[1]
    assert "✗ check_conv_backward: NameError" in report
    assert re.search(r"cell conv_backward_naive: SyntaxError: expected ':' at line \d+: def conv_backward_naive", report), report


def test_the_self_check_and_the_grader_agree_on_every_public_check(hw2, course, tmp_path):
    """Every sample of every assignment with samples, and this file's notebooks: ✓ in the
    self-check exactly where the grader gives the public check full marks."""
    hw3 = tmp_path / "hw3"
    subprocess.run([sys.executable, str(course / "hw.py"), "samples", "hw3_pool", str(hw3)], check=True, capture_output=True)
    assert run_hw(course, "collect", "hw3_pool", str(hw3)).returncode == 0
    run_hw(course, "grade", "hw3_pool", "--timeout", TIMEOUT, "--quiet")
    graded = {("hw2_conv", s): r for s, r in hw2["results"].items()}
    graded |= {("hw3_pool", p.stem): json.loads(p.read_text()) for p in (course / "grades" / "hw3_pool").glob("*.json")}
    notebooks = {("hw2_conv", s): p for s, p in hw2["notebooks"].items()}
    notebooks |= {("hw3_pool", p.name.removesuffix("_hw3_pool.ipynb")): p for p in hw3.glob("*.ipynb")}
    assert set(notebooks) == set(graded) and len(notebooks) == len(HW2_EXPECTED) + 1
    keys = sorted(notebooks)
    with ThreadPoolExecutor(2) as pool:
        checked = dict(zip(keys, pool.map(lambda k: self_check(notebooks[k]), keys)))
    differ = {
        k: (checked[k][0], public_verdicts(graded[k]), checked[k][1]) for k in keys if checked[k][0] != public_verdicts(graded[k])
    }
    assert not differ, differ
    padder = checked[("hw2_conv", "padder")][1]
    assert "withheld" not in padder and "4 of 4 public checks pass" in padder, padder


def test_the_offered_pad_works_in_the_sandbox_and_the_reference_stays_withheld(tmp_path):
    files = reference.build("hw2_conv", ["data", "gradcheck", "shapes"], tmp_path / "files")
    code = (
        "import numpy as np\nfrom cnn_core.functional import pad, conv2d_naive\n"
        "print(pad(np.ones((1, 1, 2, 2)), 1).shape)\n"
        "try:\n    conv2d_naive(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), None)\nexcept RuntimeError as err:\n    print(err)"
    )
    out = run_student_side(files, code, tmp_path)
    assert out.stdout.startswith("(1, 1, 4, 4)\n") and "conv2d_naive is withheld while hw2_conv is graded" in out.stdout


def test_the_self_check_names_what_the_grader_withholds():
    cell = {
        "cell_type": "code",
        "metadata": {},
        "source": "from cnn_core.functional import pad\nimport cnn_core.functional as F\nf = F.conv2d_naive\nL = cnn_core.Conv2D",
    }
    problems = withheld_uses({"cells": [cell]}, "hw2_conv")
    assert [p.split()[0] for p in problems] == ["cnn_core.functional.conv2d_naive", "cnn_core.Conv2D"], problems
    assert withheld_uses({"cells": [cell]}, "hw4_train") == []  # hw4 keeps all of cnn_core


@pytest.mark.parametrize("name", sorted(ASSIGNMENTS))
def test_the_self_check_knows_what_the_grader_keeps(name):
    settings = tomllib.loads((HOMEWORK / "grading" / "assignments.toml").read_text())[name]
    assert ASSIGNMENTS[name].keep == tuple(settings["keep"])
    assert ASSIGNMENTS[name].offer == tuple(settings.get("offer", ()))


def test_a_looping_function_of_a_timed_cell_is_named_and_a_written_module_imports(tmp_path, monkeypatch):
    """The watchdog names a looping function of a %%time cell (IPython compiles it, not the runner);
    a module written with %%writefile imports from the working folder, as in a kernel."""
    monkeypatch.setattr(sandbox, "UID_BASE", UID_BASE)
    files = reference.build("hw2_conv", ["data", "gradcheck", "shapes"], tmp_path / "files")
    box = sandbox.Sandbox(files)
    try:
        box.start()
        wrote = box.request({"op": "run", "cell": "w", "code": "%%writefile helper.py\ndef one():\n    return 1"}, 10)
        used = box.request({"op": "run", "cell": "u", "code": "import helper\nprint(helper.one())"}, 10)
        assert wrote["ok"] and used["ok"] and used["output"] == "1\n", (wrote, used)
        reply = box.request({"op": "run", "cell": "mine", "code": "%%time\ndef spin():\n    while True:\n        pass"}, 10)
        assert reply["ok"] and "Wall time" in reply["output"], reply
        with pytest.raises(sandbox.SandboxTimeout) as stopped:
            box.request({"op": "call", "name": "spin", "args": [], "kwargs": {}}, 2)
        assert stopped.value.functions == ["spin"]
    finally:
        box.close()


def test_hw4_timed_model_and_training_score_full_marks_in_both(course, tmp_path):
    """hw4 with %%time on the model and training cells: 14 of 14, and the self-check agrees."""
    cls = Class(course, "hw4_train", tmp_path / "inbox")
    timed = {gid: "%%time\n" + solution(course, "hw4_train", gid) for gid in ("model", "train")}
    path = cls.student("timer", timed)
    assert run_hw(course, "collect", "hw4_train", str(tmp_path / "inbox")).returncode == 0
    run_hw(course, "grade", "hw4_train", "--timeout", "60", "--quiet")
    result = json.loads((course / "grades" / "hw4_train" / "timer.json").read_text())
    assert result["score"] == 14, [p for p in result["parts"] if p["score"] < p["points"]]
    verdicts, report = self_check(path)
    assert verdicts == public_verdicts(result) and all(verdicts.values()), report
