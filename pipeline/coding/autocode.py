"""Code the corpus with the researcher's codebook: their coding where they coded, learnt
coding everywhere else.

:func:`autocode` is the whole job on in-memory tables, with no file access, so the stage,
the evaluation and a notebook share it:

1. locate the researcher's excerpts in the turns (:func:`~.locate.locate`);
2. choose the unit (their unit where it can be learnt: whole turns, else passages) and the
   speech to code (interviewee only, unless they coded the interviewer's words too);
3. learn every code from the units of the interviews they coded (a unit of a coded
   interview with none of their codes is a negative example) and code the units of every
   interview they did not code, with a confidence and the nearest coded examples;
4. list the units whose coding would help most (:func:`~.classify.suggest`).

The result's :attr:`CodingRun.table` has one row per coded stretch of text and code, with
character offsets into :func:`~.locate.interview_text`, so an exporter can hand the same
selections to a QDA tool.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .classify import (
    Coder,
    CoderSettings,
    UnitChoice,
    choose_unit,
    code_text,
    code_units,
    context_features,
    suggest,
    turn_vectors,
    unit_labels,
)
from .locate import DEFAULT_MIN_SCORE, LocateResult, locate, passage_spans, turn_starts
from .model import Codebook, CodedExcerpt

INTERVIEWER = "interviewer"
INTERVIEWEE = "interviewee"

INTERVIEWER_CODED_SHARE = 0.1
"""With ``roles: auto``, the interviewer's words are coded too when at least this share of
the located excerpts lie mostly (over half their characters) in interviewer turns."""

SUGGEST_MIN_WORDS = 6
"""Shorter units are not suggested for coding: too little to code on their own."""

TABLE_COLUMNS = (
    "interview_id",
    "source",
    "unit",
    "unit_id",
    "turn_index",
    "last_turn",
    "start",
    "end",
    "code",
    "confidence",
    "few_shot",
    "evidence",
    "excerpt",
    "section",
    "text",
)


@dataclass(frozen=True)
class CodingSettings:
    """How :func:`autocode` works (the ``coding`` config section gives these).

    Attributes:
        unit: ``"auto"`` (:func:`~.classify.choose_unit`), ``"passage"`` or ``"turn"``.
        roles: ``"auto"``, ``"interviewee"`` or ``"all"``: whose words are coded.
        min_score: the fuzzy alignment score an excerpt needs to count as located.
        suggest: how many units to suggest for coding next (0: none).
        coder: the classifiers' settings.
    """

    unit: str = "auto"
    roles: str = "auto"
    min_score: float = DEFAULT_MIN_SCORE
    suggest: int = 20
    coder: CoderSettings = field(default_factory=CoderSettings)


@dataclass
class CodingRun:
    """What :func:`autocode` found and did.

    Attributes:
        codebook: the codebook, with every code the coding used.
        located: where each of the researcher's excerpts is.
        unit: the unit chosen and why.
        roles: whose words were coded (``("interviewee",)`` or both roles) and why.
        table: one row per (coded stretch, code): the researcher's excerpts (source
            ``human``, unit ``excerpt``) and the learnt coding of the other interviews
            (source ``machine``); columns :data:`TABLE_COLUMNS`.
        codes: one row per code: examples, whether coded few-shot, threshold, the
            out-of-fold F1 (what to expect), and counts of human and machine coding.
        suggestions: the units to code next (:func:`~.classify.suggest` columns plus text).
        coded_interviews, other_interviews: interviews with and without located coding.
        notes: what the report and the log should say (plain sentences).
    """

    codebook: Codebook
    located: LocateResult
    unit: UnitChoice
    roles: tuple[str, ...]
    roles_reason: str
    table: pd.DataFrame
    codes: pd.DataFrame
    suggestions: pd.DataFrame
    coded_interviews: list[str]
    other_interviews: list[str]
    notes: list[str]

    def info(self) -> dict:
        """A JSON-able summary (coding.json)."""
        human = self.table[self.table["source"] == "human"]
        machine = self.table[self.table["source"] == "machine"]
        return {
            "enabled": True,
            "codes": len(self.codebook),
            "located": self.located.summary(),
            "not_located": [
                {"excerpt": int(r.excerpt), "interview": str(r.interview), "reason": str(r.reason)}
                for r in self.located.table[~self.located.table["located"]].itertuples()
            ],
            "unit": self.unit.unit,
            "unit_reason": self.unit.reason,
            "unit_stats": self.unit.stats,
            "roles": list(self.roles),
            "roles_reason": self.roles_reason,
            "coded_interviews": self.coded_interviews,
            "other_interviews": self.other_interviews,
            "human_rows": len(human),
            "machine_rows": len(machine),
            "machine_units": int(machine["unit_id"].nunique()),
            "suggestions": len(self.suggestions),
            "notes": self.notes,
        }


def coded_roles(
    located: LocateResult, turns: pd.DataFrame, choice: str = "auto"
) -> tuple[tuple, str]:
    """Whose words are coded (``coding.roles``; auto: see :data:`INTERVIEWER_CODED_SHARE`)
    and why, in one sentence."""
    if choice == "interviewee":
        return (INTERVIEWEE,), "interviewee speech only (coding.roles)"
    if choice == "all":
        return (INTERVIEWEE, INTERVIEWER), "everyone's speech (coding.roles)"
    role = {
        (str(i), int(t)): str(r)
        for i, t, r in zip(turns["interview_id"], turns["turn_index"], turns.get("role", ""))
    }
    sp = located.spans
    if not len(sp):
        return (INTERVIEWEE,), "interviewee speech (no excerpt located to learn from)"
    chars = (sp["end"] - sp["start"]).to_numpy(dtype=float)
    asked = np.array(
        [
            role.get((str(i), int(t))) == INTERVIEWER
            for i, t in zip(sp["interview_id"], sp["turn_index"])
        ]
    )
    by = pd.DataFrame({"e": sp["excerpt"].to_numpy(), "all": chars, "asked": chars * asked})
    sums = by.groupby("e")[["all", "asked"]].sum()
    share = float(((sums["asked"] / sums["all"].clip(lower=1)) > 0.5).mean())
    if share >= INTERVIEWER_CODED_SHARE:
        return (INTERVIEWEE, INTERVIEWER), (
            f"{share:.0%} of the located excerpts are mostly the interviewer's words, so "
            "the interviewer's speech is coded too"
        )
    return (INTERVIEWEE,), (
        f"only {share:.0%} of the located excerpts are mostly the interviewer's words: "
        "interviewee speech is coded"
    )


def _main_language(table: pd.DataFrame) -> np.ndarray:
    if "in_main_language" not in table.columns:
        return np.ones(len(table), dtype=bool)
    return table["in_main_language"].fillna(True).astype(bool).to_numpy()


def _units(
    unit: str,
    roles: Sequence[str],
    turns: pd.DataFrame,
    passages: pd.DataFrame,
    vectors: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The units to learn and code, with their vectors and offsets in the interview text."""
    starts = turn_starts(turns)
    if unit == "passage":
        keep = passages["role"].astype(str).isin(roles).to_numpy()
        units = passages[keep].reset_index(drop=True)
        spans = passage_spans(units, turns).set_index("passage_id")
        table = pd.DataFrame(
            {
                "unit_id": units["passage_id"].astype(str),
                "passage_id": units["passage_id"].astype(str),
                "interview_id": units["interview_id"].astype(str),
                "turn_index": units["turn_index"].astype(int),
                "role": units["role"].astype(str),
                "text": units["text"].astype(str),
                "in_main_language": _main_language(units),
            }
        )
        s = spans.reindex(table["unit_id"])
        base = np.array(
            [starts.get((i, t), 0) for i, t in zip(table["interview_id"], table["turn_index"])]
        )
        table["start"] = (base + s["start"].to_numpy()).astype(float)
        table["end"] = (base + s["end"].to_numpy()).astype(float)
        return table, np.asarray(vectors)[keep]
    t = turns[turns["role"].astype(str).isin(roles)]
    if "is_backchannel" in t.columns:
        t = t[~t["is_backchannel"].fillna(False).astype(bool)]
    t = t[t["text"].fillna("").str.strip() != ""].reset_index(drop=True)
    table = pd.DataFrame(
        {
            "unit_id": [f"{i}#{k}" for i, k in zip(t["interview_id"], t["turn_index"])],
            "interview_id": t["interview_id"].astype(str),
            "turn_index": t["turn_index"].astype(int),
            "role": t["role"].astype(str),
            "text": t["text"].astype(str),
            "in_main_language": _main_language(t),
        }
    )
    base = np.array(
        [starts.get((i, k), 0) for i, k in zip(table["interview_id"], table["turn_index"])]
    )
    table["start"] = base.astype(float)
    table["end"] = (base + table["text"].str.len().to_numpy()).astype(float)
    return table, turn_vectors(t, passages, np.asarray(vectors))


