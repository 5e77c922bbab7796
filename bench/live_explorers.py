"""How long the online book's live explorers take to answer a reader, in headless Chromium.

Run from the repository root (needs Debian's chromium and playwright, as the browser tests):

    .venv/bin/python bench/live_explorers.py              # 60 changes per action
    .venv/bin/python bench/live_explorers.py --rounds 200

A page with the convolution playground (ch4), the pooling explorer (ch8) and draw-a-digit (ch10,
a LeNet-5 of the chapter's shape) is opened from file://. Each action is what a reader does: an
arrow key on a map (moves the selected output: outlines, numbers, and for pooling the forward and
both backward passes), a typed bias or window size, a new digit. The time is measured in the page
around the event's handler (performance.now()), so it is the explorer's own work, from the event
to the last canvas drawn; the browser's paint to the screen comes after. The budget is 100 ms per
update (issue 25); the test suite asserts only that nothing takes a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cnn_core as cc  # noqa: E402
from cnn_core.data import load_mnist  # noqa: E402
from cnn_core.viz import live  # noqa: E402

BUDGET_MS = 100

TIME_KEY_JS = """([sel, key]) => { const el = document.querySelector(sel), t = performance.now();
    el.dispatchEvent(new KeyboardEvent('keydown', {key: key, bubbles: true, cancelable: true}));
    return performance.now() - t; }"""
TIME_INPUT_JS = """([sel, value]) => { const el = document.querySelector(sel); el.value = value; const t = performance.now();
    el.dispatchEvent(new Event('input', {bubbles: true})); return performance.now() - t; }"""
TIME_DIGIT_JS = """(px) => { const r = document.querySelector('#digit .cnn-live'), t = performance.now();
    r.cnnLive.setPixels(px); return performance.now() - t; }"""


def lenet() -> cc.Sequential:
    """LeNet-5 as chapter 10 trains it (untrained here: the time does not depend on the weights)."""
    return cc.Sequential(
        [
            cc.Conv2D(1, 6, 5, rng=0),
            cc.ReLU(),
            cc.MaxPool2D(2),
            cc.Conv2D(6, 16, 5, rng=1),
            cc.ReLU(),
            cc.MaxPool2D(2),
            cc.Flatten(),
            cc.Linear(400, 120, rng=2),
            cc.ReLU(),
            cc.Linear(120, 84, rng=3),
            cc.ReLU(),
            cc.Linear(84, 10, rng=4),
        ]
    )


def page_html(digits: np.ndarray, labels: np.ndarray) -> str:
    net = lenet()
    read = cc.predict(net, np.concatenate([live.digit_input(d) for d in digits]))
    labels = np.where(np.arange(len(labels)) == 0, read[0], labels)  # an example it "reads right", to open on
    parts = {
        "conv": live.convolution_playground(),
        "pool": live.pooling_explorer(),
        "digit": live.digit_explorer(net, digits, labels),
    }
    body = "".join(f"<div id={k}>{v.data}</div>" for k, v in parts.items())
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>live explorers bench</title>"
        f"<body>{body}<script src='_static/live/cnn-live.js'></script>"
        "<script src='_static/live/explorers.js'></script></body></html>"
    )


def row(name: str, times: list[float]) -> str:
    warm = times[5:] or times  # the first changes include the JavaScript engine's compiling
    q90 = float(np.percentile(warm, 90))
    within = "yes" if q90 <= BUDGET_MS else "NO"
    return f"| {name} | {statistics.median(warm):.1f} ms | {q90:.1f} ms | {max(warm):.1f} ms | {within} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=60, help="changes timed per action (default 60)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    X, y = load_mnist()
    digits, labels = X[: args.rounds + 5, 0], y[: args.rounds + 5]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "_static").symlink_to(REPO / "book" / "_assets")
        (folder / "page.html").write_text(page_html(digits[:5], labels[:5]))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((folder / "page.html").as_uri())
            page.wait_for_function("document.querySelectorAll('[data-started]').length === 3")
            times: dict[str, list[float]] = {}
            keys = ["ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp"]
            for k in range(args.rounds):
                key = keys[(k // 5) % 4]
                times.setdefault("convolution: arrow key (outlines, numbers)", []).append(
                    page.evaluate(TIME_KEY_JS, ["#conv canvas[tabindex='0']", key])
                )
                times.setdefault("convolution: a typed bias (the whole map)", []).append(
                    page.evaluate(TIME_INPUT_JS, ["#conv input[aria-label='bias b']", str(round(0.1 * (k % 7), 1))])
                )
                times.setdefault("pooling: arrow key (forward, both backward passes)", []).append(
                    page.evaluate(TIME_KEY_JS, ["#pool canvas[tabindex='0']", key])
                )
                page.fill("#pool input[aria-label='stride S']", str(2 + 2 * (k % 2)))  # then F = S: a map of another size
                times.setdefault("pooling: a typed window size F = S", []).append(
                    page.evaluate(TIME_INPUT_JS, ["#pool input[aria-label='window size F']", str(2 + 2 * (k % 2))])
                )
                times.setdefault("draw a digit: a new digit (LeNet-5, maps, saliency)", []).append(
                    page.evaluate(TIME_DIGIT_JS, digits[5 + k].ravel().tolist())
                )
            browser.close()
    print(f"{args.rounds} changes per action, after 5 warm-up changes; budget {BUDGET_MS} ms (90th percentile)\n")
    print("| action | median | 90th percentile | slowest | within budget |\n|---|---|---|---|---|")
    for name, t in times.items():
        print(row(name, t))


if __name__ == "__main__":
    main()
