"""The chapters as a student runs them: `make lab` (JupyterLab from .venv), driven in headless Chromium.

The server is started with the very command `make lab` runs (read with `make -n`), on
127.0.0.1 and a free port, over a temporary copy of the chapters (the test saves them, and
must not touch the working tree), with its own Jupyter settings/runtime folders (nothing of
the user's ~/.jupyter). Every chapter is opened, all its cells are run, and the test checks:

* no cell ends in an error, and no widget fails to display;
* each explorer appears once, as live ipywidgets controls (no pre-rendered HTML twin: that one
  is for the built book), and moving its first control - a slider with the arrow keys, as a
  reader without a mouse would, or a dropdown - changes its picture or caption, without moving
  the notebook's cell selection;
* captions wrap at word boundaries (no ``word-break: break-all``, the style of print() output);
* every exercise solution is closed and its text invisible until its toggle is opened (and
  opening one shows it); the learning-goals box renders (no raw MyST directive anywhere);
* the nbgrader UI (menu, Validate button, Create Assignment panel) is absent;
* saved from JupyterLab, the notebook file on disk has no outputs and is, as JSON, the notebook it
  was before, so it still passes the suite (and tests/test_notebooks.py's checks run on it).

The server is shut down at the end (also on failure), and its kernels with it.

Environment: CNN_CHROMIUM (default /usr/bin/chromium), CNN_LAB_CHAPTERS (comma-separated
chapter stems to run, e.g. ``04_convolution``; default: all), CNN_LAB_BOOK (a folder of other
chapter notebooks to check instead of book/).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import secrets

import pytest

import test_notebooks

REPO_ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(Path(os.environ.get("CNN_LAB_BOOK") or REPO_ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
if os.environ.get("CNN_LAB_CHAPTERS"):
    CHAPTERS = [p for p in CHAPTERS if p.stem in os.environ["CNN_LAB_CHAPTERS"].split(",")]
SERVER_START_S = 120
RUN_ALL_S = 900  # the slowest chapter runs ~1 min in nbval; the browser adds rendering
CONTROL_CHANGE_S = 120  # a new learning-rate setting in chapter 10 trains a network first

# What JupyterLab must not fetch or show here: news feed, update checks.
LAB_TEST_ARGS = [
    "--no-browser",
    "--LabApp.expose_app_in_browser=True",
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_lab_command(lab_dir: Path, extra: list[str]) -> str:
    """The shell command of `make lab` (prerequisites taken as up to date), for lab_dir."""
    out = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-o",
            ".venv/.installed",
            "lab",
            f"LAB_DIR={lab_dir}",
            "LAB_ARGS=" + " ".join(shlex.quote(a) for a in extra),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "jupyter lab" in out and "jupyter-config" in out, f"`make lab` runs something else:\n{out}"
    return out.replace("\\\n", " ").strip()


def _kernel_pids(kernel_ids: list[str]) -> list[int]:
    """Processes whose command line names one of these kernels' connection files."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if any(f"kernel-{k}" in cmd for k in kernel_ids):
                pids.append(int(proc.name))
    return pids


