"""Which sentences give advice, and how they group into points.

Takeaways are lessons people *gave*, so they are built from advice, not from every
passage: imperatives ("pick a niche"), advice phrases ("I'd recommend", "the key
is", "you should"), enumerated points ("Second, ...") and anything said in answer to
an advice question ("what would you tell someone starting out?"). One point is an
advice sentence plus the sentences that explain it, up to the next point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ADVICE_CUE_RE = re.compile(
    r"\b(?:i'?d|i would) (?:recommend|suggest|advise"
    r"|tell (?:them|anyone|someone|people|you|my younger self))\b"
    r"|\bmy (?:advice|recommendation|tip)\b|\bthe (?:key|trick|secret) is\b|\bfocus on\b"
    r"|\byou (?:should|need to|have to|must|'ve got to|gotta)\b|\bmake sure\b"
    r"|\bthe (?:most important|biggest) (?:thing|lesson)\b|\bif i were you\b|\bit pays to\b",
    re.IGNORECASE,
)
ADVICE_QUESTION_RE = re.compile(
    r"\b(?:advice|recommend\w*|tips?|lessons?|what would you (?:tell|say)"
    r"|tell (?:someone|somebody|a friend|people|anyone|them|your younger self)"
    r"|someone (?:starting|who(?:'s| is) starting|new|just starting)|do differently"
    r"|(?:two|few) months into)\b",
    re.IGNORECASE,
)
# Words that may stand before an imperative verb: "So, first, pick a niche."
LEAD_WORDS = {
    "one",
    "two",
    "three",
    "four",
    "five",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "also",
    "and",
    "so",
    "but",
    "then",
    "finally",
    "lastly",
    "um",
    "uh",
    "like",
    "okay",
    "well",
    "honestly",
    "seriously",
    "just",
    "really",
    "please",
    "oh",
    "yeah",
    "plus",
}
ENUM_START_RE = re.compile(
    r"^\W*(?:(?:um|uh|and|so|like|okay|oh|also)\W+)*(?:one|two|three|four|five|first|second|third|fourth|fifth|"
    r"finally|lastly|the other thing is|another thing is)\b\W*",
    re.IGNORECASE,
)
LEAD_FILLER_RE = re.compile(
    r"^\W*(?:(?:um|uh|and|so|like|okay|oh|well|yeah|also)\b\W*)+", re.IGNORECASE
)
# "Three things." / "Two things, maybe three." / "Good question." announce advice; they are
# not advice.
PREAMBLE_RE = re.compile(
    r"^\W*(?:(?:um|uh|and|so|like|okay|oh|hmm)\W+)*"
    r"(?:(?:two|three|four|five|a few|a couple of)\s+things"
    r"|hmm+|good question|great question|the boring answer|let me think)\b",
    re.IGNORECASE,
)
CONTINUE_RE = re.compile(
    r"^\W*(?:like|i mean|for example|e\.g\.|that is|in other words)\b", re.IGNORECASE
)


def is_imperative(sent) -> bool:
    """A sentence whose main verb is a bare infinitive with no subject: "Find partners."

    Requests to the interviewer ("send me the article") and one-word sentences are
    not advice, and neither are note-style fragments with a past-tense auxiliary
    ("Did not plan to freelance.").

    Args:
        sent: a parsed spaCy sentence.

    Returns:
        True when it reads as advice in the imperative.
    """
    root = sent.root
    if root.tag_ != "VB" or root.pos_ not in ("VERB", "AUX"):
        return False
    for child in root.children:
        if child.dep_ in ("nsubj", "nsubjpass", "expl") and child.lower_ not in LEAD_WORDS:
            return False
        if child.dep_ == "aux" and (
            child.lower_ not in ("do", "don't", "dont") or child.tag_ in ("VBZ", "VBD")
        ):
            return False
    before = [
        t
        for t in sent
        if t.i < root.i
        and not t.is_punct
        and t.lower_ not in LEAD_WORDS
        and t.dep_ not in ("neg", "aux", "advmod", "intj")
    ]
    if before:
        return False
    if any(t.lower_ in ("me", "us") for t in sent):
        return False
    content = [t for t in sent if t.is_alpha and not t.is_stop]
    return len(content) >= 2


def advice_features(sent) -> dict:
    """What the advice finder needs to know about one sentence.

    Args:
        sent: a parsed spaCy sentence.

    Returns:
        ``imperative``, ``advice_cue`` (an advice phrase), ``enumerated`` (starts with
        "first", "2." ...), ``preamble`` (announces advice: "Three things.") and
        ``n_content`` (content words).
    """
    text = sent.text.strip()
    imperative = is_imperative(sent)
    cue = bool(ADVICE_CUE_RE.search(text))
    enumerated = bool(ENUM_START_RE.match(text))
    preamble = (
        bool(PREAMBLE_RE.match(text))
        and len([t for t in sent if t.is_alpha and not t.is_stop]) <= 3
    )
    return {
        "imperative": imperative,
        "advice_cue": cue,
        "enumerated": enumerated,
        "preamble": preamble,
        "n_content": sum(1 for t in sent if t.is_alpha and not t.is_stop),
    }


def advice_score(imperative: bool, cue: bool, enumerated: bool, advice_answer: bool) -> float:
    """0..1: how clearly a sentence gives advice. Weights were set by reading, not fitted.

    Args:
        imperative: the sentence is an imperative.
        cue: it holds an advice phrase ("my advice", "you should").
        enumerated: it starts with an enumeration marker.
        advice_answer: it answers a question asking for advice.

    Returns:
        The strongest of the first three signals plus a bonus for an advice answer, at most 1.
    """
    return min(1.0, max(0.6 * imperative, 0.5 * cue, 0.4 * enumerated) + 0.3 * advice_answer)


def strip_lead(text: str) -> str:
    """The advice without its lead-in, for headlines and lessons (quotes keep the original).

    Args:
        text: a sentence, e.g. "Um, and second, do good work."

    Returns:
        It without enumeration markers and fillers, capitalised: "Do good work."; the
        text unchanged when nothing would be left.
    """
    core = ENUM_START_RE.sub("", text)
    core = LEAD_FILLER_RE.sub("", core).strip(" ,;:-")
    return core[:1].upper() + core[1:] if core else text


@dataclass
class AdvicePoint:
    """One piece of advice: the sentence that gives it and those that explain it."""

    interview_id: str
    passage_id: str
    section: str | None
    score: float
    # sentence-table row numbers, first = the advice itself
    rows: list[int] = field(default_factory=list)

    def text(self, sentences) -> str:
        """The point's words.

        Args:
            sentences: the parsed sentences table its rows index.

        Returns:
            Its sentences joined by spaces.
        """
        return " ".join(sentences.at[r, "text"] for r in self.rows)


def advice_points(sentences, min_score: float = 0.5, max_sentences: int = 3) -> list[AdvicePoint]:
    """Group sentences into advice points.

    A point starts at an advice sentence (score >= ``min_score``) and takes up to
    ``max_sentences - 1`` following sentences of the same answer as its explanation.
    In answers to an advice question, an enumeration marker or a new imperative
    ("And pick a niche") starts a new point, "Like, ..." continues the current one,
    and a sentence with at least three content words that follows no point starts
    a weaker one of its own, so advice given without an imperative is not lost.

    Args:
        sentences: the parsed sentences table, in conversation and turn order.
        min_score: the least :func:`advice_score` that starts a point.
        max_sentences: the most sentences in a point.

    Returns:
        The points in sentence order.
    """
    points: list[AdvicePoint] = []
    current: AdvicePoint | None = None
    last_key = None
    for r, row in enumerate(sentences.itertuples(index=False)):
        key = (row.interview_id, row.turn_index)
        if key != last_key and (last_key is None or key[0] != last_key[0] or not row.advice_answer):
            current = None
        last_key = key
        if row.preamble:
            continue
        score = advice_score(row.imperative, row.advice_cue, row.enumerated, row.advice_answer)
        continues = (
            current is not None
            and bool(CONTINUE_RE.match(row.text))
            and len(current.rows) < max_sentences
        )
        starts = (row.imperative or row.advice_cue or row.enumerated) and score >= min_score
        if starts and not continues:
            current = AdvicePoint(row.interview_id, row.passage_id, row.section, score, [r])
            points.append(current)
        elif current is not None and row.advice_answer and len(current.rows) < max_sentences:
            current.rows.append(r)
        elif row.advice_answer and row.n_content >= 3:
            current = AdvicePoint(
                row.interview_id,
                row.passage_id,
                row.section,
                advice_score(False, False, False, True),
                [r],
            )
            points.append(current)
        else:
            current = None if not row.advice_answer else current
    return points
