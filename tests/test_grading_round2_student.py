"""The student's side of the homework is light (issue 24): one install, `pip install -e '.[homework]'`,
with exactly what the homework notebooks and the self-check import; a first cell in every homework
notebook that installs it on Colab and, elsewhere, names that command; a self-check that says what
its Python (or kernel) lacks and how to install it instead of a traceback; and the pages that tell a
student so. With CNN_FRESH_VENV=1 (make test) a fresh venv with only that install runs the self-check.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import types
from importlib.metadata import packages_distributions
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from test_jupyter_setup import PYPROJECT, _extra_closure, _imports, _norm

from cnn_homework import __main__ as cli

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = ROOT / "homework"
ASSIGNMENTS = sorted(p.name for p in (HOMEWORK / "source").iterdir() if p.is_dir())
SOURCES = [HOMEWORK / "source" / a / f"{a}.ipynb" for a in ASSIGNMENTS]
RELEASES = [HOMEWORK / "release" / a / f"{a}.ipynb" for a in ASSIGNMENTS]
INSTALL = "pip install -e '.[homework]'"
OWN = ("cnn_core", "cnn_homework")


def _to_python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _module_file(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _own_imports(name: str) -> tuple[set[str], set[str]]:
    """(top-level third-party modules imported anywhere in the course module `name`, the course
    modules it imports); relative imports resolved."""
    path = _module_file(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    third, own = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [module] + [f"{module}.{a.name}" for a in node.names if _module_file(f"{module}.{a.name}")]
        else:
            continue
        for target in targets:
            top = target.split(".")[0]
            if top in OWN:
                own.add(target)
            else:
                third.add(top)
    return third, own


def homework_imports() -> dict[str, str]:
    """Every third-party module the homework notebooks and the self-check can import -> where first
    seen: the notebooks' imports, and every import of each course module they (transitively) load."""
    seen: dict[str, str] = {}
    todo = ["cnn_homework.__main__", "cnn_homework.selfcheck", "cnn_homework.checks"]
    for nb in SOURCES:
        for i, cell in enumerate(nbformat.read(nb, as_version=4).cells):
            if cell.cell_type == "code":
                for name in _imports(_to_python(cell.source)):
                    seen.setdefault(name, f"{nb.name} cell {i}")
                tree = ast.parse(_to_python(cell.source))
                todo += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith(OWN)]
                todo += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names if a.name.startswith(OWN)]
    done = set()
    while todo:
        name = todo.pop()
        if name in done or _module_file(name) is None:
            continue
        done.add(name)
        third, own = _own_imports(name)
        for module in third:
            seen.setdefault(module, name)
        todo += sorted(own)
    return {m: w for m, w in seen.items() if m not in sys.stdlib_module_names and m not in OWN}


# --------------------------------------------------------------------------- the extra


def test_homework_extra_covers_every_import_and_the_kernel():
    provided = _extra_closure("homework")
    owners = packages_distributions()
    imports = homework_imports()
    assert {"sklearn", "skimage", "matplotlib", "nbclient"} <= set(imports), imports  # the analysis sees them
    missing = []
    for module, where in sorted(imports.items()):
        dists = {_norm(d) for d in owners.get(module, [])}
        assert dists, f"{module} (imported in {where}) is not installed in this environment"
        if not dists & provided:
            missing.append(f"{module} ({'/'.join(sorted(dists))}, imported in {where})")
    assert not missing, f"{INSTALL} does not install: " + ", ".join(missing)
    assert "ipykernel" in provided, "the self-check runs the notebook in a kernel: the extra needs ipykernel"
    # and nothing the chapters need but the homework does not (the point is a light install)
    assert not {"ipywidgets", "mlxtend", "jupyterlab", "notebook"} & provided


def test_the_self_checks_list_of_needs_is_the_extra():
    """`python -m cnn_homework check` checks for NEEDED before running: the same distributions as the
    core package's dependencies plus the extra."""
    project = PYPROJECT["project"]
    wanted = {_norm(Requirement(r).name) for r in project["dependencies"] + project["optional-dependencies"]["homework"]}
    owners = packages_distributions()
    needed = {_norm(d) for module in cli.NEEDED for d in owners.get(module, [])}
    assert needed == wanted, f"cnn_homework.__main__.NEEDED covers {sorted(needed)}, the extra {sorted(wanted)}"


