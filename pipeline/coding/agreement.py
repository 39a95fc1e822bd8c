"""Agreement between two codings of the same units, and leave-one-interview-out evaluation.

Two codings (the researcher's and the machine's, or two researchers') of the same units are
compared per code, each code a binary decision per unit (applied or not), and overall:

- precision, recall and F1 of the second coding against the first;
- Cohen's kappa and Krippendorff's alpha (nominal, two coders, no missing values), written
  out here so every figure can be checked by hand;
- micro (every unit-code decision pooled) and macro (the mean over codes) summaries.

:func:`evaluate_loio` codes every interview from the other interviews' coding only: the
function it is given sees the held-out interview's units and vectors, never its labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------- two coders


def _as_labels(a: Sequence, b: Sequence) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"two codings of the same units are needed, got {a.shape} and {b.shape}")
    return a, b


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa of two coders' nominal labels of the same units.

    ``(p_o - p_e) / (1 - p_e)``: observed agreement against the agreement expected from each
    coder's own label frequencies. 1.0 when both coders used one and the same label
    throughout (nothing to disagree about); NaN for no units.
    """
    a, b = _as_labels(a, b)
    n = len(a)
    if n == 0:
        return float("nan")
    labels = sorted(set(a.tolist()) | set(b.tolist()), key=repr)
    p_o = float(np.mean(a == b))
    p_e = sum((np.sum(a == c) / n) * (np.sum(b == c) / n) for c in labels)
    if p_e >= 1.0:
        return 1.0 if p_o >= 1.0 else 0.0
    return (p_o - p_e) / (1.0 - p_e)


def krippendorff_alpha(a: Sequence, b: Sequence) -> float:
    """Krippendorff's alpha, nominal, two coders, every unit coded by both.

    From the coincidence matrix: each unit adds its ordered pairs of values (``(x, y)`` and
    ``(y, x)``), so there are ``n = 2 * units`` pairable values; ``D_o`` is the share of
    coincidences that disagree, ``D_e = sum_{c != k} n_c n_k / (n (n - 1))`` the disagreement
    expected from the pooled value frequencies, and ``alpha = 1 - D_o / D_e``. 1.0 when one
    value is used throughout; NaN for no units.
    """
    a, b = _as_labels(a, b)
    if len(a) == 0:
        return float("nan")
    values = np.concatenate([a, b])
    n = len(values)
    labels = sorted(set(values.tolist()), key=repr)
    counts = np.array([np.sum(values == c) for c in labels], dtype=float)
    observed = 2.0 * np.sum(a != b)  # off-diagonal coincidences
    expected = (counts.sum() ** 2 - np.sum(counts**2)) / (n - 1)
    if expected == 0:
        return 1.0 if observed == 0 else 0.0
    return 1.0 - observed / expected


