"""LibreOffice / OpenDocument ``.odt`` text documents, read with the standard library.

The document's ``content.xml`` is read in order: paragraphs (``text:p``), headings
(``text:h``, and paragraphs in a ``Heading`` style), list items and table rows, each
numbered as one source line (so a quote can cite "line N", as for .docx). Inside a
paragraph, spans and links are read through, ``text:s`` is its count of spaces,
``text:tab`` a tab and ``text:line-break`` a new line; notes, comments, tracked
deletions, frames and generated indexes are not the document's text. Headings become
Markdown headings and a two-cell table row ``speaker: text``, as in the .docx reader,
so the turn parser and roles treat them alike.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from xml.etree import ElementTree as ET

from .docx_reader import check_zip_bomb
from .model import FailFile, ParsedDoc, ReadResult, SkipFile
from .turn_parser import Line, parse_lines

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
}
_TEXT, _TABLE, _OFFICE, _STYLE = (f"{{{_NS[k]}}}" for k in ("text", "table", "office", "style"))
_ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"  # also -template, -master
# Inside a paragraph: elements whose text is not the paragraph's own.
_SKIPPED_INLINE = {
    f"{_TEXT}note",  # footnotes and endnotes
    f"{_OFFICE}annotation",  # comments
    f"{_OFFICE}annotation-end",
    f"{_TEXT}tracked-changes",
    f"{_TEXT}ruby-text",
}
# Block elements read through for the paragraphs they hold.
_CONTAINERS = {
    f"{_TEXT}list",
    f"{_TEXT}list-item",
    f"{_TEXT}list-header",
    f"{_TEXT}section",
    f"{_TEXT}soft-page-break",
    f"{_TABLE}table-header-rows",
    f"{_TABLE}table-rows",
    f"{_TABLE}table-row-group",
}


def _inline_text(element: ET.Element, out: list[str]) -> None:
    """Append a paragraph's text (spans, spaces, tabs, line breaks) to ``out``."""
    if element.text:
        out.append(element.text)
    for child in element:
        tag = child.tag
        if tag == f"{_TEXT}s":
            try:
                out.append(" " * max(1, int(child.get(f"{_TEXT}c", "1"))))
            except ValueError:
                out.append(" ")
        elif tag == f"{_TEXT}tab":
            out.append("\t")
        elif tag == f"{_TEXT}line-break":
            out.append("\n")
        elif tag in _SKIPPED_INLINE or not tag.startswith(_TEXT):
            pass  # a note, a comment, a frame or drawing (draw:), a form control
        else:  # span, a (link), bookmark-ref, field values...
            _inline_text(child, out)
        if child.tail:
            out.append(child.tail)


def _paragraph_text(element: ET.Element) -> str:
    out: list[str] = []
    _inline_text(element, out)
    return "".join(out)


def _heading_styles(root: ET.Element, styles_root: ET.Element | None) -> set[str]:
    """The paragraph style names that are headings (``Heading 1``, and automatic styles
    derived from one)."""
    parents: dict[str, str] = {}
    for tree in (styles_root, root):
        if tree is None:
            continue
        for style in tree.iter(f"{_STYLE}style"):
            name = style.get(f"{_STYLE}name")
            if name and style.get(f"{_STYLE}family") == "paragraph":
                parents[name] = style.get(f"{_STYLE}parent-style-name") or ""

    def is_heading(name: str, depth: int = 0) -> bool:
        if name.replace("_20_", " ").casefold().startswith("heading"):
            return True
        parent = parents.get(name)
        return bool(parent) and depth < 10 and is_heading(parent, depth + 1)

    return {name for name in parents if is_heading(name)}


