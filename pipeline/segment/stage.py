"""The segment stage: sections of every turn and passage, through the catalog."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.catalog import cache_dir, load, save
from ..core.config import Config, SegmentConfig
from ..embed import embed_texts, load_embeddings, make_embedder
from ..ingest.roles import INTERVIEWEE
from .evidence import (
    GuideVectors,
    TurnSimilarity,
    corpus_profiles,
    decode,
    gather_evidence,
    turn_similarities,
)
from .fit import describe_fit, guide_fit
from .guide import DEFAULT_GUIDE, Guide, load_guide

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """What sectioning needs, computed once: turns in order, guide vectors, similarities,
    the answers' tense counts. Decoding with other weights reuses it (the evaluation does)."""

    turns: pd.DataFrame
    guide: Guide
    gv: GuideVectors
    sims: TurnSimilarity
    tenses: dict  # (interview, turn) -> verbs in the past and present tense


def prepare(out_dir: Path, config: Config, guide: Guide | None = None, embedder=None) -> Prepared:
    out_dir = Path(out_dir)
    guide = guide or load_guide(config.segment.guide)
    turns = (
        load("turns", out_dir).sort_values(["interview_id", "turn_index"]).reset_index(drop=True)
    )
    passages = load("passages", out_dir)
    vectors, _ = load_embeddings(out_dir, passages)
    store = cache_dir(out_dir)
    embedder = embedder or make_embedder(config.embed, store)

    def encode(texts: list[str]) -> np.ndarray:
        return embed_texts(list(texts), embedder, store, config.embed.cache)[0]

    gv = GuideVectors(guide, encode)
    tenses = {}
    if any(s.tense for s in guide.sections):
        # The passages stage tagged these words already: its tense counts, summed per answer.
        english = passages[(passages.role == INTERVIEWEE) & passages.language.isin(["en", "und"])]
        summed = english.groupby(["interview_id", "turn_index"])[
            ["past_verbs", "present_verbs"]
        ].sum()
        tenses = {
            (str(iid), int(turn)): (int(past), int(present))
            for (iid, turn), past, present in zip(
                summed.index, summed["past_verbs"], summed["present_verbs"], strict=True
            )
        }
    sims = turn_similarities(turns, passages, vectors, gv)
    return Prepared(turns, guide, gv, sims, tenses)


def assign_sections(prep: Prepared, cfg: SegmentConfig) -> pd.DataFrame:
    """One row per turn: its section, the confidence, and the evidence that decided.

    With ``refine`` > 0 the first decoding's confident turns become the corpus's own
    profile of each section (:func:`corpus_profiles`), and the conversations are decoded
    again with it as one more kind of evidence.
    """
    table = _decode_all(prep, cfg, None)
    for _ in range(cfg.refine):
        profiles = corpus_profiles(prep.sims, table, len(prep.guide.sections), prep.guide.names)
        if not profiles:
            break
        table = _decode_all(prep, cfg, profiles, quiet=True)
    return table


def _decode_all(
    prep: Prepared, cfg: SegmentConfig, profiles: dict | None, quiet: bool = False
) -> pd.DataFrame:
    guide = prep.guide
    rows = []
    other_languages = []
    heading_cache: dict = {}
    for interview_id, conv in prep.turns.groupby("interview_id", sort=True):
        conv = conv.sort_values("turn_index")
        is_english = conv["language"].iloc[0] in ("en", "und")
        if not is_english:
            other_languages.append(f"{interview_id} ({conv['language'].iloc[0]})")
        ev = gather_evidence(
            conv, guide, prep.gv, prep.sims, prep.tenses, cfg, is_english, heading_cache, profiles
        )
        path, confidence, alone = decode(ev, cfg, len(guide.sections))
        for t, row in enumerate(conv.itertuples()):
            notes = [n for n in ev.notes[t] if n]
            if profiles:
                notes.append("corpus profile")
            if path[t] != alone[t]:
                notes.append("order")
            if not is_english:
                notes.append("grammar cues off (not English)")
            rows.append(
                {
                    "unit": "turn",
                    "interview_id": interview_id,
                    "turn_index": int(row.turn_index),
                    "passage_id": None,
                    "role": row.role,
                    "section": guide.sections[path[t]].name,
                    "confidence": round(float(confidence[t]), 4),
                    "evidence": "; ".join(notes) or "order only",
                }
            )
    if other_languages and not quiet:
        log.warning(
            "segmenting %s with headings, question similarity and order only (grammar cues are "
            "English-only)",
            ", ".join(other_languages),
        )
    return pd.DataFrame(rows)


