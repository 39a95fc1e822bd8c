"""The ingest stage: a folder of notes and transcripts -> one table of turns.

``run(out_dir, config, raw_dir=...)`` reads every file under ``raw_dir`` (never writing
there), turns each conversation into speaker turns with roles, cleaned text and a
detected language, and writes ``turns.parquet``, ``interviews.parquet`` and
``manifest.json``. A bad file gets a clear reason in the manifest and the log; the
rest of the folder is still ingested.

The steps, in order: read metadata.csv (:func:`_read_metadata`); read each file into
its manifest entry and conversations (:func:`_read_folder`); build each conversation's
turn rows and interview row (:func:`_conversations`); decide the main language and
flag the others (:func:`_main_language`, :func:`_flag_other_languages`); check
metadata.csv against the conversations (:func:`_metadata_report`); build the tables
(:func:`_tables`) and the manifest (:func:`_manifest`); redact when asked; write.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..core.catalog import INTERVIEWS, RUN_LOG, TURNS, location, save
from ..core.config import Config, IngestConfig
from .clean import clean_text, is_backchannel, word_count
from .formats import SUPPORTED, Reader, readers
from .language import UNDETERMINED, detect_language
from .metadata import METADATA_FILE, MetadataTable, read_metadata
from .model import FailFile, ParsedDoc, ReadResult, SkipFile
from .roles import INTERVIEWEE, RoleDecision, as_names, decide_roles, role_of

log = logging.getLogger(__name__)
MANIFEST_SCHEMA_VERSION = 1


class NothingIngested(RuntimeError):
    """No file in the folder could be ingested; previous outputs are left as they were."""


@dataclass
class IngestResult:
    """What :func:`run` wrote: the two tables and the manifest (redacted when asked)."""

    turns: pd.DataFrame
    interviews: pd.DataFrame
    manifest: dict[str, Any]
    out_dir: Path
    written: list[Path] = field(default_factory=list)


def _language_name(code: str) -> str:
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())).name.title()
    except (AttributeError, ValueError):
        return code


def discover(raw_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Every file under ``raw_dir`` in a stable order (hidden folders are not entered).

    Args:
        raw_dir: the raw folder.
        exclude: a folder not to enter (the output folder, when it is inside ``raw_dir``).

    Returns:
        The files, sorted by their path relative to ``raw_dir``.
    """
    found = []
    for root, dirs, files in os.walk(raw_dir):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and (exclude is None or (root_path / d).resolve() != exclude)
        )
        found += [root_path / f for f in files]
    return sorted(found, key=lambda p: p.relative_to(raw_dir).as_posix())


def _unique_id(wanted: str, rel: str, taken: set[str]) -> str:
    if wanted not in taken:
        return wanted
    candidate = rel.rsplit(".", 1)[0]
    n = 2
    while candidate in taken:
        candidate = f"{rel.rsplit('.', 1)[0]}-{n}"
        n += 1
    return candidate


def _inputs_hash(entries: list[dict[str, Any]], metadata_sha: str | None) -> str:
    h = hashlib.sha256()
    for e in entries:
        h.update(f"{e['path']}\0{e.get('sha256')}\0".encode())
    h.update(f"metadata\0{metadata_sha}".encode())
    return h.hexdigest()


def _redact(
    turns: pd.DataFrame,
    interviews: pd.DataFrame,
    manifest: dict[str, Any],
    effective_config: dict[str, Any],
    config: Config,
    out_dir: Path,
):
    """Hide names in all three outputs, and in the run log from the start of this run on."""
    from ..core import runlog
    from .redaction import IngestRedaction

    previous, log_file = location("manifest", out_dir), out_dir / RUN_LOG
    was_redacted = None
    if previous.is_file():
        try:
            was_redacted = bool(
                json.loads(previous.read_text(encoding="utf-8")).get("redacted", False)
            )
        except (OSError, ValueError):
            was_redacted = False
    elif log_file.is_file() and log_file.stat().st_size > 0:
        was_redacted = False  # an earlier run's lines (this run's are held back)
    if was_redacted is False:
        raise NothingIngested(
            f"{out_dir} holds outputs of a run without redaction (run.log, compare/ and any "
            f"stage not re-run would keep names): choose an empty --out, or delete {out_dir} first"
        )
    redaction = IngestRedaction(turns, interviews, config, [e["path"] for e in manifest["files"]])
    handler = runlog.current()
    if handler is not None:
        handler.redact_with(redaction.message)
    redaction.announce()
    return (
        redaction.turns(turns),
        redaction.interviews(interviews),
        redaction.manifest(manifest),
        redaction.effective_config(effective_config),
    )


