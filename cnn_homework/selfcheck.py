"""Check a homework notebook before you submit it, the way the grader will see it.

    python -m cnn_homework check hw2_conv.ipynb

It checks that the file is a readable notebook of one of the assignments, with each answer cell
once and every check cell in place, and that your cells use nothing of cnn_core the grader
withholds; then runs it top to bottom in a fresh kernel (your file is not changed) and reports
every public check (a syntax error named as the cause of the checks that fail after it). The
grader runs the same checks and hidden ones on other cases, so passing here is necessary, not
sufficient. Exit status: 0 all checks pass, 1 some do not (or a cell raised or did not finish),
2 the file cannot be used.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Assignment:
    answers: tuple[str, ...]  # grade_ids of the cells a student fills in
    checks: tuple[str, ...]  # grade_ids of the check cells
    keep: tuple[str, ...] = ("*",)  # what of cnn_core works in the grader: see cnn_homework.withheld
    offer: tuple[str, ...] = ()


# Kept equal to homework/source by tests/test_selfcheck.py, and keep / offer to
# homework/grading/assignments.toml by tests/test_grading_round2_jupyter.py.
ASSIGNMENTS = {
    "hw1_shapes": Assignment(
        answers=("output_size", "fits", "conv_layer", "num_params", "fc_vs_conv", "receptive_field", "rf_numbers"),
        checks=(
            "check_output_size",
            "check_fits",
            "check_conv_layer",
            "check_num_params",
            "check_fc_vs_conv",
            "check_receptive_field",
            "check_rf_numbers",
        ),
        keep=("data", "gradcheck"),
    ),
    "hw2_conv": Assignment(
        answers=("conv_forward_naive", "conv_backward_naive", "gradcheck", "conv_forward_fast"),
        checks=("check_conv_forward", "check_conv_backward", "check_gradcheck", "check_conv_fast"),
        keep=("data", "gradcheck", "shapes"),
        offer=("naive.pad",),
    ),
    "hw3_pool": Assignment(
        answers=("relu", "pool_forward", "pool_backward", "gradcheck"),
        checks=(
            "check_relu_forward",
            "check_relu_backward",
            "check_pool_forward_max",
            "check_pool_forward_avg",
            "check_pool_forward_l2",
            "check_pool_backward_max",
            "check_pool_backward_avg",
            "check_pool_backward_l2",
            "check_gradcheck",
        ),
        keep=("data", "gradcheck", "shapes"),
        offer=("naive.pad",),
    ),
    "hw4_train": Assignment(
        answers=("model", "train", "curves", "filters", "first_layer_weights", "questions"),
        checks=(
            "check_model",
            "check_accuracy",
            "check_training",
            "check_curves",
            "check_filters",
            "check_first_layer_weights",
            "check_q_loss",
            "check_q_gap",
            "check_q_edge",
            "check_q_lr",
        ),
    ),
    "hw5_transposed": Assignment(
        answers=("conv_transpose_forward", "conv_backward_dx", "sizes"),
        checks=("check_conv_transpose_forward", "check_conv_backward_dx", "check_sizes"),
        keep=("data", "gradcheck", "shapes"),
        offer=("naive.pad",),
    ),
}
MAX_BYTES = 20 << 20  # neither the grader nor the self-check reads larger notebooks
MAX_DEPTH = 100  # JSON nesting a notebook may have (Jupyter's own files nest about 10 deep)


class UnusableFile(Exception):
    """The file cannot be graded at all; the message says why and what to do."""


def _grade_id(cell: dict) -> str | None:
    return ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")


def _depth(value) -> int:
    """How deeply lists and objects nest in parsed JSON, counted without recursion (stops past MAX_DEPTH)."""
    deepest, stack = 0, [(value, 1)] if isinstance(value, (list, dict)) else []
    while stack and deepest <= MAX_DEPTH:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, level + 1) for c in children if isinstance(c, (list, dict)))
    return deepest


_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _text_depth(text: str) -> int:
    """How deeply brackets nest in JSON text too deep for the parser (strings left out)."""
    brackets = re.sub(r"[^\[\]{}]+", "", re.sub(r'"[^"\\]*(?:\\.[^"\\]*)*"', "", text))
    return max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _too_deep(depth: int) -> UnusableFile:
    return UnusableFile(
        f"the file is not a readable notebook: its JSON is nested {depth} levels deep (a notebook nests "
        f"fewer than {MAX_DEPTH}); submit the .ipynb that Jupyter saved (open your last good copy, save it, "
        "and submit again)"
    )


def _upgrade(nb: dict) -> dict:
    """A notebook of an older format (nbformat 1-3, cells in "worksheets") converted to nbformat 4,
    as Jupyter does when it opens one."""
    try:
        import nbformat
    except ImportError:
        raise UnusableFile(
            f"the notebook is in the old format {nb.get('nbformat')} and nbformat (part of Jupyter) is not "
            "installed here to convert it: open it in Jupyter, save it (which converts it) and submit again"
        ) from None
    try:
        return nbformat.convert(nbformat.from_dict(nb), 4)
    except Exception as err:  # nbformat's converters raise anything on a malformed old notebook
        raise UnusableFile(
            f"the notebook is in the old format {nb.get('nbformat')} and cannot be converted "
            f"({type(err).__name__}): open it in Jupyter, save it and submit again"
        ) from None


def read_notebook(path: Path) -> dict:
    """The notebook's JSON (nbformat 4; older formats converted), or UnusableFile with the reason a
    student can act on. The grader reads submissions with this function too
    (homework/grading/notebook.py), so both give the same reasons."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UnusableFile(
            f"the file is {size / 2**20:.0f} MB, over the grader's limit of {MAX_BYTES >> 20} MB: "
            "clear the outputs (Edit → Clear All Outputs), save and submit again"
        )
    try:
        text = path.read_bytes().decode("utf-8")
        nb = json.loads(text)
    except UnicodeDecodeError:
        raise UnusableFile(
            "the file is not a text file (UTF-8): submit the .ipynb file itself, not a PDF, zip or screenshot"
        ) from None
    except json.JSONDecodeError as err:
        raise UnusableFile(
            f"the file is not a valid notebook (broken JSON at line {err.lineno}, column "
            f"{err.colno}): {err.msg}; open it in Jupyter (or your last good copy), save it, "
            "and submit again"
        ) from None
    except RecursionError:
        raise _too_deep(_text_depth(text)) from None
    depth = _depth(nb)
    if depth > MAX_DEPTH:
        raise _too_deep(_text_depth(text))
    if isinstance(nb, dict) and isinstance(nb.get("nbformat"), int) and nb["nbformat"] < 4:
        nb = _upgrade(nb)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise UnusableFile("the file is JSON but not a Jupyter notebook (no list of cells)")
    for i, c in enumerate(nb["cells"]):
        if not _well_formed(c):
            raise UnusableFile(f"cell {i + 1} of the notebook is malformed; open it in Jupyter and save it again")
    return nb


