"""The pipeline's outputs as one object, for notebooks and ad-hoc analysis.

Notebooks should show results, not re-derive them: every join, filter and table a
notebook needs lives here, so two notebooks (or a notebook and the report) cannot
disagree about what "the passages of theme 3" means, and the logic is unit-tested.

    from pipeline import results
    r = results.load_results("data/processed")
    r.theme_table()
    r.search(keyword="upwork")
    r.in_context("call-01-maria#4.0")

Every table is read through :func:`pipeline.artifacts.read_table`, so it is
validated against the catalog's schema. The ingest outputs are required; the later
stages' outputs (passages, segments, themes) may be missing or stale, because a
notebook is often opened half-way through a run. They are then held back, and
asking for one raises :class:`~pipeline.artifacts.ArtifactError` with the command
that makes it, instead of an AttributeError on ``None`` three cells later.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .core.catalog import (
    ASSIGNMENTS,
    CATALOG,
    HIERARCHY,
    INTERVIEWS,
    MANIFEST,
    PASSAGES,
    SEGMENTS,
    THEME_INTERVIEWS,
    THEME_SECTIONS,
    THEMES,
    TURNS,
    Artifact,
    ArtifactError,
    location,
    read_json,
    read_table,
)
from .embed import check_made_from, fingerprint_of

__all__ = ["Results", "load_results", "ArtifactError"]

OUTLIER = -1  # pipeline.themes.OUTLIER; not imported so loading results does not import BERTopic
THEME_TABLES = (THEMES, ASSIGNMENTS, THEME_SECTIONS, THEME_INTERVIEWS, HIERARCHY)


@dataclass
class Results:
    """The artifact tables of one output folder, plus the joins notebooks need.

    ``turns``, ``interviews`` and ``manifest`` are always present. ``passages``,
    ``segments``, ``themes``, ``assignments``, ``theme_sections``,
    ``theme_interviews`` and ``hierarchy`` are properties: they raise
    :class:`ArtifactError` naming the command to run when that stage's output is
    missing or stale (see :attr:`available`).
    """

    out_dir: Path
    turns: pd.DataFrame
    interviews: pd.DataFrame
    manifest: dict
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _errors: dict[str, ArtifactError] = field(default_factory=dict, repr=False)
    _model: Any = field(default=None, repr=False)
    _embeddings: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ tables

    def _table(self, name: str) -> pd.DataFrame:
        if name in self._tables:
            return self._tables[name]
        raise self._errors.get(name) or ArtifactError(f"no table {name!r} in {self.out_dir}")

    @property
    def passages(self) -> pd.DataFrame:
        return self._table(PASSAGES.name)

    @property
    def segments(self) -> pd.DataFrame:
        return self._table(SEGMENTS.name)

    @property
    def themes(self) -> pd.DataFrame:
        return self._table(THEMES.name)

    @property
    def assignments(self) -> pd.DataFrame:
        return self._table(ASSIGNMENTS.name)

    @property
    def theme_sections(self) -> pd.DataFrame:
        return self._table(THEME_SECTIONS.name)

    @property
    def theme_interviews(self) -> pd.DataFrame:
        return self._table(THEME_INTERVIEWS.name)

    @property
    def hierarchy(self) -> pd.DataFrame:
        return self._table(HIERARCHY.name)

    @property
    def available(self) -> dict[str, str]:
        """Each optional table: ``"ok"``, or why it is unavailable (with the command to run)."""
        names = [PASSAGES.name, SEGMENTS.name] + [s.name for s in THEME_TABLES]
        return {
            n: "ok" if n in self._tables else str(self._errors.get(n, "not loaded")) for n in names
        }

    def __repr__(self) -> str:
        ok = [n for n, s in self.available.items() if s == "ok"]
        return (
            f"Results({str(self.out_dir)!r}: {len(self.interviews)} interviews, {len(self.turns)} "
            "turns; "
            f"tables: {', '.join(ok) or 'ingest only'})"
        )

    # ------------------------------------------------------------ heavy objects

    def model(self):
        """The fitted BERTopic model, loaded on first use.

        Loading takes seconds (BERTopic and the embedding model), and most cells only
        need the tables, so it is not done by :func:`load_results`.
        """
        if self._model is None:
            self.themes  # noqa: B018 - stale or missing themes: fail with the table's message first
            from .themes.model import load_model

            self._model = load_model(self.out_dir)
        return self._model

    def embeddings(self) -> np.ndarray:
        """Passage vectors, row ``i`` belonging to ``passages.iloc[i]``; loaded on first use."""
        if self._embeddings is None:
            self.passages  # noqa: B018
            from .embed import load_embeddings

            self._embeddings, _ = load_embeddings(self.out_dir)
        return self._embeddings

    # ------------------------------------------------------------------ themes

    def theme_labels(self) -> dict[int, str]:
        """theme_id -> label, made unique (``"label (#id)"``) where two themes share one.

        Labels are used as row and column names in pivots; duplicates would merge two
        themes' counts without a word.
        """
        themes = self.themes
        counts = themes["label"].value_counts()
        return {
            int(t): (f"{lab} (#{int(t)})" if counts[lab] > 1 else str(lab))
            for t, lab in zip(themes["theme_id"], themes["label"])
        }

    def sections(self) -> list[str]:
        """Section names in the interview guide's order (past, present, future by default).

        Tables are easier to read in the order the interviews follow; the order is
        taken from segments.json, then from whatever sections the assignments use.
        """
        order: list[str] = []
        info_path = location("segments_info", self.out_dir)
        if info_path.is_file():
            try:
                order = [
                    str(s)
                    for s in json.loads(info_path.read_text(encoding="utf-8")).get("sections", [])
                ]
            except (json.JSONDecodeError, AttributeError):
                order = []
        seen: list[str] = []
        for name in ("assignments", "segments"):
            if name in self._tables:
                seen += [str(s) for s in self._tables[name]["section"].dropna().unique()]
        return order + sorted(set(seen) - set(order))

    def theme_table(self, include_outliers: bool = False) -> pd.DataFrame:
        """One row per theme, largest first: label, size, interviews, keywords, top section.

        The first table to look at: how big each theme is, how many conversations it
        spans (a theme from one talkative interviewee is weaker evidence than one from
        six), and which part of the interview it comes up in.
        """
        themes = self.themes.copy()
        if not include_outliers:
            themes = themes[themes["theme_id"] != OUTLIER]
        labels = self.theme_labels()
        sections = self.theme_sections
        top = (
            sections.sort_values(
                ["theme_id", "n_passages", "section"], ascending=[True, False, True]
            )
            .drop_duplicates("theme_id")
            .set_index("theme_id")
        )
        size = themes.set_index("theme_id")["size"]
        out = pd.DataFrame(
            {
                "theme_id": themes["theme_id"].to_numpy(),
                "label": themes["theme_id"].map(labels).astype("string").to_numpy(),
                "size": themes["size"].to_numpy(),
                "n_interviews": themes["n_interviews"].to_numpy(),
                "share_of_interviews": themes["share_of_interviews"].to_numpy(),
                "keywords": themes["keywords"]
                .map(lambda k: ", ".join(k.split("; ")[:8]) if isinstance(k, str) else "")
                .astype("string")
                .to_numpy(),
            }
        )
        out["top_section"] = out["theme_id"].map(top["section"]).astype("string")
        share = out["theme_id"].map(top["n_passages"]).astype("Float64") / out["theme_id"].map(
            size
        ).astype("Float64")
        out["top_section_share"] = share.round(3)
        return out.sort_values(["size", "theme_id"], ascending=[False, True]).reset_index(drop=True)

    def passages_with_themes(self, themed_only: bool = False) -> pd.DataFrame:
        """Every passage with its theme (id, label, membership) and section.

        Left join: questions, small talk and other-language passages are not themed
        but are still quotable and searchable, so they are kept with an empty theme
        (``themed_only=True`` drops them). The section comes from the theme
        assignment, else from segments.parquet, so unthemed passages have one too.
        """
        passages = self.passages
        assignments = self.assignments[["passage_id", "theme_id", "probability", "section"]]
        out = passages.merge(assignments, on="passage_id", how="left", validate="one_to_one")
        out["theme"] = out["theme_id"].map(self.theme_labels()).astype("string")
        if SEGMENTS.name in self._tables:
            by_passage = (
                self.segments.dropna(subset=["passage_id"])
                .drop_duplicates("passage_id")
                .set_index("passage_id")["section"]
            )
            out["section"] = out["section"].fillna(out["passage_id"].map(by_passage))
        out["section"] = out["section"].astype("string")
        if themed_only:
            out = out[out["theme_id"].notna()]
        return out.reset_index(drop=True)

    # ------------------------------------------------------------------ search

    def _theme_ids(self, theme: int | str | list) -> list[int]:
        """Resolve a theme id, exact label, or part of a label to theme ids.

        A notebook user types what they see ("upwork" for "upwork profile ·
        proposals"); a typo raises with the labels listed rather than returning
        nothing, which would read as "no such quotes".
        """
        if isinstance(theme, (list, tuple, set)):
            return sorted({t for item in theme for t in self._theme_ids(item)})
        labels = self.theme_labels()
        if isinstance(theme, (int, np.integer)) and not isinstance(theme, bool):
            if int(theme) not in labels:
                raise KeyError(f"no theme {int(theme)}; theme ids: {sorted(labels)}")
            return [int(theme)]
        wanted = str(theme).strip().casefold()
        exact = [t for t, lab in labels.items() if lab.casefold() == wanted]
        if exact:
            return exact
        partial = [t for t, lab in labels.items() if wanted in lab.casefold()]
        if not partial:
            raise KeyError(f"no theme matches {theme!r}; themes: {'; '.join(labels.values())}")
        return partial

    def search(
        self,
        keyword: str | None = None,
        theme: int | str | list | None = None,
        section: str | None = None,
        interview: str | None = None,
        include_questions: bool = False,
    ) -> pd.DataFrame:
        """Passages matching every filter given, with where each quote comes from.

        - ``keyword``: case-insensitive substring of the original wording (``text``),
          so what is found is exactly what can be quoted;
        - ``theme``: a theme id, its label, or part of a label (or a list of these);
        - ``section``: a guide section, e.g. ``"future"``;
        - ``interview``: an interview id (the file stem).

        Interviewer questions are left out unless ``include_questions``: they are not
        evidence of what interviewees said. With a theme filter the rows come most
        representative first; otherwise in reading order.
        """
        df = self.passages_with_themes()
        mask = pd.Series(True, index=df.index)
        if not include_questions:
            mask &= df["role"] != "interviewer"
        if keyword:
            mask &= df["text"].str.contains(
                re.escape(str(keyword)), case=False, regex=True, na=False
            )
        if theme is not None:
            mask &= df["theme_id"].isin(self._theme_ids(theme))
        if section:
            mask &= df["section"].str.casefold() == str(section).strip().casefold()
        if interview:
            mask &= df["interview_id"] == str(interview)
        hits = df[mask.fillna(False).astype(bool)]
        if theme is not None:
            hits = hits.sort_values(["probability", "passage_id"], ascending=[False, True])
        else:
            hits = hits.sort_values(["interview_id", "turn_index", "passage_index"])
        columns = [
            "passage_id",
            "interview_id",
            "source_file",
            "source_line",
            "source_page",
            "speaker",
            "role",
            "text",
            "theme_id",
            "theme",
            "section",
            "probability",
        ]
        return hits[columns].reset_index(drop=True)

    def in_context(self, passage_id: str, window: int = 2) -> pd.DataFrame:
        """The turns around a passage in its conversation: who said what, in order.

        A 1-3 sentence passage can read very differently once the question it
        answers and the next turn are visible. ``window`` turns either side;
        ``is_passage`` marks the turn the passage comes from.
        """
        passages = self.passages
        row = passages[passages["passage_id"] == passage_id]
        if row.empty:
            raise KeyError(f"no passage {passage_id!r} in {self.out_dir / PASSAGES.filename}")
        interview_id = row["interview_id"].iloc[0]
        turn_index = int(row["turn_index"].iloc[0])
        turns = self.turns[self.turns["interview_id"] == interview_id]
        lo, hi = turn_index - int(window), turn_index + int(window)
        near = turns[(turns["turn_index"] >= lo) & (turns["turn_index"] <= hi)].sort_values(
            "turn_index"
        )
        out = near[
            ["interview_id", "turn_index", "speaker", "role", "text", "source_file", "source_line"]
        ].copy()
        out["is_passage"] = out["turn_index"] == turn_index
        if SEGMENTS.name in self._tables:
            seg = self.segments
            seg = seg[(seg["unit"] == "turn") & (seg["interview_id"] == interview_id)]
            out["section"] = (
                out["turn_index"].map(seg.set_index("turn_index")["section"]).astype("string")
            )
        return out.reset_index(drop=True)

    # ---------------------------------------------------------------- matrices

    def theme_section_matrix(self, include_outliers: bool = False) -> pd.DataFrame:
        """Passages per theme (rows, by label) and section (columns, guide order).

        Shows whether a theme belongs to the past, the present or the future of the
        interviewee's story; counts rather than shares so small themes are not
        overstated.
        """
        ts = self.theme_sections
        if not include_outliers:
            ts = ts[ts["theme_id"] != OUTLIER]
        m = ts.pivot_table(
            index="theme_id", columns="section", values="n_passages", aggfunc="sum", fill_value=0
        )
        order = [s for s in self.sections() if s in m.columns] + [
            s for s in m.columns if s not in self.sections()
        ]
        m = m.reindex(columns=order).fillna(0).astype(int)
        m.index = [self.theme_labels()[int(t)] for t in m.index]
        m.index.name = "theme"
        m.columns.name = "section"
        return m

    def passage_map(self, method: str = "umap", seed: int = 42) -> pd.DataFrame:
        """2-D coordinates of every themed passage, for a scatter coloured by theme.

        UMAP with cosine distance keeps the neighbourhoods the themes were found in;
        PCA (``method="pca"``) is instant and deterministic but crowds the themes
        together. UMAP falls back to PCA for tiny corpora, where it is unreliable.
        """
        passages = self.passages_with_themes()
        vectors = self.embeddings()
        if len(vectors) != len(passages):
            raise ArtifactError(
                f"{self.out_dir}: embeddings do not match passages: run `insights embed` again"
            )
        themed = passages["theme_id"].notna().to_numpy()
        frame = passages.loc[
            themed, ["passage_id", "interview_id", "theme_id", "theme", "section", "text"]
        ]
        x = np.asarray(vectors[themed], dtype=np.float32)
        if method == "umap" and len(x) >= 20:
            from .themes.compiled import umap_class

            UMAP = umap_class()

            coords = UMAP(
                n_components=2,
                n_neighbors=min(15, len(x) - 1),
                min_dist=0.1,
                metric="cosine",
                random_state=seed,
                n_jobs=1,
            ).fit_transform(x)
        elif method in ("umap", "pca"):
            from sklearn.decomposition import PCA

            coords = PCA(n_components=2, random_state=seed).fit_transform(x)
        else:
            raise ValueError(f"method must be 'umap' or 'pca', not {method!r}")
        frame = frame.reset_index(drop=True)
        frame["x"], frame["y"] = coords[:, 0], coords[:, 1]
        return frame

    # ---------------------------------------------------------------- metadata

    def metadata_fields(self) -> pd.DataFrame:
        """Fields interviews can be grouped by: ``folder`` plus every metadata column.

        Cohort comparison needs a field with a few values shared by several
        interviews; the counts here show which fields qualify (a field with a
        distinct value per interview, like a name, does not).
        """
        fixed = set(INTERVIEWS.columns) - {"folder"}
        names = ["folder"] + [
            c for c in self.interviews.columns if c not in fixed and c != "folder"
        ]
        rows = []
        for name in names:
            col = self.interviews[name]
            values = col.dropna().astype(str)
            counts = values.value_counts()
            rows.append(
                {
                    "field": name,
                    "n_values": int(counts.size),
                    "n_missing": int(col.isna().sum()),
                    "largest_group": int(counts.iloc[0]) if counts.size else 0,
                    "values": ", ".join(counts.index[:5]) + (", ..." if counts.size > 5 else ""),
                }
            )
        return pd.DataFrame(rows)


def _read_optional(
    specs: tuple[Artifact, ...], out_dir: Path, tables: dict, errors: dict, fresh_check=None
) -> None:
    """Read a stage's tables together; on any failure hold all of them back.

    A stage's tables are only meaningful together (assignments without their
    themes would have no labels), so one missing file makes the whole stage
    unavailable, with that file's message.
    """
    try:
        loaded = {spec.name: read_table(spec, out_dir) for spec in specs}
        if fresh_check is not None:
            fresh_check()
    except ArtifactError as exc:
        for spec in specs:
            errors[spec.name] = exc
        return
    tables.update(loaded)


def load_results(path: str | Path = "data/processed") -> Results:
    """Read and validate every artifact in ``path``.

    Ingest outputs (turns, interviews, manifest) must exist: without them there is
    nothing to look at, so their absence raises :class:`ArtifactError` at once.
    Later stages are optional and checked to belong to the current passages; a
    missing or stale one raises when first used, naming the command to run.
    """
    out_dir = Path(path).expanduser()
    if not out_dir.is_dir():
        raise ArtifactError(
            f"{out_dir} is not a folder: run `insights ingest RAW_DIR --out {out_dir}` first"
        )
    turns = read_table(TURNS, out_dir)
    interviews = read_table(INTERVIEWS, out_dir)
    manifest = read_json(out_dir / MANIFEST, TURNS.made_by)
    tables: dict[str, pd.DataFrame] = {}
    errors: dict[str, ArtifactError] = {}
    _read_optional((PASSAGES,), out_dir, tables, errors)
    if PASSAGES.name in tables:
        fingerprint = fingerprint_of(tables[PASSAGES.name])
        _read_optional(
            (SEGMENTS,),
            out_dir,
            tables,
            errors,
            lambda: check_made_from(
                out_dir, CATALOG["segments_info"].path, SEGMENTS.made_by, fingerprint
            ),
        )
        _read_optional(
            THEME_TABLES,
            out_dir,
            tables,
            errors,
            lambda: check_made_from(
                out_dir, CATALOG["themes_info"].path, THEMES.made_by, fingerprint
            ),
        )
    else:
        for spec in (SEGMENTS, *THEME_TABLES):
            errors[spec.name] = ArtifactError(
                f"{spec.location(out_dir)} needs passages, and {errors[PASSAGES.name]}"
            )
    return Results(
        out_dir=out_dir,
        turns=turns,
        interviews=interviews,
        manifest=manifest,
        _tables=tables,
        _errors=errors,
    )