def _section_of(sections: pd.DataFrame | None, unit: str) -> Callable[[str, int, str], str]:
    if sections is None or not len(sections):
        return lambda iid, ti, uid: ""
    turn_sec = {
        (str(i), int(t)): str(s)
        for u, i, t, s in zip(
            sections["unit"], sections["interview_id"], sections["turn_index"], sections["section"]
        )
        if u == "turn"
    }
    passage_sec = {
        str(p): str(s)
        for u, p, s in zip(sections["unit"], sections["passage_id"], sections["section"])
        if u == "passage"
    }

    def section(iid: str, ti: int, uid: str) -> str:
        if unit == "passage" and uid in passage_sec:
            return passage_sec[uid]
        return turn_sec.get((str(iid), int(ti)), "")

    return section


def _human_rows(located: LocateResult, turns: pd.DataFrame, section) -> list[dict]:
    starts = turn_starts(turns)
    sp = located.spans
    first = sp.groupby("excerpt").first()
    last = sp.groupby("excerpt").last()
    rows = []
    for r in located.table[located.table["located"]].itertuples():
        n = int(r.excerpt)
        f, la = first.loc[n], last.loc[n]
        iid = str(r.interview_id)
        start = starts.get((iid, int(f["turn_index"])), 0) + int(f["start"])
        end = starts.get((iid, int(la["turn_index"])), 0) + int(la["end"])
        for code in r.codes:
            rows.append(
                {
                    "interview_id": iid,
                    "source": "human",
                    "unit": "excerpt",
                    "unit_id": f"excerpt:{n}",
                    "turn_index": int(r.first_turn),
                    "last_turn": int(r.last_turn),
                    "start": start,
                    "end": end,
                    "code": code,
                    "confidence": 1.0,
                    "few_shot": False,
                    "evidence": "[]",
                    "excerpt": n,
                    "section": section(iid, int(r.first_turn), ""),
                    "text": str(r.text),
                }
            )
    return rows


