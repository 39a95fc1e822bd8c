"""PDF printouts (text layer only) with page furniture removed.

Printouts from qualitative-analysis tools repeat a header, a footer, a URL and a page
number on every page. Those lines are found by repetition across pages (digits
ignored, so "Page 3 of 9" matches "Page 4 of 9") near the top or bottom of a page,
and dropped before the turn parser sees the text.
"""

from __future__ import annotations

import io
import re
from collections import Counter

from .model import FailFile, ParsedDoc, ReadResult, SkipFile
from .turn_parser import Line, parse_lines

_EDGE = 3  # lines at the top and bottom of a page that may be furniture
_PAGE_NUMBER_RE = re.compile(
    r"^(?:page\s*)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I
)


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()).casefold())


def strip_page_furniture(pages: list[list[str]]) -> list[list[tuple[int, str]]]:
    """Drop page numbers and lines repeated at the same edge of most pages.

    A line that looks like a speaker turn ("Sam: Okay.") is furniture only when it is on
    every page: short turns do repeat near page edges.

    Args:
        pages: each page's lines, as extracted.

    Returns:
        Per page, the kept lines with their 1-based line number on the page as printed,
        so quotes still point at the right line.
    """
    from .turn_parser import match_label

    counts: Counter[str] = Counter()
    turn_like: set[str] = set()
    for lines in pages:
        content = [ln for ln in lines if ln.strip()]
        edge_lines = content[:_EDGE] + content[-_EDGE:]
        counts.update({_shape(ln) for ln in edge_lines})
        turn_like.update(_shape(ln) for ln in edge_lines if match_label(ln) is not None)
    threshold = max(2, (len(pages) + 1) // 2)
    repeated = set()
    if len(pages) > 1:
        for shape, n in counts.items():
            if n >= len(pages) or (n >= threshold and shape not in turn_like):
                repeated.add(shape)
    cleaned = []
    for lines in pages:
        content_idx = [i for i, ln in enumerate(lines) if ln.strip()]
        edge_idx = set(content_idx[:_EDGE]) | set(content_idx[-_EDGE:])
        keep = []
        for i, ln in enumerate(lines):
            if i in edge_idx and (_shape(ln) in repeated or _PAGE_NUMBER_RE.match(ln.strip())):
                continue
            keep.append((i + 1, ln))
        cleaned.append(keep)
    return cleaned


def read_pdf_file(data: bytes, *, name: str) -> ReadResult:
    """Read a PDF's text layer, page by page, into turns that know their page and line.

    Args:
        data: the file's bytes.
        name: its path relative to the raw folder (the reader signature; unused).

    Returns:
        One conversation.

    Raises:
        SkipFile: the PDF has no text layer (scans need OCR, which is not supported).
        FailFile: it is encrypted, unreadable or damaged.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FailFile("encrypted PDF; remove the password and try again")
        raw_pages = [(page.extract_text() or "") for page in reader.pages]
    except FailFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise FailFile(f"not a readable PDF: {exc or type(exc).__name__}") from None
    except Exception as exc:  # pypdf raises a wide variety on damaged files
        raise FailFile(f"damaged PDF: {type(exc).__name__}: {exc}") from None
    if sum(len(p.strip()) for p in raw_pages) < 20:
        raise SkipFile("no text layer; OCR is not supported")
    pages = strip_page_furniture([p.split("\n") for p in raw_pages])
    lines = [Line(text, i, page=n) for n, page in enumerate(pages, start=1) for i, text in page]
    parsed = parse_lines(lines)
    return ReadResult(docs=[ParsedDoc(turns=parsed.turns, headings=parsed.headings)], encoding=None)
