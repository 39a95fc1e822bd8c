"""Check themes (and, later, sections) against figures a reviewer trusts.

Internal measures (no labels needed): outlier share, topic diversity, NPMI
coherence over the corpus's own passages. External measures against a human coding
(``--gold coded.csv`` with ``interview, code, text``): NMI, ARI and, per human
code, the F1 of its best-matching theme. Every figure is printed beside the same
figure for vanilla ``BERTopic()`` fitted on the same passages in the same run.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from ..core.catalog import cache_dir
from ..ingest.clean import clean_text
from .gold import read_gold_csv

log = logging.getLogger(__name__)
OUTLIER = -1


# --- internal measures ----------------------------------------------------


def outlier_share(topics: list[int]) -> float:
    return sum(1 for t in topics if t == OUTLIER) / len(topics) if topics else 0.0


def topic_diversity(topic_words: list[list[str]], top_k: int = 10) -> float:
    """Share of unique words among all themes' top-k words (1.0 = no word shared)."""
    words = [w for ws in topic_words for w in ws[:top_k]]
    return len(set(words)) / len(words) if words else 0.0


def unigrams(words: list[str], top_k: int = 10) -> list[str]:
    """Key phrases split into their words, first occurrence kept, the first top_k."""
    return list(dict.fromkeys(part for w in words for part in w.split()))[:top_k]


@dataclass
class ContentReference:
    """One reference for scoring every system's content words (see :func:`content_npmi`)."""

    analyzer: object
    tokenized: list[list[str]]
    vocabulary: set[str]

    @classmethod
    def from_passages(cls, docs: pd.DataFrame) -> ContentReference:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        from ..themes import LemmaAnalyzer

        analyzer = LemmaAnalyzer.from_passages(docs, frozenset(ENGLISH_STOP_WORDS))
        tokenized = [analyzer(t) for t in docs["clean_text"]]
        return cls(
            analyzer, tokenized, {part for doc in tokenized for tok in doc for part in tok.split()}
        )

    def npmi(self, ranked_words: list[list[str]], top_k: int = 10) -> float:
        # Pieces the reference never produces ("don" of "don't", numbers) are skipped too, so
        # every system is scored on top_k words that the reference can count.
        mapped = []
        for words in ranked_words:
            tokens = (self.analyzer.token(part) for w in words for part in w.split())
            mapped.append(list(dict.fromkeys(t for t in tokens if t in self.vocabulary))[:top_k])
        return npmi_coherence(mapped, self.tokenized, top_k)


def content_npmi(ranked_words: list[list[str]], docs: pd.DataFrame, top_k: int = 10) -> float:
    """NPMI of each theme's top-k *content* words, every system scored on one reference.

    Topic-model evaluations (Roeder et al. 2015, OCTIS) score all models against one
    reference corpus with stop words removed. Here the reference is the passages as
    lemma-grouped words without scikit-learn's English stop words (the standard list,
    not this project's filler list, so no system is scored on its own vocabulary).
    Each system's ranked words are mapped onto it, stop words skipped, the first top_k
    kept: a theme led by "the, and, to" is scored on the content words that follow.
    Filler outside that list ("just", "like", "yeah") still counts as a content word.
    """
    return ContentReference.from_passages(docs).npmi(ranked_words, top_k)


def npmi_coherence(
    topic_words: list[list[str]], tokenized_docs: list[list[str]], top_k: int = 10
) -> float:
    """Mean normalised PMI of each theme's top-k words, co-occurrence within a passage.

    Bigram keywords are split into their words first, so systems with and without
    bigrams are scored on the same footing.
    """
    from ..themes import npmi_pair

    topic_words = [unigrams(ws, top_k) for ws in topic_words]
    doc_sets = [set(part for tok in doc for part in tok.split()) for doc in tokenized_docs]
    n = len(doc_sets)
    if not n or not topic_words:
        return 0.0
    vocabulary = {w for ws in topic_words for w in ws[:top_k]}
    index = {w: {i for i, d in enumerate(doc_sets) if w in d} for w in vocabulary}
    scores = []
    for words in topic_words:
        pairs = []
        for a, b in itertools.combinations(words[:top_k], 2):
            da, db = index[a], index[b]
            if da and db:  # a word no passage has says nothing about coherence
                pairs.append(npmi_pair(len(da & db), len(da), len(db), n))
        if pairs:
            scores.append(float(np.mean(pairs)))
    return float(np.mean(scores)) if scores else 0.0


# --- against human codes --------------------------------------------------


def _norm_tokens(text: str) -> list[str]:
    return re.findall(r"\w+", clean_text(str(text)).lower())


@dataclass
class GoldMatch:
    rows: pd.DataFrame  # interview, code, text, passage_id (None when not found)
    not_found: list[tuple[str, str]] = field(default_factory=list)


