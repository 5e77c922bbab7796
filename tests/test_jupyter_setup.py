"""The README's ways to run the chapters, checked on what each one needs.

* Jupyter on a laptop: `make lab` (run for real by tests/test_jupyter_lab.py), `make kernel`
  (run here into a temporary prefix), the `notebooks` extra (covers every import of the
  chapters and of cnn_core; with CNN_FRESH_VENV=1 a fresh venv with only
  `pip install '.[notebooks]'` runs every chapter), jupyter-config/ (outputs stripped on save,
  nbgrader's UI off);
* Colab: the chapters' install cell (tests/test_notebooks.py) and the extra it installs;
* Binder (repo2docker): Python version, requirements, postBuild, start;
* the book's launch buttons: hidden while _config.yml has the placeholder repository.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
README = (ROOT / "README.md").read_text()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports(source: str) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _chapter_and_package_imports() -> dict[str, str]:
    """Top-level modules imported by the chapters and by cnn_core -> where (first place seen)."""
    from IPython.core.inputtransformer2 import TransformerManager

    to_python = TransformerManager().transform_cell
    seen: dict[str, str] = {}
    for nb in CHAPTERS:
        for i, cell in enumerate(nbformat.read(nb, as_version=4).cells):
            if cell.cell_type == "code":
                for name in _imports(to_python(cell.source)):
                    seen.setdefault(name, f"{nb.name} cell {i}")
    for py in sorted((ROOT / "cnn_core").rglob("*.py")):
        for name in _imports(py.read_text()):
            seen.setdefault(name, str(py.relative_to(ROOT)))
    return {n: w for n, w in seen.items() if n not in sys.stdlib_module_names and n != "cnn_core"}


def _extra_closure(extra: str) -> set[str]:
    """Distributions that `pip install '.[extra]'` asks for (self-references expanded)."""
    project = PYPROJECT["project"]
    own = _norm(project["name"])
    wanted, todo = {_norm(Requirement(r).name) for r in project["dependencies"]}, [extra]
    done = set()
    while todo:
        e = todo.pop()
        done.add(e)
        for spec in project["optional-dependencies"][e]:
            req = Requirement(spec)
            if _norm(req.name) == own:
                todo += [x for x in req.extras if x not in done]
            else:
                wanted.add(_norm(req.name))
    # what those bring along (ipykernel brings IPython, ...), from the installed metadata
    closure, todo = set(), list(wanted)
    while todo:
        dist = todo.pop()
        if dist in closure:
            continue
        closure.add(dist)
        try:
            reqs = requires(dist) or []
        except Exception:
            continue
        for r in reqs:
            req = Requirement(r)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_norm(req.name))
    return closure


# Imports that are optional at run time (guarded by try/except ImportError in cnn_core).
OPTIONAL_IMPORTS = {"myst_nb"}


def test_notebooks_extra_covers_every_import():
    provided = _extra_closure("notebooks")
    owners = packages_distributions()
    missing = []
    for module, where in sorted(_chapter_and_package_imports().items()):
        if module in OPTIONAL_IMPORTS:
            continue
        dists = {_norm(d) for d in owners.get(module, [])}
        assert dists, f"{module} (imported in {where}) is not installed in this environment"
        if not dists & provided:
            missing.append(f"{module} ({'/'.join(sorted(dists))}, imported in {where})")
    assert not missing, "pip install '.[notebooks]' does not install: " + ", ".join(missing)


def test_readme_documents_the_extra_and_the_commands():
    section = README.split("## Run the chapters in Jupyter", 1)
    assert len(section) == 2, "README: no section 'Run the chapters in Jupyter'"
    text = section[1].split("\n## ", 1)[0]
    for needed in (
        "make lab",
        "make kernel",
        "pip install -e '.[notebooks]'",
        "Colab",
        "Binder",
        "runtime.txt",
        "postBuild",
        "nbstripout",
    ):
        assert needed in text, f"README's Jupyter section does not mention {needed!r}"
    assert "binder/postBuild" not in README, "postBuild is at the top level (a binder/ folder would hide it)"


def test_interactive_tools_are_pinned():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pins[_norm(req.name)] = str(req.specifier)
    for name in ("jupyterlab", "notebook", "nbstripout", "ipykernel", "ipywidgets"):
        assert pins.get(name, "").startswith("=="), f"requirements.txt must pin {name} with =="


# --------------------------------------------------------------------------- make kernel


def test_make_kernel_registers_the_venv_under_a_clear_name(tmp_path):
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "kernel", f"KERNEL_WHERE=--prefix {tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert "ipykernel install" in out and "--name cnn-course" in out, out
    subprocess.run(["bash", "-c", out], cwd=ROOT, check=True, capture_output=True)
    spec = json.loads((tmp_path / "share/jupyter/kernels/cnn-course/kernel.json").read_text())
    assert "cnn-course" in spec["display_name"] and ".venv" in spec["display_name"]
    python = Path(spec["argv"][0])
    assert python.parent.parent.resolve() == (ROOT / ".venv").resolve(), spec["argv"]
    check = subprocess.run(
        [str(python), "-c", "import cnn_core, sklearn, skimage, ipywidgets, threadpoolctl"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


# --------------------------------------------------------------------------- jupyter-config


def _load_server_config():
    spec = importlib.util.spec_from_file_location("chapters_server_config", ROOT / "jupyter-config" / "jupyter_server_config.py")
    module = importlib.util.module_from_spec(spec)
    from traitlets.config import Config

    module.get_config = lambda: config
    config = Config()
    spec.loader.exec_module(module)
    return module, config


def test_chapters_are_saved_without_outputs():
    module, config = _load_server_config()
    assert config.FileContentsManager.pre_save_hook is module.strip_chapter_outputs
    nb = nbformat.read(CHAPTERS[0], as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and c.get("id") != "colab-setup")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    code.execution_count = 7
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    model = {"type": "notebook", "content": json.loads(json.dumps(nb))}  # as the browser sends it
    module.strip_chapter_outputs(model, f"book/{CHAPTERS[0].name}")
    saved = nbformat.from_dict(model["content"])
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in saved.cells if c.cell_type == "code")
    assert "widgets" not in saved.metadata
    assert [c.source for c in saved.cells] == [c.source for c in nb.cells]
    assert [c.get("id") for c in saved.cells] == [c.get("id") for c in nb.cells]
    # a student's own notebook keeps its outputs
    other = {"type": "notebook", "content": json.loads(json.dumps(nb))}
    module.strip_chapter_outputs(other, "book/my_notes.ipynb")
    assert other["content"]["cells"][[c.get("id") for c in nb.cells].index(code.id)]["outputs"]


def test_nbgrader_ui_is_off_for_the_chapters():
    page = json.loads((ROOT / "jupyter-config/labconfig/page_config.json").read_text())
    off = {k for k, v in page["disabledExtensions"].items() if v}
    labext = ROOT / ".venv/share/jupyter/labextensions"
    installed = {
        str(p.parent.relative_to(labext))
        for p in labext.rglob("package.json")
        if p.parent.parent == labext or p.parent.parent.parent == labext
    }
    nbgrader_labext = {n for n in installed if "nbgrader" in n}
    assert nbgrader_labext and nbgrader_labext <= off, (nbgrader_labext, off)
    server = json.loads((ROOT / "jupyter-config/jupyter_server_config.json").read_text())
    disabled = {k for k, v in server["ServerApp"]["jpserver_extensions"].items() if v is False}
    enabled_by_nbgrader = set()
    for cfg in (ROOT / ".venv/etc/jupyter/jupyter_server_config.d").glob("*.json"):
        exts = json.loads(cfg.read_text()).get("ServerApp", {}).get("jpserver_extensions", {})
        enabled_by_nbgrader |= {k for k, v in exts.items() if v and k.startswith("nbgrader")}
    assert enabled_by_nbgrader and enabled_by_nbgrader <= disabled, (enabled_by_nbgrader, disabled)


# --------------------------------------------------------------------------- Binder


def test_binder_has_what_repo2docker_needs():
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists(), (
        "a binder/ folder makes repo2docker ignore the top-level requirements.txt, runtime.txt, postBuild"
    )
    runtime = (ROOT / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    minimum = re.search(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"]).group(1)
    assert int(runtime.split(".")[1]) >= int(minimum), f"{runtime} is older than requires-python"
    assert (ROOT / "requirements.txt").is_file()
    for script in ("postBuild", "start"):
        path = ROOT / script
        assert path.is_file() and os.access(path, os.X_OK), f"{script} must exist and be executable"
        assert path.read_text().startswith("#!/bin/bash")
        subprocess.run(["bash", "-n", str(path)], check=True)
    assert re.search(r"^pip install (--no-deps )?-e \.\s*$", (ROOT / "postBuild").read_text(), re.M)
    start = (ROOT / "start").read_text()
    assert "jupyter-config" in start and start.rstrip().endswith('exec "$@"')
    # start really puts jupyter-config first and runs what it is given
    out = subprocess.run(
        [str(ROOT / "start"), "bash", "-c", 'echo "$JUPYTER_CONFIG_PATH"'],
        cwd="/",
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().split(":")[0] == str(ROOT / "jupyter-config")


def test_launch_buttons_hidden_while_the_repository_is_the_placeholder():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import cnn_book
    finally:
        sys.path.pop(0)
    launch = {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com"}
    placeholder = {
        "repository_url": "https://github.com/YOUR-ORG/cnn-course-companion",
        "launch_buttons": launch,
        "use_repository_button": True,
        "use_issues_button": True,
    }
    hidden = cnn_book.hide_dead_links(placeholder)
    assert not any(hidden["launch_buttons"][k] for k in cnn_book.LAUNCH_KEYS)
    assert not hidden["use_repository_button"] and not hidden["use_issues_button"]
    real = dict(placeholder, repository_url="https://github.com/some-university/cnn-course")
    assert cnn_book.hide_dead_links(real) == real
    # the book loads it
    extensions = CONFIG["sphinx"]["config"]["extensions"]
    assert "cnn_book" in extensions and CONFIG["sphinx"]["local_extensions"]["cnn_book"] == "book/_ext"


# --------------------------------------------------------------------------- fresh venv (opt-in)


@pytest.mark.skipif(
    os.environ.get("CNN_FRESH_VENV", "0") in ("", "0"),
    reason="set CNN_FRESH_VENV=1 (make test does): builds a venv from PyPI and runs every chapter",
)
def test_fresh_venv_with_the_documented_install_runs_every_chapter(tmp_path):
    """`python3.11 -m venv` + `pip install -e '.[notebooks]'` (README), nothing else: every chapter
    runs headless on that environment's kernel (driven by nbclient from the test environment)."""
    import nbclient

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[notebooks]"], capture_output=True, text=True, timeout=1800
    )
    assert install.returncode == 0, install.stdout + install.stderr
    subprocess.run(
        [str(py), "-m", "ipykernel", "install", "--prefix", str(tmp_path / "k"), "--name", "fresh"],
        check=True,
        capture_output=True,
    )
    os.environ["JUPYTER_PATH"] = str(tmp_path / "k" / "share" / "jupyter")
    failures = []
    try:
        for chapter in CHAPTERS:
            nb = nbformat.read(chapter, as_version=4)
            client = nbclient.NotebookClient(
                nb, kernel_name="fresh", timeout=600, resources={"metadata": {"path": str(ROOT / "book")}}
            )
            try:
                client.execute()
            except Exception as exc:  # CellExecutionError and friends
                failures.append(f"{chapter.name}: {str(exc)[-800:]}")
    finally:
        del os.environ["JUPYTER_PATH"]
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(
    "url", ["https://github.com/YOUR-ORG/cnn-course-companion", "https://github.com/some-university/cnn-course"]
)
def test_a_built_page_has_launch_buttons_only_for_a_real_repository(url, tmp_path):
    """A one-chapter book with this repository's _config.yml and extension, built for real."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = url
    config["execute"]["execute_notebooks"] = "off"
    config["sphinx"]["config"]["html_static_path"] = []
    for key in ("mathjax_path", "nb_ipywidgets_js", "html_css_files"):
        config["sphinx"]["config"].pop(key, None)
    config["html"].pop("favicon", None)
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    (tmp_path / "book" / "_ext").mkdir(parents=True)
    (tmp_path / "book" / "_ext" / "cnn_book.py").write_text((ROOT / "book/_ext/cnn_book.py").read_text())
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# A chapter\n")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, tmp_path / "book" / "01_chapter.ipynb")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/01_chapter\n")
    env = {k: v for k, v in os.environ.items() if k != "CNN_BOOK_BUILD"}
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(tmp_path), "--path-output", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    page = (tmp_path / "out/_build/html/book/01_chapter.html").read_text()
    org_repo = "/".join(url.split("/")[-2:])
    launch = [
        f"https://mybinder.org/v2/gh/{org_repo}/main?urlpath=lab/tree/book/01_chapter.ipynb",
        f"https://colab.research.google.com/github/{org_repo}/blob/main/book/01_chapter.ipynb",
        f"{url}/issues",
    ]
    if "YOUR-ORG" in url:
        assert not any(u in page for u in launch) and "YOUR-ORG" not in page
    else:
        assert all(u in page for u in launch), [u for u in launch if u not in page]