def autocode(
    codebook: Codebook,
    excerpts: Sequence[CodedExcerpt],
    turns: pd.DataFrame,
    passages: pd.DataFrame,
    vectors: np.ndarray,
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    sections: pd.DataFrame | None = None,
    settings: CodingSettings | None = None,
) -> CodingRun:
    """Locate the researcher's coding, learn it, and code the interviews they did not code.

    Args:
        codebook: the codes (a code used by an excerpt but missing here is added).
        excerpts: the researcher's coded excerpts (may be empty: codebook-only coding is
            then few-shot from the codes' names, descriptions and examples).
        turns, passages: turns.parquet and passages.parquet.
        vectors: the passages' embeddings, row i for passages row i.
        embed: texts -> vectors with the same model, for few-shot codes (None: codes
            without examples are not coded).
        sections: segments.parquet, for each coded unit's section (None: no sections).
        settings: see :class:`CodingSettings`.
    """
    settings = settings or CodingSettings()
    codebook = codebook.with_codes(c for e in excerpts for c in e.codes)
    located = locate(excerpts, turns, passages, min_score=settings.min_score)
    notes: list[str] = []
    choice = choose_unit(located, turns, passages)
    if settings.unit in ("passage", "turn") and settings.unit != choice.unit:
        choice = UnitChoice(settings.unit, f"{settings.unit}s, as coding.unit says", choice.stats)
    roles, roles_reason = coded_roles(located, turns, settings.roles)
    units, unit_vectors = _units(choice.unit, roles, turns, passages, vectors)
    if "in_main_language" in units.columns:
        # As the themes do: an English model learnt from English coding says little about
        # another language's passages.
        main = units["in_main_language"].fillna(True).astype(bool).to_numpy()
        if not main.all():
            left = units.loc[~main, "interview_id"].nunique()
            notes.append(
                f"{int((~main).sum())} {choice.unit}s of {left} conversation(s) in another "
                "language than the corpus's were not coded."
            )
            units, unit_vectors = units[main].reset_index(drop=True), unit_vectors[main]
    section = _section_of(sections, choice.unit)

    # Codes learnt: every leaf, and every parent the researcher applied itself; a parent
    # only reached through its children is counted through them.
    parents = {c.parent for c in codebook if c.parent}
    used = {c for e in excerpts for c in e.codes}
    codes = [c.path for c in codebook if c.path not in parents or c.path in used]
    labels = unit_labels(located, units, codes, choice.unit, turns=turns)
    coded = sorted({str(i) for i in located.table.loc[located.table["located"], "interview_id"]})
    everyone = [str(i) for i in pd.unique(turns["interview_id"])]
    others = [i for i in everyone if i not in set(coded)]
    in_train = units["interview_id"].isin(coded).to_numpy()
    if not excerpts:
        # Nothing coded: the codes are known only from their words; every unit is coded
        # few-shot against the corpus as a whole.
        in_train = np.ones(len(units), dtype=bool)
        others = everyone
        notes.append(
            "No coded excerpts were given: codes were applied from their names, "
            "descriptions and examples only (few-shot), which is much less reliable than "
            "learning from coding."
        )
    code_vectors = None
    if embed is not None and len(codes):
        by_path = {c.path: c for c in codebook}
        code_vectors = np.asarray(embed([code_text(by_path[c]) for c in codes]), dtype=np.float32)

    context = context_features(units, turns, turn_vectors(turns, passages, np.asarray(vectors)))
    train = np.where(in_train)[0]
    test = np.where(~in_train if excerpts else in_train)[0]
    rows = _human_rows(located, turns, section)
    coder = None
    suggestions = pd.DataFrame()
    if len(train) and len(codes):
        coder = Coder(codes, settings.coder).fit(
            unit_vectors[train],
            labels[train],
            units["interview_id"].to_numpy()[train],
            texts=units["text"].to_numpy()[train].tolist(),
            context=context.take(train),
            code_vectors=code_vectors,
        )
        if len(test):
            coded_units = code_units(
                coder,
                units["unit_id"].to_numpy()[test],
                unit_vectors[test],
                texts=units["text"].to_numpy()[test].tolist(),
                context=context.take(test),
                train_ids=units["unit_id"].to_numpy()[train].tolist(),
            )
            by_id = units.set_index("unit_id")
            for r in coded_units.itertuples():
                u = by_id.loc[r.unit_id]
                rows.append(
                    {
                        "interview_id": str(u["interview_id"]),
                        "source": "machine",
                        "unit": choice.unit,
                        "unit_id": str(r.unit_id),
                        "turn_index": int(u["turn_index"]),
                        "last_turn": int(u["turn_index"]),
                        "start": u["start"],
                        "end": u["end"],
                        "code": r.code,
                        "confidence": float(r.confidence),
                        "few_shot": bool(r.few_shot),
                        "evidence": json.dumps(list(r.evidence)),
                        "excerpt": pd.NA,
                        "section": section(str(u["interview_id"]), int(u["turn_index"]), r.unit_id),
                        "text": str(u["text"]),
                    }
                )
        # A unit too short to code on its own ("I don't know.") is no use to suggest.
        long_enough = [len(str(t).split()) >= SUGGEST_MIN_WORDS for t in units["text"].to_numpy()]
        ask = test[np.asarray(long_enough, dtype=bool)[test]]
        if settings.suggest > 0 and len(ask):
            suggestions = suggest(
                coder,
                units["unit_id"].to_numpy()[ask],
                unit_vectors[ask],
                units["interview_id"].to_numpy()[ask],
                settings.suggest,
                texts=units["text"].to_numpy()[ask].tolist(),
                context=context.take(ask),
            )
            text_of = dict(zip(units["unit_id"], units["text"]))
            suggestions["text"] = suggestions["unit_id"].map(text_of)
    if not len(test):
        notes.append(
            "Every interview has the researcher's coding: nothing was left to code, so the "
            "codes part shows their coding only."
        )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table = table.astype(
        {
            "turn_index": "Int64",
            "last_turn": "Int64",
            "start": "Int64",
            "end": "Int64",
            "excerpt": "Int64",
            "confidence": "Float64",
            "few_shot": "boolean",
        }
    )
    per_code = _code_table(codebook, codes, labels[train], coder, table)
    n_bad = int((~located.table["located"]).sum())
    if n_bad:
        notes.append(
            f"{n_bad} of {len(located.table)} coded excerpts could not be found in the "
            "transcripts (coding/coding.json lists them with the reason)."
        )
    return CodingRun(
        codebook,
        located,
        choice,
        tuple(roles),
        roles_reason,
        table,
        per_code,
        suggestions,
        coded,
        others,
        notes,
    )


