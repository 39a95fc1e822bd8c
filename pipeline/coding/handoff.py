"""Hand the corpus and its coding to the researcher's QDA tool.

:func:`export_project` gathers what an output folder holds (every conversation as a text
source, the researcher's coding and the learnt coding from coding/coding.parquet, the themes
as codes of their own) and writes it with :mod:`.exporters`: a REFI-QDA project (``.qdpx``),
its codebook alone (``.qdc``) and a CSV of coded segments. Offsets count in
:func:`~.locate.interview_text`, the text each source is given, so every selection slices
exactly the words coded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.catalog import ArtifactError, load
from .exporters import Selection, write_coded_csv, write_qdc, write_qdpx
from .locate import interview_text, passage_spans, turn_starts
from .model import SEP, Code, Codebook, CodedExcerpt

THEMES_PARENT = "Themes (machine)"
"""The parent code of the themes in an export: themes become codes below it, grouped in a
code set of the same name."""


@dataclass
class Project:
    """Everything an export writes: sources, codebook, selections and the themes' code set."""

    name: str
    sources: dict[str, str]
    codebook: Codebook
    selections: list[Selection]
    themes: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _coding_selections(coding: pd.DataFrame) -> list[Selection]:
    """One selection per coded stretch: its codes together (a human excerpt keeps all its
    codes on one selection, as the researcher made it)."""
    out = []
    rows = coding.dropna(subset=["start", "end"])
    keys = ["interview_id", "source", "unit_id", "start", "end"]
    for (iid, source, _, start, end), group in rows.groupby(keys, sort=False):
        if int(end) <= int(start):
            continue
        machine = source == "machine"
        confidence = float(group["confidence"].min()) if machine else None
        note = None
        if machine:
            per = "; ".join(f"{c} {p:.2f}" for c, p in zip(group["code"], group["confidence"]))
            note = f"learnt from your coding: {per}"
        out.append(
            Selection(
                str(iid),
                int(start),
                int(end),
                tuple(dict.fromkeys(group["code"].astype(str))),
                source="machine" if machine else "human",
                confidence=confidence,
                note=note,
            )
        )
    return out


def _theme_selections(out_dir: Path, turns: pd.DataFrame) -> tuple[list[Selection], list[str]]:
    """Every themed passage as a machine selection of its theme's code."""
    try:
        themes = load("themes", out_dir)
        assignments = load("assignments", out_dir)
        passages = load("passages", out_dir)
    except ArtifactError:
        return [], []
    labels = {}
    used: dict[str, int] = {}
    for t, label in zip(themes["theme_id"], themes["label"]):
        name = " ".join(str(label).replace(">", "-").split()) or f"theme {t}"
        used[name] = used.get(name, 0) + 1
        labels[int(t)] = name if used[name] == 1 else f"{name} ({int(t)})"
    themed = assignments[assignments["theme_id"].fillna(-1).astype(int) >= 0]
    spans = passage_spans(passages[passages["passage_id"].isin(themed["passage_id"])], turns)
    spans = spans.dropna(subset=["start", "end"]).set_index("passage_id")
    starts = turn_starts(turns)
    out = []
    for pid, theme, prob in zip(themed["passage_id"], themed["theme_id"], themed["probability"]):
        if pid not in spans.index or int(theme) not in labels:
            continue
        s = spans.loc[pid]
        base = starts.get((str(s["interview_id"]), int(s["turn_index"])), 0)
        conf = None if pd.isna(prob) else max(0.0, min(1.0, float(prob)))
        out.append(
            Selection(
                str(s["interview_id"]),
                base + int(s["start"]),
                base + int(s["end"]),
                (f"{THEMES_PARENT}{SEP}{labels[int(theme)]}",),
                source="machine",
                confidence=conf,
                note=f"theme {int(theme)} of the themes stage",
            )
        )
    return out, [f"{THEMES_PARENT}{SEP}{labels[t]}" for t in sorted(labels)]


def build_project(out_dir: Path, name: str | None = None, themes: bool = True) -> Project:
    """The :class:`Project` of an output folder: its conversations, coding and themes.

    Raises:
        ArtifactError: no turns (run ingest), or no coding and no themes to export.
    """
    out_dir = Path(out_dir)
    turns = load("turns", out_dir)
    sources = interview_text(turns)
    selections: list[Selection] = []
    codebook = Codebook()
    try:
        coding = load("coding", out_dir)
        codes = load("codes", out_dir)
    except ArtifactError:
        coding, codes = None, None
    if coding is not None and len(codes):
        # codes.parquet lists the codebook in its order, parents before children.
        codebook = Codebook(
            tuple(
                Code(
                    str(c.name),
                    str(c.description or ""),
                    str(c.parent) if isinstance(c.parent, str) and c.parent else None,
                )
                for c in codes.itertuples()
            )
        )
        selections += _coding_selections(coding)
    theme_codes: list[str] = []
    if themes:
        extra, theme_codes = _theme_selections(out_dir, turns)
        selections += extra
        codebook = codebook.with_codes(theme_codes)
    if not selections and not len(codebook):
        raise ArtifactError(
            f"nothing to export from {out_dir}: run `insights code` (with --coding) or "
            "`insights themes` first"
        )
    human = sum(s.source == "human" for s in selections)
    return Project(
        name=name or out_dir.resolve().name,
        sources=sources,
        codebook=codebook,
        selections=selections,
        themes={THEMES_PARENT: theme_codes} if theme_codes else {},
        counts={
            "sources": len(sources),
            "codes": len(codebook),
            "selections": len(selections),
            "human": human,
            "machine": len(selections) - human,
            "themes": len(theme_codes),
        },
    )


def export_project(
    project: Project,
    *,
    qdpx: Path | None = None,
    qdc: Path | None = None,
    csv: Path | None = None,
    creation_time: str | None = None,
) -> list[Path]:
    """Write the project as ``.qdpx``, its codebook as ``.qdc`` and its coding as CSV."""
    written = []
    if qdpx is not None:
        written.append(
            write_qdpx(
                qdpx,
                project.name,
                project.codebook,
                project.sources,
                project.selections,
                project.themes,
                creation_time=creation_time,
            )
        )
    if qdc is not None:
        written.append(write_qdc(qdc, project.codebook, project.themes))
    if csv is not None:
        excerpts = [
            CodedExcerpt(
                s.source_name,
                tuple(s.codes),
                project.sources[s.source_name][s.start : s.end],
                source=s.source,
                confidence=s.confidence,
                start=s.start,
                end=s.end,
                note=s.note,
            )
            for s in project.selections
        ]
        written.append(write_coded_csv(csv, excerpts))
    return [Path(p) for p in written]
