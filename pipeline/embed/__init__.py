"""Passages -> vectors: embedders (sentence-transformers, model2vec), an on-disk cache, the stage.

:mod:`.embedders` turns texts into vectors and caches them by (model id, text hash);
:mod:`.stage` embeds passages.parquet and checks vectors belong to it when read.
"""

from ..core.registry import runner
from .embedders import (
    BUNDLED_MODEL,
    BUNDLED_SHA256,
    Embedder,
    EmbeddingCache,
    EmbeddingModelError,
    Model2VecEmbedder,
    SentenceTransformerEmbedder,
    embed_texts,
    make_embedder,
    resolve_model,
    text_hash,
)
from .stage import check_made_from, fingerprint_of, load_embeddings, passages_fingerprint

run = runner("embed")

__all__ = [
    "BUNDLED_MODEL",
    "BUNDLED_SHA256",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingModelError",
    "Model2VecEmbedder",
    "SentenceTransformerEmbedder",
    "check_made_from",
    "embed_texts",
    "fingerprint_of",
    "load_embeddings",
    "make_embedder",
    "passages_fingerprint",
    "resolve_model",
    "run",
    "text_hash",
]
