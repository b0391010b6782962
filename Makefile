# The two commands of the README. Each creates .venv when missing and installs the project
# into it (again only when pyproject.toml changed), so both work on a fresh machine that has
# Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AS_OF ?= $(shell date +%F)

.PHONY: report test install clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

## make report: build the data and render the yearly report for AS_OF (default today)
report: $(STAMP)
	$(BIN)/forecast data build --as-of $(AS_OF)
	$(BIN)/forecast targets --as-of $(AS_OF)
	$(BIN)/forecast report --as-of $(AS_OF)

## make test: the test suite (slow tests included)
test: $(STAMP)
	$(BIN)/python -m pytest -q

clean-venv:
	rm -rf $(VENV)
