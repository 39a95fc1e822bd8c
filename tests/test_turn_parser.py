"""The turn parser: every label shape, continuation lines, notes without labels,
and properties that must hold for any input (no crash, no text lost)."""

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest.turn_parser import parse_text, parse_timestamp


def speakers_and_texts(text):
    return [(t.speaker, t.text) for t in parse_text(text).turns]


@pytest.mark.parametrize(
    "line, speaker, rest",
    [
        ("Maria: I studied physics.", "Maria", "I studied physics."),
        ("Maria Lopez: I studied physics.", "Maria Lopez", "I studied physics."),
        ("Interviewer 1 : How did you start?", "Interviewer 1", "How did you start?"),
        ("Interviewer1 : How did you start?", "Interviewer1", "How did you start?"),
        ("Interviewee : I applied to postings.", "Interviewee", "I applied to postings."),
        ("**Maria:** I studied physics.", "Maria", "I studied physics."),
        ("**Maria**: I studied physics.", "Maria", "I studied physics."),
        ("[00:12:03] Maria: I studied physics.", "Maria", "I studied physics."),
        ("(00:12:03) Maria: I studied physics.", "Maria", "I studied physics."),
        ("00:12:03 Maria: I studied physics.", "Maria", "I studied physics."),
        ("Maria (00:12:03): I studied physics.", "Maria", "I studied physics."),
        ("Q: How did you start?", "Q", "How did you start?"),
        ("A: Small projects.", "A", "Small projects."),
        ("Zoë: J'ai étudié la physique.", "Zoë", "J'ai étudié la physique."),
        ("李明: 我学习了统计学。", "李明", "我学习了统计学。"),
    ],
)
def test_label_shapes(line, speaker, rest):
    # Each label appears twice so it is accepted as a speaker by repetition too.
    turns = parse_text(f"{line}\n{line}").turns
    assert [(t.speaker, t.text) for t in turns] == [(speaker, rest)] * 2


def test_timestamps_are_kept_in_seconds():
    turns = parse_text("[00:12:03] Maria: one\n[1:02:03.5] Sam: two\n[05:07] Maria: three").turns
    assert [t.start for t in turns] == [723.0, 3723.5, 307.0]


@pytest.mark.parametrize(
    "text, seconds",
    [("00:00:01.000", 1.0), ("1:00", 60.0), ("01:02:03,250", 3723.25), ("x", None), (None, None)],
)
def test_parse_timestamp(text, seconds):
    assert parse_timestamp(text) == seconds


def test_continuation_lines_join_the_current_turn():
    text = (
        "Sam: How did you start?\nMaria: I studied physics.\nThen a bootcamp.\n\n"
        "- first small projects\nSam: And now?"
    )
    assert speakers_and_texts(text) == [
        ("Sam", "How did you start?"),
        ("Maria", "I studied physics.\nThen a bootcamp.\n- first small projects"),
        ("Sam", "And now?"),
    ]


def test_a_one_off_label_right_after_a_question_is_a_speaker_but_not_mid_answer():
    text = "Sam: What did you study?\nMaria: Physics, mostly.\nTools: Python and SQL.\nSam: Thanks!"
    assert speakers_and_texts(text) == [
        ("Sam", "What did you study?"),
        ("Maria", "Physics, mostly.\nTools: Python and SQL."),
        ("Sam", "Thanks!"),
    ]


def test_otter_header_line_starts_a_turn():
    text = (
        "Maria Lopez  0:03\nI studied physics.\nSam Lee  0:15\nWhat next?\n"
        "Maria Lopez  0:20\nA course."
    )
    turns = parse_text(text).turns
    assert [(t.speaker, t.text, t.start) for t in turns] == [
        ("Maria Lopez", "I studied physics.", 3.0),
        ("Sam Lee", "What next?", 15.0),
        ("Maria Lopez", "A course.", 20.0),
    ]


def test_a_word_with_a_colon_once_is_not_a_speaker():
    text = "Context: met at a meetup in May.\n- studied physics\n- Tools: Python and SQL"
    result = parse_text(text)
    assert not result.labelled
    assert all(t.speaker is None for t in result.turns)
    assert [t.text for t in result.turns] == [
        "Context: met at a meetup in May.",
        "studied physics",
        "Tools: Python and SQL",
    ]


def test_heading_words_are_headings_not_speakers_even_when_repeated():
    text = "Past:\n- physics\nFuture:\n- a course\nPast:\n- bootcamp\nFuture:\n- consultancy"
    result = parse_text(text)
    assert not result.labelled
    assert [(t.text, t.heading) for t in result.turns] == [
        ("physics", "Past"),
        ("a course", "Future"),
        ("bootcamp", "Past"),
        ("consultancy", "Future"),
    ]


def test_unlabelled_notes_become_one_turn_per_bullet_or_paragraph_with_headings():
    text = (
        "## Background\n- studied physics\n- then a bootcamp\n  (wrapped line)\n"
        "Where next?\nWants to build a course.\n\nMaybe an agency.\n1. first\n2. second"
    )
    result = parse_text(text)
    assert [(t.speaker, t.text, t.heading) for t in result.turns] == [
        (None, "studied physics", "Background"),
        (None, "then a bootcamp\n(wrapped line)", "Background"),
        (None, "Wants to build a course.", "Where next?"),
        (None, "Maybe an agency.", "Where next?"),
        (None, "1. first", "Where next?"),
        (None, "2. second", "Where next?"),
    ]
    assert result.headings == ["## Background", "Where next?"]


