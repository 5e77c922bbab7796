/* explorers.js: the online book's live explorers, computed in the page with cnn-live.js.
 *
 * A chapter cell writes <div class="cnn-live" data-kind="..."> with its settings as JSON
 * (cnn_core.viz.live.live_explorer); this script builds the controls and draws. Kinds:
 *   convolution    any 3x3 / 5x5 kernel on a photo, your own image or the webcam; the output
 *                  pixel picked (click, tap, arrow keys) outlined on the map, its window on the
 *                  input, its numbers (window, products, sum, bias); the colour scale is set by
 *                  the valid region, not by the zero padding
 *   stride_padding any N, F, S, P and dilation: window positions, the formula, "does not fit"
 *   pooling        max / avg / L2, any size and stride, on a photo or a drawing; the picked
 *                  output and its window outlined; where every output's gradient goes
 *   digit          draw a digit for a trained network: probabilities, maps, saliency; opens on
 *                  a digit it reads right, asks for one when the drawing is empty
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
    canvas.cnnPicture = img;             // kept, so that markers can be moved without recomputing
    return m;
  }

  /* Mark regions of a painted map: each mark is [row, column, rows, columns] in map cells of `cell`
   * pixels. A ring is drawn just outside the region (black 2 px, then white 2 px), so it shows on any
   * colour of the map and leaves the marked values visible; earlier marks are wiped first. */
  function mark(canvas, cell, marks) {
    const ctx = canvas.getContext("2d");
    if (canvas.cnnPicture) ctx.putImageData(canvas.cnnPicture, 0, 0);
    ctx.lineWidth = 2;
    for (const [r, c, rows, cols] of marks) {
      const x = c * cell, y = r * cell, w = cols * cell, hh = rows * cell;
      ctx.strokeStyle = "#fff";
      ctx.strokeRect(x - 3, y - 3, w + 6, hh + 6);
      ctx.strokeStyle = "#000";
      ctx.strokeRect(x - 1, y - 1, w + 2, hh + 2);
    }
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
    // the selected output pixel: the centre of the picture to start with
    const state = { image: images[0].tensor, imageName: images[0].name, r: images[0].tensor.shape[1] >> 1, c: images[0].tensor.shape[2] >> 1 };
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
    const picked = h("div", { class: "cnn-live-picked", role: "status", "aria-live": "polite" });
    const scaleNote = h("span");
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

    /* The colour scale of the map: its largest |value| among the outputs whose window lies inside
     * the image (rows and columns P .. size - 1 - P), so that the jump from the zero padding to the
     * picture at the border does not set it; the whole map's only if that region is empty or zero. */
    function colourScale(out, P) {
      const [, H, W] = out.shape;
      let valid = 0, all = 0;
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          const v = Math.abs(out.data[r * W + c]) || 0;
          all = Math.max(all, v);
          if (r >= P && r < H - P && c >= P && c < W - P) valid = Math.max(valid, v);
        }
      }
      return valid > 0 ? { value: valid, from: "the valid region" } : { value: all, from: "the whole map" };
    }

    function update() {
      const t0 = performance.now();
      paint(inCanvas, state.image, cfg.cell, false);
      inCanvas.setAttribute("aria-label", "input: " + state.imageName + ", grey, " + state.image.shape[1] + "×" + state.image.shape[2] + " pixels");
      const k = read();
      let out;
      if (!k.error) {
        try { out = L.conv2d(state.image, k.w, L.tensor([1], [k.b]), 1, (k.w.shape[2] - 1) / 2); } catch (err) { k.error = err.message; }
      }
      if (k.error) {
        refuse(view, k.error);
        picked.textContent = "";
        root.cnnLive = { image: state.image, error: k.error, ms: performance.now() - t0 };
        return;
      }
      accept(view);
      const w = k.w, F = w.shape[2], b = L.tensor([1], [k.b]), P = (F - 1) / 2;
      const scale = colourScale(out, P);
      paint(outCanvas, out, cfg.cell, true, 0, scale.value);
      const m = scale.value;
      state.out = out; state.w = w; state.b = b.data[0]; state.P = P;
      const name = kernelName(w);
      presetSel.value = name;
      const [, H, W] = out.shape;
      state.r = Math.min(state.r, H - 1); state.c = Math.min(state.c, W - 1);
      const text = F + "×" + F + " kernel " + (name === CUSTOM ? "typed by you (custom kernel)" : name) + " with bias " + f2(b.data[0]) + " on " + state.imageName +
        ", padding P=" + P + " keeps the size " + H + "×" + W + "; outputs range from " + f2(Math.min(...out.data)) +
        " to " + f2(Math.max(...out.data)) + " (red positive, blue negative, white zero; full colour at ±" + f2(m) + ", " +
        (scale.from === "the valid region" ? "the strongest output whose window lies inside the image: the zero padding does not set the scale"
          : "the strongest output of the whole map") + ")";
      scaleNote.textContent = "Colour scale ±" + f2(m) + (scale.from === "the valid region"
        ? ": the strongest output whose window lies inside the image, so the zero padding at the border does not set it (a stronger border output is drawn at full colour)."
        : ": the strongest output of the whole map (no output has its window inside the image).");
      state.text = text;
      status.textContent = text;
      root.cnnLive = { image: state.image, kernel: w, bias: state.b, output: out, scale: m, scaleFrom: scale.from, ms: 0 };
      explain();
      root.cnnLive.ms = performance.now() - t0;
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
      const where = "its " + F + "×" + F + " window: input rows " + (r - P) + " to " + (r + P) + ", columns " + (c - P) + " to " + (c + P) +
        (r < P || c < P || r + P >= H || c + P >= W ? " (partly zero padding, outside the picture)" : "");
      readout.textContent = "output pixel (row " + r + ", column " + c + "), " + where + "\n" +
        rows.join("\n") + "\n= " + f3(sum) + " (sum of products) + " + f2(state.b) + " (bias) = " + f3(total);
      const said = "selected output pixel (row " + r + ", column " + c + ") = " + f3(total) + "; " + where + ", outlined on the input";
      picked.textContent = said[0].toUpperCase() + said.slice(1) + ".";
      mark(inCanvas, cfg.cell, [[r - P, c - P, F, F]]);
      mark(outCanvas, cfg.cell, [[r, c, 1, 1]]);
      outCanvas.setAttribute("aria-label", "activation map: " + state.text + "; " + said);
      inCanvas.setAttribute("aria-label", "input: " + state.imageName + ", grey, " + H + "×" + W + " pixels; outlined: the window of output pixel (row " +
        r + ", column " + c + ")");
      root.cnnLive.selected = [r, c];
    }

    function choose(r, c) {          // select output pixel (r, c), if the map is up to date and has it
      if (!root.cnnLive || root.cnnLive.error || !state.out) return;
      const [, H, W] = state.out.shape;
      if (r < 0 || c < 0 || r >= H || c >= W) return;
      state.r = r; state.c = c; explain();
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
    // click or tap (or drag with a button held) on either map: the output pixel there (same size, P keeps it)
    for (const cv of [outCanvas, inCanvas]) {
      cv.addEventListener("click", (e) => choose(...cellAt(cv, e, cfg.cell)));
      cv.addEventListener("mousemove", (e) => { if (e.buttons === 1) choose(...cellAt(cv, e, cfg.cell)); });
    }
    // either map, focused (Tab), moves the selection with the arrow keys: what a click does, by keyboard
    inCanvas.setAttribute("tabindex", "0");
    for (const cv of [outCanvas, inCanvas]) onArrows(cv, (dr, dc) => choose(state.r + dr, state.c + dc));

    buildGrid(presets[presetSel.value]);
    root.append(
      h("div", { class: "cnn-live-controls" }, [field("image", imageSel), file, camera, field("preset", presetSel),
        field("size F", sizeSel), field("bias b", bias)]),
      grid, error,
      h("div", { class: "cnn-live-panels" }, [
        h("figure", {}, [inCanvas, h("figcaption", { text: "input (grey, 0 black … 1 white); outlined: the selected pixel's window" })]),
        h("figure", {}, [outCanvas, h("figcaption", {}, [
          "activation map: click or tap a pixel, or focus the map and use the arrow keys (outlined: the selected pixel). ", scaleNote])])]),
      picked, readout, status);
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

  /* The backward panel of pooling: the input picture, faded, with red where gradient arrives
   * (opacity: the share of the largest, `top`), so that the routing is seen on the picture itself. */
  function paintRouting(canvas, x, dx, cell) {
    const [, H, W] = x.shape;
    canvas.width = W * cell; canvas.height = H * cell;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(W * cell, H * cell);
    let top = 0;
    for (let i = 0; i < H * W; i++) top = Math.max(top, Math.abs(dx.data[i]) || 0);
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const pale = 140 + 110 * Math.min(1, Math.max(0, x.data[r * W + c] || 0));    // the picture, faded
        const a = top ? 0.9 * Math.min(1, Math.abs(dx.data[r * W + c]) / top) : 0;
        const rgb = [pale + a * (200 - pale), pale * (1 - a), pale * (1 - a)];
        for (let y = 0; y < cell; y++) {
          for (let xx = 0; xx < cell; xx++) {
            const o = 4 * ((r * cell + y) * W * cell + c * cell + xx);
            img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
          }
        }
      }
    }
    ctx.putImageData(img, 0, 0);
    canvas.cnnPicture = img;
    return top;
  }

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
    // the selected output: near the centre of the picture to start with (for the starting F = S = 2)
    const state = { image: images[0].tensor, name: images[0].name, r: images[0].tensor.shape[1] >> 2, c: images[0].tensor.shape[2] >> 2, s: 2 };
    const view = { error: error, status: status, stale: [outCanvas, gradCanvas] };
    let drawing = null, last = null;

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
      const f = read.values.f, s = read.values.s, how = read.values.mode;
      state.s = s;
      const [, H, W] = state.image.shape, [, H2, W2] = out.shape;
      state.r = Math.min(state.r, H2 - 1); state.c = Math.min(state.c, W2 - 1);
      const r = state.r, c = state.c, y0 = r * s, x0 = c * s;
      paint(outCanvas, out, cfg.cell * s, false);
      // the selected output's own gradient (dout one-hot) ...
      const dout = L.tensor(out.shape);
      dout.data[r * W2 + c] = 1;
      const dx = L.pool2dBackward(dout, state.image, f, s, how);
      // ... and the routing of every output's (dout = 1 everywhere), drawn on the picture
      const dxAll = L.pool2dBackward(L.tensor(out.shape, new Float64Array(H2 * W2).fill(1)), state.image, f, s, how);
      const top = paintRouting(gradCanvas, state.image, dxAll, cfg.cell);
      let reached = 0;
      for (const g of dxAll.data) if (g !== 0) reached++;
      const win = [y0, x0, f, f];
      mark(inCanvas, cfg.cell, [win]);
      mark(outCanvas, cfg.cell * s, [[r, c, 1, 1]]);
      mark(gradCanvas, cfg.cell, [win]);
      const v = out.data[r * W2 + c];
      let route;
      if (how === "max") {
        const at = dx.data.findIndex((g) => g !== 0), ay = Math.floor(at / W), ax = at % W;
        route = "all of its gradient goes to the largest input of its window, at (" + ay + ", " + ax + ") = " + f3(state.image.data[at]) +
          "; the other " + (f * f - 1) + " get none";
      } else if (how === "avg") {
        route = "its gradient is shared equally: 1/" + f * f + " to each input of its window";
      } else {
        route = v === 0 ? "its window is all zeros, so no gradient goes back" : "each input x of its window gets x / " + f3(v) + " of its gradient";
      }
      const where = "its window: input rows " + y0 + " to " + (y0 + f - 1) + ", columns " + x0 + " to " + (x0 + f - 1);
      const routing = "In the backward panel, red where the gradient arrives when every output sends back 1: " + reached + " of " + H * W +
        " inputs get some (darkest red " + f3(top) + "), the others none.";
      const text = how + " pooling, window " + f + "×" + f + ", stride " + s + " on " + state.name + " (" + H + "×" + W + ") gives " +
        H2 + "×" + W2 + ". Selected output (" + r + ", " + c + ") = " + f3(v) + ", " + where + " (outlined); " + route + ". " + routing;
      outCanvas.setAttribute("aria-label", "pooled map " + H2 + "×" + W2 + "; selected output (" + r + ", " + c + ") = " + f3(v) + ", outlined");
      inCanvas.setAttribute("aria-label", "input: " + state.name + ", grey, " + H + "×" + W + " pixels; outlined: the window of output (" + r + ", " + c + ")");
      gradCanvas.setAttribute("aria-label", "backward: " + routing + " Outlined: the window of output (" + r + ", " + c + "): " + route + ".");
      status.textContent = text;
      root.cnnLive = { image: state.image, output: out, dx: dx, dxAll: dxAll, reached: reached, selected: [r, c], f: f, s: s, mode: how,
        ms: performance.now() - t0 };
    }

    function choose(r, c) {          // select output (r, c) of the pooled map, if it exists
      const o = root.cnnLive && !root.cnnLive.error && root.cnnLive.output;
      if (!o || r < 0 || c < 0 || r >= o.shape[1] || c >= o.shape[2]) return;
      state.r = r; state.c = c; update();
    }

    // Draw with a 3-pixel brush, along a straight line from the last point, so a quick stroke has no gaps.
    function paintAt(e) {
      const [r, c] = cellAt(inCanvas, e, cfg.cell);
      const [r0, c0] = last || [r, c], n = Math.max(Math.abs(r - r0), Math.abs(c - c0), 1);
      for (let k = 0; k <= n; k++) {
        const y = Math.round(r0 + (r - r0) * k / n), x = Math.round(c0 + (c - c0) * k / n);
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            if (y + dy >= 0 && y + dy < side && x + dx >= 0 && x + dx < side) drawing.data[(y + dy) * side + x + dx] = 1;
          }
        }
      }
      last = [r, c];
      state.image = drawing; update();
    }

    [mode, F, S].forEach((el) => { el.addEventListener("input", update); keepKeys(el); });
    imageSel.addEventListener("change", () => {
      if (imageSel.value === "draw") {
        drawing = drawing || L.tensor([1, side, side]);
        state.image = drawing; state.name = "your drawing (drag on the input, or focus it and use the arrow keys)";
      } else {
        const im = images.find((i) => i.name === imageSel.value);
        if (!im) return;                 // not one of the menu's images
        state.image = im.tensor; state.name = im.name;
      }
      inCanvas.style.touchAction = imageSel.value === "draw" ? "none" : "";   // a finger draws instead of scrolling
      update();
    });
    clear.addEventListener("click", () => { drawing = L.tensor([1, side, side]); if (imageSel.value === "draw") { state.image = drawing; update(); } });
    // The input: in 'draw' mode a drawing (drag with mouse, pen or finger; or, focused, a pen the arrow
    // keys move, painting each pixel it reaches, Space or Enter painting where it is); otherwise a click,
    // a tap or an arrow key selects the output whose window starts there.
    const pen = { r: Math.floor(side / 2), c: Math.floor(side / 2) };
    function penTo(r, c) {
      pen.r = Math.max(0, Math.min(side - 1, r)); pen.c = Math.max(0, Math.min(side - 1, c));
      drawing.data[pen.r * side + pen.c] = 1;
      state.image = drawing; update();
      inCanvas.setAttribute("aria-label", inCanvas.getAttribute("aria-label") + "; pen at row " + pen.r + ", column " + pen.c);
    }
    inCanvas.setAttribute("tabindex", "0");
    onArrows(inCanvas, (dr, dc) => {
      if (imageSel.value === "draw") penTo(pen.r + dr, pen.c + dc);
      else choose(state.r + dr, state.c + dc);
    });
    inCanvas.addEventListener("keydown", (e) => {
      if ((e.key === " " || e.key === "Enter") && imageSel.value === "draw") { e.preventDefault(); penTo(pen.r, pen.c); }
    });
    inCanvas.addEventListener("pointerdown", (e) => {
      if (imageSel.value === "draw") { inCanvas.setPointerCapture(e.pointerId); last = null; paintAt(e); return; }
      const [y, x] = cellAt(inCanvas, e, cfg.cell), o = root.cnnLive.output;   // the output whose window starts there or above-left
      if (o) choose(Math.min(Math.floor(y / state.s), o.shape[1] - 1), Math.min(Math.floor(x / state.s), o.shape[2] - 1));
    });
    inCanvas.addEventListener("pointermove", (e) => { if (last && inCanvas.hasPointerCapture(e.pointerId)) paintAt(e); });
    inCanvas.addEventListener("pointerup", () => { last = null; });
    outCanvas.addEventListener("click", (e) => { const [r, c] = cellAt(outCanvas, e, cfg.cell * state.s); choose(r, c); });
    onArrows(outCanvas, (dr, dc) => choose(state.r + dr, state.c + dc));

    root.append(
      h("div", { class: "cnn-live-controls" }, [field("mode", mode), field("window F", F), field("stride S", S), field("image", imageSel), clear]),
      error,
      h("div", { class: "cnn-live-panels" }, [
        h("figure", {}, [inCanvas, h("figcaption", { text: "input (choose 'draw' to paint on it: drag, or focus it and use the arrow keys); outlined: the selected output's window" })]),
        h("figure", {}, [outCanvas, h("figcaption", { text: "pooled map, each output as large as its stride: click or tap an output, or focus the map and use the arrow keys" })]),
        h("figure", {}, [gradCanvas, h("figcaption", { text: "backward: red where the gradient arrives when every output sends back 1 (on the faded input); outlined: the selected output's window" })])]),
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
    const always = h("p", { class: "cnn-live-note", text: "The network has ten outputs, one per digit 0–9, and always picks one of them — " +
      "for a scribble, a letter or a half-drawn digit too. A low top probability means it is unsure; it cannot answer \"not a digit\"." });
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

    /* An empty drawing is not classified: the page asks for a digit instead of showing the pick of
     * a network that must always pick one. */
    function empty(t0, x) {
      bars.innerHTML = "";
      bars.append(h("p", { text: "No drawing yet: nothing to classify." }));
      bars.setAttribute("aria-label", "class probabilities: none, the drawing is empty");
      maps.innerHTML = "";
      saliency.width = 6 * x.shape[2]; saliency.height = 6 * x.shape[1];      // as paint draws it below
      const text = "Draw a digit: the drawing area is empty.";
      saliency.setAttribute("aria-label", "saliency map: none, the drawing is empty");
      status.textContent = text;
      root.cnnLive = { input: x, probabilities: null, predicted: null, ink: 0, ms: performance.now() - t0, setPixels: setPixels };
    }

    /* What the network's answer means, worded by how sure it is (p: the ten probabilities). */
    function verdict(p, best, ink) {
      const order = p.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0]), second = order[1][1];
      const pct = (k) => (100 * p[k]).toFixed(1) + " %";
      const little = ink < cfg.littleInk ? "Very little ink: this hardly looks like a digit yet. " : "";
      if (p[best] >= 0.9) return little + "The network reads " + best + " (" + pct(best) + "); second choice " + second + " (" + pct(second) + ").";
      if (p[best] >= 0.5) return little + "The network reads " + best + " (" + pct(best) + "), not sure: second choice " + second + " (" + pct(second) + ").";
      return little + "The network reads " + best + " only as a guess (" + pct(best) + "): it is unsure, second choice " + second + " (" + pct(second) +
        "). It picks one of the ten digits even when the drawing is none of them.";
    }

    function update() {
      const t0 = performance.now();
      const x = digitInput(canvas, cfg.pad);
      let ink = 0;
      for (const v of x.data) ink += v;
      if (ink === 0) { empty(t0, x); return; }
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
      const text = verdict(p, best, ink) + " The saliency map shows which pixels changed the score of " + best + " most.";
      saliency.setAttribute("aria-label", "saliency map: " + text);
      status.textContent = text;
      root.cnnLive = { input: x, probabilities: r.probabilities, predicted: best, ink: ink, ms: performance.now() - t0, setPixels: setPixels };
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
        h("figure", {}, [bars, h("figcaption", { text: "class probabilities (they add up to 100 %)" })]),
        h("figure", {}, [saliency, h("figcaption", { text: "saliency: |d score / d pixel|" })])]),
      status, always, maps);
    wipe();
    if (cfg.examples.length) {           // start from a real digit it reads right, so the page opens with a right answer
      exampleSel.selectedIndex = 1 + (cfg.start || 0);
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
