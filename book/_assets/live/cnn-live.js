/* cnn-live.js: the book's in-page compute engine, a JavaScript twin of cnn_core's kernels.
 *
 * The live explorers of the online book compute with these functions; tests/test_live_engine.py
 * runs them under Node.js on random cases and compares with cnn_core (relative error < 1e-5), so
 * the page is never a second source of truth. Notation as in the book: a volume is D x H x W
 * (one image, channels first), filters are K x D x F x F, stride S, padding P, dilation Dl.
 *
 * A tensor is {shape: [..], data: Float64Array} in row-major order. No dependencies; works as a
 * browser script (window.CNNLive) and as a CommonJS module (Node.js).
 */
(function (root) {
  "use strict";

  /* The page's limits: no side longer than MAX_SIDE cells and no tensor of more than MAX_VALUES
   * numbers, so that no setting typed in an explorer loops for ever or allocates absurdly. */
  const MAX_SIDE = 4096, MAX_VALUES = 1 << 24;

  function tensor(shape, data) {
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new Error("tensor: a shape is a list of whole numbers >= 0, got [" + shape + "]");
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > MAX_VALUES) {
      throw new Error("tensor: shape [" + shape.join(", ") + "] holds " + size + " values, more than the page computes with (" + MAX_VALUES + ")");
    }
    const out = data ? Float64Array.from(data) : new Float64Array(size);
    if (out.length !== size) {
      throw new Error("tensor: " + out.length + " values do not fill shape [" + shape.join(", ") + "]");
    }
    return { shape: shape.slice(), data: out };
  }

  function fmt(x) {
    return (Math.round(x * 100) / 100).toFixed(2);
  }

  /* value as a whole number from minimum to MAX_SIDE, or an Error worded as cnn_core's check_whole_number
   * (a page-only upper limit, so that nothing loops for ever or allocates absurdly). */
  function whole(name, value, minimum) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new Error(name + " must be a whole number >= " + minimum + ", got " + value);
    }
    if (value < minimum) throw new Error(name + " must be >= " + minimum + ", got " + value);
    if (value > MAX_SIDE) throw new Error(name + " must be <= " + MAX_SIDE + " in the page, got " + value);
    return value;
  }

  const given = (v, otherwise) => (v === undefined || v === null ? otherwise : v);

  /* The output size (N + 2P - Dl(F-1) - 1) / S + 1, with cnn_core.output_size's messages. */
  function outputSize(n, f, stride, padding, dilation) {
    stride = given(stride, 1); padding = given(padding, 0); dilation = given(dilation, 1);
    whole("input size N", n, 1);
    whole("filter size F", f, 1);
    whole("stride S", stride, 1);
    whole("padding P", padding, 0);
    whole("dilation", dilation, 1);
    const reach = dilation * (f - 1) + 1;            // the span of a dilated filter
    const padded = n + 2 * padding;
    if (reach > padded) {
      const name = dilation === 1 ? "filter F=" + f : "dilated filter (F=" + f + ", dilation " + dilation + ", span " + reach + ")";
      throw new Error(name + " is larger than the padded input N + 2P = " + n + " + 2*" + padding + " = " + padded +
        ": use a filter of size <= " + padded + " or pad with P >= " + Math.ceil((reach - n) / 2));
    }
    const span = padded - reach;
    if (span % stride !== 0) {
      const hints = [];
      for (let s = Math.min(stride - 1, span); s >= 1; s--) {   // no s > span divides span
        if (span % s === 0) { hints.push("stride S=" + s + " fits"); break; }
      }
      for (let p = padding + 1; p <= padding + stride; p++) {
        if ((n + 2 * p - reach) % stride === 0) { hints.push("padding P=" + p + " fits with stride " + stride); break; }
      }
      const formula = dilation === 1
        ? "(N + 2P - F) / S + 1 = (" + n + " + 2*" + padding + " - " + f + ") / " + stride + " + 1"
        : "(N + 2P - span) / S + 1 = (" + n + " + 2*" + padding + " - " + reach + ") / " + stride + " + 1";
      throw new Error("filter does not fit: " + formula + " = " + fmt(span / stride + 1) +
        " is not a whole number." + (hints.length ? " Try: " + hints.join(" or ") + "." : ""));
    }
    const size = span / stride + 1;
    if (size > MAX_SIDE) throw new Error("output size " + size + " is more than the page draws (" + MAX_SIDE + " per side): use a smaller N or P");
    return size;
  }

  /* outputSize along one axis of x, its error prefixed as cnn_core does ("x width W=24: ..."). */
  function axisSize(axis, n, f, stride, padding, dilation) {
    try {
      return outputSize(n, f, stride, padding, dilation);
    } catch (err) {
      throw new Error("x " + axis + "=" + n + ": " + err.message);
    }
  }

  function sameShape(what, got, want) {
    if (got.length !== want.length || got.some((n, i) => n !== want[i])) {
      throw new Error(what + " has shape [" + got.join(", ") + "], the forward pass gave [" + want.join(", ") + "]");
    }
  }

  /* Convolution of one volume x (D, H, W) with w (K, D, F, F) and b (K): out (K, H2, W2).
   * out[k, r, c] = b[k] + sum_{d,i,j} w[k, d, i, j] * xpad[d, r*S + i*Dl, c*S + j*Dl]. */
  function conv2d(x, w, b, stride, padding, dilation) {
    stride = given(stride, 1); padding = given(padding, 0); dilation = given(dilation, 1);
    const [D, H, W] = x.shape, [K, D2, F, F2] = w.shape;
    if (D !== D2) throw new Error("conv2d: x has depth D=" + D + " but the filters have depth " + D2);
    if (F !== F2) throw new Error("conv2d: filters must be square, got " + F + "x" + F2);
    const H2 = axisSize("height H", H, F, stride, padding, dilation), W2 = axisSize("width W", W, F, stride, padding, dilation);
    const out = tensor([K, H2, W2]);
    const xd = x.data, wd = w.data, od = out.data;
    for (let k = 0; k < K; k++) {
      const bias = b ? b.data[k] : 0;
      for (let r = 0; r < H2; r++) {
        for (let c = 0; c < W2; c++) {
          let sum = 0;
          for (let d = 0; d < D; d++) {
            for (let i = 0; i < F; i++) {
              const row = r * stride + i * dilation - padding;
              if (row < 0 || row >= H) continue;
              for (let j = 0; j < F; j++) {
                const col = c * stride + j * dilation - padding;
                if (col < 0 || col >= W) continue;
                sum += wd[((k * D + d) * F + i) * F + j] * xd[(d * H + row) * W + col];
              }
            }
          }
          od[(k * H2 + r) * W2 + c] = sum + bias;
        }
      }
    }
    return out;
  }

  /* Gradients of conv2d: dx (D, H, W), dw (K, D, F, F), db (K), given dout (K, H2, W2).
   * dw = sum over positions of dout x window; dx scatters dout through the filter; db = sum of dout. */
  function conv2dBackward(dout, x, w, stride, padding, dilation) {
    stride = given(stride, 1); padding = given(padding, 0); dilation = given(dilation, 1);
    const [D, H, W] = x.shape, [K, , F] = w.shape, [, H2, W2] = dout.shape;
    sameShape("conv2dBackward: dout", dout.shape, [K, axisSize("height H", H, F, stride, padding, dilation), axisSize("width W", W, F, stride, padding, dilation)]);
    const dx = tensor([D, H, W]), dw = tensor([K, D, F, F]), db = tensor([K]);
    const xd = x.data, wd = w.data, gd = dout.data;
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < H2; r++) {
        for (let c = 0; c < W2; c++) {
          const g = gd[(k * H2 + r) * W2 + c];
          db.data[k] += g;
          for (let d = 0; d < D; d++) {
            for (let i = 0; i < F; i++) {
              const row = r * stride + i * dilation - padding;
              if (row < 0 || row >= H) continue;
              for (let j = 0; j < F; j++) {
                const col = c * stride + j * dilation - padding;
                if (col < 0 || col >= W) continue;
                const wi = ((k * D + d) * F + i) * F + j, xi = (d * H + row) * W + col;
                dw.data[wi] += g * xd[xi];
                dx.data[xi] += g * wd[wi];
              }
            }
          }
        }
      }
    }
    return { dx: dx, dw: dw, db: db };
  }

  /* Pooling of each map of x (D, H, W) with an F x F window, stride S: max, avg or l2. */
  function pool2d(x, f, stride, mode) {
    stride = given(stride, f); mode = mode || "max";
    if (["max", "avg", "l2"].indexOf(mode) < 0) throw new Error("pool2d: mode must be 'max', 'avg' or 'l2', got " + mode);
    const [D, H, W] = x.shape;
    const H2 = axisSize("height H", H, f, stride, 0), W2 = axisSize("width W", W, f, stride, 0);
    const out = tensor([D, H2, W2]);
    for (let d = 0; d < D; d++) {
      for (let r = 0; r < H2; r++) {
        for (let c = 0; c < W2; c++) {
          let acc = mode === "max" ? -Infinity : 0, nan = false;
          for (let i = 0; i < f; i++) {
            for (let j = 0; j < f; j++) {
              const v = x.data[(d * H + r * stride + i) * W + c * stride + j];
              if (Number.isNaN(v)) nan = true;
              if (mode === "max") acc = Math.max(acc, v);
              else if (mode === "avg") acc += v;
              else acc += v * v;
            }
          }
          out.data[(d * H2 + r) * W2 + c] = nan ? NaN : mode === "max" ? acc : mode === "avg" ? acc / (f * f) : Math.sqrt(acc);
        }
      }
    }
    return out;
  }

  /* Where the gradient of each pooling output goes: dx (D, H, W) given dout (D, H2, W2).
   * max: all to the first largest value of the window; avg: dout / F^2 to each; l2: dout * x / out. */
  function pool2dBackward(dout, x, f, stride, mode) {
    stride = given(stride, f); mode = mode || "max";
    const [D, H, W] = x.shape, [, H2, W2] = dout.shape;
    sameShape("pool2dBackward: dout", dout.shape, [D, axisSize("height H", H, f, stride, 0), axisSize("width W", W, f, stride, 0)]);
    const dx = tensor([D, H, W]);
    for (let d = 0; d < D; d++) {
      for (let r = 0; r < H2; r++) {
        for (let c = 0; c < W2; c++) {
          const g = dout.data[(d * H2 + r) * W2 + c];
          const at = (i, j) => (d * H + r * stride + i) * W + c * stride + j;
          if (mode === "max") {
            let best = at(0, 0);
            for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) if (x.data[at(i, j)] > x.data[best]) best = at(i, j);
            dx.data[best] += g;
          } else if (mode === "avg") {
            for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) dx.data[at(i, j)] += g / (f * f);
          } else {
            let s = 0;
            for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) s += x.data[at(i, j)] ** 2;
            const norm = Math.sqrt(s);
            if (norm !== 0) for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) dx.data[at(i, j)] += g * x.data[at(i, j)] / norm;
          }
        }
      }
    }
    return dx;
  }

  function relu(x) {
    return tensor(x.shape, x.data.map((v) => (v > 0 ? v : 0)));
  }

  /* Fully connected: y = W x + b, W (out, in) as cnn_core.Linear stores it. */
  function linear(x, w, b) {
    const [O, I] = w.shape;
    if (x.data.length !== I) throw new Error("linear: " + x.data.length + " inputs, the layer takes " + I);
    const y = tensor([O]);
    for (let o = 0; o < O; o++) {
      let s = b ? b.data[o] : 0;
      for (let i = 0; i < I; i++) s += w.data[o * I + i] * x.data[i];
      y.data[o] = s;
    }
    return y;
  }

  function softmax(z) {
    const m = Math.max.apply(null, Array.from(z.data));
    const e = z.data.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return tensor(z.shape, e.map((v) => v / s));
  }

  /* A cnn_core Sequential exported as JSON: [{type: "Conv2D", stride, padding, W: {shape, data}, b}, ...].
   * forward keeps every layer's input, so gradient() can send d(score)/d(input) back (a saliency map). */
  function model(layers) {
    const t = (p) => (p ? tensor(p.shape, p.data) : null);
    const net = layers.map((l) => Object.assign({}, l, { W: t(l.W), b: t(l.b) }));

    function forward(x) {
      const acts = [x];
      for (const l of net) {
        const a = acts[acts.length - 1];
        let y;
        if (l.type === "Conv2D") y = conv2d(a, l.W, l.b, l.stride, l.padding);
        else if (l.type === "ReLU") y = relu(a);
        else if (l.type === "MaxPool2D" || l.type === "AvgPool2D") y = pool2d(a, l.kernel_size, l.stride, l.type === "MaxPool2D" ? "max" : "avg");
        else if (l.type === "Flatten") y = tensor([a.data.length], a.data);
        else if (l.type === "Linear") y = linear(a, l.W, l.b);
        else throw new Error("model: layer type " + l.type + " is not supported in the page");
        acts.push(y);
      }
      return { activations: acts, scores: acts[acts.length - 1], probabilities: softmax(acts[acts.length - 1]) };
    }

    /* d scores[cls] / d input, through every layer (ReLU and max-pool route, conv scatters);
     * ``acts``: forward(x).activations when already computed. */
    function gradient(x, cls, acts) {
      acts = acts || forward(x).activations;
      let g = tensor(acts[acts.length - 1].shape);
      g.data[cls] = 1;
      for (let n = net.length - 1; n >= 0; n--) {
        const l = net[n], a = acts[n];
        if (l.type === "Linear") {
          const [O, I] = l.W.shape, dx = tensor([I]);
          for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) dx.data[i] += g.data[o] * l.W.data[o * I + i];
          g = dx;
        } else if (l.type === "Flatten") g = tensor(a.shape, g.data);
        else if (l.type === "ReLU") g = tensor(a.shape, g.data.map((v, i) => (a.data[i] > 0 ? v : 0)));
        else if (l.type === "MaxPool2D" || l.type === "AvgPool2D") g = pool2dBackward(g, a, l.kernel_size, l.stride, l.type === "MaxPool2D" ? "max" : "avg");
        else if (l.type === "Conv2D") g = conv2dBackward(g, a, l.W, l.stride, l.padding).dx;
      }
      return g;
    }

    return { layers: net, forward: forward, gradient: gradient };
  }

  const api = { MAX_SIDE, MAX_VALUES, tensor, outputSize, conv2d, conv2dBackward, pool2d, pool2dBackward, relu, linear, softmax, model };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.CNNLive = api;
})(typeof window !== "undefined" ? window : this);
