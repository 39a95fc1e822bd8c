"""The report's full spaCy parse of each passage, kept by its text so a re-run parses only
what is new.

The report reads every interviewee passage with the whole English pipeline (parser and
entities): on a real corpus of 12,000 passages that took most of the stage's minute, and
adding one interview used to parse them all again. A parse depends only on the text and
the pipeline, so the docs are kept in one ``DocBin`` per pipeline (name, version, spaCy
version, pipes) under ``OUT/cache/parses/``, written atomically; only the last pipeline's
file is kept and ``make clean-cache`` removes it. A doc read back from it has the same
tokens, tags, lemmas, dependencies, entities and sentences as the parse that made it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin

from ..core import nlp
from ..core.atomic import atomic_path

log = logging.getLogger(__name__)

FOLDER = "parses"


def recipe(language: spacy.language.Language) -> str:
    """The pipeline a parse comes from, as a short hash."""
    made_by = [
        language.meta.get("name"),
        language.meta.get("version"),
        spacy.__version__,
        language.pipe_names,
    ]
    return hashlib.sha256(json.dumps(made_by).encode("utf-8")).hexdigest()[:16]


def full_parses(texts: list[str], store: Path | None = None) -> list[Doc]:
    """Each text parsed by :func:`nlp.english_full`, from the cache in ``store`` where known.

    Args:
        texts: the texts, in the order wanted (repeats parsed once).
        store: the cache folder (``OUT/cache``); None parses everything and keeps nothing.

    Returns:
        One doc per text, in order.
    """
    language = nlp.english_full()
    path = Path(store) / FOLDER / f"{recipe(language)}.spacy" if store is not None else None
    known: dict[str, Doc] = {}
    if path is not None and path.is_file():
        try:
            known = {d.text: d for d in DocBin().from_disk(path).get_docs(language.vocab)}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("parse cache %s unreadable (%s); parsing afresh", path, exc)
    new = list(dict.fromkeys(t for t in texts if t not in known))
    for doc in nlp.parse_all(nlp.english_full, new):
        known[doc.text] = doc
    if path is not None:
        log.info("report: %d texts parsed, %d known already", len(new), len(texts) - len(new))
        if new:
            _save(path, known)
    return [known[t] for t in texts]


def _save(path: Path, docs: dict[str, Doc]) -> None:
    with atomic_path(path, now=True) as tmp:
        DocBin(store_user_data=False, docs=docs.values()).to_disk(tmp)
    for other in path.parent.glob("*.spacy"):
        if other != path:
            other.unlink(missing_ok=True)
