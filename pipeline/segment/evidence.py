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
from dataclasses import dataclass, field

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


# An interviewer announcing a change of topic: the next section (or an earlier one) begins
# here, so the order prior lets go for this turn. Real interviewers say it in many ways.
MOVE_MARKERS = re.compile(
    r"\b(mov(?:e|ing) on|move to|next (?:question|topic|part|section|thing|area)|"
    r"switch(?:ing)? (?:gears|topics?)|chang(?:e|ing) (?:gears|topics?|the subject)|"
    r"(?:shift|turn|go|jump|pivot)(?:ing)? (?:over )?to (?:the )?(?:topic|question|subject)|"
    r"let'?s (?:talk|turn|go|shift|move|switch|get) (?:about|to|into|on|back)|"
    r"(?:i'?d|i would|i want(?:ed)?) (?:like )?to (?:ask|talk|turn|move|go|shift|switch)|"
    r"(?:last|final|one more|another) question|to (?:wrap|close|finish) (?:up|off)|"
    r"(?:as|before) we (?:wrap|close|finish|end)|wrap(?:ping)? (?:things )?up|"
    r"(?:going|coming|go|come) back to|(?:a )?different (?:topic|direction|question)|"
    r"transition(?:ing)? (?:to|back|into)|sidestep|step back|zoom out|bigger picture)\b",
    re.I,
)


@dataclass
class Evidence:
    """Scores (turns x sections) from each source, and where each source said something.

    ``moves`` marks turns where the interviewer announces a change of topic; the decoder
    lets the order prior go there. ``None`` means no turn does.
    """

    heading: np.ndarray
    question: np.ndarray
    cues: np.ndarray
    answer: np.ndarray
    notes: list[list[str]]
    moves: np.ndarray | None = None
    corpus: np.ndarray | None = None


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


def cue_counts(past: int, pres: int, text: str) -> dict[str, float]:
    """Tense and time-expression evidence in one answer: its verbs in the past and present
    tense (counted by the passages stage) and the time expressions in its text."""
    return {
        "past": past + 2 * len(PAST_MARKERS.findall(text)),
        "present": pres + 2 * len(PRESENT_MARKERS.findall(text)),
        "future": 2.5 * len(FUTURE_MARKERS.findall(text)),
    }


def transition_matrix(n: int, cfg: SegmentConfig, move: bool = False) -> np.ndarray:
    """log-costs of moving from section i to j: staying free, forward cheap, back dear.

    At a turn where the interviewer announces a new topic (``move``) staying costs
    ``move_stay_cost`` and going forward or back costs half as much: the announcement is
    itself evidence of a boundary, though not of which section comes next.
    """
    scale = 0.5 if move else 1.0
    t = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if j == i:
                t[i, j] = -cfg.move_stay_cost if move else 0.0
            elif j == i + 1:
                t[i, j] = -cfg.forward_cost * scale
            elif j > i + 1:
                t[i, j] = -(cfg.skip_cost * (j - i - 1) + cfg.forward_cost) * scale
            else:
                t[i, j] = -cfg.back_cost * scale
    return t


def start_scores(n: int, cfg: SegmentConfig) -> np.ndarray:
    return -cfg.forward_cost * np.arange(n, dtype=float)


def _step(log_trans: np.ndarray, t: int) -> np.ndarray:
    """The transition into step t: one matrix for all steps, or one per step."""
    return log_trans[t] if log_trans.ndim == 3 else log_trans


def viterbi(log_emission: np.ndarray, log_trans: np.ndarray, log_start: np.ndarray) -> list[int]:
    T, S = log_emission.shape
    score = log_start + log_emission[0]
    back = np.zeros((T, S), dtype=int)
    for t in range(1, T):
        candidates = score[:, None] + _step(log_trans, t)
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
        alpha[t] = logsumexp(alpha[t - 1][:, None] + _step(log_trans, t), axis=0) + log_emission[t]
    for t in range(T - 2, -1, -1):
        beta[t] = logsumexp(
            _step(log_trans, t + 1) + (log_emission[t + 1] + beta[t + 1])[None, :], axis=1
        )
    post = alpha + beta
    return np.exp(post - logsumexp(post, axis=1, keepdims=True))


def emission(ev: Evidence, cfg: SegmentConfig) -> np.ndarray:
    logits = (
        cfg.heading_weight * ev.heading
        + cfg.question_weight * ev.question
        + cfg.cue_weight * ev.cues
        + cfg.answer_weight * ev.answer
    )
    if ev.corpus is not None:
        logits = logits + cfg.corpus_weight * ev.corpus
    return logits - logsumexp(logits, axis=1, keepdims=True)


def transitions(ev: Evidence, cfg: SegmentConfig, n_sections: int) -> np.ndarray:
    """One transition matrix, or one per turn when some turns announce a move."""
    stay = transition_matrix(n_sections, cfg)
    if ev.moves is None or not np.any(ev.moves):
        return stay
    move = transition_matrix(n_sections, cfg, move=True)
    return np.stack([move if m else stay for m in ev.moves])


