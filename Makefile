# Course companion: build the book, run the tests.
#   make book    set up .venv + offline web assets, build the book (notebooks executed)
#   make serve   serve _build/html on http://127.0.0.1:8000
#   make check   the quick tier (~2 min): lint + every test that runs no notebook, browser or venv
#   make test    set up the same way, then run the whole test suite (pytest)
#                (extra pytest arguments: make test PYTEST_ARGS="-k book")
#   make clean   remove build outputs and caches (keeps .venv and book/_vendor)
#   make distclean   also remove .venv and book/_vendor

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VPY       := $(VENV)/bin/python
# Reinstall only when what defines the environment changes (the editable install
# of cnn_core follows source edits by itself).
VENV_STAMP := $(VENV)/.installed
VENV_DEPS  := requirements.txt pyproject.toml
VENDOR     := book/_vendor
VENDOR_STAMP := $(VENDOR)/.versions
BOOTSTRAP_PY := $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
HOST := 127.0.0.1
PORT := 8000
HTML := _build/html

.PHONY: help book serve check test clean distclean venv assets homework system lab kernel

# Debian packages the tests need: Chromium (page tests), bubblewrap (the homework grader's
# sandbox), npm (fetches the book's offline MathJax/widget JavaScript from the npm registry).
# `make test` and `make book` install the missing ones when they can (root + apt-get), and
# otherwise stop at once with the one command to run.
SYSTEM_PKGS := chromium:/usr/bin/chromium bubblewrap:bwrap npm:npm

help:
	@echo "make book    build the book (sets up .venv and offline assets first)"
	@echo "make check   the quick tier: lint + unit tests (no notebook, browser, sandbox or venv), ~2 min"
	@echo "make test    run all tests: unit tests + notebooks (nbval) + book build"
	@echo "make serve   serve the built book on http://$(HOST):$(PORT)"
	@echo "make lab     open the chapters in JupyterLab (the .venv kernel; Notebook 7 at /tree)"
	@echo "make kernel  register .venv as the Jupyter kernel \"$(KERNEL_DISPLAY)\" for your own Jupyter"
	@echo "make homework  regenerate the homework student versions (homework/release/)"
	@echo "make clean   remove _build and caches; make distclean also removes .venv, $(VENDOR)"

venv: $(VENV_STAMP)

system:
	@missing=""; for entry in $(SYSTEM_PKGS); do \
	    command -v "$${entry#*:}" >/dev/null 2>&1 || missing="$$missing $${entry%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "installing$$missing (apt-get, quiet)"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	    else \
	        echo "error: the tests need Debian packages that are missing:$$missing" >&2; \
	        echo "run:   sudo apt-get install -y$$missing    then make test again" >&2; exit 1; \
	    fi; \
	fi

$(VENV_STAMP): $(VENV_DEPS)
	@test -n "$(BOOTSTRAP_PY)" || { echo "error: need python3.11 (or python3) on PATH" >&2; exit 1; }
	@test -x $(VPY) || { echo "creating $(VENV) with $(BOOTSTRAP_PY)"; $(BOOTSTRAP_PY) -m venv $(VENV); }
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements.txt
	$(VPY) -m pip install --quiet -e .
	@touch $@

assets: $(VENDOR_STAMP)

# npm only downloads the three JavaScript packages (npm pack); nothing runs on Node.
$(VENDOR_STAMP): scripts/fetch_web_assets.sh
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory system
	bash scripts/fetch_web_assets.sh $(VENDOR)

# --all: re-read (and so re-execute) every page on every build, so the book always
# reflects the current cnn_core and -W reports warnings of unchanged pages too.
book: $(VENV_STAMP) $(VENDOR_STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going --all
	@echo
	@echo "Book built: $(abspath $(HTML)/index.html)"
	@if [ -t 0 ]; then \
	    read -r -p "Serve it on http://$(HOST):$(PORT) now? [y/N] " answer; \
	    case "$$answer" in [yY]*) $(MAKE) --no-print-directory serve ;; \
	        *) echo "Later: make serve" ;; esac; \
	else \
	    echo "To serve it on http://$(HOST):$(PORT): make serve"; \
	fi

# The chapters in JupyterLab, from .venv, with jupyter-config/ first on the config path
# (chapter outputs stripped on save, nbgrader's UI off). Extra options: make lab LAB_ARGS=...
LAB_DIR  ?= book
LAB_ARGS ?=
lab: $(VENV_STAMP)
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(LAB_DIR)" --ServerApp.ip=$(HOST) \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# .venv as a named kernel for a Jupyter installed elsewhere (KERNEL_WHERE=--sys-prefix etc.).
KERNEL_NAME    := cnn-course
KERNEL_DISPLAY := Python 3.11 (cnn-course .venv)
KERNEL_WHERE   ?= --user
kernel: $(VENV_STAMP)
	$(VPY) -m ipykernel install $(KERNEL_WHERE) --name $(KERNEL_NAME) --display-name "$(KERNEL_DISPLAY)"

serve:
	@test -f $(HTML)/index.html || { echo "no built book in $(HTML); run: make book" >&2; exit 1; }
	@echo "Serving $(abspath $(HTML)) on http://$(HOST):$(PORT) (Ctrl-C to stop)"
	cd $(HTML) && $(BOOTSTRAP_PY) -m http.server $(PORT) --bind $(HOST)

# Extra pytest arguments, e.g. make test PYTEST_ARGS="-k book -x"
PYTEST_ARGS ?=
homework: $(VENV_STAMP)
	$(VPY) homework/hw.py generate

# With the packages in place, the sandbox tests of the grader must run, not skip; and a fresh
# venv with only the README's `pip install -e '.[notebooks]'` runs every chapter
# (tests/test_jupyter_setup.py; CNN_FRESH_VENV=0 skips it for a quicker local run).
CNN_FRESH_VENV ?= 1
test: system $(VENV_STAMP) $(VENDOR_STAMP)
	CNN_REQUIRE_SANDBOX=1 CNN_FRESH_VENV=$(CNN_FRESH_VENV) $(VPY) -m pytest $(PYTEST_ARGS)

# The quick tier while you work: everything not marked slow (conftest.py says what is), on every core.
check: $(VENV_STAMP)
	$(VPY) -m pytest tests -m "not slow" -n auto -q $(PYTEST_ARGS)

clean:
	rm -rf _build .pytest_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) $(VENDOR) *.egg-info
