"""The report's parses: kept by text, read back unchanged, made the same in two processes."""

from __future__ import annotations

import pytest

from pipeline.core import nlp
from pipeline.report import parses

pytestmark = pytest.mark.slow  # the full spaCy pipeline

TEXTS = [
    "We raised $2 million from angels in Boston. Then we hired three engineers.",
    "Honestly, talk to your customers every week, and don't build what nobody asked for.",
    "Pricing was the hardest part… we changed it four times.",
    "We raised $2 million from angels in Boston. Then we hired three engineers.",
]


def signature(doc):
    return (
        doc.text,
        [(t.text, t.lemma_, t.tag_, t.pos_, t.dep_, t.head.i, t.ent_type_) for t in doc],
        [s.text for s in doc.sents],
        [c.text for c in doc.noun_chunks],
        [(e.text, e.label_) for e in doc.ents],
    )


def test_cached_parses_are_the_parses_and_only_new_texts_are_parsed(tmp_path, monkeypatch):
    fresh = [signature(d) for d in nlp.english_full().pipe(TEXTS)]
    parsed: list[str] = []
    parse_all = nlp.parse_all

    def spy(load, texts):
        parsed.extend(texts)
        return parse_all(load, texts)

    monkeypatch.setattr(nlp, "parse_all", spy)
    first = parses.full_parses(TEXTS, tmp_path)
    assert [signature(d) for d in first] == fresh
    assert parsed == TEXTS[:3]  # the repeated text once
    assert len(list((tmp_path / parses.FOLDER).glob("*.spacy"))) == 1

    parsed.clear()
    again = parses.full_parses(TEXTS, tmp_path)
    assert parsed == []
    assert [signature(d) for d in again] == fresh

    new = "Our first office was a garage in Leeds."
    parsed.clear()
    grown = parses.full_parses([new, *TEXTS], tmp_path)
    assert parsed == [new]
    assert [signature(d) for d in grown[1:]] == fresh
    assert ("Leeds", "GPE") in [(e.text, e.label_) for e in grown[0].ents]


def test_an_unreadable_cache_is_parsed_afresh(tmp_path, caplog):
    language = nlp.english_full()
    path = tmp_path / parses.FOLDER / f"{parses.recipe(language)}.spacy"
    path.parent.mkdir()
    path.write_bytes(b"not a DocBin")
    docs = parses.full_parses(TEXTS[:1], tmp_path)
    assert signature(docs[0]) == signature(language(TEXTS[0]))
    assert "unreadable" in caplog.text
    assert parses.full_parses(TEXTS[:1], tmp_path)[0].text == TEXTS[0]  # rewritten, readable


def test_parses_made_in_two_processes_are_the_ones_made_in_one(monkeypatch):
    texts = TEXTS * 3
    one = [signature(d) for d in nlp.parse_all(nlp.english_full, texts)]
    monkeypatch.setattr(nlp, "processes_for", lambda n: 2)
    assert nlp.equal_shares([len(t) for t in texts], 2) == [list(range(6)), list(range(6, 12))]
    two = [signature(d) for d in nlp.parse_all(nlp.english_full, texts)]
    assert two == one


def test_equal_shares_keep_order_and_balance_characters():
    assert nlp.equal_shares([10, 10, 10, 10], 2) == [[0, 1], [2, 3]]
    assert nlp.equal_shares([30, 1, 1, 1], 2) == [[0], [1, 2, 3]]
    assert nlp.equal_shares([5], 4) == [[0]]
    assert nlp.equal_shares([], 2) == []