def decode(
    ev: Evidence, cfg: SegmentConfig, n_sections: int
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Joint decoding of one conversation: (sections, confidence, per-turn emission argmax)."""
    log_e = emission(ev, cfg)
    trans, start = transitions(ev, cfg, n_sections), start_scores(n_sections, cfg)
    path = viterbi(log_e, trans, start)
    post = posteriors(log_e, trans, start)
    confidence = post[np.arange(len(path)), path]
    return path, confidence, log_e.argmax(axis=1)


@dataclass
class TurnSimilarity:
    """Each turn's similarity to each section, standardised over the corpus.

    ``question``: an interviewer turn's best-matching sentence against each section's
    example questions (the whole turn is read, not only its first sentence: interviewers
    comment on the last answer before they ask). ``question_best``: that sentence's raw
    best similarity, for the threshold. ``answer``: an interviewee turn's mean vector
    against each section's profile (description plus questions).

    Standardised = each section's mean over the corpus subtracted: a section whose wording
    resembles everything (a "closing" full of thanks) would otherwise pull every turn.
    ``vectors``: each speech turn's mean passage vector, for the corpus's own profiles.
    """

    question: dict[tuple[str, int], np.ndarray]
    question_best: dict[tuple[str, int], float]
    answer: dict[tuple[str, int], np.ndarray]
    answer_words: dict[tuple[str, int], int] = field(default_factory=dict)
    vectors: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)


def _standardise(sims: np.ndarray, min_rows: int) -> np.ndarray:
    if len(sims) < min_rows:
        return sims
    return sims - sims.mean(axis=0, keepdims=True)


def turn_similarities(
    turns: pd.DataFrame, passages: pd.DataFrame, vectors: np.ndarray, gv: GuideVectors
) -> TurnSimilarity:
    keys = list(zip(passages["interview_id"], passages["turn_index"].astype(int)))
    roles = dict(zip(zip(turns["interview_id"], turns["turn_index"].astype(int)), turns["role"]))
    asked = [i for i, k in enumerate(keys) if roles.get(k) == INTERVIEWER]
    answered = [i for i, k in enumerate(keys) if roles.get(k) == INTERVIEWEE]
    min_rows = 4 * len(gv.guide.sections)

    question: dict = {}
    best: dict = {}
    if asked:
        raw = gv.question_similarity(vectors[asked])
        standard = _standardise(raw, min_rows)
        # The question a turn asks is in its question sentences; the comment on the last
        # answer before it ("so we'll start saving the transcript") says nothing about it.
        asks = (
            passages["is_question"].fillna(False).astype(bool).to_numpy()
            if "is_question" in passages.columns
            else np.zeros(len(passages), dtype=bool)
        )
        turn_asks = {keys[i] for i in asked if asks[i]}
        for row, i in enumerate(asked):
            if keys[i] in turn_asks and not asks[i]:
                continue
            top = float(raw[row].max())
            if top > best.get(keys[i], -np.inf):
                best[keys[i]] = top
                question[keys[i]] = standard[row]

    answer: dict = {}
    if answered:
        groups: dict[tuple[str, int], list[int]] = {}
        for i in answered:
            groups.setdefault(keys[i], []).append(i)
        order = list(groups)
        means = np.vstack([vectors[groups[k]].mean(axis=0) for k in order])
        standard = _standardise(gv.profile_similarity(means), min_rows)
        answer = dict(zip(order, standard))
    words = (
        passages["n_words"]
        if "n_words" in passages.columns
        else passages["text"].str.split().str.len()
    )
    answer_words: dict = {}
    for i in answered:
        answer_words[keys[i]] = answer_words.get(keys[i], 0) + int(words.iloc[i])
    groups_all: dict[tuple[str, int], list[int]] = {}
    for i in (*asked, *answered):
        groups_all.setdefault(keys[i], []).append(i)
    turn_vectors = {k: _normalise(vectors[rows].mean(axis=0)) for k, rows in groups_all.items()}
    return TurnSimilarity(question, best, answer, answer_words, turn_vectors)


def corpus_profiles(
    sims: TurnSimilarity,
    assigned: pd.DataFrame,
    n_sections: int,
    names: list[str],
    min_confidence: float = 0.5,
    min_turns: int = 3,
) -> dict[tuple[str, int], np.ndarray]:
    """Each speech turn's similarity to the sections as this corpus speaks them.

    The guide's few example questions rarely use the words of a study's own talk; the
    turns a first decoding placed with confidence do. Their mean vector per section is a
    second profile, and each turn's similarity to it (standardised like the others) is
    evidence for a second decoding. A section with fewer than ``min_turns`` confident
    turns gets no profile (a neutral score).
    """
    names_index = {n: i for i, n in enumerate(names)}
    sure = assigned[assigned["confidence"] >= min_confidence]
    dim = next(iter(sims.vectors.values())).shape[0] if sims.vectors else 0
    centroids = np.zeros((n_sections, dim))
    have = np.zeros(n_sections, dtype=bool)
    for section, group in sure.groupby("section"):
        rows = [
            sims.vectors[k]
            for k in zip(group["interview_id"], group["turn_index"].astype(int))
            if k in sims.vectors
        ]
        i = names_index.get(section)
        if i is not None and len(rows) >= min_turns:
            centroids[i] = _normalise(np.mean(rows, axis=0))
            have[i] = True
    if not have.any() or not sims.vectors:
        return {}
    order = list(sims.vectors)
    matrix = np.vstack([sims.vectors[k] for k in order]) @ centroids.T
    matrix = _standardise(matrix, 4 * n_sections)
    neutral = matrix[:, have].mean(axis=1, keepdims=True)
    matrix = np.where(have[None, :], matrix, neutral)
    return dict(zip(order, matrix))


def _title_headings(conv: pd.DataFrame) -> set[str]:
    """Headings over most of a conversation's speech are its title ("BEGIN TRANSCRIPT"),
    not a section: they say nothing about where one part ends."""
    speech = conv[conv.role.isin([INTERVIEWER, INTERVIEWEE])]
    if len(speech) < 4:
        return set()
    shares = speech["heading"].dropna().value_counts() / len(speech)
    return set(shares[shares > 0.6].index)


def gather_evidence(
    conv: pd.DataFrame,
    guide: Guide,
    gv: GuideVectors,
    sims: TurnSimilarity,
    tenses: dict,
    cfg: SegmentConfig,
    english: bool,
    heading_cache: dict | None = None,
    profiles: dict | None = None,
) -> Evidence:
    """Evidence for one conversation's turns (ordered by turn_index)."""
    T, S = len(conv), len(guide.sections)
    heading = np.zeros((T, S))
    question = np.zeros((T, S))
    cues = np.zeros((T, S))
    answer = np.zeros((T, S))
    moves = np.zeros(T, dtype=bool)
    corpus = np.zeros((T, S)) if profiles else None
    notes: list[list[str]] = [[] for _ in range(T)]
    tense_index = {s.tense: i for i, s in enumerate(guide.sections) if s.tense}
    heading_cache = {} if heading_cache is None else heading_cache
    titles = _title_headings(conv)
    carried: np.ndarray | None = None
    carried_note = ""
    backchannel = conv["is_backchannel"].fillna(False).astype(bool).tolist()
    for t, row in enumerate(conv.itertuples()):
        key = (row.interview_id, int(row.turn_index))
        h = row.heading if isinstance(row.heading, str) else None
        if h and h not in titles:
            if h not in heading_cache:
                sim = gv.profile_similarity(gv.encode_one(h)) if cfg.heading_by_meaning else None
                heading_cache[h] = heading_section(h, guide, None if sim is None else sim[0])
            target = heading_cache[h]
            if target is not None:
                heading[t, target] = 1.0
                notes[t].append(f"heading '{h}'")
        if row.role == INTERVIEWER and not backchannel[t] and key in sims.question:
            # A question that matches no section well is a follow-up: the answer stays
            # where the conversation is, so the last real question's evidence carries on.
            top = sims.question_best[key]
            if top >= cfg.question_min_similarity:
                # A close match to the guide is a main question; a weak one barely more
                # than a probe: the evidence grows with the match.
                span = max(cfg.question_full_similarity - cfg.question_min_similarity, 1e-6)
                strength = min(1.0, (top - cfg.question_min_similarity) / span)
                q = sims.question[key]
                carried = (q - q.max()) * strength
                carried_note = f"question {sims.question_best[key]:.2f}"
                text = row.clean_text if isinstance(row.clean_text, str) else ""
                if MOVE_MARKERS.search(text):
                    moves[t] = True
                    notes[t].append("announced move")
            else:
                notes[t].append("follow-up")
        if carried is not None and row.role in (INTERVIEWER, INTERVIEWEE):
            question[t] = carried
            notes[t].append(carried_note)
        if row.role == INTERVIEWEE and key in sims.answer:
            a = sims.answer[key]
            # A short answer ("Not at that point.") has no topic of its own.
            length = min(1.0, sims.answer_words.get(key, 0) / cfg.answer_full_words)
            answer[t] = (a - a.max()) * length
            notes[t].append("answer meaning")
            if english and tense_index and key in tenses:
                text = row.clean_text if isinstance(row.clean_text, str) else ""
                counts = cue_counts(*tenses[key], text)
                total = sum(counts.values())
                if total:
                    for tense, i in tense_index.items():
                        cues[t, i] = counts[tense] / (total + 1)
                    notes[t].append("cues " + max(counts, key=counts.get))
        if corpus is not None and key in profiles:
            c = profiles[key]
            words = sims.answer_words.get(key, cfg.answer_full_words)
            corpus[t] = (c - c.max()) * min(1.0, words / cfg.answer_full_words)
    return Evidence(heading, question, cues, answer, notes, moves, corpus)
