"""Findings from the themes: "what people said about X", for corpora that are not advice.

A theme becomes a finding when enough conversations raise it substantively, and is ranked
by that support and by how distinctive its words are. Each finding gets:

- a headline made of the key phrases people said (noun phrases from its sentences that
  hold its keywords, e.g. "Maintainer burnout and paid time"), never a sentence fragment;
- a summary sentence with its support and where in the guide it sits;
- the theme's most central well-formed sentence (closest in meaning to the theme's centre);
- quotes from different conversations.

A theme nearly every conversation touches with words nearly every conversation uses
(the study's own subject, "people", "way") is *context*, not a finding, and is listed as
such with its figures. A theme from one or two conversations goes to "only one or two said".
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.config import Config
from ..evaluate.report import quote_problem, summary_problem
from ..results import OUTLIER, Results
from .quotes import QuoteMaker
from .schema import ContextTheme, RarePoint, Takeaway
from .sentences import ParsedSentences
from .takeaways import normalise
from .verbatim import clean_verbatim

# Spoken openers that make a sentence read as a reply rather than a statement.
DISCOURSE_LEAD = re.compile(
    r"^(?:(?:and|so|but|well|yeah|yes|yep|no|okay|ok|right|oh|like|um+|uh+|erm|hmm|i mean"
    r"|you know|because|cause|or|now|anyway|anyways|actually|basically|honestly)\b[\s,.…-]*)+",
    re.IGNORECASE,
)
# Nouns too general to name a theme on their own ("a lot of things", "the way").
GENERIC_NOUNS = frozenset(
    """thing things stuff lot lots way ways kind kinds sort sorts bit bunch people person
    time times something anything everything nothing one ones part parts point points question
    questions case cases fact sense idea ideas guy guys folks year years day days moment end
    side number level type types example examples reason reasons place problem area world
    yeah okay today""".split()
)
# Determiners and the like dropped from the front of a key phrase.
LEAD_POS = frozenset({"DET", "PRON", "NUM", "ADP", "CCONJ", "PART", "SCONJ", "INTJ", "AUX"})


@dataclass
class ThemeEvidence:
    """What the report knows about one theme, gathered once for findings, context and rare."""

    theme_id: int
    label: str
    keywords: list[str]
    passages: pd.DataFrame  # its interviewee passages, most central first
    support: list[str]  # conversations that raise it substantively
    spread: dict[str, float]  # keyword -> share of all conversations using it
    phrases: list[str] = field(default_factory=list)
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def generality(self) -> float:
        return float(np.mean(list(self.spread.values()))) if self.spread else 0.0


def strip_lead(text: str) -> str:
    """A sentence without its spoken opener ("So, yeah, the grant ..." -> "The grant ...").

    Args:
        text: one sentence.

    Returns:
        The sentence from its first content word, capitalised; unchanged when nothing is cut.
    """
    cut = DISCOURSE_LEAD.sub("", text, count=1).lstrip(" ,.;:…-")
    if cut == text or not cut:
        return text
    return cut[0].upper() + cut[1:]


def support_of(group: pd.DataFrame, min_passages: int = 2) -> list[str]:
    """Conversations that raise a theme substantively.

    Args:
        group: the theme's passages (``interview_id``, ``probability``).
        min_passages: passages a conversation needs in the theme to count on that alone.

    Returns:
        The conversations (sorted) with at least ``min_passages`` passages in the theme, or
        one passage at least as central as the theme's median passage: a passing remark far
        from the theme's centre is not support.
    """
    median = float(group["probability"].median()) if len(group) else 0.0
    out = []
    for interview_id, rows in group.groupby("interview_id", sort=True):
        if len(rows) >= min_passages or float(rows["probability"].max()) >= median:
            out.append(str(interview_id))
    return out


def keyword_spread(keywords: list[str], text_by_interview: dict[str, str]) -> dict[str, float]:
    """The share of all conversations whose interviewee speech uses each keyword.

    Args:
        keywords: the theme's keywords (words or phrases).
        text_by_interview: each conversation's interviewee text, lower case.

    Returns:
        Keyword -> share of conversations (0..1).
    """
    return SpreadIndex(text_by_interview).spread(keywords)


class SpreadIndex:
    """Each conversation's words, sorted, so a keyword's spread is a prefix lookup per
    conversation instead of a regex search through all its speech (a real corpus of 50
    long interviews has megabytes of it, searched for every keyword of every theme).

    A keyword matches a word it begins, with up to three more letters ("grant" matches
    "grants"); a phrase is searched for in the text, in the conversations that have its
    first word.
    """

    def __init__(self, text_by_interview: dict[str, str]):
        self.texts = text_by_interview
        self.words = {k: sorted(set(re.findall(r"\w+", t))) for k, t in text_by_interview.items()}

    def _has_word(self, words: list[str], word: str) -> bool:
        i = bisect.bisect_left(words, word)
        while i < len(words) and words[i].startswith(word):
            if len(words[i]) - len(word) <= 3:
                return True
            i += 1
        return False

    def uses(self, interview_id: str, keyword: str) -> bool:
        k = keyword.lower()
        parts = re.findall(r"\w+", k)
        if not parts or not self._has_word(self.words[interview_id], parts[0]):
            return False
        if [k] == parts:
            return True
        pattern = re.compile(r"\b" + re.escape(k) + r"\w{0,3}\b")
        return pattern.search(self.texts[interview_id]) is not None

    def spread(self, keywords: list[str]) -> dict[str, float]:
        n = len(self.texts) or 1
        return {k: round(sum(self.uses(i, k) for i in self.texts) / n, 3) for k in keywords}


def _with_of(chunk) -> list:
    """The chunk's tokens, extended by an "of" phrase on its head ("single point of failure")."""
    tokens = list(chunk)
    for prep in chunk.root.rights:
        if prep.lower_ == "of" and prep.i == chunk.end:
            objects = [c for c in prep.children if c.dep_ == "pobj" and c.pos_ in ("NOUN", "PROPN")]
            if objects:
                end = objects[0].i + 1
                tail = [t for t in chunk.doc[prep.i : end]]
                if len(tokens) + len(tail) <= 5 and not any(t.pos_ == "DET" for t in tail[1:]):
                    tokens += tail
        break
    return tokens


