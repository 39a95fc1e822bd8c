"""Turns -> passages, the unit of analysis.

Interviewee speech is split into windows of 1-3 sentences (spaCy sentence
boundaries), because one answer often covers several themes while a single sentence
is too short to embed well. Pure backchannel ("yeah, exactly") is dropped.
Interviewer turns are kept whole, as questions, for the segmentation stage.
Each passage keeps its links: interview, turn, source position, language.

``lemmas``/``words`` are stored aligned (one lemma per surface word) so the themes
stage can count lemmas but show readers real words ("physics", not "physic").
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .artifacts import PASSAGES, TURNS, read_table, write_table
from .config import Config
from .ingest.clean import STAGE_DIRECTION_RE, clean_text, is_backchannel, word_count
from .ingest.roles import INTERVIEWEE, INTERVIEWER
from . import lineage
from . import nlp

log = logging.getLogger(__name__)

# "Company 1", "Person 3", "School 2": anonymisation placeholders carry no theme.
PLACEHOLDER_RE = re.compile(
    r"\b(?:Company|Person|School|Client|Customer|University|College|Organi[sz]ation|Org|Employer|City|"
    r"Country|Place|Project|Product|Agency|Firm|Bank|Startup|Team|Participant|Speaker|Respondent|"
    r"Interviewee|Interviewer|Name|Location)\s*\d+\b"
)


def _windows(sentences: list[str], max_sentences: int, max_words: int) -> list[list[str]]:
    windows: list[list[str]] = []
    current: list[str] = []
    words = 0
    for sentence in sentences:
        n = word_count(sentence)
        if current and (len(current) >= max_sentences or words + n > max_words):
            windows.append(current)
            current, words = [], 0
        current.append(sentence)
        words += n
    if current:
        windows.append(current)
    return windows


def _placeholder_tokens(doc: Any) -> set[int]:
    blocked: set[int] = set()
    for m in PLACEHOLDER_RE.finditer(doc.text):
        blocked.update(t.i for t in doc.char_span(m.start(), m.end(), alignment_mode="expand") or [])
    return blocked


def _lemmas(doc: Any, start: int, end: int, blocked: set[int]) -> tuple[str, str]:
    """Alphabetic tokens of doc[start:end] outside placeholders, as aligned lemma/word strings."""
    lemmas, words = [], []
    for token in doc[start:end]:
        if token.i in blocked or not token.is_alpha:
            continue
        lemma = token.lemma_.lower() if token.lemma_.strip() else token.lower_
        lemmas.append(lemma.replace(" ", "_"))
        words.append(token.lower_)
    return " ".join(lemmas), " ".join(words)


def build_passages(turns: pd.DataFrame, config: Config) -> pd.DataFrame:
    cfg = config.passages
    kept = turns[turns["role"].isin([INTERVIEWEE, INTERVIEWER]) & ~turns["is_backchannel"].fillna(False)]
    kept = kept[kept["clean_text"].fillna("").str.strip() != ""]
    english = nlp.english()
    other = nlp.multilingual_sentencizer()
    rows: list[dict[str, Any]] = []
    records = kept.to_dict("records")
    texts = [" ".join(STAGE_DIRECTION_RE.sub(" ", str(r["text"])).split()) for r in records]
    is_english = [r["language"] in ("en", "und") for r in records]
    docs: list[Any] = [None] * len(records)
    en_idx = [i for i, e in enumerate(is_english) if e]
    for i, doc in zip(en_idx, english.pipe((texts[i] for i in en_idx), batch_size=64)):
        docs[i] = doc
    other_idx = [i for i, e in enumerate(is_english) if not e]
    for i, doc in zip(other_idx, other.pipe(texts[i] for i in other_idx)):
        docs[i] = doc
    for record, doc in zip(records, docs):
        base = {k: record[k] for k in ("interview_id", "turn_index", "role", "speaker", "language", "in_main_language",
                                       "heading", "source_file", "source_line", "source_page", "start")}
        if record["role"] == INTERVIEWER:
            windows = [[s for s in doc.sents]]
        else:
            sents = [s for s in doc.sents if s.text.strip()]
            groups = _windows([s.text for s in sents], cfg.max_sentences, cfg.max_words)
            windows, i = [], 0
            for group in groups:
                windows.append(sents[i : i + len(group)])
                i += len(group)
        blocked = _placeholder_tokens(doc)
        k = 0
        for window in windows:
            if not window:
                continue
            original = doc[window[0].start : window[-1].end].text.strip()
            cleaned = clean_text(original, config.ingest.extra_fillers)
            if record["role"] == INTERVIEWEE and (word_count(cleaned) < cfg.min_words or is_backchannel(original)):
                continue
            if not cleaned:
                continue
            lemmas, words = _lemmas(doc, window[0].start, window[-1].end, blocked)
            rows.append({
                **base,
                "passage_id": f"{record['interview_id']}#{record['turn_index']}.{k}",
                "passage_index": k,
                "text": original,
                "clean_text": cleaned,
                "lemmas": lemmas,
                "words": words,
                "n_words": word_count(cleaned),
                "is_question": record["role"] == INTERVIEWER and "?" in original,
            })
            k += 1
    return pd.DataFrame(rows, columns=list(PASSAGES.columns))


def run(out_dir: Path, config: Config) -> pd.DataFrame:
    with lineage.producing(out_dir, "passages", config):
        turns = read_table(TURNS, out_dir)
        passages = build_passages(turns, config)
        write_table(passages, PASSAGES, out_dir)
        n_answer = int((passages["role"] == INTERVIEWEE).sum())
        log.info("%d passages (%d interviewee, %d interviewer) from %d turns", len(passages), n_answer,
                 len(passages) - n_answer, len(turns))
        return passages
