"""Segmentation: each evidence source alone, the joint decoding, the metrics, bad input."""

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from pipeline import embed, passages, segment
from pipeline.core.catalog import SEGMENTS, load, read_table
from pipeline.core.config import Config, SegmentConfig
from pipeline.evaluate.segments import evaluate_segments, pk, segment_ids, window_diff
from pipeline.ingest import run as ingest
from pipeline.segment.guide import GuideError, load_guide

GUIDE = load_guide()
S = len(GUIDE.sections)


def evidence(T, **sources):
    empty = {k: np.zeros((T, S)) for k in ("heading", "question", "cues", "answer")}
    empty.update({k: np.asarray(v, dtype=float) for k, v in sources.items()})
    return segment.Evidence(notes=[[] for _ in range(T)], **empty)


def one_hot(indices):
    out = np.zeros((len(indices), S))
    for t, i in enumerate(indices):
        if i is not None:
            out[t, i] = 1
    return out


# --- each evidence source on its own --------------------------------------


def test_headings_alone_decide_sections():
    path, conf, _ = segment.decode(evidence(4, heading=one_hot([0, 1, 1, 2])), SegmentConfig(), S)
    assert path == [0, 1, 1, 2]


@pytest.mark.parametrize(
    "heading, expected",
    [
        ("## Background", "past"),
        ("Now", "present"),
        ("Where next? Plans", "future"),
        ("Past:", "past"),
        ("Misc", None),
    ],
)
def test_heading_matching_by_alias(heading, expected):
    found = segment.heading_section(heading.strip("#: "), GUIDE)
    assert (GUIDE.names[found] if found is not None else None) == expected


def test_questions_alone_decide_sections():
    q = np.array([[0, -0.3, -0.3], [0, -0.3, -0.3], [-0.3, 0, -0.3], [-0.3, -0.3, 0]])
    path, _, _ = segment.decode(evidence(4, question=q), SegmentConfig(), S)
    assert path == [0, 0, 1, 2]


@pytest.mark.slow
def test_guide_questions_match_paraphrases():
    from pipeline.embed import SentenceTransformerEmbedder

    encoder = SentenceTransformerEmbedder()
    gv = segment.GuideVectors(GUIDE, encoder.encode)
    sims = gv.question_similarity(
        encoder.encode(
            [
                "So how did you end up in data science in the first place?",
                "And where do most of your clients come from these days?",
                "Where do you think all of this is heading for you?",
            ]
        )
    )
    assert [GUIDE.names[i] for i in sims.argmax(axis=1)] == ["past", "present", "future"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("When I started, I applied to everything and worked for almost nothing.", "past"),
        ("These days I usually work ten hours per client and I have three clients.", "present"),
        ("Next year I will build a course, and eventually I plan to start an agency.", "future"),
    ],
)
def test_answer_cues_alone(text, expected):
    from pipeline.core import nlp
    from pipeline.passages.build import tense_counts

    counts = segment.cue_counts(*tense_counts(nlp.english()(text)), text)
    assert max(counts, key=counts.get) == expected


@pytest.mark.slow
def test_passages_carry_the_tense_of_their_verbs(embedded):
    """The segment stage reads the answers' tense from the passages (one parse per text)."""
    passages = load("passages", embedded)
    answers = passages[passages.role == "interviewee"]
    assert (answers.past_verbs > 0).any() and (answers.present_verbs > 0).any()
    said = answers[answers.text.str.contains(r"\bI (?:studied|worked|started)\b", regex=True)]
    assert len(said) and (said.past_verbs > 0).all()


def test_answer_meaning_alone():
    # Meaning alone is weak evidence: one answer does not outweigh the order prior,
    # two consecutive answers that clearly lean one way do.
    a = np.array([[0, -0.3, -0.3]] * 2 + [[-0.3, 0, -0.3]] * 2 + [[-0.3, -0.3, 0]] * 2)
    path, _, _ = segment.decode(evidence(6, answer=a), SegmentConfig(), S)
    assert path == [0, 0, 1, 1, 2, 2]


# --- joint decoding -------------------------------------------------------


