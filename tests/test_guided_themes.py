"""Guided themes (``themes.guided``): codes seed the fit, uncovered clusters come out new."""

from __future__ import annotations

import json
import shutil
import zlib

import numpy as np
import pandas as pd
import pytest

from pipeline import themes
from pipeline.coding.model import Code, Codebook
from pipeline.core.catalog import ASSIGNMENTS, THEMES, read_table
from pipeline.core.config import ThemesConfig, load_config
from pipeline.themes.guided import (
    NONE,
    code_text,
    guide,
    guided_notes,
    main_codes,
    make_seeds,
    seed_index,
    theme_codes,
)

DIM = 32
PER_CLUSTER = 30
# Four clusters of passages; the codebook covers the first three, the fourth is new.
VOCAB = [
    ["invoice", "payment", "billing", "overdue", "reminder", "accountant"],
    ["calendar", "meeting", "schedule", "reschedule", "timezone", "booking"],
    ["laptop", "software", "plugin", "spreadsheet", "template", "backup"],
    ["garden", "weekend", "hiking", "cooking", "holiday", "family"],
]
CODES = Codebook(
    (
        Code("Billing", "Invoices, payments and chasing them."),
        Code("Scheduling", "Finding times to meet.", examples=("We moved the call twice.",)),
        Code("Tools", "The software people work with."),
    )
)


class _HashEmbedder:
    """Deterministic word vectors from a hash of the text (for KeyBERTInspired)."""

    model_id = "hash-embedder"

    def encode(self, texts):
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=8) for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), 8)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _unit(m):
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def corpus():
    """120 passages in 4 known clusters: vectors, texts, the true cluster of each."""
    rng = np.random.default_rng(7)
    centres = np.eye(DIM)[:4]
    truth = np.repeat(np.arange(4), PER_CLUSTER)
    noise = 0.35 / np.sqrt(DIM) * rng.normal(size=(len(truth), DIM))
    vectors = _unit(centres[truth] + noise)
    docs = [
        " ".join(rng.choice(VOCAB[c], size=6, replace=True)) + " " + " ".join(VOCAB[c][:2])
        for c in truth
    ]
    return vectors.astype(np.float32), docs, truth


def _chars(truth, coded_per_cluster=10):
    """The researcher coded the first 10 passages of clusters 0-2 with codes 0-2."""
    chars = pd.DataFrame(0, index=range(len(truth)), columns=list(CODES.paths))
    for c in range(3):
        rows = np.where(truth == c)[0][:coded_per_cluster]
        chars.iloc[rows, c] = 50
    return chars


def _text_vectors():
    # The codes' own words, a little off their clusters.
    rng = np.random.default_rng(3)
    return _unit(np.eye(DIM)[:3] + 0.5 * rng.normal(size=(3, DIM)))


def _guidance(vectors, truth, strength=0.25):
    chars = _chars(truth)
    seeds = make_seeds(CODES, chars, vectors, _text_vectors(), text_weight=0.3)
    return guide(vectors, seeds, seed_index(chars, seeds), strength, "test")


# ------------------------------------------------------------------ seeds and nudge


def test_code_text_is_name_description_and_examples():
    assert code_text(CODES.codes[1]) == (
        "Scheduling. Finding times to meet. We moved the call twice."
    )
    assert code_text(Code("Cost")) == "Cost."


def test_seeds_are_the_coded_passages_mean_blended_with_the_codes_words(corpus):
    vectors, _, truth = corpus
    chars = _chars(truth)
    seeds = make_seeds(CODES, chars, vectors, _text_vectors(), text_weight=0.3)
    assert seeds.codes == ["Billing", "Scheduling", "Tools"]
    assert seeds.n_passages == [10, 10, 10]
    assert seeds.sources == ["coded passages and words"] * 3
    np.testing.assert_allclose(np.linalg.norm(seeds.vectors, axis=1), 1, atol=1e-6)
    mean = _unit(vectors[:10].astype(float).mean(axis=0))
    expected = _unit(0.3 * _text_vectors()[0] + 0.7 * mean)
    np.testing.assert_allclose(seeds.vectors[0], expected, atol=1e-6)
    # A code nobody coded is seeded with its words; a parent with coded children is left out.
    book = Codebook((Code("Work"), Code("Billing", parent="Work"), Code("Unused", "Never said")))
    words = _unit(np.random.default_rng(0).normal(size=(3, DIM)))
    chars = pd.DataFrame({"Work": 0, "Work > Billing": [5] * 3 + [0] * 117, "Unused": 0})
    seeds = make_seeds(book, chars, vectors, words, text_weight=0.3)
    assert seeds.codes == ["Work > Billing", "Unused"]
    assert seeds.sources == ["coded passages and words", "words"]
    np.testing.assert_allclose(seeds.vectors[1], words[2], atol=1e-6)


