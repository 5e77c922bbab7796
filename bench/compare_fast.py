"""A/B: this checkout's fast convolution against another checkout's, interleaved in one process.

    .venv/bin/python bench/compare_fast.py /path/to/other/checkout [--threads 2] [--rounds 30]

Copies the other checkout's cnn_core into a temporary directory under another package name,
checks that both give bit-identical results on bench.py's four convolution shapes (forward and
backward, float32, batch 64), then times them in alternating rounds. Used to show that a change
to cnn_core/fast.py leaves the default convolution as it was (bench/README.md).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BATCH, CONV_SHAPES  # noqa: E402

from cnn_core import fast as ours  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", help="root of the other checkout (holding cnn_core/)")
    parser.add_argument("--threads", type=int, default=2, help="threads for numpy's BLAS (default 2)")
    parser.add_argument("--rounds", type=int, default=30, help="alternating rounds, 3 calls each (default 30)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads, user_api="blas")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(Path(args.other) / "cnn_core", Path(tmp) / "cnn_core_other")
        sys.path.insert(0, tmp)
        theirs = importlib.import_module("cnn_core_other.fast")
        print(f"this: {ours.__file__}\nother: {args.other}/cnn_core/fast.py, {args.threads} BLAS thread(s)")
        rng = np.random.default_rng(0)
        for name, (d, h, w_), k, f, p in CONV_SHAPES:
            x = rng.standard_normal((BATCH, d, h, w_)).astype(np.float32)
            w = (rng.standard_normal((k, d, f, f)) * 0.1).astype(np.float32)
            b = rng.standard_normal(k).astype(np.float32)
            dout = rng.standard_normal(ours.conv2d_forward(x, w, b, 1, p)[0].shape).astype(np.float32)

            def run(room, x=x, w=w, b=b, p=p, dout=dout):
                out, cache = room.conv2d_forward(x, w, b, 1, p)
                return (out, *room.conv2d_backward(dout, cache))

            same = all(np.array_equal(a, c) for a, c in zip(run(theirs), run(ours)))
            times = {"other": [], "this": []}
            for _ in range(args.rounds):
                for label, room in (("other", theirs), ("this", ours)):
                    time.sleep(0.02)
                    for _ in range(3):
                        start = time.perf_counter()
                        run(room)
                        times[label].append(time.perf_counter() - start)
            med = {key: 1e3 * np.median(v) for key, v in times.items()}
            low = {key: 1e3 * np.min(v) for key, v in times.items()}
            print(
                f"{name:26s} other {med['other']:7.2f} ms [{low['other']:6.2f}]  this {med['this']:7.2f} ms "
                f"[{low['this']:6.2f}]  this/other {med['this'] / med['other']:.2f}x (minima "
                f"{low['this'] / low['other']:.2f}x)  results {'bit-identical' if same else 'DIFFER'}"
            )


if __name__ == "__main__":
    main()
