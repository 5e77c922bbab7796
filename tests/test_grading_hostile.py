"""A hostile class, graded: every trick a student tried on the old grader, in one batch beside
honest students (homework/grading, ``hw.py grade``).

Shown here, on a copy of homework/ under tmp:
- the cheats score what their real code earns (patched checks, numpy or data; typed-in
  measurements; the reference captured as a default argument; a private cnn_core helper);
- honest students in the same batch get full marks;
- no course file changes during grading and no process of a sandbox survives it;
- every student has a row and a feedback page; hidden tests and answer keys stay out of feedback;
- the exit code is non-zero exactly when someone could not be graded.

Needs bubblewrap (Debian: ``apt-get install bubblewrap``; ``.ci/run`` installs it). Without it the
module is skipped, unless CNN_REQUIRE_SANDBOX is set (CI sets it): then it fails.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
HOMEWORK = REPO / "homework"
sys.path.insert(0, str(HOMEWORK))
from grading import reference, sandbox  # noqa: E402

GENERATED = ("submitted", "grades", "feedback", "gradebook.db", "__pycache__", ".ipynb_checkpoints")
TIMEOUT = "5"
UID_BASE = 62000  # sandbox uids of this module's gradings (CNN_GRADING_UID_BASE): none may survive

if sandbox.isolation() == "none":
    if os.environ.get("CNN_REQUIRE_SANDBOX"):
        pytest.fail("bubblewrap (bwrap) is missing but CNN_REQUIRE_SANDBOX is set", pytrace=False)
    pytestmark = pytest.mark.skip(reason="bubblewrap (bwrap) is not installed: grading has no sandbox here")


def run_hw(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), CNN_GRADING_UID_BASE=str(UID_BASE))
    return subprocess.run(
        [sys.executable, str(course / "hw.py"), *args], cwd=course, env=env, capture_output=True, text=True, timeout=900
    )


def load_hw(course: Path):
    spec = importlib.util.spec_from_file_location("course_hw", course / "hw.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_student_side(files: Path, code: str, cwd: Path) -> subprocess.CompletedProcess:
    """``code`` run by Python with only the student-side build ``files`` (reference.build) on its path."""
    out = subprocess.run(
        [sys.executable, "-s", "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(files / "lib"), "PATH": "/usr/bin"},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out


def fingerprint(course: Path) -> dict[str, str]:
    """sha256 of every course file the grader must not change (all but its outputs)."""
    return {
        str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(course.rglob("*"))
        if p.is_file() and p.relative_to(course).parts[0] not in ("grades", "feedback") and "__pycache__" not in p.parts
    }


def sandbox_processes() -> list[str]:
    """Processes owned by a sandbox uid (as root) or still running a marker command."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            uid = proc.stat().st_uid
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if UID_BASE <= uid < UID_BASE + sandbox.UID_COUNT or "31337" in cmd:
            found.append(f"{proc.name} uid={uid} state={stat[0]} ppid={stat[1]} {cmd}")
    return found


class Class:
    """Builds a class's submissions: the student version filled in with solutions or overrides."""

    def __init__(self, course: Path, name: str, inbox: Path) -> None:
        self.course, self.name, self.inbox = course, name, inbox
        self.hw = load_hw(course)
        inbox.mkdir(parents=True, exist_ok=True)

    def student(self, who: str, answers: dict[str, str] | None = None, after: dict[str, str] | None = None) -> Path:
        """``answers``: answer cells replaced; ``after``: an extra cell after that answer cell."""
        sample = self.inbox.parent / f"{who}.py"
        sample.write_text("".join(f"# %% {gid}\n{src}\n" for gid, src in (answers or {}).items()))
        path = self.inbox / f"{who}_{self.name}.ipynb"
        self.hw.write_sample(self.name, sample, path)
        if after:
            nb = nbformat.read(path, as_version=4)
            for gid, src in after.items():
                i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
                nb.cells.insert(i + 1, nbformat.v4.new_code_cell(src))
            nbformat.write(nb, path)
        return path


PATCH_EVERYTHING = """
import numpy
from cnn_homework import checks
import cnn_homework.checks as checks_module
for _name in dir(checks_module):
    if _name.startswith("check_"):
        setattr(checks_module, _name, lambda *a, **k: None)
checks_module._close = lambda a, b: True
checks_module._first_difference = lambda *a, **k: ""
numpy.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
"""

