"""PDF printouts with margin line numbers: the numbers leave the text, each turn keeps the
printed line where it starts (``source_line``) and its page (``source_page``).

Every transcript here is synthetic (invented for the test); the PDFs are drawn with
reportlab the way qualitative-analysis tools print them: the number in the left margin,
the text beside it, a repeated header and a page footer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_pdf
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pipeline.core.config import Config
from pipeline.ingest import run
from pipeline.ingest.pdf_reader import margin_numbers, read_pdf_file

HEADER = "Synthetic QDA export - Study Z"

# Synthetic transcript, two pages; "" is a blank (but numbered) line.
PAGES = [
    [
        "Interviewer: Thanks for joining. How did you start out as a freelancer?",
        "Respondent: I left the lab in 2019 after the funding ended,",
        "and 3 former colleagues sent me my first projects.",
        "",
        "Interviewer: What was hard in the first year?",
        "Respondent: Pricing. I charged 40 euros an hour and that was far too low.",
    ],
    [
        "Interviewer: And what would you tell someone starting now?",
        "Respondent: Keep a list of everyone you worked with,",
        "because 9 of my 10 best clients came through them.",
    ],
]


def numbered_pdf(path: Path, pages, *, running: bool, style: str = "margin") -> Path:
    """Draw ``pages`` with a margin number on every line (blank lines numbered too).

    ``style``: ``margin`` draws the number on its own in the margin, then the text;
    ``after`` draws the text first (so the text layer has the number after it);
    ``inline`` draws number and text as one string.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    n = 0
    for page_no, lines in enumerate(pages, start=1):
        c.setFont("Helvetica", 10)
        c.drawString(72, height - 50, HEADER)
        y = height - 100
        if not running:
            n = 0
        for line in lines:
            n += 1
            if style == "inline":
                c.drawString(54, y, f"{n}  {line}")
            elif style == "after":
                c.drawString(72, y, line)
                c.drawRightString(60, y, str(n))
            else:  # the number right-aligned in the margin, drawn on its own
                c.drawRightString(60, y, str(n))
                c.drawString(72, y, line)
            y -= 16
        c.drawString(width - 150, 40, f"Page {page_no} of {len(pages)}")
        c.showPage()
    c.save()
    return path


def turns(path: Path):
    return read_pdf_file(path.read_bytes(), name=path.name).docs[0].turns


@pytest.mark.parametrize("style", ["margin", "after", "inline"])
def test_printed_line_numbers_restarting_per_page(tmp_path, style):
    path = numbered_pdf(tmp_path / "t.pdf", PAGES, running=False, style=style)
    got = turns(path)
    assert [(t.speaker, t.page, t.line) for t in got] == [
        ("Interviewer", 1, 1),
        ("Respondent", 1, 2),
        ("Interviewer", 1, 5),
        ("Respondent", 1, 6),
        ("Interviewer", 2, 1),
        ("Respondent", 2, 2),
    ]
    # the margin numbers are gone; numbers that are part of what was said stay
    assert got[1].text == (
        "I left the lab in 2019 after the funding ended,\n"
        "and 3 former colleagues sent me my first projects."
    )
    assert got[5].text == (
        "Keep a list of everyone you worked with,\n"
        "because 9 of my 10 best clients came through them."
    )
    assert got[0].text == "Thanks for joining. How did you start out as a freelancer?"
    assert not any(t.text[:1].isdigit() for t in got)
    assert not any(HEADER in t.text or "Page " in t.text for t in got)


def test_printed_line_numbers_running_through_the_document(tmp_path):
    path = numbered_pdf(tmp_path / "t.pdf", PAGES, running=True)
    got = turns(path)
    assert [(t.page, t.line) for t in got] == [(1, 1), (1, 2), (1, 5), (1, 6), (2, 7), (2, 8)]
    assert not any(t.text[:1].isdigit() for t in got)


def test_ingest_fills_source_line_and_source_page(tmp_path):
    raw = tmp_path / "raw"
    numbered_pdf(raw / "numbered.pdf", PAGES, running=False)
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    t = result.turns.sort_values("turn_index").reset_index(drop=True)
    assert list(t.source_page) == [1, 1, 1, 1, 2, 2]
    assert list(t.source_line) == [1, 2, 5, 6, 1, 2]
    assert list(t.role) == ["interviewer", "interviewee"] * 3
    words = " ".join(t.clean_text).split()
    # no stray margin number became a word: the only numbers are the ones said
    assert [w.strip(",.") for w in words if w.strip(",.").isdigit()] == [
        "2019",
        "3",
        "40",
        "9",
        "10",
    ]


def old_reading(path: Path):
    """What the reader did before margin numbers: text layer -> furniture -> turns."""
    import io

    from pypdf import PdfReader

    from pipeline.ingest.pdf_reader import strip_page_furniture
    from pipeline.ingest.turn_parser import Line, parse_lines

    reader = PdfReader(io.BytesIO(path.read_bytes()))
    pages = strip_page_furniture([(p.extract_text() or "").split("\n") for p in reader.pages])
    lines = [Line(text, i, page=n) for n, page in enumerate(pages, start=1) for i, text in page]
    return parse_lines(lines).turns


def test_pdf_without_margin_numbers_is_read_as_before(tmp_path):
    # Lines that start with a number, but not a margin numbering (not most lines, not a run).
    pages = [
        [
            "Sam: How many clients did you have in your first year?",
            "Maria: Seven, and most of them came from my old job.",
            "2019 was the year I went freelance, after the lab closed.",
            "Sam: And now?",
            "Maria: About twelve a year.",
        ],
        ["Sam: What changed?", "Maria: 3 big clients stayed with me.", "Sam: Thanks."],
    ]
    path = make_pdf(tmp_path / "plain.pdf", pages, header=HEADER, page_numbers=True)
    got = turns(path)
    # source_line stays the line's position in the page's text layer (the header is line 1)
    assert [(t.speaker, t.page, t.line) for t in got] == [
        ("Sam", 1, 2),
        ("Maria", 1, 3),
        ("Sam", 1, 5),
        ("Maria", 1, 6),
        ("Sam", 2, 2),
        ("Maria", 2, 3),
        ("Sam", 2, 4),
    ]
    assert got[1].text.endswith("2019 was the year I went freelance, after the lab closed.")
    assert got[5].text == "3 big clients stayed with me."
    assert [(t.speaker, t.text, t.line, t.page) for t in got] == [
        (t.speaker, t.text, t.line, t.page) for t in old_reading(path)
    ]


def test_margin_numbers_need_an_increasing_run():
    # numbers at the start of lines that do not count up are content, not line numbers
    text = "3 things matter\n1 is price\n7 is trust\n2 more\n"
    assert margin_numbers([(text, [])]) is None
    counted = "1 Sam: Hi.\n2 Maria: Hello.\n3 Sam: How are you?\n4 Maria: Fine.\n"
    lines = margin_numbers([(counted, [])])
    assert lines is not None
    assert lines[0][:4] == [
        ("Sam: Hi.", 1),
        ("Maria: Hello.", 2),
        ("Sam: How are you?", 3),
        ("Maria: Fine.", 4),
    ]
