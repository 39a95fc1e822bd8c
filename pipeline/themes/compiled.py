"""UMAP with its numba functions compiled once per machine instead of once per process.

umap-learn declares its ``numba.njit`` functions without ``cache=True``, so every process that
fits a UMAP compiles them again: measured here, 10 s of a 10.3 s fit of 150 points in a new
process (and about half of the themes stage on a 3-interview corpus), against 0.25 s once they
come from numba's on-disk cache. :func:`umap_class` turns that cache on for umap's own
functions (numba's public ``Dispatcher.enable_caching``) before the first fit. numba keys the
cache by the function's source file and its own version, so an upgraded umap-learn or numba
compiles afresh; the files go to the package's ``__pycache__`` or, where that is read-only, to
numba's per-user cache folder (``NUMBA_CACHE_DIR`` moves it).
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

log = logging.getLogger(__name__)

# umap's modules whose functions a fit or a transform calls.
UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.distances", "umap.sparse")

_done = False


def cache_compiled(module: ModuleType) -> int:
    """Turn on numba's on-disk cache for the jitted functions of ``module``; returns how many
    were turned on.

    Not for a Python function with two dispatchers: umap makes a serial and a parallel layout
    optimiser of one function, and numba's cache tells functions apart by source only, so
    whichever was compiled first would be loaded for both -- and the parallel layout is not
    reproducible. Where no cache folder is writable, a function stays uncached.
    """
    from collections import Counter

    from numba.core.registry import CPUDispatcher

    jitted = [value for value in vars(module).values() if isinstance(value, CPUDispatcher)]
    shared = Counter(id(function.py_func) for function in jitted)
    turned_on = 0
    for function in jitted:
        if shared[id(function.py_func)] > 1:
            continue
        try:
            function.enable_caching()
        except RuntimeError as exc:  # numba: "cannot cache function ...: no locator available"
            log.debug("numba cannot cache %s: %s", getattr(function, "__name__", function), exc)
            continue
        turned_on += 1
    return turned_on


def umap_class():
    """``umap.UMAP``, its compiled functions cached on disk from the first call on."""
    global _done
    if not _done:
        for name in UMAP_MODULES:
            cache_compiled(importlib.import_module(name))
        _done = True
    from umap import UMAP

    return UMAP
