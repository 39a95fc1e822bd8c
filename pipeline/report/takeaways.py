"""Takeaways: advice points grouped across conversations and ranked by support.

Points are grouped by average-linkage clustering on a similarity that mixes meaning
(sentence embeddings) with shared words (TF-IDF of lemmas): short advice like
"find partners" and "find the people who complement you" is close in meaning, while
"pick a niche" and "raise your rate" share the verb pattern but not the key noun,
which the word half of the similarity keeps apart. A group's support is the number
of conversations that gave it; groups are ranked by support, then by conversations
that discuss the same thing without giving it as advice, then by strength.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from ..evaluate.report import headline_problem
from .advice import AdvicePoint, strip_lead


@dataclass
class PointGroup:
    points: list[AdvicePoint]
    vectors: np.ndarray  # normalised, one per advice sentence of its points
    centroid: np.ndarray
    keywords: list[str]
    interviews: list[str]
    strength: float
    point_sims: list[float]  # per point: its closest advice sentence's similarity to the centroid
    sentences: list[int]  # indices into the advice sentences, aligned with ``vectors``
    headline: str = ""
    also_discussed: list[str] | None = None


def normalise(v: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, so dot products are cosine similarities.

    Args:
        v: a matrix, one vector a row.

    Returns:
        The scaled matrix (zero rows stay zero).
    """
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1, norms)


def similarity(
    vectors: np.ndarray, lemma_docs: list[str], word_weight: float
) -> tuple[np.ndarray, TfidfVectorizer | None]:
    """Similarity of advice sentences: meaning (embeddings) mixed with shared words.

    Args:
        vectors: the sentences' embeddings.
        lemma_docs: each sentence's lemmas, space-separated.
        word_weight: the share of the TF-IDF word similarity (0: meaning only).

    Returns:
        The similarity matrix, and the fitted TF-IDF vectoriser (None when words are not
        used).
    """
    v = normalise(vectors)
    meaning = v @ v.T
    if word_weight <= 0 or not any(lemma_docs):
        return meaning, None
    tfidf = TfidfVectorizer(sublinear_tf=True, token_pattern=r"\S+")
    words = tfidf.fit_transform(lemma_docs).toarray()
    return (1 - word_weight) * meaning + word_weight * (words @ words.T), tfidf


def point_similarity(owner: np.ndarray, sentence_sim: np.ndarray, n_points: int) -> np.ndarray:
    """Similarity of two points = that of their closest pair of advice sentences.

    A point is an advice sentence plus its explanation; "Make stuff in public. Like,
    build a personal brand" and "Build a personal brand by writing" share one piece
    of advice, which averaging over whole points would dilute.

    Args:
        owner: the point of each advice sentence.
        sentence_sim: the sentences' similarity matrix.
        n_points: the number of points.

    Returns:
        The points' similarity matrix.
    """
    out = np.empty((n_points, n_points))
    members = [np.flatnonzero(owner == k) for k in range(n_points)]
    for a in range(n_points):
        for b in range(a, n_points):
            out[a, b] = out[b, a] = sentence_sim[np.ix_(members[a], members[b])].max()
    return out


def group_points(
    points: list[AdvicePoint],
    owner: np.ndarray,
    vectors: np.ndarray,
    lemma_docs: list[str],
    scores: list[float],
    threshold: float,
    word_weight: float,
) -> list[PointGroup]:
    """Group points by average linkage over :func:`point_similarity`.

    Args:
        points: the advice points.
        owner: ``owner[i]`` is the point of advice sentence ``i``.
        vectors: the advice sentences' embeddings.
        lemma_docs: the advice sentences' lemmas, space-separated.
        scores: each point's advice score.
        threshold: the average-linkage distance at which groups stop merging.
        word_weight: the share of shared words in the similarity.

    Returns:
        The groups, with their key words, conversations and strength (headlines and
        ``also_discussed`` are filled in later).
    """
    if not points:
        return []
    v = normalise(vectors)
    sentence_sim, _ = similarity(vectors, lemma_docs, word_weight)
    if len(points) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        distance = np.clip(1 - point_similarity(owner, sentence_sim, len(points)), 0, None)
        np.fill_diagonal(distance, 0)
        labels = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="average", distance_threshold=threshold
        ).fit_predict(distance)
    point_docs = [
        " ".join(lemma_docs[i] for i in np.flatnonzero(owner == k)) for k in range(len(points))
    ]
    groups = []
    for label in sorted(set(labels.tolist())):
        idx = [k for k in range(len(points)) if labels[k] == label]
        rows = np.flatnonzero(np.isin(owner, idx))
        centroid = normalise(v[rows].mean(axis=0, keepdims=True))[0]
        cohesion = float(np.mean(v[rows] @ centroid))
        members = [points[k] for k in idx]
        strength = round(float(np.mean([scores[k] for k in idx])) * cohesion, 4)
        interviews = sorted({p.interview_id for p in members})
        sims = [float((v[np.flatnonzero(owner == k)] @ centroid).max()) for k in idx]
        groups.append(
            PointGroup(
                members,
                v[rows],
                centroid,
                _keywords(idx, point_docs),
                interviews,
                strength,
                sims,
                rows.tolist(),
            )
        )
    return groups


