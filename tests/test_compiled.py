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
