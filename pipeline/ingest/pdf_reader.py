"""PDF printouts (text layer only) with page furniture removed.

Printouts from qualitative-analysis tools repeat a header, a footer, a URL and a page
number on every page. Those lines are found by repetition across pages (digits
ignored, so "Page 3 of 9" matches "Page 4 of 9") near the top or bottom of a page,
and dropped before the turn parser sees the text.

Printouts with margin line numbers (a consistent increasing integer at the start of
most lines of a page, restarting per page or running through the document) are
detected by :func:`margin_numbers`: the numbers are removed from the text and each line
keeps its printed number, which becomes the turn's ``source_line`` (``source_page`` is
the page). Without margin numbers ``source_line`` is the line's position in the page's
text layer, as before.
"""

from __future__ import annotations

import bisect
import io
import re
from collections import Counter

from .model import FailFile, ParsedDoc, ReadResult, SkipFile
from .turn_parser import Line, parse_lines

_EDGE = 3  # lines at the top and bottom of a page that may be furniture
_PAGE_NUMBER_RE = re.compile(
    r"^(?:page\s*)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I
)


_MARGIN_SHARE = 0.5  # share of a page's lines that must carry a margin number
_MARGIN_STEPS = 0.8  # share of steps between consecutive numbers that must be +1 to +3
_SAME_LINE_PT = 3.0  # a number and a text within this many points vertically share a line
_NUMBERED_LINE_RE = re.compile(r"^[ \t]*(?P<n>\d{1,5})(?:[ \t]+(?P<rest>.*))?$")

Chunk = tuple[str, float, float]  # text as pypdf output it, x, y of where it was drawn


def _increasing(numbers: list[int]) -> bool:
    steps = [b - a for a, b in zip(numbers, numbers[1:])]
    return all(d > 0 for d in steps) or sum(0 < d <= 3 for d in steps) >= _MARGIN_STEPS * len(steps)


