"""LibreOffice .odt transcripts (one labelled speaker: the moderator) and tagged CSVs.

Every document here is synthetic: invented text in the shapes of the real corpora (a
think-aloud session where only ``MODERATOR:`` is labelled and the task script is
numbered; an oral-history CSV of ``speaker, words, tags, timestamp`` rows where a blank
speaker continues the previous one).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from factories import by_path, write_bytes, write_text

from pipeline.core.catalog import TURNS
from pipeline.core.config import Config
from pipeline.ingest import run
from pipeline.ingest.model import FailFile, SkipFile
from pipeline.ingest.odt_reader import read_odt_file
from pipeline.ingest.table_reader import read_csv_file, read_jsonl_file
from pipeline.ingest.turn_parser import parse_text

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
MANIFEST_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
    b' manifest:version="1.2">'
    b'<manifest:file-entry manifest:full-path="/"'
    b' manifest:media-type="application/vnd.oasis.opendocument.text"/>'
    b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    b"</manifest:manifest>"
)
NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
)


def content_xml(body: str, styles: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content {NAMESPACES} office:version="1.2">'
        f"<office:automatic-styles>{styles}</office:automatic-styles>"
        f"<office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    ).encode()


def odt_bytes(
    content: bytes | None, mimetype: bytes = ODT_MIMETYPE, manifest: bytes = MANIFEST_XML
) -> bytes:
    """A minimal ODF package: mimetype (stored, first), content.xml, META-INF/manifest.xml."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        if content is not None:
            zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return buf.getvalue()


def p(inner: str, style: str = "P1") -> str:
    return f'<text:p text:style-name="{style}">{inner}</text:p>'


# Synthetic think-aloud session. Paragraph numbers (source lines) in the comments.
SESSION_BODY = "".join(
    [
        '<text:h text:outline-level="1">Session <text:span>notes</text:span></text:h>',  # 1
        p("1 Open the <text:span>start page</text:span>."),  # 2 (a numbered task)
        p("<text:tab/>Right, I see a map and a search box.<text:s/>"),  # 3
        p(
            "<text:tab/>The search box is<text:s text:c='3'/>quite small"  # 4
            "<text:note><text:note-body><text:p>a footnote, not speech</text:p></text:note-body>"
            "</text:note>, I would make it bigger."
        ),
        p("<text:tab/>MODERATOR: Could you say aloud what you expect to find here?"),  # 5
        p("<text:tab/>Opening hours, I think.<text:line-break/>And maybe a phone number."),  # 6
        p(""),  # 7 (empty paragraph)
        p("    1.a Is the start page clear to you?"),  # 8 (a numbered prompt)
        p("<text:tab/>Mostly. The colours are calm, which I like."),  # 9
        p("Second part", style="H2"),  # 10 (a paragraph in a heading style)
        p("<text:tab/>MODERATOR: Please try the <text:span>booking form</text:span> now."),  # 11
        '<text:list><text:list-item><text:p text:style-name="P1">'  # 12
        "I pick a date first.</text:p></text:list-item>"
        '<text:list-item><text:p text:style-name="P1">'  # 13
        "Then the time, that was easy.</text:p></text:list-item></text:list>",
        "<table:table><table:table-row>"  # 14
        "<table:table-cell><text:p>MODERATOR</text:p></table:table-cell>"
        "<table:table-cell><text:p>Anything else you would change?</text:p></table:table-cell>"
        "</table:table-row></table:table>",
        p("<text:tab/>No, that is all from me."),  # 15
    ]
)
SESSION_STYLES = (
    '<style:style style:name="H2" style:family="paragraph" style:parent-style-name="Heading_20_2"/>'
)


def session_odt() -> bytes:
    return odt_bytes(content_xml(SESSION_BODY, SESSION_STYLES))


