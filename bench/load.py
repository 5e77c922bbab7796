"""Training steadiness on a busy machine: the small-CNN epoch of bench.py, 20 times, under load.

Run from the repository root:

    .venv/bin/python bench/load.py                 # 20 epochs idle, then 20 under load (one busy process per core)
    .venv/bin/python bench/load.py --rounds 10 --load 4

A busy machine is simulated by ``--load`` processes (default: one per core) that each spin a
Python loop, as other students' kernels or a browser would. The epoch is bench.py's (chapter
10's small CNN on the 8x8 digits, batch 32, SGD with momentum), timed for cnn_core's fast kernels
with their default BLAS threads, and for the same network in PyTorch when it is installed. The
figure of merit is worst / median over the rounds under load (target <= 2: no epoch takes more
than twice the usual time because BLAS threads fight the load for the cores).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (bench.py beside this file: the same epoch and PyTorch twin)


def spin(stop) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def summary(name: str, times: list[float] | None) -> str:
    if not times:
        return f"  {name:<9} (not installed)"
    med, worst = statistics.median(times), max(times)
    return f"  {name:<9} median {med * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms   worst/median {worst / med:4.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--load", type=int, default=os.cpu_count(), help="busy processes (default: one per core)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; torch: {bench.torch.__version__ if bench.torch else 'not installed'}")
    _, fast, torch_times, _ = bench.bench_epoch(args.rounds)
    print(f"idle, {args.rounds} epochs:")
    print(summary("cnn_core", fast))
    print(summary("torch", torch_times))
    stop = mp.Event()
    workers = [mp.Process(target=spin, args=(stop,), daemon=True) for _ in range(args.load)]
    for w in workers:
        w.start()
    time.sleep(1.0)
    try:
        _, fast, torch_times, _ = bench.bench_epoch(args.rounds)
    finally:
        stop.set()
        for w in workers:
            w.join(5)
    print(f"under load ({args.load} busy processes), {args.rounds} epochs:")
    print(summary("cnn_core", fast))
    print(summary("torch", torch_times))


if __name__ == "__main__":
    main()
