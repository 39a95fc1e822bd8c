#!/usr/bin/env python
"""How much the number of themes k swings when the vectors change in the sixth decimal.

    .venv/bin/python bench/k_stability.py [--out data/processed] [--repeats 8] [--noise 1e-6]
        [--layouts 1 5]

Another machine or another torch thread count changes embeddings by about 1e-7; on a
flat silhouette curve that can move k-means's chosen k by several themes. This script
reads the themed passages' vectors from an out folder (``make report`` first), adds
Gaussian noise of standard deviation ``--noise`` (seeds 1..repeats; repeat 0 is the
vectors as they are), lays each out with the themes stage's UMAP and lets the themes
stage's ``SilhouetteKMeans`` choose k, once per ``themes.k_layouts`` value in
``--layouts`` (1 = silhouette on the fit's own layout only, the previous behaviour). It
prints the k chosen per repeat and, per setting, how many distinct k's came out and how
often the most common one did. It asserts nothing; the out folder is only read.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def themed_vectors(out_dir: Path, config) -> np.ndarray:
    from pipeline.evaluate import ours_from_outputs

    return ours_from_outputs(out_dir, config)[
        2
    ]  # the vectors of the passages the themes stage themed


def chosen_k(vectors: np.ndarray, layouts: int, config) -> int:
    from pipeline import themes

    cfg = config.themes.model_copy(update={"k_layouts": layouts})
    n = len(vectors)
    cluster, _ = themes.choose_clustering(n, cfg, vectors)
    cluster.fit(themes.umap_model(n, cfg).fit_transform(vectors))
    return int(cluster.n_clusters_)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/processed"))
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--noise", type=float, default=1e-6)
    parser.add_argument("--layouts", type=int, nargs="+", default=[1, 5])
    args = parser.parse_args()

    import warnings

    warnings.filterwarnings("ignore", message=".*n_jobs value.*")
    from pipeline.core.config import load_config

    config = load_config(None)
    base = themed_vectors(args.out, config)
    print(
        f"{len(base)} themed passages from {args.out}; noise sd {args.noise:g}; "
        f"k range as the themes stage sets it; seed {config.themes.seed}"
    )
    picks: dict[int, list[int]] = {layouts: [] for layouts in args.layouts}
    for repeat in range(args.repeats):
        vectors = (
            base
            if repeat == 0
            else (base + np.random.default_rng(repeat).normal(0, args.noise, base.shape)).astype(
                base.dtype
            )
        )
        line = [f"repeat {repeat}{' (as is)' if repeat == 0 else ''}:"]
        for layouts in args.layouts:
            t = time.perf_counter()
            k = chosen_k(vectors, layouts, config)
            picks[layouts].append(k)
            line.append(f"k_layouts={layouts}: k={k} ({time.perf_counter() - t:.1f} s)")
        print("  ".join(line), flush=True)
    for layouts, ks in picks.items():
        common, times = Counter(ks).most_common(1)[0]
        print(
            f"k_layouts={layouts}: k in {sorted(set(ks))}, {len(set(ks))} distinct; "
            f"k={common} in {times} of {len(ks)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
