"""Redaction: names, organisations, places, e-mails, phone numbers and URLs -> placeholders.

Two passes over the corpus, like a careful human redactor. :meth:`Redactor.learn`
reads every conversation and collects what must go: spaCy's named entities
(``redaction.entities``), e-mail addresses, phone numbers and URLs by pattern, and
the names the metadata and speaker labels give, which are hidden even where the
model misses them. :meth:`Redactor.conversation` then rewrites each conversation's
text with every form found anywhere in the corpus, so a name the model caught in one
sentence is hidden in every other sentence too, numbering placeholders per
conversation ("Person 1" is the same person throughout one conversation; a
multi-word name and its parts, "Zofia Wróblewska" and "Zofia", share one number).

Placeholders use the words the theme stage already ignores (``PLACEHOLDER_RE``), so
redaction does not create themes of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .config import RedactionConfig

KIND_BY_LABEL = {
    "PERSON": "Person",
    "ORG": "Organisation",
    "GPE": "Place",
    "LOC": "Place",
    "FAC": "Place",
    "NORP": "Group",
    "PRODUCT": "Product",
    "EVENT": "Event",
    "WORK_OF_ART": "Work",
}
PLACEHOLDER_KINDS = (
    "Person",
    "Organisation",
    "Place",
    "Group",
    "Product",
    "Event",
    "Work",
    "Email",
    "Phone",
    "URL",
    "Contact",
)
PLACEHOLDER = re.compile(r"\b(?:" + "|".join(PLACEHOLDER_KINDS) + r") \d+\b")

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Bare domains only with these endings: shorter ones (.it, .so, .me) are ordinary words and file
# names.
_TLDS = "com|org|net|io|co|ai|dev|edu|gov|info|app|uk|eu|ca|au|ly"
URL = re.compile(
    rf"(?:\bhttps?://|\bwww\.)[^\s<>\"'`)\]]+[^\s<>\"'`)\].,;:!?]"
    rf"|\b[a-z0-9][\w-]*(?:\.[\w-]+)*\.(?:{_TLDS})\b(?:/[^\s<>\"'`)\]]*[^\s<>\"'`)\].,;:!?])?",
    re.I,
)
# Digits in groups, optionally +country, (area) or (0): +1 (415) 555-0199, 020 7946 0958,
# +49 (0)30 1234567, 0171/1234567, +33 6 12 34 56 78, 4155550199; is_phone() decides.
PHONE = re.compile(
    r"(?<![\w$€£¥.,+-])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?|\(\d{1,4}\)[ .-]?)?\d{1,15}(?:[ "
    r".\-/]\(?\d{1,8}\)?){0,5}"
    r"(?![\w%]|[.,]\d)"
)
_YEARS_OR_DATE = re.compile(
    r"^(?:(?:19|20)\d\d(?: ?[-–] "
    r"?(?:19|20)?\d\d)+|\d{4}-\d{2}-\d{2}|\d{1,2}[.-]\d{1,2}[.-]\d{2,4})$"
)


_THOUSANDS = re.compile(r"\d{1,3}(?:[ ,.]\d{3})+(?:\s*[-–]\s*\d{1,3}(?:[ ,.]\d{3})+)?")


def _round(number: str) -> bool:
    return int(number) % 50 == 0


EMPTY_VALUES = {"", "none", "nan", "null", "n/a", "na", "-", "--", "?", "unknown"}


def is_phone(text: str) -> bool:
    """A digit run that reads as a phone number, not a year range, a date, a sum or a range people
    gave."""
    text = text.strip()
    digits = sum(c.isdigit() for c in text)
    if digits < 7 or digits > 15 or _YEARS_OR_DATE.match(text):
        return False
    if text.startswith("+") or "(" in text:
        return digits >= 8
    groups = re.findall(r"\d+", text)
    if len(groups) == 1:
        return digits >= 9  # 4155550199, 07700900461
    if _THOUSANDS.fullmatch(text):
        return False  # 150 000 000, 50 000-80 000: sums written in thousands
    if len(groups) == 2:
        a, b = groups
        if len(a) == 3 and len(b) == 4:
            return not (int(b) > int(a) and _round(a) and _round(b))  # 555-0199, not 500-1000
        return digits >= 10 and "-" not in text  # 0171/1234567; not 1500-2000 or 94103-1234
    return digits >= 9 and not all(_round(g) for g in groups)  # 020 7946 0958; not 100 150 200 250


def _phone_prefix(run: str) -> str:
    """The start of a run of digit groups that reads as a phone number ("" if none): the
    longest with at most 13 digits (numbers in use have 7 to 13), else the longest."""
    prefixes = []
    while run:
        prefixes.append(run)
        cut = max(run.rfind(" "), run.rfind("-"), run.rfind("."), run.rfind("/"))
        if cut <= 0:
            break
        run = run[:cut].rstrip(" .-/(")
    phones = [p for p in prefixes if is_phone(p)]
    usual = [p for p in phones if sum(c.isdigit() for c in p) <= 13]
    return (usual or phones or [""])[0]


def fold(text: str) -> str:
    """Lower case without accents: how names are written in file names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass
class _Form:
    kind: str
    key: str  # the entity it belongs to ("person:zofia wróblewska")
    anycase: bool = False  # names from metadata/speaker labels: matched in any letter case
    given: bool = False  # from metadata, speaker labels or config (not the model's guess)


@dataclass
class Span:
    start: int
    end: int
    placeholder: str


def _chunks(text: str, size: int = 50_000) -> Iterable[str]:
    """Pieces of at most ``size`` characters, cut at line or sentence ends."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind(". ", start, end))
            end = cut + 1 if cut > start else end
        yield text[start:end]
        start = end


class Redactor:
    """Learns what to hide across a corpus, then hides it consistently per conversation."""

    def __init__(self, config: RedactionConfig, use_model: bool = True):
        self.config = config
        self.labels = {label: KIND_BY_LABEL.get(label, label.title()) for label in config.entities}
        self.use_model = use_model and bool(self.labels)
        self.keep = set(config.keep)  # as written: the surname "Ma" is not the degree "MA"
        self.forms: dict[str, _Form] = {}
        self._compiled: dict[str, Any] | None = None  # see _derived()
        for name in config.names:
            self.add_name(name, "Person")

    # --- learning -------------------------------------------------------------------------------
    def _add(self, text: str, kind: str, key: str, anycase: bool, given: bool = False) -> None:
        text = " ".join(text.split())
        if len(text) < 2 or not any(c.isalpha() for c in text) or (not given and text in self.keep):
            return
        if PLACEHOLDER.fullmatch(text):
            return
        known = self.forms.get(text)
        # What the user's metadata says beats the model's guess; among guesses, "a person" wins
        # (the model calls the same name ORG in one sentence and PERSON in the next).
        if (
            known is None
            or (given and not known.given)
            or (not known.given and kind == "Person" != known.kind)
        ):
            self.forms[text] = _Form(kind, key, anycase, given)
        elif given and anycase and not known.anycase:
            known.anycase = True
        self._compiled = None

    def _person_key(self, name: str, given: bool) -> str | None:
        """The person an earlier form of this name (or one of its parts) already stands for."""
        for form in [name, *re.split(r"[\s\-]+", name)]:
            known = self.forms.get(form)
            if known is not None and known.kind == "Person" and (known.given or not given):
                return known.key
        return None

    def add_name(
        self, name: str, kind: str = "Person", anycase: bool = True, given: bool = True
    ) -> None:
        """A name to hide: the whole and, for people, its parts ("Zofia Wróblewska", "Zofia",
        "Wróblewska").

        ``given`` names come from metadata, speaker labels or the config and always win
        over what the model guessed; they are matched in any letter case, except short
        or common-word parts ("Dev", "Will"), matched only as written so "dev work" survives.
        """
        from spacy.lang.en.stop_words import STOP_WORDS

        name = " ".join(str(name).split())
        if not name:
            return
        key = (
            self._person_key(name, given) if kind == "Person" else None
        ) or f"{kind.lower()}:{fold(name)}"
        self._add(name, kind, key, anycase and (len(name) > 3 or " " in name), given)
        if kind == "Person":
            for part in re.split(r"[\s\-]+", name):
                if len(part) >= 2 and part[0].isalpha():
                    common = part.casefold() in STOP_WORDS or len(part) <= 3
                    if common and not given:
                        continue  # the model's "May" is too likely the month
                    self._add(part, kind, key, anycase and not common, given)

    def learn(self, texts: Iterable[str], names: Iterable[tuple[str, str]] = ()) -> None:
        """Collect what to hide in one conversation: ``names`` are (kind, name) pairs always hidden;
        ``texts`` are read by the English NER model (give it English text only)."""
        for kind, name in sorted(
            names, key=lambda kn: -len(str(kn[1]).split())
        ):  # full names first
            if str(name).strip().casefold() not in EMPTY_VALUES:
                self.add_name(name, kind)
        texts = [t for t in texts if t]
        if not self.use_model or not texts:
            return
        from .nlp import english_full, pipe_in_batches

        pieces = [piece for t in texts for piece in _chunks(t)]
        language = english_full()  # loaded once per process, shared with the report
        with language.select_pipes(enable=["ner"]):  # its NER has its own tok2vec
            for doc in pipe_in_batches(language, pieces, 32):
                guarded = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(doc.text)]
                guarded += [
                    (m.start(), m.end()) for p in (EMAIL, URL) for m in p.finditer(doc.text)
                ]
                people = []
                for ent in doc.ents:
                    kind = self.labels.get(ent.label_)
                    if kind is None or any(
                        a < ent.end_char and ent.start_char < b for a, b in guarded
                    ):
                        continue
                    text = ent.text.strip(" \t\n'’\".,;:!?()[]")
                    if not any(c.isupper() for c in text) or set(text.split()) & self.keep:
                        continue  # "linear programming", "de", "Mostly Python": not names
                    if kind != "Person" and re.fullmatch(r"[A-Z]{2,4}s?", text):
                        # acronyms (OCR, CRM, DM) are mostly jargon to this model; list real
                        # ones in redaction.names
                        continue
                    if kind == "Person":
                        people.append(text)
                    else:
                        self._add(text, kind, f"{kind.lower()}:{fold(text)}", False)
                for text in sorted(
                    people, key=lambda t: -len(t.split())
                ):  # full names first, then their parts
                    self.add_name(text, "Person", anycase=False, given=False)

    # --- rewriting ------------------------------------------------------------------------------
    def _derived(self) -> dict[str, Any]:
        """The matchers built from the forms, rebuilt only after a form was added."""
        if self._compiled is None:
            ordered = sorted(self.forms, key=lambda f: (-len(f), f))
            alternatives = [
                f"(?i:{re.escape(f)})" if self.forms[f].anycase else re.escape(f) for f in ordered
            ]
            # "zofia_w" and "@will_turner_data" hold names too: "_" does not join words here.
            text = (
                re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])")
                if ordered
                else None
            )
            names = sorted(
                {
                    fold(t)
                    for t, f in self.forms.items()
                    if f.kind in ("Person", "Organisation", "Place")
                },
                key=len,
                reverse=True,
            )
            parts = [
                p
                for p in (
                    "[\\W_]*".join(re.escape(w) for w in re.split(r"[\W_]+", n) if w) for n in names
                )
                if p
            ]
            self._compiled = {
                "text": text,
                "anycase": {t.casefold(): f for t, f in reversed(self.forms.items()) if f.anycase},
                "names": re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + r")(?![^\W_])")
                if parts
                else None,
            }
        return self._compiled

    def pattern(self) -> re.Pattern | None:
        return self._derived()["text"]

    def lookup(self, matched: str) -> _Form | None:
        return self.forms.get(matched) or self._derived()["anycase"].get(matched.casefold())

    def conversation(self) -> ConversationRedactor:
        return ConversationRedactor(self)

    def sensitive(self, text: str) -> bool:
        """Whether an id or file name holds a known name, an e-mail address, a phone number or a
        URL."""
        return (
            self.mentions_name(text)
            or bool(EMAIL.search(text) or URL.search(text))
            or any(is_phone(m.group(0)) for m in PHONE.finditer(text))
        )

    def mentions_name(self, text: str) -> bool:
        """Whether ``text`` (a file name, an id) holds a known name in any case, accents or
        separators."""
        pattern = self._derived()["names"]
        return bool(pattern and pattern.search(fold(text)))

    def path(self, path: str, replacement: str = "redacted") -> str:
        """``path`` with every folder or file name that holds a known name replaced (the extension
        kept)."""
        parts = path.split("/")
        for i, part in enumerate(parts):
            if self.sensitive(part):
                stem, dot, ext = part.rpartition(".") if i == len(parts) - 1 else (part, "", "")
                parts[i] = replacement + (dot + ext if stem else "")
        return "/".join(parts)


@dataclass
class ConversationRedactor:
    """Placeholders for one conversation, numbered in order of first appearance."""

    corpus: Redactor
    numbers: dict[str, str] = field(default_factory=dict)  # entity key -> placeholder
    counts: dict[str, int] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)  # placeholders the text already had

    def reserve(self, texts: Iterable[str | None]) -> None:
        """Keep clear of placeholders the notes already use ("Person 1" typed by an interviewer)."""
        for text in texts:
            self.taken.update(PLACEHOLDER.findall(text or ""))

    def placeholder(self, kind: str, key: str) -> str:
        if key not in self.numbers:
            n = self.counts.get(kind, 0) + 1
            while f"{kind} {n}" in self.taken:
                n += 1
            self.counts[kind] = n
            self.numbers[key] = f"{kind} {n}"
        return self.numbers[key]

    def spans(self, text: str) -> list[Span]:
        """What to replace in ``text``, left to right, without overlaps."""
        found: list[Span] = []
        taken: list[tuple[int, int]] = []

        def free(a: int, b: int) -> bool:
            return not any(a < y and x < b for x, y in taken)

        for m in PLACEHOLDER.finditer(text):  # already redacted: leave as is
            taken.append((m.start(), m.end()))
        for kind, pattern in (("Email", EMAIL), ("URL", URL)):
            for m in pattern.finditer(text):
                if free(m.start(), m.end()):
                    value = m.group(0)
                    found.append(
                        Span(
                            m.start(), m.end(), self.placeholder(kind, f"{kind}:{value.casefold()}")
                        )
                    )
                    taken.append((m.start(), m.end()))
        for m in PHONE.finditer(text):
            number = _phone_prefix(
                m.group(0)
            )  # "+1 (212) 555-0134 2019 2019": the number, not the years after it
            end = m.start() + len(number)
            if number and free(m.start(), end):
                digits = re.sub(r"\D", "", number)
                found.append(
                    Span(m.start(), end, self.placeholder("Phone", f"phone:{digits[-9:]}"))
                )
                taken.append((m.start(), end))
        pattern = self.corpus.pattern()
        if pattern is not None:
            for m in pattern.finditer(text):
                form = self.corpus.lookup(m.group(0))
                if form is not None and free(m.start(), m.end()):
                    found.append(Span(m.start(), m.end(), self.placeholder(form.kind, form.key)))
                    taken.append((m.start(), m.end()))
        return sorted(found, key=lambda s: s.start)

    def text(self, text: str | None) -> str | None:
        if not text:
            return text
        spans = self.spans(text)
        if not spans:
            return text
        out, last = [], 0
        for span in spans:
            out += [text[last : span.start], span.placeholder]
            last = span.end
        out.append(text[last:])
        return "".join(out)

    def value(self, key: str, kind: str = "Person") -> str:
        """A whole metadata value (a name, an address) replaced by its placeholder."""
        return self.placeholder(kind, key)
