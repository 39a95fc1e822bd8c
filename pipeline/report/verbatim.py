"""Clean verbatim: what a quote shows, as a professional transcriber would type it.

A transcript in *strict* verbatim keeps every "uh", "you know" and "the, the, the"; a quote
in the report shows *clean* verbatim instead (``report.verbatim: clean``), and keeps the
exact words beside it (``Quote.verbatim``). :func:`clean_verbatim` is a pure, deterministic
function (regular expressions and small word lists, no model). Its rules, all conservative:

- **Disfluencies** go wherever they are: "uh", "um", "uhm", "erm", "er", "hmm" ("UM" in
  capitals may be an acronym and stays; "uh-huh" and "mm-hmm" mean yes and stay).
- **Discourse fillers** go only where they are set off as fillers: "like" between clause
  boundaries ("It was, like, huge", "Like, there's ...", not "I like it", "like a database",
  "Like I said", nor before a number: "like, fifty people" says about fifty); "you know" set
  off by a boundary on both sides ("You know, it's ...",
  ", you know." and the tag question ", you know?" (the "?" becomes "."), also after "and",
  "but", "because"; not "you know the answer", "do you know", "If you know, you know.",
  "so you know, ..."); "I mean" at a clause start when a comma, a pause or a new
  clause follows ("I mean, ...", "I mean it's ..."; not "I mean it", "what I mean is");
  "sort of" / "kind of" only between two commas ("it was, sort of, a database"), never as
  a hedge ("you just sort of assume", "kind of weird").
- **Stutters and repetitions**: a short function word repeated ("I, I, I went" and
  "the the" become "I went", "the"; "it, it's" becomes "it's"; a word that can end one
  clause and start the next only at a clause start: "and it, it was" but not "read it, it
  was", "I told you, you should"), two articles in a row ("a, um, an idea" -> "an idea"),
  a two or three word opening
  repeated ("I think, I think we"), a word or a cut-off start of one repeated across a dash
  ("we- we", "th- the", "compu-- computers"), and a restart that repeats what came before
  the dash ("we had a prob-- we had a problem"). Emphatic repetition of content words
  ("very, very", "no, no, no", "long, long ago") and grammatical doubling ("that that",
  "had had", "is is") stay.
- **False starts that change course** ("we were -- we had") keep every word: only the
  dash is typeset as " — ". No rule here removes a content word; where words are missing
  from the source ("[inaudible]", "[crosstalk]") the quote shows "…". A quote cut to length
  (:class:`~pipeline.report.quotes.QuoteMaker`) is marked "…" where words were cut.
- Non-speech notes ("[laughs]", "(pause)") go.
- **Repair**: the commas a filler leaves behind are merged (", , " -> ", ", "works, ." ->
  "works."); around a filler after a function word or a verb of saying and thinking the
  commas go ("I was, um, thinking", "I think, uh, it works"), after other words one stays
  ("So, um, we" -> "So, we"; "milk, um, bread" keeps its list comma); a new clause after a
  word that cannot end one is a restart ("is, uh, it's hard" -> "is — it's hard"); a
  sentence left empty ("Um.") goes, with the pause after it ("I mean…"); a sentence whose
  first word was removed starts with a capital when the removed word had one ("Um, so we"
  -> "So we", but a lowercase fragment "um, and then" stays lowercase); "..." is typeset
  "…" and whitespace becomes single spaces.

Cleaning twice gives the same text as cleaning once. :func:`filler_count` counts what the
cleaner removes; :func:`has_filler` says whether it removes anything.
"""

from __future__ import annotations

import re

_FILLER = "\x00"  # a removed filler, resolved by the punctuation repair
_FILLER_CAP = "\x01"  # a removed filler that started with a capital (so did its sentence)
_CAP = "\x02"  # the next word starts a sentence now: capitalise it

# --- disfluencies: always noise -------------------------------------------------------------
_DISFLUENCY_RE = re.compile(
    r"(?<![\w'’-])(?:u+h+|u+m+|u+h+m+|e+r+m+|er|h+m+|hm+)(?![\w'’-])", re.IGNORECASE
)