def test_numbered_items_keep_their_numbers():
    result = parse_text("- one\n1. first item\n2) second item")
    assert [t.text for t in result.turns] == ["one", "1. first item", "2) second item"]


def test_in_transcripts_a_colon_line_inside_an_answer_is_not_a_heading():
    text = "Sam: What worked?\nMaria: Three things:\n- referrals\n- a niche\nSam: Thanks."
    assert speakers_and_texts(text)[1] == ("Maria", "Three things:\n- referrals\n- a niche")


def test_markdown_heading_in_a_transcript_sets_the_heading():
    turns = parse_text(
        "## Past\nSam: How?\nMaria: Physics.\n## Future\nSam: Next?\nMaria: A course."
    ).turns
    assert [t.heading for t in turns] == ["Past", "Past", "Future", "Future"]


def test_text_before_the_first_label_is_kept_without_speaker():
    turns = parse_text(
        "Call notes, 3 May\nSam: How did you start?\nMaria: Physics.\nSam: ok\nMaria: yes"
    ).turns
    assert (turns[0].speaker, turns[0].text) == (None, "Call notes, 3 May")


def test_urls_and_times_are_not_labels():
    text = (
        "See https://example.com for details.\nWe met at 10:30: it was fine.\n"
        "See https://example.com again."
    )
    assert all(t.speaker is None for t in parse_text(text).turns)


def test_source_lines_are_one_based_and_offset():
    turns = parse_text("Sam: a\nMaria: b\n\nSam: c\nMaria: d", first_line=5).turns
    assert [t.line for t in turns] == [5, 6, 8, 9]


# --- properties -----------------------------------------------------------

WORD = st.text(alphabet=st.characters(categories=("Lu", "Ll", "Nd")), min_size=1, max_size=8)
NAME = st.sampled_from(
    ["Maria", "Sam Lee", "Interviewer 1", "Q", "A", "Zoë", "Interviewee", "Past", "Note"]
)
SENTENCE = st.lists(WORD, min_size=0, max_size=8).map(" ".join)
LINE = st.one_of(
    SENTENCE,
    st.builds(lambda n, s: f"{n}: {s}", NAME, SENTENCE),
    st.builds(lambda n, s: f"**{n}:** {s}", NAME, SENTENCE),
    st.builds(
        lambda h, m, s, n, t: f"[{h:02d}:{m:02d}:{s:02d}] {n}: {t}",
        st.integers(0, 9),
        st.integers(0, 59),
        st.integers(0, 59),
        NAME,
        SENTENCE,
    ),
    st.builds(lambda s: f"- {s}", SENTENCE),
    st.builds(lambda s: f"## {s}", SENTENCE),
    st.builds(lambda s: f"{s}?", SENTENCE),
    st.builds(lambda s: f"{s}:", SENTENCE),
    st.builds(lambda n, m, s: f"{n}  {m}:{s:02d}", NAME, st.integers(0, 59), st.integers(0, 59)),
    st.just(""),
    st.text(max_size=40),  # anything at all, control characters included
)


def tokens(text):
    return Counter(re.findall(r"\w+", text))


def parsed_tokens(result):
    out = Counter()
    for turn in result.turns:
        out += tokens(turn.label) + tokens(turn.text)
    for heading in result.headings:
        out += tokens(heading)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, max_size=30))
def test_parser_never_crashes_and_never_loses_or_invents_text(lines):
    text = "\n".join(lines)
    result = parse_text(text)
    assert parsed_tokens(result) == tokens(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=30))
def test_turn_lines_are_increasing_and_point_at_their_text(lines):
    text = "\n".join(lines)
    source = text.split("\n")
    result = parse_text(text)
    numbers = [t.line for t in result.turns]
    assert numbers == sorted(numbers)
    for turn in result.turns:
        anchor = (turn.label.strip() or turn.text.split("\n")[0]).strip()
        assert anchor in source[turn.line - 1]


def test_a_single_exchange_is_still_two_speakers():
    assert speakers_and_texts("Sam: How did you start?\nBen: With small projects on Upwork.") == [
        ("Sam", "How did you start?"),
        ("Ben", "With small projects on Upwork."),
    ]


def test_markdown_escapes_and_timestamps_opening_a_turn_or_paragraph():
    """SYNTHETIC podcast transcript exported as Markdown: escaped brackets, a timestamp after
    the label and one opening a later paragraph of the same turn."""
    from pipeline.ingest.text_reader import read_text_file

    text = (
        "**Host:** So tell me?\n\n"
        "**Guest Name:** \\[03:46\\] Yeah, so I moved north.\n\n"
        "\\[08:05\\] Then I started \\[unintelligible 00:45\\] again.\n\n"
        "**Host:** And then?\n\n**Guest Name:** It went on.\n"
    )
    turns = read_text_file(text.encode(), name="ep.md").docs[0].turns
    guest = turns[1]
    assert (guest.speaker, guest.start, guest.line) == ("Guest Name", 226.0, 3)
    assert guest.text == "Yeah, so I moved north.\nThen I started [unintelligible 00:45] again."
    # A plain-text file keeps its backslashes: only Markdown escapes are resolved.
    plain = read_text_file(text.encode(), name="ep.txt").docs[0].turns
    assert "\\[unintelligible" in plain[1].text
