"""Roles on transcripts shaped like real ones: consent scripts, Otter ``P1 0:00`` / ``A1 0:10``
headers, interviewees who ask rhetorical questions, podcasts with a cold open and breaks.

Every transcript here is synthetic (invented for the test), modelled on the shapes that
made roles come out inverted on real corpora.
"""

from __future__ import annotations

from factories import write_text

from pipeline.core.config import Config
from pipeline.ingest import run
from pipeline.ingest.roles import decide_roles, role_of
from pipeline.ingest.turn_parser import parse_text

# Otter-style export: a label and a timestamp on one line, the words below. The
# interviewer (A1) opens with a long consent script without a question mark; the
# participant (P1) asks the first questions ("can you hear me?").
OTTER = """A1 0:00
Thank you for agreeing to take part in this study. Before we begin I will read the consent
statement. This interview is being recorded, and the recording will be transcribed. Your name
will be removed from the transcript. You can stop at any time and skip any question you like.

P1 0:41
Can you hear me okay? Sorry, is my microphone working?

A1 0:45
Yes, loud and clear. So you agree to continue.

P1 0:49
Yes, I consent. Should I just start talking about my job?

A1 0:53
Please do. Tell me about your current role.

P1 0:58
I coordinate the volunteers at a food bank. Most weeks I plan the shifts, answer the phone and
drive the van when nobody else can. It is more work than the job description says.

A1 2:10
What was the hardest part of the last year?

P1 2:15
Finding drivers. People moved away after the winter and the new volunteers only wanted desk
work, so I did most of the deliveries myself for three months.

A1 3:40
Thank you, that is all from me.

P1 3:42
Thanks.
"""

# A research interview where the interviewee asks more (rhetorical) questions than the
# interviewer, and says much more: the share of turns *containing* a "?" points the wrong way.
RHETORICAL = """DANA: Okay. Is it okay to start the recording now?

ROBIN: Sure, go ahead.

DANA: Great. So, first question: how did you get involved with the project?

ROBIN: I mean, who else would do it, right? So I started fixing the build scripts in 2015, and
it grew from there until I was the one people called when the release broke.

DANA: Okay.

ROBIN: And honestly, what choice did we have? The servers were failing every week and nobody
else was on call, so I wrote the runbooks and trained two new people.

DANA: That makes sense. What does maintenance mean to you?

ROBIN: Keeping things boring, you know? If nobody notices the system, we did our job well. Is
that a strange answer? I think it is the right one for infrastructure.

DANA: Not strange at all. Thank you.

ROBIN: Happy to help. Do you want me to send the slides as well?

DANA: Yes please, that would be great.

ROBIN: Will do, I will send them tonight with the notes from the last release.
"""

# A podcast episode: the guest opens (a cold open), show breaks, music and an ad read.
PODCAST = """**Sam Okafor:** The first product we built was a spreadsheet with a form on top. It
took a weekend and it paid my rent for a year, which still surprises me.

**Jo Rivers:** Welcome to the show, Sam. How did that spreadsheet turn into a company?

**Sam Okafor:** Customers kept asking for the same three features, so we hired a developer
and rebuilt it properly. That took most of the first year and all of our savings.

**Break:** \\[12:00\\]

**Jo Rivers:** So where is the company now?
[music]
And how many people work there today?

**Sam Okafor:** We are twelve people, fully remote, and profitable since last spring. Most of
our customers are small clinics that schedule appointments with our tool.

**Break:** \\[30:00\\]

Ad: This episode is brought to you by Example Widgets.
Example Widgets makes synthetic widgets for every test.

**Jo Rivers:** What comes next for you?

**Sam Okafor:** A mobile app for the clinics' patients, and a second office in Lagos. Thanks for
having me, this was fun.
"""


def test_otter_labels_p_and_a_with_a_consent_script():
    parsed = parse_text(OTTER)
    assert [t.speaker for t in parsed.turns][:3] == ["A1", "P1", "A1"]
    assert parsed.turns[1].start == 41.0
    decision = decide_roles(parsed.turns, source_name="interview-07.txt")
    assert decision.roles == {"A1": "interviewer", "P1": "interviewee"}
    assert decision.interviewer == "A1"
    # the labels decided, read by the table (A beside P is the author/analyst)
    assert decision.method.startswith("speaker labels A#/P# (A = author/analyst)")


