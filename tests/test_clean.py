"""Cleaned text: filler and false starts out, meaning kept."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest.clean import clean_text, is_backchannel, word_count


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("Uh, well, I, I, I studied physics.", "Well, I studied physics."),
        ("Um, so I started on Upwork.", "So I started on Upwork."),
        ("It was, like, ten hours a week.", "It was, ten hours a week."),
        ("You know, I mean, it depends.", "It depends."),
        ("Mm-hmm. Right, so referrals.", "Right, so referrals."),
        (
            "I went to, uh, School 2 and then, um, Company 1.",
            "I went to School 2 and then Company 1.",
        ),
        ("the the thing is that referrals work", "the thing is that referrals work"),
        ("It was physics, uh. Then finance.", "It was physics. Then finance."),
        ("  lots\n of   space  ", "lots of space"),
    ],
)
def test_filler_is_removed(raw, cleaned):
    assert clean_text(raw) == cleaned


@pytest.mark.parametrize(
    "kept",
    [
        "Do you know Python?",
        "I like Python a lot.",
        "I had had enough of consulting.",
        "Humbly, I think umbrella projects are fine.",  # 'um' inside words stays
        "It's kind of a niche.",
    ],
)
def test_meaningful_words_are_kept(kept):
    assert clean_text(kept) == kept


def test_extra_fillers_from_config():
    assert (
        clean_text("So basically, honestly, referrals.", extra_fillers=["honestly"])
        == "So basically, referrals."
    )


@pytest.mark.parametrize(
    "text", ["yeah, exactly", "Mm-hmm.", "Right.", "Okay, got it.", "Yes, for sure!", "uh-huh"]
)
def test_backchannel(text):
    assert is_backchannel(text)


@pytest.mark.parametrize(
    "text", ["Yeah, referrals are the best way.", "Physics.", "No, I studied finance first."]
)
def test_not_backchannel(text):
    assert not is_backchannel(text)


def test_word_count():
    assert word_count("I, I went to School 2.") == 6


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_cleaning_is_total_idempotent_and_never_adds_words(text):
    once = clean_text(text)
    assert clean_text(once) == once
    assert word_count(once) <= word_count(text)


@pytest.mark.parametrize(
    "raw",
    [
        "It was funny. [laughs] Anyway, referrals.",
        "It was funny. (laughter) Anyway, referrals.",
        "It was funny. [crosstalk 00:12:03] Anyway, referrals.",
    ],
)
def test_stage_directions_are_removed(raw):
    assert clean_text(raw) == "It was funny. Anyway, referrals."
