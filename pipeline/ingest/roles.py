"""Who is the interviewer? Decided per conversation, and the reason recorded.

A name given in front matter / metadata.csv / the configuration decides alone (it is
what the user said). Otherwise every main speaker gets a score from several cues, each
of which can be wrong on its own, and the highest score is the interviewer:

======================  =======  ===========================================================
cue                     weight   reads
======================  =======  ===========================================================
speaker labels          1 - 5    :data:`LABEL_TABLE`: role words (``Interviewer``,
                                 ``Participant 3``) 5; letter codes read by the codes
                                 beside them (``P1``/``A1``: A = author/analyst) 3; a
                                 lone code (``A`` alone) 1 - 2
questions               +-3      share of the speaker's turns that end with a question,
                                 over the whole conversation, against the others'
words                   +-1.5    the interviewee usually says more (log2 of the ratio)
file name               2.5      the file is usually named after the interviewee
                                 (``ernest-1-full.md`` -> ERNEST); only when it names
                                 exactly one speaker
opens                   1        the interviewer usually speaks first
script phrases          +-1.5    interviewer: consent and recording script ("do you
                                 consent", "thank you for agreeing", "start the
                                 recording"); interviewee: "thanks for having me"
======================  =======  ===========================================================

Who speaks last is not a cue: on the real corpora it was the interviewer in 11 of 16
research interviews but in only 14 of 50 podcast episodes (guests close with thanks).
The question share is taken over the whole conversation and by turns that *end* with
a question: a long consent script has no question mark, and interviewees ask
rhetorical questions mid-turn ("you know?"), so "contains a ?" over the first turns
was misleading. The recorded ``method`` names the cues that decided, strongest first,
and those against ("MEL: words 23% vs 77%; file name names ERNEST; ...").

Typed notes without labels are the interviewee's words as the note-taker recorded
them; structural lines (``Break:``, ``[music]``, ad reads) are notes.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .model import RawTurn
from .turn_parser import is_structural_label

INTERVIEWER, INTERVIEWEE, NOTE = "interviewer", "interviewee", "note"


@dataclass(frozen=True)
class LabelRule:
    """One row of :data:`LABEL_TABLE`: how a speaker label is read."""

    label: str  # a role word, or a letter code (digits after it ignored: P1 = P)
    role: str
    weight: float
    reading: str  # what it stands for, as written in the method
    with_codes: tuple[str, ...] = ()  # only when another speaker's code is one of these


_ROLE_WORDS_ER = (
    "interviewer interviewers int iv moderator mod facilitator researcher host co-host cohost "
    "presenter reporter journalist investigator me"
).split()
_ROLE_WORDS_EE = (
    "interviewee participant respondent resp guest candidate expert customer user informant "
    "narrator panelist panellist"
).split()

#: How labels are read, first matching row wins. Role words are read alone; a letter
#: code is read by the codes other speakers of the same conversation carry, because the
#: same letter means different things in different conventions: ``A`` is the *answer*
#: beside ``Q`` but the *author/analyst* (the interviewer) beside ``P``; ``R`` is the
#: *respondent* beside ``I`` but the *researcher* beside ``P``. ``R`` alone says nothing.
LABEL_TABLE: tuple[LabelRule, ...] = (
    *(LabelRule(w, INTERVIEWER, 5.0, w) for w in _ROLE_WORDS_ER),
    *(LabelRule(w, INTERVIEWEE, 5.0, w) for w in _ROLE_WORDS_EE),
    LabelRule("q", INTERVIEWER, 3.0, "Q = question"),
    LabelRule("a", INTERVIEWEE, 3.0, "A = answer", ("q",)),
    LabelRule("a", INTERVIEWER, 3.0, "A = author/analyst", ("p", "r")),
    LabelRule("a", INTERVIEWEE, 1.0, "A = answer"),
    LabelRule("i", INTERVIEWER, 3.0, "I = interviewer", ("r", "p", "e", "a")),
    LabelRule("i", INTERVIEWER, 1.5, "I = interviewer"),
    LabelRule("r", INTERVIEWEE, 3.0, "R = respondent", ("i", "a", "m", "f")),
    LabelRule("r", INTERVIEWER, 3.0, "R = researcher", ("p",)),
    LabelRule("p", INTERVIEWEE, 3.0, "P = participant", ("a", "r", "i", "m", "f")),
    LabelRule("p", INTERVIEWEE, 1.5, "P = participant"),
    LabelRule("e", INTERVIEWEE, 3.0, "E = interviewee", ("i",)),
    LabelRule("m", INTERVIEWER, 3.0, "M = moderator", ("p", "r")),
    LabelRule("f", INTERVIEWER, 3.0, "F = facilitator", ("p", "r")),
)
_CODES = {r.label for r in LABEL_TABLE if len(r.label) == 1}
# Readings that depend on the other codes: the method spells them out.
_CONTEXTUAL = {("a", INTERVIEWER), ("r", INTERVIEWEE), ("r", INTERVIEWER)}

_INTERVIEWER_SCRIPT = re.compile(
    r"""\b(?:do|would|can|could)\ you\ (?:consent|agree)\b
    |\b(?:your|give|giving|verbal|informed)\ consent\b
    |\bconsent\ form\b
    |\bthank(?:s|\ you)(?:\ (?:so|very)\ much)?\ for\ (?:agreeing|taking(?:\ the)?\ time
        |making\ (?:the\ )?time|joining|participating|taking\ part|coming\ on
        |being\ (?:here|on|with\ us)|(?:talking|speaking)\ (?:to|with)\ (?:me|us))
    |\b(?:start|begin|stop|end|pause)(?:s|ed|ing)?\ (?:the\ |our\ |saving\ the\ )?(?:official\ )?
        (?:recording|transcript|transcription)\b
    |\b(?:is\ it|are\ you)\ (?:ok|okay|alright|all\ right|fine|happy)\b[^.?!]{0,40}
        \b(?:record|transcri)
    |\b(?:this|the)\ (?:call|interview|conversation|session)\ (?:is|will\ be)\ (?:being\ )?recorded
    |\bmind\ if\ (?:i|we)\ record
    |\bbefore\ we\ (?:start|begin|get\ started)
    |\b(?:my|our|the)\ (?:first|next|last|final)\ question\b
    |\bwelcome\ (?:back\ )?to\ (?:the\ )?(?:show|podcast|episode|interview|study)\b""",
    re.I | re.X,
)
_INTERVIEWEE_SCRIPT = re.compile(
    r"""\bthank(?:s|\ you)(?:\ (?:so|very)\ much)?\ for\ having\ me\b
    |\bi\ (?:do\ )?consent\b
    |\b(?:happy|glad|great)\ to\ be\ (?:here|on)\b""",
    re.I | re.X,
)
# File-name words that name no one.
_GENERIC_STEM_WORDS = frozenset(
    """interview interviews transcript transcripts call calls full notes note session part round
    final draft clean cleaned edited with and the episode podcast talk recording audio video
    zoom otter export copy call""".split()
)
_WEAK_MARGIN = 2.5  # score margins below this are flagged as weak evidence
_MINOR_SHARE = 0.05  # a speaker below this share of turns and of words is not a candidate


@dataclass
class RoleDecision:
    roles: dict[str, str]  # speaker -> role
    method: str
    interviewer: str | None
    # speaker -> cue -> score (positive: interviewer-like); empty when names decided
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _matches(speaker: str, names: list[str]) -> bool:
    """'Sam' matches 'Sam Lee' and vice versa: transcripts often use first names only."""
    s = _key(speaker)
    for name in names:
        n = _key(name)
        if n and (s == n or s.split()[0] == n or n.split()[0] == s):
            return True
    return False


def as_names(value: object) -> list[str]:
    """Names from a metadata value: a list, or one string of ``;``-separated names.

    Args:
        value: a front matter or metadata.csv value (None when not given).

    Returns:
        The non-empty names (a string's parts stripped).
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return [p.strip() for p in str(value).split(";") if p.strip()]


def _label_base(speaker: str) -> tuple[str, bool]:
    """The word a label is read by, and whether a number follows it.

    ``P1`` / ``P 1`` / ``P.`` -> ``('p', ...)``; ``Interviewer 2`` -> ``('interviewer', True)``;
    ``Host Adam`` -> ``('host', False)``; a name (``Sam Lee``, ``J. Smith``) -> ``('', False)``.
    """
    key = _key(speaker)
    m = re.fullmatch(r"(?P<base>[^\W\d_]+)[ \t.#_-]*(?P<n>\d+)?\.?", key)
    if m:
        return m.group("base"), m.group("n") is not None
    first, _, rest = key.partition(" ")
    first = first.strip(".:#-_")
    if first in _ROLE_WORDS_ER or first in _ROLE_WORDS_EE:
        return first, bool(re.fullmatch(r"[ \t.#_-]*(?:\d+|[a-z])", rest))
    return "", False


def read_label(speaker: str, codes: set[str]) -> LabelRule | None:
    """How a speaker label is read (:data:`LABEL_TABLE`), given the conversation's codes.

    Args:
        speaker: the label as written (``P1``, ``Interviewer 2``, ``Maria``).
        codes: the letter codes the conversation's other speakers carry.

    Returns:
        The first matching rule, or None for a name (or a code such as ``R`` alone,
        which says nothing).
    """
    base, _ = _label_base(speaker)
    for rule in LABEL_TABLE:
        if rule.label == base and (not rule.with_codes or codes & set(rule.with_codes)):
            return rule
    return None


def _ends_with_question(text: str) -> bool:
    return text.rstrip(" \t\n\"'”’)]*_").endswith("?")


def _stem_words(source_name: str | None) -> set[str]:
    if not source_name:
        return set()
    stem = PurePosixPath(source_name.replace("\\", "/")).stem.casefold()
    return {w for w in re.findall(r"[^\W\d_]{3,}", stem) if w not in _GENERIC_STEM_WORDS}


def _name_words(speaker: str) -> set[str]:
    return {
        w
        for w in re.findall(r"[^\W\d_]{3,}", speaker.casefold())
        if w not in _ROLE_WORDS_ER and w not in _ROLE_WORDS_EE
    }


def _code_pattern(speakers: list[str]) -> str:
    """'P#/A#' for the labels P1, A1; 'Q/A' for Q, A."""
    shown: dict[str, bool] = {}
    for s in speakers:
        base, numbered = _label_base(s)
        shown[base] = shown.get(base, False) or numbered
    return "/".join(b.upper() + ("#" if n else "") for b, n in shown.items())


def _main_speakers(speakers: list[str], turns: dict[str, int], words: dict[str, int]) -> list[str]:
    total_turns, total_words = sum(turns.values()) or 1, sum(words.values()) or 1
    main = [
        s
        for s in speakers
        if turns[s] >= 2
        and (turns[s] / total_turns >= _MINOR_SHARE or words[s] / total_words >= _MINOR_SHARE)
    ]
    return main if len(main) >= 2 else speakers


def _scores(
    turns: list[RawTurn], speakers: list[str], source_name: str | None
) -> tuple[dict[str, dict[str, float]], dict[str, object]]:
    """Every main speaker's score per cue (positive: interviewer-like) and the raw figures."""
    n_turns: dict[str, int] = defaultdict(int)
    n_words: dict[str, int] = defaultdict(int)
    ends_q: dict[str, int] = defaultdict(int)
    er_script: dict[str, int] = defaultdict(int)
    ee_script: dict[str, int] = defaultdict(int)
    for t in turns:
        if not t.speaker or not t.text.strip():
            continue
        n_turns[t.speaker] += 1
        n_words[t.speaker] += len(t.text.split())
        ends_q[t.speaker] += _ends_with_question(t.text)
        er_script[t.speaker] += bool(_INTERVIEWER_SCRIPT.search(t.text))
        ee_script[t.speaker] += bool(_INTERVIEWEE_SCRIPT.search(t.text))
    speakers = [s for s in speakers if n_turns[s]] or speakers
    main = _main_speakers(speakers, n_turns, n_words)
    codes = {_label_base(s)[0] for s in speakers if _label_base(s)[0] in _CODES}
    first = next((t.speaker for t in turns if t.speaker and t.text.strip()), None)
    stem = _stem_words(source_name)
    named = [s for s in main if _name_words(s) & stem]
    q_share = {s: ends_q[s] / max(n_turns[s], 1) for s in main}
    # the others' mean, from the totals (linear in the number of speakers)
    n_others = len(main) - 1
    q_total, w_total = sum(q_share.values()), sum(n_words[s] for s in main)
    scores: dict[str, dict[str, float]] = {}
    labels: dict[str, LabelRule | None] = {}
    for s in main:
        cue: dict[str, float] = {}
        rule = read_label(s, codes - {_label_base(s)[0]})
        labels[s] = rule
        if rule is not None:
            cue["labels"] = rule.weight if rule.role == INTERVIEWER else -rule.weight
        q_others = (q_total - q_share[s]) / n_others
        cue["questions"] = max(-3.0, min(3.0, 6.0 * (q_share[s] - q_others)))
        w_others = (w_total - n_words[s]) / n_others
        ratio = math.log2(max(n_words[s], 1) / max(w_others, 1))
        cue["words"] = -max(-1.5, min(1.5, ratio))
        if s == first:
            cue["opens"] = 1.0
        if named == [s]:
            cue["file name"] = -2.5
        script = 0.75 * min(er_script[s], 2) - 0.75 * min(ee_script[s], 2)
        if script:
            cue["script"] = script
        scores[s] = cue
    figures = {
        "q_share": q_share,
        "words": dict(n_words),
        "labels": labels,
        "named": named,
        "er_script": dict(er_script),
        "ee_script": dict(ee_script),
        "main": main,
    }
    return scores, figures


def _describe(cue: str, top: str, other: str, figures: dict, diff: float) -> str:
    """A cue as the method says it, from the point of view of the chosen interviewer."""
    if cue == "labels":
        labelled = [s for s in figures["main"] if figures["labels"].get(s) is not None]
        contextual = [
            r.reading
            for r in dict.fromkeys(figures["labels"][s] for s in labelled)
            if (r.label, r.role) in _CONTEXTUAL
        ]
        text = f"speaker labels {_code_pattern(labelled)}"
        return text + (f" ({', '.join(contextual)})" if contextual else "")
    if cue == "questions":
        q = figures["q_share"]
        return f"questions {q[top]:.0%} vs {q[other]:.0%} of turns"
    if cue == "words":
        w = figures["words"]
        total = sum(w.get(s, 0) for s in figures["main"]) or 1
        return f"words {w.get(top, 0) / total:.0%} vs {w.get(other, 0) / total:.0%}"
    if cue == "opens":
        return "opens" if diff > 0 else f"{other} opens"
    if cue == "file name":
        return f"file name names {figures['named'][0]}"
    if figures["er_script"].get(top) and diff > 0:
        return "consent/recording script"
    return "script phrases" if diff > 0 else f"{other}'s script phrases"


def _by_score(turns: list[RawTurn], speakers: list[str], source_name: str | None) -> RoleDecision:
    """Roles by the cues of the module docstring; the method names those that decided."""
    scores, figures = _scores(turns, speakers, source_name)
    main = figures["main"]
    total = {s: sum(scores[s].values()) for s in main}
    position = {s: i for i, s in enumerate(speakers)}
    ranked = sorted(main, key=lambda s: (-total[s], position[s]))
    top = ranked[0]
    codes = {_label_base(s)[0] for s in speakers} & _CODES

    def reads_as_interviewer(s: str) -> bool:
        rule = read_label(s, codes - {_label_base(s)[0]})
        return rule is not None and rule.role == INTERVIEWER

    # Other speakers labelled as interviewers ("Interviewer 2", a second Q) join the top
    # one when the labels are what made it the interviewer's side.
    labelled_side = reads_as_interviewer(top)
    roles = {
        s: INTERVIEWER if s == top or (labelled_side and reads_as_interviewer(s)) else INTERVIEWEE
        for s in speakers
    }

    # Each cue's part in the decision: how much more it made the top speaker the
    # interviewer than the strongest interviewee (a cue a speaker lacks counts 0).
    runner_up = next((s for s in ranked if roles[s] == INTERVIEWEE), ranked[1])
    diff = {
        cue: scores[top].get(cue, 0.0) - scores[runner_up].get(cue, 0.0)
        for cue in dict.fromkeys([*scores[top], *scores[runner_up]])
    }
    order = sorted(diff, key=lambda c: -abs(diff[c]))
    pro = [c for c in order if diff[c] >= 0.25]
    con = [c for c in order if diff[c] <= -1.0]
    margin = total[top] - total[runner_up]

    def say(cue: str) -> str:
        return _describe(cue, top, runner_up, figures, diff[cue])

    labels_decide = "labels" in pro and diff["labels"] > sum(-diff[c] for c in con)
    if labels_decide:
        method = say("labels")
        if "(" not in method:  # the labels say it all (Interviewer/Interviewee, Q/A)
            method = "speaker labels"
    elif pro:
        method = f"{top}: " + "; ".join(say(c) for c in pro)
    else:
        method = f"{top}: no clear cue"
    if con:
        method += "; against: " + "; ".join(say(c) for c in con)
    if margin < _WEAK_MARGIN and not labels_decide:
        method += " (weak evidence: set `interviewer:` in front matter or ingest.interviewer_names)"
    return RoleDecision(roles, method, top, scores)


def decide_roles(
    turns: list[RawTurn],
    interviewer_names: list[str] | None = None,
    interviewee_names: list[str] | None = None,
    configured_names: list[str] | None = None,
    source_name: str | None = None,
) -> RoleDecision:
    """Decide who the interviewer is in one conversation, and say why.

    Args:
        turns: the conversation's turns.
        interviewer_names: the interviewer's names from its metadata.
        interviewee_names: the interviewee's names from its metadata.
        configured_names: interviewer names from the configuration
            (``ingest.interviewer_names``).
        source_name: the file's name (its stem usually names the interviewee).

    Returns:
        Each speaker's role, the evidence used (recorded as ``role_method``), and the
        interviewer (None when there is none).
    """
    speakers = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
    if not speakers:
        return RoleDecision({}, "unlabelled notes: all text treated as the interviewee's", None)

    for names, source in (
        (interviewer_names or [], "metadata"),
        (configured_names or [], "config"),
    ):
        asking = [s for s in speakers if _matches(s, names)]
        if asking:
            roles = {s: INTERVIEWER if s in asking else INTERVIEWEE for s in speakers}
            return RoleDecision(roles, f"{source}: interviewer is {', '.join(asking)}", asking[0])

    answering = [s for s in speakers if _matches(s, interviewee_names or [])]
    if answering and len(speakers) > 1:
        roles = {s: INTERVIEWEE if s in answering else INTERVIEWER for s in speakers}
        interviewer = next((s for s in speakers if roles[s] == INTERVIEWER), None)
        return RoleDecision(roles, f"metadata: interviewee is {', '.join(answering)}", interviewer)

    spoken = list(dict.fromkeys(t.speaker for t in turns if t.speaker and t.text.strip()))
    if len(spoken) < 2:  # one speaker says anything (the others' labels have no words)
        only = (spoken or speakers)[0]
        roles = dict.fromkeys(speakers, INTERVIEWEE)
        rule = read_label(only, set())
        if rule is not None and rule.role == INTERVIEWER and rule.weight >= 5:
            return RoleDecision({**roles, only: INTERVIEWER}, "speaker labels", only)
        return RoleDecision(roles, "single speaker: treated as the interviewee", None)
    return _by_score(turns, speakers, source_name)


def role_of(turn: RawTurn, decision: RoleDecision) -> str:
    """The role of one turn under a conversation's decision.

    Args:
        turn: the turn.
        decision: the conversation's :class:`RoleDecision`.

    Returns:
        ``interviewer`` or ``interviewee``; an unlabelled turn in a labelled conversation
        is a ``note``, and so is a structural line (``Break:``, ``[music]``, an ad read).
    """
    if turn.speaker is None:
        if turn.label and is_structural_label(turn.label):
            return NOTE
        return NOTE if decision.roles else INTERVIEWEE
    return decision.roles.get(turn.speaker, INTERVIEWEE)


__all__ = [
    "INTERVIEWER",
    "INTERVIEWEE",
    "NOTE",
    "LABEL_TABLE",
    "LabelRule",
    "RoleDecision",
    "decide_roles",
    "read_label",
    "role_of",
    "as_names",
]