def test_rhetorical_questions_and_file_name():
    turns = parse_text(RHETORICAL).turns
    # the trap: ROBIN's turns contain a "?" more often than DANA's
    share = {
        s: sum("?" in t.text for t in turns if t.speaker == s) / sum(t.speaker == s for t in turns)
        for s in ("DANA", "ROBIN")
    }
    assert share["ROBIN"] > share["DANA"]
    named = decide_roles(turns, source_name="robin-2-full.md")
    assert named.roles == {"DANA": "interviewer", "ROBIN": "interviewee"}
    assert named.method.startswith("DANA: ")
    assert "file name names ROBIN" in named.method
    assert "questions 50% vs 17% of turns" in named.method
    assert "opens" in named.method and "consent/recording script" in named.method
    assert "weak evidence" not in named.method
    # without a name in the file name the other cues still decide
    unnamed = decide_roles(turns, source_name="interview-2.md")
    assert unnamed.roles == {"DANA": "interviewer", "ROBIN": "interviewee"}
    assert "file name" not in unnamed.method


def test_a_misleading_cue_is_outweighed_and_reported():
    turns = parse_text(RHETORICAL).turns
    # a file named after the interviewer points at DANA as the interviewee: outvoted
    decision = decide_roles(turns, source_name="dana-notes.md")
    assert decision.interviewer == "DANA"
    assert "against: file name names DANA" in decision.method


def test_a_weak_label_is_combined_with_the_other_cues():
    # "A" alone usually means "answer"; here A opens, asks every question and says little.
    chat = parse_text(
        "A: Thanks for joining. How did you get started?\n"
        "Kim: I answered an advert in the local paper and they hired me the same week.\n"
        "A: And what do you do there now?\n"
        "Kim: I run the night shift and train the new starters on the machines.\n"
        "A: What would you change?\n"
        "Kim: More people on the night shift, and better lights in the car park.\n"
    ).turns
    decision = decide_roles(chat)
    assert decision.roles == {"A": "interviewer", "Kim": "interviewee"}
    assert "against: speaker labels A" in decision.method


def test_podcast_breaks_music_and_ads_are_notes(tmp_path):
    parsed = parse_text(PODCAST)
    speakers = {t.speaker for t in parsed.turns}
    assert speakers == {"Sam Okafor", "Jo Rivers", None}
    decision = decide_roles(parsed.turns, source_name="show-12.md")
    notes = [t for t in parsed.turns if role_of(t, decision) == "note"]
    assert [t.text.splitlines()[0] for t in notes] == [
        "\\[12:00\\]",
        "[music]",
        "\\[30:00\\]",
        "This episode is brought to you by Example Widgets.",
    ]
    # the music cue is a note of its own and does not cut Jo's turn in two
    assert parsed.turns[4].speaker == "Jo Rivers"
    assert parsed.turns[4].text == (
        "So where is the company now?\nAnd how many people work there today?"
    )
    assert decision.interviewer == "Jo Rivers"
    assert "against: Sam Okafor opens" in decision.method

    raw = tmp_path / "raw"
    write_text(raw / "show-12.md", PODCAST)
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    t = result.turns
    assert set(t[t.role == "interviewee"].speaker) == {"Sam Okafor"}
    assert not t[t.role == "interviewee"].text.str.contains("Example Widgets|12:00").any()
    assert (t.role == "note").sum() == 4
    row = result.interviews.iloc[0]
    assert row.speakers == "Sam Okafor; Jo Rivers"
    assert row.interviewer == "Jo Rivers"


def test_manifest_records_roles_and_evidence_per_interview(tmp_path):
    raw = tmp_path / "raw"
    write_text(raw / "robin-2-full.md", RHETORICAL)
    write_text(raw / "interview-07.txt", OTTER)
    result = run(tmp_path / "out", Config(), raw_dir=raw)
    roles = result.manifest["roles"]
    assert set(roles) == {"robin-2-full", "interview-07"}
    assert roles["robin-2-full"]["interviewer"] == "DANA"
    assert roles["robin-2-full"]["speakers"] == {"DANA": "interviewer", "ROBIN": "interviewee"}
    assert "file name names ROBIN" in roles["robin-2-full"]["method"]
    assert roles["interview-07"]["speakers"] == {"A1": "interviewer", "P1": "interviewee"}
    assert roles["interview-07"]["method"].startswith("speaker labels A#/P#")
    # the same evidence as interviews.parquet's role_method
    by_id = result.interviews.set_index("interview_id")
    for iid, entry in roles.items():
        assert entry["method"] == by_id.loc[iid, "role_method"]
