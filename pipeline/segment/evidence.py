"""Which section of the interview guide (past / present / future, or any other) each
turn and passage belongs to.

Real conversations paraphrase the guide, wander back and forth, and typed notes
often have no questions at all, so no single rule decides. Four kinds of evidence
are combined into a score per turn and section:

1. headings in notes ("## Past", "Future:", "Where next?"), matched to the guide's
   section names and aliases, or by meaning;
2. interviewer questions matched to the guide's example questions by embedding
   similarity; answers inherit the evidence of the question they answer;
3. cues in the answer itself: verb tense from spaCy's morphology, future markers
   ("will", "going to", "plan"), time expressions ("when I started", "these days"),
   for sections that declare a tense;
4. the answer's own similarity to each section's questions and description.

An order prior then decodes each conversation as a whole (Viterbi), since
interviews mostly move through the guide in order: switching forward costs a
little, switching back costs more. The forward-backward posterior of the chosen
section is its confidence.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from ..core.config import SegmentConfig
from ..ingest.roles import INTERVIEWEE, INTERVIEWER
from .guide import Guide

log = logging.getLogger(__name__)

FUTURE_MARKERS = re.compile(
    r"\b(will|won't|'ll|going to|gonna|plan(?:ning)? to|hop(?:e|ing) to|want to|would like to|"
    r"next (?:year|step|few years)|in (?:the )?future|in (?:five|ten|a few|\d+) "
    r"years|eventually|someday|"
    r"long[- ]term|down the (?:road|line)|one day|goal is|the dream)\b",
    re.I,
)
PAST_MARKERS = re.compile(
    r"\b(when I (?:started|began|was|first)|back then|at (?:the )?(?:start|beginning)|at first|in "
    r"the beginning|"
    r"in (?:college|school|grad school|university|undergrad)|years ago|originally|early on|my "
    r"first|first year|"
    r"used to)\b",
    re.I,
)
PRESENT_MARKERS = re.compile(
    r"\b(now|these days|nowadays|currently|right now|at the moment|today|typically|usually|"
    r"every (?:week|day|month)|per (?:week|client|hour)|a week|on average)\b",
    re.I,
)


@dataclass
class Evidence:
    """Scores (turns x sections) from each source, and where each source said something."""

    heading: np.ndarray
    question: np.ndarray
    cues: np.ndarray
    answer: np.ndarray
    notes: list[list[str]]


def _normalise(v: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norms == 0, 1, norms)


class GuideVectors:
    """Embeddings of the guide's questions and section profiles."""

    def __init__(self, guide: Guide, encode):
        self.guide = guide
        self.encode = encode
        self.questions = [_normalise(encode(list(s.questions))) for s in guide.sections]
        profiles = [encode([s.description, *s.questions]).mean(axis=0) for s in guide.sections]
        self.profiles = _normalise(np.vstack(profiles))

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])

    def question_similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Best match of each vector against each section's example questions."""
        vectors = _normalise(vectors)
        return np.stack([(vectors @ q.T).max(axis=1) for q in self.questions], axis=1)

    def profile_similarity(self, vectors: np.ndarray) -> np.ndarray:
        return _normalise(vectors) @ self.profiles.T


def heading_section(
    heading: str | None,
    guide: Guide,
    similarity: np.ndarray | None = None,
    min_similarity: float = 0.45,
) -> int | None:
    """Section a notes heading points at: by name/alias words, else by meaning."""
    if not heading:
        return None
    words = set(re.findall(r"[\w-]+", heading.lower()))
    hits = [
        i for i, s in enumerate(guide.sections) if s.name.lower() in words or words & set(s.aliases)
    ]
    if len(hits) == 1:
        return hits[0]
    if similarity is not None and similarity.max() >= min_similarity:
        return int(similarity.argmax())
    return hits[0] if hits else None


def cue_counts(doc) -> dict[str, float]:
    """Tense and time-expression evidence in one answer (a spaCy Doc)."""
    past = pres = 0
    for token in doc:
        if token.pos_ in ("VERB", "AUX"):
            tense = token.morph.get("Tense")
            past += "Past" in tense
            pres += "Pres" in tense
    text = doc.text
    return {
        "past": past + 2 * len(PAST_MARKERS.findall(text)),
        "present": pres + 2 * len(PRESENT_MARKERS.findall(text)),
        "future": 2.5 * len(FUTURE_MARKERS.findall(text)),
    }


def transition_matrix(n: int, cfg: SegmentConfig) -> np.ndarray:
    """log-costs of moving from section i to j: staying free, forward cheap, back dear."""
    t = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if j == i + 1:
                t[i, j] = -cfg.forward_cost
            elif j > i + 1:
                t[i, j] = -cfg.skip_cost * (j - i - 1) - cfg.forward_cost
            elif j < i:
                t[i, j] = -cfg.back_cost
    return t


