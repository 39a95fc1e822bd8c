"""pipeline.coding: reading and writing researchers' codebooks and coding.

Every file here is written by the tests; all their text is SYNTHETIC (invented for the
tests). The round trip of the REFI-QDA export is checked by a separate minimal reader in
this file (xml.etree: names, namespaces, element order, GUID references, offsets) and by
lxml against subsets of the QDA-XML 1.0 schemas transcribed below (only the elements the
exporter writes; everything left out is optional in the real schemas, so a file valid here
is valid there). qdpxlib was not used: it reads offsets as UTF-8 bytes, strips non-ASCII
characters from project.qde and is not a project dependency.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipeline.coding import (
    Code,
    Codebook,
    CodedExcerpt,
    CodingFormatError,
    Selection,
    read_codebook,
    read_codebook_csv,
    read_codebook_yaml,
    read_coding,
    read_excerpts_csv,
    read_qdc,
    read_qdpx,
    read_qdpx_sources,
    read_taguette_csv,
    read_taguette_sqlite,
    write_coded_csv,
    write_qdc,
    write_qdpx,
)
from pipeline.coding.exporters import MACHINE_USER, PALETTE, code_colors

ROOT = Path(__file__).resolve().parents[1]
SERDIF = ROOT.parent / "shared" / "corpora" / "serdif" / "coding"
P = "urn:QDA-XML:project:1.0"
C = "urn:QDA-XML:codebook:1.0"
GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = "2026-01-01T00:00:00Z"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


# ---------------------------------------------------------------------------- model


def test_code_paths_and_codebook_lookup():
    book = Codebook(
        (
            Code("Barriers", "What stops them."),
            Code("Cost", "Money.", parent="Barriers"),
            Code("Other", parent="Barriers"),
            Code("Drivers"),
            Code("Other", parent="Drivers"),
        )
    )
    assert book.get("Barriers > Cost").description == "Money."
    assert book.get("Cost").path == "Barriers > Cost"  # a name only one code has
    assert book.resolve("barriers>cost") == "Barriers > Cost"  # spaces and case
    assert [c.name for c in book.children("Barriers")] == ["Cost", "Other"]
    assert book.get("Drivers > Other").depth == 1
    with pytest.raises(KeyError, match="ambiguous"):
        book.get("Other")
    with pytest.raises(KeyError, match="no code"):
        book.get("Nope")
    assert "Nope" not in book and "Cost" in book


def test_codebook_rejects_child_before_parent_and_bad_values():
    with pytest.raises(ValueError, match="parent"):
        Codebook((Code("Cost", parent="Barriers"), Code("Barriers")))
    with pytest.raises(ValueError, match="two codes"):
        Codebook((Code("A"), Code("A")))
    with pytest.raises(ValueError, match="#RRGGBB"):
        Code("A", color="red")
    with pytest.raises(ValueError, match="source"):
        CodedExcerpt("i", ("A",), "t", source="robot")
    with pytest.raises(ValueError, match="confidence"):
        CodedExcerpt("i", ("A",), "t", source="machine", confidence=1.5)
    assert Code("A", color="#abc").color == "#AABBCC"


# ---------------------------------------------------------------------------- CSV excerpts


def test_excerpts_csv_multi_codes_hierarchy_aliases_and_merging(tmp_path):
    f = write(
        tmp_path / "coded.csv",
        "Document,Tag,Quote\n"  # aliases, any case
        'int-01.docx,"Barriers > Cost; Tools","SYNTHETIC: we pay too much for tools."\n'
        "int-01.docx,Feelings,SYNTHETIC: we pay too much for tools.\n"  # same excerpt
        "int-02,Barriers>Time,SYNTHETIC: no time to learn it.\n"
        "int-02,Yes/No answers,SYNTHETIC: yes.\n",  # '/' is not a separator
    )
    book, excerpts = read_excerpts_csv(f)
    assert [(e.interview, e.codes) for e in excerpts] == [
        ("int-01", ("Barriers > Cost", "Tools", "Feelings")),
        ("int-02", ("Barriers > Time",)),
        ("int-02", ("Yes/No answers",)),
    ]
    assert excerpts[0].text == "SYNTHETIC: we pay too much for tools."
    assert book.paths == (
        "Barriers",
        "Barriers > Cost",
        "Barriers > Time",
        "Tools",
        "Feelings",
        "Yes/No answers",
    )
    # Asked for, '/' splits.
    book2, ex2 = read_excerpts_csv(f, path_sep="/")
    assert ex2[2].codes == ("Yes > No answers",) and "Yes" in book2


def test_excerpts_csv_second_highlight_of_same_words_stays_separate(tmp_path):
    f = write(
        tmp_path / "c.csv",
        "interview,code,text\n"
        "a,X,SYNTHETIC: yes.\n"
        "a,Y,SYNTHETIC: yes.\n"  # merges: same excerpt, another code
        "a,X,SYNTHETIC: yes.\n",  # X again: a second excerpt of the same words
    )
    _, excerpts = read_excerpts_csv(f)
    assert [e.codes for e in excerpts] == [("X", "Y"), ("X",)]


def test_excerpts_csv_semicolon_delimited_with_codebook(tmp_path):
    book = Codebook((Code("Barriers"), Code("Cost; money", parent="Barriers")))
    f = write(
        tmp_path / "c.csv",
        'interview;codes;excerpt\nint-03;"Cost; money";SYNTHETIC: pricey.\n',
    )
    got_book, excerpts = read_excerpts_csv(f, book)
    assert got_book is book
    # the whole cell is a code of the codebook: not split on ';', resolved to its path
    assert excerpts[0].codes == ("Barriers > Cost; money",)


def test_excerpts_csv_errors_name_file_and_problem(tmp_path):
    missing = write(tmp_path / "missing.csv", "interview,text\na,SYNTHETIC\n")
    with pytest.raises(CodingFormatError, match=r"missing\.csv: missing column 'code'"):
        read_excerpts_csv(missing)
    empty = write(tmp_path / "empty.csv", "interview,code,text\na,X,\n")
    with pytest.raises(CodingFormatError, match=r"empty\.csv, line 2: empty text"):
        read_excerpts_csv(empty)
    unknown = write(tmp_path / "unknown.csv", "interview,code,text\na,Typo,SYNTHETIC\n")
    with pytest.raises(CodingFormatError, match=r"unknown\.csv.*unknown code 'Typo'"):
        read_excerpts_csv(unknown, Codebook((Code("Cost"),)))
    bad_source = write(tmp_path / "src.csv", "interview,code,text,source\na,X,SYNTHETIC,bot\n")
    with pytest.raises(CodingFormatError, match="not human or machine"):
        read_excerpts_csv(bad_source)
    with pytest.raises(CodingFormatError, match="no such file"):
        read_coding(tmp_path / "nope.csv")
    neither = write(tmp_path / "neither.csv", "foo,bar\n1,2\n")
    with pytest.raises(CodingFormatError, match="neither coded excerpts"):
        read_coding(neither)


def test_coded_csv_round_trip(tmp_path):
    excerpts = [
        CodedExcerpt("int-01", ("Barriers > Cost", "Tools"), 'SYNTHETIC: "quoted", and\nmore'),
        CodedExcerpt("int-02", ("Tools",), "SYNTHETIC: maybe.", "machine", 0.83, 10, 27, "m"),
    ]
    out = write_coded_csv(tmp_path / "out.csv", excerpts)
    _, back = read_coding(out)
    assert back == excerpts
    with pytest.raises(ValueError, match="';'"):
        write_coded_csv(tmp_path / "x.csv", [CodedExcerpt("a", ("A;B",), "t")])


# ---------------------------------------------------------------------------- codebooks


def test_codebook_csv_parents_examples_any_order(tmp_path):
    f = write(
        tmp_path / "codebook.csv",
        "Tag,Description,Examples,Parent,Colour,number of highlights\n"
        'Cost,Money spent.,"SYNTHETIC: too pricey; SYNTHETIC: we pay",Barriers,#ff0000,3\n'
        "Barriers,What stops them.,,,,5\n"
        "Drivers > Curiosity,Wanting to learn.,,,,1\n",  # parent Drivers is not listed
    )
    book, excerpts = read_coding(f)
    assert excerpts == []
    assert book.paths == ("Barriers", "Barriers > Cost", "Drivers", "Drivers > Curiosity")
    cost = book.get("Barriers > Cost")
    assert cost.examples == ("SYNTHETIC: too pricey", "SYNTHETIC: we pay")
    assert (cost.description, cost.color) == ("Money spent.", "#FF0000")
    dup = write(tmp_path / "dup.csv", "name,description\nA,x\nA,y\n")
    with pytest.raises(CodingFormatError, match="defined twice"):
        read_codebook_csv(dup)


def test_codebook_yaml_list_and_mapping_forms(tmp_path):
    listed = write(
        tmp_path / "codebook.yaml",
        """