WRONG_BACKWARD = """
def conv_backward_naive(dout, x, w, stride=1, padding=0):
    return np.zeros_like(x), np.zeros_like(w), np.zeros(w.shape[0])
"""

TYPED_ERRORS = """
errors = {"dx": 1e-10, "dw": 1e-10, "db": 1e-10}
"""

DEFAULT_ARGS = {
    "conv_forward_naive": """
import cnn_core.functional as F
def conv_forward_naive(x, w, b, stride=1, padding=0, _impl=F.conv2d_naive):
    return _impl(x, w, b, stride, padding)
""",
    "conv_backward_naive": """
from cnn_core import functional
def conv_backward_naive(dout, x, w, stride=1, padding=0, _impl=functional.conv2d_backward_naive):
    return _impl(dout, x, w, stride, padding)
""",
    "conv_forward_fast": """
from cnn_core import functional as _f
def conv_forward_fast(x, w, b, stride=1, padding=0):
    return _f.conv2d_forward(x, w, b, stride, padding)[0]
""",
}


def reader(course: Path) -> str:
    """Tries to read the solutions, overwrite a victim, forge grades and stay behind."""
    return f"""
import glob, os, subprocess
targets = [{str(course / "source" / "hw2_conv" / "hw2_conv.ipynb")!r},
           {str(course / "submitted" / "hw2_conv" / "victim.ipynb")!r},
           {str(course / "grades")!r}]
for t in targets:
    try:
        print("READ", t, len(open(t).read()))
    except Exception as err:
        print("BLOCKED read", type(err).__name__)
    try:
        with open(t, "w") as f:
            f.write("{{}}")
        print("WROTE", t)
    except Exception as err:
        print("BLOCKED write", type(err).__name__)
print("FOUND", os.path.exists({str(course.parent)!r}), glob.glob("/root/*")[:3])
try:
    import urllib.request
    urllib.request.urlopen("http://1.1.1.1", timeout=2)
    print("NETWORK")
except Exception as err:
    print("BLOCKED network", type(err).__name__)
subprocess.Popen(["sleep", "31337"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "31337"])
    os._exit(0)
"""


INTERRUPT_SWALLOWING_LOOP = """
import time
def conv_forward_fast(x, w, b, stride=1, padding=0):
    while True:
        try:
            time.sleep(0.1)
        except BaseException:
            pass
"""

FORK_BOMB = """
import os
for _ in range(10000):
    try:
        os.fork()
    except OSError:
        pass
"""

# student -> (CSV status, total) for the hw2 batch (forward 3, backward 3, gradient check 1, fast 3)
HW2_EXPECTED = {
    "alice": ("graded", "10"),
    "victim": ("graded", "10"),
    "patcher": ("graded", "0"),
    "typist": ("graded", "6"),
    "capturer": ("graded", "0"),
    "reader": ("graded", "10"),
    "duplicator": ("graded", "10"),
    "warner": ("graded", "10"),
    "tamperer": ("graded", "10"),
    "looper": ("graded", "7"),
    "stuck": ("graded", "6"),
    "shouter": ("graded", "10"),
    "hoarder": ("graded", "10"),
    "forker": ("graded", "10"),
    "corrupt": ("failed", "0"),
    "wrongbook": ("failed", "0"),
}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("hostile") / "homework"
    shutil.copytree(HOMEWORK, dest, ignore=shutil.ignore_patterns(*GENERATED))
    return dest


