"""The book's in-page engine (book/_assets/live/cnn-live.js) computes what cnn_core computes.

Random cases go to Node.js as JSON; the engine's answers come back and are compared with
cnn_core's (relative error < 1e-5): convolution forward and backward with any stride and
padding, dilation (against cnn_core on the zero-inserted kernel), max / avg / L2 pooling and its
gradient routing, the output-size errors word for word, and a whole exported network's
probabilities and input gradient (the saliency map), and the page-only refusals of sizes that
would loop for ever or allocate absurdly. Node.js comes with Debian's npm package,
which `make test` installs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import cnn_core as cc
from cnn_core import functional as fn
from cnn_core.export import to_json

ENGINE = Path(__file__).resolve().parents[1] / "book" / "_assets" / "live" / "cnn-live.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (Debian: apt-get install npm)")

DRIVER = """
const L = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const T = (a) => L.tensor(a.shape, a.data);
const plain = (t) => ({shape: t.shape, data: Array.from(t.data)});
const out = cases.map((c) => {
  try {
    if (c.op === "conv") {
      const y = L.conv2d(T(c.x), T(c.w), T(c.b), c.s, c.p, c.dl);
      const g = L.conv2dBackward(T(c.dout), T(c.x), T(c.w), c.s, c.p, c.dl);
      return {out: plain(y), dx: plain(g.dx), dw: plain(g.dw), db: plain(g.db)};
    }
    if (c.op === "pool") {
      return {out: plain(L.pool2d(T(c.x), c.f, c.s, c.mode)),
              dx: plain(L.pool2dBackward(T(c.dout), T(c.x), c.f, c.s, c.mode))};
    }
    if (c.op === "size") return {size: L.outputSize(c.n, c.f, c.s, c.p)};
    if (c.op === "model") {
      const m = L.model(c.layers);
      const r = m.forward(T(c.x));
      return {probabilities: plain(r.probabilities), gradient: plain(m.gradient(T(c.x), c.cls))};
    }
  } catch (err) {
    return {error: err.message};
  }
});
process.stdout.write(JSON.stringify(out));
"""


def engine(cases: list[dict]) -> list[dict]:
    proc = subprocess.run([NODE, "-e", DRIVER, str(ENGINE)], input=json.dumps(cases), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def t(a: np.ndarray) -> dict:
    return {"shape": list(a.shape), "data": [float(v) for v in a.ravel()]}


def arr(d: dict) -> np.ndarray:
    return np.array(d["data"], dtype=float).reshape(d["shape"])


def close(got: dict, want: np.ndarray) -> None:
    g = arr(got)
    assert g.shape == want.shape
    scale = max(1.0, float(np.abs(want).max()))
    assert float(np.abs(g - want).max()) / scale < 1e-5


def dilate(w: np.ndarray, dl: int) -> np.ndarray:
    """The kernel with dl - 1 zeros between taps: dilated convolution = convolution with this."""
    k, d, f, _ = w.shape
    out = np.zeros((k, d, dl * (f - 1) + 1, dl * (f - 1) + 1))
    out[:, :, ::dl, ::dl] = w
    return out


def conv_cases(rng, count):
    cases = []
    while len(cases) < count:
        d, k, f, s, p, dl = (
            int(rng.integers(1, 4)),
            int(rng.integers(1, 4)),
            int(rng.choice([1, 2, 3, 5])),
            int(rng.integers(1, 4)),
            int(rng.integers(0, 3)),
            int(rng.choice([1, 1, 2, 3])),
        )
        span = dl * (f - 1) + 1
        h = span + s * int(rng.integers(0, 4)) - 2 * p
        w_ = span + s * int(rng.integers(0, 4)) - 2 * p
        if h < 1 or w_ < 1:
            continue
        x, w, b = rng.standard_normal((d, h, w_)), rng.standard_normal((k, d, f, f)), rng.standard_normal(k)
        h2, w2 = (h + 2 * p - span) // s + 1, (w_ + 2 * p - span) // s + 1
        cases.append(
            {"op": "conv", "x": t(x), "w": t(w), "b": t(b), "s": s, "p": p, "dl": dl, "dout": t(rng.standard_normal((k, h2, w2)))}
        )
    return cases


def test_convolution_forward_and_backward_match_cnn_core():
    rng = np.random.default_rng(0)
    cases = conv_cases(rng, 60)
    assert sum(c["dl"] > 1 for c in cases) > 10 and sum(c["s"] > 1 for c in cases) > 20
    for case, got in zip(cases, engine(cases)):
        x, w, b, dout = (arr(case[k])[None] if k in ("x", "dout") else arr(case[k]) for k in ("x", "w", "b", "dout"))
        wk = dilate(w, case["dl"])
        out = fn.conv2d_naive(x, wk, b, case["s"], case["p"])
        dx, dwk, db = fn.conv2d_backward_naive(dout, x, wk, case["s"], case["p"])
        close(got["out"], out[0])
        close(got["dx"], dx[0])
        close(got["dw"], dwk[:, :, :: case["dl"], :: case["dl"]])
        close(got["db"], db)


@pytest.mark.parametrize("mode", ["max", "avg", "l2"])
def test_pooling_and_its_gradient_routing_match_cnn_core(mode):
    rng = np.random.default_rng(1)
    cases = []
    for _ in range(25):
        f, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        h, w = f + s * int(rng.integers(0, 4)), f + s * int(rng.integers(0, 4))
        d = int(rng.integers(1, 4))
        h2, w2 = (h - f) // s + 1, (w - f) // s + 1
        cases.append(
            {
                "op": "pool",
                "x": t(rng.standard_normal((d, h, w))),
                "f": f,
                "s": s,
                "mode": mode,
                "dout": t(rng.standard_normal((d, h2, w2))),
            }
        )
    for case, got in zip(cases, engine(cases)):
        x, dout = arr(case["x"])[None], arr(case["dout"])[None]
        close(got["out"], fn.pool2d_naive(x, case["f"], case["s"], mode)[0])
        close(got["dx"], fn.pool2d_backward_naive(dout, x, case["f"], case["s"], mode)[0])


def test_output_size_and_its_errors_read_as_cnn_core_says():
    settings = [(n, f, s, p) for n in (5, 7, 32) for f in (1, 3, 5, 7) for s in (1, 2, 3) for p in (0, 1, 2)]
    settings += [(7, 3, 0, 0), (7, 3, 1, -1), (5, 9, 1, 0)]
    cases = [{"op": "size", "n": n, "f": f, "s": s, "p": p} for n, f, s, p in settings]
    errors = 0
    for (n, f, s, p), got in zip(settings, engine(cases)):
        try:
            want = cc.output_size(n, f, s, p)
        except ValueError as err:
            errors += 1
            assert got == {"error": str(err)}, (n, f, s, p)
        else:
            assert got == {"size": want}, (n, f, s, p)
    assert errors > 20


def test_an_exported_network_gives_the_same_probabilities_and_saliency():
    net = cc.Sequential(
        [
            cc.Conv2D(1, 4, 3, padding=1, rng=0),
            cc.ReLU(),
            cc.MaxPool2D(2),
            cc.Conv2D(4, 6, 3, padding=1, rng=1),
            cc.ReLU(),
            cc.AvgPool2D(2),
            cc.Flatten(),
            cc.Linear(6 * 2 * 2, 10, rng=2),
        ]
    )
    from cnn_core.data import load_digits

    _, _, X, _ = load_digits()
    layers = to_json(net)
    cases = [{"op": "model", "layers": layers, "x": t(X[i]), "cls": int(i % 10)} for i in range(8)]
    for i, got in enumerate(engine(cases)):
        x = X[i : i + 1]
        scores = net.forward(x)
        close(got["probabilities"], cc.softmax(scores)[0])
        dscores = np.zeros_like(scores)
        dscores[0, i % 10] = 1
        close(got["gradient"], net.backward(dscores)[0])


def test_to_json_refuses_a_layer_the_page_cannot_run():
    with pytest.raises(TypeError, match="Sigmoid is not supported by the page engine"):
        to_json(cc.Sequential([cc.Sigmoid()]))


def test_the_engine_refuses_sizes_that_would_loop_for_ever_or_allocate_absurdly():
    import time

    sizes = [(7, 3, 0, 0), (7, 3, -2, 0), (7, 3, 10**9, 0), (7, 3, 2.5, 0), (10**9, 3, 1, 0), (7, 0, 1, 0), (4000, 3, 1, 4000)]
    x = {"shape": [1, 6, 6], "data": [0.5] * 36}
    dout = {"shape": [1, 3, 3], "data": [1.0] * 9}
    pools = [(0, 2), (2, 0), (-1, 1), (2, 10**9), (2.5, 2)]
    cases = [{"op": "size", "n": n, "f": f, "s": s, "p": p} for n, f, s, p in sizes]
    cases += [{"op": "pool", "x": x, "dout": dout, "f": f, "s": s, "mode": "max"} for f, s in pools]
    t0 = time.perf_counter()
    got = engine(cases)
    assert time.perf_counter() - t0 < 10  # Node.js starts in well under a second; no case loops
    want = [
        "stride S must be >= 1, got 0",
        "stride S must be >= 1, got -2",
        "stride S must be <= 4096 in the page, got 1000000000",
        "stride S must be a whole number >= 1, got 2.5",
        "input size N must be <= 4096 in the page, got 1000000000",
        "filter size F must be >= 1, got 0",
        "output size 11998 is more than the page draws (4096 per side): use a smaller N or P",
        "x height H=6: filter size F must be >= 1, got 0",
        "x height H=6: stride S must be >= 1, got 0",  # 0 is refused, not read as "stride = F"
        "x height H=6: filter size F must be >= 1, got -1",
        "x height H=6: stride S must be <= 4096 in the page, got 1000000000",
        "x height H=6: filter size F must be a whole number >= 1, got 2.5",
    ]
    assert got == [{"error": w} for w in want]