# --- non-speech notes ------------------------------------------------------------------------
_NOTE_RE = re.compile(
    r"\\?[\[(](?:laugh\w*|chuckl\w*|pause\w*|silence|cough\w*|sigh\w*|smil\w*|music|noise)"
    r"[^\])\\]{0,30}\\?[\])]",
    re.IGNORECASE,
)
_LOST_RE = re.compile(
    r"\\?[\[(](?:inaudible|unintelligible|unclear|crosstalk|cross-talk|indiscernible|"
    r"audio cuts? out)[^\])\\]{0,30}\\?[\])]",
    re.IGNORECASE,
)

# --- set-off discourse fillers ---------------------------------------------------------------
# A clause boundary before a filler: start of text, punctuation, a dash or a removed filler.
_LEFT = r"(?P<lb>^|[,;:.!?…—–(\"“\x00\x01]|--)(?P<sp>\s*)"
# ... and after it: punctuation, a dash, a removed filler or the end.
_RIGHT = r"(?=\s*(?:[,;:.!?…—–)\"”\x00\x01]|--|$))"
# Not before a number: "it was, like, 50 people" says about 50, not 50.
_NUMBER = (
    r"(?:[\d$£€]|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|half|"
    r"a (?:few|couple|dozen|hundred|thousand|million))\b)"
)
_LIKE_RE = re.compile(
    _LEFT + rf"(?P<f>like)(?=\s*(?:[,…\x00\x01]|--|—))(?![,…\s\x00\x01—-]*{_NUMBER})",
    re.IGNORECASE,
)
_YOU_KNOW_TAG_RE = re.compile(
    r"(?P<lb>[,;—–]|--)(?P<sp>\s*)(?P<f>you know)\?", re.IGNORECASE
)  # "it's hard, you know?" -> "it's hard."
# "and you know, it was" too (not "so you know, ...": "so that you know").
_YOU_KNOW_RE = re.compile(
    _LEFT.replace("|--)", r"|--|\b(?:and|but|because)\s)") + r"(?P<f>you know)" + _RIGHT, re.I
)
_I_MEAN_RE = re.compile(
    _LEFT
    + r"(?P<f>I mean)(?=\s*(?:[,;.…—–\x00\x01]|--|$)"
    + r"|\s+(?:I|I'm|I've|I'd|we|we're|we've|they|they're|you|he|she|it's|that's|there's|"
    + r"there|if|yeah|yes|no|so|but|and|obviously|honestly)(?![\w'’-]))",
    re.IGNORECASE,
)
_HEDGE_RE = re.compile(r"(?P<lb>,)(?P<sp>\s*)(?P<f>sort of|kind of)(?=\s*,)", re.IGNORECASE)
# "If you know, you know.": the second "you know" is the point, not a filler.
_KNOW_BEFORE_RE = re.compile(r"\bknow\W*$", re.IGNORECASE)

