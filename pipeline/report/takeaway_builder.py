"""The report's takeaways: the advice most conversations gave, each with a lesson and quotes.

:mod:`.advice` finds the advice points, :mod:`.takeaways` groups and ranks them; this module
embeds the advice sentences, counts the conversations that discuss a group's subject without
giving it as advice, and turns the top groups into :class:`Takeaway` entries. The groups left
over are returned for :mod:`.rare`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.catalog import cache_dir
from ..core.config import Config
from ..embed import embed_texts, make_embedder
from ..results import Results
from .advice import advice_score, strip_lead
from .quotes import QuoteMaker
from .schema import Takeaway
from .sentences import ParsedSentences
from .takeaways import group_points, headline_for, normalise, rank_groups


def embed(texts: list[str], out_dir: Path, cfg: Config, embedder=None) -> np.ndarray:
    """Sentences embedded with the run's model, through the output folder's cache.

    Args:
        texts: the sentences.
        out_dir: the output folder (its embedding cache is used).
        cfg: the configuration (``embed`` settings).
        embedder: an embedder to reuse (default: one made from ``cfg.embed``).

    Returns:
        One row per text (a ``(0, 1)`` array for no text).
    """
    if not texts:
        return np.zeros((0, 1))
    embedder = embedder or make_embedder(cfg.embed, cache_dir(out_dir))
    vectors, _ = embed_texts(texts, embedder, cache_dir(out_dir), use_cache=cfg.embed.cache)
    return np.asarray(vectors, dtype=np.float64)


def advice_sentences(points, table: pd.DataFrame) -> tuple[list[int], list[int]]:
    """The sentences that carry each point's advice: its first, and any later imperative or
    advice phrase (the rest of a point is context, which would blur its meaning).

    Args:
        points: the advice points (:class:`~.advice.AdvicePoint`).
        table: the parsed sentences table the points' rows index.

    Returns:
        The sentence rows, and for each the index of the point it belongs to.
    """
    rows, owner = [], []
    for k, p in enumerate(points):
        for j, r in enumerate(p.rows):
            if j == 0 or table.at[r, "imperative"] or table.at[r, "advice_cue"]:
                rows.append(r)
                owner.append(k)
    return rows, owner


def _mark_also_discussed(
    groups: list, r: Results, passage_vectors: np.ndarray, cfg: Config
) -> None:
    """Set each group's ``also_discussed``: conversations that talk about its subject (a close
    interviewee passage using one of its top words) without giving it as advice."""
    passages = r.passages.reset_index(drop=True)
    mask = (passages["role"] == "interviewee").to_numpy()
    pv = normalise(passage_vectors[mask])
    p_interviews = passages.loc[mask, "interview_id"].to_numpy()
    p_lemmas = passages.loc[mask, "lemmas"].fillna("").to_numpy()
    for g in groups:
        top_words = set(g.keywords[:3])
        close = (pv @ g.centroid) >= cfg.report.also_discussed_similarity
        also = set()
        for i in np.flatnonzero(close):
            if p_interviews[i] not in g.interviews and top_words & set(str(p_lemmas[i]).split()):
                also.add(str(p_interviews[i]))
        g.also_discussed = sorted(also)


def build_takeaways(
    r: Results,
    parsed: ParsedSentences,
    cfg: Config,
    quote: QuoteMaker,
    out_dir: Path,
    passage_vectors: np.ndarray,
    points: list,
    embedder=None,
) -> tuple[list[Takeaway], list]:
    """Group the advice points and make the top groups the report's takeaways.

    Args:
        r: the earlier stages' results (passages and interviews are read).
        parsed: the passages' sentences, which the points' rows index.
        cfg: the configuration (``report`` grouping settings, and ``embed`` for the sentences).
        quote: makes the lessons' sources and the takeaways' quotes.
        out_dir: the output folder, whose embedding cache is used.
        passage_vectors: the passages' embeddings, aligned with ``r.passages``.
        points: the advice points found in ``parsed``.
        embedder: an embedder to reuse (default: one made from ``cfg.embed``).

    Returns:
        Up to ``report.takeaways`` takeaways (groups given by two or more conversations, in
        rank order), and the other groups in rank order.
    """
    table = parsed.table
    if not points:
        return [], []
    rows, owner = advice_sentences(points, table)
    vectors = embed([strip_lead(str(table.at[i, "text"])) for i in rows], out_dir, cfg, embedder)
    groups = group_points(
        points,
        np.asarray(owner),
        vectors,
        [str(table.at[i, "lemmas"]) for i in rows],
        [p.score for p in points],
        cfg.report.group_threshold,
        cfg.report.word_weight,
    )
    for g in groups:
        g.headline = headline_for(g, table, parsed.spans)
    _mark_also_discussed(groups, r, passage_vectors, cfg)
    ranked = rank_groups(groups)
    n_conv = len(r.interviews)
    takeaways, rest = [], []
    for g in ranked:
        if len(takeaways) < cfg.report.takeaways and len(g.interviews) >= 2:
            takeaways.append(
                _takeaway(len(takeaways) + 1, g, table, quote, n_conv, cfg, (rows, owner))
            )
        else:
            rest.append(g)
    return takeaways, rest


def _lesson_row(g, table: pd.DataFrame, all_rows: list[int]) -> int:
    """The group's advice sentence that is most advice-like, central, and uses its key words."""
    key = set(g.keywords[:3])
    sentence_sims = g.vectors @ g.centroid

    def lesson_key(j: int):
        r = all_rows[g.sentences[j]]
        score = advice_score(
            bool(table.at[r, "imperative"]),
            bool(table.at[r, "advice_cue"]),
            bool(table.at[r, "enumerated"]),
            bool(table.at[r, "advice_answer"]),
        )
        hits = len(key & set(str(table.at[r, "lemmas"]).split()))
        return (-(score * float(sentence_sims[j]) + 0.1 * hits), r)

    return all_rows[g.sentences[min(range(len(g.sentences)), key=lesson_key)]]


