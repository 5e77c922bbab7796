"""Give every chapter and homework notebook a first cell that installs cnn_core when it runs on Colab.

Binder installs requirements.txt and runs postBuild; a local run uses `make book`'s
venv (or `pip install -e '.[notebooks]'`). Colab has neither, so each notebook starts with a
cell (hidden in the book, tagged remove-cell; it does nothing outside Colab) that
pip-installs this repository with the `notebooks` extra, from the repository and branch
set in ONE place, `repository:` in _config.yml. The homework sources (homework/source) get the
same cell with the `homework` extra, as a locked nbgrader cell that, outside Colab, says how to
install what is missing. After changing them, run
    .venv/bin/python scripts/colab_setup.py && .venv/bin/python homework/hw.py generate
(tests/test_notebooks.py and tests/test_grading_round2_student.py fail until the cells match _config.yml).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "colab-setup"  # the cell's id where the notebook format has ids (nbformat >= 4.5)
MARKER = "# On Google Colab only:"  # how the cell is found (nbformat 4.4 has no cell ids)
EXTRA = "notebooks"  # pyproject.toml: everything the chapters import
HOMEWORK_EXTRA = "homework"  # pyproject.toml: what the homework notebooks and the self-check import
# A locked, read-only cell for nbgrader: the grader runs the source's copy (a no-op outside Colab).
HOMEWORK_METADATA = {"nbgrader": {"grade": False, "grade_id": CELL_ID, "locked": True, "schema_version": 3, "solution": False}}


def install_target(url: str, branch: str, extra: str = EXTRA) -> str:
    """The pip requirement that installs this repository's package on Colab."""
    return f"cnn-course[{extra}] @ git+{url.rstrip('/')}@{branch}"


def setup_source(url: str, branch: str = "main") -> str:
    return (
        "# On Google Colab only: install cnn_core and what the chapters import, from the book's repository.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    !pip install -q "{install_target(url, branch)}"\n'
    )


def homework_setup_source(url: str, branch: str = "main") -> str:
    """The homework's first cell: installs on Colab; elsewhere only checks that the course imports."""
    return (
        "# On Google Colab only: install cnn_core and the checks (cnn_homework), from the course's repository.\n"
        "# Anywhere else it installs nothing, and says how if they are missing.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    !pip install -q "{install_target(url, branch, HOMEWORK_EXTRA)}"\n'
        "try:\n"
        "    import cnn_core, cnn_homework\n"
        "except ImportError as err:\n"
        '    raise ImportError(f"{err.name} is not installed for this notebook\'s Python ({sys.executable}): in the "\n'
        "                      f\"course repository run  {sys.executable} -m pip install -e '.[homework]'  \"\n"
        '                      "then restart the kernel") from None\n'
    )


def repository() -> tuple[str, str]:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    return repo["url"], str(repo.get("branch") or "main")


def repository_url() -> str:
    return repository()[0]


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def homework_notebooks() -> list[Path]:
    return sorted((ROOT / "homework" / "source").glob("*/*.ipynb"))


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def find_cell(nb: dict) -> dict | None:
    """The Colab setup cell of a notebook (as JSON), or None."""
    return next(
        (
            c
            for c in nb["cells"]
            if c.get("id") == CELL_ID or (c["cell_type"] == "code" and "".join(c["source"]).startswith(MARKER))
        ),
        None,
    )


def apply(path: Path, source: str, metadata: dict) -> bool:
    """Insert or update the setup cell with this source and metadata (JSON edited in place, the
    file's formatting kept); return True if the file changed."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    cells = nb["cells"]
    # Jupyter drops an id from a 4.4 notebook's cell on save (the format has none): use ids only from 4.5
    with_ids = (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5)
    existing = find_cell(nb)
    if existing is not None:
        if (
            "".join(existing["source"]) == source
            and all(existing["metadata"].get(k) == v for k, v in metadata.items())
            and (existing.get("id") == CELL_ID) == with_ids
        ):
            return False
        existing["source"] = _lines(source)
        existing["metadata"].update(metadata)
        if with_ids:
            existing["id"] = CELL_ID
        else:
            existing.pop("id", None)
    else:
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "id": CELL_ID,
            "metadata": metadata,
            "outputs": [],
            "source": _lines(source),
        }
        if not with_ids:
            del cell["id"]
        first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
        cells.insert(first_code, cell)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


if __name__ == "__main__":
    url, branch = repository()
    changed = [p.name for p in chapter_notebooks() if apply(p, setup_source(url, branch), {"tags": ["remove-cell"]})]
    print(f"Colab setup cell for {install_target(url, branch)}: updated {len(changed)} notebook(s) {changed}", file=sys.stderr)
    changed = [p.name for p in homework_notebooks() if apply(p, homework_setup_source(url, branch), HOMEWORK_METADATA)]
    print(
        f"Colab setup cell for {install_target(url, branch, HOMEWORK_EXTRA)}: updated {len(changed)} homework source(s) "
        f"{changed}" + (": now run homework/hw.py generate" if changed else ""),
        file=sys.stderr,
    )