def test_odt_reader_reads_paragraphs_spans_spaces_breaks_lists_and_tables():
    result = read_odt_file(session_odt(), name="s.odt")
    (doc,) = result.docs
    turns = {t.line: t for t in doc.turns}
    assert turns[3].text == "Right, I see a map and a search box."
    # text:s with text:c="3" is three spaces; the footnote is not the speaker's text
    assert turns[4].text == "The search box is   quite small, I would make it bigger."
    assert "footnote" not in " ".join(t.text for t in doc.turns)
    # a line break inside a paragraph stays inside the turn
    assert turns[6].text == "Opening hours, I think.\nAnd maybe a phone number."
    assert turns[11].text == "Please try the booking form now."
    assert turns[12].text == "I pick a date first."
    assert turns[13].text == "Then the time, that was easy."
    # a two-cell table row reads as "speaker: text"
    assert (turns[14].speaker, turns[14].text) == ("MODERATOR", "Anything else you would change?")
    # text:h and a paragraph in a Heading style are headings, in force below them
    assert doc.headings == ["## Session notes", "## Second part"]
    assert turns[3].heading == "Session notes" and turns[11].heading == "Second part"
    assert 1 not in turns and 10 not in turns and 7 not in turns


def test_moderator_only_odt_gives_the_unlabelled_paragraphs_to_the_participant(tmp_path):
    raw = tmp_path / "raw"
    write_bytes(raw / "p01-session.odt", session_odt())
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    t = result.turns.sort_values("turn_index").reset_index(drop=True)
    got = list(zip(t.source_line, t.speaker, t.role))
    assert got == [
        (2, "MODERATOR", "interviewer"),  # the numbered task is the moderator's script
        (3, "PARTICIPANT", "interviewee"),
        (4, "PARTICIPANT", "interviewee"),
        (5, "MODERATOR", "interviewer"),
        (6, "PARTICIPANT", "interviewee"),  # not glued onto the moderator's question
        (8, "MODERATOR", "interviewer"),
        (9, "PARTICIPANT", "interviewee"),
        (11, "MODERATOR", "interviewer"),
        (12, "PARTICIPANT", "interviewee"),
        (13, "PARTICIPANT", "interviewee"),
        (14, "MODERATOR", "interviewer"),
        (15, "PARTICIPANT", "interviewee"),
    ]
    assert t.text[0] == "1 Open the start page."
    assert t.text[5] == "1.a Is the start page clear to you?"
    interview = result.interviews.iloc[0]
    assert interview.interviewer == "MODERATOR" and interview.format == "odt"
    assert result.manifest["roles"]["p01-session"]["speakers"] == {
        "MODERATOR": "interviewer",
        "PARTICIPANT": "interviewee",
    }
    assert set(t.codes) == {""}  # no coding in an .odt


def test_broken_odt_files_fail_with_a_reason_and_the_folder_goes_on(tmp_path):
    raw = tmp_path / "raw"
    write_bytes(raw / "good.odt", session_odt())
    write_bytes(raw / "not-a-zip.odt", b"PK\x03\x04 this is not really a zip archive" * 20)
    write_bytes(raw / "no-content.odt", odt_bytes(None))
    write_bytes(raw / "bad-xml.odt", odt_bytes(b"<office:document-content><office:body>"))
    write_bytes(
        raw / "spreadsheet.odt",
        odt_bytes(content_xml(p("x")), mimetype=b"application/vnd.oasis.opendocument.spreadsheet"),
    )
    write_bytes(raw / "empty-doc.odt", odt_bytes(content_xml(p("") + p("<text:s/>"))))
    locked = MANIFEST_XML.replace(b"/>", b"><manifest:encryption-data/></manifest:file-entry>")
    write_bytes(raw / "locked.odt", odt_bytes(b"\x8f\x01 encrypted bytes", manifest=locked))
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    files = by_path(result.manifest)
    expected = {
        "not-a-zip.odt": ("failed", "not a valid .odt file (not a zip archive"),
        "no-content.odt": ("failed", "no content.xml in the archive"),
        "bad-xml.odt": ("failed", "content.xml is not well-formed XML"),
        "spreadsheet.odt": ("failed", "not an OpenDocument text"),
        "empty-doc.odt": ("skipped", "no text in document"),
        "locked.odt": ("failed", "password-protected .odt"),
    }
    for path, (status, phrase) in expected.items():
        assert files[path]["status"] == status, (path, files[path])
        assert phrase in files[path]["reason"], (path, files[path]["reason"])
    assert files["good.odt"]["status"] == "ingested" and files["good.odt"]["turns"] == 12
    assert set(result.turns.source_file) == {"good.odt"}