def _numbers_by_position(
    text: str, chunks: list[Chunk], min_numbers: int
) -> list[tuple[str, int | None]] | None:
    """The page's lines without the numbers drawn in its left margin, with those numbers.

    A margin number is a text piece that is only an integer, drawn left of the body text;
    it belongs to the body line drawn at the same height. Returns None when the page has
    no such numbering (or pypdf's pieces do not add up to its text).
    """
    if "".join(c[0] for c in chunks) != text:
        return None
    digits = {i for i, (t, _, _) in enumerate(chunks) if re.fullmatch(r"\s*\d{1,5}\s*", t)}
    body_x = sorted(x for i, (t, x, _) in enumerate(chunks) if t.strip() and i not in digits)
    if not body_x:
        return None
    left = body_x[len(body_x) // 20]
    margin = {i for i in digits if chunks[i][1] < left - 1.0}
    if len(margin) < min_numbers:
        return None
    by_height = sorted(margin, key=lambda i: -chunks[i][2])
    if not _increasing([int(chunks[i][0]) for i in by_height]):
        return None
    number_at = [(chunks[i][2], int(chunks[i][0])) for i in by_height]

    depths = [-yn[0] for yn in number_at]  # ascending, for bisect

    def printed(y: float | None) -> int | None:
        if y is None:
            return None
        k = bisect.bisect_left(depths, -y)
        near = [number_at[j] for j in (k - 1, k) if 0 <= j < len(number_at)]
        best = min(near, key=lambda yn: abs(yn[0] - y))
        return best[1] if abs(best[0] - y) <= _SAME_LINE_PT else None

    lines: list[list[str]] = [[]]
    heights: list[float | None] = [None]
    for i, (t, _, y) in enumerate(chunks):
        if i in margin:
            # keep the line break a number carried when the body line has none yet
            if "\n" in t and lines[-1] and "".join(lines[-1]).strip():
                lines.append([])
                heights.append(None)
            continue
        for k, part in enumerate(t.split("\n")):
            if k:
                lines.append([])
                heights.append(None)
            lines[-1].append(part)
            if part.strip() and heights[-1] is None:
                heights[-1] = y
    out = [("".join(parts), printed(y)) for parts, y in zip(lines, heights)]
    body_lines = [n for t, n in out if t.strip()]
    if not body_lines or sum(n is not None for n in body_lines) < _MARGIN_SHARE * len(body_lines):
        return None
    return out


def _numbers_in_text(lines: list[str], min_numbers: int) -> list[tuple[str, int | None]] | None:
    """The page's lines without the line number each starts with ("12 Sam: Okay."), with it."""
    content = [ln for ln in lines if ln.strip()]
    found = [_NUMBERED_LINE_RE.match(ln) for ln in lines]
    numbers = [int(m.group("n")) for m in found if m]
    if (
        len(numbers) < min_numbers
        or len(numbers) < _MARGIN_SHARE * len(content)
        or not _increasing(numbers)
    ):
        return None
    out: list[tuple[str, int | None]] = []
    previous = None
    for ln, m in zip(lines, found):
        if m and (previous is None or int(m.group("n")) > previous):
            previous = int(m.group("n"))
            out.append((m.group("rest") or "", previous))
        else:
            out.append((ln, None))
    return out


def margin_numbers(
    pages: list[tuple[str, list[Chunk]]],
) -> list[list[tuple[str, int | None]]] | None:
    """Detect printed margin line numbers and take them out of the text.

    A page is numbered when at least half of its lines start with an integer that
    increases down the page (mostly by one), either drawn apart in the left margin
    (found by position) or at the start of the line's text. The document is numbered
    when most pages with text are; then short pages are read with the same convention.

    Args:
        pages: each page's text and the pieces pypdf drew it with (text, x, y).

    Returns:
        Per page, its lines without the numbers and each line's printed number (None
        for a line without one); None when the document has no margin numbers.
    """

    def read(text: str, chunks: list[Chunk], min_numbers: int):
        return _numbers_by_position(text, chunks, min_numbers) or _numbers_in_text(
            text.split("\n"), min_numbers
        )

    found = [read(text, chunks, 3) for text, chunks in pages]
    with_text = [i for i, (text, _) in enumerate(pages) if len(text.strip().split("\n")) >= 3]
    numbered = [i for i in with_text if found[i] is not None]
    if not numbered or len(numbered) * 2 < len(with_text):
        return None
    out = []
    for (text, chunks), page in zip(pages, found):
        page = page or read(text, chunks, 1)
        out.append(page if page is not None else [(ln, None) for ln in text.split("\n")])
    return out


def _page_text(page) -> tuple[str, list[Chunk]]:
    """The page's text layer, and the pieces it was drawn with (for margin numbers)."""
    chunks: list[Chunk] = []

    def visit(text, cm, tm, font, size) -> None:
        if text:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            chunks.append((text, float(x), float(y)))

    return page.extract_text(visitor_text=visit) or "", chunks


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
        drawn = [_page_text(page) for page in reader.pages]
    except FailFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise FailFile(f"not a readable PDF: {exc or type(exc).__name__}") from None
    except Exception as exc:  # pypdf raises a wide variety on damaged files
        raise FailFile(f"damaged PDF: {type(exc).__name__}: {exc}") from None
    if sum(len(text.strip()) for text, _ in drawn) < 20:
        raise SkipFile("no text layer; OCR is not supported")
    numbered = margin_numbers(drawn)
    if numbered is None:
        pages = strip_page_furniture([text.split("\n") for text, _ in drawn])
    else:  # the printed number of each kept line replaces its position on the page
        kept = strip_page_furniture([[text for text, _ in page] for page in numbered])
        pages = [
            [(page[i - 1][1], text) for i, text in lines] for page, lines in zip(numbered, kept)
        ]
    lines = [Line(text, i, page=n) for n, page in enumerate(pages, start=1) for i, text in page]
    parsed = parse_lines(lines)
    return ReadResult(docs=[ParsedDoc(turns=parsed.turns, headings=parsed.headings)], encoding=None)