# ------------------------------------------------------------------ reading files


def _read_metadata(raw_dir: Path) -> tuple[MetadataTable, str | None]:
    """The raw folder's metadata.csv (its warnings logged) and its hash (None without one)."""
    metadata = read_metadata(raw_dir, SUPPORTED)
    for w in metadata.warnings:
        log.warning(w)
    metadata_sha = (
        hashlib.sha256((raw_dir / METADATA_FILE).read_bytes()).hexdigest()
        if metadata.path
        else None
    )
    return metadata, metadata_sha


def _refuse(entry: dict[str, Any], status: str, reason: str) -> None:
    """Mark a manifest entry skipped or failed, and say so in the log."""
    entry["status"], entry["reason"] = status, reason
    (log.error if status == "failed" else log.warning)("%s: %s: %s", entry["path"], status, reason)


def _new_entry(rel: str, ext: str) -> dict[str, Any]:
    """A file's manifest entry before it is read (status ``ingested`` until refused)."""
    return {
        "path": rel,
        "status": "ingested",
        "reason": None,
        "format": ext.lstrip(".") or None,
        "size_bytes": None,
        "sha256": None,
        "encoding": None,
        "interviews": [],
        "turns": 0,
        "language": None,
        "warnings": [],
    }


def _file_bytes(
    path: Path, entry: dict[str, Any], reader_for: dict[str, Reader], cfg: IngestConfig
) -> bytes | None:
    """The file's bytes; None when it is hidden, of an unsupported format, too big or unreadable."""
    ext = path.suffix.lower()
    try:
        size = path.stat().st_size
        entry["size_bytes"] = size
        if path.name.startswith("."):
            _refuse(entry, "skipped", "hidden file")
            return None
        if ext not in reader_for:
            supported = ", ".join(SUPPORTED)
            _refuse(
                entry, "skipped", f"unsupported format '{ext or '(none)'}' (supported: {supported})"
            )
            return None
        if size > cfg.max_file_mb * 1024 * 1024:
            _refuse(
                entry,
                "skipped",
                f"file is {size / 1048576:.1f} MB, over the {cfg.max_file_mb:g} MB limit "
                "(ingest.max_file_mb)",
            )
            return None
        return path.read_bytes()
    except OSError as exc:
        _refuse(entry, "failed", f"cannot read file: {exc.strerror or exc}")
        return None


def _parse(data: bytes, entry: dict[str, Any], reader: Reader) -> ReadResult | None:
    """The reader's result; None when it refused the file (its entry and the log say why)."""
    rel = entry["path"]
    try:
        return reader(data, name=rel)
    except SkipFile as exc:
        _refuse(entry, "skipped", str(exc))
    except FailFile as exc:
        _refuse(entry, "failed", str(exc))
    except Exception as exc:  # one broken file must not stop the folder
        log.debug("unexpected error reading %s", rel, exc_info=True)
        _refuse(entry, "failed", f"unexpected error: {type(exc).__name__}: {exc}")
    return None


