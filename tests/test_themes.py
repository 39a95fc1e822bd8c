"""Themes on the sample notes: readable labels, no outliers, deterministic, reloadable offline.

The components on small inputs are in test_theme_components.py.
"""

import json
import re
import shutil

import numpy as np
import pytest

from pipeline import embed, segment, themes
from pipeline.core.catalog import (
    ASSIGNMENTS,
    HIERARCHY,
    PASSAGES,
    THEME_INTERVIEWS,
    THEME_SECTIONS,
    THEMES,
    read_table,
)
from pipeline.core.config import Config, load_config
from pipeline.evaluate.themes import topic_diversity

# Every test here reads a stage fixture, runs a stage or loads a model.
pytestmark = pytest.mark.slow


def test_themes_cover_the_sample_with_few_outliers(sample_out):
    table = read_table(THEMES, sample_out)
    assigned = read_table(ASSIGNMENTS, sample_out)
    info = json.loads((sample_out / "themes.json").read_text())
    assert 5 <= len(table) <= 30
    assert (assigned.theme_id == -1).mean() <= 0.10
    assert info["outlier_share"] <= 0.10
    assert table["size"].sum() == len(assigned)
    assert (table.n_interviews >= 1).all()
    # themes that span conversations, not one person's monologue
    assert (table.n_interviews >= 3).mean() >= 0.8


def test_labels_are_phrases_without_filler_or_stop_words(sample_out):
    _assert_readable(read_table(THEMES, sample_out))


CONNECTORS = {"of", "a", "an", "the", "to", "in", "on", "for", "and", "or", "with"}


def _assert_readable(table):
    stop = themes.stop_words()
    for label in table.label:
        assert not re.fullmatch(r"-?\d+_.*", label), label  # not BERTopic's 3_a_b_c
        tokens = [t for t in re.findall(r"[\w'-]+", label.lower())]
        content = [t for t in tokens if t not in CONNECTORS]
        assert content and not [t for t in content if t in stop], label
        assert len(tokens) <= 8, label
    for keywords in table.keywords:
        words = keywords.split("; ")
        assert len(words) >= 5
        assert not [w for w in words for part in w.split() if part in stop], keywords


def test_keywords_are_diverse_across_themes(sample_out):
    table = read_table(THEMES, sample_out)
    assert topic_diversity([k.split("; ") for k in table.keywords]) >= 0.8


def test_speaker_names_and_placeholders_are_not_keywords(sample_out):
    table = read_table(THEMES, sample_out)
    words = {p for k in table.keywords for w in k.split("; ") for p in w.split()}
    for name in ("maria", "alex", "moreau", "kenji", "jordan", "hannah", "priya", "tomasz"):
        assert name not in words
    assert not [w for w in words if any(ch.isdigit() for ch in w)]  # "Company 1" never shows


def test_other_languages_are_left_out_with_a_count(sample_out):
    assigned = read_table(ASSIGNMENTS, sample_out)
    assert "appel-11-camille" not in set(assigned.interview_id)
    info = json.loads((sample_out / "themes.json").read_text())
    assert info["left_out_languages"].get("fr", 0) > 0


def test_side_tables(sample_out):
    matrix = read_table(THEME_INTERVIEWS, sample_out)
    assigned = read_table(ASSIGNMENTS, sample_out)
    assert matrix.n_passages.sum() == len(assigned)
    sections = read_table(THEME_SECTIONS, sample_out)
    assert sections.n_passages.sum() == len(assigned)
    hierarchy = read_table(HIERARCHY, sample_out)
    assert (
        len(hierarchy) == len(read_table(THEMES, sample_out)) - 1
    )  # a binary tree over the themes


def test_same_input_and_config_give_the_same_themes(sample_out, tmp_path):
    again = tmp_path / "again"
    shutil.copytree(sample_out, again)
    for name in ("themes.parquet", "assignments.parquet"):
        (again / name).unlink()
    themes.run(again, Config())
    for spec in (THEMES, ASSIGNMENTS):
        assert read_table(spec, again).equals(read_table(spec, sample_out)), spec.name