def _phrase(chunk) -> tuple[str, str] | None:
    """A noun chunk as a key phrase (text, lemma key), or None when it names nothing."""
    tokens = _with_of(chunk)
    while tokens and (tokens[0].pos_ in LEAD_POS or not tokens[0].is_alpha):
        tokens = tokens[1:]
    while tokens and not tokens[-1].is_alpha:
        tokens = tokens[:-1]
    if not tokens or len(tokens) > 5 or tokens[-1].pos_ not in ("NOUN", "PROPN"):
        return None
    content = [t for t in tokens if t.pos_ in ("NOUN", "PROPN", "ADJ") and not t.is_stop]
    if not content or all(t.lemma_.lower() in GENERIC_NOUNS for t in content):
        return None
    if any(t.pos_ in ("PRON", "INTJ", "VERB", "AUX", "CCONJ", "NUM") for t in tokens):
        return None
    if any(t.pos_ == "ADP" and t.lower_ != "of" for t in tokens):
        return None
    # Names keep their capitals ("PyPI", "Python"); other words are lower case, since a
    # sentence-initial capital is not how the phrase is written.
    text = " ".join(
        t.text if t.pos_ == "PROPN" or any(c.isupper() for c in t.text[1:]) else t.text.lower()
        for t in tokens
    )
    if not re.fullmatch(r"[A-Za-z][A-Za-z' .&/-]*", text):
        return None
    key = " ".join(t.lemma_.lower() for t in tokens)
    return text, key


@dataclass
class _PhraseStats:
    conversations: set = field(default_factory=set)
    count: int = 0
    forms: dict = field(default_factory=lambda: defaultdict(int))


