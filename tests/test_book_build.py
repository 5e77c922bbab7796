"""The book builds warning-free, contains every page of _toc.yml, and loads no
MathJax / RequireJS / ipywidgets script from a CDN (all served from _static)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]

CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "polyfill.io")
# Scripts that must come from the vendored copies (scripts/fetch_web_assets.sh).
OFFLINE_LIBS = re.compile(r"mathjax|require(\.min)?\.js|embed-amd|html-manager|jupyter-widgets", re.I)
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def toc_files(toc_path: Path = REPO_ROOT / "_toc.yml") -> list[str]:
    """Every `file:` of a jb-book _toc.yml (root, parts, chapters, nested sections)."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    walk(toc.get("chapters"))
    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    return files


def html_for(html_dir: Path, toc_file: str) -> Path:
    stem = re.sub(r"\.(md|ipynb|rst)$", "", toc_file)
    return html_dir / f"{stem}.html"


class _Refs(HTMLParser):
    """Collects script src and stylesheet/preload hrefs of a page."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "link" and a.get("href") and (a.get("rel") or "") in ("stylesheet", "preload", "modulepreload"):
            self.links.append(a["href"])


def _refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _is_remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme in ("http", "https")


def _pages(html_dir: Path) -> list[Path]:
    return sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)


def test_toc_lists_existing_sources():
    for f in toc_files():
        candidates = [REPO_ROOT / f] + [REPO_ROOT / f"{f}{ext}" for ext in (".md", ".ipynb", ".rst")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {f!r}, which does not exist"


def test_book_builds_without_warnings(book_build):
    # -W --keep-going: any Sphinx/MyST-NB warning (e.g. a failing notebook cell) is a non-zero exit.
    rc, log = book_build.returncode, book_build.log
    warnings = "\n".join(
        line for line in log.splitlines() if ("WARNING" in line or "ERROR" in line) and "[IPKernelApp]" not in line
    )
    assert rc == 0, f"jupyter-book build exited {rc}\n{warnings}\n\n--- log tail ---\n{log[-5000:]}"


def test_every_toc_page_is_built(built_book):
    assert (built_book / "index.html").is_file()
    missing = [f for f in toc_files() if not html_for(built_book, f).is_file()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"


def test_no_cdn_scripts_or_styles(built_book):
    problems = []
    for page in _pages(built_book):
        refs = _refs(page)
        rel = page.relative_to(built_book)
        for url in refs.scripts + refs.links:
            if _is_remote(url):
                problems.append(f"{rel}: remote {url}")
            else:
                # Every local script/style must exist in the build (no dangling vendored paths).
                target = (page.parent / urlsplit(url).path).resolve()
                if not target.is_file():
                    problems.append(f"{rel}: missing local file {url}")
    assert not problems, "\n".join(problems)


def test_math_and_widget_scripts_are_vendored(built_book):
    intro = html_for(built_book, toc_files()[0])
    scripts = _refs(intro).scripts
    assert any("_static/mathjax/tex-mml-chtml.js" in s for s in scripts), scripts
    for page in _pages(built_book):
        text = page.read_text(encoding="utf-8")
        for host in CDN_HOSTS:
            for m in re.finditer(re.escape(host) + r"[^\"'\s<>]*", text):
                assert not OFFLINE_LIBS.search(m.group(0)), f"{page.name} references {m.group(0)}"
        if WIDGET_STATE in text:  # pages with embedded widget state load the local embedder
            srcs = _refs(page).scripts
            assert any(s.split("?")[0].endswith("_static/requirejs/require.js") for s in srcs), srcs
            assert any(s.split("?")[0].endswith("_static/html-manager/embed-amd.js") for s in srcs), srcs


MARKDOWN_TABLE_RULE = re.compile(r"\|\s*:?(?:-{3,}|—+):?\s*\|")  # | --- |, |---:| or, after smartquotes, |—|


def test_no_markdown_table_is_left_as_raw_pipes(built_book):
    """Every markdown table a chapter displays (display(Markdown(...))) is rendered as a table:
    no "| --- |" rule survives in a page's text (outside code blocks)."""
    problems = []
    for page in _pages(built_book):
        text = page.read_text(encoding="utf-8")
        text = re.sub(r"<pre.*?</pre>", "", text, flags=re.S)  # code cells and printed output
        text = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        for m in MARKDOWN_TABLE_RULE.finditer(text):
            problems.append(f"{page.relative_to(built_book)}: ...{text[max(0, m.start() - 80) : m.end()]}")
    assert not problems, "raw markdown tables:\n" + "\n".join(problems[:10])
