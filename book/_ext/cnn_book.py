"""The book's own Sphinx extension (listed in _config.yml under ``sphinx: local_extensions``).

* Tells the chapters they are being built into the book: sets ``CNN_BOOK_BUILD=1`` before
  Jupyter Book starts a kernel, so ``cnn_core.viz.explore.explorer`` shows its kernel-free,
  pre-rendered version (in Jupyter, Colab and Binder the same cell gives live controls).
* Shows no link that leads nowhere: while ``repository.url`` in _config.yml is the
  placeholder (``YOUR-ORG``), the Binder/Colab/JupyterHub launch buttons and the repository,
  issues and edit buttons are left out. Set the real repository and they appear.
"""

from __future__ import annotations

import os

BOOK_BUILD_ENV = "CNN_BOOK_BUILD"  # read by cnn_core.viz.explore.in_book_build
PLACEHOLDER = "YOUR-ORG"  # the organisation in _config.yml's placeholder URL
LAUNCH_KEYS = ("binderhub_url", "colab_url", "jupyterhub_url", "deepnote_url")
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button", "use_source_button")


def is_placeholder(url: str | None) -> bool:
    """True for an unset repository URL or the placeholder one."""
    return not url or PLACEHOLDER.lower() in url.lower()


def hide_dead_links(theme_options: dict) -> dict:
    """theme_options without launch and repository buttons when the repository is not set."""
    if not is_placeholder(theme_options.get("repository_url")):
        return theme_options
    options = dict(theme_options)
    options["launch_buttons"] = {**(options.get("launch_buttons") or {}), **{k: "" for k in LAUNCH_KEYS}}
    options.update({k: False for k in REPOSITORY_BUTTONS})
    return options


def _config_inited(app, config):
    config.html_theme_options = hide_dead_links(dict(config.html_theme_options or {}))


def setup(app):
    os.environ[BOOK_BUILD_ENV] = "1"  # inherited by the kernels that execute the chapters
    app.connect("config-inited", _config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