def phrase_stats(rows: list[int], parsed: ParsedSentences) -> dict[str, _PhraseStats]:
    """Every key phrase in the given sentences: conversations using it, count, written forms.

    Args:
        rows: sentence rows in ``parsed``.
        parsed: the parsed sentences (their spaCy spans give the noun chunks).

    Returns:
        Lemma key -> its statistics.
    """
    out: dict[str, _PhraseStats] = {}
    for r in rows:
        interview_id = parsed.table.at[r, "interview_id"]
        for chunk in parsed.spans[r].noun_chunks:
            got = _phrase(chunk)
            if got is None:
                continue
            text, key = got
            entry = out.setdefault(key, _PhraseStats())
            entry.conversations.add(interview_id)
            entry.count += 1
            entry.forms[text] += 1
    return out


def key_phrases(
    stats: dict[str, _PhraseStats],
    totals: dict[str, int],
    keywords: list[str],
    limit: int = 3,
) -> list[str]:
    """The phrases that name a theme: said in several of its conversations, mostly in it.

    Args:
        stats: the theme's phrase statistics (:func:`phrase_stats` of its sentences).
        totals: each phrase's count over every theme's sentences.
        keywords: the theme's keywords; a phrase must hold one of their words.
        limit: how many phrases to return.

    Returns:
        Up to ``limit`` phrases, best first, none sharing a word with an earlier one. A
        phrase scores by the conversations that said it times the share of its uses that
        fall in this theme (so "python" said everywhere loses to "PyCon sprints" said here),
        with a small bonus for phrases of two or three words, which name things precisely.
    """
    key_words = {w for k in keywords for w in k.lower().split()}
    scored = []
    for key, entry in stats.items():
        words = key.split()
        forms_words = {w.lower() for f in entry.forms for w in f.split()}
        if not (set(words) | forms_words) & key_words or len(entry.conversations) < 2:
            continue
        specificity = entry.count / max(totals.get(key, entry.count), 1)
        score = len(entry.conversations) * specificity * (1 + 0.3 * min(len(words) - 1, 2))
        scored.append((-score, key))
    out, used = [], set()
    for _, key in sorted(scored):
        forms = stats[key].forms
        form = max(sorted(forms), key=lambda f: forms[f])
        words = set(key.split()) | {w.lower() for w in form.split()}
        if words & used:
            continue
        out.append(form)
        used |= words
        if len(out) == limit:
            break
    return out


def headline_from(phrases: list[str], keywords: list[str]) -> str:
    """A headline from key phrases: "Paid maintainers and grant money".

    Args:
        phrases: the theme's key phrases, best first.
        keywords: its keywords, used when no phrase was found.

    Returns:
        One or two phrases joined by "and", capitalised.
    """
    parts = list(phrases[:2] or keywords[:2])
    # One word alone ("Java") says too little: add the next keyword it does not contain.
    if len(parts) == 1 and len(parts[0].split()) == 1:
        more = [k for k in keywords if k.lower() not in parts[0].lower()]
        parts += more[:1]
    text = " and ".join(parts) if parts else "Unnamed theme"
    return text[0].upper() + text[1:]


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def summary_for(ev: ThemeEvidence, n_conv: int) -> str:
    """One sentence: support, what they talked about, and where in the guide."""
    total = sum(ev.sections.values())
    where = ""
    if total:
        top, count = max(sorted(ev.sections.items()), key=lambda kv: kv[1])
        share = count / total
        where = (
            f", mostly in the {top} part of the interview ({share:.0%} of its passages)"
            if share >= 0.5 and len(ev.sections) > 1
            else " across the interview"
        )
    about = _join(ev.phrases[:3] or ev.keywords[:3])
    return f"{len(ev.support)} of {n_conv} conversations talked about {about}{where}."


