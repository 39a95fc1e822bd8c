#!/usr/bin/env python
"""The approach a user would try first, timed as one command: the benchmark's baseline.

    .venv/bin/python bench/plain_bertopic.py RAW_DIR [--json figures.json]

Read every file under RAW_DIR as text (the formats ``insights ingest`` reads, through its
own readers, so both start from the same words), split it into sentences with spaCy's
rule-based sentencizer, encode the sentences with MiniLM (the bundled copy) at batch 64,
and fit ``BERTopic()`` with its defaults on those vectors. Nothing is cached or written
besides the figures. It prints wall seconds per step; it asserts nothing.

The baseline is meant to be a strong one: the sentencizer is the cheapest splitter spaCy
has, and sentence-transformers sorts texts by length within its batches.
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def read_texts(raw: Path) -> list[str]:
    """Each conversation's text, through the ingest stage's readers (speaker labels dropped)."""
    from pipeline.core.config import IngestConfig
    from pipeline.ingest.formats import readers

    known = readers(IngestConfig())
    texts = []
    for path in sorted(p for p in raw.rglob("*") if p.is_file() and not p.name.startswith(".")):
        reader = known.get(path.suffix.lower())
        if reader is None or path.name == "metadata.csv":
            continue
        try:
            result = reader(path.read_bytes(), name=path.name)
            texts.extend("\n".join(t.text for t in doc.turns) for doc in result.docs)
        except Exception as exc:  # a baseline, not the product: skip what it cannot read
            print(f"[plain] skipped {path}: {exc}", file=sys.stderr)
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    steps: dict[str, float] = {}
    start = last = time.perf_counter()

    def done(step: str) -> None:
        nonlocal last
        t = time.perf_counter()
        steps[step] = round(t - last, 2)
        last = t

    import spacy
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    from pipeline.embed.embedders import BUNDLED_MODEL, resolve_model

    done("imports")
    texts = read_texts(args.raw.expanduser().resolve())
    done("read")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = max([nlp.max_length, *(len(t) + 1 for t in texts)])
    sentences = [
        s.text.strip() for doc in nlp.pipe(texts) for s in doc.sents if len(s.text.split()) >= 3
    ]
    done("sentences")
    model = SentenceTransformer(resolve_model(BUNDLED_MODEL)[0], device="cpu")
    vectors = model.encode(sentences, batch_size=64, show_progress_bar=False)
    done("encode")
    topics, _ = BERTopic().fit_transform(sentences, embeddings=vectors)
    done("BERTopic fit")
    figures = {
        "conversations": len(texts),
        "sentences": len(sentences),
        "topics": len(set(topics) - {-1}),
        "outlier_share": round(sum(t == -1 for t in topics) / max(len(topics), 1), 3),
        "steps_s": steps,
        "total_s": round(time.perf_counter() - start, 2),
    }
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
