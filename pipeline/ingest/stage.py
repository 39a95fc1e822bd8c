"""The ingest stage: a folder of notes and transcripts -> one table of turns.

``run(raw_dir, out_dir, config)`` reads every file under ``raw_dir`` (never writing
there), turns each conversation into speaker turns with roles, cleaned text and a
detected language, and writes ``turns.parquet``, ``interviews.parquet`` and
``manifest.json``. A bad file gets a clear reason in the manifest and the log; the
rest of the folder is still ingested.
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

from .. import __version__, lineage
from ..artifacts import EFFECTIVE_CONFIG, INTERVIEWS, MANIFEST, TURNS, write_json, write_table
from ..config import Config
from .clean import clean_text, is_backchannel, word_count
from .formats import SUPPORTED, readers
from .language import UNDETERMINED, detect_language
from .metadata import METADATA_FILE, read_metadata
from .model import FailFile, ParsedDoc, SkipFile
from .roles import INTERVIEWEE, as_names, decide_roles, role_of

log = logging.getLogger(__name__)
MANIFEST_SCHEMA_VERSION = 1


class NothingIngested(RuntimeError):
    """No file in the folder could be ingested; previous outputs are left as they were."""


@dataclass
class IngestResult:
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
    """Every file under ``raw_dir`` in a stable order (hidden folders are not entered)."""
    found = []
    for root, dirs, files in os.walk(raw_dir):
        root_path = Path(root)
        dirs[:] = sorted(
            d for d in dirs
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


def _redact(turns: pd.DataFrame, interviews: pd.DataFrame, manifest: dict[str, Any],
            effective_config: dict[str, Any], config: Config, out_dir: Path):
    """Hide names in all three outputs, and in the run log from the start of this run on."""
    from .. import runlog
    from .redaction import IngestRedaction

    previous, log_file = out_dir / MANIFEST, out_dir / "run.log"
    was_redacted = None
    if previous.is_file():
        try:
            was_redacted = bool(json.loads(previous.read_text(encoding="utf-8")).get("redacted", False))
        except (OSError, ValueError):
            was_redacted = False
    elif log_file.is_file() and log_file.stat().st_size > 0:  # an earlier run's lines (this run's are held back)
        was_redacted = False
    if was_redacted is False:
        raise NothingIngested(
            f"{out_dir} holds outputs of a run without redaction (run.log, compare/ and any stage not re-run "
            f"would keep names): choose an empty --out, or delete {out_dir} first")
    redaction = IngestRedaction(turns, interviews, config, [e["path"] for e in manifest["files"]])
    handler = runlog.current()
    if handler is not None:
        handler.redact_with(redaction.message)
    redaction.announce()
    return (redaction.turns(turns), redaction.interviews(interviews), redaction.manifest(manifest),
            redaction.effective_config(effective_config))


def run(
    raw_dir: Path,
    out_dir: Path,
    config: Config,
    on_file: Callable[[str], None] | None = None,
) -> IngestResult:
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise NothingIngested(f"raw folder not found: {raw_dir}")
    cfg = config.ingest
    reader_for = readers(cfg)
    metadata = read_metadata(raw_dir, SUPPORTED)
    for w in metadata.warnings:
        log.warning(w)
    metadata_sha = (
        hashlib.sha256((raw_dir / METADATA_FILE).read_bytes()).hexdigest() if metadata.path else None
    )

    entries: list[dict[str, Any]] = []
    docs: list[tuple[dict[str, Any], ParsedDoc]] = []
    seen_hashes: dict[str, str] = {}
    files = discover(raw_dir, exclude=out_dir.resolve())
    for path in files:
        rel = path.relative_to(raw_dir).as_posix()
        if on_file:
            on_file(rel)
        if rel == METADATA_FILE:
            continue
        ext = path.suffix.lower()
        entry: dict[str, Any] = {
            "path": rel, "status": "ingested", "reason": None, "format": ext.lstrip(".") or None,
            "size_bytes": None, "sha256": None, "encoding": None, "interviews": [], "turns": 0,
            "language": None, "warnings": [],
        }
        entries.append(entry)

        def refuse(status: str, reason: str) -> None:
            entry["status"], entry["reason"] = status, reason
            (log.error if status == "failed" else log.warning)("%s: %s: %s", rel, status, reason)

        try:
            size = path.stat().st_size
            entry["size_bytes"] = size
            if path.name.startswith("."):
                refuse("skipped", "hidden file")
                continue
            if ext not in reader_for:
                refuse("skipped", f"unsupported format '{ext or '(none)'}' (supported: {', '.join(SUPPORTED)})")
                continue
            if size > cfg.max_file_mb * 1024 * 1024:
                refuse("skipped", f"file is {size / 1048576:.1f} MB, over the {cfg.max_file_mb:g} MB limit (ingest.max_file_mb)")
                continue
            data = path.read_bytes()
        except OSError as exc:
            refuse("failed", f"cannot read file: {exc.strerror or exc}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        entry["sha256"] = digest
        if not data.strip():
            refuse("skipped", "empty file")
            continue
        if digest in seen_hashes:
            refuse("skipped", f"duplicate of {seen_hashes[digest]} (same content)")
            continue
        seen_hashes[digest] = rel
        try:
            result = reader_for[ext](data, name=rel)
        except SkipFile as exc:
            refuse("skipped", str(exc))
            continue
        except FailFile as exc:
            refuse("failed", str(exc))
            continue
        except Exception as exc:  # one broken file must not stop the folder
            log.debug("unexpected error reading %s", rel, exc_info=True)
            refuse("failed", f"unexpected error: {type(exc).__name__}: {exc}")
            continue
        entry["encoding"] = result.encoding
        entry["warnings"] += result.warnings
        kept = [d for d in result.docs if any(t.text.strip() for t in d.turns)]
        if not kept:
            refuse("skipped", "no text found")
            continue
        for doc in kept:
            entry["warnings"] += doc.warnings
            docs.append((entry, doc))
        for w in entry["warnings"]:
            log.warning("%s: %s", rel, w)

    turn_rows: list[dict[str, Any]] = []
    interview_rows: list[dict[str, Any]] = []
    taken: set[str] = set()
    for entry, doc in docs:
        rel = entry["path"]
        stem = Path(rel).stem
        interview_id = _unique_id(doc.interview_id or stem, rel, taken)
        if interview_id != (doc.interview_id or stem):
            msg = f"interview id {doc.interview_id or stem!r} already used; this one is {interview_id!r}"
            entry["warnings"].append(msg)
            log.warning("%s: %s", rel, msg)
        taken.add(interview_id)
        entry["interviews"].append(interview_id)

        meta = dict(doc.metadata)
        csv_row = metadata.rows.get(interview_id) or metadata.rows.get(stem) or {}
        for key, value in csv_row.items():
            if key in meta and str(meta[key]).strip().casefold() != str(value).strip().casefold():  # True == 'true'
                msg = f"{METADATA_FILE} sets {key}={value!r}, front matter says {meta[key]!r}; using {METADATA_FILE}"
                entry["warnings"].append(msg)
                log.warning("%s: %s", rel, msg)
            meta[key] = value
        folder = Path(rel).parent.as_posix()
        meta["folder"] = folder

        decision = decide_roles(
            doc.turns,
            interviewer_names=as_names(meta.get("interviewer")),
            interviewee_names=as_names(meta.get("interviewee")),
            configured_names=cfg.interviewer_names,
        )
        rows = []
        for raw in doc.turns:
            if not raw.text.strip():
                continue
            role = role_of(raw, decision)
            cleaned = clean_text(raw.text, cfg.extra_fillers)
            speaker = raw.speaker or (as_names(meta.get("interviewee")) or [""])[0] if role == INTERVIEWEE else raw.speaker
            rows.append({
                "interview_id": interview_id, "turn_index": len(rows), "speaker": speaker or "",
                "role": role, "text": raw.text, "clean_text": cleaned,
                "is_backchannel": is_backchannel(raw.text), "start": raw.start, "end": raw.end,
                "heading": raw.heading, "source_file": rel, "source_line": raw.line, "source_page": raw.page,
            })
        answer_text = " ".join(r["clean_text"] for r in rows if r["role"] == INTERVIEWEE)
        if "language" in meta and str(meta["language"]).strip():
            language, confidence = str(meta["language"]).strip().lower(), 1.0
        else:
            language, confidence = detect_language(answer_text or " ".join(r["clean_text"] for r in rows), cfg.languages)
        for r in rows:
            r["language"] = language
        turn_rows += rows
        entry["turns"] += len(rows)
        entry["language"] = language if entry["language"] in (None, language) else "mixed"
        interview_rows.append({
            "interview_id": interview_id, "source_file": rel, "folder": folder,
            "format": entry["format"], "language": language, "language_confidence": confidence,
            "n_turns": len(rows), "n_words": sum(word_count(r["text"]) for r in rows),
            "n_words_interviewee": word_count(answer_text),
            "speakers": "; ".join(dict.fromkeys(r["speaker"] for r in rows if r["speaker"])),
            "interviewer": decision.interviewer, "role_method": decision.method,
            "metadata_json": json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str),
            "_meta": meta,
        })

    if not interview_rows:
        reasons = "; ".join(f"{e['path']}: {e['reason']}" for e in entries if e["reason"]) or "the folder has no files"
        raise NothingIngested(f"nothing could be ingested from {raw_dir} ({reasons})")

    words_by_language: Counter[str] = Counter()
    for row in interview_rows:
        words_by_language[row["language"]] += row["n_words"]
    words_by_language.pop(UNDETERMINED, None)
    main_language = cfg.main_language or (
        max(sorted(words_by_language), key=lambda k: words_by_language[k]) if words_by_language else "en"
    )
    entry_by_path = {e["path"]: e for e in entries}
    for row in interview_rows:
        row["in_main_language"] = row["language"] == main_language
        if not row["in_main_language"] and row["language"] != UNDETERMINED:
            msg = (
                f"conversation {row['interview_id']!r} is in {_language_name(row['language'])} ({row['language']}), "
                f"not the corpus's main language ({main_language}); it is flagged and kept apart from "
                f"{_language_name(main_language)} analysis"
            )
            entry = entry_by_path[row["source_file"]]
            entry["warnings"].append(msg)
            log.warning("%s: %s", row["source_file"], msg)
    in_main = {r["interview_id"]: r["in_main_language"] for r in interview_rows}
    for r in turn_rows:
        r["in_main_language"] = in_main[r["interview_id"]]

    known_ids = {r["interview_id"] for r in interview_rows} | {Path(r["source_file"]).stem for r in interview_rows}
    unknown_ids = sorted(k for k in metadata.rows if k not in known_ids)
    if unknown_ids:
        shown = f"{len(unknown_ids)} id(s)" if config.redact else ", ".join(map(repr, unknown_ids))  # ids can be names
        log.warning("%s: no interview with %s (ids are file stems)", METADATA_FILE, shown)
    without_meta = sorted(
        r["interview_id"] for r in interview_rows
        if metadata.path and r["interview_id"] not in metadata.rows and Path(r["source_file"]).stem not in metadata.rows
    )

    meta_columns = sorted({k for r in interview_rows for k in r["_meta"]} - set(INTERVIEWS.columns))
    for r in interview_rows:
        meta = r.pop("_meta")
        for col in meta_columns:
            value = meta.get(col)
            r[col] = None if value is None else (value if isinstance(value, str) else json.dumps(value, default=str))
    turns = pd.DataFrame(turn_rows, columns=list(TURNS.columns))
    interviews = pd.DataFrame(interview_rows)
    for col in meta_columns:
        interviews[col] = interviews[col].astype("string")

    status_counts = Counter(e["status"] for e in entries)
    manifest = {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "tool_version": __version__,
        "raw_dir": str(raw_dir.resolve()),
        "inputs_sha256": _inputs_hash([e for e in entries if e["status"] == "ingested"], metadata_sha),
        "config_sha256": config.sha256(),
        "redacted": config.redact,
        "main_language": main_language,
        "counts": {
            "files": len(entries),
            "ingested": status_counts.get("ingested", 0),
            "skipped": status_counts.get("skipped", 0),
            "failed": status_counts.get("failed", 0),
            "interviews": len(interview_rows),
            "turns": len(turn_rows),
            "words": int(sum(r["n_words"] for r in interview_rows)),
        },
        "languages": {
            lang: sorted(r["interview_id"] for r in interview_rows if r["language"] == lang)
            for lang in sorted({r["language"] for r in interview_rows})
        },
        "metadata": {
            "file": metadata.path,
            "sha256": metadata_sha,
            "unknown_ids": unknown_ids,
            "interviews_without_metadata": without_meta,
            "warnings": metadata.warnings,
        },
        "files": entries,
    }
    effective_config = json.loads(config.to_json())
    if config.redact:
        turns, interviews, manifest, effective_config = _redact(turns, interviews, manifest, effective_config,
                                                                config, out_dir)
    with lineage.producing(out_dir, "ingest", config):
        written = [
            write_table(turns, TURNS, out_dir),
            write_table(interviews, INTERVIEWS, out_dir),
            write_json(effective_config, out_dir / EFFECTIVE_CONFIG),
            write_json(manifest, out_dir / MANIFEST),
        ]
    return IngestResult(turns=turns, interviews=interviews, manifest=manifest, out_dir=out_dir, written=written)
