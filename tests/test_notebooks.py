"""What every chapter notebook must carry, checked on the files (nbval runs them)."""
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert len(CHAPTERS) == 10
    for nb in CHAPTERS:
        assert f"file: book/{nb.stem}" in toc, f"{nb.name} is not in _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    stored = [i for i, c in enumerate(code) if c.outputs or c.execution_count]
    assert not stored, f"{path.name}: code cells {stored} have stored outputs; the book executes notebooks"
    # a live ipywidgets explorer is a dead slider without a kernel: hidden in the HTML
    for c in code:
        if "explore(" in c.source and "html_explorer(" not in c.source:
            assert "remove-output" in c.metadata.get("tags", []), f"{path.name}: live explorer not remove-output"
    assert any("html_explorer(" in c.source or "animation(" in c.source or "animate(" in c.source
               for c in code), f"{path.name}: no kernel-free explorer or animation"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text or "learning goals" in text.lower()
    assert ":::{dropdown}" in text, f"{path.name}: exercises need hidden solutions"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_colab_setup_cell_matches_the_configured_repository(path):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    cell = next((c for c in nbformat.read(path, as_version=4).cells if c.get("id") == "colab-setup"), None)
    assert cell is not None, f"{path.name}: run scripts/colab_setup.py"
    assert f"git+{url}" in cell.source and "remove-cell" in cell.metadata["tags"], \
        f"{path.name}: the Colab cell is out of date with _config.yml; run scripts/colab_setup.py"