def binary_scores(truth: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    """One code's agreement: support, tp, fp, fn, tn, precision, recall, f1, kappa, alpha.

    Precision is NaN with no predicted unit, recall with no true unit (F1 is then 0 unless
    both are empty: NaN).
    """
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(pred, dtype=bool)
    if t.shape != p.shape:
        raise ValueError(f"shapes differ: {t.shape} and {p.shape}")
    tp = int(np.sum(t & p))
    fp = int(np.sum(~t & p))
    fn = int(np.sum(t & ~p))
    tn = int(np.sum(~t & ~p))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return {
        "support": tp + fn,
        "predicted": tp + fp,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "kappa": cohen_kappa(t, p),
        "alpha": krippendorff_alpha(t, p),
    }


METRICS = ("precision", "recall", "f1", "kappa", "alpha")


def as_matrix(labels: Sequence[Sequence[str]] | np.ndarray, codes: Sequence[str]) -> np.ndarray:
    """A units x codes boolean matrix from code lists per unit (or a matrix, checked)."""
    if isinstance(labels, np.ndarray) and labels.ndim == 2:
        if labels.shape[1] != len(codes):
            raise ValueError(f"{labels.shape[1]} label columns for {len(codes)} codes")
        return labels.astype(bool)
    index = {c: j for j, c in enumerate(codes)}
    out = np.zeros((len(labels), len(codes)), dtype=bool)
    for i, unit in enumerate(labels):
        for c in unit:
            if c not in index:
                raise KeyError(f"unit {i}: code {c!r} is not among the codes")
            out[i, index[c]] = True
    return out


def agreement_table(
    truth: np.ndarray | Sequence[Sequence[str]],
    pred: np.ndarray | Sequence[Sequence[str]],
    codes: Sequence[str],
) -> pd.DataFrame:
    """Per code and overall agreement of ``pred`` with ``truth`` (units x codes).

    One row per code (support, predicted, tp, fp, fn, tn, precision, recall, f1, kappa,
    alpha), then ``micro`` (all unit-code decisions pooled: one binary coding) and
    ``macro`` (the mean of the codes' figures over codes either coding used, NaNs left out).
    """
    codes = list(codes)
    t, p = as_matrix(truth, codes), as_matrix(pred, codes)
    if t.shape != p.shape:
        raise ValueError(f"shapes differ: {t.shape} and {p.shape}")
    rows = [{"code": c, **binary_scores(t[:, j], p[:, j])} for j, c in enumerate(codes)]
    table = pd.DataFrame(rows)
    micro = {"code": "micro", **binary_scores(t.ravel(), p.ravel())}
    used = table[(table["support"] > 0) | (table["predicted"] > 0)]
    macro = {"code": "macro"}
    for col in ("support", "predicted", "tp", "fp", "fn", "tn"):
        macro[col] = int(table[col].sum())
    for m in METRICS:
        macro[m] = float(used[m].mean()) if len(used) else float("nan")
    return pd.concat([table, pd.DataFrame([micro, macro])], ignore_index=True)


def single_label_scores(truth: Sequence, pred: Sequence) -> dict[str, float]:
    """One label per unit: accuracy, macro-F1 (over the labels either side used), Cohen's
    kappa and Krippendorff's alpha."""
    t, p = _as_labels(truth, pred)
    labels = sorted(set(t.tolist()) | set(p.tolist()), key=repr)
    f1s = [binary_scores(t == c, p == c)["f1"] for c in labels]
    return {
        "units": len(t),
        "accuracy": float(np.mean(t == p)) if len(t) else float("nan"),
        "macro_f1": float(np.nanmean(f1s)) if f1s else float("nan"),
        "kappa": cohen_kappa(t, p),
        "alpha": krippendorff_alpha(t, p),
    }


# ---------------------------------------------------------------------------- LOIO


@dataclass(frozen=True)
class Fold:
    """What a fit-predict function sees: the training units with their labels, and the
    held-out interview's units without theirs.

    Attributes:
        group: the held-out interview.
        codes: the code of each label column.
        train_units, test_units: rows of ``units`` (index reset).
        train_vectors, test_vectors: their vectors.
        train_labels: units x codes booleans of the training units.
        train_groups: the training units' interviews.
    """

    group: str
    codes: tuple[str, ...]
    train_units: pd.DataFrame
    test_units: pd.DataFrame
    train_vectors: np.ndarray
    test_vectors: np.ndarray
    train_labels: np.ndarray
    train_groups: np.ndarray


FitPredict = Callable[[Fold], "np.ndarray | tuple[np.ndarray, np.ndarray]"]
"""Fold -> predicted labels (test units x codes, bool), or (labels, scores)."""


@dataclass
class LOIOResult:
    """What :func:`evaluate_loio` measured.

    Attributes:
        table: :func:`agreement_table` of every unit's prediction (made without its
            interview's coding) against its labels.
        per_group: one row per held-out interview: units, micro precision/recall/f1/kappa.
        predictions: units x codes, the held-out predictions.
        scores: units x codes, the held-out scores (NaN if fit_predict gave none).
        single: :func:`single_label_scores` of the top-scoring code against ``primary``
            (when both were given), else None.
        codes: the codes of the columns.
    """

    table: pd.DataFrame
    per_group: pd.DataFrame
    predictions: np.ndarray
    scores: np.ndarray
    single: dict | None
    codes: tuple[str, ...]

    def summary(self) -> dict:
        """Micro and macro figures (and the single-label ones) as a flat dict."""
        out = {}
        for row in ("micro", "macro"):
            r = self.table.set_index("code").loc[row]
            for m in METRICS:
                out[f"{row}_{m}"] = float(r[m])
        if self.single:
            out.update({f"top1_{k}": v for k, v in self.single.items() if k != "units"})
        return out


def evaluate_loio(
    units: pd.DataFrame,
    labels: np.ndarray | Sequence[Sequence[str]],
    vectors: np.ndarray,
    groups: Sequence[str],
    fit_predict: FitPredict,
    *,
    codes: Sequence[str] | None = None,
    primary: Sequence[str] | None = None,
    lenient: bool = False,
) -> LOIOResult:
    """Leave one interview out: code every interview's units with ``fit_predict`` trained
    on the other interviews' units and labels only, then compare with the labels.

    Args:
        units: one row per unit (passage, turn or excerpt; any columns fit_predict needs).
        labels: units x codes booleans, or each unit's codes (then ``codes`` is required).
        vectors: units x dim.
        groups: each unit's interview.
        fit_predict: :data:`FitPredict`; it gets a :class:`Fold` without the held-out labels.
        codes: the codes, in column order.
        primary: each unit's one label (e.g. an excerpt's first code): with scores, the
            top-scoring code is compared with it (:attr:`LOIOResult.single`).
        lenient: with ``primary``, a top code among the unit's labels counts as right (it
            replaces the primary label of that unit).

    Raises:
        ValueError: fewer than two interviews, misaligned inputs, a prediction of the wrong
        shape.
    """
    if codes is None:
        if not (isinstance(labels, np.ndarray) and labels.ndim == 2):
            raise ValueError("give codes when labels are code lists")
        codes = [str(j) for j in range(labels.shape[1])]
    codes = tuple(codes)
    y = as_matrix(labels, codes)
    vectors = np.asarray(vectors)
    groups = np.asarray([str(g) for g in groups], dtype=object)
    n = len(units)
    if not (len(y) == len(vectors) == len(groups) == n):
        raise ValueError(
            f"units ({n}), labels ({len(y)}), vectors ({len(vectors)}) and groups "
            f"({len(groups)}) must be aligned"
        )
    order = list(dict.fromkeys(groups.tolist()))
    if len(order) < 2:
        raise ValueError("leave-one-interview-out needs at least two interviews")
    units = units.reset_index(drop=True)
    pred = np.zeros_like(y)
    scores = np.full(y.shape, np.nan)
    per_group = []
    for g in order:
        test = groups == g
        train = ~test
        fold = Fold(
            g,
            codes,
            units[train].reset_index(drop=True),
            units[test].reset_index(drop=True),
            vectors[train],
            vectors[test],
            y[train].copy(),
            groups[train],
        )
        out = fit_predict(fold)
        p, s = out if isinstance(out, tuple) else (out, None)
        p = np.asarray(p, dtype=bool)
        if p.shape != (int(test.sum()), len(codes)):
            raise ValueError(
                f"fit_predict gave {p.shape} for interview {g!r}; expected "
                f"{(int(test.sum()), len(codes))}"
            )
        pred[test] = p
        if s is not None:
            scores[test] = np.asarray(s, dtype=float)
        m = binary_scores(y[test].ravel(), p.ravel())
        per_group.append(
            {
                "interview": g,
                "units": int(test.sum()),
                "support": int(y[test].sum()),
                **{k: m[k] for k in ("precision", "recall", "f1", "kappa")},
            }
        )
    single = None
    if primary is not None and not np.isnan(scores).all():
        truth = np.asarray(primary, dtype=object)
        top = np.asarray(codes, dtype=object)[np.nanargmax(np.nan_to_num(scores, nan=-np.inf), 1)]
        if lenient:
            truth = np.where(y[np.arange(n), [codes.index(c) for c in top]], top, truth)
        single = single_label_scores(truth, top)
    return LOIOResult(
        agreement_table(y, pred, codes), pd.DataFrame(per_group), pred, scores, single, codes
    )


__all__ = [
    "METRICS",
    "Fold",
    "FitPredict",
    "LOIOResult",
    "agreement_table",
    "as_matrix",
    "binary_scores",
    "cohen_kappa",
    "evaluate_loio",
    "krippendorff_alpha",
    "single_label_scores",
]