def gather_evidence(r: Results, cfg: Config) -> list[ThemeEvidence]:
    """Each theme's interviewee passages, support, keyword spread and sections.

    Args:
        r: the earlier stages' results.
        cfg: the configuration (``report.findings_min_conversations`` is not applied here).

    Returns:
        One entry per theme (outliers left out), in theme id order.
    """
    themed = r.passages_with_themes(themed_only=True)
    themed = themed[(themed["theme_id"] != OUTLIER) & (themed["role"] == "interviewee")]
    passages = r.passages
    speech = passages[passages["role"] == "interviewee"]
    text_by_interview = {
        str(k): " ".join(g["text"].astype(str)).lower()
        for k, g in speech.groupby("interview_id", sort=True)
    }
    spread = SpreadIndex(text_by_interview)
    out = []
    for t in r.themes.sort_values("theme_id").itertuples():
        theme_id = int(t.theme_id)
        if theme_id == OUTLIER:
            continue
        group = themed[themed["theme_id"] == theme_id].sort_values(
            ["probability", "passage_id"], ascending=[False, True]
        )
        if group.empty:
            continue
        keywords = [k for k in str(t.keywords).split("; ") if k]
        sections = {
            str(k): int(v) for k, v in group["section"].dropna().value_counts().sort_index().items()
        }
        out.append(
            ThemeEvidence(
                theme_id=theme_id,
                label=str(t.label),
                keywords=keywords,
                passages=group,
                support=support_of(group),
                spread=spread.spread(keywords[:5]),
                sections=sections,
            )
        )
    return out


def _sentence_rows(ev: ThemeEvidence, parsed: ParsedSentences) -> list[int]:
    ids = set(ev.passages["passage_id"])
    return [i for i, pid in enumerate(parsed.table["passage_id"]) if pid in ids]


def readable(text: str) -> bool:
    """Whether a sentence can stand alone in the report: once cleaned it starts and ends as a
    sentence (no trailing "...", no timestamp, no unbalanced quote) and, without its spoken
    opener, reads as a statement. Transcripts of long talk are full of sentences that trail
    off or run into the next speaker; a reader should not meet them as summaries."""
    shown = clean_verbatim(str(text)).strip()
    return quote_problem(shown) is None and summary_problem(strip_lead(shown)) is None


def _candidates(ev: ThemeEvidence, rows: list[int], parsed: ParsedSentences) -> list[int]:
    """Sentences that can sum a theme up: statements of 8-40 words holding a keyword."""
    table = parsed.table
    key_words = {w for k in ev.keywords[:8] for w in k.lower().split()}
    rank = {pid: i for i, pid in enumerate(ev.passages["passage_id"])}
    scored = []
    for i in rows:
        text = strip_lead(str(table.at[i, "text"]))
        n = len(text.split())
        if n < 8 or n > 40 or text.rstrip().endswith("?") or not text[:1].isupper():
            continue
        words = set(str(table.at[i, "lemmas"]).split()) | set(re.findall(r"[a-z]+", text.lower()))
        hits = len(words & key_words)
        if hits:
            scored.append((-hits, rank[table.at[i, "passage_id"]], i))
    best = [i for *_, i in sorted(scored)[:40]]
    fit = [i for i in best if readable(str(table.at[i, "text"]))]
    return (fit or best)[:25]


def central_sentences(
    themes: list[tuple[ThemeEvidence, list[int], np.ndarray]],
    parsed: ParsedSentences,
    embed,
) -> dict[int, int | None]:
    """Each theme's sentence closest in meaning to its centre, among those that can sum it up.

    Args:
        themes: ``(theme, its sentence rows, normalised centroid of its passages)``.
        parsed: the parsed sentences.
        embed: ``texts -> vectors`` (the run's embedder, cached); called once for all themes.

    Returns:
        Theme id -> sentence row (None when no sentence qualifies).
    """
    candidates = {ev.theme_id: _candidates(ev, rows, parsed) for ev, rows, _ in themes}
    flat = [i for ev, _, _ in themes for i in candidates[ev.theme_id]]
    if not flat:
        return {ev.theme_id: None for ev, _, _ in themes}
    vectors = normalise(embed([strip_lead(str(parsed.table.at[i, "text"])) for i in flat]))
    out, start = {}, 0
    for ev, _, centroid in themes:
        rows = candidates[ev.theme_id]
        block = vectors[start : start + len(rows)]
        start += len(rows)
        if not rows:
            out[ev.theme_id] = None
        elif block.shape[1] != centroid.shape[0]:
            out[ev.theme_id] = rows[0]
        else:
            out[ev.theme_id] = rows[int(np.argmax(block @ centroid))]
    return out