def _well_formed(cell) -> bool:
    """A cell the way Jupyter writes it, as far as the self-check and the grader read it: its source
    text (or list of lines), and metadata whose nbgrader part is a dict with a text grade_id."""
    if not isinstance(cell, dict):
        return False
    source, meta = cell.get("source", ""), cell.get("metadata", {})
    lines_ok = isinstance(source, str) or isinstance(source, list) and all(isinstance(line, str) for line in source)
    if not lines_ok or not isinstance(cell.get("cell_type", ""), str) or not isinstance(meta, dict):
        return False
    nbgrader = meta.get("nbgrader", {})
    return isinstance(nbgrader, dict) and isinstance(nbgrader.get("grade_id", ""), (str, type(None)))


def identify(nb: dict) -> str:
    """The assignment whose answer cells the notebook has most of; UnusableFile if none."""
    ids = {_grade_id(c) for c in nb["cells"] if isinstance(c, dict)}
    hits = {name: len(ids & set(a.answers)) for name, a in ASSIGNMENTS.items()}
    best = max(hits, key=hits.get)
    if not hits[best]:
        raise UnusableFile(
            "this is not one of the homework notebooks (" + ", ".join(ASSIGNMENTS) + "): "
            "start from the notebook you downloaded from the book"
        )
    return best


def structure(nb: dict, name: str, path: Path) -> list[str]:
    """Problems in the notebook's cells and name, each with what the grader does about it."""
    a = ASSIGNMENTS[name]
    ids = [_grade_id(c) for c in nb["cells"] if isinstance(c, dict)]
    problems = []
    if name not in path.name:
        problems.append(
            f"the file name {path.name!r} does not say which assignment it is: name it {name}.ipynb (or as your instructor asks)"
        )
    for gid in a.answers:
        n = ids.count(gid)
        if n == 0:
            problems.append(
                f"the answer cell '{gid}' is missing (deleted?): its checks will fail; copy it back from a fresh download"
            )
        elif n > 1:
            problems.append(
                f"the answer cell '{gid}' appears {n} times (a copied cell?): the grader runs all "
                "copies in order; delete the ones you do not mean"
            )
    for gid in a.checks:
        if gid not in ids:
            problems.append(f"the check cell '{gid}' is missing: the grader puts it back and grades it; it is not run here")
    return problems


