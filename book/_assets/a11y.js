// Accessibility fixes for markup the book does not write itself (the theme and MyST-NB),
// checked by tests/test_accessibility.py (axe-core, WCAG 2.1 A/AA). Loaded on every page
// through _config.yml (html_js_files); each fix says which axe rule it answers.
(function () {
  "use strict";

  function fixNames() {
    // label-content-name-mismatch: the theme's search field reads "Search Ctrl+K" but is named
    // "Search" (aria-label). Without the aria-label its name is what it shows.
    document.querySelectorAll("button.search-button-field[aria-label]").forEach(function (b) {
      b.removeAttribute("aria-label");
    });
    // label-content-name-mismatch: the colour-mode button ("Color mode") holds three icons whose
    // titles ("Light", "Dark", "System Settings") count as its text: Font Awesome turns each
    // <i title> into an <svg> with a <title>, now or later. The icons are decoration; the button
    // keeps its name and its tooltip ("Color mode").
    document.querySelectorAll(".theme-switch-button").forEach(function (b) {
      function strip() {
        b.querySelectorAll("i, svg").forEach(function (icon) {
          if (icon.getAttribute("aria-hidden") !== "true") icon.setAttribute("aria-hidden", "true");
          if (icon.hasAttribute("title")) icon.removeAttribute("title");
          if (icon.hasAttribute("aria-labelledby")) icon.removeAttribute("aria-labelledby");
        });
        b.querySelectorAll("svg title").forEach(function (t) { t.remove(); });
      }
      strip();
      if (!b.cnnObserved && window.MutationObserver) {
        b.cnnObserved = true;
        new MutationObserver(strip).observe(b, { childList: true, subtree: true });
      }
    });
    // label-content-name-mismatch: MyST-NB names every "Show code cell source" toggle
    // "Toggle hidden content". Without the aria-label its name is the text shown.
    document.querySelectorAll("details.hide > summary[aria-label]").forEach(function (s) {
      s.removeAttribute("aria-label");
    });
  }

  // scrollable-region-focusable: a box that scrolls sideways at this width (a wide output, a long
  // formula on a phone) is reachable with the keyboard (Tab, then the arrow keys scroll it).
  // Boxes that stop scrolling are taken out of the tab order again.
  var CANDIDATES = ".bd-article div, .bd-article pre, .bd-article span.math, .bd-article table";
  function fixScrolling() {
    // WCAG 1.4.10 (reflow; 200 % zoom): the theme's span.math hides what does not fit its line,
    // which cuts a long inline formula off; such a formula scrolls instead (cnn-book.css).
    document.querySelectorAll(".bd-article span.math").forEach(function (m) {
      var clips = getComputedStyle(m).overflowX === "hidden" && m.scrollWidth > m.clientWidth + 1;
      if (clips) m.classList.add("cnn-math-scrolls");
      else if (m.classList.contains("cnn-math-scrolls") && m.scrollWidth <= m.clientWidth + 1) m.classList.remove("cnn-math-scrolls");
    });
    document.querySelectorAll(CANDIDATES).forEach(function (el) {
      if (el.hasAttribute("tabindex") && !el.hasAttribute("data-cnn-scroll-tab")) return;  // set by someone else
      var st = getComputedStyle(el);
      var scrolls = (/(auto|scroll)/.test(st.overflowX) && el.scrollWidth > el.clientWidth + 1) ||
        (/(auto|scroll)/.test(st.overflowY) && el.scrollHeight > el.clientHeight + 1);
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-cnn-scroll-tab", "");
      } else if (!scrolls && el.hasAttribute("data-cnn-scroll-tab")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-cnn-scroll-tab");
      }
    });
  }

  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(fixScrolling, 200); }

  function start() {
    fixNames();
    fixScrolling();
    window.addEventListener("resize", later);
    window.addEventListener("load", fixScrolling);   // after images and fonts change the widths
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(fixScrolling);
    window.cnnA11y = { fixNames: fixNames, fixScrolling: fixScrolling };
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
