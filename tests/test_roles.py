"""Interviewer vs. interviewee, decided per conversation with the reason recorded."""

import pytest

from pipeline.ingest.model import RawTurn
from pipeline.ingest.roles import LABEL_TABLE, decide_roles, read_label, role_of


def turns(*pairs):
    return [RawTurn(speaker, text) for speaker, text in pairs]


CHAT = turns(
    ("Maria", "Hi!"),
    ("Sam", "How did you get into data science?"),
    ("Maria", "I studied physics and then did a bootcamp, which took a year."),
    ("Sam", "And how do you find clients now?"),
    ("Maria", "Mostly referrals from past clients."),
)


def test_the_speaker_who_asks_questions_is_the_interviewer():
    decision = decide_roles(CHAT)
    assert decision.roles == {"Maria": "interviewee", "Sam": "interviewer"}
    assert decision.method.startswith("Sam: questions 100% vs 0% of turns")
    assert decision.interviewer == "Sam"
    # Maria spoke first: a cue against, outweighed and said so
    assert decision.method.endswith("against: Maria opens")


def test_metadata_name_wins_and_matches_first_names():
    decision = decide_roles(CHAT, interviewer_names=["Maria Lopez"])
    assert decision.roles == {"Maria": "interviewer", "Sam": "interviewee"}
    assert decision.method == "metadata: interviewer is Maria"


def test_configured_interviewer_names():
    decision = decide_roles(CHAT, configured_names=["maria"])
    assert decision.roles["Maria"] == "interviewer"
    assert decision.method.startswith("config")


def test_interviewee_name_from_metadata():
    decision = decide_roles(CHAT, interviewee_names=["Sam"])
    assert decision.roles == {"Maria": "interviewer", "Sam": "interviewee"}


def test_role_words_in_labels():
    decision = decide_roles(turns(("Q", "Why?"), ("A", "Because."), ("Interviewer 2", "And?")))
    assert decision.roles == {
        "Q": "interviewer",
        "A": "interviewee",
        "Interviewer 2": "interviewer",
    }
    assert decision.method == "speaker labels"
    only_interviewee = decide_roles(
        turns(("Interviewee", "Long answer here."), ("Kim", "Short question?"))
    )
    assert only_interviewee.roles == {"Interviewee": "interviewee", "Kim": "interviewer"}


def test_unlabelled_notes_are_the_interviewees_words():
    notes = turns((None, "studied physics"), (None, "referrals work best"))
    decision = decide_roles(notes)
    assert decision.roles == {}
    assert "unlabelled" in decision.method
    assert all(role_of(t, decision) == "interviewee" for t in notes)


def test_unlabelled_preamble_in_a_transcript_is_a_note():
    convo = turns((None, "Call notes, May"), ("Sam", "How?"), ("Maria", "Physics."))
    decision = decide_roles(convo)
    assert [role_of(t, decision) for t in convo] == ["note", "interviewer", "interviewee"]


def test_single_speaker_is_the_interviewee():
    decision = decide_roles(turns(("Maria", "A monologue."), ("Maria", "More of it.")))
    assert decision.roles == {"Maria": "interviewee"}


def test_weak_question_evidence_is_flagged():
    even = turns(("Kim", "Why?"), ("Lee", "Why not?"), ("Kim", "Fine."), ("Lee", "Ok."))
    assert "weak evidence" in decide_roles(even).method


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (("I", "R"), {"I": "interviewer", "R": "interviewee"}),  # R = respondent beside I
        (("R", "P"), {"R": "interviewer", "P": "interviewee"}),  # R = researcher beside P
        (("P1", "A1"), {"P1": "interviewee", "A1": "interviewer"}),  # A = author beside P
        (("Q", "A"), {"Q": "interviewer", "A": "interviewee"}),  # A = answer beside Q
        (
            ("Moderator", "Participant 2"),
            {"Moderator": "interviewer", "Participant 2": "interviewee"},
        ),
    ],
)
def test_letter_codes_are_read_by_the_codes_beside_them(labels, expected):
    # The same words in every turn, so only the labels tell the sides apart; the
    # interviewee side speaks first, so "opens" is against the labels.
    second, first = labels[0], labels[1]
    convo = turns(
        (first, "We started the project together."),
        (second, "We started the project together."),
        (first, "We started the project together."),
        (second, "We started the project together."),
    )
    decision = decide_roles(convo)
    assert decision.roles == expected
    assert decision.method.startswith("speaker labels")


def test_the_label_table_reads_r_alone_as_nothing():
    assert read_label("R", set()) is None
    assert read_label("Sam Lee", {"p"}) is None
    assert read_label("J. Smith", set()) is None
    assert read_label("Interviewer 2", set()).role == "interviewer"
    assert {r.label for r in LABEL_TABLE} >= {"interviewer", "participant", "q", "a", "p", "r", "i"}


def test_structural_turns_are_notes_even_in_unlabelled_notes():
    notes = [RawTurn(None, "Studied physics."), RawTurn(None, "[music]", label="[music]")]
    decision = decide_roles(notes)
    assert [role_of(t, decision) for t in notes] == ["interviewee", "note"]
    ad = RawTurn(None, "Brought to you by Acme.", label="Ad read: ")
    assert role_of(ad, decide_roles(CHAT)) == "note"