def test_main_code_is_the_one_with_most_characters_ties_to_the_codebook_order():
    chars = pd.DataFrame({"A": [0, 5, 3, 4], "B": [0, 2, 9, 4]})
    assert main_codes(chars).tolist() == [NONE, 0, 1, 0]


def test_coded_passages_keep_their_code_others_go_to_the_nearest_seed_or_none(corpus):
    vectors, _, truth = corpus
    before = vectors.copy()
    g = _guidance(vectors, truth)
    np.testing.assert_array_equal(vectors, before)  # the caller's vectors are not changed
    coded = g.coded != NONE
    assert coded.sum() == 30
    np.testing.assert_array_equal(g.labels[coded], truth[coded])
    # uncoded passages of the covered clusters are drawn to their cluster's code
    covered = (truth < 3) & ~coded
    assert (g.labels[covered] == truth[covered]).mean() >= 0.95
    # the cluster no code covers is drawn to none: closer to the corpus mean than to any seed
    assert (g.labels[truth == 3] == NONE).all()
    assert g.summary() == {
        "n_seeds": 3,
        "coded_passages": 30,
        "coded_interviews_rate": 0.25,
        "drawn_passages": int(((g.labels != NONE) & ~coded).sum()),
        "unguided_passages": PER_CLUSTER,
    }
    # UMAP's target: the labels, unlabelled (-1) where no seed draws
    np.testing.assert_array_equal(g.target, g.labels)
    assert guide(vectors, g.seeds, np.full(len(truth), NONE), 0.25).target is not None
    nothing = guide(vectors[truth == 3], g.seeds, np.full(PER_CLUSTER, NONE), 0.25)
    assert nothing.target is None  # no seed draws any passage: UMAP unsupervised


def test_the_nudge_is_a_weighted_average_made_unit_length(corpus):
    vectors, _, truth = corpus
    g = _guidance(vectors, truth, strength=0.25)
    np.testing.assert_allclose(np.linalg.norm(g.vectors, axis=1), 1, atol=1e-5)
    i = 0  # coded with Billing
    expected = _unit(0.75 * vectors[i].astype(float) + 0.25 * g.seeds.vectors[0])
    np.testing.assert_allclose(g.vectors[i], expected, atol=1e-6)
    new = np.where(truth == 3)[0]
    np.testing.assert_allclose(g.vectors[new], _unit(vectors[new]), atol=1e-6)  # not moved
    # nearer to their seed than before
    drawn = g.labels != NONE
    seed = g.seeds.vectors[g.labels[drawn]]
    assert ((g.vectors[drawn] * seed).sum(1) >= (vectors[drawn] * seed).sum(1) - 1e-6).all()
    # strength 0 moves nothing
    still = _guidance(vectors, truth, strength=0.0)
    np.testing.assert_allclose(still.vectors, _unit(vectors), atol=1e-6)


def test_themes_are_matched_to_codes_and_the_uncovered_one_is_new(corpus):
    vectors, _, truth = corpus
    g = _guidance(vectors, truth)
    matches = theme_codes(truth.tolist(), g, vectors)
    assert [m["theme_id"] for m in matches] == [0, 1, 2, 3]
    assert [m["kind"] for m in matches] == ["code", "code", "code", "new"]
    assert [m["code"] for m in matches] == ["Billing", "Scheduling", "Tools", None]
    for m in matches[:3]:
        assert m["match"] >= 0.95 and m["coverage"] >= 0.95 and m["similarity"] > 0.8
        assert m["coded_passages"] == 10 and m["coded_share"] == 1.0
        assert m["coded_rate"] == round(10 / 30, 4) and "why" not in m
    new = matches[3]
    assert new["coverage"] == 0.0 and new["coded_passages"] == 0 and new["coded_share"] is None
    assert new["nearest_code"] in CODES.paths and new["similarity"] < 0.5
    assert new["why"] == "no code draws it" and new["coded_rate"] == 0.0
    notes = guided_notes(matches, g.seeds)
    assert notes == [
        "The themes were guided by 3 codes of the codebook; theme 3 is new: no code covers it "
        "(themes.json guided.themes)."
    ]
    # Two themes on Billing: Tools has no theme of its own, and says so.
    merged = np.where(truth == 2, 0, truth)
    notes = guided_notes(theme_codes(merged.tolist(), g, vectors), g.seeds)
    assert notes[1] == "No theme lines up with 1 of the 3 codes: Tools."