def theme_quotes(
    ev: ThemeEvidence, parsed: ParsedSentences, quote: QuoteMaker, limit: int, skip: set[str]
) -> list:
    """Up to ``limit`` quotes from different conversations, most central passage first."""
    table = parsed.table
    key_words = {w for k in ev.keywords[:8] for w in k.lower().split()}
    by_passage = defaultdict(list)
    for i in _sentence_rows(ev, parsed):
        by_passage[table.at[i, "passage_id"]].append(i)
    quotes, seen, spare = [], set(skip), []
    for row in ev.passages.itertuples():
        if row.interview_id in seen or row.passage_id not in by_passage:
            continue
        sentences = by_passage[row.passage_id]
        best = max(
            sentences,
            key=lambda i: (
                len(set(str(table.at[i, "lemmas"]).split()) & key_words),
                len(str(table.at[i, "text"]).split()) >= 8,
                -i,
            ),
        )
        anchor = str(table.at[best, "text"])
        excerpt = getattr(quote, "excerpt", None)
        made = excerpt(row.passage_id, anchor) if excerpt else quote(row.passage_id, anchor)
        if any(" ".join(made.text.split()) == " ".join(q.text.split()) for q in quotes):
            continue  # the same words said in two sessions (a task read out) are one quote
        if quote_problem(made.text) is not None:
            spare.append((row.interview_id, made))  # used only if too few clean ones
            continue
        quotes.append(made)
        seen.add(row.interview_id)
        if len(quotes) == limit:
            break
    for interview, made in spare:
        if len(quotes) >= limit:
            break
        if interview not in seen:
            quotes.append(made)
            seen.add(interview)
    return quotes


def _centroid(ev: ThemeEvidence, r: Results, vectors: np.ndarray) -> np.ndarray:
    index = {pid: i for i, pid in enumerate(r.passages["passage_id"])}
    rows = [index[p] for p in ev.passages["passage_id"] if p in index]
    c = normalise(vectors[rows]).mean(axis=0)
    return c / (np.linalg.norm(c) or 1.0)


