"""Find a researcher's coded excerpts in the ingested turns.

A coded excerpt is a stretch of an interview as the researcher's tool saw it: with speaker
labels ("MODERATOR: ..."), line numbers, timestamps, other quotes, spacing, case or fillers
than the pipeline's turns, and often spanning several turns. :func:`locate` finds every
excerpt in its interview's turns and the passages it overlaps:

1. the interview, by name leniently (case, spaces/underscores/hyphens, a document suffix, the
   source file's stem, a unique prefix);
2. offsets: an excerpt whose ``start``/``end`` slice :func:`interview_text` to its text
   (what :func:`excerpts_from_turn_codes` gives) is placed there;
3. exact: both sides become a stream of normalised tokens (case folded, accents, quotes and
   apostrophes, punctuation and spacing ignored; fillers, timestamps and stage directions
   dropped) that maps back to (turn, character offsets); the excerpt's tokens are searched
   in its interview's, then again without its speaker labels and line numbers;
4. fuzzy: the best partial alignment (rapidfuzz ``partial_ratio_alignment``) of the
   excerpt's token string in the interview's, kept when its score reaches ``min_score``.

An excerpt found more than once (a short "Yes, okay.") is placed at an occurrence at or
after the previous excerpt of its interview (files list excerpts in document order; after
it when that one had the same words): the one nearest its relative position when it has
offsets the interview text does not confirm (a Taguette document's), else the first.
Everything is deterministic.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..ingest.clean import STAGE_DIRECTION_RE
from .model import Codebook, CodedExcerpt

TURN_SEPARATOR = "\n\n"
"""Joins an interview's turns into :func:`interview_text`."""

DEFAULT_MIN_SCORE = 85.0
"""The fuzzy alignment score (0-100) an excerpt needs to count as located."""

# Quotes, apostrophes and dashes: one form each (one character for one, offsets unchanged).
_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u0060": "'",
        "\u00b4": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# Fillers and hesitations, dropped on both sides ("um", "uhm", "Mmmm", "erm", "hmm", "ah").
_FILLER_RE = re.compile(
    r"u+h+|u+m+|u+h+m+|e+r+m*|e+h+|h+m+|m+h*m+|mhm|a+h+|o+h+|uh-?huh|mm-?hmm?", re.IGNORECASE
)
# 00:12, 1:02:03, 00:12.5: a timestamp, dropped on both sides.
_TIMESTAMP_RE = re.compile(r"(?<![\w:])\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?(?![\w:])")
# A line number at the start of a line of an excerpt ("12 ", "12. ", "12: ", "[12] ").
_LINE_NUMBER_RE = re.compile(r"(?m)^[ \t]*[\[(]?\d{1,5}[\])]?[.:)]?(?=[ \t]|$)")
# A speaker label: "MODERATOR:", "Dr. Jane Smith:", "Q:" at a line start or after a
# sentence's end. Labels of the interview's own speakers count anywhere they are so placed;
# others only when written in capitals or a generic role word.
_LABEL_RE = re.compile(
    r"(?:(?<=^)|(?<=\n)|(?<=[.!?\"')\]]\s)|(?<=[.!?\"')\]]\s\s))[ \t]*"
    r"(?P<label>[^\W\d_][\w.'\- ]{0,38}?)[ \t]*:(?=\s)",
    re.UNICODE,
)
_GENERIC_LABELS = frozenset(
    """q a i r p interviewer interviewee moderator participant respondent facilitator
    researcher speaker host guest narrator user subject""".split()
)