def run(out_dir: Path, config: Config, guide: Guide | None = None, embedder=None) -> pd.DataFrame:
    """Give every turn and passage a section of the guide and write segments.parquet / .json.

    Args:
        out_dir: the output folder holding turns, passages and their vectors.
        config: the effective configuration (``segment`` and ``embed`` settings are read).
        guide: the interview guide (default: the one ``segment.guide`` names, else the built-in
        one).
        embedder: an embedder to reuse for the guide's questions (default: the ``embed`` one).

    Returns:
        The segments table: one row per turn and one per passage.
    """
    out_dir = Path(out_dir)
    cfg = config.segment
    embedder = embedder or make_embedder(config.embed, cache_dir(out_dir))
    prep = prepare(out_dir, config, guide, embedder)
    guide = prep.guide
    passages = load("passages", out_dir)
    info = load("embeddings_info", out_dir)
    turn_table = assign_sections(prep, cfg)
    fit = guide_fit(turn_table, guide, list(prep.sims.question_best.values()))
    origin = "yours" if (cfg.guide or guide.source != str(DEFAULT_GUIDE)) else "built-in"
    guide_text = Path(guide.source).read_text(encoding="utf-8") if guide.source else ""
    if origin == "built-in" and fit["poor"] and cfg.suggest_when_poor:
        found = _try_suggested(out_dir, config, prep, passages, embedder, fit)
        if found is not None:
            prep, turn_table, fit_found, guide_text, default_fit = found
            guide, fit, origin = prep.guide, fit_found, "found in the data"
            fit["built_in_fit"] = default_fit
    if fit["poor"]:
        log.warning(describe_fit(fit, guide.name))
    else:
        log.info(describe_fit(fit, guide.name))
    by_turn = turn_table.set_index(["interview_id", "turn_index"])
    passage_rows = []
    for p in passages.itertuples():
        t = by_turn.loc[(p.interview_id, int(p.turn_index))]
        passage_rows.append(
            {
                "unit": "passage",
                "interview_id": p.interview_id,
                "turn_index": int(p.turn_index),
                "passage_id": p.passage_id,
                "role": p.role,
                "section": t["section"],
                "confidence": t["confidence"],
                "evidence": "its turn",
            }
        )
    table = pd.concat([turn_table, pd.DataFrame(passage_rows)], ignore_index=True)
    save("segments", table, out_dir)
    save("segment_guide", guide_text, out_dir)
    counts = turn_table[turn_table.role == INTERVIEWEE]["section"].value_counts().to_dict()
    save(
        "segments_info",
        {
            "guide": guide.name,
            "guide_file": guide.source,
            "guide_origin": origin,
            "sections": guide.names,
            "fit": fit,
            "interviewee_turns_per_section": counts,
            "passages_sha256": info["passages_sha256"],
        },
        out_dir,
    )
    log.info(
        "sections of %d turns (%s)",
        len(turn_table),
        ", ".join(f"{k}: {v}" for k, v in counts.items()),
    )
    return table


def _try_suggested(out_dir, config, prep, passages, embedder, fit):
    """The built-in guide fits poorly: find one in the interviewers' questions and keep it
    when it fits better. None when none is found or it fits no better."""
    from ..core.catalog import artifact
    from .guide import guide_from_text, render_guide
    from .suggest import SuggestError, suggest_guide

    vectors, _ = load_embeddings(out_dir, passages)
    try:
        mapping = suggest_guide(prep.turns, passages, vectors, seed=config.themes.seed)
    except SuggestError as exc:
        log.info("the built-in guide fits poorly and no guide could be found in the data: %s", exc)
        return None
    text = render_guide(mapping, "insights segment (found in the data)")
    found = guide_from_text(text, str(artifact("segment_guide").location(out_dir)))
    found_prep = prepare(out_dir, config, found, embedder)
    table = assign_sections(found_prep, config.segment)
    found_fit = guide_fit(table, found, list(found_prep.sims.question_best.values()))
    # Kept only when it fits without problems and the decoder is at least as sure with it:
    # a guide found in loose questions (podcasts) is no improvement on a skewed default.
    better = not found_fit["poor"] and found_fit["mean_confidence"] >= fit["mean_confidence"]
    log.warning(
        "the built-in guide fits poorly (%s); a guide found in the interviewers' questions "
        "(%d sections: %s) %s",
        "; ".join(fit["problems"]),
        len(found.sections),
        ", ".join(found.names),
        "fits better and is used (OUT/guide.yaml; edit it and pass it with --guide)"
        if better
        else "fits no better; keeping the built-in one",
    )
    if not better:
        return None
    return found_prep, table, found_fit, text, fit


def guide_in_use(out_dir: Path, config: Config) -> Guide:
    """The guide the sections in ``out_dir`` follow (OUT/guide.yaml, written by the segment
    stage), or, for folders segmented before it was written, the configured one."""
    from ..core.catalog import artifact
    from .guide import guide_from_text

    path = artifact("segment_guide").location(Path(out_dir))
    if path.is_file() and path.stat().st_size:
        info = load("segments_info", Path(out_dir))
        return guide_from_text(
            path.read_text(encoding="utf-8"), info.get("guide_file") or str(path)
        )
    return load_guide(config.segment.guide)
