"""A guide found in the interviewers' questions, and how well a guide fits (synthetic data)."""

import numpy as np
import pandas as pd
import pytest

from pipeline.segment.fit import describe_fit, guide_fit
from pipeline.segment.guide import load_guide
from pipeline.segment.suggest import SuggestError, suggest_guide

# SYNTHETIC interviewer questions: three parts asked in every conversation, in order.
PARTS = [
    (
        "childhood",
        [
            "Where did you spend your childhood years?",
            "What was your childhood home like?",
            "Who shaped your childhood the most, would you say?",
        ],
    ),
    (
        "workshop",
        [
            "How is the workshop organised on a normal day?",
            "Who runs the workshop when you are away?",
            "What tools does the workshop depend on now?",
        ],
    ),
    (
        "retirement",
        [
            "What are your plans for retirement in the coming years?",
            "How will the retirement change your family life?",
            "When do you expect your retirement to start?",
        ],
    ),
]


def corpus(n_conversations=6, seed=0):
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(len(PARTS), 32))
    turns, passages, vectors = [], [], []
    for c in range(n_conversations):
        iv = f"conv-{c}"
        t = 0
        for p, (_, questions) in enumerate(PARTS):
            for q in questions:
                for role, text in (("interviewer", q), ("interviewee", "An answer of some words.")):
                    turns.append({"interview_id": iv, "turn_index": t, "role": role})
                    passages.append(
                        {
                            "passage_id": f"{iv}-{t}",
                            "interview_id": iv,
                            "turn_index": t,
                            "role": role,
                            "text": text,
                            "is_question": role == "interviewer",
                        }
                    )
                    vectors.append(directions[p] + 0.3 * rng.normal(size=32))
                    t += 1
    return pd.DataFrame(turns), pd.DataFrame(passages), np.asarray(vectors)


def test_suggested_guide_has_the_parts_in_order_named_by_their_words(tmp_path):
    from pipeline.segment.guide import write_guide

    turns, passages, vectors = corpus()
    mapping = suggest_guide(turns, passages, vectors)
    names = [s["name"] for s in mapping["sections"]]
    assert len(names) == 3
    for name, (word, _) in zip(names, PARTS):
        assert name.startswith(word), names
    assert mapping["sections"][0]["questions"][0] in PARTS[0][1]
    guide = write_guide(mapping, tmp_path / "g.yaml", "test")
    assert load_guide(tmp_path / "g.yaml").names == guide.names == names


def test_too_little_to_suggest_from_is_said():
    turns, passages, vectors = corpus(n_conversations=2)
    with pytest.raises(SuggestError, match="at least 3 are needed"):
        suggest_guide(turns, passages, vectors)
    turns, passages, vectors = corpus()
    passages["is_question"] = False
    passages["text"] = "Fine."
    with pytest.raises(SuggestError, match="too few"):
        suggest_guide(turns, passages, vectors)


GUIDE = load_guide()


def table(sections, confidence=0.9, conversations=4):
    rows = []
    for c in range(conversations):
        for s in sections:
            rows.append(
                {
                    "interview_id": f"c{c}",
                    "role": "interviewee",
                    "section": s,
                    "confidence": confidence,
                }
            )
    return pd.DataFrame(rows)


def test_a_guide_that_fits():
    fit = guide_fit(table(["past"] * 8 + ["present"] * 8 + ["future"] * 6), GUIDE)
    assert not fit["poor"] and fit["problems"] == []
    assert fit["share"]["future"] == pytest.approx(6 / 22, abs=1e-3)
    assert "fits:" in describe_fit(fit, GUIDE.name)


def test_one_section_holding_everything_is_poor_fit():
    fit = guide_fit(table(["past"] * 30 + ["present"] * 3), GUIDE)
    assert fit["poor"]
    assert fit["never_reached"] == ["future"]
    text = describe_fit(fit, GUIDE.name)
    assert "fits these conversations poorly" in text and "'past'" in text
    assert "never reached: 'future'" in text


def test_low_confidence_is_poor_fit():
    fit = guide_fit(table(["past"] * 8 + ["present"] * 8 + ["future"] * 8, confidence=0.4), GUIDE)
    assert fit["problems"] == ["mean confidence 0.40"]


def test_questions_unlike_the_guide_are_a_poor_fit():
    balanced = table(["past"] * 8 + ["present"] * 8 + ["future"] * 8)
    asked = guide_fit(balanced, GUIDE, [0.5] * 10 + [0.2] * 20)
    assert asked["questions_like_the_guide"] == pytest.approx(0.333, abs=1e-3)
    assert not asked["poor"]
    unlike = guide_fit(balanced, GUIDE, [0.45] + [0.2] * 29)
    assert unlike["problems"] == ["only 3% of the interviewers' questions resemble the guide's"]
