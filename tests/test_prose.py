"""The book's prose against its code: no invisible characters in the sources, and every number
a sentence takes from the code ({glue:text}`name`) glued by the chapter and shown on the built page."""

from __future__ import annotations

import ast
import html
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from cnn_core.viz.prose import glue

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
PAGES = CHAPTERS + sorted((ROOT / "book").glob("*.md"))

# {glue}`name`, {glue:text}`name:.3f`, {glue:md}`name` ... (no `path::name` in this book)
GLUE_ROLE = re.compile(r"\{glue(?::(\w+))?\}`([^`]+)`")
# glue("name", ...) or glue(f"name_{key}", ...) in a code cell
GLUE_CALL = re.compile(r"""\bglue\(\s*(f?)(["'])(.+?)\2""")
# glue(name, ...) with the names in a list of the same cell: for name, n in [("n_train", ...), ...]
GLUE_VAR = re.compile(r"\bglue\(\s*[A-Za-z_]\w*\s*,")
STRING = re.compile(r"""["']([A-Za-z_]\w*)["']""")


def cells(path: Path) -> list[tuple[str, str]]:
    if path.suffix == ".md":
        return [("markdown", path.read_text(encoding="utf-8"))]
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def glue_refs(path: Path) -> list[tuple[str, str]]:
    """(name, format spec) of every glue role in the page's markdown."""
    refs = []
    for kind, text in cells(path):
        if kind == "markdown":
            for _, content in GLUE_ROLE.findall(text):
                name, _, fmt = content.partition(":")
                refs.append((name, fmt))
    return refs


def glued_patterns(path: Path, with_loops: bool = True) -> list[re.Pattern]:
    """A regex per glue() call of the page's code; f-string fields match any identifier part.
    ``with_loops``: a cell that calls glue(name, ...) may glue any name written as a string in it."""
    pats = []
    for kind, text in cells(path):
        if kind == "code":
            for is_f, _, name in GLUE_CALL.findall(text):
                parts = re.split(r"\{[^}]*\}", name) if is_f else [name]
                pats.append(re.compile(r"\w+".join(map(re.escape, parts)) + r"\Z"))
            if with_loops and GLUE_VAR.search(text):
                pats += [re.compile(re.escape(name) + r"\Z") for name in STRING.findall(text)]
    return pats


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_control_characters_in_sources(path):
    """A TAB in markdown eats the \\t of \\times (the page showed "NimesNimesD"); no control
    character but the newline belongs in a cell."""
    for i, (kind, text) in enumerate(cells(path)):
        for m in re.finditer(r"[^\n]", text):
            ch = m.group()
            if unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029\ufeff\u200b":
                ctx = text[max(0, m.start() - 30) : m.start() + 30]
                pytest.fail(f"{path.name} cell {i} ({kind}): control character {ch!r} in ...{ctx!r}...")


def test_the_control_character_check_catches_a_tab():
    text = "a square $N \times N$ volume"  # "\t" + "imes": what the bug looked like
    assert any(unicodedata.category(ch) == "Cc" for ch in text)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_glued_name_in_the_prose_is_glued_by_the_code(path):
    refs, pats = glue_refs(path), glued_patterns(path)
    missing = sorted({name for name, _ in refs if not any(p.match(name) for p in pats)})
    assert not missing, f"{path.name}: the prose uses {missing}, which no glue(...) call defines"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_literal_glue_name_is_used_by_the_prose(path):
    used = {name for name, _ in glue_refs(path)}
    literal = {
        p.pattern.removesuffix(r"\Z").replace("\\", "") for p in glued_patterns(path, with_loops=False) if r"\w+" not in p.pattern
    }
    assert not literal - used, f"{path.name}: glued but never shown: {sorted(literal - used)}"


def test_glue_reference_pattern_reads_roles_and_calls():
    md = "reaches {glue:text}`test_acc` ({glue:text}`n_test:,d` digits) and {glue}`x`"
    assert GLUE_ROLE.findall(md) == [("text", "test_acc"), ("text", "n_test:,d"), ("", "x")]
    code = 'glue("test_acc", acc, ".3f"); glue(f"u_{key}", u[name], ".1%")'
    names = [(is_f, n) for is_f, _, n in GLUE_CALL.findall(code)]
    assert names == [("", "test_acc"), ("f", "u_{key}")]


def test_glue_formats_numpy_numbers_as_plain_text(monkeypatch):
    seen = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: seen.update({name: value}))
    assert glue("acc", np.float32(0.97123), ".3f") is None  # nothing to show when it ends a cell
    glue("n", np.int64(1898), ",")
    assert seen == {"acc": "0.971", "n": "1,898"}
    # what MyST-NB does with the text/plain repr: a quoted string, evaluated back to the text
    assert ast.literal_eval(repr(seen["acc"])) == "0.971"
    with pytest.raises(ValueError, match="identifier"):
        glue("not a name", 1)
    with pytest.raises(TypeError, match="not a number"):
        glue("shape", (1, 2), ".3f")


def _glue_values(glue_json: Path) -> dict[str, str]:
    """name -> glued text, from the <page>.glue.json MyST-NB writes next to the executed notebook."""
    data = json.loads(glue_json.read_text(encoding="utf-8"))
    return {name: ast.literal_eval(out["data"]["text/plain"]) for name, out in data.items()}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_glued_numbers_are_on_the_built_page(built_book, path):
    """Every {glue:text} of the chapter shows the value its code glued, in the built HTML."""
    refs = glue_refs(path)
    if not refs:
        pytest.skip(f"{path.name} glues nothing")
    glue_json = built_book.parent / "jupyter_execute" / "book" / f"{path.stem}.glue.json"
    assert glue_json.exists(), f"{path.name}: the build glued nothing ({glue_json} is missing)"
    page = (built_book / "book" / f"{path.stem}.html").read_text(encoding="utf-8")
    values = _glue_values(glue_json)
    for name, fmt in refs:
        assert name in values, f"{path.name}: {name!r} was not glued when the book was built"
        text = values[name] if not fmt else format(float(values[name]), fmt)
        shown = f'<span class="pasted-text">{html.escape(text, quote=False)}</span>'
        assert shown in page, f"{path.stem}.html does not show {name!r} = {text!r}"
