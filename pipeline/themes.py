"""Themes: BERTopic composed for interview passages.

Plain ``BERTopic()`` on interview sentences gives dozens of tiny topics, half the
passages as outliers and labels like ``no_yes_yeah_oh``. Here every step is a
component chosen for interview text, passed in as BERTopic intends:

- reduction: UMAP with neighbours scaled to the corpus size and a fixed seed;
- clustering: for small corpora (a 10-call study has a few hundred passages) k-means
  with k chosen by silhouette, which gives no outliers; for large ones HDBSCAN with
  sizes derived from the number of passages, then outliers reassigned where they fit;
- vectorizer: words grouped by spaCy lemma but shown in their most common surface
  form, with stop words, conversational filler, anonymisation placeholders and
  speaker names removed; unigrams and bigrams;
- c-TF-IDF with ``reduce_frequent_words``; keywords from KeyBERTInspired then
  MaximalMarginalRelevance; a short label made from the best key phrase.

``run(out_dir, config)`` writes themes.parquet, assignments.parquet,
theme_sections.parquet, theme_interviews.parquet, hierarchy.parquet and the fitted
model (safetensors) under ``themes_model/``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.metrics import silhouette_score

from . import lineage
from .artifacts import (
    ASSIGNMENTS,
    HIERARCHY,
    INTERVIEWS,
    PASSAGES,
    THEME_INTERVIEWS,
    THEME_SECTIONS,
    THEMES,
    read_table,
    replace_folder,
    write_json,
    write_table,
)
from .config import Config, ThemesConfig
from .ingest.roles import INTERVIEWEE
from .passages import PLACEHOLDER_RE

os.environ.setdefault("TQDM_DISABLE", "1")  # BERTopic's inner progress bars would interleave with ours
log = logging.getLogger(__name__)
MODEL_DIR = "themes_model"
THEMES_INFO = "themes.json"
OUTLIER = -1

# Words people say in every conversation, whatever it is about.
CONVERSATIONAL = frozenset(
    """don dont didn didnt doesn doesnt isn isnt wasn wasnt aren arent couldn couldnt wouldn wouldnt
    shouldn shouldnt haven havent hasn hasnt won wont ca cant im ive youre youve theyre weve thats ll ve re
    like yeah yes yep yup ya know gonna wanna gotta kind sort thing things really actually basically
    literally honestly just okay ok right um uh uhm umm mm hmm mhm oh ah eh stuff lot lots pretty maybe
    guess think thought mean meant say said tell told get got go going went come came make made do did does
    doing done want wanted bit little good great well sure exactly totally definitely probably
    obviously anyway anyways whatever somebody someone something everything anything nothing
    everybody anybody guy guys kinda sorta alright cool nice fine lol laugh laughs laughing hey hi
    hello bye thanks thank sorry wow huh let look looked looking feel felt able sure end
    usually interesting different try tried trying talk talked talking need needed needs sounds""".split()
)


def stop_words(names: list[str] = (), extra: list[str] = ()) -> frozenset[str]:
    tokens = {w.casefold() for name in names for w in re.findall(r"[^\W\d_]+", str(name))}
    return frozenset(ENGLISH_STOP_WORDS) | CONVERSATIONAL | tokens | {w.casefold() for w in extra}


_WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_CLAUSE_RE = re.compile(r"[.,;:!?()\[\]\"“”—–…/]+|\s-\s")


class LemmaAnalyzer:
    """Text -> unigrams and bigrams of content words, grouped by lemma.

    Words are mapped to their spaCy lemma (learnt from the passages' aligned
    ``lemmas``/``words``) and shown as the lemma's most common surface word, so
    "client"/"clients" count together and read as "clients", and "data" is not shown
    as spaCy's "datum". Bigrams never cross punctuation, so "...hours. Hourly..." does
    not make the phrase "hours hourly". Works on any text, including the per-theme
    concatenations c-TF-IDF feeds it.
    """

    def __init__(self, word_lemma: dict[str, str], canonical: dict[str, str], stop: frozenset[str]):
        self.word_lemma = word_lemma
        self.canonical = canonical
        self.stop = stop

    @classmethod
    def from_passages(cls, passages: pd.DataFrame, stop: frozenset[str]) -> LemmaAnalyzer:
        forms: dict[str, Counter[str]] = defaultdict(Counter)
        lemma_of: dict[str, Counter[str]] = defaultdict(Counter)
        for lemmas, words in zip(passages["lemmas"], passages["words"]):
            for lemma, word in zip(str(lemmas).split(), str(words).split()):
                forms[lemma][word] += 1
                lemma_of[word][lemma] += 1
        pick = lambda c: sorted(c.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0]  # noqa: E731
        return cls({w: pick(c) for w, c in lemma_of.items()}, {lemma: pick(c) for lemma, c in forms.items()}, stop)

    def token(self, word: str) -> str | None:
        word = word.lower().replace("’", "'")
        if word in self.stop or word.replace("'", "") in self.stop or "'" in word:
            return None
        lemma = self.word_lemma.get(word, word)
        if lemma in self.stop or len(word) < 2:
            return None
        form = self.canonical.get(lemma, word)
        return None if form in self.stop else form

    def content_words(self, text: str) -> int:
        return sum(1 for w in _WORD_RE.findall(PLACEHOLDER_RE.sub(" ", str(text))) if self.token(w))

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        text = PLACEHOLDER_RE.sub(" , ", str(text))  # "Company 1" is anonymisation, not a theme
        for clause in _CLAUSE_RE.split(text):
            tokens = [t for t in (self.token(w) for w in _WORD_RE.findall(clause)) if t]
            out += tokens
            out += [f"{a} {b}" for a, b in zip(tokens, tokens[1:]) if a != b]
        return out


class SilhouetteKMeans(ClusterMixin, BaseEstimator):
    """k-means with k chosen by silhouette score: every passage gets a theme (no outliers).

    The silhouette curve over k is flat, so on one UMAP layout its argmax can swing by
    several themes when the vectors change in the sixth or seventh decimal (another
    machine, another torch thread count). ``other_views`` are the same passages laid out by UMAP
    with other seeds; the score of a k is its silhouette averaged over all layouts, and
    the final k-means runs on ``X`` (BERTopic's own layout) only.
    """

    def __init__(self, k_min: int = 4, k_max: int = 20, random_state: int = 42, other_views=()):
        self.k_min = k_min
        self.k_max = k_max
        self.random_state = random_state
        self.other_views = other_views

    def fit(self, X, y=None):
        X = np.asarray(X)
        n = len(X)
        views = [X] + [np.asarray(v) for v in self.other_views]
        if any(len(v) != n for v in views):
            raise ValueError(f"every layout must hold the same {n} passages")
        k_max = max(2, min(self.k_max, n - 1))
        k_min = max(2, min(self.k_min, k_max))
        self.scores_ = {}
        best = None
        for k in range(k_min, k_max + 1):
            fits = [KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(v) for v in views]
            score = float(np.mean([silhouette_score(v, f.labels_, random_state=self.random_state)
                                   for v, f in zip(views, fits)])) if k < n else -1.0
            self.scores_[k] = score
            if best is None or score > best[0] + 1e-9:
                best = (score, fits[0])
        self.model_ = best[1]
        self.n_clusters_ = int(self.model_.n_clusters)
        self.labels_ = self.model_.labels_
        self.cluster_centers_ = self.model_.cluster_centers_
        return self

    def predict(self, X):
        return self.model_.predict(np.asarray(X))


class FrequentInTheme:
    """Keep keywords that recur within the theme and do not recur in every theme.

    KeyBERT-style ranking favours words close to the theme's centroid even when only
    one passage says them, and words central to the whole corpus ("freelance" in a
    study of freelancers) for every theme. A reader trusts keywords that recur in the
    theme and tell it apart: a word must be used by ``min_share`` of the theme's
    passages, and is dropped as corpus-generic when it is that common in more than
    ``max_theme_share`` of all themes. A word left a candidate of many themes
    ("company") stays only in the ``max_themes_per_word`` themes whose passages use
    it most, so keywords tell the themes apart. Sits between KeyBERTInspired and MMR.
    """

    def __init__(self, min_share: float = 0.1, max_theme_share: float = 0.5, min_passages: int = 2,
                 keep_at_least: int = 10, max_themes_per_word: int = 2):
        self.min_share = min_share
        self.max_theme_share = max_theme_share
        self.min_passages = min_passages
        self.keep_at_least = keep_at_least
        self.max_themes_per_word = max_themes_per_word

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics: dict) -> dict:
        analyzer = topic_model.vectorizer_model.build_analyzer()
        frequent: dict[int, set[str]] = {}
        df_by_topic: dict[int, Counter[str]] = {}
        size: dict[int, int] = {}
        for topic in topics:
            df: Counter[str] = Counter()
            docs = documents.loc[documents.Topic == topic, "Document"]
            for doc in docs:
                df.update(set(analyzer(doc)))
            need = max(self.min_passages, self.min_share * len(docs))
            df_by_topic[topic] = df
            size[topic] = max(1, len(docs))
            frequent[topic] = {w for w, n in df.items() if n >= need}
        real = [t for t in topics if t != OUTLIER]
        spread = Counter(w for t in real for w in frequent[t])
        generic = {w for w, n in spread.items() if len(real) >= 4 and n > self.max_theme_share * len(real)}
        owners: dict[str, set[int]] = {}
        for w in {w for t in real for w, _ in topics[t] if w}:
            using = sorted((t for t in real if df_by_topic[t][w]), key=lambda t: (-df_by_topic[t][w] / size[t], t))
            owners[w] = set(using[: self.max_themes_per_word])
        out = {}
        for topic, words in topics.items():
            candidates = [(w, score) for w, score in words
                          if w and w not in generic and (topic == OUTLIER or topic in owners.get(w, {topic}))]
            kept = [(w, score) for w, score in candidates if w in frequent[topic]]
            if len(kept) < self.keep_at_least:  # MMR needs enough candidates; top up by frequency
                df = df_by_topic[topic]
                rest = sorted((ws for ws in candidates if ws not in kept), key=lambda ws: -df[ws[0]])
                kept += rest[: self.keep_at_least - len(kept)]
            out[topic] = kept
        return out


class CoOccurringKeywords:
    """Pick the final keywords as a set that is said together, not just each near the theme.

    A reader trusts "rate · raise · clients" when the theme's passages use those words in
    the same breath; ten words each close to the theme's centroid but never said in one
    passage read as a bag. From the candidates (best first), the set of ``top_n``
    keywords maximises its mean relevance (1 for the best candidate down to 0 for the
    last) plus ``weight`` times the mean NPMI of its pairs, co-occurrence counted within
    passages (a pair never said together scores -1). The most relevant candidate anchors
    the set, so the theme keeps its name; the rest are added greedily, then swapped one
    at a time while the set's value rises (greedy alone keeps an early word that later
    ones are never said with). The set is shown in candidate order, so the label is made
    from its most relevant words. A candidate whose words all come with another chosen
    keyword ("brand" beside "personal brand") is not taken.
    """

    def __init__(self, top_n: int = 10, weight: float = 1.0):
        self.top_n = top_n
        self.weight = weight

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics: dict) -> dict:
        analyzer = topic_model.vectorizer_model.build_analyzer()
        doc_words = [{part for token in analyzer(doc) for part in token.split()} for doc in documents["Document"]]
        index: dict[str, set[int]] = {}
        for i, words in enumerate(doc_words):
            for w in words:
                index.setdefault(w, set()).add(i)
        out = {}
        for topic, words in topics.items():
            candidates = list(dict.fromkeys(w for w, _ in words if w))
            if topic == OUTLIER or len(candidates) <= 1:
                out[topic] = [(w, score) for w, score in words if w][: self.top_n]
                continue
            chosen = self._best_set(candidates, index, len(doc_words))
            score_of = dict(words)
            out[topic] = [(w, score_of[w]) for w in candidates if w in chosen]
        return out

    def _best_set(self, candidates: list[str], index: dict[str, set[int]], n_docs: int) -> set[str]:
        def docs_with(keyword: str) -> set[int]:
            parts = keyword.split()
            found = set(index.get(parts[0], set()))
            for part in parts[1:]:
                found &= index.get(part, set())
            return found

        sets = [docs_with(w) for w in candidates]
        m = len(candidates)
        relevance = np.array([1 - r / (m - 1) for r in range(m)])
        pair = np.full((m, m), -1.0)
        np.fill_diagonal(pair, 0.0)  # a word with itself is not a pair
        for i in range(m):
            for j in range(i + 1, m):
                pair[i, j] = pair[j, i] = npmi_pair(len(sets[i] & sets[j]), len(sets[i]), len(sets[j]), n_docs)
        parts = [frozenset(w.split()) for w in candidates]

        def fits(i: int, members: list[int]) -> bool:
            return all(not (parts[i] <= parts[j] or parts[j] <= parts[i]) for j in members)

        def value(members: list[int]) -> float:
            k = len(members)
            coherence = pair[np.ix_(members, members)].sum() / (k * (k - 1)) if k > 1 else 0.0
            return float(relevance[members].mean() + self.weight * coherence)

        members = [0]  # the theme's most relevant candidate anchors the set (and the label)
        while len(members) < self.top_n:
            options = [i for i in range(m) if i not in members and fits(i, members)]
            if not options:
                break
            members.append(max(options, key=lambda i: (value(members + [i]), -i)))
        current = value(members)
        improved = True
        while improved:  # one-word swaps, never of the anchor, while the set's value rises
            improved = False
            for pos in range(1, len(members)):
                rest = members[:pos] + members[pos + 1:]
                for i in range(m):
                    if i in members or not fits(i, rest):
                        continue
                    if value(rest + [i]) > current + 1e-12:
                        members, current, improved = rest + [i], value(rest + [i]), True
                        break
        return {candidates[i] for i in members}


def npmi_pair(joint: int, n_a: int, n_b: int, n: int) -> float:
    """Normalised PMI of two words from passage counts; -1 when never said together."""
    if not joint or not n_a or not n_b:
        return -1.0
    p_ab = joint / n
    if p_ab >= 1.0:
        return 1.0
    return math.log(p_ab / ((n_a / n) * (n_b / n))) / -math.log(p_ab)



class AtMostMMR:
    """BERTopic's MaximalMarginalRelevance, asked for no more words than a theme has candidates (it fails otherwise)."""

    def __init__(self, diversity: float, top_n: int):
        self.diversity = diversity
        self.top_n = top_n

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics: dict) -> dict:
        from bertopic.representation import MaximalMarginalRelevance

        out = {}
        for topic, words in topics.items():
            n = min(self.top_n, len([w for w, _ in words if w]))
            if n < 2:
                out[topic] = words
                continue
            step = MaximalMarginalRelevance(diversity=self.diversity, top_n_words=n)
            out.update(step.extract_topics(topic_model, documents, c_tf_idf, {topic: words}))
        return out


def _as_representation(obj):
    """Make a duck-typed representation step acceptable to BERTopic's chain."""
    from bertopic.representation._base import BaseRepresentation

    class _Step(BaseRepresentation):
        def __init__(self, inner):
            self.inner = inner

        def extract_topics(self, topic_model, documents, c_tf_idf, topics):
            return self.inner.extract_topics(topic_model, documents, c_tf_idf, topics)

    return _Step(obj)


@dataclass
class ThemeModelParts:
    """The components the stage chose, recorded for the report's Method section."""

    clustering: str
    params: dict[str, Any] = field(default_factory=dict)


def _umap(n: int, cfg: ThemesConfig, seed: int | None = None):
    from umap import UMAP

    return UMAP(
        n_neighbors=max(2, min(cfg.umap_neighbors, n - 1)),
        n_components=min(cfg.umap_components, max(2, n - 2)),
        min_dist=0.0,
        metric="cosine",
        random_state=cfg.seed if seed is None else seed,
        low_memory=True,
    )


def choose_clustering(n: int, cfg: ThemesConfig, embeddings: np.ndarray | None = None) -> tuple[Any, ThemeModelParts]:
    """The clustering component; with ``embeddings``, k-means's k is judged on several UMAP layouts."""
    if n < cfg.hdbscan_min_passages:
        # Silhouette on UMAP output is flat and keeps rising with k (it rewards ever
        # smaller micro-clusters), so it only chooses within a sane range around the
        # rule of thumb sqrt(n/2): from half of it to it.
        rule = max(2, round(math.sqrt(n / 2)))
        k_max = cfg.k_max or max(cfg.k_min, min(40, rule))
        k_min = min(k_max, max(cfg.k_min, rule // 2))
        views = []
        if embeddings is not None:
            views = [_umap(n, cfg, cfg.seed + i).fit_transform(embeddings) for i in range(1, cfg.k_layouts)]
        layouts = 1 + len(views)
        return SilhouetteKMeans(k_min, k_max, cfg.seed, views), ThemeModelParts(
            f"k-means (k by silhouette over {layouts} UMAP layout{'s' if layouts > 1 else ''})",
            {"k_min": k_min, "k_max": k_max, "k_layouts": layouts},
        )
    from hdbscan import HDBSCAN

    size = cfg.min_theme_size or max(10, round(n * 0.005))
    return HDBSCAN(
        min_cluster_size=size, min_samples=max(3, size // 2), metric="euclidean",
        cluster_selection_method="eom", prediction_data=True,
    ), ThemeModelParts("HDBSCAN + outlier reassignment", {"min_cluster_size": size})


_PHRASE_CACHE: dict[tuple[str, str], str] = {}


def key_phrase(keyword: str, texts: list[str]) -> str:
    """Turn a bigram keyword back into the phrase people said ("word mouth" -> "word of mouth")."""
    parts = keyword.split()
    if len(parts) < 2:
        return keyword
    # Only connecting words may come back between the parts ("word of mouth"); a content or
    # filler word ("write good proposals") would change what the label claims.
    connector = r"(?:of|a|an|the|to|in|on|for|and|or|with)\s+"
    pattern = re.compile(
        r"\b" + (r"\w*\s+(?:" + connector + "){0,2}").join(re.escape(p) for p in parts) + r"\w*\b", re.I
    )
    found = Counter(m.group(0).lower() for t in texts for m in pattern.finditer(t))
    if not found:
        return keyword
    return sorted(found.items(), key=lambda kv: (-kv[1], len(kv[0])))[0][0]


def make_label(keywords: list[str], texts: list[str], max_words: int = 5) -> str:
    """A short readable label: the best bigram as a phrase, plus one more distinct keyword."""
    if not keywords:
        return "(no keywords)"
    head = next((k for k in keywords[:5] if " " in k), keywords[0])
    phrase = key_phrase(head, texts)
    used = set(head.split())
    extra = next((k for k in keywords if not set(k.split()) & used and k not in phrase), None)
    label = phrase if extra is None else f"{phrase} · {extra}"
    words = label.split()
    return " ".join(words[:max_words + 1]) if len(words) > max_words + 1 else label


def _vectorizer(analyzer: LemmaAnalyzer, n_docs: int) -> CountVectorizer:
    return CountVectorizer(analyzer=analyzer, min_df=2 if n_docs >= 50 else 1)


def build_topic_model(embedder, n: int, analyzer: LemmaAnalyzer, cfg: ThemesConfig,
                      embeddings: np.ndarray | None = None):
    from bertopic import BERTopic
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
    from bertopic.vectorizers import ClassTfidfTransformer

    cluster, parts = choose_clustering(n, cfg, embeddings)
    representation = [
        KeyBERTInspired(top_n_words=cfg.keyword_candidates, nr_candidate_words=cfg.keyword_candidates,
                        random_state=cfg.seed),
        _as_representation(FrequentInTheme(cfg.keyword_min_share, keep_at_least=2 * cfg.top_n_words)),
        _as_representation(AtMostMMR(cfg.mmr_diversity, 4 * cfg.top_n_words)),
        _as_representation(CoOccurringKeywords(cfg.top_n_words, cfg.keyword_cooccurrence_weight)),
    ]
    model = BERTopic(
        embedding_model=embedder,
        umap_model=_umap(n, cfg),
        hdbscan_model=cluster,
        vectorizer_model=_vectorizer(analyzer, n),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=representation,
        top_n_words=cfg.top_n_words,
        calculate_probabilities=False,
    )
    return model, parts


class BackendAdapter:
    """Any of our embedders as a BERTopic embedding backend (used for KeyBERT word vectors).

    With a cache folder, word and document vectors go through the same on-disk cache as
    passages: KeyBERTInspired re-embeds the same candidate words for every theme, for
    topics_per_class and for every node of the hierarchy.
    """

    def __new__(cls, embedder, store: Path | None = None):
        from bertopic.backend import BaseEmbedder

        from .embed import embed_texts

        class _Adapter(BaseEmbedder):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def embed(self, documents, verbose=False):
                documents = [str(d) for d in documents]
                if store is None:
                    return self.inner.encode(documents)
                return embed_texts(documents, self.inner, store)[0]

        return _Adapter(embedder)


def speaker_names(passages: pd.DataFrame, interviews: pd.DataFrame) -> list[str]:
    """Every name we know of, so names never become theme keywords."""
    names = [str(v) for v in passages["speaker"].dropna()]
    for col in ("interviewer", "interviewee", "speakers"):
        if col in interviews.columns:
            names += [str(v) for v in interviews[col].dropna()]
    return names


def analyzer_for(texts: pd.DataFrame, passages: pd.DataFrame, interviews: pd.DataFrame,
                 cfg: ThemesConfig) -> LemmaAnalyzer:
    """The themes vectorizer's analyzer, learnt from ``texts``, with every known name stopped."""
    stop = stop_words(speaker_names(passages, interviews), cfg.extra_stop_words)
    return LemmaAnalyzer.from_passages(texts, stop)


def theme_passages(passages: pd.DataFrame, cfg: ThemesConfig) -> tuple[pd.Series, dict[str, int]]:
    """Which passages are themed: interviewee speech in the main language (by default)."""
    answers = passages["role"] == INTERVIEWEE
    main = passages["in_main_language"].fillna(False)
    other = answers & ~main
    left_out = Counter(passages.loc[other, "language"])
    if cfg.include_other_languages:
        if other.any():
            log.warning(
                "theming %d passages in %s together with the main language: embed.model must be multilingual",
                int(other.sum()), ", ".join(sorted(left_out)),
            )
        return answers, {}
    if other.any():
        n_conv = passages.loc[other, "interview_id"].nunique()
        log.warning(
            "%d passages from %d conversation(s) in %s left out of theming (another language than the corpus's); "
            "set themes.include_other_languages: true with a multilingual embed.model to include them",
            int(other.sum()), n_conv, ", ".join(sorted(left_out)),
        )
    return answers & main, dict(left_out)


def _sections(out_dir: Path, passages: pd.DataFrame) -> pd.Series:
    from .artifacts import SEGMENTS

    path = SEGMENTS.path(out_dir)
    if not path.is_file():
        return pd.Series("all", index=passages.index, dtype="string")
    segments = read_table(SEGMENTS, out_dir)
    by_passage = segments.dropna(subset=["passage_id"]).set_index("passage_id")["section"]
    return passages["passage_id"].map(by_passage).fillna("unknown").astype("string")


def fit_themes(docs: list[str], embeddings: np.ndarray, embedder, analyzer: LemmaAnalyzer, cfg: ThemesConfig,
               store: Path | None = None):
    """Fit the composed BERTopic; return (model, topics, probabilities, parts)."""
    model, parts = build_topic_model(BackendAdapter(embedder, store), len(docs), analyzer, cfg, embeddings)
    topics, probs = model.fit_transform(docs, embeddings=embeddings)
    topics = list(topics)
    scores = getattr(model.hdbscan_model, "scores_", None)
    if scores:
        parts.params["silhouette"] = {str(k): round(v, 4) for k, v in scores.items()}
    if OUTLIER in topics and cfg.reduce_outliers:
        before = topics.count(OUTLIER)
        new = model.reduce_outliers(docs, topics, strategy="embeddings", embeddings=embeddings,
                                    threshold=cfg.outlier_threshold)
        model.update_topics(docs, topics=list(new), vectorizer_model=model.vectorizer_model,
                            ctfidf_model=model.ctfidf_model, representation_model=model.representation_model,
                            top_n_words=cfg.top_n_words)
        topics = list(new)
        parts.params["outliers_reassigned"] = before - topics.count(OUTLIER)
    return model, topics, probs, parts


def membership(embeddings: np.ndarray, topics: list[int], model) -> np.ndarray:
    """Cosine similarity of each passage to its theme's centroid (0 for outliers)."""
    topic_embeddings = np.asarray(model.topic_embeddings_)
    offset = int(getattr(model, "_outliers", 0))  # row 0 holds the outlier topic when there is one
    norms = np.linalg.norm(topic_embeddings, axis=1, keepdims=True)
    topic_embeddings = topic_embeddings / np.where(norms == 0, 1, norms)
    out = np.zeros(len(topics), dtype=np.float32)
    for i, t in enumerate(topics):
        if t != OUTLIER:
            out[i] = float(embeddings[i] @ topic_embeddings[t + offset])
    return np.clip(out, 0, 1)


def run(out_dir: Path, config: Config, embedder=None) -> pd.DataFrame:
    from .embed import load_embeddings, make_embedder

    out_dir = Path(out_dir)
    with lineage.producing(out_dir, "themes", config):
        cfg = config.themes
        passages = read_table(PASSAGES, out_dir)
        vectors, info = load_embeddings(out_dir, passages)
        if embedder is None:
            embedder = make_embedder(config.embed, out_dir / "cache")
        if embedder.model_id != info["model_id"]:
            from .artifacts import ArtifactError

            raise ArtifactError(
                f"embeddings were made with {info['model_id']}, config asks for {embedder.model_id}: run `insights embed` again"
            )
        mask, left_out = theme_passages(passages, cfg)
        interviews = read_table(INTERVIEWS, out_dir)
        analyzer = analyzer_for(passages[mask], passages, interviews, cfg)
        # Small talk ("Thanks so much for doing this") has no content words to theme.
        contentful = passages["clean_text"].map(lambda t: analyzer.content_words(t) >= cfg.min_content_words)
        n_small_talk = int((mask & ~contentful).sum())
        mask = mask & contentful
        selected = passages[mask].reset_index(drop=True)
        emb = vectors[mask.to_numpy()]
        if len(selected) < 10:
            raise ValueError(f"only {len(selected)} interviewee passages to theme; themes need at least 10")
        docs = selected["clean_text"].tolist()
        model, topics, probs, parts = fit_themes(docs, emb, embedder, analyzer, cfg, out_dir / "cache" if config.embed.cache else None)

        selected["theme_id"] = topics
        selected["probability"] = membership(emb, topics, model)
        if probs is not None and np.ndim(probs) == 1 and len(probs) == len(topics):
            selected["probability"] = np.where(np.asarray(topics) == OUTLIER, 0.0, probs)
        selected["section"] = _sections(out_dir, selected).to_numpy()

        themes = summarise_themes(model, selected, cfg)
        write_table(selected[["passage_id", "interview_id", "theme_id", "probability", "section"]], ASSIGNMENTS, out_dir)
        write_table(themes, THEMES, out_dir)
        write_table(section_table(model, selected, docs), THEME_SECTIONS, out_dir)
        write_table(interview_matrix(selected), THEME_INTERVIEWS, out_dir)
        write_table(hierarchy_table(model, docs), HIERARCHY, out_dir)
        save_model(model, embedder, out_dir / MODEL_DIR)
        n_out = int((selected["theme_id"] == OUTLIER).sum())
        write_json({
            "clustering": parts.clustering, "params": parts.params, "seed": cfg.seed,
            "n_passages": len(selected), "n_themes": int((themes["theme_id"] != OUTLIER).sum()),
            "outliers": n_out, "outlier_share": round(n_out / len(selected), 4),
            "left_out_small_talk": n_small_talk,
            "left_out_languages": left_out, "embedding_model": info["model_id"],
            "passages_sha256": info["passages_sha256"],
        }, out_dir / THEMES_INFO)
        log.info("%d themes over %d passages (%s); %d outliers", int((themes["theme_id"] != OUTLIER).sum()),
                 len(selected), parts.clustering, n_out)
        return themes


def summarise_themes(model, assigned: pd.DataFrame, cfg: ThemesConfig) -> pd.DataFrame:
    rows = []
    n_interviews = assigned["interview_id"].nunique()
    for theme_id, group in assigned.groupby("theme_id", sort=True):
        keywords = [w for w, _ in (model.get_topic(int(theme_id)) or []) if w]
        texts = group["clean_text"].tolist()
        label = "(outliers)" if theme_id == OUTLIER else make_label(keywords, texts)
        best = group.sort_values(["probability", "passage_id"], ascending=[False, True]).head(3)
        sections = group["section"].value_counts(normalize=True).round(4).to_dict()
        rows.append({
            "theme_id": int(theme_id),
            "label": label,
            "keywords": "; ".join(keywords),
            "size": len(group),
            "n_interviews": group["interview_id"].nunique(),
            "share_of_interviews": round(group["interview_id"].nunique() / n_interviews, 4),
            "interviews": "; ".join(sorted(group["interview_id"].unique())),
            "representative_passages": "; ".join(best["passage_id"]),
            "section_shares": json.dumps(sections, sort_keys=True),
        })
    return pd.DataFrame(rows)


def section_table(model, assigned: pd.DataFrame, docs: list[str]) -> pd.DataFrame:
    counts = assigned.groupby(["theme_id", "section"]).size().rename("n_passages").reset_index()
    totals = assigned.groupby("section").size()
    counts["share_of_section"] = (counts["n_passages"] / counts["section"].map(totals)).round(4)
    counts["n_interviews"] = [
        assigned[(assigned.theme_id == t) & (assigned.section == s)]["interview_id"].nunique()
        for t, s in zip(counts.theme_id, counts.section)
    ]
    try:  # BERTopic's own per-class keywords, for readers who want them
        per_class = model.topics_per_class(docs, classes=assigned["section"].tolist())
        words = {(int(r.Topic), str(r.Class)): str(r.Words) for r in per_class.itertuples()}
    except Exception as exc:  # topics_per_class fails on degenerate inputs (one class, tiny topics)
        log.debug("topics_per_class failed: %s", exc)
        words = {}
    counts["keywords"] = [words.get((int(t), str(s)), "") for t, s in zip(counts.theme_id, counts.section)]
    return counts


def interview_matrix(assigned: pd.DataFrame) -> pd.DataFrame:
    return assigned.groupby(["theme_id", "interview_id"]).size().rename("n_passages").reset_index()


def hierarchy_table(model, docs: list[str]) -> pd.DataFrame:
    columns = ["parent_id", "parent_name", "child_left_id", "child_left_name", "child_right_id",
               "child_right_name", "distance", "topics"]
    if len(set(model.topics_) - {OUTLIER}) < 3:
        return pd.DataFrame(columns=columns)
    h = model.hierarchical_topics(docs)
    return pd.DataFrame({
        "parent_id": h["Parent_ID"].astype(str), "parent_name": h["Parent_Name"].astype(str),
        "child_left_id": h["Child_Left_ID"].astype(str), "child_left_name": h["Child_Left_Name"].astype(str),
        "child_right_id": h["Child_Right_ID"].astype(str), "child_right_name": h["Child_Right_Name"].astype(str),
        "distance": h["Distance"].astype(float), "topics": h["Topics"].map(lambda t: json.dumps(list(map(int, t)))),
    })


def save_model(model, embedder, folder: Path) -> None:
    """BERTopic's safetensors serialization, written beside and swapped in whole."""
    source = getattr(getattr(embedder, "base", embedder), "source", None)
    replace_folder(lambda tmp: model.save(str(tmp), serialization="safetensors", save_ctfidf=True,
                                          save_embedding_model=source or False), folder)


def load_model(out_dir: Path):
    """The saved BERTopic model, loaded offline with the bundled embedding model."""
    from bertopic import BERTopic

    from .embed import SentenceTransformerEmbedder

    folder = Path(out_dir) / MODEL_DIR
    if not folder.is_dir():
        from .artifacts import ArtifactError

        raise ArtifactError(f"{folder} is missing: run `insights themes` first")
    info = json.loads((Path(out_dir) / THEMES_INFO).read_text())
    embedder = SentenceTransformerEmbedder() if "all-MiniLM-L6-v2" in info.get("embedding_model", "") else None
    return BERTopic.load(str(folder), embedding_model=embedder.model if embedder else None)
