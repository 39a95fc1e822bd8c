"""Quantities people gave, normalised: hours per week (per client or in total),
clients at once, hourly rates, project prices, years, and counts like "three ways".

Speech says numbers in many ways ("ten, twelve hours a week", "a hundred and ten an
hour", "one-seventy-five", "2-3 hrs/week", "between five and twenty hours"), so the
extraction is a small grammar over tokens rather than a list of regular expressions:
a number (digits or words), optionally a second number making a range, then a unit
and a period found in the words that follow. Context decides what is measured:
"each one is ten hours a week" is per client, "forty hours total" is not. spaCy's
entity recogniser adds what the grammar does not know as a unit: a MONEY entity
followed by "an hour" is a rate even when the words are unusual.

Everything here is a pure function of the text, so the unit tests can cover many
phrasings and hypothesis can feed it arbitrary strings.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES = {"hundred": 100, "thousand": 1000}
SPECIAL = {
    "a dozen": 12,
    "dozen": 12,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "half a dozen": 6,
}
NUMBER_WORDS = set(UNITS) | set(TENS) | set(SCALES)

# Tokens: money/approx prefixes and digits (1,000 / 2.5 / 10k), words (with inner
# hyphens and apostrophes), or any single other character.
TOKEN_RE = re.compile(r"\d[\d,]*(?:\.\d+)?k?|[a-z]+(?:['’-][a-z]+)*|\S", re.IGNORECASE)

APPROX_BEFORE = {
    "about",
    "around",
    "roughly",
    "maybe",
    "approximately",
    "approx",
    "~",
    "like",
    "probably",
    "nearly",
    "almost",
    "close",
    "some",
    "say",
    "perhaps",
    "ish",
}
RANGE_JOINERS = {"to", "-", "–", "—", "or", ",", "/"}

KINDS = {
    "hours_per_client_week": "hours per client per week",
    "hours_per_week": "hours per week (in total)",
    "clients_at_once": "clients at once",
    "hourly_rate": "hourly rate (USD)",
    "project_price": "project price (USD)",
    "years": "years in the field or freelancing",
    "count_of": "counts people gave",
}

PER_CLIENT_RE = re.compile(
    r"\b(?:per|each|every|a)\s+client\b|\beach(?:\s+(?:one|is|of them))?\b"
    r"|\bwith\s+(?:one|each|a|every)\s+client\b"
    r"|\b(?:the\s+other|the\s+big|the\s+small|that|this|one)\s+(?:\w+\s+){0,2}(?:client|one|project)\b",
    re.IGNORECASE,
)
TOTAL_RE = re.compile(
    r"\b(?:in\s+total|total|overall|altogether|combined|together|full[- ]time)\b", re.IGNORECASE
)
CLIENT_WORDS = {"client", "clients", "customer", "customers", "project", "projects"}
AT_ONCE_RE = re.compile(
    r"^\s*(?:at\s+(?:a\s+time|once)|simultaneously|in\s+parallel|right\s+now|at\s+the\s+moment|now)\b",
    re.IGNORECASE,
)
HOUR_WORDS = {"hour", "hours", "hr", "hrs", "h"}
WEEK_RE = re.compile(
    r"^\s*(?:/\s*(?:week|wk|w)\b|(?:a|per|each|every|/)\s*week\b|weekly\b|(?:a|per)\s+wk\b)",
    re.IGNORECASE,
)
PER_HOUR_RE = re.compile(
    r"^\s*(?:/\s*(?:hr|hour|h)\b|(?:an|a|per|each|/)\s*(?:hour|hr)\b|hourly\b)", re.IGNORECASE
)
DOLLAR_WORDS = {"dollars", "dollar", "bucks", "buck", "usd"}
COUNT_NOUNS = {
    "ways",
    "things",
    "types",
    "kinds",
    "options",
    "reasons",
    "channels",
    "buckets",
    "paths",
    "steps",
    "lessons",
    "tips",
    "rules",
    "mistakes",
    "phases",
    "stages",
    "modes",
    "groups",
    "sources",
    "tricks",
}
YEAR_CONTEXT_RE = re.compile(
    r"\b(?:freelanc\w*|experience|on my own|self-employed|upwork|quit|left|started|start"
    r"|doing this|in the field|in data|industry|career)\b",
    re.IGNORECASE,
)

NOT_EXPERIENCE_AFTER_RE = re.compile(
    r"^\s*(?:old\b|of\s+age\b|older\b|younger\b|from\s+now\b|later\b|down\s+the\s+road\b)",
    re.IGNORECASE,
)
NOT_EXPERIENCE_BEFORE = {"in", "next", "every", "within", "each", "per", "another"}


@dataclass(frozen=True)
class Quantity:
    """One quantity found in a text; ``low == high`` unless a range was given."""

    kind: str
    low: float
    high: float
    approximate: bool
    span: str  # the words it was read from, as written
    start: int  # character offsets of ``span`` in the text
    end: int
    what: str = ""  # for count_of: the noun counted ("ways")

    @property
    def value(self) -> float:
        """The quantity as one number: a range's midpoint."""
        return (self.low + self.high) / 2

    def to_dict(self) -> dict:
        """The quantity as plain data.

        Returns:
            Its fields and its ``value``.
        """
        return {**asdict(self), "value": self.value}