def _read_file(
    path: Path,
    rel: str,
    reader_for: dict[str, Reader],
    cfg: IngestConfig,
    seen_hashes: dict[str, str],
) -> tuple[dict[str, Any], list[ParsedDoc]]:
    """Read one file into its manifest entry and the conversations it holds.

    Args:
        path: the file.
        rel: its path relative to the raw folder (its name in the manifest and the log).
        reader_for: the reader of each supported extension.
        cfg: the ingest settings (``max_file_mb``).
        seen_hashes: the content hashes of the files read so far, by path; updated, so a
            later file with the same content is skipped as a duplicate.

    Returns:
        The manifest entry, and the conversations with any text (none when it was refused).
    """
    entry = _new_entry(rel, path.suffix.lower())
    data = _file_bytes(path, entry, reader_for, cfg)
    if data is None:
        return entry, []
    digest = hashlib.sha256(data).hexdigest()
    entry["sha256"] = digest
    if not data.strip():
        _refuse(entry, "skipped", "empty file")
        return entry, []
    if digest in seen_hashes:
        _refuse(entry, "skipped", f"duplicate of {seen_hashes[digest]} (same content)")
        return entry, []
    seen_hashes[digest] = rel
    result = _parse(data, entry, reader_for[path.suffix.lower()])
    if result is None:
        return entry, []
    entry["encoding"] = result.encoding
    entry["warnings"] += result.warnings
    kept = [d for d in result.docs if any(t.text.strip() for t in d.turns)]
    if not kept:
        _refuse(entry, "skipped", "no text found")
        return entry, []
    for doc in kept:
        entry["warnings"] += doc.warnings
    for w in entry["warnings"]:
        log.warning("%s: %s", rel, w)
    return entry, kept


def _read_folder(
    raw_dir: Path, out_dir: Path, cfg: IngestConfig, on_file: Callable[[str], None] | None
) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], ParsedDoc]]]:
    """Read every file under ``raw_dir`` (but metadata.csv and ``out_dir``), in discovery order.

    Returns:
        Every file's manifest entry, and each conversation read with its file's entry.
    """
    reader_for = readers(cfg)
    entries: list[dict[str, Any]] = []
    docs: list[tuple[dict[str, Any], ParsedDoc]] = []
    seen_hashes: dict[str, str] = {}
    for path in discover(raw_dir, exclude=out_dir.resolve()):
        rel = path.relative_to(raw_dir).as_posix()
        if on_file:
            on_file(rel)
        if rel == METADATA_FILE:
            continue
        entry, kept = _read_file(path, rel, reader_for, cfg, seen_hashes)
        entries.append(entry)
        docs += [(entry, doc) for doc in kept]
    return entries, docs


# ------------------------------------------------------------------ conversations


def _warn(entry: dict[str, Any], msg: str) -> None:
    """Record a warning in a file's manifest entry and log it."""
    entry["warnings"].append(msg)
    log.warning("%s: %s", entry["path"], msg)


def _merged_metadata(
    entry: dict[str, Any], doc: ParsedDoc, keys: tuple[str, str], metadata: MetadataTable
) -> dict[str, Any]:
    """The conversation's front matter overlaid with its metadata.csv row (which wins)."""
    meta = dict(doc.metadata)
    interview_id, stem = keys
    csv_row = metadata.rows.get(interview_id) or metadata.rows.get(stem) or {}
    for key, value in csv_row.items():
        # compared as text, so True and 'true' agree
        if key in meta and str(meta[key]).strip().casefold() != str(value).strip().casefold():
            _warn(
                entry,
                f"{METADATA_FILE} sets {key}={value!r}, front matter says {meta[key]!r}; "
                f"using {METADATA_FILE}",
            )
        meta[key] = value
    meta["folder"] = Path(entry["path"]).parent.as_posix()
    return meta


