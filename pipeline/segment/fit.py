"""How well a guide fits the conversations it was applied to, in figures and in words.

A guide that does not fit still gives every turn a section: past/present/future forced on
usability sessions puts nearly everything in "past". The figures that show it: the share
of interviewee turns per section (one section holding most of them), sections no
conversation reaches, and the decoder's mean confidence (its posterior for the section
it chose). They go to segments.json, the log and the report's method section.
"""

from __future__ import annotations

import pandas as pd

from ..ingest.roles import INTERVIEWEE
from .guide import Guide

# A section holding this share of interviewee turns, with three or more sections, means
# the guide's distinctions are not in the data (gold on real corpora: the largest
# section held 36-46% of turns; the decoder, 40-62%).
DOMINANT_SHARE = 0.7
# A section with less than this share of the turns is as good as never reached.
EMPTY_SHARE = 0.02
# Below this mean posterior the evidence rarely favours one section clearly.
LOW_CONFIDENCE = 0.6
# Interviewer questions at least this close to one of the guide's count as asking it; with
# fewer than QUESTIONS_ASKED of them doing so, the guide's questions are not being asked.
# (Measured: 33-48% with a guide that fits, 3-7% with the built-in guide on podcasts,
# usability sessions and oral histories.)
QUESTION_MATCH = 0.4
QUESTIONS_ASKED = 0.1
# A section reached by fewer conversations than this share is "rarely reached".
RARE_SHARE = 0.25


def guide_fit(turns: pd.DataFrame, guide: Guide, question_best: list[float] | None = None) -> dict:
    """Figures of fit for a turn table with ``interview_id, role, section, confidence``.

    ``question_best``: each interviewer question's best similarity to the guide's questions
    (the share that reaches QUESTION_MATCH is reported, and too small a share is a problem).

    Returns:
        ``share`` (interviewee turns per section), ``conversations_reached`` per section,
        ``mean_confidence``, ``never_reached``, ``rarely_reached``, ``problems`` (in
        words) and ``poor`` (any problem).
    """
    answers = turns[turns["role"] == INTERVIEWEE]
    if answers.empty:
        answers = turns
    n = max(1, len(answers))
    conversations = max(1, turns["interview_id"].nunique())
    share = {name: round(float((answers["section"] == name).sum()) / n, 3) for name in guide.names}
    reached = {
        name: int(answers.loc[answers["section"] == name, "interview_id"].nunique())
        for name in guide.names
    }
    confidence = round(float(answers["confidence"].mean()), 3) if len(answers) else 0.0
    never = [name for name in guide.names if reached[name] == 0]
    empty = [name for name in guide.names if reached[name] and share[name] < EMPTY_SHARE]
    rare = [
        name
        for name in guide.names
        if 0 < reached[name] < RARE_SHARE * conversations and conversations >= 4
    ]
    problems = []
    top = max(share, key=share.get)
    if len(guide.names) >= 3 and share[top] >= DOMINANT_SHARE:
        problems.append(f"{share[top]:.0%} of interviewee turns are '{top}'")
    if never and len(answers) >= 2 * len(guide.names):
        problems.append("never reached: " + ", ".join(f"'{s}'" for s in never))
    if empty and len(answers) >= 10 * len(guide.names):
        problems.append(
            "almost never reached: " + ", ".join(f"'{s}' ({share[s]:.1%})" for s in empty)
        )
    asked = None
    if question_best is not None and len(question_best):
        asked = round(sum(b >= QUESTION_MATCH for b in question_best) / len(question_best), 3)
        if asked < QUESTIONS_ASKED and len(question_best) >= 20:
            problems.append(f"only {asked:.0%} of the interviewers' questions resemble the guide's")
    if confidence < LOW_CONFIDENCE:
        problems.append(f"mean confidence {confidence:.2f}")
    return {
        "share": share,
        "conversations_reached": reached,
        "conversations": int(turns["interview_id"].nunique()),
        "mean_confidence": confidence,
        "questions_like_the_guide": asked,
        "never_reached": never,
        "rarely_reached": rare,
        "problems": problems,
        "poor": bool(problems),
    }


def describe_fit(fit: dict, guide_name: str) -> str:
    """One sentence for the log and the method section."""
    shares = ", ".join(f"{k} {v:.0%}" for k, v in fit["share"].items())
    if fit["poor"]:
        return (
            f"The guide '{guide_name}' fits these conversations poorly ("
            + "; ".join(fit["problems"])
            + f"). Interviewee turns per section: {shares}. Sections may not say what this "
            "report's section parts suggest; give a guide that matches the interviews "
            "(`insights guide from-protocol`, `insights guide suggest`)."
        )
    return (
        f"The guide '{guide_name}' fits: interviewee turns per section {shares}; mean "
        f"confidence {fit['mean_confidence']:.2f}."
    )
