"""Agreement figures (kappa, alpha, per-code and micro/macro) and leave-one-interview-out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from pipeline.coding.agreement import (
    agreement_table,
    as_matrix,
    binary_scores,
    cohen_kappa,
    evaluate_loio,
    krippendorff_alpha,
    single_label_scores,
)

# Two coders, ten units, yes/no:
#   units 1-4 yes/yes, 5-6 yes/no, 7 no/yes, 8-10 no/no.
YES_NO_A = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
YES_NO_B = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]


def test_cohen_kappa_by_hand():
    # p_o = 7/10; coder A says yes 6/10, B 5/10: p_e = .6 * .5 + .4 * .5 = .5;
    # kappa = (.7 - .5) / (1 - .5) = .4
    assert cohen_kappa(YES_NO_A, YES_NO_B) == pytest.approx(0.4)
    assert cohen_kappa(YES_NO_A, YES_NO_B) == pytest.approx(cohen_kappa_score(YES_NO_A, YES_NO_B))


def test_krippendorff_alpha_by_hand():
    # Pooled values: yes 6 + 5 = 11, no 9, n = 20 pairable values. Each disagreeing unit (3)
    # gives two off-diagonal coincidences: 6. Expected: sum_{c != k} n_c n_k = 2 * 11 * 9 =
    # 198 over n - 1 = 19. alpha = 1 - 6 / (198 / 19) = 1 - 114 / 198 = 14 / 33.
    assert krippendorff_alpha(YES_NO_A, YES_NO_B) == pytest.approx(14 / 33)


def test_three_labels_by_hand():
    a = ["x", "x", "y", "y", "z", "z"]
    b = ["x", "y", "y", "y", "z", "x"]
    # p_o = 4/6. A: x, y, z 2 each (1/3); B: x 2, y 3, z 1 (of 6).
    # p_e = 1/3 * (2 + 3 + 1) / 6 = 1/3; kappa = (2/3 - 1/3) / (2/3) = 1/2.
    assert cohen_kappa(a, b) == pytest.approx(0.5)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    # Pooled: x 4, y 5, z 3, n = 12; sum n_c^2 = 50, so sum_{c != k} n_c n_k = 144 - 50 = 94.
    # Off-diagonal coincidences: 2 disagreeing units x 2 = 4. alpha = 1 - 11 * 4 / 94 = 25/47.
    assert krippendorff_alpha(a, b) == pytest.approx(25 / 47)


def _alpha_from_coincidences(a, b) -> float:
    """Krippendorff's alpha the textbook way: the full coincidence matrix."""
    labels = sorted(set(a) | set(b))
    k = {c: i for i, c in enumerate(labels)}
    o = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b):  # two values per unit: each ordered pair weighs 1 / (m - 1) = 1
        o[k[x], k[y]] += 1
        o[k[y], k[x]] += 1
    n_c = o.sum(1)
    n = n_c.sum()
    d_o = (o.sum() - np.trace(o)) / n
    d_e = (n * n - (n_c**2).sum()) / (n * (n - 1))
    return 1 - d_o / d_e


def test_random_codings_match_sklearn_and_the_coincidence_matrix():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.integers(0, 4, 40).tolist()
        b = [x if rng.random() < 0.6 else int(rng.integers(0, 4)) for x in a]
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
        assert krippendorff_alpha(a, b) == pytest.approx(_alpha_from_coincidences(a, b))
        # Alpha is kappa with pooled marginals: a little below it when the coders'
        # marginals differ, never above by more than rounding.
        assert krippendorff_alpha(a, b) <= cohen_kappa(a, b) + 1e-9 + 1 / len(a)


def test_degenerate_codings():
    assert cohen_kappa(["x"] * 5, ["x"] * 5) == 1.0
    assert krippendorff_alpha(["x"] * 5, ["x"] * 5) == 1.0
    assert math.isnan(cohen_kappa([], []))
    assert math.isnan(krippendorff_alpha([], []))
    # Perfect disagreement of two constant coders: kappa 0 (chance is all there is).
    assert cohen_kappa([0, 0, 0], [1, 1, 1]) == 0.0
    assert cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0]) == pytest.approx(-1.0)


@pytest.mark.parametrize("fn", [cohen_kappa, krippendorff_alpha, single_label_scores])
def test_misaligned_codings_are_refused(fn):
    with pytest.raises(ValueError, match="same units"):
        fn([1, 0, 1], [1, 0])