def test_a_theme_the_researcher_left_uncoded_is_new_though_a_seed_draws_it(corpus):
    # Billing's 20 uncoded passages as a theme of their own: Billing's seed draws them all,
    # but the researcher coded none of them where they coded a quarter of the rest.
    vectors, _, truth = corpus
    g = _guidance(vectors, truth)
    topics = truth.copy()
    topics[np.where(truth == 0)[0][10:]] = 4
    matches = {m["theme_id"]: m for m in theme_codes(topics.tolist(), g, vectors)}
    assert matches[4]["coverage"] == 1.0 and matches[4]["coded_rate"] == 0.0
    assert matches[4]["kind"] == "new" and matches[4]["why"] == "not coded"
    assert matches[4]["code"] is None and matches[4]["nearest_code"] == "Billing"
    assert matches[0]["kind"] == "code" and matches[0]["code"] == "Billing"
    # Only the interviews the researcher coded count: passages of interviews nobody coded
    # (here: every passage but the coded ones) say nothing of what the codebook covers.
    only_coded = _guidance(vectors, truth)
    only_coded.in_coded = g.coded != NONE
    assert only_coded.coded_rate == 1.0
    again = {m["theme_id"]: m for m in theme_codes(topics.tolist(), only_coded, vectors)}
    assert again[4]["coded_rate"] is None and again[4]["kind"] == "code"
    # A codebook alone (nothing coded): only the coverage rule.
    words = guide(vectors, g.seeds, np.full(len(truth), NONE), 0.25)
    assert words.coded_rate is None
    alone = {m["theme_id"]: m for m in theme_codes(truth.tolist(), words, vectors)}
    assert [alone[t]["kind"] for t in range(4)] == ["code", "code", "code", "new"]
    assert all(alone[t]["coded_rate"] is None for t in range(4))


# ------------------------------------------------------------------ the fit

FIT = dict(k_layouts=1, k_min=2, k_max=6, vocabulary_min_df_from=1000)  # words of one theme


def _fit(corpus, guidance=None, **settings):
    vectors, docs, _ = corpus
    cfg = ThemesConfig(**{**FIT, **settings})
    analyzer = themes.LemmaAnalyzer({}, {}, themes.stop_words())
    return themes.fit_themes(docs, vectors, _HashEmbedder(), analyzer, cfg, guidance=guidance)


def _purity(topics, truth):
    topics = np.asarray(topics)
    return sum(np.bincount(truth[topics == t]).max() for t in set(topics)) / len(truth)


@pytest.mark.slow
def test_guided_fit_lines_up_with_the_codes_and_finds_the_new_cluster(corpus):
    vectors, _, truth = corpus
    g = _guidance(vectors, truth)
    model, topics, _, parts = _fit(corpus, g)
    assert _purity(topics, truth) >= 0.95
    matches = theme_codes(topics, g, vectors)
    by_cluster = {}
    for c in range(4):
        theme = np.bincount(np.asarray(topics)[truth == c]).argmax()
        by_cluster[c] = next(m for m in matches if m["theme_id"] == theme)
    assert [by_cluster[c]["code"] for c in range(3)] == ["Billing", "Scheduling", "Tools"]
    assert [by_cluster[c]["kind"] for c in range(4)] == ["code", "code", "code", "new"]
    # topic vectors are the passages' own means, not the moved vectors'
    labels = np.asarray(topics)
    own = np.array([vectors[labels == t].mean(axis=0) for t in sorted(set(topics))])
    np.testing.assert_allclose(model.topic_embeddings_, own, atol=1e-6)
    # deterministic: the same guidance gives the same themes
    _, again, _, _ = _fit(corpus, _guidance(vectors, truth))
    assert list(again) == list(topics)


@pytest.mark.slow
def test_a_code_in_two_distinct_groups_gives_two_themes_both_lined_up_with_it(corpus):
    # Billing's passages in two far-apart groups the researcher coded as one code. Moving
    # vectors toward a seed is a contraction toward it, which keeps a code's own groups
    # apart (UMAP's neighbours are by rank), and UMAP's target only separates different
    # codes: the groups stay two themes, and both line up with Billing.
    vectors, docs, truth = corpus
    rng = np.random.default_rng(11)
    split = vectors.astype(float).copy()
    halves = np.where(truth == 0)[0]
    offset = 0.9 * _unit(rng.normal(size=DIM))
    split[halves[::2]] = _unit(split[halves[::2]] + offset)
    split[halves[1::2]] = _unit(split[halves[1::2]] - offset)
    split = split.astype(np.float32)
    chars = pd.DataFrame(0, index=range(len(truth)), columns=list(CODES.paths))
    chars.iloc[halves, 0] = 50  # every Billing passage coded
    for c in (1, 2):
        chars.iloc[np.where(truth == c)[0][:10], c] = 50
    seeds = make_seeds(CODES, chars, split, _text_vectors(), text_weight=0.3)
    g = guide(split, seeds, seed_index(chars, seeds), 0.5)
    _, topics, _, _ = _fit((split, docs, truth), g)
    billing = set(np.asarray(topics)[halves].tolist())
    assert len(billing) == 2
    matches = {m["theme_id"]: m for m in theme_codes(topics, g, split)}
    assert {matches[t]["code"] for t in billing} == {"Billing"}
    assert all(matches[t]["match"] == 1.0 for t in billing)
    others = [m for t, m in matches.items() if t not in billing]
    assert sorted(str(m["code"]) for m in others) == ["None", "Scheduling", "Tools"]


