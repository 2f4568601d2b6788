# sonod: `make run` starts the whole stack, `make test` runs the tests. Everything else is detail.

PYTHON      ?= python3.11
VENV        ?= .venv
VAR_DIR     ?= $(or $(SONOD_VAR_DIR),var)
PYTEST_ARGS ?=
# Test files run on this many processes (pytest-xdist, a file's tests together): the tests mostly wait on Temporal,
# the browser and the database, so three keep two cores busy. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 3
BENCH_ARGS  ?=
SYSTEM_DEPS := poppler-utils zbar-tools libzbar0 fonts-noto-core chromium

.DEFAULT_GOAL := help
.PHONY: help venv run test lint system-deps bench clean i18n

help:
	@echo "make run          create .venv, migrate, seed and start everything in the foreground (Ctrl-C stops it)"
	@echo "make test         run the tests (on PostgreSQL when SONOD_DATABASE_URL names one); PYTEST_ARGS=... passes through"
	@echo "make lint         ruff check . and mypy on workflows/ activities/ sonod/ api/ (.pre-commit-config.yaml runs the same)"
	@echo "make venv         create .venv and install sonod with its test and lint extras"
	@echo "make system-deps  apt-get install what the tests need (pdftoppm, zbarimg, Noto fonts, chromium), as root"
	@echo "make i18n         extract the pages' words into api/locale/sonod.pot, update the bn and en .po files, compile them"
	@echo "make bench        run the benchmarks in bench/ (BENCH=pdf for one; BENCH_ARGS=--quick passes through)"
	@echo "make clean CONFIRM=yes   delete $(VAR_DIR)/: the database, Temporal's history, certificates, logs"

venv: $(VENV)/.installed

# Reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,lint]'
	@touch $@

# `exec`: SIGINT/SIGTERM to make reach `sonod dev` itself, which stops its children.
run: venv
	exec $(VENV)/bin/sonod dev

test: system-deps venv
	@set +e; $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "make test: pytest ran no tests (exit 5)" >&2; fi; \
	exit $$code

# The versions are pyproject.toml's `lint` extra; .pre-commit-config.yaml runs these same two commands.
MYPY_PACKAGES := workflows activities sonod api
# Both run, so that one pass shows every finding; either failing fails the target.
lint: venv
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/mypy $(MYPY_PACKAGES) || status=1; \
	exit $$status

# Only when something is missing and we may install it; otherwise silent.
system-deps:
	@missing=""; \
	for pkg in $(SYSTEM_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make system-deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The translation catalogues (babel.cfg says where the words are): extract, update the .po files (the English one
# fills itself in), compile the .mo files that the pages read and that are committed beside them.
LOCALE := api/locale
i18n: venv
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k 'NP_:1c,2' --add-location=file --sort-output --width=120 \
	  --project=sonod --copyright-holder="sonod's authors" -o $(LOCALE)/sonod.pot .
	$(VENV)/bin/pybabel -q update -i $(LOCALE)/sonod.pot -d $(LOCALE) -D sonod --width=120 --no-fuzzy-matching \
	  --ignore-obsolete --ignore-pot-creation-date
	$(VENV)/bin/python $(LOCALE)/english.py $(LOCALE)/en/LC_MESSAGES/sonod.po
	$(VENV)/bin/pybabel -q compile -d $(LOCALE) -D sonod --statistics

# Every bench/*.py script (or only BENCH=name), each printing its own table; BENCH_ARGS=--quick and so on.
# bench/harness.py is what they share, not a benchmark. Issue 14's: BENCH=pipeline (with the fixed reference and
# BENCH_ARGS=--taskset), reference, api, backlog (10,000 open applications with --quick; hours without).
bench: venv
	@set -e; scripts="$(if $(BENCH),bench/$(BENCH).py,$(filter-out bench/__init__.py bench/harness.py bench/bare.py bench/api_paths.py,$(wildcard bench/*.py)))"; \
	if [ -z "$$scripts" ]; then echo "make bench: no benchmarks in bench/" >&2; exit 1; fi; \
	for script in $$scripts; do echo "=== $$script"; $(VENV)/bin/python $$script $(BENCH_ARGS); done

clean:
	@if [ "$(CONFIRM)" != "yes" ]; then \
	  echo "make clean deletes $(VAR_DIR)/ (the database, Temporal's history, certificates, logs)."; \
	  echo "Run 'make clean CONFIRM=yes' to do it."; exit 1; \
	fi
	rm -rf -- "$(VAR_DIR)"
