"""Interviewee sentences, parsed once, with what the report needs to know about each.

Every later step (advice, numbers, backgrounds, summaries) reads this one table, so
a sentence is parsed once and every quote points back to the same passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..core import nlp
from .advice import ADVICE_QUESTION_RE, advice_features


@dataclass
class ParsedSentences:
    table: pd.DataFrame  # one row per sentence
    spans: list  # spaCy Span per row, same order


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


def parse_sentences(passages: pd.DataFrame, turns: pd.DataFrame) -> ParsedSentences:
    """Split interviewee passages (main language) into parsed sentences with advice features.

    Args:
        passages: the passages table (with their sections).
        turns: the turns table, for the question each passage answers.

    Returns:
        The sentences table (one row per sentence with letters in it) and the spaCy
        sentence of each row.
    """
    lang = nlp.english_full()
    questions = preceding_questions(turns)
    rows, spans = [], []
    keep = passages[
        (passages["role"] == "interviewee")
        & passages["in_main_language"].fillna(False).astype(bool)
    ]
    keep = keep.sort_values(["interview_id", "turn_index", "passage_index"])
    texts = keep["text"].astype(str).tolist()
    for row, doc in zip(keep.itertuples(), lang.pipe(texts, batch_size=64), strict=True):
        question = questions.get((row.interview_id, int(row.turn_index)), "")
        advice_answer = bool(ADVICE_QUESTION_RE.search(question))
        for index, sent in enumerate(doc.sents):
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
    return ParsedSentences(pd.DataFrame(rows), spans)
