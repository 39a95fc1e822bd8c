"""Each turn's passages are kept by the turn's content: spaCy reads a turn once."""

from __future__ import annotations

import concurrent.futures

import pandas as pd
import pytest

from pipeline.core import nlp
from pipeline.core.catalog import TURNS, read_table
from pipeline.core.config import Config, load_config
from pipeline.passages import build_passages

pytestmark = pytest.mark.slow  # spaCy


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """Every text spaCy is given from now on."""
    seen: list[str] = []
    pipe = nlp.pipe_in_batches

    def spy(language, texts, *args, **kwargs):
        texts = list(texts)
        seen.extend(texts)
        return pipe(language, texts, *args, **kwargs)

    monkeypatch.setattr(nlp, "pipe_in_batches", spy)
    return seen


def test_cached_passages_are_the_parsed_ones_and_only_new_turns_are_parsed(
    ingested, tmp_path, parsed
):
    turns = read_table(TURNS, ingested)
    store = tmp_path / "cache"
    plain = build_passages(turns, Config())
    parsed.clear()
    first = build_passages(turns, Config(), store)
    pd.testing.assert_frame_equal(first, plain)
    assert parsed and list(store.glob("passages/*.json.gz"))

    parsed.clear()
    again = build_passages(turns, Config(), store)
    pd.testing.assert_frame_equal(again, plain)
    assert parsed == []  # every turn from the cache

    # One answer edited: only it is parsed again, and its passages say what it says now.
    edited = turns.copy()
    row = edited.index[(edited.role == "interviewee") & (edited.text.str.len() > 200)][0]
    new_text = "We doubled our prices last spring. Nobody left, which surprised us."
    edited.loc[row, ["text", "clean_text"]] = new_text
    parsed.clear()
    changed = build_passages(edited, Config(), store)
    assert parsed == [new_text]
    mine = changed[changed.turn_index == edited.loc[row, "turn_index"]]
    mine = mine[mine.interview_id == edited.loc[row, "interview_id"]]
    assert " ".join(mine.text) == new_text
    others = changed[~changed.passage_id.isin(mine.passage_id)].reset_index(drop=True)
    expected = plain[
        ~(
            (plain.interview_id == edited.loc[row, "interview_id"])
            & (plain.turn_index == edited.loc[row, "turn_index"])
        )
    ].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, expected)


def test_another_setting_parses_afresh_and_keeps_one_recipe(ingested, tmp_path, parsed):
    turns = read_table(TURNS, ingested)
    store = tmp_path / "cache"
    build_passages(turns, Config(), store)
    before = set(store.glob("passages/*.json.gz"))
    parsed.clear()
    other = load_config(None, ["passages.max_words=30"])
    shorter = build_passages(turns, other, store)
    assert parsed  # a new recipe: nothing from the old one
    pd.testing.assert_frame_equal(shorter, build_passages(turns, other))
    after = set(store.glob("passages/*.json.gz"))
    assert len(after) == 1 and after != before


def test_an_unreadable_cache_is_rebuilt_with_a_warning(ingested, tmp_path, caplog):
    turns = read_table(TURNS, ingested)
    store = tmp_path / "cache"
    build_passages(turns, Config(), store)
    (path,) = store.glob("passages/*.json.gz")
    path.write_bytes(b"not gzip")
    again = build_passages(turns, Config(), store)
    pd.testing.assert_frame_equal(again, build_passages(turns, Config()))
    assert "unreadable" in caplog.text


def test_passages_made_in_two_processes_are_the_ones_made_in_one(ingested, monkeypatch):
    turns = read_table(TURNS, ingested)
    one = build_passages(turns, Config())
    shared_out: list[int] = []
    pool = concurrent.futures.ProcessPoolExecutor

    def counting_pool(workers, *args, **kwargs):
        shared_out.append(workers)
        return pool(workers, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", counting_pool)
    monkeypatch.setattr(nlp, "processes_for", lambda n: 2)
    two = build_passages(turns, Config())
    assert shared_out == [2]  # the work really went to two processes
    pd.testing.assert_frame_equal(two, one)
