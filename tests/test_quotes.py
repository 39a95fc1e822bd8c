"""Quotes: whole sentences within the word limits, clean verbatim, the exact words kept."""

import re

import pandas as pd
import pytest

from pipeline.core.config import ReportConfig
from pipeline.report.quotes import QuoteMaker
from pipeline.report.sentences import continues_sentence, merge_continuations

LONG = (
    "When we started the project we had no budget for infrastructure, no one to run the "
    "servers at night, no monitoring of any kind, no plan for what would happen when the "
    "only maintainer went on holiday, and a growing list of companies that depended on the "
    "service every single day without ever paying for it or even saying thank you."
)


def split(text: str) -> list[tuple[int, int]]:
    """A small stand-in for the spaCy splitter: a break after every . ! ? or …, then the
    same merging as the sentences table."""
    spans, start = [], 0
    for m in re.finditer(r"(?<=[.!?…])\s+", text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return merge_continuations(text, spans)


def maker(texts: dict[str, str], **config) -> QuoteMaker:
    rows = [
        {
            "passage_id": pid,
            "text": text,
            "interview_id": pid.split("#")[0],
            "speaker": "Ana",
            "source_file": "ana.md",
            "source_line": 12,
            "source_page": None,
            "start": None,
        }
        for pid, text in texts.items()
    ]
    return QuoteMaker(
        pd.DataFrame(rows), {pid: "past" for pid in texts}, ReportConfig(**config), split=split
    )


def starts_a_sentence(text: str) -> bool:
    return bool(re.match(r"[A-Z0-9\"“]", text))


def ends_a_sentence(text: str) -> bool:
    return bool(re.search(r"[.!?…][\"”]?$", text))


def words(text: str) -> int:
    return len(text.split())


# -- sentences ---------------------------------------------------------------------------------


def test_pieces_that_continue_a_sentence_are_joined():
    text = "Well, I think that… and it depends. The second one… That is whole."
    pieces = ["Well, I think that…", "and it depends.", "The second one…", "That is whole."]
    spans = [(text.index(p), text.index(p) + len(p)) for p in pieces]
    merged = merge_continuations(text, spans)
    assert [text[a:b] for a, b in merged] == [
        "Well, I think that… and it depends.",
        "The second one…",
        "That is whole.",
    ]


def test_what_continues_a_sentence():
    assert continues_sentence(", but we have had issues.")
    assert continues_sentence("and then it broke.")
    assert continues_sentence("… and then it broke.")
    assert continues_sentence("it broke.")
    assert not continues_sentence("It broke.")
    assert not continues_sentence("2014 was the year.")
    assert not continues_sentence("“Stop,” she said.")
    assert not continues_sentence("i think so.")  # the pronoun, lowercase


def test_an_all_lowercase_text_is_not_merged_into_one_sentence():
    text = "we tried. it failed. we left."
    spans = [(0, 9), (10, 20), (21, 29)]
    assert [text[a:b] for a, b in spans] == ["we tried.", "it failed.", "we left."]
    assert merge_continuations(text, spans) == spans


# -- whole sentences within [min, max] words ---------------------------------------------------


def test_a_passage_within_the_limits_is_quoted_whole():
    text = "We had no budget for servers. So I paid for them myself for two years."
    q = maker({"a#1.0": text})("a#1.0")
    assert q.text == text
    assert q.verbatim == text


def test_a_short_anchor_takes_in_the_next_sentence():
    text = "Pick a niche. Clients remember the person who solved their exact problem. Then grow."
    q = maker({"a#1.0": text}).excerpt("a#1.0", "Pick a niche.")
    assert q.text == "Pick a niche. Clients remember the person who solved their exact problem."
    assert words(q.text) >= 8


def test_a_short_last_sentence_takes_in_the_one_before():
    text = "Referrals brought in most of my clients in the first year. They still do."
    q = maker({"a#1.0": text}).excerpt("a#1.0", "They still do.")
    assert q.text == text
    assert "They still do." in q.text


def test_an_anchor_that_starts_mid_sentence_is_quoted_from_the_sentence_start():
    text = "We tried a lot of things… and none of them worked for us. Then we stopped trying."
    q = maker({"a#1.0": text}).excerpt("a#1.0", "and none of them worked for us.")
    assert q.text.startswith("We tried a lot of things…")
    assert "and none of them worked for us." in q.text
    assert starts_a_sentence(q.text) and ends_a_sentence(q.text)


def test_too_many_sentences_stop_at_the_maximum_on_a_sentence_end():
    sentences = [f"Sentence number {n} has exactly seven words here." for n in range(12)]
    q = maker({"a#1.0": " ".join(sentences)})("a#1.0")
    assert words(q.text) <= 60
    assert q.text == " ".join(sentences[:7])  # 7 x 8 words = 56; one more would be 64


def test_a_sentence_longer_than_the_maximum_is_cut_at_a_clause_boundary():
    q = maker({"a#1.0": LONG + " Short one."}).excerpt("a#1.0", LONG)
    assert words(q.text) <= 60
    assert q.text.endswith("…") and not q.text.endswith(",…")
    assert q.text.startswith("When we started")
    assert LONG.startswith(q.verbatim)  # the exact words shown, and only those
    assert q.verbatim.endswith(",")  # cut after a comma, not mid-clause
    assert q.text[:-1] == q.verbatim[:-1]


def test_the_word_limits_come_from_the_config():
    text = "Pick a niche. Clients remember the person who solved their exact problem."
    q = maker({"a#1.0": text}, quote_words=(2, 6)).excerpt("a#1.0", "Pick a niche.")
    assert q.text == "Pick a niche."
    q = maker({"a#1.0": LONG}, quote_words=(3, 20))("a#1.0")
    assert words(q.text) <= 20 and q.text.endswith("…")


def test_a_passage_that_starts_mid_sentence_is_marked():
    text = ", but we have had issues with the mirror for years. Nobody fixed it."
    q = maker({"a#1.0": text})("a#1.0")
    assert q.text == "…but we have had issues with the mirror for years. Nobody fixed it."
    assert q.verbatim == text


def test_a_passage_is_quoted_from_its_first_sentence_start():
    text = "and so on. We ran the whole thing on two donated servers for a decade."
    q = maker({"a#1.0": text})("a#1.0")
    assert q.text == "We ran the whole thing on two donated servers for a decade."
    assert starts_a_sentence(q.text)


def test_call_with_text_shows_those_sentences_only():
    text = "Pick a niche. Clients remember the person who solved their exact problem."
    q = maker({"a#1.0": text})("a#1.0", "Pick a niche.")
    assert q.text == "Pick a niche."  # what the caller chose, not extended
    assert q.passage_id == "a#1.0" and q.section == "past"


def test_an_anchor_from_elsewhere_is_shown_as_given():
    m = maker({"a#1.0": "We had no budget for servers at all."})
    q = m.excerpt("a#1.0", "Um, words of another passage, you know.")
    assert q.text == "Words of another passage."
    assert q.verbatim == "Um, words of another passage, you know."


# -- clean and strict verbatim ------------------------------------------------------------------


def test_clean_verbatim_by_default_with_the_exact_words_kept():
    text = "Um, so I, I, I paid for the, the servers myself, you know? Nobody else would."
    q = maker({"a#1.0": text})("a#1.0")
    assert q.text == "So I paid for the servers myself. Nobody else would."
    assert q.verbatim == text


def test_strict_verbatim_shows_the_exact_words():
    text = "Um, so I, I, I paid for the, the servers myself, you know? Nobody else would."
    q = maker({"a#1.0": text}, verbatim="strict")("a#1.0")
    assert q.text == text == q.verbatim


def test_the_word_limits_count_the_words_shown():
    # 9 words as transcribed, 5 once clean: short enough to take in the next sentence.
    text = "Um, I, I, I think, uh, it works. And it kept working for years."
    q = maker({"a#1.0": text}).excerpt("a#1.0", "Um, I, I, I think, uh, it works.")
    assert q.text == "I think it works. And it kept working for years."


def test_config_refuses_bad_settings():
    with pytest.raises(ValueError, match="quote_words"):
        ReportConfig(quote_words=(10, 5))
    with pytest.raises(ValueError):
        ReportConfig(verbatim="loose")
    assert ReportConfig().quote_words == (8, 60) and ReportConfig().verbatim == "clean"


# -- where ---------------------------------------------------------------------------------------


def _where(line, page, start) -> str:
    frame = pd.DataFrame(
        [
            {
                "passage_id": "a#1.0",
                "text": "We had no budget for servers at all.",
                "interview_id": "a",
                "speaker": "Ana",
                "source_file": "notes.pdf",
                "source_line": line,
                "source_page": page,
                "start": start,
            }
        ]
    )
    return QuoteMaker(frame, {}, split=split)("a#1.0").where


def test_where_says_page_and_line_when_both_are_known():
    assert _where(27, 3, None) == "notes.pdf, page 3, line 27"
    assert _where(None, 3, None) == "notes.pdf, page 3"
    assert _where(27, None, None) == "notes.pdf, line 27"
    assert _where(27, 3, 65.0) == "notes.pdf at 00:01:05"


# -- the real splitter ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_default_splitter_gives_whole_sentences():
    frame = pd.DataFrame(
        [
            {
                "passage_id": "a#1.0",
                "text": "We paid for it ourselves… and nobody noticed for years. Then it broke.",
                "interview_id": "a",
                "speaker": "Ana",
                "source_file": "a.md",
                "source_line": 3,
                "source_page": None,
                "start": None,
            }
        ]
    )
    m = QuoteMaker(frame, {})
    texts = [frame.at[0, "text"][a:b] for a, b in m.sentences("a#1.0")]
    assert texts[0] == "We paid for it ourselves… and nobody noticed for years."
    assert all(not continues_sentence(t) for t in texts)
    q = m.excerpt("a#1.0", "Then it broke.")
    assert q.text.endswith("Then it broke.") and starts_a_sentence(q.text)
