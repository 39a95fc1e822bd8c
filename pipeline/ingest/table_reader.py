"""CSV and JSON Lines files of turns: ``[interview_id,] speaker, text[, start][, codes]``.

One file may hold many conversations; each ``interview_id`` becomes one (without that
column the file is one conversation, named after the file). Each row is one turn, its
``source_line`` the row's line. A blank speaker continues the previous row's speaker
(archive exports write the name once per run of paragraphs); ``RA:`` is read as ``RA``,
and a code that is the initials of exactly one full name in the same conversation
(``DB`` beside ``Devin Becker``) is read as that name. A ``tags`` / ``codes`` column
holds coding (``paper; between``): its codes are kept per turn, and rows are never
merged, so every coded row stays a turn a later coding step can find by its line.
"""

from __future__ import annotations

import csv
import html
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
    "codes": ("codes", "code", "tags", "tag"),
}
_REQUIRED = ("speaker", "text")
_OPTIONAL = ("interview_id", "start", "codes")
# HTML character references left by web exports ("&#8212;", "&amp;"); only complete ones
# with the semicolon, so "R&D" or "&notes" stay as written.
_CHAR_REF_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_CODE_RE = re.compile(r"[A-Z]{2,4}")


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
            f"{file_kind} of turns needs columns {', '.join(_REQUIRED)} "
            f"(optional: {', '.join(_OPTIONAL)}); missing {', '.join(missing)}; "
            f"found {', '.join(c for c in columns if c) or 'none'}"
        )
    return mapping


def _start(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().strip("[]()").strip()  # "[01:09]" as written in transcripts
    try:
        return float(text)
    except ValueError:
        return parse_timestamp(text)


def _codes(value: object) -> tuple[str, ...]:
    """``"paper; between"`` (or a JSON list) -> ``("paper", "between")``, in order, once each."""
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(";")
    return tuple(dict.fromkeys(c for c in (str(i).strip() for i in items if i is not None) if c))


def _speaker(value: object) -> str | None:
    """The speaker as written, without a trailing colon (``RA:`` -> ``RA``); None when blank."""
    name = " ".join(str(value or "").split()).rstrip(":").strip()
    return name or None


def _expand_initials(doc: ParsedDoc) -> None:
    """Read a code (``DB``) as the one full name with those initials (``Devin Becker``)."""
    speakers = list(dict.fromkeys(t.speaker for t in doc.turns if t.speaker))
    by_initials: dict[str, list[str]] = {}
    for name in speakers:
        words = name.split()
        if len(words) >= 2 and all(w[:1].isalpha() for w in words):
            by_initials.setdefault("".join(w[0] for w in words).upper(), []).append(name)
    renamed = {
        code: by_initials[code][0]
        for code in speakers
        if _CODE_RE.fullmatch(code) and len(by_initials.get(code, ())) == 1
    }
    if not renamed:
        return
    for turn in doc.turns:
        turn.speaker = renamed.get(turn.speaker, turn.speaker)
    doc.warnings.append(
        "speaker codes read as the full names they are the initials of: "
        + ", ".join(f"{code} = {name}" for code, name in renamed.items())
    )


def _group(
    rows: list[tuple[int, dict]], mapping: dict[str, str], warnings: list[str]
) -> list[ParsedDoc]:
    docs: dict[str | None, ParsedDoc] = {}
    last_speaker: dict[str | None, str | None] = {}  # a blank speaker continues this one
    for line, row in rows:
        interview: str | None = None
        if "interview_id" in mapping:
            interview = str(row.get(mapping["interview_id"]) or "").strip()
            if not interview:
                warnings.append(f"line {line}: no interview_id; row skipped")
                continue
        speaker = _speaker(row.get(mapping["speaker"])) or last_speaker.get(interview)
        last_speaker[interview] = speaker
        text = _CHAR_REF_RE.sub(
            lambda m: html.unescape(m.group()), str(row.get(mapping["text"]) or "")
        )
        if not text.strip():
            continue
        start = _start(row.get(mapping["start"])) if "start" in mapping else None
        codes = _codes(row.get(mapping["codes"])) if "codes" in mapping else ()
        doc = docs.setdefault(interview, ParsedDoc(turns=[], interview_id=interview))
        doc.turns.append(RawTurn(speaker, text.strip(), line=line, start=start, codes=codes))
    for doc in docs.values():
        _expand_initials(doc)
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
    # Only the delimiter, quote and spacing are taken from the sniffer: it often guesses
    # doublequote=False, which splits a field at every '""' (a quote inside quotes).
    reader = csv.DictReader(
        io.StringIO(text),
        delimiter=dialect.delimiter,
        quotechar=dialect.quotechar or '"',
        skipinitialspace=dialect.skipinitialspace,
        doublequote=True,
    )
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
