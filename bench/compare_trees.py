"""Time the fast kernels of two checkouts of cnn_core side by side: did a change (a move, a
refactor, a new option) leave their speed alone?

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/compare_trees.py /tmp/before .          # about 2 minutes

Each round runs the kernels of one tree in a fresh process (cnn_core imported from that tree),
alternating before/after, so a busy machine slows both alike. Prints the median and minimum
time of conv forward+backward (bench.py's layer shapes, batch 64, float32) and max pooling
forward+backward per tree, and after/before.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BATCH, CONV_SHAPES, POOL_SHAPES  # noqa: E402

# Runs in the child process, with the tree under test first on sys.path.
CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from cnn_core import functional as fn
assert fn.__file__.startswith(sys.argv[1]), fn.__file__
conv, pool, calls = json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
rng, times = np.random.default_rng(0), {}

def best_of(run):
    run()  # warm up (scratch buffers, BLAS)
    t = time.perf_counter()
    for _ in range(calls):
        run()
    return (time.perf_counter() - t) / calls

for name, (d, h, w_), k, f, p in conv:
    x = rng.standard_normal((BATCH, d, h, w_)).astype(np.float32)
    w = rng.standard_normal((k, d, f, f)).astype(np.float32)
    b = np.zeros(k, np.float32)
    out, _ = fn.conv2d_forward(x, w, b, 1, p)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    times["conv " + name] = best_of(lambda: fn.conv2d_backward(dout, fn.conv2d_forward(x, w, b, 1, p)[1]))
for name, shape in pool:
    x = rng.standard_normal((BATCH, *shape)).astype(np.float32)
    out, _ = fn.pool2d_forward(x, 2, 2, "max")
    dout = rng.standard_normal(out.shape).astype(np.float32)
    times["max pool " + name] = best_of(lambda: fn.pool2d_backward(dout, fn.pool2d_forward(x, 2, 2, "max")[1]))
print(json.dumps(times))
""".replace("BATCH", str(BATCH))


def run_tree(tree: Path, calls: int) -> dict[str, float]:
    args = [sys.executable, "-c", CHILD, str(tree.resolve()), json.dumps(CONV_SHAPES), json.dumps(POOL_SHAPES), str(calls)]
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a checkout of the repository (the reference)")
    parser.add_argument("after", type=Path, help="another checkout (the change)")
    parser.add_argument("--rounds", type=int, default=7, help="processes per tree, alternating (default 7)")
    parser.add_argument("--calls", type=int, default=3, help="timed calls per kernel per process (default 3)")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for side in ("before", "after"):
            runs[side].append(run_tree(getattr(args, side), args.calls))
    print(f"{'kernel (fwd+bwd, batch ' + str(BATCH) + ', float32)':40}{'before ms':>12}{'after ms':>12}{'after/before':>14}")
    for key in runs["before"][0]:
        before = np.array([r[key] for r in runs["before"]]) * 1e3
        after = np.array([r[key] for r in runs["after"]]) * 1e3
        ratio = np.median(after) / np.median(before)
        mins = f"(min {before.min():.2f} / {after.min():.2f})"
        print(f"{key:40}{np.median(before):>12.2f}{np.median(after):>12.2f}{ratio:>14.2f}   {mins}")


if __name__ == "__main__":
    main()
