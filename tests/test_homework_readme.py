"""homework/README.md's walk from a fresh clone to an LMS CSV, run line by line on a copy of homework/.

Every `hw.py` command the README names is in that block; the student self-check it shows is run
by tests/test_selfcheck.py. Without bubblewrap the grading runs unisolated (and warns): the
results are the same, so this test runs everywhere.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "homework" / "README.md"


def walkthrough() -> list[str]:
    text = README.read_text()
    start = text.index("This block is a dry run")
    block = re.search(r"```bash\n(.*?)```", text[start:], re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_every_hw_command_in_the_readme_is_in_the_tested_block():
    text = README.read_text()
    code = "\n".join(re.findall(r"```.*?```|`[^`\n]+`", text, re.S))  # code blocks and inline code
    named = set(re.findall(r"hw\.py (\w+)", code)) | set(re.findall(r"\*\*`(\w+)", text))
    walked = {re.search(r"hw\.py (\w+)", line).group(1) for line in walkthrough() if "hw.py" in line}
    assert walked == {"generate", "samples", "collect", "grade", "feedback", "similarity"}
    assert named <= walked | {"hw"}, named - walked


def test_the_readme_walkthrough_ends_with_grades_for_the_lms(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(
        REPO / "homework",
        repo / "homework",
        ignore=shutil.ignore_patterns("submitted", "grades", "feedback", "gradebook.db", "__pycache__"),
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    outputs = []
    for line in walkthrough():
        command = line.replace("/tmp/", f"{tmp_path}/").replace(".venv/bin/python", sys.executable)
        proc = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{line}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        outputs.append(proc.stdout)
    course = repo / "homework"
    grade_output = outputs[4]
    assert "graded 4, failed 0, skipped 0, missing 1" in grade_output and "dave" in grade_output
    with (course / "grades" / "hw2_conv_lms.csv").open() as f:
        lms = {r["student_id"]: (r["score"], r["max_score"], r["late"]) for r in csv.DictReader(f)}
    assert lms == {"alice": ("10", "10", "no"), "ben": ("7", "10", "no"), "bob": ("6", "10", "no"), "carol": ("3", "10", "no")}
    assert "graded 1, failed 0" in outputs[5]
    assert sorted(p.name for p in (course / "feedback" / "hw2_conv").iterdir()) == [
        "alice.html",
        "ben.html",
        "bob.html",
        "carol.html",
    ]
    assert (course / "grades" / "hw2_conv_similarity" / "similarity.csv").is_file()