def read_gold_codes(path: Path) -> pd.DataFrame:
    gold = read_gold_csv(path)
    missing = [c for c in ("interview", "code", "text") if c not in gold.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)} (need interview, code, text)"
        )
    return gold[["interview", "code", "text"]]


def locate_excerpts(
    gold: pd.DataFrame, passages: pd.DataFrame, min_score: float = 80.0
) -> GoldMatch:
    """Find the passage each coded excerpt falls in (fuzzy: tolerant of whitespace and filler).

    The older matcher, for passages without their turns; :func:`evaluate_themes` uses
    :func:`locate_in_turns`."""
    by_interview = {k: g for k, g in passages.groupby("interview_id")}
    found, missing = [], []
    for row in gold.itertuples():
        group = by_interview.get(row.interview)
        target = " ".join(_norm_tokens(row.text))
        best_id, best = None, 0.0
        if group is not None and target:
            target_tokens = Counter(target.split())
            for pid, text in zip(group["passage_id"], group["text"]):
                candidate = " ".join(_norm_tokens(text))
                score = fuzz.partial_ratio(target, candidate) if candidate else 0.0
                # Among near-ties prefer the passage holding more of the excerpt's words.
                overlap = sum((target_tokens & Counter(candidate.split())).values()) / max(
                    1, sum(target_tokens.values())
                )
                score = score * 0.7 + 100 * overlap * 0.3
                if score > best:
                    best_id, best = pid, score
        if best_id is None or best < min_score:
            missing.append((row.interview, row.text))
            best_id = None
        found.append(
            {"interview": row.interview, "code": row.code, "text": row.text, "passage_id": best_id}
        )
    return GoldMatch(pd.DataFrame(found), missing)


def locate_in_turns(gold: pd.DataFrame, turns: pd.DataFrame, passages: pd.DataFrame) -> GoldMatch:
    """Find the passage each coded excerpt falls in with :func:`pipeline.coding.locate.locate`
    (the excerpt is found in its interview's turns, then the passages it overlaps): the
    passage of ``passages`` sharing the most characters with it, None when it is not
    located or overlaps none of them."""
    from ..coding.locate import locate
    from ..coding.model import CodedExcerpt

    excerpts = [
        CodedExcerpt(str(r.interview), (str(r.code),) if str(r.code).strip() else (), str(r.text))
        for r in gold.itertuples()
    ]
    found = locate(excerpts, turns, passages)
    best: dict[int, str] = {}
    if len(found.overlaps):
        ov = found.overlaps.sort_values(
            ["excerpt", "chars"], ascending=[True, False], kind="stable"
        )
        best = dict(ov.drop_duplicates("excerpt")[["excerpt", "passage_id"]].to_numpy().tolist())
    rows, missing = [], []
    for n, row in enumerate(gold.itertuples()):
        pid = best.get(n)
        if pid is None:
            missing.append((row.interview, row.text))
        rows.append(
            {"interview": row.interview, "code": row.code, "text": row.text, "passage_id": pid}
        )
    return GoldMatch(pd.DataFrame(rows), missing)


def best_match_f1(codes: list[str], themes: list[int]) -> dict[str, float]:
    """For every human code, the F1 of the theme that matches it best."""
    out = {}
    code_sets = {c: {i for i, x in enumerate(codes) if x == c} for c in set(codes)}
    theme_sets = {t: {i for i, x in enumerate(themes) if x == t} for t in set(themes)}
    for code, members in sorted(code_sets.items()):
        best = 0.0
        for assigned in theme_sets.values():
            inter = len(members & assigned)
            if inter:
                best = max(best, 2 * inter / (len(members) + len(assigned)))
        out[code] = round(best, 4)
    return out


def agreement(codes: list[str], themes: list[int]) -> dict[str, float]:
    f1 = best_match_f1(codes, themes)
    return {
        "nmi": round(float(normalized_mutual_info_score(codes, themes)), 4),
        "ari": round(float(adjusted_rand_score(codes, themes)), 4),
        "mean_best_f1": round(float(np.mean(list(f1.values()))) if f1 else 0.0, 4),
    }


# --- the side-by-side comparison -------------------------------------------


@dataclass
class SystemResult:
    name: str
    topics: list[int]
    topic_words: list[list[str]]
    analyzer: object
    ranked_words: list[list[str]]  # longer lists, for scoring content words only

    def internal(
        self, passages: pd.DataFrame, reference: ContentReference | None = None
    ) -> dict[str, float]:
        tokenized = [self.analyzer(d) for d in passages["clean_text"]]
        reference = reference or ContentReference.from_passages(passages)
        return {
            "themes": len(set(self.topics) - {OUTLIER}),
            "outlier_share": round(outlier_share(self.topics), 4),
            "topic_diversity": round(topic_diversity(self.topic_words), 4),
            "npmi": round(npmi_coherence(self.topic_words, tokenized), 4),
            "npmi_content": round(reference.npmi(self.ranked_words), 4),
        }