# --------------------------------------------------------------------------- the first cell


def _first_code_cell(path: Path) -> nbformat.NotebookNode:
    return next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


@pytest.mark.parametrize("path", SOURCES + RELEASES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_first_cell_installs_the_homework_extra_on_colab_only(path, monkeypatch):
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    target = f"cnn-course[homework] @ git+{repo['url'].rstrip('/')}@{repo.get('branch') or 'main'}"
    cell = _first_code_cell(path)
    meta = cell.metadata.get("nbgrader", {})
    assert cell.id == "colab-setup" and meta.get("grade_id") == "colab-setup", f"{path}: run scripts/colab_setup.py"
    assert meta.get("locked") and not meta.get("solution") and not meta.get("grade"), meta
    assert f'!pip install -q "{target}"' in cell.source, f"{path}: out of date with _config.yml; run scripts/colab_setup.py"
    code = compile(_to_python(cell.source), str(path), "exec")
    # here (not Colab, the course importable): it installs nothing and passes
    calls: list[str] = []
    exec(code, {"get_ipython": lambda: types.SimpleNamespace(system=calls.append)})
    assert calls == []
    # on Colab: it installs the extra from the repository, then the course imports
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(code, {"get_ipython": lambda: types.SimpleNamespace(system=calls.append)})
    assert calls == [f'pip install -q "{target}"']
    # a kernel without the course: the one command, for that kernel's Python
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.setitem(sys.modules, "cnn_core", None)
    with pytest.raises(ImportError) as err:
        exec(code, {})
    assert str(err.value).startswith("cnn_core is not installed for this notebook's Python")
    assert f"{sys.executable} -m {INSTALL}" in str(err.value) and "restart the kernel" in str(err.value)


def test_the_grader_takes_the_first_cell_from_the_source():
    """The first cell is a locked source cell: the grader runs the instructor's copy, never the
    student's as a cell they added."""
    sys.path.insert(0, str(HOMEWORK))
    try:
        from grading.notebook import build_program, source_cells
    finally:
        sys.path.remove(str(HOMEWORK))
    for source, release in zip(SOURCES, RELEASES):
        cells = json.loads(release.read_text())["cells"]
        cells[[c.get("id") for c in cells].index("colab-setup")]["source"] = "print('edited')"
        steps = build_program(cells, source_cells(source)).steps
        assert not [s for s in steps if s.origin == "added"], source.name
        first = next(s for s in steps if s.cell.grade_id == "colab-setup")
        assert first.origin == "source" and "google.colab" in first.cell.source


# --------------------------------------------------------------------------- the self-check's environment


def _check(python: Path | str, notebook: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "cnn_homework", "check", str(notebook)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "PYTHONHOME")}
    return dict(env, **extra)


