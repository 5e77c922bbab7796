"""Time cnn_core's convolution and pooling kernels: naive loops, fast numpy, PyTorch.

Run from the repository root:

    .venv/bin/python bench/bench.py            # the full table (about 2 minutes)
    .venv/bin/python bench/bench.py --quick    # fewer repetitions, for a smoke test

Everything runs in one process, side by side, in float32:
  * conv forward+backward, batch 64, on four layer shapes;
  * max pooling 2x2 stride 2, forward+backward;
  * one training epoch of a small CNN on scikit-learn's 8x8 digits.
The naive loops are far too slow for batch 64: they run on a few images and
their time is scaled to the full batch (the loops are linear in the batch).
PyTorch is optional: if it is installed it is timed in the same run with
torch.set_num_threads(THREADS); cnn_core never needs it. numpy's BLAS gets
THREADS threads too (through threadpoolctl, if installed).

Times are medians over interleaved rounds (numpy, then torch, then numpy ...),
so a busy machine slows both sides alike; the minimum is printed too. The
naive loops' figure is the median of 2 runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cnn_core as cc  # noqa: E402
from cnn_core import functional as fn  # noqa: E402

try:  # optional: only the bench uses it
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

THREADS = 2
BATCH = 64
# (name, (D, H, W), K filters, F, padding); stride 1 as in the course's nets
CONV_SHAPES = [
    ("1x28x28, 6 5x5, pad 2", (1, 28, 28), 6, 5, 2),
    ("6x14x14, 16 5x5", (6, 14, 14), 16, 5, 0),
    ("3x32x32, 32 3x3, pad 1", (3, 32, 32), 32, 3, 1),
    ("32x16x16, 64 3x3, pad 1", (32, 16, 16), 64, 3, 1),
]
POOL_SHAPES = [("6x28x28", (6, 28, 28)), ("32x16x16", (32, 16, 16))]


def timed(fn_, calls: int) -> list[float]:
    """Seconds of each of `calls` calls of fn_(), after one untimed warm-up call."""
    fn_()
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn_()
        out.append(time.perf_counter() - start)
    return out


def seconds(fn_) -> float:
    start = time.perf_counter()
    fn_()
    return time.perf_counter() - start


def interleaved(fns: dict, rounds: int, calls: int = 3, pause: float = 0.05) -> dict[str, list[float]]:
    """Time several functions in alternating rounds; returns the seconds of every timed call.

    Alternating spreads the machine's background load evenly over the contenders.
    The pause before each block lets the other library's worker threads, which
    spin for a while after their last job, go idle first: otherwise they steal
    a core from the next contender.
    """
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, f in fns.items():
            time.sleep(pause)
            times[name] += timed(f, calls)
    return times


def ms(seconds) -> str:
    return f"{1e3 * seconds:9.2f}"


def machine_info() -> list[str]:
    lines = [
        f"python {platform.python_version()}, numpy {np.__version__}"
        + (f", torch {torch.__version__}" if torch else ", torch not installed (its columns are skipped)")
    ]
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines.append(f"CPU: {cpu}, {os.cpu_count()} logical cores, load average {os.getloadavg()[0]:.1f}")
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                lines.append(
                    f"numpy BLAS: {pool.get('internal_api')} {pool.get('version')}, "
                    f"kernel {pool.get('architecture')}, {pool.get('num_threads')} threads"
                )
    except ImportError:
        lines.append("numpy BLAS: (install threadpoolctl to show it)")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if var in os.environ:
            lines.append(f"note: {var}={os.environ[var]} is set (it can slow numpy's BLAS)")
    if torch:
        lines.append(f"torch threads: {torch.get_num_threads()}")
    return lines


# ---------------------------------------------------------------- convolution


def bench_conv(rounds: int, naive_images: int) -> list[tuple]:
    rows = []
    rng = np.random.default_rng(0)
    for name, (d, h, w_), k, f, p in CONV_SHAPES:
        x = rng.standard_normal((BATCH, d, h, w_)).astype(np.float32)
        w = (rng.standard_normal((k, d, f, f)) * 0.1).astype(np.float32)
        b = rng.standard_normal(k).astype(np.float32)
        out, _ = fn.conv2d_forward(x, w, b, 1, p)
        dout = rng.standard_normal(out.shape).astype(np.float32)

        def fast():
            _, cache = fn.conv2d_forward(x, w, b, 1, p)
            return fn.conv2d_backward(dout, cache)

        fns = {"fast": fast}
        if torch:
            xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            dt = torch.tensor(dout)

            def with_torch():
                xt.grad = wt.grad = bt.grad = None
                torch.nn.functional.conv2d(xt, wt, bt, 1, p).backward(dt)
                return xt.grad, wt.grad, bt.grad

            fns["torch"] = with_torch
            for ours, theirs in zip(fast(), with_torch()):  # same numbers, or the timing is moot
                np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-3, atol=1e-3 * np.abs(ours).max())
        times = interleaved(fns, rounds)

        xs, douts = x[:naive_images], dout[:naive_images]

        def naive():
            cc.conv2d_naive(xs, w, b, 1, p)
            cc.conv2d_backward_naive(douts, xs, w, 1, p)

        naive_t = np.median([seconds(naive) for _ in range(2)]) * BATCH / naive_images
        rows.append((name, naive_t, times["fast"], times.get("torch")))
    return rows


# ---------------------------------------------------------------- pooling


def bench_pool(rounds: int, naive_images: int) -> list[tuple]:
    rows = []
    rng = np.random.default_rng(1)
    for name, shape in POOL_SHAPES:
        x = rng.standard_normal((BATCH, *shape)).astype(np.float32)
        out, _ = fn.pool2d_forward(x, 2, 2, "max")
        dout = rng.standard_normal(out.shape).astype(np.float32)

        def fast():
            _, cache = fn.pool2d_forward(x, 2, 2, "max")
            return fn.pool2d_backward(dout, cache)

        fns = {"fast": fast}
        if torch:
            xt, dt = torch.tensor(x, requires_grad=True), torch.tensor(dout)

            def with_torch():
                xt.grad = None
                torch.nn.functional.max_pool2d(xt, 2, 2).backward(dt)
                return xt.grad

            fns["torch"] = with_torch
            np.testing.assert_allclose(fast(), with_torch().numpy())
        times = interleaved(fns, rounds, calls=10)
        xs, douts = x[:naive_images], dout[:naive_images]

        def naive():
            cc.pool2d_naive(xs, 2, 2, "max")
            cc.pool2d_backward_naive(douts, xs, 2, 2, "max")

        naive_t = np.median([seconds(naive) for _ in range(2)]) * BATCH / naive_images
        rows.append((f"max 2x2/2, {name}", naive_t, times["fast"], times.get("torch")))
    return rows


# ---------------------------------------------------------------- a training epoch


def bench_epoch(rounds: int, lr: float = 0.05, momentum: float = 0.9, batch_size: int = 32):
    from cnn_core.architectures import typical_architecture
    from cnn_core.data import load_digits

    X, y, X_te, y_te = load_digits(dtype=np.float32)
    # Conv(8)-ReLU-Pool, Conv(16)-ReLU-Pool, FC: the same network as the PyTorch one below
    net = typical_architecture(1, 2, 0, input_shape=(1, 8, 8), filters=8, dtype=np.float32)
    epochs = [0]

    def ours():
        epochs[0] += 1
        return cc.fit(net, X, y, epochs=1, batch_size=batch_size, lr=lr, momentum=momentum, seed=epochs[0], progress=False)

    fns = {"fast": ours}
    if torch:
        nn = torch.nn
        tnet = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 2 * 2, 10),
        )
        opt = torch.optim.SGD(tnet.parameters(), lr=lr, momentum=momentum)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        torch_epochs = [0]

        def with_torch():  # the same loop as cnn_core.fit: shuffle, then minibatch SGD steps
            torch_epochs[0] += 1
            order = torch.from_numpy(np.random.default_rng(torch_epochs[0]).permutation(len(X)))
            for start in range(0, len(X), batch_size):
                idx = order[start : start + batch_size]
                opt.zero_grad()
                loss = nn.functional.cross_entropy(tnet(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()

        fns["torch"] = with_torch
    times = interleaved(fns, rounds, calls=1)
    _, acc = cc.evaluate(net, X_te, y_te)
    return len(X), times["fast"], times.get("torch"), acc


# ---------------------------------------------------------------- report


def table(title: str, rows: list[tuple], naive_note: str, name_width: int = 28, batch: int = BATCH) -> list[str]:
    """Rows (name, naive seconds, fast times, torch times or None) as aligned text lines."""
    lines = [
        f"\n{title} (ms per forward+backward, float32, batch {batch}; median of rounds, min in brackets)",
        f"{'shape':{name_width}}{'naive*':>11}{'fast':>18}{'torch':>18}{'fast/torch':>12}{'naive/fast':>12}",
    ]
    for name, naive_t, fast_t, torch_t in rows:
        fm = np.median(fast_t)
        line = f"{name:{name_width}}{ms(naive_t):>11}{ms(fm)} [{ms(min(fast_t)).strip():>6}]"
        if torch_t:
            tm = np.median(torch_t)
            line += f"{ms(tm)} [{ms(min(torch_t)).strip():>6}]{fm / tm:11.2f}x"
        else:
            line += f"{'-':>18}{'-':>12}"
        line += f"{naive_t / fm:11.0f}x"
        lines.append(line)
    lines.append(f"* {naive_note}")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per kernel, 3 calls each (default 15)")
    parser.add_argument("--naive-images", type=int, default=2, help="images the naive loops run on (default 2)")
    parser.add_argument("--epochs", type=int, default=7, help="timed training epochs per side (default 7)")
    parser.add_argument("--quick", action="store_true", help="few rounds, one naive image: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.naive_images, args.epochs = 3, 1, 2
    if torch:
        torch.set_num_threads(THREADS)
    try:  # the same number of threads for numpy's BLAS (threadpoolctl comes with scikit-learn)
        from threadpoolctl import threadpool_limits

        threadpool_limits(THREADS, user_api="blas")
    except ImportError:
        pass

    print("cnn_core benchmark:", time.strftime("%Y-%m-%d %H:%M"))
    print("\n".join(machine_info()))
    note = f"naive loops timed on {args.naive_images} image(s) and scaled x{BATCH // args.naive_images} to the batch of {BATCH}"
    conv = bench_conv(args.rounds, args.naive_images)
    print("\n".join(table("Convolution, stride 1", conv, note)))
    pool = bench_pool(args.rounds, args.naive_images)
    print("\n".join(table("Max pooling", pool, note)))
    n, fast_t, torch_t, acc = bench_epoch(args.epochs)
    print(f"\nOne training epoch, digits CNN ({n} images of 1x8x8, batch 32, SGD + momentum; ms per epoch)")
    line = f"cnn_core {ms(np.median(fast_t)).strip()} [min {ms(min(fast_t)).strip()}]"
    if torch_t:
        line += (
            f"   torch {ms(np.median(torch_t)).strip()} [min {ms(min(torch_t)).strip()}]"
            f"   cnn_core/torch {np.median(fast_t) / np.median(torch_t):.2f}x"
        )
    print(line + f"   (cnn_core test accuracy after these epochs: {acc:.3f})")
    print(
        f"\nload average at the end: {os.getloadavg()[0]:.1f} (when it is near or above the "
        f"{os.cpu_count()} cores, other programs shared them and the ratios are less reliable)"
    )


if __name__ == "__main__":
    main()
