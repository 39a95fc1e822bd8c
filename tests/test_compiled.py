"""UMAP's numba functions are compiled once per machine, then read from numba's disk cache."""

import json
import subprocess
import sys

import numpy as np
import pytest

from pipeline.themes.compiled import umap_class

pytestmark = pytest.mark.slow  # a new process importing umap

CALL = """
import json
import numpy as np
from pipeline.themes.compiled import umap_class
import umap.umap_ as umap_

umap_class()
distances = np.sort(np.random.RandomState(0).random((40, 5)).astype(np.float32), axis=1)
sigmas, _ = umap_.smooth_knn_dist(distances, 5.0)
stats = umap_.smooth_knn_dist.stats
print(json.dumps({"hits": len(stats.cache_hits), "misses": len(stats.cache_misses),
                  "sigmas": sigmas.tolist()}))
"""


def test_a_new_process_reads_umaps_compiled_code_from_the_cache():
    umap_class()
    import umap.umap_ as umap_

    # One of the functions every fit calls (a whole fit would compile all of them: slow).
    # Here it is compiled and written to numba's usual cache place, or read from it.
    distances = np.sort(np.random.RandomState(0).random((40, 5)).astype(np.float32), axis=1)
    sigmas, _ = umap_.smooth_knn_dist(distances, 5.0)
    assert umap_.smooth_knn_dist.stats.cache_path

    proc = subprocess.run([sys.executable, "-c", CALL], capture_output=True, text=True, check=True)
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    # Without the cache turned on, numba compiles in every process and never hits.
    assert found["hits"] == 1 and found["misses"] == 0
    assert found["sigmas"] == sigmas.tolist()  # the cached code computes the same


def test_a_function_with_a_serial_and_a_parallel_dispatcher_is_left_uncached():
    import umap.layouts as layouts

    from pipeline.themes.compiled import cache_compiled

    serial = layouts._nb_optimize_layout_euclidean_single_epoch
    parallel = layouts._nb_optimize_layout_euclidean_single_epoch_parallel
    assert serial.py_func is parallel.py_func  # what makes them share a cache file
    cache_compiled(layouts)
    umap_class()
    import umap.umap_ as umap_

    assert umap_.smooth_knn_dist.stats.cache_path  # a function of its own: cached
    assert serial.stats.cache_path is None and parallel.stats.cache_path is None