@pytest.fixture(scope="module")
def hw2(course, tmp_path_factory):
    """The hostile hw2 class, collected and graded once: (exit status, output, rows, results)."""
    inbox = tmp_path_factory.mktemp("inbox") / "hw2"
    cls = Class(course, "hw2_conv", inbox)
    cls.student("alice")
    cls.student("victim")
    cls.student(
        "patcher",
        {
            "conv_forward_naive": PATCH_EVERYTHING + "\ndef conv_forward_naive(*a, **k):\n    return None",
            "gradcheck": TYPED_ERRORS,
            "conv_backward_naive": "conv_backward_naive = None",
            "conv_forward_fast": "conv_forward_fast = None",
        },
    )
    cls.student("typist", {"conv_backward_naive": WRONG_BACKWARD, "gradcheck": TYPED_ERRORS})
    cls.student("capturer", DEFAULT_ARGS)
    cls.student("reader", after={"conv_forward_fast": reader(course)})
    dup = cls.student("duplicator")
    nb = nbformat.read(dup, as_version=4)  # Jupyter's copy + paste: same metadata, new id
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_forward_naive")
    wrong = nbformat.v4.new_code_cell(
        "def conv_forward_naive(x, w, b, stride=1, padding=0):\n    return x",
        metadata=json.loads(json.dumps(nb.cells[i].metadata)),
    )
    nb.cells.insert(i, wrong)
    nbformat.write(nb, dup)
    cls.student(
        "warner",
        after={
            "conv_forward_naive": (
                "import sys, warnings\n_f = conv_forward_naive\n"
                "def conv_forward_naive(*a, **k):\n    warnings.warn('careful')\n    print('note', file=sys.stderr)\n"
                "    return _f(*a, **k)\n"
            )
        },
    )
    tam = cls.student("tamperer")
    nb = nbformat.read(tam, as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "check_conv_forward"]
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "check_conv_backward":
            c.source = "pass"
            c.metadata["nbgrader"]["points"] = 100
    nbformat.write(nb, tam)
    cls.student("looper", {"conv_forward_fast": INTERRUPT_SWALLOWING_LOOP})
    cls.student(
        "stuck",
        {"conv_backward_naive": INTERRUPT_SWALLOWING_LOOP.replace("conv_forward_fast", "conv_backward_naive")},
        after={"conv_backward_naive": "conv_backward_naive(0, 0, 0)   # tried it out: it hangs"},
    )
    cls.student("shouter", after={"conv_forward_naive": "print('x' * 100_000_000)"})
    cls.student("hoarder", after={"conv_forward_naive": "hoard = bytearray(20 << 30)"})
    cls.student("forker", after={"conv_forward_naive": FORK_BOMB})
    (inbox / "corrupt_hw2_conv.ipynb").write_text(cls.student("corrupt").read_text()[:5000])
    wrongbook = Class(course, "hw3_pool", inbox).student("wrongbook")
    wrongbook.rename(inbox / "wrongbook_hw2_conv.ipynb")

    out = run_hw(course, "collect", "hw2_conv", str(inbox))
    assert out.returncode == 0, out.stderr
    before = fingerprint(course)
    proc = run_hw(course, "grade", "hw2_conv", "--timeout", TIMEOUT, "--quiet")
    leftover = sandbox_processes()
    changed = sorted(k for k, v in fingerprint(course).items() if before.get(k) != v)
    with (course / "grades" / "hw2_conv.csv").open() as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    results = {p.stem: json.loads(p.read_text()) for p in (course / "grades" / "hw2_conv").glob("*.json")}
    return {"proc": proc, "rows": rows, "results": results, "leftover": leftover, "changed": changed}


def test_every_student_has_a_row_and_the_expected_score(hw2):
    rows = hw2["rows"]
    assert sorted(rows) == sorted(HW2_EXPECTED), hw2["proc"].stderr[-3000:]
    got = {s: (r["status"], r["total"]) for s, r in rows.items()}
    assert got == HW2_EXPECTED, {s: rows[s]["problems"] for s in got if got[s] != HW2_EXPECTED[s]}


def test_exit_status_and_summary_say_who_could_not_be_graded(hw2, course):
    proc = hw2["proc"]
    assert proc.returncode == 1
    assert "graded 14, failed 2, skipped 0, missing 0" in proc.stdout
    assert "corrupt: the file is not a valid notebook (broken JSON at line" in proc.stdout
    assert "wrongbook: this is hw3_pool's notebook, not hw2_conv's" in proc.stdout
    again = run_hw(course, "grade", "hw2_conv", "--student", "alice", "--quiet")  # everyone gradable: 0
    assert again.returncode == 0 and "graded 1, failed 0" in again.stdout


