"""pipeline.coding.classify: learning a researcher's codes and coding the rest.

No embedding model: every vector is built here (unit vectors scattered around one axis per
code, with a fixed seed), so what a coder should learn is known. All text is SYNTHETIC.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.coding import Code, CodedExcerpt
from pipeline.coding.classify import (
    POSITION_BINS,
    Coder,
    CoderSettings,
    Context,
    choose_unit,
    code_text,
    code_units,
    context_features,
    excerpt_units,
    fit_predict_factory,
    suggest,
    turn_vectors,
    unit_labels,
)
from pipeline.coding.locate import excerpts_from_turn_codes, locate

DIM = 12
CODES = ["A", "B", "C"]


def unit_vector(rng, code: int | None, noise: float, dim: int = DIM, n_codes: int = 8):
    """Near axis ``code``; for None, a random direction with no component on the code axes."""
    if code is None:
        v = rng.normal(size=dim)
        v[:n_codes] = 0.0
    else:
        v = np.eye(dim)[code] + noise * rng.normal(size=dim)
    return v / np.linalg.norm(v)


def clusters(spec: dict, groups, *, noise=0.15, seed=0, n_codes=len(CODES), dim=DIM):
    """Units: for every group (interview), ``spec[code]`` units near each code's axis
    (code None: uncoded). Returns vectors, labels (units x n_codes), groups."""
    rng = np.random.default_rng(seed)
    xs, ys, gs = [], [], []
    for g in groups:
        for code, n in spec.items():
            for _ in range(n):
                xs.append(unit_vector(rng, code, noise, dim))
                y = np.zeros(n_codes, dtype=bool)
                if code is not None:
                    y[code] = True
                ys.append(y)
                gs.append(g)
    return np.array(xs), np.array(ys), np.array(gs)


def f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = int((y & p).sum())
    return 2 * tp / max(1, int(y.sum()) + int(p.sum()))


@pytest.fixture(scope="module")
def separable():
    train = clusters({0: 4, 1: 4, 2: 4, None: 4}, ["i1", "i2", "i3", "i4", "i5"], seed=1)
    test = clusters({0: 6, 1: 6, 2: 6, None: 6}, ["t1"], seed=2)
    coder = Coder(CODES, CoderSettings(text_C=0)).fit(*train)
    return coder, train, test


# ---------------------------------------------------------------------------- units


def make_turns(interviews: dict[str, list[tuple[str, str]]]) -> pd.DataFrame:
    rows = []
    for iid, turns in interviews.items():
        for k, (role, text) in enumerate(turns):
            rows.append({"interview_id": iid, "turn_index": k, "role": role, "text": text})
    return pd.DataFrame(rows)


TURNS = make_turns(
    {
        "a": [
            ("interviewer", "What stops you from buying the product?"),
            ("participant", "Money, mostly. The licence costs more than our whole budget."),
            ("interviewer", "And apart from money?"),
            ("participant", "Time to learn it. Nobody on the team has a free afternoon."),
        ],
        "b": [
            ("interviewer", "How do you choose a vendor?"),
            ("participant", "Trust, really. We ask friends which vendors they use."),
        ],
    }
)
PASSAGES = pd.DataFrame(
    {
        "passage_id": ["a1.0", "a1.1", "a3.0", "a3.1", "b1.0", "b1.1"],
        "interview_id": ["a", "a", "a", "a", "b", "b"],
        "turn_index": [1, 1, 3, 3, 1, 1],
        "passage_index": [0, 1, 0, 1, 0, 1],
        "text": [
            "Money, mostly.",
            "The licence costs more than our whole budget.",
            "Time to learn it.",
            "Nobody on the team has a free afternoon.",
            "Trust, really.",
            "We ask friends which vendors they use.",
        ],
    }
)


def coded_by_turn():
    turns = TURNS.copy()
    turns["codes"] = [None, "cost", None, "time", None, "trust"]
    return turns, locate(excerpts_from_turn_codes(turns), turns, PASSAGES)


def coded_by_phrase():
    excerpts = [
        CodedExcerpt("a", ("cost",), "The licence costs more than our whole budget."),
        CodedExcerpt("a", ("time",), "Time to learn"),
        CodedExcerpt("b", ("trust",), "Trust, really."),
        CodedExcerpt("b", ("trust", "other"), "which vendors"),
        CodedExcerpt("zzz", ("cost",), "not an interview"),
    ]
    return locate(excerpts, TURNS, PASSAGES)


def test_choose_unit_turn_when_excerpts_are_whole_turns():
    _, r = coded_by_turn()
    choice = choose_unit(r, TURNS, PASSAGES)
    assert choice.unit == "turn"
    assert choice.stats["whole_turn_share"] == 1.0
    assert choice.stats["single_turn_share"] == 1.0
    assert choice.stats["located"] == 3
    assert "100% of the located excerpts are one whole turn" in choice.reason
    assert choice.stats["median_passage_chars"] == float(PASSAGES["text"].str.len().median())


def test_choose_unit_passage_otherwise():
    r = coded_by_phrase()
    choice = choose_unit(r, TURNS)
    assert choice.unit == "passage"
    assert choice.stats["located"] == 4
    assert choice.stats["whole_turn_share"] == 0.0
    assert choice.stats["single_turn_share"] == 1.0
    assert choice.reason.startswith("only 0% of the located excerpts are one whole turn")
    assert "median_passage_chars" not in choice.stats
    # Whole turns and also an excerpt over two turns: 3 of 4 whole is under the 80% bar.
    turns, by_turn = coded_by_turn()
    more = by_turn.excerpts + [
        CodedExcerpt("a", ("cost",), "And apart from money? Time to learn it.")
    ]
    mixed = locate(more, turns, PASSAGES)
    choice = choose_unit(mixed, turns)
    assert choice.unit == "passage" and choice.stats["whole_turn_share"] == 0.75


def test_choose_unit_without_located_excerpts():
    r = locate([CodedExcerpt("nobody", ("cost",), "words")], TURNS)
    choice = choose_unit(r, TURNS)
    assert choice.unit == "passage" and choice.reason.startswith("no excerpt was located")
    assert choice.stats["median_excerpt_chars"] == 0.0


def test_unit_labels_for_passages():
    r = coded_by_phrase()
    codes = ["cost", "time", "trust"]  # "other" is not learnt
    y = unit_labels(r, PASSAGES, codes)
    assert y.dtype == bool and y.shape == (len(PASSAGES), 3)
    labelled = {
        pid: [c for c, on in zip(codes, row) if on] for pid, row in zip(PASSAGES["passage_id"], y)
    }
    assert labelled == {
        "a1.0": [],
        "a1.1": ["cost"],  # the whole passage
        "a3.0": ["time"],  # "Time to learn" covers most of "Time to learn it."
        "a3.1": [],
        "b1.0": ["trust"],
        # "which vendors" is all in it (excerpt share 1) though a small share of it.
        "b1.1": ["trust"],
    }
    # Only passage share counts when the excerpt share bar is out of reach.
    y = unit_labels(r, PASSAGES, codes, min_share=1.01)
    assert not y.any()
    # Units the overlaps do not know, and no codes at all.
    assert not unit_labels(r, PASSAGES.iloc[[0]], codes).any()
    assert unit_labels(r, PASSAGES, []).shape == (len(PASSAGES), 0)


def test_unit_labels_for_turns_with_min_share():
    long_turns = make_turns(
        {
            "a": [
                ("interviewer", "Tell me more."),
                ("participant", "x " * 40 + "and here it ends well."),
                ("participant", "First part of the third turn, then a lot more " + "y " * 40),
            ]
        }
    )
    excerpts = [
        CodedExcerpt("a", ("inside",), "here it ends"),  # a small part of one turn
        # All of turn 0 and a sliver of turn 2 (the first two words of each).
        CodedExcerpt("a", ("across",), "Tell me more. x x"),
        CodedExcerpt("a", ("ignored",), "First part"),
    ]
    r = locate(excerpts, long_turns)
    assert r.table["located"].all()
    y = unit_labels(r, long_turns, ["inside", "across"], "turn")
    assert y.tolist() == [[False, True], [True, False], [False, False]]
    # A turn the excerpt covers only a sliver of is labelled at a low enough bar.
    y = unit_labels(r, long_turns, ["inside", "across"], "turn", min_share=0.05)
    assert y[1].tolist() == [True, True]
    # turns= gives the lengths when the units are a subset.
    y = unit_labels(r, long_turns.iloc[[1]], ["inside"], "turn", turns=long_turns)
    assert y.tolist() == [[True]]
    with pytest.raises(ValueError, match="unit must be"):
        unit_labels(r, long_turns, ["inside"], "sentence")


def test_excerpt_units_interviewer_share():
    excerpts = [
        CodedExcerpt("a", ("cost",), "What stops you from buying the product? Money, mostly."),
        CodedExcerpt("nobody", ("x",), "missing"),
        CodedExcerpt("b", ("trust",), "We ask friends"),
    ]
    r = locate(excerpts, TURNS)
    units = excerpt_units(r, TURNS)
    assert list(units.columns) == [
        "unit_id",
        "interview_id",
        "turn_index",
        "last_turn",
        "text",
        "interviewer_share",
    ]
    assert units["unit_id"].tolist() == [0, 2]
    assert units["interview_id"].tolist() == ["a", "b"]
    assert units["turn_index"].tolist() == [0, 1] and units["last_turn"].tolist() == [1, 1]
    asked = len("What stops you from buying the product")
    answered = len("Money, mostly")
    assert units["interviewer_share"].iloc[0] == pytest.approx(asked / (asked + answered))
    assert units["interviewer_share"].iloc[1] == 0.0
    assert units["text"].iloc[1] == "We ask friends"
    # Without roles nobody is the interviewer.
    no_roles = excerpt_units(r, TURNS.drop(columns="role"))
    assert no_roles["interviewer_share"].tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------- context


def test_turn_vectors_normalised_mean_aligned_with_turns():
    v = np.array([[3.0, 0, 0], [0, 4.0, 0], [0, 0, 2.0], [1.0, 1.0, 0]], dtype=np.float32)
    passages = pd.DataFrame({"interview_id": ["a", "a", "a", "b"], "turn_index": [1, 1, 3, 1]})
    turns = TURNS.iloc[::-1].reset_index(drop=True)  # any order: rows follow ``turns``
    out = turn_vectors(turns, passages, v)
    assert out.shape == (len(turns), 3) and out.dtype == np.float32
    got = {
        (i, t): out[k] for k, (i, t) in enumerate(zip(turns["interview_id"], turns["turn_index"]))
    }
    assert np.allclose(got[("a", 1)], np.array([1.5, 2.0, 0]) / 2.5)
    assert np.allclose(got[("a", 3)], [0, 0, 1])
    assert np.allclose(got[("b", 1)], np.array([1, 1, 0]) / np.sqrt(2))
    for key in [("a", 0), ("a", 2), ("b", 0)]:
        assert not got[key].any()
    assert np.allclose(np.linalg.norm(out, axis=1)[[k for k in range(6) if out[k].any()]], 1)


def context_turns() -> pd.DataFrame:
    return make_turns(
        {
            # Not enumerated: the last interviewer turn of four words or more.
            "free": [
                ("participant", "Hello there."),
                ("interviewer", "Tell me about your work please."),
                ("participant", "I build things."),
                ("interviewer", "Okay."),  # too short to be a prompt
                ("participant", "More things."),
                ("interviewer", "What about the tools you use?"),
                ("participant", "Mostly spreadsheets."),
            ],
            # Three or more numbered items: only they are prompts.
            "guide": [
                ("interviewer", "1 Read the first task aloud."),
                ("participant", "Done."),
                ("interviewer", "2.b Was the information easy to find?"),
                ("interviewer", "Right, and how did that feel for you then?"),
                ("participant", "Fine."),
                ("interviewer", "Q3: Try the last task now."),
                ("participant", "3 words here"),
            ],
        }
    )


def test_context_prompt_is_the_last_interviewer_prompt():
    turns = context_turns()
    vt = np.eye(len(turns), dtype=np.float32)  # turn k's vector is axis k
    ctx = context_features(turns[["interview_id", "turn_index", "role"]], turns, vt)
    assert ctx.prompt.shape == (len(turns), len(turns))
    which = [int(p.argmax()) if p.any() else None for p in ctx.prompt]
    # free: none before the first prompt, "Okay." is skipped.
    assert which[:7] == [None, 1, 1, 1, 1, 5, 5]
    # guide (rows 7..13): the discursive interviewer turn is not a prompt here.
    assert which[7:] == [7, 7, 9, 9, 9, 12, 12]
    # Same units, rows in another order: the prompt follows the unit, not the row.
    units = turns.iloc[[13, 0, 10]][["interview_id", "turn_index"]]
    ctx2 = context_features(units, turns, vt)
    assert [int(p.argmax()) if p.any() else None for p in ctx2.prompt] == [12, None, 9]


def test_context_prompt_rows_follow_the_turns_given():
    # vectors_of_turns is aligned with the turns' rows even when those are shuffled.
    turns = context_turns()
    shuffled = turns.sample(frac=1.0, random_state=0).reset_index(drop=True)
    vt = np.eye(len(turns), dtype=np.float32)
    units = turns[["interview_id", "turn_index"]]
    ctx = context_features(units, shuffled, vt)
    prompt_turns = [
        None
        if not p.any()
        else (
            shuffled["interview_id"].iloc[p.argmax()],
            int(shuffled["turn_index"].iloc[p.argmax()]),
        )
        for p in ctx.prompt
    ]
    assert prompt_turns[5] == ("free", 5) and prompt_turns[13] == ("guide", 5)
    assert prompt_turns[0] is None


def test_context_side_position_and_share():
    turns = context_turns()
    vt = np.ones((len(turns), 4), dtype=np.float32)
    units = turns[["interview_id", "turn_index"]].copy()
    ctx = context_features(units, turns, vt)
    assert ctx.side.shape == (len(turns), POSITION_BINS + 1) and ctx.side.dtype == np.float32
    # Position: first turn in the first bin, last in the last, middle in the middle.
    bins = ctx.side[:, :POSITION_BINS].argmax(1)
    assert bins[0] == 0 and bins[6] == POSITION_BINS - 1 and bins[3] in (4, 5)
    assert np.all(ctx.side[:, -1] == 0)  # no share, no role
    units["role"] = turns["role"]
    by_role = context_features(units, turns, vt)
    assert by_role.side[:, -1].tolist() == (turns["role"] == "interviewer").astype(float).tolist()
    units["interviewer_share"] = np.linspace(0, 1, len(units))
    by_share = context_features(units, turns, vt)
    assert np.allclose(by_share.side[:, -1], np.linspace(0, 1, len(units)))
    # Without a role column nothing is a prompt.
    none = context_features(units, turns.drop(columns="role"), vt)
    assert not none.prompt.any()
    taken = by_share.take(np.array([2, 0]))
    assert np.array_equal(taken.side, by_share.side[[2, 0]])
    assert np.array_equal(taken.prompt, by_share.prompt[[2, 0]])


# ---------------------------------------------------------------------------- coder


def test_separable_codes_are_learnt(separable):
    coder, _, (xt, yt, _) = separable
    p = coder.predict_proba(xt)
    assert p.shape == yt.shape
    assert np.all((p >= 0) & (p <= 1))
    pred = coder.predict(xt)
    assert np.array_equal(pred, p >= coder.thresholds)
    for j in range(len(CODES)):
        assert f1(yt[:, j], pred[:, j]) >= 0.9, CODES[j]
    assert not coder.few_shot.any()
    assert np.all((coder.thresholds > 0) & (coder.thresholds < 1))
    assert np.all(coder.oof_f1 >= 0.8)
    # Confident where it should be: the code's own units above every other unit.
    for j in range(len(CODES)):
        assert p[yt[:, j], j].min() > p[~yt[:, j], j].max()
    assert coder.scores(xt).shape == (len(xt), len(CODES), 1)


def test_fit_is_deterministic():
    train = clusters({0: 4, 1: 4, 2: 4, None: 4}, ["i1", "i2", "i3", "i4", "i5"], seed=5)
    test, _, _ = clusters({0: 3, 1: 3, 2: 3, None: 3}, ["t"], seed=6)
    texts = [f"unit words {k % 7} {k % 3}" for k in range(len(train[0]))]
    ctx = Context(
        np.random.default_rng(0).normal(size=(len(texts), DIM)), np.zeros((len(texts), 11))
    )
    t_texts = [f"unit words {k % 5}" for k in range(len(test))]
    t_ctx = Context(
        np.random.default_rng(1).normal(size=(len(test), DIM)), np.zeros((len(test), 11))
    )
    a = Coder(CODES).fit(*train, texts=texts, context=ctx)
    b = Coder(CODES).fit(*train, texts=texts, context=ctx)
    assert np.array_equal(a.thresholds, b.thresholds)
    assert np.array_equal(a.oof_f1, b.oof_f1, equal_nan=True)
    assert np.array_equal(
        a.predict_proba(test, t_texts, t_ctx), b.predict_proba(test, t_texts, t_ctx)
    )


def test_inner_folds_by_unit_when_few_interviews():
    # Two interviews for four folds: units are dealt out instead; still learns, deterministically.
    train = clusters({0: 8, 1: 8, None: 8}, ["i1", "i2"], seed=3, n_codes=2)
    test = clusters({0: 5, 1: 5, None: 5}, ["t"], seed=4, n_codes=2)
    a = Coder(["A", "B"], CoderSettings(text_C=0)).fit(*train)
    b = Coder(["A", "B"], CoderSettings(text_C=0)).fit(*train)
    pa = a.predict(test[0])
    assert np.array_equal(pa, b.predict(test[0]))
    for j in range(2):
        assert f1(test[1][:, j], pa[:, j]) >= 0.9


def test_few_shot_codes_use_code_vectors():
    # Codes 0-2 with plenty of examples, code 3 with two, code 4 with none.
    x, y, g = clusters({0: 4, 1: 4, 2: 4, None: 4}, ["i1", "i2", "i3", "i4"], seed=7, n_codes=5)
    rng = np.random.default_rng(8)
    x = np.vstack([x, unit_vector(rng, 3, 0.15), unit_vector(rng, 3, 0.15)])
    y = np.vstack([y, np.eye(5, dtype=bool)[[3, 3]]])
    g = np.r_[g, ["i1", "i2"]]
    xt, yt, _ = clusters({0: 5, 1: 5, 2: 5, 3: 5, 4: 5, None: 5}, ["t"], seed=9, n_codes=5)
    code_vectors = np.eye(DIM)[:5] * 3.0  # any length: normalised
    coder = Coder(list("ABCDE"), CoderSettings(text_C=0)).fit(x, y, g, code_vectors=code_vectors)
    assert coder.few_shot.tolist() == [False, False, False, True, True]
    thresholds_after_fit = coder.thresholds.copy()
    p = coder.predict_proba(xt)
    # The thresholds are set by fit (predicting does not change them).
    assert np.array_equal(coder.thresholds, thresholds_after_fit)
    assert np.all((p >= 0) & (p <= 1))
    pred = p >= coder.thresholds
    for j in (3, 4):
        assert 0 < coder.thresholds[j] < 1
        own = yt[:, j]
        # Every unit of the code is found, well above chance (1 in 6) in precision, and
        # the code's own units rank above every uncoded unit.
        assert pred[own, j].all(), "DE"[j - 3]
        assert pred[own, j].sum() / pred[:, j].sum() >= 0.4, "DE"[j - 3]
        assert p[own, j].min() > p[~yt.any(1), j].max()
    assert f1(yt[:, 3], pred[:, 3]) >= 0.7  # two examples help
    # The learnt codes are unaffected by the few-shot ones.
    for j in range(3):
        assert f1(yt[:, j], pred[:, j]) >= 0.9
    out = code_units(coder, [f"t{k}" for k in range(len(xt))], xt)
    assert out.loc[out["code"] == "E", "few_shot"].all()
    assert not out.loc[out["code"] == "A", "few_shot"].any()
    assert out.loc[out["code"] == "E", "evidence"].map(len).eq(0).all()  # no example to cite


def test_code_without_examples_or_code_vectors_is_never_predicted():
    x, y, g = clusters({0: 4, 1: 4, None: 4}, ["i1", "i2", "i3", "i4"], seed=10, n_codes=3)
    rng = np.random.default_rng(11)
    x = np.vstack([x, unit_vector(rng, 2, 0.1)])  # one example of C: too few
    y = np.vstack([y, [[False, False, True]]])
    g = np.r_[g, ["i1"]]
    coder = Coder(CODES, CoderSettings(text_C=0)).fit(x, y, g)
    assert coder.few_shot.tolist() == [False, False, True]
    xt, yt, _ = clusters({0: 3, 1: 3, 2: 6, None: 3}, ["t"], seed=12, n_codes=3)
    p = coder.predict_proba(xt)
    assert np.all(p[:, 2] == 0) and not coder.predict(xt)[:, 2].any()
    assert coder.thresholds[2] == 1.0 and np.isnan(coder.oof_f1[2])
    # Never coded, even top1 falls to a learnt code.
    out = code_units(coder, range(len(xt)), xt, top1=True)
    assert "C" not in set(out["code"])


def test_labels_must_match_codes(separable):
    _, (x, y, g), _ = separable
    with pytest.raises(ValueError, match="3 label columns for 2 codes"):
        Coder(["A", "B"]).fit(x, y, g)


TOPIC_WORDS = {0: ["price", "cost", "expensive", "budget"], 1: ["login", "password", "account"]}
FILLER = "the a we it really then just so maybe thing stuff kind of".split()


def worded_units(n: int, groups, seed: int):
    """Random vectors (no signal), but words that tell codes apart."""
    rng = np.random.default_rng(seed)
    xs, ys, texts, gs = [], [], [], []
    for g in groups:
        for code in (0, 1, None):
            for _ in range(n):
                v = rng.normal(size=DIM)
                xs.append(v / np.linalg.norm(v))
                words = list(rng.choice(FILLER, 6))
                y = np.zeros(2, dtype=bool)
                if code is not None:
                    y[code] = True
                    words += list(rng.choice(TOPIC_WORDS[code], 2))
                rng.shuffle(words)
                texts.append(" ".join(words))
                ys.append(y)
                gs.append(g)
    return np.array(xs), np.array(ys), texts, np.array(gs)


def test_text_model_helps_when_words_carry_the_codes():
    x, y, texts, g = worded_units(6, ["i1", "i2", "i3", "i4"], seed=1)
    xt, yt, tt, _ = worded_units(6, ["t"], seed=2)
    with_text = Coder(["A", "B"]).fit(x, y, g, texts=texts)
    assert with_text.scores(xt, tt).shape == (len(xt), 2, 2)
    pred = with_text.predict(xt, tt)
    vectors_only = Coder(["A", "B"], CoderSettings(text_C=0)).fit(x, y, g, texts=texts)
    pred0 = vectors_only.predict(xt, tt)
    for j in range(2):
        assert f1(yt[:, j], pred[:, j]) >= 0.9
        assert f1(yt[:, j], pred0[:, j]) < 0.7
    with pytest.raises(ValueError, match="give the units' texts"):
        with_text.predict_proba(xt)


def test_context_helps_when_the_prompt_carries_the_code():
    rng = np.random.default_rng(3)
    n = 60
    groups = np.array([f"i{k % 5}" for k in range(n)])
    y = np.zeros((n, 1), dtype=bool)
    y[: n // 3, 0] = True
    x = rng.normal(size=(n, DIM))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # The unit's words (vector) say nothing; the question before it says everything.
    prompt = np.where(y, np.eye(DIM)[0], np.eye(DIM)[1]) + 0.1 * rng.normal(size=(n, DIM))
    ctx = Context(prompt, np.zeros((n, POSITION_BINS + 1)))
    m = 30
    yt = np.zeros((m, 1), dtype=bool)
    yt[: m // 3, 0] = True
    xt = rng.normal(size=(m, DIM))
    pt = np.where(yt, np.eye(DIM)[0], np.eye(DIM)[1]) + 0.1 * rng.normal(size=(m, DIM))
    ctx_t = Context(pt, np.zeros((m, POSITION_BINS + 1)))
    with_ctx = Coder(["A"], CoderSettings(text_C=0)).fit(x, y, groups, context=ctx)
    assert f1(yt[:, 0], with_ctx.predict(xt, context=ctx_t)[:, 0]) >= 0.9
    off = Coder(["A"], CoderSettings(text_C=0, context=False)).fit(x, y, groups, context=ctx)
    assert f1(yt[:, 0], off.predict(xt, context=ctx_t)[:, 0]) < 0.7


# ---------------------------------------------------------------------------- code_units


def test_code_units_rows_and_evidence(separable):
    coder, (x, y, _), (xt, yt, _) = separable
    train_ids = [f"train{k}" for k in range(len(x))]
    ids = [f"u{k}" for k in range(len(xt))]
    out = code_units(coder, ids, xt, train_ids=train_ids)
    assert list(out.columns) == [
        "unit_id",
        "code",
        "confidence",
        "threshold",
        "few_shot",
        "evidence",
    ]
    p = coder.predict_proba(xt)
    expected = {(ids[u], CODES[j]) for u, j in zip(*np.where(p >= coder.thresholds))}
    assert set(zip(out["unit_id"], out["code"])) == expected
    # Unit order, then most confident first.
    order = [ids.index(u) for u in out["unit_id"]]
    assert order == sorted(order)
    for _, group in out.groupby("unit_id"):
        assert group["confidence"].is_monotonic_decreasing
    by_id = dict(zip(train_ids, y))
    for r in out.itertuples():
        j = CODES.index(r.code)
        assert r.confidence >= r.threshold == round(float(coder.thresholds[j]), 4)
        assert len(r.evidence) == coder.settings.evidence
        assert len(set(r.evidence)) == len(r.evidence)
        assert all(by_id[e][j] for e in r.evidence), (r.code, r.evidence)
    # Evidence: the nearest coded units, by cosine.
    j = 0
    u = int(np.where(yt[:, j])[0][0])
    rows = np.where(y[:, j])[0]
    nearest = rows[np.argsort(-(x[rows] @ xt[u]), kind="stable")[:3]]
    got = out[(out["unit_id"] == ids[u]) & (out["code"] == "A")]["evidence"].iloc[0]
    assert got == [train_ids[i] for i in nearest]
    # Without train_ids, evidence is training row numbers.
    plain = code_units(coder, ids, xt)
    assert plain["evidence"].iloc[0] == [int(train_ids.index(e)) for e in out["evidence"].iloc[0]]


def test_code_units_top1(separable):
    coder, _, _ = separable
    rng = np.random.default_rng(20)
    far = np.array([unit_vector(rng, None, 0) for _ in range(5)])  # like no code
    assert code_units(coder, list("vwxyz"), far).empty
    out = code_units(coder, list("vwxyz"), far, top1=True)
    assert out["unit_id"].tolist() == list("vwxyz")
    p = coder.predict_proba(far)
    assert out["code"].tolist() == [CODES[j] for j in p.argmax(1)]
    assert (out["confidence"] < out["threshold"]).all()
    empty = code_units(coder, [], np.zeros((0, DIM)))
    assert empty.empty and "evidence" in empty.columns


# ---------------------------------------------------------------------------- suggest


def test_suggest_spreads_over_interviews_and_excludes(separable):
    coder, _, _ = separable
    rng = np.random.default_rng(30)
    # The same six units in three interviews: equal values, so interviews take turns.
    between = [(np.eye(DIM)[0] + np.eye(DIM)[1]) / np.sqrt(2) + 0.05 * rng.normal(size=DIM)]
    base = np.array(
        [b / np.linalg.norm(b) for b in between * 3] + [unit_vector(rng, 0, 0.1) for _ in range(3)]
    )
    vectors = np.vstack([base, base, base])
    groups = ["x"] * 6 + ["y"] * 6 + ["z"] * 6
    ids = [f"s{k}" for k in range(18)]
    out = suggest(coder, ids, vectors, groups, n=6)
    assert list(out.columns) == [
        "unit_id",
        "interview",
        "value",
        "uncertainty",
        "uncovered",
        "code",
        "probability",
        "threshold",
        "reason",
    ]
    assert len(out) == 6 and out["unit_id"].is_unique
    assert out["interview"].value_counts().to_dict() == {"x": 2, "y": 2, "z": 2}
    assert sorted(out["interview"].iloc[:3]) == ["x", "y", "z"]
    assert out["value"].is_monotonic_decreasing
    for r in out.itertuples():
        k = ids.index(r.unit_id)
        assert groups[k] == r.interview
        assert r.value == pytest.approx(0.5 * r.uncertainty + 0.5 * r.uncovered, abs=1e-3)
        assert 0 <= r.uncertainty <= 1 and 0 <= r.uncovered <= 1
    # The near-threshold units come before the confidently coded ones.
    assert set(out["unit_id"].iloc[:3]) <= {ids[k] for k in range(18) if k % 6 < 3}
    again = suggest(coder, ids, vectors, groups, n=6, exclude=out["unit_id"].iloc[:2].tolist())
    assert not set(again["unit_id"]) & set(out["unit_id"].iloc[:2])
    assert len(again) == 6
    assert len(suggest(coder, ids, vectors, groups, n=100)) == 18
    assert suggest(coder, ids, vectors, groups, n=5, exclude=ids).empty


def test_suggest_reasons(separable):
    coder, _, _ = separable
    rng = np.random.default_rng(31)
    far = [unit_vector(rng, None, 0) for _ in range(3)]
    on_edge = [(np.eye(DIM)[1] + np.eye(DIM)[2]) / np.sqrt(2) for _ in range(3)]
    vectors = np.array(far + on_edge)
    ids = ["f0", "f1", "f2", "e0", "e1", "e2"]
    out = suggest(coder, ids, vectors, ["g"] * 6, n=6)
    reason = dict(zip(out["unit_id"], out["reason"]))
    for u in ["f0", "f1", "f2"]:
        assert reason[u].startswith("far from every coded example (nearest similarity ")
    for u in ["e0", "e1", "e2"]:
        assert reason[u].startswith("uncertain about ")
        code = out.loc[out["unit_id"] == u, "code"].iloc[0]
        assert code in ("B", "C") and f"uncertain about {code!r}" in reason[u]
    only_doubt = suggest(coder, ids, vectors, ["g"] * 6, n=6, uncovered_weight=0.0)
    assert np.allclose(only_doubt["value"], only_doubt["uncertainty"])
    assert set(only_doubt["unit_id"].iloc[:3]) == {"e0", "e1", "e2"}
    only_far = suggest(coder, ids, vectors, ["g"] * 6, n=6, uncovered_weight=1.0)
    assert set(only_far["unit_id"].iloc[:3]) == {"f0", "f1", "f2"}
    assert only_far["reason"].str.startswith("far from").all()


# ---------------------------------------------------------------------------- misc


def test_code_text():
    assert code_text(Code("Cost")) == "Cost."
    code = Code(
        "Cost", "Money they cannot spend.", parent="Barriers > Money", examples=("Too dear.",)
    )
    assert code_text(code) == "Money: Cost. Money they cannot spend. Too dear."


def test_fit_predict_factory(separable):
    _, (x, y, g), (xt, yt, _) = separable
    fold = SimpleNamespace(
        codes=CODES,
        train_units=pd.DataFrame({"text": ["w"] * len(x)}),
        test_units=pd.DataFrame({"text": ["w"] * len(xt)}),
        train_vectors=x,
        train_labels=y,
        train_groups=g,
        test_vectors=xt,
    )
    pred, p = fit_predict_factory(CoderSettings(text_C=0))(fold)
    assert pred.shape == p.shape == yt.shape
    assert all(f1(yt[:, j], pred[:, j]) >= 0.9 for j in range(3))
    pred1, _ = fit_predict_factory(CoderSettings(text_C=0), text_column=None, top1=True)(fold)
    assert pred1.any(1).all()


def test_no_units_to_code(separable):
    coder, _, _ = separable
    none = np.zeros((0, DIM))
    assert coder.predict_proba(none).shape == (0, len(CODES))
    assert coder.predict(none).shape == (0, len(CODES))
    assert suggest(coder, [], none, [], n=5).empty
