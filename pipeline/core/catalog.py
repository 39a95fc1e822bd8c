"""The data catalog: every artifact a run writes, with its path, format and schema.

Stages never spell a file name or a column list; they ask this module, by name
(``load("passages", out)``, ``save("themes", table, out)``), as Kedro's data catalog
serves its nodes. Tables are validated when read, so a stage fails with one clear
line (what is missing and which command makes it) instead of a KeyError deep inside
pandas. Every write goes through :mod:`pipeline.core.atomic` (temporary file, then
rename), so an interrupted run never leaves half a file behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_path, replace_folder


class ArtifactError(RuntimeError):
    """An artifact is missing or does not match its schema."""


FORMATS = ("parquet", "json", "npy", "folder", "text", "bytes")


@dataclass(frozen=True)
class Artifact:
    """One named output of a stage: where it lives below OUT, its format and (tables) its columns.

    ``path`` may hold ``{field}`` placeholders for artifacts written once per value of a
    parameter (the cohort comparison, one per metadata field).
    """

    name: str
    path: str  # relative to OUT
    format: str  # one of FORMATS
    stage: str  # the stage that writes it
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # tables: column -> pandas dtype
    extra_columns: bool = False  # tables: other columns (e.g. metadata fields) may follow

    @property
    def filename(self) -> str:
        return self.path

    @property
    def made_by(self) -> str:
        """The command that (re)makes this artifact, for messages."""
        from .registry import STAGES

        return STAGES[self.stage].command

    def location(self, out_dir: Path, **params: str) -> Path:
        """Where the artifact lives in ``out_dir`` (placeholders filled from ``params``)."""
        return Path(out_dir) / self.path.format(**{k: safe_name(v) for k, v in params.items()})


def safe_name(value: str) -> str:
    """A parameter value as it may appear in a file name (letters, digits, -_. kept)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(value)) or "field"


# ------------------------------------------------------------------ tables

# One row per conversation turn. `text` is the original wording (for quotes),
# `clean_text` has filler removed (for analysis).
TURNS = Artifact(
    format="parquet",
    name="turns",
    path="turns.parquet",
    columns={
        "interview_id": "string",
        "turn_index": "Int64",
        "speaker": "string",
        "role": "string",  # interviewer | interviewee | note
        "text": "string",
        "clean_text": "string",
        "is_backchannel": "boolean",
        "start": "Float64",  # seconds from the start of the recording, when known
        "end": "Float64",
        "heading": "string",  # the heading in force in typed notes ("## Past")
        "source_file": "string",  # path relative to the raw folder
        "source_line": "Int64",  # 1-based line (paragraph for .docx, row for .csv)
        "source_page": "Int64",  # PDF page, 1-based
        "language": "string",
        "in_main_language": "boolean",
        "codes": "string",  # ;-separated codes from the source (a CSV's tags), "" when none
    },
    stage="ingest",
)

# One row per conversation; metadata fields (front matter, metadata.csv, folder)
# follow the fixed columns under their own names.
INTERVIEWS = Artifact(
    format="parquet",
    name="interviews",
    path="interviews.parquet",
    columns={
        "interview_id": "string",
        "source_file": "string",
        "folder": "string",
        "format": "string",
        "language": "string",
        "language_confidence": "Float64",
        "in_main_language": "boolean",
        "n_turns": "Int64",
        "n_words": "Int64",
        "n_words_interviewee": "Int64",
        "speakers": "string",
        "interviewer": "string",
        "role_method": "string",
        "metadata_json": "string",
    },
    stage="ingest",
    extra_columns=True,
)

# Interviewee speech in windows of 1-3 sentences, and interviewer questions whole.
PASSAGES = Artifact(
    format="parquet",
    name="passages",
    path="passages.parquet",
    columns={
        "passage_id": "string",  # "<interview_id>#<turn_index>.<passage_index>"
        "interview_id": "string",
        "turn_index": "Int64",
        "passage_index": "Int64",
        "role": "string",
        "speaker": "string",
        "text": "string",  # original wording, for quotes
        "clean_text": "string",  # what is embedded
        "lemmas": "string",  # space-separated lemmas of alphabetic words (placeholders removed)
        "words": "string",  # the surface words those lemmas came from, aligned
        "n_words": "Int64",
        "past_verbs": "Int64",  # verbs in the past tense (spaCy's morphology; 0 for no English)
        "present_verbs": "Int64",
        "is_question": "boolean",
        "language": "string",
        "in_main_language": "boolean",
        "heading": "string",
        "source_file": "string",
        "source_line": "Int64",
        "source_page": "Int64",
        "start": "Float64",
    },
    stage="passages",
)