def _fold(token: str) -> str:
    token = token.replace("'", "").casefold()
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _dropped_spans(text: str, *, excerpt: bool, speakers: Iterable[str] = ()) -> list:
    """(start, end, kind) of what the token stream leaves out or may leave out.

    kind ``"drop"`` (timestamps, stage directions: always left out) or ``"optional"``
    (an excerpt's speaker labels and line numbers: left out in a second try).
    """
    spans = [(m.start(), m.end(), "drop") for m in _TIMESTAMP_RE.finditer(text)]
    spans += [(m.start(), m.end(), "drop") for m in STAGE_DIRECTION_RE.finditer(text)]
    if excerpt:
        spans += [(m.start(), m.end(), "optional") for m in _LINE_NUMBER_RE.finditer(text)]
        known = {_label_key(s) for s in speakers if s}
        for m in _LABEL_RE.finditer(text):
            label = m.group("label").strip()
            key = _label_key(label)
            words = key.split()
            if (
                key in known
                or key in _GENERIC_LABELS
                or (label.isupper() and len(words) <= 4)
                or (len(words) <= 2 and all(w in _GENERIC_LABELS for w in words))
            ):
                spans.append((m.start("label"), m.end(), "optional"))
    return spans


def _label_key(label: str) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", label.casefold()).split())


@dataclass
class _Tokens:
    """Normalised tokens of a text and where each one is in it."""

    words: list[str]
    starts: list[int]
    ends: list[int]
    optional: list[bool]

    @classmethod
    def of(cls, text: str, *, excerpt: bool = False, speakers: Iterable[str] = ()) -> _Tokens:
        mapped = text.translate(_CHAR_MAP)
        spans = sorted(_dropped_spans(mapped, excerpt=excerpt, speakers=speakers))
        words, starts, ends, optional = [], [], [], []
        for m in _TOKEN_RE.finditer(mapped):
            s, e = m.span()
            kind = next((k for a, b, k in spans if a <= s and e <= b), None)
            if kind == "drop" or _FILLER_RE.fullmatch(m.group()):
                continue
            words.append(_fold(m.group()))
            starts.append(s)
            ends.append(e)
            optional.append(kind == "optional")
        return cls(words, starts, ends, optional)

    def required(self) -> list[str]:
        return [w for w, o in zip(self.words, self.optional) if not o]


def interview_text(turns: pd.DataFrame) -> dict[str, str]:
    """Every interview's plain text: its turns' ``text`` in turn order joined by a blank line.

    The offsets :func:`excerpts_from_turn_codes` gives, and :func:`locate` checks, count in it.
    """
    out = {}
    for iid, group in turns.sort_values(["interview_id", "turn_index"]).groupby(
        "interview_id", sort=False
    ):
        out[str(iid)] = TURN_SEPARATOR.join(str(t) for t in group["text"].fillna(""))
    return out


def turn_starts(turns: pd.DataFrame) -> dict[tuple[str, int], int]:
    """Where each turn (interview_id, turn_index) starts in :func:`interview_text`."""
    out: dict[tuple[str, int], int] = {}
    ordered = turns.sort_values(["interview_id", "turn_index"])
    for iid, group in ordered.groupby("interview_id", sort=False):
        pos = 0
        for ti, text in zip(group["turn_index"], group["text"].fillna("").astype(str)):
            out[(str(iid), int(ti))] = pos
            pos += len(text) + len(TURN_SEPARATOR)
    return out


def excerpts_from_turn_codes(
    turns: pd.DataFrame,
    column: str = "codes",
    *,
    sep: str = ";",
    codebook: Codebook | None = None,
) -> list[CodedExcerpt]:
    """Coding held in the turns themselves (a ``codes`` column, e.g. an archive's tags):
    one excerpt per coded turn, its offsets those of the turn in :func:`interview_text`,
    so :func:`locate` places it exactly.

    Args:
        turns: turns.parquet (interview_id, turn_index, text and ``column``).
        column: the column of codes: a ``sep``-separated string or a list per turn.
        sep: the separator in string cells.
        codebook: if given, codes are written as its paths where it knows them (a code it
            does not know is kept as written).

    Returns:
        The excerpts in interview and turn order; turns without a code give none.
    """
    if column not in turns.columns:
        raise KeyError(f"the turns have no {column!r} column")
    out = []
    ordered = turns.sort_values(["interview_id", "turn_index"])
    for iid, group in ordered.groupby("interview_id", sort=False):
        pos = 0
        for text, cell in zip(group["text"].fillna("").astype(str), group[column]):
            codes = _cell_codes(cell, sep)
            if codebook is not None:
                codes = [c.path if (c := codebook.find(x)) else x for x in codes]
            codes = list(dict.fromkeys(codes))
            if codes and text.strip():
                out.append(
                    CodedExcerpt(str(iid), tuple(codes), text, start=pos, end=pos + len(text))
                )
            pos += len(text) + len(TURN_SEPARATOR)
    return out


