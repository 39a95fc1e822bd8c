"""Which sentences give advice (real spaCy parser) and how they become points."""

import pandas as pd
import pytest

from pipeline.core import nlp
from pipeline.report.advice import advice_features, advice_points, is_imperative, strip_lead


@pytest.fixture(scope="module")
def parse():
    lang = nlp.english_full()
    return lambda text: next(lang(text).sents)


@pytest.mark.parametrize(
    "text",
    [
        "Pick a niche.",
        "One, pick a niche.",
        "Second, do good work and let the referrals come.",
        "Don't feel like a failure if you go back to a full-time job.",
        "Um, and do good work for the first client.",
        "Find partners who can build the front end.",
    ],
)
@pytest.mark.slow
def test_imperatives(parse, text):
    assert is_imperative(parse(text))


@pytest.mark.parametrize(
    "text",
    [
        "I picked a niche early.",
        "Did not plan to freelance.",
        "Send me the article when it's out.",
        "Let's do it.",
        "Doesn't rule out going back.",
        "Might do a bit of mentoring on the side.",
    ],
)
@pytest.mark.slow
def test_not_imperatives(parse, text):
    assert not is_imperative(parse(text))


@pytest.mark.slow
def test_advice_phrases_and_preambles(parse):
    assert advice_features(parse("I'd recommend writing a blog."))["advice_cue"]
    assert advice_features(parse("The key is to answer fast."))["advice_cue"]
    assert advice_features(parse("Three things."))["preamble"]


def test_strip_lead_keeps_the_advice():
    assert strip_lead("Um, and second, do good work.") == "Do good work."
    assert strip_lead("And the other thing is, be reliable.") == "Be reliable."


def _rows(*sentences, advice_answer=True):
    return pd.DataFrame(
        [
            {
                "interview_id": "a",
                "turn_index": 1,
                "passage_id": f"a#1.{i}",
                "section": "future",
                "text": text,
                "advice_answer": advice_answer,
                **flags,
            }
            for i, (text, flags) in enumerate(sentences)
        ]
    )


def test_points_take_their_explanation_and_split_at_the_next_advice():
    base = {
        "imperative": False,
        "advice_cue": False,
        "enumerated": False,
        "preamble": False,
        "n_content": 4,
    }
    table = _rows(
        ("Three things.", {**base, "preamble": True, "n_content": 1}),
        ("First, pick a niche.", {**base, "imperative": True, "enumerated": True}),
        ("People want the specialist.", base),
        ("Second, find partners.", {**base, "imperative": True, "enumerated": True}),
        ("Like, build a team.", {**base, "imperative": True}),
    )
    points = advice_points(table)
    assert [p.text(table) for p in points] == [
        "First, pick a niche. People want the specialist.",
        "Second, find partners. Like, build a team.",
    ]
    assert [p.score for p in points] == pytest.approx([0.9, 0.9])


@pytest.mark.slow
@pytest.mark.parametrize(
    "said, banned",
    [
        # The verb-object wording alone is cut off ("Never put yourself"): not a headline.
        (
            ["Never put yourself in a corner with one client.", "Never put yourself in a box."],
            "Never put yourself",
        ),
        # No usable imperative and a first sentence that opens with a spoken marker.
        (["So, like, you know, and then.", "And, um, yeah."], "So"),
    ],
)
def test_advice_headlines_are_never_fragments(parse, said, banned):
    from pipeline.evaluate.report import headline_problem
    from pipeline.report.advice import AdvicePoint
    from pipeline.report.takeaways import PointGroup, headline_for

    spans = [parse(t) for t in said]
    table = pd.DataFrame(
        {"text": said, "imperative": [is_imperative(s) for s in spans]}, index=range(len(said))
    )
    points = [AdvicePoint(f"i{k}", f"i{k}#1.0", None, 0.9, [k]) for k in range(len(said))]
    group = PointGroup(
        points, None, None, ["client", "corner"], ["i0", "i1"], 1.0, [1.0, 1.0], [0, 1]
    )
    headline = headline_for(group, table, spans)
    assert headline != banned and headline_problem(headline) is None, headline