codes:
  - name: Barriers
    description: What stops them.
    children:
      - name: Cost
        description: Money spent.
        examples: ["SYNTHETIC: too pricey"]
        color: "#00FF00"
      - Time
  - Drivers
groups:
  Obstacles: [Barriers > Cost, Time]
""",
    )
    book, _ = read_codebook_yaml(listed)
    assert book.paths == ("Barriers", "Barriers > Cost", "Barriers > Time", "Drivers")
    assert book.get("Cost").examples == ("SYNTHETIC: too pricey",)
    assert book.get("Cost").color == "#00FF00"
    assert book.groups == {"Obstacles": ("Barriers > Cost", "Barriers > Time")}
    mapping = write(
        tmp_path / "codebook.yml",
        """
Barriers:
  description: What stops them.
  children:
    Cost: Money spent.
    Time:
Drivers: Why they start.
""",
    )
    book2 = read_codebook(mapping)
    assert book2.paths == ("Barriers", "Barriers > Cost", "Barriers > Time", "Drivers")
    assert book2.get("Cost").description == "Money spent."
    assert book2.get("Drivers").description == "Why they start."


def test_codebook_yaml_errors(tmp_path):
    with pytest.raises(CodingFormatError, match=r"bad\.yaml: not valid YAML"):
        read_coding(write(tmp_path / "bad.yaml", "codes: [a, b\n"))
    with pytest.raises(CodingFormatError, match="unknown key 'descripton'"):
        read_coding(write(tmp_path / "typo.yaml", "- name: A\n  descripton: x\n"))


# ---------------------------------------------------------------------------- Taguette

TAGUETTE_SCHEMA = """
CREATE TABLE projects (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, name VARCHAR(200) NOT NULL,
    description TEXT NOT NULL, created DATETIME NOT NULL);
CREATE TABLE documents (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, name VARCHAR(200) NOT NULL,
    description TEXT NOT NULL, filename VARCHAR(200) NOT NULL, created DATETIME NOT NULL,
    project_id INTEGER NOT NULL, text_direction VARCHAR(13) NOT NULL, contents TEXT NOT NULL);
CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL,
    path VARCHAR(200) NOT NULL, description TEXT NOT NULL);
CREATE TABLE highlights (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL, start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
    snippet TEXT NOT NULL);
CREATE TABLE highlight_tags (highlight_id INTEGER NOT NULL, tag_id INTEGER NOT NULL,
    PRIMARY KEY (highlight_id, tag_id));
