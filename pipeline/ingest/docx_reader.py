"""Word / Otter ``.docx`` exports."""

from __future__ import annotations

import io
import zipfile

from .model import FailFile, ParsedDoc, ReadResult, SkipFile
from .turn_parser import Line, parse_lines

_MB = 1024 * 1024


def check_zip_bomb(data: bytes, max_uncompressed_mb: float, max_ratio: float) -> None:
    """Refuse a .docx that would unpack to far more than it weighs, before opening it.

    Args:
        data: the file's bytes.
        max_uncompressed_mb: the largest unpacked size accepted.
        max_ratio: the largest unpacked / packed size ratio accepted.

    Raises:
        FailFile: it is not a zip file, or it is over either limit.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise FailFile(f"not a valid .docx (zip) file: {exc}") from None
    ratio = unpacked / max(len(data), 1)
    if unpacked > max_uncompressed_mb * _MB or ratio > max_ratio:
        raise FailFile(
            f"refused: unpacks to {unpacked / _MB:.1f} MB, {ratio:.0f}x its packed size "
            f"(limits: {max_uncompressed_mb:g} MB, {max_ratio:g}x; possible zip bomb)"
        )


def read_docx_file(
    data: bytes, *, name: str, max_uncompressed_mb: float = 200, max_ratio: float = 100
) -> ReadResult:
    """Read a Word (or Otter) .docx: paragraphs, then table rows, as lines of turns.

    Word headings become Markdown headings and a two-cell table row becomes
    ``speaker: text``, so the turn parser treats them as it does in text files.

    Args:
        data: the file's bytes.
        name: its path relative to the raw folder (the reader signature; unused).
        max_uncompressed_mb: see :func:`check_zip_bomb`.
        max_ratio: see :func:`check_zip_bomb`.

    Returns:
        One conversation.

    Raises:
        SkipFile: the document has no text.
        FailFile: it is not a valid or is a damaged .docx, or a possible zip bomb.
    """
    check_zip_bomb(data, max_uncompressed_mb, max_ratio)
    import docx  # python-docx; imported late so other formats work without it loaded
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise FailFile(f"not a valid .docx file: {exc or type(exc).__name__}") from None
    except Exception as exc:  # lxml errors on damaged XML parts
        raise FailFile(f"damaged .docx file: {type(exc).__name__}: {exc}") from None
    lines: list[Line] = []
    number = 0
    for para in document.paragraphs:
        number += 1
        style = (para.style.name if para.style is not None else "") or ""
        for part in para.text.split("\n"):
            # Word headings become Markdown headings so the parser treats them alike.
            text = f"## {part}" if style.lower().startswith("heading") and part.strip() else part
            lines.append(Line(text, number))
        lines.append(Line("", number))  # paragraph break
    for table in document.tables:
        for row in table.rows:
            number += 1
            cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
            if cells:
                lines.append(Line(": ".join(cells) if len(cells) == 2 else " ".join(cells), number))
    if not any(line.text.strip() for line in lines):
        raise SkipFile("no text in document")
    parsed = parse_lines(lines)
    return ReadResult(docs=[ParsedDoc(turns=parsed.turns, headings=parsed.headings)], encoding=None)
