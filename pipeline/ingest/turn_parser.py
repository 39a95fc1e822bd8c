"""Lines of typed notes or transcripts -> speaker turns.

Recognises the label shapes people actually use (``Maria:``, ``Interviewer 1 :``,
``**Maria:**``, ``[00:12:03] Maria:``, ``Q:``/``A:``, Otter's ``Maria  0:03`` header
line), joins continuation lines to the current turn, and keeps headings
(``## Past``, ``Future:``) as context instead of text. Files without any speaker
label are typed notes: each paragraph or bullet becomes its own turn.

A word followed by a colon is only a speaker when the document uses it as one more
than once (or it is a role word such as ``Interviewer`` or carries a timestamp), so
``Context: met at a meetup`` in a note does not invent a speaker called Context.

Structural lines of a show or recording are not speech: a ``Break:`` / ``Ad:`` /
``Sponsor:`` / ``Outro: [01:53:10]`` label (see :data:`STRUCTURAL_LABEL`) starts a
turn without a speaker (its role is ``note``; lines below it, such as an ad read, stay
in it), and a line that is only a bracketed cue (``[music]``, ``(ad break)``,
``*** BREAK ***``) is a note of its own that does not interrupt the current turn.

When a document labels exactly one speaker (``MODERATOR:``, ``Q:`` or a name, and no
other label-shaped line a speaker could be), the unlabelled paragraphs are the other
party's words: each starts a turn of that speaker (``PARTICIPANT`` beside an
interviewer's label, ``INTERVIEWER`` beside an interviewee's, ``OTHER SPEAKER`` beside
a name; see :func:`lone_speaker`) instead of running on in the labelled turn, and a
numbered script item (``1 Read the home tab``, ``3.a Is it clear?``) is a prompt of the
interviewer's side. With two or more labelled speakers nothing changes: a turn runs on
over unlabelled paragraphs until the next label.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .model import RawTurn

TIMESTAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_NAME = r"[^\W\d_][\w.'’\-]*(?:[ \t]+[\w.'’\-]+){0,3}"

# Runs of blanks are matched possessively (``*+``, ``++``: never given back). Every
# such run is followed by something that cannot start with a blank, so the matches
# are the same, but a line like "Maria" + 10,000 spaces + "x" no longer makes the
# engine try every way of sharing the run among the optional parts (it was cubic in
# the run's length: 4,000 spaces took 12 s, a 1 MB run never finished).
_LABEL_RE = re.compile(
    rf"""^[ \t]*+
    (?:[\[(](?P<ts1>{TIMESTAMP})[\])][ \t]*+[-–—]?[ \t]*+   # [00:12:03] Maria:
      |(?P<ts0>{TIMESTAMP})[ \t]++[-–—]?[ \t]*+)?          # 00:12:03 Maria:
    (?:\*\*|__)?
    (?P<name>{_NAME}?)
    [ \t]*+(?:[\[(](?P<ts2>{TIMESTAMP})[\])])?[ \t]*+        # Maria (00:12:03):
    (?:\*\*|__)?[ \t]*+
    :
    (?:\*\*|__)?
    (?:[ \t]+|$)(?P<rest>.*)$""",
    re.X | re.S,
)
# "[03:46] Yeah, so ...": a timestamp opening a turn's words or a paragraph of them.
_LEAD_TIMESTAMP_RE = re.compile(rf"^[\[(](?P<ts>{TIMESTAMP})[\])][ \t]*")


def _lead_timestamp(text: str) -> tuple[str, float | None]:
    """The words without a timestamp that opens them, and that time (None without one)."""
    m = _LEAD_TIMESTAMP_RE.match(text)
    if m is None or not text[m.end() :].strip():
        return text, None
    return text[m.end() :], parse_timestamp(m.group("ts"))


# Otter-style header: the speaker and a timestamp alone on a line, words below.
_HEADER_RE = re.compile(rf"^[ \t]*+(?P<name>{_NAME})[ \t]+(?P<ts>{TIMESTAMP})[ \t]*+$")
# "## Past ##": the heading text is trimmed of trailing blanks and '#' in Python
# (see _md_heading); a lazy ``(?P<h>.+?)[ \t#]*$`` was quadratic on "# # # ... x".
_MD_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}(?P<h>[ \t].+)$")
_BOLD_LINE_RE = re.compile(r"^[ \t]*+(?:\*\*|__)(?P<h>[^*_\n].*?)(?:\*\*|__)[ \t]*+:?[ \t]*+$")
_COLON_LINE_RE = re.compile(r"^[ \t]*(?P<h>[^:\n]{1,60}):[ \t]*$")
_BULLET_RE = re.compile(r"^(?P<indent>[ \t]*+)(?P<marker>[-*•+‣◦]|\d{1,3}[.)])[ \t]++(?P<rest>.*)$")
# A numbered item of a task script or guide: "1 Read ...", "3.a Please ...", "c.i Data ...";
# "1. " (a list bullet) and a number followed by a lower-case word ("4 data sets") are not.
_SCRIPT_ITEM_RE = re.compile(
    r"^[ \t]*+(?:\d{1,2}(?:\.[a-z\d]{1,3}){0,3}|[a-z]\.[ivx]{1,4})[ \t]++[A-Z‘“\"'(]"
)
OTHER_PARTICIPANT, OTHER_INTERVIEWER, OTHER_SPEAKER = "PARTICIPANT", "INTERVIEWER", "OTHER SPEAKER"

ROLE_WORDS = re.compile(
    r"^(?:interviewer|interviewee|q|a|host|guest|moderator|participant|respondent|researcher|"
    r"speaker|candidate|expert|mentor|mentee|customer|user|me|i)[ \t]*\d*$",
    re.I,
)
# Structural markers of a show or a recording (not a speaker, not speech). A label
# made of these words (``Break:``, ``Ad read:``, ``Sponsor message:``, ``Outro:``) or a
# line that is only such a cue in brackets (``[music]``, ``(intro music)``) is a note.
_STRUCTURAL_WORDS = (
    r"(?:(?:ad|ads|advert|advertisement|sponsor|sponsors|sponsored|sponsorship|commercial|"
    r"mid-?roll|pre-?roll|post-?roll|music|theme|jingle|interlude|intro|outro|transition|"
    r"bumper|musical|station)"
    r"(?:[ \t]+(?:break|breaks|read|message|spot|segment|music|song|plays|playing|id|"
    r"interlude|fades?(?:[ \t]+(?:in|out))?))*"
    r"|break|breaks|end[ \t]+of[ \t]+(?:recording|transcript|interview|tape|episode|show))"
)
STRUCTURAL_LABEL = re.compile(rf"^{_STRUCTURAL_WORDS}(?:[ \t]*\d+)?$", re.I)
_STRUCTURAL_CUE_RE = re.compile(
    rf"^[ \t]*(?:{TIMESTAMP}[ \t]*|[\[(]{TIMESTAMP}[\])][ \t]*)?"
    rf"(?:\\?[\[(][ \t]*(?P<a>{_STRUCTURAL_WORDS})[ \t]*\\?[\])]"  # [music], \[break\]
    rf"|[*\-–—=♪ \t]{{2,}}(?P<b>{_STRUCTURAL_WORDS})[*\-–—=♪ \t]{{2,}})"  # *** BREAK ***
    rf"[ \t]*(?:[\[(]?{TIMESTAMP}[\])]?)?[ \t]*$",
    re.I,
)


def is_structural_cue(text: str) -> bool:
    """Whether a whole line is a bracketed show cue (``[music]``, ``(ad break)``), not speech.

    Args:
        text: one line.

    Returns:
        True for a cue such as ``[music]``, ``(intro music)``, ``*** BREAK ***``.
    """
    return len(text) <= 80 and _STRUCTURAL_CUE_RE.match(text) is not None


def is_structural_label(label: str) -> bool:
    """Whether a consumed label (``**Break:**``, ``Ad read:``) or cue line is structural.

    Args:
        label: a turn's ``label`` (the label text it consumed), or a whole line.

    Returns:
        True when it names a break, an ad or sponsor read, music, an intro or outro.
    """
    m = _LABEL_RE.match(label) or _HEADER_RE.match(label)
    if m is not None and STRUCTURAL_LABEL.match(" ".join(m.group("name").split())):
        return True
    return is_structural_cue(label)


# Words that head a section of notes, never a person.
HEADING_WORDS = frozenset(
    """past present future background now next later today before after then context summary
    notes note agenda date time location place todo action actions key points takeaways takeaway
    lessons lesson advice questions question answers topic topics title subject quote quotes
    update tip tips example examples source sources re fyi edit ps nb http https www mailto
    part section intro introduction outro conclusion conclusions follow-up followup misc other
    pros cons goals goal plans plan current history education career work clients pricing""".split()
)
_PARTICLES = {
    "de",
    "da",
    "del",
    "della",
    "der",
    "den",
    "van",
    "von",
    "la",
    "le",
    "du",
    "dos",
    "bin",
    "al",
    "el",
    "y",
}


@dataclass
class Line:
    text: str
    number: int | None = None  # 1-based line (or paragraph) number in the source
    page: int | None = None


@dataclass
class ParseResult:
    turns: list[RawTurn]
    headings: list[str] = field(default_factory=list)  # raw heading lines, in order
    labelled: bool = False


@dataclass
class _Label:
    name: str
    key: str
    rest: str
    start: float | None
    raw: str
    header_only: bool = False


def parse_timestamp(text: str | None) -> float | None:
    """``01:02:03.5`` / ``02:03`` / ``1:02:03,500`` -> seconds.

    Args:
        text: a timestamp, or None.

    Returns:
        The seconds, or None when there is none or it is not a timestamp.
    """
    if not text:
        return None
    parts = text.replace(",", ".").split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    return seconds


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _plausible_name(name: str) -> bool:
    words = name.split()
    if not words or len(words) > 4 or len(name) > 40:
        return False
    for word in words:
        if word.isdigit() or word.casefold() in _PARTICLES:
            continue
        if word[0].islower() or not word[0].isalpha():
            return False
    return True


def match_label(text: str) -> _Label | None:
    """The speaker label a line starts with, if it has one.

    Args:
        text: one line.

    Returns:
        The label (name, timestamp and the text after it), or None; whether it is accepted
        as a speaker is decided over the whole document by :func:`accepted_speakers`.
    """
    if _BULLET_RE.match(text) and not text.lstrip().startswith("**"):
        return None
    m = _LABEL_RE.match(text)
    if m:
        name = " ".join(m.group("name").split())
        if _plausible_name(name):
            ts = m.group("ts1") or m.group("ts0") or m.group("ts2")
            rest = m.group("rest")
            return _Label(
                name, _name_key(name), rest, parse_timestamp(ts), text[: len(text) - len(rest)]
            )
    m = _HEADER_RE.match(text)
    if m and _plausible_name(m.group("name")):
        name = " ".join(m.group("name").split())
        return _Label(
            name, _name_key(name), "", parse_timestamp(m.group("ts")), text, header_only=True
        )
    return None


def _is_heading_word(key: str) -> bool:
    return all(w in HEADING_WORDS for w in re.split(r"[ \t]+", key) if not w.isdigit())


def accepted_speakers(labels: Iterable[_Label | None], n_lines: int = 0) -> set[str]:
    """The labels a document uses as speakers, not as "Key: value" notes.

    A label is a speaker when it carries a timestamp, is used at least twice or is a role
    word; in a short exchange where everyone speaks once, the labels (heading words
    aside) count when there are two or more and they start at least half of the lines.

    Args:
        labels: each line's label (None for a line without one).
        n_lines: the number of non-blank lines.

    Returns:
        The accepted speaker keys (case-folded names).
    """
    found = [lab for lab in labels if lab is not None]
    counts = Counter(lab.key for lab in found)
    timed = {lab.key for lab in found if lab.start is not None}
    accepted = set()
    for key, count in counts.items():
        if STRUCTURAL_LABEL.match(key):
            continue  # "Break:", "Ad:": show structure, not a speaker
        if key in timed:
            accepted.add(key)
        elif _is_heading_word(key):
            continue
        elif count >= 2 or ROLE_WORDS.match(key):
            accepted.add(key)
    if not accepted and n_lines:
        # A short exchange where everyone speaks once: accept it when labels start at
        # least half of the lines and there are two or more different speakers.
        names = {k for k in counts if not _is_heading_word(k) and not STRUCTURAL_LABEL.match(k)}
        if len(names) >= 2 and sum(counts[k] for k in names) * 2 >= n_lines:
            accepted = names
    return accepted


@dataclass(frozen=True)
class LoneSpeaker:
    """The one speaker a document labels, and who the unlabelled paragraphs are."""

    key: str  # the labelled speaker's key
    other: str  # the name given to the unlabelled party
    script: str | None  # who a numbered script item is said by (None: not read as a script)


def lone_speaker(labels: list[_Label | None], accepted: set[str]) -> LoneSpeaker | None:
    """The single labelled speaker, when a document labels exactly one.

    Exactly one: one accepted speaker, and no other line starts with a label that could
    be a speaker (heading words such as ``Location:`` and structural labels aside), so
    a transcript whose second speaker speaks once (``Sam: Hi``) is not read this way.

    Args:
        labels: each line's label (None for a line without one).
        accepted: the accepted speaker keys (:func:`accepted_speakers`).

    Returns:
        The speaker and the other party, or None when the document labels 0 or 2+ speakers.
    """
    if len(accepted) != 1:
        return None
    candidates = {
        lab.key
        for lab in labels
        if lab is not None and not _is_heading_word(lab.key) and not STRUCTURAL_LABEL.match(lab.key)
    }
    if candidates != accepted:
        return None
    key = next(iter(accepted))
    name = next(lab.name for lab in labels if lab is not None and lab.key == key)
    from .roles import INTERVIEWEE, INTERVIEWER, read_label  # roles imports this module

    rule = read_label(name, set())
    if rule is not None and rule.role == INTERVIEWER:
        return LoneSpeaker(key, OTHER_PARTICIPANT, name)
    if rule is not None and rule.role == INTERVIEWEE:
        return LoneSpeaker(key, OTHER_INTERVIEWER, OTHER_INTERVIEWER)
    return LoneSpeaker(key, OTHER_SPEAKER, None)


def _md_heading(text: str) -> str | None:
    """The text of a Markdown heading line ("## Past ##" -> "Past"), else None."""
    m = _MD_HEADING_RE.match(text)
    if m is None:
        return None
    body = m.group("h")
    # As ``#{1,6}[ \t]+(?P<h>.+?)[ \t#]*$`` would: blanks after the hashes go (leaving
    # at least one character), then trailing blanks and '#' (again leaving one).
    body = body.lstrip(" \t") or body[-1:]
    return body.rstrip(" \t#") or body[:1]


def _heading(text: str, labelled: bool) -> str | None:
    h = _md_heading(text)
    if h is not None:
        return h.strip("*_ ").strip()
    m = _BOLD_LINE_RE.match(text)
    if m and len(m.group("h").split()) <= 10:
        return m.group("h").strip().rstrip(":").strip()
    m = _COLON_LINE_RE.match(text)
    if m and len(m.group("h").split()) <= 8 and not _BULLET_RE.match(text):
        heading = m.group("h").strip().strip("*_").strip()
        if not labelled or _is_heading_word(_name_key(heading)):
            return heading
    if not labelled and not _BULLET_RE.match(text):
        stripped = text.strip()
        if stripped.endswith("?") and len(stripped.split()) <= 12:
            return stripped
    return None


def _answers_question(label: _Label, current: RawTurn | None, current_text: str) -> bool:
    return (
        current is not None
        and current.speaker is not None
        and current_text.rstrip().endswith("?")
        and not _is_heading_word(label.key)
        and not label.header_only
    )


def parse_lines(lines: list[Line]) -> ParseResult:
    """Turn lines into speaker turns and headings.

    Args:
        lines: the document's lines, with their source line (and page) numbers.

    Returns:
        The turns, the heading lines, and whether the document has speaker labels.
    """
    labels = [match_label(line.text) for line in lines]
    accepted = accepted_speakers(labels, sum(1 for line in lines if line.text.strip()))
    labelled = bool(accepted)
    lone = lone_speaker(labels, accepted)
    # One labelled speaker: a paragraph ends a turn (every line is one when no line between
    # the first and the last with text is blank).
    filled = [i for i, line in enumerate(lines) if line.text.strip()]
    every_line = lone is not None and all(
        lines[i].text.strip() for i in range(filled[0], filled[-1] + 1)
    )
    result = ParseResult(turns=[], labelled=labelled)
    current: RawTurn | None = None
    heading: str | None = None
    # Each turn's lines, joined into its text once at the end: appending every
    # continuation line to a growing string was quadratic in a long turn's lines.
    pieces: list[list[str]] = []
    parts: list[str] = []  # the current turn's pieces (a cue line does not interrupt it)

    def add_turn(
        speaker: str | None, text: str, line: Line, start: float | None = None, raw: str = ""
    ) -> tuple[RawTurn, list[str]]:
        turn = RawTurn(
            speaker=speaker,
            text=text,
            line=line.number,
            page=line.page,
            start=start,
            heading=heading,
            label=raw,
        )
        result.turns.append(turn)
        pieces.append([text] if text else [])
        return turn, pieces[-1]

    def start_turn(
        speaker: str | None, text: str, line: Line, start: float | None = None, raw: str = ""
    ) -> RawTurn:
        nonlocal parts
        text, stamp = _lead_timestamp(text)
        turn, parts = add_turn(speaker, text, line, start if start is not None else stamp, raw)
        return turn

    for line, label in zip(lines, labels):
        stripped = line.text.strip()
        if not stripped:
            if not labelled or lone is not None:
                current = None
            continue
        if every_line:
            current = None
        if is_structural_cue(stripped):  # "[music]": a note; the current turn goes on
            add_turn(None, stripped, line, raw=stripped)
            continue
        if (
            label is not None
            and STRUCTURAL_LABEL.match(label.key)
            and (labelled or not label.rest.strip(" \t[]()\\-–—0123456789:.,"))
            and not (_is_heading_word(label.key) and not label.rest.strip())
        ):  # "Break: [01:44]", "Ad: ...": a turn without a speaker (a note)
            current = start_turn(None, label.rest.strip(), line, label.start, label.raw)
            continue
        # Every piece is stripped and non-empty, so the current text ends as its last piece does.
        if (
            lone is None
            and label is not None
            and label.key not in accepted
            and _answers_question(
                label, current, parts[-1] if current is not None and parts else ""
            )
        ):
            accepted.add(label.key)  # someone who speaks once, right after a question
        if label is not None and label.key in accepted:
            current = start_turn(label.name, label.rest.strip(), line, label.start, label.raw)
            continue
        found = _heading(line.text, labelled)
        if found is not None:
            heading = found
            result.headings.append(stripped)
            current = None
            continue
        bullet = _BULLET_RE.match(line.text)
        if not labelled and bullet:
            marker = bullet.group("marker")
            text = bullet.group("rest").strip() if not marker[0].isdigit() else stripped
            current = start_turn(None, text, line, raw=marker if not marker[0].isdigit() else "")
        elif lone is not None and current is None:
            # the other party's paragraph, or a numbered prompt of the interviewer's script
            script = lone.script is not None and _SCRIPT_ITEM_RE.match(line.text) is not None
            script = script and not _BULLET_RE.match(line.text) and len(stripped.split()) <= 40
            current = start_turn(lone.script if script else lone.other, stripped, line)
        elif current is None:
            current = start_turn(None, stripped, line)
        else:
            rest, _ = _lead_timestamp(stripped)  # "[08:05] Then I ...": a new paragraph's mark
            if rest:
                parts.append(rest)
    for turn, parts in zip(result.turns, pieces):
        if len(parts) > 1:
            turn.text = "\n".join(parts)
        elif parts:
            turn.text = parts[0]
    return result


def parse_text(text: str, first_line: int = 1) -> ParseResult:
    """Turn a text into speaker turns and headings (see :func:`parse_lines`).

    Args:
        text: the text.
        first_line: the source line number of its first line (after front matter).

    Returns:
        The turns, the heading lines, and whether the document has speaker labels.
    """
    return parse_lines([Line(t, i) for i, t in enumerate(text.split("\n"), start=first_line)])