def test_odt_reader_raises_the_documented_errors():
    with pytest.raises(FailFile, match="not a zip archive"):
        read_odt_file(b"plain text, not a zip", name="x.odt")
    with pytest.raises(FailFile, match=r"line 1, column \d+"):
        read_odt_file(odt_bytes(b"<a><b></a>"), name="x.odt")
    with pytest.raises(SkipFile, match="no text"):
        read_odt_file(odt_bytes(content_xml("")), name="x.odt")


# ------------------------------------------------------------ one labelled speaker


def test_one_role_label_in_text_gives_other_paragraphs_to_the_participant():
    text = (
        "Q: How did the trial go, in the\n"
        "first week?\n"
        "\n"
        "It went well. We kept the\n"
        "notes on paper.\n"
        "\n"
        "The second week was harder.\n"
        "\n"
        "Q: Why harder?\n"
        "\n"
        "Staff were away.\n"
    )
    turns = parse_text(text).turns
    assert [(t.speaker, t.line) for t in turns] == [
        ("Q", 1),
        ("PARTICIPANT", 4),
        ("PARTICIPANT", 7),
        ("Q", 9),
        ("PARTICIPANT", 11),
    ]
    # the lines of one paragraph stay one turn (the question's wrapped line too)
    assert turns[0].text == "How did the trial go, in the\nfirst week?"
    assert turns[1].text == "It went well. We kept the\nnotes on paper."


def test_one_labelled_name_and_no_blank_lines():
    text = "Nadia: What do you grow?\nBeans, mostly.\nNadia: Since when?\nSince 2019.\n"
    turns = parse_text(text).turns
    assert [(t.speaker, t.text) for t in turns] == [
        ("Nadia", "What do you grow?"),
        ("OTHER SPEAKER", "Beans, mostly."),
        ("Nadia", "Since when?"),
        ("OTHER SPEAKER", "Since 2019."),
    ]


def test_two_labelled_speakers_keep_long_turns_over_paragraphs():
    text = (
        "Ines: Where did you start?\n"
        "\n"
        "Omar: In a garage.\n"
        "\n"
        "We had one bench and no heating.\n"
        "\n"
        "Ines: And then?\n"
    )
    turns = parse_text(text).turns
    assert [t.speaker for t in turns] == ["Ines", "Omar", "Ines"]
    assert turns[1].text == "In a garage.\nWe had one bench and no heating."


def test_a_second_speaker_labelled_once_is_not_the_one_label_case():
    # "Sam:" once (not a role word, not after a question) is not accepted as a speaker,
    # but it is label-shaped: the document does not label only one speaker.
    text = "Sam: Hello there.\n\nNadia: Hi.\n\nI run a bakery.\n\nNadia: It is small.\n"
    turns = parse_text(text).turns
    assert "OTHER SPEAKER" not in {t.speaker for t in turns}
    assert "PARTICIPANT" not in {t.speaker for t in turns}


# ---------------------------------------------------------------------- tagged CSV

# Synthetic oral-history export: the name once, then initials; blank speakers continue;
# tags are ;-separated codes; timestamps on some rows only, in two shapes.
TAGGED_CSV = """\
speaker,words,tags,timestamp
Lena Ortiz,"Let's begin. Where did you first write&#8212;at home?",,[0:00]
,"Take your time, there is no hurry.",,
Tomas Brandt,"At the kitchen table, on the back of receipts.",early; paper,[01:09]
,"Later I bought a typewriter, a ""real"" one.",early;paper; between ;early,
LO:,Did that change how you revised?,,
TB,"Yes. I retyped every draft, so every draft changed.",revision,0:02:05
TB:,,,
,"And I kept the carbons & the receipts.",paper,
"""