def test_binary_scores_by_hand():
    s = binary_scores([1, 1, 1, 0, 0, 0], [1, 1, 0, 1, 0, 0])
    # tp 2, fp 1, fn 1, tn 2: precision = recall = f1 = 2/3;
    # kappa: p_o = 4/6, p_e = .5 * .5 + .5 * .5 = .5 -> (2/3 - 1/2) / (1/2) = 1/3.
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 1, 1, 2)
    assert (s["support"], s["predicted"]) == (3, 3)
    for m in ("precision", "recall", "f1"):
        assert s[m] == pytest.approx(2 / 3)
    assert s["kappa"] == pytest.approx(1 / 3)
    none = binary_scores([1, 0, 0], [0, 0, 0])
    assert math.isnan(none["precision"]) and none["recall"] == 0.0 and none["f1"] == 0.0
    empty = binary_scores([0, 0], [0, 0])
    assert math.isnan(empty["precision"]) and math.isnan(empty["recall"])
    assert math.isnan(empty["f1"])
    with pytest.raises(ValueError, match="shapes differ"):
        binary_scores([1, 0], [1, 0, 1])


def test_agreement_table_micro_and_macro_by_hand():
    codes = ["A", "B", "C"]
    truth = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)
    pred = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]], dtype=bool)
    t = agreement_table(truth, pred, codes).set_index("code")
    # A: truth 1100, pred 1001: tp fp fn tn = 1 1 1 1: p = r = f1 = .5, kappa 0.
    assert t.loc["A", "f1"] == pytest.approx(0.5) and t.loc["A", "kappa"] == pytest.approx(0)
    # B: perfect.
    assert t.loc["B", "f1"] == 1.0 and t.loc["B", "kappa"] == 1.0
    # C: neither coding used it; its kappa is 1 (both constant) but it is left out of macro.
    assert t.loc["C", "kappa"] == 1.0 and math.isnan(t.loc["C", "f1"])
    # micro: A and B pooled (C adds 4 true negatives): tp 3, fp 1, fn 1, tn 3 + 4.
    # p = r = f1 = .75; kappa: p_o = 10/12, both say yes 4/12: p_e = (1/3)^2 + (2/3)^2 = 5/9;
    # kappa = (10/12 - 5/9) / (4/9) = 5/8.
    assert t.loc["micro", "f1"] == pytest.approx(0.75)
    assert (t.loc["micro", "tp"], t.loc["micro", "tn"]) == (3, 7)
    assert t.loc["micro", "kappa"] == pytest.approx(5 / 8)
    # macro: the mean over A and B only.
    assert t.loc["macro", "f1"] == pytest.approx(0.75)
    assert t.loc["macro", "kappa"] == pytest.approx(0.5)
    # Code lists give the same table.
    lists = agreement_table([["A"], ["A", "B"], ["B"], []], [["A"], ["B"], ["B"], ["A"]], codes)
    pd.testing.assert_frame_equal(lists, agreement_table(truth, pred, codes))
    with pytest.raises(KeyError, match="not among the codes"):
        as_matrix([["A"], ["Z"]], codes)
    with pytest.raises(ValueError, match="label columns"):
        as_matrix(np.zeros((2, 2), dtype=bool), codes)
    with pytest.raises(ValueError, match="shapes differ"):
        agreement_table(truth, pred[:3], codes)


