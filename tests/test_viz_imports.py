"""cnn_core.viz draws: it takes arrays and returns figures or HTML, and never trains or measures.

Walks the imports of every viz module (at any depth inside cnn_core, function-level imports
included) and fails if one reaches code that trains, evaluates or times a model. A chapter
computes with the concept modules (evaluation, mlp, train, ...) and hands viz the numbers.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnn_core"
# Modules whose job is to train, evaluate or time: viz must not reach them.
FORBIDDEN = {"cnn_core.train", "cnn_core.evaluation", "cnn_core.mlp", "cnn_core.gradcheck", "time", "timeit", "tqdm"}


def module_path(name: str) -> Path | None:
    parts = name.split(".")[1:]
    for candidate in (PACKAGE.joinpath(*parts).with_suffix(".py"), PACKAGE.joinpath(*parts, "__init__.py")):
        if candidate.is_file():
            return candidate
    return None


def imports_of(name: str) -> set[str]:
    """Absolute names of the modules `name` imports (from x import y counts x.y when that is a module)."""
    path = module_path(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if module_path(f"{base}.{alias.name}"))
    # importing cnn_core.x runs the package's __init__ too, but that is not viz's choice: follow modules only
    return {m for m in found if m not in ("cnn_core", "cnn_core.viz")}


def reachable(start: str) -> dict[str, str]:
    """module -> the module that imported it, for everything `start` reaches."""
    seen, todo = {start: ""}, [start]
    while todo:
        name = todo.pop()
        for dep in imports_of(name):
            if dep not in seen:
                seen[dep] = name
                if dep.startswith("cnn_core.") and module_path(dep):
                    todo.append(dep)
    return seen


VIZ = sorted(f"cnn_core.viz.{p.stem}" for p in (PACKAGE / "viz").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", VIZ)
def test_viz_reaches_nothing_that_trains_or_measures(module):
    seen = reachable(module)
    bad = {}
    for name in seen:
        if name in FORBIDDEN or name.split(".")[0] in FORBIDDEN:
            chain, m = [name], name
            while seen[m]:
                m = seen[m]
                chain.append(m)
            bad[name] = " <- ".join(chain)
    assert not bad, f"{module} reaches code that trains or measures: " + "; ".join(bad.values())


def test_the_walk_sees_a_forbidden_import():
    """The walk itself works: the concept modules that do train are found reaching cnn_core.train."""
    assert "cnn_core.train" in reachable("cnn_core.evaluation")
    assert "cnn_core.train" in reachable("cnn_core.mlp")  # a function-level import
    assert len(VIZ) >= 10