def test_order_prior_fixes_wrong_per_turn_decisions():
    # A call that moves past -> present -> future, but two answers look like
    # another section on their own (a present-tense aside in the past part, a
    # future-ish remark in the present part). Per-turn argmax gets them wrong;
    # decoding the conversation as a whole does not.
    cues = np.array(
        [
            [1.0, 0, 0],
            [1.0, 0, 0],
            [0, 0.55, 0],
            [1.0, 0, 0],  # aside at t=2
            [0, 1.0, 0],
            [0, 0, 0.55],
            [0, 1.0, 0],
            [0, 1.0, 0],  # aside at t=5
            [0, 0, 1.0],
            [0, 0, 1.0],
        ]
    )
    cfg = SegmentConfig()
    path, confidence, alone = segment.decode(evidence(10, cues=cues * 2), cfg, S)
    assert list(alone[[2, 5]]) == [1, 2]  # wrong on their own
    assert path == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]  # right together
    assert confidence.min() > 0.3


def test_going_back_is_possible_when_the_evidence_is_strong():
    h = one_hot([0, 1, 1, 0, 0, 1])
    path, _, _ = segment.decode(evidence(6, heading=h * 3), SegmentConfig(), S)
    assert path == [0, 1, 1, 0, 0, 1]


def test_viterbi_and_posteriors_by_hand():
    log_e = np.log(np.array([[0.9, 0.1], [0.4, 0.6]]))
    trans = np.log(np.array([[0.5, 0.5], [0.5, 0.5]]))
    start = np.log(np.array([0.5, 0.5]))
    assert segment.viterbi(log_e, trans, start) == [0, 1]
    post = segment.posteriors(log_e, trans, start)
    np.testing.assert_allclose(post, [[0.9, 0.1], [0.4, 0.6]], atol=1e-9)  # independent steps


# --- metrics against hand-computed values ---------------------------------


def test_segment_ids():
    assert segment_ids(list("aabba")) == [0, 0, 1, 1, 2]


def test_pk_and_window_diff_by_hand():
    ref = list("aaabbb")
    hyp = list("aabbbb")
    # k = round(6 / 2 segments / 2) = 2; windows (0,2) (1,3) (2,4) (3,5)
    # ref same segment: T F F T ; hyp: F F T T -> windows 0 and 2 disagree
    assert pk(ref, hyp) == (0.5, 4)
    # boundaries inside each window: ref 0 1 1 0 ; hyp 1 1 0 0 -> windows 0 and 2 disagree
    assert window_diff(ref, hyp) == (0.5, 4)
    assert pk(ref, ref) == (0.0, 4)
    # a spurious extra boundary counts in WindowDiff even where Pk does not see it
    assert window_diff(list("aaaaaa"), list("aabbaa"), k=3)[0] == 1.0


# --- the sample notes against their gold file -----------------------------


@pytest.mark.slow
def test_sample_sections_beat_both_baselines(segmented, copy_of):
    # On a copy: the guide's questions are embedded through OUT/cache, which keeps them.
    result = evaluate_segments(
        copy_of(segmented), Config(), gold=ROOT / "data" / "gold" / "sections.csv"
    )
    ours = result["interview-insights"]
    assert result["located"] == result["rows"]
    assert ours["accuracy"] >= 0.85
    for baseline in ("position only", "question similarity only"):
        assert ours["accuracy"] > result[baseline]["accuracy"]
        assert ours["macro_f1"] > result[baseline]["macro_f1"]
        assert ours["window_diff"] < result[baseline]["window_diff"]


@pytest.mark.slow
def test_gold_turns_outside_the_conversation_are_left_out(segmented, copy_of, tmp_path):
    gold = pd.read_csv(ROOT / "data" / "gold" / "sections.csv")
    marked = pd.concat(
        [gold, pd.DataFrame([{"interview": "call-01-maria", "text": "x", "section": "-"}])]
    )
    marked.to_csv(tmp_path / "gold.csv", index=False)
    result = evaluate_segments(copy_of(segmented), Config(), gold=tmp_path / "gold.csv")
    assert result["outside_conversation"] == 1
    assert result["rows"] == result["located"] == len(gold)  # scored rows only