@dataclass
class _Tok:
    text: str
    low: str
    start: int
    end: int


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m.group(), m.group().lower(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def _digits(tok: str) -> float | None:
    t = tok.lower().replace(",", "")
    mult = 1000 if t.endswith("k") else 1
    t = t.rstrip("k")
    try:
        return float(t) * mult
    except ValueError:
        return None


def _word_value(word: str) -> tuple[float | None, bool]:
    """Value of one (possibly hyphenated) word, and whether it was approximate ("forty-ish")."""
    approx = False
    if word.endswith("-ish") or word.endswith("ish") and word[:-3] in UNITS | TENS:
        word = word[:-4] if word.endswith("-ish") else word[:-3]
        approx = True
    if word in UNITS:
        return UNITS[word], approx
    if word in TENS:
        return TENS[word], approx
    parts = word.split("-")
    if len(parts) == 2:
        a, b = parts
        if a in TENS and b in UNITS and UNITS[b] < 10:
            return TENS[a] + UNITS[b], approx  # twenty-five
        # "one-seventy-five" arrives as one token with three parts; "one-thirty" = 130 in price talk
        if a in UNITS and 1 <= UNITS[a] <= 9 and (b in TENS or b in UNITS and UNITS[b] >= 10):
            return UNITS[a] * 100 + (TENS.get(b) or UNITS[b]), approx
    if len(parts) == 3:
        a, b, c = parts
        if a in UNITS and 1 <= UNITS[a] <= 9 and b in TENS and c in UNITS and UNITS[c] < 10:
            return UNITS[a] * 100 + TENS[b] + UNITS[c], approx  # one-seventy-five
    return None, False


def _extends(current: float, value: float) -> bool:
    """Whether a spoken number goes on: "a hundred [and] twenty", "twenty five"."""
    if current >= 100 and current % 100 == 0:
        return value < 100
    if current % 100 >= 20 and current % 10 == 0:
        return value < 10
    return False


def _read_number(toks: list[_Tok], i: int) -> tuple[float, int, bool] | None:
    """Read a number starting at token ``i``: (value, next index, approximate) or None."""
    if i >= len(toks):
        return None
    tok = toks[i]
    if tok.low in ("$", "~") and i + 1 < len(toks):
        inner = _read_number(toks, i + 1)
        if inner:
            return inner[0], inner[1], inner[2] or tok.low == "~"
        return None
    if tok.low[0].isdigit():
        value = _digits(tok.low)
        if value is None:
            return None
        j = i + 1
        if j < len(toks) and toks[j].low in ("-ish", "ish"):
            return value, j + 1, True
        if j < len(toks) and toks[j].low in SCALES:
            return value * SCALES[toks[j].low], j + 1, False
        return value, j, False
    # multi-word specials
    for phrase, value in sorted(SPECIAL.items(), key=lambda kv: -len(kv[0])):
        words = phrase.split()
        if [t.low for t in toks[i : i + len(words)]] == words:
            return float(value), i + len(words), False
    # spelled-out numbers: "a hundred and ten", "two thousand", "one hundred and five",
    # "twenty five"
    total, current, j, approx, seen = 0.0, 0.0, i, False, False
    if toks[j].low == "a" and j + 1 < len(toks) and toks[j + 1].low in SCALES:
        current, j, seen = 1.0, j + 1, True
    while j < len(toks):
        low = toks[j].low
        if low in SCALES and seen:
            scale = SCALES[low]
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
            j += 1
            continue
        if low == "and" and seen and j + 1 < len(toks) and j > i and toks[j - 1].low in SCALES:
            nxt, nxt_approx = _word_value(toks[j + 1].low)
            if nxt is not None and nxt < 100:
                current += nxt
                approx = approx or nxt_approx
                j += 2
                continue
            break
        value, word_approx = _word_value(low)
        if value is None or (seen and not _extends(current, value)):
            break  # "ten twelve" is two numbers, not one
        current += value
        approx = approx or word_approx
        seen = True
        j += 1
    if not seen:
        return None
    return total + current, j, approx


@dataclass
class _Num:
    low: float
    high: float
    start: int  # token indices
    end: int
    approx: bool
    dollar: bool


def _read_quantity(toks: list[_Tok], i: int) -> _Num | None:
    """A number or a range of two ("5-20", "five to twenty", "between 5 and 20", "ten, twelve",
    "2 or 3")."""
    between = toks[i].low == "between"
    first_at = i + 1 if between else i
    first = _read_number(toks, first_at)
    if first is None:
        return None
    low, j, approx = first
    dollar = toks[first_at].low == "$"
    high = low
    if j < len(toks):
        joiner = toks[j].low
        if (between and joiner == "and") or (not between and joiner in RANGE_JOINERS):
            second = _read_number(toks, j + 1)
            if second is not None and second[0] > low and second[0] <= max(low * 10, low + 50):
                high, j, approx2 = second[0], second[1], second[2]
                approx = approx or approx2
                dollar = dollar or toks[j - 1].low == "$"
        elif between:
            return None
    # "-ish" glued as a separate token after a range, or "ish"
    if j < len(toks) and toks[j].low in ("ish", "-ish"):
        approx, j = True, j + 1
    if i > 0 and toks[i - 1].low in APPROX_BEFORE:
        approx = True
    if i > 1 and toks[i - 2].low == "close" and toks[i - 1].low == "to":
        approx = True
    return _Num(low, high, i, j, approx, dollar)


def _after(text: str, toks: list[_Tok], j: int) -> str:
    return text[toks[j].start :] if j < len(toks) else ""


def _classify(text: str, toks: list[_Tok], num: _Num, context: str) -> tuple[str, str, int] | None:
    """(kind, what, end token) for a number, from the words after it and its sentence."""
    j = num.end
    nxt = toks[j].low if j < len(toks) else ""
    nxt2 = toks[j + 1].low if j + 1 < len(toks) else ""
    rest = _after(text, toks, j)
    # hours
    if nxt in HOUR_WORDS:
        after_hours = _after(text, toks, j + 1)
        week = WEEK_RE.match(after_hours)
        end = j + 1
        if week:
            end += len(_tokens(week.group()))
        per_client_after = re.match(
            r"^\s*(?:a\s+week\s+|per\s+week\s+|/\s*week\s+)?(?:per|each|a)\s+client\b",
            after_hours,
            re.IGNORECASE,
        )
        if per_client_after:
            end = j + 1 + len(_tokens(per_client_after.group()))
        if not week and not re.match(r"^\s*(?:per|each|a)\s+client", after_hours, re.IGNORECASE):
            # "forty-ish hours" with the week implied by the sentence ("full-time job ... hours")
            if not re.search(r"\bweek\w*\b|\bfull[- ]time\b|\btotal\b", context, re.IGNORECASE):
                return None
        if num.high > 100:
            return None
        per_client = bool(per_client_after) or (
            PER_CLIENT_RE.search(context) and not TOTAL_RE.search(context)
        )
        return ("hours_per_client_week" if per_client else "hours_per_week", "", end)
    # hourly rates: "$90/hr", "ninety dollars an hour", "a hundred and ten an hour"
    if nxt in DOLLAR_WORDS:
        per_hour = PER_HOUR_RE.match(_after(text, toks, j + 1))
        if per_hour:
            return ("hourly_rate", "", j + 1 + len(_tokens(per_hour.group())))
        if num.low >= 100:
            return ("project_price", "", j + 1)
        return None
    per_hour = PER_HOUR_RE.match(rest)
    if per_hour and (num.dollar or 10 <= num.low <= 1000):
        return ("hourly_rate", "", j + len(_tokens(per_hour.group())))
    if num.dollar and num.low >= 100:
        return ("project_price", "", j)
    # clients
    if (
        nxt in CLIENT_WORDS
        and nxt.startswith("client")
        or (
            nxt not in CLIENT_WORDS
            and nxt2.startswith("client")
            and nxt.isalpha()
            and nxt not in ("of",)
        )
    ):
        if (
            num.high <= 30
            and num.low == int(num.low)
            and HAVE_RE.search(context)
            and not HYPOTHETICAL_RE.search(context)
        ):
            return ("clients_at_once", "", j + (1 if nxt.startswith("client") else 2))
    if (
        AT_ONCE_RE.match(rest)
        and re.search(r"\bclients?\b|\bprojects?\b", context, re.IGNORECASE)
        and num.high <= 30
    ):
        if re.match(r"^\s*at\s+(?:a\s+time|once)", rest, re.IGNORECASE):
            return (
                "clients_at_once",
                "",
                j + len(_tokens(re.match(r"^\s*at\s+(?:a\s+time|once)", rest, re.I).group())),
            )
    # years: of experience, not ages ("60 years old"), spans ahead ("in five years") or
    # periods ("every two years")
    if nxt in ("year", "years") and num.high <= 60:
        before = toks[num.start - 1].low if num.start > 0 else ""
        if (
            NOT_EXPERIENCE_AFTER_RE.match(_after(text, toks, j + 1))
            or before in NOT_EXPERIENCE_BEFORE
        ):
            return None
        if YEAR_CONTEXT_RE.search(context):
            return ("years", "", j + 1)
        return None
    # "three ways", "two things"
    if nxt in COUNT_NOUNS and 2 <= num.low <= 12 and num.low == num.high:
        return ("count_of", nxt, j + 1)
    return None


# "I have three clients", "usually two clients", "one client at a time"; not "one client
# telling another"
HAVE_RE = re.compile(
    r"\b(?:have|having|had|got|take|taking|juggl\w+|work(?:ing)? with|keep|usually|typically|"
    r"currently|right now|at a time|at once|today|max(?:imum)?|at most|normally|stable)\b",
    re.IGNORECASE,
)
HYPOTHETICAL_RE = re.compile(r"\bif\s+(?:i|we)\b|\bwould\b|\bi'd\b", re.IGNORECASE)

ORDINAL_BEFORE = {
    "the",
    "my",
    "our",
    "your",
    "his",
    "her",
    "their",
    "first",
    "last",
    "page",
    "line",
    "number",
    "no",
    "#",
}


def extract_quantities(text: str, context: str | None = None) -> list[Quantity]:
    """Every quantity in ``text``. ``context`` (default: ``text``) decides per client vs total.

    Pass the sentence (or the sentence plus the question it answers) as context when
    ``text`` is a fragment; the offsets always refer to ``text``.

    Args:
        text: the text to read.
        context: the text that decides what a number is about.

    Returns:
        The quantities in the order they appear.
    """
    if not text:
        return []
    context = text if context is None else context
    toks = _tokens(text)
    found: list[Quantity] = []
    i = 0
    while i < len(toks):
        num = _read_quantity(toks, i)
        if num is None:
            i += 1
            continue
        # "one client telling another client" / "the first hour": not a count of clients or
        # hours at once
        prev = toks[i - 1].low if i > 0 else ""
        kind = _classify(text, toks, num, context)
        if kind is None or (
            prev in ORDINAL_BEFORE and kind[0] in ("clients_at_once", "count_of") and prev != "#"
        ):
            i = max(num.end, i + 1)
            continue
        name, what, end = kind
        if name == "clients_at_once" and num.low == 1 and num.high == 1 and prev in ("one",):
            i = end
            continue
        start_char = toks[num.start].start
        end_char = toks[end - 1].end
        found.append(
            Quantity(
                kind=name,
                low=num.low,
                high=num.high,
                approximate=num.approx,
                span=text[start_char:end_char],
                start=start_char,
                end=end_char,
                what=what,
            )
        )
        i = end
    return found


def extract_from_sentence(sentence, context: str | None = None) -> list[Quantity]:
    """Quantities in a spaCy sentence: the grammar above, plus MONEY entities it missed.

    The entity recogniser knows currencies and amounts the grammar has no unit for
    ("€80", "80 euros"); such an amount is an hourly rate when "an hour" follows it,
    else a project price from 100 up. Offsets are relative to the sentence text.

    Args:
        sentence: a parsed spaCy sentence (a span with ``text``, ``start_char``, ``ents``).
        context: the text that decides what a number is about (default: the sentence).

    Returns:
        The quantities found.
    """
    text = sentence.text
    found = extract_quantities(text, context if context is not None else text)
    covered = [(q.start, q.end) for q in found]
    base = sentence.start_char
    for ent in getattr(sentence, "ents", ()):
        if ent.label_ != "MONEY":
            continue
        s, e = ent.start_char - base, ent.end_char - base
        if any(s < ce and cs < e for cs, ce in covered):
            continue
        toks = _tokens(ent.text)
        number = next((n for i in range(len(toks)) if (n := _read_number(toks, i))), None)
        if number is None:
            continue
        value = number[0]
        per_hour = PER_HOUR_RE.match(text[e:])
        if per_hour:
            found.append(
                Quantity(
                    "hourly_rate",
                    value,
                    value,
                    number[2],
                    text[s : e + per_hour.end()],
                    s,
                    e + per_hour.end(),
                )
            )
        elif value >= 100:
            found.append(Quantity("project_price", value, value, number[2], text[s:e], s, e))
    return sorted(found, key=lambda q: q.start)
