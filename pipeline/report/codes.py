"""The codes part of the report: the researcher's codebook as applied to the whole corpus.

Per code: how many conversations carry it (theirs and learnt), where it sits in the guide's
sections, the themes its passages gather in, one of their own excerpts and the learnt
passages it was most sure of. Themes where no code's passages gather are named as new
ground: what the codebook does not cover.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from ..core.catalog import ArtifactError, load
from .quotes import QuoteMaker
from .schema import CodeSummary, CodingPart, Quote

LEARNT_QUOTES = 2
THEME_SHARE = 0.25
"""A theme is listed for a code when at least this share of the code's passages are in it;
a theme where no code reaches this share of the theme's passages is new ground."""


def _passages_of(coding: pd.DataFrame, passages: pd.DataFrame) -> pd.DataFrame:
    """Coding rows x passages: a passage row is its own unit; an excerpt or a turn reaches
    every passage of the turns it spans."""
    by_turn = passages.groupby(["interview_id", "turn_index"])["passage_id"].agg(list).to_dict()
    rows = []
    for r in coding.itertuples():
        if r.unit == "passage":
            rows.append((r.code, r.source, str(r.unit_id)))
            continue
        first = int(r.turn_index)
        last = int(r.last_turn) if not pd.isna(r.last_turn) else first
        for ti in range(first, last + 1):
            for pid in by_turn.get((str(r.interview_id), ti), []):
                rows.append((r.code, r.source, str(pid)))
    return pd.DataFrame(rows, columns=["code", "source", "passage_id"]).drop_duplicates()


def _quote_of(row, passages_by_turn: dict, quote: QuoteMaker) -> Quote | None:
    """A quote of a coding row: the passage itself, or the researcher's excerpt words shown
    at the first passage of its first turn."""
    if row.unit == "passage":
        return quote.excerpt(str(row.unit_id))
    first = int(row.turn_index)
    last = int(row.last_turn) if not pd.isna(row.last_turn) else first
    for ti in range(first, last + 1):
        pids = passages_by_turn.get((str(row.interview_id), ti))
        if pids:
            return (
                quote(pids[0], str(row.text)) if row.unit == "excerpt" else quote.excerpt(pids[0])
            )
    return None


def build_coding(out_dir, passages: pd.DataFrame, quote: QuoteMaker, labels: dict[int, str]):
    """The :class:`CodingPart`, or None when the code stage had no coding to apply.

    Args:
        out_dir: the output folder (coding/ artifacts).
        passages: passages with their ``theme_id`` and ``section``.
        quote: the report's quote maker.
        labels: theme id -> label.
    """
    try:
        info = load("coding_info", out_dir)
    except ArtifactError:
        return None
    if not info.get("enabled"):
        return None
    coding = load("coding", out_dir)
    codes = load("codes", out_dir)
    passages = passages.assign(theme_id=passages["theme_id"].fillna(-1).astype(int))
    theme_of = dict(zip(passages["passage_id"], passages["theme_id"]))
    reach = _passages_of(coding, passages)
    reach["theme_id"] = reach["passage_id"].map(theme_of).fillna(-1).astype(int)
    by_turn = (
        passages.sort_values(["interview_id", "turn_index", "passage_index"])
        .groupby(["interview_id", "turn_index"])["passage_id"]
        .agg(list)
        .to_dict()
    )
    role = {
        (str(i), int(t)): str(r)
        for i, t, r in zip(passages["interview_id"], passages["turn_index"], passages["role"])
    }

    def interviewer_first_turn(rows: pd.DataFrame) -> pd.Series:
        # Quotes are what participants said: an interviewer's coded words are quoted last.
        return pd.Series(
            [
                role.get((str(i), int(t))) == "interviewer"
                for i, t in zip(rows["interview_id"], rows["turn_index"])
            ],
            index=rows.index,
        )

    summaries = []
    for c in codes.itertuples():
        mine = coding[coding["code"] == c.code]
        if not len(mine):
            continue
        human = mine[mine["source"] == "human"]
        machine = mine[mine["source"] == "machine"].sort_values(
            ["confidence", "unit_id"], ascending=[False, True], kind="stable"
        )
        human_q = human.assign(_asked=interviewer_first_turn(human)).sort_values(
            "_asked", kind="stable"
        )
        machine_q = machine.assign(_asked=interviewer_first_turn(machine)).sort_values(
            "_asked", kind="stable"
        )
        quotes, notes, learnt = [], [], 0
        seen: set[str] = set()
        for r in human_q.itertuples():  # one of the researcher's own, for what the code means
            q = _quote_of(r, by_turn, quote)
            if q is not None:
                quotes.append(q)
                notes.append("coded by you")
                seen.add(str(r.interview_id))
                break
        for r in machine_q.itertuples():
            if learnt >= LEARNT_QUOTES:
                break
            if str(r.interview_id) in seen:
                continue
            q = _quote_of(r, by_turn, quote)
            if q is not None:
                quotes.append(q)
                notes.append(f"learnt, confidence {float(r.confidence):.2f}")
                learnt += 1
                seen.add(str(r.interview_id))
        themed = reach[(reach["code"] == c.code) & (reach["theme_id"] >= 0)]
        counts = Counter(themed["theme_id"])
        total = sum(counts.values())
        themes = [
            labels.get(t, str(t))
            for t, n in counts.most_common(3)
            if total and n / total >= THEME_SHARE
        ]
        sections = Counter(s for s in mine["section"].fillna("") if s)
        f1 = c.expected_f1
        summaries.append(
            CodeSummary(
                code=c.code,
                description=str(c.description or ""),
                conversations=int(mine["interview_id"].nunique()),
                researcher_excerpts=int(human["unit_id"].nunique()),
                researcher_conversations=int(human["interview_id"].nunique()),
                learnt_units=int(machine["unit_id"].nunique()),
                learnt_conversations=int(machine["interview_id"].nunique()),
                few_shot=bool(c.few_shot) if not pd.isna(c.few_shot) else False,
                expected_f1=None if pd.isna(f1) else round(float(f1), 2),
                sections=dict(sections.most_common()),
                themes=themes,
                quotes=quotes,
                quote_notes=notes,
            )
        )
    summaries.sort(
        key=lambda s: (-s.conversations, -s.researcher_excerpts - s.learnt_units, s.code)
    )
    return CodingPart(
        source=str(info.get("source", "")),
        unit=str(info.get("unit", "")),
        unit_reason=str(info.get("unit_reason", "")),
        excerpts=int(info["located"]["excerpts"]),
        located=int(info["located"]["located"]),
        coded_conversations=len(info.get("coded_interviews", [])),
        learnt_conversations=int(
            coding.loc[coding["source"] == "machine", "interview_id"].nunique()
        ),
        codes=summaries,
        new_themes=_new_themes(reach, passages, labels),
        notes=[str(n) for n in info.get("notes", [])],
    )


def _new_themes(reach: pd.DataFrame, passages: pd.DataFrame, labels: dict[int, str]) -> list[str]:
    """Themes where no single code holds :data:`THEME_SHARE` of the theme's passages."""
    sizes = passages[passages["theme_id"] >= 0].groupby("theme_id")["passage_id"].nunique()
    themed = reach[reach["theme_id"] >= 0]
    per = themed.groupby(["theme_id", "code"])["passage_id"].nunique()
    out = []
    for theme, size in sizes.items():
        best = per.loc[theme].max() if theme in per.index.get_level_values(0) else 0
        if best / max(1, size) < THEME_SHARE:
            out.append(labels.get(int(theme), str(theme)))
    return out
