"""Every supported input format, written for real (python-docx, reportlab, plain bytes)
into one raw folder and ingested once; each test checks what one file became.

Answers are two or three sentences long so the language detector has enough to go on.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from factories import by_path, conversation, line_of, make_docx, make_pdf, write_text

from pipeline.core.catalog import INTERVIEWS, TURNS, read_table
from pipeline.core.config import Config
from pipeline.ingest import run

PDF_HEADER = "Acme QDA export — Project X"
PDF_FOOTER = "https://qda.example.com/project/42"

PLAIN = """\
Sam: Thanks for making time today. How did you end up working on data pipelines?
Maria: I studied physics and kept writing scripts to clean up messy lab measurements.
Eventually a startup hired me because I was the only applicant who enjoyed that kind of work.
Lesson learned: always ask who owns the data before you touch it.
Sam: What is the most frustrating part of the job right now?
Maria: Nobody documents where the data comes from, so I spend days tracing columns back to their source.
When a number looks wrong, there is usually no owner I can ask about it.
"""

ROLE_LABELS = """\
Interviewer 1 : Could you describe your current role at the hospital?
Interviewee : I coordinate the night shift nurses and handle most of the scheduling.
The rota software is old, so I keep a paper copy in my pocket just in case.
Interviewer 1 : What would make your nights easier?
Interviewee : Honestly, a scheduling tool that works on a phone would save me an hour every shift. My team would love it too.
"""

QA = """\
Q: When did you first start freelancing as a designer?
A: About six years ago, right after my agency closed its London office.
I had a few loyal clients who followed me, which made the jump much less scary.
Q: How do you find new clients these days?
A: Mostly through referrals from people I have worked with before. I tried paid advertising once, but it brought in the wrong kind of projects.
"""

TIMESTAMPED = """\
[00:12:03] Sam: Let's talk about the migration project. How long did it take?
[00:12:09] Maria: It took almost nine months, which was twice as long as we planned.
The old system had hundreds of undocumented reports that people still relied on.
[00:13:30] Sam: What would you do differently next time?
[01:02:03] Maria: I would interview every report owner before writing a single line of code. That alone would have saved us months.
"""

BOLD = """\
**Sam:** How do you decide which experiments to run each week?
**Priya:** We look at the backlog every Monday and pick the ideas with the biggest expected impact.
It is not very scientific, but it keeps the team focused.
**Sam:** Who makes the final call?
**Priya:** Usually the product manager, although engineers can veto anything that looks risky. That balance works well for us.
"""

# Maria asks the questions here, so only the front matter can make Sam the interviewer.
FRONT_MATTER = """\
---
interviewer: Sam
background: physics
---
Sam: Tell me about the instruments you maintain.
Maria: Mostly the two electron microscopes in the basement lab. Do you know how temperamental they are?
They need recalibrating every week, and the vendor support is painfully slow.
Sam: Tell me more about the vendor.
Maria: They sold us the machines a decade ago. Can you believe they still charge for every phone call?
"""

BULLETS = """\
# Call with Jordan

## Past
- Ran a small bakery for eight years before selling it to a larger chain. The long hours and thin margins wore him down.
- Learned bookkeeping on his own because accountants were too expensive for a business that small.

## Future
- Wants to teach baking classes online and build a community around sourdough bread.
- Worried that video production will take more time than the actual teaching.
"""

DOCX_PARAGRAPHS = [
    ("Heading 1", "Early career"),
    (None, "Sam: How did you get into product management?"),
    (
        None,
        "Lena: I started in customer support and kept writing feature requests until someone offered me "
        "a product role. It was a gradual move rather than a big decision.",
    ),
    ("Heading 1", "Current work"),
    (None, "Sam: What takes up most of your week now?"),
    (
        None,
        "Lena: Meetings, mostly. I try to protect two mornings a week for talking to customers, "
        "because otherwise I lose touch with their problems.",
    ),
]

PDF_PAGES = [
    [
        "Sam: Thanks for joining. What does your typical day look like in the lab?",
        "Maria: Most mornings I calibrate the spectrometer and check the overnight runs.",
        "Then I spend the afternoon writing analysis scripts and reading papers about new methods.",
    ],
    [
        "It is slow work, but I enjoy it because every result tells me something new about the "
        "samples.",
        "Sam: What would you change about the tooling you use today?",
        "Maria: I would love a shared database for all the measurements, because everything lives "
        "in spreadsheets.",
    ],
    [
        "Sam: Where do you see the group going in the next five years?",
        "Maria: I think we will automate most of the routine measurements and focus on the "
        "interesting questions.",
    ],
]

VTT_VOICES = """\
WEBVTT

