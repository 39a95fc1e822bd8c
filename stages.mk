# Generated from pipeline/core/registry.py by `python -m pipeline.core.registry --makefile`;
# do not edit (tests/test_registry.py checks it is current). Each stage is a file target
# on its first output: it re-runs when an input, the config or the stage's code changed.

INGEST_CODE := $(wildcard pipeline/ingest/*.py pipeline/ingest/*/*.py pipeline/ingest/*.yaml) pipeline/core/redact.py pipeline/core/config.py pipeline/core/catalog.py pipeline/core/atomic.py
ingest: $(OUT)/turns.parquet
$(OUT)/turns.parquet: $(INSTALLED) $(RAW_FILES) $(CONFIG_FILE) $(INGEST_CODE)
	$(INSIGHTS) ingest "$(RAW)" --out "$(OUT)"$(INGEST_ARGS)

PASSAGES_CODE := $(wildcard pipeline/passages/*.py pipeline/passages/*/*.py pipeline/passages/*.yaml) pipeline/core/nlp.py pipeline/ingest/clean.py pipeline/core/config.py pipeline/core/catalog.py pipeline/core/atomic.py
passages: $(OUT)/passages.parquet
$(OUT)/passages.parquet: $(INSTALLED) $(OUT)/turns.parquet $(CONFIG_FILE) $(PASSAGES_CODE)
	$(INSIGHTS) passages --out "$(OUT)"$(PASSAGES_ARGS)

EMBED_CODE := $(wildcard pipeline/embed/*.py pipeline/embed/*/*.py pipeline/embed/*.yaml) pipeline/core/config.py pipeline/core/catalog.py pipeline/core/atomic.py
embed: $(OUT)/embeddings.npy
$(OUT)/embeddings.npy: $(INSTALLED) $(OUT)/passages.parquet $(CONFIG_FILE) $(EMBED_CODE)
	$(INSIGHTS) embed --out "$(OUT)"$(EMBED_ARGS)

SEGMENT_CODE := $(wildcard pipeline/segment/*.py pipeline/segment/*/*.py pipeline/segment/*.yaml) pipeline/core/config.py pipeline/core/catalog.py pipeline/core/atomic.py
segment: $(OUT)/segments.parquet
$(OUT)/segments.parquet: $(INSTALLED) $(OUT)/turns.parquet $(OUT)/passages.parquet $(OUT)/embeddings.npy $(CONFIG_FILE) $(SEGMENT_CODE) $(GUIDE)
	$(INSIGHTS) segment --out "$(OUT)"$(SEGMENT_ARGS)

THEMES_CODE := $(wildcard pipeline/themes/*.py pipeline/themes/*/*.py pipeline/themes/*.yaml) $(wildcard pipeline/coding/*.py pipeline/coding/*/*.py pipeline/coding/*.yaml) pipeline/ingest/clean.py pipeline/core/config.py pipeline/core/catalog.py pipeline/core/atomic.py
themes: $(OUT)/themes.parquet
$(OUT)/themes.parquet: $(INSTALLED) $(OUT)/turns.parquet $(OUT)/passages.parquet $(OUT)/embeddings.npy $(OUT)/segments.parquet $(CONFIG_FILE) $(THEMES_CODE)
	$(INSIGHTS) themes --out "$(OUT)"$(THEMES_ARGS)

CODE_CODE := $(wildcard pipeline/coding/*.py pipeline/coding/*/*.py pipeline/coding/*.yaml) pipeline/ingest/clean.py pipeline/core/config.py pipeline/core/catalog.py pipeline/core/atomic.py
code: $(OUT)/coding/coding.parquet
$(OUT)/coding/coding.parquet: $(INSTALLED) $(OUT)/turns.parquet $(OUT)/passages.parquet $(OUT)/embeddings.npy $(OUT)/segments.parquet $(CONFIG_FILE) $(CODE_CODE)
	$(INSIGHTS) code --out "$(OUT)"$(CODE_ARGS)

REPORT_CODE := $(wildcard pipeline/report/*.py pipeline/report/*/*.py pipeline/report/*.yaml) pipeline/results.py pipeline/core/nlp.py pipeline/evaluate/report.py pipeline/segment/guide.py pipeline/segment/stage.py pipeline/core/config.py pipeline/core/catalog.py pipeline/core/atomic.py
report: $(OUT)/report/report.json
$(OUT)/report/report.json: $(INSTALLED) $(OUT)/turns.parquet $(OUT)/passages.parquet $(OUT)/embeddings.npy $(OUT)/segments.parquet $(OUT)/themes.parquet $(OUT)/coding/coding.parquet $(CONFIG_FILE) $(REPORT_CODE)
	$(INSIGHTS) report --out "$(OUT)"$(REPORT_ARGS)
