"""Theme labels: the best key phrase as people said it, plus one distinct keyword."""

from __future__ import annotations

import re
from collections import Counter

from ..ingest.clean import CJK_RE
from .vectorizer import MARK_RE, REDACTION_WORDS, strip_marks

# Only connecting words may come back between a bigram's parts ("word of mouth"); a content
# or filler word ("write good proposals") would change what the label claims.
CONNECTORS = ("of", "a", "an", "the", "to", "in", "on", "for", "and", "or", "with")

# Words too general to name a theme ("change · way", "person · job", "issues · years"): a
# label passes over a keyword made only of them while the theme has others. They stay
# keywords: taking them out of the keyword lists made the sample's keywords less coherent
# (NPMI -0.076 -> -0.100 with only way/people/person/year) without changing a label there.
GENERIC = frozenset(
    """way ways people person persons year years time times day days point points fact facts
    case cases sense idea ideas reason reasons question questions number numbers place
    happen happened happens happening use used using new big start started starting""".split()
)


def key_phrase(keyword: str, texts: list[str]) -> str:
    """Turn a bigram keyword back into the phrase people said ("word mouth" -> "word of mouth").

    Args:
        keyword: a keyword; a unigram comes back as it is.
        texts: the theme's passages.

    Returns:
        The most frequent way the passages say the keyword's words in order, with at most
        two connecting words between them (ties: the shortest), lowercased; the keyword
        itself when they never do. Chinese or Japanese words come back joined, as written,
        when the passages say them so. Placeholders and redaction marks never become part
        of a phrase.
    """
    parts = keyword.split()
    if len(parts) < 2:
        return keyword
    texts = [strip_marks(t) for t in texts]
    if CJK_RE.search(keyword):
        joined = "".join(parts)
        return joined if any(joined in t for t in texts) else keyword
    connector = r"(?:" + "|".join(CONNECTORS) + r")\s+"
    rest = r"[^\W\d_]*"  # the rest of the word ("word" -> "words"), never digits: "Person 1"
    pattern = re.compile(
        r"\b"
        + (rest + r"\s+(?:" + connector + "){0,2}").join(re.escape(p) for p in parts)
        + rest
        + r"\b",
        re.I,
    )
    found = Counter(m.group(0).lower() for t in texts for m in pattern.finditer(t))
    if not found:
        return keyword
    return sorted(found.items(), key=lambda kv: (-kv[1], len(kv[0])))[0][0]


def is_mark(keyword: str) -> bool:
    """Whether a keyword is, or holds, a placeholder, redaction mark or timestamp.

    Args:
        keyword: a keyword or label part.

    Returns:
        True for "xxxxxxx", "PERSON_1", "company 1", "[name]", "04 10" and the like.
    """
    text = str(keyword)
    return (
        bool(set(text.lower().split()) & REDACTION_WORDS)
        or bool(MARK_RE.search(text))
        or strip_marks(text) != text
        or bool(re.search(r"\d", text))
        or bool(re.fullmatch(r"[^\w]*", text))
    )


def _same_word(a: str, b: str) -> bool:
    """Two forms of one word ("sustainable", "sustainability"): a long common beginning."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n >= max(4, min(len(a), len(b)) - 3)


def make_label(
    keywords: list[str], texts: list[str], max_words: int = 5, generic: frozenset[str] = GENERIC
) -> str:
    """A short readable label: the best bigram as a phrase, plus one more distinct keyword.

    Args:
        keywords: the theme's keywords, best first.
        texts: the theme's passages (to find how people said the bigram).
        max_words: a label longer than ``max_words + 1`` words is cut to that many.
        generic: words too general to name a theme (:data:`GENERIC`).

    Returns:
        "phrase · keyword": the phrase of the first bigram among the top five keywords (else
        the first keyword) and the first keyword sharing no word, nor a form of one
        ("freelance", "freelancing"), with it; "(no keywords)" without keywords. Keywords
        that are placeholders or redaction marks (:func:`is_mark`) are never used, keywords
        made only of generic words only when the theme has no other.
    """
    keywords = [k for k in keywords if k and not is_mark(k)]
    if not keywords:
        return "(no keywords)"
    specific = [k for k in keywords if not set(k.lower().split()) <= generic]
    keywords = specific or keywords
    head = next((k for k in keywords[:5] if " " in k), keywords[0])
    phrase = key_phrase(head, texts)
    used = set(head.split())
    extra = next(
        (
            k
            for k in keywords
            if not set(k.split()) & used
            and k not in phrase
            and not any(_same_word(a, b) for a in k.split() for b in used)
        ),
        None,
    )
    if extra is not None and CJK_RE.search(extra):
        extra = key_phrase(extra, texts)  # "稳定 认识" as said: "稳定认识"
    label = phrase if extra is None else f"{phrase} · {extra}"
    words = label.split()
    return " ".join(words[: max_words + 1]) if len(words) > max_words + 1 else label
