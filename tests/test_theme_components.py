"""Each themes component on small inputs: no pipeline run, no model loaded."""

from __future__ import annotations

import typing
import zlib

import numpy as np
import pandas as pd
import pytest
from bertopic.backend import BaseEmbedder
from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
from bertopic.representation._base import BaseRepresentation
from hdbscan import HDBSCAN
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from pipeline import themes
from pipeline.core.catalog import ArtifactError
from pipeline.core.config import ConfigError, ThemesConfig, load_config
from pipeline.themes.clustering import CLUSTERINGS, SilhouetteKMeans, choose_clustering
from pipeline.themes.model import (
    BackendAdapter,
    _embedding_model,
    embedding_record,
    membership,
    representation_steps,
)
from pipeline.themes.representation import AtMostMMR, CoOccurringKeywords, FrequentInTheme
from pipeline.themes.vectorizer import count_vectorizer

# ------------------------------------------------------------------ fakes


class _Vectorizer:
    def build_analyzer(self):
        return lambda doc: doc.lower().split()


class _Model:
    """What the keyword steps read of a BERTopic: its vectorizer (and for MMR, embeddings)."""

    vectorizer_model = _Vectorizer()

    def __init__(self, embedder=None):
        self.embedding_model = BackendAdapter(embedder) if embedder else None

    def _extract_embeddings(self, documents, images=None, method="document", verbose=None):
        return self.embedding_model.embed([documents] if isinstance(documents, str) else documents)


class _HashEmbedder:
    """Deterministic vectors from a hash of the text, counting what it was asked to encode."""

    model_id = "hash-embedder"

    def __init__(self):
        self.encoded: list[str] = []

    def encode(self, texts):
        self.encoded += list(texts)
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=8) for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), 8)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _words(picked):
    return [w for w, _ in picked]


# --------------------------------------------------------------- vectorizer


def test_lemma_analyzer_groups_forms_and_never_bridges_punctuation():
    passages = pd.DataFrame(
        {
            "lemmas": ["client pay hour hourly", "client"],
            "words": ["clients paid hours hourly", "client"],
        }
    )
    analyzer = themes.LemmaAnalyzer.from_passages(passages, themes.stop_words())
    tokens = analyzer("My client paid by the hour. Hourly work, clients like it.")
    shown = analyzer.canonical["client"]
    # one token for both forms, shown as the form said most
    assert tokens.count(shown) == 2 and {"client", "clients"} & set(tokens) == {shown}
    assert "hours hourly" not in tokens
    assert "like" not in tokens


def test_lemma_analyzer_bigrams_stay_within_a_clause_and_stop_words_never_count():
    analyzer = themes.LemmaAnalyzer({}, {}, themes.stop_words(names=["Maria Lopez"]))
    tokens = analyzer("Maria raised rates; rates rates, raised again")
    assert tokens == ["raised", "rates", "raised rates", "rates", "rates", "raised"]
    assert analyzer.content_words("Maria said, you know, I'd raise rates") == 2  # raise, rates
    assert analyzer.token("don't") is None and analyzer.token("a") is None


def test_placeholders_are_not_tokens_but_the_words_are():
    analyzer = themes.LemmaAnalyzer({}, {}, themes.stop_words())
    tokens = analyzer("I worked for Company 1 and my company grew; clients from School 2.")
    assert "company" in tokens and tokens.count("company") == 1
    assert "school" not in tokens and "clients" in tokens


def test_count_vectorizer_drops_words_of_one_passage_only_in_larger_corpora():
    analyzer = themes.LemmaAnalyzer({}, {}, themes.stop_words())
    cfg = ThemesConfig()
    assert count_vectorizer(analyzer, 49, cfg).min_df == 1
    assert count_vectorizer(analyzer, 50, cfg).min_df == 2
    custom = ThemesConfig(vocabulary_min_df=3, vocabulary_min_df_from=10)
    assert count_vectorizer(analyzer, 10, custom).min_df == 3
    assert count_vectorizer(analyzer, 9, custom).min_df == 1


# --------------------------------------------------------------- clustering


def test_silhouette_kmeans_picks_the_planted_number_of_clusters():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 4)) * 10
    X = np.vstack([c + rng.normal(size=(40, 4)) for c in centers])
    model = SilhouetteKMeans(2, 9, random_state=0).fit(X)
    assert model.n_clusters_ == 5
    assert len(set(model.predict(X))) == 5


def test_k_is_judged_on_every_layout_and_fitted_on_the_first():
    rng = np.random.default_rng(0)
    X = np.vstack([c + rng.normal(size=(40, 4)) for c in rng.normal(size=(5, 4)) * 10])
    # Another layout of the same 200 points in which they form 4 groups.
    V = np.vstack(
        [c + rng.normal(size=(40, 4)) for c in rng.normal(size=(3, 4)) * 10]
        + [rng.normal(size=(80, 4)) * 0.5 + 30]
    )
    model = SilhouetteKMeans(2, 9, random_state=0, other_views=[V, V]).fit(X)
    for k in (3, 4, 5):
        by_view = [
            silhouette_score(
                v, KMeans(n_clusters=k, n_init=10, random_state=0).fit(v).labels_, random_state=0
            )
            for v in (X, V, V)
        ]
        assert model.scores_[k] == pytest.approx(np.mean(by_view))
    assert model.n_clusters_ == max(model.scores_, key=model.scores_.get) == 4  # X alone says 5
    assert len(model.labels_) == len(X) and len(set(model.predict(X))) == 4


def test_silhouette_kmeans_refuses_layouts_of_other_passages():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="same 20 passages"):
        SilhouetteKMeans(2, 4, other_views=[X[:19]]).fit(X)


def test_every_clustering_setting_has_a_factory():
    names = set(typing.get_args(ThemesConfig.model_fields["clustering"].annotation))
    assert names == set(CLUSTERINGS) | {"auto"}
    with pytest.raises(ConfigError, match="themes.clustering"):
        load_config(overrides=["themes.clustering=spectral"])


def test_auto_clustering_is_kmeans_below_the_threshold_and_hdbscan_from_it():
    cfg = ThemesConfig()  # hdbscan_min_passages: 2000
    small, parts = choose_clustering(300, cfg)
    assert isinstance(small, SilhouetteKMeans) and parts.clustering.startswith("k-means")
    # k from half of sqrt(300 / 2) = 12.2 to it
    assert (small.k_min, small.k_max) == (6, 12) and parts.params["k_layouts"] == 1
    large, parts = choose_clustering(2000, cfg)
    assert isinstance(large, HDBSCAN) and parts.clustering.startswith("HDBSCAN")
    assert themes.clustering_name(1999, cfg) == "kmeans"
    assert themes.clustering_name(2000, cfg) == "hdbscan"


def test_kmeans_clustering_when_asked_for_whatever_the_size():
    cfg = ThemesConfig(clustering="kmeans")
    model, parts = choose_clustering(5000, cfg)
    assert isinstance(model, SilhouetteKMeans)
    # sqrt(5000 / 2) = 50 is capped at k_max_cap (40); k_min is half the rule
    assert (model.k_min, model.k_max) == (25, 40)
    assert parts.params == {"k_min": 25, "k_max": 40, "k_layouts": 1}
    capped, _ = choose_clustering(5000, cfg.model_copy(update={"k_max_cap": 30}))
    assert capped.k_max == 30
    fixed, _ = choose_clustering(5000, cfg.model_copy(update={"k_max": 8}))
    assert (fixed.k_min, fixed.k_max) == (8, 8)


def test_hdbscan_clustering_when_asked_for_whatever_the_size():
    cfg = ThemesConfig(clustering="hdbscan")
    model, parts = choose_clustering(300, cfg)
    assert isinstance(model, HDBSCAN)
    # 0.5% of 300 is below the floor of 10; min_samples is half of it
    assert (model.min_cluster_size, model.min_samples) == (10, 5)
    assert parts.params == {"min_cluster_size": 10}
    big, _ = choose_clustering(5000, cfg)
    assert (big.min_cluster_size, big.min_samples) == (25, 12)
    shares = cfg.model_copy(
        update={"hdbscan_min_size_share": 0.01, "hdbscan_min_samples_share": 0.2}
    )
    custom, _ = choose_clustering(5000, shares)
    assert (custom.min_cluster_size, custom.min_samples) == (50, 10)
    tiny, _ = choose_clustering(300, cfg.model_copy(update={"min_theme_size": 4}))
    assert (tiny.min_cluster_size, tiny.min_samples) == (4, 3)  # min_samples floor


# ----------------------------------------------------------- representation

# Four themes and outliers: "freelance" is said often in every theme (generic), "company"
# often in themes 0 and 2 and once in theme 1, "once" in one passage of theme 0.
_DOCS = pd.DataFrame(
    {
        "Document": [
            "rate raise company freelance", "rate raise company freelance", "rate once",
            "brand post freelance", "brand post freelance company", "brand",
            "school degree freelance company", "school degree freelance company",
            "hours week freelance", "hours week freelance",
            "random words", "random",
        ],
        "Topic": [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, -1, -1],
    }
)  # fmt: skip
_CANDIDATES = {
    0: [("rate", 0.9), ("company", 0.85), ("once", 0.8), ("raise", 0.7), ("freelance", 0.6)],
    1: [("brand", 0.9), ("company", 0.8), ("freelance", 0.7), ("post", 0.6)],
    2: [("school", 0.9), ("company", 0.8), ("degree", 0.7)],
    3: [("hours", 0.9), ("freelance", 0.8), ("week", 0.7)],
    -1: [("random", 0.9), ("freelance", 0.5)],
}


def test_frequent_in_theme_keeps_recurring_distinctive_words():
    step = FrequentInTheme(0.1, keep_at_least=0, max_themes_per_word=1)
    picked = {
        t: _words(ws) for t, ws in step.extract_topics(_Model(), _DOCS, None, _CANDIDATES).items()
    }
    # "once" is said in one passage; "freelance" recurs in every theme; "company" belongs
    # to theme 2, whose passages all say it
    assert picked == {
        0: ["rate", "raise"],
        1: ["brand", "post"],
        2: ["school", "company", "degree"],
        3: ["hours", "week"],
        -1: ["random"],
    }


def test_frequent_in_theme_shares_a_word_among_max_themes_per_word():
    step = FrequentInTheme(0.1, keep_at_least=0, max_themes_per_word=2)
    picked = step.extract_topics(_Model(), _DOCS, None, _CANDIDATES)
    assert _words(picked[0]) == ["rate", "company", "raise"]  # 2 of 3 passages: second owner
    assert "company" not in _words(picked[1])  # 1 of 3 passages: not an owner


def test_frequent_in_theme_tops_up_by_frequency_but_never_with_generic_or_foreign_words():
    step = FrequentInTheme(0.1, keep_at_least=3, max_themes_per_word=1)
    picked = step.extract_topics(_Model(), _DOCS, None, _CANDIDATES)
    assert picked[0] == [("rate", 0.9), ("raise", 0.7), ("once", 0.8)]
    assert _words(picked[1]) == ["brand", "post"]  # nothing left to top up with


def test_words_are_generic_only_from_four_themes_on():
    three = {t: ws for t, ws in _CANDIDATES.items() if t != 3}
    picked = FrequentInTheme(0.1, keep_at_least=0).extract_topics(_Model(), _DOCS, None, three)
    assert "freelance" in _words(picked[0])


def test_frequent_in_theme_min_passages_and_share():
    strict = FrequentInTheme(0.9, keep_at_least=0, max_themes_per_word=4)
    assert _words(strict.extract_topics(_Model(), _DOCS, None, _CANDIDATES)[0]) == ["rate"]
    loose = FrequentInTheme(0.1, min_passages=1, keep_at_least=0, max_themes_per_word=4)
    assert "once" in _words(loose.extract_topics(_Model(), _DOCS, None, _CANDIDATES)[0])


def test_final_keywords_prefer_words_said_together():
    docs = pd.DataFrame(
        {
            "Document": ["rate raise clients", "rate raise", "raise rate again",
                         "niche forecasting", "clients niche", "personal brand post",
                         "personal brand"],
            "Topic": [0, 0, 0, 0, 0, 1, 1],
        }
    )  # fmt: skip
    candidates = {
        0: [("rate", 0.9), ("niche", 0.8), ("raise", 0.7), ("forecasting", 0.6)],
        1: [("personal brand", 0.9), ("brand", 0.8), ("post", 0.7)],
    }
    picked = CoOccurringKeywords(top_n=2, weight=1.0).extract_topics(
        _Model(), docs, None, candidates
    )
    assert _words(picked[0]) == ["rate", "raise"]  # "raise" is said with "rate"; "niche" is not
    by_rank = CoOccurringKeywords(top_n=2, weight=0.0).extract_topics(
        _Model(), docs, None, candidates
    )
    assert _words(by_rank[0]) == ["rate", "niche"]
    three = CoOccurringKeywords(top_n=3, weight=1.0).extract_topics(
        _Model(), docs, None, candidates
    )
    assert _words(three[1]) == ["personal brand", "post"]  # "brand" adds no word


def test_keyword_set_is_improved_past_the_greedy_choice():
    # "b" is said with the anchor "a" most often, so greedy takes it second; but "c" and "d"
    # are said with "a" and with each other, and "b" with neither: swapping "b" out wins.
    docs = pd.DataFrame(
        {
            "Document": ["a b", "a b", "a c d", "a c d", "c d", "e", "e", "e f", "f"],
            "Topic": [0] * 9,
        }
    )
    candidates = {0: [("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.6)]}
    picked = CoOccurringKeywords(top_n=3, weight=5.0).extract_topics(
        _Model(), docs, None, candidates
    )
    assert _words(picked[0]) == ["a", "c", "d"]  # shown in candidate order, anchor first


def test_outlier_keywords_are_taken_by_rank():
    docs = pd.DataFrame({"Document": ["x y", "z"], "Topic": [-1, -1]})
    candidates = {-1: [("z", 0.9), ("", 0.0), ("x", 0.5), ("y", 0.4)]}
    picked = CoOccurringKeywords(top_n=2, weight=5.0).extract_topics(
        _Model(), docs, None, candidates
    )
    assert picked[-1] == [("z", 0.9), ("x", 0.5)]  # by rank, BERTopic's "" padding dropped


def test_npmi_pair_by_hand():
    assert themes.npmi_pair(0, 3, 2, 10) == -1.0
    assert themes.npmi_pair(10, 10, 10, 10) == 1.0
    assert themes.npmi_pair(2, 2, 2, 4) == pytest.approx(1.0)  # always together
    assert themes.npmi_pair(1, 2, 2, 4) == pytest.approx(0.0)  # independent


def test_mmr_never_asks_for_more_words_than_a_theme_has():
    model = _Model(_HashEmbedder())
    few = [("rate", 0.9), ("raise", 0.8), ("clients", 0.7)]
    many = [(f"word{i}", 1 - i / 20) for i in range(12)]
    with pytest.raises(ValueError):  # BERTopic's own step, asked for 5 of 3 candidates
        MaximalMarginalRelevance(diversity=0.3, top_n_words=5).extract_topics(
            model, None, None, {0: few}
        )
    topics = {0: few, 1: [("alone", 0.9), ("", 0.0)], 2: many}  # BERTopic pads with ""
    picked = AtMostMMR(diversity=0.3, top_n=5).extract_topics(model, None, None, topics)
    assert set(_words(picked[0])) == {"rate", "raise", "clients"}  # all the 3 words it has
    assert picked[1] == topics[1]  # one word: nothing to choose
    assert len(picked[2]) == 5 and _words(picked[2]) == [
        w for w, _ in many if w in _words(picked[2])
    ]


def test_keyword_steps_are_bertopic_representations_configured_from_settings():
    steps = representation_steps(ThemesConfig())
    assert [type(s) for s in steps] == [
        KeyBERTInspired,
        FrequentInTheme,
        AtMostMMR,
        CoOccurringKeywords,
    ]
    assert all(isinstance(s, BaseRepresentation) for s in steps)
    _, frequent, mmr, final = steps
    assert (frequent.min_share, frequent.max_theme_share, frequent.min_passages) == (0.1, 0.5, 2)
    assert (frequent.keep_at_least, frequent.max_themes_per_word) == (20, 2)
    assert (mmr.diversity, mmr.top_n) == (0.3, 40) and (final.top_n, final.weight) == (10, 3.0)
    custom = ThemesConfig(top_n_words=5, keyword_keep_factor=3, mmr_candidates_factor=6,
                          keyword_max_themes_per_word=1, keyword_min_passages=3,
                          keyword_max_theme_share=0.4)  # fmt: skip
    _, frequent, mmr, final = representation_steps(custom)
    assert (frequent.keep_at_least, frequent.max_themes_per_word, frequent.min_passages) == (
        15,
        1,
        3,
    )
    assert frequent.max_theme_share == 0.4 and mmr.top_n == 30 and final.top_n == 5
    assert frequent.get_params()["keep_at_least"] == 15  # a scikit-learn estimator, as BERTopic's


def test_mmr_candidates_must_fit_in_the_keyword_candidates():
    with pytest.raises(ConfigError, match=r"must be at least 6 x top_n_words \(60\)"):
        load_config(overrides=["themes.mmr_candidates_factor=6", "themes.keyword_candidates=50"])


# ------------------------------------------------------------------- labels


def test_key_phrase_recovers_what_people_said():
    texts = ["Most work comes by word of mouth.", "Word of mouth is everything.", "mouth word"]
    assert themes.key_phrase("word mouth", texts) == "word of mouth"
    assert (
        themes.make_label(["word mouth", "referrals", "word"], texts) == "word of mouth · referrals"
    )


def test_labels_bring_back_only_connecting_words():
    assert (
        themes.key_phrase("word mouth", ["by word of mouth mostly", "word of mouth"])
        == "word of mouth"
    )
    assert themes.key_phrase("write proposals", ["I write good proposals"]) == "write proposals"
    assert themes.key_phrase("rates", ["any text"]) == "rates"  # a unigram stays as it is


def test_make_label_takes_a_bigram_from_the_top_five_and_a_keyword_sharing_no_word():
    texts = ["I raise my rates every year", "raise rates again"]
    label = themes.make_label(["rates", "clients", "raise rates", "rates raise", "niche"], texts)
    assert label == "raise rates · clients"
    late = ["a", "b", "c", "d", "e", "raise rates"]  # the bigram is sixth: the first keyword leads
    assert themes.make_label(late, texts) == "a · b"
    assert themes.make_label([], texts) == "(no keywords)"
    long = themes.make_label(["alpha beta"], ["alpha of the beta"], max_words=2)
    assert long == "alpha of the"  # "alpha of the beta", cut to max_words + 1 words


# ---------------------------------------------------------------- the model


def test_membership_is_cosine_to_the_theme_centroid_and_zero_for_outliers():
    s = np.sqrt(0.5)
    vectors = np.array(
        [[1, 0], [0, 1], [0.6, 0.8], [0.8, 0.6], [1, 0], [1, 0], [-0.6, -0.8], [0, 1]],
        dtype=np.float32,
    )
    topics = [0, 0, 1, 1, 2, 2, 2, -1]
    got = membership(vectors, topics)
    assert got.dtype == np.float32 and got.shape == (8,)
    centroid2 = np.array([1.4, -0.8]) / np.linalg.norm([1.4, -0.8])
    expected = [s, s, 1.4 * s, 1.4 * s, centroid2[0], centroid2[0], 0.0, 0.0]
    assert got == pytest.approx(expected, abs=1e-6)  # negative similarity clipped, outlier 0
    assert membership(vectors, [-1] * 8).tolist() == [0.0] * 8


def test_backend_adapter_is_a_bertopic_backend_and_uses_the_cache(tmp_path):
    inner = _HashEmbedder()
    adapter = BackendAdapter(inner)
    assert isinstance(adapter, BaseEmbedder) and type(adapter) is type(BackendAdapter(inner))
    first = adapter.embed_words(["rate", "raise"])
    assert first.shape == (2, 8) and inner.encoded == ["rate", "raise"]
    cached = BackendAdapter(inner, tmp_path)
    cached.embed(["rate", "raise"])
    again = cached.embed_documents(["raise", "rate"])
    assert inner.encoded == ["rate", "raise"] * 2  # the second call came from the cache
    np.testing.assert_allclose(again, first[::-1])


def test_the_embedder_that_made_the_vectors_is_recorded(tmp_path):
    from pipeline.embed import Model2VecEmbedder, SentenceTransformerEmbedder

    minilm = SentenceTransformerEmbedder()
    assert embedding_record(minilm, tmp_path) == {
        "embedding_backend": "sentence-transformers",
        "embedding_source": "all-MiniLM-L6-v2",
    }
    static = Model2VecEmbedder(minilm, tmp_path / "cache")
    record = embedding_record(static, tmp_path)
    assert record["embedding_backend"] == "model2vec"
    assert tmp_path / record["embedding_source"] == static.folder  # relative to the output folder
    assert embedding_record(_HashEmbedder(), tmp_path)["embedding_source"] is None
    with pytest.raises(ArtifactError, match="static model .* is missing"):
        _embedding_model({**record, "embedding_model": static.model_id}, tmp_path)


# ------------------------------------------- redaction marks, generic words, flags

_MARKED = (
    "I told xxxxxxx and XXX about pricing [inaudible] [crosstalk] [laughter] at Company 1, "
    "with Participant 2, [name], <redacted> and PERSON_1 at 04 10, at 00:12:33 and \\[04:10\\]; "
    "then [NAME] and [name of company] (laughs), and Person 3 of Organisation 2 said rates."
)


def test_redaction_marks_and_timestamps_are_never_tokens():
    analyzer = themes.LemmaAnalyzer({}, {}, themes.stop_words())
    assert analyzer(_MARKED) == ["pricing", "rates"]  # marks break clauses: no bigram over one
    assert analyzer.content_words(_MARKED) == 2
    # editorial insertions and asides in brackets are what people said: kept
    kept = analyzer("I use it [on PyPI] daily (company was small) on my [iPad]")
    assert {"pypi", "daily", "company", "small", "ipad"} <= set(kept)


def test_labels_never_show_a_placeholder_or_mark():
    texts = [_MARKED, "Person 1 job market rates", "PERSON_1 job"]
    marks = ["xxxxxxx", "xxx", "inaudible", "company 1", "participant 2", "[name]",
             "<redacted>", "person_1", "04 10", "00:12:33", "person 1", "laughter"]  # fmt: skip
    for mark in marks:
        assert themes.labels.is_mark(mark), mark
    label = themes.make_label([*marks, "job market", "rates"], texts)
    assert label == "job market · rates"
    assert themes.make_label(marks, texts) == "(no keywords)"
    # a phrase is never stretched over a placeholder's number: "person 1 job"
    assert themes.key_phrase("person job", ["Person 1 job", "PERSON_1 job"]) == "person job"
    assert not themes.labels.is_mark("word of mouth") and not themes.labels.is_mark("full-time")


def test_labels_pass_over_generic_words_while_the_theme_has_others():
    texts = ["years ago people paid hourly", "the way people change jobs"]
    keywords = ["change", "way", "person", "years", "outages", "years ago"]
    # "way", "person" and "years" alone are generic; "years ago" holds "ago", which is not,
    # so it is a key phrase, and among the top five once the generic words are passed over
    assert themes.make_label(keywords, texts) == "years ago · change"
    assert (
        themes.make_label(["person", "job", "new", "contributors"], texts) == "job · contributors"
    )
    assert themes.make_label(["issues", "years", "outages"], texts) == "issues · outages"
    assert themes.make_label(["way", "people"], texts) == "way · people"  # nothing else to say
    assert themes.make_label(["way", "people"], texts, generic=frozenset()) == "way · people"
    assert themes.make_label(["way", "pricing"], texts, generic=frozenset()) == "way · pricing"
    assert themes.make_label(["way", "pricing"], texts) == "pricing"


def test_label_extra_keyword_is_not_another_form_of_the_head():
    texts = ["sustainability of the project", "sustainable funding"]
    label = themes.make_label(["sustainability", "sustainable", "funding"], texts)
    assert label == "sustainability · funding"
    assert themes.make_label(["freelance", "freelancing", "rates"], texts) == "freelance · rates"
    assert themes.make_label(["rate", "raise"], texts) == "rate · raise"  # "ra" is not a word


def test_a_theme_carried_by_one_conversation_is_flagged():
    from pipeline.themes.tables import THEME_COLUMNS, summarise_themes

    class _Topics:
        def get_topic(self, topic):
            return [("rates", 1.0), ("clients", 0.5)] if topic == 0 else [("brand", 1.0)]

    assigned = pd.DataFrame(
        {
            "theme_id": [0, 0, 0, 0, 1, 1, 1, 1],
            "interview_id": ["a", "b", "c", "a", "d", "d", "d", "b"],
            "passage_id": [f"p{i}" for i in range(8)],
            "probability": [0.9] * 8,
            "section": ["past"] * 8,
            "clean_text": ["rates and clients"] * 4 + ["my brand"] * 4,
        }
    )
    table = summarise_themes(_Topics(), assigned, ThemesConfig())
    assert list(table.columns) == THEME_COLUMNS
    by_id = table.set_index("theme_id")
    assert by_id.loc[0, "top_conversation_share"] == 0.5  # half from "a": not "most"
    assert not by_id.loc[0, "single_conversation"]
    assert by_id.loc[1, "top_conversation_share"] == 0.75
    assert by_id.loc[1, "single_conversation"]
    strict = summarise_themes(_Topics(), assigned, ThemesConfig(single_conversation_share=0.8))
    assert not strict["single_conversation"].any()


def test_too_few_passages_say_so_with_the_numbers():
    from pipeline.themes.stage import too_few

    cfg = ThemesConfig()
    assert too_few(cfg.min_passages, 3, cfg) is None
    reason = too_few(9, 2, cfg)
    assert reason.startswith("No themes: 2 conversations with 9 passages to theme are too few")
    assert f"at least {cfg.min_passages} passages" in reason
    assert too_few(1, 1, cfg).startswith("No themes: 1 conversation with 1 passage to theme is")
    assert too_few(9, 2, ThemesConfig(min_passages=8)) is None
    with pytest.raises(ConfigError):
        load_config(overrides=["themes.min_passages=2"])


def test_language_notes_name_what_the_english_model_cannot_theme():
    from pipeline.themes.stage import english_only, language_notes

    assert english_only("sentence-transformers/all-MiniLM-L6-v2@53aa51172d14")
    assert english_only("model2vec(sentence-transformers/all-MiniLM-L6-v2@53aa51172d14)")
    assert not english_only("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2@x")
    zh = pd.DataFrame({"language": ["zh"] * 3 + ["en"], "interview_id": list("abcd")})
    notes = language_notes(zh, {}, "sentence-transformers/all-MiniLM-L6-v2@x")
    assert len(notes) == 1 and "3 of the 4 passages themed are in Chinese (zh)" in notes[0]
    assert "embed.model" in notes[0] and "multilingual" in notes[0]
    assert language_notes(zh, {}, "paraphrase-multilingual-MiniLM-L12-v2") == []
    english = zh.assign(language="en")
    left = language_notes(english, {"fr": 5}, "all-MiniLM-L6-v2")
    assert len(left) == 1 and "French (fr): 5" in left[0]
    assert "themes.include_other_languages" in left[0]