# --- stutters --------------------------------------------------------------------------------
_FUNCTION = (
    "i|i'm|i've|i'd|i'll|the|a|an|and|but|or|to|of|in|on|at|for|with|from|by|it|it's|its|"
    "this|that|that's|these|those|there|there's|we|we're|we've|you|you're|they|they're|he|she|"
    "my|our|your|their|his|her|is|was|were|are|be|have|has|had|do|did|if|what|when|how|just|"
    "because"
)
# Doubled without a comma only where doubling is never grammatical ("that that", "had had",
# "is is" can be).
_FUNCTION_SPACE = (
    "i|the|a|an|and|but|or|to|of|for|in|into|with|from|we|they|he|she|my|our|your|it's|i'm|"
    "we're|this"
)
_PHRASE_WORDS = _FUNCTION + (
    "|think|mean|guess|don't|didn't|can|can't|could|would|will|want|wanted|said|go|going|gonna"
)
_END = r"(?![\w'’-])"
_REPEAT_COMMA_RE = re.compile(rf"\b({_FUNCTION}){_END}(?:\s*,\s*\1{_END})+", re.IGNORECASE)
# Words that can end one clause and start the next ("re-read it, it was", "I told you, you
# should", "what we had, had to go"): a repetition of these is a stutter only at a clause start.
_AMBIGUOUS = frozenset(
    "it its you that this these those there her his is was were are be had has have do did".split()
)
_CLAUSE_BEFORE_RE = re.compile(
    r"(?:[,;:.!?…—–(\"“]|\b(?:and|but|so|because|or|if|when|then|that|which|where))\s*$",
    re.IGNORECASE,
)
_REPEAT_SPACE_RE = re.compile(rf"\b({_FUNCTION_SPACE}){_END}(?:\s+\1{_END})+", re.IGNORECASE)
_REPEAT_PREFIX_RE = re.compile(rf"\b({_FUNCTION})\s*,\s*(\1['’]\w+)", re.IGNORECASE)
_REPEAT_PHRASE_RE = re.compile(
    rf"\b((?:{_PHRASE_WORDS})(?:\s+(?:{_PHRASE_WORDS})){{1,2}}){_END}(?:\s*,\s*\1{_END})+",
    re.IGNORECASE,
)
# A word (or its cut-off start) repeated across a dash: "we- we", "we -- we", "th- the".
_DASH = r"(?:\s*(?:--+|[—–])\s*|-\s+)"
_REPEAT_DASH_RE = re.compile(rf"(?<![\w'’-])([\w'’]+){_DASH}(?=\1{_END})", re.IGNORECASE)
_CUT_WORD_RE = re.compile(
    r"(?<![\w'’-])([A-Za-z]{1,8})(?:-+\s+|--+|\s*[—–]\s*)(?=\1[a-z])", re.IGNORECASE
)
_BREAK_RE = re.compile(r"\s*(?:--+|[—–])\s*|(?<=\w)-\s+")
_CLAUSE_START_RE = re.compile(r"[,;:.!?…(\"“]\s*|\s(?:--+|[—–])\s*")
_DOUBLE_DASH_RE = re.compile(r"(?<=\w)\s*--+\s*(?=\w)|(?<=\w)\s*--+\s*$")

# --- repair ----------------------------------------------------------------------------------
_RUN_RE = re.compile(
    r"[ \t]*(?P<lc>,)?\s*(?P<mark>[\x00\x01])(?:[\s,]*[\x00\x01])*"
    r"(?P<pause>\s*(?:…|--+|[—–])(?=\s*\w|\s*$))?\s*(?P<rc>,)?\s*"
)
_DISCOURSE = {
    "so",
    "well",
    "yeah",
    "yes",
    "no",
    "okay",
    "ok",
    "oh",
    "right",
    "now",
    "anyway",
    "actually",
    "honestly",
    "sure",
}
_SENTENCE_END = ".!?…"
_ELLIPSIS_RE = re.compile(r"\.\.\.+|(?:\. ){2,}\.")
# After these a comma around a filler was the filler's ("I was, um, thinking", "I think, uh,
# it works"); after other words it may be the sentence's own ("milk, um, bread") and stays.
_NO_COMMA_AFTER = (frozenset(_FUNCTION.split("|")) - _DISCOURSE) | frozenset(
    "think thought guess mean meant say said says believe feel felt know knew suppose hope "
    "want wanted realised realized noticed figured decided been being which who whom whose "
    "where then".split()
)
# A new clause after a word that cannot end one: "the salary is, uh, it's difficult" is a
# restart, typeset "is — it's difficult" rather than "is it's difficult".
_OPEN_WORDS = frozenset(
    "is was were are the a an of for to with from by my our your their his its in on at".split()
)
_CLAUSE_WORDS = frozenset(
    "it's that's there's i'm we're they're you're he's she's it i we they he she you".split()
)
# An article right after another: the speaker changed it ("a, um, an industrial company").
_ARTICLE_RE = re.compile(r"\b(?:a|an|the)\s+(?=(?-i:a|an|the)\s)", re.IGNORECASE)


