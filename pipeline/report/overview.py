"""The report's overview: how many conversations, words, dates, languages and backgrounds.

Backgrounds come from two places: the metadata fields named in ``report.background_fields``
(e.g. a ``background`` column of metadata.csv) and degrees people named when they talked,
so a corpus without metadata still shows who was interviewed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from ..core.config import Config
from ..results import Results
from .quotes import QuoteMaker
from .schema import Overview
from .sentences import ParsedSentences

DEGREE_RE = re.compile(
    r"^(?:(?:bs|ba|bsc|ms|msc|ma|mres|meng|beng|phd|dphil|mphil|bachelor'?s?|master'?s?"
    r"|doctorate|degree|diploma|licence|licenciatura)\b\.?\s*(?:(?:and|&|/)\s*)?"
    r"(?:in\s+|of\s+)?)+",
    re.IGNORECASE,
)
SAID_DEGREE_RE = re.compile(
    r"\b(?:bachelor'?s|master'?s|undergrad(?:uate)?(?: degree)?|phd|doctorate|degree|diploma)"
    r"\s+(?:was\s+|is\s+)?(?:in\s+)?(?P<field>(?:[a-z]+[ -]){0,2}[a-z]+?)"
    r"(?=\s*(?:[,.;(]|\band\b|\bthen\b|\bat\b|\bfrom\b|\bwith\b|\bwhich\b|$))"
    r"|\b(?P<mba>mba)\b|\b(?P<bootcamp>(?:data science |coding )?bootcamp)\b"
    r"|\b(?P<self>self-taught)\b",
    re.IGNORECASE,
)
# Words SAID_DEGREE_RE catches as a field that are not one ("degree program", "degree in the ...").
NOT_FIELDS = {
    "program",
    "the",
    "a",
    "one",
    "my",
    "it",
    "that",
    "year",
    "years",
    "part-time",
    "in",
    "and",
    "students",
    "student",
    "school",
    "course",
    "courses",
}

FUNCTION_WORDS = {
    "of",
    "on",
    "with",
    "for",
    "to",
    "at",
    "by",
    "about",
    "around",
    "this",
    "that",
    "these",
    "those",
    "some",
    "any",
    "is",
    "was",
    "be",
    "been",
    "working",
    "work",
    "doing",
    "thing",
}


@cache
def fields_of_study() -> frozenset[str]:
    """The bundled fields of study (``fields_of_study.yaml``), lower case."""
    path = Path(__file__).with_name("fields_of_study.yaml")
    return frozenset(str(f).lower() for f in yaml.safe_load(path.read_text(encoding="utf-8")))


def is_field_of_study(text: str) -> bool:
    """Whether a phrase said after a degree names a field: it ends in a known field and has
    no function word ("theoretical physics" yes; "of management", "working", "with" no).

    Args:
        text: the phrase, e.g. ``"applied mathematics"``.

    Returns:
        True when it is a field of study.
    """
    words = text.lower().split()
    if not words or len(words) > 3 or not all(re.fullmatch(r"[a-z-]+", w) for w in words):
        return False
    if any(w in NOT_FIELDS or w in FUNCTION_WORDS for w in words):
        return False
    known = fields_of_study()
    return any(" ".join(words[i:]) in known for i in range(len(words)))


def normalise_background(text: str) -> str:
    """One background as the report lists it: the field, without the degree or notes.

    Args:
        text: a background as written, e.g. ``"MSc in Physics (2014)"``.

    Returns:
        The field in lower case (``"physics"``), or ``"MBA"``; ``""`` when nothing is left.
    """
    text = re.sub(r"\([^)]*\)", "", str(text)).strip(" .;,")
    text = DEGREE_RE.sub("", text).strip(" .;,")
    if text.lower() == "mba":
        return "MBA"
    return text.lower()


def backgrounds_from_metadata(interviews: pd.DataFrame, fields: list[str]) -> dict[str, list[str]]:
    """Backgrounds each conversation's metadata gives.

    Args:
        interviews: the interviews table (one row per conversation).
        fields: the metadata columns that hold backgrounds; missing ones are ignored. A value
            may list several, separated by ``;`` or ``plus``.

    Returns:
        The normalised backgrounds by interview id, in the order first found, without repeats.
    """
    out: dict[str, list[str]] = defaultdict(list)
    for field in fields:
        if field not in interviews.columns:
            continue
        for row in interviews[["interview_id", field]].itertuples(index=False):
            if isinstance(row[1], str) and row[1].strip():
                for part in re.split(r";|\bplus\b", row[1]):
                    value = normalise_background(part)
                    if value and value not in out[row[0]]:
                        out[row[0]].append(value)
    return dict(out)


def backgrounds_from_speech(sentences: pd.DataFrame) -> list[tuple[str, str, int]]:
    """Degrees people named when they talked about their past.

    Args:
        sentences: the parsed sentences table (``interview_id``, ``text``), one row a sentence.

    Returns:
        ``(interview id, background, sentence row)`` for each degree named, in sentence order.
    """
    found = []
    for r, row in enumerate(sentences.itertuples(index=False)):
        for m in SAID_DEGREE_RE.finditer(row.text):
            if m.group("mba"):
                value = "MBA"
            elif m.group("bootcamp"):
                value = m.group("bootcamp").lower()
            elif m.group("self"):
                value = "self-taught"
            else:
                value = m.group("field").lower().strip()
                if not is_field_of_study(value):
                    continue
            found.append((row.interview_id, value, r))
    return found


def build_overview(
    r: Results, parsed: ParsedSentences, cfg: Config, quote: QuoteMaker, backgrounds: bool = True
) -> Overview:
    """The overview: the corpus in counts, and the diversity of the people interviewed.

    Args:
        r: the earlier stages' results (interviews and manifest are read).
        parsed: the passages' sentences, searched for degrees people named.
        cfg: the configuration (``report.background_fields``).
        quote: makes the quotes of up to three named backgrounds (one per conversation).
        backgrounds: whether to look for educational backgrounds (a profile part); without
            it the overview lists none.

    Returns:
        The overview section of the report.
    """
    interviews = r.interviews
    dates = []
    for field in ("date", "interview_date"):
        if field in interviews.columns:
            parsed_dates = pd.to_datetime(interviews[field], errors="coerce").dropna()
            dates += [d.date().isoformat() for d in parsed_dates]
    by_interview = (
        backgrounds_from_metadata(interviews, cfg.report.background_fields) if backgrounds else {}
    )
    quotes = []
    said = backgrounds_from_speech(parsed.table) if backgrounds else []
    for interview_id, value, row in said:
        known = by_interview.setdefault(interview_id, [])
        if not any(value.lower() in k.lower() or k.lower() in value.lower() for k in known):
            known.append(value)
        if len(quotes) < 3 and interview_id not in {q.interview_id for q in quotes}:
            quotes.append(quote(parsed.table.at[row, "passage_id"], parsed.table.at[row, "text"]))
    distinct = sorted({b for values in by_interview.values() for b in values})
    languages = interviews["language"].fillna("unknown").value_counts()
    folders = interviews["folder"].fillna("").replace("", "(top level)").value_counts()
    interviewee_words = int(interviews["n_words_interviewee"].fillna(0).sum())
    return Overview(
        conversations=len(interviews),
        words=int(interviews["n_words"].fillna(0).sum()),
        interviewee_words=interviewee_words,
        date_range=[min(dates), max(dates)] if dates else [],
        languages={str(k): int(v) for k, v in sorted(languages.items())},
        main_language=str(r.manifest.get("main_language", "")),
        folders={str(k): int(v) for k, v in sorted(folders.items())},
        backgrounds=distinct,
        backgrounds_by_interview={k: sorted(v) for k, v in sorted(by_interview.items()) if v},
        background_quotes=quotes,
    )