def _group_quotes(g, table: pd.DataFrame, quote: QuoteMaker, limit: int) -> list:
    """Up to ``limit`` of the group's points, one per conversation, closest to its centre first."""
    quotes, seen = [], set()
    for i in sorted(range(len(g.points)), key=lambda i: (-g.point_sims[i], g.points[i].passage_id)):
        p = g.points[i]
        if p.interview_id in seen:
            continue
        seen.add(p.interview_id)
        quotes.append(quote(p.passage_id, p.text(table)))
        if len(quotes) == limit:
            break
    return quotes


def _takeaway(
    rank: int,
    g,
    table: pd.DataFrame,
    quote: QuoteMaker,
    n_conv: int,
    cfg: Config,
    advice_sentence_rows: tuple[list[int], list[int]],
) -> Takeaway:
    all_rows, _ = advice_sentence_rows
    lesson_row = _lesson_row(g, table, all_rows)
    lesson = strip_lead(str(table.at[lesson_row, "text"]))
    lesson_pid = str(table.at[lesson_row, "passage_id"])
    quotes = _group_quotes(g, table, quote, cfg.report.quotes_per_takeaway)
    also = len(g.also_discussed or [])
    summary = f"{len(g.interviews)} of {n_conv} conversations gave this advice" + (
        f", and {also} more discussed it." if also else "."
    )
    return Takeaway(
        rank=rank,
        headline=g.headline,
        summary=summary,
        lesson=lesson,
        lesson_source=quote(lesson_pid, str(table.at[lesson_row, "text"])),
        keywords=g.keywords,
        support=len(g.interviews),
        also_discussed=len(g.also_discussed or []),
        conversations=n_conv,
        strength=round(float(g.strength), 3),
        interviews=g.interviews,
        quotes=quotes,
    )