def _keywords(idx: list[int], lemma_docs: list[str], n: int = 6) -> list[str]:
    """Lemmas frequent in the group's points and rare in the other points (a tiny c-TF-IDF)."""
    inside = Counter(w for i in idx for w in set(lemma_docs[i].split()))
    outside = Counter(
        w for i in range(len(lemma_docs)) if i not in idx for w in set(lemma_docs[i].split())
    )
    total_out = max(1, len(lemma_docs) - len(idx))
    scored = [
        (count / len(idx) - outside[w] / total_out, -count, w)
        for w, count in inside.items()
        if count >= 1
    ]
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    return [w for score, _, w in scored[:n] if score > 0]


def headline_for(group: PointGroup, sentences, spans) -> str:
    """The verb phrase most of the group's advice shares, as said: "pick a niche".

    Counts (verb lemma, object lemma) pairs over the imperative sentences; the most
    common pair's shortest wording becomes the headline. Without an imperative the
    headline is the group's first advice sentence, shortened at its first comma.

    Args:
        group: the group.
        sentences: the parsed sentences table its points' rows index.
        spans: the spaCy sentence of each row.

    Returns:
        The headline, capitalised.
    """
    per_conversation: set = set()
    wordings: dict[tuple[str, str], Counter] = {}
    for point in group.points:
        for r in point.rows:
            if not sentences.at[r, "imperative"]:
                continue
            sent = spans[r]
            root = sent.root
            for verb in [
                root,
                *[c for c in root.children if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX")],
            ]:
                obj = next(
                    (c for c in verb.children if c.dep_ in ("dobj", "attr", "oprd", "acomp")), None
                )
                if obj is None:
                    prep = next((c for c in verb.children if c.dep_ == "prep"), None)
                    obj = (
                        next((c for c in prep.children if c.dep_ == "pobj"), None)
                        if prep is not None
                        else None
                    )
                if obj is None or obj.i < verb.i:
                    continue
                key = (verb.lemma_.lower(), obj.lemma_.lower())
                per_conversation.add((key, point.interview_id))
                # keep the negation: "don't be cheap", not "be cheap"
                first = min(
                    [
                        verb.i,
                        *[c.i for c in verb.children if c.dep_ in ("neg", "aux") and c.i < verb.i],
                    ]
                )
                span = sent.doc[first : obj.i + 1]
                words = [t for t in span if not t.is_punct]
                if len(words) <= 8:
                    text = " ".join("".join(t.text_with_ws for t in words).split())
                    wordings.setdefault(key, Counter())[text.lower()] += 1
    counts = Counter(key for key, _ in per_conversation)
    position = {w: i for i, w in enumerate(group.keywords)}
    ranked = sorted(counts, key=lambda k: (-counts[k], position.get(k[1], len(position)), k))
    # The first wording a reader can take as a headline: a cut-off fragment ("Never put
    # yourself") or a spoken opener is skipped for the next most shared one.
    for key in ranked:
        for text in sorted(
            wordings.get(key, ()), key=lambda w: (-wordings[key][w], len(w.split()), w)
        ):
            text = text[:1].upper() + text[1:]
            if not headline_problem(text):
                return text
    first = strip_lead(sentences.at[group.points[0].rows[0], "text"])
    first = first.split(",")[0].rstrip(".!?")[:80]
    if first and not headline_problem(first):
        return first
    from .findings import headline_from  # findings builds on this module

    return headline_from([], list(group.keywords))


def rank_groups(groups: list[PointGroup]) -> list[PointGroup]:
    """Most conversations touching it first (advised or discussed), then most advising, then
    strength.

    Args:
        groups: the groups, with ``also_discussed`` set.

    Returns:
        The groups in rank order (ties broken by headline).
    """
    return sorted(
        groups,
        key=lambda g: (
            -(len(g.interviews) + len(g.also_discussed or [])),
            -len(g.interviews),
            -g.strength,
            g.headline,
        ),
    )
