"""Code the rest of the corpus with the researcher's codebook, learnt from their coding.

The researcher coded some excerpts; :mod:`.locate` found them in the turns. This module
learns every code from those examples and applies it to the units (passages, or turns when
the researcher coded whole turns) they did not code:

- :func:`choose_unit`: passage or turn, from the located excerpts' extent.
- :func:`unit_labels`: the units x codes matrix the located excerpts give.
- :func:`context_features`: where a unit is: the interviewer's last prompt (a guide item,
  a task read out) as a vector, the position in the interview, the interviewer's share.
- :class:`Coder`: per code, two linear models, on the unit's vector (and its context) and on
  its words (TF-IDF), stacked by a per-code logistic regression fitted on out-of-fold scores
  (grouped by interview) so the output is a calibrated probability; the per-code threshold
  maximises F1 on those out-of-fold probabilities. Codes with too few examples are coded
  few-shot: the cosine of the unit to the code's own text (name, description, examples),
  calibrated on the codes that do have examples.
- :func:`code_units`: zero or more codes per unit, with a confidence and the nearest coded
  examples as evidence.
- :func:`suggest`: the units whose coding would help most.

Everything is deterministic: fixed seeds, no randomised solvers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .model import Code, Codebook

# ---------------------------------------------------------------------------- units


@dataclass(frozen=True)
class UnitChoice:
    """Which units the researcher's coding is learnt and applied on, and why.

    Attributes:
        unit: ``"passage"`` or ``"turn"``.
        reason: one sentence for the report.
        stats: the figures behind it (medians of characters, shares of whole turns).
    """

    unit: str
    reason: str
    stats: dict


WHOLE_TURN_SHARE = 0.8
"""A coding where this share of excerpts is exactly one whole turn is learnt on turns."""


def choose_unit(result, turns: pd.DataFrame, passages: pd.DataFrame | None = None) -> UnitChoice:
    """Passage or turn: turn when the researcher coded whole turns (at least
    :data:`WHOLE_TURN_SHARE` of the located excerpts are one turn, covered to 90%), else
    passage (the pipeline's unit; an excerpt then labels the passages it overlaps).

    Args:
        result: a :class:`~pipeline.coding.locate.LocateResult`.
        turns: turns.parquet.
        passages: passages.parquet (for the median passage length in ``stats``).
    """
    length = {
        (str(i), int(t)): len(str(x))
        for i, t, x in zip(turns["interview_id"], turns["turn_index"], turns["text"].fillna(""))
    }
    spans = result.spans
    located = result.table[result.table["located"]]
    stats: dict = {
        "located": len(located),
        "median_excerpt_chars": float(located["text"].str.len().median()) if len(located) else 0.0,
        "median_turn_chars": float(np.median(list(length.values()))) if length else 0.0,
    }
    if passages is not None and len(passages):
        stats["median_passage_chars"] = float(passages["text"].astype(str).str.len().median())
    if not len(located):
        return UnitChoice("passage", "no excerpt was located: passages by default", stats)
    cover = (spans["end"] - spans["start"]) / [
        max(1, length.get((str(i), int(t)), 1))
        for i, t in zip(spans["interview_id"], spans["turn_index"])
    ]
    single = located.loc[located["n_turns"] == 1, "excerpt"]
    whole = spans[spans["excerpt"].isin(single) & (cover.to_numpy() >= 0.9)]["excerpt"].nunique()
    share = whole / len(located)
    stats["single_turn_share"] = round(len(single) / len(located), 4)
    stats["whole_turn_share"] = round(share, 4)
    if share >= WHOLE_TURN_SHARE:
        return UnitChoice(
            "turn",
            f"{share:.0%} of the located excerpts are one whole turn: the researcher coded "
            "turns, so turns are the unit",
            stats,
        )
    return UnitChoice(
        "passage",
        f"only {share:.0%} of the located excerpts are one whole turn "
        f"({stats['single_turn_share']:.0%} lie in one turn): passages are the unit, each "
        "labelled with the codes of the excerpts it overlaps",
        stats,
    )


MIN_SHARE = 0.5
"""A unit takes an excerpt's codes when the excerpt covers this share of the unit, or
this share of the excerpt lies in the unit."""


def unit_labels(
    result,
    units: pd.DataFrame,
    codes: Sequence[str],
    unit: str = "passage",
    *,
    turns: pd.DataFrame | None = None,
    min_share: float = MIN_SHARE,
) -> np.ndarray:
    """The units x codes matrix of the located excerpts' codes.

    Args:
        result: a :class:`~pipeline.coding.locate.LocateResult` (made with the passages
            when ``unit`` is passage).
        units: passages (passage_id) or turns (interview_id, turn_index), one row per unit.
        codes: the label columns; an excerpt's code not among them is left out.
        unit: ``"passage"`` or ``"turn"``.
        turns: the turns' text (for turn lengths; default ``units`` when unit is turn).
        min_share: see :data:`MIN_SHARE`.
    """
    index = {c: j for j, c in enumerate(codes)}
    y = np.zeros((len(units), len(codes)), dtype=bool)
    codes_of = dict(zip(result.table["excerpt"], result.table["codes"]))
    if unit == "passage":
        row = {str(p): k for k, p in enumerate(units["passage_id"])}
        ov = result.overlaps
        keep = (ov["passage_share"] >= min_share) | (ov["excerpt_share"] >= min_share)
        for n, pid in zip(ov.loc[keep, "excerpt"], ov.loc[keep, "passage_id"]):
            k = row.get(str(pid))
            if k is not None:
                for c in codes_of[n]:
                    if c in index:
                        y[k, index[c]] = True
        return y
    if unit != "turn":
        raise ValueError(f"unit must be 'passage' or 'turn', got {unit!r}")
    turns = units if turns is None else turns
    length = {
        (str(i), int(t)): max(1, len(str(x)))
        for i, t, x in zip(turns["interview_id"], turns["turn_index"], turns["text"].fillna(""))
    }
    row = {
        (str(i), int(t)): k
        for k, (i, t) in enumerate(zip(units["interview_id"], units["turn_index"]))
    }
    sp = result.spans
    total = (sp["end"] - sp["start"]).groupby(sp["excerpt"]).transform("sum")
    for (n, iid, ti, s, e), tot in zip(sp.itertuples(index=False), total):
        chars = e - s
        if chars / length.get((iid, ti), 1) >= min_share or chars / max(1, tot) >= min_share:
            k = row.get((iid, int(ti)))
            if k is not None:
                for c in codes_of[n]:
                    if c in index:
                        y[k, index[c]] = True
    return y


def excerpt_units(result, turns: pd.DataFrame) -> pd.DataFrame:
    """The located excerpts as units (for coding "given the excerpts"): unit_id (the
    excerpt's number), interview_id, turn_index (its first turn), last_turn, text,
    interviewer_share (of its characters in interviewer turns)."""
    role = {
        (str(i), int(t)): str(r)
        for i, t, r in zip(turns["interview_id"], turns["turn_index"], turns.get("role", ""))
    }
    sp = result.spans
    chars = (sp["end"] - sp["start"]).to_numpy()
    inter = np.array(
        [
            role.get((i, int(t))) == "interviewer"
            for i, t in zip(sp["interview_id"], sp["turn_index"])
        ]
    )
    share = pd.Series(chars * inter).groupby(sp["excerpt"].to_numpy()).sum() / pd.Series(
        chars
    ).groupby(sp["excerpt"].to_numpy()).sum().clip(lower=1)
    t = result.table[result.table["located"]]
    return pd.DataFrame(
        {
            "unit_id": t["excerpt"].astype(int).to_numpy(),
            "interview_id": t["interview_id"].astype(str).to_numpy(),
            "turn_index": t["first_turn"].astype(int).to_numpy(),
            "last_turn": t["last_turn"].astype(int).to_numpy(),
            "text": t["text"].astype(str).to_numpy(),
            "interviewer_share": share.reindex(t["excerpt"].to_numpy()).fillna(0.0).to_numpy(),
        }
    )


# ---------------------------------------------------------------------------- context


def turn_vectors(turns: pd.DataFrame, passages: pd.DataFrame, vectors: np.ndarray) -> np.ndarray:
    """A vector per turn: the normalised mean of its passages' vectors (zeros for a turn
    without passages), rows aligned with ``turns``."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    out = np.zeros((len(turns), dim), dtype=np.float32)
    rows: dict[tuple[str, int], list[int]] = {}
    for k, (i, t) in enumerate(zip(passages["interview_id"], passages["turn_index"])):
        rows.setdefault((str(i), int(t)), []).append(k)
    for k, (i, t) in enumerate(zip(turns["interview_id"], turns["turn_index"])):
        r = rows.get((str(i), int(t)))
        if r:
            v = vectors[r].mean(0)
            out[k] = v / max(1e-9, float(np.linalg.norm(v)))
    return out


# A guide item or task read out: "1 Read ...", "2.b Was ...", "Q3:", "a) ...", "Task 4".
_ENUMERATED = re.compile(r"^\s*(?:(?:q|task|question|step)\s*)?\d+(?:[.)]\w{0,3})*[.):]?\s", re.I)
POSITION_BINS = 10


def _is_prompt(text: str, enumerated: bool) -> bool:
    if enumerated:
        return bool(_ENUMERATED.match(text))
    return len(text.split()) >= 4


@dataclass(frozen=True)
class Context:
    """Where units are in their interviews (rows aligned with the units).

    Attributes:
        prompt: the vector of the interviewer's last prompt before (or at) the unit's turn:
            the last enumerated interviewer turn ("2.b Was the information ...") when the
            interview reads out numbered items, else the last interviewer turn of four
            words or more; zeros when there is none.
        side: the position in the interview (``POSITION_BINS`` radial bins over the turn's
            relative position) and the share of the unit said by the interviewer.
    """

    prompt: np.ndarray
    side: np.ndarray

    def take(self, rows: np.ndarray) -> Context:
        return Context(self.prompt[rows], self.side[rows])


def context_features(
    units: pd.DataFrame, turns: pd.DataFrame, vectors_of_turns: np.ndarray
) -> Context:
    """The :class:`Context` of units.

    Args:
        units: interview_id, turn_index (the unit's first turn), and ``interviewer_share``
            or ``role`` (a passage's).
        turns: turns.parquet (interview_id, turn_index, role, text).
        vectors_of_turns: a vector per turn, rows aligned with ``turns`` (e.g.
            :func:`turn_vectors`).
    """
    dim = vectors_of_turns.shape[1]
    prompt_of: dict[tuple[str, int], int] = {}
    position: dict[tuple[str, int], float] = {}
    roles = turns["role"] if "role" in turns.columns else pd.Series([""] * len(turns))
    frame = pd.DataFrame(
        {
            "iid": turns["interview_id"].astype(str).to_numpy(),
            "ti": turns["turn_index"].astype(int).to_numpy(),
            "role": roles.astype(str).to_numpy(),
            "text": turns["text"].fillna("").astype(str).to_numpy(),
            "row": np.arange(len(turns)),
        }
    ).sort_values(["iid", "ti"], kind="stable")
    for iid, g in frame.groupby("iid", sort=False):
        asks = g["role"] == "interviewer"
        enumerated = sum(bool(_ENUMERATED.match(t)) for t in g.loc[asks, "text"]) >= 3
        last = -1
        n = max(1, len(g) - 1)
        for k, (ti, role, text, row) in enumerate(zip(g["ti"], g["role"], g["text"], g["row"])):
            if role == "interviewer" and _is_prompt(text, enumerated):
                last = int(row)
            prompt_of[(iid, int(ti))] = last
            position[(iid, int(ti))] = k / n
    keys = list(zip(units["interview_id"].astype(str), units["turn_index"].astype(int)))
    prompt = np.zeros((len(units), dim), dtype=np.float32)
    pos = np.zeros(len(units))
    for k, key in enumerate(keys):
        row = prompt_of.get(key, -1)
        if row >= 0:
            prompt[k] = vectors_of_turns[row]
        pos[k] = position.get(key, 0.0)
    if "interviewer_share" in units.columns:
        share = units["interviewer_share"].astype(float).to_numpy()
    elif "role" in units.columns:
        share = (units["role"].astype(str) == "interviewer").to_numpy(dtype=float)
    else:
        share = np.zeros(len(units))
    centres = np.linspace(0, 1, POSITION_BINS)
    bins = np.exp(-((pos[:, None] - centres) ** 2) / (2 * (1 / POSITION_BINS) ** 2))
    return Context(prompt, np.hstack([bins, share[:, None]]).astype(np.float32))


# ---------------------------------------------------------------------------- models


def code_text(code: Code) -> str:
    """What a code means in words: its name, description and examples (few-shot coding
    embeds it)."""
    parts = [code.name if not code.parent else f"{code.parent.split(' > ')[-1]}: {code.name}"]
    if code.description:
        parts.append(code.description)
    parts += list(code.examples)
    return ". ".join(p.strip().rstrip(".") for p in parts if p.strip()) + "."


def _balanced_ridge(a: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Per code (column of ``y``), the weights (last row: bias) of a class-balanced
    regularised least-squares classifier on ``a`` (targets +1/-1; positives and negatives
    weighted to equal totals). The weighted Gram matrix of a code is the shared one plus a
    low-rank correction from its positives, so all codes cost little more than one."""
    n, d = a.shape
    a1 = np.hstack([a, np.ones((n, 1), dtype=a.dtype)]).astype(np.float64)
    gram = a1.T @ a1
    reg = lam * np.eye(d + 1)
    reg[-1, -1] = 1e-6  # the bias is not shrunk
    out = np.zeros((d + 1, y.shape[1]))
    for j in range(y.shape[1]):
        pos = y[:, j]
        n_pos = int(pos.sum())
        if n_pos == 0 or n_pos == n:
            out[-1, j] = 1.0 if n_pos else -1.0
            continue
        wp, wn = n / (2 * n_pos), n / (2 * (n - n_pos))
        ap = a1[pos]
        h = wn * gram + (wp - wn) * (ap.T @ ap) + reg
        target = np.where(pos, wp, -wn)
        out[:, j] = np.linalg.solve(h, a1.T @ target)
    return out


def _ridge_scores(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    return a @ w[:-1] + w[-1]


class _TextModel:
    """Per code, a class-balanced logistic regression on the unit's TF-IDF words."""

    def __init__(self, C: float):
        self.C = C

    def fit(self, texts: Sequence[str], y: np.ndarray) -> _TextModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        min_df = 2 if len(texts) >= 20 else 1
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True)
        try:
            a = self.vectorizer.fit_transform(list(texts))
        except ValueError:  # no words at all
            self.vectorizer = None
            self.models = [None] * y.shape[1]
            return self
        self.models = []
        for j in range(y.shape[1]):
            if 0 < y[:, j].sum() < len(y):
                m = LogisticRegression(
                    C=self.C, solver="liblinear", class_weight="balanced", random_state=0
                )
                self.models.append(m.fit(a, y[:, j]))
            else:
                self.models.append(None)
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.models)))
        if self.vectorizer is None or not len(texts):
            return out
        a = self.vectorizer.transform(list(texts))
        for j, m in enumerate(self.models):
            if m is not None:
                out[:, j] = m.decision_function(a)
        return out


