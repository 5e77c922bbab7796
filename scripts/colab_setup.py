"""Give every chapter notebook a first cell that installs cnn_core when it runs on Colab.

Binder installs requirements.txt and runs postBuild; a local run uses `make book`'s
venv. Colab has neither, so each notebook starts with a cell (hidden in the book,
tagged remove-cell) that pip-installs this repository when it sees Colab. The URL
comes from `repository.url` in _config.yml: after changing it, run
    .venv/bin/python scripts/colab_setup.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "colab-setup"


def setup_source(url: str) -> str:
    return (
        "# On Google Colab only: install cnn_core from the book's repository.\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    !pip install -q \"git+{url}\"\n"
    )


def repository_url() -> str:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def apply(path: Path, url: str) -> bool:
    """Insert or update the setup cell; return True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(setup_source(url), metadata={"tags": ["remove-cell"]})
    cell["id"] = CELL_ID
    cells = nb.cells
    existing = next((i for i, c in enumerate(cells) if c.get("id") == CELL_ID), None)
    if existing is not None:
        if cells[existing].source == cell.source:
            return False
        cells[existing] = cell
    else:
        first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
        cells.insert(first_code, cell)
    nbformat.write(nb, path)
    return True


if __name__ == "__main__":
    url = repository_url()
    changed = [p.name for p in chapter_notebooks() if apply(p, url)]
    print(f"Colab setup cell for {url}: updated {len(changed)} notebook(s) {changed}", file=sys.stderr)
