// Loaded between require.js and embed-amd.js on pages with embedded ipywidgets
// (see nb_ipywidgets_js in _config.yml). The embedder locates its icon fonts
// relative to its own AMD module URL, which RequireJS would otherwise resolve
// against the page ("book/@jupyter-widgets/html-manager/dist/...", a 404).
// Point those module names at the vendored copy in _static/html-manager/,
// computed from this script's own URL so it works at any page depth and on file://.
(function () {
  var here = document.currentScript && document.currentScript.src;
  if (!here || typeof window.require === "undefined" || !window.require.config) {
    return;
  }
  var dir = new URL("html-manager", here).href;
  window.require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": dir
    }
  });
})();
