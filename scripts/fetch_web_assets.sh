#!/usr/bin/env bash
# Vendor the JavaScript the built book needs so that it renders offline
# (file:// or a local server, no CDN request):
#   - MathJax 3                      -> math
#   - RequireJS                      -> loader used by the ipywidgets embedder
#   - @jupyter-widgets/html-manager  -> renders embedded widget state
#   - axe-core                       -> accessibility rules; only tests/test_accessibility.py
#                                       injects it into the pages (no page loads it itself)
#
# The packages come from the npm registry via `npm pack` (no node_modules,
# no package.json needed) and are trimmed to what the pages actually load.
# _config.yml points `html_static_path`, `mathjax_path` and `nb_ipywidgets_js`
# at the result, so everything lands in _build/html/_static/.
#
# Usage: scripts/fetch_web_assets.sh [DEST]     (default: book/_vendor)
# Re-running is a no-op while DEST/.versions matches the versions below.
set -euo pipefail

# html-manager 1.x is the embedder matching ipywidgets 8 (ipywidgets 8.1 declares ^1.0.1).
MATHJAX_VERSION=3.2.2
REQUIREJS_VERSION=2.3.8
HTML_MANAGER_VERSION=1.0.15
AXE_VERSION=4.14.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/book/_vendor}"
STAMP_TEXT="mathjax@$MATHJAX_VERSION requirejs@$REQUIREJS_VERSION @jupyter-widgets/html-manager@$HTML_MANAGER_VERSION axe-core@$AXE_VERSION"

if [[ -f "$DEST/.versions" && "$(cat "$DEST/.versions")" == "$STAMP_TEXT" ]]; then
    echo "web assets up to date in $DEST ($STAMP_TEXT)"
    exit 0
fi

command -v npm >/dev/null || { echo "error: npm is needed to fetch the offline web assets (apt-get install npm)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetching $STAMP_TEXT from the npm registry"
(cd "$TMP" && npm pack --silent \
    "mathjax@$MATHJAX_VERSION" \
    "requirejs@$REQUIREJS_VERSION" \
    "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION" \
    "axe-core@$AXE_VERSION" >/dev/null)

unpack() {  # unpack TARBALL DIR
    mkdir -p "$TMP/$2"
    tar -xzf "$TMP/$1" -C "$TMP/$2" --strip-components=1
}
unpack "mathjax-$MATHJAX_VERSION.tgz" mathjax
unpack "requirejs-$REQUIREJS_VERSION.tgz" requirejs
unpack "jupyter-widgets-html-manager-$HTML_MANAGER_VERSION.tgz" html-manager
unpack "axe-core-$AXE_VERSION.tgz" axe-core

OUT="$TMP/out"
mkdir -p "$OUT/mathjax/output/chtml/fonts" "$OUT/mathjax/input/tex" "$OUT/requirejs" "$OUT/html-manager" "$OUT/axe-core"

# MathJax: the combined TeX+MathML -> CommonHTML bundle (Sphinx's default
# component), its woff2 fonts, the TeX extensions it autoloads, and the
# menu/accessibility components it may load on demand. Dropped: the other
# combined bundles, SVG output, speech-rule engine (sre), node build.
MJ="$TMP/mathjax/es5"
cp "$MJ/tex-mml-chtml.js" "$OUT/mathjax/"
cp -r "$MJ/output/chtml/fonts/woff-v2" "$OUT/mathjax/output/chtml/fonts/"
cp -r "$MJ/input/tex/extensions" "$OUT/mathjax/input/tex/"
cp -r "$MJ/ui" "$MJ/a11y" "$OUT/mathjax/"

# RequireJS: the single loader file.
cp "$TMP/requirejs/require.js" "$OUT/requirejs/"

# html-manager: the AMD embedder (defines @jupyter-widgets/base, controls and
# output itself) and the woff/woff2 icon fonts it references. Dropped: source
# maps, the non-AMD bundles, and the legacy eot/ttf/svg font copies.
HM="$TMP/html-manager/dist"
cp "$HM/embed-amd.js" "$OUT/html-manager/"
cp "$HM"/*.woff "$HM"/*.woff2 "$OUT/html-manager/"

# axe-core: the minified single-file build (rules + engine, English messages).
cp "$TMP/axe-core/axe.min.js" "$OUT/axe-core/"

# Keep each package's license text where it ships one, and its package.json
# (name, version, license field) as the provenance record.
for pkg in mathjax requirejs html-manager axe-core; do
    cp "$TMP/$pkg/package.json" "$OUT/$pkg/"
    for f in "$TMP/$pkg"/LICENSE*; do [[ -f "$f" ]] && cp "$f" "$OUT/$pkg/"; done
done

find "$OUT" -name '*.map' -delete
echo "$STAMP_TEXT" > "$OUT/.versions"

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$OUT" "$DEST"
echo "web assets in $DEST ($(du -sh "$DEST" | cut -f1))"
