"""The embed stage: passages in, vectors out (cached), through the catalog."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.catalog import ArtifactError, cache_dir, load, location, read_json, save
from ..core.config import Config
from .embedders import Embedder, embed_texts, make_embedder

log = logging.getLogger(__name__)


def fingerprint_of(passages) -> str:
    """The fingerprint of a passages table: what later stages record and are checked against."""
    return passages_fingerprint(passages["passage_id"].tolist(), passages["clean_text"].tolist())


def passages_fingerprint(passage_ids: list[str], texts: list[str]) -> str:
    h = hashlib.sha256()
    for pid, text in zip(passage_ids, texts):
        h.update(f"{pid}\0{text}\0".encode())
    return h.hexdigest()


def check_made_from(out_dir: Path, info_file: str, made_by: str, fingerprint: str) -> dict:
    """A stage's JSON, checked to have been made from the passages with ``fingerprint``.

    Themes fitted on last week's passages would silently mislabel this week's; every
    stage after embed records the passages' fingerprint so this can be checked.
    """
    info = read_json(Path(out_dir) / info_file, made_by)
    if info.get("passages_sha256") != fingerprint:
        raise ArtifactError(
            f"{Path(out_dir) / info_file}: made from older passages than passages.parquet: run "
            f"`{made_by}` again"
        )
    return info


def run(out_dir: Path, config: Config, embedder: Embedder | None = None) -> np.ndarray:
    """Embed every passage (vectors cached by model and text) and write embeddings.npy / .json.

    Args:
        out_dir: the output folder holding passages.parquet.
        config: the effective configuration (``embed`` settings are read).
        embedder: an embedder to reuse (default: the one ``embed`` settings name).

    Returns:
        The vectors, row ``i`` for passage ``i``.
    """
    out_dir = Path(out_dir)
    passages = load("passages", out_dir)
    store = cache_dir(out_dir)
    embedder = embedder or make_embedder(config.embed, store)
    texts = passages["clean_text"].tolist()
    vectors, fresh = embed_texts(texts, embedder, store, config.embed.cache)
    save("embeddings", vectors, out_dir)
    info = {
        "model_id": embedder.model_id,
        "backend": config.embed.backend,
        "n": len(texts),
        "dim": int(vectors.shape[1]) if len(texts) else 0,
        "embedded_now": fresh,
        "from_cache": len(set(texts)) - fresh,
        "passages_sha256": passages_fingerprint(passages["passage_id"].tolist(), texts),
    }
    save("embeddings_info", info, out_dir)
    log.info(
        "embedded %d passages with %s (%d new, %d from cache)",
        len(texts),
        embedder.model_id,
        fresh,
        info["from_cache"],
    )
    return vectors


def load_embeddings(out_dir: Path, passages: pd.DataFrame | None = None) -> tuple[np.ndarray, dict]:
    """The vectors aligned with passages.parquet, checked to belong to it.

    Args:
        out_dir: the output folder.
        passages: passages.parquet when the caller has read it already (saves a second read).

    Returns:
        (vectors, the embed stage's info: model id, backend, counts).
    """
    out_dir = Path(out_dir)
    info = load("embeddings_info", out_dir)
    vectors = load("embeddings", out_dir)
    if passages is None:
        passages = load("passages", out_dir)
    if info.get("passages_sha256") != fingerprint_of(passages):
        raise ArtifactError(
            f"{location('embeddings', out_dir)} does not match passages.parquet (stale): "
            "run `insights embed` again"
        )
    return vectors, info