1
00:00:01.000 --> 00:00:04.000
<v Sam>What made you choose to study marine biology?</v>

2
00:00:05.000 --> 00:00:09.500
<v Maria>I grew up next to the sea and spent every summer in tide pools.</v>

3
00:00:09.500 --> 00:00:14.000
<v Maria>My grandmother knew the name of every creature we found there.</v>

4
00:00:14.000 --> 00:00:18.250
<v Maria>So studying it at university felt like the obvious choice.</v>

5
00:00:19.000 --> 00:00:22.000
<v Sam>Did you ever consider a different career?</v>

6
00:00:22.500 --> 00:00:27.000
<v Maria>Only briefly, when research funding dried up for a couple of years.</v>
"""

VTT_PREFIXES = """\
WEBVTT

00:00:00.500 --> 00:00:03.000
Sam: How many customers do you support on your own?

00:00:03.500 --> 00:00:08.000
Maria: Around forty accounts, which is far too many for one person to handle well.

00:00:08.500 --> 00:00:10.000
Sam: What happens when two of them need you at once?

00:00:10.500 --> 00:00:16.000
Maria: I apologise a lot and work late. The smaller customers usually end up waiting.
"""

SRT = """\
1
00:00:01,250 --> 00:00:04,500
Sam: Why did your team switch to a four day week?

2
00:00:05,000 --> 00:00:09,750
Maria: We were burning out, and the founders wanted to try something bold before people quit.

3
00:00:10,000 --> 00:00:12,000
Sam: Has productivity changed since then?

4
00:00:12,500 --> 00:00:18,125
Maria: Surprisingly, it went up. People guard their time much more carefully now.
"""

CSV_TURNS = """\
interview_id,speaker,text,start
acme-01,Sam,How do you onboard new engineers?,0
acme-01,Ken,"We pair every new hire with a buddy for their first month. It works well, although buddies sometimes get overloaded.",4.5
acme-02,Sam,What tools does your finance team rely on?,00:00:10
acme-02,Ada,"Spreadsheets, mostly, plus an old accounting package. We export everything at the end of each month.",00:01:05
"""

JSONL_ROWS = [
    {
        "interview_id": "beta-01",
        "speaker": "Sam",
        "text": "What slows your warehouse team down the most?",
        "start": 0,
    },
    {
        "interview_id": "beta-02",
        "speaker": "Sam",
        "text": "How do you plan delivery routes today?",
        "start": "00:00:30",
    },
    {
        "interview_id": "beta-01",
        "speaker": "Ola",
        "text": "Paper pick lists, honestly. Half of them are out of date by the time they are printed.",
        "start": 65,
    },
    {
        "interview_id": "beta-02",
        "speaker": "Tom",
        "text": "Our dispatcher does it by hand every morning. It takes her about two hours.",
        "start": "00:01:05",
    },
]

FRENCH = """\
Sam: Pouvez-vous me parler de votre parcours professionnel ?
Claire: J'ai commencé comme infirmière dans un petit hôpital de province. Après dix ans, j'ai décidé de reprendre mes études pour devenir gestionnaire.
Sam: Qu'est-ce qui vous plaît le plus dans votre travail actuel ?
Claire: J'aime surtout résoudre les problèmes d'organisation des équipes. Chaque semaine apporte de nouveaux défis et je ne m'ennuie jamais.
"""

Y2023 = conversation(
    [
        ("Sam", "What was the biggest change for your shop this year?"),
        (
            "Anna",
            "We finally moved our orders online. It took months, but customers love being able to order at night.",
        ),
        ("Sam", "Was the move worth the effort?"),
        (
            "Anna",
            "Absolutely. Our sales went up by a third and the phone stopped ringing during dinner.",
        ),
    ]
)
Y2024 = conversation(
    [
        ("Sam", "How has the online shop changed your week?"),
        (
            "Ben",
            "I spend far less time on the phone now. Most of my day goes into packing and shipping instead.",
        ),
        ("Sam", "What would you improve next?"),
        (
            "Ben",
            "The returns process. Customers send things back without any note, so we never know what went wrong.",
        ),
    ]
)

METADATA_CSV = """\
interview_id,company,segment
plain-labels,Acme Labs,enterprise
qa.txt,Studio Nine,freelance
ghost-call-99,Nowhere Inc,smb
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    write_text(raw / "plain-labels.txt", PLAIN)
    write_text(raw / "role-labels.txt", ROLE_LABELS)
    write_text(raw / "qa.txt", QA)
    write_text(raw / "timestamps.txt", TIMESTAMPED)
    write_text(raw / "bold-names.md", BOLD)
    write_text(raw / "front-matter.md", FRONT_MATTER)
    write_text(raw / "bullets.md", BULLETS)
    make_docx(raw / "word-export.docx", DOCX_PARAGRAPHS)
    make_pdf(
        raw / "printout.pdf", PDF_PAGES, header=PDF_HEADER, footer=PDF_FOOTER, page_numbers=True
    )
    write_text(raw / "zoom-voices.vtt", VTT_VOICES)
    write_text(raw / "teams-prefixes.vtt", VTT_PREFIXES)
    write_text(raw / "meet.srt", SRT)
    write_text(raw / "turns.csv", CSV_TURNS)
    write_text(raw / "turns.jsonl", "\n".join(json.dumps(r) for r in JSONL_ROWS) + "\n")
    write_text(raw / "entretien-fr.txt", FRENCH)
    write_text(raw / "2023" / "shop-anna.txt", Y2023)
    write_text(raw / "2024" / "shop-ben.txt", Y2024)
    write_text(raw / "metadata.csv", METADATA_CSV)
    out = tmp_path_factory.mktemp("out")
    result = run(out, Config(), raw_dir=raw)
    return raw, result


