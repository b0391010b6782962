# The two commands of the README. Each creates .venv when missing and installs the project
# into it (again only when pyproject.toml changed), so both work on a fresh machine that has
# Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AS_OF ?= $(shell date +%F)
JOBS ?= 2
PATHS ?= 10000

.PHONY: report test install system-fonts system-browser messages clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing the project and its dependencies into $(VENV) (first run: a few minutes)"
	$(BIN)/python -m pip install --quiet -e '.[test,bench,scale]'
	touch $(STAMP)

install: $(STAMP)

# Optional system packages, best effort: only as root with apt-get, never fatal. Without a CJK
# font the figures are labelled in English (Chinese names stay in the page text); without
# chromium the brief has no PDF (its HTML is written) and the browser test is skipped.
# $(call apt_best_effort,PACKAGE): a shell command that installs PACKAGE when it can, never fails
apt_best_effort = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  if apt-get install -y -qq --no-install-recommends $(1) >/dev/null 2>&1 || \
	     { apt-get update -qq >/dev/null 2>&1 && \
	       apt-get install -y -qq --no-install-recommends $(1) >/dev/null 2>&1; }; \
	  then echo "installed $(1)"; else echo "warning: could not install $(1) (continuing)"; fi; \
	else echo "note: not root or no apt-get: $(1) not installed (continuing)"; fi

system-fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { $(call apt_best_effort,fonts-wqy-microhei); }

system-browser:
	@command -v chromium >/dev/null 2>&1 || { $(call apt_best_effort,chromium); }

## make report: build the data and render the yearly report for AS_OF (default today)
report: $(STAMP) system-fonts system-browser
	$(BIN)/forecast data build --as-of $(AS_OF)
	$(BIN)/forecast targets --as-of $(AS_OF)
	$(BIN)/forecast report --as-of $(AS_OF) --jobs $(JOBS) --paths $(PATHS)

## make test: the test suite (slow tests included)
test: $(STAMP) system-fonts system-browser
	$(BIN)/python -m pytest -q

## make messages: after changing a text, merge the texts into the catalogues (then translate
## the new entries of src/forecast/locales/zh/LC_MESSAGES/forecast.po)
messages: $(STAMP)
	$(BIN)/python -c "from pathlib import Path; from forecast import i18n; print(i18n.update_catalogues(Path('.')))"

clean-venv:
	rm -rf $(VENV)