def test_a_python_without_the_extra_is_told_the_one_install(tmp_path):
    """A Python with cnn_homework but none of its needs: what is missing and the command, exit 2."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    python = tmp_path / "bare" / "bin" / "python"
    proc = _check(python, RELEASES[0], _bare_env(PYTHONPATH=str(ROOT)), tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "No module named" not in proc.stderr, proc.stderr
    assert f"this Python ({python}) lacks numpy, tqdm, matplotlib" in proc.stderr and "nbclient" in proc.stderr, proc.stderr
    assert f"{python} -m pip install -e '{ROOT}[homework]'" in proc.stderr, proc.stderr


def test_a_kernel_for_another_python_is_named_with_its_install(tmp_path):
    """The check runs the notebook in the kernel `python3`; one registered for a Python without the
    course is reported (with the command for that Python) instead of every cell failing."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    other = tmp_path / "bare" / "bin" / "python"
    kernel = tmp_path / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    argv = [str(other), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (kernel / "kernel.json").write_text(json.dumps(spec))
    env = _bare_env(PYTHONPATH=str(ROOT), JUPYTER_PATH=str(tmp_path / "jupyter"))
    proc = _check(sys.executable, RELEASES[0], env, tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"kernel 'python3' is registered for another Python ({other}), which lacks numpy" in proc.stderr, proc.stderr
    assert f"{other} -m pip install" in proc.stderr and "jupyter kernelspec remove python3" in proc.stderr, proc.stderr


def test_a_missing_module_the_list_does_not_name_is_still_explained(monkeypatch, capsys):
    def check(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'nbclient'", name="nbclient")

    monkeypatch.setattr(cli, "check", check)
    monkeypatch.setattr(cli, "environment_problem", lambda: None)
    assert cli.main(["check", "x.ipynb"]) == 2
    err = capsys.readouterr().err
    assert "lacks nbclient" in err and "-m pip install" in err and "[homework]" in err


def test_the_install_command_follows_where_the_course_came_from(monkeypatch):
    """Installed from git (Colab's way): the same git URL with the extra; from a clone: that folder."""

    class Dist:
        def __init__(self, origin):
            self.origin = origin

        def read_text(self, name):
            return json.dumps(self.origin)

    git = {"url": "https://github.com/some-university/cnn-course", "vcs_info": {"vcs": "git", "requested_revision": "main"}}
    monkeypatch.setattr(cli.metadata, "distribution", lambda name: Dist(git))
    assert (
        cli.install_command("py")
        == 'py -m pip install "cnn-course[homework] @ git+https://github.com/some-university/cnn-course@main"'
    )
    clone = {"url": "file:///home/jo/my%20course", "dir_info": {"editable": True}}
    monkeypatch.setattr(cli.metadata, "distribution", lambda name: Dist(clone))
    assert cli.install_command("py") == "py -m pip install -e '/home/jo/my course[homework]'"


# --------------------------------------------------------------------------- the pages


def test_the_pages_give_the_install_before_the_check_and_no_make_book():
    for page, section in ((ROOT / "book" / "homework.md", "## For students"), (HOMEWORK / "README.md", "## For students")):
        text = page.read_text().split(section, 1)[1].split("\n## ", 1)[0]
        assert INSTALL in text and "python -m cnn_homework check" in text, page
        assert text.index(INSTALL) < text.index("python -m cnn_homework check"), f"{page}: the install comes first"
        assert "make book" not in text, f"{page}: students need no `make book`"
        assert "Colab" in text, page


# --------------------------------------------------------------------------- a fresh venv (opt-in)


@pytest.mark.skipif(
    os.environ.get("CNN_FRESH_VENV", "0") in ("", "0"),
    reason="set CNN_FRESH_VENV=1 (make test does): builds a venv with only the homework extra",
)
def test_fresh_venv_with_only_the_homework_extra_runs_the_self_check(tmp_path):
    """`python -m venv` + `pip install -e '.[homework]'`, nothing else: the self-check runs a release
    notebook with one answer filled in and reports ✓ and ✗; every release notebook's set-up runs."""
    sys.path.insert(0, str(HOMEWORK))
    try:
        import hw
    finally:
        sys.path.remove(str(HOMEWORK))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[homework]"], capture_output=True, text=True, timeout=1800
    )
    assert install.returncode == 0, install.stdout + install.stderr
    env = _bare_env(JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"), MPLBACKEND="Agg")

    source = nbformat.read(SOURCES[ASSIGNMENTS.index("hw1_shapes")], as_version=4)
    solution = next(c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "output_size")
    nb = nbformat.read(RELEASES[ASSIGNMENTS.index("hw1_shapes")], as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "output_size")
    answer.source = hw.solution_code(solution)
    work = tmp_path / "work"
    work.mkdir()
    nbformat.write(nb, work / "hw1_shapes.ipynb")
    proc = _check(python, work / "hw1_shapes.ipynb", env, work)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "✓ check_output_size" in proc.stdout and "✗ check_fits" in proc.stdout, proc.stdout
    assert "1 of 7 public checks pass" in proc.stdout, proc.stdout
    assert "cell colab-setup raised" not in proc.stdout and "cell setup raised" not in proc.stdout, proc.stdout
    for release in RELEASES:  # the set-up of every assignment (digits, the cat photo, plots) imports
        proc = _check(python, release, env, work)
        assert proc.returncode == 1 and "public checks pass" in proc.stdout, proc.stdout + proc.stderr
        assert "ModuleNotFoundError" not in proc.stdout and "ImportError" not in proc.stdout, proc.stdout
