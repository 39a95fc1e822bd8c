"""The data catalog: every artifact's path, schema, and atomic read/write.

Stages never hard-code a file name or a column list; they ask this module. Tables
are validated when read, so a stage fails with one clear line (what is missing and
which command makes it) instead of a KeyError deep inside pandas. Every write goes
to a temporary file in the same folder and is then renamed over the target, so an
interrupted run never leaves half a file behind. Inside :func:`together`, the
renames wait until the whole stage has succeeded and then happen in one short burst
with SIGINT/SIGTERM held back, so an interrupted stage leaves the previous outputs
of that stage as they were, not half old and half new.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd


class ArtifactError(RuntimeError):
    """An artifact is missing or does not match its schema."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    filename: str
    columns: dict[str, str]  # column -> pandas dtype
    made_by: str  # the command that writes it, for error messages
    extra_columns: bool = False  # True: other columns (e.g. metadata fields) may follow

    def path(self, out_dir: Path) -> Path:
        return Path(out_dir) / self.filename


# One row per conversation turn. `text` is the original wording (for quotes),
# `clean_text` has filler removed (for analysis).
TURNS = TableSpec(
    name="turns",
    filename="turns.parquet",
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
    },
    made_by="insights ingest RAW_DIR",
)

# One row per conversation; metadata fields (front matter, metadata.csv, folder)
# follow the fixed columns under their own names.
INTERVIEWS = TableSpec(
    name="interviews",
    filename="interviews.parquet",
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
    made_by="insights ingest RAW_DIR",
    extra_columns=True,
)

# Interviewee speech in windows of 1-3 sentences, and interviewer questions whole.
PASSAGES = TableSpec(
    name="passages",
    filename="passages.parquet",
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
        "is_question": "boolean",
        "language": "string",
        "in_main_language": "boolean",
        "heading": "string",
        "source_file": "string",
        "source_line": "Int64",
        "source_page": "Int64",
        "start": "Float64",
    },
    made_by="insights embed",
)

# Section of every turn and passage (past / present / future or the guide's sections).
SEGMENTS = TableSpec(
    name="segments",
    filename="segments.parquet",
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
    made_by="insights segment",
)

# Theme of every themed passage.
ASSIGNMENTS = TableSpec(
    name="assignments",
    filename="assignments.parquet",
    columns={
        "passage_id": "string",
        "interview_id": "string",
        "theme_id": "Int64",  # -1 = outlier
        "probability": "Float64",  # HDBSCAN probability, or cosine similarity to the theme centroid
        "section": "string",
    },
    made_by="insights themes",
)

THEMES = TableSpec(
    name="themes",
    filename="themes.parquet",
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
    },
    made_by="insights themes",
)

THEME_SECTIONS = TableSpec(
    name="theme_sections",
    filename="theme_sections.parquet",
    columns={
        "theme_id": "Int64",
        "section": "string",
        "n_passages": "Int64",
        "share_of_section": "Float64",
        "n_interviews": "Int64",
        "keywords": "string",  # BERTopic topics_per_class words
    },
    made_by="insights themes",
)

THEME_INTERVIEWS = TableSpec(
    name="theme_interviews",
    filename="theme_interviews.parquet",
    columns={"theme_id": "Int64", "interview_id": "string", "n_passages": "Int64"},
    made_by="insights themes",
)

HIERARCHY = TableSpec(
    name="hierarchy",
    filename="hierarchy.parquet",
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
    made_by="insights themes",
)

MANIFEST = "manifest.json"
TMP_SUFFIX = ".tmp"  # every temporary this package writes is ".<name>.<random>.tmp"
EFFECTIVE_CONFIG = "config.json"
TABLES = {
    spec.name: spec
    for spec in (TURNS, INTERVIEWS, PASSAGES, SEGMENTS, ASSIGNMENTS, THEMES, THEME_SECTIONS, THEME_INTERVIEWS, HIERARCHY)
}


def conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Return ``df`` with the spec's columns first, cast to the spec's dtypes."""
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise ArtifactError(f"{spec.filename}: missing column(s) {', '.join(missing)}")
    ordered = list(spec.columns)
    if spec.extra_columns:
        ordered += [c for c in df.columns if c not in spec.columns]
    out = df[ordered].copy()
    for col, dtype in spec.columns.items():
        try:
            out[col] = out[col].astype(dtype)
        except (TypeError, ValueError) as exc:
            raise ArtifactError(f"{spec.filename}: column {col!r} is not {dtype}: {exc}") from exc
    return out.reset_index(drop=True)


class _Batch:
    """Renames waiting for the end of a stage, and the temporaries they will rename."""

    def __init__(self) -> None:
        self.actions: list[Callable[[], None]] = []
        self.temporaries: list[Path] = []
        self.pending: dict[Path, Path] = {}  # target -> temporary holding its new content


_batch: ContextVar[_Batch | None] = ContextVar("artifact_batch", default=None)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _commit(actions: list[Callable[[], None]]) -> None:
    # Ctrl-C during the renames would leave a mix of old and new outputs: note the
    # signals that arrive during the few milliseconds they take and act on them after.
    # (Masking is not enough: the OS may deliver the signal to a BLAS or torch thread,
    # and Python then raises in the main thread anyway.)
    import threading

    if threading.current_thread() is not threading.main_thread():
        for action in actions:
            action()
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for action in actions:
            action()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for signum in caught[:1]:
        signal.raise_signal(signum)  # now, with the outputs whole


@contextmanager
def together() -> Iterator[None]:
    """Make every write inside the block visible at once, when the block succeeds.

    If the block raises (or the process is killed), no target is touched and the
    temporaries are removed (a killed run's are removed by the next run's
    :func:`remove_leftovers`).
    """
    if _batch.get() is not None:  # nested: the outer block commits
        yield
        return
    batch = _Batch()
    token = _batch.set(batch)
    try:
        yield
        _batch.reset(token)
        token = None
        _commit(batch.actions)
    finally:
        if token is not None:
            _batch.reset(token)
        for tmp in batch.temporaries:
            _remove(tmp)


def pending_outputs() -> dict[Path, Path]:
    """Targets the open batch will write, each with the temporary that holds its new content."""
    batch = _batch.get()
    return dict(batch.pending) if batch else {}


def sha256_file(path: Path) -> str:
    """sha256 of a file, or of a folder's files and their relative paths; each file hashed once per
    process while its size and mtime stay the same (lineage checks read the same outputs often)."""
    path = Path(path)
    if path.is_dir():
        h = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(child.relative_to(path).as_posix().encode() + b"\0")
            h.update(sha256_file(child).encode())
        return h.hexdigest()
    stat = path.stat()
    return _sha256_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=512)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def defer(target: Path, tmp: Path, action: Callable[[], None]) -> None:
    """Run ``action`` (which moves ``tmp`` onto ``target``) at the end of the open batch, or now."""
    batch = _batch.get()
    if batch is None:
        action()
        return
    batch.temporaries.append(tmp)
    batch.pending[Path(target)] = tmp
    batch.actions.append(action)


@contextmanager
def atomic_path(target: Path, now: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    Inside :func:`together` the rename waits for the end of the block unless ``now``
    (for caches, whose content is worth keeping even if the stage later fails).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    handed_over = False
    try:
        yield tmp_path
        if now:
            os.replace(tmp_path, target)
        else:
            defer(target, tmp_path, lambda: os.replace(tmp_path, target))
            handed_over = _batch.get() is not None
    finally:
        if not handed_over and tmp_path.exists():
            tmp_path.unlink()


def replace_folder(build: Callable[[Path], None], target: Path, now: bool = False) -> Path:
    """Build a folder beside ``target`` with ``build(tmp)`` and swap it in whole.

    Inside :func:`together` the swap waits for the end of the block unless ``now`` (as for
    :func:`atomic_path`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent))
    try:
        build(tmp)
    except BaseException:
        _remove(tmp)
        raise

    def swap() -> None:
        old = target.with_name(f".{target.name}.old{TMP_SUFFIX}")
        _remove(old)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        _remove(old)

    if now:
        swap()
    else:
        defer(target, tmp, swap)
    return target


_OWN_TMP = re.compile(r"^\.[^/]+\.(?:[a-z0-9_]{8}|old)\.tmp$")  # ".<name>.<mkstemp's 8 chars>.tmp"
OUTPUT_FOLDERS = ("report", "compare", "lineage", "cache")  # where stages write below OUT


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Delete temporaries a killed run left behind (call only while holding the output lock).

    Only our own temporaries, only in OUT and the folders stages write to: never in
    anything else that happens to sit in OUT.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    places = [out_dir] + [out_dir / name for name in OUTPUT_FOLDERS if (out_dir / name).is_dir()]
    found = [p for place in places
             for p in (place.rglob(".*.tmp") if place.name == "cache" else place.glob(".*.tmp"))
             if _OWN_TMP.match(p.name)]
    for path in sorted(found, key=lambda p: len(p.parts), reverse=True):
        original = path.with_name(path.name[1 : -len(f".old{TMP_SUFFIX}")]) if path.name.endswith(f".old{TMP_SUFFIX}") else None
        if original is not None and not original.exists():
            path.rename(original)  # killed between the two renames of a folder swap: put the old one back
        else:
            _remove(path)
    return found


def write_table(df: pd.DataFrame, spec: TableSpec, out_dir: Path) -> Path:
    table = conform(df, spec)
    target = spec.path(out_dir)
    with atomic_path(target) as tmp:
        table.to_parquet(tmp, index=False)
    return target


def read_table(spec: TableSpec, out_dir: Path) -> pd.DataFrame:
    path = spec.path(out_dir)
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


def write_json(data: Any, target: Path) -> Path:
    with atomic_path(Path(target)) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    return Path(target)


def write_text(text: str, target: Path) -> Path:
    with atomic_path(Path(target)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes(data: bytes, target: Path) -> Path:
    with atomic_path(Path(target)) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def read_json(target: Path, made_by: str) -> Any:
    target = Path(target)
    if not target.is_file():
        raise ArtifactError(f"{target} is missing: run `{made_by}` first")
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{target} is not valid JSON ({exc}); run `{made_by}` again") from exc
