"""`insights guide from-protocol`: a study's protocol (Markdown, text, Word, PDF) becomes a
guide that loads. The protocols here are synthetic, written for these tests."""

import textwrap

import pytest
from conftest import invoke
from factories import make_docx, make_pdf, write_text

from pipeline.segment.guide import load_guide
from pipeline.segment.protocol import ProtocolError, guide_from_protocol, read_blocks

# SYNTHETIC protocol for a made-up study of community gardens.
PROTOCOL_MD = textwrap.dedent(
    """\
    # Interview protocol: community gardens (synthetic)

    ## Welcome (read aloud)

    1. Thank you for taking part in this study of community gardens.
    1. You may stop at any time. (Pause for questions.)
    1. Is it all right if I start recording now? (Wait for consent.)

    ## Main questions

    The main questions ask about the garden and the gardener's part in it.

    1. How did you first get involved with the garden? (If needed: who brought you along?)
    1. What makes a community garden thrive over the years?
    1. Let's list those things together on the shared board.
    1. Who looks after the watering, the tools and the rota?
    1. What would you change about how the garden is run?

    > GARDENER: an example answer shown to participants, never asked.

    _Note: skip the rota question for first-year members._

    ## Closing

    Thanks, that is all my questions. I will send you the transcript to review.
    Any last thoughts before we stop?
    """
)


@pytest.fixture
def protocol(tmp_path):
    return write_text(tmp_path / "gardens-protocol.md", PROTOCOL_MD)


def test_markdown_protocol_becomes_sections_in_order(protocol):
    guide = guide_from_protocol(protocol)
    names = [s["name"] for s in guide["sections"]]
    # The main block lists 4 questions: one section per question, the list-making item
    # joined to the question before it.
    assert names[0] == "welcome"
    assert names[-1] == "closing"
    assert len(names) == 6
    main = guide["sections"][1:5]
    assert [s["from"] for s in main] == ["Main questions"] * 4
    assert "involved" in main[0]["name"]
    assert "Who brought you along?" in main[0]["questions"]  # a probe in parentheses
    assert any("list those things" in q for q in main[1]["questions"])
    assert "thrive" in main[1]["name"]


def test_instructions_examples_and_notes_are_not_questions(protocol):
    guide = guide_from_protocol(protocol)
    every = " ".join(q for s in guide["sections"] for q in s["questions"])
    assert "Wait for consent" not in every and "Pause for questions" not in every
    assert "GARDENER" not in every  # block-quoted example material
    assert "skip the rota" not in every  # an italic note to the interviewer
    closing = guide["sections"][-1]
    assert "Any last thoughts before we stop?" in closing["questions"]
    # A script block keeps what the interviewer says: it identifies the section too.
    assert any("send you the transcript" in q for q in closing["questions"])


def test_written_guide_loads_and_cli_refuses_to_overwrite(protocol, tmp_path):
    target = tmp_path / "guide.yaml"
    result = invoke("guide", "from-protocol", protocol, "--write", target)
    assert result.exit_code == 0, result.output
    guide = load_guide(target)
    assert guide.names[0] == "welcome" and len(guide.sections) == 6
    assert "from 'Main questions'" in target.read_text()
    again = invoke("guide", "from-protocol", protocol, "--write", target)
    assert again.exit_code == 2 and "exists" in again.output
    assert load_guide(target).names == guide.names  # untouched
    checked = invoke("guide", "check", target)
    assert checked.exit_code == 0 and "6 sections" in checked.output


def test_word_protocol_with_heading_and_list_styles(tmp_path):
    path = make_docx(
        tmp_path / "protocol.docx",
        [
            ("Heading 1", "Background"),
            ("List Number", "Where did you grow up?"),
            ("List Number", "What did you study? (Probe: why that subject?)"),
            ("Heading 1", "Work today"),
            ("List Number", "What does a normal week look like?"),
            ("List Number", "Who do you work with most?"),
        ],
    )
    guide = guide_from_protocol(path)
    assert [s["name"] for s in guide["sections"]] == ["background", "work-today"]
    assert "Why that subject?" in guide["sections"][0]["questions"]


def test_pdf_and_plain_text_protocols_guess_headings(tmp_path):
    lines = [
        "Opening",
        "1. How did the project start?",
        "2. Who was there at the beginning?",
        "Looking ahead",
        "1. Where will the project be in five years?",
    ]
    pdf = guide_from_protocol(make_pdf(tmp_path / "protocol.pdf", [lines]))
    txt = guide_from_protocol(write_text(tmp_path / "protocol.txt", "\n".join(lines) + "\n"))
    for guide in (pdf, txt):
        assert [s["name"] for s in guide["sections"]] == ["opening", "looking-ahead"]
        assert "Who was there at the beginning?" in guide["sections"][0]["questions"]


def test_a_heading_markup_file_does_not_guess_headings(tmp_path):
    blocks = read_blocks("## Closing\n\nAny questions?\nThanks for your time today.\n")
    assert [b.heading for b in blocks] == ["Closing"]


def test_bad_protocols_are_named(tmp_path):
    empty = write_text(tmp_path / "empty.md", "\n\n")
    with pytest.raises(ProtocolError, match="empty.md: no questions or headings"):
        guide_from_protocol(empty)
    with pytest.raises(ProtocolError, match="protocol not found"):
        guide_from_protocol(tmp_path / "missing.md")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip")
    result = invoke("guide", "from-protocol", broken, "--write", tmp_path / "g.yaml")
    assert result.exit_code == 2 and "broken.docx" in result.output
    assert not (tmp_path / "g.yaml").exists()
