"""Builders for real input files (text, .docx, .pdf, zip) used by the ingest tests.

Every file is produced by the library a real export would come from (python-docx,
reportlab, zipfile), so the readers are exercised on genuine bytes, not mocks.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import docx
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def line_of(path: Path, needle: str, encoding: str = "utf-8") -> int:
    """1-based number of the first line of ``path`` that contains ``needle``."""
    for number, line in enumerate(path.read_bytes().decode(encoding).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def make_docx(path: Path, paragraphs: Sequence[tuple[str | None, str]]) -> Path:
    """Write a .docx with one paragraph per ``(style, text)``; style None is Word's Normal."""
    document = docx.Document()
    for style, text in paragraphs:
        if style is None:
            document.add_paragraph(text)
        else:
            document.add_paragraph(text, style=style)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def make_pdf(
    path: Path,
    pages: Sequence[Sequence[str]],
    header: str | None = None,
    footer: str | None = None,
    page_numbers: bool = False,
) -> Path:
    """A text-layer PDF drawn with reportlab's canvas: one string per line, top to bottom."""
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    total = len(pages)
    for number, lines in enumerate(pages, start=1):
        c.setFont("Helvetica", 10)
        if header:
            c.drawString(72, height - 40, header)
        y = height - 100
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        if footer:
            c.drawString(72, 50, footer)
        if page_numbers:
            c.drawString(width - 150, 50, f"Page {number} of {total}")
        c.showPage()
    c.save()
    return path


def make_shapes_pdf(path: Path) -> Path:
    """A scanned-looking PDF: drawn shapes only, no text layer at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFillGray(0.3)
    c.rect(72, 500, 300, 200, fill=1)
    c.circle(300, 300, 80, fill=0)
    c.line(72, 100, 500, 150)
    c.showPage()
    c.save()
    return path


def make_zip(path: Path, members: dict[str, bytes], compresslevel: int = 9) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(
        buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
    ) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return write_bytes(path, buf.getvalue())


def make_docx_zip_bomb(path: Path, unpacked_mb: int = 30) -> Path:
    """A .docx-shaped zip whose word/document.xml is padded with zeros to ``unpacked_mb`` MB."""
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>"
        + b"0" * (unpacked_mb * 1024 * 1024)
        + b"</w:t></w:r></w:p></w:body></w:document>"
    )
    content_types = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    )
    return make_zip(path, {"[Content_Types].xml": content_types, "word/document.xml": xml})


# What every command adds to its output folder whatever it does: the run log and the lock.
BOOKKEEPING = {"run.log", ".insights.lock", ".insights.lock.json"}


def tree_snapshot(root: Path, skip: set[str] = BOOKKEEPING) -> dict[str, str]:
    """Relative path -> sha256 for every file, plus '<dir>' for every folder under ``root``."""
    snap = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel in skip:
            continue
        snap[rel] = "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return snap


def by_path(manifest: dict) -> dict[str, dict]:
    return {entry["path"]: entry for entry in manifest["files"]}


def conversation(lines: Iterable[tuple[str, str]], fmt: str = "{name}: {text}") -> str:
    return "\n".join(fmt.format(name=name, text=text) for name, text in lines) + "\n"