def _turn_rows(
    doc: ParsedDoc, interview_id: str, rel: str, meta: dict[str, Any], cfg: IngestConfig
) -> tuple[list[dict[str, Any]], RoleDecision]:
    """The conversation's non-empty turns as rows of turns.parquet, with roles and clean text."""
    decision = decide_roles(
        doc.turns,
        interviewer_names=as_names(meta.get("interviewer")),
        interviewee_names=as_names(meta.get("interviewee")),
        configured_names=cfg.interviewer_names,
        source_name=rel,
    )
    rows: list[dict[str, Any]] = []
    for raw in doc.turns:
        if not raw.text.strip():
            continue
        role = role_of(raw, decision)
        cleaned = clean_text(raw.text, cfg.extra_fillers)
        if role == INTERVIEWEE:  # an unlabelled answer is the interviewee's, named by metadata
            speaker = raw.speaker or (as_names(meta.get("interviewee")) or [""])[0]
        else:
            speaker = raw.speaker
        rows.append(
            {
                "interview_id": interview_id,
                "turn_index": len(rows),
                "speaker": speaker or "",
                "role": role,
                "text": raw.text,
                "clean_text": cleaned,
                "is_backchannel": is_backchannel(raw.text),
                "start": raw.start,
                "end": raw.end,
                "heading": raw.heading,
                "source_file": rel,
                "source_line": raw.line,
                "source_page": raw.page,
                "codes": ";".join(raw.codes),
            }
        )
    return rows, decision


def _conversation_language(
    meta: dict[str, Any], rows: list[dict[str, Any]], answer_text: str, cfg: IngestConfig
) -> tuple[str, float]:
    """The language metadata gives, else the one detected in the answers (or all turns)."""
    if "language" in meta and str(meta["language"]).strip():
        return str(meta["language"]).strip().lower(), 1.0
    return detect_language(answer_text or " ".join(r["clean_text"] for r in rows), cfg.languages)


