# Two commands on a fresh clone: `make report` and `make test`.
# Stages are file targets: a stage re-runs only when its inputs (raw files,
# config, the stage's code) changed. Override folders: make report RAW=~/my-notes
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
RAW ?= data/raw
OUT ?= data/processed
BY ?= folder

BIN := $(VENV)/bin
INSIGHTS := $(BIN)/insights
INSTALLED := $(VENV)/.installed
# Every file and folder under RAW (spaces escaped for make); a new or changed file re-runs ingest.
RAW_FILES := $(shell find $(RAW) -not -path '*/.*' 2>/dev/null | sed 's/ /\\ /g')
CONFIG_FILE := $(wildcard insights.yaml)
INGEST_CODE := $(wildcard pipeline/ingest/*.py) pipeline/config.py pipeline/artifacts.py

.PHONY: install test report ingest segment themes compare clean distclean help

help:
	@echo "make report   set up .venv (first time) and build the report from RAW=$(RAW)"
	@echo "make test     set up .venv (first time) and run the test suite"
	@echo "make ingest | segment | themes | compare BY=field | clean"

install: $(INSTALLED)

# torch first, pinned to the CPU build on this machine's disk; anything later that
# asks for torch is then satisfied and pip never pulls a CUDA build.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip check
	touch $@

ingest: $(OUT)/turns.parquet

$(OUT)/turns.parquet: $(INSTALLED) $(RAW_FILES) $(CONFIG_FILE) $(INGEST_CODE)
	$(INSIGHTS) ingest "$(RAW)" --out "$(OUT)"

# Later stages (segment, themes, report, compare) land with their issues; until then
# `make report` runs everything that exists.
segment themes compare:
	@echo "stage '$@' is not built yet; see the open issues" >&2; exit 2

report: ingest
	@echo "report: ingest done ($(OUT)/turns.parquet); later stages not built yet"

test: $(INSTALLED)
	$(BIN)/python -m pytest

clean:
	rm -rf "$(OUT)"/*.parquet "$(OUT)"/*.json "$(OUT)"/report "$(OUT)"/compare

distclean: clean
	rm -rf $(VENV)
