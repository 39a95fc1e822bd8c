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

import bisect
import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..core import nlp
from ..core.catalog import PASSAGES
from ..core.config import Config
from ..core.redact import PLACEHOLDER_KINDS
from ..ingest.clean import STAGE_DIRECTION_RE, clean_text, is_backchannel, word_count
from ..ingest.roles import INTERVIEWEE, INTERVIEWER
from .cache import PassageCache, recipe, turn_key

log = logging.getLogger(__name__)

# "Company 1", "Person 3", "School 2": anonymisation placeholders (typed by people, or
# written by --redact) carry no theme.
PLACEHOLDER_RE = re.compile(
    r"\b(?:Company|Person|School|Client|Customer|University|College|Organi[sz]ation|Org|Employer|City|"
    r"Country|Place|Project|Product|Agency|Firm|Bank|Startup|Team|Participant|Speaker|Respondent|"
    r"Interviewee|Interviewer|Name|Location|" + "|".join(PLACEHOLDER_KINDS) + r")\s*\d+\b"
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


# spaCy refuses a text longer than ``nlp.max_length`` (1,000,000 characters) and its
# working memory grows with the characters it tags at once, so a longer turn goes
# through it in chunks, and docs go through in batches of about nlp.BATCH_CHARS
# characters (64 ordinary turns fit in one).
MAX_CHUNK_CHARS = 20_000
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’)\]]* ")