# Section of every turn and passage (past / present / future or the guide's sections).
SEGMENTS = Artifact(
    format="parquet",
    name="segments",
    path="segments.parquet",
    columns={
        "unit": "string",  # turn | passage
        "interview_id": "string",
        "turn_index": "Int64",
        "passage_id": "string",  # empty for unit == turn
        "role": "string",
        "section": "string",
        "confidence": "Float64",
        "evidence": "string",  # which evidence decided it, e.g. "question match 0.71; order"
    },
    stage="segment",
)

# Theme of every themed passage.
ASSIGNMENTS = Artifact(
    format="parquet",
    name="assignments",
    path="assignments.parquet",
    columns={
        "passage_id": "string",
        "interview_id": "string",
        "theme_id": "Int64",  # -1 = outlier
        "probability": "Float64",  # cosine similarity to the theme's centroid; 0 for outliers
        "section": "string",
    },
    stage="themes",
)

THEMES = Artifact(
    format="parquet",
    name="themes",
    path="themes.parquet",
    columns={
        "theme_id": "Int64",
        "label": "string",
        "keywords": "string",  # "; "-separated, best first
        "size": "Int64",  # passages
        "n_interviews": "Int64",
        "share_of_interviews": "Float64",
        "interviews": "string",  # "; "-separated interview ids
        "representative_passages": "string",  # "; "-separated passage ids
        "section_shares": "string",  # JSON {section: share of this theme's passages}
        "top_conversation_share": "Float64",  # share of its passages from its top conversation
        "single_conversation": "boolean",  # carried by one conversation (themes.json says so)
    },
    stage="themes",
)

THEME_SECTIONS = Artifact(
    format="parquet",
    name="theme_sections",
    path="theme_sections.parquet",
    columns={
        "theme_id": "Int64",
        "section": "string",
        "n_passages": "Int64",
        "share_of_section": "Float64",
        "n_interviews": "Int64",
        "keywords": "string",  # BERTopic topics_per_class words
    },
    stage="themes",
)

THEME_INTERVIEWS = Artifact(
    format="parquet",
    name="theme_interviews",
    path="theme_interviews.parquet",
    columns={"theme_id": "Int64", "interview_id": "string", "n_passages": "Int64"},
    stage="themes",
)

HIERARCHY = Artifact(
    format="parquet",
    name="hierarchy",
    path="hierarchy.parquet",
    columns={
        "parent_id": "string",
        "parent_name": "string",
        "child_left_id": "string",
        "child_left_name": "string",
        "child_right_id": "string",
        "child_right_name": "string",
        "distance": "Float64",
        "topics": "string",  # JSON list of theme ids under this parent
    },
    stage="themes",
)


# The researcher's coding and the coding learnt from it: one row per coded stretch and code.
CODING = Artifact(
    format="parquet",
    name="coding",
    path="coding/coding.parquet",
    columns={
        "interview_id": "string",
        "source": "string",  # human (the researcher's excerpt) | machine (learnt)
        "unit": "string",  # excerpt | passage | turn
        "unit_id": "string",  # excerpt:N, a passage_id, or INTERVIEW#TURN
        "turn_index": "Int64",
        "last_turn": "Int64",
        "start": "Int64",  # offsets in the interview text (turns joined by a blank line)
        "end": "Int64",
        "code": "string",  # the code's path, "Parent > Child"
        "confidence": "Float64",  # 1 for the researcher's coding
        "few_shot": "boolean",  # learnt from the code's words only (too few examples)
        "evidence": "string",  # JSON list of the nearest coded units with this code
        "excerpt": "Int64",  # the researcher's excerpt number (human rows)
        "section": "string",
        "text": "string",
    },
    stage="code",
)

# Every code of the codebook: how it was learnt and how much it was applied.
CODES = Artifact(
    format="parquet",
    name="codes",
    path="coding/codes.parquet",
    columns={
        "code": "string",
        "name": "string",
        "parent": "string",
        "description": "string",
        "learnt": "boolean",
        "examples": "Int64",
        "few_shot": "boolean",
        "threshold": "Float64",
        "expected_f1": "Float64",  # out-of-fold F1 on the coded interviews
        "human_excerpts": "Int64",
        "human_interviews": "Int64",
        "machine_units": "Int64",
        "machine_interviews": "Int64",
        "interviews": "Int64",
    },
    stage="code",
)