def test_single_label_scores_by_hand():
    s = single_label_scores(["x", "x", "y", "y", "z", "z"], ["x", "y", "y", "y", "z", "x"])
    assert s["units"] == 6 and s["accuracy"] == pytest.approx(4 / 6)
    # F1 per label: x: tp 1, fp 1, fn 1 -> 1/2; y: tp 2, fp 1 -> 4/5; z: tp 1, fn 1 -> 2/3.
    assert s["macro_f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert s["kappa"] == pytest.approx(0.5)


# ---------------------------------------------------------------------------- LOIO


def _loio_data(n_groups=4, per_group=5):
    """Units whose ``key`` is unique to its interview: a memoriser learns nothing useful."""
    rows, labels = [], []
    for g in range(n_groups):
        for i in range(per_group):
            rows.append({"key": f"g{g}-u{i}", "interview": f"g{g}"})
            labels.append([(g + i) % 2 == 0, i % 3 == 0])
    units = pd.DataFrame(rows)
    return units, np.array(labels, dtype=bool), np.eye(len(units))


def test_loio_never_shows_a_fold_its_own_labels():
    units, y, vectors = _loio_data()
    seen = []

    def memorise(fold):
        assert fold.group not in set(fold.train_groups)
        assert not set(fold.test_units["key"]) & set(fold.train_units["key"])
        assert len(fold.train_labels) == len(fold.train_units) == len(fold.train_vectors)
        assert not hasattr(fold, "test_labels")
        seen.append(fold.group)
        known = dict(zip(fold.train_units["key"], map(tuple, fold.train_labels)))
        fold.train_labels[:] = True  # a copy: cannot change the labels evaluated against
        out = np.array([known.get(k, (False, False)) for k in fold.test_units["key"]], dtype=bool)
        return out

    res = evaluate_loio(units, y, vectors, units["interview"], memorise, codes=["a", "b"])
    assert seen == ["g0", "g1", "g2", "g3"]
    # Had it seen the held-out labels, the memoriser would be perfect; it predicts nothing.
    assert not res.predictions.any()
    assert res.table.set_index("code").loc["micro", "recall"] == 0.0
    assert (res.table.set_index("code").loc[["a", "b"], "support"] == y.sum(0)).all()
    assert list(res.per_group["interview"]) == seen
    assert (res.per_group["units"] == 5).all()


def test_a_cheating_memoriser_would_have_scored_perfectly():
    """The control for the test above: the same memoriser given every label is perfect."""
    units, y, vectors = _loio_data()
    every = dict(zip(units["key"], map(tuple, y)))

    def cheat(fold):
        return np.array([every[k] for k in fold.test_units["key"]], dtype=bool)

    res = evaluate_loio(units, y, vectors, units["interview"], cheat, codes=["a", "b"])
    assert res.table.set_index("code").loc["micro", "kappa"] == 1.0


def test_loio_puts_predictions_in_their_rows_and_scores_top1():
    # Interleaved interviews: the held-out rows are not contiguous.
    units = pd.DataFrame({"interview": ["a", "b", "a", "b", "c", "c"], "code": list("xyyxxy")})
    y = as_matrix([[c] for c in units["code"]], ["x", "y"])

    def oracle_of_own_column(fold):
        # Predict from the unit's own column (not a label), with scores favouring it.
        p = np.array([[c == "x", c == "y"] for c in fold.test_units["code"]], dtype=bool)
        return p, p.astype(float)

    res = evaluate_loio(
        units,
        y,
        np.zeros((6, 1)),
        units["interview"],
        oracle_of_own_column,
        codes=["x", "y"],
        primary=units["code"],
    )
    assert np.array_equal(res.predictions, y)
    assert res.single["accuracy"] == 1.0 and res.single["kappa"] == 1.0
    assert res.summary()["top1_kappa"] == 1.0 and res.summary()["micro_f1"] == 1.0


def test_loio_lenient_counts_any_of_the_units_codes():
    units = pd.DataFrame({"interview": ["a", "a", "b", "b"]})
    y = as_matrix([["x", "y"], ["y"], ["x"], ["x", "y"]], ["x", "y"])
    primary = ["x", "y", "x", "x"]

    def always_y(fold):
        n = len(fold.test_units)
        return np.tile([False, True], (n, 1)), np.tile([0.1, 0.9], (n, 1))

    strict = evaluate_loio(
        units, y, np.zeros((4, 1)), units["interview"], always_y, codes=["x", "y"], primary=primary
    )
    lenient = evaluate_loio(
        units,
        y,
        np.zeros((4, 1)),
        units["interview"],
        always_y,
        codes=["x", "y"],
        primary=primary,
        lenient=True,
    )
    assert strict.single["accuracy"] == pytest.approx(1 / 4)
    assert lenient.single["accuracy"] == pytest.approx(3 / 4)


def test_loio_refuses_bad_input():
    units, y, vectors = _loio_data()

    def nothing(fold):
        return np.zeros((len(fold.test_units), 2), dtype=bool)

    with pytest.raises(ValueError, match="aligned"):
        evaluate_loio(units, y[:-1], vectors, units["interview"], nothing, codes=["a", "b"])
    with pytest.raises(ValueError, match="aligned"):
        evaluate_loio(units, y, vectors[:-1], units["interview"], nothing, codes=["a", "b"])
    with pytest.raises(ValueError, match="aligned"):
        evaluate_loio(units, y, vectors, units["interview"][:-1], nothing, codes=["a", "b"])
    with pytest.raises(ValueError, match="at least two interviews"):
        evaluate_loio(units, y, vectors, ["one"] * len(units), nothing, codes=["a", "b"])
    with pytest.raises(ValueError, match="give codes"):
        evaluate_loio(units, [["a"]] * len(units), vectors, units["interview"], nothing)
    with pytest.raises(ValueError, match="label columns"):
        evaluate_loio(units, y, vectors, units["interview"], nothing, codes=["a", "b", "c"])

    def wrong_shape(fold):
        return np.zeros((len(fold.test_units) + 1, 2), dtype=bool)

    with pytest.raises(ValueError, match="fit_predict gave"):
        evaluate_loio(units, y, vectors, units["interview"], wrong_shape, codes=["a", "b"])
