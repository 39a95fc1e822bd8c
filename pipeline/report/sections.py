"""The report's sections: for each section of the interview guide, its main themes.

A theme is listed in a section when enough conversations talk about it there
(``report.min_theme_conversations``); each one is summed up by the sentence of its passages
that carries most of its keywords, and quoted from another conversation where possible.
"""

from __future__ import annotations

import re

import pandas as pd

from ..core.config import Config
from ..evaluate.report import quote_problem
from ..results import OUTLIER, Results
from .findings import readable, strip_lead
from .quotes import QuoteMaker
from .schema import Section, SectionTheme
from .sentences import ParsedSentences


def _best_sentence(
    passage_ids: list[str], keywords: list[str], parsed: ParsedSentences
) -> int | None:
    """The row of the passages' sentence with most theme keywords (readable, not a question)."""
    table = parsed.table
    candidates = table[table["passage_id"].isin(passage_ids)]
    scored = []
    rank = {pid: i for i, pid in enumerate(passage_ids)}
    for r, row in candidates.iterrows():
        words = len(row["text"].split())
        if words < 6 or words > 40 or row["text"].rstrip().endswith("?"):
            continue
        words = set(row["lemmas"].split()) | set(re.findall(r"[a-z]+", row["text"].lower()))
        hits = sum(1 for k in keywords if k in words)
        if hits == 0:
            continue
        scored.append(((-hits, rank[row["passage_id"]], row["sentence_index"]), r))
    scored.sort()
    # The best-scoring sentence that can stand alone; else the best-scoring one.
    for _, r in scored[:30]:
        if readable(str(table.at[r, "text"])):
            return r
    return scored[0][1] if scored else None


def _section_theme(
    theme_id: int,
    n_conv: int,
    group: pd.DataFrame,
    keywords: list[str],
    label: str,
    parsed: ParsedSentences,
    quote: QuoteMaker,
) -> SectionTheme:
    """One theme of a section: its summary sentence and a quote, from its passages there."""
    ordered = group.sort_values(["probability", "passage_id"], ascending=[False, True])
    ids = ordered["passage_id"].tolist()
    lemma_keys = sorted({k for kw in keywords for k in re.split(r"[\s-]+", kw.lower()) if k})
    best = _best_sentence(ids, lemma_keys, parsed)
    if best is None:
        summary_quote = quote(ids[0])
    else:
        summary_quote = quote(
            parsed.table.at[best, "passage_id"], str(parsed.table.at[best, "text"])
        )
    # The summary reads as a statement: the quote's clean words without a spoken opener.
    summary = strip_lead(summary_quote.text)
    other = ordered[ordered["interview_id"] != summary_quote.interview_id]
    pool = (other if len(other) else ordered)["passage_id"].tolist()
    rep = quote(pool[0])
    for pid in pool[1:20]:  # the most typical passage whose quote reads cleanly
        if quote_problem(rep.text) is None:
            break
        rep = quote(pid)
    if quote_problem(rep.text) is not None:
        rep = quote(pool[0])
    return SectionTheme(
        theme_id=theme_id,
        label=label,
        keywords=keywords[:6],
        conversations=n_conv,
        passages=len(group),
        summary=summary,
        summary_source=summary_quote,
        quote=rep,
    )


def build_sections(
    r: Results, guide, parsed: ParsedSentences, cfg: Config, quote: QuoteMaker
) -> list[Section]:
    """The guide's sections in order, each with its main themes.

    Args:
        r: the earlier stages' results (themed passages, themes and their labels).
        guide: the interview guide; its sections give the report's sections and their order.
        parsed: the passages' sentences, from which each theme's summary sentence is chosen.
        cfg: the configuration (``report.min_theme_conversations``, ``report.themes_per_section``).
        quote: makes the summary's source and each theme's quote.

    Returns:
        One :class:`Section` per guide section; its themes are ranked by conversations, then
        passages, then theme id.
    """
    themed = r.passages_with_themes(themed_only=True)
    themed = themed[themed["theme_id"] != OUTLIER]
    labels = r.theme_labels()
    keywords = {
        int(t.theme_id): [k for k in str(t.keywords).split("; ") if k]
        for t in r.themes.itertuples()
    }
    out = []
    for section in guide.sections:
        here = themed[themed["section"] == section.name]
        rows = []
        for theme_id, group in here.groupby("theme_id", sort=True):
            n_conv = group["interview_id"].nunique()
            if n_conv < cfg.report.min_theme_conversations:
                continue
            rows.append((int(theme_id), n_conv, len(group), group))
        rows.sort(key=lambda t: (-t[1], -t[2], t[0]))
        themes = [
            _section_theme(
                theme_id,
                n_conv,
                group,
                keywords.get(theme_id, []),
                labels.get(theme_id, str(theme_id)),
                parsed,
                quote,
            )
            for theme_id, n_conv, _, group in rows[: cfg.report.themes_per_section]
        ]
        out.append(
            Section(
                name=section.name,
                description=section.description,
                passages=len(here),
                conversations=int(here["interview_id"].nunique()),
                themes=themes,
            )
        )
    return out
