"""Keyword steps chained after c-TF-IDF: recurring, distinctive words said together.

Each step is a BERTopic ``BaseRepresentation``: BERTopic calls its ``extract_topics`` with
the fitted model, the passages and their themes, and every theme's candidate keywords
(word, score) best first, and keeps what it returns. The chain is KeyBERTInspired ->
:class:`FrequentInTheme` -> :class:`AtMostMMR` -> :class:`CoOccurringKeywords`.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
from bertopic.representation import MaximalMarginalRelevance
from bertopic.representation._base import BaseRepresentation

from .clustering import OUTLIER

__all__ = ["OUTLIER", "AtMostMMR", "CoOccurringKeywords", "FrequentInTheme", "npmi_pair"]


class FrequentInTheme(BaseRepresentation):
    """Keep keywords that recur within the theme and do not recur in every theme.

    KeyBERT-style ranking favours words close to the theme's centroid even when only
    one passage says them, and words central to the whole corpus ("freelance" in a
    study of freelancers) for every theme. A reader trusts keywords that recur in the
    theme and tell it apart: a word must be used by ``min_share`` of the theme's
    passages, and is dropped as corpus-generic when it is that common in more than
    ``max_theme_share`` of all themes. A word left a candidate of many themes
    ("company") stays only in the ``max_themes_per_word`` themes whose passages use
    it most, so keywords tell the themes apart. Sits between KeyBERTInspired and MMR.

    Args:
        min_share: share of the theme's passages a keyword must occur in.
        max_theme_share: a word frequent in more than this share of the themes is generic.
        min_passages: a keyword must occur in at least this many of the theme's passages.
        keep_at_least: candidates kept per theme, topped up by frequency when too few recur
            (MMR after it needs enough to choose from).
        max_themes_per_word: a candidate stays only in this many themes, those using it most.
        generic_from_themes: words are judged generic only when there are this many themes.
    """

    def __init__(
        self,
        min_share: float = 0.1,
        max_theme_share: float = 0.5,
        min_passages: int = 2,
        keep_at_least: int = 10,
        max_themes_per_word: int = 2,
        generic_from_themes: int = 4,
    ):
        self.min_share = min_share
        self.max_theme_share = max_theme_share
        self.min_passages = min_passages
        self.keep_at_least = keep_at_least
        self.max_themes_per_word = max_themes_per_word
        self.generic_from_themes = generic_from_themes

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics: dict) -> dict:
        """Filter every theme's candidates to recurring, distinctive words.

        Args:
            topic_model: the BERTopic being fitted (its ``vectorizer_model`` tokenises).
            documents: the passages, columns ``Document`` and ``Topic``.
            c_tf_idf: unused.
            topics: theme id -> candidate (word, score) pairs, best first.

        Returns:
            Theme id -> the kept (word, score) pairs in their order (the outlier theme is not
            held to ``max_themes_per_word``).
        """
        analyzer = topic_model.vectorizer_model.build_analyzer()
        frequent: dict[int, set[str]] = {}
        df_by_topic: dict[int, Counter[str]] = {}
        size: dict[int, int] = {}
        for topic in topics:
            df: Counter[str] = Counter()
            docs = documents.loc[documents.Topic == topic, "Document"]
            for doc in docs:
                df.update(set(analyzer(doc)))
            need = max(self.min_passages, self.min_share * len(docs))
            df_by_topic[topic] = df
            size[topic] = max(1, len(docs))
            frequent[topic] = {w for w, n in df.items() if n >= need}
        real = [t for t in topics if t != OUTLIER]
        spread = Counter(w for t in real for w in frequent[t])
        generic = {
            w
            for w, n in spread.items()
            if len(real) >= self.generic_from_themes and n > self.max_theme_share * len(real)
        }
        owners: dict[str, set[int]] = {}
        for w in {w for t in real for w, _ in topics[t] if w}:
            using = sorted(
                (t for t in real if df_by_topic[t][w]),
                key=lambda t: (-df_by_topic[t][w] / size[t], t),
            )
            owners[w] = set(using[: self.max_themes_per_word])
        out = {}
        for topic, words in topics.items():
            candidates = [
                (w, score)
                for w, score in words
                if w and w not in generic and (topic == OUTLIER or topic in owners.get(w, {topic}))
            ]
            kept = [(w, score) for w, score in candidates if w in frequent[topic]]
            if len(kept) < self.keep_at_least:  # MMR needs enough candidates; top up by frequency
                df = df_by_topic[topic]
                rest = sorted(
                    (ws for ws in candidates if ws not in kept), key=lambda ws: -df[ws[0]]
                )
                kept += rest[: self.keep_at_least - len(kept)]
            out[topic] = kept
        return out


class CoOccurringKeywords(BaseRepresentation):
    """Pick the final keywords as a set that is said together, not just each near the theme.

    A reader trusts "rate · raise · clients" when the theme's passages use those words in
    the same breath; ten words each close to the theme's centroid but never said in one
    passage read as a bag. From the candidates (best first), the set of ``top_n``
    keywords maximises its mean relevance (1 for the best candidate down to 0 for the
    last) plus ``weight`` times the mean NPMI of its pairs, co-occurrence counted within
    passages (a pair never said together scores -1). The most relevant candidate anchors
    the set, so the theme keeps its name; the rest are added greedily, then swapped one
    at a time while the set's value rises (greedy alone keeps an early word that later
    ones are never said with). The set is shown in candidate order, so the label is made
    from its most relevant words. A candidate whose words all come with another chosen
    keyword ("brand" beside "personal brand") is not taken.

    Args:
        top_n: keywords per theme.
        weight: weight of the pairs' mean NPMI against the mean relevance; 0 = by rank only.
    """

    def __init__(self, top_n: int = 10, weight: float = 1.0):
        self.top_n = top_n
        self.weight = weight

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics: dict) -> dict:
        """Choose every theme's ``top_n`` keywords as a set said together.

        Args:
            topic_model: the BERTopic being fitted (its ``vectorizer_model`` tokenises).
            documents: the passages, column ``Document`` (co-occurrence is counted over all).
            c_tf_idf: unused.
            topics: theme id -> candidate (word, score) pairs, best first.

        Returns:
            Theme id -> the chosen (word, score) pairs in candidate order; outliers and themes
            with one candidate keep their first ``top_n`` candidates.
        """
        analyzer = topic_model.vectorizer_model.build_analyzer()
        doc_words = [
            {part for token in analyzer(doc) for part in token.split()}
            for doc in documents["Document"]
        ]
        index: dict[str, set[int]] = {}
        for i, words in enumerate(doc_words):
            for w in words:
                index.setdefault(w, set()).add(i)
        out = {}
        for topic, words in topics.items():
            candidates = list(dict.fromkeys(w for w, _ in words if w))
            if topic == OUTLIER or len(candidates) <= 1:
                out[topic] = [(w, score) for w, score in words if w][: self.top_n]
                continue
            chosen = self._best_set(candidates, index, len(doc_words))
            score_of = dict(words)
            out[topic] = [(w, score_of[w]) for w in candidates if w in chosen]
        return out

    def _best_set(self, candidates: list[str], index: dict[str, set[int]], n_docs: int) -> set[str]:
        def docs_with(keyword: str) -> set[int]:
            parts = keyword.split()
            found = set(index.get(parts[0], set()))
            for part in parts[1:]:
                found &= index.get(part, set())
            return found

        sets = [docs_with(w) for w in candidates]
        m = len(candidates)
        relevance = np.array([1 - r / (m - 1) for r in range(m)])
        pair = np.full((m, m), -1.0)
        np.fill_diagonal(pair, 0.0)  # a word with itself is not a pair
        for i in range(m):
            for j in range(i + 1, m):
                pair[i, j] = pair[j, i] = npmi_pair(
                    len(sets[i] & sets[j]), len(sets[i]), len(sets[j]), n_docs
                )
        parts = [frozenset(w.split()) for w in candidates]

        def fits(i: int, members: list[int]) -> bool:
            return all(not (parts[i] <= parts[j] or parts[j] <= parts[i]) for j in members)

        def value(members: list[int]) -> float:
            k = len(members)
            coherence = pair[np.ix_(members, members)].sum() / (k * (k - 1)) if k > 1 else 0.0
            return float(relevance[members].mean() + self.weight * coherence)

        members = [0]  # the theme's most relevant candidate anchors the set (and the label)
        while len(members) < self.top_n:
            options = [i for i in range(m) if i not in members and fits(i, members)]
            if not options:
                break
            members.append(max(options, key=lambda i: (value(members + [i]), -i)))
        current = value(members)
        improved = True
        while improved:  # one-word swaps, never of the anchor, while the set's value rises
            improved = False
            for pos in range(1, len(members)):
                rest = members[:pos] + members[pos + 1 :]
                for i in range(m):
                    if i in members or not fits(i, rest):
                        continue
                    if value(rest + [i]) > current + 1e-12:
                        members, current, improved = rest + [i], value(rest + [i]), True
                        break
        return {candidates[i] for i in members}


def npmi_pair(joint: int, n_a: int, n_b: int, n: int) -> float:
    """Normalised PMI of two words from passage counts.

    Args:
        joint: passages saying both.
        n_a: passages saying the first.
        n_b: passages saying the second.
        n: all passages.

    Returns:
        NPMI in [-1, 1]: -1 when never said together, 1 when both are in every passage.
    """
    if not joint or not n_a or not n_b:
        return -1.0
    p_ab = joint / n
    if p_ab >= 1.0:
        return 1.0
    return math.log(p_ab / ((n_a / n) * (n_b / n))) / -math.log(p_ab)


class AtMostMMR(BaseRepresentation):
    """BERTopic's MaximalMarginalRelevance, never asked for more words than a theme has.

    BERTopic's step fails when a theme has fewer candidates than ``top_n_words``; this one
    asks each theme for at most as many as it has, and leaves a theme with fewer than two
    as it is.

    Args:
        diversity: MMR's diversity (0: by relevance only, 1: most diverse).
        top_n: words kept per theme.
    """

    def __init__(self, diversity: float = 0.1, top_n: int = 10):
        self.diversity = diversity
        self.top_n = top_n

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics: dict) -> dict:
        """Keep every theme's ``top_n`` most relevant, diverse candidates.

        Args:
            topic_model: the BERTopic being fitted (its embedding model embeds the words).
            documents: the passages (passed on to MMR).
            c_tf_idf: passed on to MMR.
            topics: theme id -> candidate (word, score) pairs, best first.

        Returns:
            Theme id -> the kept (word, score) pairs in candidate order.
        """
        out = {}
        for topic, words in topics.items():
            n = min(self.top_n, len([w for w, _ in words if w]))
            if n < 2:
                out[topic] = words
                continue
            step = MaximalMarginalRelevance(diversity=self.diversity, top_n_words=n)
            out.update(step.extract_topics(topic_model, documents, c_tf_idf, {topic: words}))
        return out