def turns_of(result, interview_id: str) -> pd.DataFrame:
    t = result.turns[result.turns.interview_id == interview_id].sort_values("turn_index")
    assert len(t), (
        f"no turns for {interview_id!r}; ids: {sorted(result.turns.interview_id.unique())}"
    )
    return t.reset_index(drop=True)


def interview(result, interview_id: str) -> pd.Series:
    rows = result.interviews[result.interviews.interview_id == interview_id]
    assert len(rows) == 1, f"expected one interview {interview_id!r}, got {len(rows)}"
    return rows.iloc[0]


def test_every_file_is_ingested_and_outputs_round_trip(corpus):
    raw, result = corpus
    files = by_path(result.manifest)
    expected = {
        p.relative_to(raw).as_posix()
        for p in raw.rglob("*")
        if p.is_file() and p.name != "metadata.csv"
    }
    assert set(files) == expected
    not_ingested = {
        p: (e["status"], e["reason"]) for p, e in files.items() if e["status"] != "ingested"
    }
    assert not_ingested == {}
    assert result.manifest["counts"]["ingested"] == len(expected)
    for path, entry in files.items():
        assert entry["turns"] > 0, path
        assert entry["sha256"] and len(entry["sha256"]) == 64, path
        assert entry["size_bytes"] == (raw / path).stat().st_size, path
    # What was written reads back with the catalog's schema and equals what run() returned.
    turns = read_table(TURNS, result.out_dir)
    interviews = read_table(INTERVIEWS, result.out_dir)
    assert len(turns) == len(result.turns) == result.manifest["counts"]["turns"]
    assert len(interviews) == len(result.interviews) == result.manifest["counts"]["interviews"]
    assert list(turns.columns) == list(TURNS.columns)
    assert (
        json.loads((result.out_dir / "manifest.json").read_text(encoding="utf-8"))["counts"]
        == result.manifest["counts"]
    )
    assert (result.out_dir / "config.json").is_file()
    # source_file is the posix path relative to the raw folder
    assert set(turns.source_file) == expected