def _cell_codes(cell: object, sep: str) -> list[str]:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    if isinstance(cell, str):
        parts = cell.split(sep)
    elif isinstance(cell, Iterable):
        parts = [str(c) for c in cell if c is not None]
    else:
        parts = [str(cell)]
    return [p.strip() for p in parts if p and p.strip()]


# --------------------------------------------------------------------------- interviews


def _name_key(name: str) -> str:
    name = str(name).strip()
    stem = re.sub(
        r"\.(odt|docx?|rtf|txt|md|pdf|html?|csv|tsv|vtt|srt|json|xml)$", "", name, flags=re.I
    )
    return re.sub(r"[\s_\-.]+", "", stem.casefold())


def _name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s_\-.]+", str(name).casefold()) if w]


def match_interviews(names: Iterable[str], turns: pd.DataFrame) -> dict[str, str | None]:
    """Each excerpt interview name -> the turns' ``interview_id`` it means, or None.

    Tried in turn: the id itself; the same up to case, spaces, underscores, hyphens, dots
    and a document suffix; the same against the turns' ``source_file`` stems; a unique
    interview whose name starts with the given words (``"P2"`` -> ``"P2_GMT20211119"``).
    """
    ids = [str(i) for i in pd.unique(turns["interview_id"])]
    by_key: dict[str, list[str]] = {}
    for i in ids:
        by_key.setdefault(_name_key(i), []).append(i)
    if "source_file" in turns.columns:
        pairs = turns[["interview_id", "source_file"]].dropna().drop_duplicates()
        for iid, src in zip(pairs["interview_id"], pairs["source_file"]):
            stem = re.split(r"[\\/]", str(src))[-1]
            key = _name_key(stem)
            if str(iid) not in by_key.setdefault(key, []):
                by_key[key].append(str(iid))
    out: dict[str, str | None] = {}
    for name in dict.fromkeys(str(n) for n in names):
        if name in ids:
            out[name] = name
            continue
        found = by_key.get(_name_key(name), [])
        if len(found) == 1:
            out[name] = found[0]
            continue
        words = _name_words(re.sub(r"\.\w{2,4}$", "", name))
        prefix = [i for i in ids if words and _name_words(i)[: len(words)] == words]
        out[name] = prefix[0] if len(prefix) == 1 else None
    return out


# --------------------------------------------------------------------------- streams


