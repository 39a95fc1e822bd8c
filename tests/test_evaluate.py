"""Evaluation measures against hand-computed values, and on the sample notes."""

import math

import pandas as pd
import pytest
from conftest import ROOT

from pipeline.core.config import Config
from pipeline.evaluate.themes import (
    agreement,
    best_match_f1,
    content_npmi,
    evaluate_themes,
    locate_excerpts,
    npmi_coherence,
    outlier_share,
    read_gold_codes,
    topic_diversity,
)


def test_outlier_share_and_diversity():
    assert outlier_share([-1, 0, 0, 1]) == 0.25
    assert topic_diversity([["a", "b"], ["b", "c"]]) == 0.75


def test_npmi_by_hand():
    docs = [["a", "b"], ["a", "b"], ["a"], ["c"]]
    # p(a)=3/4, p(b)=1/2, p(a,b)=1/2 -> log(0.5/0.375)/-log(0.5)
    expected_ab = math.log(0.5 / 0.375) / -math.log(0.5)
    assert npmi_coherence([["a", "b"]], docs) == pytest.approx(expected_ab)
    assert npmi_coherence([["a", "c"]], docs) == -1.0  # never together
    assert npmi_coherence([["a b", "c"]], docs) == pytest.approx(
        (expected_ab - 1 - 1) / 3
    )  # bigrams split


def test_content_npmi_scores_every_system_on_one_reference():
    passages = pd.DataFrame(
        {
            "clean_text": ["the rate and the raise", "the rates rose", "and the clients"],
            "words": ["the rate and the raise", "the rates rose", "and the clients"],
            "lemmas": ["the rate and the raise", "the rate rise", "and the client"],
        }
    )
    expected = math.log((1 / 3) / (2 / 3 * 1 / 3)) / -math.log(
        1 / 3
    )  # "rate" in 2 passages, "raise" in 1, both in 1
    # Stop words are skipped (not scored as co-occurring everywhere) and word forms share a lemma.
    assert content_npmi([["the", "and", "rate", "raise"]], passages) == pytest.approx(expected)
    assert content_npmi([["rates", "raise"]], passages) == pytest.approx(expected)


def test_best_match_f1_and_agreement_by_hand():
    codes = ["x", "x", "y", "y"]
    themes = [0, 0, 0, 1]
    f1 = best_match_f1(codes, themes)
    assert f1 == {"x": pytest.approx(0.8), "y": pytest.approx(2 / 3, abs=1e-4)}
    perfect = agreement(codes, [5, 5, 7, 7])
    assert perfect["nmi"] == 1.0 and perfect["ari"] == 1.0 and perfect["mean_best_f1"] == 1.0


def test_excerpts_are_found_despite_filler_and_whitespace():
    passages = pd.DataFrame(
        {
            "passage_id": ["a#1.0", "a#1.1", "b#2.0"],
            "interview_id": ["a", "a", "b"],
            "text": [
                "Um, so I, I, I started on Upwork,  you know, with tiny jobs.",
                "Then referrals took over.",
                "I started on Upwork with tiny jobs.",
            ],
        }
    )
    gold = pd.DataFrame(
        {
            "interview": ["a", "a", "a"],
            "code": ["start", "refer", "none"],
            "text": [
                "I started on Upwork with tiny jobs.",
                "then  referrals took over",
                "completely unrelated words here",
            ],
        }
    )
    match = locate_excerpts(gold, passages)
    assert match.rows.passage_id.tolist()[:2] == ["a#1.0", "a#1.1"]
    assert len(match.not_found) == 1


def test_gold_file_needs_its_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("interview,text\na,hello\n")
    with pytest.raises(ValueError, match="missing column.*code"):
        read_gold_codes(bad)


@pytest.mark.slow
def test_sample_themes_beat_vanilla_bertopic_against_the_human_coding(themed):
    result = evaluate_themes(themed, Config(), gold=ROOT / "data" / "gold" / "codes.csv")
    ours, vanilla = (
        result["internal"]["interview-insights"],
        result["internal"]["vanilla BERTopic()"],
    )
    assert ours["outlier_share"] <= 0.10 and ours["outlier_share"] <= vanilla["outlier_share"]
    assert ours["topic_diversity"] >= 0.8
    # On each system's own words vanilla's stop words ("the", "and") win NPMI; on content
    # words ours are said together more.
    assert ours["npmi_content"] > vanilla["npmi_content"]
    gold = result["gold"]
    assert gold["located"] >= 0.9 * gold["excerpts"]
    assert gold["interview-insights"]["nmi"] > gold["vanilla BERTopic()"]["nmi"]
    assert gold["interview-insights"]["mean_best_f1"] > gold["vanilla BERTopic()"]["mean_best_f1"]
