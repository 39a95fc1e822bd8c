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
EMBED_CODE := pipeline/passages.py pipeline/embed.py pipeline/nlp.py
SEGMENT_CODE := pipeline/segment.py pipeline/guide.py $(wildcard pipeline/guides/*.yaml)
THEMES_CODE := pipeline/themes.py
GUIDE ?=

.PHONY: install test report chromium ingest embed segment themes evaluate compare clean clean-cache distclean help

help:
	@echo "make report   set up .venv (first time) and build the report from RAW=$(RAW)"
	@echo "make test     set up .venv (first time) and run the test suite"
	@echo "make ingest | embed | segment [GUIDE=guide.yaml] | themes | evaluate | compare BY=field | clean | clean-cache"

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

embed: $(OUT)/embeddings.npy

$(OUT)/embeddings.npy: $(OUT)/turns.parquet $(CONFIG_FILE) $(EMBED_CODE)
	$(INSIGHTS) embed --out "$(OUT)"

segment: $(OUT)/segments.parquet

$(OUT)/segments.parquet: $(OUT)/embeddings.npy $(CONFIG_FILE) $(SEGMENT_CODE) $(GUIDE)
	$(INSIGHTS) segment --out "$(OUT)" $(if $(GUIDE),--guide "$(GUIDE)")

themes: $(OUT)/themes.parquet

$(OUT)/themes.parquet: $(OUT)/segments.parquet $(CONFIG_FILE) $(THEMES_CODE)
	$(INSIGHTS) themes --out "$(OUT)"

# Themes beside vanilla BERTopic() and your coding; sections against your labels:
#   make evaluate GOLD=coded.csv SECTIONS_GOLD=sections.csv
GOLD ?= $(wildcard data/gold/codes.csv)
SECTIONS_GOLD ?= $(wildcard data/gold/sections.csv)
evaluate: $(OUT)/themes.parquet
	$(INSIGHTS) evaluate themes --out "$(OUT)" $(if $(GOLD),--gold "$(GOLD)")
	$(if $(SECTIONS_GOLD),$(INSIGHTS) evaluate segments --out "$(OUT)" --gold "$(SECTIONS_GOLD)" $(if $(GUIDE),--guide "$(GUIDE)"))

# Cohorts by any metadata field: make compare BY=background_group
compare: $(OUT)/compare/$(BY).html

$(OUT)/compare/$(BY).html: $(OUT)/themes.parquet $(CONFIG_FILE) pipeline/compare.py
	$(INSIGHTS) compare --by "$(BY)" --out "$(OUT)"

# The main job: every stage, then OUT/report/report.{html,md,json}. TAKEAWAYS=6 for more.
REPORT_CODE := $(wildcard pipeline/report/*.py pipeline/report/*.yaml)
TAKEAWAYS ?=
report: $(OUT)/report/report.json

$(OUT)/report/report.json: $(OUT)/themes.parquet $(CONFIG_FILE) $(REPORT_CODE)
	$(INSIGHTS) report --out "$(OUT)" $(if $(TAKEAWAYS),--takeaways $(TAKEAWAYS))

# The report's screenshot test needs headless Chromium (Debian's `chromium`); install it
# when missing and possible (root + apt), else that one test is skipped with the reason.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "chromium not available: the report screenshot test will be skipped"

test: $(INSTALLED) chromium
	$(BIN)/python -m pytest

clean:
	rm -rf "$(OUT)"/*.parquet "$(OUT)"/*.json "$(OUT)"/*.npy "$(OUT)"/themes_model "$(OUT)"/report "$(OUT)"/compare "$(OUT)"/lineage

# The embedding cache survives `make clean`; this removes it too.
clean-cache:
	rm -rf "$(OUT)"/cache

distclean: clean
	rm -rf $(VENV)