@pytest.mark.slow
def test_without_guidance_the_fit_is_unchanged(corpus):
    # guidance=None takes the unguided path: the same themes as a fit never told of guidance.
    vectors, docs, _ = corpus
    cfg = ThemesConfig(**FIT)
    analyzer = themes.LemmaAnalyzer({}, {}, themes.stop_words())
    _, plain, _, parts = themes.fit_themes(docs, vectors, _HashEmbedder(), analyzer, cfg)
    _, none, _, _ = _fit(corpus, None)
    assert list(plain) == list(none)
    assert "silhouette" in parts.params


# ------------------------------------------------------------------ the stage


def _coding_csv(sample_out, path):
    """Coded excerpts for the sample: 6 passages of each of its two largest themes."""
    assigned = read_table(ASSIGNMENTS, sample_out)
    table = read_table(THEMES, sample_out)
    passages = pd.read_parquet(sample_out / "passages.parquet").set_index("passage_id")
    big = table[table.theme_id != -1].sort_values("size", ascending=False).theme_id[:2]
    rows, coded = [], {}
    for code, theme in zip(("Code one", "Code two"), big, strict=True):
        mine = assigned[assigned.theme_id == theme].passage_id[:6]
        for pid in mine:
            rows.append(
                {
                    "interview": passages.loc[pid, "interview_id"],
                    "code": code,
                    "text": passages.loc[pid, "text"],
                }
            )
            coded.setdefault(code, []).append(pid)
    pd.DataFrame(rows).to_csv(path, index=False)
    return coded


@pytest.mark.slow
def test_stage_guided_by_a_coding_file_says_which_theme_is_which_code(sample_out, tmp_path):
    out = tmp_path / "guided"
    shutil.copytree(sample_out, out)
    coding = tmp_path / "coded.csv"
    coded = _coding_csv(sample_out, coding)
    cfg = load_config(None, [f"coding.file={coding}", "themes.k_layouts=1"])
    table = themes.run(out, cfg)
    info = json.loads((out / "themes.json").read_text())
    guided = info["guided"]
    assert guided["enabled"] and guided["source"] == str(coding)
    assert guided["n_seeds"] == 2 and guided["coded_passages"] >= 10
    assert [s["code"] for s in guided["seeds"]] == ["Code one", "Code two"]
    ids = set(table.theme_id) - {-1}
    assert {m["theme_id"] for m in guided["themes"]} == ids
    assert {m["kind"] for m in guided["themes"]} <= {"code", "new"}
    assert guided["new_themes"] == [m["theme_id"] for m in guided["themes"] if m["kind"] == "new"]
    # each code's coded passages mostly share a theme, and that theme lines up with the code
    assigned = read_table(ASSIGNMENTS, out).set_index("passage_id").theme_id
    kind = {m["theme_id"]: m for m in guided["themes"]}
    for code, pids in coded.items():
        theme = assigned[pids].value_counts().idxmax()
        assert kind[theme]["code"] == code and kind[theme]["kind"] == "code"
    assert any("guided by 2 codes" in n for n in info["notes"])


@pytest.mark.slow
def test_stage_guided_off_ignores_the_coding(sample_out, tmp_path):
    out = tmp_path / "off"
    shutil.copytree(sample_out, out)
    coding = tmp_path / "coded.csv"
    _coding_csv(sample_out, coding)
    themes.run(out, load_config(None, [f"coding.file={coding}", "themes.guided=off"]))
    for spec in (THEMES, ASSIGNMENTS):
        assert read_table(spec, out).equals(read_table(spec, sample_out)), spec.name
    info = json.loads((out / "themes.json").read_text())
    assert info["guided"] == {"enabled": False, "reason": "themes.guided is off"}
    before = json.loads((sample_out / "themes.json").read_text())
    assert before["guided"]["enabled"] is False  # auto with no coding: not guided either
    assert "no codebook or coding" in before["guided"]["reason"]


@pytest.mark.slow
def test_guided_on_without_a_codebook_is_an_error(sample_out, tmp_path):
    out = tmp_path / "on"
    shutil.copytree(sample_out, out)
    with pytest.raises(ValueError, match="themes.guided is on"):
        themes.run(out, load_config(None, ["themes.guided=on"]))