def _python(source: str) -> str:
    """A cell's code as Python: IPython syntax (%magic, !cmd) turned into calls, as Jupyter does."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - compile() reports what is wrong
        return source


def syntax_error(source: str) -> str | None:
    """Where a cell does not parse ("invalid syntax at line 3: def f(:"), or None; the grader's
    sandbox words it the same way."""
    try:
        compile(_python(source), "<cell>", "exec")
    except SyntaxError as err:
        return f"{err.msg} at line {err.lineno}" + (f": {err.text.strip()}" if err.text and err.text.strip() else "")
    except (ValueError, RecursionError, MemoryError):  # not a syntax error: the kernel's message stands
        pass
    return None


def _cnn_core_names(source: str) -> list[str]:
    """Dotted names of cnn_core that a cell imports or reads (``cnn_core.functional.pad``)."""
    import ast

    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    aliases, found = {"cnn_core": "cnn_core"}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "cnn_core":
                    aliases[a.asname or "cnn_core"] = a.name if a.asname else "cnn_core"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "cnn_core":
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                found.append(f"{node.module}.{a.name}")
    for node in ast.walk(tree):
        chain = []
        while isinstance(node, ast.Attribute):
            chain.insert(0, node.attr)
            node = node.value
        if chain and isinstance(node, ast.Name) and node.id in aliases:
            found.append(".".join([aliases[node.id], *chain]))
    return list(dict.fromkeys(found))


def _resolve(dotted: str):
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def withheld_uses(nb: dict, name: str) -> list[str]:
    """The cnn_core functions and classes the student's cells use that the grader withholds."""
    from cnn_homework.withheld import withheld

    a = ASSIGNMENTS[name]
    mine = set(a.answers)
    problems = []
    for c in nb["cells"]:
        if not isinstance(c, dict) or c.get("cell_type") != "code" or _grade_id(c) not in mine | {None}:
            continue
        for dotted in _cnn_core_names("".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))):
            if withheld(_resolve(dotted), a.keep, a.offer):
                problems.append(
                    f"{dotted} is withheld while the grader runs {name} (it is part of the reference your "
                    "code is compared with): calling it fails there; write that part yourself with numpy"
                )
    return list(dict.fromkeys(problems))


@dataclass
class CellReport:
    grade_id: str
    ok: bool
    message: str = ""


def _error_text(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"
    return None


def run(path: Path, name: str, timeout: float) -> tuple[list[CellReport], list[str]]:
    """Run a copy of the notebook in a fresh kernel; (one report per check cell, other problems)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.resolve().parent)}},
    )
    problems = []
    try:
        client.execute()
    except CellTimeoutError:
        problems.append(
            f"a cell did not finish within {timeout:g} s (an endless loop?): the cells after it did "
            "not run; the grader stops it too and gives no points for what depends on it"
        )
    except DeadKernelError:
        problems.append(
            "the notebook's Python process died (os._exit, a crash or too much memory): the cells after it did not run"
        )
    checks = set(ASSIGNMENTS[name].checks)
    reports = []
    failed: list[str] = []  # the cells that raised so far, as "cell X: error"
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cell.cell_type != "code":
            continue
        error = _error_text(cell)
        if error is not None and error.startswith("SyntaxError"):
            error = f"SyntaxError: {syntax_error(cell.source) or error.split(': ', 1)[-1]} (nothing in this cell ran)"
        if gid in checks:
            if not cell.get("execution_count") and not cell.get("outputs"):
                reports.append(CellReport(gid, False, "did not run"))
            else:
                if error is not None and error.startswith("NameError") and failed:
                    error += f" (a cell before this check did not finish: {'; '.join(failed[-2:])})"
                reports.append(CellReport(gid, error is None, error or ""))
        elif error is not None:
            failed.append(f"cell {gid or '(your own)'}: {error.splitlines()[0]}")
            problems.append(f"cell {gid or '(your own)'} raised {error.splitlines()[0]}")
    return reports, problems


def _short(text: str, limit: int = 600) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()
    return text if len(text) <= limit else text[:limit] + " …"


def check(path: str | Path, timeout: float = 120.0, out=print) -> int:
    """The self-check; prints its report and returns the exit status (0, 1 or 2)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise UnusableFile(f"{path} does not exist")
        if path.suffix != ".ipynb":
            raise UnusableFile(f"{path.name} is not a notebook (.ipynb): submit the .ipynb file you worked in")
        nb = read_notebook(path)
        name = identify(nb)
    except UnusableFile as err:
        out(f"✗ cannot be graded: {err}")
        return 2
    out(f"{path.name}: {name}")
    problems = structure(nb, name, path) + withheld_uses(nb, name)
    start = time.monotonic()
    reports, run_problems = run(path, name, timeout)
    for r in reports:
        out(f"  {'✓' if r.ok else '✗'} {r.grade_id}" + ("" if r.ok else ": " + _short(r.message).replace("\n", "\n    ")))
    problems += run_problems
    for p in problems:
        out(f"  ! {p}")
    passed = sum(r.ok for r in reports)
    out(
        f"{passed} of {len(reports)} public checks pass ({time.monotonic() - start:.0f} s). The grader also runs "
        "hidden checks on other cases."
    )
    return 0 if passed == len(reports) == len(ASSIGNMENTS[name].checks) and not problems else 1
