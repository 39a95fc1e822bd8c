"""Themes: BERTopic composed for interview passages, from small components.

- :mod:`.vectorizer`: content words grouped by lemma (:class:`LemmaAnalyzer`);
- :mod:`.clustering`: UMAP, k-means with k by silhouette, HDBSCAN (``themes.clustering``);
- :mod:`.representation`: keyword steps after c-TF-IDF (BERTopic ``BaseRepresentation``s);
- :mod:`.labels`: labels made of key phrases people said;
- :mod:`.model`: the composed BERTopic, its fit, membership and persistence;
- :mod:`.guided`: seeds from the researcher's codebook and coding (``themes.guided``);
- :mod:`.tables`: summaries and side tables;
- :mod:`.stage`: the stage's ``run`` (reads and writes through the catalog).

The names from :mod:`.representation` and :mod:`.model` import BERTopic, which takes
seconds; they are imported when first used, so ``from pipeline.themes import analyzer_for``
(the cohort comparison, the evaluation) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..core.registry import runner
from .clustering import (
    CLUSTERINGS,
    OUTLIER,
    SilhouetteKMeans,
    ThemeModelParts,
    choose_clustering,
    clustering_name,
    umap_model,
)
from .labels import key_phrase, make_label
from .vectorizer import (
    CONVERSATIONAL,
    LemmaAnalyzer,
    analyzer_for,
    count_vectorizer,
    speaker_names,
    stop_words,
)

if TYPE_CHECKING:
    from .model import BackendAdapter, build_topic_model, fit_themes, load_model, membership
    from .representation import AtMostMMR, CoOccurringKeywords, FrequentInTheme, npmi_pair

run = runner("themes")

_LAZY = {
    "AtMostMMR": ".representation",
    "CoOccurringKeywords": ".representation",
    "FrequentInTheme": ".representation",
    "npmi_pair": ".representation",
    "BackendAdapter": ".model",
    "build_topic_model": ".model",
    "fit_themes": ".model",
    "load_model": ".model",
    "membership": ".model",
}


def __getattr__(name: str) -> Any:
    """Import a name of :mod:`.representation` or :mod:`.model` when first asked for.

    Args:
        name: the attribute asked for.

    Returns:
        The object.

    Raises:
        AttributeError: the package has no such name.
    """
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CLUSTERINGS",
    "CONVERSATIONAL",
    "OUTLIER",
    "AtMostMMR",
    "BackendAdapter",
    "CoOccurringKeywords",
    "FrequentInTheme",
    "LemmaAnalyzer",
    "SilhouetteKMeans",
    "ThemeModelParts",
    "analyzer_for",
    "build_topic_model",
    "choose_clustering",
    "clustering_name",
    "count_vectorizer",
    "fit_themes",
    "key_phrase",
    "load_model",
    "make_label",
    "membership",
    "npmi_pair",
    "run",
    "speaker_names",
    "stop_words",
    "umap_model",
]
