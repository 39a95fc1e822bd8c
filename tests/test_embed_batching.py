"""Batched embedding: buckets of equal token length, each batch on one thread, so a vector does
not depend on its batch nor on how many threads encode."""

import numpy as np
import pytest

from pipeline import embed
from pipeline.core.config import Config

pytestmark = pytest.mark.slow  # the bundled model

JOBS = ["teacher", "nurse", "lawyer", "driver", "farmer", "baker", "writer", "painter"]
YEARS = ["two", "three", "four", "five", "six", "seven"]
TARGET = "I worked as a nurse for five years."


def same_length(jobs: list[str] = JOBS) -> list[str]:
    """Texts of one token length: a bucket to batch."""
    return [f"I worked as a {job} for {n} years." for job in jobs for n in YEARS]


@pytest.fixture(scope="module")
def batched():
    # Two threads whatever the machine has, so batches really are encoded side by side.
    return embed.SentenceTransformerEmbedder(batch_size=64, threads=2)


@pytest.fixture(scope="module")
def one_at_a_time(batched):
    single = embed.SentenceTransformerEmbedder(batch_size=1)
    single._model = batched.model  # the same loaded model: load it once
    return single


def alone(embedder, text: str) -> np.ndarray:
    return embedder.encode([text])[0]


def assert_same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    assert np.array_equal(a, b), f"moved by up to {np.abs(a - b).max():.2e}"


def bucket_of(embedder, texts: list[str], text: str) -> list[str]:
    """The texts ``text`` is encoded with (in one batch)."""
    position = texts.index(text)
    batch = next(b for b, _ in embedder.batches(texts) if position in b)
    return [texts[i] for i in batch]


def test_the_default_batch_is_64_padding_free():
    cfg = Config().embed
    assert cfg.batch_size == 64
    assert embed.make_embedder(cfg, store=None).batch_size == 64


def test_a_vector_is_the_same_alone_in_a_bucket_and_in_another_corpus(batched, one_at_a_time):
    alike = same_length()
    others = [
        "We find clients through referrals.",
        "Pricing was the hardest part of going freelance, honestly.",
        "Now I run a small agency with two partners and an intern.",
    ]
    first = alike[:20] + others
    second = [*reversed(alike[15:]), "Mm, the pandemic changed everything for us.", TARGET]
    assert TARGET in first and TARGET in second
    # the target shares its bucket with others, and not with the same others in both corpora
    in_first, in_second = bucket_of(batched, first, TARGET), bucket_of(batched, second, TARGET)
    assert len(in_first) >= 5 and len(in_second) >= 5 and set(in_first) != set(in_second)

    reference = alone(batched, TARGET)
    assert_same(batched.encode(first)[first.index(TARGET)], reference)
    assert_same(batched.encode(second)[second.index(TARGET)], reference)
    # every text of a whole corpus: as if encoded alone
    assert_same(batched.encode(first), np.stack([alone(batched, t) for t in first]))
    # one text at a time is another batch shape: the same vectors but for float rounding
    assert np.abs(batched.encode(first) - one_at_a_time.encode(first)).max() < 1e-6
    assert np.allclose(np.linalg.norm(batched.encode(second), axis=1), 1, atol=1e-5)


