"""Theme labels: the best key phrase as people said it, plus one distinct keyword."""

from __future__ import annotations

import re
from collections import Counter

# Only connecting words may come back between a bigram's parts ("word of mouth"); a content
# or filler word ("write good proposals") would change what the label claims.
CONNECTORS = ("of", "a", "an", "the", "to", "in", "on", "for", "and", "or", "with")


def key_phrase(keyword: str, texts: list[str]) -> str:
    """Turn a bigram keyword back into the phrase people said ("word mouth" -> "word of mouth").

    Args:
        keyword: a keyword; a unigram comes back as it is.
        texts: the theme's passages.

    Returns:
        The most frequent way the passages say the keyword's words in order, with at most
        two connecting words between them (ties: the shortest), lowercased; the keyword
        itself when they never do.
    """
    parts = keyword.split()
    if len(parts) < 2:
        return keyword
    connector = r"(?:" + "|".join(CONNECTORS) + r")\s+"
    pattern = re.compile(
        r"\b" + (r"\w*\s+(?:" + connector + "){0,2}").join(re.escape(p) for p in parts) + r"\w*\b",
        re.I,
    )
    found = Counter(m.group(0).lower() for t in texts for m in pattern.finditer(t))
    if not found:
        return keyword
    return sorted(found.items(), key=lambda kv: (-kv[1], len(kv[0])))[0][0]


def make_label(keywords: list[str], texts: list[str], max_words: int = 5) -> str:
    """A short readable label: the best bigram as a phrase, plus one more distinct keyword.

    Args:
        keywords: the theme's keywords, best first.
        texts: the theme's passages (to find how people said the bigram).
        max_words: a label longer than ``max_words + 1`` words is cut to that many.

    Returns:
        "phrase · keyword": the phrase of the first bigram among the top five keywords (else
        the first keyword) and the first keyword sharing no word with it; "(no keywords)"
        without keywords.
    """
    if not keywords:
        return "(no keywords)"
    head = next((k for k in keywords[:5] if " " in k), keywords[0])
    phrase = key_phrase(head, texts)
    used = set(head.split())
    extra = next((k for k in keywords if not set(k.split()) & used and k not in phrase), None)
    label = phrase if extra is None else f"{phrase} · {extra}"
    words = label.split()
    return " ".join(words[: max_words + 1]) if len(words) > max_words + 1 else label
