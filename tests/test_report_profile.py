"""Report profiles, findings from themes and the precision rules of numbers and backgrounds.

Small inputs written here; no pipeline run. The spaCy tests load the bundled small model.
"""

import numpy as np
import pandas as pd
import pytest

from pipeline.report import findings
from pipeline.report.numbers import extract_quantities
from pipeline.report.overview import backgrounds_from_speech, is_field_of_study
from pipeline.report.profile import (
    NO_PROFILE,
    ProfileError,
    choose_profile,
    load_profile,
    profile_parts,
)
from pipeline.segment.guide import GuideError, load_guide

# ----------------------------------------------------------------------- profiles


def _sentences(texts_by_interview: dict[str, list[str]]) -> pd.DataFrame:
    rows = [
        {"interview_id": k, "text": t} for k, texts in texts_by_interview.items() for t in texts
    ]
    return pd.DataFrame(rows)


FREELANCE = ["I find clients through referrals.", "My hourly rate went up as a freelancer."]
ELSEWHERE = ["We mostly talked about the garden.", "The poems came later in life."]


def test_bundled_profile_declares_its_parts():
    p = load_profile("mentor-calls")
    assert p.advice and p.backgrounds
    assert "hourly_rate" in p.numbers and p.lists is not None and p.lists.is_file()
    assert any(part.startswith("numbers:") for part in profile_parts(p))


def test_auto_follows_the_guide_only_when_the_corpus_uses_the_profiles_words():
    on = choose_profile("auto", "mentor-calls", _sentences({"a": FREELANCE, "b": FREELANCE}))
    assert on.on and on.profile.name == "mentor-calls"
    assert "2 of 2 conversations" in on.reason
    off = choose_profile(
        "auto", "mentor-calls", _sentences({"a": FREELANCE, "b": ELSEWHERE, "c": ELSEWHERE})
    )
    assert off.profile is NO_PROFILE and not off.on
    assert "1 of 3 conversations" in off.reason and "report.profile: mentor-calls" in off.reason


def test_auto_without_a_guide_profile_and_none_are_off_and_a_name_forces_it_on():
    texts = _sentences({"a": ELSEWHERE})
    assert choose_profile("auto", None, texts).profile is NO_PROFILE
    assert choose_profile("none", "mentor-calls", texts).profile is NO_PROFILE
    forced = choose_profile("mentor-calls", None, texts)
    assert forced.on and forced.reason == "report.profile is mentor-calls"


def test_a_users_profile_yaml_is_read_and_checked(tmp_path):
    lists = tmp_path / "my-lists.yaml"
    lists.write_text("tools:\n  description: Tools\n  items:\n    git: [git]\n")
    good = tmp_path / "mine.yaml"
    good.write_text(
        "name: mine\nparts:\n  numbers: [years]\n  lists: my-lists.yaml\n  advice: false\n"
    )
    p = load_profile(good)
    assert p.name == "mine" and p.numbers == ("years",) and p.lists == lists
    assert not p.advice and not p.backgrounds

    bad_kind = tmp_path / "bad.yaml"
    bad_kind.write_text("name: bad\nparts:\n  numbers: [shoe_sizes]\n")
    with pytest.raises(ProfileError, match="bad.yaml.*shoe_sizes"):
        load_profile(bad_kind)
    bad_field = tmp_path / "field.yaml"
    bad_field.write_text("name: x\ncolour: red\n")
    with pytest.raises(ProfileError, match="field.yaml.*colour"):
        load_profile(bad_field)
    with pytest.raises(ProfileError, match="unknown profile 'nope'.*mentor-calls"):
        load_profile("nope")


def test_guides_name_their_profile_and_other_fields_are_still_refused(tmp_path):
    assert load_guide().profile == "mentor-calls"
    guide = tmp_path / "g.yaml"
    guide.write_text(
        'name: g\nprofile: mine\nsections:\n  - name: a\n    description: d\n    questions: ["q"]\n'
    )
    assert load_guide(guide).profile == "mine"
    guide.write_text(
        "name: g\nprofiles: mine\nsections:\n  - name: a\n    description: d\n"
        '    questions: ["q"]\n'
    )
    with pytest.raises(GuideError, match="profiles"):
        load_guide(guide)


# ------------------------------------------------------------- numbers, backgrounds


@pytest.mark.parametrize(
    "text",
    [
        "Some of those engines can be 60 years old.",
        "A person 50 years old started freelancing.",
        "In five years I want to have started my own company.",
        "Every two years we started a new project.",
    ],
)
def test_years_that_are_not_experience_are_not_counted(text):
    assert [q for q in extract_quantities(text) if q.kind == "years"] == []


def test_years_of_experience_still_count():
    found = extract_quantities("I've been freelancing for six years now.")
    assert [(q.kind, q.value) for q in found] == [("years", 6)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("theoretical physics", True),
        ("computer science", True),
        ("applied mathematics", True),
        ("of management", False),
        ("with", False),
        ("working", False),
        ("on that thing", False),
        ("interpretability", False),
        ("physics in", False),
    ],
)
def test_a_background_is_a_field_of_study(text, expected):
    assert is_field_of_study(text) is expected


