"""Flag students whose code is too similar to another student's, or to the instructor's solution.

A thin layer over copydetect (PyPI ``copydetect``: winnowing fingerprints as in MOSS, code
tokenised by Pygments, so renamed variables, comments and blank lines do not hide a copy).
``similarity_report`` writes ``similarity.csv`` (every pair, most similar first) and
copydetect's ``similarity.html`` (the flagged pairs with the shared code highlighted), and
returns the flagged pairs.

Similarity is measured both ways: ``similarity_a`` is the share of a's own code (boilerplate
left out) that also appears in b. A pair is flagged when either share reaches the threshold,
so a student who pasted a classmate's whole answer into a longer file is caught too.
Similar is not proof: short assignments leave little room for variety, so read the HTML.

Whatever the students' ids and code hold, one student cannot stop the comparison of the others:
the code is made valid text (:func:`text.clean`), copydetect sees opaque file names (mapped back
to the ids in the report), and the solution's label is no possible student id. A submission that
could not be read is listed in the CSV as ``not compared`` with the reason.
"""

from __future__ import annotations

import csv
import html as html_lib
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .text import clean as clean_text

REFERENCE = "(reference solution)"  # parentheses and a space: never a student id of collect's
NOISE = 25  # copydetect's default: matches shorter than this many normalised characters are ignored
GUARANTEE = 25  # matches at least this long are always found (= NOISE: compare every k-gram)
CSV_COLUMNS = ("student_a", "student_b", "similarity_a", "similarity_b", "similarity", "overlap", "verdict")


@dataclass(frozen=True)
class Pair:
    """Two students (or a student and ``"reference"``) and how much of each one's code the other has."""

    student_a: str
    student_b: str  # a student id, or "reference" for the instructor's solution
    similarity_a: float  # share of a's own code found in b, 0..1
    similarity_b: float  # share of b's own code found in a, 0..1
    overlap: int  # length of the shared code, in normalised characters
    flagged: bool

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)

    @property
    def verdict(self) -> str:
        return "flagged" if self.flagged else "ok"


def similarity_report(
    codes: Mapping[str, str],
    out_dir: Path,
    *,
    reference: str | None = None,
    boilerplate: str = "",
    threshold: float = 0.6,
    skipped: Mapping[str, str] | None = None,
) -> list[Pair]:
    """Compare every student's code with every other's (and with ``reference``, if given).

    ``codes`` maps student id -> the code they wrote; ``boilerplate`` is code everyone was
    given (stubs, signatures), which never counts as shared; ``skipped`` maps the ids of students
    whose code could not be read to the reason (listed in the CSV). Writes ``out_dir/similarity.csv``
    and ``out_dir/similarity.html``; returns the pairs at or above ``threshold``, most similar first."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], e.g. 0.6 for 60% shared code; got {threshold}")
    if reference is not None and REFERENCE in codes:
        raise ValueError(
            f"a student is called {REFERENCE!r}, the name used for the reference solution: rename that student's key in codes"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = sorted(codes)
    with tempfile.TemporaryDirectory(prefix="similarity-") as tmp:
        pairs, html = _compare(ids, codes, Path(tmp), reference, boilerplate, threshold, out_dir / "similarity.html")
    pairs.sort(key=lambda p: (-p.similarity, -min(p.similarity_a, p.similarity_b), p.student_a, p.student_b))
    _write_csv(out_dir / "similarity.csv", pairs, skipped or {})
    (out_dir / "similarity.html").write_text(html, encoding="utf-8")
    return [p for p in pairs if p.flagged]


def _compare(
    ids: list[str],
    codes: Mapping[str, str],
    tmp: Path,
    reference: str | None,
    boilerplate: str,
    threshold: float,
    html_path: Path,
) -> tuple[list[Pair], str]:
    """Run copydetect over the codes written to files in ``tmp``; the pairs and the HTML report."""
    from copydetect import CopyDetector  # imported here: it pulls in matplotlib

    files: list[str] = []
    for n, sid in enumerate(ids):
        path = tmp / "students" / f"s{n:05d}.py"  # opaque: an id can neither clash with nor escape the file set
        path.parent.mkdir(exist_ok=True)
        path.write_text(clean_text(codes[sid], None), encoding="utf-8")
        files.append(str(path))
    if len(ids) + (reference is not None) < 2:
        return [], _empty_html(len(ids))

    detector = CopyDetector(
        extensions=["py"],
        noise_t=NOISE,
        guarantee_t=GUARANTEE,
        display_t=threshold,
        force_language="python",
        autoopen=False,
        silent=True,
        out_file=str(html_path),
    )
    for path in files:
        detector.add_file(path, "testref")
    if reference is not None:
        ref_path = tmp / "reference" / "solution.py"
        ref_path.parent.mkdir()
        ref_path.write_text(clean_text(reference, None), encoding="utf-8")
        detector.add_file(str(ref_path), "ref")
    if boilerplate.strip():
        given = tmp / "boilerplate" / "boilerplate.py"
        given.parent.mkdir()
        given.write_text(clean_text(boilerplate, None), encoding="utf-8")
        detector.add_file(str(given), "boilerplate")
    detector.run()

    sim, overlap = detector.similarity_matrix, detector.token_overlap_matrix
    others = ids + ([REFERENCE] if reference is not None else [])
    pairs = []
    for i, a in enumerate(ids):
        for j in range(i + 1, len(others)):
            sim_a, sim_b = (max(float(v), 0.0) for v in sim[i, j])
            pairs.append(
                Pair(a, others[j], round(sim_a, 4), round(sim_b, 4), max(int(overlap[i, j]), 0), max(sim_a, sim_b) >= threshold)
            )
    with warnings.catch_warnings():  # copydetect 0.5.0 reads its template with a deprecated call
        warnings.simplefilter("ignore", DeprecationWarning)
        html = detector.generate_html_report(output_mode="return") or _empty_html(len(ids))
    for sid, path in zip(ids, files):  # show students/alice.py, not an opaque temporary path
        html = html.replace(path, html_lib.escape(f"students/{clean_text(sid, 200)}.py"))
    return pairs, html.replace(str(tmp) + "/", "")


def _write_csv(path: Path, pairs: list[Pair], skipped: Mapping[str, str]) -> None:
    with path.open("w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for p in pairs:
            writer.writerow(
                [
                    p.student_a,
                    p.student_b,
                    f"{p.similarity_a:.3f}",
                    f"{p.similarity_b:.3f}",
                    f"{p.similarity:.3f}",
                    p.overlap,
                    p.verdict,
                ]
            )
        for sid, reason in sorted(skipped.items()):
            writer.writerow([sid, "", "", "", "", "", f"not compared: {clean_text(reason, 500)}"])


def _empty_html(count: int) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Similarity</title></head>"
        f"<body><p>{count} submission(s): nothing to compare.</p></body></html>\n"
    )