def test_patched_checks_numpy_and_typed_in_measurements_change_nothing(hw2):
    rows, results = hw2["rows"], hw2["results"]
    assert [rows["patcher"][c] for c in ("check_conv_forward", "check_conv_backward", "check_gradcheck", "check_conv_fast")] == [
        "0",
        "0",
        "0",
        "0",
    ]
    assert "check_gradcheck: errors" in rows["typist"]["problems"]
    typed = next(p for p in results["typist"]["parts"] if p["id"] == "check_gradcheck")["checks"][0]
    assert "dx: the reported error 1.0e-10 is not what your functions give" in typed["problem"], typed


def test_the_reference_is_not_in_the_sandbox_however_it_is_captured(hw2):
    problems = hw2["rows"]["capturer"]["problems"]
    for part in ("check_conv_forward", "check_conv_backward", "check_conv_fast"):
        assert f"{part}:" in problems
    assert problems.count("is withheld while hw2_conv is graded") >= 3, problems


def test_a_submission_reaches_no_course_file_network_or_process(hw2):
    assert hw2["changed"] == [], f"grading changed course files: {hw2['changed']}"
    assert hw2["leftover"] == [], f"processes survived grading: {hw2['leftover']}"
    output = "\n".join(c["output"] for c in hw2["results"]["reader"]["cells"])
    assert output.count("BLOCKED read") == 3 and output.count("BLOCKED write") == 3, output
    assert "BLOCKED network" in output and "FOUND False []" in output, output
    assert "BEGIN SOLUTION" not in json.dumps(hw2["results"]["reader"])


def test_copied_tampered_and_noisy_cells_are_graded_fairly(hw2):
    results = hw2["results"]
    assert any("appears 2 times" in n for n in results["duplicator"]["notes"])
    assert {p["id"]: p["score"] for p in results["tamperer"]["parts"]}["check_conv_backward"] == 3
    assert results["tamperer"]["max_score"] == 10
    assert results["warner"]["score"] == 10
    looped = {p["id"]: p for p in results["looper"]["parts"]}["check_conv_fast"]
    assert [c["ok"] for c in looped["checks"]] == [False, False]
    assert "did not return within 5 s" in looped["checks"][0]["problem"]
    assert "not run again" in looped["checks"][1]["problem"]  # one timeout, not one per call
    assert results["looper"]["seconds"] < 4 * float(TIMEOUT) + 30
    # a cell that hangs in a student function stops that function once: its checks fail at once
    stuck = results["stuck"]
    hung = [c for c in stuck["cells"] if c["status"] == "timeout"]
    assert len(hung) == 1 and "an endless loop in conv_backward_naive?" in hung[0]["error"], stuck["cells"]
    backward = {p["id"]: p for p in stuck["parts"]}["check_conv_backward"]["checks"]
    assert all("is not run again in this grading" in c["problem"] for c in backward), backward
    assert any("conv_backward_naive" in n for n in stuck["notes"])
    failed = [c.get("error", "") for c in results["hoarder"]["cells"] if c["status"] != "ok"]
    assert len(failed) == 1 and failed[0].startswith("MemoryError"), failed


def test_feedback_for_everyone_capped_and_without_hidden_tests(hw2, course):
    folder = course / "feedback" / "hw2_conv"
    assert sorted(p.stem for p in folder.glob("*.html")) == sorted(HW2_EXPECTED)
    assert (folder / "shouter.html").stat().st_size < 200_000
    corrupt = (folder / "corrupt.html").read_text()
    assert "could not be graded" in corrupt
    assert "not checked: the notebook could not be graded" in corrupt and "checks passed" not in corrupt
    source = nbformat.read(course / "source" / "hw2_conv" / "hw2_conv.ipynb", as_version=4)
    hidden = [
        line.strip()
        for c in source.cells
        if "### BEGIN HIDDEN TESTS" in c.source
        for line in c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
        if len(line.strip()) > 20
    ]
    assert hidden
    for page in folder.glob("*.html"):
        text = page.read_text()
        assert not any(line in text for line in hidden), page.name
        assert "seed=1" not in text, page.name


# ---------------------------------------------------------------- hw4: data and answer keys


