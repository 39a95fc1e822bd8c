"""Clean verbatim for quotes: fillers, stutters and repetitions go, meaning stays."""

import pytest

from pipeline.report.verbatim import clean_verbatim, filler_count, has_filler


@pytest.mark.parametrize(
    ("strict", "clean"),
    [
        # disfluencies, wherever they are
        ("I went to the uh store.", "I went to the store."),
        ("I was, um, thinking about it.", "I was thinking about it."),
        ("It's hard to, uh… keep up.", "It's hard to keep up."),
        ("Erm, we never asked.", "We never asked."),
        ("It broke. Um. So we fixed it.", "It broke. So we fixed it."),
        ("I studied physics, uh.", "I studied physics."),
        ("Hmm, that is a good question.", "That is a good question."),
        # "you know" set off as a filler
        ("You know, it's hard.", "It's hard."),
        ("It works, you know.", "It works."),
        ("It's hard to find clients, you know?", "It's hard to find clients."),
        ("Yeah, you know, it works.", "Yeah, it works."),
        ("And you know, it was hard.", "And it was hard."),
        # "I mean" at a clause start
        ("I mean, we had no tests.", "We had no tests."),
        ("I mean we had no tests.", "We had no tests."),
        ("But yeah. I mean… Still, I remember it.", "But yeah. Still, I remember it."),
        ("It was fine, I mean, mostly.", "It was fine, mostly."),
        # "like" as a discourse filler
        ("Like, there's a lot of demand.", "There's a lot of demand."),
        ("It was, like, huge.", "It was huge."),
        (
            "So it was frustrating, but, like, I let it go.",
            "So it was frustrating, but I let it go.",
        ),
        # hedges only between commas
        ("It's, sort of, a database.", "It's a database."),
        ("It was, kind of, a mess.", "It was a mess."),
        # stutters and repetitions
        ("I, I, I went home.", "I went home."),
        ("We met the, the, the client.", "We met the client."),
        ("The the thing is hard.", "The thing is hard."),
        ("It, it's fine.", "It's fine."),
        ("And it, it was hard.", "And it was hard."),
        ("I think, I think we should go.", "I think we should go."),
        ("we- we went home.", "we went home."),
        ("th- the thing is hard.", "the thing is hard."),
        ("outside of their -- their little niche", "outside of their little niche"),
        ("We had a prob-- we had a problem with it.", "We had a problem with it."),
        ("I don't -- I don't think so.", "I don't think so."),
        # several at once, and the punctuation and capitals they leave
        ("Um, so I, I, I went to the, the client, you know?", "So I went to the client."),
        ("So, um, we had issues.", "So, we had issues."),
        ("We bought milk, um, bread and eggs.", "We bought milk, bread and eggs."),
        ("Um, like, you know, it was fine.", "It was fine."),
        ("I think, uh, it works.", "I think it works."),
        ("It's been, uh, seven years now?", "It's been seven years now?"),
        ("I write for, um, for small firms.", "I write for small firms."),
        ("One is a, um, an industrial company.", "One is an industrial company."),
        ("The salary is, uh, it's difficult.", "The salary is — it's difficult."),
        ("It was, um, it was great.", "It was great."),
        # non-speech notes go
        ("It was [laughs] fine.", "It was fine."),
    ],
)
def test_clean_verbatim(strict, clean):
    assert clean_verbatim(strict) == clean
    assert has_filler(strict)


@pytest.mark.parametrize(
    "text",
    [
        "I like it. It's like a database.",
        "Like I said, it's fine.",
        "What's it like?",
        "I'd like, if possible, a coffee.",
        "You know the answer.",
        "Do you know Python?",
        "If you know, you know.",
        "So you know, the meeting is at five.",
        "I mean it.",
        "What I mean is that we failed.",
        "You just sort of assume that it works.",
        "It was kind of weird.",
        "It's done, sort of.",
        "It was very, very, very hard. No, no, no.",
        "It was a long, long time ago.",
        "I know that that is true and I had had enough.",
        "What it is is a database.",
        "We used pre- and post-processing, re-read it, it was so-so.",
        "I told you, you should go.",
        "What we had, had to go.",
        "Uh-huh, that's right.",
        "UM is a university in Montana.",
        "There were, like, 50 people.",
        "I was charging, like, forty-five an hour.",
        "It was the A team.",
    ],
)
def test_meaningful_words_stay(text):
    assert clean_verbatim(text) == text
    assert filler_count(text) == 0
    assert not has_filler(text)


def test_words_lost_in_the_source_are_marked_not_counted():
    assert clean_verbatim("We lost [inaudible] the rest.") == "We lost … the rest."
    assert clean_verbatim(r"you left \[unintelligible 00:49:27\] and") == "you left … and"
    assert filler_count("We lost [inaudible] the rest.") == 0


def test_a_false_start_that_changes_course_keeps_its_words():
    # Cutting "we were" would put words in the speaker's mouth: only the dash is typeset.
    assert clean_verbatim("we were -- we had a lot") == "we were — we had a lot"
    assert (
        clean_verbatim("So I tried -- the budget was gone.") == "So I tried — the budget was gone."
    )


def test_capitals_follow_the_source():
    # A removed filler with a capital started a sentence: the next word takes the capital...
    assert clean_verbatim("It broke. Um, so we left.") == "It broke. So we left."
    # ... but a lowercase fragment (a passage cut mid-sentence) is not made to look whole.
    assert clean_verbatim("um, and then we left") == "and then we left"
    assert clean_verbatim("and, um, then we left") == "and then we left"
    # a word with an inner capital is not capitalised
    assert clean_verbatim("Um, iPhone sales fell.") == "iPhone sales fell."


def test_punctuation_is_repaired():
    assert clean_verbatim("Well, , um, it works.") == "Well, it works."
    assert clean_verbatim("It works, um .") == "It works."
    assert clean_verbatim(", you know, we had issues.") == "we had issues."
    assert clean_verbatim("It was   \n  fine.") == "It was fine."
    assert clean_verbatim("I waited... and waited.") == "I waited… and waited."


def test_a_sentence_of_filler_goes():
    assert clean_verbatim("Um.") == ""
    assert clean_verbatim("I don't think so. I mean…") == "I don't think so."
    assert clean_verbatim("It was, uh…") == "It was…"  # trailing off is not a filler
    assert clean_verbatim("You know? We shipped it.") == "We shipped it."


def test_filler_count():
    assert filler_count("Um, so I, I, I went to the, the client, you know?") == 4
    assert filler_count("I went to the store.") == 0
    assert filler_count("I, um, I went.") == 2  # "um", then the "I I" it leaves


@pytest.mark.parametrize(
    "text",
    [
        "Um, so I, I, I went to the, the client, you know?",
        "I, um, I went. Like, you know, it was, like, huge, I mean.",
        "So, um, we had a prob-- we had a problem, you know, with the the thing.",
        "we were -- we had -- we had a lot",
        "It was [laughs] fine... um... we lost [inaudible] the rest.",
    ],
)
def test_idempotent(text):
    once = clean_verbatim(text)
    assert clean_verbatim(once) == once
    assert filler_count(once) == 0


def test_fast_and_pure():
    text = "Um, so I, I, I went to the, the client, you know? Like, it was, like, huge. " * 50
    assert clean_verbatim(text) == clean_verbatim(text)
    assert "you know" not in clean_verbatim(text)
