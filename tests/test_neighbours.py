"""Speed paths: exact cosine neighbours for UMAP (no pynndescent index to compile below
50k passages) and parallel parsing of large corpora."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from pipeline.core.config import ThemesConfig
from pipeline.themes.clustering import UMAP_SMALL_DATA, exact_neighbours_for, umap_model
from pipeline.themes.neighbours import ExactCosineIndex, precomputed_knn, unit_rows


def _points(n: int, dim: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def test_neighbours_are_the_exact_ones_each_row_first():
    x = _points(3000)
    indices, distances, _ = precomputed_knn(x, 10)
    unit = unit_rows(x)
    sims = unit @ unit.T
    for i in (0, 1, 1234, 2999):
        assert indices[i, 0] == i and distances[i, 0] == 0
        expected = np.argsort(-sims[i], kind="stable")[:10]
        assert set(indices[i]) == set(expected)
        np.testing.assert_allclose(distances[i, 1:], 1 - sims[i, indices[i, 1:]], atol=1e-5)
    assert (np.diff(distances, axis=1) >= -1e-6).all()  # nearest first


def test_the_index_answers_queries_like_a_search_index():
    x = _points(500)
    index = ExactCosineIndex(x)
    found, dist = index.query(x[:3] * 5.0, 4)  # scale does not change cosine
    assert list(found[:, 0]) == [0, 1, 2] and np.allclose(dist[:, 0], 0, atol=1e-5)
    assert pickle.loads(pickle.dumps(index)).query(x[:1], 2)[0][0, 0] == 0


def test_duplicate_rows_still_put_each_row_first():
    x = np.vstack([_points(50), _points(50)])  # every row twice
    indices, distances, _ = precomputed_knn(x, 3)
    assert (indices[:, 0] == np.arange(100)).all()
    assert (indices[:50, 1] == np.arange(50, 100)).all()
    assert np.allclose(distances[:, 1], 0, atol=1e-5)


@pytest.mark.slow
def test_umap_above_its_small_data_size_uses_exact_neighbours_and_still_transforms():
    n = UMAP_SMALL_DATA + 10
    x = _points(n)
    model = umap_model(n, ThemesConfig(seed=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "not an NNDescent object" warning
        warnings.filterwarnings("ignore", message="n_jobs value")
        layout = model.fit_transform(x)
    assert layout.shape == (n, 5)
    assert isinstance(model._knn_search_index, ExactCosineIndex)
    placed = model.transform(x[:20])
    assert placed.shape == (20, 5) and np.isfinite(placed).all()
    # New points land near where the same points were laid out (UMAP's transform is
    # approximate; the layout spans tens of units).
    assert np.median(np.linalg.norm(placed - layout[:20], axis=1)) < 0.1 * np.ptp(layout)
    again = pickle.loads(pickle.dumps(model))
    assert again.transform(x[:2]).shape == (2, 5)


def test_exact_neighbours_only_between_umaps_small_data_size_and_the_setting():
    x = np.zeros((UMAP_SMALL_DATA, 3), dtype=np.float32)
    assert exact_neighbours_for(x, "cosine", 50_000)
    assert not exact_neighbours_for(x[:-1], "cosine", 50_000)  # UMAP computes them itself
    assert not exact_neighbours_for(x, "cosine", 100)  # above the setting: pynndescent
    assert not exact_neighbours_for(x, "euclidean", 50_000)


def test_large_corpora_are_parsed_in_several_processes():
    import os

    from pipeline.core.nlp import PARALLEL_FROM, processes_for

    cores = len(os.sched_getaffinity(0))
    assert processes_for(10) == 1
    assert processes_for(PARALLEL_FROM) == max(1, min(cores, 4))
