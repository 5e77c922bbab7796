"""Time the kernels of "Convolution in depth": transposed, dilated and depthwise convolution.

Run from the repository root:

    .venv/bin/python bench/kernels_in_depth.py            # the full table (about 2 minutes)
    .venv/bin/python bench/kernels_in_depth.py --quick    # fewer repetitions, a smoke test

Forward + backward (dx, dw, db), float32, batch 32, three ways: cnn_core's naive loops
(cnn_core.naive, run on a few images and scaled to the batch: the loops are linear in it),
cnn_core's fast kernels (cnn_core.fast, what the layers use), and PyTorch's CPU kernels with
autograd, if PyTorch is installed. Both libraries get the same number of threads (--threads,
default THREADS = 2 as in bench.py): torch.set_num_threads and, through threadpoolctl, numpy's
BLAS; numpy's element-wise work is single-threaded. Times are medians over interleaved rounds, as in
bench.py (whose timing helpers this script uses).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import THREADS, interleaved, machine_info, seconds, table, torch  # noqa: E402

from cnn_core import fast, naive  # noqa: E402

BATCH = 32
# (name, kind, (D, H, W), K, F, options): options are the keyword arguments of the kernels
SHAPES = [
    ("transposed 64x8x8 -> 32x16x16, 4x4/2", "transposed", (64, 8, 8), 32, 4, dict(stride=2, padding=1)),
    ("transposed 32x16x16 -> 16x32x32, 4x4/2", "transposed", (32, 16, 16), 16, 4, dict(stride=2, padding=1)),
    ("transposed 16x14x14 -> 8x28x28, 3x3/2", "transposed", (16, 14, 14), 8, 3, dict(stride=2, padding=1, output_padding=1)),
    ("dilated 32x16x16, 32 3x3, d=2", "dilated", (32, 16, 16), 32, 3, dict(padding=2, dilation=2)),
    ("dilated 16x32x32, 16 3x3, d=4", "dilated", (16, 32, 32), 16, 3, dict(padding=4, dilation=4)),
    ("depthwise 64x16x16, 3x3", "depthwise", (64, 16, 16), 64, 3, dict(padding=1, groups=64)),
    ("depthwise 32x32x32, 3x3", "depthwise", (32, 32, 32), 32, 3, dict(padding=1, groups=32)),
    ("depthwise 128x8x8, 3x3/2", "depthwise", (128, 8, 8), 128, 3, dict(stride=2, padding=1, groups=128, rounding="floor")),
]


def _arrays(kind, shape, k, f, options, rng):
    d = shape[0]
    groups = options.get("groups", 1)
    x = rng.standard_normal((BATCH, *shape)).astype(np.float32)
    w_shape = (d, k // groups, f, f) if kind == "transposed" else (k, d // groups, f, f)
    w = (rng.standard_normal(w_shape) * 0.1).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    return x, w, b


def _kernels(room, kind):
    if kind == "transposed":
        return room.conv_transpose2d_forward, room.conv_transpose2d_backward
    return room.conv2d_forward, room.conv2d_backward


def _torch_call(kind, options):
    o = {key: v for key, v in options.items() if key != "rounding"}  # PyTorch always floors
    if kind == "transposed":
        return lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **o)
    return lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **o)


def bench(rounds: int, naive_images: int, only: str = "") -> list[tuple]:
    rows = []
    rng = np.random.default_rng(0)
    for name, kind, shape, k, f, options in SHAPES:
        if only not in name:
            continue
        x, w, b = _arrays(kind, shape, k, f, options, rng)
        forward, backward = _kernels(fast, kind)
        out, _ = forward(x, w, b, **options)
        dout = rng.standard_normal(out.shape).astype(np.float32)

        def run_fast(forward=forward, backward=backward, x=x, w=w, b=b, dout=dout, options=options):
            _, cache = forward(x, w, b, **options)
            return backward(dout, cache)

        fns = {"fast": run_fast}
        if torch:
            xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            dt, call = torch.tensor(dout), _torch_call(kind, options)

            def run_torch(xt=xt, wt=wt, bt=bt, dt=dt, call=call):
                xt.grad = wt.grad = bt.grad = None
                call(xt, wt, bt).backward(dt)
                return xt.grad, wt.grad, bt.grad

            fns["torch"] = run_torch
            for ours, theirs in zip(run_fast(), run_torch()):  # same numbers, or the timing is moot
                np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-3, atol=1e-3 * np.abs(ours).max())
        times = interleaved(fns, rounds)

        n_forward, n_backward = _kernels(naive, kind)
        xs, douts = x[:naive_images], dout[:naive_images]

        def run_naive(n_forward=n_forward, n_backward=n_backward, xs=xs, w=w, b=b, douts=douts, options=options):
            _, cache = n_forward(xs, w, b, **options)
            n_backward(douts, cache)

        naive_t = np.median([seconds(run_naive) for _ in range(2)]) * BATCH / naive_images
        rows.append((name, naive_t, times["fast"], times.get("torch")))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds per kernel, 3 calls each (default 10)")
    parser.add_argument("--naive-images", type=int, default=1, help="images the naive loops run on (default 1)")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"threads for torch and numpy's BLAS (default {THREADS})")
    parser.add_argument("--only", default="", help="run the shapes whose name contains this text (e.g. depthwise)")
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 2
    if torch:
        torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        pass
    print("cnn_core kernels in depth:", time.strftime("%Y-%m-%d %H:%M"), f"({args.threads} thread(s) for torch and BLAS)")
    print("\n".join(machine_info()))
    rows = bench(args.rounds, args.naive_images, args.only)
    note = f"naive loops timed on {args.naive_images} image(s) and scaled x{BATCH // args.naive_images} to the batch of {BATCH}"
    print("\n".join(table("Kernels in depth", rows, note, name_width=42, batch=BATCH)))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