def test_backgrounds_from_speech_keep_fields_and_drop_fragments():
    table = pd.DataFrame(
        {
            "interview_id": ["a", "b", "c"],
            "text": [
                "My degree was in theoretical physics, then I moved.",
                "It was a degree of interpretability with the tools.",
                "I did a master's in computer science at night.",
            ],
        }
    )
    assert [(i, v) for i, v, _ in backgrounds_from_speech(table)] == [
        ("a", "theoretical physics"),
        ("c", "computer science"),
    ]


# ---------------------------------------------------------------------- findings


def test_strip_lead_drops_spoken_openers_only():
    assert findings.strip_lead("So, yeah, the grant paid for it.") == "The grant paid for it."
    assert findings.strip_lead("And I mean we never asked.") == "We never asked."
    assert findings.strip_lead("Sounds good to me.") == "Sounds good to me."


def test_support_needs_two_passages_or_a_central_one():
    group = pd.DataFrame(
        {
            "interview_id": ["a", "a", "b", "c", "d"],
            "probability": [0.5, 0.4, 0.9, 0.1, 0.6],
        }
    )
    # median 0.5: a has two passages, b and d one central passage, c only a remote one
    assert findings.support_of(group) == ["a", "b", "d"]


def test_keyword_spread_is_the_share_of_conversations_using_a_word():
    text = {"a": "the pypi outage and the grant", "b": "pypi again", "c": "nothing here"}
    spread = findings.keyword_spread(["pypi", "grant"], text)
    assert spread == {"pypi": round(2 / 3, 3), "grant": round(1 / 3, 3)}


def test_keyword_spread_index_agrees_with_searching_the_text():
    """The prefix index gives what a regex search of each conversation would."""
    import re

    text = {
        "a": "grants and grantmaking, open source maintainers; the e-mail list",
        "b": "we got a grant. opensource is one word here, open sourced code",
        "c": "granted, it was open-source. mail me",
    }
    keywords = ["grant", "open source", "e-mail", "mail", "maintainer", "open", "source", "x"]
    expected = {
        k: round(
            sum(bool(re.search(r"\b" + re.escape(k) + r"\w{0,3}\b", t)) for t in text.values()) / 3,
            3,
        )
        for k in keywords
    }
    assert findings.keyword_spread(keywords, text) == expected
    assert expected["grant"] == 1.0 and expected["open source"] == round(2 / 3, 3)


def _stats(conversations, count, form):
    s = findings._PhraseStats()
    s.conversations = set(conversations)
    s.count = count
    s.forms[form] = count
    return s


def test_key_phrases_prefer_phrases_said_here_over_words_said_everywhere():
    stats = {
        "python": _stats("abcd", 8, "Python"),
        "pycon sprint": _stats("abc", 4, "PyCon sprints"),
        "conference": _stats("a", 3, "conference"),  # one conversation: not a key phrase
        "sprint": _stats("ab", 2, "sprint"),  # shares a word with a better phrase
    }
    totals = {"python": 80, "pycon sprint": 4, "conference": 3, "sprint": 2}
    got = findings.key_phrases(stats, totals, ["pycon", "python", "sprint", "conference"])
    assert got == ["PyCon sprints", "Python"]
    assert findings.headline_from(got, []) == "PyCon sprints and Python"
    assert findings.headline_from([], ["grant", "money"]) == "Grant and money"


def test_noun_chunks_become_phrases_without_determiners_pronouns_or_generic_words():
    from pipeline.core import nlp

    doc = nlp.english_full()(
        "The maintainers worried about a single point of failure. We did a lot of things. "
        "It was the way."
    )
    phrases = [findings._phrase(c) for c in doc.noun_chunks]
    texts = [p[0] for p in phrases if p]
    assert "single point of failure" in texts
    assert "maintainers" in texts
    assert all(t.split()[0].lower() not in ("the", "a", "we", "it") for t in texts)
    assert "lot" not in texts and "way" not in texts and "things" not in texts


def test_summary_says_support_subject_and_section():
    ev = findings.ThemeEvidence(
        theme_id=3,
        label="grant · money",
        keywords=["grant", "money"],
        passages=pd.DataFrame(),
        support=["a", "b", "c"],
        spread={},
        phrases=["grant money", "paid maintainers"],
        sections={"past": 6, "present": 2},
    )
    assert findings.summary_for(ev, 10) == (
        "3 of 10 conversations talked about grant money and paid maintainers, mostly in the "
        "past part of the interview (75% of its passages)."
    )


def test_central_sentences_embed_once_and_pick_the_closest():
    table = pd.DataFrame(
        {
            "passage_id": ["p1", "p1", "p2"],
            "interview_id": ["a", "a", "b"],
            "text": [
                "The grant money paid for two maintainers over the whole year.",
                "The grant was small but the money helped the whole project.",
                "Short one?",
            ],
            "lemmas": ["grant money pay maintainer year", "grant small money help project", ""],
        }
    )
    parsed = type("P", (), {"table": table, "spans": [None, None, None]})()
    ev = findings.ThemeEvidence(
        theme_id=0,
        label="grant",
        keywords=["grant", "money"],
        passages=pd.DataFrame({"passage_id": ["p1", "p2"], "interview_id": ["a", "b"]}),
        support=["a", "b"],
        spread={},
    )
    calls = []

    def embed(texts):
        calls.append(texts)
        return np.array([[1.0, 0.0], [0.0, 1.0]])

    got = findings.central_sentences([(ev, [0, 1, 2], np.array([0.0, 1.0]))], parsed, embed)
    assert got == {0: 1} and len(calls) == 1 and len(calls[0]) == 2
