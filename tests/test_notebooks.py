"""What every chapter notebook must carry, checked on the files (nbval runs them)."""

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert len(CHAPTERS) == 12
    for nb in CHAPTERS:
        assert f"file: book/{nb.stem}" in toc, f"{nb.name} is not in _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    stored = [i for i, c in enumerate(code) if c.outputs or c.execution_count]
    assert not stored, f"{path.name}: code cells {stored} have stored outputs; the book executes notebooks"
    # One explorer per concept: `explorer(...)` is live where a kernel runs and kernel-free in the
    # built book; a bare explore()/html_explorer() would show twice in Jupyter or dead in the book.
    for c in code:
        bare = re.findall(r"(?<![\w.])(explore|html_explorer)\(", c.source)
        assert not bare, f"{path.name}: call explorer(...), not {bare[0]}(...) (one explorer per concept)"
        if re.search(r"(?<![\w.])explorer\(", c.source):
            tags = c.metadata.get("tags", [])
            assert not {"remove-output", "remove-cell"} & set(tags), f"{path.name}: an explorer's output is hidden"
    assert any(re.search(r"(?<![\w.])(explorer|animate|\w+_animation)\(", c.source) for c in code), (
        f"{path.name}: no explorer or animation"
    )
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text or "learning goals" in text.lower()
    assert '<details class="solution">' in text, f"{path.name}: exercises need hidden solutions"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_jupyter_saves_the_chapter_unchanged(path):
    """nbformat 4.5 with a unique id on every cell: JupyterLab then writes back what it read (it
    adds ids to an id-less 4.5 cell, and drops ids from a 4.4 notebook, which has none)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5), f"{path.name}: nbformat {nb['nbformat_minor']}"
    ids = [c.get("id") for c in nb["cells"]]
    assert None not in ids, f"{path.name}: cells {[i for i, x in enumerate(ids) if x is None][:5]} have no id"
    assert len(set(ids)) == len(ids), f"{path.name}: duplicate cell ids"
    assert nb["metadata"]["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}, (
        f"{path.name}: not ipykernel's python3 kernelspec"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_markdown_reads_the_same_in_jupyter_colab_and_the_book(path):
    """MyST directives show as raw text in JupyterLab, Notebook 7 and Colab (a solution in plain
    view under its question): markdown cells use only what all of them and the book render."""
    for i, c in enumerate(nbformat.read(path, as_version=4).cells):
        if c.cell_type != "markdown":
            continue
        where = f"{path.name}, markdown cell {i}"
        directive = re.search(r"^\s*(:{3,}|`{3,})\{[\w-]+\}.*$", c.source, re.M)
        assert not directive, f"{where}: MyST directive {directive.group(0).strip()!r}; use <details>/<div>"
        roles = re.search(r"\{(ref|numref|eq|doc|term|glue|download)\}`", c.source)
        assert not roles, f"{where}: MyST role {roles.group(0)!r} renders raw in Jupyter"
        for tag in ("details", "div", "summary"):
            opened = len(re.findall(rf"<{tag}[\s>]", c.source))
            assert opened == c.source.count(f"</{tag}>"), f"{where}: unbalanced <{tag}>"
        for m in re.finditer(r"<details[^>]*>\n(.*?)\n\n", c.source, re.S):
            assert re.fullmatch(r"<summary>[^<]+</summary>", m.group(1)), (
                f"{where}: <details> needs <summary>...</summary> on its next line, then a blank line"
            )
        # HTML blocks end only at a blank line: text right after a closing tag would be swallowed
        glued = re.search(r"</(details|div)>\n[^\n]", c.source)
        assert not glued, f"{where}: no blank line after </{glued.group(1)}>"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_colab_setup_cell_matches_the_configured_repository(path):
    """The Colab cell installs the `notebooks` extra from _config.yml's repository url AND branch
    (the one place they are set), before any other code runs."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    url, branch = repo["url"].rstrip("/"), str(repo.get("branch") or "main")
    cells = nbformat.read(path, as_version=4).cells
    cell = next((c for c in cells if c.cell_type == "code" and c.source.startswith("# On Google Colab only:")), None)
    assert cell is not None, f"{path.name}: run scripts/colab_setup.py"
    wanted = f'!pip install -q "cnn-course[notebooks] @ git+{url}@{branch}"'
    assert wanted in cell.source and "remove-cell" in cell.metadata["tags"], (
        f"{path.name}: the Colab cell is out of date with _config.yml; run scripts/colab_setup.py"
    )
    assert cell is next(c for c in cells if c.cell_type == "code"), f"{path.name}: the Colab cell must run first"
    assert 'if "google.colab" in sys.modules:' in cell.source, f"{path.name}: the Colab cell must do nothing elsewhere"
