"""python -m cnn_homework check NOTEBOOK [--timeout S]: the self-check before you submit.

Before it runs anything it makes sure this Python has what the check needs (the course package's
``homework`` extra) and a kernel that can import the course; when not, it says what is missing and
the one command that installs it (exit status 2), instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from .selfcheck import check

# What running a homework notebook in a fresh kernel needs, by import name: numpy and tqdm (cnn_core's
# own dependencies) and pyproject.toml's `homework` extra (tests/test_grading_round2_student.py keeps
# this list equal to the extra).
NEEDED = ("numpy", "tqdm", "matplotlib", "sklearn", "skimage", "ipykernel", "nbclient", "nbformat")
KERNEL = "python3"  # the kernel the self-check runs the notebook in (cnn_homework.selfcheck.run)


def _shell_word(text: str) -> str:
    """`text` as one argument in the student's shell (Windows' cmd knows no single quotes)."""
    return subprocess.list2cmdline([text]) if os.name == "nt" else shlex.quote(text)


def install_command(python: str = sys.executable) -> str:
    """The one command that installs the course package with the homework extra into `python`, from
    where this copy came: the clone it was installed from, or the git repository."""
    python = _shell_word(python)
    try:
        origin = json.loads(metadata.distribution("cnn-course").read_text("direct_url.json") or "{}")
    except metadata.PackageNotFoundError:  # run from a clone without installing (PYTHONPATH)
        origin = {}
    vcs = origin.get("vcs_info")
    if vcs:
        revision = f"@{vcs['requested_revision']}" if vcs.get("requested_revision") else ""
        return f'{python} -m pip install "cnn-course[homework] @ {vcs["vcs"]}+{origin["url"]}{revision}"'
    if "dir_info" in origin:
        folder = unquote(urlparse(origin["url"]).path)
    else:
        root = Path(__file__).resolve().parents[1]
        folder = str(root) if (root / "pyproject.toml").is_file() else "."
    return f"{python} -m pip install -e {_shell_word(folder + '[homework]')}"


def missing_modules(python: str = sys.executable) -> list[str]:
    """The modules of NEEDED, and the course's own, that `python` cannot import (all, if it does not start)."""
    names = (*NEEDED, "cnn_core", "cnn_homework")
    if python == sys.executable:
        return [name for name in names if importlib.util.find_spec(name) is None]
    probe = "import importlib.util as u, sys; print(*(m for m in sys.argv[1:] if u.find_spec(m) is None))"
    try:
        out = subprocess.run([python, "-c", probe, *names], capture_output=True, text=True, timeout=60)
    except OSError:
        return list(names)
    return out.stdout.split() if out.returncode == 0 else list(names)


def kernel_python() -> str:
    """The Python of the kernel the self-check starts: ipykernel's own is this Python, but a kernel
    of that name registered for another Python (`jupyter kernelspec list`) takes its place."""
    from jupyter_client.kernelspec import KernelSpecManager

    python = KernelSpecManager().get_kernel_spec(KERNEL).argv[0]
    return sys.executable if python in ("python", "python3", f"python3.{sys.version_info.minor}") else python


def _lacks(missing: list[str]) -> str:
    return (
        f"✗ the self-check cannot run: this Python ({sys.executable}) lacks {', '.join(missing)}. "
        f"Install what the homework needs with\n\n    {install_command()}\n"
    )


def environment_problem() -> str | None:
    """What is missing to run the self-check, and the one command that installs it; None if nothing."""
    missing = missing_modules()
    if missing:
        return _lacks(missing)
    python = kernel_python()
    if python == sys.executable:
        return None
    missing = missing_modules(python)
    if not missing:
        return None
    return (
        f"✗ the self-check cannot run: its Jupyter kernel {KERNEL!r} is registered for another Python ({python}), "
        f"which lacks {', '.join(missing)}. Install what the homework needs there with\n\n    {install_command(python)}\n\n"
        f"or remove that kernel (jupyter kernelspec remove {KERNEL}) and the check uses this Python.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_homework", description="Check a homework notebook before you submit it.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate the file, run it in a fresh kernel, report the public checks")
    p.add_argument("notebook")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds one cell may take (default 120)")
    args = parser.parse_args(argv)
    problem = environment_problem()
    if problem is None:
        try:
            return check(args.notebook, timeout=args.timeout)
        except ModuleNotFoundError as err:  # something NEEDED does not list
            problem = _lacks([err.name])
    print(problem, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
