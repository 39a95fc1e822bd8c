"""Who is the interviewer? Decided per conversation, and the reason recorded.

Evidence, strongest first: a name given in front matter / metadata / config, role
words in the labels (``Interviewer``, ``Q``), then who asks the questions. Typed
notes without labels are the interviewee's words as the note-taker recorded them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from .model import RawTurn

INTERVIEWER, INTERVIEWEE, NOTE = "interviewer", "interviewee", "note"

_INTERVIEWER_LABEL = re.compile(r"^(?:interviewer|q|host|moderator|researcher|me|i)\s*\d*$", re.I)
_INTERVIEWEE_LABEL = re.compile(
    r"^(?:interviewee|a|guest|participant|respondent|candidate|expert|customer|user)\s*\d*$", re.I
)


@dataclass
class RoleDecision:
    roles: dict[str, str]  # speaker -> role
    method: str
    interviewer: str | None


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


def decide_roles(
    turns: list[RawTurn],
    interviewer_names: list[str] | None = None,
    interviewee_names: list[str] | None = None,
    configured_names: list[str] | None = None,
) -> RoleDecision:
    """Decide who the interviewer is in one conversation, and say why.

    Args:
        turns: the conversation's turns.
        interviewer_names: the interviewer's names from its metadata.
        interviewee_names: the interviewee's names from its metadata.
        configured_names: interviewer names from the configuration
            (``ingest.interviewer_names``).

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

    labelled_er = [s for s in speakers if _INTERVIEWER_LABEL.match(s)]
    labelled_ee = [s for s in speakers if _INTERVIEWEE_LABEL.match(s)]
    if labelled_er or labelled_ee:
        if labelled_er:
            roles = {s: INTERVIEWER if s in labelled_er else INTERVIEWEE for s in speakers}
        else:
            roles = {s: INTERVIEWEE if s in labelled_ee else INTERVIEWER for s in speakers}
        interviewer = next((s for s in speakers if roles[s] == INTERVIEWER), None)
        return RoleDecision(roles, "speaker labels", interviewer)

    answering = [s for s in speakers if _matches(s, interviewee_names or [])]
    if answering and len(speakers) > 1:
        roles = {s: INTERVIEWEE if s in answering else INTERVIEWER for s in speakers}
        interviewer = next((s for s in speakers if roles[s] == INTERVIEWER), None)
        return RoleDecision(roles, f"metadata: interviewee is {', '.join(answering)}", interviewer)

    if len(speakers) == 1:
        return RoleDecision(
            {speakers[0]: INTERVIEWEE}, "single speaker: treated as the interviewee", None
        )

    # Who asks? Share of turns with a question mark, then (as a tie-break) who talks less.
    asked: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    words: dict[str, int] = defaultdict(int)
    for t in turns:
        if t.speaker:
            count[t.speaker] += 1
            asked[t.speaker] += "?" in t.text
            words[t.speaker] += len(t.text.split())
    share = {s: asked[s] / count[s] for s in speakers}
    ranked = sorted(
        speakers, key=lambda s: (-share[s], words[s] / max(count[s], 1), speakers.index(s))
    )
    top = ranked[0]
    runner_up = ranked[1]
    roles = {s: INTERVIEWER if s == top else INTERVIEWEE for s in speakers}
    method = (
        f"questions: {top} asked in {share[top]:.0%} of turns, "
        f"{runner_up} in {share[runner_up]:.0%}"
    )
    if share[top] - share[runner_up] < 0.15:
        method += " (weak evidence: set `interviewer:` in front matter or ingest.interviewer_names)"
    return RoleDecision(roles, method, top)


def role_of(turn: RawTurn, decision: RoleDecision) -> str:
    """The role of one turn under a conversation's decision.

    Args:
        turn: the turn.
        decision: the conversation's :class:`RoleDecision`.

    Returns:
        ``interviewer`` or ``interviewee``; an unlabelled turn in a labelled conversation
        is a ``note``.
    """
    if turn.speaker is None:
        return NOTE if decision.roles else INTERVIEWEE
    return decision.roles.get(turn.speaker, INTERVIEWEE)


__all__ = [
    "INTERVIEWER",
    "INTERVIEWEE",
    "NOTE",
    "RoleDecision",
    "decide_roles",
    "role_of",
    "as_names",
]
