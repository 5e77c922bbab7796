/* MathJax accessibility settings of the book (loaded after Sphinx's `window.MathJax = {...}`
 * and before the deferred tex-mml-chtml.js; _config.yml, html_js_files).
 *
 * - Assistive MathML on: every equation carries a hidden MathML copy (mjx-assistive-mml) that
 *   screen readers read, also from file://. MathJax loads a11y/assistive-mml.js from the vendored
 *   folder (book/_vendor/mathjax, scripts/fetch_web_assets.sh).
 * - MathJax's "Accessibility > Activate" explorer and "Collapsible Math" stay off and cannot be
 *   switched on: both need the speech-rule engine's rule files (sre/mathmaps/*.json), which the
 *   book does not vendor and a page opened from disk cannot fetch. Switched on, every equation of
 *   every later page went blank (the setting is saved in localStorage). A saved setting is removed
 *   before MathJax reads it, the settings are forced off, and their menu items are hidden.
 */
(function () {
  "use strict";
  var STORAGE_KEY = "MathJax-Menu-Settings"; // MathJax 3 ui/menu: Menu.MENU_STORAGE
  var NEED_SRE = ["explorer", "collapsible", "autocollapse"]; // settings that load the speech engine
  var HIDDEN_ITEMS = ["Activate", "Speech", "Highlight", "Magnification", "Semantic Info",
                      "Collapsible", "AutoCollapse"]; // ids in the menu's Accessibility submenu

  // 1. A saved explorer/collapsible setting (from an earlier visit) is dropped.
  try {
    var saved = window.localStorage.getItem(STORAGE_KEY);
    if (saved) {
      var settings = JSON.parse(saved);
      var changed = false;
      NEED_SRE.forEach(function (key) {
        if (key in settings) { delete settings[key]; changed = true; }
      });
      if (changed) {
        if (Object.keys(settings).length) {
          window.localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
        } else {
          window.localStorage.removeItem(STORAGE_KEY);
        }
      }
    }
  } catch (e) {
    /* no localStorage (privacy mode) or unreadable JSON: MathJax then uses its defaults */
  }

  // 2. The configuration: assistive MathML on, the engine-loading settings off.
  var MJ = (window.MathJax = window.MathJax || {});
  MJ.options = MJ.options || {};
  MJ.options.enableExplorer = false;
  MJ.options.menuOptions = MJ.options.menuOptions || {};
  var s = (MJ.options.menuOptions.settings = MJ.options.menuOptions.settings || {});
  s.assistiveMml = true;
  NEED_SRE.forEach(function (key) { s[key] = false; });

  // 3. After MathJax has built its menu: settings forced off again (in case one came from
  //    elsewhere) and the items that would switch them on hidden.
  MJ.startup = MJ.startup || {};
  var pageReady = MJ.startup.pageReady;
  MJ.startup.pageReady = function () {
    try {
      var menu = window.MathJax.startup.document.menu;
      if (menu) {
        NEED_SRE.forEach(function (key) { menu.settings[key] = false; });
        HIDDEN_ITEMS.forEach(function (id) {
          var item = menu.menu.findID("Accessibility", id);
          if (item) { item.hide(); }
        });
      }
    } catch (e) {
      /* a MathJax without the menu: nothing to hide */
    }
    return pageReady ? pageReady() : window.MathJax.startup.defaultPageReady();
  };
})();
