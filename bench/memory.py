"""Memory of one convolution forward+backward: cnn_core's fast kernels next to PyTorch.

Run from the repository root:

    .venv/bin/python bench/memory.py                 # (128, 64, 64, 64), 64 3x3 filters, pad 1; float32 and float64
    .venv/bin/python bench/memory.py --batch 16      # a smaller batch, for a quick look

Each measurement runs in a fresh Python process (so one library's caches cannot
hide in the other's numbers) and reads the kernel's own accounting of the
process's resident memory (/proc/self/status):

* baseline: resident memory once the inputs x, w, b and dout exist;
* peak: the largest resident memory during one forward + backward (VmHWM, reset
  just before the call through /proc/self/clear_refs), minus the baseline. It
  includes what the call returns (out, dx, dw, db);
* retained: resident memory after the results are deleted (and glibc has handed its
  free heap space back, malloc_trim), minus the baseline: what the library keeps
  allocated for later calls (scratch buffers, allocator caches).

Before the measured calls, each process runs the same call once on one image, so
one-time set-up (BLAS thread buffers, allocator pools) is not counted.

Targets (issue 13): retained <= 64 MB, peak <= 2x PyTorch's, in float32 and float64.
Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 2**20
RETAINED_TARGET_MB = 64
PEAK_TARGET_RATIO = 2.0


def _status(field: str) -> int:
    """A field of /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _trim() -> None:
    """Hand memory that is free but still inside the C heap back to the system (glibc), so that
    'retained' counts what is still allocated, not the allocator's spare room."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size


def measure(library: str, shape: tuple, k: int, f: int, padding: int, dtype: str, threads: int) -> dict:
    """In this process: baseline, peak and retained bytes of one fwd+bwd (and of a second one)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    rng = np.random.default_rng(0)
    n, d, h, w_ = shape
    x = rng.standard_normal(shape, dtype=np.float32).astype(dtype)
    w = (rng.standard_normal((k, d, f, f)) * 0.1).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    dout = rng.standard_normal((n, k, h + 2 * padding - f + 1, w_ + 2 * padding - f + 1), dtype=np.float32).astype(dtype)
    if library == "torch":
        import torch

        torch.set_num_threads(threads)
        xt, wt, bt = (torch.from_numpy(a).requires_grad_(True) for a in (x, w, b))
        dt = torch.from_numpy(dout)

        def call():
            xt.grad = wt.grad = bt.grad = None
            out = torch.nn.functional.conv2d(xt, wt, bt, 1, padding)
            out.backward(dt)
            return out, xt.grad, wt.grad, bt.grad

        def release(results):
            xt.grad = wt.grad = bt.grad = None
    else:
        sys.path.insert(0, str(ROOT))
        from cnn_core import functional as fn

        def call():
            out, cache = fn.conv2d_forward(x, w, b, 1, padding)
            return (out, *fn.conv2d_backward(dout, cache))

        def release(results):
            pass

    result = {"library": library, "dtype": dtype, "input_mb": x.nbytes / MB, "runs": []}
    # warm up on one image: the libraries' one-time set-up (BLAS thread buffers, allocator pools)
    # happens here, so the rows below show what a call costs and leaves behind
    full = (x, dout) if library != "torch" else (xt, dt)
    if library == "torch":
        xt, dt = xt[:1].detach().requires_grad_(True), dt[:1]
    else:
        x, dout = x[:1], dout[:1]
    release(call())
    if library == "torch":
        xt, dt = full
    else:
        x, dout = full
    for _ in range(2):  # the first call, then a second one with warm caches
        gc.collect()
        _trim()
        base = _status("VmRSS")
        _reset_peak()
        start = time.perf_counter()
        results = call()
        seconds = time.perf_counter() - start
        peak = _status("VmHWM") - base
        returned = sum(r.nbytes if hasattr(r, "nbytes") else r.numel() * r.element_size() for r in results)
        release(results)
        del results
        gc.collect()
        _trim()
        retained = _status("VmRSS") - base
        result["runs"].append(
            {"peak_mb": peak / MB, "retained_mb": retained / MB, "returned_mb": returned / MB, "seconds": seconds}
        )
    if library == "cnn_core":
        result["scratch_mb"] = fn.scratch_bytes() / MB
        result["scratch_cap_mb"] = fn.SCRATCH_BYTES / MB
    return result


def run_child(library: str, args, dtype: str) -> dict | None:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        library,
        "--dtype",
        dtype,
        "--batch",
        str(args.batch),
        "--threads",
        str(args.threads),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        if "No module named 'torch'" in proc.stderr:
            return None
        raise RuntimeError(f"{library} {dtype} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128, help="batch size N (default 128)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / torch threads (default 2)")
    parser.add_argument("--dtype", action="append", help="float32 and/or float64 (default both)")
    parser.add_argument("--child", choices=["cnn_core", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shape, k, f, padding = (args.batch, 64, 64, 64), 64, 3, 1
    dtypes = args.dtype or ["float32", "float64"]
    if args.child:
        print(json.dumps(measure(args.child, shape, k, f, padding, dtypes[0], args.threads)))
        return 0

    print(f"cnn_core memory benchmark: {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"conv forward+backward, x {shape} (N, D, H, W), {k} filters {f}x{f}, stride 1, padding {padding}; "
        f"{args.threads} threads; one fresh process per row"
    )
    print(
        f"{'dtype':8}{'library':10}{'x MB':>8}{'returned':>10}{'peak MB':>10}{'retained MB':>13}"
        f"{'2nd peak':>10}{'2nd retained':>14}{'seconds':>9}"
    )
    ok = True
    for dtype in dtypes:
        rows = {lib: run_child(lib, args, dtype) for lib in ("cnn_core", "torch")}
        for lib, r in rows.items():
            if r is None:
                print(f"{dtype:8}{lib:10}  (not installed)")
                continue
            r1, r2 = r["runs"]
            print(
                f"{dtype:8}{lib:10}{r['input_mb']:8.0f}{r1['returned_mb']:10.0f}{r1['peak_mb']:10.0f}"
                f"{r1['retained_mb']:13.1f}{r2['peak_mb']:10.0f}{r2['retained_mb']:14.1f}{r1['seconds']:9.2f}"
            )
        ours, theirs = rows["cnn_core"], rows["torch"]
        retained = max(run["retained_mb"] for run in ours["runs"])
        line = (
            f"  {dtype}: cnn_core keeps {ours['scratch_mb']:.1f} MB of scratch (cap {ours['scratch_cap_mb']:.0f} MB);"
            f" retained {retained:.1f} MB (target <= {RETAINED_TARGET_MB})"
        )
        ok &= retained <= RETAINED_TARGET_MB
        if theirs is not None:
            ratio = max(run["peak_mb"] for run in ours["runs"]) / max(run["peak_mb"] for run in theirs["runs"])
            line += f"; peak / torch's peak = {ratio:.2f}x (target <= {PEAK_TARGET_RATIO:g}x)"
            ok &= ratio <= PEAK_TARGET_RATIO
        print(line)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
