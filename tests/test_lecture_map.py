"""Every function the package docstring's map of the lecture names exists (cnn_core/__init__.py)."""

import importlib
import re
import types
from pathlib import Path

import nbformat
import pytest

import cnn_core


def test_every_name_in_the_lecture_map_exists():
    doc = cnn_core.__doc__
    start = doc.index("\n", doc.index("that every name exists"))
    table = doc[start : doc.index("Rooms:")]
    names = re.findall(r"\b([a-z_]+)\.([A-Za-z_][A-Za-z0-9_]*)\b", table)
    assert len(names) >= 20, names
    for module, attr in names:
        mod = importlib.import_module(f"cnn_core.{module}")
        assert hasattr(mod, attr), f"cnn_core.{module}.{attr} is named in the lecture map but does not exist"


ROOT = Path(__file__).resolve().parents[1]
SHARED = {"viz", "viz.explore", "viz.prose"}  # every chapter's explorers and glue


def chapter_map() -> dict[str, set[str]]:
    """{'01': {'data', 'mlp', ..., 'viz.fully_connected'}, ...} from the package docstring."""
    doc = cnn_core.__doc__
    table = doc[doc.index("Chapters and the modules they use") :]
    rows: dict[str, set[str]] = {}
    for line in table.split("\n\n", 2)[1].splitlines():  # the indented block after the heading
        row = re.match(r"^\s+(\d\d) [a-zA-Z ]+?\s{2,}(.+)$", line)
        if row:
            num, mods = row.groups()
        else:  # a continuation line of the row above
            mods = line
        rows.setdefault(num, set()).update(mods.replace("|", " ").split())
    return rows


def used_modules(path: Path) -> set[str]:
    """The cnn_core modules a chapter's code uses: what it imports from cnn_core, and the module
    that defines each cnn_core attribute it reaches through an imported module (cc.fit -> train)."""
    nb = nbformat.read(path, as_version=4)
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    used, aliases = set(), {}

    def defining_module(obj, owner: str) -> str:
        return obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None) or owner

    for m in re.finditer(r"^\s*from (cnn_core(?:\.\w+)*) import (\([^)]*\)|[^\n]+)", src, re.M):
        mod = importlib.import_module(m.group(1))
        for item in m.group(2).strip("()").split(","):
            name, _, alias = item.split("#")[0].strip().partition(" as ")
            if not name:
                continue
            obj = getattr(mod, name) if hasattr(mod, name) else importlib.import_module(f"{mod.__name__}.{name}")
            used.add(defining_module(obj, mod.__name__))
            if isinstance(obj, types.ModuleType):
                aliases[(alias or name).strip()] = obj
    for m in re.finditer(r"^\s*import (cnn_core(?:\.\w+)*)(?: as (\w+))?", src, re.M):
        aliases[m.group(2) or m.group(1)] = importlib.import_module(m.group(1))
    for alias, mod in aliases.items():
        for attr in re.findall(rf"(?<![\w.]){re.escape(alias)}\.(\w+)", src):
            if hasattr(mod, attr):
                used.add(defining_module(getattr(mod, attr), mod.__name__))
    return {u.removeprefix("cnn_core.") for u in used if u.startswith("cnn_core.")} - SHARED


CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_the_chapter_map_has_every_chapter():
    assert sorted(chapter_map()) == [p.name[:2] for p in CHAPTERS]
    for mods in chapter_map().values():
        for name in mods:
            importlib.import_module(f"cnn_core.{name}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_chapter_map_says_which_modules_a_chapter_uses(path):
    listed, used = chapter_map()[path.name[:2]], used_modules(path)
    assert used <= listed, f"{path.name} uses {sorted(used - listed)}: add them to its row in cnn_core/__init__.py"
    assert listed <= used, f"{path.name} no longer uses {sorted(listed - used)}: remove them from its row"


def test_used_modules_follows_aliases(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import cnn_core as cc\nfrom cnn_core.viz import training as T\ncc.fit; cc.Conv2D")]
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert used_modules(tmp_path / "x.ipynb") == {"train", "layers", "viz.training"}
