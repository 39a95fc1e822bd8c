"""Evaluate sections against a hand-labelled gold file, beside two baselines.

Gold file columns: ``interview``, ``turn`` (turn index) or ``text`` (the start of the
answer as written), and ``section`` (``-`` for a turn outside the conversation, which is
left out). Measures: accuracy, macro-F1, and the
segmentation measures Pk and WindowDiff (Beeferman et al.; Pevzner & Hearst), computed
per conversation over the gold-labelled turns in order, with k = half the mean gold
segment length. Baselines, computed in the same run: position only (each call cut
into equal parts, one per section) and question similarity only (each turn takes the
section of the last interviewer question that matched the guide).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from sklearn.metrics import f1_score

from ..core.catalog import SEGMENTS, TURNS, cache_dir, read_table
from ..ingest.roles import INTERVIEWER
from .gold import read_gold_csv

# Gold labels for turns that are not part of the conversation (a sponsor break, a
# transcriber's header): they are left out of every measure.
NOT_IN_CONVERSATION = ("-", "")


def segment_ids(labels: list[str]) -> list[int]:
    """0,0,1,1,2 for a,a,b,b,a: a new id at every change of label."""
    ids, current = [], 0
    for i, label in enumerate(labels):
        if i and label != labels[i - 1]:
            current += 1
        ids.append(current)
    return ids


def window_size(reference: list[str]) -> int:
    ids = segment_ids(reference)
    n_segments = ids[-1] + 1 if ids else 1
    return max(1, round(len(reference) / n_segments / 2))


def _window_errors(
    reference: list[str], hypothesis: list[str], k: int | None, disagree
) -> tuple[float, int]:
    k = k or window_size(reference)
    ref, hyp = segment_ids(reference), segment_ids(hypothesis)
    windows = len(reference) - k
    if windows <= 0:
        return 0.0, 0
    errors = sum(disagree(ref[i], ref[i + k], hyp[i], hyp[i + k]) for i in range(windows))
    return errors / windows, windows


def pk(reference: list[str], hypothesis: list[str], k: int | None = None) -> tuple[float, int]:
    """(error rate, windows): does a window straddle a boundary in one but not the other?"""
    return _window_errors(reference, hypothesis, k, lambda r0, r1, h0, h1: (r0 == r1) != (h0 == h1))


def window_diff(
    reference: list[str], hypothesis: list[str], k: int | None = None
) -> tuple[float, int]:
    """(error rate, windows): does a window hold a different number of boundaries?"""
    return _window_errors(reference, hypothesis, k, lambda r0, r1, h0, h1: (r1 - r0) != (h1 - h0))


def read_gold_sections(path: Path) -> pd.DataFrame:
    gold = read_gold_csv(path)
    columns = set(gold.columns)
    if not {"interview", "section"} <= columns or not {"turn", "text"} & columns:
        raise ValueError(
            f"{path}: needs columns interview, section and turn or text; found "
            f"{', '.join(gold.columns)}"
        )
    return gold


def locate_turns(gold: pd.DataFrame, turns: pd.DataFrame) -> pd.DataFrame:
    """Add ``turn_index`` to each gold row (by its turn column, or by finding its text)."""
    out = gold.copy()
    indices: list[int | None] = []
    used: set[tuple[str, int]] = set()
    by_interview = {k: g.sort_values("turn_index") for k, g in turns.groupby("interview_id")}
    for row in out.itertuples():
        group = by_interview.get(row.interview)
        found = None
        if (
            group is not None
            and "turn" in out.columns
            and str(getattr(row, "turn", "")).strip().lstrip("-").isdigit()
        ):
            candidate = int(row.turn)
            found = candidate if candidate in set(group.turn_index) else None
        elif group is not None:
            target = " ".join(str(row.text).split())
            best = (0.0, None)
            for t, text in zip(group.turn_index, group.text):
                key = (row.interview, int(t))
                if key in used:
                    continue
                flat = " ".join(str(text).split())
                score = 100.0 if target and target in flat else fuzz.partial_ratio(target, flat)
                if score > best[0]:
                    best = (score, int(t))
                if score == 100.0:
                    break
            if best[1] is not None and best[0] >= 90:
                found = best[1]
        if found is not None:
            used.add((row.interview, found))
        indices.append(found)
    out["turn_index"] = indices
    return out


def position_baseline(turns: pd.DataFrame, sections: list[str]) -> dict[tuple[str, int], str]:
    out = {}
    for interview, conv in turns.groupby("interview_id"):
        order = sorted(conv.turn_index.astype(int))
        for rank, t in enumerate(order):
            out[(interview, t)] = sections[
                min(len(sections) - 1, rank * len(sections) // len(order))
            ]
    return out


def question_baseline(
    turns: pd.DataFrame, question_sections: dict[tuple[str, int], str], first: str
) -> dict[tuple[str, int], str]:
    out = {}
    for interview, conv in turns.groupby("interview_id"):
        current = first
        for t in sorted(conv.turn_index.astype(int)):
            current = question_sections.get((interview, t), current)
            out[(interview, t)] = current
    return out


def score(gold: pd.DataFrame, predicted: dict[tuple[str, int], str]) -> dict[str, float]:
    located = gold.dropna(subset=["turn_index"])
    truth = located["section"].tolist()
    guess = [predicted.get((r.interview, int(r.turn_index)), "") for r in located.itertuples()]
    labels = sorted(set(truth))
    pk_sum = wd_sum = windows = 0.0
    for interview, group in located.groupby("interview"):
        group = group.sort_values("turn_index")
        ref = group["section"].tolist()
        hyp = [predicted.get((interview, int(t)), "") for t in group.turn_index]
        k = window_size(ref)
        p, n = pk(ref, hyp, k)
        w, _ = window_diff(ref, hyp, k)
        pk_sum += p * n
        wd_sum += w * n
        windows += n
    return {
        "accuracy": round(
            float(np.mean([a == b for a, b in zip(truth, guess)])) if truth else 0.0, 4
        ),
        "macro_f1": round(
            float(f1_score(truth, guess, labels=labels, average="macro", zero_division=0)), 4
        ),
        "pk": round(pk_sum / windows, 4) if windows else 0.0,
        "window_diff": round(wd_sum / windows, 4) if windows else 0.0,
    }


def evaluate_segments(out_dir: Path, config, *, gold: Path, embedder=None) -> dict:
    """Sections against a gold file, beside the position-only and question-similarity baselines.

    Args:
        out_dir: the output folder holding the segments.
        config: the effective configuration (its guide is the one scored).
        gold: CSV of ``interview, turn or text, section``.
        embedder: an embedder to reuse for the question baseline.

    Returns:
        Accuracy, macro-F1, Pk and WindowDiff per system, located/unlocated gold rows.
    """
    from ..core import lineage
    from ..embed import embed_texts, make_embedder
    from ..segment.evidence import GuideVectors
    from ..segment.stage import guide_in_use

    gold_path = gold
    out_dir = Path(out_dir)
    lineage.require(out_dir, "segment", config)
    turns = read_table(TURNS, out_dir)
    segments = read_table(SEGMENTS, out_dir)
    guide = guide_in_use(out_dir, config)
    gold = read_gold_sections(gold_path)
    outside = gold.section.isin(NOT_IN_CONVERSATION)
    gold = locate_turns(gold[~outside].reset_index(drop=True), turns)
    unknown = sorted(set(gold.section) - set(guide.names))
    if unknown:
        raise ValueError(
            f"{gold_path}: sections {', '.join(unknown)} are not in the guide "
            f"({', '.join(guide.names)})"
        )
    ours = {
        (r.interview_id, int(r.turn_index)): r.section
        for r in segments[segments.unit == "turn"].itertuples()
    }

    store = cache_dir(out_dir)
    embedder = embedder or make_embedder(config.embed, store)
    gv = GuideVectors(
        guide, lambda texts: embed_texts(list(texts), embedder, store, config.embed.cache)[0]
    )
    questions = turns[(turns.role == INTERVIEWER) & turns.clean_text.fillna("").str.strip().ne("")]
    q_sections = {}
    if len(questions):
        sims = gv.question_similarity(gv.encode(questions.clean_text.tolist()))
        for (interview, t), row in zip(
            zip(questions.interview_id, questions.turn_index.astype(int)), sims
        ):
            if row.max() >= config.segment.question_min_similarity:
                q_sections[(interview, t)] = guide.names[int(row.argmax())]
    return {
        "gold": str(gold_path),
        "rows": len(gold),
        "outside_conversation": int(outside.sum()),
        "located": int(gold.turn_index.notna().sum()),
        "not_found": [
            f"{r.interview}: {str(getattr(r, 'text', ''))[:60]}"
            for r in gold[gold.turn_index.isna()].itertuples()
        ],
        "interview-insights": score(gold, ours),
        "position only": score(gold, position_baseline(turns, guide.names)),
        "question similarity only": score(
            gold, question_baseline(turns, q_sections, guide.names[0])
        ),
    }
