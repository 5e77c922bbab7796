/* explorers.js: the online book's live explorers, computed in the page with cnn-live.js.
 *
 * A chapter cell writes <div class="cnn-live" data-kind="..."> with its settings as JSON
 * (cnn_core.viz.live.live_explorer); this script builds the controls and draws. Kinds:
 *   convolution    any 3x3 / 5x5 kernel on a photo, your own image or the webcam; the numbers
 *                  under the cursor (window, products, sum, bias) for any output pixel
 *   stride_padding any N, F, S, P and dilation: window positions, the formula, "does not fit"
 *   pooling        max / avg / L2, any size and stride, on a photo or a drawing; where the
 *                  gradient of a clicked output goes
 * Each explorer keeps its last result on the element (el.cnnLive) for the browser tests.
 * Every typed value is read by readNumber / readChoice (one place, below): a wrong one, or a setting
 * the engine refuses, is shown with what to type instead, and the pictures and status are marked
 * as not updated (refuse), never left stating a result beside the error.
 */
(function () {
  "use strict";
  const L = window.CNNLive;

  // ------------------------------------------------------------------ small helpers

  function h(tag, attrs, children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v);
    }
    for (const c of children || []) el.append(c);
    return el;
  }

  function field(label, input) {
    return h("label", { class: "cnn-live-field" }, [h("span", { text: label }), input]);
  }

  function select(options, value, label) {
    const s = h("select", { "aria-label": label });
    for (const o of options) s.append(h("option", { value: o, text: o }));
    s.value = value;
    return s;
  }

  // A number field for `spec` = {name, min, max, whole}: the same spec gives its min/max and checks it.
  function number(value, spec) {
    return h("input", { type: "number", value: value, min: spec.min, max: spec.max, step: spec.whole ? 1 : 0.1,
      "aria-label": spec.name });
  }

  // ------------------------------------------------------------------ every typed value is checked here

  /* The one place where the explorers read what a reader typed: the value of `input` as a number
   * within `spec` ({name, min, max, whole}), or a message that says what is wrong and how to fix it.
   * The explorers compute only with values that passed; nothing else is read from a field. */
  function readNumber(input, spec) {
    const text = String(input.value).trim();
    const want = spec.name + " must be " + (spec.whole ? "a whole number" : "a number") + " from " + spec.min + " to " + spec.max;
    let typed;
    if (input.validity && input.validity.badInput) typed = "what you typed is not a number";
    else if (text === "") typed = "the field is empty";
    else {
      const v = Number(text), shown = text.length > 24 ? text.slice(0, 24) + "…" : text;
      if (Number.isNaN(v)) typed = "you typed " + JSON.stringify(shown) + ", not a number";
      else if ((spec.whole && !Number.isInteger(v)) || !(v >= spec.min && v <= spec.max)) typed = "you typed " + shown;
      else return { value: v };
    }
    return { error: want + " (" + typed + ")" };
  }

  // The value of a menu if it is one of `options`, else a message.
  function readChoice(sel, options, name) {
    if (options.indexOf(sel.value) >= 0) return { value: sel.value };
    return { error: name + " must be one of " + options.join(", ") + " (the menu shows " + JSON.stringify(sel.value) + ")" };
  }

  /* Read every field of `fields` ([key, input, spec] or [key, select, options, name]): {values} when
   * all are right, else {error} with one line per wrong field; wrong fields get aria-invalid. */
  function readAll(fields) {
    const values = {}, errors = [];
    for (const [key, el, spec, name] of fields) {
      const r = Array.isArray(spec) ? readChoice(el, spec, name) : readNumber(el, spec);
      el.setAttribute("aria-invalid", r.error ? "true" : "false");
      if (r.error) errors.push(r.error); else values[key] = r.value;
    }
    return errors.length ? { error: errors.join("\n") } : { values: values };
  }

  /* An explorer that cannot compute shows why, and says that its pictures are not updated: the
   * status never states a result beside the error. `view`: {error, status, stale: [elements]}. */
  function refuse(view, message) {
    view.error.textContent = message;
    view.status.textContent = "Not updated: " + message.replace(/\n/g, "; ").replace(/\.$/, "") + ". The pictures are dimmed: they show the last setting that worked.";
    for (const el of view.stale) {
      el.classList.add("cnn-live-stale");
      if (el.tagName === "CANVAS") el.setAttribute("aria-label", "not updated (" + message.replace(/\n/g, "; ") + ")");
    }
  }

  function accept(view) {
    view.error.textContent = "";
    for (const el of view.stale) el.classList.remove("cnn-live-stale");
  }

  // Arrow keys and friends act on the control, not on the page (or a notebook's cell selection).
  function keepKeys(el) {
    el.addEventListener("keydown", (e) => { if (/^(Arrow|Home$|End$|Page)/.test(e.key)) e.stopPropagation(); });
  }

  // Arrow keys on a focused map move the selected output by one pixel (and never scroll the page).
  const STEPS = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

  function onArrows(canvas, move) {
    canvas.addEventListener("keydown", (e) => {
      const step = STEPS[e.key];
      if (!step) return;
      e.preventDefault(); e.stopPropagation();
      move(step[0], step[1]);
    });
  }

  function decodeImage(img) {
    const bytes = atob(img.b64);
    const t = L.tensor([1, img.height, img.width]);
    for (let i = 0; i < t.data.length; i++) t.data[i] = bytes.charCodeAt(i) / 255;
    return t;
  }

  // An image file or a video frame -> grey (1, H, W) in 0..1, longer side `side` pixels.
  function greyFrom(source, width, height, side) {
    const scale = side / Math.max(width, height);
    const w = Math.max(1, Math.round(width * scale)), hh = Math.max(1, Math.round(height * scale));
    const c = document.createElement("canvas");
    c.width = w; c.height = hh;
    const ctx = c.getContext("2d");
    ctx.drawImage(source, 0, 0, w, hh);
    const px = ctx.getImageData(0, 0, w, hh).data;
    const t = L.tensor([1, hh, w]);
    for (let i = 0; i < w * hh; i++) t.data[i] = (0.2126 * px[4 * i] + 0.7152 * px[4 * i + 1] + 0.0722 * px[4 * i + 2]) / 255;
    return t;
  }

  // Draw map (H, W) on a canvas, `cell` pixels per value; grey (0..1) or diverging (blue - white - red),
  // scaled by `scale` (default: the map's own largest |value|).
  function paint(canvas, t, cell, diverging, map, scale) {
    const [, H, W] = t.shape.length === 3 ? t.shape : [1].concat(t.shape);
    canvas.width = W * cell; canvas.height = H * cell;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(W * cell, H * cell);
    let m = 0;
    for (let i = 0; i < H * W; i++) m = Math.max(m, Math.abs(t.data[(map || 0) * H * W + i]) || 0);
    if (scale !== undefined) m = scale;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const v = t.data[(map || 0) * H * W + r * W + c];
        let rgb;
        if (!Number.isFinite(v)) rgb = [255, 0, 255];
        else if (diverging) {
          const a = m ? Math.min(1, Math.abs(v) / m) : 0;
          rgb = v >= 0 ? [255, 255 * (1 - a), 255 * (1 - a)] : [255 * (1 - a), 255 * (1 - a), 255];
        } else {
          const g = 255 * Math.min(1, Math.max(0, v));
          rgb = [g, g, g];
        }
        for (let y = 0; y < cell; y++) {
          for (let x = 0; x < cell; x++) {
            const o = 4 * ((r * cell + y) * W * cell + c * cell + x);
            img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
          }
        }
      }
    }
    ctx.putImageData(img, 0, 0);
    return m;
  }

  function cellAt(canvas, e, cell) {
    const rect = canvas.getBoundingClientRect();
    const sx = canvas.width / rect.width, sy = canvas.height / rect.height;
    return [Math.floor((e.clientY - rect.top) * sy / cell), Math.floor((e.clientX - rect.left) * sx / cell)];
  }

  const f2 = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
  const f3 = (v) => v.toFixed(3);

  // ------------------------------------------------------------------ convolution playground

  function convolution(root, cfg) {
    const images = cfg.images.map((im) => ({ name: im.name, tensor: decodeImage(im) }));
    const presets = cfg.presets;
    const state = { image: images[0].tensor, imageName: images[0].name, r: 0, c: 0 };
    const status = h("div", { class: "cnn-live-status", role: "status", "aria-live": "polite" });
    const error = h("div", { class: "cnn-live-error", role: "alert" });
    const imageSel = select(images.map((i) => i.name).concat(["your own image…"]), images[0].name, "image");
    const file = h("input", { type: "file", accept: "image/*", "aria-label": "upload an image", style: "display:none" });
    const camera = h("button", { type: "button", text: "webcam picture" });
    const CUSTOM = "custom kernel";
    const presetSel = select(Object.keys(presets).concat([CUSTOM]), cfg.preset || Object.keys(presets)[0], "preset kernel");
    presetSel.lastChild.disabled = true;      // shown when the typed kernel is no preset, not chosen
    const sizeSel = select(["3", "5"], String(presets[presetSel.value].length), "kernel size F");
    const WEIGHT = { min: -1000, max: 1000, whole: false };
    const BIAS = { name: "bias b", min: -1000, max: 1000, whole: false };
    const bias = number(0, BIAS);
    const grid = h("div", { class: "cnn-live-kernel", role: "group", "aria-label": "kernel values" });
    const inCanvas = h("canvas", { class: "cnn-live-canvas", role: "img" });
    const outCanvas = h("canvas", { class: "cnn-live-canvas", role: "img", tabindex: "0" });
    const readout = h("div", { class: "cnn-live-readout" });
    let inputs = [];

    function buildGrid(values) {
      const F = values.length;
      grid.innerHTML = "";
      grid.style.gridTemplateColumns = "repeat(" + F + ", 4.2em)";
      inputs = [];
      for (let i = 0; i < F; i++) {
        for (let j = 0; j < F; j++) {
          const inp = number(values[i][j], Object.assign({ name: "kernel row " + (i + 1) + " column " + (j + 1) }, WEIGHT));
          inp.addEventListener("input", update);
          keepKeys(inp);
          inputs.push(inp);
          grid.append(inp);
        }
      }
    }

    // The kernel and bias typed, checked: {w, b} or {error}.
    function read() {
      const F = Math.round(Math.sqrt(inputs.length));
      const r = readAll(inputs.map((inp, i) => [i, inp, Object.assign({ name: inp.getAttribute("aria-label") }, WEIGHT)])
        .concat([["b", bias, BIAS]]));
      if (r.error) return r;
      return { w: L.tensor([1, 1, F, F], inputs.map((_, i) => r.values[i])), b: r.values.b };
    }

    // The kernel's name: a preset's if the values are exactly that preset, else "custom kernel".
    function kernelName(w) {
      for (const [name, k] of Object.entries(presets)) {
        const flat = [].concat(...k);
        if (flat.length === w.data.length && flat.every((v, i) => v === w.data[i])) return name;
      }
      return CUSTOM;
    }

    const view = { error: error, status: status, stale: [outCanvas, readout] };

    function update() {
      const t0 = performance.now();
      paint(inCanvas, state.image, cfg.cell, false);
      const k = read();
      let out;
      if (!k.error) {
        try { out = L.conv2d(state.image, k.w, L.tensor([1], [k.b]), 1, (k.w.shape[2] - 1) / 2); } catch (err) { k.error = err.message; }
      }
      if (k.error) {
        refuse(view, k.error);
        root.cnnLive = { image: state.image, error: k.error, ms: performance.now() - t0 };
        return;
      }
      accept(view);
      const w = k.w, F = w.shape[2], b = L.tensor([1], [k.b]), P = (F - 1) / 2;
      const m = paint(outCanvas, out, cfg.cell, true);
      state.out = out; state.w = w; state.b = b.data[0]; state.P = P;
      const name = kernelName(w);
      presetSel.value = name;
      const [, H, W] = out.shape;
      state.r = Math.min(state.r, H - 1); state.c = Math.min(state.c, W - 1);
      inCanvas.setAttribute("aria-label", "input: " + state.imageName + ", grey, " + state.image.shape[1] + "×" + state.image.shape[2] + " pixels");
      const text = F + "×" + F + " kernel " + (name === CUSTOM ? "typed by you (custom kernel)" : name) + " with bias " + f2(b.data[0]) + " on " + state.imageName +
        ", padding P=" + P + " keeps the size " + H + "×" + W + "; outputs range from " + f2(Math.min(...out.data)) +
        " to " + f2(Math.max(...out.data)) + " (red positive, blue negative, white zero, strongest ±" + f2(m) + ")";
      outCanvas.setAttribute("aria-label", "activation map: " + text);
      status.textContent = text;
      explain();
      root.cnnLive = { image: state.image, kernel: w, bias: state.b, output: out, ms: performance.now() - t0 };
    }

    function explain() {
      const [, H, W] = state.image.shape, F = state.w.shape[2], P = state.P, r = state.r, c = state.c;
      let sum = 0;
      const rows = [];
      for (let i = 0; i < F; i++) {
        const cells = [];
        for (let j = 0; j < F; j++) {
          const y = r + i - P, x = c + j - P;
          const v = y >= 0 && y < H && x >= 0 && x < W ? state.image.data[y * W + x] : 0;
          const k = state.w.data[i * F + j];
          sum += k * v;
          cells.push(f2(k) + "×" + f3(v) + (y < 0 || y >= H || x < 0 || x >= W ? " (pad)" : ""));
        }
        rows.push(cells.join("  +  "));
      }
      const total = state.out.data[r * state.out.shape[2] + c];
      readout.textContent = "output pixel (row " + r + ", column " + c + "): window centred on input (" + r + ", " + c + ")\n" +
        rows.join("\n") + "\n= " + f3(sum) + " (sum of products) + " + f2(state.b) + " (bias) = " + f3(total);
    }

    function setImage(t, name) {
      state.image = t; state.imageName = name;
      update();
    }

    imageSel.addEventListener("change", () => {
      if (imageSel.value === "your own image…") { file.click(); return; }
      const im = images.find((i) => i.name === imageSel.value);
      if (im) setImage(im.tensor, im.name);
    });
    file.addEventListener("change", () => {
      const f = file.files[0];
      if (!f) return;
      const url = URL.createObjectURL(f);
      const img = new Image();
      img.onload = () => {
        setImage(greyFrom(img, img.naturalWidth, img.naturalHeight, cfg.side), f.name + " (resized so its longer side is " + cfg.side + " pixels)");
        URL.revokeObjectURL(url);
      };
      img.onerror = () => {
        error.textContent = "Could not read " + f.name + " as an image (PNG, JPEG, GIF or WebP): choose another file. The explorer still shows " + state.imageName + ".";
        URL.revokeObjectURL(url);
      };
      img.src = url;
    });
    camera.addEventListener("click", async () => {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: true });
        const video = h("video", { playsinline: "" });
        video.srcObject = stream;
        await video.play();
        const t = greyFrom(video, video.videoWidth, video.videoHeight, cfg.side);
        stream.getTracks().forEach((tr) => tr.stop());
        setImage(t, "your webcam picture");
      } catch (err) {
        error.textContent = "No webcam picture: " + (err && err.message ? err.message : err) + ". Allow the camera, or upload an image instead.";
      }
    });
    presetSel.addEventListener("change", () => {
      if (!presets[presetSel.value]) { update(); return; }   // not a preset: keep the typed kernel
      buildGrid(presets[presetSel.value]); sizeSel.value = String(presets[presetSel.value].length); update();
    });
    sizeSel.addEventListener("change", () => {
      const F = +sizeSel.value, f0 = Math.round(Math.sqrt(inputs.length));
      if (F !== 3 && F !== 5) { sizeSel.value = String(f0); return; }
      const old = { data: inputs.map((inp) => inp.value) };  // resized as typed, right or wrong
      const vals = [];
      for (let i = 0; i < F; i++) {
        vals.push([]);
        for (let j = 0; j < F; j++) {
          const oi = i - (F - f0) / 2, oj = j - (F - f0) / 2;
          vals[i].push(oi >= 0 && oi < f0 && oj >= 0 && oj < f0 ? old.data[oi * f0 + oj] : "0");
        }
      }
      buildGrid(vals);
      update();
    });
    bias.addEventListener("input", update);
    keepKeys(bias);
    outCanvas.addEventListener("mousemove", (e) => {
      const [r, c] = cellAt(outCanvas, e, cfg.cell);
      if (root.cnnLive.error) return;                 // nothing to explain until the fields are right
      if (r >= 0 && c >= 0 && r < state.out.shape[1] && c < state.out.shape[2]) { state.r = r; state.c = c; explain(); }
    });
    onArrows(outCanvas, (dr, dc) => {
      if (root.cnnLive.error) return;
      state.r = Math.max(0, Math.min(state.out.shape[1] - 1, state.r + dr));
      state.c = Math.max(0, Math.min(state.out.shape[2] - 1, state.c + dc));
      explain();
    });

    buildGrid(presets[presetSel.value]);
    root.append(
      h("div", { class: "cnn-live-controls" }, [field("image", imageSel), file, camera, field("preset", presetSel),
        field("size F", sizeSel), field("bias b", bias)]),
      grid, error,
      h("div", { class: "cnn-live-panels" }, [
        h("figure", {}, [inCanvas, h("figcaption", { text: "input (grey, 0 black … 1 white)" })]),
        h("figure", {}, [outCanvas, h("figcaption", { text: "activation map: point at a pixel, or focus it and use the arrow keys" })])]),
      readout, status);
    update();
  }

  // ------------------------------------------------------------------ stride, padding, dilation

  function strideDilation(root, cfg) {
    const ctl = {};
    // Up to 100 cells a side, so that a row of windows is drawn in a few milliseconds.
    const specs = [["N", "input size N", 1, 100], ["F", "filter size F", 1, 100], ["S", "stride S", 1, 100],
      ["P", "padding P", 0, 50], ["Dl", "dilation", 1, 50]];
    const row = h("div", { class: "cnn-live-controls" });
    for (const [key, label, min, max] of specs) {
      ctl[key] = number(cfg.start[key], { name: label, min: min, max: max, whole: true });
      ctl[key].addEventListener("input", update);
      keepKeys(ctl[key]);
      row.append(field(label, ctl[key]));
    }
    const canvas = h("canvas", { class: "cnn-live-canvas", role: "img" });
    const formula = h("div", { class: "cnn-live-formula" });
    const error = h("div", { class: "cnn-live-error", role: "alert" });
    const status = h("div", { class: "cnn-live-status", role: "status", "aria-live": "polite" });

    const view = { error: error, status: status, stale: [canvas, formula] };

    function update() {
      const t0 = performance.now();
      const read = readAll(specs.map(([key, label, min, max]) => [key, ctl[key], { name: label, min: min, max: max, whole: true }]));
      if (read.error) {
        refuse(view, read.error);
        formula.textContent = "(N + 2P − F) / S + 1: not computed until every field holds a whole number in its range";
        root.cnnLive = { values: null, size: null, error: read.error, positions: [], ms: performance.now() - t0 };
        return;
      }
      accept(view);
      const v = read.values;
      const span = v.Dl * (v.F - 1) + 1;
      let size = null;
      try {
        size = L.outputSize(v.N, v.F, v.S, v.P, v.Dl);
        error.textContent = "";
      } catch (err) {
        error.textContent = err.message;
      }
      formula.textContent = "(N + 2P − " + (v.Dl > 1 ? "Dl(F − 1) − 1" : "F") + ") / S + 1 = (" + v.N + " + 2·" + v.P + " − " +
        span + ") / " + v.S + " + 1 = " + ((v.N + 2 * v.P - span) / v.S + 1).toFixed(2).replace(/\.00$/, "") +
        (size === null ? "  ✗ not a whole number or not positive: the filter does not fit" : "  ✓ output " + size + "×" + size);
      // one row of the padded input, with every window position
      const cell = Math.max(10, Math.min(28, Math.floor(640 / (v.N + 2 * v.P))));
      const n = v.N + 2 * v.P, positions = [];
      for (let s = 0; s + span <= n; s += v.S) positions.push(s);
      canvas.width = n * cell + 2; canvas.height = cell * (2 + positions.length) + 2;
      const ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < n; i++) {
        ctx.fillStyle = i < v.P || i >= v.P + v.N ? "#ddd" : "#9ecae1";
        ctx.fillRect(1 + i * cell, 1, cell - 1, cell - 1);
      }
      positions.forEach((s, k) => {
        const y = 1 + (k + 1.5) * cell;
        ctx.fillStyle = "#444";
        for (let j = 0; j < v.F; j++) ctx.fillRect(1 + (s + j * v.Dl) * cell + cell * 0.2, y, cell * 0.6, cell * 0.6);
        ctx.fillRect(1 + s * cell + cell / 2, y + cell * 0.25, (span - 1) * cell, 1);
      });
      const last = positions.length ? positions[positions.length - 1] + span : 0;
      if (size === null && last < n) {
        ctx.fillStyle = "#b00020";
        ctx.fillRect(1 + last * cell, 1, (n - last) * cell - 1, 3);
      }
      const text = "N=" + v.N + ", F=" + v.F + ", S=" + v.S + ", P=" + v.P + ", dilation " + v.Dl + ": " + positions.length +
        " window positions along a row of " + n + " padded pixels" + (size === null ? "; " + error.textContent : "; output " + size + "×" + size);
      canvas.setAttribute("aria-label", "one row of the padded input (grey = padding, blue = input) and every window position below it: " + text);
      status.textContent = text;
      root.cnnLive = { values: v, size: size, error: error.textContent, positions: positions, ms: performance.now() - t0 };
    }

    root.append(row, formula, error, canvas, status);
    update();
  }

  // ------------------------------------------------------------------ pooling

  function pooling(root, cfg) {
    const images = cfg.images.map((im) => ({ name: im.name, tensor: decodeImage(im) }));
    const MODES = ["max", "avg", "l2"];
    const mode = select(MODES, "max", "pooling mode");
    const side = images[0].tensor.shape[1];
    const most = Math.max(...images.map((i) => Math.max(i.tensor.shape[1], i.tensor.shape[2])));  // the longest side
    const FSPEC = { name: "window size F", min: 1, max: most, whole: true }, SSPEC = { name: "stride S", min: 1, max: most, whole: true };
    const F = number(2, FSPEC), S = number(2, SSPEC);
    const imageSel = select(images.map((i) => i.name).concat(["draw"]), images[0].name, "image");
    const clear = h("button", { type: "button", text: "clear drawing" });
    const inCanvas = h("canvas", { class: "cnn-live-canvas", role: "img", "aria-label": "input image" });
    const outCanvas = h("canvas", { class: "cnn-live-canvas", role: "img", tabindex: "0" });
    const gradCanvas = h("canvas", { class: "cnn-live-canvas", role: "img" });
    const error = h("div", { class: "cnn-live-error", role: "alert" });
    const status = h("div", { class: "cnn-live-status", role: "status", "aria-live": "polite" });
    const state = { image: images[0].tensor, name: images[0].name, r: 0, c: 0, s: 2 };
    const view = { error: error, status: status, stale: [outCanvas, gradCanvas] };
    let drawing = null, down = false;

    function update() {
      const t0 = performance.now();
      paint(inCanvas, state.image, cfg.cell, false);
      // a canvas with role="img" needs a name (axe: role-img-alt)
      inCanvas.setAttribute("aria-label", "input: " + state.name + ", grey, " + state.image.shape[1] + "×" + state.image.shape[2] + " pixels");
      const read = readAll([["f", F, FSPEC], ["s", S, SSPEC], ["mode", mode, MODES, "pooling mode"]]);
      let out, message = read.error;
      if (!message) {
        try { out = L.pool2d(state.image, read.values.f, read.values.s, read.values.mode); } catch (err) { message = err.message; }
      }
      if (message) {
        refuse(view, message);
        root.cnnLive = { image: state.image, error: message, ms: performance.now() - t0 };
        return;
      }
      accept(view);
      const f = read.values.f, s = read.values.s;
      state.s = s;
      const [, H2, W2] = out.shape;
      state.r = Math.min(state.r, H2 - 1); state.c = Math.min(state.c, W2 - 1);
      paint(outCanvas, out, cfg.cell * s, false);
      const dout = L.tensor(out.shape);
      dout.data[state.r * W2 + state.c] = 1;
      const dx = L.pool2dBackward(dout, state.image, f, s, mode.value);
      paint(gradCanvas, dx, cfg.cell, true);
      const v = out.data[state.r * W2 + state.c];
      const text = mode.value + " pooling, window " + f + "×" + f + ", stride " + s + " on " + state.name + " (" +
        state.image.shape[1] + "×" + state.image.shape[2] + ") gives " + H2 + "×" + W2 + ". Output (" + state.r + ", " + state.c +
        ") = " + f3(v) + "; its gradient goes to " + (mode.value === "max" ? "the one largest input of its window" :
        mode.value === "avg" ? "every input of its window, 1/" + f * f + " each" : "every input of its window, in proportion x / output");
      outCanvas.setAttribute("aria-label", "pooled map " + H2 + "×" + W2 + "; selected output (" + state.r + ", " + state.c + ")");
      gradCanvas.setAttribute("aria-label", "gradient on the input of the selected output: " + text);
      status.textContent = text;
      root.cnnLive = { image: state.image, output: out, dx: dx, selected: [state.r, state.c], f: f, s: s, mode: mode.value, ms: performance.now() - t0 };
    }

    function choose(r, c) {          // select output (r, c) of the pooled map, if it exists
      const o = root.cnnLive && !root.cnnLive.error && root.cnnLive.output;
      if (!o || r < 0 || c < 0 || r >= o.shape[1] || c >= o.shape[2]) return;
      state.r = r; state.c = c; update();
    }

    function paintAt(e) {
      const [r, c] = cellAt(inCanvas, e, cfg.cell);
      if (r < 0 || c < 0 || r >= side || c >= side) return;
      drawing.data[r * side + c] = 1;
      state.image = drawing; update();
    }

    [mode, F, S].forEach((el) => { el.addEventListener("input", update); keepKeys(el); });
    imageSel.addEventListener("change", () => {
      if (imageSel.value === "draw") {
        drawing = drawing || L.tensor([1, side, side]);
        state.image = drawing; state.name = "your drawing (click or drag on the input, or focus it and use the arrow keys)";
      } else {
        const im = images.find((i) => i.name === imageSel.value);
        if (!im) return;                 // not one of the menu's images
        state.image = im.tensor; state.name = im.name;
      }
      update();
    });
    clear.addEventListener("click", () => { drawing = L.tensor([1, side, side]); if (imageSel.value === "draw") { state.image = drawing; update(); } });
    // The input is a drawing only in 'draw' mode; only then does it answer the mouse, and the keyboard:
    // focused (Tab), it is a pen that the arrow keys move, painting each pixel it reaches (Space: here).
    const pen = { r: Math.floor(side / 2), c: Math.floor(side / 2) };
    function penTo(r, c) {
      pen.r = Math.max(0, Math.min(side - 1, r)); pen.c = Math.max(0, Math.min(side - 1, c));
      drawing.data[pen.r * side + pen.c] = 1;
      state.image = drawing; update();
      inCanvas.setAttribute("aria-label", inCanvas.getAttribute("aria-label") + "; pen at row " + pen.r + ", column " + pen.c);
    }
    function drawMode(on) {
      inCanvas.onmousedown = on ? (e) => { down = true; paintAt(e); } : null;
      inCanvas.onmousemove = on ? (e) => { if (down) paintAt(e); } : null;
      if (on) inCanvas.setAttribute("tabindex", "0"); else inCanvas.removeAttribute("tabindex");
    }
    onArrows(inCanvas, (dr, dc) => { if (imageSel.value === "draw") penTo(pen.r + dr, pen.c + dc); });
    inCanvas.addEventListener("keydown", (e) => {
      if ((e.key === " " || e.key === "Enter") && imageSel.value === "draw") { e.preventDefault(); penTo(pen.r, pen.c); }
    });
    imageSel.addEventListener("change", () => drawMode(imageSel.value === "draw"));
    window.addEventListener("mouseup", () => { down = false; });
    outCanvas.addEventListener("click", (e) => { const [r, c] = cellAt(outCanvas, e, cfg.cell * state.s); choose(r, c); });
    onArrows(outCanvas, (dr, dc) => choose(state.r + dr, state.c + dc));

    root.append(
      h("div", { class: "cnn-live-controls" }, [field("mode", mode), field("window F", F), field("stride S", S), field("image", imageSel), clear]),
      error,
      h("div", { class: "cnn-live-panels" }, [
        h("figure", {}, [inCanvas, h("figcaption", { text: "input (choose 'draw' to paint on it: mouse, or Tab to it and use the arrow keys)" })]),
        h("figure", {}, [outCanvas, h("figcaption", { text: "pooled map: click an output, or focus it and use the arrow keys" })]),
        h("figure", {}, [gradCanvas, h("figcaption", { text: "backward: where that output's gradient goes (red)" })])]),
      status);
    update();
  }

  // ------------------------------------------------------------------ draw a digit

  /* The page's preprocessing, also in cnn_core.viz.live.digit_input: the 280 x 280 drawing is
   * averaged over 10 x 10 blocks to 28 x 28 (0 black ... 1 white ink), shifted by whole pixels so
   * that its centre of mass is at the centre (MNIST's digits are centred that way), and padded
   * by `pad` zeros on each side. */
  function digitInput(canvas, pad) {
    const px = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, 280, 280).data;
    const small = new Float64Array(28 * 28);
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        let s = 0;
        for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) s += px[4 * ((r * 10 + y) * 280 + c * 10 + x)];
        small[r * 28 + c] = s / (100 * 255);
      }
    }
    let m = 0, my = 0, mx = 0;
    for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) { const v = small[r * 28 + c]; m += v; my += v * r; mx += v * c; }
    const dy = m ? Math.round(13.5 - my / m) : 0, dx = m ? Math.round(13.5 - mx / m) : 0;
    const n = 28 + 2 * pad, t = L.tensor([1, n, n]);
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        const y = r + dy, x = c + dx;
        if (y >= 0 && y < 28 && x >= 0 && x < 28) t.data[(y + pad) * n + x + pad] = small[r * 28 + c];
      }
    }
    return t;
  }

  function digit(root, cfg) {
    const net = L.model(cfg.layers);
    const canvas = h("canvas", { class: "cnn-live-canvas cnn-live-draw", width: "280", height: "280", role: "img", tabindex: "0",
      "aria-label": "drawing area: draw a digit with the mouse, a finger or a pen" });
    const ctx = canvas.getContext("2d", { willReadFrequently: true });   // read back on every stroke
    const clear = h("button", { type: "button", text: "clear" });
    const exampleSel = select(["(draw your own)"].concat(cfg.examples.map((e, i) => "test digit " + (i + 1) + " (label " + e.label + ")")), "(draw your own)", "example digit");
    const bars = h("div", { class: "cnn-live-bars", role: "img" });
    const maps = h("div", { class: "cnn-live-maps" });
    const saliency = h("canvas", { class: "cnn-live-canvas", role: "img" });
    const status = h("div", { class: "cnn-live-status", role: "status", "aria-live": "polite" });
    let down = false, last = null;

    function wipe() { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, 280, 280); }

    function setPixels(values) {        // a 28 x 28 digit (0..1) onto the drawing, 10 x 10 per pixel
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          const g = Math.round(values[r * 28 + c] * 255);
          ctx.fillStyle = "rgb(" + g + "," + g + "," + g + ")";
          ctx.fillRect(c * 10, r * 10, 10, 10);
        }
      }
      update();
    }

    function update() {
      const t0 = performance.now();
      const x = digitInput(canvas, cfg.pad);
      const r = net.forward(x);
      const p = Array.from(r.probabilities.data);
      const best = p.indexOf(Math.max.apply(null, p));
      bars.innerHTML = "";
      p.forEach((v, k) => {
        bars.append(h("div", { class: "cnn-live-bar" + (k === best ? " best" : "") }, [
          h("span", { text: String(k) }), h("span", { class: "fill", style: "width:" + (100 * v).toFixed(1) + "%" }),
          h("span", { text: (100 * v).toFixed(1) + " %" })]));
      });
      bars.setAttribute("aria-label", "class probabilities: " + p.map((v, k) => k + ": " + (100 * v).toFixed(1) + "%").join(", "));
      maps.innerHTML = "";
      r.activations.forEach((a, i) => {
        if (a.shape.length !== 3 || i === 0) return;
        const layer = cfg.layers[i - 1].type, row = h("div", { class: "cnn-live-maprow" }, [h("div", { text: "after layer " + i + " (" + layer + "): " + a.shape[0] + " maps of " + a.shape[1] + "×" + a.shape[2] + ", one colour scale per layer" })]);
        let top = 0;                     // one scale for all maps of a layer, so they can be compared
        for (let j = 0; j < a.data.length; j++) top = Math.max(top, Math.abs(a.data[j]) || 0);
        for (let k = 0; k < a.shape[0]; k++) {
          const c = h("canvas", { class: "cnn-live-canvas", role: "img", "aria-label": "map " + (k + 1) + " after " + layer });
          paint(c, layer === "Conv2D" ? a : L.tensor(a.shape, a.data.map((v) => v / (top || 1))),
            Math.max(1, Math.round(48 / a.shape[1])), layer === "Conv2D", k, layer === "Conv2D" ? top : undefined);
          row.append(c);
        }
        maps.append(row);
      });
      const g = net.gradient(x, best, r.activations);
      const gm = Math.max.apply(null, Array.from(g.data).map(Math.abs)) || 1;
      const norm = L.tensor(g.shape, g.data.map((v) => Math.abs(v) / gm));
      paint(saliency, norm, 6, false);
      const text = "The network reads " + best + " (" + (100 * p[best]).toFixed(1) + " %); second choice " +
        p.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0])[1][1] + ". The saliency map shows which pixels changed the score of " + best + " most.";
      saliency.setAttribute("aria-label", "saliency map: " + text);
      status.textContent = text;
      root.cnnLive = { input: x, probabilities: r.probabilities, predicted: best, ms: performance.now() - t0, setPixels: setPixels };
    }

    function stroke(e) {
      const rect = canvas.getBoundingClientRect();
      const pt = [(e.clientX - rect.left) * 280 / rect.width, (e.clientY - rect.top) * 280 / rect.height];
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 22; ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo((last || pt)[0], (last || pt)[1]);
      ctx.lineTo(pt[0], pt[1]);
      ctx.stroke();
      last = pt;
    }

    canvas.addEventListener("pointerdown", (e) => { down = true; last = null; canvas.setPointerCapture(e.pointerId); stroke(e); update(); });
    canvas.addEventListener("pointermove", (e) => { if (down) { stroke(e); update(); } });
    canvas.addEventListener("pointerup", () => { down = false; last = null; });
    canvas.style.touchAction = "none";
    canvas.addEventListener("keydown", (e) => { if (e.key === "Delete" || e.key === "Backspace") { wipe(); update(); } });
    clear.addEventListener("click", () => { wipe(); exampleSel.value = "(draw your own)"; update(); });
    exampleSel.addEventListener("change", () => {
      const i = exampleSel.selectedIndex - 1;
      if (i < 0) return;
      const ex = cfg.examples[i], bytes = atob(ex.b64), vals = new Float64Array(784);
      for (let k = 0; k < 784; k++) vals[k] = bytes.charCodeAt(k) / 255;
      setPixels(vals);
    });

    root.append(
      h("div", { class: "cnn-live-controls" }, [field("start from", exampleSel), clear]),
      h("div", { class: "cnn-live-panels" }, [
        h("figure", {}, [canvas, h("figcaption", { text: "draw a digit (Delete clears)" })]),
        h("figure", {}, [bars, h("figcaption", { text: "class probabilities" })]),
        h("figure", {}, [saliency, h("figcaption", { text: "saliency: |d score / d pixel|" })])]),
      maps, status);
    wipe();
    if (cfg.examples.length) {           // start from a real digit, so the page opens with an answer
      exampleSel.selectedIndex = 1;
      exampleSel.dispatchEvent(new Event("change"));
    } else {
      update();
    }
  }

  // ------------------------------------------------------------------ start

  const KINDS = { convolution: convolution, stride_padding: strideDilation, pooling: pooling, digit: digit };

  function start() {
    document.querySelectorAll("div.cnn-live[data-kind]").forEach((root) => {
      if (root.dataset.started) return;
      root.dataset.started = "1";
      const cfg = JSON.parse(root.querySelector("script.cnn-live-config").textContent);
      const fallback = root.querySelector(".cnn-live-fallback");
      if (fallback) fallback.remove();
      try {
        KINDS[root.dataset.kind](root, cfg);
      } catch (err) {
        root.append(h("div", { class: "cnn-live-error", role: "alert", text: "This explorer could not start: " + err.message }));
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
