"""Quotes: whole sentences of a passage, readable and faithful, with where to find them.

Every quote in the report is made by one :class:`QuoteMaker`, so they all follow the same
rules:

- **Whole sentences.** A quote starts at a sentence start and ends at a sentence end
  (sentences as in :mod:`.sentences`: pieces that continue a sentence are joined to it).
  :meth:`QuoteMaker.excerpt` picks them: the anchor sentence(s) when given, extended to a
  neighbouring sentence of the same passage while the quote is shorter than the minimum of
  ``report.quote_words`` (8 words by default), and never longer than the maximum (60): the
  last sentences are left out, and a single sentence longer than that is cut at a clause
  boundary (a comma, a semicolon, a dash, then "and", "but", ...) and marked "…". A passage
  that itself starts mid-sentence is shown with "…" in front.
- **Clean verbatim.** ``Quote.text`` is the clean verbatim of those words
  (:func:`~.verbatim.clean_verbatim`: no "uh", "you know", "I, I, I"; ``report.verbatim:
  strict`` keeps them) and ``Quote.verbatim`` the exact words of the source.
- **Where.** The source file, then the timestamp, or the page and the line ("notes.pdf,
  page 3, line 27"), whichever the source has.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from ..core.config import ReportConfig
from .schema import Quote
from .sentences import continues_sentence, whole_sentences
from .verbatim import clean_verbatim

#: A sentence splitter: text -> ``(start, end)`` character offsets of its whole sentences.
Splitter = Callable[[str], list[tuple[int, int]]]

# Where a long sentence may be cut: after a comma, semicolon or colon, before a dash or a
# pause; failing those, before a conjunction.
_PUNCT_CUT_RE = re.compile(r"(?<=[,;:])\s|\s(?=--|[—–]|…)|(?<=…)\s")
_WORD_CUT_RE = re.compile(r"\s(?=(?:and|but|because|so|which|or|when|while|if)\b)", re.I)


def parsed_or_spacy(offsets: dict[str, list[tuple[int, int]]]) -> Splitter:
    """A splitter that reads the sentences of texts already parsed (``ParsedSentences.offsets``)
    and parses only the others, with :func:`spacy_sentences`."""

    def split(text: str) -> list[tuple[int, int]]:
        known = offsets.get(text)
        return list(known) if known is not None else spacy_sentences(text)

    return split


def spacy_sentences(text: str) -> list[tuple[int, int]]:
    """The whole sentences of ``text`` as parsed for the sentences table (same model, same
    merging), so an anchor taken from that table falls on sentence boundaries here."""
    from ..core import nlp

    doc = nlp.english_full()(text)
    return [(s.start_char, s.end_char) for s in whole_sentences(doc)]


def _timestamp(seconds) -> str | None:
    if seconds is None or pd.isna(seconds):
        return None
    s = int(round(float(seconds)))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _find(text: str, words: str) -> tuple[int, int] | None:
    """Where ``words`` occur in ``text``, whatever the whitespace between them."""
    tokens = words.split()
    if not tokens:
        return None
    m = re.search(r"\s+".join(re.escape(t) for t in tokens), text)
    return (m.start(), m.end()) if m else None


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


class QuoteMaker:
    """Builds :class:`Quote` objects for passages, with where each one can be found.

    Args:
        passages: the passages table (``passage_id``, ``text``, ``interview_id``, ``speaker``,
            ``source_file``, ``source_line``, ``source_page``, ``start``).
        sections: the guide section of each passage id (missing or ``""`` when it has none).
        config: the report settings read here: ``verbatim`` and ``quote_words``
            (default: the built-in ones).
        split: the sentence splitter (default: :func:`spacy_sentences`, the parser the
            sentences table uses); tests pass a simpler one.
    """

    def __init__(
        self,
        passages: pd.DataFrame,
        sections: dict[str, str],
        config: ReportConfig | None = None,
        split: Splitter | None = None,
    ):
        self.rows = passages.set_index("passage_id")
        self.sections = sections
        config = config if config is not None else ReportConfig()
        self.clean = config.verbatim == "clean"
        self.min_words, self.max_words = config.quote_words
        self._split = split or spacy_sentences
        self._sentences: dict[str, list[tuple[int, int]]] = {}

    # -- public API ----------------------------------------------------------------------------

    def __call__(self, passage_id: str, text: str | None = None) -> Quote:
        """Quote one passage, or the given sentences of it.

        Args:
            passage_id: the passage quoted.
            text: the words to show, one or more whole sentences of the passage (e.g. a
                sentence of the sentences table); shown as given (cleaned), only cut when
                longer than the maximum of ``report.quote_words``. Default: the passage's
                sentences picked by :meth:`excerpt`.

        Returns:
            The quote, with its conversation, speaker, section and location in the source.
        """
        if text is None:
            return self.excerpt(passage_id)
        text = str(text)
        source = str(self.rows.loc[passage_id, "text"])
        found = _find(source, text)
        if found is None:
            spans = self._split(text) or [(0, len(text))]
            return self._make(passage_id, text, spans, 0, len(spans) - 1, extend=False)
        a, b = found
        spans = [
            (max(s, a), min(e, b)) for s, e in self.sentences(passage_id) if e > a and s < b
        ] or [(a, b)]
        return self._make(passage_id, source, spans, 0, len(spans) - 1, extend=False)

    def excerpt(self, passage_id: str, anchor: str | None = None) -> Quote:
        """Quote whole sentences of a passage, between the minimum and maximum of
        ``report.quote_words`` words where the passage allows.

        Args:
            passage_id: the passage quoted.
            anchor: words of the passage the quote must hold (e.g. the sentence that made a
                point). The quote is the sentence(s) holding it, extended to the next (or
                else the previous) sentence while shorter than the minimum. Default: the
                passage from its first sentence start, as far as the maximum allows.

        Returns:
            The quote. An anchor not found in the passage (e.g. sentences of two passages) is
            shown as given, cut to the maximum when longer.
        """
        source = str(self.rows.loc[passage_id, "text"])
        spans = self.sentences(passage_id)
        if not spans:
            return self._quote(passage_id, self._shown(source.strip()), source.strip())
        if anchor is None:
            i, j = self._window(source, spans)
        else:
            found = _find(source, str(anchor))
            if found is None:
                return self(passage_id, str(anchor))
            a, b = found
            inside = [k for k, (s, e) in enumerate(spans) if e > a and s < b]
            if not inside:
                return self(passage_id, str(anchor))
            i, j = inside[0], inside[-1]
        return self._make(passage_id, source, spans, i, j, extend=True)

    def sentences(self, passage_id: str) -> list[tuple[int, int]]:
        """``(start, end)`` offsets of the whole sentences of a passage's text (cached)."""
        if passage_id not in self._sentences:
            source = str(self.rows.loc[passage_id, "text"])
            spans = [_strip(source, a, b) for a, b in self._split(source)]
            self._sentences[passage_id] = [(a, b) for a, b in spans if b > a]
        return self._sentences[passage_id]

    # -- choosing the words --------------------------------------------------------------------

    def _shown(self, verbatim: str) -> str:
        return clean_verbatim(verbatim) if self.clean else verbatim

    def _words(self, source: str, spans, i: int, j: int) -> int:
        return len(self._shown(source[spans[i][0] : spans[j][1]]).split())

    def _window(self, source: str, spans) -> tuple[int, int]:
        """The passage's sentences from its first sentence start, as many as fit the maximum."""
        last = len(spans) - 1
        starts = [k for k, (a, b) in enumerate(spans) if not continues_sentence(source[a:b])]
        i = starts[0] if starts else 0
        if i > 0 and self._words(source, spans, i, last) < self.min_words:
            i = 0  # better a quote marked "…" in front than one too short to read
        j = i
        while j < last and self._words(source, spans, i, j + 1) <= self.max_words:
            j += 1
        return i, j

    def _make(self, passage_id: str, source: str, spans, i: int, j: int, extend: bool) -> Quote:
        n = self._words(source, spans, i, j)
        while extend and n < self.min_words:
            if j + 1 < len(spans) and self._words(source, spans, i, j + 1) <= self.max_words:
                j += 1
            elif (
                i > 0
                and not continues_sentence(source[spans[i - 1][0] : spans[i - 1][1]])
                and self._words(source, spans, i - 1, j) <= self.max_words
            ):
                i -= 1
            else:
                break
            n = self._words(source, spans, i, j)
        while j > i and n > self.max_words:
            j -= 1
            n = self._words(source, spans, i, j)
        verbatim = source[spans[i][0] : spans[j][1]]
        shown = self._shown(verbatim)
        if n > self.max_words:
            verbatim, shown = self._cut(verbatim)
        if continues_sentence(verbatim) and not shown.startswith("…"):
            shown = "…" + shown.lstrip(",;:.!?)]}-–— ")
        return self._quote(passage_id, shown, verbatim)

    def _cut(self, sentence: str) -> tuple[str, str]:
        """A sentence longer than the maximum, cut at a clause boundary: (verbatim, shown…)."""
        low, high = self.min_words, self.max_words

        def fits(cuts, at_least: int) -> int | None:
            best = None
            for m in cuts:
                words = len(self._shown(sentence[: m.start()]).split())
                if at_least <= words <= high:
                    best = m.start()
            return best

        cut = (
            fits(_PUNCT_CUT_RE.finditer(sentence), low)
            or fits(_WORD_CUT_RE.finditer(sentence), low)
            or fits(re.finditer(r"\s+", sentence), 1)
        )
        if not cut:  # one long run of characters: nothing to cut at
            return sentence, self._shown(sentence)
        verbatim = sentence[:cut].rstrip()
        return verbatim, self._shown(verbatim).rstrip(" ,;:-–—…") + "…"

    # -- the quote -----------------------------------------------------------------------------

    def _quote(self, passage_id: str, text: str, verbatim: str) -> Quote:
        row = self.rows.loc[passage_id]
        ts = _timestamp(row["start"])
        line, page = _int(row["source_line"]), _int(row["source_page"])
        where = str(row["source_file"])
        if ts:
            where += f" at {ts}"
        else:
            if page:
                where += f", page {page}"
            if line:
                where += f", line {line}"
        return Quote(
            text=text,
            verbatim=verbatim,
            interview_id=str(row["interview_id"]),
            speaker=str(row["speaker"]),
            where=where,
            source_file=str(row["source_file"]),
            line=line,
            page=page,
            timestamp=ts,
            section=self.sections.get(passage_id),
            passage_id=passage_id,
        )