def build_findings(
    r: Results,
    parsed: ParsedSentences,
    cfg: Config,
    quote: QuoteMaker,
    passage_vectors: np.ndarray,
    embed,
) -> tuple[list[Takeaway], list[ContextTheme], list[RarePoint]]:
    """The corpus's main findings from its themes, the themes that are context, and the rare.

    Args:
        r: the earlier stages' results.
        parsed: the interviewee sentences.
        cfg: the configuration (``report.findings``, ``report.context_share``,
            ``report.findings_min_conversations``, ``report.rare_max_conversations``).
        quote: makes every quote.
        passage_vectors: the passages' embeddings, aligned with ``r.passages``.
        embed: ``texts -> vectors`` for the candidate summary sentences.

    Returns:
        Up to ``report.findings`` findings (kind ``theme``) ranked by support x
        distinctiveness; the context themes; and themes from only one or two conversations.
    """
    n_conv = len(r.interviews)
    evidence = gather_evidence(r, cfg)
    rows_by_theme = {ev.theme_id: _sentence_rows(ev, parsed) for ev in evidence}
    stats = {ev.theme_id: phrase_stats(rows_by_theme[ev.theme_id], parsed) for ev in evidence}
    totals: dict[str, int] = defaultdict(int)
    for theme_stats in stats.values():
        for key, entry in theme_stats.items():
            totals[key] += entry.count
    for ev in evidence:
        ev.phrases = key_phrases(stats[ev.theme_id], totals, ev.keywords)
    context, candidates, rare = [], [], []
    for ev in evidence:
        share = len(ev.support) / n_conv if n_conv else 0.0
        if len(ev.support) <= cfg.report.rare_max_conversations and (
            len(ev.support) < cfg.report.findings_min_conversations or n_conv > 3
        ):
            rare.append(ev)
        elif share >= cfg.report.context_share and ev.generality >= 0.75:
            context.append(ev)
        elif len(ev.support) >= cfg.report.findings_min_conversations:
            candidates.append(ev)
    candidates.sort(
        key=lambda ev: (-(len(ev.support) / max(n_conv, 1)) * (1.25 - ev.generality), ev.theme_id)
    )
    chosen = candidates[: cfg.report.findings]
    central = central_sentences(
        [(ev, rows_by_theme[ev.theme_id], _centroid(ev, r, passage_vectors)) for ev in chosen],
        parsed,
        embed,
    )
    findings = [
        _finding(
            rank, ev, rows_by_theme[ev.theme_id], central[ev.theme_id], parsed, cfg, quote, n_conv
        )
        for rank, ev in enumerate(chosen, start=1)
    ]
    context_out = [
        ContextTheme(
            theme_id=ev.theme_id,
            headline=headline_from(ev.phrases, ev.keywords),
            keywords=ev.keywords[:6],
            conversations=len(ev.support),
            keyword_spread=ev.spread,
            reason=(
                f"raised in {len(ev.support)} of {n_conv} conversations, with words that "
                f"{ev.generality:.0%} of conversations use on average: the corpus's common "
                "ground rather than a finding"
            ),
        )
        for ev in context
    ]
    rare_out = []
    for ev in sorted(rare, key=lambda e: (len(e.support), e.theme_id)):
        quotes = theme_quotes(ev, parsed, quote, 1, set())
        if quotes:
            rare_out.append(
                RarePoint(
                    kind="theme",
                    headline=headline_from(ev.phrases, ev.keywords),
                    conversations=len(ev.support) or 1,
                    interviews=ev.support or sorted(set(ev.passages["interview_id"])),
                    quote=quotes[0],
                )
            )
    return findings, context_out, rare_out


def _finding(
    rank: int,
    ev: ThemeEvidence,
    rows: list[int],
    best: int | None,
    parsed: ParsedSentences,
    cfg: Config,
    quote: QuoteMaker,
    n_conv: int,
) -> Takeaway:
    if best is None and rows:
        best = rows[0]
    table = parsed.table
    if best is not None:
        lesson_pid = str(table.at[best, "passage_id"])
        lesson_text = str(table.at[best, "text"])
    else:
        lesson_pid = str(ev.passages["passage_id"].iloc[0])
        lesson_text = None
    lesson_source = quote(lesson_pid, lesson_text)
    quotes = theme_quotes(
        ev, parsed, quote, cfg.report.quotes_per_takeaway, {lesson_source.interview_id}
    )
    if len(quotes) < 2:
        quotes = theme_quotes(ev, parsed, quote, cfg.report.quotes_per_takeaway, set())
    return Takeaway(
        rank=rank,
        kind="theme",
        headline=headline_from(ev.phrases, ev.keywords),
        summary=summary_for(ev, n_conv),
        lesson=strip_lead(lesson_source.text),
        lesson_source=lesson_source,
        keywords=ev.keywords[:6],
        support=len(ev.support),
        also_discussed=max(0, int(ev.passages["interview_id"].nunique()) - len(ev.support)),
        conversations=n_conv,
        strength=round(1.25 - ev.generality, 3),
        interviews=ev.support,
        quotes=quotes,
        sections=ev.sections,
        theme_id=ev.theme_id,
    )
