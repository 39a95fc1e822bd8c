"""Reduction and clustering components for the themes: UMAP, k-means by silhouette, HDBSCAN.

Which clustering a fit uses is ``themes.clustering``: a name in :data:`CLUSTERINGS` (the
registry of factories), or ``auto`` for k-means below ``themes.hdbscan_min_passages``
passages and HDBSCAN from there on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from ..core.config import ThemesConfig

OUTLIER = -1  # the theme id of a passage no theme holds (HDBSCAN's noise label)


class SilhouetteKMeans(ClusterMixin, BaseEstimator):
    """k-means with k chosen by silhouette score: every passage gets a theme (no outliers).

    The silhouette curve over k is flat, so on one UMAP layout its argmax can swing by
    several themes when the vectors change in the sixth or seventh decimal (another
    machine, another torch thread count). ``other_views`` are the same passages laid out by
    UMAP with other seeds; the score of a k is its silhouette averaged over all layouts, and
    the final k-means runs on ``X`` (BERTopic's own layout) only.

    Args:
        k_min: the smallest k tried (raised to 2, lowered to ``k_max``).
        k_max: the largest k tried (at most the number of points - 1).
        random_state: seed of every k-means fit and silhouette sample.
        other_views: further layouts of the same points, each ``(n, d)``.

    Attributes:
        scores_: mean silhouette by k.
        n_clusters_: the k chosen (the first best score, so ties go to the smaller k).
        labels_: cluster of each point of ``X``.
        cluster_centers_: centres of the chosen fit on ``X``.
    """

    def __init__(self, k_min: int = 4, k_max: int = 20, random_state: int = 42, other_views=()):
        self.k_min = k_min
        self.k_max = k_max
        self.random_state = random_state
        self.other_views = other_views

    def fit(self, X, y=None):
        """Fit k-means for every k in range and keep the one with the best mean silhouette.

        Args:
            X: the points to cluster, ``(n, d)``.
            y: ignored (scikit-learn's signature).

        Returns:
            The fitted estimator.

        Raises:
            ValueError: a layout in ``other_views`` holds another number of points than ``X``.
        """
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
            fits = [
                KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(v)
                for v in views
            ]
            score = (
                float(
                    np.mean(
                        [
                            silhouette_score(v, f.labels_, random_state=self.random_state)
                            for v, f in zip(views, fits, strict=True)
                        ]
                    )
                )
                if k < n
                else -1.0
            )
            self.scores_[k] = score
            if best is None or score > best[0] + 1e-9:
                best = (score, fits[0])
        self.model_ = best[1]
        self.n_clusters_ = int(self.model_.n_clusters)
        self.labels_ = self.model_.labels_
        self.cluster_centers_ = self.model_.cluster_centers_
        return self

    def predict(self, X):
        """The nearest chosen centre of each point.

        Args:
            X: points in the layout the model was fitted on, ``(m, d)``.

        Returns:
            The cluster of each point, ``(m,)``.
        """
        return self.model_.predict(np.asarray(X))


@dataclass
class ThemeModelParts:
    """The components the stage chose, recorded for the report's Method section.

    Args:
        clustering: a readable name of the clustering ("k-means (k by silhouette ...)").
        params: its parameters (and, after the fit, what it found).
    """

    clustering: str
    params: dict[str, Any] = field(default_factory=dict)


def umap_model(n: int, cfg: ThemesConfig, seed: int | None = None):
    """The UMAP reduction of ``n`` passages, its sizes capped for small inputs.

    Args:
        n: the number of passages.
        cfg: the themes settings (``umap_neighbors``, ``umap_components``, ``seed``).
        seed: another seed than ``cfg.seed`` (for the extra layouts k is judged on).

    Returns:
        An unfitted ``umap.UMAP``.
    """
    model = _exact_umap_class()(
        n_neighbors=max(2, min(cfg.umap_neighbors, n - 1)),
        n_components=min(cfg.umap_components, max(2, n - 2)),
        min_dist=0.0,
        metric="cosine",
        random_state=cfg.seed if seed is None else seed,
        low_memory=True,
    )
    model.exact_neighbours_max = cfg.exact_neighbours_max
    return model


# UMAP computes exact neighbours itself below this many points (umap.umap_.UMAP.fit).
UMAP_SMALL_DATA = 4096


def exact_neighbours_for(x, metric: str, most: int) -> bool:
    """Whether UMAP gets exact neighbours for ``x``: dense vectors compared by cosine, from
    the size where UMAP would build a pynndescent index up to ``most`` rows."""
    n = getattr(x, "shape", (0,))[0]
    return isinstance(x, np.ndarray) and metric == "cosine" and UMAP_SMALL_DATA <= n <= most


def _exact_umap_class():
    """UMAP that, from 4,096 to ``exact_neighbours_max`` points, is given exact cosine
    neighbours instead of building a pynndescent index (see :mod:`.neighbours`)."""
    global _ExactUMAP
    if _ExactUMAP is None:
        import warnings

        from .compiled import umap_class
        from .neighbours import precomputed_knn

        UMAP = umap_class()

        class ExactNeighboursUMAP(UMAP):
            exact_neighbours_max = 0

            def fit(self, X, y=None, *args, **kwargs):
                n = getattr(X, "shape", (0,))[0]
                dense = isinstance(X, np.ndarray)
                if (
                    dense
                    and self.metric == "cosine"
                    and (UMAP_SMALL_DATA <= n <= self.exact_neighbours_max)
                ):
                    self.precomputed_knn = precomputed_knn(X, self.n_neighbors)
                with warnings.catch_warnings():
                    # "not an NNDescent object": ours answers transform's queries exactly.
                    warnings.filterwarnings("ignore", message="precomputed_knn")
                    return super().fit(X, y, *args, **kwargs)

        ExactNeighboursUMAP.__module__ = __name__
        ExactNeighboursUMAP.__qualname__ = "ExactNeighboursUMAP"
        _ExactUMAP = ExactNeighboursUMAP
        globals()["ExactNeighboursUMAP"] = ExactNeighboursUMAP  # so a pickled model loads
    return _ExactUMAP


_ExactUMAP = None


_umap = umap_model  # the name it had before the split


# (n passages, settings, passage vectors or None, labels=UMAP's semi-supervised target or None)
# -> (unfitted estimator, its description)
ClusteringFactory = Callable[..., tuple[Any, ThemeModelParts]]


def kmeans_clustering(
    n: int,
    cfg: ThemesConfig,
    embeddings: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> tuple[SilhouetteKMeans, ThemeModelParts]:
    """k-means with k by silhouette, within a range around the rule of thumb sqrt(n / 2).

    Silhouette on UMAP output is flat and keeps rising with k (it rewards ever smaller
    micro-clusters), so it only chooses from half the rule to the rule (at most
    ``cfg.k_max_cap``), unless ``cfg.k_max`` says otherwise.

    Args:
        n: the number of passages.
        cfg: the themes settings (``k_min``, ``k_max``, ``k_max_cap``, ``k_layouts``, ``seed``).
        embeddings: the passage vectors; with them, ``cfg.k_layouts - 1`` further UMAP
            layouts are made now and k is judged on all of them.
        labels: UMAP's semi-supervised target for those layouts (a guided fit: each
            passage's code, -1 for a passage no code draws), as the fit's own layout has.

    Returns:
        The unfitted estimator and its description.
    """
    rule = max(2, round(math.sqrt(n / 2)))
    k_max = cfg.k_max or max(cfg.k_min, min(cfg.k_max_cap, rule))
    k_min = min(k_max, max(cfg.k_min, rule // 2))
    views = []
    if embeddings is not None:
        views = [
            umap_model(n, cfg, cfg.seed + i).fit_transform(embeddings, y=labels)
            for i in range(1, cfg.k_layouts)
        ]
    layouts = 1 + len(views)
    return SilhouetteKMeans(k_min, k_max, cfg.seed, views), ThemeModelParts(
        f"k-means (k by silhouette over {layouts} UMAP layout{'s' if layouts > 1 else ''})",
        {"k_min": k_min, "k_max": k_max, "k_layouts": layouts},
    )


def hdbscan_min_cluster_size(n: int, cfg: ThemesConfig) -> int:
    """HDBSCAN's min_cluster_size for ``n`` passages.

    Args:
        n: the number of passages.
        cfg: the themes settings (``min_theme_size``, ``hdbscan_min_size_share`` and ``_floor``).

    Returns:
        ``cfg.min_theme_size`` when set, else the share of ``n``, at least the floor.
    """
    return cfg.min_theme_size or max(
        cfg.hdbscan_min_size_floor, round(n * cfg.hdbscan_min_size_share)
    )


def hdbscan_clustering(
    n: int,
    cfg: ThemesConfig,
    embeddings: np.ndarray | None = None,
    labels: np.ndarray | None = None,
):
    """HDBSCAN on the UMAP layout; its outliers are reassigned after the fit (``reduce_outliers``).

    Args:
        n: the number of passages.
        cfg: the themes settings (minimum sizes, see :func:`hdbscan_min_cluster_size`).
        embeddings: unused (the same signature as every clustering factory).
        labels: unused (BERTopic gives UMAP its target).

    Returns:
        The unfitted ``hdbscan.HDBSCAN`` and its description.
    """
    from hdbscan import HDBSCAN

    size = hdbscan_min_cluster_size(n, cfg)
    min_samples = max(cfg.hdbscan_min_samples_floor, int(size * cfg.hdbscan_min_samples_share))
    model = HDBSCAN(
        min_cluster_size=size,
        min_samples=min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=True,
    )
    return model, ThemeModelParts("HDBSCAN + outlier reassignment", {"min_cluster_size": size})


# themes.clustering -> the factory of that clustering component.
CLUSTERINGS: dict[str, ClusteringFactory] = {
    "kmeans": kmeans_clustering,
    "hdbscan": hdbscan_clustering,
}


def clustering_name(n: int, cfg: ThemesConfig) -> str:
    """Which clustering of :data:`CLUSTERINGS` a fit of ``n`` passages uses.

    Args:
        n: the number of passages.
        cfg: the themes settings (``clustering``, ``hdbscan_min_passages``).

    Returns:
        ``cfg.clustering``, or for ``auto``: ``kmeans`` below ``cfg.hdbscan_min_passages``
        passages, ``hdbscan`` from there on.
    """
    if cfg.clustering != "auto":
        return cfg.clustering
    return "kmeans" if n < cfg.hdbscan_min_passages else "hdbscan"


def choose_clustering(
    n: int,
    cfg: ThemesConfig,
    embeddings: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> tuple[Any, ThemeModelParts]:
    """The clustering component for ``n`` passages, as ``themes.clustering`` names it.

    Args:
        n: the number of passages.
        cfg: the themes settings.
        embeddings: the passage vectors; with them, k-means's k is judged on several UMAP
            layouts (``cfg.k_layouts``).
        labels: UMAP's semi-supervised target of a guided fit, or None.

    Returns:
        The unfitted clustering estimator (BERTopic's ``hdbscan_model``) and its description.
    """
    return CLUSTERINGS[clustering_name(n, cfg)](n, cfg, embeddings, labels=labels)


def __getattr__(name: str):
    # The UMAP subclass is made on first use (importing umap compiles numba code); a
    # pickled model names it as an attribute of this module.
    if name == "ExactNeighboursUMAP":
        return _exact_umap_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