def _sub_filler(pattern: re.Pattern[str], text: str, counter: list[int], tag: str = "") -> str:
    def repl(m: re.Match[str]) -> str:
        before = text[max(0, m.start() - 40) : m.start()]
        if m.group("f").lower() == "you know" and _KNOW_BEFORE_RE.search(before):
            return m.group(0)
        counter[0] += 1
        mark = _FILLER_CAP if m.group("f")[:1].isupper() else _FILLER
        return m.group("lb") + m.group("sp") + mark + tag

    return pattern.sub(repl, text)


def _sub_count(pattern: re.Pattern[str], repl: str, text: str, counter: list[int]) -> str:
    out, n = pattern.subn(repl, text)
    counter[0] += n
    return out


def _restarts(text: str, counter: list[int]) -> str:
    """Drop what comes before a dash when the words after it repeat it ("we had a prob--
    we had a problem"); a restart that changes course keeps its words."""
    pos = 0
    while True:
        m = _BREAK_RE.search(text, pos)
        if m is None:
            return text
        window = max(0, m.start() - 200)
        starts = [c.end() for c in _CLAUSE_START_RE.finditer(text, window, m.start())]
        start = starts[-1] if starts else window
        before = text[: m.start()]
        fragment = before[start:].strip()
        norm = " ".join(fragment.lower().split())
        following = " ".join(text[m.end() : m.end() + 4 * len(fragment) + 20].lower().split())
        attached = not m.group(0)[:1].isspace()  # "prob--": the last word was cut off
        n = len(norm)
        if (
            norm
            and len(norm.split()) <= 6
            and following.startswith(norm)
            and (attached or len(following) == n or not following[n].isalnum())
        ):
            head = text[:start].rstrip(" ")
            lead = head + " " if head else ""
            rest = text[m.end() :]
            if fragment[:1].isupper() and rest[:1].islower():
                rest = rest[0].upper() + rest[1:]
            text = lead + rest
            counter[0] += 1
            pos = len(lead)
        else:
            pos = m.end()


def _close(text: str, capital_start: bool) -> str:
    """Remove the filler marks and repair the punctuation and capitals they leave."""

    def repl(m: re.Match[str]) -> str:
        left = m.string[: m.start()].rstrip()
        right = m.string[m.end() :]
        last, first = left[-1:], right[:1]
        # The next word starts the sentence now: a capital when the filler had one.
        cap = _CAP if m.group("mark") == _FILLER_CAP or (not left and capital_start) else ""
        if not left or last in "(“‘[":
            return cap
        if last in _SENTENCE_END or (last in '"”’' and left[-2:-1] in _SENTENCE_END):
            return " " + cap
        if m.group("pause") and not right.strip():  # "It was, uh…": the trailing off stays
            return m.group("pause").strip()
        if not first or first in '.!?;:…)"”':
            return ""
        if first in "—–-" or last in "—–-":
            return " "
        # "So, um, we" and "milk, um, bread" keep a comma; "I was, um, thinking" and
        # "to, uh, keep" do not: the comma was the filler's.
        words = re.findall(r"[\w'’]+", left[-30:])
        previous = words[-1].lower() if words else ""
        after = re.match(r"[\w'’]+", right)
        if previous in _OPEN_WORDS and after and after.group(0).lower() in _CLAUSE_WORDS:
            return " — "
        if (m.group("lc") or m.group("rc")) and previous not in _NO_COMMA_AFTER:
            return ", "
        return " "

    out = _RUN_RE.sub(repl, text)
    out = re.sub(r"\s+", " ", out)
    out = re.sub(rf"\s+([,.;:!?])(?=[\s{_CAP}]|$)", r"\1", out)  # "hard ." -> "hard."
    out = re.sub(r",(?:\s*,)+", ",", out)  # ", , " -> ", "
    out = re.sub(r",\s*([.;:!?])(?!\.)", r"\1", out)  # "works, ." -> "works."
    # A sentence left with only its full stop: "It broke. . So" -> "It broke. So".
    out = re.sub(rf"([.!?…][\"”’)]?)((?:\s|{_CAP})*)[.!?](?![.\w])", r"\1\2", out)
    out = re.sub(rf"^\s*{_CAP}\s*[,;:.!?](?!\.)\s*", _CAP, out)  # "Um. So" -> "So"
    out = re.sub(
        rf"{_CAP}([\s\"“‘(]*)([a-z])(?=[a-z'’-]*(?!\w))",
        lambda c: c.group(1) + c.group(2).upper(),
        out,
    )
    return re.sub(r"\s+", " ", out.replace(_CAP, "")).strip()


