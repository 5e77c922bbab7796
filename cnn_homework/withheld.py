"""What of ``cnn_core`` the grader withholds while an assignment is graded.

Shared by the grader's student-side ``cnn_core`` (``homework/grading/reference.py``) and the
self-check, so a notebook that calls something withheld hears it from both. A module an
assignment keeps stays whole, with every ``cnn_core`` module it imports; in the other modules every
function is withheld except the helpers the course offers students (``module.function``, e.g.
``naive.pad``) and the private functions of their module that those call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from pathlib import Path


def kept_modules(package: Path, keep: Sequence[str]) -> set[str]:
    """``keep`` and every cnn_core module that a kept module imports (at any depth)."""
    kept, todo = set(), list(keep)
    while todo:
        top = todo.pop()
        path = package / f"{top}.py" if (package / f"{top}.py").exists() else package / top / "__init__.py"
        if top in kept or not path.exists():
            continue
        kept.add(top)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                name = node.module or ""
                if node.level == 0 and not name.startswith("cnn_core"):
                    continue
                parts = name.removeprefix("cnn_core").lstrip(".").split(".") if name else []
                todo += [parts[0]] if parts and parts[0] else [a.name for a in node.names]
    return kept


def offered_functions(tree: ast.Module, offered: Iterable[str]) -> set[str]:
    """The offered top-level functions of a module, with the module's functions they call (at any depth)."""
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found, todo = set(), [name for name in offered if name in functions]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        todo += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name) and n.id in functions]
    return found


def offered_in(module: str, offer: Sequence[str]) -> list[str]:
    """The names ``offer`` lists for the cnn_core module ``module`` (its top name, e.g. ``naive``)."""
    return [entry.split(".", 1)[1] for entry in offer if entry.split(".", 1)[0] == module]


def withheld(obj: object, keep: Sequence[str], offer: Sequence[str]) -> bool:
    """Whether calling ``obj`` (a cnn_core function or class, as imported) fails in the grader."""
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("cnn_core.") or not callable(obj):
        return False
    import cnn_core

    package = Path(cnn_core.__file__).parent
    top = module.split(".")[1]
    if "*" in keep or top in kept_modules(package, keep):
        return False
    path = package / f"{top}.py"
    if not path.exists():  # a subpackage: its __init__ is kept whole, its modules withheld
        return module != f"cnn_core.{top}"
    return getattr(obj, "__qualname__", "") not in offered_functions(ast.parse(path.read_text()), offered_in(top, offer))
