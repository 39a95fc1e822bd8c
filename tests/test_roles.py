"""Interviewer vs. interviewee, decided per conversation with the reason recorded."""

from pipeline.ingest.model import RawTurn
from pipeline.ingest.roles import decide_roles, role_of


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
    assert decision.method.startswith("questions: Sam asked in 100%")
    assert decision.interviewer == "Sam"


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
