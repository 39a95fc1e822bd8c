"""The code stage: the researcher's codebook and coding, located and learnt, through the catalog.

Where the coding comes from, in order: ``coding.file`` (with ``coding.codebook`` for the
codes' descriptions), else the codes a tagged CSV carried into the turns (``coding.from_turns``),
else nothing: the stage then writes empty tables and ``coding.json`` says why, so the report
and the rest of the run do not depend on whether a codebook was given.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..core.catalog import artifact, cache_dir, load, save
from ..core.config import Config
from ..core.registry import phase
from .autocode import CodingRun, CodingSettings, autocode
from .classify import CoderSettings
from .importers import read_codebook, read_coding
from .locate import excerpts_from_turn_codes
from .model import Codebook, CodedExcerpt, CodingFormatError

log = logging.getLogger(__name__)

SUGGESTION_COLUMNS = ("unit_id", "interview", "value", "code", "probability", "reason", "text")


def coding_settings(config: Config) -> CodingSettings:
    """The :class:`~.autocode.CodingSettings` the ``coding`` config section gives."""
    c = config.coding
    return CodingSettings(
        unit=c.unit,
        roles=c.roles,
        min_score=c.min_score,
        suggest=c.suggest,
        coder=CoderSettings(min_examples=c.min_examples, evidence=c.evidence),
    )


def _with_codebook(
    codebook: Codebook, excerpts: list[CodedExcerpt], source: str
) -> tuple[Codebook, list[CodedExcerpt]]:
    """Excerpts' codes written as the codebook's paths; codes it lacks are added (and said)."""
    unknown: list[str] = []
    out = []
    for e in excerpts:
        codes = []
        for c in e.codes:
            found = codebook.find(c)
            if found is None:
                unknown.append(c)
            codes.append(found.path if found else c)
        out.append(replace(e, codes=tuple(codes)))
    if unknown:
        names = ", ".join(repr(c) for c in dict.fromkeys(unknown))
        log.warning("%s: codes not in the codebook, added without a description: %s", source, names)
    return codebook.with_codes(unknown), out


def read_researcher_coding(
    config: Config, turns: pd.DataFrame
) -> tuple[Codebook, list[CodedExcerpt], str] | None:
    """(codebook, excerpts, where they came from), or None when there is no coding.

    Raises:
        CodingFormatError: a coding or codebook file that cannot be read (the message names
        the file and the problem).
    """
    c = config.coding
    codebook = read_codebook(c.codebook) if c.codebook else None
    if c.file:
        book, excerpts = read_coding(c.file)
        if codebook is not None:
            book, excerpts = _with_codebook(codebook, excerpts, c.file)
        return book, list(excerpts), str(c.file)
    if c.from_turns and "codes" in turns.columns:
        excerpts = excerpts_from_turn_codes(turns, codebook=codebook)
        if excerpts:
            codes = dict.fromkeys(code for e in excerpts for code in e.codes)
            book = (codebook or Codebook()).with_codes(codes)
            return book, excerpts, "the codes column of the ingested turns"
    if codebook is not None:
        return codebook, [], str(c.codebook)
    return None


def _empty(reason: str) -> dict:
    return {"enabled": False, "reason": reason}


def run(out_dir: Path, config: Config, embedder=None) -> CodingRun | None:
    """Locate and learn the researcher's coding and code the rest; write coding/.

    Args:
        out_dir: the output folder (turns, passages, embeddings, segments).
        config: the effective configuration (``coding`` settings).
        embedder: an embedder to reuse for the codes' own words (default: ``embed``'s).

    Returns:
        The :class:`~.autocode.CodingRun`, or None when no coding or codebook was given.
    """
    from ..embed import embed_texts, load_embeddings, make_embedder

    out_dir = Path(out_dir)
    turns = load("turns", out_dir)
    try:
        given = read_researcher_coding(config, turns)
    except CodingFormatError as exc:
        raise ValueError(str(exc)) from None
    if given is None:
        save("coding", pd.DataFrame(columns=list(artifact("coding").columns)), out_dir)
        save("codes", pd.DataFrame(columns=list(artifact("codes").columns)), out_dir)
        save("coding_info", _empty("no coding given (coding.file, coding.codebook)"), out_dir)
        save("coding_suggestions", ",".join(SUGGESTION_COLUMNS) + "\n", out_dir)
        log.debug("code: no coding given")
        return None
    codebook, excerpts, source = given
    passages = load("passages", out_dir)
    vectors, _ = load_embeddings(out_dir, passages)
    store = cache_dir(out_dir)
    embedder = embedder or make_embedder(config.embed, store)

    def embed(texts: list[str]):
        return embed_texts(texts, embedder, store, config.embed.cache)[0]

    with phase("code", excerpts=len(excerpts), passages=len(passages)):
        result = autocode(
            codebook,
            excerpts,
            turns,
            passages,
            vectors,
            embed=embed,
            sections=load("segments", out_dir),
            settings=coding_settings(config),
        )
    info = {"source": source, **result.info()}
    summary = info["located"]
    log.info(
        "code: %d of %d coded excerpts located (%s); %s; learnt on %d interview(s), coded %d more",
        summary["located"],
        summary["excerpts"],
        ", ".join(f"{k} {v}" for k, v in summary["by_method"].items()) or "none",
        result.unit.reason,
        len(result.coded_interviews),
        len(result.other_interviews),
    )
    for note in result.notes:
        log.warning("code: %s", note)
    save("coding", result.table, out_dir)
    save("codes", result.codes, out_dir)
    save("coding_info", info, out_dir)
    shown = result.suggestions
    cols = [c for c in SUGGESTION_COLUMNS if c in shown.columns]
    save(
        "coding_suggestions",
        shown[cols].to_csv(index=False) if len(shown) else ",".join(SUGGESTION_COLUMNS) + "\n",
        out_dir,
    )
    return result