TABLES_LIST = (
    TURNS,
    INTERVIEWS,
    PASSAGES,
    SEGMENTS,
    ASSIGNMENTS,
    THEMES,
    THEME_SECTIONS,
    THEME_INTERVIEWS,
    HIERARCHY,
    CODING,
    CODES,
)


# -------------------------------------------------------------- other files


def _file(name: str, path: str, fmt: str, stage: str, description: str) -> Artifact:
    return Artifact(name=name, path=path, format=fmt, stage=stage, description=description)


FILES = (
    _file(
        "manifest",
        "manifest.json",
        "json",
        "ingest",
        "every file seen, its status, reason, hash and counts",
    ),
    _file(
        "effective_config",
        "config.json",
        "json",
        "ingest",
        "the effective configuration of the ingest run",
    ),
    _file(
        "embeddings", "embeddings.npy", "npy", "embed", "passage vectors, row i for passages row i"
    ),
    _file(
        "embeddings_info",
        "embeddings.json",
        "json",
        "embed",
        "model id, backend, counts, cache use",
    ),
    _file(
        "segments_info",
        "segments.json",
        "json",
        "segment",
        "the guide used, where it came from, turns per section and how well it fits",
    ),
    _file(
        "segment_guide",
        "guide.yaml",
        "text",
        "segment",
        "the guide the sections follow: yours, the built-in one, or one found in the data",
    ),
    _file(
        "themes_info", "themes.json", "json", "themes", "clustering chosen, its parameters, counts"
    ),
    _file(
        "themes_model",
        "themes_model",
        "folder",
        "themes",
        "the fitted BERTopic model (safetensors)",
    ),
    _file(
        "coding_info",
        "coding/coding.json",
        "json",
        "code",
        "where the coding came from, excerpts located (and why not), unit, roles, notes",
    ),
    _file(
        "coding_suggestions",
        "coding/suggestions.csv",
        "text",
        "code",
        "the passages whose coding would help most, for the researcher to code next",
    ),
    _file(
        "report_json",
        "report/report.json",
        "text",
        "report",
        "the data behind the report (schema: report.schema)",
    ),
    _file("report_md", "report/report.md", "text", "report", "the report as Markdown"),
    _file(
        "report_html",
        "report/report.html",
        "text",
        "report",
        "the report as one self-contained page",
    ),
    _file(
        "report_figure_sections",
        "report/themes_by_section.png",
        "bytes",
        "report",
        "main themes per section",
    ),
    _file("report_figure_numbers", "report/numbers.png", "bytes", "report", "numbers people gave"),
    _file(
        "compare_html", "compare/{field}.html", "text", "compare", "the cohort comparison, one page"
    ),
    _file(
        "compare_md", "compare/{field}.md", "text", "compare", "the cohort comparison as Markdown"
    ),
    _file(
        "compare_csv",
        "compare/{field}.csv",
        "text",
        "compare",
        "theme prevalence and tests per cohort",
    ),
    _file("compare_png", "compare/{field}.png", "bytes", "compare", "theme prevalence by cohort"),
)

# Bookkeeping below OUT that belongs to no stage's outputs.
LINEAGE_RECORD = (
    "lineage/{stage}.json"  # what each stage's last finished run wrote (pipeline.core.lineage)
)
RUN_LOG = "run.log"  # every run's messages (pipeline.core.runlog)
LOCK_FILE = ".insights.lock"  # one run per output folder (pipeline.core.outlock)
LOCK_HOLDER = ".insights.lock.json"
CACHE = "cache"  # vectors by text hash and distilled static models; survives `make clean`
EMBEDDING_CACHE = "cache/embeddings"
MODEL2VEC_CACHE = "cache/model2vec"

CATALOG: dict[str, Artifact] = {a.name: a for a in (*TABLES_LIST, *FILES)}
TABLES = {a.name: a for a in TABLES_LIST}
MANIFEST = CATALOG["manifest"].path
EFFECTIVE_CONFIG = CATALOG["effective_config"].path