def split_for_nlp(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """A turn's text as the passages quote it, in chunks of at most ``limit`` characters.

    The text is the turn's with stage directions removed and every run of blanks (line
    breaks included) made one space, as ``" ".join(STAGE_DIRECTION_RE.sub(" ", text).split())``.
    A text within the limit is one chunk. A longer one is cut at a space in the last half
    of the limit (so chunks are at least half of it and the search stays linear), by
    preference: a sentence end at a line break of the original, any sentence end, any
    line break, any space; a stretch with no space at all is cut at the limit. Every
    chunk is a slice of the text and together they cover it in order, less the one space
    at each cut: no text is lost, and what spaCy reads is still the turn's own wording.
    """
    lines = [
        line
        for line in (
            " ".join(part.split()) for part in STAGE_DIRECTION_RE.sub(" ", text).split("\n")
        )
        if line
    ]
    joined = " ".join(lines)
    if len(joined) <= limit:
        return [joined]
    breaks: list[int] = []  # offsets in ``joined`` of the spaces that stand for line breaks
    offset = -1
    for line in lines[:-1]:
        offset += len(line) + 1
        breaks.append(offset)
    is_break = set(breaks)
    chunks: list[str] = []
    start, n = 0, len(joined)
    while n - start > limit:
        low, high = start + max(1, limit // 2), start + limit  # the cut: a space at low..high
        ends = [m.end() - 1 for m in _SENTENCE_END_RE.finditer(joined, low, high + 1)]
        j = bisect.bisect_right(breaks, high) - 1
        cut = next((e for e in reversed(ends) if e in is_break), -1)
        if cut < 0 and ends:
            cut = ends[-1]
        if cut < 0 and j >= 0 and breaks[j] >= low:
            cut = breaks[j]
        if cut < 0:
            cut = joined.rfind(" ", low, high + 1)
        if cut < 0:
            chunks.append(joined[start:high])
            start = high
        else:
            chunks.append(joined[start:cut])
            start = cut + 1
    if start < n:
        chunks.append(joined[start:])
    return chunks


def _placeholder_tokens(doc: Any) -> set[int]:
    blocked: set[int] = set()
    for m in PLACEHOLDER_RE.finditer(doc.text):
        blocked.update(
            t.i for t in doc.char_span(m.start(), m.end(), alignment_mode="expand") or []
        )
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


def tense_counts(tokens) -> tuple[int, int]:
    """Verbs and auxiliaries in the past and in the present tense among spaCy ``tokens``.

    Counted here, where the passages are tagged, so the segment stage reads the answers'
    tense from the passages instead of tagging them a second time.
    """
    past = present = 0
    for token in tokens:
        if token.pos_ in ("VERB", "AUX"):
            tense = token.morph.get("Tense")
            past += "Past" in tense
            present += "Pres" in tense
    return past, present


def _too_short(window: list[Any], config: Config) -> bool:
    text = window[0].doc[window[0].start : window[-1].end].text
    return word_count(clean_text(text, config.ingest.extra_fillers)) < config.passages.min_words


# What a passage takes from its turn's record rather than from the turn's text.
LINKS = (
    "interview_id",
    "turn_index",
    "role",
    "speaker",
    "language",
    "in_main_language",
    "heading",
    "source_file",
    "source_line",
    "source_page",
    "start",
)


def _links(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in LINKS}


def _doc_passages(
    record: dict[str, Any],
    doc: Any,
    first_index: int,
    config: Config,
    *,
    first: bool = True,
    last: bool = True,
) -> list[dict[str, Any]]:
    """The passages of one doc (a turn, or one chunk of a long turn), numbered from ``first_index``.

    ``first``/``last``: whether the doc starts/ends the turn. A window too short to keep
    that a chunk's cut left at its start or end joins its neighbour, so a cut never
    drops words that a whole turn would have kept.
    """
    cfg = config.passages
    base = _links(record)
    if record["role"] == INTERVIEWER:
        windows = [[s for s in doc.sents]]
    else:
        sents = [s for s in doc.sents if s.text.strip()]
        groups = _windows([s.text for s in sents], cfg.max_sentences, cfg.max_words)
        windows, i = [], 0
        for group in groups:
            windows.append(sents[i : i + len(group)])
            i += len(group)
        if not last and len(windows) > 1 and _too_short(windows[-1], config):
            windows[-2:] = [windows[-2] + windows[-1]]
        if not first and len(windows) > 1 and _too_short(windows[0], config):
            windows[:2] = [windows[0] + windows[1]]
    blocked = _placeholder_tokens(doc)
    rows: list[dict[str, Any]] = []
    for window in windows:
        if not window:
            continue
        original = doc[window[0].start : window[-1].end].text.strip()
        cleaned = clean_text(original, config.ingest.extra_fillers)
        if record["role"] == INTERVIEWEE and (
            word_count(cleaned) < cfg.min_words or is_backchannel(original)
        ):
            continue
        if not cleaned:
            continue
        lemmas, words = _lemmas(doc, window[0].start, window[-1].end, blocked)
        past, present = tense_counts(doc[window[0].start : window[-1].end])
        k = first_index + len(rows)
        rows.append(
            {
                **base,
                "passage_id": f"{record['interview_id']}#{record['turn_index']}.{k}",
                "passage_index": k,
                "text": original,
                "clean_text": cleaned,
                "lemmas": lemmas,
                "words": words,
                "n_words": word_count(cleaned),
                "past_verbs": past,
                "present_verbs": present,
                "is_question": record["role"] == INTERVIEWER and "?" in original,
            }
        )
    return rows


def _parse_turns(
    records: list[dict[str, Any]],
    chunks: list[list[str]],
    is_english: list[bool],
    config: Config,
) -> list[list[dict[str, Any]]]:
    """The passages of each turn, from its chunks, in one process."""
    english = nlp.english()
    other = nlp.multilingual_sentencizer()
    # Docs are consumed as spaCy yields them (chunks of a turn in order; a window never
    # spans two chunks), so only one batch of docs is held at a time.
    rows_of: list[list[dict[str, Any]]] = [[] for _ in records]
    for language, english_turns, max_docs in ((english, True, 64), (other, False, 1000)):
        wanted = [
            (i, chunk)
            for i, e in enumerate(is_english)
            if e == english_turns
            for chunk in chunks[i]
        ]
        seen = [0] * len(records)  # chunks of each turn read so far
        for (i, _), doc in zip(
            wanted, nlp.pipe_in_batches(language, [chunk for _, chunk in wanted], max_docs)
        ):
            seen[i] += 1
            rows_of[i] += _doc_passages(
                records[i],
                doc,
                len(rows_of[i]),
                config,
                first=seen[i] == 1,
                last=seen[i] == len(chunks[i]),
            )
    return rows_of


def _take(indices: list[int], *columns: list) -> list[list]:
    """The items at ``indices`` of each column, in that order."""
    return [[column[i] for i in indices] for column in columns]


def _parse_in_processes(
    records: list[dict[str, Any]],
    chunks: list[list[str]],
    is_english: list[bool],
    config: Config,
) -> list[list[dict[str, Any]]]:
    """:func:`_parse_turns` on a large corpus in one process per core (``nlp.processes_for``).

    Each process takes whole turns (about the same number of characters each) and sends
    back rows, not docs: a spaCy doc costs more to send than to make. A turn's passages
    depend only on its own text, so how the turns are shared out changes nothing.
    """
    processes = nlp.processes_for(sum(len(c) for c in chunks))
    shares = nlp.equal_shares([sum(len(c) for c in turn) for turn in chunks], processes)
    calls = [(*_take(share, records, chunks, is_english), config) for share in shares]
    return [rows for share in nlp.in_processes(_parse_turns, calls) for rows in share]


def build_passages(turns: pd.DataFrame, config: Config, store: Path | None = None) -> pd.DataFrame:
    """The passages of ``turns``, in turn order.

    Args:
        turns: turns.parquet.
        config: the effective configuration.
        store: the cache folder: turns parsed before (same text, role, language, settings,
            code and spaCy pipelines) take their passages from it, and new ones are added.
    """
    kept = turns[
        turns["role"].isin([INTERVIEWEE, INTERVIEWER]) & ~turns["is_backchannel"].fillna(False)
    ]
    kept = kept[kept["clean_text"].fillna("").str.strip() != ""]
    english = nlp.english()
    other = nlp.multilingual_sentencizer()
    records = kept.to_dict("records")
    is_english = [r["language"] in ("en", "und") for r in records]
    cache = PassageCache(store, recipe(config, [english, other])) if store is not None else None
    keys = [turn_key(str(r["text"]), r["role"], e) for r, e in zip(records, is_english)]
    cached = [cache.get(k) if cache else None for k in keys]
    limit = min(MAX_CHUNK_CHARS, english.max_length, other.max_length)
    chunks = [
        split_for_nlp(str(r["text"]), limit) if known is None else []
        for r, known in zip(records, cached)
    ]
    todo = [i for i, known in enumerate(cached) if known is None]
    parsed = _parse_in_processes(*_take(todo, records, chunks, is_english), config)
    rows_of: list[list[dict[str, Any]]] = [[] for _ in records]
    for i, rows in zip(todo, parsed, strict=True):
        rows_of[i] = rows
    for i, known in enumerate(cached):
        if known is not None:
            rows_of[i] = _rows_from(records[i], known)
        elif cache is not None:
            cache.put(keys[i], rows_of[i])
    if cache is not None:
        cache.save()
        log.info(
            "passages: %d turns parsed, %d from the cache", cache.added, len(records) - cache.added
        )
    rows = [row for turn_rows in rows_of for row in turn_rows]
    return pd.DataFrame(rows, columns=list(PASSAGES.columns))


def _rows_from(record: dict[str, Any], contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A turn's passages from their cached contents and the turn's own links."""
    base = _links(record)
    return [
        {
            **base,
            "passage_id": f"{record['interview_id']}#{record['turn_index']}.{k}",
            "passage_index": k,
            **content,
        }
        for k, content in enumerate(contents)
    ]