@dataclass(frozen=True)
class CoderSettings:
    """How a :class:`Coder` is fitted.

    Attributes:
        ridge: the ridge penalty of the vector model. 3 rather than 1: leave one interview
            out (``insights evaluate coding``), 3 beat 1 on every figure on both coded real
            corpora (serdif: given the excerpts top-1 kappa .644 -> .651, end to end micro
            kappa .513 -> .523; oral-history: micro kappa .200 -> .214 and .150 -> .166);
            10 was a little better on serdif and worse on oral-history.
        text_C: the inverse penalty of the TF-IDF logistic regressions (0: no text model).
        context: use the unit's context (:class:`Context`) beside its vector.
        prompt_dims: the interviewer-prompt vectors are reduced to this many principal
            components (fitted on the training units).
        inner_folds: out-of-fold scores for stacking and thresholds come from this many
            folds grouped by interview (by unit when there are fewer interviews).
        min_examples: a code with fewer positive training units is coded few-shot.
        evidence: how many nearest coded examples to cite per coded unit.
        seed: for the fold assignment and the principal components.
    """

    ridge: float = 3.0
    text_C: float = 10.0
    context: bool = True
    prompt_dims: int = 32
    inner_folds: int = 4
    min_examples: int = 5
    evidence: int = 3
    seed: int = 0


