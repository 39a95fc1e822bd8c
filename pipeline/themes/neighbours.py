"""Exact cosine nearest neighbours for UMAP, computed by blocks of matrix products.

From 4,096 points on, UMAP finds neighbours with pynndescent, whose functions take the
distance as an argument and so cannot be cached by numba: every fresh process compiles
them again. On a real corpus of 11,907 passages that compilation alone took 66 s of a
240 s themes stage on 2 cores, while the exact neighbours of 12k unit vectors are one
12k x 12k product (a second or two). Up to ``themes.exact_neighbours_max`` passages the
neighbours are exact, which is also what UMAP computes itself below 4,096 points; above
it, pynndescent's approximation is cheaper than the quadratic product.
"""

from __future__ import annotations

import numpy as np

BLOCK = 2048  # query rows per product: a 2048 x n float32 block (98 MB at n = 12k)


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def cosine_neighbours(
    queries: np.ndarray, data: np.ndarray, k: int, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``data`` to each query, by cosine distance (1 - cosine).

    Args:
        queries, data: unit rows (:func:`unit_rows`).
        k: neighbours per query (at most ``len(data)``).
        exclude_self: queries are ``data`` itself; each row is its own first neighbour at
            distance 0 (as pynndescent's graph has it), whatever the rounding says.

    Returns:
        ``(indices, distances)``, each ``(len(queries), k)``, nearest first.
    """
    k = min(k, len(data))
    indices = np.empty((len(queries), k), dtype=np.int64)
    distances = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), BLOCK):
        sims = queries[start : start + BLOCK] @ data.T
        rows = np.arange(len(sims))
        if exclude_self:
            sims[rows, rows + start] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(part, order, axis=1)
        indices[start : start + len(sims)] = top
        d = 1.0 - np.take_along_axis(sims, top, axis=1)
        distances[start : start + len(sims)] = np.clip(d, 0.0, 2.0)
    return indices, distances


class ExactCosineIndex:
    """What UMAP's ``transform`` asks of its search index (``query`` and ``_angular_trees``),
    answered exactly, so a fitted model still places new passages."""

    _angular_trees = True

    def __init__(self, data: np.ndarray):
        self._raw_data = unit_rows(data)

    def query(self, x: np.ndarray, k: int, epsilon: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        return cosine_neighbours(unit_rows(x), self._raw_data, k)


def precomputed_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, ExactCosineIndex]:
    """UMAP's ``precomputed_knn`` for ``x``: each row first, then its ``k - 1`` nearest."""
    index = ExactCosineIndex(x)
    data = index._raw_data
    indices, distances = cosine_neighbours(data, data, k - 1, exclude_self=True)
    own = np.arange(len(data))[:, None]
    return (
        np.hstack([own, indices]),
        np.hstack([np.zeros((len(data), 1), np.float32), distances]),
        index,
    )