class _Reader:
    def __init__(self, heading_styles: set[str]) -> None:
        self.heading_styles = heading_styles
        self.lines: list[Line] = []
        self.number = 0

    def paragraph(self, element: ET.Element) -> None:
        self.number += 1
        style = element.get(f"{_TEXT}style-name") or ""
        heading = element.tag == f"{_TEXT}h" or style in self.heading_styles
        for part in _paragraph_text(element).split("\n"):
            # headings become Markdown headings so the parser treats them as in text files
            text = f"## {part.strip()}" if heading and part.strip() else part
            self.lines.append(Line(text, self.number))
        self.lines.append(Line("", self.number))  # paragraph break

    def table(self, element: ET.Element) -> None:
        for row in element.iter(f"{_TABLE}table-row"):
            self.number += 1
            cells = []
            for cell in row:
                if cell.tag != f"{_TABLE}table-cell":
                    continue
                text = " ".join(
                    " ".join(_paragraph_text(p).split())
                    for p in cell.iter()
                    if p.tag in (f"{_TEXT}p", f"{_TEXT}h")
                ).strip()
                if text:
                    cells.append(text)
            cells = list(dict.fromkeys(cells))  # merged cells repeat their text
            if cells:
                text = ": ".join(cells) if len(cells) == 2 else " ".join(cells)
                self.lines.append(Line(text, self.number))
                self.lines.append(Line("", self.number))

    def block(self, element: ET.Element) -> None:
        for child in element:
            tag = child.tag
            if tag in (f"{_TEXT}p", f"{_TEXT}h"):
                self.paragraph(child)
            elif tag == f"{_TABLE}table":
                self.table(child)
            elif tag in _CONTAINERS:
                self.block(child)
            # anything else (sequence declarations, tracked changes, indexes and tables of
            # contents, forms, drawings) is not the document's text


def _parse_xml(data: bytes, part: str) -> ET.Element:
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise FailFile(f"refused: {part} declares a DOCTYPE or entities (not ODF)")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise FailFile(f"damaged .odt file: {part} is not well-formed XML ({exc})") from None


def read_odt_file(
    data: bytes, *, name: str, max_uncompressed_mb: float = 200, max_ratio: float = 100
) -> ReadResult:
    """Read an OpenDocument text (.odt): paragraphs, headings, lists and tables as lines.

    Args:
        data: the file's bytes.
        name: its path relative to the raw folder (the reader signature; unused).
        max_uncompressed_mb: the largest unpacked size accepted (the .docx limit).
        max_ratio: the largest unpacked / packed size ratio accepted (the .docx limit).

    Returns:
        One conversation.

    Raises:
        SkipFile: the document has no text.
        FailFile: it is not a zip file, has no content.xml, is another kind of
            OpenDocument, is password-protected, its XML is damaged, or a possible zip bomb.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FailFile(f"not a valid .odt file (not a zip archive: {exc})") from None
    with zf:
        check_zip_bomb(data, max_uncompressed_mb, max_ratio)
        names = set(zf.namelist())
        try:
            if "mimetype" in names:
                mimetype = zf.read("mimetype").decode("ascii", "replace").strip()
                if mimetype and not mimetype.startswith(_ODT_MIMETYPE):
                    raise FailFile(
                        f"not an OpenDocument text: its mimetype is {mimetype!r} "
                        f"(expected {_ODT_MIMETYPE})"
                    )
            if "META-INF/manifest.xml" in names and b"encryption-data" in zf.read(
                "META-INF/manifest.xml"
            ):
                raise FailFile("password-protected .odt: save it without a password to ingest it")
            if "content.xml" not in names:
                raise FailFile("not a valid .odt file: no content.xml in the archive")
            content = zf.read("content.xml")
            styles = zf.read("styles.xml") if "styles.xml" in names else None
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise FailFile(f"damaged .odt file: {type(exc).__name__}: {exc}") from None
    root = _parse_xml(content, "content.xml")
    try:
        styles_root = _parse_xml(styles, "styles.xml") if styles else None
    except FailFile:
        styles_root = None  # only heading style names come from it
    body = root.find("office:body/office:text", _NS)
    if body is None:
        raise FailFile("not an OpenDocument text: content.xml has no office:text body")
    reader = _Reader(_heading_styles(root, styles_root))
    reader.block(body)
    if not any(line.text.strip() for line in reader.lines):
        raise SkipFile("no text in document")
    parsed = parse_lines(reader.lines)
    return ReadResult(docs=[ParsedDoc(turns=parsed.turns, headings=parsed.headings)], encoding=None)