def _folds(n: int, groups: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Fold number per unit: whole interviews per fold (balanced by size, ties broken by
    name) when there are at least ``k`` of them, else units dealt out at random (seeded)."""
    names = sorted(set(groups.tolist()))
    fold = np.zeros(n, dtype=int)
    if len(names) >= k:
        sizes = {g: int(np.sum(groups == g)) for g in names}
        load = [0] * k
        for g in sorted(names, key=lambda g: (-sizes[g], g)):
            f = int(np.argmin(load))
            fold[groups == g] = f
            load[f] += sizes[g]
    else:
        rng = np.random.default_rng(seed)
        fold[rng.permutation(n)] = np.arange(n) % k
    return [np.where(fold == f)[0] for f in range(k)]


def _best_threshold(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The probability threshold maximising F1 on (p, y), and that F1 (ties: the higher
    threshold, fewer codings)."""
    if not y.any():
        return 1.0, 0.0
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(float)
    tp = np.cumsum(ys)
    k = np.arange(1, len(ps) + 1)
    f1 = 2 * tp / (k + ys.sum())
    # Only cut between distinct probabilities.
    last_of_run = np.r_[ps[1:] != ps[:-1], True]
    f1 = np.where(last_of_run, f1, -1)
    best = int(np.argmax(f1))
    below = ps[best + 1] if best + 1 < len(ps) else 0.0
    return float((ps[best] + below) / 2), float(f1[best])


def _platt(scores: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():
        return None
    return LogisticRegression(C=1.0, random_state=seed).fit(scores, y)


@dataclass
class Coder:
    """Per-code classifiers fitted on the researcher's coded units.

    Fit with :meth:`fit`, then :meth:`predict_proba` / :meth:`predict` new units, or
    :func:`code_units` for a table with evidence. Attributes after fitting: ``codes``,
    ``thresholds`` (per code, on the probabilities), ``few_shot`` (per code: coded from its
    text only), ``oof_f1`` (per code, the F1 of the out-of-fold probabilities at the
    threshold: what to expect on new interviews).
    """

    codes: Sequence[str]
    settings: CoderSettings = field(default_factory=CoderSettings)

    def _features(self, vectors: np.ndarray, context: Context | None) -> np.ndarray:
        x = np.asarray(vectors, dtype=np.float64)
        if not (self.settings.context and context is not None):
            return x
        prompt = (np.asarray(context.prompt, dtype=np.float64) - self._pmean) @ self._pcomp.T
        return np.hstack([x, prompt, np.asarray(context.side, dtype=np.float64)])

    def _fit_context(self, context: Context | None) -> None:
        self._pmean = np.zeros(0)
        self._pcomp = np.zeros((0, 0))
        if not (self.settings.context and context is not None):
            return
        p = np.asarray(context.prompt, dtype=np.float64)
        self._pmean = p.mean(0)
        centred = p - self._pmean
        k = min(self.settings.prompt_dims, *centred.shape)
        # Deterministic: a full SVD, each component's sign fixed by its largest entry.
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        vt = vt[:k]
        signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])
        self._pcomp = vt * np.where(signs == 0, 1, signs)[:, None]

    def _base_fit(self, x: np.ndarray, texts: Sequence[str] | None, y: np.ndarray):
        w = _balanced_ridge(x, y, self.settings.ridge)
        text = None
        if texts is not None and self.settings.text_C > 0:
            text = _TextModel(self.settings.text_C).fit(texts, y)
        return w, text

    @staticmethod
    def _base_scores(model, x: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
        w, text = model
        s = _ridge_scores(x, w)
        if text is None:
            return s[:, :, None]
        return np.stack([s, text.scores(texts)], axis=2)

    def fit(
        self,
        vectors: np.ndarray,
        labels: np.ndarray,
        groups: Sequence[str],
        *,
        texts: Sequence[str] | None = None,
        context: Context | None = None,
        code_vectors: np.ndarray | None = None,
    ) -> Coder:
        """Fit every code on coded units.

        Args:
            vectors: units x dim, the units' (normalised) embeddings.
            labels: units x codes booleans (every unit is either coded or a negative).
            groups: each unit's interview (out-of-fold scores hold whole interviews out).
            texts: the units' text, for the TF-IDF model (None: vectors only).
            context: the units' :class:`Context` (None: no context).
            code_vectors: codes x dim, the embedding of each code's :func:`code_text`, for
                few-shot coding of codes with fewer than ``min_examples`` positives
                (None: those codes are never predicted).
        """
        s = self.settings
        y = np.asarray(labels, dtype=bool)
        groups = np.asarray([str(g) for g in groups], dtype=object)
        n, k = y.shape
        if k != len(self.codes):
            raise ValueError(f"{k} label columns for {len(self.codes)} codes")
        self._fit_context(context)
        x = self._features(vectors, context)
        texts = None if texts is None else [str(t) for t in texts]
        self.few_shot = y.sum(0) < s.min_examples
        # Out-of-fold scores of the base models: what stacking and thresholds learn from.
        oof = None
        for test in _folds(n, groups, s.inner_folds, s.seed):
            if not len(test):
                continue
            train = np.setdiff1d(np.arange(n), test)
            model = self._base_fit(
                x[train], None if texts is None else [texts[i] for i in train], y[train]
            )
            part = self._base_scores(
                model, x[test], None if texts is None else [texts[i] for i in test]
            )
            if oof is None:
                oof = np.zeros((n, k, part.shape[2]))
            oof[test] = part
        self._model = self._base_fit(x, texts, y)
        self._stack = []
        self.thresholds = np.ones(k)
        self.oof_f1 = np.full(k, np.nan)
        oof_p = np.zeros((n, k))
        for j in range(k):
            if self.few_shot[j]:
                self._stack.append(None)
                continue
            m = _platt(oof[:, j, :], y[:, j], s.seed)
            self._stack.append(m)
            oof_p[:, j] = m.predict_proba(oof[:, j, :])[:, 1] if m is not None else float(y[0, j])
            self.thresholds[j], self.oof_f1[j] = _best_threshold(oof_p[:, j], y[:, j])
        self._fit_few_shot(vectors, y, code_vectors)
        # Evidence: the coded training units, normalised.
        v = np.asarray(vectors, dtype=np.float64)
        self._train_vectors = v / np.maximum(1e-9, np.linalg.norm(v, axis=1, keepdims=True))
        self._train_labels = y
        return self

    def _fit_few_shot(self, vectors, y: np.ndarray, code_vectors: np.ndarray | None) -> None:
        """Cosine of unit to code text, z-scored per code over the training units; one
        logistic calibration and one threshold pooled over the codes with examples."""
        self._code_vectors = None
        self._few = None
        if code_vectors is None or not self.few_shot.any():
            return
        cv = np.asarray(code_vectors, dtype=np.float64)
        cv = cv / np.maximum(1e-9, np.linalg.norm(cv, axis=1, keepdims=True))
        sims = np.asarray(vectors, dtype=np.float64) @ cv.T
        self._sim_mean, self._sim_std = sims.mean(0), sims.std(0) + 1e-9
        z = (sims - self._sim_mean) / self._sim_std
        learn = ~self.few_shot & (y.sum(0) > 0)
        self._code_vectors = cv
        if not learn.any():
            self._few = (None, 3.0)  # nothing to learn from: only clear outliers
            self.thresholds[self.few_shot] = 0.5  # as predict_proba uses them
            return
        zs, ys = z[:, learn].ravel()[:, None], y[:, learn].ravel()
        m = _platt(zs, ys, self.settings.seed)
        p = m.predict_proba(zs)[:, 1] if m is not None else np.zeros(len(ys))
        self._few = (m, _best_threshold(p, ys)[0])
        self.thresholds[self.few_shot] = self._few[1] if m is not None else 0.5

    def scores(
        self,
        vectors: np.ndarray,
        texts: Sequence[str] | None = None,
        context: Context | None = None,
    ) -> np.ndarray:
        """The base models' scores, units x codes x models (vector model, text model)."""
        x = self._features(vectors, context)
        if self._model[1] is not None and texts is None:
            raise ValueError("this coder has a text model: give the units' texts")
        return self._base_scores(self._model, x, None if texts is None else [str(t) for t in texts])

    def predict_proba(
        self,
        vectors: np.ndarray,
        texts: Sequence[str] | None = None,
        context: Context | None = None,
    ) -> np.ndarray:
        """Units x codes: the calibrated probability that each code applies."""
        base = self.scores(vectors, texts, context)
        n, k = base.shape[:2]
        p = np.zeros((n, k))
        if not n:  # sklearn refuses zero samples
            return p
        for j, m in enumerate(self._stack):
            if m is not None:
                p[:, j] = m.predict_proba(base[:, j, :])[:, 1]
            elif not self.few_shot[j]:
                p[:, j] = float(self._train_labels[:, j].mean() > 0.5)
        if self._code_vectors is not None and self.few_shot.any():
            sims = np.asarray(vectors, dtype=np.float64) @ self._code_vectors.T
            z = (sims - self._sim_mean) / self._sim_std
            m, thr = self._few
            for j in np.where(self.few_shot)[0]:
                if m is not None:
                    p[:, j] = m.predict_proba(z[:, [j]])[:, 1]
                    self.thresholds[j] = thr
                else:
                    p[:, j] = 1 / (1 + np.exp(-(z[:, j] - thr)))
                    self.thresholds[j] = 0.5
        return p

    def predict(
        self,
        vectors: np.ndarray,
        texts: Sequence[str] | None = None,
        context: Context | None = None,
    ) -> np.ndarray:
        """Units x codes booleans: the probability reaches the code's threshold."""
        return self.predict_proba(vectors, texts, context) >= self.thresholds

    def evidence(self, vectors: np.ndarray, code: int, k: int | None = None) -> np.ndarray:
        """Per unit, the training rows of the ``k`` most similar units coded ``code``."""
        k = self.settings.evidence if k is None else k
        rows = np.where(self._train_labels[:, code])[0]
        if not len(rows):
            return np.zeros((len(vectors), 0), dtype=int)
        v = np.asarray(vectors, dtype=np.float64)
        v = v / np.maximum(1e-9, np.linalg.norm(v, axis=1, keepdims=True))
        sims = v @ self._train_vectors[rows].T
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return rows[top]


def code_units(
    coder: Coder,
    unit_ids: Sequence[str],
    vectors: np.ndarray,
    *,
    texts: Sequence[str] | None = None,
    context: Context | None = None,
    train_ids: Sequence[str] | None = None,
    top1: bool = False,
) -> pd.DataFrame:
    """Zero or more codes per unit: one row per (unit, code) coded.

    Columns: unit_id, code, confidence (the calibrated probability), threshold, few_shot,
    evidence (the ids of the nearest coded training units with that code; ``train_ids``
    names the training rows, default their row numbers).

    Args:
        top1: also give every unit its most probable code when none reaches its threshold
            (for units known to be coded, e.g. the researcher's own excerpts).
    """
    p = coder.predict_proba(vectors, texts, context)
    hit = p >= coder.thresholds
    if top1 and len(p):
        hit[np.arange(len(p)), p.argmax(1)] = True
    ids = [str(u) for u in unit_ids]
    names = list(train_ids) if train_ids is not None else None
    rows = []
    for j, code in enumerate(coder.codes):
        units = np.where(hit[:, j])[0]
        if not len(units):
            continue
        ev = coder.evidence(vectors[units], j)
        for u, e in zip(units, ev):
            rows.append(
                {
                    "unit_id": ids[u],
                    "code": code,
                    "confidence": round(float(p[u, j]), 4),
                    "threshold": round(float(coder.thresholds[j]), 4),
                    "few_shot": bool(coder.few_shot[j]),
                    "evidence": [str(names[i]) if names else int(i) for i in e],
                }
            )
    out = pd.DataFrame(
        rows, columns=["unit_id", "code", "confidence", "threshold", "few_shot", "evidence"]
    )
    order = {u: k for k, u in enumerate(ids)}
    out["_o"] = out["unit_id"].map(order)
    return (
        out.sort_values(["_o", "confidence"], ascending=[True, False], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def fit_predict_factory(
    settings: CoderSettings | None = None,
    *,
    text_column: str | None = "text",
    context_of=None,
    code_vectors: np.ndarray | None = None,
    top1: bool = False,
):
    """A fit-predict function for :func:`~pipeline.coding.agreement.evaluate_loio`: fits
    a :class:`Coder` on the fold's training units, returns (predictions, probabilities)
    of its test units.

    Args:
        text_column: the units' column of text for the TF-IDF model (None: vectors only).
        context_of: units DataFrame -> :class:`Context` (None: no context).
        code_vectors: for few-shot codes.
        top1: every test unit gets at least its most probable code.
    """
    settings = settings or CoderSettings()

    def fit_predict(fold):
        def texts(units):
            return None if text_column is None else units[text_column].astype(str).tolist()

        ctx_train = context_of(fold.train_units) if context_of else None
        ctx_test = context_of(fold.test_units) if context_of else None
        coder = Coder(fold.codes, settings).fit(
            fold.train_vectors,
            fold.train_labels,
            fold.train_groups,
            texts=texts(fold.train_units),
            context=ctx_train,
            code_vectors=code_vectors,
        )
        p = coder.predict_proba(fold.test_vectors, texts(fold.test_units), ctx_test)
        pred = p >= coder.thresholds
        if top1 and len(p):
            pred[np.arange(len(p)), p.argmax(1)] = True
        return pred, p

    return fit_predict


# ---------------------------------------------------------------------------- suggest


def suggest(
    coder: Coder,
    unit_ids: Sequence[str],
    vectors: np.ndarray,
    groups: Sequence[str],
    n: int = 20,
    *,
    texts: Sequence[str] | None = None,
    context: Context | None = None,
    exclude: Sequence[str] = (),
    uncovered_weight: float = 0.5,
) -> pd.DataFrame:
    """The ``n`` units whose coding would help most, spread over the interviews.

    A unit's value is ``(1 - w) * uncertainty + w * uncovered``: uncertainty is how close
    its most doubtful code's probability is to that code's threshold (1 at the threshold);
    uncovered is one minus its cosine to the nearest coded training unit (far from every
    example: a kind of talk no code was taught on). Units are taken best first, but always
    from the interview with the fewest taken so far among those whose best remaining unit
    is within 0.1 of the overall best, so one interview does not take every place.

    Returns:
        unit_id, interview, value, uncertainty, uncovered, code (the most doubtful code),
        probability, threshold, reason.
    """
    ids = [str(u) for u in unit_ids]
    groups = [str(g) for g in groups]
    p = coder.predict_proba(vectors, texts, context)
    thr = np.clip(coder.thresholds, 1e-6, 1 - 1e-6)
    dist = np.where(p >= thr, (p - thr) / (1 - thr), (thr - p) / thr)
    doubt = np.argmin(dist, axis=1) if len(p) else np.zeros(0, dtype=int)
    uncertainty = 1 - dist[np.arange(len(p)), doubt] if len(p) else np.zeros(0)
    coded = coder._train_labels.any(1)
    v = np.asarray(vectors, dtype=np.float64)
    v = v / np.maximum(1e-9, np.linalg.norm(v, axis=1, keepdims=True))
    if coded.any():
        nearest = (v @ coder._train_vectors[coded].T).max(1)
    else:
        nearest = np.zeros(len(v))
    uncovered = np.clip(1 - nearest, 0, 1)
    value = (1 - uncovered_weight) * uncertainty + uncovered_weight * uncovered
    skip = set(map(str, exclude))
    pool = [i for i in np.argsort(-value, kind="stable") if ids[i] not in skip]
    taken: dict[str, int] = {}
    chosen: list[int] = []
    while pool and len(chosen) < n:
        best = value[pool[0]]
        near = [i for i in pool if value[i] >= best - 0.1]
        pick = min(near, key=lambda i: (taken.get(groups[i], 0), -value[i], i))
        chosen.append(pick)
        taken[groups[pick]] = taken.get(groups[pick], 0) + 1
        pool.remove(pick)
    rows = []
    for i in chosen:
        j = int(doubt[i])
        if uncovered[i] * uncovered_weight >= uncertainty[i] * (1 - uncovered_weight):
            reason = f"far from every coded example (nearest similarity {nearest[i]:.2f})"
        else:
            reason = (
                f"uncertain about {coder.codes[j]!r} (probability {p[i, j]:.2f}, "
                f"threshold {coder.thresholds[j]:.2f})"
            )
        rows.append(
            {
                "unit_id": ids[i],
                "interview": groups[i],
                "value": round(float(value[i]), 4),
                "uncertainty": round(float(uncertainty[i]), 4),
                "uncovered": round(float(uncovered[i]), 4),
                "code": coder.codes[j],
                "probability": round(float(p[i, j]), 4),
                "threshold": round(float(coder.thresholds[j]), 4),
                "reason": reason,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "unit_id",
            "interview",
            "value",
            "uncertainty",
            "uncovered",
            "code",
            "probability",
            "threshold",
            "reason",
        ],
    )


def code_vectors_of(codebook: Codebook, embed) -> np.ndarray:
    """Codes x dim: ``embed`` (a list of texts -> vectors) of each code's :func:`code_text`."""
    return np.asarray(embed([code_text(c) for c in codebook]), dtype=np.float32)


__all__ = [
    "MIN_SHARE",
    "WHOLE_TURN_SHARE",
    "Coder",
    "CoderSettings",
    "Context",
    "UnitChoice",
    "choose_unit",
    "code_text",
    "code_units",
    "code_vectors_of",
    "context_features",
    "excerpt_units",
    "fit_predict_factory",
    "suggest",
    "turn_vectors",
    "unit_labels",
]
