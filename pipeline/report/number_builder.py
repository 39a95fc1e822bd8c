"""The report's numbers: rates, hours, counts and the like that people said, summed up.

:mod:`.numbers` reads the quantities of one sentence; this module gathers them over the
corpus into one :class:`NumberFact` per kind of quantity, with its median over conversations
and every mention quoted.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .numbers import KINDS, extract_from_sentence
from .quotes import QuoteMaker
from .schema import NumberFact, NumberMention
from .sentences import ParsedSentences


def build_numbers(
    parsed: ParsedSentences,
    quote: QuoteMaker,
    guide_order: list[str],
    kinds: tuple[str, ...] = tuple(KINDS),
    min_conversations: int = 2,
) -> list[NumberFact]:
    """The kinds of quantity people named, with their median and each mention.

    Args:
        parsed: the passages' sentences (their text, question and spaCy spans are read).
        quote: makes each mention's quote.
        guide_order: the guide's section names, the order of the per-section medians.
        kinds: the kinds to report (the profile's ``numbers``); none: no numbers at all.
        min_conversations: a family needs mentions from this many conversations: one
            person's figure is an anecdote, and one misread number must not make a family.

    Returns:
        One fact per (kind, what), in the order of :data:`~.numbers.KINDS`, then by most
        conversations. The median is over conversations (each one's own median first), so a
        talkative person does not outweigh the rest; per-section medians are only kept when
        they differ.
    """
    if not kinds:
        return []
    table = parsed.table
    found = defaultdict(list)  # (kind, what) -> [(interview, section, Quantity, row)]
    for r, (row, span) in enumerate(zip(table.itertuples(index=False), parsed.spans, strict=True)):
        context = f"{row.text} {row.question}"
        for q in extract_from_sentence(span, context):
            if q.kind in kinds:
                found[(q.kind, q.what)].append((row.interview_id, row.section, q, r))
    facts = []
    for (kind, what), items in found.items():
        per_interview = defaultdict(list)
        for interview_id, _, q, _ in items:
            per_interview[interview_id].append(q.value)
        if len(per_interview) < min_conversations:
            continue
        medians = [float(np.median(v)) for _, v in sorted(per_interview.items())]
        by_section = defaultdict(list)
        for _, section, q, _ in items:
            if section:
                by_section[section].append(q.value)
        section_medians = {
            s: round(float(np.median(by_section[s])), 2) for s in guide_order if s in by_section
        }
        if len(set(section_medians.values())) <= 1:
            section_medians = {}
        mentions = [
            NumberMention(
                low=q.low,
                high=q.high,
                value=q.value,
                approximate=q.approximate,
                span=q.span,
                quote=quote(table.at[r, "passage_id"], table.at[r, "text"]),
            )
            for _, _, q, r in sorted(
                items, key=lambda t: (t[0], table.at[t[3], "passage_id"], t[2].start)
            )
        ]
        label = KINDS[kind] if kind != "count_of" else f"'{what}' people counted"
        facts.append(
            NumberFact(
                kind=kind,
                label=label,
                what=what,
                median=round(float(np.median(medians)), 2),
                low=min(q.low for _, _, q, _ in items),
                high=max(q.high for _, _, q, _ in items),
                n_conversations=len(per_interview),
                n_mentions=len(items),
                by_section=section_medians,
                mentions=mentions,
            )
        )
    order = list(KINDS)
    return sorted(facts, key=lambda f: (order.index(f.kind), -f.n_conversations, f.what))
