"""Grading throughput: a class of correct hw2 submissions, and a class whose code loops forever.

Run from the repository root (as root with bubblewrap installed, as the grader runs):

    .venv/bin/python bench/grading.py                      # 100 correct + 100 looping, timeout 10 s
    .venv/bin/python bench/grading.py --students 20 --looping 0

Each class is graded by ``hw.py grade`` (all cores, sandboxed) in a copy of homework/ under a
temporary folder; the wall time of the command is printed with the per-notebook mean. Goals
(issue 10): 100 correct hw2 notebooks in <= 3 minutes on 2 cores; a looping submission costs
about one timeout (its looping function is stopped once, not once per cell that calls it), so
100 of them take about 100 x timeout / cores.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOOP = """
def conv_forward_naive(x, w, b, stride=1, padding=0):
    while True:
        try:
            pass
        except BaseException:
            pass
"""


def grade_class(course: Path, students: int, looping: bool, timeout: float) -> tuple[float, dict[str, str]]:
    spec = importlib.util.spec_from_file_location("course_hw", course / "hw.py")
    hw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hw)
    inbox = course.parent / ("inbox_loop" if looping else "inbox")
    inbox.mkdir()
    sample = course.parent / "sample.py"
    sample.write_text("# %% conv_forward_naive\n" + LOOP if looping else "")
    first = inbox / "s000_hw2_conv.ipynb"
    hw.write_sample("hw2_conv", sample, first)
    for i in range(1, students):
        shutil.copy(first, inbox / f"s{i:03d}_hw2_conv.ipynb")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    run = [sys.executable, str(course / "hw.py")]
    subprocess.run([*run, "collect", "hw2_conv", str(inbox)], check=True, env=env, capture_output=True)
    start = time.perf_counter()
    subprocess.run([*run, "grade", "hw2_conv", "--quiet", "--timeout", str(timeout)], env=env, capture_output=True)
    seconds = time.perf_counter() - start
    with (course / "grades" / "hw2_conv.csv").open() as f:
        totals = {r["student_id"]: r["total"] for r in csv.DictReader(f)}
    return seconds, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100, help="correct submissions (0: skip)")
    parser.add_argument("--looping", type=int, default=100, help="looping submissions (0: skip)")
    parser.add_argument("--timeout", type=float, default=10.0, help="grading timeout in seconds")
    args = parser.parse_args()
    cores = os.cpu_count()
    print(f"{cores} cores; sandbox: {'bubblewrap' if shutil.which('bwrap') else 'NONE'}")
    for n, looping in ((args.students, False), (args.looping, True)):
        if not n:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            course = Path(tmp) / "homework"
            shutil.copytree(
                REPO / "homework", course, ignore=shutil.ignore_patterns("submitted", "grades", "feedback", "__pycache__")
            )
            seconds, totals = grade_class(course, n, looping, args.timeout)
            if os.environ.get("BENCH_KEEP"):
                shutil.copytree(course / "grades", os.environ["BENCH_KEEP"], dirs_exist_ok=True)
        scores = sorted(set(totals.values()))
        what = f"looping (timeout {args.timeout:g} s)" if looping else "correct"
        print(
            f"{n} {what} hw2 notebooks: {seconds:.0f} s in all, {seconds / n:.2f} s per notebook "
            f"({seconds * cores / n:.2f} core-seconds); totals seen: {scores}"
        )
        if looping:
            print(f"  = {seconds * cores / n / args.timeout:.2f} timeouts per submission per core")


if __name__ == "__main__":
    main()