class LabServer:
    def __init__(self, root: Path, tmp: Path):
        self.root, self.port, self.token = root, _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MPLBACKEND"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(tmp / "config"),
            JUPYTER_DATA_DIR=str(tmp / "data"),
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
            PYTHONUNBUFFERED="1",
        )
        # Render every cell (no virtual scrolling), so the page holds all of a chapter's output.
        tracker = tmp / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))
        self.command = make_lab_command(
            root,
            LAB_TEST_ARGS
            + [f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}"],
        )
        self.log_path = tmp / "lab.log"
        self.proc = subprocess.Popen(
            ["bash", "-c", self.command],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.kernels_seen: set[str] = set()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(
            self.url + path,
            method=method,
            data=b"" if method == "POST" else None,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def wait_ready(self):
        t0 = time.time()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"`make lab` exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.api("/api/status")
                return
            except OSError:
                if time.time() - t0 > SERVER_START_S:
                    raise RuntimeError(f"JupyterLab not up after {SERVER_START_S} s:\n{self.log()}")
                time.sleep(0.5)

    def lab_url(self, notebook: str) -> str:
        """JupyterLab on `notebook` in a workspace of its own: nothing restored from another page."""
        return f"{self.url}/lab/workspaces/{secrets.token_hex(4)}/tree/{notebook}?reset&token={self.token}"

    def close_sessions(self):
        """Shut down every session (and its kernel): the next chapter starts from a clean slate."""
        self.kernel_ids()
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", "DELETE")
        for kid in self.kernel_ids():
            self.api(f"/api/kernels/{kid}", "DELETE")

    def kernel_ids(self) -> list[str]:
        ids = [k["id"] for k in self.api("/api/kernels")]
        self.kernels_seen.update(ids)
        return ids

    def stop(self):
        """Shut the server down (kernels included); kill it if it does not go."""
        if self.proc.poll() is None:
            try:
                self.kernel_ids()
                self.api("/api/shutdown", "POST")
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=15)
        for _ in range(40):  # kernels exit right after the server
            left = _kernel_pids(sorted(self.kernels_seen))
            if not left:
                return []
            time.sleep(0.25)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        return left


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "book"
    root.mkdir()
    for nb in CHAPTERS:
        shutil.copy2(nb, root / nb.name)
    server = LabServer(root, tmp)
    try:
        server.wait_ready()
        yield server
    finally:
        left = server.stop()
    assert server.proc.returncode is not None, "the JupyterLab server is still running"
    assert not left, f"kernels {left} outlived the server"


# --------------------------------------------------------------------------- in the page

NOTEBOOK_JS = "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
READY_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return !!(w && w.content && w.sessionContext && w.sessionContext.session &&
            w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle' &&
            w.content.widgets.length > 0 &&
            w.content.widgets.filter(c => c.model.type === 'markdown').every(c => c.rendered));
}"""
RUN_ALL_JS = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
DONE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const code = w.content.widgets.filter(c => c.model.type === 'code');
  return w.sessionContext.session.kernel.status === 'idle' &&
         code.every(c => c.model.executionCount !== null && c.model.executionState !== 'running');
}"""
ERRORS_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget, errors = [];
  w.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    const outs = c.model.outputs.toJSON();
    for (const o of outs) {
      if (o.output_type === 'error') errors.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
    }
  });
  document.querySelectorAll('.jp-OutputArea-output').forEach(el => {
    if (/Error displaying widget|Failed to display|model not found/i.test(el.textContent))
      errors.push('widget failed to display: ' + el.textContent.slice(0, 200));
  });
  return errors;
}"""
ACTIVE_CELL_JS = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
SAVE_JS = "async () => { await window.jupyterapp.commands.execute('docmanager:save'); }"
SAVED_JS = "() => !window.jupyterapp.shell.currentWidget.context.model.dirty"

# Every solution (a <details> in a rendered markdown cell): closed, and nothing of it but the
# summary visible (checkVisibility: a closed <details> hides its content with content-visibility,
# which keeps layout boxes, so sizes would not tell).
SOLUTIONS_JS = """() => Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown details'))
  .map(d => ({open: d.open, summary: d.querySelector('summary') ? d.querySelector('summary').textContent : null,
              shown: Array.from(d.children).filter(e => e.tagName !== 'SUMMARY')
                         .filter(e => e.checkVisibility({opacityProperty: true, visibilityProperty: true}))
                         .map(e => e.textContent.slice(0, 80))}))"""
RAW_MYST_JS = """() => Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown'))
  .map(e => e.innerText).filter(t => /(^|\\n)\\s*(:::|```)\\{|\\{(dropdown|admonition)\\}/.test(t))
  .map(t => t.slice(0, 120))"""
EXPLORER_STATE_JS = """(el) => {
  const out = el.querySelector('.widget-output') || el;
  const caption = Array.from(out.querySelectorAll('.cnn-caption')).map(c => c.textContent).join(' | ');
  const pics = Array.from(out.querySelectorAll('img, svg')).map(
      i => i.tagName === 'IMG' ? i.src.slice(-200) : 'svg:' + i.outerHTML.length + ':' + i.outerHTML.slice(-200));
  return caption + ' || ' + pics.join(' | ');
}"""
CAPTION_STYLE_JS = """(el) => Array.from(el.querySelectorAll('.cnn-caption')).map(c => {
  const s = getComputedStyle(c); return s.wordBreak + '/' + s.whiteSpace; })"""


def _count_calls(path: Path, name: str) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(len(re.findall(rf"(?<![\w.]){name}\(", "".join(c["source"]))) for c in nb["cells"] if c["cell_type"] == "code")


def _move_first_control(page, explorer, where: str, problems: list[str]):
    """Move the explorer's first control; the picture or caption must change."""
    before = explorer.evaluate(EXPLORER_STATE_JS)
    slider = explorer.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle").first
    select = explorer.locator(".widget-dropdown select").first
    if slider.count():
        now, top = slider.get_attribute("aria-valuenow"), slider.get_attribute("aria-valuemax")
        key = "ArrowLeft" if now is not None and now == top else "ArrowRight"
        slider.focus()  # focusing a cell's output makes it the active cell
        cell_before = page.evaluate(ACTIVE_CELL_JS)
        page.keyboard.press(key)
        if page.evaluate(ACTIVE_CELL_JS) != cell_before:
            problems.append(f"{where}: {key} on the slider moved the notebook's cell selection")
        what = f"slider ({key})"
    elif select.count():
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(current + 1) % len(options))
        what = "dropdown"
    else:
        problems.append(f"{where}: no slider or dropdown")
        return
    had_picture = bool(before.split(" || ", 1)[1].strip())
    t0, last = time.time(), None
    while time.time() - t0 < CONTROL_CHANGE_S:
        after = explorer.evaluate(EXPLORER_STATE_JS)
        # changed, settled (same on two polls), and a picture again if there was one
        settled = bool(after.split(" || ", 1)[1].strip()) == had_picture or "ValueError" in after
        if after != before and after == last and settled:
            return
        last = after
        time.sleep(0.5)
    readouts = explorer.locator(".widget-readout").all_inner_texts()
    problems.append(
        f"{where}: moving its {what} changed neither picture nor caption in {CONTROL_CHANGE_S} s "
        f"(controls now {readouts}; before: {before[:80]!r}...{before[-80:]!r}; "
        f"after: {after[:80]!r}...{after[-80:]!r})"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_in_jupyterlab(chapter: Path, lab: LabServer, browser, tmp_path):
    original = json.loads(chapter.read_text(encoding="utf-8"))
    on_disk = lab.root / chapter.name
    shutil.copy2(chapter, on_disk)  # the working tree's current version
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    problems: list[str] = []
    try:
        page.goto(lab.lab_url(chapter.name), timeout=120_000)
        page.wait_for_function(NOTEBOOK_JS, timeout=120_000)
        page.wait_for_function(READY_JS, timeout=120_000, polling=500)

        # Before anything runs: solutions closed and hidden, goals box rendered, no raw MyST, no nbgrader.
        solutions = page.evaluate(SOLUTIONS_JS)
        expected = sum(
            "".join(c["source"]).count('<details class="solution">') for c in original["cells"] if c["cell_type"] == "markdown"
        )
        if len(solutions) != expected or expected == 0:
            problems.append(f"{len(solutions)} rendered solutions, {expected} in the notebook")
        for k, s in enumerate(solutions, 1):
            if s["open"] or s["shown"] or (s["summary"] or "").strip() != "Solution":
                problems.append(f"solution {k} visible before its toggle is opened: {s}")
        raw = page.evaluate(RAW_MYST_JS)
        if raw:
            problems.append(f"raw MyST directives in rendered markdown: {raw[:3]}")
        goals = page.locator(".jp-RenderedMarkdown .admonition-title", has_text="Learning goals")
        if goals.count() != 1 or not goals.first.is_visible():
            problems.append("the Learning goals box is not rendered")
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        if any("nbgrader" in m.lower() for m in menus):
            problems.append(f"nbgrader menu present: {menus}")
        for label in ("Validate", "Create Assignment"):
            if page.get_by_text(label, exact=True).count():
                problems.append(f"nbgrader UI present: {label!r}")

        if solutions:  # the check can see an opened one
            first = page.locator(".jp-RenderedMarkdown details.solution").first
            first.locator("summary").click()
            if not page.evaluate(SOLUTIONS_JS)[0]["shown"]:
                problems.append("opening a solution's toggle does not show it")
            first.locator("summary").click()

        # Run all cells.
        page.evaluate(RUN_ALL_JS)
        page.wait_for_function(DONE_JS, timeout=RUN_ALL_S * 1000, polling=1000)
        kernels = lab.kernel_ids()
        if len(kernels) != 1:
            problems.append(f"{len(kernels)} kernels running for one open chapter")
        problems += page.evaluate(ERRORS_JS)

        # Explorers: once each, live, and responsive.
        live = page.locator(".jp-OutputArea-output .cnn-live-explorer")
        n_calls = _count_calls(chapter, "explorer")
        if live.count() != n_calls:
            problems.append(f"{live.count()} live explorers on the page, {n_calls} explorer() calls")
        html_twins = page.locator(".jp-OutputArea-output .cnn-explorer").count()
        if html_twins:
            problems.append(f"{html_twins} pre-rendered (kernel-free) explorer(s) shown in Jupyter")
        for k in range(live.count()):
            explorer = live.nth(k)
            explorer.scroll_into_view_if_needed()
            styles = explorer.evaluate(CAPTION_STYLE_JS)
            if any(s.startswith("break-all") or s.endswith("/pre") for s in styles):
                problems.append(f"explorer {k + 1}: captions break inside words ({styles})")
            _move_first_control(page, explorer, f"explorer {k + 1}", problems)
        if page_errors:
            problems.append(f"JavaScript errors: {page_errors[:3]}")

        # Save as a student would (autosave does the same); the file must stay clean.
        page.evaluate(SAVE_JS)
        page.wait_for_function(SAVED_JS, timeout=30_000)
    finally:
        context.close()
        lab.close_sessions()  # free the memory before the next chapter

    saved = json.loads(on_disk.read_text(encoding="utf-8"))
    stored = [
        i for i, c in enumerate(saved["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    if stored:
        problems.append(f"saved notebook keeps outputs in cells {stored[:10]}")

    def source_joined(nb):  # ["a\n", "b"] and "a\nb" are the same source
        return dict(nb, cells=[dict(c, source="".join(c["source"])) for c in nb["cells"]])

    if source_joined(saved) != source_joined(original):
        changed = [i for i, (a, b) in enumerate(zip(source_joined(saved)["cells"], source_joined(original)["cells"])) if a != b]
        meta = {
            k: (saved["metadata"].get(k), original["metadata"].get(k))
            for k in set(saved["metadata"]) | set(original["metadata"])
            if saved["metadata"].get(k) != original["metadata"].get(k)
        }
        problems.append(
            f"saving changed the notebook: cells {changed[:5]}, metadata (saved, before) {meta}, "
            f"{len(saved['cells'])} vs {len(original['cells'])} cells, nbformat "
            f"{saved.get('nbformat_minor')} vs {original.get('nbformat_minor')}"
        )
    if not problems:  # the suite's chapter checks, on the saved file
        test_notebooks.test_chapter_notebook_conventions(on_disk)
        test_notebooks.test_markdown_reads_the_same_in_jupyter_colab_and_the_book(on_disk)
    assert not problems, f"{chapter.name} in JupyterLab:\n  - " + "\n  - ".join(problems)


SCRATCH = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "k1",
            "metadata": {},
            "outputs": [],
            "source": "import matplotlib.pyplot as plt\n"
            "from cnn_core.viz.explore import html_explorer\n\n"
            "def render(n):\n"
            "    fig, ax = plt.subplots(figsize=(1, 1))\n"
            "    ax.set_title(str(n))\n"
            "    return fig\n\n"
            "html_explorer(render, {'n': [1, 2, 3]}, describe=lambda n: f'n is {n}')",
        },
        {"cell_type": "markdown", "id": "k2", "metadata": {}, "source": "A cell below."},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_kernel_free_explorer_keeps_its_arrow_keys_in_jupyterlab(lab: LabServer, browser):
    """The pre-rendered explorer is for the book, but shown in a notebook its sliders must still
    take the arrow keys (JupyterLab binds Up/Down to the cell selection)."""
    (lab.root / "scratch_keys.ipynb").write_text(json.dumps(SCRATCH))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(lab.lab_url("scratch_keys.ipynb"), timeout=120_000)
        page.wait_for_function(READY_JS, timeout=120_000, polling=500)
        page.evaluate(RUN_ALL_JS)
        page.wait_for_function(DONE_JS, timeout=120_000, polling=500)
        slider = page.locator(".cnn-explorer input[type=range]")
        caption = page.locator(".cnn-explorer .cnn-caption")
        assert slider.count() == 1 and caption.inner_text() == "n is 1"
        slider.focus()
        cell = page.evaluate(ACTIVE_CELL_JS)
        for key, value, text in (
            ("ArrowRight", "1", "n is 2"),
            ("ArrowUp", "2", "n is 3"),
            ("ArrowDown", "1", "n is 2"),
            ("ArrowLeft", "0", "n is 1"),
        ):
            page.keyboard.press(key)
            assert slider.input_value() == value and caption.inner_text() == text, key
            assert page.evaluate(ACTIVE_CELL_JS) == cell, f"{key} moved the notebook's cell selection"
    finally:
        context.close()
        lab.close_sessions()


def test_notebook7_shows_a_chapter_with_solutions_closed_and_no_nbgrader(lab: LabServer, browser):
    chapter = CHAPTERS[0]
    shutil.copy2(chapter, lab.root / chapter.name)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{lab.url}/notebooks/{chapter.name}?token={lab.token}", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown", timeout=120_000)
        page.wait_for_function(
            """() => document.querySelectorAll('.jp-MarkdownCell').length > 0 &&
            Array.from(document.querySelectorAll('.jp-MarkdownCell')).every(c => c.querySelector('.jp-RenderedMarkdown'))""",
            timeout=60_000,
        )
        solutions = page.evaluate(SOLUTIONS_JS)
        expected = chapter.read_text(encoding="utf-8").count('<details class=\\"solution\\">')
        assert expected and len(solutions) == expected, (len(solutions), expected)
        assert not [s for s in solutions if s["open"] or s["shown"]]
        assert not page.evaluate(RAW_MYST_JS)
        assert page.locator(".jp-RenderedMarkdown .admonition-title", has_text="Learning goals").is_visible()
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert menus and not any("nbgrader" in m.lower() for m in menus), menus
        assert page.get_by_text("Validate", exact=True).count() == 0
    finally:
        context.close()
        lab.close_sessions()