def artifact(name: str) -> Artifact:
    """The catalog entry called ``name``."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(
            f"no artifact {name!r} in the catalog; known: {', '.join(sorted(CATALOG))}"
        ) from None


def location(name: str, out_dir: Path, **params: str) -> Path:
    """Where artifact ``name`` lives in ``out_dir``."""
    return artifact(name).location(out_dir, **params)


def cache_dir(out_dir: Path) -> Path:
    """The cache folder below ``out_dir`` (vectors by text hash, distilled models)."""
    return Path(out_dir) / CACHE


def output_folders() -> tuple[str, ...]:
    """The folders below OUT that stages write to (for sweeping a killed run's temporaries)."""
    paths = [a.path for a in CATALOG.values()] + [LINEAGE_RECORD, EMBEDDING_CACHE]
    return tuple(sorted({p.split("/")[0] for p in paths if "/" in p}))


def conform(df: pd.DataFrame, spec: Artifact) -> pd.DataFrame:
    """Return ``df`` with the spec's columns first, cast to the spec's dtypes."""
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise ArtifactError(f"{spec.path}: missing column(s) {', '.join(missing)}")
    ordered = list(spec.columns)
    if spec.extra_columns:
        ordered += [c for c in df.columns if c not in spec.columns]
    out = df[ordered].copy()
    for col, dtype in spec.columns.items():
        try:
            out[col] = out[col].astype(dtype)
        except (TypeError, ValueError) as exc:
            raise ArtifactError(f"{spec.path}: column {col!r} is not {dtype}: {exc}") from exc
    return out.reset_index(drop=True)


def write_table(df: pd.DataFrame, spec: Artifact, out_dir: Path) -> Path:
    """Write a table artifact, conformed to its schema; returns its path."""
    table = conform(df, spec)
    target = spec.location(out_dir)
    with atomic_path(target) as tmp:
        table.to_parquet(tmp, index=False)
    return target


def read_table(spec: Artifact, out_dir: Path) -> pd.DataFrame:
    """Read a table artifact, validated against its schema."""
    path = spec.location(out_dir)
    if not path.is_file():
        raise ArtifactError(f"{path} is missing: run `{spec.made_by}` first")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise ArtifactError(f"{path} cannot be read ({exc}); run `{spec.made_by}` again") from exc
    try:
        return conform(df, spec)
    except ArtifactError as exc:
        raise ArtifactError(f"{path}: {exc}; run `{spec.made_by}` again") from None


def load(name: str, out_dir: Path, **params: str) -> Any:
    """Read artifact ``name`` from ``out_dir`` in its format.

    Returns a DataFrame (parquet), the parsed JSON, an array (npy), the folder's path
    (folder), a string (text) or bytes. A missing or unreadable artifact raises
    :class:`ArtifactError` naming the command that makes it.
    """
    spec = artifact(name)
    if spec.format == "parquet":
        return read_table(spec, out_dir)
    path = spec.location(out_dir, **params)
    if not path.exists():
        raise ArtifactError(f"{path} is missing: run `{spec.made_by}` first")
    if spec.format == "json":
        return read_json(path, spec.made_by)
    if spec.format == "npy":
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ArtifactError(
                f"{path} cannot be read ({exc}); run `{spec.made_by}` again"
            ) from exc
    if spec.format == "folder":
        return path
    if spec.format == "text":
        return path.read_text(encoding="utf-8")
    return path.read_bytes()


def save(name: str, value: Any, out_dir: Path, **params: str) -> Path:
    """Write ``value`` as artifact ``name`` in ``out_dir`` (atomically); returns its path.

    ``value`` is a DataFrame (parquet), JSON-able data (json), an array (npy), a
    callable that builds the folder's content into the path it is given (folder), a
    string (text) or bytes.
    """
    spec = artifact(name)
    if spec.format == "parquet":
        return write_table(value, spec, out_dir)
    target = spec.location(out_dir, **params)
    if spec.format == "json":
        return write_json(value, target)
    if spec.format == "npy":
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.asarray(value))
        return target
    if spec.format == "folder":
        build: Callable[[Path], None] = value
        return replace_folder(build, target)
    if spec.format == "text":
        return write_text(value, target)
    return write_bytes(value, target)


def write_json(data: Any, target: Path) -> Path:
    """Write JSON atomically (also for files outside OUT, e.g. `--json figures.json`)."""
    with atomic_path(Path(target)) as tmp:
        tmp.write_text(
            json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
        )
    return Path(target)


def write_text(text: str, target: Path) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(Path(target)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes(data: bytes, target: Path) -> Path:
    """Write bytes atomically."""
    with atomic_path(Path(target)) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def read_json(target: Path, made_by: str) -> Any:
    """Parse a JSON file; missing or invalid raises :class:`ArtifactError` naming ``made_by``."""
    target = Path(target)
    if not target.is_file():
        raise ArtifactError(f"{target} is missing: run `{made_by}` first")
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{target} is not valid JSON ({exc}); run `{made_by}` again") from exc