def _topic_words(model, topics: list[int], top_k: int = 10) -> list[list[str]]:
    return [
        [w for w, _ in (model.get_topic(t) or [])][:top_k] for t in sorted(set(topics) - {OUTLIER})
    ]


def vanilla_bertopic(docs: list[str], embeddings: np.ndarray, embedder, seed: int) -> SystemResult:
    """Plain BERTopic() defaults on the same passages and vectors (UMAP seeded to repeat)."""
    from bertopic import BERTopic

    from ..themes import BackendAdapter
    from ..themes.compiled import umap_class

    UMAP = umap_class()

    model = BERTopic(
        embedding_model=BackendAdapter(embedder),
        top_n_words=30,  # more words kept, same ranking: the content-word NPMI skips stop words
        umap_model=UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
        ),
    )
    topics, _ = model.fit_transform(docs, embeddings=embeddings)
    ranked = _topic_words(model, list(topics), 30)
    return SystemResult(
        "vanilla BERTopic()",
        list(map(int, topics)),
        [ws[:10] for ws in ranked],
        model.vectorizer_model.build_analyzer(),
        ranked,
    )


def ours_from_outputs(out_dir: Path, config) -> tuple[SystemResult, pd.DataFrame, np.ndarray]:
    """Our themes as written by the themes stage, with the passages and vectors they cover."""
    from ..core import lineage
    from ..core.catalog import ASSIGNMENTS, INTERVIEWS, PASSAGES, THEMES, read_table
    from ..embed import load_embeddings
    from ..themes import analyzer_for

    lineage.require(out_dir, "themes", config)
    passages = read_table(PASSAGES, out_dir)
    vectors, _ = load_embeddings(out_dir, passages)
    assignments = read_table(ASSIGNMENTS, out_dir)
    themes = read_table(THEMES, out_dir)
    index = {pid: i for i, pid in enumerate(passages["passage_id"])}
    rows = [index[p] for p in assignments["passage_id"]]
    selected = passages.iloc[rows].reset_index(drop=True)
    interviews = read_table(INTERVIEWS, out_dir)
    analyzer = analyzer_for(selected, passages, interviews, config.themes)
    topics = assignments["theme_id"].astype(int).tolist()
    words_by_theme = {int(r.theme_id): str(r.keywords).split("; ") for r in themes.itertuples()}
    topic_words = [words_by_theme[t][:10] for t in sorted(set(topics) - {OUTLIER})]
    return (
        SystemResult("interview-insights", topics, topic_words, analyzer, topic_words),
        selected,
        vectors[rows],
    )


def evaluate_themes(out_dir: Path, config, *, gold: Path | None = None, embedder=None) -> dict:
    """Our themes beside vanilla ``BERTopic()`` on the same passages and vectors, in one run.

    Args:
        out_dir: the output folder holding the themes.
        config: the effective configuration.
        gold: optional CSV of coded excerpts (``interview, code, text``).
        embedder: an embedder to reuse for vanilla BERTopic's keywords.

    Returns:
        Internal measures per system and, with ``gold``, agreement with the coding.
    """
    from ..core.catalog import TURNS, read_table
    from ..embed import make_embedder

    gold_path = gold
    ours, selected, vectors = ours_from_outputs(Path(out_dir), config)
    docs = selected["clean_text"].tolist()
    embedder = embedder or make_embedder(config.embed, cache_dir(out_dir))
    vanilla = vanilla_bertopic(docs, vectors, embedder, config.themes.seed)
    reference = ContentReference.from_passages(selected)  # built once, both systems scored on it
    result = {
        "n_passages": len(docs),
        "internal": {
            system.name: system.internal(selected, reference) for system in (ours, vanilla)
        },
    }
    if gold_path is not None:
        gold = read_gold_codes(gold_path)
        match = locate_in_turns(gold, read_table(TURNS, out_dir), selected)
        located = match.rows.dropna(subset=["passage_id"])
        position = {pid: i for i, pid in enumerate(selected["passage_id"])}
        idx = [position[p] for p in located["passage_id"]]
        codes = located["code"].tolist()
        result["gold"] = {
            "file": str(gold_path),
            "excerpts": len(gold),
            "located": len(located),
            "not_found": [f"{i}: {t[:60]}" for i, t in match.not_found],
            ours.name: agreement(codes, [ours.topics[i] for i in idx]),
            vanilla.name: agreement(codes, [vanilla.topics[i] for i in idx]),
            "per_code_f1": {
                ours.name: best_match_f1(codes, [ours.topics[i] for i in idx]),
                vanilla.name: best_match_f1(codes, [vanilla.topics[i] for i in idx]),
            },
        }
    return result
