"""Passages and the embedding stage: windows, links, the bundled model, the cache."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_RAW

from pipeline import embed, passages
from pipeline.core import nlp
from pipeline.core.catalog import PASSAGES, ArtifactError, read_table
from pipeline.core.config import Config, load_config
from pipeline.ingest import run as ingest


@pytest.mark.slow
def test_passages_are_short_windows_of_interviewee_speech(embedded):
    table = read_table(PASSAGES, embedded)
    answers = table[table.role == "interviewee"]
    english = nlp.english()
    for text in answers.text.sample(60, random_state=0):
        assert (
            len(list(english(text).sents)) <= 4
        )  # 3 windows' sentences, re-split may differ by one
    assert (answers.n_words >= 3).all()
    assert not answers.clean_text.str.fullmatch(
        r"(?i)(yeah|right|exactly|mm-hmm|okay)[,.! ]*"
    ).any()
    assert answers.source_file.notna().all() and answers.turn_index.notna().all()


@pytest.mark.slow
def test_questions_are_kept_separately_and_whole(embedded):
    table = read_table(PASSAGES, embedded)
    questions = table[table.role == "interviewer"]
    assert len(questions) > 50
    assert (questions.passage_index == 0).all()
    assert questions.is_question.mean() > 0.6


@pytest.mark.slow
def test_passage_links_point_back_to_turns(embedded):
    table = read_table(PASSAGES, embedded)
    turns = pd.read_parquet(embedded / "turns.parquet")
    merged = table.merge(
        turns[["interview_id", "turn_index", "text"]],
        on=["interview_id", "turn_index"],
        suffixes=("", "_turn"),
    )
    assert len(merged) == len(table)
    first_words = merged.text.str.split().str[:3].str.join(" ")
    assert all(fw.strip("[]()") in t for fw, t in zip(first_words, merged.text_turn))


PLACEHOLDER_TEXT = (
    "I worked at Company 1 with Person 3, then joined School 2 for a master's degree."
)


def test_placeholders_never_reach_the_lemmas():
    from pipeline.passages import build_passages

    turns = pd.DataFrame(
        [
            {
                "interview_id": "x",
                "turn_index": 0,
                "speaker": "A",
                "role": "interviewee",
                "text": PLACEHOLDER_TEXT,
                "clean_text": PLACEHOLDER_TEXT,
                "is_backchannel": False,
                "start": None,
                "end": None,
                "heading": None,
                "source_file": "x.txt",
                "source_line": 1,
                "source_page": None,
                "language": "en",
                "in_main_language": True,
            }
        ]
    )
    row = build_passages(turns, Config()).iloc[0]
    assert (
        "company" not in row.lemmas.split()
        and "person" not in row.lemmas.split()
        and "school" not in row.lemmas.split()
    )
    assert "master" in row.lemmas.split() and len(row.lemmas.split()) == len(row.words.split())


@pytest.mark.slow
def test_french_passages_are_flagged(embedded):
    table = read_table(PASSAGES, embedded)
    french = table[table.language == "fr"]
    assert len(french) > 0 and not french.in_main_language.any()


def test_bundled_model_is_checked_by_sha256(monkeypatch):
    monkeypatch.setattr(embed.embedders, "BUNDLED_SHA256", "0" * 64)
    with pytest.raises(embed.EmbeddingModelError, match="does not match the expected"):
        embed.resolve_model(embed.BUNDLED_MODEL)


@pytest.mark.slow
def test_unknown_model_name_fails_clearly_offline():
    embedder = embed.SentenceTransformerEmbedder("no-such-org/no-such-model")
    with pytest.raises(embed.EmbeddingModelError, match="offline"):
        embedder.encode(["hello"])


@pytest.mark.slow
def test_rerun_uses_the_cache_and_a_new_interview_embeds_only_its_passages(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW / "round-1", raw)
    out = tmp_path / "out"
    cfg = Config()
    ingest(out, cfg, raw_dir=raw)
    passages.run(out, cfg)
    first = embed.run(out, cfg)
    info = json.loads((out / "embeddings.json").read_text())
    assert info["embedded_now"] == info["n"] - (
        info["n"] - len(set(read_table(PASSAGES, out).clean_text))
    )

    again = embed.run(out, cfg)
    assert json.loads((out / "embeddings.json").read_text())["embedded_now"] == 0
    assert np.array_equal(first, again)

    shutil.copy(SAMPLE_RAW / "round-2" / "call-06-kenji.md", raw / "call-06-kenji.md")
    ingest(out, cfg, raw_dir=raw)
    table = passages.run(out, cfg)
    embed.run(out, cfg)
    new_texts = set(table[table.interview_id == "call-06-kenji"].clean_text) - set(
        table[table.interview_id != "call-06-kenji"].clean_text
    )
    assert json.loads((out / "embeddings.json").read_text())["embedded_now"] == len(new_texts) > 0


@pytest.mark.slow
def test_stale_embeddings_are_refused(embedded, copy_of):
    out = copy_of(embedded)
    table = read_table(PASSAGES, out)
    table.loc[0, "clean_text"] = "changed text"
    from pipeline.core.catalog import write_table

    write_table(table, PASSAGES, out)
    with pytest.raises(ArtifactError, match="stale"):
        embed.load_embeddings(out)


@pytest.mark.slow
def test_model2vec_backend_is_distilled_once_and_reused(distilled):
    cfg = load_config(overrides=["embed.backend=model2vec"]).embed
    fast = embed.make_embedder(cfg, distilled)  # the session distilled it into this store
    vectors = fast.encode(
        ["I find clients through referrals.", "I charge a fixed price per project."]
    )
    assert vectors.shape[0] == 2 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    assert (
        fast.model_id.startswith("model2vec(")
        and fast.model_id != embed.SentenceTransformerEmbedder().model_id
    )
    stored = fast.folder
    assert (stored / "config.json").is_file()
    mtime = stored.stat().st_mtime
    again = embed.make_embedder(cfg, distilled)
    assert np.allclose(again.encode(["I find clients through referrals."]), vectors[:1])
    assert stored.stat().st_mtime == mtime  # reused, not distilled again
