"""pipeline.coding.locate: finding a researcher's coded excerpts in the ingested turns.

All interview text here is SYNTHETIC (invented for these tests). Every located span is
checked by slicing the turn's own text with the span's offsets.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.coding import Code, Codebook, CodedExcerpt
from pipeline.coding.locate import (
    DEFAULT_MIN_SCORE,
    TURN_SEPARATOR,
    excerpts_from_turn_codes,
    interview_text,
    locate,
    match_interviews,
    passage_spans,
)
from pipeline.ingest.clean import STAGE_DIRECTION_RE

# ---------------------------------------------------------------------------- fixtures


def make_turns(interviews: dict[str, list[tuple[str, str, str]]], sources=None) -> pd.DataFrame:
    """turns.parquet-like frame: interview -> [(speaker, role, text), ...] in turn order."""
    rows = []
    for iid, turns in interviews.items():
        for k, (speaker, role, text) in enumerate(turns):
            row = {
                "interview_id": iid,
                "turn_index": k,
                "speaker": speaker,
                "role": role,
                "text": text,
            }
            if sources is not None:
                row["source_file"] = sources[iid]
            rows.append(row)
    return pd.DataFrame(rows)


def ex(text: str, interview: str = "p01", codes=("Code A",), **kw) -> CodedExcerpt:
    return CodedExcerpt(interview, tuple(codes), text, **kw)


P01 = [
    ("Interviewer", "interviewer", "How did you find the onboarding process?"),
    (
        "Sam",
        "participant",
        "Honestly it was confusing at first. The forms didn't make sense [laughs] and "
        "nobody explained the steps.",
    ),
    ("Interviewer", "interviewer", "What would have helped?"),
    (
        "Sam",
        "participant",
        "A short checklist, I think. Someone to call would have been great.",
    ),
]
P02 = [
    ("Interviewer", "interviewer", "Tell me about pricing."),
    ("Kim", "participant", "The price is too high for small teams, so we waited a year."),
]


@pytest.fixture
def turns() -> pd.DataFrame:
    return make_turns(
        {"p01": P01, "p02": P02},
        sources={"p01": "raw/P01_Session Notes.docx", "p02": "raw\\Kim-Interview.txt"},
    )


def turn_text(turns: pd.DataFrame, iid: str, ti: int) -> str:
    row = turns[(turns["interview_id"] == iid) & (turns["turn_index"] == ti)]
    assert len(row) == 1
    return str(row["text"].iloc[0])


def sliced(result, turns, excerpt: int = 0) -> list[tuple[int, str]]:
    """(turn_index, turn_text[start:end]) of every span of one excerpt, in turn order."""
    sp = result.spans[result.spans["excerpt"] == excerpt]
    return [
        (int(ti), turn_text(turns, iid, int(ti))[int(s) : int(e)])
        for iid, ti, s, e in zip(sp["interview_id"], sp["turn_index"], sp["start"], sp["end"])
    ]


def row(result, excerpt: int = 0) -> dict:
    return result.table.iloc[excerpt].to_dict()


# ---------------------------------------------------------------------------- exact


def test_exact_match_is_placed_with_turn_offsets(turns):
    r = locate([ex("The forms didn't make sense")], turns)
    t = row(r)
    assert t["located"] and t["method"] == "exact" and t["score"] == 100.0
    assert t["interview_id"] == "p01" and t["occurrences"] == 1
    assert (t["first_turn"], t["last_turn"], t["n_turns"]) == (1, 1, 1)
    assert t["reason"] is None
    assert sliced(r, turns) == [(1, "The forms didn't make sense")]
    assert list(r.spans.columns) == ["excerpt", "interview_id", "turn_index", "start", "end"]
    assert r.n_located == 1 and r.share_located == 1.0


@pytest.mark.parametrize(
    "excerpt, expected",
    [
        # case
        ("THE FORMS DIDN'T MAKE SENSE", "The forms didn't make sense"),
        # curly apostrophe and a backtick for the typed one
        ("The forms didn\u2019t make sense", "The forms didn't make sense"),
        ("The forms didn`t make sense", "The forms didn't make sense"),
        # the apostrophe left out altogether
        ("The forms didnt make sense", "The forms didn't make sense"),
        # whitespace: newlines, tabs, non-breaking spaces, padding
        ("  The forms\n didn't\tmake\u00a0sense  ", "The forms didn't make sense"),
        # punctuation added or missing
        ("...the forms, didn't make sense!", "The forms didn't make sense"),
        # fillers in the excerpt but not in the turn
        ("Um, the forms, uh, didn't make sense", "The forms didn't make sense"),
        ("The forms erm didn't mmm make sense hmm", "The forms didn't make sense"),
        # the turn's stage direction left out of the excerpt, and one the turn lacks added
        (
            "didn't make sense and nobody explained",
            "didn't make sense [laughs] and nobody explained",
        ),
        (
            "confusing at first (laughter) The forms",
            "confusing at first. The forms",
        ),
        (
            "confusing [crosstalk] at first [inaudible 00:03] The [pause] forms",
            "confusing at first. The forms",
        ),
        # a timestamp in the excerpt only
        ("[00:01:12] Honestly it was confusing", "Honestly it was confusing"),
        ("Honestly 12:05 it was confusing", "Honestly it was confusing"),
    ],
)
def test_exact_despite_surface_differences(turns, excerpt, expected):
    r = locate([ex(excerpt)], turns)
    t = row(r)
    assert t["located"], t["reason"]
    assert t["method"] == "exact"
    assert sliced(r, turns) == [(1, expected)]


@pytest.mark.parametrize(
    "turn, excerpt, expected",
    [
        # fillers in the turn but not in the excerpt
        ("Well, um, I think the app is uh fine.", "Well I think the app is fine", None),
        ("Mhm. Uh-huh, it works.", "it works", "it works"),
        # timestamps in the turn only
        ("[00:01:02] Well the app is fine.", "Well the app is fine", "Well the app is fine"),
        ("Well 1:02:03.5 the app is fine.", "Well the app is fine", None),
        # quotes and dashes of other forms
        (
            "It\u2019s \u201cgood\u201d enough\u2014really.",
            'It\'s "good" enough-really',
            "It\u2019s \u201cgood\u201d enough\u2014really",
        ),
        (
            "It is \u00abok\u00bb \u2013 mostly.",
            'it is "ok" - mostly',
            "It is \u00abok\u00bb \u2013 mostly",
        ),
        # accents folded
        (
            "We met at the caf\u00e9 na\u00efvely.",
            "we met at the cafe naively",
            "We met at the caf\u00e9 na\u00efvely",
        ),
        # stage directions in the turn
        ("It was (sighs) too slow [coughs] honestly.", "It was too slow honestly", None),
        ("So [background noise] we left.", "so we left", None),
    ],
)
def test_exact_when_the_turn_has_the_extras(turn, excerpt, expected):
    turns = make_turns({"a": [("Sam", "participant", turn)]})
    r = locate([ex(excerpt, "a")], turns)
    t = row(r)
    assert t["located"] and t["method"] == "exact", t["reason"]
    ((ti, got),) = sliced(r, turns)
    assert ti == 0
    # The span runs from the first to the last word, whatever it skipped in between.
    words = excerpt.split()
    if expected is not None:
        assert got == expected
    else:
        assert got.casefold().startswith(words[0].casefold())
        assert got.rstrip(".").casefold().endswith(words[-1].casefold())


def test_stage_direction_coverage_matches_ingest():
    """What locate drops as a stage direction is what ingest.clean drops."""
    for s in ["[laughs]", "(laughter)", "[crosstalk]", "[inaudible 00:12]", "(pause)", "[sighs]"]:
        assert STAGE_DIRECTION_RE.fullmatch(s), s
    for s in ["[nods]", "[smiles]", "(points at screen)"]:
        assert not STAGE_DIRECTION_RE.search(s), s


def test_unknown_stage_direction_is_words_so_only_fuzzy(turns):
    # "[nods]" is not a stage direction to ingest.clean, so it is a word in the excerpt.
    r = locate([ex("The forms [nods] didn't make sense and nobody explained the steps")], turns)
    t = row(r)
    assert t["located"] and t["method"] == "fuzzy"
    assert DEFAULT_MIN_SCORE <= t["score"] < 100


# ---------------------------------------------------------------------------- several turns


def test_excerpt_over_two_turns_without_labels_is_exact(turns):
    r = locate([ex("What would have helped? A short checklist, I think.")], turns)
    t = row(r)
    assert t["method"] == "exact"
    assert (t["first_turn"], t["last_turn"], t["n_turns"]) == (2, 3, 2)
    assert sliced(r, turns) == [(2, "What would have helped"), (3, "A short checklist, I think")]


@pytest.mark.parametrize(
    "excerpt",
    [
        "INTERVIEWER: What would have helped?\nPARTICIPANT: A short checklist, I think.",
        "Interviewer: What would have helped?\nSam: A short checklist, I think.",
        "Q: What would have helped? A: A short checklist, I think.",
        "MODERATOR:  What would have helped?\n\nRESPONDENT 2: A short checklist, I think.",
        # line numbers at line starts, in several styles
        "12 What would have helped?\n13 A short checklist, I think.",
        "12. What would have helped?\n13. A short checklist, I think.",
        "[12] INTERVIEWER: What would have helped?\n[13] SAM: A short checklist, I think.",
        "  7: What would have helped?\n  8) A short checklist, I think.",
    ],
)
def test_labels_and_line_numbers_are_set_aside(turns, excerpt):
    r = locate([ex(excerpt)], turns)
    t = row(r)
    assert t["located"], t["reason"]
    assert t["method"] == "exact-unlabelled"
    assert t["score"] == 100.0
    assert (t["first_turn"], t["last_turn"], t["n_turns"]) == (2, 3, 2)
    assert sliced(r, turns) == [(2, "What would have helped"), (3, "A short checklist, I think")]


def test_excerpt_over_three_turns_with_labels(turns):
    text = (
        "PARTICIPANT: nobody explained the steps.\n"
        "INTERVIEWER: What would have helped?\n"
        "PARTICIPANT: A short checklist"
    )
    r = locate([ex(text)], turns)
    t = row(r)
    assert t["method"] == "exact-unlabelled" and t["n_turns"] == 3
    assert sliced(r, turns) == [
        (1, "nobody explained the steps"),
        (2, "What would have helped"),
        (3, "A short checklist"),
    ]


def test_which_words_before_a_colon_count_as_labels():
    turns = make_turns({"a": [("Sam Lee", "participant", "Money. It was money, really.")]})

    def method(text):
        return row(locate([ex(text, "a")], turns))["method"]

    # Labels: the interview's own speakers in any case, capitals, generic roles.
    assert method("Sam Lee: Money. It was money") == "exact-unlabelled"
    assert method("sam lee: Money. It was money") == "exact-unlabelled"
    assert method("BOB: Money. It was money") == "exact-unlabelled"
    assert method("Respondent: Money. It was money") == "exact-unlabelled"
    # Not labels: a mixed-case name the interview does not have, ordinary words.
    assert method("Bob: Money. It was money") != "exact-unlabelled"
    assert method("The reason: Money. It was money") != "exact-unlabelled"
    # Nor a capitalised word in mid-sentence.
    assert method("Money. It WAS: money") != "exact-unlabelled"


# ---------------------------------------------------------------------------- fuzzy


def test_fuzzy_match_above_min_score(turns):
    text = "Honestly it was confusng at first. The forms didnt make sence"
    r = locate([ex(text)], turns)
    t = row(r)
    assert t["located"] and t["method"] == "fuzzy"
    assert DEFAULT_MIN_SCORE <= t["score"] < 100
    assert t["occurrences"] == 1 and t["reason"] is None
    # The span is trimmed to the last word the excerpt shares ("sence" it does not).
    assert sliced(r, turns) == [(1, "Honestly it was confusing at first. The forms didn't make")]
    r = locate([ex("Honestly it was confusng at first. The forms didnt make sense")], turns)
    assert row(r)["method"] == "fuzzy"
    assert sliced(r, turns) == [
        (1, "Honestly it was confusing at first. The forms didn't make sense")
    ]


def test_fuzzy_match_below_min_score_gives_the_best_score(turns):
    text = "Honestly it was confusng at first. The forms didnt make sence"
    loose = row(locate([ex(text)], turns, min_score=80))
    strict = locate([ex(text)], turns, min_score=99.5)
    t = row(strict)
    assert not t["located"] and t["method"] is None
    assert t["reason"].startswith("text not found, best score ")
    best = float(t["reason"].rsplit(" ", 1)[1])
    assert best == pytest.approx(loose["score"], abs=0.05)
    assert t["score"] == pytest.approx(loose["score"])
    assert strict.spans.empty and t["n_turns"] == 0
    assert pd.isna(t["first_turn"])


def test_unrelated_text_is_not_located(turns):
    r = locate([ex("Quarterly tax filings require a notary and two witnesses.")], turns)
    t = row(r)
    assert not t["located"]
    assert t["reason"].startswith("text not found, best score")
    assert t["score"] < DEFAULT_MIN_SCORE


def test_excerpt_longer_than_the_interview_is_not_located():
    turns = make_turns({"a": [("Sam", "participant", "Short.")]})
    r = locate([ex("Short. And then a great deal more that was never said.", "a")], turns)
    t = row(r)
    assert not t["located"] and t["score"] == 0.0
    assert t["reason"] == "text not found, best score 0.0"


# ---------------------------------------------------------------------------- interviews


@pytest.mark.parametrize(
    "name, expected",
    [
        ("p01", "p01"),
        ("P01", "p01"),
        ("p-01", "p01"),
        ("p_01.odt", "p01"),
        ("P01.docx", "p01"),
        (" p 01 ", "p01"),
        ("P01_Session Notes", "p01"),  # the source file's stem
        ("p01-session-notes.docx", "p01"),
        ("Kim-Interview", "p02"),  # a Windows path's stem
        ("kim_interview.txt", "p02"),
        ("nobody", None),
    ],
)
def test_match_interviews_leniently(turns, name, expected):
    assert match_interviews([name], turns) == {name: expected}


def test_match_interviews_unique_prefix_only():
    turns = make_turns(
        {
            "P2_GMT20211119": [("A", "participant", "One.")],
            "P3_GMT20211120": [("A", "participant", "Two.")],
            "P3_GMT20211121": [("A", "participant", "Three.")],
        }
    )
    got = match_interviews(["P2", "p2.odt", "P3", "P"], turns)
    assert got == {"P2": "P2_GMT20211119", "p2.odt": "P2_GMT20211119", "P3": None, "P": None}


def test_unknown_interview_reason_names_the_closest(turns):
    names = ["p01-extra", "p0l", "zzz"]
    r = locate([ex("The price is too high", name) for name in names], turns)
    a, b, c = row(r, 0), row(r, 1), row(r, 2)
    assert not a["located"] and a["interview_id"] is None and a["method"] is None
    assert a["reason"] == "interview not found: 'p01-extra' (closest: p01)"
    assert b["reason"].startswith("interview not found: 'p0l' (closest: ")
    assert {"p01", "p02"} == set(b["reason"].split("closest: ")[1].rstrip(")").split(", "))
    assert c["reason"] == "interview not found: 'zzz'"
    assert r.summary()["not_located"] == {f"interview not found: {n!r}": 1 for n in names}


def test_interview_map_overrides_the_lenient_rules(turns):
    excerpts = [
        ex("The price is too high for small teams", "Second interview"),
        ex("The price is too high for small teams", "p01"),  # p01 mapped onto p02
    ]
    without = locate(excerpts, turns)
    assert not row(without, 0)["located"]
    assert row(without, 1)["reason"].startswith("text not found")
    r = locate(excerpts, turns, interview_map={"Second interview": "p02", "p01": "p02"})
    for n in (0, 1):
        t = row(r, n)
        assert t["located"] and t["interview_id"] == "p02" and t["method"] == "exact"
        assert sliced(r, turns, n) == [(1, "The price is too high for small teams")]
    assert r.table["interview"].tolist() == ["Second interview", "p01"]
    # A map onto an id the turns lack: not found.
    bad = locate(excerpts[:1], turns, interview_map={"Second interview": "p09"})
    assert row(bad)["reason"].startswith("interview not found")


# ---------------------------------------------------------------------------- repeats

REPEATS = [
    ("Interviewer", "interviewer", "Did that work for you?"),
    ("Sam", "participant", "Yes, okay."),
    ("Interviewer", "interviewer", "And the second screen?"),
    ("Sam", "participant", "Yes, okay. It loaded slowly."),
    ("Interviewer", "interviewer", "Anything else?"),
    ("Sam", "participant", "Yes, okay."),
    ("Interviewer", "interviewer", "Thanks."),
]


@pytest.fixture
def repeats() -> pd.DataFrame:
    return make_turns({"r": REPEATS})


def first_turns(result) -> list:
    return [None if pd.isna(v) else int(v) for v in result.table["first_turn"]]


def test_repeated_short_excerpt_goes_in_document_order(repeats):
    r = locate([ex("Yes, okay.", "r")] * 3, repeats)
    assert first_turns(r) == [1, 3, 5]
    assert r.table["occurrences"].tolist() == [3, 3, 3]
    for n in range(3):
        ((ti, got),) = sliced(r, repeats, n)
        assert got == "Yes, okay"


def test_repeated_excerpt_goes_at_or_after_the_previous_excerpt(repeats):
    r = locate([ex("And the second screen?", "r"), ex("Yes okay", "r")], repeats)
    assert first_turns(r) == [2, 3]
    r = locate([ex("Anything else?", "r"), ex("yes, OKAY", "r")], repeats)
    assert first_turns(r) == [4, 5]
    # Before a later unique excerpt: the first occurrence.
    r = locate([ex("Yes okay", "r"), ex("Anything else?", "r")], repeats)
    assert first_turns(r) == [1, 4]
    # Between two unique excerpts: the occurrence between them.
    r = locate(
        [ex("And the second screen?", "r"), ex("Yes okay", "r"), ex("Anything else", "r")],
        repeats,
    )
    assert first_turns(r) == [2, 3, 4]


@pytest.mark.parametrize("start, expected", [(3, 1), (50, 3), (85, 5)])
def test_unconfirmed_offsets_choose_the_nearest_occurrence(repeats, start, expected):
    # Offsets from another tool's text (they do not slice interview_text to the excerpt):
    # only a relative position, here out of 100 characters.
    excerpts = [
        ex("Yes okay", "r", start=start, end=start + 9),
        ex("something never said in it", "r", start=0, end=100),
    ]
    r = locate(excerpts, repeats)
    assert first_turns(r)[0] == expected
    assert row(r)["method"] == "exact"


# ---------------------------------------------------------------------------- offsets


def test_interview_text_joins_turns_in_order():
    turns = make_turns({"a": [("A", "x", "one"), ("B", "y", "two")], "b": [("A", "x", "three")]})
    shuffled = turns.iloc[[2, 1, 0]]
    assert interview_text(shuffled) == {"a": "one" + TURN_SEPARATOR + "two", "b": "three"}
    assert interview_text(turns.iloc[:0]) == {}


def test_offsets_into_interview_text_are_placed_there(repeats):
    full = interview_text(repeats)["r"]
    s, e = full.index("second screen"), full.index("slowly") + len("slowly")
    r = locate([ex(full[s:e], "r", start=s, end=e)], repeats)
    t = row(r)
    assert t["method"] == "offsets" and t["score"] == 100.0 and t["occurrences"] == 1
    assert (t["first_turn"], t["last_turn"], t["n_turns"]) == (2, 3, 2)
    assert sliced(r, repeats) == [(2, "second screen?"), (3, "Yes, okay. It loaded slowly")]


def test_offsets_choose_among_repeats(repeats):
    full = interview_text(repeats)["r"]
    s = full.rindex("Yes, okay.")
    r = locate([ex("Yes, okay.", "r", start=s, end=s + 10)], repeats)
    t = row(r)
    assert t["method"] == "offsets" and t["first_turn"] == 5
    assert sliced(r, repeats) == [(5, "Yes, okay.")]


def test_offsets_that_do_not_slice_the_text_fall_back_to_words(repeats):
    full = interview_text(repeats)["r"]
    s, e = full.index("second screen"), full.index("slowly") + len("slowly")
    r = locate([ex(full[s:e], "r", start=s + 1, end=e + 1)], repeats)
    t = row(r)
    assert t["method"] == "exact"
    assert sliced(r, repeats) == [(2, "second screen"), (3, "Yes, okay. It loaded slowly")]


def coded_turns() -> pd.DataFrame:
    turns = make_turns(
        {
            "b": [
                ("Interviewer", "interviewer", "What stops you from buying?"),
                ("Ana", "participant", "Money, mostly. And time."),
                ("Interviewer", "interviewer", "Anything else?"),
                ("Ana", "participant", "Trust in the vendor."),
            ],
            "a": [
                ("Interviewer", "interviewer", "Start wherever you like."),
                ("Lee", "participant", "I used the old tool for years."),
            ],
        }
    )
    turns["codes"] = [None, "cost; time", "", ["trust", None, "trust"], np.nan, "Habit"]
    return turns


def test_excerpts_from_turn_codes():
    turns = coded_turns()
    got = excerpts_from_turn_codes(turns)
    assert [(e.interview, e.codes, e.text) for e in got] == [
        ("a", ("Habit",), "I used the old tool for years."),
        ("b", ("cost", "time"), "Money, mostly. And time."),
        ("b", ("trust",), "Trust in the vendor."),
    ]
    texts = interview_text(turns)
    for e in got:
        assert texts[e.interview][e.start : e.end] == e.text


def test_excerpts_from_turn_codes_with_codebook_separator_and_errors():
    turns = coded_turns()
    turns["tags"] = [None, "cost|time", None, "Unknown", None, None]
    book = Codebook(
        (Code("Barriers"), Code("cost", parent="Barriers"), Code("time", parent="Barriers"))
    )
    got = excerpts_from_turn_codes(turns, "tags", sep="|", codebook=book)
    assert [e.codes for e in got] == [("Barriers > cost", "Barriers > time"), ("Unknown",)]
    with pytest.raises(KeyError, match="no 'nope' column"):
        excerpts_from_turn_codes(turns, "nope")
    # A coded turn without text gives no excerpt.
    turns.loc[1, "text"] = "   "
    assert [e.text for e in excerpts_from_turn_codes(turns)] == [
        "I used the old tool for years.",
        "Trust in the vendor.",
    ]


def test_turn_codes_round_trip_through_locate():
    turns = coded_turns()
    excerpts = excerpts_from_turn_codes(turns)
    r = locate(excerpts, turns)
    assert r.table["method"].tolist() == ["offsets"] * 3
    assert r.table["codes"].tolist() == [("Habit",), ("cost", "time"), ("trust",)]
    expected = [("a", 1), ("b", 1), ("b", 3)]
    got = list(zip(r.spans["interview_id"], r.spans["turn_index"]))
    assert got == expected
    for n, (iid, ti) in enumerate(expected):
        text = turn_text(turns, iid, ti)
        sp = r.spans.iloc[n]
        assert (sp["start"], sp["end"]) == (0, len(text))
    assert r.summary()["by_method"] == {"offsets": 3}


# ---------------------------------------------------------------------------- passages


def make_passages(rows) -> pd.DataFrame:
    """[(passage_id, interview_id, turn_index, text)], passage_index counted per turn."""
    out, count = [], {}
    for pid, iid, ti, text in rows:
        k = count.get((iid, ti), 0)
        count[(iid, ti)] = k + 1
        out.append(
            {
                "passage_id": pid,
                "interview_id": iid,
                "turn_index": ti,
                "passage_index": k,
                "text": text,
            }
        )
    return pd.DataFrame(out)


@pytest.fixture
def passage_case():
    turns = make_turns(
        {
            "a": [
                (
                    "Sam",
                    "participant",
                    "It was fine.  [laughs] It was fine. Then the   login broke.",
                ),
                ("Kim", "participant", "Short answer."),
            ]
        }
    )
    passages = make_passages(
        [
            ("a-0-0", "a", 0, "It was fine."),
            ("a-0-1", "a", 0, "It was fine."),  # the same words again: the second place
            ("a-0-2", "a", 0, "Then the login broke."),
            ("a-1-0", "a", 1, "Short answer."),
            ("a-1-1", "a", 1, "Not in the turn at all."),
        ]
    )
    return turns, passages


def test_passage_spans_slice_the_passage_words(passage_case):
    turns, passages = passage_case
    ps = passage_spans(passages.iloc[::-1], turns)  # any row order
    ps = ps.set_index("passage_id")
    text0 = turn_text(turns, "a", 0)
    assert text0[int(ps.loc["a-0-0", "start"]) : int(ps.loc["a-0-0", "end"])] == "It was fine"
    assert ps.loc["a-0-1", "start"] > ps.loc["a-0-0", "end"]
    assert text0[int(ps.loc["a-0-1", "start"]) : int(ps.loc["a-0-1", "end"])] == "It was fine"
    got = text0[int(ps.loc["a-0-2", "start"]) : int(ps.loc["a-0-2", "end"])]
    assert got == "Then the   login broke"
    text1 = turn_text(turns, "a", 1)
    assert text1[int(ps.loc["a-1-0", "start"]) : int(ps.loc["a-1-0", "end"])] == "Short answer"
    assert math.isnan(ps.loc["a-1-1", "start"]) and math.isnan(ps.loc["a-1-1", "end"])
    for pid, iid, ti in zip(
        passages["passage_id"], passages["interview_id"], passages["turn_index"]
    ):
        assert (ps.loc[pid, "interview_id"], ps.loc[pid, "turn_index"]) == (iid, ti)


def test_overlaps_and_passage_ids(passage_case):
    turns, passages = passage_case
    excerpts = [
        ex("fine. Then the login", "a", codes=("X",)),
        ex("It was fine. Then the login broke. Short answer.", "a", codes=("Y",)),
        ex("Nothing like this was said", "a"),
    ]
    r = locate(excerpts, turns, passages)
    assert r.table["passage_ids"].tolist() == [
        ["a-0-1", "a-0-2"],
        ["a-0-1", "a-0-2", "a-1-0"],
        [],
    ]
    ov = r.overlaps
    assert list(ov.columns) == [
        "excerpt",
        "passage_id",
        "interview_id",
        "turn_index",
        "chars",
        "passage_share",
        "excerpt_share",
    ]
    ps = passage_spans(passages, turns).set_index("passage_id")
    located = (r.spans["end"] - r.spans["start"]).groupby(r.spans["excerpt"]).sum()
    for o in ov.itertuples():
        sp = r.spans[(r.spans["excerpt"] == o.excerpt) & (r.spans["turn_index"] == o.turn_index)]
        (s, e) = int(sp["start"].iloc[0]), int(sp["end"].iloc[0])
        pstart, pend = ps.loc[o.passage_id, "start"], ps.loc[o.passage_id, "end"]
        chars = min(e, pend) - max(s, pstart)
        assert o.chars == chars > 0
        assert o.passage_share == pytest.approx(chars / (pend - pstart))
        assert o.excerpt_share == pytest.approx(chars / located[o.excerpt])
        assert 0 < o.passage_share <= 1 and 0 < o.excerpt_share <= 1
    # The first excerpt: "fine" of the second "It was fine." (4 of 11 characters) and
    # "Then the   login" of "Then the   login broke" (16 of 22).
    first = ov[ov["excerpt"] == 0].set_index("passage_id")
    assert first.loc["a-0-1", "chars"] == 4
    assert first.loc["a-0-1", "passage_share"] == pytest.approx(4 / 11)
    assert first.loc["a-0-2", "passage_share"] == pytest.approx(16 / 22)
    # The second covers all three passages it meets.
    second = ov[ov["excerpt"] == 1]
    assert second["passage_share"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert second["excerpt_share"].sum() == pytest.approx((11 + 22 + 12) / located[1])
    s = r.summary()
    assert s["with_passages"] == 2 and s["located"] == 2 and s["excerpts"] == 3


def test_no_passages_gives_no_overlaps(passage_case):
    turns, _ = passage_case
    r = locate([ex("It was fine", "a")], turns)
    assert r.overlaps.empty and r.table["passage_ids"].tolist() == [[]]
    assert "passage_share" in r.overlaps.columns


# ---------------------------------------------------------------------------- summary, edges


def test_summary_counts(turns):
    excerpts = [
        ex("The forms didn't make sense"),
        ex("INTERVIEWER: What would have helped?\nSAM: A short checklist"),
        ex("Honestly it was confusng at first. The forms didnt make sence"),
        ex("The price is too high", "p02"),
        ex("Completely unrelated words about gardening and tomatoes"),
        ex("um, uh, hmm..."),
        ex("x", "nobody"),
    ]
    r = locate(excerpts, turns)
    s = r.summary()
    assert s["excerpts"] == 7 and s["located"] == 4
    assert s["share"] == round(4 / 7, 4)
    assert s["by_method"] == {"exact": 2, "exact-unlabelled": 1, "fuzzy": 1}
    assert s["not_located"] == {
        "text not found": 1,
        "text not found: nothing but fillers and punctuation": 1,
        "interview not found: 'nobody'": 1,
    }
    assert s["with_passages"] == 0
    assert r.table["excerpt"].tolist() == list(range(7))
    assert r.table["first_turn"].dtype == "Int64" and r.table["last_turn"].dtype == "Int64"
    assert r.excerpts == excerpts


@pytest.mark.parametrize("text", ["um uh", "Um... uh, hmm!", "[laughs]", "-- ... !!", "   "])
def test_excerpt_of_only_fillers_is_not_located(turns, text):
    r = locate([ex(text)], turns)
    t = row(r)
    assert not t["located"] and t["method"] is None
    assert t["reason"] == "text not found: nothing but fillers and punctuation"


def test_interview_without_words():
    turns = make_turns({"a": [("Sam", "participant", "[laughs]"), ("Kim", "participant", "")]})
    r = locate([ex("hello there", "a")], turns)
    assert row(r)["reason"] == "text not found: the interview has no words"


def test_empty_inputs(turns):
    r = locate([], turns)
    assert r.table.empty and list(r.table.columns)[:3] == ["excerpt", "interview", "interview_id"]
    assert r.spans.empty and r.overlaps.empty
    assert r.n_located == 0 and r.share_located == 0.0
    assert r.summary() == {
        "excerpts": 0,
        "located": 0,
        "share": 0.0,
        "by_method": {},
        "not_located": {},
        "with_passages": 0,
    }
    no_turns = turns.iloc[:0]
    r = locate([ex("The forms didn't make sense")], no_turns)
    assert row(r)["reason"] == "interview not found: 'p01'"
    empty_passages = make_passages([]).reindex(
        columns=["passage_id", "interview_id", "turn_index", "passage_index", "text"]
    )
    r = locate([ex("The forms didn't make sense")], turns, empty_passages)
    assert row(r)["located"] and r.overlaps.empty


def test_locate_is_deterministic_and_ignores_turn_order(turns):
    excerpts = [
        ex("The forms didn't make sense"),
        ex("INTERVIEWER: What would have helped?\nSAM: A short checklist"),
        ex("Honestly it was confusng at first. The forms didnt make sence"),
    ]
    a = locate(excerpts, turns)
    b = locate(excerpts, turns.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.spans, b.spans)
