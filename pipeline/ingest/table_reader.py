"""CSV and JSON Lines files of turns: ``interview_id, speaker, text[, start]``.

One file may hold many conversations; each ``interview_id`` becomes one.
"""

from __future__ import annotations

import csv
import io
import json
import re

from .decode import decode_text
from .model import FailFile, ParsedDoc, RawTurn, ReadResult
from .turn_parser import parse_timestamp

_ALIASES = {
    "interview_id": (
        "interview_id",
        "interview",
        "conversation_id",
        "conversation",
        "call_id",
        "id",
    ),
    "speaker": ("speaker", "speaker_name", "name", "who"),
    "text": ("text", "utterance", "content", "transcript", "words"),
    "start": ("start", "start_time", "timestamp", "time", "start_seconds"),
}
_REQUIRED = ("interview_id", "speaker", "text")


def _norm(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().casefold())


def _column_map(columns: list[str], file_kind: str) -> dict[str, str]:
    found = {_norm(c): c for c in columns if c is not None}
    mapping = {}
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in found:
                mapping[field] = found[alias]
                break
    missing = [f for f in _REQUIRED if f not in mapping]
    if missing:
        raise FailFile(
            f"{file_kind} of turns needs columns {', '.join(_REQUIRED)} (optional: start); "
            f"missing {', '.join(missing)}; found {', '.join(c for c in columns if c) or 'none'}"
        )
    return mapping


def _start(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return parse_timestamp(text)


def _group(
    rows: list[tuple[int, dict]], mapping: dict[str, str], warnings: list[str]
) -> list[ParsedDoc]:
    docs: dict[str, ParsedDoc] = {}
    for line, row in rows:
        interview = str(row.get(mapping["interview_id"]) or "").strip()
        text = str(row.get(mapping["text"]) or "")
        if not interview:
            warnings.append(f"line {line}: no interview_id; row skipped")
            continue
        if not text.strip():
            continue
        speaker = str(row.get(mapping["speaker"]) or "").strip() or None
        start = _start(row.get(mapping["start"])) if "start" in mapping else None
        doc = docs.setdefault(interview, ParsedDoc(turns=[], interview_id=interview))
        doc.turns.append(RawTurn(speaker, text.strip(), line=line, start=start))
    return list(docs.values())


def read_csv_file(data: bytes, *, name: str) -> ReadResult:
    """Read a CSV of turns (any of ``,;`` or tab as the delimiter).

    Args:
        data: the file's bytes.
        name: its path relative to the raw folder (the reader signature; unused).

    Returns:
        One conversation per ``interview_id``, in order of first appearance.

    Raises:
        FailFile: required columns are missing, the CSV is unreadable, or no row has text.
    """
    text, encoding, warnings = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    try:
        mapping = _column_map(list(reader.fieldnames or []), "CSV")
        rows = []
        while True:
            first_line = reader.line_num + 1  # DictReader.line_num is a row's *last* line
            row = next(reader, None)
            if row is None:
                break
            rows.append((first_line, row))
    except csv.Error as exc:
        raise FailFile(f"not a readable CSV: {exc}") from None
    docs = _group(rows, mapping, warnings)
    if not docs:
        raise FailFile("CSV has a header but no rows with text")
    return ReadResult(docs=docs, encoding=encoding, warnings=warnings)


def read_jsonl_file(data: bytes, *, name: str) -> ReadResult:
    """Read JSON Lines of turns, one object a line; bad lines are skipped with a warning.

    Args:
        data: the file's bytes.
        name: its path relative to the raw folder (the reader signature; unused).

    Returns:
        One conversation per ``interview_id``, in order of first appearance.

    Raises:
        FailFile: no JSON object, required fields missing, or no row has text.
    """
    text, encoding, warnings = decode_text(data)
    rows = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"line {number}: invalid JSON ({exc.msg}); line skipped")
            continue
        if not isinstance(obj, dict):
            warnings.append(f"line {number}: not a JSON object; line skipped")
            continue
        columns.update(dict.fromkeys(obj))
        rows.append((number, obj))
    if not rows:
        raise FailFile("no JSON objects found")
    mapping = _column_map(list(columns), "JSONL")
    docs = _group(rows, mapping, warnings)
    if not docs:
        raise FailFile("JSONL has no rows with text")
    return ReadResult(docs=docs, encoding=encoding, warnings=warnings)
