"""A guide found in the data: the interviewers' questions, clustered and put in order.

When nobody wrote the guide down, the interviewers' questions still carry it: the same
things get asked in most conversations, in roughly the same order. The questions
(interviewer passages that ask, five words or more) are clustered by meaning with
k-means, k chosen by silhouette; a cluster becomes a section when questions from at
least ``min_share`` of the conversations fall in it (a probe asked once is not a part of
the guide). Sections are ordered by the median relative position of their questions in
the conversation, named after the words that set their questions apart (c-TF-IDF
against the other clusters), and given their most central questions as examples.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from ..ingest.roles import INTERVIEWER

MIN_WORDS = 5
CONTRACTION = re.compile(r"\b\w+['’]\w+\b")  # don't, it's: no topic in them
# Conversational words that name no topic.
GENERIC = set(
    """think know like yeah just really kind sort mean say tell going thing things lot okay right
    way want did does got gonna maybe little bit talk talked question questions guess actually
    ask make look people time good sure great cool said wanna doing point different stuff come
    came thought feel remember interesting mentioned basically obviously""".split()
)


class SuggestError(ValueError):
    pass


def _questions(turns: pd.DataFrame, passages: pd.DataFrame) -> pd.DataFrame:
    """Interviewer question passages with their conversation and relative position."""
    asks = (
        passages["is_question"].fillna(False).astype(bool)
        if "is_question" in passages
        else (passages["text"].str.contains(r"\?", regex=True))
    )
    words = passages["text"].str.split().str.len()
    picked = passages[(passages["role"] == INTERVIEWER) & asks & (words >= MIN_WORDS)].copy()
    lengths = turns.groupby("interview_id")["turn_index"].agg(["min", "max"])
    span = (lengths["max"] - lengths["min"]).clip(lower=1)
    picked["position"] = [
        (t - lengths.at[i, "min"]) / span.at[i]
        for i, t in zip(picked["interview_id"], picked["turn_index"].astype(int))
    ]
    return picked


def _asking_part(text: str, max_words: int = 30) -> str:
    """The question a passage asks, without the comment before it: its last sentences
    that ask, up to ``max_words`` words."""
    sentences = re.split(r"(?<=[.?!…])\s+", " ".join(text.split()))
    asked = [s for s in sentences if "?" in s] or sentences[-1:]
    out: list[str] = []
    for s in reversed(asked):
        if out and len(" ".join([s, *out]).split()) > max_words:
            break
        out.insert(0, s)
    words = " ".join(out).split()
    return " ".join(words[-max_words:]) if len(words) > max_words else " ".join(words)


def _distinct_words(clusters: list[pd.DataFrame], top: int = 3) -> list[list[str]]:
    """c-TF-IDF: words frequent in a cluster's questions and rare in the others'. A word
    from one conversation only (a participant's name) names no part of the guide."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    counts, spread = [], []
    for cluster in clusters:
        c: Counter[str] = Counter()
        seen: dict[str, set] = {}
        for interview, text in zip(cluster["interview_id"], cluster["text"]):
            for w in re.findall(r"[a-z][a-z-]{2,}", CONTRACTION.sub(" ", text.lower())):
                if w in ENGLISH_STOP_WORDS or w in GENERIC:
                    continue
                c[w] += 1
                seen.setdefault(w, set()).add(interview)
        counts.append(c)
        spread.append({w: len(v) for w, v in seen.items()})
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    average = sum(total.values()) / max(1, len(counts))
    out = []
    for c, reach in zip(counts, spread):
        size = max(1, sum(c.values()))
        scored = {
            w: (n / size) * np.log(1 + average / total[w])
            for w, n in c.items()
            if n >= 2 and reach[w] >= 3
        }
        out.append(sorted(scored, key=scored.get, reverse=True)[:top])
    return out


def suggest_guide(
    turns: pd.DataFrame,
    passages: pd.DataFrame,
    vectors: np.ndarray,
    *,
    min_share: float = 0.3,
    max_sections: int = 8,
    position_weight: float = 0.7,
    seed: int = 42,
    name: str = "suggested",
) -> dict:
    """A guide (the YAML's mapping) from the interviewers' questions.

    Args:
        turns, passages, vectors: the ingest, passages and embed stages' outputs.
        min_share: a cluster is a section when this share of conversations asks in it.
        position_weight: weight of the question's relative position beside its meaning.
        max_sections: the most sections to look for.
        seed: k-means seed (same input, same guide).
        name: the guide's name.

    Raises:
        SuggestError: too few conversations or questions to find a structure.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    questions = _questions(turns, passages)
    n_conversations = int(turns["interview_id"].nunique())
    if n_conversations < 3:
        raise SuggestError(
            f"{n_conversations} conversation(s): a guide is found from questions that recur "
            "across conversations, at least 3 are needed"
        )
    if len(questions) < 12:
        raise SuggestError(
            f"{len(questions)} interviewer questions of {MIN_WORDS}+ words: too few to find "
            "the sections (typed notes without questions need a guide written by hand)"
        )
    index = {pid: i for i, pid in enumerate(passages["passage_id"])}
    x = vectors[[index[p] for p in questions["passage_id"]]]
    x = x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-9)
    # Where in the conversation a question comes is half of what makes it a part of the
    # guide: the same words early (background) and late (plans) are different parts.
    x = np.hstack([x, position_weight * questions["position"].to_numpy()[:, None]])
    fits = []
    for k in range(3, min(2 * max_sections, len(questions) // 3) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)
        fits.append((silhouette_score(x, labels, metric="cosine", random_state=seed), k, labels))
    # Silhouette on sentence vectors favours few broad clusters; a guide needs the parts
    # an interviewer moves through, so take the finest k whose silhouette is nearly the best.
    top = max(f[0] for f in fits)
    _, k, labels = max((f for f in fits if f[0] >= top - 0.1 * abs(top)), key=lambda f: f[1])
    questions["cluster"] = labels
    clusters = []
    for _, group in questions.groupby("cluster"):
        reach = group["interview_id"].nunique() / n_conversations
        if reach < min_share or group["interview_id"].nunique() < 2:
            continue
        members = x[[questions.index.get_loc(i) for i in group.index], :-1]
        centre = members.mean(axis=0)
        closeness = members @ (centre / max(np.linalg.norm(centre), 1e-9))
        ordered = group.assign(closeness=closeness).sort_values("closeness", ascending=False)
        asked = (_asking_part(t) for t in ordered["text"])
        examples = list(dict.fromkeys(a for a in asked if len(a.split()) >= MIN_WORDS))[:5]
        clusters.append(
            {
                "position": float(group["position"].median()),
                "reach": reach,
                "group": group,
                "examples": examples,
                "conversations": int(group["interview_id"].nunique()),
            }
        )
    if len(clusters) < 2:
        raise SuggestError(
            f"the questions form no recurring parts: fewer than 2 clusters are asked in "
            f"{min_share:.0%} of the {n_conversations} conversations"
        )
    clusters.sort(key=lambda c: c["position"])
    clusters = clusters[:max_sections]
    words = _distinct_words([c["group"] for c in clusters])
    sections = []
    used: Counter[str] = Counter()
    for i, (c, w) in enumerate(zip(clusters, words)):
        base = "-".join(w[:2]) or f"part-{i + 1}"
        used[base] += 1
        section_name = base if used[base] == 1 else f"{base}-{used[base]}"
        sections.append(
            {
                "name": section_name,
                "description": (
                    f"Questions about {', '.join(w) or 'this part'}: asked in "
                    f"{c['conversations']} of {n_conversations} conversations, around "
                    f"{c['position']:.0%} of the way through."
                ),
                "questions": c["examples"],
                "aliases": w,
            }
        )
    return {
        "name": name,
        "description": (
            f"Found in the data: the interviewers' questions in {n_conversations} "
            f"conversations, {len(questions)} questions in {k} clusters, {len(sections)} "
            f"asked in at least {min_share:.0%} of conversations."
        ),
        "sections": sections,
    }
