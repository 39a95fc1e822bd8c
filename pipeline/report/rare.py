"""The report's rare points: advice and themes only one or a few conversations brought up.

A takeaway needs support; a good idea one person had does not. These are the advice groups
left after the takeaways (with an advice profile) and the themes raised substantively by at
most ``report.rare_max_conversations`` conversations.
"""

from __future__ import annotations

import pandas as pd

from ..core.config import Config
from ..evaluate.report import headline_problem
from .quotes import QuoteMaker
from .schema import RarePoint


def _is_advice(point, table: pd.DataFrame, min_score: float) -> bool:
    """Whether a point is given as advice: advice phrases in passing ("with a focus on ...")
    are not; imperatives and answers to advice questions are."""
    first = point.rows[0]
    given = table.at[first, "imperative"] or table.at[first, "advice_answer"]
    return not (point.score < min_score or not given)


def build_rare(
    rest: list, rare_themes: list[RarePoint], table: pd.DataFrame, quote: QuoteMaker, cfg: Config
) -> list[RarePoint]:
    """Advice and themes from only a few conversations.

    Args:
        rest: the advice groups that did not become takeaways (from
            :func:`~.takeaway_builder.build_takeaways`; empty without an advice profile).
        rare_themes: the themes of one or two conversations (from
            :func:`~.findings.build_findings`), fewest conversations first.
        table: the parsed sentences table the groups' points index.
        quote: makes each advice point's quote (its strongest advice).
        cfg: the configuration (``report.rare_max_conversations``, ``report.rare_max_items``,
            ``report.advice_min_score``).

    Returns:
        Up to ``report.rare_max_items`` points: the advice first (fewest conversations first,
        then by headline), then the themes.
    """
    out = []
    limit = cfg.report.rare_max_conversations
    for g in rest:
        if len(g.interviews) > limit:
            continue
        best = max(g.points, key=lambda p: (p.score, -len(p.passage_id), p.passage_id))
        if not _is_advice(best, table, cfg.report.advice_min_score):
            continue
        # A verb phrase cut from one sentence ("Be really") is no headline: leave it out
        # rather than show a fragment (the same rule `insights evaluate report` applies).
        if headline_problem(g.headline):
            continue
        out.append(
            RarePoint(
                kind="advice",
                headline=g.headline,
                conversations=len(g.interviews),
                interviews=g.interviews,
                quote=quote(best.passage_id, best.text(table)),
            )
        )
    out.sort(key=lambda p: (p.conversations, p.headline))
    out += rare_themes
    return out[: cfg.report.rare_max_items]