def test_large_corpus_path_hdbscan_then_outliers_reassigned(sample_out, tmp_path):
    # From themes.hdbscan_min_passages on, HDBSCAN replaces k-means; lowered here so the
    # sample's 367 passages take that path.
    big = tmp_path / "big"
    shutil.copytree(sample_out, big)
    table = themes.run(big, load_config(None, ["themes.hdbscan_min_passages=10"]))
    info = json.loads((big / "themes.json").read_text())
    assert info["clustering"].startswith("HDBSCAN")
    assert info["params"]["outliers_reassigned"] > 0  # HDBSCAN left outliers; most found a theme
    assert info["outlier_share"] <= 0.10
    assert len(table[table.theme_id != -1]) >= 3
    _assert_readable(table[table.theme_id != -1])
    # probability means what it means on the k-means path: similarity to the theme's centroid
    _assert_probability_is_centroid_similarity(big)


def test_probability_is_similarity_to_the_theme_centroid(sample_out):
    _assert_probability_is_centroid_similarity(sample_out)


def _assert_probability_is_centroid_similarity(out):
    assigned = read_table(ASSIGNMENTS, out)
    passages = read_table(PASSAGES, out)
    vectors = np.load(out / "embeddings.npy")
    row = {pid: i for i, pid in enumerate(passages.passage_id)}
    mine = vectors[[row[p] for p in assigned.passage_id]]
    topics = assigned.theme_id.astype(int).to_numpy()
    for theme in set(topics) - {-1}:
        centroid = mine[topics == theme].mean(axis=0)
        expected = np.clip(mine[topics == theme] @ (centroid / np.linalg.norm(centroid)), 0, 1)
        got = assigned.probability[topics == theme].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert (assigned.probability[topics == -1] == 0).all()
    assert assigned.probability.between(0, 1).all()


def test_saved_model_reloads_offline(sample_out, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = themes.load_model(sample_out)
    table = read_table(THEMES, sample_out)
    info = model.get_topic_info()
    assert set(info.Topic) - {-1} == set(table.theme_id)
    topics, _ = model.transform(
        ["Most of my clients come from referrals by people I worked with before."]
    )
    assert topics[0] in set(table.theme_id)
    vector = model.embedding_model.embed(["Clients come from referrals."])
    assert vector.shape[1] == model.topic_embeddings_.shape[1]


@pytest.mark.slow
def test_model2vec_themes_reload_with_the_static_model_that_made_them(
    sample_out, distilled, tmp_path
):
    # The topic vectors are model2vec's; the saved model must embed new texts with the same
    # static model (not the MiniLM it was distilled from, whose vectors are longer).
    out = tmp_path / "model2vec"
    shutil.copytree(sample_out, out)
    shutil.copytree(distilled / "model2vec", out / "cache" / "model2vec")  # distilled once
    cfg = load_config(None, ["embed.backend=model2vec", "themes.k_layouts=1"])  # k: not tested
    embed.run(out, cfg)
    segment.run(out, cfg)  # lineage: segment read the vectors too
    table = themes.run(out, cfg)
    info = json.loads((out / "themes.json").read_text())
    assert info["embedding_backend"] == "model2vec"
    static = out / info["embedding_source"]  # inside the output folder, recorded relative to it
    assert (static / "config.json").is_file()
    saved = json.loads((out / "themes_model" / "config.json").read_text())
    assert saved["embedding_model"] == str(static.resolve())

    model = themes.load_model(out)
    dim = model.embedding_model.embed(["Clients come from referrals."]).shape[1]
    assert dim == model.topic_embeddings_.shape[1] == np.load(out / "embeddings.npy").shape[1]
    assert dim != np.load(sample_out / "embeddings.npy").shape[1]  # not MiniLM's
    topics, _ = model.transform(["Most of my clients come from referrals."])
    assert topics[0] in set(table.theme_id)