@pytest.mark.slow
def test_the_guide_used_and_its_fit_are_written(segmented):
    info = json.loads((segmented / "segments.json").read_text())
    assert info["guide_origin"] == "built-in"
    assert not info["fit"]["poor"], info["fit"]
    assert set(info["fit"]["share"]) == set(GUIDE.names)
    assert load_guide(segmented / "guide.yaml").names == GUIDE.names


@pytest.mark.slow
def test_every_turn_and_passage_has_a_section_with_evidence(segmented):
    table = read_table(SEGMENTS, segmented)
    turns = pd.read_parquet(segmented / "turns.parquet")
    assert (table.unit == "turn").sum() == len(turns)
    assert (table.unit == "passage").sum() == len(pd.read_parquet(segmented / "passages.parquet"))
    assert set(table.section) <= set(GUIDE.names)
    assert table.confidence.between(0, 1).all()
    assert (table.evidence.str.len() > 0).all()
    notes = table[(table.interview_id == "call-05-priya") & (table.unit == "turn")]
    assert (
        notes.evidence.str.contains("heading").mean() > 0.8
    )  # bullet notes: sections from headings


@pytest.mark.slow
def test_non_english_conversation_is_segmented_without_grammar_cues(segmented):
    table = read_table(SEGMENTS, segmented)
    french = table[(table.interview_id == "appel-11-camille") & (table.unit == "turn")]
    assert len(french) and french.evidence.str.contains("grammar cues off").all()


# --- guides ---------------------------------------------------------------


def write(tmp_path, text):
    path = tmp_path / "guide.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_custom_guide_with_any_sections(tmp_path):
    guide = load_guide(
        write(
            tmp_path,
            """
        name: product discovery
        sections:
          - name: background
            description: Who they are
            questions: [Tell me about your role]
          - name: problems
            description: Pain points
            questions: ["What is hard about this today?"]
          - name: wishes
            description: What they want
            questions: ["If you had a magic wand, what would you change?"]
    """,
        )
    )
    assert guide.names == ["background", "problems", "wishes"] and guide.sections[0].tense is None


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "sections:\n  - name: a\n    description: d\n    questions: nope\n",
            r"line 4: sections\[0\]\.questions: expected a list of strings",
        ),
        ("sections:\n  - name: a\n    questions: [q]\n", r"sections\[0\]\.description: missing"),
        (
            "sections:\n  - name: a\n    description: d\n    questions: [q]\n    tense: someday\n",
            r"line 5: sections\[0\]\.tense",
        ),
        ("sections: []\n", r"line 1: sections: expected a non-empty list"),
        ("name: x\n", r"sections: missing"),
        (
            (
                "sections:\n  - name: a\n    description: d\n    questions: [q]\n  - name: a\n    "
                "description: d\n    questions: [q]\n"
            ),
            "duplicate name",
        ),
        (
            "sections:\n  - name: a\n    descripton: d\n    questions: [q]\n",
            r"line 2: sections\[0\]\.descripton: unknown field",
        ),
        ("sections: [\n", "not valid YAML"),
    ],
)
def test_malformed_guides_name_field_and_line(tmp_path, text, message):
    with pytest.raises(GuideError, match=message):
        load_guide(write(tmp_path, text))


# --- bad input through the real stage -------------------------------------


@pytest.mark.slow
def test_awkward_conversations_and_a_one_section_guide(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "one-turn.txt").write_text(
        "Maria: I studied physics and then moved into freelance data science work.\n"
    )
    (raw / "all-present.md").write_text(
        "## Now\n- three clients at the moment, about ten hours a week each\n- gets clients "
        "through referrals these days\n"
    )
    (raw / "talk.txt").write_text(
        "Sam: How did you get into data science?\nMaria: I studied physics and did a bootcamp "
        "after my PhD.\nSam: How do you find clients now?\nMaria: Mostly referrals from earlier "
        "clients these days.\n"
    )
    out = tmp_path / "out"
    cfg = Config()
    ingest(out, cfg, raw_dir=raw)
    passages.run(out, cfg)
    embed.run(out, cfg)
    table = segment.run(out, cfg)
    turns = table[table.unit == "turn"]
    assert set(turns.interview_id) == {"one-turn", "all-present", "talk"}
    assert set(turns[turns.interview_id == "all-present"].section) == {"present"}
    single = load_guide(
        write(
            tmp_path,
            (
                "sections:\n  - name: everything\n    description: all\n    questions: [Tell me "
                "about it]\n"
            ),
        )
    )
    table = segment.run(out, cfg, guide=single)
    assert set(table.section) == {"everything"} and (table.confidence == 1.0).all()