def test_name_labels_with_continuation_lines(corpus):
    raw, result = corpus
    t = turns_of(result, "plain-labels")
    assert list(t.speaker) == ["Sam", "Maria", "Sam", "Maria"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert list(t.turn_index) == [0, 1, 2, 3]
    assert (
        t.text[0] == "Thanks for making time today. How did you end up working on data pipelines?"
    )
    # Continuation lines (including one with a non-speaker "Lesson learned:") join Maria's turn.
    assert t.text[1] == (
        "I studied physics and kept writing scripts to clean up messy lab measurements.\n"
        "Eventually a startup hired me because I was the only applicant who enjoyed that kind of "
        "work.\n"
        "Lesson learned: always ask who owns the data before you touch it."
    )
    assert t.text[3].endswith(
        "When a number looks wrong, there is usually no owner I can ask about it."
    )
    path = raw / "plain-labels.txt"
    assert (
        list(t.source_line)
        == [
            line_of(path, "Sam: Thanks"),
            line_of(path, "Maria: I studied"),
            line_of(path, "Sam: What is"),
            line_of(path, "Maria: Nobody"),
        ]
        == [1, 2, 5, 6]
    )
    assert t.source_file.unique().tolist() == ["plain-labels.txt"]
    assert t.source_page.isna().all() and t.start.isna().all()
    row = interview(result, "plain-labels")
    assert row.interviewer == "Sam"
    assert row.format == "txt"
    assert row.speakers == "Sam; Maria"
    assert row.n_turns == 4


def test_role_word_labels_with_space_before_colon(corpus):
    raw, result = corpus
    t = turns_of(result, "role-labels")
    assert list(t.speaker) == ["Interviewer 1", "Interviewee", "Interviewer 1", "Interviewee"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert t.text[0] == "Could you describe your current role at the hospital?"
    assert t.text[1] == (
        "I coordinate the night shift nurses and handle most of the scheduling.\n"
        "The rota software is old, so I keep a paper copy in my pocket just in case."
    )
    assert list(t.source_line) == [1, 2, 4, 5]
    row = interview(result, "role-labels")
    assert row.role_method == "speaker labels"
    assert row.interviewer == "Interviewer 1"


def test_q_and_a_labels(corpus):
    raw, result = corpus
    t = turns_of(result, "qa")
    assert list(t.speaker) == ["Q", "A", "Q", "A"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert t.text[2] == "How do you find new clients these days?"
    assert t.text[1].startswith("About six years ago") and t.text[1].endswith("much less scary.")
    assert not any(text.startswith(("Q:", "A:")) for text in t.text)
    assert list(t.source_line) == [1, 2, 4, 5]
    assert interview(result, "qa").role_method == "speaker labels"


def test_bracketed_timestamps_become_start_seconds(corpus):
    raw, result = corpus
    t = turns_of(result, "timestamps")
    assert list(t.speaker) == ["Sam", "Maria", "Sam", "Maria"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert list(t.start) == [723.0, 729.0, 810.0, 3723.0]
    assert t.end.isna().all()
    assert t.text[0] == "Let's talk about the migration project. How long did it take?"
    assert t.text[1] == (
        "It took almost nine months, which was twice as long as we planned.\n"
        "The old system had hundreds of undocumented reports that people still relied on."
    )
    assert not any("[" in text or "00:" in text for text in t.text)
    assert list(t.source_line) == [1, 2, 4, 5]


def test_bold_names_in_markdown(corpus):
    raw, result = corpus
    t = turns_of(result, "bold-names")
    assert list(t.speaker) == ["Sam", "Priya", "Sam", "Priya"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert t.text[0] == "How do you decide which experiments to run each week?"
    assert t.text[1] == (
        "We look at the backlog every Monday and pick the ideas with the biggest expected impact.\n"
        "It is not very scientific, but it keeps the team focused."
    )
    assert not any("**" in text for text in t.text)
    assert not any("**" in text for text in t.clean_text)
    assert list(t.source_line) == [1, 2, 4, 5]
    assert interview(result, "bold-names").format == "md"


def test_front_matter_sets_metadata_and_interviewer(corpus):
    raw, result = corpus
    t = turns_of(result, "front-matter")
    assert list(t.speaker) == ["Sam", "Maria", "Sam", "Maria"]
    # Maria asks all the questions: only the front matter makes Sam the interviewer.
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert not any(
        "interviewer: Sam" in text or "background" in text or text == "---" for text in t.text
    )
    path = raw / "front-matter.md"
    assert (
        list(t.source_line)
        == [
            line_of(path, "Sam: Tell me about"),
            line_of(path, "Maria: Mostly"),
            line_of(path, "Sam: Tell me more"),
            line_of(path, "Maria: They sold"),
        ]
        == [5, 6, 8, 9]
    )
    row = interview(result, "front-matter")
    assert row.interviewer == "Sam"
    assert "metadata" in row.role_method and "Sam" in row.role_method
    assert row["background"] == "physics"
    assert json.loads(row.metadata_json)["background"] == "physics"
    # A metadata field appears as a column for every interview; others have no value.
    assert pd.isna(interview(result, "qa")["background"])


def test_bullet_notes_under_headings(corpus):
    raw, result = corpus
    t = turns_of(result, "bullets")
    assert len(t) == 4
    assert set(t.role) == {"interviewee"}
    assert list(t.heading) == ["Past", "Past", "Future", "Future"]
    assert t.text[0] == (
        "Ran a small bakery for eight years before selling it to a larger chain. "
        "The long hours and thin margins wore him down."
    )
    assert (
        t.text[3] == "Worried that video production will take more time than the actual teaching."
    )
    assert not any(text.startswith(("-", "#")) or text in ("Past", "Future") for text in t.text)
    path = raw / "bullets.md"
    assert list(t.source_line) == [
        line_of(path, "- Ran a small"),
        line_of(path, "- Learned"),
        line_of(path, "- Wants"),
        line_of(path, "- Worried"),
    ]
    row = interview(result, "bullets")
    assert "unlabelled" in row.role_method
    assert pd.isna(row.interviewer)


def test_docx_paragraphs_and_word_headings(corpus):
    raw, result = corpus
    t = turns_of(result, "word-export")
    assert list(t.speaker) == ["Sam", "Lena", "Sam", "Lena"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert t.text[0] == "How did you get into product management?"
    assert t.text[1] == DOCX_PARAGRAPHS[2][1].removeprefix("Lena: ")
    assert t.text[3] == DOCX_PARAGRAPHS[5][1].removeprefix("Lena: ")
    # source_line is the 1-based paragraph number; Heading 1 paragraphs are 1 and 4.
    assert list(t.source_line) == [2, 3, 5, 6]
    assert list(t.heading) == ["Early career", "Early career", "Current work", "Current work"]
    assert not any("Early career" in text or "Current work" in text for text in t.text)
    assert interview(result, "word-export").format == "docx"


def test_pdf_page_furniture_removed_and_pages_tracked(corpus):
    raw, result = corpus
    t = turns_of(result, "printout")
    for text in list(t.text) + list(t.clean_text):
        assert "Acme QDA export" not in text
        assert "Project X" not in text
        assert "qda.example.com" not in text and "https://" not in text
        assert "Page " not in text and " of 3" not in text
    assert list(t.speaker) == ["Sam", "Maria", "Sam", "Maria", "Sam", "Maria"]
    assert list(t.role) == ["interviewer", "interviewee"] * 3
    assert list(t.source_page) == [1, 1, 2, 2, 3, 3]
    # Maria's first answer runs over the page break and stays one turn.
    assert t.text[1] == (
        "Most mornings I calibrate the spectrometer and check the overnight runs.\n"
        "Then I spend the afternoon writing analysis scripts and reading papers about new "
        "methods.\n"
        "It is slow work, but I enjoy it because every result tells me something new about the "
        "samples."
    )
    all_text = "\n".join(t.text)
    for page in PDF_PAGES:
        for line in page:
            assert line.split(": ", 1)[-1] in all_text
    assert interview(result, "printout").format == "pdf"


def test_pdf_source_line_counts_lines_of_the_page(corpus):
    raw, result = corpus
    t = turns_of(result, "printout")
    # Line 1 of every page's text layer is the header; the transcript starts on line 2.
    assert list(t.source_line) == [2, 3, 3, 4, 2, 3]


def test_vtt_voice_tags_and_cue_merging(corpus):
    raw, result = corpus
    t = turns_of(result, "zoom-voices")
    assert list(t.speaker) == ["Sam", "Maria", "Sam", "Maria"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    # Three consecutive Maria cues -> one turn from the first cue's start to the last cue's end.
    assert t.text[1] == (
        "I grew up next to the sea and spent every summer in tide pools. "
        "My grandmother knew the name of every creature we found there. "
        "So studying it at university felt like the obvious choice."
    )
    assert (t.start[1], t.end[1]) == (5.0, 18.25)
    assert list(t.start) == [1.0, 5.0, 19.0, 22.5]
    assert list(t.end) == [4.0, 18.25, 22.0, 27.0]
    assert not any("<v" in text or "</v>" in text for text in t.text)
    path = raw / "zoom-voices.vtt"
    assert list(t.source_line) == [
        line_of(path, "<v Sam>What made"),
        line_of(path, "<v Maria>I grew up"),
        line_of(path, "<v Sam>Did you"),
        line_of(path, "<v Maria>Only briefly"),
    ]


def test_vtt_name_prefixes(corpus):
    raw, result = corpus
    t = turns_of(result, "teams-prefixes")
    assert list(t.speaker) == ["Sam", "Maria", "Sam", "Maria"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert (
        t.text[1] == "Around forty accounts, which is far too many for one person to handle well."
    )
    assert not any(text.startswith(("Sam:", "Maria:")) for text in t.text)
    assert list(t.start) == [0.5, 3.5, 8.5, 10.5]
    assert list(t.end) == [3.0, 8.0, 10.0, 16.0]


def test_srt_comma_milliseconds(corpus):
    raw, result = corpus
    t = turns_of(result, "meet")
    assert list(t.speaker) == ["Sam", "Maria", "Sam", "Maria"]
    assert list(t.role) == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert list(t.start) == [1.25, 5.0, 10.0, 12.5]
    assert list(t.end) == [4.5, 9.75, 12.0, 18.125]
    assert t.text[3] == "Surprisingly, it went up. People guard their time much more carefully now."
    assert not any(text.strip().isdigit() or "-->" in text for text in t.text)
    path = raw / "meet.srt"
    assert t.source_line[0] == line_of(path, "Sam: Why did")
    assert interview(result, "meet").format == "srt"


def test_csv_with_two_interviews(corpus):
    raw, result = corpus
    entry = by_path(result.manifest)["turns.csv"]
    assert sorted(entry["interviews"]) == ["acme-01", "acme-02"]
    assert entry["turns"] == 4
    a1, a2 = turns_of(result, "acme-01"), turns_of(result, "acme-02")
    assert list(a1.speaker) == ["Sam", "Ken"] and list(a2.speaker) == ["Sam", "Ada"]
    assert list(a1.role) == ["interviewer", "interviewee"] == list(a2.role)
    assert a1.text[1] == (
        "We pair every new hire with a buddy for their first month. "
        "It works well, although buddies sometimes get overloaded."
    )
    # start given as seconds and as hh:mm:ss
    assert list(a1.start) == [0.0, 4.5]
    assert list(a2.start) == [10.0, 65.0]
    # source_line is the row's line in the file (header is line 1)
    assert list(a1.source_line) == [2, 3] and list(a2.source_line) == [4, 5]
    assert set(a1.source_file) | set(a2.source_file) == {"turns.csv"}
    assert interview(result, "acme-02").format == "csv"


def test_jsonl_with_two_interleaved_interviews(corpus):
    raw, result = corpus
    entry = by_path(result.manifest)["turns.jsonl"]
    assert sorted(entry["interviews"]) == ["beta-01", "beta-02"]
    b1, b2 = turns_of(result, "beta-01"), turns_of(result, "beta-02")
    assert list(b1.speaker) == ["Sam", "Ola"] and list(b2.speaker) == ["Sam", "Tom"]
    assert list(b1.role) == ["interviewer", "interviewee"] == list(b2.role)
    assert list(b1.start) == [0.0, 65.0]
    assert list(b2.start) == [30.0, 65.0]
    assert list(b1.source_line) == [1, 3] and list(b2.source_line) == [2, 4]
    assert (
        b2.text[1] == "Our dispatcher does it by hand every morning. It takes her about two hours."
    )


def test_subfolders_become_folder_column(corpus):
    raw, result = corpus
    anna, ben = interview(result, "shop-anna"), interview(result, "shop-ben")
    assert anna.folder == "2023" and ben.folder == "2024"
    assert anna.source_file == "2023/shop-anna.txt" and ben.source_file == "2024/shop-ben.txt"
    assert set(turns_of(result, "shop-anna").source_file) == {"2023/shop-anna.txt"}
    assert json.loads(anna.metadata_json)["folder"] == "2023"
    assert list(turns_of(result, "shop-anna").speaker) == ["Sam", "Anna", "Sam", "Anna"]
    assert list(turns_of(result, "shop-ben").speaker) == ["Sam", "Ben", "Sam", "Ben"]
    assert interview(result, "plain-labels").folder != "2023"


def test_metadata_csv_joins_on_file_stem(corpus):
    raw, result = corpus
    row = interview(result, "plain-labels")
    assert row["company"] == "Acme Labs"
    assert row["segment"] == "enterprise"
    assert json.loads(row.metadata_json)["company"] == "Acme Labs"
    # "qa.txt" in the id column is matched to the stem "qa"
    assert interview(result, "qa")["company"] == "Studio Nine"
    assert pd.isna(interview(result, "bullets")["company"])
    meta = result.manifest["metadata"]
    assert meta["file"] == "metadata.csv"
    assert meta["unknown_ids"] == ["ghost-call-99"]
    assert "ghost-call-99" not in set(result.interviews.interview_id)
    assert "plain-labels" not in meta["interviews_without_metadata"]
    assert "bullets" in meta["interviews_without_metadata"]
    # metadata.csv is configuration, not a conversation
    assert "metadata.csv" not in by_path(result.manifest)


def test_french_conversation_is_flagged(corpus):
    raw, result = corpus
    fr = turns_of(result, "entretien-fr")
    assert set(fr.language) == {"fr"}
    assert fr.in_main_language.tolist() == [False] * len(fr)
    assert list(fr.speaker) == ["Sam", "Claire", "Sam", "Claire"]
    assert "infirmière" in fr.text[1]
    row = interview(result, "entretien-fr")
    assert row.language == "fr" and not row.in_main_language
    assert result.manifest["main_language"] == "en"
    assert result.manifest["languages"]["fr"] == ["entretien-fr"]
    entry = by_path(result.manifest)["entretien-fr.txt"]
    assert entry["language"] == "fr"
    assert any("French" in w and "(fr)" in w for w in entry["warnings"]), entry["warnings"]

    english = result.turns[result.turns.interview_id != "entretien-fr"]
    assert set(english.language) == {"en"}
    assert english.in_main_language.all()
    assert set(result.interviews[result.interviews.interview_id != "entretien-fr"].language) == {
        "en"
    }
    for path, e in by_path(result.manifest).items():
        if path != "entretien-fr.txt":
            assert e["language"] == "en", path
            assert not any("main language" in w for w in e["warnings"]), (path, e["warnings"])


def test_csv_row_with_multiline_text_keeps_its_first_line(tmp_path):
    raw = tmp_path / "raw"
    write_text(
        raw / "multi.csv",
        (
            "interview_id,speaker,text,start\n"
            "gamma-01,Sam,How do you track customer complaints today?,0\n"
            'gamma-01,Rui,"We keep them in a shared inbox and a spreadsheet.\n'
            'Nobody owns the spreadsheet, so it is always out of date.",5\n'
        ),
    )
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    t = turns_of(result, "gamma-01")
    assert t.text[1] == (
        "We keep them in a shared inbox and a spreadsheet.\n"
        "Nobody owns the spreadsheet, so it is always out of date."
    )
    assert list(t.source_line) == [2, 3]


def test_pdf_repeated_short_turn_at_page_edge_is_not_furniture(tmp_path):
    raw = tmp_path / "raw"
    pages = [
        [
            "Sam: Thanks for joining. What does your typical day look like in the lab?",
            "Maria: Most mornings I calibrate the spectrometer and check the overnight runs.",
            "Sam: Okay.",
        ],
        [
            "Maria: Then I write analysis scripts and read papers about new methods in the "
            "afternoon.",
            "Sam: What would you change about the tooling you use today?",
            "Maria: I would love a shared database for all the measurements we take.",
            "Sam: Okay.",
        ],
        ["Maria: And I would automate the routine measurements so we can focus on real questions."],
    ]
    make_pdf(raw / "okay.pdf", pages, header=PDF_HEADER, footer=PDF_FOOTER, page_numbers=True)
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    t = turns_of(result, "okay")
    # furniture is still removed ...
    assert not any(PDF_HEADER in text or PDF_FOOTER in text for text in t.text)
    # ... but the interviewer's two "Okay." turns are transcript, not furniture
    assert list(t.speaker) == ["Sam", "Maria"] * 4
    assert list(t.text).count("Okay.") == 2