def _repeat(m: re.Match[str], counter: list[int]) -> str:
    """ "I, I, I" -> "I"; "it, it" only at a clause start ("and it, it was", not "read it, it")."""
    word = m.group(1)
    before = m.string[max(0, m.start() - 40) : m.start()]
    at_start = m.start() <= 40 and not before.strip()
    if word.lower() in _AMBIGUOUS and not (at_start or _CLAUSE_BEFORE_RE.search(before)):
        return m.group(0)
    counter[0] += 1
    return word


def _keep_case(m: re.Match[str]) -> str:
    """ "It, it's" -> "It's": the second word, with the first one's capital."""
    first, second = m.group(1), m.group(2)
    return (second[0].upper() if first[0].isupper() else second[0]) + second[1:]


def _disfluency(m: re.Match[str], counter: list[int]) -> str:
    word = m.group(0)
    if word.isupper() and len(word) > 1:  # "UM": maybe an acronym
        return word
    counter[0] += 1
    return _FILLER_CAP if word[:1].isupper() else _FILLER


def _clean_once(text: str, counter: list[int]) -> str:
    capital_start = text.lstrip(' "“‘(')[:1].isupper()
    out = _ELLIPSIS_RE.sub("…", text)
    out = _sub_count(_NOTE_RE, " ", out, counter)
    out = _LOST_RE.sub(" … ", out)  # words lost in the source: marked, not counted as filler
    out = _DISFLUENCY_RE.sub(lambda m: _disfluency(m, counter), out)
    for _ in range(2):  # removing one filler can expose another at the new clause start
        out = _sub_filler(_YOU_KNOW_TAG_RE, out, counter, tag=".")
        out = _sub_filler(_LIKE_RE, out, counter)
        out = _sub_filler(_YOU_KNOW_RE, out, counter)
        out = _sub_filler(_I_MEAN_RE, out, counter)
        out = _sub_filler(_HEDGE_RE, out, counter)
    out = _sub_count(_REPEAT_PHRASE_RE, r"\1", out, counter)
    out = _REPEAT_COMMA_RE.sub(lambda m: _repeat(m, counter), out)
    out = _sub_count(_REPEAT_PREFIX_RE, _keep_case, out, counter)
    out = _sub_count(_REPEAT_SPACE_RE, r"\1", out, counter)
    out = _sub_count(_REPEAT_DASH_RE, "", out, counter)
    out = _sub_count(_ARTICLE_RE, "", out, counter)
    out = _sub_count(_CUT_WORD_RE, "", out, counter)
    out = _restarts(out, counter)
    out = _DOUBLE_DASH_RE.sub(" — ", out)
    return _close(out, capital_start)


def _clean(text: str) -> tuple[str, int]:
    counter = [0]
    out = str(text)
    for _ in range(5):  # to a fixed point, so that cleaning is idempotent
        nxt = _clean_once(out, counter)
        if nxt == out:
            break
        out = nxt
    return out, counter[0]


def clean_verbatim(text: str) -> str:
    """The clean verbatim of a strict verbatim text (see the module docstring for the rules).

    Args:
        text: words as transcribed, e.g. "Um, so I, I, I went to the, the client, you know?"

    Returns:
        The same words without fillers, stutters and repetitions, with the punctuation and
        capitals repaired: "So I went to the client." Never removes a content word; cleaning
        the result again changes nothing.
    """
    return _clean(text)[0]


def filler_count(text: str) -> int:
    """How many fillers, stutters, repetitions and non-speech notes :func:`clean_verbatim`
    removes from ``text`` (0 when it removes none)."""
    return _clean(text)[1]


def has_filler(text: str) -> bool:
    """Whether :func:`clean_verbatim` removes anything from ``text``."""
    return filler_count(text) > 0