"""

# SYNTHETIC paragraphs; non-ASCII so that UTF-8 byte offsets differ from code points.
PARAS = [
    "Read the \u2018Home\u2019 tab.",
    "   SYNTHETIC: the caf\u00e9 map is clear \U0001f642 & useful.",
    "SYNTHETIC: export was slow.",
]


def _taguette_db(path: Path, second_project: bool = False) -> tuple[Path, str]:
    html = "\n".join(f"<p>{p.replace('&', '&amp;')}</p>" for p in PARAS)
    text = "\n".join(PARAS)  # the document's text nodes, as Taguette counts them
    con = sqlite3.connect(path)
    con.executescript(TAGUETTE_SCHEMA)
    con.execute("INSERT INTO projects VALUES (1, 'p', '', '2022-01-01')")
    con.execute(
        "INSERT INTO documents VALUES (1, 'P1_session.odt', '', 'P1_session.odt', "
        "'2022-01-01', 1, 'LEFT_TO_RIGHT', ?)",
        (html,),
    )
    con.executemany(
        "INSERT INTO tags VALUES (?, 1, ?, ?)",
        [(1, "Clear", "Participant finds it clear."), (2, "Issue > Slow", "Too slow.")],
    )

    def add(hid: int, words: str, tags: list[int]) -> None:
        start = text.index(words)
        b0 = len(text[:start].encode("utf-8"))
        b1 = b0 + len(words.encode("utf-8"))
        snippet = "<p>" + words.replace("&", "&amp;").replace("\n", "</p>\n<p>") + "</p>"
        con.execute("INSERT INTO highlights VALUES (?, 1, ?, ?, ?)", (hid, b0, b1, snippet))
        con.executemany("INSERT INTO highlight_tags VALUES (?, ?)", [(hid, t) for t in tags])

    add(1, "the caf\u00e9 map is clear \U0001f642 & useful.", [1])
    add(2, "useful.\nSYNTHETIC: export was slow", [1, 2])
    add(3, "Home", [])  # no tag: not an excerpt
    if second_project:
        con.execute("INSERT INTO projects VALUES (2, 'q', '', '2022-01-01')")
        con.execute("INSERT INTO tags VALUES (3, 2, 'Other', '')")
    con.commit()
    con.close()
    return path, text


def test_taguette_sqlite_offsets_snippets_and_tags(tmp_path):
    db, text = _taguette_db(tmp_path / "project.sqlite3")
    book, excerpts = read_coding(db)
    assert book.paths == ("Clear", "Issue", "Issue > Slow")
    assert book.get("Clear").description == "Participant finds it clear."
    assert [e.codes for e in excerpts] == [("Clear",), ("Clear", "Issue > Slow")]
    for e in excerpts:
        assert e.interview == "P1_session"
        assert text[e.start : e.end] == e.text  # code points, not bytes
    assert excerpts[0].text == "the caf\u00e9 map is clear \U0001f642 & useful."
    assert excerpts[1].text == "useful.\nSYNTHETIC: export was slow"


def test_taguette_sqlite_errors(tmp_path):
    db, _ = _taguette_db(tmp_path / "two.sqlite3", second_project=True)
    with pytest.raises(CodingFormatError, match="2 projects"):
        read_taguette_sqlite(db)
    assert read_taguette_sqlite(db, project_id=2)[0].paths == ("Other",)
    other = tmp_path / "other.sqlite3"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE documents (id INTEGER)")
    con.close()
    with pytest.raises(CodingFormatError, match="not a Taguette project: missing tables"):
        read_coding(other)
    with pytest.raises(CodingFormatError, match="not an SQLite database"):
        read_taguette_sqlite(write(tmp_path / "fake.sqlite3", "hello"))


def test_taguette_csv_agrees_with_sqlite(tmp_path):
    db, _ = _taguette_db(tmp_path / "project.sqlite3")
    # Taguette's highlights export: one row per highlight and tag, whitespace collapsed.
    f = write(
        tmp_path / "highlights.csv",
        "id,document,tag,content\n"
        "11,P1_session.odt,Clear,the caf\u00e9 map is clear \U0001f642 & useful.\n"
        "12,P1_session.odt,Clear,useful. SYNTHETIC: export was slow\n"
        "12,P1_session.odt,Issue > Slow,useful. SYNTHETIC: export was slow\n",
    )
    book, excerpts = read_coding(f)
    assert read_taguette_csv(f)[1] == excerpts
    assert [e.codes for e in excerpts] == [("Clear",), ("Clear", "Issue > Slow")]
    assert {e.interview for e in excerpts} == {"P1_session"}
    _, from_db = read_taguette_sqlite(db)

    def key(e):
        return e.interview, " ".join(e.text.split()), e.codes

    assert [key(e) for e in excerpts] == [key(e) for e in from_db]
    assert book.paths == ("Clear", "Issue", "Issue > Slow")
    with pytest.raises(CodingFormatError, match="missing column 'content'"):
        read_taguette_csv(write(tmp_path / "t.csv", "id,document,tag\n1,d,x\n"))


@pytest.mark.skipif(not SERDIF.is_dir(), reason="shared/corpora/serdif is not here")
def test_real_taguette_exports_agree():
    codebook, _ = read_coding(SERDIF / "codebook.csv")
    csv_book, from_csv = read_coding(SERDIF / "taguette-highlights.csv", codebook)
    db_book, from_db = read_coding(SERDIF / "taguette-project.sqlite3")
    for book, excerpts in ((csv_book, from_csv), (db_book, from_db)):
        assert len(book) == 22
        assert len(excerpts) == 1793
        assert sum(len(e.codes) for e in excerpts) == 1930
    assert set(db_book.paths) == set(codebook.paths)
    assert all(e.start is not None for e in from_db)

    def key(e):
        return e.interview, " ".join(e.text.split()), tuple(sorted(e.codes))

    assert sorted(map(key, from_csv)) == sorted(map(key, from_db))


# ---------------------------------------------------------------------------- REFI-QDA in

SOURCE = (
    "SYNTHETIC interview.\nCaf\u00e9 prices rose \U0001f642 so we switched.\n"
    "We pay too much for tools."
)
G = {
    k: f"00000000-0000-4000-8000-{i:012x}" for i, k in enumerate("u m c1 c2 c3 s1 s2 t n x".split())
}


def _qde(selections: str, extra_code_ref: str = "") -> str:
    a = SOURCE.index("Caf\u00e9 prices rose \U0001f642")
    b = a + len("Caf\u00e9 prices rose \U0001f642")
    c = SOURCE.index("We pay too much")
    d = len(SOURCE)
    sel = selections.format(a=a, b=b, c=c, d=d, **G)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="{P}" name="Hand-written" origin="tests">
  <Users>
    <User guid="{G["u"]}" name="Ana"/>
    <User guid="{G["m"]}" name="bot (machine)"/>
  </Users>
  <CodeBook><Codes>
    <Code guid="{G["c1"]}" name="Barriers" isCodable="true" color="#112233">
      <Description>What stops them.</Description>
      <Code guid="{G["c2"]}" name="Cost" isCodable="true">
        <Description>Money.

Examples:
- SYNTHETIC: too pricey</Description>
      </Code>
    </Code>
    <Code guid="{G["c3"]}" name="Change" isCodable="false"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="{G["s1"]}" name="int-07.docx" plainTextPath="internal://{G["s1"]}.txt">
      {sel}
    </TextSource>
  </Sources>
  <Notes>
    <Note guid="{G["n"]}" name="memo"><PlainTextContent>SYNTHETIC memo</PlainTextContent></Note>
  </Notes>
  <Sets>
    <Set guid="{G["t"]}" name="Money theme">
      <MemberCode targetGUID="{G["c2"]}"/>{extra_code_ref}
    </Set>
  </Sets>
</Project>
"""


