"""Readers of researchers' codebooks and coding: CSV, YAML, Taguette, REFI-QDA.

Every reader returns ``(Codebook, list[CodedExcerpt])`` (a codebook-only format gives an
empty list) and raises :class:`~pipeline.coding.model.CodingFormatError` naming the file
and the problem. :func:`read_coding` picks the reader from the file's extension and content.

Hierarchy: a code path is written ``Parent > Child`` in every text format. ``/`` is *not* a
separator unless asked for (``path_sep="/"``): slashes are common inside code names
("and/or", "Q1/Q2"), so splitting on them would silently invent parent codes.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .model import (
    SEP,
    Code,
    Codebook,
    CodedExcerpt,
    CodingFormatError,
    join_path,
    split_path,
)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
MACHINE_MARK = "machine-suggested"
EXAMPLES_HEADING = "Examples:"
DOCUMENT_SUFFIXES = frozenset(
    ".odt .docx .doc .rtf .txt .md .pdf .html .htm .csv .tsv .vtt .srt .json .xml".split()
)

Result = tuple[Codebook, list[CodedExcerpt]]

# Header aliases, compared after lower-casing and dropping spaces, "_" and "-".
INTERVIEW_COLUMNS = (
    "interview",
    "interviewid",
    "document",
    "doc",
    "documentname",
    "file",
    "filename",
    "sourcefile",
    "transcript",
)
CODE_COLUMNS = ("code", "codes", "tag", "tags", "label", "labels", "category")
TEXT_COLUMNS = (
    "text",
    "content",
    "excerpt",
    "quote",
    "quotation",
    "segment",
    "highlight",
    "passage",
    "snippet",
)
ID_COLUMNS = ("id", "highlightid", "excerptid")
SOURCE_COLUMNS = ("source",)
CONFIDENCE_COLUMNS = ("confidence", "score", "probability")
START_COLUMNS = ("start", "startoffset", "startposition", "begin")
END_COLUMNS = ("end", "endoffset", "endposition")
NOTE_COLUMNS = ("note", "notes", "memo", "comment")
NAME_COLUMNS = ("name", "code", "codename", "tag", "label", "category")
DESCRIPTION_COLUMNS = ("description", "definition", "desc", "meaning")
EXAMPLE_COLUMNS = ("examples", "example", "examplequotes")
PARENT_COLUMNS = ("parent", "parentcode", "parentpath")
COLOR_COLUMNS = ("color", "colour")
TAGUETTE_COLUMNS = ("id", "document", "tag", "content")


def interview_name(document: str) -> str:
    """The interview id of a document name: its stem when it ends in a document suffix.

    ``"P2_GMT20211119.odt"`` -> ``"P2_GMT20211119"`` (the pipeline's interview ids are file
    stems); ``"Dr. Smith"`` stays as it is.
    """
    name = document.strip()
    p = PurePosixPath(name.replace("\\", "/"))
    if p.suffix.lower() in DOCUMENT_SUFFIXES and p.stem:
        return p.stem
    return name


# ---------------------------------------------------------------------------- dispatch


def read_coding(
    path: str | Path, codebook: Codebook | None = None, *, path_sep: str = ">"
) -> Result:
    """Read any supported coding or codebook file.

    ``.qdpx`` (REFI-QDA project), ``.qdc`` (REFI-QDA codebook), ``.qde`` (a bare project
    XML with inline texts), ``.yaml``/``.yml`` (codebook), ``.sqlite3``/``.sqlite``/``.db``
    (Taguette project), ``.csv``/``.tsv``: a Taguette highlights export (columns id,
    document, tag, content), a coded-excerpts file (interview, code, text) or a codebook
    (name, description, ...), told apart by their columns. A file with another extension
    is recognised by its first bytes (zip, SQLite, XML root element).

    Args:
        path: the file.
        codebook: if given, every code in the file must be in it (by path, or by a name
            only one code has); the result then carries this codebook.
        path_sep: the hierarchy separator in text formats.
    """
    path = Path(path)
    kind = _kind(path)
    if kind == "qdpx":
        result = read_qdpx(path)
    elif kind == "qdc":
        result = read_qdc(path)
    elif kind == "qde":
        result = read_qde(path)
    elif kind == "yaml":
        result = read_codebook_yaml(path, path_sep=path_sep)
    elif kind == "sqlite":
        result = read_taguette_sqlite(path, path_sep=path_sep)
    else:
        table = _read_table(path)
        if _has_columns(table.header, TAGUETTE_COLUMNS) and not _has_any(
            table.header, ("interview", "code", "text")
        ):
            return read_taguette_csv(path, codebook, path_sep=path_sep)
        if _find_column(table.header, TEXT_COLUMNS) is not None:
            return read_excerpts_csv(path, codebook, path_sep=path_sep)
        if _find_column(table.header, NAME_COLUMNS) is not None:
            result = read_codebook_csv(path, path_sep=path_sep)
        else:
            raise CodingFormatError(
                f"{path}: columns {table.header} are neither coded excerpts "
                "(interview, code, text) nor a codebook (name, description)"
            )
    if codebook is not None and result[1]:
        return codebook, _check_codes(path, result[1], codebook)
    return result


def read_codebook(path: str | Path, *, path_sep: str = ">") -> Codebook:
    """The codebook of any file :func:`read_coding` reads."""
    return read_coding(path, path_sep=path_sep)[0]


def _kind(path: Path) -> str:
    if not path.is_file():
        raise CodingFormatError(f"{path}: no such file")
    suffix = path.suffix.lower()
    by_suffix = {
        ".qdpx": "qdpx",
        ".qdc": "qdc",
        ".qde": "qde",
        ".yaml": "yaml",
        ".yml": "yaml",
        ".sqlite3": "sqlite",
        ".sqlite": "sqlite",
        ".db": "sqlite",
        ".csv": "csv",
        ".tsv": "csv",
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    with path.open("rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04"):
        return "qdpx"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    text = head.decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        root = _root_name(text)
        if root == "CodeBook":
            return "qdc"
        if root == "Project":
            return "qde"
    raise CodingFormatError(
        f"{path}: unknown coding format (extension {suffix or 'none'}); expected .csv, "
        ".tsv, .yaml, .qdpx, .qdc, .qde or a Taguette .sqlite3"
    )


def _root_name(text: str) -> str | None:
    m = re.search(r"<(?![?!])(?:[\w.-]+:)?([\w.-]+)", text)
    return m.group(1) if m else None


def _check_codes(
    path: Path, excerpts: list[CodedExcerpt], codebook: Codebook
) -> list[CodedExcerpt]:
    out = []
    for ex in excerpts:
        codes = []
        for code in ex.codes:
            found = codebook.find(code)
            if found is None:
                raise CodingFormatError(
                    f"{path}: unknown code {code!r} referenced (interview {ex.interview!r}); "
                    "it is not in the codebook"
                )
            codes.append(found.path)
        out.append(_replace_codes(ex, codes))
    return out


def _replace_codes(ex: CodedExcerpt, codes: Iterable[str]) -> CodedExcerpt:
    return CodedExcerpt(
        ex.interview, tuple(codes), ex.text, ex.source, ex.confidence, ex.start, ex.end, ex.note
    )


# ---------------------------------------------------------------------------- CSV tables


@dataclass
class _Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)


def _decode(path: Path, data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_table(path: Path) -> _Table:
    text = _decode(path, path.read_bytes())
    first = text.split("\n", 1)[0]
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        delimiter = max(",\t;", key=first.count) if first.strip() else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CodingFormatError(f"{path}: the file is empty") from None
    except csv.Error as e:
        raise CodingFormatError(f"{path}: not a readable CSV: {e}") from None
    header = [h.strip() for h in header]
    rows = []
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as e:
        raise CodingFormatError(
            f"{path}, line {reader.line_num}: not a readable CSV: {e}"
        ) from None
    return _Table(header, rows)


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def _find_column(header: Sequence[str], aliases: Sequence[str]) -> int | None:
    """The index of the first column matching the earliest alias, or None."""
    normed = [_norm(h) for h in header]
    for alias in aliases:
        if alias in normed:
            return normed.index(alias)
    return None


def _has_columns(header: Sequence[str], names: Sequence[str]) -> bool:
    normed = {_norm(h) for h in header}
    return all(n in normed for n in names)


def _has_any(header: Sequence[str], names: Sequence[str]) -> bool:
    normed = {_norm(h) for h in header}
    return any(n in normed for n in names)


def _need(path: Path, header: Sequence[str], aliases: Sequence[str], what: str) -> int:
    col = _find_column(header, aliases)
    if col is None:
        raise CodingFormatError(
            f"{path}: missing column {what!r} (accepted names: {', '.join(aliases)}; "
            f"the file has {', '.join(header) or 'no columns'})"
        )
    return col


def _cell(cells: list[str], col: int | None) -> str:
    if col is None or col >= len(cells):
        return ""
    return cells[col].strip()


def _code_path(raw: str, path_sep: str) -> str:
    return join_path(split_path(raw, path_sep))


# ---------------------------------------------------------------------------- excerpts CSV


def read_excerpts_csv(
    path: str | Path, codebook: Codebook | None = None, *, path_sep: str = ">"
) -> Result:
    """A coded-excerpts CSV: one row per excerpt (or per excerpt and code).

    Columns (header names in any case; aliases in brackets): ``interview`` [interview_id,
    document, doc, file, filename, source_file, transcript], ``code`` [codes, tag, tags,
    label, labels, category], ``text`` [content, excerpt, quote, quotation, segment,
    highlight, passage, snippet]; optional ``id``, ``source`` (human/machine),
    ``confidence``, ``start``, ``end``, ``note`` [notes, memo, comment]. Extra columns are
    ignored. ``.tsv`` files and ``;``- or tab-delimited files are read too.

    A code cell holds one code or several separated by ``;`` (a cell that is, whole, a code
    of the given codebook is not split); a hierarchical code is ``Parent > Child``. Rows of
    one excerpt (same id, or else same interview, text and offsets) are merged, their codes
    kept in first-seen order; a row repeating a code the excerpt already has starts another
    excerpt of the same words. A row with an empty code cell is an excerpt with no code.
    Interview names are document stems (:func:`interview_name`).

    Args:
        codebook: if given, every code must be in it (unknown codes are an error).
    """
    path = Path(path)
    return _read_excerpt_rows(path, _read_table(path), codebook, path_sep, split_cells=True)


def read_taguette_csv(
    path: str | Path, codebook: Codebook | None = None, *, path_sep: str = ">"
) -> Result:
    """Taguette's highlights export: columns ``id, document, tag, content``, one row per
    highlight and tag. Rows with one id are one excerpt; a tag cell is one tag (never
    split on ``;``). The codebook is the tags in first-seen order unless ``codebook`` (e.g.
    Taguette's codebook export read with :func:`read_codebook_csv`) is given."""
    path = Path(path)
    table = _read_table(path)
    for name in TAGUETTE_COLUMNS:
        _need(path, table.header, (name,), name)
    return _read_excerpt_rows(path, table, codebook, path_sep, split_cells=False)


def _read_excerpt_rows(
    path: Path, table: _Table, codebook: Codebook | None, path_sep: str, split_cells: bool
) -> Result:
    h = table.header
    c_interview = _need(path, h, INTERVIEW_COLUMNS, "interview")
    c_code = _need(path, h, CODE_COLUMNS, "code")
    c_text = _need(path, h, TEXT_COLUMNS, "text")
    c_id = _find_column(h, ID_COLUMNS)
    c_source = _find_column(h, SOURCE_COLUMNS)
    c_conf = _find_column(h, CONFIDENCE_COLUMNS)
    c_start = _find_column(h, START_COLUMNS)
    c_end = _find_column(h, END_COLUMNS)
    c_note = _find_column(h, NOTE_COLUMNS)

    rows: list[dict[str, Any]] = []
    by_key: dict[tuple, list[dict[str, Any]]] = {}
    seen_codes: list[str] = []
    for line, cells in table.rows:
        where = f"{path}, line {line}"
        interview = _cell(cells, c_interview)
        text = cells[c_text] if c_text < len(cells) else ""
        if not interview:
            raise CodingFormatError(f"{where}: empty interview cell")
        if not text.strip():
            raise CodingFormatError(f"{where}: empty text cell")
        codes = _parse_codes(where, _cell(cells, c_code), codebook, path_sep, split_cells)
        start = _int_cell(where, cells, c_start, "start")
        end = _int_cell(where, cells, c_end, "end")
        ident = _cell(cells, c_id)
        source = _cell(cells, c_source).lower() or "human"
        if source not in ("human", "machine"):
            raise CodingFormatError(f"{where}: source {source!r} is not human or machine")
        key = ("id", ident) if ident else ("row", interview, text, start, end, source)
        row = _merge_target(by_key.get(key, []), codes, by_id=bool(ident))
        if row is None:
            conf = _cell(cells, c_conf)
            try:
                confidence = float(conf) if conf else None
            except ValueError:
                raise CodingFormatError(f"{where}: confidence {conf!r} is not a number") from None
            row = {
                "interview": interview_name(interview),
                "codes": [],
                "text": text,
                "source": source,
                "confidence": confidence,
                "start": start,
                "end": end,
                "note": _cell(cells, c_note) or None,
            }
            rows.append(row)
            by_key.setdefault(key, []).append(row)
        for code in codes:
            if code not in row["codes"]:
                row["codes"].append(code)
            if code not in seen_codes:
                seen_codes.append(code)
    excerpts = []
    for row in rows:
        try:
            excerpts.append(CodedExcerpt(**row))
        except ValueError as e:
            raise CodingFormatError(f"{path}: interview {row['interview']!r}: {e}") from None
    book = codebook if codebook is not None else Codebook.from_paths(seen_codes)
    return book, excerpts


def _merge_target(
    candidates: list[dict[str, Any]], codes: list[str], by_id: bool
) -> dict[str, Any] | None:
    """The excerpt a row adds its codes to: the one with its id; else the latest one with
    its interview, text and offsets that has none of its codes yet (so a second highlight
    of the same words with the same code stays a second excerpt); else None (a new one)."""
    if by_id or not codes:
        return candidates[-1] if candidates else None
    for row in reversed(candidates):
        if codes and not any(c in row["codes"] for c in codes):
            return row
    return None


def _parse_codes(
    where: str, cell: str, codebook: Codebook | None, path_sep: str, split_cells: bool
) -> list[str]:
    if not cell:
        return []
    if codebook is not None and codebook.find(cell) is not None:
        raw = [cell]
    elif split_cells:
        raw = [c for c in (p.strip() for p in cell.split(";")) if c]
    else:
        raw = [cell]
    out = []
    for r in raw:
        try:
            path = _code_path(r, path_sep)
        except ValueError as e:
            raise CodingFormatError(f"{where}: {e}") from None
        if codebook is not None:
            found = codebook.find(path)
            if found is None:
                raise CodingFormatError(
                    f"{where}: unknown code {r!r} referenced; it is not in the codebook"
                )
            path = found.path
        out.append(path)
    return out


def _int_cell(where: str, cells: list[str], col: int | None, what: str) -> int | None:
    value = _cell(cells, col)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise CodingFormatError(f"{where}: {what} {value!r} is not a whole number") from None


# ---------------------------------------------------------------------------- codebooks


@dataclass
class _Entry:
    parts: tuple[str, ...]
    description: str = ""
    color: str | None = None
    examples: tuple[str, ...] = ()
    where: str = ""


def _build_codebook(
    path: Path, entries: Iterable[_Entry], groups: Mapping[str, Sequence[str]] | None = None
) -> Codebook:
    """A codebook from entries in any order: missing ancestors are added, every parent is
    placed before its children, siblings keep the order of the file."""
    by_path: dict[str, _Entry] = {}
    defined: set[str] = set()
    for e in entries:
        key = join_path(e.parts)
        if key in defined:
            raise CodingFormatError(
                f"{path}: code {key!r} is defined twice ({by_path[key].where} and {e.where})"
            )
        defined.add(key)
        for depth in range(1, len(e.parts)):
            anc = join_path(e.parts[:depth])
            by_path.setdefault(anc, _Entry(e.parts[:depth], where=e.where))
        # An ancestor added implicitly above may now be defined explicitly.
        by_path[key] = e
    kids: dict[str | None, list[str]] = {}
    for key, e in by_path.items():
        parent = join_path(e.parts[:-1]) if len(e.parts) > 1 else None
        kids.setdefault(parent, []).append(key)
    codes: list[Code] = []

    def visit(key: str) -> None:
        e = by_path[key]
        try:
            codes.append(
                Code(
                    e.parts[-1],
                    e.description,
                    join_path(e.parts[:-1]) or None,
                    e.color,
                    e.examples,
                )
            )
        except ValueError as err:
            raise CodingFormatError(f"{path}: {e.where}: {err}") from None
        for child in kids.get(key, []):
            visit(child)

    for root in kids.get(None, []):
        visit(root)
    try:
        return Codebook(tuple(codes), dict(groups or {}))
    except (ValueError, KeyError) as err:
        raise CodingFormatError(f"{path}: {err}") from None


def _examples(value: Any, where: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(x.strip() for x in value.split(";") if x.strip())
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return tuple(x.strip() for x in value if x.strip())
    raise CodingFormatError(f"{path}: {where}: examples must be text or a list of texts")


def read_codebook_csv(path: str | Path, *, path_sep: str = ">") -> Result:
    """A codebook CSV: one row per code.

    Columns: ``name`` [code, code_name, tag, label, category] (required; may be a path
    ``Parent > Child``), ``description`` [definition, desc, meaning], ``examples``
    [example] (``;``-separated), ``parent`` [parent_code, parent_path] (a path),
    ``color`` [colour] (``#RRGGBB``). Other columns (Taguette's "number of highlights")
    are ignored. Parents named but not listed are added; rows may come in any order.
    """
    path = Path(path)
    table = _read_table(path)
    h = table.header
    c_name = _need(path, h, NAME_COLUMNS, "name")
    c_desc = _find_column(h, DESCRIPTION_COLUMNS)
    c_ex = _find_column(h, EXAMPLE_COLUMNS)
    c_parent = _find_column(h, PARENT_COLUMNS)
    c_color = _find_column(h, COLOR_COLUMNS)
    entries = []
    for line, cells in table.rows:
        where = f"line {line}"
        name = _cell(cells, c_name)
        if not name:
            raise CodingFormatError(f"{path}, {where}: empty code name")
        try:
            parts = split_path(name, path_sep)
            parent = _cell(cells, c_parent)
            if parent:
                parts = split_path(parent, path_sep) + parts
        except ValueError as e:
            raise CodingFormatError(f"{path}, {where}: {e}") from None
        entries.append(
            _Entry(
                parts,
                _cell(cells, c_desc),
                _cell(cells, c_color) or None,
                _examples(_cell(cells, c_ex), where, path),
                where,
            )
        )
    return _build_codebook(path, entries), []


_YAML_KEYS = {
    "name": "name",
    "description": "description",
    "definition": "description",
    "examples": "examples",
    "example": "examples",
    "color": "color",
    "colour": "color",
    "children": "children",
    "codes": "children",
    "subcodes": "children",
}


def read_codebook_yaml(path: str | Path, *, path_sep: str = ">") -> Result:
    """A YAML codebook: a list of codes, or a mapping of code name to code.

    A code is a name (a bare string), or a mapping with ``name`` (in the list form),
    ``description`` [definition], ``examples`` (a list, or ``;``-separated text),
    ``color`` and ``children`` [codes, subcodes] (the same forms, nested); in the mapping
    form a code's value may also be its description (a string), its children (a list) or
    empty. The whole may be wrapped as ``{codes: ..., groups: {group: [code paths]}}``
    (``codebook`` and ``themes`` are accepted for ``codes`` and ``groups``).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(_decode(path, path.read_bytes()))
    except yaml.YAMLError as e:
        raise CodingFormatError(f"{path}: not valid YAML: {e}") from None
    groups: dict[str, list[str]] = {}
    if isinstance(data, dict) and ({"codes", "codebook"} & data.keys()):
        extra = set(data) - {"codes", "codebook", "groups", "themes", "name", "description"}
        if extra:
            raise CodingFormatError(f"{path}: unknown top-level keys {sorted(extra)}")
        raw_groups = data.get("groups", data.get("themes")) or {}
        if not isinstance(raw_groups, dict) or not all(
            isinstance(v, list) for v in raw_groups.values()
        ):
            raise CodingFormatError(f"{path}: groups must map a group name to a list of codes")
        groups = {str(k): [_code_path(str(c), path_sep) for c in v] for k, v in raw_groups.items()}
        data = data.get("codes", data.get("codebook"))
    if data is None:
        raise CodingFormatError(f"{path}: no codes in the file")
    entries: list[_Entry] = []
    _yaml_codes(path, data, (), entries, path_sep)
    return _build_codebook(path, entries, groups), []


def _yaml_codes(
    path: Path, data: Any, parent: tuple[str, ...], out: list[_Entry], sep: str
) -> None:
    if isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, str):
                _yaml_code(path, item, {}, parent, out, sep, f"item {i + 1}")
            elif isinstance(item, dict):
                spec = dict(item)
                name = spec.pop("name", None)
                if name is None:
                    if len(item) == 1:  # - Cost: {description: ...}
                        ((name, value),) = item.items()
                        _yaml_named(path, str(name), value, parent, out, sep)
                        continue
                    raise CodingFormatError(
                        f"{path}: code {i + 1} under {join_path(parent) or 'the top'} has no name"
                    )
                _yaml_code(path, str(name), spec, parent, out, sep, f"item {i + 1}")
            else:
                raise CodingFormatError(f"{path}: code {i + 1}: expected a name or a mapping")
    elif isinstance(data, dict):
        for name, value in data.items():
            _yaml_named(path, str(name), value, parent, out, sep)
    else:
        raise CodingFormatError(
            f"{path}: codes must be a list or a mapping, got {type(data).__name__}"
        )


def _yaml_named(path: Path, name: str, value: Any, parent: tuple, out: list, sep: str) -> None:
    if value is None:
        spec: dict = {}
    elif isinstance(value, str):
        spec = {"description": value}
    elif isinstance(value, list):
        spec = {"children": value}
    elif isinstance(value, dict):
        spec = dict(value)
    else:
        raise CodingFormatError(f"{path}: code {name!r}: unexpected value {value!r}")
    _yaml_code(path, name, spec, parent, out, sep, f"code {name!r}")


def _yaml_code(
    path: Path, name: str, spec: dict, parent: tuple, out: list, sep: str, where: str
) -> None:
    fields: dict[str, Any] = {}
    for key, value in spec.items():
        canon = _YAML_KEYS.get(str(key).lower())
        if canon is None or canon == "name":
            raise CodingFormatError(f"{path}: {where}: unknown key {key!r}")
        fields[canon] = value
    try:
        parts = parent + split_path(name, sep)
    except ValueError as e:
        raise CodingFormatError(f"{path}: {where}: {e}") from None
    desc = fields.get("description") or ""
    color = fields.get("color")
    out.append(
        _Entry(
            parts,
            str(desc).strip(),
            str(color) if color else None,
            _examples(fields.get("examples"), where, path),
            where,
        )
    )
    if fields.get("children") is not None:
        _yaml_codes(path, fields["children"], parts, out, sep)


# ---------------------------------------------------------------------------- Taguette


class _TextOf(HTMLParser):
    """The text nodes of an HTML fragment, concatenated (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """The text of an HTML fragment, tags dropped: what Taguette's offsets count."""
    parser = _TextOf()
    parser.feed(html.replace("\r\n", "\n").replace("\r", "\n"))
    parser.close()
    return "".join(parser.parts)


TAGUETTE_TABLES = ("documents", "highlights", "tags", "highlight_tags")


def read_taguette_sqlite(
    path: str | Path, project_id: int | None = None, *, path_sep: str = ">"
) -> Result:
    """A Taguette project database (``.sqlite3``), read only.

    The codebook is the project's tags (``tags.path``, ``tags.description``) in id order.
    Each highlight with at least one tag is an excerpt: its text is its ``snippet`` (HTML,
    tags dropped); ``start``/``end`` are its position in the document's text in code points
    (Taguette stores UTF-8 byte offsets into the text of the document's HTML, tags not
    counted: they are converted). Where the document's text at those offsets is not the
    snippet (a document edited afterwards), the snippet is kept and the offsets dropped.
    Highlights without a tag are skipped (Taguette's CSV export leaves them out too).

    Args:
        project_id: which project, when the database holds several.
    """
    path = Path(path)
    if not path.is_file():
        raise CodingFormatError(f"{path}: no such file")
    with path.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise CodingFormatError(f"{path}: not an SQLite database")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise CodingFormatError(f"{path}: cannot open the database: {e}") from None
    try:
        return _read_taguette(path, con, project_id, path_sep)
    except sqlite3.Error as e:
        raise CodingFormatError(f"{path}: not a readable Taguette project: {e}") from None
    finally:
        con.close()


def _read_taguette(path: Path, con: sqlite3.Connection, project_id: int | None, sep: str) -> Result:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in TAGUETTE_TABLES if t not in tables]
    if missing:
        raise CodingFormatError(
            f"{path}: not a Taguette project: missing tables {', '.join(missing)}"
        )
    hl_columns = {r[1] for r in con.execute("PRAGMA table_info(highlights)")}
    projects = sorted(
        {r[0] for r in con.execute("SELECT DISTINCT project_id FROM documents")}
        | {r[0] for r in con.execute("SELECT DISTINCT project_id FROM tags")}
    )
    if project_id is None:
        if len(projects) > 1:
            raise CodingFormatError(
                f"{path}: the database holds {len(projects)} projects ({projects}); give project_id"
            )
        project_id = projects[0] if projects else 0
    elif project_id not in projects:
        raise CodingFormatError(f"{path}: no project {project_id} (projects: {projects})")

    tag_path: dict[int, str] = {}
    entries = []
    for tid, raw, desc in con.execute(
        "SELECT id, path, description FROM tags WHERE project_id = ? ORDER BY id", (project_id,)
    ):
        try:
            parts = split_path(raw, sep)
        except ValueError as e:
            raise CodingFormatError(f"{path}: tag {tid}: {e}") from None
        tag_path[tid] = join_path(parts)
        entries.append(_Entry(parts, (desc or "").strip(), where=f"tag {tid}"))
    codebook = _build_codebook(path, entries)

    docs: dict[int, tuple[str, str, bytes]] = {}
    for did, name, contents in con.execute(
        "SELECT id, name, contents FROM documents WHERE project_id = ? ORDER BY id", (project_id,)
    ):
        text = html_text(contents or "")
        docs[did] = (interview_name(name), text, text.encode("utf-8"))
    tags_of: dict[int, list[str]] = {}
    for hid, tid in con.execute(
        "SELECT ht.highlight_id, ht.tag_id FROM highlight_tags ht "
        "JOIN tags t ON t.id = ht.tag_id WHERE t.project_id = ? ORDER BY ht.highlight_id, t.id",
        (project_id,),
    ):
        tags_of.setdefault(hid, []).append(tag_path[tid])
    snippet = "snippet" if "snippet" in hl_columns else "NULL"
    excerpts = []
    for hid, did, start_b, end_b, snip in con.execute(
        f"SELECT id, document_id, start_offset, end_offset, {snippet} FROM highlights "
        "ORDER BY document_id, start_offset, id"
    ):
        if did not in docs or hid not in tags_of:
            continue
        interview, text, data = docs[did]
        start = len(data[:start_b].decode("utf-8", "ignore"))
        end = len(data[:end_b].decode("utf-8", "ignore"))
        sliced = text[start:end]
        excerpt_text = html_text(snip) if snip else sliced
        if not excerpt_text.strip():
            continue
        offsets_ok = 0 <= start_b <= end_b <= len(data) and sliced == excerpt_text
        excerpts.append(
            CodedExcerpt(
                interview,
                tuple(tags_of[hid]),
                excerpt_text,
                start=start if offsets_ok else None,
                end=end if offsets_ok else None,
            )
        )
    return codebook, excerpts


# ---------------------------------------------------------------------------- REFI-QDA


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    """Child elements called ``name`` in any (or no) namespace: readers are lenient."""
    return [c for c in el if isinstance(c.tag, str) and _local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    found = _children(el, name)
    return found[0] if found else None


def _child_text(el: ET.Element, name: str) -> str:
    c = _child(el, name)
    return (c.text or "").strip() if c is not None else ""


def _parse_xml(where: str, data: bytes, root_name: str) -> ET.Element:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise CodingFormatError(f"{where}: bad XML: {e}") from None
    if _local(root.tag) != root_name:
        raise CodingFormatError(
            f"{where}: the root element is {_local(root.tag)!r}, not {root_name!r}"
        )
    return root


def split_examples(description: str) -> tuple[str, tuple[str, ...]]:
    """A REFI-QDA description and the examples the exporters append to it.

    ``"Cost of tools.\\n\\nExamples:\\n- too pricey\\n- we pay"`` ->
    ``("Cost of tools.", ("too pricey", "we pay"))``.
    """
    text = description.strip()
    head, marker, tail = text.rpartition(EXAMPLES_HEADING)
    if not marker or (head and not head.endswith("\n")):
        return text, ()
    lines = [ln.strip() for ln in tail.strip("\n").split("\n")]
    if not lines or not all(ln.startswith("- ") for ln in lines):
        return text, ()
    return head.strip(), tuple(ln[2:].strip() for ln in lines)


def _read_codes(where: str, codes_el: ET.Element | None) -> tuple[list[Code], dict[str, str]]:
    """The codes under a ``Codes`` element (preorder) and guid -> path."""
    codes: list[Code] = []
    guids: dict[str, str] = {}
    if codes_el is None:
        return codes, guids

    def visit(el: ET.Element, parent: str | None) -> None:
        guid = el.get("guid")
        name = (el.get("name") or "").strip()
        if not guid or not name:
            raise CodingFormatError(f"{where}: a Code without guid or name")
        color = el.get("color")
        desc, examples = split_examples(_child_text(el, "Description"))
        try:
            code = Code(
                name.replace(">", "\u203a"), desc, parent, color if _rgb(color) else None, examples
            )
        except ValueError as e:
            raise CodingFormatError(f"{where}: code {name!r}: {e}") from None
        if _guid(guid) in guids:
            raise CodingFormatError(f"{where}: two codes have guid {guid}")
        codes.append(code)
        guids[_guid(guid)] = code.path
        for child in _children(el, "Code"):
            visit(child, code.path)

    for el in _children(codes_el, "Code"):
        visit(el, None)
    return codes, guids


def _rgb(value: str | None) -> bool:
    return (
        bool(value) and re.fullmatch(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})", value.strip()) is not None
    )


def _guid(value: str) -> str:
    return value.strip().strip("{}").lower()


def _read_sets(
    where: str, parent: ET.Element | None, guids: dict[str, str]
) -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    if parent is None:
        return {}
    for s in _children(parent, "Set"):
        name = s.get("name") or s.get("guid") or "set"
        members = groups.setdefault(name, [])
        for m in _children(s, "MemberCode"):
            ref = m.get("targetGUID") or m.get("guid") or ""
            if _guid(ref) not in guids:
                raise CodingFormatError(f"{where}: set {name!r} references unknown code {ref!r}")
            if guids[_guid(ref)] not in members:
                members.append(guids[_guid(ref)])
    return {k: tuple(v) for k, v in groups.items()}


def _codebook(where: str, codes: list[Code], groups: dict[str, tuple[str, ...]]) -> Codebook:
    try:
        return Codebook(tuple(codes), groups)
    except (ValueError, KeyError) as e:
        raise CodingFormatError(f"{where}: {e}") from None


def read_qdc(path: str | Path) -> Result:
    """A REFI-QDA codebook (``.qdc``): ``CodeBook/Codes/Code`` (nested for the hierarchy;
    name, color, Description) and ``Sets/Set`` (code groups, MemberCode ``guid`` or
    ``targetGUID``). Descriptions ending in an "Examples:" list of ``- `` lines give the
    codes' examples (the form the exporters write)."""
    path = Path(path)
    if not path.is_file():
        raise CodingFormatError(f"{path}: no such file")
    root = _parse_xml(str(path), path.read_bytes(), "CodeBook")
    codes_el = _child(root, "Codes")
    if codes_el is None:
        raise CodingFormatError(f"{path}: no Codes element")
    codes, guids = _read_codes(str(path), codes_el)
    return _codebook(str(path), codes, _read_sets(str(path), _child(root, "Sets"), guids)), []


def read_qdpx(path: str | Path) -> Result:
    """A REFI-QDA project (``.qdpx``: a zip of ``project.qde`` and ``sources/``).

    The codebook is ``CodeBook`` (hierarchy, descriptions, colours) with ``Sets`` as groups.
    Each ``TextSource/PlainTextSelection`` with at least one ``Coding`` is an excerpt: its
    text is the source's plain text sliced at ``startPosition:endPosition`` (code points),
    its interview the source's name (a document suffix dropped). A selection is "machine"
    when its coding's (or its) creating user is named "... (machine)" or its description
    starts with "machine-suggested" (", confidence 0.83" gives the confidence); its note is
    its ``Description`` and the ``Note``s it refers to. Codings of a whole source (not of
    a selection) and non-text sources are not read.
    """
    return _read_project(Path(path), bare=False)[:2]


def read_qdpx_sources(path: str | Path) -> dict[str, str]:
    """The plain text of every text source of a ``.qdpx``, by source name."""
    return _read_project(Path(path), bare=False)[2]


def read_qde(path: str | Path) -> Result:
    """A bare ``project.qde`` whose sources hold their text inline (``PlainTextContent``)
    or in files beside it (``relative://``/``absolute://`` paths)."""
    return _read_project(Path(path), bare=True)[:2]


def _read_project(path: Path, bare: bool) -> tuple[Codebook, list[CodedExcerpt], dict[str, str]]:
    if not path.is_file():
        raise CodingFormatError(f"{path}: no such file")
    if bare:
        return _project(path, f"{path}", path.read_bytes(), None)
    if not zipfile.is_zipfile(path):
        raise CodingFormatError(
            f"{path}: not a zip archive (a .qdpx is a zip holding project.qde and sources/)"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            qde = [n for n in names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
            if "project.qde" in names:
                qde = ["project.qde"]
            if len(qde) != 1:
                raise CodingFormatError(
                    f"{path}: expected one project.qde in the archive, found {qde or 'none'}"
                )
            return _project(path, f"{path}: {qde[0]}", zf.read(qde[0]), zf)
    except zipfile.BadZipFile as e:
        raise CodingFormatError(f"{path}: broken zip archive: {e}") from None


def _source_text(where: str, el: ET.Element, zf: zipfile.ZipFile | None, base: Path) -> str | None:
    inline = _child(el, "PlainTextContent")
    if inline is not None:
        return inline.text or ""
    ref = el.get("plainTextPath")
    if not ref:
        return None
    if ref.startswith("internal://"):
        member = "sources/" + ref[len("internal://") :]
        if zf is None:
            raise CodingFormatError(f"{where}: {ref} needs the .qdpx archive")
        try:
            data = zf.read(member)
        except KeyError:
            raise CodingFormatError(f"{where}: {member} is not in the archive") from None
    else:
        target = ref
        for scheme in ("relative://", "absolute://", "file://"):
            if target.startswith(scheme):
                target = target[len(scheme) :]
        file = Path(target) if Path(target).is_absolute() else base / target
        if not file.is_file():
            return None
        data = file.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CodingFormatError(f"{where}: {ref} is not UTF-8 text") from None


def _project(
    path: Path, where: str, data: bytes, zf: zipfile.ZipFile | None
) -> tuple[Codebook, list[CodedExcerpt], dict[str, str]]:
    root = _parse_xml(where, data, "Project")
    users = {
        _guid(u.get("guid", "")): u.get("name") or ""
        for users_el in _children(root, "Users")
        for u in _children(users_el, "User")
    }
    book_el = _child(root, "CodeBook")
    codes, guids = _read_codes(where, _child(book_el, "Codes") if book_el is not None else None)
    codebook = _codebook(where, codes, _read_sets(where, _child(root, "Sets"), guids))

    notes: dict[str, str] = {}
    for notes_el in _children(root, "Notes"):
        for note in _children(notes_el, "Note"):
            text = _source_text(where, note, zf, path.parent) or _child_text(note, "Description")
            notes[_guid(note.get("guid", ""))] = text.strip()

    excerpts: list[CodedExcerpt] = []
    sources: dict[str, str] = {}
    base = Path(root.get("basePath") or path.parent)
    for sources_el in _children(root, "Sources"):
        for src in _children(sources_el, "TextSource"):
            name = src.get("name") or src.get("guid") or "source"
            sel_els = _children(src, "PlainTextSelection")
            text = _source_text(f"{where}: source {name!r}", src, zf, base)
            if text is None:
                if any(_children(s, "Coding") for s in sel_els):
                    raise CodingFormatError(
                        f"{where}: source {name!r} has coded selections but its text "
                        f"({src.get('plainTextPath')}) is not available"
                    )
                continue
            if name in sources:
                raise CodingFormatError(f"{where}: two text sources are named {name!r}")
            sources[name] = text
            for sel in sel_els:
                ex = _selection(where, name, text, sel, guids, users, notes)
                if ex is not None:
                    excerpts.append(ex)
    return codebook, excerpts, sources


_MACHINE_RE = re.compile(
    rf"^{MACHINE_MARK}(?:,\s*confidence\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?))?[ \t]*$",
    re.IGNORECASE,
)


def _selection(
    where: str,
    source: str,
    text: str,
    sel: ET.Element,
    guids: dict[str, str],
    users: dict[str, str],
    notes: dict[str, str],
) -> CodedExcerpt | None:
    label = sel.get("name") or sel.get("guid") or "?"
    codings = _children(sel, "Coding")
    if not codings:
        return None
    try:
        start = int(sel.get("startPosition", ""))
        end = int(sel.get("endPosition", ""))
    except ValueError:
        raise CodingFormatError(
            f"{where}: selection {label!r} in {source!r} has no integer start/endPosition"
        ) from None
    if not 0 <= start <= end <= len(text):
        raise CodingFormatError(
            f"{where}: selection {label!r} ({start}..{end}) is outside source {source!r} "
            f"({len(text)} characters)"
        )
    codes: list[str] = []
    creators = [sel.get("creatingUser")]
    for coding in codings:
        creators.append(coding.get("creatingUser"))
        for ref in _children(coding, "CodeRef"):
            target = ref.get("targetGUID", "")
            if _guid(target) not in guids:
                raise CodingFormatError(
                    f"{where}: selection {label!r} in {source!r} references unknown code {target!r}"
                )
            if guids[_guid(target)] not in codes:
                codes.append(guids[_guid(target)])
    texts = [_child_text(sel, "Description")]
    texts += [notes.get(_guid(r.get("targetGUID", "")), "") for r in _children(sel, "NoteRef")]
    unique: list[str] = []
    for t in texts:
        if t and t not in unique:
            unique.append(t)
    note_text = "\n\n".join(unique)
    machine = any(users.get(_guid(u or ""), "").endswith("(machine)") for u in creators)
    confidence = None
    first, _, rest = note_text.partition("\n")
    m = _MACHINE_RE.match(first.strip())
    if m:
        machine = True
        confidence = float(m.group(1)) if m.group(1) else None
        note_text = rest.strip()
    return CodedExcerpt(
        interview_name(source),
        tuple(codes),
        text[start:end],
        "machine" if machine else "human",
        confidence,
        start,
        end,
        note_text or None,
    )


__all__ = [
    "SEP",
    "html_text",
    "interview_name",
    "read_codebook",
    "read_codebook_csv",
    "read_codebook_yaml",
    "read_coding",
    "read_excerpts_csv",
    "read_qdc",
    "read_qde",
    "read_qdpx",
    "read_qdpx_sources",
    "read_taguette_csv",
    "read_taguette_sqlite",
    "split_examples",
]
