"""The optional ``metadata.csv`` in the raw folder: one row per interview id."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .decode import decode_text
from .model import FailFile, SkipFile

METADATA_FILE = "metadata.csv"
_ID_COLUMNS = ("interview_id", "interview", "id", "file", "filename")


@dataclass
class MetadataTable:
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    path: str | None = None


def _strip_extension(value: str, extensions: tuple[str, ...]) -> str:
    for ext in extensions:
        if value.lower().endswith(ext):
            return value[: -len(ext)]
    return value


def read_metadata(raw_dir: Path, extensions: tuple[str, ...]) -> MetadataTable:
    """Read the raw folder's optional metadata.csv, one row per interview id.

    Problems (no id column, empty or repeated ids, encoding) become warnings, never
    errors: metadata enriches a run but is not needed for one.

    Args:
        raw_dir: the raw folder.
        extensions: file extensions to strip from ids (``call-01.md`` -> ``call-01``).

    Returns:
        The rows by id (empty when there is no file), its warnings, and its name when found.
    """
    path = Path(raw_dir) / METADATA_FILE
    table = MetadataTable()
    if not path.is_file():
        return table
    table.path = METADATA_FILE
    try:
        text, _, warnings = decode_text(path.read_bytes())
    except (SkipFile, FailFile) as exc:
        table.warnings.append(f"{METADATA_FILE}: {exc}; no metadata used")
        return table
    table.warnings += [f"{METADATA_FILE}: {w}" for w in warnings]
    reader = csv.DictReader(io.StringIO(text))
    columns = [c for c in (reader.fieldnames or []) if c]
    id_col = next((c for c in columns if c.strip().casefold() in _ID_COLUMNS), None)
    if id_col is None:
        table.warnings.append(
            f"{METADATA_FILE}: no id column (expected one of {', '.join(_ID_COLUMNS)}); "
            "no metadata used"
        )
        return table
    for row in reader:
        raw_id = (row.get(id_col) or "").strip()
        if not raw_id:
            table.warnings.append(
                f"{METADATA_FILE}: line {reader.line_num}: empty {id_col}; row ignored"
            )
            continue
        key = _strip_extension(raw_id, extensions)
        if key in table.rows:
            table.warnings.append(
                f"{METADATA_FILE}: line {reader.line_num}: id {key!r} repeated; later row wins"
            )
        table.rows[key] = {
            c.strip(): (v.strip() if isinstance(v, str) else v)
            for c, v in row.items()
            if c and c != id_col and v not in (None, "")
        }
    return table