def test_tagged_csv_reader_keeps_codes_per_row_and_continues_blank_speakers():
    (doc,) = read_csv_file(TAGGED_CSV.encode("utf-8"), name="brandt.csv").docs
    assert doc.interview_id is None  # no interview_id column: one conversation per file
    got = [(t.line, t.speaker, t.codes, t.start) for t in doc.turns]
    assert got == [
        (2, "Lena Ortiz", (), 0.0),
        (3, "Lena Ortiz", (), None),
        (4, "Tomas Brandt", ("early", "paper"), 69.0),
        (5, "Tomas Brandt", ("early", "paper", "between"), None),
        (6, "Lena Ortiz", (), None),  # LO: -> the one full name with those initials
        (7, "Tomas Brandt", ("revision",), 125.0),
        (9, "Tomas Brandt", ("paper",), None),  # row 8 has no words; TB continues
    ]
    assert doc.turns[0].text == "Let's begin. Where did you first write—at home?"
    assert doc.turns[3].text == 'Later I bought a typewriter, a "real" one.'
    assert doc.turns[6].text == "And I kept the carbons & the receipts."
    assert any("LO = Lena Ortiz" in w and "TB = Tomas Brandt" in w for w in doc.warnings)


def test_tagged_csv_ingests_with_a_codes_column_roles_and_timestamps(tmp_path):
    raw = tmp_path / "raw"
    write_text(raw / "brandt.csv", TAGGED_CSV)
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    t = result.turns.sort_values("turn_index").reset_index(drop=True)
    assert "codes" in TURNS.columns and t.codes.dtype == "string"
    assert list(t.codes) == ["", "", "early;paper", "early;paper;between", "", "revision", "paper"]
    assert list(t.source_line) == [2, 3, 4, 5, 6, 7, 9]
    starts = [None if pd.isna(s) else s for s in t.start]
    assert starts == [0.0, None, 69.0, None, None, 125.0, None]
    assert t.interview_id.unique().tolist() == ["brandt"]
    roles = dict(zip(t.speaker, t.role))
    assert roles == {"Lena Ortiz": "interviewer", "Tomas Brandt": "interviewee"}
    assert "file name names Tomas Brandt" in result.interviews.iloc[0].role_method
    saved = pd.read_parquet(tmp_path / "out" / "turns.parquet")
    assert saved.codes.tolist() == list(t.codes)


def test_codes_column_aliases_and_jsonl_lists():
    csv_text = "interview_id,speaker,text,codes\nk1,Ana,Hello.,greeting\nk1,Bo,Hi.,\n"
    (doc,) = read_csv_file(csv_text.encode(), name="k.csv").docs
    assert [t.codes for t in doc.turns] == [("greeting",), ()]
    rows = [
        {"interview_id": "j1", "speaker": "Ana", "text": "Why?", "tags": ["why", "probe", "why"]},
        {"interview_id": "j1", "speaker": "", "text": "Because.", "tags": None},
    ]
    data = "\n".join(json.dumps(r) for r in rows).encode()
    (doc,) = read_jsonl_file(data, name="j.jsonl").docs
    assert [(t.speaker, t.codes) for t in doc.turns] == [("Ana", ("why", "probe")), ("Ana", ())]


def test_csv_without_a_speaker_column_still_fails_clearly():
    with pytest.raises(FailFile, match="needs columns speaker, text .*missing speaker"):
        read_csv_file(b"who_knows,words\nx,y\n", name="x.csv")


def test_untagged_files_get_an_empty_codes_column(tmp_path: Path):
    raw = tmp_path / "raw"
    write_text(raw / "a.txt", "Sam: What do you sell?\nAda: Bread and cakes.\n")
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    assert result.turns.codes.tolist() == ["", ""]
