"""Interviewee sentences, parsed once, with what the report needs to know about each.

Every later step (advice, numbers, backgrounds, summaries) reads this one table, so
a sentence is parsed once and every quote points back to the same passage.

The table holds whole sentences only: spaCy also splits after a pause ("…") or a line
break in the middle of a sentence, and a piece that starts with a lowercase letter or
punctuation (", but we had issues") is joined to the sentence before it in the same
passage (:func:`whole_sentences`), so a quote made of table sentences never starts
mid-sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .advice import ADVICE_QUESTION_RE, advice_features
from .parses import full_parses

# A piece that continues the sentence before it: it starts with a lowercase letter (not the
# pronoun "i") or with punctuation other than an opening quote or bracket.
_CONTINUES_RE = re.compile(r"^(?:[a-z](?<!i)|i(?=[a-z])|[,;:.!?)\]}…\-–—])")


def continues_sentence(text: str) -> bool:
    """Whether a piece split off as a sentence continues the one before it.

    Args:
        text: the piece, e.g. ", but we have had issues" or "and then it broke."

    Returns:
        True when it starts with a lowercase letter or with punctuation that cannot
        open a sentence; False for a capital, a digit, a quote mark or a bracket.
    """
    return bool(_CONTINUES_RE.match(text.strip()))


def merge_continuations(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join every sentence that continues the one before it (see :func:`continues_sentence`).

    Args:
        text: the text the spans index.
        spans: ``(start, end)`` character offsets of its sentences, in order.

    Returns:
        The spans of its whole sentences. Unchanged when no sentence starts with a capital,
        a digit or a quote mark (an all-lowercase transcript has no sentence starts to go by).
    """
    pieces = [(a, b) for a, b in spans if text[a:b].strip()]
    if all(continues_sentence(text[a:b]) for a, b in pieces):
        return pieces
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        if out and continues_sentence(text[a:b]):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def whole_sentences(doc) -> list:
    """The whole sentences of a parsed text, as spaCy spans (pieces merged, see above).

    Args:
        doc: a spaCy ``Doc`` with sentence boundaries.

    Returns:
        One span per whole sentence, in order; blank pieces left out.
    """
    sents = list(doc.sents)
    merged = merge_continuations(doc.text, [(s.start_char, s.end_char) for s in sents])
    out = []
    for start_char, end_char in merged:
        first = next(s for s in sents if s.start_char == start_char)
        last = next(s for s in sents if s.end_char == end_char)
        out.append(doc[first.start : last.end])
    return out


SENTENCE_COLUMNS = [
    "passage_id",
    "interview_id",
    "turn_index",
    "passage_index",
    "sentence_index",
    "text",
    "section",
    "question",
    "advice_answer",
    "lemmas",
    "imperative",
    "advice_cue",
    "enumerated",
    "preamble",
    "n_content",
]


@dataclass
class ParsedSentences:
    table: pd.DataFrame  # one row per sentence
    spans: list  # spaCy Span per row, same order
    # Passage text -> (start, end) of each whole sentence, from the same parse: quotes split
    # the passages on these instead of parsing them again.
    offsets: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def preceding_questions(turns: pd.DataFrame) -> dict[tuple[str, int], str]:
    """(interview, turn) -> the last interviewer turn before it: the question it answers.

    Args:
        turns: the turns table.

    Returns:
        For every turn not the interviewer's, the interviewer's last words before it
        (``""`` when none came before).
    """
    out: dict[tuple[str, int], str] = {}
    for interview_id, group in turns.sort_values(["interview_id", "turn_index"]).groupby(
        "interview_id", sort=True
    ):
        last = ""
        for row in group.itertuples():
            if row.role == "interviewer":
                last = str(row.text)
            else:
                out[(interview_id, int(row.turn_index))] = last
    return out


def parse_sentences(
    passages: pd.DataFrame, turns: pd.DataFrame, store: Path | None = None
) -> ParsedSentences:
    """Split interviewee passages (main language) into parsed sentences with advice features.

    Args:
        passages: the passages table (with their sections).
        turns: the turns table, for the question each passage answers.
        store: the cache folder the passages' parses are kept in (see :mod:`.parses`).

    Returns:
        The sentences table (one row per sentence with letters in it) and the spaCy
        sentence of each row.
    """
    questions = preceding_questions(turns)
    rows, spans = [], []
    offsets: dict[str, list[tuple[int, int]]] = {}
    keep = passages[
        (passages["role"] == "interviewee")
        & passages["in_main_language"].fillna(False).astype(bool)
    ]
    keep = keep.sort_values(["interview_id", "turn_index", "passage_index"])
    texts = keep["text"].astype(str).tolist()
    docs = full_parses(texts, store)
    for row, doc in zip(keep.itertuples(), docs, strict=True):
        question = questions.get((row.interview_id, int(row.turn_index)), "")
        advice_answer = bool(ADVICE_QUESTION_RE.search(question))
        index = 0
        whole = whole_sentences(doc)
        offsets[doc.text] = [(sent.start_char, sent.end_char) for sent in whole]
        for sent in whole:
            text = sent.text.strip()
            if not re.search(r"[A-Za-z]", text):
                continue
            features = advice_features(sent)
            rows.append(
                {
                    "passage_id": row.passage_id,
                    "interview_id": row.interview_id,
                    "turn_index": int(row.turn_index),
                    "passage_index": int(row.passage_index),
                    "sentence_index": index,
                    "text": text,
                    "section": row.section if isinstance(row.section, str) else None,
                    "question": question,
                    "advice_answer": advice_answer,
                    "lemmas": " ".join(
                        t.lemma_.lower()
                        for t in sent
                        if t.is_alpha and not t.is_stop and len(t) > 1
                    ),
                    **features,
                }
            )
            spans.append(sent)
            index += 1
    # Columns even with no sentence (a note with nothing to analyse, text in another script).
    table = pd.DataFrame(rows, columns=None if rows else SENTENCE_COLUMNS)
    return ParsedSentences(table, spans, offsets)
