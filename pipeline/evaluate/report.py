"""Judge a finished report: properties of ``report.json`` anyone can check on any run.

No labels are needed. Each check is a small pure function on one text or one object
(:func:`headline_problem`, :func:`summary_problem`, :func:`quote_problem`,
:func:`label_placeholder`, ...); :func:`evaluate_report_data` applies them to every
headline, summary, quote, number family and label of a report and gives, per check, the
figure, its target, pass or fail and the offending items. ``insights evaluate report``
prints them; ``bench/real_corpora.py`` puts them side by side for the real corpora.

The rules, in the order they are tried (the first that fails is the reason given):

Headlines (finding and rare-point headlines) and summaries (a finding's ``summary``, else
its ``lesson``; a section theme's ``summary``) share the surface rules:

- not empty, not only dots or an ellipsis; not a question (ends in "?");
- 2-16 words for a headline, 6-60 for a summary (words: runs of letters, digits, ' and -);
- no markup ("> ", "**", "_Source:", "#"), no speaker label ("TERRI: "), no placeholder
  (see :func:`label_placeholder`), brackets and quote marks balanced;
- no filler (uh, um, erm, hmm; "like", "you know", "I mean", "sort of", "kind of",
  "basically" set off by punctuation), no stutter (the same word twice in a row, "the the",
  "I, I"; not "had had", "that that", "is is", "very very", "no, no"), no false start
  ("--"), no ellipsis inside (a hesitation or a cut) and no vague tail ("or whatever",
  "or something (like that)", "and stuff", "and all that");
- not starting with a discourse marker: always "And", "So" (not "So many/much/few/far"),
  "But", "Well", "Yeah", "Yes", "Okay", "Like", "Because", "Or", "Oh", "Also", "Anyway",
  "Actually", "Basically", "Plus", "Then", "I mean", "You know", "Let's say"; with a comma
  after it "Right,", "Now,", "Look,", "See,", "Listen,", "Sure,", "First," and other
  enumerators; "Say" before anything but no/yes/something/what/how/hi/thanks ("Say worse
  data", "Say you have a client": "say" means "for example" or "suppose");
- not conversation management: "Let's ...", "Let me ...", "Let us ...", "Let you ...";
  not a conversational formula alone ("Come on", "Go ahead", "Fair enough", "Makes sense");
- not cut off: no final "," ";" ":" or "-"; not a verbatim copy of the interviewer's
  words (when turns.parquet is beside the report: 4+ words found in an interviewer's
  sentence that ends in "?", or in what interviewers said in 2+ conversations, i.e.
  material read out or shown; one conversation is not enough, since an interviewer may
  read an interviewee's own words back).

Summaries then need a content word and must not end in a determiner, a conjunction or
"like" (they are sentences as said, so the headline grammar below does not apply).

Headlines then must be one sentence, hold no hedge ("I guess", "I think", "I suppose",
"I would say", "I don't know") and pass the grammar rules (spaCy tags, the bundled
``en_core_web_sm`` pipeline of :mod:`pipeline.core.nlp`). **A headline is a noun phrase
("Referrals from past clients"), a full clause with its subject ("Building a portfolio
takes time") or an imperative ("Raise your rates", "Read the profile").** So it fails when:

- it has no content word (no noun, proper noun, verb, adjective or number);
- it starts with a modal ("Can gum up the entire system": a verb phrase whose subject was
  left behind; modals have no imperative), with an inflected "be" ("Is it worth it"), with
  do/have before a subject pronoun ("Do you charge hourly": a question without its "?"),
  with a verb in -s ("Depends on the client") or with a past-tense verb before its object
  ("Pushed it"): clauses without their subject. A past participle before a preposition
  is a phrase and passes ("Paid per project", "Based on referrals");
- it ends in a function word: a determiner ("Work on these"; not all/both/no/each/this/
  that), a preposition ("Look at"; unless a relative clause strands it: "Find work you are
  proud of"), a conjunction, a particle "to"/"not"/"'s", an auxiliary ("Which is"; unless
  after a wh-word, "than" or "as": "Do what you can"), the word "like" ("That also like"),
  a quantity noun that needs its "of ..." ("Work on these sort", "a couple") or an
  intensifier that needs what it qualifies ("Be really", "Charge just");
- it has no noun and ends in a pronoun ("Never put yourself", "Look at it"): the thing
  meant was cut off; a reflexive after a preposition passes ("Believe in yourself").
  Phrasal-verb particles pass ("Follow up", "Put it off").

"Read the profile" passes: an imperative with a concrete object is a well-formed headline;
whether it says enough is a question of content, which these checks do not judge.

Quotes (every Quote object anywhere in the report): the shown ``text`` starts at a sentence
start (a capital letter, a digit, a letter of a script without case, or an opening quote
mark; not a comma, an ellipsis, markup or a lowercase word) and ends at a sentence end
(".", "!", "?", optionally followed by closing quote marks or brackets; a final ellipsis
trails off), with no filler, stutter, false start, markup, speaker label or bracketed
timestamp ("[04:10]").

The other checks: findings (takeaways) resting on 2+ conversations (their ``interviews``,
else their quotes' ids); per finding, quotes from distinct conversations (2+, none twice,
no text twice); number families whose mentions all come from one conversation; labels,
keywords and list items holding a placeholder (:data:`PLACEHOLDER_PATTERNS`); and, with
turns.parquet, quotes whose speaker is the corpus's recurring interviewer
(:func:`interviewer_speakers`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------ targets

HEADLINE_WORDS = (2, 16)
SUMMARY_WORDS = (6, 60)
SHARE_TARGET = 0.9  # share of headlines, summaries and quotes that must be well-formed
EXAMPLES = 10  # offending items listed per failed check

# ------------------------------------------------------------------ text patterns

_WORD_RE = re.compile(r"[\w'’-]+")
_ELLIPSIS_RE = re.compile(r"…|\.\.\.")
_QUOTE_OPENERS = "\"“‘'«„‹(["
_CLOSERS = "\"”’'»›)]"
_DISFLUENCY_RE = re.compile(
    r"(?<![\w'’-])(?:u+h+|u+m+|u+h+m+|e+r+m+|er|h+m+|mhm|mm+)(?![\w'’-])", re.I
)
_SET_OFF_FILLER_RE = re.compile(
    r"(?:^|(?<=[,;:.!?…—–(]))\s*(you know|i mean|like|sort of|kind of|basically|you see)"
    r"\s*(?=[,;:.!?…—–)]|$)",
    re.I,
)
_STUTTER_RE = re.compile(r"(?<![\w'’])([a-z]+(?:['’][a-z]+)?)(?:\s*,\s*|\s+)\1(?![\w'’])", re.I)
_GRAMMATICAL_DOUBLES = frozenset({"had", "that", "is", "bye", "ha", "very", "no", "yes"})
_FALSE_START_RE = re.compile(r"--|\w-\s*$|\s-\s*[,.]")
_VAGUE_TAIL_RE = re.compile(
    r"\b(or whatever(?: it is)?|or something(?: like that)?|or anything like that|"
    r"and stuff(?: like that)?|and all that(?: stuff)?|and everything)\b(?=\s*(?:[,.;:!?…]|$))",
    re.I,
)
_MARKUP_RE = re.compile(r"^\s*>|\s>(?:\s|$)|\*\*|__|\b_Source\b|^\s*#+\s|\[[^\]]*\]\([^)]*\)", re.I)
_SPEAKER_LABEL_RE = re.compile(r"(?:^|[\s>])[A-Z][A-Z'.-]+(?: [A-Z][A-Z'.-]+)?:\s")
_TIMESTAMP_IN_TEXT_RE = re.compile(r"\\?[\[(]\d{1,2}:\d{2}(?::\d{2})?\\?[\])]")
_HEDGE_RE = re.compile(
    r"\b(i guess|i suppose|i think|i would say|i'd say|i don't know|i'm not sure)\b", re.I
)

_ALWAYS_MARKERS = (
    "let's say",
    "let us say",
    "i mean",
    "you know",
    "and",
    "so",
    "but",
    "well",
    "yeah",
    "yes",
    "yep",
    "yup",
    "okay",
    "ok",
    "like",
    "because",
    "cause",
    "'cause",
    "or",
    "oh",
    "also",
    "anyway",
    "anyways",
    "actually",
    "basically",
    "plus",
    "then",
    "um",
    "uh",
    "hmm",
)
_COMMA_MARKERS = frozenset(
    "right now look see listen sure alright cool true honestly obviously again exactly great "
    "first second third fourth fifth one two three four five firstly secondly lastly finally "
    "no".split()
)
_SO_NOT_MARKER = frozenset({"many", "much", "few", "far", "little", "long"})
_SAY_OBJECTS = frozenset(
    "no yes something anything nothing what how hi hello thanks thank goodbye sorry".split()
)
_FORMULAS = frozenset(
    {
        "come on",
        "go ahead",
        "hang on",
        "hold on",
        "fair enough",
        "makes sense",
        "that makes sense",
        "thank you",
        "thanks",
        "good question",
        "great question",
        "i see",
        "there you go",
        "that's it",
        "you know what",
        "exactly",
        "of course",
        "not really",
        "me too",
    }
)
_LET_RE = re.compile(r"^(?:let's|let us|let me|let you)\b")

# ------------------------------------------------------------------ placeholders

PLACEHOLDER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("xxx", re.compile(r"(?<![A-Za-z])[xX]{3,}(?![A-Za-z])")),
    ("bracketed tag", re.compile(r"\[[^\]\n]{1,40}\]")),
    ("angle tag", re.compile(r"<[^<>\n]{1,40}>")),
    (
        "transcription noise",
        re.compile(
            r"\b(inaudible|crosstalk|cross-talk|unintelligible|indiscernible|redacted|laughter|"
            r"laughs|laughing)\b",
            re.I,
        ),
    ),
    (
        "numbered placeholder",
        re.compile(
            r"\b(person|company|participant|organi[sz]ation|org|place|speaker|interviewee|"
            r"interviewer|respondent|client|email|e-mail|phone|url|name|customer|user)"
            r"\s*[_#-]?\s*\d+\b",
            re.I,
        ),
    ),
    ("UPPER_N placeholder", re.compile(r"\b[A-Z]{2,}_\d+\b")),
    ("timestamp", re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])")),
)


def label_placeholder(text: str) -> str | None:
    """The kind of placeholder a label or keyword holds ("xxxx", "[inaudible]", "Company 1",
    "PERSON_1", "<redacted>", "00:12:03"), or None when it holds none."""
    for kind, pattern in PLACEHOLDER_PATTERNS:
        m = pattern.search(text or "")
        if m:
            return f"{kind}: {m.group(0)!r}"
    return None


# ------------------------------------------------------------------ shared helpers


def _norm(text: str) -> str:
    return (text or "").replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def words(text: str) -> list[str]:
    """The words of a text: runs of letters, digits, apostrophes and hyphens."""
    return [w for w in _WORD_RE.findall(text or "") if any(c.isalnum() for c in w)]


def normalise_for_match(text: str) -> str:
    """Lower case, one space between words, no punctuation: for finding copied text."""
    return " ".join(w.casefold() for w in words(_norm(text)))


def filler(text: str) -> str | None:
    """The first filler in a text ("um", ", like,", "you know," ...), or None."""
    m = _DISFLUENCY_RE.search(text)
    if m:
        return m.group(0)
    m = _SET_OFF_FILLER_RE.search(_norm(text))
    if m:
        return m.group(1)
    return None


def stutter(text: str) -> str | None:
    """The first repeated word ("the the", "I, I") or false start ("--"), or None."""
    for m in _STUTTER_RE.finditer(_norm(text)):
        if m.group(1).casefold() not in _GRAMMATICAL_DOUBLES:
            return m.group(0)
    m = _FALSE_START_RE.search(text)
    if m:
        return m.group(0).strip() or "-"
    return None


def _balanced(text: str) -> bool:
    t = _norm(text)
    if t.count("(") != t.count(")") or t.count("[") != t.count("]"):
        return False
    return t.count('"') % 2 == 0


def discourse_marker(text: str) -> str | None:
    """The discourse marker a text starts with ("And", "So", "Let's say", "Right,"), or None."""
    t = _norm(text).strip().lstrip(_QUOTE_OPENERS).strip()
    low = t.casefold()
    ws = [w.casefold() for w in words(t)]
    if not ws:
        return None
    for marker in _ALWAYS_MARKERS:
        if low == marker or re.match(rf"{re.escape(marker)}(?![\w'-])", low):
            if marker == "so" and len(ws) > 1 and ws[1] in _SO_NOT_MARKER:
                continue
            return t[: len(marker)]
    first = ws[0]
    if first in _COMMA_MARKERS and re.match(rf"{re.escape(first)}\s*[,…]", low):
        return t[: len(first)]
    if first == "say" and len(ws) > 1 and ws[1] not in _SAY_OBJECTS:
        return t[:3]
    return None


_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass
class InterviewerWords:
    """What the interviewers said, for finding headlines and summaries copied from it.

    ``questions``: every interviewer sentence that ends in "?", normalised and joined;
    ``by_conversation``: each conversation's interviewer turns, normalised and joined.
    """

    questions: str = ""
    by_conversation: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_turns(cls, turns: Iterable[tuple[str, str]]) -> InterviewerWords:
        """From (conversation id, interviewer turn text) pairs."""
        asked: list[str] = []
        said: dict[str, list[str]] = {}
        for conversation, text in turns:
            text = str(text or "")
            said.setdefault(str(conversation), []).append(f" {normalise_for_match(text)} ")
            asked += [q for q in _SENTENCE_END_RE.split(text) if q.rstrip(_CLOSERS).endswith("?")]
        return cls(
            " | ".join(f" {normalise_for_match(q)} " for q in asked),
            {c: "|".join(parts) for c, parts in said.items()},
        )

    def copied(self, text: str) -> str | None:
        """Why ``text`` (4 words or more) is the interviewer's, or None.

        It is when it occurs word for word in an interviewer's question, or in what the
        interviewers said in two conversations or more (material read out or shown; one
        conversation is not enough: an interviewer may read an interviewee's words back).
        """
        target = normalise_for_match(text)
        if len(target.split()) < 4:
            return None
        needle = f" {target} "
        if needle in self.questions:
            return "copies an interviewer's question"
        where = [c for c, said in self.by_conversation.items() if needle in said]
        if len(where) >= 2:
            return f"copies what the interviewer read out ({len(where)} conversations)"
        return None


def copies_question(text: str, questions: Iterable[str]) -> bool:
    """True when the text (4 words or more) occurs word for word in one of the questions."""
    return InterviewerWords.from_turns(("", q) for q in questions).copied(text) is not None


def _interviewer(value: InterviewerWords | Iterable[str] | None) -> InterviewerWords | None:
    if value is None or isinstance(value, InterviewerWords):
        return value
    return InterviewerWords.from_turns(("", q) for q in value)


def _surface_problem(
    text: str, kind: str, bounds: tuple[int, int], interviewer: InterviewerWords | None = None
) -> str | None:
    """The rules headlines and summaries share; None when all pass."""
    t = (text or "").strip()
    if not t:
        return "empty"
    if not words(t):
        return "no words (ellipsis or punctuation only)"
    if t.rstrip(_CLOSERS).endswith("?"):
        return "a question"
    n = len(words(t))
    if n < bounds[0]:
        unit = "word" if n == 1 else "words"
        return f"too short ({n} {unit}; a {kind} has {bounds[0]}-{bounds[1]})"
    if n > bounds[1]:
        return f"too long ({n} words; a {kind} has {bounds[0]}-{bounds[1]})"
    if _MARKUP_RE.search(t):
        return "markup"
    if _SPEAKER_LABEL_RE.search(t):
        return "a speaker label inside"
    place = label_placeholder(t)
    if place:
        return f"placeholder ({place})"
    if not _balanced(t):
        return "unbalanced brackets or quote marks"
    found = filler(t)
    if found:
        return f"filler: {found!r}"
    found = stutter(t)
    if found:
        return f"stutter or false start: {found!r}"
    marker = discourse_marker(t)
    if marker:
        return f"starts with a discourse marker: {marker!r}"
    inner = _norm(t).rstrip(_CLOSERS + ".!? ")
    if _ELLIPSIS_RE.search(inner):
        return "an ellipsis inside (a hesitation or a cut)"
    m = _VAGUE_TAIL_RE.search(t)
    if m:
        return f"vague tail: {m.group(0)!r}"
    low = normalise_for_match(t)
    if _LET_RE.match(_norm(t).strip().casefold()):
        return "conversation management (let's / let me / let you)"
    if low in _FORMULAS:
        return "a conversational formula"
    if t[-1] in ",;:-–—":
        return f"cut off (ends in {t[-1]!r})"
    copied = interviewer.copied(t) if interviewer is not None else None
    if copied:
        return copied
    return None


# ------------------------------------------------------------------ grammar (spaCy tags)


@lru_cache(maxsize=1)
def _tagger():
    from ..core.nlp import english

    return english()


def tag(text: str) -> list[tuple[str, str, str, str]]:
    """(word, coarse POS, fine tag, lemma) of every token but punctuation, from spaCy."""
    doc = _tagger()(_norm(text).strip())
    return [
        (t.text, t.pos_, t.tag_, t.lemma_.casefold())
        for t in doc
        if not t.is_punct and not t.is_space and t.pos_ not in ("PUNCT", "SYM", "SPACE")
    ]


_CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "NUM"})
_SUBJECTS = frozenset({"i", "you", "we", "they", "he", "she", "it", "there", "people"})
_OBJECT_STARTS = frozenset(
    "it them him her me us this that these those the a an my our their his your its some all "
    "everything something".split()
)
_DET_OK_AT_END = frozenset(
    {"all", "both", "no", "none", "each", "enough", "either", "neither", "this", "that", "half"}
)
_WH = frozenset({"what", "who", "whom", "which", "where", "when", "how", "why", "whatever"})
_QUANTITY_NOUNS = frozenset({"sort", "kind", "type", "bunch", "couple", "handful", "series"})
_QUANTITY_DETS = frozenset(
    {"a", "an", "the", "these", "those", "this", "that", "some", "any", "what"}
)
_INTENSIFIERS = frozenset(
    "really very quite pretty rather just even also so extremely super fairly".split()
)
_REFLEXIVE = frozenset(
    "myself yourself himself herself itself ourselves yourselves themselves oneself".split()
)


def grammar_problem(tokens: list[tuple[str, str, str, str]]) -> str | None:
    """The headline grammar rules on spaCy tags (see the module docstring); None when they pass.

    Args:
        tokens: (word, POS, tag, lemma) per token, punctuation left out (see :func:`tag`).
    """
    if not tokens:
        return "no words"
    low = [w.casefold().replace("’", "'") for w, *_ in tokens]
    pos = [p for _, p, _, _ in tokens]
    tags = [t for _, _, t, _ in tokens]
    lemmas = [lemma for *_, lemma in tokens]
    # An imperative do / be / have ("Do what you can") is the clause's own verb.
    if not any(p in _CONTENT_POS for p in pos) and not (pos[0] == "AUX" and tags[0] == "VB"):
        return "no content word (noun, verb, adjective or number)"
    second = low[1] if len(low) > 1 else ""
    # --- the start: a clause without its subject
    if tags[0] == "MD":
        if second in _SUBJECTS:
            return "a question without its '?'"
        return f"no subject: starts with the modal {tokens[0][0]!r}"
    if pos[0] == "AUX" and lemmas[0] == "be" and tags[0] in ("VBZ", "VBD", "VBP"):
        return f"no subject: starts with {tokens[0][0]!r}"
    if lemmas[0] in ("do", "have") and second in _SUBJECTS:
        return "a question without its '?'"
    if pos[0] == "VERB" and tags[0] == "VBZ":
        return f"no subject: starts with the finite verb {tokens[0][0]!r}"
    first = low[0]
    past = tags[0] == "VBD" or (
        pos[0] == "VERB" and first.endswith("ed") and not first.endswith("eed") and len(first) > 4
    )
    if past and (second in _OBJECT_STARTS or len(low) == 1):
        return f"no subject: starts with the past-tense verb {tokens[0][0]!r}"
    # --- the end: a function word, or a word that needs what was cut off
    last, last_pos, last_tag = low[-1], pos[-1], tags[-1]
    before = set(low[:-1])
    if last == "like":
        return "ends in 'like' (a filler or a cut)"
    if last in _QUANTITY_NOUNS and len(low) > 1 and low[-2] in _QUANTITY_DETS:
        return f"ends in {low[-2]} {last!r}, which needs its 'of ...'"
    if last_pos == "DET" and last not in _DET_OK_AT_END:
        return f"ends in the determiner {tokens[-1][0]!r}"
    if last_pos in ("CCONJ", "SCONJ"):
        return f"ends in the conjunction {tokens[-1][0]!r}"
    if last in _INTENSIFIERS and len(low) > 1:
        return f"ends in {tokens[-1][0]!r}, which needs what it qualifies"
    if last_pos == "ADP" and last_tag != "RP":
        if not before & (_WH | (_SUBJECTS - {"it", "there"})):
            return f"ends in the preposition {tokens[-1][0]!r}"
    if last_pos == "PART" and last_tag != "RP":
        return f"ends in the particle {tokens[-1][0]!r}"
    if last_pos == "AUX" and not before & (_WH | {"than", "as"}):
        return f"ends in the auxiliary {tokens[-1][0]!r}"
    has_noun = any(p in ("NOUN", "PROPN", "NUM") for p in pos)
    if not has_noun and last_pos == "PRON":
        if not (last in _REFLEXIVE and len(pos) > 1 and pos[-2] == "ADP"):
            return (
                f"no noun, and ends in the pronoun {tokens[-1][0]!r} (the thing meant is cut off)"
            )
    return None


# ------------------------------------------------------------------ the checks on one text


def headline_problem(
    text: str, interviewer: InterviewerWords | Iterable[str] | None = None
) -> str | None:
    """Why a headline is not well-formed, or None when it is (rules: module docstring)."""
    problem = _surface_problem(text, "headline", HEADLINE_WORDS, _interviewer(interviewer))
    if problem:
        return problem
    t = _norm(text).strip()
    if re.search(r"[.!?](?:\s+|[\"')\]]\s*)[A-Z0-9\"“]", t.rstrip(".!? ")):
        return "more than one sentence"
    m = _HEDGE_RE.search(t)
    if m:
        return f"a hedge: {m.group(0)!r}"
    return grammar_problem(tag(t))


def summary_problem(
    text: str, interviewer: InterviewerWords | Iterable[str] | None = None
) -> str | None:
    """Why a summary (a finding's lesson or summary, a theme's summary) is not well-formed."""
    problem = _surface_problem(text, "summary", SUMMARY_WORDS, _interviewer(interviewer))
    if problem:
        return problem
    tokens = tag(text)
    if not any(p in _CONTENT_POS for _, p, _, _ in tokens):
        return "no content word (noun, verb, adjective or number)"
    last, last_pos = tokens[-1][0].casefold(), tokens[-1][1]
    if last_pos == "DET" and last not in _DET_OK_AT_END:
        return f"ends in the determiner {tokens[-1][0]!r}"
    if last_pos in ("CCONJ", "SCONJ"):
        return f"ends in the conjunction {tokens[-1][0]!r}"
    if last == "like":
        return "ends in 'like' (a filler or a cut)"
    return None


def quote_problem(text: str) -> str | None:
    """Why a quote's shown text is not clean, or None (rules: module docstring)."""
    t = (text or "").strip()
    if not words(t):
        return "empty"
    first = t[0]
    if first in _QUOTE_OPENERS:
        pass
    elif first.isdigit() or first.isupper():
        pass
    elif first.isalpha() and not first.islower():
        pass  # a script without letter case
    elif first.isalpha():
        return f"starts mid-sentence (lowercase {words(t)[0]!r})"
    else:
        return f"starts mid-sentence ({first!r})"
    end = _norm(t).rstrip(_CLOSERS + " ")
    if _ELLIPSIS_RE.search(end[-3:]) or end.endswith("…"):
        return "trails off (ends in an ellipsis)"
    if not end or end[-1] not in ".!?。！？":
        return f"ends mid-sentence ({t[-12:]!r})"
    if _MARKUP_RE.search(t):
        return "markup"
    if _SPEAKER_LABEL_RE.search(t):
        return "a speaker label inside"
    if _TIMESTAMP_IN_TEXT_RE.search(t):
        return "a timestamp inside"
    found = filler(t)
    if found:
        return f"filler: {found!r}"
    found = stutter(t)
    if found:
        return f"stutter or false start: {found!r}"
    return None


def _as_pair(problem: str | None) -> tuple[bool, str]:
    return problem is None, problem or ""


def is_well_formed_headline(
    text: str, interviewer: InterviewerWords | Iterable[str] | None = None
) -> tuple[bool, str]:
    """(True, "") for a well-formed headline, else (False, the reason)."""
    return _as_pair(headline_problem(text, interviewer))


def is_well_formed_summary(
    text: str, interviewer: InterviewerWords | Iterable[str] | None = None
) -> tuple[bool, str]:
    """(True, "") for a well-formed summary, else (False, the reason)."""
    return _as_pair(summary_problem(text, interviewer))


def quote_is_clean(text: str) -> tuple[bool, str]:
    """(True, "") when a quote starts and ends at sentence bounds with no filler or stutter."""
    return _as_pair(quote_problem(text))


# ------------------------------------------------------------------ the checks on objects


def is_quote(value: Any) -> bool:
    """A Quote object of the schema: text, interview_id and speaker (other fields may vary)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("text"), str)
        and "interview_id" in value
        and "speaker" in value
    )


def quotes_in(value: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    """(where in the report, quote) for every Quote object anywhere in ``value``."""
    if is_quote(value):
        yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from quotes_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from quotes_in(item, f"{path}[{i}]")


LABEL_FIELDS = ("label", "keywords", "item", "labels")


def labels_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) of every label, keyword and list item anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key in LABEL_FIELDS and isinstance(item, str):
                yield where, item
            elif key in LABEL_FIELDS and isinstance(item, list):
                for i, x in enumerate(item):
                    if isinstance(x, str):
                        yield f"{where}[{i}]", x
            else:
                yield from labels_in(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from labels_in(item, f"{path}[{i}]")


def takeaway_summary(takeaway: dict) -> str | None:
    """A finding's summary: its ``summary`` when it has one, else its ``lesson``."""
    for key in ("summary", "lesson"):
        value = takeaway.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            return value["text"]
    return None


def finding_conversations(takeaway: dict) -> set[str]:
    """The conversations a finding rests on: its ``interviews``, else its quotes' ids."""
    ids = {str(i) for i in takeaway.get("interviews") or []}
    if not ids:
        ids = {str(q.get("interview_id")) for q in takeaway.get("quotes") or [] if is_quote(q)}
    return ids


def finding_quote_problem(takeaway: dict) -> str | None:
    """Why a finding's quotes are not 2 or more from distinct conversations, or None."""
    quotes = [q for q in takeaway.get("quotes") or [] if is_quote(q)]
    ids = [str(q.get("interview_id")) for q in quotes]
    texts = [normalise_for_match(q["text"]) for q in quotes]
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        return f"two quotes from one conversation ({repeated[0]})"
    same = [t for t, n in Counter(texts).items() if n > 1]
    if same:
        return f"the same text quoted twice ({same[0][:40]!r}...)"
    if len(set(ids)) < 2:
        return f"{len(set(ids))} conversation(s) quoted"
    return None


def number_single_conversation(fact: dict) -> str | None:
    """The one conversation a number family's mentions all come from, or None."""
    ids = {
        str(m["quote"].get("interview_id"))
        for m in fact.get("mentions") or []
        if isinstance(m, dict) and is_quote(m.get("quote"))
    }
    if not ids:
        return "?" if fact.get("n_conversations") == 1 else None
    return next(iter(ids)) if len(ids) == 1 else None


def interviewer_speakers(turns) -> set[str]:
    """The corpus's recurring interviewers: speakers present in at least half of the
    conversations (and in 3 or more) who are labelled interviewer in most of them.

    Recurrence, not the labels alone: when roles are swapped in one transcript, its
    interviewee is labelled interviewer there, but only the interviewer recurs across calls.
    """
    if turns is None or not len(turns):
        return set()
    table = turns[turns["role"].isin(["interviewer", "interviewee"])]
    conversations = table["interview_id"].nunique()
    roles = table.groupby(["speaker", "interview_id"])["role"].agg(
        lambda r: (r == "interviewer").mean() > 0.5
    )
    found = set()
    for speaker, per_conversation in roles.groupby(level=0):
        n = len(per_conversation)
        if n >= 3 and n >= conversations / 2 and per_conversation.mean() > 0.5:
            found.add(str(speaker))
    return found


# ------------------------------------------------------------------ the report


def _check(
    name: str,
    description: str,
    value: float | int | None,
    target: str,
    passed: bool | None,
    items: list[dict],
    total: int | None = None,
    examples: int = EXAMPLES,
) -> dict:
    return {
        "check": name,
        "description": description,
        "value": value,
        "target": target,
        "passed": passed,
        "n": total,
        "failures": len(items),
        "examples": items[:examples],
    }


def _share_check(
    name: str,
    description: str,
    entries: list[tuple[str, str]],
    judge: Callable[[str], str | None],
    examples: int,
) -> dict:
    failed = []
    for where, text in entries:
        problem = judge(text)
        if problem:
            failed.append({"where": where, "text": text, "reason": problem})
    if not entries:
        return _check(name, description, None, f">= {SHARE_TARGET:.0%}", None, [], 0, examples)
    share = round(1 - len(failed) / len(entries), 3)
    return _check(
        name,
        description,
        share,
        f">= {SHARE_TARGET:.0%}",
        share >= SHARE_TARGET,
        failed,
        len(entries),
        examples,
    )


def evaluate_report_data(report: dict, turns=None, examples: int = EXAMPLES) -> dict:
    """Every check on one report (a parsed report.json), with the offending items.

    Args:
        report: the parsed report.json; unknown fields are ignored, missing ones mean n/a.
        turns: turns.parquet as a DataFrame (interview_id, speaker, role, text), or None:
            without it the interviewer checks are n/a.
        examples: offending items kept per check.

    Returns:
        ``{"counts": {...}, "checks": [{"check", "description", "value", "target",
        "passed" (True, False or None for n/a), "n", "failures", "examples"}, ...]}``.
    """
    takeaways = [t for t in report.get("takeaways") or [] if isinstance(t, dict)]
    sections = [s for s in report.get("sections") or [] if isinstance(s, dict)]
    themes = [
        (f"sections[{i}].themes[{j}]", th)
        for i, s in enumerate(sections)
        for j, th in enumerate(s.get("themes") or [])
        if isinstance(th, dict)
    ]
    rare = [r for r in report.get("rare") or [] if isinstance(r, dict)]
    numbers = [n for n in report.get("numbers") or [] if isinstance(n, dict)]
    quotes = list(quotes_in(report))
    labels = list(labels_in(report))

    have_turns = turns is not None and len(turns) > 0
    words_of: InterviewerWords | None = None
    interviewers: set[str] = set()
    if have_turns:
        asked = turns[turns["role"] == "interviewer"]
        words_of = InterviewerWords.from_turns(
            zip(asked["interview_id"], asked["text"], strict=True)
        )
        interviewers = interviewer_speakers(turns)

    checks = [
        _share_check(
            "finding headlines well-formed",
            "takeaway headlines that are a noun phrase, a clause or an imperative of 2-16 words, "
            "with no filler, marker, cut or question",
            [
                (f"takeaways[{i}].headline", str(t.get("headline") or ""))
                for i, t in enumerate(takeaways)
            ],
            lambda text: headline_problem(text, words_of),
            examples,
        ),
        _share_check(
            "rare-point headlines well-formed",
            "headlines of what only one or two said, by the same rules",
            [(f"rare[{i}].headline", str(r.get("headline") or "")) for i, r in enumerate(rare)],
            lambda text: headline_problem(text, words_of),
            examples,
        ),
        _share_check(
            "finding summaries well-formed",
            "takeaway summary (or lesson) of 6-60 words with no filler, marker, cut or question",
            [
                (f"takeaways[{i}]", takeaway_summary(t) or "")
                for i, t in enumerate(takeaways)
                if takeaway_summary(t) is not None
            ],
            lambda text: summary_problem(text, words_of),
            examples,
        ),
        _share_check(
            "theme summaries well-formed",
            "section theme summaries by the same rules",
            [
                (f"{where}.summary", str(th.get("summary")))
                for where, th in themes
                if isinstance(th.get("summary"), str)
            ],
            lambda text: summary_problem(text, words_of),
            examples,
        ),
        _share_check(
            "quotes clean",
            "quotes (every Quote object) starting and ending at sentence bounds, with no filler, "
            "stutter or markup in the shown text",
            [(where, q["text"]) for where, q in quotes],
            quote_problem,
            examples,
        ),
    ]

    # Findings supported by two conversations or more.
    weak = [
        {
            "where": f"takeaways[{i}]",
            "text": str(t.get("headline") or ""),
            "reason": f"{len(finding_conversations(t))} conversation(s)",
        }
        for i, t in enumerate(takeaways)
        if len(finding_conversations(t)) < 2
    ]
    share = round(1 - len(weak) / len(takeaways), 3) if takeaways else None
    checks.append(
        _check(
            "findings from >= 2 conversations",
            "takeaways whose interviews (or quotes) span two conversations or more",
            share,
            "100%",
            None if share is None else share == 1.0,
            weak,
            len(takeaways),
            examples,
        )
    )

    # Quotes per finding from distinct conversations.
    distinct = [
        len({str(q.get("interview_id")) for q in t.get("quotes") or [] if is_quote(q)})
        for t in takeaways
    ]
    bad_quotes = [
        {"where": f"takeaways[{i}].quotes", "text": str(t.get("headline") or ""), "reason": p}
        for i, t in enumerate(takeaways)
        if (p := finding_quote_problem(t))
    ]
    mean = round(sum(distinct) / len(distinct), 2) if distinct else None
    checks.append(
        _check(
            "quotes per finding, distinct conversations",
            "mean number of distinct conversations among a takeaway's quotes; passes when every "
            "takeaway has 2+ quotes, each from another conversation, no text twice",
            mean,
            ">= 2 each",
            None if mean is None else not bad_quotes,
            bad_quotes,
            len(takeaways),
            examples,
        )
    )

    # Number families resting on one conversation.
    single = [
        {
            "where": f"numbers[{i}]",
            "text": str(n.get("label") or n.get("kind") or ""),
            "reason": f"every mention from {one}",
        }
        for i, n in enumerate(numbers)
        if (one := number_single_conversation(n))
    ]
    checks.append(
        _check(
            "number families from one conversation",
            "families in `numbers` whose mentions all come from a single conversation",
            len(single),
            "0",
            not single,
            single,
            len(numbers),
            examples,
        )
    )

    # Placeholders in labels.
    placeholders = [
        {"where": where, "text": text, "reason": p}
        for where, text in labels
        if (p := label_placeholder(text))
    ]
    checks.append(
        _check(
            "labels with placeholders",
            "theme labels, keywords and list items holding xxxx, [inaudible], Company 1, "
            "PERSON_1, <redacted>, timestamps ...",
            len(placeholders),
            "0",
            not placeholders,
            placeholders,
            len(labels),
            examples,
        )
    )

    # Quotes of the interviewer (needs turns.parquet).
    if have_turns:
        by_interviewer = [
            {"where": where, "text": q["text"], "reason": f"speaker {q.get('speaker')!r}"}
            for where, q in quotes
            if str(q.get("speaker")) in interviewers
        ]
        checks.append(
            _check(
                "quotes by an interviewer",
                "quotes whose speaker is the corpus's recurring interviewer (in half the "
                "conversations or more, labelled interviewer in most)",
                len(by_interviewer),
                "0",
                not by_interviewer,
                by_interviewer,
                len(quotes),
                examples,
            )
        )
    else:
        checks.append(
            _check(
                "quotes by an interviewer",
                "needs turns.parquet beside the report",
                None,
                "0",
                None,
                [],
                len(quotes),
                examples,
            )
        )

    counts = {
        "takeaways": len(takeaways),
        "section_themes": len(themes),
        "rare": len(rare),
        "quotes": len(quotes),
        "numbers": len(numbers),
        "labels": len(labels),
        "conversations": (report.get("overview") or {}).get("conversations"),
    }
    return {"counts": counts, "checks": checks}


def evaluate_report(out: Path, examples: int = EXAMPLES) -> dict:
    """The checks of :func:`evaluate_report_data` on OUT/report/report.json.

    Reads OUT/turns.parquet too, when it is there, for the interviewer checks. Writes nothing.

    Raises:
        FileNotFoundError: no report.json in OUT (run `insights report`).
        ValueError: report.json is not a JSON object.
    """
    from ..core.catalog import location

    path = location("report_json", Path(out))
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `insights report` first")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(report, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    turns = None
    turns_path = location("turns", Path(out))
    if turns_path.is_file():
        import pandas as pd

        try:
            turns = pd.read_parquet(turns_path, columns=["interview_id", "speaker", "role", "text"])
        except Exception:  # an unreadable turns file only makes the interviewer checks n/a
            turns = None
    result = evaluate_report_data(report, turns, examples)
    result["report"] = str(path)
    result["schema_version"] = report.get("schema_version")
    result["turns"] = turns is not None
    return result


def format_value(check: dict) -> str:
    """A check's figure for a table: a share as a percentage, a count as is, n/a when none."""
    value = check.get("value")
    if value is None:
        return "n/a"
    if check.get("target", "").startswith(">=") and "%" in check.get("target", ""):
        return f"{value:.0%}"
    if check.get("target") == "100%":
        return f"{value:.0%}"
    return str(value)


def verdict(check: dict) -> str:
    """pass, FAIL or n/a."""
    passed = check.get("passed")
    return "n/a" if passed is None else "pass" if passed else "FAIL"
