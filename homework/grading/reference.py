"""The files a sandbox sees: the runner, and a student-side ``cnn_core`` without the answers.

For each assignment, the modules of ``cnn_core`` not named in its ``keep`` list are copied with
every function and method body replaced by a ``raise`` that says the code is withheld, except the
helpers the assignment offers students (its ``offer`` list, e.g. ``naive.pad``, with the private
functions they call; see :mod:`cnn_homework.withheld`, which the self-check uses to say the same). The names
still import (a notebook's ``from cnn_core import conv2d_forward`` works), but calling them, or
anything built on them (a layer, a default argument that captured one, a private helper), fails
with a message that says why, instead of passing as the student's own work.
"""

from __future__ import annotations

import ast
import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path

import cnn_core
import cnn_homework
from cnn_homework.withheld import kept_modules as _with_imports
from cnn_homework.withheld import offered_functions, offered_in

HERE = Path(__file__).resolve().parent


def withheld_message(qualname: str, assignment: str) -> str:
    return (
        f"{qualname} is withheld while {assignment} is graded: it is part of the reference solution "
        "that your code is compared with. Write this part yourself (numpy is allowed)."
    )


def _withhold(source: str, module: str, assignment: str, offer: Sequence[str] = ()) -> str:
    """``source`` with the body of every function and method replaced by a raise, except the
    offered top-level functions (names in ``offer``) and the functions of the module they call."""
    tree = ast.parse(source)
    offered = offered_functions(tree, offer)

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not (body is tree.body and node.name in offered):
                doc = node.body[:1] if ast.get_docstring(node) is not None else []
                message = withheld_message(f"{prefix}{node.name}", assignment)
                node.body = doc + [
                    ast.Raise(
                        exc=ast.Call(func=ast.Name("RuntimeError", ast.Load()), args=[ast.Constant(message)], keywords=[]),
                        cause=None,
                    )
                ]
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, f"{module}.")
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def offer_of(assignment: str) -> list[str]:
    """The helpers (``module.function``) of withheld modules that ``assignment`` offers students
    (``offer`` in assignments.toml)."""
    settings = tomllib.loads((HERE / "assignments.toml").read_text())
    return list(settings.get(assignment, {}).get("offer", []))


def build(assignment: str, keep: Sequence[str], dest: Path) -> Path:
    """Write the sandbox's read-only folder for ``assignment`` into ``dest`` and return it."""
    offer = offer_of(assignment)
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    lib = dest / "lib"
    lib.mkdir(parents=True)
    for name in ("runner.py", "wire.py"):
        shutil.copy2(HERE / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(cnn_homework.__file__).parent, lib / "cnn_homework", ignore=ignore)
    package = Path(cnn_core.__file__).parent
    keep = ["*"] if "*" in keep else sorted(_with_imports(package, keep))
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        module = ".".join(("cnn_core", *rel.with_suffix("").parts)).removesuffix(".__init__")
        target = lib / "cnn_core" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        top = rel.parts[0].removesuffix(".py")
        if "*" in keep or top in keep or rel.name == "__init__.py":
            shutil.copy2(path, target)
        else:
            target.write_text(_withhold(path.read_text(), module, assignment, offered_in(top, offer)))
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest
