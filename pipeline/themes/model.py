"""The BERTopic model composed from the themes components; fitting and persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bertopic import BERTopic
from bertopic.backend import BaseEmbedder
from bertopic.representation import KeyBERTInspired
from bertopic.vectorizers import ClassTfidfTransformer

from ..core.catalog import ArtifactError, load, location
from ..core.config import ThemesConfig
from ..embed import BUNDLED_MODEL, Model2VecEmbedder, SentenceTransformerEmbedder, embed_texts
from .clustering import OUTLIER, ThemeModelParts, choose_clustering, umap_model
from .representation import AtMostMMR, CoOccurringKeywords, FrequentInTheme
from .vectorizer import LemmaAnalyzer, count_vectorizer

SENTENCE_TRANSFORMERS = "sentence-transformers"
MODEL2VEC = "model2vec"


def representation_steps(cfg: ThemesConfig) -> list:
    """The keyword steps BERTopic runs after c-TF-IDF, in order.

    Args:
        cfg: the themes settings.

    Returns:
        KeyBERTInspired (re-ranks ``keyword_candidates`` words), :class:`FrequentInTheme`,
        :class:`AtMostMMR` (keeps ``mmr_candidates_factor`` x ``top_n_words``) and
        :class:`CoOccurringKeywords` (chooses ``top_n_words``).
    """
    return [
        KeyBERTInspired(
            top_n_words=cfg.keyword_candidates,
            nr_candidate_words=cfg.keyword_candidates,
            random_state=cfg.seed,
        ),
        FrequentInTheme(
            cfg.keyword_min_share,
            max_theme_share=cfg.keyword_max_theme_share,
            min_passages=cfg.keyword_min_passages,
            keep_at_least=cfg.keyword_keep_factor * cfg.top_n_words,
            max_themes_per_word=cfg.keyword_max_themes_per_word,
        ),
        AtMostMMR(cfg.mmr_diversity, cfg.mmr_candidates_factor * cfg.top_n_words),
        CoOccurringKeywords(cfg.top_n_words, cfg.keyword_cooccurrence_weight),
    ]


def build_topic_model(
    embedder,
    n: int,
    analyzer: LemmaAnalyzer,
    cfg: ThemesConfig,
    embeddings: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> tuple[BERTopic, ThemeModelParts]:
    """BERTopic composed of the themes components, unfitted.

    Args:
        embedder: BERTopic's embedding backend (a :class:`BackendAdapter`), for word vectors.
        n: the number of passages it will be fitted on.
        analyzer: the vectorizer's tokeniser.
        cfg: the themes settings.
        embeddings: the passage vectors; with them, k-means's k is judged on several layouts.
        labels: UMAP's semi-supervised target of a guided fit (those layouts get it too).

    Returns:
        The model and the description of the clustering chosen.
    """
    cluster, parts = choose_clustering(n, cfg, embeddings, labels=labels)
    model = BERTopic(
        embedding_model=embedder,
        umap_model=umap_model(n, cfg),
        hdbscan_model=cluster,
        vectorizer_model=count_vectorizer(analyzer, n, cfg),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=representation_steps(cfg),
        top_n_words=cfg.top_n_words,
        calculate_probabilities=False,
    )
    return model, parts


class BackendAdapter(BaseEmbedder):
    """Any of our embedders as a BERTopic embedding backend (used for KeyBERT word vectors).

    With a cache folder, word and document vectors go through the same on-disk cache as
    passages: KeyBERTInspired re-embeds the same candidate words for every theme, for
    topics_per_class and for every node of the hierarchy.

    Args:
        embedder: an object with ``encode(texts) -> array`` and a ``model_id``.
        store: the cache folder, or None to encode every time.
    """

    def __init__(self, embedder, store: Path | None = None):
        super().__init__()
        self.inner = embedder
        self.store = store

    def embed(self, documents, verbose: bool = False) -> np.ndarray:
        """Vectors of ``documents`` (words or passages), from the cache when it has them.

        Args:
            documents: the texts.
            verbose: unused (BERTopic's signature).

        Returns:
            One row per text.
        """
        documents = [str(d) for d in documents]
        if self.store is None:
            return self.inner.encode(documents)
        return embed_texts(documents, self.inner, self.store)[0]


def fit_themes(
    docs: list[str],
    embeddings: np.ndarray,
    embedder,
    analyzer: LemmaAnalyzer,
    cfg: ThemesConfig,
    store: Path | None = None,
    guidance=None,
):
    """Fit the composed BERTopic; with HDBSCAN, reassign its outliers and update the keywords.

    A guided fit (:mod:`.guided`) clusters the guidance's moved vectors with its labels
    (the researcher's codes, the seeds drawing the other passages) as UMAP's
    semi-supervised target (BERTopic's ``y``); the topic
    vectors and the outlier reassignment then use the passages' own vectors.

    Args:
        docs: the passages' texts.
        embeddings: their vectors, row for row.
        embedder: the embedder that made the vectors (it embeds candidate words).
        analyzer: the vectorizer's tokeniser.
        cfg: the themes settings.
        store: the cache folder for word vectors, or None.
        guidance: a :class:`~.guided.Guidance` of these passages, or None (unguided).

    Returns:
        ``(model, topics, probabilities, parts)``: the fitted model, each passage's theme
        (-1 for an outlier), BERTopic's own probabilities (HDBSCAN's, or None; the stage's
        membership is :func:`membership`) and the clustering's description, with the
        silhouette by k or the number of outliers reassigned.
    """
    vectors, target = embeddings, None
    if guidance is not None:
        vectors, target = guidance.vectors, guidance.target
    model, parts = build_topic_model(
        BackendAdapter(embedder, store), len(docs), analyzer, cfg, vectors, labels=target
    )
    if guidance is None:
        topics, probs = model.fit_transform(docs, embeddings=embeddings)
    else:
        topics, probs = model.fit_transform(docs, embeddings=vectors, y=target)
        # BERTopic's topic vectors are made of the vectors it clustered: make them of the
        # passages' own (the same mean by topic, in topic order), for transform and outliers.
        labels = np.asarray(topics, dtype=int)
        model.topic_embeddings_ = np.array(
            [np.asarray(embeddings)[labels == t].mean(axis=0) for t in sorted(set(topics))]
        )
    topics = list(topics)
    scores = getattr(model.hdbscan_model, "scores_", None)
    if scores:
        parts.params["silhouette"] = {str(k): round(v, 4) for k, v in scores.items()}
    if OUTLIER in topics and cfg.reduce_outliers:
        before = topics.count(OUTLIER)
        new = model.reduce_outliers(
            docs,
            topics,
            strategy="embeddings",
            embeddings=embeddings,
            threshold=cfg.outlier_threshold,
        )
        model.update_topics(
            docs,
            topics=list(new),
            vectorizer_model=model.vectorizer_model,
            ctfidf_model=model.ctfidf_model,
            representation_model=model.representation_model,
            top_n_words=cfg.top_n_words,
        )
        topics = list(new)
        parts.params["outliers_reassigned"] = before - topics.count(OUTLIER)
    return model, topics, probs, parts


def membership(embeddings: np.ndarray, topics: list[int]) -> np.ndarray:
    """How well each passage belongs to its theme: the ``probability`` of assignments.

    The cosine similarity of the passage's vector to its theme's centroid (the mean vector
    of the theme's passages, made unit length), whatever the clustering; 0 for outliers,
    and clipped to [0, 1]. On the k-means path the centroids are BERTopic's
    ``topic_embeddings_``; on the HDBSCAN path they are those of the final themes, after
    outliers were reassigned (BERTopic then makes its topic vectors from keyword vectors).

    Args:
        embeddings: the themed passages' vectors, ``(n, d)``, unit length as the embedders
            make them (the similarity is their dot product with the unit centroid).
        topics: each passage's theme, -1 for an outlier.

    Returns:
        ``(n,)`` float32 similarities in [0, 1].
    """
    embeddings = np.asarray(embeddings)
    labels = np.asarray(topics, dtype=int)
    out = np.zeros(len(labels), dtype=np.float32)
    themes = sorted(set(labels.tolist()) - {OUTLIER})
    if not themes:
        return out
    # As BERTopic computes its topic vectors: the mean of the theme's rows, in row order.
    centroids = np.array([embeddings[labels == t].mean(axis=0) for t in themes])
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    centroids = centroids / np.where(norms == 0, 1, norms)
    row_of = {t: r for r, t in enumerate(themes)}
    for i, t in enumerate(labels.tolist()):
        if t != OUTLIER:
            out[i] = float(embeddings[i] @ centroids[row_of[t]])
    return np.clip(out, 0, 1)


def embedding_record(embedder, out_dir: Path) -> dict[str, str | None]:
    """What :func:`load_model` needs to load the embedder that made the vectors again.

    Args:
        embedder: the stage's embedder.
        out_dir: the output folder (a model2vec folder inside it is recorded relative to it).

    Returns:
        ``embedding_backend`` ("sentence-transformers", "model2vec", or the embedder's class
        name) and ``embedding_source``: the bundled model's name or another
        sentence-transformers model's name or folder, the static model's folder, or None.
    """
    if isinstance(embedder, Model2VecEmbedder):
        folder = Path(embedder.folder).resolve()
        try:
            source = folder.relative_to(Path(out_dir).resolve()).as_posix()
        except ValueError:
            source = str(folder)
        return {"embedding_backend": MODEL2VEC, "embedding_source": source}
    if isinstance(embedder, SentenceTransformerEmbedder):
        # The bundled copy by name, so loading checks its sha256 wherever it is installed.
        source = embedder.name if embedder.name == BUNDLED_MODEL else embedder.source
        return {"embedding_backend": SENTENCE_TRANSFORMERS, "embedding_source": source}
    return {"embedding_backend": type(embedder).__name__, "embedding_source": None}


def _saved_pointer(embedder) -> str | None:
    if isinstance(embedder, Model2VecEmbedder):
        return str(Path(embedder.folder).resolve())
    return getattr(embedder, "source", None)


def model_writer(model: BERTopic, embedder):
    """A folder builder for the catalog: BERTopic's safetensors serialization of ``model``.

    Args:
        model: the fitted model.
        embedder: the embedder that made the vectors; BERTopic's config records where it is
            (the static model's folder for model2vec, the sentence-transformers source else).

    Returns:
        A function writing the model into the folder it is given.
    """
    pointer = _saved_pointer(embedder)
    return lambda tmp: model.save(
        str(tmp),
        serialization="safetensors",
        save_ctfidf=True,
        save_embedding_model=pointer or False,
    )


def _embedding_model(info: dict, out_dir: Path):
    """The embedding model recorded in ``themes_info``, loaded offline; None if unknown."""
    backend = info.get("embedding_backend")
    source = info.get("embedding_source")
    if backend is None:  # written before the backend was recorded: the bundled model only
        model_id = str(info.get("embedding_model", ""))
        if BUNDLED_MODEL in model_id and not model_id.startswith(MODEL2VEC):
            return SentenceTransformerEmbedder().model
        return None
    if backend == MODEL2VEC and source:
        from model2vec import StaticModel

        folder = Path(source)
        folder = folder if folder.is_absolute() else Path(out_dir) / folder
        if not (folder / "config.json").is_file():
            raise ArtifactError(
                f"{folder}: the static model the themes were made with is missing; "
                "run `insights embed` and `insights themes` again"
            )
        return StaticModel.from_pretrained(str(folder))
    if backend == SENTENCE_TRANSFORMERS and source:
        return SentenceTransformerEmbedder(source).model
    return None


def load_model(out_dir: Path) -> BERTopic:
    """The saved BERTopic model, loaded offline with the embedding model that made its vectors.

    A model2vec run gets its distilled static model back (from the cache folder), a
    sentence-transformers run its model (the bundled copy checked by sha256), so
    ``model.transform`` embeds new texts in the space of ``model.topic_embeddings_``.

    Args:
        out_dir: the output folder.

    Returns:
        The model.

    Raises:
        ArtifactError: the model folder or ``themes.json`` is missing, or the static model is,
            or no model was fitted (too few passages: themes.json says why).
    """
    folder = location("themes_model", out_dir)
    if not folder.is_dir():
        raise ArtifactError(f"{folder} is missing: run `insights themes` first")
    info = load("themes_info", out_dir)
    if info.get("skipped"):
        raise ArtifactError(f"{folder} holds no model: {info['skipped']}")
    from .compiled import umap_class

    umap_class()  # visualize_topics and the like fit UMAPs of their own: compile them once
    return BERTopic.load(str(folder), embedding_model=_embedding_model(info, out_dir))