def start_scores(n: int, cfg: SegmentConfig) -> np.ndarray:
    return -cfg.forward_cost * np.arange(n, dtype=float)


def viterbi(log_emission: np.ndarray, log_trans: np.ndarray, log_start: np.ndarray) -> list[int]:
    T, S = log_emission.shape
    score = log_start + log_emission[0]
    back = np.zeros((T, S), dtype=int)
    for t in range(1, T):
        candidates = score[:, None] + log_trans
        back[t] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + log_emission[t]
    path = [int(score.argmax())]
    for t in range(T - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def posteriors(
    log_emission: np.ndarray, log_trans: np.ndarray, log_start: np.ndarray
) -> np.ndarray:
    T, S = log_emission.shape
    alpha = np.zeros((T, S))
    beta = np.zeros((T, S))
    alpha[0] = log_start + log_emission[0]
    for t in range(1, T):
        alpha[t] = logsumexp(alpha[t - 1][:, None] + log_trans, axis=0) + log_emission[t]
    for t in range(T - 2, -1, -1):
        beta[t] = logsumexp(log_trans + (log_emission[t + 1] + beta[t + 1])[None, :], axis=1)
    post = alpha + beta
    return np.exp(post - logsumexp(post, axis=1, keepdims=True))


def emission(ev: Evidence, cfg: SegmentConfig) -> np.ndarray:
    logits = (
        cfg.heading_weight * ev.heading
        + cfg.question_weight * ev.question
        + cfg.cue_weight * ev.cues
        + cfg.answer_weight * ev.answer
    )
    return logits - logsumexp(logits, axis=1, keepdims=True)


def decode(
    ev: Evidence, cfg: SegmentConfig, n_sections: int
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Joint decoding of one conversation: (sections, confidence, per-turn emission argmax)."""
    log_e = emission(ev, cfg)
    trans, start = transition_matrix(n_sections, cfg), start_scores(n_sections, cfg)
    path = viterbi(log_e, trans, start)
    post = posteriors(log_e, trans, start)
    confidence = post[np.arange(len(path)), path]
    return path, confidence, log_e.argmax(axis=1)


def _turn_vectors(
    turns: pd.DataFrame, passages: pd.DataFrame, vectors: np.ndarray
) -> dict[tuple[str, int], np.ndarray]:
    """Mean passage vector per turn."""
    out: dict[tuple[str, int], np.ndarray] = {}
    keys = list(zip(passages["interview_id"], passages["turn_index"].astype(int)))
    groups: dict[tuple[str, int], list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    for key, rows in groups.items():
        out[key] = vectors[rows].mean(axis=0)
    return out


def gather_evidence(
    conv: pd.DataFrame,
    guide: Guide,
    gv: GuideVectors,
    turn_vecs: dict,
    docs: dict,
    cfg: SegmentConfig,
    english: bool,
) -> Evidence:
    """Evidence for one conversation's turns (ordered by turn_index)."""
    T, S = len(conv), len(guide.sections)
    heading = np.zeros((T, S))
    question = np.zeros((T, S))
    cues = np.zeros((T, S))
    answer = np.zeros((T, S))
    notes: list[list[str]] = [[] for _ in range(T)]
    tense_index = {s.tense: i for i, s in enumerate(guide.sections) if s.tense}
    heading_cache: dict[str, int | None] = {}
    carried: np.ndarray | None = None
    carried_note = ""
    for t, row in enumerate(conv.itertuples()):
        key = (row.interview_id, int(row.turn_index))
        vec = turn_vecs.get(key)
        h = row.heading if isinstance(row.heading, str) else None
        if h:
            if h not in heading_cache:
                sim = gv.profile_similarity(gv.encode_one(h)) if cfg.heading_by_meaning else None
                heading_cache[h] = heading_section(h, guide, None if sim is None else sim[0])
            target = heading_cache[h]
            if target is not None:
                heading[t, target] = 1.0
                notes[t].append(f"heading '{h}'")
        if row.role == INTERVIEWER and vec is not None:
            sims = gv.question_similarity(vec[None, :])[0]
            if sims.max() >= cfg.question_min_similarity:
                carried = sims - sims.max()
                carried_note = f"question {sims.max():.2f}"
        if carried is not None and row.role in (INTERVIEWER, INTERVIEWEE):
            question[t] = carried
            notes[t].append(carried_note)
        if row.role == INTERVIEWEE and vec is not None:
            sims = gv.profile_similarity(vec[None, :])[0]
            answer[t] = sims - sims.max()
            notes[t].append("answer meaning")
            doc = docs.get(key)
            if english and doc is not None and tense_index:
                counts = cue_counts(doc)
                total = sum(counts.values())
                if total:
                    for tense, i in tense_index.items():
                        cues[t, i] = counts[tense] / (total + 1)
                    notes[t].append("cues " + max(counts, key=counts.get))
    return Evidence(heading, question, cues, answer, notes)
