"""The segment stage: sections of every turn and passage, through the catalog."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import nlp
from ..core.catalog import cache_dir, load, save
from ..core.config import Config
from ..embed import embed_texts, load_embeddings, make_embedder
from ..ingest.roles import INTERVIEWEE
from .evidence import GuideVectors, _turn_vectors, decode, gather_evidence
from .guide import Guide, load_guide

log = logging.getLogger(__name__)


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
    guide = guide or load_guide(cfg.guide)
    turns = (
        load("turns", out_dir).sort_values(["interview_id", "turn_index"]).reset_index(drop=True)
    )
    passages = load("passages", out_dir)
    vectors, info = load_embeddings(out_dir, passages)
    store = cache_dir(out_dir)
    embedder = embedder or make_embedder(config.embed, store)

    def encode(texts: list[str]) -> np.ndarray:
        return embed_texts(list(texts), embedder, store, config.embed.cache)[0]

    gv = GuideVectors(guide, encode)
    turn_vecs = _turn_vectors(turns, passages, vectors)

    answers = turns[(turns.role == INTERVIEWEE) & (turns.language.isin(["en", "und"]))]
    english = nlp.english()
    docs = {
        (r.interview_id, int(r.turn_index)): doc
        for r, doc in zip(
            answers.itertuples(),
            english.pipe(answers["clean_text"].fillna("").tolist(), batch_size=64),
        )
    }
    rows = []
    other_languages = []
    for interview_id, conv in turns.groupby("interview_id", sort=True):
        conv = conv.sort_values("turn_index")
        is_english = conv["language"].iloc[0] in ("en", "und")
        if not is_english:
            other_languages.append(f"{interview_id} ({conv['language'].iloc[0]})")
        ev = gather_evidence(conv, guide, gv, turn_vecs, docs, cfg, is_english)
        path, confidence, alone = decode(ev, cfg, len(guide.sections))
        for t, row in enumerate(conv.itertuples()):
            notes = [n for n in ev.notes[t] if n]
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
    if other_languages:
        log.warning(
            "segmenting %s with headings, question similarity and order only (grammar cues are "
            "English-only)",
            ", ".join(other_languages),
        )
    turn_table = pd.DataFrame(rows)
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
    counts = turn_table[turn_table.role == INTERVIEWEE]["section"].value_counts().to_dict()
    save(
        "segments_info",
        {
            "guide": guide.name,
            "guide_file": guide.source,
            "sections": guide.names,
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