def _code_table(
    codebook: Codebook,
    codes: Sequence[str],
    labels: np.ndarray,
    coder: Coder | None,
    table: pd.DataFrame,
) -> pd.DataFrame:
    rows = []
    learnt = {c: j for j, c in enumerate(codes)}
    for code in codebook:
        j = learnt.get(code.path)
        mine = table[table["code"] == code.path]
        human, machine = mine[mine["source"] == "human"], mine[mine["source"] == "machine"]
        rows.append(
            {
                "code": code.path,
                "name": code.name,
                "parent": code.parent or "",
                "description": code.description,
                "learnt": j is not None and coder is not None,
                "examples": int(labels[:, j].sum()) if j is not None and len(labels) else 0,
                "few_shot": bool(coder.few_shot[j]) if j is not None and coder else False,
                "threshold": float(coder.thresholds[j]) if j is not None and coder else np.nan,
                "expected_f1": float(coder.oof_f1[j]) if j is not None and coder else np.nan,
                "human_excerpts": int(human["unit_id"].nunique()),
                "human_interviews": int(human["interview_id"].nunique()),
                "machine_units": int(machine["unit_id"].nunique()),
                "machine_interviews": int(machine["interview_id"].nunique()),
                "interviews": int(mine["interview_id"].nunique()),
            }
        )
    return pd.DataFrame(rows)


__all__ = ["CodingRun", "CodingSettings", "TABLE_COLUMNS", "autocode", "coded_roles"]