def test_hw4_reassigned_test_data_and_patched_choices_do_not_count(course, tmp_path):
    cls = Class(course, "hw4_train", tmp_path / "inbox")
    cls.student("honest")
    cls.student(
        "cheat",
        {"questions": 'q_loss = q_gap = q_edge = q_lr = "c"'},
        after={
            "train": (
                "X_test, y_test = X_train[:100], np.zeros(100, dtype=int)\n"
                "model.layers[-1].params['b'][0] = 1e6\n"
                "checks.check_choice = lambda *a, **k: None\n"
                "checks.check_accuracy = lambda *a, **k: None\n"
            )
        },
    )
    assert run_hw(course, "collect", "hw4_train", str(tmp_path / "inbox")).returncode == 0
    proc = run_hw(course, "grade", "hw4_train", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with (course / "grades" / "hw4_train.csv").open() as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["honest"]["total"] == "14", rows["honest"]["problems"]
    assert rows["cheat"]["total"] == "7", rows["cheat"]["problems"]
    assert rows["cheat"]["check_accuracy"] == "0"
    page = (course / "feedback" / "hw4_train" / "cheat.html").read_text()
    assert "q_loss" in page and "SGD makes its biggest gains" not in page and "correct=" not in page
    assert sandbox_processes() == []


def test_hw1_reference_formulas_are_withheld_in_the_student_side_cnn_core(tmp_path):
    """What hw1 asks for (output size, parameter count) raises 'withheld' in the sandbox's cnn_core."""
    files = reference.build("hw1_shapes", ["data", "gradcheck"], tmp_path / "files")
    code = (
        "import cnn_core\n"
        "try:\n    cnn_core.output_size(7, 3, 1, 0)\nexcept RuntimeError as err:\n    print(err)\n"
        "from cnn_core.gradcheck import rel_error\nprint(rel_error(1.0, 1.0))"
    )
    out = run_student_side(files, code, tmp_path)
    assert "output_size is withheld while hw1_shapes is graded" in out.stdout
    assert out.stdout.strip().endswith("0.0")


# ---------------------------------------------------------------- hw5: trusted questions, withheld kernels


def test_hw5_reference_kernels_emptied_questions_and_patched_check_do_not_count(course, tmp_path):
    """A hw5 submission that calls cnn_core's transposed convolution and framework sizes (withheld in the
    sandbox), empties QUESTIONS and patches the sizes check scores nothing; an honest one scores 6."""
    cls = Class(course, "hw5_transposed", tmp_path / "inbox")
    cls.student("honest")
    cls.student(
        "cheat",
        {
            "conv_transpose_forward": (
                "def conv_transpose_forward(x, w, b, stride=1, padding=0):\n"
                "    return cnn_core.functional.conv_transpose2d_naive(x, w, b, stride, padding)\n"
            ),
            "sizes": (
                "from cnn_core.frameworks import framework_output_size\n"
                "sizes = {k: framework_output_size(q[0], *q[1:5], **q[5]) for k, q in QUESTIONS.items()}\n"
            ),
        },
        after={"sizes": "QUESTIONS = {}\nsizes = {}\nchecks.check_framework_sizes = lambda *a, **k: None\n"},
    )
    assert run_hw(course, "collect", "hw5_transposed", str(tmp_path / "inbox")).returncode == 0
    proc = run_hw(course, "grade", "hw5_transposed", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with (course / "grades" / "hw5_transposed.csv").open() as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["honest"]["total"] == "6", rows["honest"]["problems"]
    assert rows["cheat"]["total"] == "0", rows["cheat"]["problems"]
    page = (course / "feedback" / "hw5_transposed" / "cheat.html").read_text()
    assert "withheld while hw5_transposed is graded" in page
    assert sandbox_processes() == []


@pytest.mark.parametrize("assignment", ["hw1_shapes", "hw2_conv", "hw3_pool", "hw5_transposed"])
def test_what_the_sandbox_keeps_holds_no_reference_kernel(assignment):
    """The cnn_core modules an assignment keeps, with everything they import at any depth, hold no
    kernel or layer the student writes: one stray import (say gradcheck importing fast) would put
    the reference solution back into the sandbox."""
    import tomllib

    import cnn_core

    keep = tomllib.loads((HOMEWORK / "grading" / "assignments.toml").read_text())[assignment]["keep"]
    kept = reference._with_imports(Path(cnn_core.__file__).parent, keep)
    assert set(keep) <= kept
    assert not kept & {"fast", "naive", "functional", "layers", "frameworks", "conv_in_depth"}, sorted(kept)
