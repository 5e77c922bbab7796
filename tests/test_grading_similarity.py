"""homework/grading/similarity.py: flagging copied code with copydetect."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "homework"))
from grading.similarity import CSV_COLUMNS, REFERENCE, similarity_report  # noqa: E402

# What every student was given (the student version's cell): must never count as shared.
STUB = '''\
def conv_forward_naive(x, w, b, stride=1, padding=0):
    """x (N, D, H, W), w (K, D, F, F), b (K,) -> out (N, K, H2, W2), by loops."""
    # YOUR CODE HERE
    raise NotImplementedError()
'''

# Helpers the student version also gives everyone, which students keep in their answer cells.
HELPERS = '''\

def rel_error(a, b):
    """Largest relative error between two arrays (given)."""
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def check_shape(out, x, w, stride, padding):
    """Given: the output shape a correct convolution must have."""
    N, D, H, W = x.shape
    K, _, F, _ = w.shape
    H2 = (H + 2 * padding - F) // stride + 1
    W2 = (W + 2 * padding - F) // stride + 1
    assert out.shape == (N, K, H2, W2), f"expected {(N, K, H2, W2)}, got {out.shape}"
'''

# The instructor's solution.
REFERENCE_CODE = '''\
def conv_forward_naive(x, w, b, stride=1, padding=0):
    """x (N, D, H, W), w (K, D, F, F), b (K,) -> out (N, K, H2, W2), by loops."""
    N, D, H, W = x.shape
    K, _, F, _ = w.shape
    H2 = (H + 2 * padding - F) // stride + 1
    W2 = (W + 2 * padding - F) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, K, H2, W2))
    for n in range(N):
        for k in range(K):
            for r in range(H2):
                for c in range(W2):
                    window = xp[n, :, r * stride:r * stride + F, c * stride:c * stride + F]
                    out[n, k, r, c] = np.sum(window * w[k]) + b[k]
    return out
'''

# A student's own four nested loops, written independently of the reference.
LOOPS = '''\
def conv_forward_naive(x, w, b, stride=1, padding=0):
    """x (N, D, H, W), w (K, D, F, F), b (K,) -> out (N, K, H2, W2), by loops."""
    n_img, chans, height, width = x.shape
    n_filt, _, size, _ = w.shape
    padded = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)], mode="constant")
    out_h = 1 + (height + 2 * padding - size) // stride
    out_w = 1 + (width + 2 * padding - size) // stride
    result = np.empty((n_img, n_filt, out_h, out_w))
    for img in range(n_img):
        for f in range(n_filt):
            for i in range(out_h):
                top = i * stride
                for j in range(out_w):
                    left = j * stride
                    patch = padded[img, :, top:top + size, left:left + size]
                    result[img, f, i, j] = (patch * w[f]).sum() + b[f]
    return result
'''

# Another student's: windows and einsum, no loop at all.
WINDOWS = '''\
def conv_forward_naive(x, w, b, stride=1, padding=0):
    """x (N, D, H, W), w (K, D, F, F), b (K,) -> out (N, K, H2, W2), by loops."""
    size = w.shape[-1]
    padded = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    views = sliding_window_view(padded, (size, size), axis=(-2, -1))[:, :, ::stride, ::stride]
    return np.einsum("ndhwij,kdij->nkhw", views, w) + b[None, :, None, None]
'''


def disguise(code: str) -> str:
    """The classic cover-up: rename every variable, add comments, move blank lines around."""
    renames = {
        "n_img": "batch",
        "chans": "depth",
        "height": "hh",
        "width": "ww",
        "n_filt": "nk",
        "size": "fs",
        "padded": "xpad",
        "out_h": "ho",
        "out_w": "wo",
        "result": "y",
        "img": "q",
        "f": "kk",
        "i": "row",
        "j": "col",
        "top": "r0",
        "left": "c0",
        "patch": "win",
    }
    for old, new in renames.items():
        code = re.sub(rf"\b{old}\b", new, code)
    lines = []
    for n, line in enumerate(code.splitlines()):
        if n % 3 == 0:
            lines.append("")
        lines.append(line)
        if "for " in line:
            lines.append(" " * (len(line) - len(line.lstrip()) + 4) + "# go over the next axis")
    return "# written all by myself\n\n" + "\n".join(lines) + "\n\n\n"


def convolve(code: str, x, w, b, **kw):
    from numpy.lib.stride_tricks import sliding_window_view

    space = {"np": np, "sliding_window_view": sliding_window_view}
    exec(code, space)
    return space["conv_forward_naive"](x, w, b, **kw)


def read_csv(out: Path) -> list[dict[str, str]]:
    with (out / "similarity.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def pair(pairs, a, b):
    found = [p for p in pairs if {p.student_a, p.student_b} == {a, b}]
    return found[0] if found else None


# ----------------------------------------------------------------------------- the verdicts


def test_identical_code_is_flagged(tmp_path):
    pairs = similarity_report({"alice": LOOPS, "bob": LOOPS, "carol": WINDOWS}, tmp_path, boilerplate=STUB)
    assert [(p.student_a, p.student_b) for p in pairs] == [("alice", "bob")]
    assert pairs[0].similarity_a == pytest.approx(1.0) and pairs[0].similarity_b == pytest.approx(1.0)
    assert pairs[0].verdict == "flagged"


def test_renamed_variables_comments_and_blank_lines_do_not_hide_a_copy(tmp_path):
    copy = disguise(LOOPS)
    assert "n_img" not in copy and "# written all by myself" in copy  # the disguise did happen
    pairs = similarity_report({"alice": LOOPS, "mallory": copy, "carol": WINDOWS}, tmp_path, boilerplate=STUB)
    flagged = pair(pairs, "alice", "mallory")
    assert flagged is not None and flagged.similarity >= 0.9
    assert pair(pairs, "alice", "carol") is None and pair(pairs, "mallory", "carol") is None


def test_a_copy_pasted_into_a_longer_file_is_flagged(tmp_path):
    # All of alice's answer is in mallory's file, but it is only part of mallory's file.
    longer = disguise(LOOPS) + WINDOWS.replace("def conv_forward_naive", "def conv_fast") + HELPERS
    pairs = similarity_report({"alice": LOOPS, "mallory": longer}, tmp_path, boilerplate=STUB)
    assert len(pairs) == 1
    assert pairs[0].similarity_a >= 0.9 > 0.6 > pairs[0].similarity_b  # alice's side: all copied


def test_different_correct_solutions_are_not_flagged(tmp_path):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    expected = convolve(REFERENCE_CODE, x, w, b, stride=2, padding=1)
    for code in (LOOPS, WINDOWS):  # both are right ...
        np.testing.assert_allclose(convolve(code, x, w, b, stride=2, padding=1), expected)
    codes = {"alice": LOOPS, "carol": WINDOWS}
    assert similarity_report(codes, tmp_path, boilerplate=STUB) == []  # ... and written differently
    (row,) = read_csv(tmp_path)
    assert row["verdict"] == "ok" and float(row["similarity"]) < 0.3


def test_an_independent_solution_of_the_same_shape_is_not_taken_for_the_reference(tmp_path):
    # Four nested loops, as in the reference, but written by the student.
    pairs = similarity_report({"alice": LOOPS, "carol": WINDOWS}, tmp_path, reference=REFERENCE_CODE, boilerplate=STUB)
    assert pairs == []


def test_the_boilerplate_alone_does_not_make_two_students_similar(tmp_path):
    # Both gave up after one line: everything else is the stub they were given.
    codes = {"dan": STUB + "\nanswer = 42  # todo\n", "eve": STUB + "\nprint('stuck')\n"}
    assert len(similarity_report(codes, tmp_path / "without", threshold=0.6)) == 1  # the stub makes them alike
    assert similarity_report(codes, tmp_path / "with", boilerplate=STUB) == []
    (row,) = read_csv(tmp_path / "with")
    assert float(row["similarity_a"]) == 0 and float(row["similarity_b"]) == 0

    # Two real, different answers that both keep the helpers everyone was given.
    codes = {"alice": LOOPS + HELPERS, "carol": HELPERS + WINDOWS}
    assert len(similarity_report(codes, tmp_path / "real_without")) == 1
    assert similarity_report(codes, tmp_path / "real_with", boilerplate=STUB + HELPERS) == []
    (with_,) = read_csv(tmp_path / "real_with")
    plain = similarity_report({"alice": LOOPS, "carol": WINDOWS}, tmp_path / "plain", threshold=0.01)
    assert float(with_["similarity"]) == pytest.approx(plain[0].similarity, abs=0.05)


def test_a_copy_of_the_reference_is_flagged_against_reference(tmp_path):
    leaked = REFERENCE_CODE.replace("window", "patch").replace("xp", "xpad") + "\n# done\n"
    codes = {"alice": LOOPS, "carol": WINDOWS, "leo": leaked}
    pairs = similarity_report(codes, tmp_path, reference=REFERENCE_CODE, boilerplate=STUB)
    assert [(p.student_a, p.student_b) for p in pairs] == [("leo", REFERENCE)]
    assert pairs[0].similarity_a == pytest.approx(1.0)
    rows = read_csv(tmp_path)
    assert (rows[0]["student_a"], rows[0]["student_b"], rows[0]["verdict"]) == ("leo", REFERENCE, "flagged")


# ----------------------------------------------------------------------------- the files


def test_csv_lists_every_pair_most_similar_first_and_html_names_the_students(tmp_path):
    codes = {"alice": LOOPS, "bob": disguise(LOOPS), "carol": WINDOWS, "dan": STUB}
    pairs = similarity_report(codes, tmp_path, reference=REFERENCE_CODE, boilerplate=STUB)
    rows = read_csv(tmp_path)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 4 * 3 // 2 + 4  # every pair of students, and every student with the reference
    sims = [float(r["similarity"]) for r in rows]
    assert sims == sorted(sims, reverse=True)
    for r in rows:
        assert 0 <= float(r["similarity_a"]) <= 1 and 0 <= float(r["similarity_b"]) <= 1
        assert float(r["similarity"]) == max(float(r["similarity_a"]), float(r["similarity_b"]))
        assert r["verdict"] == ("flagged" if float(r["similarity"]) >= 0.6 else "ok")
    assert [r["verdict"] for r in rows].count("flagged") == len(pairs) == 1
    html = (tmp_path / "similarity.html").read_text(encoding="utf-8")
    assert "students/alice.py" in html and "students/bob.py" in html
    assert "similarity-" not in html  # no temporary paths


def test_ids_that_are_not_file_names_still_work(tmp_path):
    pairs = similarity_report({"a/b": LOOPS, "../c": LOOPS}, tmp_path)
    assert [(p.student_a, p.student_b) for p in pairs] == [("../c", "a/b")]
    assert not (tmp_path.parent / "c.py").exists()


def test_too_few_submissions_still_write_both_files(tmp_path):
    assert similarity_report({"alice": LOOPS}, tmp_path) == []
    assert read_csv(tmp_path) == []
    assert "nothing to compare" in (tmp_path / "similarity.html").read_text(encoding="utf-8")
    # One student and the reference is a comparison.
    pairs = similarity_report({"alice": REFERENCE_CODE}, tmp_path / "ref", reference=REFERENCE_CODE)
    assert [(p.student_a, p.student_b) for p in pairs] == [("alice", REFERENCE)]


def test_bad_arguments_are_explained(tmp_path):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        similarity_report({"a": LOOPS, "b": LOOPS}, tmp_path, threshold=60)
    with pytest.raises(ValueError, match=r"a student is called '\(reference solution\)'"):
        similarity_report({REFERENCE: LOOPS, "b": LOOPS}, tmp_path, reference=REFERENCE_CODE)