def test_section_gold_file_needs_its_columns(tmp_path):
    from pipeline.evaluate.segments import read_gold_sections

    bad = tmp_path / "bad.csv"
    bad.write_text("interview,section\na,past\n")
    with pytest.raises(ValueError, match="needs columns interview, section and turn or text"):
        read_gold_sections(bad)
    good = tmp_path / "good.csv"
    good.write_text("Interview , Text,Section\n a , Hello there , past \n")
    assert read_gold_sections(good).to_dict("records") == [
        {"interview": "a", "text": "Hello there", "section": "past"}
    ]


# --- transitions, titles, follow-ups, the corpus's own profiles ----------------


@pytest.mark.parametrize(
    "text, moves",
    [
        ("Okay, let's move on to how the project is funded.", True),
        ("Switching gears a little: who pays for the servers?", True),
        ("I want to sidestep for a moment and ask about something else.", True),
        ("Last question: where do you see it going?", True),
        ("And why was that?", False),
        ("Could you say more about the servers?", False),
    ],
)
def test_announced_moves(text, moves):
    assert bool(segment.evidence.MOVE_MARKERS.search(text)) is moves


def test_an_announced_move_lets_the_order_prior_go():
    # Weak evidence for "present" from t=3 on: on its own the order prior keeps "past";
    # the interviewer announcing a move at t=3 lets the section change there.
    q = np.array([[0, -0.03, -0.3]] * 3 + [[-0.03, 0, -0.3]] * 3)
    still = segment.decode(evidence(6, question=q), SegmentConfig(), S)[0]
    ev = evidence(6, question=q)
    ev.moves = np.array([False, False, False, True, False, False])
    moved = segment.decode(ev, SegmentConfig(), S)[0]
    assert still == [0] * 6
    assert moved == [0, 0, 0, 1, 1, 1]


def test_a_heading_over_the_whole_conversation_is_a_title():
    from pipeline.segment.evidence import _title_headings

    conv = pd.DataFrame(
        {
            "role": ["note"] + ["interviewer", "interviewee"] * 5,
            "heading": ["License"] + ["BEGIN TRANSCRIPT"] * 10,
        }
    )
    assert _title_headings(conv) == {"BEGIN TRANSCRIPT"}
    conv["heading"] = ["License"] + ["Past"] * 4 + ["Now"] * 6
    assert _title_headings(conv) == set()


def test_corpus_profiles_score_turns_against_confident_turns():
    from pipeline.segment.evidence import TurnSimilarity, corpus_profiles

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=8), rng.normal(size=8)
    vectors = {("c", t): (a if t < 4 else b) + 0.05 * rng.normal(size=8) for t in range(8)}
    vectors = {k: v / np.linalg.norm(v) for k, v in vectors.items()}
    sims = TurnSimilarity({}, {}, {}, {}, vectors)
    assigned = pd.DataFrame(
        {
            "interview_id": ["c"] * 8,
            "turn_index": range(8),
            "section": ["past"] * 4 + ["present"] * 4,
            "confidence": [0.9] * 8,
        }
    )
    profiles = corpus_profiles(sims, assigned, S, GUIDE.names)
    assert [int(profiles[("c", t)][:2].argmax()) for t in range(8)] == [0] * 4 + [1] * 4
    # "future" had no confident turns: a neutral score, not evidence against it.
    row = profiles[("c", 0)]
    assert row[2] == pytest.approx(row[:2].mean())
