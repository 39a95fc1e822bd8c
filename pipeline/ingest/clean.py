"""Cleaned text for analysis: filler, backchannel and false starts removed.

The original wording stays in ``text`` for quotes; ``clean_text`` is what the
embedding and theme stages read. Removal is conservative: "like" goes only where it
is set off as a filler (", like,"), "you know" only when it is not the verb of a
question ("do you know Python?" is kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# No nested repeats of one letter ("m+m+" was quadratic on a long run of m's): "mm+".
_DISFLUENCIES = r"u+h+|u+m+|u+h+m+|e+r+m+|e+h+|h+m+|m+h+m+|mm+|mm-hmm|mm-hm|mhm|uh-huh|uh-uh|hm+"
# Always noise, wherever they occur.
_DISFLUENCY_RE = re.compile(rf"(?:,\s*)?(?<![\w'-])(?:{_DISFLUENCIES})(?![\w'-])[,.…]*", re.I)
# Discourse fillers, removed only when set off by punctuation or at a clause start.
_SET_OFF = r"you know|i mean|like|you see|sort of|kind of|basically"
_SET_OFF_RE = re.compile(
    rf"(?:(?<=[,;:.!?—–])|^)\s*(?:{_SET_OFF})\s*(?:,|(?=[.!?;—–])|$)", re.I | re.M
)
# False starts: "I, I, I went" always; "the the" only for short function words,
# because some doublings are grammatical ("I had had enough").
_REPEAT_COMMA_RE = re.compile(r"\b(\w+(?:'\w+)?)(?:\s*,\s*(?:-\s*)?\1\b)+", re.I)
_FUNCTION_WORDS = r"i|i'm|the|a|an|we|it|and|so|to|my|you|he|she|they|in|of|on|was|but|if|or|this"
_REPEAT_SPACE_RE = re.compile(rf"\b({_FUNCTION_WORDS})(?:\s+\1\b)+", re.I)
_SPACE_BEFORE_PUNCT_RE = re.compile(r"(?<!\s)\s+([,.!?;:])")
_BACKCHANNEL_WORDS = frozenset(
    """yeah yes yep yup ya yah right exactly okay ok sure totally absolutely cool great nice wow oh
    ah aha mm hmm mhm uh-huh mm-hmm got it i see interesting true makes sense thanks thank you no
    nope definitely gotcha alright all for sure that's thats fair good perfect indeed correct huh
    wow awesome amazing really so and um uh""".split()
)


# Transcriber annotations: "[laughs]", "(inaudible 00:12:03)", "[crosstalk]".
STAGE_DIRECTION_RE = re.compile(
    r"[\[(](?:laugh\w*|chuckl\w*|crosstalk|inaudible|unintelligible|pause\w*|silence|music|noise|cough\w*|"
    r"sigh\w*|overlapping|background noise|audio cuts? out|cross-?talk)[^\])]{0,40}[\])]",
    re.I,
)


def _filler_re(extra: Iterable[str]) -> re.Pattern[str] | None:
    words = [re.escape(w.strip()) for w in extra if w.strip()]
    if not words:
        return None
    return re.compile(rf"(?<![\w'-])(?:{'|'.join(words)})(?![\w'-])[,]?", re.I)


def clean_text(text: str, extra_fillers: Iterable[str] = ()) -> str:
    """Text for analysis: the words said, without markup, stage directions and fillers.

    Removes ``**``/``__`` emphasis, stage directions ("[laughs]"), disfluencies ("um",
    "uh") and repeated words ("I, I", "the the"), and tidies the spacing and punctuation
    left behind; the original turn text is kept beside it for quotes.

    Args:
        text: one turn's text as written.
        extra_fillers: more words or phrases to remove (``ingest.extra_fillers``).

    Returns:
        The cleaned text, capitalised when the original started with a capital.
    """
    out = STAGE_DIRECTION_RE.sub(" ", text.replace("**", "").replace("__", ""))
    # "physics, uh." keeps its full stop; a filler that is a whole sentence ("Um.") goes entirely.
    out = _DISFLUENCY_RE.sub(
        lambda m: ". " if m.group(0).startswith(",") and "." in m.group(0) else " ", out
    )
    extra = _filler_re(extra_fillers)
    if extra is not None:
        out = extra.sub(" ", out)
    out = re.sub(r"\s+", " ", out)
    # Run twice: removing one filler can expose another at the new clause start.
    for _ in range(2):
        out = _SET_OFF_RE.sub(" ", out)
    out = _REPEAT_COMMA_RE.sub(r"\1", out)
    out = _REPEAT_SPACE_RE.sub(r"\1", out)
    # Only from the start of a blank run: tried at every blank of a long run, "\s+" was quadratic.
    out = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", out)
    out = re.sub(r"([,;])(?:\s*[,;])+", r"\1", out)
    out = re.sub(r"(^|[.!?]\s)[,;]\s*", r"\1", out)
    out = re.sub(r"\s+", " ", out).strip()
    out = out.lstrip(",;: ")
    if out and out[0].islower() and text.strip()[:1].isupper():
        out = out[0].upper() + out[1:]
    return out


def is_backchannel(text: str) -> bool:
    """A turn that only acknowledges ("yeah, exactly", "mm-hmm", "right") and says nothing new.

    Args:
        text: one turn's text.

    Returns:
        True for at most six words, all acknowledgement words.
    """
    words = re.findall(r"[\w'-]+", text.casefold())
    return len(words) <= 6 and all(w in _BACKCHANNEL_WORDS for w in words)


# Han ideographs, kana and CJK compatibility ideographs: scripts written without spaces.
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
CJK_RE = re.compile(f"[{CJK_CHARS}]")
_WORDS_RE = re.compile(f"[{CJK_CHARS}]|[^\\W{CJK_CHARS}]+")


def word_count(text: str) -> int:
    """The number of words, counted the same way for every count in the outputs.

    Chinese and Japanese are written without spaces between words: each of their characters
    counts as one word, as Chinese counts the length of a text (字数) and word processors
    count CJK text, so "我做数据分析" is 6 words, not 1.

    Args:
        text: any text.

    Returns:
        How many runs of word characters it holds, each CJK character counted alone.
    """
    return len(_WORDS_RE.findall(text))