@dataclass
class _Stream:
    """An interview as one token stream: token i is in turn ``turn[i]`` at ``start[i]:end[i]``
    of that turn's text; ``text`` is the tokens joined by spaces, ``offset[i]`` where token i
    starts in it."""

    interview_id: str
    turn_indices: list[int]
    turn_texts: list[str]
    turn_starts: list[int]  # where each turn starts in interview_text
    words: list[str] = field(default_factory=list)
    turn: list[int] = field(default_factory=list)  # position in turn_indices
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    offset: list[int] = field(default_factory=list)
    text: str = ""
    full_text: str = ""

    @classmethod
    def of(cls, iid: str, group: pd.DataFrame) -> _Stream:
        texts = [str(t) for t in group["text"].fillna("")]
        starts, pos = [], 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + len(TURN_SEPARATOR)
        s = cls(iid, [int(i) for i in group["turn_index"]], texts, starts)
        s.full_text = TURN_SEPARATOR.join(texts)
        for k, t in enumerate(texts):
            tok = _Tokens.of(t)
            s.words += tok.words
            s.turn += [k] * len(tok.words)
            s.start += tok.starts
            s.end += tok.ends
        pos = 0
        for w in s.words:
            s.offset.append(pos)
            pos += len(w) + 1
        s.text = " ".join(s.words)
        return s

    def find_all(self, words: Sequence[str]) -> list[int]:
        """Token positions where ``words`` occur contiguously."""
        needle = " ".join(words)
        hay = f" {self.text} "
        out, at = [], hay.find(f" {needle} ")
        while at >= 0:
            out.append(bisect.bisect_left(self.offset, at))
            at = hay.find(f" {needle} ", at + 1)
        return out

    def token_at(self, char: int) -> int:
        """The token holding (or first after) character ``char`` of :attr:`text`."""
        i = bisect.bisect_right(self.offset, char) - 1
        if i >= 0 and char >= self.offset[i] + len(self.words[i]):
            i += 1
        return max(0, min(i, len(self.words) - 1))

    def spans(self, first: int, last: int) -> list[tuple[int, int, int]]:
        """(turn_index, start, end) of the tokens first..last, one per turn."""
        out: list[tuple[int, int, int]] = []
        for i in range(first, last + 1):
            ti = self.turn_indices[self.turn[i]]
            if out and out[-1][0] == ti:
                out[-1] = (ti, out[-1][1], self.end[i])
            else:
                out.append((ti, self.start[i], self.end[i]))
        return out

    def position(self, span: tuple[int, int, int]) -> int:
        """The stream position of the first token at or after (turn_index, start, end)."""
        k = self.turn_indices.index(span[0])
        for i in range(bisect.bisect_left(self.turn, k), len(self.words)):
            if self.turn[i] > k or self.end[i] > span[1]:
                return i
        return len(self.words)

    def spans_from_offsets(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(turn_index, start, end) of the interview-text slice start:end, one per turn."""
        out = []
        for k, ts in enumerate(self.turn_starts):
            te = ts + len(self.turn_texts[k])
            s, e = max(start, ts), min(end, te)
            if s < e:
                out.append((self.turn_indices[k], s - ts, e - ts))
        return out


# --------------------------------------------------------------------------- passages


def passage_spans(passages: pd.DataFrame, turns: pd.DataFrame) -> pd.DataFrame:
    """Where every passage is in its turn's text: passage_id, interview_id, turn_index,
    start, end (character offsets; NaN when the passage's words are not in the turn).

    A passage is its turn's text with stage directions dropped and spaces collapsed, so
    its tokens are found in its turn's, in passage order.
    """
    texts = {
        (str(i), int(t)): str(x)
        for i, t, x in zip(turns["interview_id"], turns["turn_index"], turns["text"].fillna(""))
    }
    rows = []
    order = passages.sort_values(["interview_id", "turn_index", "passage_index"])
    for (iid, ti), group in order.groupby(["interview_id", "turn_index"], sort=False):
        turn = _Tokens.of(texts.get((str(iid), int(ti)), ""))
        hay = " ".join(turn.words)
        offs, pos = [], 0
        for w in turn.words:
            offs.append(pos)
            pos += len(w) + 1
        cursor = 0
        for pid, text in zip(group["passage_id"], group["text"].fillna("")):
            words = _Tokens.of(str(text)).words
            start = end = np.nan
            if words and turn.words:
                needle = f" {' '.join(words)} "
                at = f" {hay} ".find(needle, offs[cursor] if cursor < len(offs) else len(hay))
                if at < 0:
                    at = f" {hay} ".find(needle)
                if at >= 0:
                    first = bisect.bisect_left(offs, at)
                    last = first + len(words) - 1
                    start, end = turn.starts[first], turn.ends[last]
                    cursor = last + 1
            rows.append((str(pid), str(iid), int(ti), start, end))
    return pd.DataFrame(rows, columns=["passage_id", "interview_id", "turn_index", "start", "end"])


# --------------------------------------------------------------------------- locate


@dataclass
class LocateResult:
    """Where every excerpt is.

    Attributes:
        excerpts: the excerpts, in the order given (``table.excerpt`` indexes them).
        table: one row per excerpt: excerpt, interview (as given), interview_id (None when
            the interview is not found), codes, text, located, method ("offsets", "exact",
            "exact-unlabelled": found once speaker labels and line numbers were set aside,
            "fuzzy", or None), score (0-100; 100 for offsets and exact), occurrences (how
            often the excerpt's words occur in the interview: >1 means a hint chose),
            first_turn, last_turn, n_turns, passage_ids (the passages it overlaps, in
            order), reason (why it is not located, else None).
        spans: one row per excerpt and turn: excerpt, interview_id, turn_index, start, end
            (character offsets in the turn's ``text``).
        overlaps: one row per excerpt and passage it overlaps: excerpt, passage_id,
            interview_id, turn_index, chars (characters shared), passage_share (of the
            passage's characters), excerpt_share (of the excerpt's located characters).
    """

    excerpts: list[CodedExcerpt]
    table: pd.DataFrame
    spans: pd.DataFrame
    overlaps: pd.DataFrame

    @property
    def n_located(self) -> int:
        return int(self.table["located"].sum())

    @property
    def share_located(self) -> float:
        return self.n_located / len(self.table) if len(self.table) else 0.0

    def summary(self) -> dict:
        """Counts: total, located, by method, and the reasons for the rest."""
        t = self.table
        reasons = t.loc[~t["located"], "reason"].map(lambda r: r.split(" (")[0].split(",")[0])
        return {
            "excerpts": len(t),
            "located": self.n_located,
            "share": round(self.share_located, 4),
            "by_method": {str(k): int(v) for k, v in t["method"].value_counts().items()},
            "not_located": {str(k): int(v) for k, v in reasons.value_counts().items()},
            "with_passages": int((t["passage_ids"].map(len) > 0).sum()),
        }


TABLE_COLUMNS = [
    "excerpt",
    "interview",
    "interview_id",
    "codes",
    "text",
    "located",
    "method",
    "score",
    "occurrences",
    "first_turn",
    "last_turn",
    "n_turns",
    "passage_ids",
    "reason",
]


def locate(
    excerpts: Sequence[CodedExcerpt],
    turns: pd.DataFrame,
    passages: pd.DataFrame | None = None,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    interview_map: Mapping[str, str] | None = None,
) -> LocateResult:
    """Locate every coded excerpt in the turns (and the passages it overlaps).

    Args:
        excerpts: coded excerpts (:func:`~pipeline.coding.read_coding`,
            :func:`excerpts_from_turn_codes`).
        turns: turns.parquet: interview_id, turn_index, text (speaker, source_file used
            when present).
        passages: passages.parquet (passage_id, interview_id, turn_index, passage_index,
            text), or None for no passage overlaps.
        min_score: the fuzzy alignment score (0-100) a match needs.
        interview_map: excerpt interview name -> interview_id, for names no lenient rule
            matches (it wins over them).

    Returns:
        A :class:`LocateResult`, one table row per excerpt in the order given.
    """
    turns = turns.sort_values(["interview_id", "turn_index"], kind="stable")
    names = match_interviews([e.interview for e in excerpts], turns)
    names.update({str(k): str(v) for k, v in (interview_map or {}).items()})
    ids = [str(i) for i in pd.unique(turns["interview_id"])]
    streams: dict[str, _Stream] = {}
    speakers: dict[str, list[str]] = {}
    for iid, group in turns.groupby("interview_id", sort=False):
        streams[str(iid)] = _Stream.of(str(iid), group)
        if "speaker" in group.columns:
            speakers[str(iid)] = [str(s) for s in group["speaker"].dropna().unique()]

    # Offsets from another tool's text: a relative position to choose between occurrences.
    extent: dict[str, int] = {}
    for e in excerpts:
        if e.end is not None:
            extent[e.interview] = max(extent.get(e.interview, 0), e.end)

    rows, hits = [], {}
    for n, ex in enumerate(excerpts):
        iid = names.get(ex.interview)
        row = {
            "excerpt": n,
            "interview": ex.interview,
            "interview_id": iid,
            "codes": tuple(ex.codes),
            "text": ex.text,
            "located": False,
            "method": None,
            "score": np.nan,
            "occurrences": 0,
            "first_turn": pd.NA,
            "last_turn": pd.NA,
            "n_turns": 0,
            "passage_ids": [],
            "reason": None,
        }
        rows.append(row)
        if iid is None or iid not in streams:
            close = difflib.get_close_matches(ex.interview, ids, n=2, cutoff=0.5)
            hint = f" (closest: {', '.join(close)})" if close else ""
            row["reason"] = f"interview not found: {ex.interview!r}{hint}"
            continue
        hit = _find(ex, streams[iid], speakers.get(iid, []), extent.get(ex.interview), min_score)
        row["score"] = hit.score
        if hit.found:
            hits[n] = hit
        else:
            row["reason"] = hit.reason

    span_rows = []
    for iid in dict.fromkeys(rows[n]["interview_id"] for n in hits):
        stream = streams[iid]
        mine = [n for n in hits if rows[n]["interview_id"] == iid]
        _place(stream, [hits[n] for n in mine])
        for n in mine:
            hit = hits[n]
            rows[n].update(
                located=True,
                method=hit.method,
                occurrences=len(hit.found),
                first_turn=hit.spans[0][0],
                last_turn=hit.spans[-1][0],
                n_turns=len(hit.spans),
            )
            span_rows += [(n, iid, ti, s, e) for ti, s, e in hit.spans]
    span_rows.sort()

    spans_df = pd.DataFrame(
        span_rows, columns=["excerpt", "interview_id", "turn_index", "start", "end"]
    )
    overlaps = _overlaps(spans_df, passages, turns)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if len(overlaps):
        by_excerpt = overlaps.groupby("excerpt")["passage_id"].agg(list)
        table["passage_ids"] = [by_excerpt.get(i, []) for i in table["excerpt"]]
    for col in ("first_turn", "last_turn"):
        table[col] = table[col].astype("Int64")
    return LocateResult(list(excerpts), table, spans_df, overlaps)


@dataclass
class _Hit:
    found: list[int]  # stream positions of the first token of every occurrence
    method: str | None = None
    score: float = 0.0
    reason: str | None = None
    words: tuple[str, ...] = ()
    length: int = 0  # tokens in an occurrence
    hint: float | None = None  # a stream position from the excerpt's own offsets
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (turn_index, start, end)
    first: int = 0


def _find(
    ex: CodedExcerpt,
    stream: _Stream,
    speakers: list[str],
    extent: int | None,
    min_score: float,
) -> _Hit:
    if ex.start is not None and ex.end is not None and ex.end > ex.start:
        if stream.full_text[ex.start : ex.end] == ex.text:
            spans = stream.spans_from_offsets(ex.start, ex.end)
            if spans:
                first = stream.position(spans[0])
                return _Hit([first], "offsets", 100.0, spans=spans, first=first)
    tokens = _Tokens.of(ex.text, excerpt=True, speakers=speakers)
    if not tokens.words:
        return _Hit([], reason="text not found: nothing but fillers and punctuation")
    if not stream.words:
        return _Hit([], reason="text not found: the interview has no words")
    hint = None
    if ex.start is not None and extent:
        hint = ex.start / extent * len(stream.words)
    tries = [(tokens.words, "exact")]
    required = tokens.required()
    if required and required != tokens.words:
        tries.append((required, "exact-unlabelled"))
    for words, method in tries:
        found = stream.find_all(words)
        if found:
            return _Hit(found, method, 100.0, None, tuple(words), len(words), hint)
    words = required or tokens.words
    first, last, score = _fuzzy(words, stream, min_score)
    if first is None:
        return _Hit([], score=score, reason=f"text not found, best score {score:.1f}")
    spans = stream.spans(first, last)
    return _Hit(
        [first], "fuzzy", score, None, tuple(words), last - first + 1, spans=spans, first=first
    )


def _place(stream: _Stream, hits: list[_Hit]) -> None:
    """Choose an occurrence for every excerpt of one interview (in the order given).

    Files list excerpts in document order, so an excerpt found several times goes after
    the previous excerpt (strictly after when that one has the same words) and, if
    possible, before the next excerpt found only once; among those, the one nearest its
    relative-position hint, else the first.
    """
    unique_after: list[int | None] = [None] * len(hits)
    upcoming = None
    for k in range(len(hits) - 1, -1, -1):
        unique_after[k] = upcoming
        if len(hits[k].found) == 1:
            upcoming = hits[k].found[0]
    at, before = 0, None
    for k, hit in enumerate(hits):
        if len(hit.found) > 1:
            same = hit.words == before
            after = [p for p in hit.found if p > at or (p == at and not same)]
            upper = unique_after[k]
            between = [p for p in after if upper is None or p <= upper]
            pool = between or after or hit.found
            if hit.hint is not None:
                hit.first = min(pool, key=lambda p: (abs(p - hit.hint), p))
            else:
                hit.first = pool[0]
        else:
            hit.first = hit.found[0]
        if not hit.spans:
            hit.spans = stream.spans(hit.first, hit.first + hit.length - 1)
        at, before = hit.first, hit.words


def _fuzzy(
    words: list[str], stream: _Stream, min_score: float
) -> tuple[int | None, int | None, float]:
    """The best partial alignment of the excerpt's token string in the interview's, its
    ends then trimmed to the first and last tokens the excerpt shares with it."""
    from rapidfuzz import fuzz

    needle = " ".join(words)
    if len(needle) > len(stream.text):
        return None, None, 0.0
    al = fuzz.partial_ratio_alignment(needle, stream.text)
    if al is None:
        return None, None, 0.0
    score = float(al.score)
    if score < min_score:
        return None, None, score
    first = stream.token_at(al.dest_start)
    last = stream.token_at(max(al.dest_start, al.dest_end - 1))
    if al.dest_end - 1 < stream.offset[last]:
        last = max(first, last - 1)
    # Trim: the alignment is a window of the excerpt's length, often a word or two off.
    lo, hi = max(0, first - 5), min(len(stream.words), last + 6)
    matcher = difflib.SequenceMatcher(None, words, stream.words[lo:hi], autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    solid = [b for b in blocks if b.size >= 2] or blocks
    if solid:
        first = lo + solid[0].b
        last = lo + solid[-1].b + solid[-1].size - 1
    return first, last, score


def _overlaps(
    spans: pd.DataFrame, passages: pd.DataFrame | None, turns: pd.DataFrame
) -> pd.DataFrame:
    columns = [
        "excerpt",
        "passage_id",
        "interview_id",
        "turn_index",
        "chars",
        "passage_share",
        "excerpt_share",
    ]
    if passages is None or not len(passages) or not len(spans):
        return pd.DataFrame(columns=columns)
    where = passage_spans(passages, turns).dropna(subset=["start"])
    order = {pid: k for k, pid in enumerate(passages["passage_id"].astype(str))}
    by_turn = {key: g for key, g in where.groupby(["interview_id", "turn_index"])}
    located_chars = (spans["end"] - spans["start"]).groupby(spans["excerpt"]).sum()
    rows = []
    for n, iid, ti, s, e in spans.itertuples(index=False):
        g = by_turn.get((iid, ti))
        if g is None:
            continue
        for pid, ps, pe in zip(g["passage_id"], g["start"], g["end"]):
            chars = min(e, pe) - max(s, ps)
            if chars > 0:
                rows.append(
                    (
                        n,
                        pid,
                        iid,
                        ti,
                        int(chars),
                        chars / max(1, pe - ps),
                        chars / max(1, located_chars[n]),
                    )
                )
    out = pd.DataFrame(rows, columns=columns)
    out["_order"] = out["passage_id"].map(order)
    out = out.sort_values(["excerpt", "_order"], kind="stable").drop(columns="_order")
    # An excerpt over several turns may meet one passage once per turn: never, but be safe.
    out = out.groupby(["excerpt", "passage_id"], as_index=False, sort=False).agg(
        interview_id=("interview_id", "first"),
        turn_index=("turn_index", "first"),
        chars=("chars", "sum"),
        passage_share=("passage_share", "sum"),
        excerpt_share=("excerpt_share", "sum"),
    )
    return out[columns].reset_index(drop=True)


__all__ = [
    "DEFAULT_MIN_SCORE",
    "TURN_SEPARATOR",
    "LocateResult",
    "excerpts_from_turn_codes",
    "interview_text",
    "locate",
    "match_interviews",
    "passage_spans",
]