def _conversation(
    entry: dict[str, Any],
    doc: ParsedDoc,
    taken: set[str],
    metadata: MetadataTable,
    cfg: IngestConfig,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Build the turn rows and the interview row of one conversation.

    Args:
        entry: the manifest entry of its file; its interviews, turns, language and warnings
            are updated.
        doc: the conversation as read.
        taken: the interview ids used so far; its id is added (made unique first).
        metadata: the raw folder's metadata.csv, matched by interview id, then file stem.
        cfg: the ingest settings (interviewer names, fillers, languages).

    Returns:
        Its turn rows, and its interview row (metadata still as a dict under ``_meta``).
    """
    rel = entry["path"]
    stem = Path(rel).stem
    wanted = doc.interview_id or stem
    interview_id = _unique_id(wanted, rel, taken)
    if interview_id != wanted:
        _warn(entry, f"interview id {wanted!r} already used; this one is {interview_id!r}")
    taken.add(interview_id)
    entry["interviews"].append(interview_id)

    meta = _merged_metadata(entry, doc, (interview_id, stem), metadata)
    rows, decision = _turn_rows(doc, interview_id, rel, meta, cfg)
    answer_text = " ".join(r["clean_text"] for r in rows if r["role"] == INTERVIEWEE)
    language, confidence = _conversation_language(meta, rows, answer_text, cfg)
    for r in rows:
        r["language"] = language
    entry["turns"] += len(rows)
    entry["language"] = language if entry["language"] in (None, language) else "mixed"
    interview = {
        "interview_id": interview_id,
        "source_file": rel,
        "folder": meta["folder"],
        "format": entry["format"],
        "language": language,
        "language_confidence": confidence,
        "n_turns": len(rows),
        "n_words": sum(word_count(r["text"]) for r in rows),
        "n_words_interviewee": word_count(answer_text),
        "speakers": "; ".join(dict.fromkeys(r["speaker"] for r in rows if r["speaker"])),
        "interviewer": decision.interviewer,
        "role_method": decision.method,
        "metadata_json": json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str),
        "_meta": meta,
    }
    return rows, interview


def _conversations(
    docs: list[tuple[dict[str, Any], ParsedDoc]], metadata: MetadataTable, cfg: IngestConfig
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every conversation's turn rows and interview row, in reading order (ids made unique)."""
    turn_rows: list[dict[str, Any]] = []
    interview_rows: list[dict[str, Any]] = []
    taken: set[str] = set()
    for entry, doc in docs:
        rows, interview = _conversation(entry, doc, taken, metadata, cfg)
        turn_rows += rows
        interview_rows.append(interview)
    return turn_rows, interview_rows


# ---------------------------------------------------------------------- languages


def _main_language(interview_rows: list[dict[str, Any]], configured: str | None) -> str:
    """The configured main language, else the one with most words (English when none is known)."""
    words_by_language: Counter[str] = Counter()
    for row in interview_rows:
        words_by_language[row["language"]] += row["n_words"]
    words_by_language.pop(UNDETERMINED, None)
    return configured or (
        max(sorted(words_by_language), key=lambda k: words_by_language[k])
        if words_by_language
        else "en"
    )


def _flag_other_languages(
    interview_rows: list[dict[str, Any]],
    turn_rows: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    main_language: str,
) -> None:
    """Set ``in_main_language`` on every row, and warn about each conversation in another one."""
    entry_by_path = {e["path"]: e for e in entries}
    for row in interview_rows:
        row["in_main_language"] = row["language"] == main_language
        if not row["in_main_language"] and row["language"] != UNDETERMINED:
            _warn(
                entry_by_path[row["source_file"]],
                f"conversation {row['interview_id']!r} is in {_language_name(row['language'])} "
                f"({row['language']}), not the corpus's main language ({main_language}); it is "
                f"flagged and kept apart from {_language_name(main_language)} analysis",
            )
    in_main = {r["interview_id"]: r["in_main_language"] for r in interview_rows}
    for r in turn_rows:
        r["in_main_language"] = in_main[r["interview_id"]]


# -------------------------------------------------------------------------- outputs


def _metadata_report(
    metadata: MetadataTable,
    metadata_sha: str | None,
    interview_rows: list[dict[str, Any]],
    redact: bool,
) -> dict[str, Any]:
    """The manifest's ``metadata`` block; warns about metadata.csv ids no conversation has."""
    known_ids = {r["interview_id"] for r in interview_rows} | {
        Path(r["source_file"]).stem for r in interview_rows
    }
    unknown_ids = sorted(k for k in metadata.rows if k not in known_ids)
    if unknown_ids:
        # the ids can be names, so a redacted run only counts them
        shown = f"{len(unknown_ids)} id(s)" if redact else ", ".join(map(repr, unknown_ids))
        log.warning("%s: no interview with %s (ids are file stems)", METADATA_FILE, shown)
    without_meta = sorted(
        r["interview_id"]
        for r in interview_rows
        if metadata.path
        and r["interview_id"] not in metadata.rows
        and Path(r["source_file"]).stem not in metadata.rows
    )
    return {
        "file": metadata.path,
        "sha256": metadata_sha,
        "unknown_ids": unknown_ids,
        "interviews_without_metadata": without_meta,
        "warnings": metadata.warnings,
    }


def _tables(
    turn_rows: list[dict[str, Any]], interview_rows: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The turns and interviews tables; each metadata field becomes a text column of interviews."""
    meta_columns = sorted({k for r in interview_rows for k in r["_meta"]} - set(INTERVIEWS.columns))
    for r in interview_rows:
        meta = r.pop("_meta")
        for col in meta_columns:
            value = meta.get(col)
            r[col] = (
                None
                if value is None
                else (value if isinstance(value, str) else json.dumps(value, default=str))
            )
    turns = pd.DataFrame(turn_rows, columns=list(TURNS.columns))
    interviews = pd.DataFrame(interview_rows)
    for col in meta_columns:
        interviews[col] = interviews[col].astype("string")
    return turns, interviews


def _manifest(
    raw_dir: Path,
    config: Config,
    entries: list[dict[str, Any]],
    interview_rows: list[dict[str, Any]],
    n_turns: int,
    main_language: str,
    metadata_block: dict[str, Any],
) -> dict[str, Any]:
    """manifest.json: what was read, what came of each file, and the hashes a rerun compares."""
    status_counts = Counter(e["status"] for e in entries)
    ingested = [e for e in entries if e["status"] == "ingested"]
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "tool_version": __version__,
        "raw_dir": str(raw_dir.resolve()),
        "inputs_sha256": _inputs_hash(ingested, metadata_block["sha256"]),
        "config_sha256": config.sha256(),
        "redacted": config.redact,
        "main_language": main_language,
        "counts": {
            "files": len(entries),
            "ingested": status_counts.get("ingested", 0),
            "skipped": status_counts.get("skipped", 0),
            "failed": status_counts.get("failed", 0),
            "interviews": len(interview_rows),
            "turns": n_turns,
            "words": int(sum(r["n_words"] for r in interview_rows)),
        },
        "languages": {
            lang: sorted(r["interview_id"] for r in interview_rows if r["language"] == lang)
            for lang in sorted({r["language"] for r in interview_rows})
        },
        "metadata": metadata_block,
        "files": entries,
    }


def _roles_block(turns: pd.DataFrame, interviews: pd.DataFrame) -> dict[str, Any]:
    """manifest.json's ``roles``: per interview, who the interviewer is, each speaker's role
    and the evidence that decided (``role_method``).

    Built from the finished tables, so a redacted run's manifest holds the redacted names.
    """
    speakers: dict[str, dict[str, str]] = {}
    for iid, speaker, role in turns[["interview_id", "speaker", "role"]].itertuples(index=False):
        if speaker and role != "note":
            speakers.setdefault(iid, {}).setdefault(speaker, role)
    return {
        row.interview_id: {
            "interviewer": None if pd.isna(row.interviewer) else row.interviewer,
            "method": row.role_method,
            "speakers": speakers.get(row.interview_id, {}),
        }
        for row in interviews.itertuples(index=False)
    }


# ------------------------------------------------------------------------- the stage


def run(
    out_dir: Path,
    config: Config,
    *,
    raw_dir: Path,
    on_file: Callable[[str], None] | None = None,
) -> IngestResult:
    """Read every file under ``raw_dir`` into turns.parquet, interviews.parquet and manifest.json.

    Args:
        out_dir: the output folder (never inside ``raw_dir``).
        config: the effective configuration (``ingest``, ``redact`` and ``redaction`` are read).
        raw_dir: the folder of notes and transcripts; only ever read.
        on_file: called with each file's relative path as it is read (for progress bars).

    Returns:
        The turns, interviews and manifest, and the paths written.

    Raises:
        NothingIngested: no file could be ingested; previous outputs are left as they were.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise NothingIngested(f"raw folder not found: {raw_dir}")
    cfg = config.ingest
    metadata, metadata_sha = _read_metadata(raw_dir)
    entries, docs = _read_folder(raw_dir, out_dir, cfg, on_file)
    turn_rows, interview_rows = _conversations(docs, metadata, cfg)
    if not interview_rows:
        reasons = "; ".join(f"{e['path']}: {e['reason']}" for e in entries if e["reason"])
        raise NothingIngested(
            f"nothing could be ingested from {raw_dir} ({reasons or 'the folder has no files'})"
        )

    main_language = _main_language(interview_rows, cfg.main_language)
    _flag_other_languages(interview_rows, turn_rows, entries, main_language)
    metadata_block = _metadata_report(metadata, metadata_sha, interview_rows, config.redact)
    turns, interviews = _tables(turn_rows, interview_rows)
    manifest = _manifest(
        raw_dir, config, entries, interview_rows, len(turn_rows), main_language, metadata_block
    )
    effective_config = json.loads(config.to_json())
    if config.redact:
        turns, interviews, manifest, effective_config = _redact(
            turns, interviews, manifest, effective_config, config, out_dir
        )
    manifest["roles"] = _roles_block(turns, interviews)
    written = [
        save("turns", turns, out_dir),
        save("interviews", interviews, out_dir),
        save("effective_config", effective_config, out_dir),
        save("manifest", manifest, out_dir),
    ]
    return IngestResult(
        turns=turns, interviews=interviews, manifest=manifest, out_dir=out_dir, written=written
    )