def test_vectors_come_back_in_the_input_order(batched):
    texts = [
        "Yes.",
        "I studied physics and then I freelanced for years before starting the agency.",
        TARGET,
        "Referrals.",
        "I worked as a baker for two years.",
        "I studied physics and then I freelanced for years before starting the agency.",
    ]
    assert len(set(batched.token_lengths(texts))) >= 3  # several buckets, interleaved
    vectors = batched.encode(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    for text, vector in zip(texts, vectors):
        assert_same(vector, alone(batched, text))
    assert np.array_equal(vectors[1], vectors[5])  # the same text twice, in one bucket
    assert_same(batched.encode(texts[::-1]), vectors[::-1])


def test_texts_longer_than_the_model_takes_are_truncated_and_bucketed_together(batched):
    limit = batched.model.max_seq_length
    long_a = " ".join(f"we talked about client number {i} and the price" for i in range(80))
    long_b = " ".join(f"then the project for customer {i} ran late" for i in range(90))
    past_the_limit = long_a + " and many more words the model never sees"
    short = "A short answer."
    texts = [long_a, short, long_b, past_the_limit]
    lengths = batched.token_lengths(texts)
    assert lengths[0] == lengths[2] == lengths[3] == limit and lengths[1] < limit
    shapes = {(lengths[b[0]], rows) for b, rows in batched.batches(texts)}
    assert shapes == {(limit, batched.rows_for(limit)), (lengths[1], batched.rows_for(lengths[1]))}

    vectors = batched.encode(texts)
    assert_same(vectors[0], alone(batched, long_a))
    assert_same(vectors[2], alone(batched, long_b))
    assert_same(vectors[3], vectors[0])  # the words past the limit are cut off
    assert np.abs(vectors[0] - vectors[2]).max() > 0.01  # but different texts stay different


def test_no_texts_give_no_vectors(batched, one_at_a_time):
    for embedder in (batched, one_at_a_time):
        vectors = embedder.encode([])
        assert vectors.shape == (0, 384) and vectors.dtype == np.float32
    assert batched.batches([]) == [] and one_at_a_time.batches([]) == []


def test_cached_and_fresh_vectors_are_the_same(batched, tmp_path):
    earlier = same_length(JOBS[:4])
    later = earlier[::2] + same_length(JOBS[4:])
    embed.embed_texts(earlier, batched, tmp_path)
    mixed, embedded_now = embed.embed_texts(later, batched, tmp_path)  # some from the cache
    assert 0 < embedded_now < len(later)
    fresh, _ = embed.embed_texts(later, batched, None, use_cache=False)
    assert_same(mixed, fresh)
    cache = embed.EmbeddingCache(tmp_path, batched.cache_key)
    assert cache.path.is_file() and len(cache.vectors) == len(set(earlier) | set(later))
    assert cache.path.name.endswith(f".{embed.embedders.CACHE_VERSION}.npz")
    # the batch size sets the batch shapes, so a smaller one keeps its vectors apart ...
    other = embed.SentenceTransformerEmbedder(batch_size=8)
    other._model = batched.model
    _, again = embed.embed_texts(later, other, tmp_path)
    assert again == len(later)
    assert embed.EmbeddingCache(tmp_path, other.cache_key).path.is_file()
    # ... but above the most rows any batch has, the shapes and the cache are the same
    larger = embed.SentenceTransformerEmbedder(batch_size=500)
    larger._model = batched.model
    assert embed.embed_texts(later, larger, tmp_path)[1] == 0


def test_no_padding_reaches_the_model(batched, monkeypatch):
    model = batched.model
    seen: list[tuple[int, int, bool]] = []
    forward = model.forward

    def spy(features, *args, **kwargs):
        mask = features["attention_mask"]
        seen.append((int(mask.shape[1]), int(mask.shape[0]), bool(mask.all())))
        return forward(features, *args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    texts = same_length()
    texts += ["Yes.", "Referrals, mostly.", "We find clients through referrals and repeat work."]
    batched.encode(texts)
    assert all(all_ones for *_, all_ones in seen)
    # one shape per token count, whatever the number of texts of that count
    assert all(rows == batched.rows_for(tokens) for tokens, rows, _ in seen)
    assert max(rows for _, rows, _ in seen) > 1
    assert sum(rows for _, rows, _ in seen) >= len(texts)


def test_the_thread_count_does_not_change_a_single_bit(batched):
    texts = [f"{n} clients came from {source}." for n in YEARS for source in JOBS]
    texts += same_length() + [f"We priced the {job} project by the day." for job in JOBS]
    threads = {}
    for count in (1, 2, 3):
        embedder = embed.SentenceTransformerEmbedder(batch_size=4, threads=count)
        embedder._model = batched.model
        assert len(embedder.batches(texts)) >= 3  # batches of several lengths, many at once
        threads[count] = embedder.encode(texts)
    assert_same(threads[2], threads[1])
    assert_same(threads[3], threads[1])