HAND_SELECTIONS = """
<PlainTextSelection guid="{x}" name="one" startPosition="{a}" endPosition="{b}"
    creatingUser="{u}">
  <Coding guid="00000000-0000-4000-8000-0000000000a1" creatingUser="{u}">
    <CodeRef targetGUID="{c2}"/></Coding>
  <Coding guid="00000000-0000-4000-8000-0000000000a2" creatingUser="{u}">
    <CodeRef targetGUID="{c3}"/></Coding>
  <NoteRef targetGUID="{n}"/>
</PlainTextSelection>
<PlainTextSelection guid="{s2}" name="two" startPosition="{c}" endPosition="{d}"
    creatingUser="{m}">
  <Description>machine-suggested, confidence 0.83</Description>
  <Coding guid="00000000-0000-4000-8000-0000000000a3" creatingUser="{m}">
    <CodeRef targetGUID="{c1}"/></Coding>
</PlainTextSelection>
<PlainTextSelection guid="00000000-0000-4000-8000-0000000000b0" startPosition="0" endPosition="3"/>
"""


def _qdpx(path: Path, qde: str, sources: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
        for name, text in (sources if sources is not None else {G["s1"]: SOURCE}).items():
            zf.writestr(f"sources/{name}.txt", text.encode("utf-8"))
    return path


def test_read_hand_written_qdpx(tmp_path):
    f = _qdpx(tmp_path / "hand.qdpx", _qde(HAND_SELECTIONS))
    book, excerpts = read_coding(f)
    assert book.paths == ("Barriers", "Barriers > Cost", "Change")
    cost = book.get("Cost")
    assert (cost.description, cost.examples) == ("Money.", ("SYNTHETIC: too pricey",))
    assert book.get("Barriers").color == "#112233"
    assert book.groups == {"Money theme": ("Barriers > Cost",)}
    assert len(excerpts) == 2  # the selection without a coding is not an excerpt
    one, two = excerpts
    assert one.text == "Caf\u00e9 prices rose \U0001f642"  # code points, emoji is one
    assert (one.interview, one.codes, one.source, one.note) == (
        "int-07",
        ("Barriers > Cost", "Change"),
        "human",
        "SYNTHETIC memo",
    )
    assert two.text == "We pay too much for tools."
    assert (two.codes, two.source, two.confidence, two.note) == (
        ("Barriers",),
        "machine",
        0.83,
        None,
    )
    assert read_qdpx_sources(f) == {"int-07.docx": SOURCE}


def test_qdpx_errors_name_the_problem(tmp_path):
    with pytest.raises(CodingFormatError, match=r"notzip\.qdpx: not a zip archive"):
        read_qdpx(write(tmp_path / "notzip.qdpx", "hello"))
    empty = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(CodingFormatError, match="expected one project.qde"):
        read_qdpx(empty)
    with pytest.raises(CodingFormatError, match="bad XML"):
        read_qdpx(_qdpx(tmp_path / "bad.qdpx", "<Project><Users></Project>"))
    with pytest.raises(CodingFormatError, match="root element is 'CodeBook'"):
        read_qdpx(_qdpx(tmp_path / "root.qdpx", f'<CodeBook xmlns="{C}"/>'))
    unknown = HAND_SELECTIONS.replace('targetGUID="{c1}"', 'targetGUID="{t}"')
    with pytest.raises(CodingFormatError, match="references unknown code"):
        read_qdpx(_qdpx(tmp_path / "unknown.qdpx", _qde(unknown)))
    outside = HAND_SELECTIONS.replace('endPosition="{d}"', 'endPosition="9999"')
    with pytest.raises(CodingFormatError, match=r"outside source 'int-07.docx'"):
        read_qdpx(_qdpx(tmp_path / "outside.qdpx", _qde(outside)))
    with pytest.raises(CodingFormatError, match="is not in the archive"):
        read_qdpx(_qdpx(tmp_path / "nosrc.qdpx", _qde(HAND_SELECTIONS), sources={}))
    bad_set = _qde(HAND_SELECTIONS, extra_code_ref=f'<MemberCode targetGUID="{G["x"]}"/>')
    with pytest.raises(CodingFormatError, match="set 'Money theme' references unknown code"):
        read_qdpx(_qdpx(tmp_path / "set.qdpx", bad_set))


def test_read_hand_written_qdc_and_sniffing(tmp_path):
    qdc = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="{C}" origin="tests">
  <Codes>
    <Code guid="{G["c1"]}" name="Barriers" isCodable="true" color="#ABC">
      <Description>What stops them.</Description>
      <Code guid="{G["c2"]}" name="Cost" isCodable="true"/>
    </Code>
  </Codes>
  <Sets><Set guid="{G["t"]}" name="Money"><MemberCode guid="{G["c2"]}"/></Set></Sets>
</CodeBook>"""
    f = write(tmp_path / "book.qdc", qdc)
    book, excerpts = read_qdc(f)
    assert excerpts == []
    assert book.paths == ("Barriers", "Barriers > Cost")
    assert book.get("Barriers").color == "#AABBCC"
    assert book.groups == {"Money": ("Barriers > Cost",)}
    # No extension: recognised by content.
    assert read_codebook(write(tmp_path / "book", qdc)).paths == book.paths
    assert read_coding(_qdpx(tmp_path / "project", _qde(HAND_SELECTIONS)))[1][0].codes
    with pytest.raises(CodingFormatError, match="bad XML"):
        read_qdc(write(tmp_path / "broken.qdc", qdc[:-20]))


# ---------------------------------------------------------------------------- REFI-QDA out

PROJECT_ORDER = [
    "Users",
    "CodeBook",
    "Variables",
    "Cases",
    "Sources",
    "Notes",
    "Links",
    "Sets",
    "Graphs",
    "Description",
    "NoteRef",
]

GUID_PATTERN = "-".join(f"[0-9a-fA-F]{{{n}}}" for n in (8, 4, 4, 4, 12))

# Subsets of Project.xsd and Codebook.xsd (QDA-XML 1.0): the types the exporters write.
PROJECT_XSD = f"""<xsd:schema xmlns="{P}" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  targetNamespace="{P}" elementFormDefault="qualified">
 <xsd:element name="Project" type="ProjectType"/>
 <xsd:complexType name="ProjectType"><xsd:sequence>
  <xsd:element name="Users" type="UsersType" minOccurs="0"/>
  <xsd:element name="CodeBook" type="CodeBookType" minOccurs="0"/>
  <xsd:element name="Sources" type="SourcesType" minOccurs="0"/>
  <xsd:element name="Notes" type="NotesType" minOccurs="0"/>
  <xsd:element name="Sets" type="SetsType" minOccurs="0"/>
  <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
 </xsd:sequence>
  <xsd:attribute name="name" type="xsd:string" use="required"/>
  <xsd:attribute name="origin" type="xsd:string"/>
  <xsd:attribute name="creatingUserGUID" type="GUIDType"/>
  <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
 </xsd:complexType>
 <xsd:complexType name="UsersType"><xsd:sequence>
  <xsd:element name="User" type="UserType" maxOccurs="unbounded"/></xsd:sequence>
 </xsd:complexType>
 <xsd:complexType name="UserType">
  <xsd:attribute name="guid" type="GUIDType" use="required"/>
  <xsd:attribute name="name" type="xsd:string"/>
 </xsd:complexType>
 <xsd:complexType name="CodeBookType"><xsd:sequence>
  <xsd:element name="Codes" type="CodesType"/></xsd:sequence></xsd:complexType>
 <xsd:complexType name="CodesType"><xsd:sequence>
  <xsd:element name="Code" type="CodeType" maxOccurs="unbounded"/></xsd:sequence>
 </xsd:complexType>
 <xsd:complexType name="CodeType"><xsd:sequence>
  <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
  <xsd:element name="NoteRef" type="RefType" minOccurs="0" maxOccurs="unbounded"/>
  <xsd:element name="Code" type="CodeType" minOccurs="0" maxOccurs="unbounded"/>
 </xsd:sequence>
  <xsd:attribute name="guid" type="GUIDType" use="required"/>
  <xsd:attribute name="name" type="xsd:string" use="required"/>
  <xsd:attribute name="isCodable" type="xsd:boolean" use="required"/>
  <xsd:attribute name="color" type="RGBType"/>
 </xsd:complexType>
 <xsd:complexType name="SourcesType"><xsd:choice maxOccurs="unbounded">
  <xsd:element name="TextSource" type="TextSourceType"/></xsd:choice></xsd:complexType>
 <xsd:complexType name="TextSourceType"><xsd:sequence>
  <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
  <xsd:element name="PlainTextContent" type="xsd:string" minOccurs="0"/>
  <xsd:element name="PlainTextSelection" type="PlainTextSelectionType" minOccurs="0"
    maxOccurs="unbounded"/>
  <xsd:element name="Coding" type="CodingType" minOccurs="0" maxOccurs="unbounded"/>
  <xsd:element name="NoteRef" type="RefType" minOccurs="0" maxOccurs="unbounded"/>
 </xsd:sequence>
  <xsd:attribute name="guid" type="GUIDType" use="required"/>
  <xsd:attribute name="name" type="xsd:string"/>
  <xsd:attribute name="plainTextPath" type="xsd:string"/>
  <xsd:attribute name="creatingUser" type="GUIDType"/>
  <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
 </xsd:complexType>
 <xsd:complexType name="PlainTextSelectionType"><xsd:sequence>
  <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
  <xsd:element name="Coding" type="CodingType" minOccurs="0" maxOccurs="unbounded"/>
  <xsd:element name="NoteRef" type="RefType" minOccurs="0" maxOccurs="unbounded"/>
 </xsd:sequence>
  <xsd:attribute name="guid" type="GUIDType" use="required"/>
  <xsd:attribute name="name" type="xsd:string"/>
  <xsd:attribute name="startPosition" type="xsd:integer" use="required"/>
  <xsd:attribute name="endPosition" type="xsd:integer" use="required"/>
  <xsd:attribute name="creatingUser" type="GUIDType"/>
  <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
 </xsd:complexType>
 <xsd:complexType name="CodingType"><xsd:sequence>
  <xsd:element name="CodeRef" type="RefType"/>
  <xsd:element name="NoteRef" type="RefType" minOccurs="0" maxOccurs="unbounded"/>
 </xsd:sequence>
  <xsd:attribute name="guid" type="GUIDType" use="required"/>
  <xsd:attribute name="creatingUser" type="GUIDType"/>
  <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
 </xsd:complexType>
 <xsd:complexType name="NotesType"><xsd:sequence>
  <xsd:element name="Note" type="TextSourceType" maxOccurs="unbounded"/></xsd:sequence>
 </xsd:complexType>
 <xsd:complexType name="SetsType"><xsd:sequence>
  <xsd:element name="Set" type="SetType" maxOccurs="unbounded"/></xsd:sequence>
 </xsd:complexType>
 <xsd:complexType name="SetType"><xsd:sequence>
  <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
  <xsd:element name="MemberCode" type="RefType" minOccurs="0" maxOccurs="unbounded"/>
 </xsd:sequence>
  <xsd:attribute name="guid" type="GUIDType" use="required"/>
  <xsd:attribute name="name" type="xsd:string" use="required"/>
 </xsd:complexType>
 <xsd:complexType name="RefType">
  <xsd:attribute name="targetGUID" type="GUIDType" use="required"/></xsd:complexType>
 <xsd:simpleType name="GUIDType"><xsd:restriction base="xsd:token">
  <xsd:pattern value="{GUID_PATTERN}"/>
 </xsd:restriction></xsd:simpleType>
 <xsd:simpleType name="RGBType"><xsd:restriction base="xsd:token">
  <xsd:pattern value="#([A-Fa-f0-9]{{6}}|[A-Fa-f0-9]{{3}})"/></xsd:restriction></xsd:simpleType>
</xsd:schema>"""

CODEBOOK_XSD = f"""<xsd:schema xmlns="{C}" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  targetNamespace="{C}" elementFormDefault="qualified">
 <xsd:element name="CodeBook" type="CodeBookType"/>
 <xsd:complexType name="CodeBookType"><xsd:sequence>
  <xsd:element name="Codes" type="CodesType"/>
  <xsd:element name="Sets" type="SetsType" minOccurs="0"/>
 </xsd:sequence><xsd:attribute name="origin" type="xsd:string"/></xsd:complexType>
 <xsd:complexType name="CodesType"><xsd:sequence>
  <xsd:element name="Code" type="CodeType" maxOccurs="unbounded"/></xsd:sequence>
 </xsd:complexType>
 <xsd:complexType name="CodeType"><xsd:sequence>
  <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
  <xsd:element name="Code" type="CodeType" minOccurs="0" maxOccurs="unbounded"/>
 </xsd:sequence>
  <xsd:attribute name="guid" type="xsd:token" use="required"/>
  <xsd:attribute name="name" type="xsd:string" use="required"/>
  <xsd:attribute name="isCodable" type="xsd:boolean" use="required"/>
  <xsd:attribute name="color" type="xsd:token"/>
 </xsd:complexType>
 <xsd:complexType name="SetsType"><xsd:sequence>
  <xsd:element name="Set" type="SetType" maxOccurs="unbounded"/></xsd:sequence>
 </xsd:complexType>
 <xsd:complexType name="SetType"><xsd:sequence>
  <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
  <xsd:element name="MemberCode" type="MemberCodeType" minOccurs="0" maxOccurs="unbounded"/>
 </xsd:sequence>
  <xsd:attribute name="guid" type="xsd:token" use="required"/>
  <xsd:attribute name="name" type="xsd:string" use="required"/>
 </xsd:complexType>
 <xsd:complexType name="MemberCodeType">
  <xsd:attribute name="guid" type="xsd:token" use="required"/></xsd:complexType>
</xsd:schema>"""


def _validate(xsd: str, data: bytes) -> None:
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.fromstring(xsd.encode()))
    doc = etree.fromstring(data)
    assert schema.validate(doc), schema.error_log


EXPORT_BOOK = Codebook(
    (
        Code("Barriers", "What stops them."),
        Code("Cost", "Money spent.", "Barriers", examples=("SYNTHETIC: too pricey",)),
        Code("Time", "", "Barriers", color="#123456"),
        Code("Drivers", "Why they start."),
    )
)
EXPORT_SOURCES = {
    "int-01": "SYNTHETIC: Caf\u00e9 tools cost a lot \U0001f642.\nWe have no time at all.",
    "int-02": "SYNTHETIC: I was curious, then the price went up.",
}


def _export_selections() -> list[Selection]:
    a = EXPORT_SOURCES["int-01"]
    b = EXPORT_SOURCES["int-02"]

    def at(text, words):
        i = text.index(words)
        return i, i + len(words)

    return [
        Selection("int-01", *at(a, "Caf\u00e9 tools cost a lot \U0001f642"), ["Cost"]),
        Selection("int-01", *at(a, "no time at all"), ["Barriers > Time", "Cost"], note="n1"),
        Selection("int-02", *at(b, "I was curious"), ["Drivers"], "machine", 0.83),
        Selection("int-02", *at(b, "price went up"), ["Cost"], "machine", 0.5, "check"),
        ("int-02", *at(b, "price went up"), ["Drivers"]),  # a plain tuple, same range
    ]


def _export(path: Path, when: str = STAMP) -> Path:
    return write_qdpx(
        path,
        "SYNTHETIC project",
        EXPORT_BOOK,
        EXPORT_SOURCES,
        _export_selections(),
        themes={"Money": ["Cost", "Barriers > Time"], "Motivation": ["Drivers"]},
        creation_time=when,
    )


def _minimal_read(path: Path) -> dict:
    """An independent check of a .qdpx: structure, references and offsets."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[0] == "project.qde"
        root = ET.fromstring(zf.read("project.qde"))
        files = {n: zf.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    assert root.tag == q(P, "Project")
    for el in root.iter():
        assert el.tag.startswith("{" + P + "}"), el.tag  # one namespace throughout
    order = [PROJECT_ORDER.index(c.tag.split("}")[1]) for c in root]
    assert order == sorted(set(order)), "Project children out of order or repeated"

    guids: dict[str, ET.Element] = {}
    for el in root.iter():
        if "guid" in el.attrib:
            assert GUID_RE.fullmatch(el.get("guid")), el.get("guid")
            assert el.get("guid") not in guids, "duplicate guid"
            guids[el.get("guid")] = el
    for el in root.iter():
        for attr in ("targetGUID", "creatingUser", "creatingUserGUID"):
            if attr in el.attrib:
                assert el.get(attr) in guids, f"{el.tag} {attr} does not resolve"
    for ref in root.iter(q(P, "CodeRef")):
        assert guids[ref.get("targetGUID")].tag == q(P, "Code")
    for ref in root.iter(q(P, "MemberCode")):
        assert guids[ref.get("targetGUID")].tag == q(P, "Code")
    for ref in root.iter(q(P, "NoteRef")):
        assert guids[ref.get("targetGUID")].tag == q(P, "Note")

    users = {u.get("guid"): u.get("name") for u in root.find(q(P, "Users"))}
    codes = {}

    def walk(el, parent):
        kids = [c.tag.split("}")[1] for c in el]
        assert kids == sorted(kids, key=["Description", "NoteRef", "Code"].index)
        path = f"{parent} > {el.get('name')}" if parent else el.get("name")
        assert re.fullmatch(r"#[0-9A-F]{6}", el.get("color")) and el.get("isCodable") == "true"
        codes[el.get("guid")] = {
            "path": path,
            "color": el.get("color"),
            "description": el.findtext(q(P, "Description")) or "",
        }
        for c in el.findall(q(P, "Code")):
            walk(c, path)

    for c in root.find(q(P, "CodeBook")).find(q(P, "Codes")):
        walk(c, None)

    selections = []
    for src in root.find(q(P, "Sources")):
        assert src.tag == q(P, "TextSource")
        ref = src.get("plainTextPath")
        assert ref == f"internal://{src.get('guid')}.txt"
        text = files[f"sources/{src.get('guid')}.txt"]
        for sel in src:
            assert sel.tag == q(P, "PlainTextSelection")
            kids = [c.tag.split("}")[1] for c in sel]
            assert kids == sorted(kids, key=["Description", "Coding", "NoteRef"].index)
            for coding in sel.findall(q(P, "Coding")):
                assert [c.tag for c in coding] == [q(P, "CodeRef")]  # exactly one CodeRef
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            selections.append(
                {
                    "source": src.get("name"),
                    "text": text[start:end],
                    "codes": [
                        codes[c.find(q(P, "CodeRef")).get("targetGUID")]["path"]
                        for c in sel.findall(q(P, "Coding"))
                    ],
                    "user": users[sel.get("creatingUser")],
                    "coders": {users[c.get("creatingUser")] for c in sel.findall(q(P, "Coding"))},
                    "description": sel.findtext(q(P, "Description")),
                    "notes": [
                        guids[r.get("targetGUID")].findtext(q(P, "PlainTextContent"))
                        for r in sel.findall(q(P, "NoteRef"))
                    ],
                }
            )
    sets = {
        s.get("name"): [codes[m.get("targetGUID")]["path"] for m in s]
        for s in root.find(q(P, "Sets"))
    }
    return {"users": users, "codes": codes, "selections": selections, "sets": sets}


def test_qdpx_export_structure_with_an_independent_reader(tmp_path):
    out = _export(tmp_path / "project.qdpx")
    seen = _minimal_read(out)
    assert sorted(seen["users"].values()) == sorted(["researcher", MACHINE_USER])
    by_path = {c["path"]: c for c in seen["codes"].values()}
    assert list(by_path) == list(EXPORT_BOOK.paths)  # hierarchy as nesting, in order
    assert by_path["Barriers > Time"]["color"] == "#123456"
    assert by_path["Barriers"]["color"] == PALETTE[0] and by_path["Drivers"]["color"] == PALETTE[1]
    assert by_path["Barriers > Cost"]["description"].startswith("Money spent.")
    assert "SYNTHETIC: too pricey" in by_path["Barriers > Cost"]["description"]

    expected = [
        ("int-01", "Caf\u00e9 tools cost a lot \U0001f642", ["Barriers > Cost"]),
        ("int-01", "no time at all", ["Barriers > Time", "Barriers > Cost"]),
        ("int-02", "I was curious", ["Drivers"]),
        ("int-02", "price went up", ["Barriers > Cost"]),
        ("int-02", "price went up", ["Drivers"]),
    ]
    assert [(s["source"], s["text"], s["codes"]) for s in seen["selections"]] == expected
    machine = [s for s in seen["selections"] if s["user"] == MACHINE_USER]
    assert [s["description"] for s in machine] == [
        "machine-suggested, confidence 0.83",
        "machine-suggested, confidence 0.5\ncheck",
    ]
    assert all(s["coders"] == {MACHINE_USER} for s in machine)
    assert all(s["notes"] == [s["description"]] for s in machine)
    human_note = seen["selections"][1]
    assert (human_note["user"], human_note["description"]) == ("researcher", "n1")
    assert seen["sets"] == {
        "Money": ["Barriers > Cost", "Barriers > Time"],
        "Motivation": ["Drivers"],
    }


def test_qdpx_export_validates_against_the_schema(tmp_path):
    out = _export(tmp_path / "project.qdpx")
    with zipfile.ZipFile(out) as zf:
        _validate(PROJECT_XSD, zf.read("project.qde"))
    # and the validator does reject a wrong order
    with zipfile.ZipFile(out) as zf:
        root = ET.fromstring(zf.read("project.qde"))
    users = root.find(q(P, "Users"))
    root.remove(users)
    root.append(users)
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.fromstring(PROJECT_XSD.encode()))
    assert not schema.validate(etree.fromstring(ET.tostring(root)))


def test_qdpx_round_trip_through_our_reader(tmp_path):
    out = _export(tmp_path / "project.qdpx")
    book, excerpts = read_coding(out)
    assert book.paths == EXPORT_BOOK.paths
    for code in EXPORT_BOOK:
        back = book.get(code.path)
        assert (back.description, back.examples) == (code.description, code.examples)
    assert {c.path: c.color for c in book} == code_colors(EXPORT_BOOK)
    assert book.groups == {
        "Money": ("Barriers > Cost", "Barriers > Time"),
        "Motivation": ("Drivers",),
    }
    sels = sorted(_export_selections(), key=lambda s: (s[0], s[1], s[2]))
    assert len(excerpts) == len(sels)
    for ex, sel in zip(excerpts, sels):
        sel = Selection(*sel)
        assert (ex.interview, ex.start, ex.end) == (sel.source_name, sel.start, sel.end)
        assert ex.text == EXPORT_SOURCES[sel.source_name][sel.start : sel.end]
        assert ex.codes == tuple(EXPORT_BOOK.resolve(c) for c in sel.codes)
        assert (ex.source, ex.confidence, ex.note) == (sel.source, sel.confidence, sel.note)
    assert read_qdpx_sources(out) == EXPORT_SOURCES
    # Excerpts with offsets go back out as the same selections.
    again = write_qdpx(
        tmp_path / "again.qdpx",
        "SYNTHETIC project",
        book,
        EXPORT_SOURCES,
        [Selection.from_excerpt(e) for e in excerpts],
        creation_time=STAMP,
    )
    assert read_qdpx(again)[1] == excerpts


def test_qdpx_export_is_deterministic(tmp_path):
    a = _export(tmp_path / "a.qdpx").read_bytes()
    b = _export(tmp_path / "b.qdpx").read_bytes()
    assert a == b
    c = _export(tmp_path / "c.qdpx", when="2027-06-30T12:00:00+00:00").read_bytes()
    assert c != a

    def members(data: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {n: zf.read(n) for n in zf.namelist()}

    ma, mc = members(a), members(c)
    assert ma.keys() == mc.keys()
    stamp = re.compile(rb'DateTime="[^"]*"')
    for name in ma:
        assert stamp.sub(b"", ma[name]) == stamp.sub(b"", mc[name]), name
    assert b'creationDateTime="2027-06-30T12:00:00Z"' in mc["project.qde"]


def test_qdpx_export_rejects_bad_selections(tmp_path):
    def export(selections):
        write_qdpx(tmp_path / "x.qdpx", "p", EXPORT_BOOK, EXPORT_SOURCES, selections)

    with pytest.raises(ValueError, match="no code 'Nope'"):
        export([("int-01", 0, 5, ["Nope"])])
    with pytest.raises(ValueError, match="outside"):
        export([("int-01", 0, 10_000, ["Cost"])])
    with pytest.raises(ValueError, match="unknown source"):
        export([("int-99", 0, 5, ["Cost"])])
    with pytest.raises(ValueError, match="confidence"):
        export([("int-01", 0, 5, ["Cost"], "machine", 2.0)])
    assert not (tmp_path / "x.qdpx").exists()


def test_qdc_export_round_trip_and_schema(tmp_path):
    out = write_qdc(tmp_path / "book.qdc", EXPORT_BOOK, themes={"Money": ["Cost"]})
    _validate(CODEBOOK_XSD, out.read_bytes())
    root = ET.fromstring(out.read_bytes())
    assert root.tag == q(C, "CodeBook")
    members = root.findall(f"{q(C, 'Sets')}/{q(C, 'Set')}/{q(C, 'MemberCode')}")
    code_guids = {c.get("guid") for c in root.iter(q(C, "Code"))}
    assert [m.get("guid") in code_guids for m in members] == [True]
    book, _ = read_coding(out)
    assert book.paths == EXPORT_BOOK.paths
    assert [(c.description, c.examples) for c in book] == [
        (c.description, c.examples) for c in EXPORT_BOOK
    ]
    assert {c.path: c.color for c in book} == code_colors(EXPORT_BOOK)
    assert book.groups == {"Money": ("Barriers > Cost",)}
    assert write_qdc(tmp_path / "again.qdc", book).read_bytes() == out.read_bytes()


def test_coded_csv_of_qdpx_excerpts_reads_back(tmp_path):
    _, excerpts = read_qdpx(_export(tmp_path / "p.qdpx"))
    out = write_coded_csv(tmp_path / "coded.csv", excerpts)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert rows[1]["code"] == "Barriers > Time; Barriers > Cost"
    assert read_excerpts_csv(out)[1] == excerpts


def test_bare_qde_with_inline_text_and_a_strict_codebook(tmp_path):
    inline = _qde(HAND_SELECTIONS).replace(
        f'plainTextPath="internal://{G["s1"]}.txt">',
        f"><PlainTextContent>{SOURCE}</PlainTextContent>",
    )
    for f in (write(tmp_path / "project.qde", inline), write(tmp_path / "sniffed", inline)):
        _, excerpts = read_coding(f)
        assert [e.text for e in excerpts] == ["Caf\u00e9 prices rose \U0001f642", SOURCE[-26:]]
    # A given codebook must hold every code the file uses.
    partial = Codebook((Code("Barriers"), Code("Cost", parent="Barriers")))
    with pytest.raises(CodingFormatError, match=r"project\.qde: unknown code 'Change'"):
        read_coding(tmp_path / "project.qde", partial)


def test_qdpx_export_drops_characters_xml_cannot_hold(tmp_path):
    text = "SYNTHETIC\x0cpage two."  # a form feed, as PDFs leave them
    out = write_qdpx(
        tmp_path / "ff.qdpx",
        "p\x01",
        Codebook((Code("A", "desc\x0b"),)),
        {"int": text},
        [("int", 0, len(text), ["A"], "human", None, "note\x02")],
        creation_time=STAMP,
    )
    book, excerpts = read_qdpx(out)
    assert book.get("A").description == "desc"
    assert (excerpts[0].text, excerpts[0].note) == (text, "note")  # the source keeps it
