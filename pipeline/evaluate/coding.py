"""Check the machine's coding against a researcher's: leave one interview out, per code.

``insights evaluate coding --gold coded.csv`` reads the researcher's coding (any format
:func:`~pipeline.coding.read_coding` reads, or ``--gold turns``: the ``codes`` column of
turns.parquet, e.g. an archive's tagged transcripts), finds the excerpts in OUT's turns and
passages (:func:`~pipeline.coding.locate.locate`), then codes every interview from the
*other* interviews' coding only, twice:

1. **Given the excerpts**: the units are the located excerpts themselves (the researcher
   found them; only the code is asked for), each embedded with the run's embedder (through
   OUT's embedding cache). Every excerpt carries a code, so the :class:`~pipeline.coding.
   classify.Coder` gives each its most probable code plus any other code over its
   threshold. Beside it, in the same run, on the same excerpts, vectors and folds, the
   baseline: a multinomial logistic regression (scikit-learn ``LogisticRegression``, lbfgs,
   ``class_weight="balanced"``, C=1) on the excerpt vectors alone, trained on each
   excerpt's first code, predicting one code per excerpt.
2. **End to end**: the units are the run's passages (or turns, when the researcher coded
   whole turns: :func:`~pipeline.coding.classify.choose_unit`) of the roles the researcher
   coded, labelled with the codes of the excerpts they overlap
   (:func:`~pipeline.coding.classify.unit_labels`); the Coder codes every unit (zero or more
   codes), so this measures finding the excerpts too.

Figures, per code and micro/macro (:func:`~pipeline.coding.agreement.agreement_table`):
precision, recall, F1, Cohen's kappa, Krippendorff's alpha; and for the excerpts, one label
each (:func:`~pipeline.coding.agreement.single_label_scores`): the top code against the
excerpt's first code ("strict") and against any of its codes ("lenient"). Interviews
without a located excerpt are not evaluated (the researcher may not have coded them).

Everything is deterministic; BLAS runs on one thread during the fits (the matrices are
small: threads cost more than they give, most of all on a shared machine).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..coding.agreement import Fold, LOIOResult, evaluate_loio, single_label_scores
from ..coding.autocode import coded_roles
from ..coding.classify import (
    CoderSettings,
    choose_unit,
    code_vectors_of,
    context_features,
    excerpt_units,
    fit_predict_factory,
    turn_vectors,
    unit_labels,
)
from ..coding.locate import excerpts_from_turn_codes, locate
from ..coding.model import Codebook

GOLD_FROM_TURNS = "turns"
"""``gold`` value meaning: the coding is turns.parquet's ``codes`` column."""

"""End to end, a role's units are coded when at least this share of the located excerpts'
characters lies in that role's turns (a stray excerpt reaching into an interviewer's turn
does not make every interviewer passage a unit)."""

BASELINE = (
    "multinomial logistic regression on the excerpt vectors (lbfgs, C=1, class_weight="
    "balanced), trained on each excerpt's first code; one code per excerpt"
)

_DIGITS = 4


# ---------------------------------------------------------------------------- gold


def read_gold(
    gold: Path | str, turns: pd.DataFrame, codebook: Path | None = None
) -> tuple[Codebook, list, str]:
    """The researcher's codebook, excerpts, and what they were read from.

    Args:
        gold: a coding file, or :data:`GOLD_FROM_TURNS` for turns.parquet's ``codes``.
        turns: turns.parquet.
        codebook: a codebook file (for the codes' descriptions; with a coding file, every
            code in it must be in the codebook).
    """
    from ..coding import read_coding

    book = read_coding(Path(codebook))[0] if codebook is not None else None
    if str(gold) == GOLD_FROM_TURNS:
        if "codes" not in turns.columns:
            raise ValueError("--gold turns: turns.parquet has no codes column")
        excerpts = excerpts_from_turn_codes(turns, "codes", codebook=book)
        if not excerpts:
            raise ValueError("--gold turns: no turn carries a code")
        used = list(dict.fromkeys(c for e in excerpts for c in e.codes))
        book = (book or Codebook()).with_codes(used)
        return book, excerpts, "turns.parquet codes"
    book, excerpts = read_coding(Path(gold), book)
    if not excerpts:
        raise ValueError(f"{gold}: no coded excerpt (a codebook alone cannot be evaluated)")
    return book, list(excerpts), str(gold)


# ---------------------------------------------------------------------------- figures


def _num(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else round(x, _DIGITS)
    return x


def _figures(result: LOIOResult) -> dict:
    """micro, macro and per-code figures of a LOIO result, JSON-able (NaN: None)."""
    table = result.table
    cols = ["support", "predicted", "precision", "recall", "f1", "kappa", "alpha"]
    rows = {str(r["code"]): {c: _num(r[c]) for c in cols} for _, r in table.iterrows()}
    return {
        "micro": rows.pop("micro"),
        "macro": rows.pop("macro"),
        "per_code": rows,
        "per_interview": [
            {k: _num(v) for k, v in r.items()} for r in result.per_group.to_dict("records")
        ],
    }


def _single(result: LOIOResult, labels: np.ndarray, primary: Sequence[str]) -> dict:
    """The top-scoring code against the first code (strict) and any code (lenient)."""
    codes = np.asarray(result.codes, dtype=object)
    scores = np.nan_to_num(result.scores, nan=-np.inf)
    top_j = scores.argmax(1)
    top = codes[top_j]
    truth = np.asarray(primary, dtype=object)
    lenient = np.where(labels[np.arange(len(top)), top_j], top, truth)
    return {
        "strict": {k: _num(v) for k, v in single_label_scores(truth, top).items()},
        "lenient": {k: _num(v) for k, v in single_label_scores(lenient, top).items()},
    }


def baseline_fit_predict(fold: Fold):
    """The baseline (:data:`BASELINE`) for :func:`evaluate_loio`: the fold's units need a
    ``primary`` column (each one's first code)."""
    from sklearn.linear_model import LogisticRegression

    y = fold.train_units["primary"].astype(str).to_numpy()
    n, k = len(fold.test_units), len(fold.codes)
    scores = np.zeros((n, k))
    classes = sorted(set(y.tolist()))
    if len(classes) == 1:
        scores[:, fold.codes.index(classes[0])] = 1.0
    else:
        m = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        m.fit(np.asarray(fold.train_vectors, dtype=np.float64), y)
        p = m.predict_proba(np.asarray(fold.test_vectors, dtype=np.float64))
        for j, c in enumerate(m.classes_):
            scores[:, fold.codes.index(str(c))] = p[:, j]
    pred = np.zeros((n, k), dtype=bool)
    if n:
        pred[np.arange(n), scores.argmax(1)] = True
    return pred, scores


def _roles_coded(result, turns: pd.DataFrame) -> dict[str, float]:
    """Per role, the share of the located excerpts' characters in its turns."""
    if "role" not in turns.columns or not len(result.spans):
        return {}
    role = {
        (str(i), int(t)): str(r)
        for i, t, r in zip(turns["interview_id"], turns["turn_index"], turns["role"])
    }
    sp = result.spans
    chars = (sp["end"] - sp["start"]).to_numpy(dtype=float)
    roles = [role.get((str(i), int(t)), "") for i, t in zip(sp["interview_id"], sp["turn_index"])]
    share = pd.Series(chars).groupby(np.asarray(roles, dtype=object)).sum() / max(1.0, chars.sum())
    return {str(k): round(float(v), _DIGITS) for k, v in share.sort_values(ascending=False).items()}


# ---------------------------------------------------------------------------- evaluate


def evaluate_coding(
    out_dir: Path,
    config,
    *,
    gold: Path | str,
    codebook: Path | None = None,
    baseline: bool = True,
    end_to_end: bool = True,
    settings: CoderSettings | None = None,
    embedder=None,
) -> dict:
    """The Coder against the researcher's coding, leave one interview out, in one run.

    Args:
        out_dir: an output folder with turns, passages and embeddings (``insights embed``).
        config: the effective configuration (its ``embed`` settings embed the excerpts).
        gold: the researcher's coding: a file :func:`~pipeline.coding.read_coding` reads,
            or ``"turns"`` (:data:`GOLD_FROM_TURNS`): turns.parquet's ``codes`` column.
        codebook: a codebook file, for the codes' descriptions (few-shot coding).
        baseline: also run the logistic-regression baseline given the excerpts.
        end_to_end: also code the passages (or turns), finding the excerpts too.
        settings: the Coder's settings (default :class:`CoderSettings`).
        embedder: an embedder to reuse (default: the one ``config.embed`` names).

    Returns:
        JSON-able figures: ``gold`` (excerpts, located, share, by_method, not_located,
        interviews), ``given_excerpts`` (``coder`` and ``baseline``: micro, macro,
        per_code, per_interview, single strict/lenient), ``end_to_end`` (unit, roles,
        units, ``coder``), ``seconds`` per part. See :func:`format_coding`.

    Raises:
        ValueError: no excerpt located, fewer than two interviews with located excerpts.
    """
    from threadpoolctl import threadpool_limits

    from ..core import lineage
    from ..core.catalog import cache_dir, load
    from ..embed import load_embeddings, make_embedder
    from ..embed.embedders import embed_texts

    out_dir = Path(out_dir)
    settings = settings or CoderSettings()
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    lineage.require(out_dir, "embed", config)
    turns = load("turns", out_dir)
    passages = load("passages", out_dir)
    passage_vectors, embed_info = load_embeddings(out_dir, passages)
    book, excerpts, source = read_gold(gold, turns, codebook)
    found = locate(excerpts, turns, passages)
    summary = found.summary()
    table = found.table
    # An excerpt without a code (a bare highlight) teaches nothing: it is located, not used.
    located = table[table["located"] & (table["codes"].map(len) > 0)].reset_index(drop=True)
    if not len(located):
        raise ValueError(f"none of the {len(table)} excerpts was found in {out_dir}'s turns")
    all_ids = [str(i) for i in pd.unique(turns["interview_id"])]
    coded_ids = sorted(set(located["interview_id"].astype(str)))
    if len(coded_ids) < 2:
        raise ValueError(
            f"excerpts were located in {len(coded_ids)} interview(s): leave one interview "
            "out needs two"
        )
    # The label columns: the codes of the located excerpts, in codebook order.
    used = set(c for cs in located["codes"] for c in cs)
    codes = [p for p in book.paths if p in used] + sorted(used - set(book.paths))
    result: dict = {
        "gold": {
            "source": source,
            "codes": len(codes),
            **{k: _num(v) if not isinstance(v, dict) else v for k, v in summary.items()},
            "interviews": {
                "in_run": len(all_ids),
                "with_located_excerpts": len(coded_ids),
                "not_evaluated": [i for i in all_ids if i not in coded_ids],
                "gold_not_in_run": sorted(
                    set(table.loc[table["interview_id"].isna(), "interview"].astype(str))
                ),
            },
            "excerpts_per_code": {c: int(sum(c in cs for cs in located["codes"])) for c in codes},
        },
        "settings": {k: _num(v) for k, v in vars(settings).items()},
    }
    lap("read_and_locate")

    store = cache_dir(out_dir)
    embedder = embedder or make_embedder(config.embed, store)

    def embed(texts: list[str]) -> np.ndarray:
        return embed_texts(list(texts), embedder, store, config.embed.cache)[0]

    tv = turn_vectors(turns, passages, passage_vectors)

    def context_of(units: pd.DataFrame):
        return context_features(units, turns, tv)

    with threadpool_limits(limits=1, user_api="blas"):
        code_vectors = _code_vectors(book, codes, embed)
        # ------------------------------------------------ given the excerpts
        first = dict(zip(located["excerpt"].astype(int), located["codes"]))
        units = excerpt_units(found, turns)
        units = units[units["unit_id"].astype(int).isin(first)].reset_index(drop=True)
        units["primary"] = [first[int(n)][0] for n in units["unit_id"]]
        labels = np.array(
            [[c in first[int(n)] for c in codes] for n in units["unit_id"]], dtype=bool
        )
        vectors = embed(units["text"].tolist())
        result["given_excerpts"] = {
            "units": len(units),
            "interviews": int(units["interview_id"].nunique()),
            "model_id": embedder.model_id,
            "passages_model_id": embed_info.get("model_id"),
        }
        lap("embed_excerpts")
        groups = units["interview_id"].tolist()
        fp = fit_predict_factory(
            settings, context_of=context_of, code_vectors=code_vectors, top1=True
        )
        coder = evaluate_loio(units, labels, vectors, groups, fp, codes=codes)
        result["given_excerpts"]["coder"] = {
            **_figures(coder),
            "single": _single(coder, labels, units["primary"]),
        }
        lap("given_excerpts_coder")
        if baseline:
            base = evaluate_loio(units, labels, vectors, groups, baseline_fit_predict, codes=codes)
            result["given_excerpts"]["baseline"] = {
                "model": BASELINE,
                **_figures(base),
                "single": _single(base, labels, units["primary"]),
            }
            lap("given_excerpts_baseline")
        # ------------------------------------------------ end to end
        if end_to_end:
            result["end_to_end"] = _end_to_end(
                found,
                turns,
                passages,
                passage_vectors,
                tv,
                codes,
                coded_ids,
                settings,
                code_vectors,
                context_of,
            )
            lap("end_to_end")
    result["seconds"] = {**seconds, "total": round(sum(seconds.values()), 2)}
    return result


def _code_vectors(book: Codebook, codes: Sequence[str], embed) -> np.ndarray:
    """The embedding of each code's text (name, description, examples): few-shot coding."""
    from ..coding.model import Code

    items = [book.find(c) or Code(c.split(" > ")[-1].strip()) for c in codes]
    return code_vectors_of(items, embed)


def _end_to_end(
    found,
    turns: pd.DataFrame,
    passages: pd.DataFrame,
    passage_vectors: np.ndarray,
    vectors_of_turns: np.ndarray,
    codes: Sequence[str],
    coded_ids: Sequence[str],
    settings: CoderSettings,
    code_vectors: np.ndarray,
    context_of,
) -> dict:
    """Code every passage (or turn) of the coded roles and interviews, leave one out."""
    choice = choose_unit(found, turns, passages)
    shares = _roles_coded(found, turns)
    # The speech the code stage would code, by the same rule, so this measures that stage.
    roles = list(coded_roles(found, turns)[0])
    frame, vecs = (
        (turns, vectors_of_turns) if choice.unit == "turn" else (passages, passage_vectors)
    )
    keep = np.array(frame["interview_id"].astype(str).isin(set(coded_ids)), dtype=bool)
    if roles and "role" in frame.columns:
        keep &= frame["role"].astype(str).isin(roles).to_numpy()
    rows = np.where(keep)[0]
    units = frame.iloc[rows].reset_index(drop=True)
    y = unit_labels(found, units, codes, choice.unit, turns=turns)
    fp = fit_predict_factory(settings, context_of=context_of, code_vectors=code_vectors)
    res = evaluate_loio(
        units, y, vecs[rows], units["interview_id"].astype(str).tolist(), fp, codes=codes
    )
    # Excerpt recall: an excerpt is found when a unit it touches got one of its codes.
    index = {c: j for j, c in enumerate(codes)}
    if choice.unit == "turn":
        key = list(zip(units["interview_id"].astype(str), units["turn_index"].astype(int)))
        row_of = {k: r for r, k in enumerate(key)}
        touches = [
            (int(n), row_of.get((str(i), int(t))))
            for n, i, t in zip(
                found.spans["excerpt"], found.spans["interview_id"], found.spans["turn_index"]
            )
        ]
    else:
        row_of = {str(p): r for r, p in enumerate(units["passage_id"])}
        touches = [
            (int(n), row_of.get(str(p)))
            for n, p in zip(found.overlaps["excerpt"], found.overlaps["passage_id"])
        ]
    codes_of = dict(zip(found.table["excerpt"].astype(int), found.table["codes"]))
    reached: dict[int, bool] = {}
    for n, r in touches:
        if r is None:
            continue
        cols = [index[c] for c in codes_of[n] if c in index]
        reached[n] = reached.get(n, False) or bool(res.predictions[r, cols].any())
    return {
        "unit": choice.unit,
        "unit_reason": choice.reason,
        "role_shares": shares,
        "roles": roles,
        "units": len(units),
        "coded_units": int(y.any(1).sum()),
        "labels_per_coded_unit": _num(y.sum() / max(1, int(y.any(1).sum()))),
        "excerpts_in_units": len(reached),
        "excerpts_found": int(sum(reached.values())),
        "excerpt_recall": _num(sum(reached.values()) / max(1, len(reached))),
        "coder": _figures(res),
    }


# ---------------------------------------------------------------------------- text

_HEAD = ("precision", "recall", "f1", "kappa", "alpha")


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def format_coding(result: dict, *, per_code: bool = True) -> str:
    """The figures of :func:`evaluate_coding` as plain-text tables (what the CLI prints)."""
    g = result["gold"]
    iv = g["interviews"]
    lines = [
        f"gold: {g['source']}: {g['located']} of {g['excerpts']} excerpts located "
        f"({g['share']:.1%}; {', '.join(f'{k} {v}' for k, v in g['by_method'].items())}), "
        f"{g['codes']} codes",
        f"interviews: {iv['with_located_excerpts']} of {iv['in_run']} evaluated"
        + (
            f" ({len(iv['not_evaluated'])} without a located excerpt, not evaluated: "
            f"{', '.join(iv['not_evaluated'][:8])}{' ...' if len(iv['not_evaluated']) > 8 else ''})"
            if iv["not_evaluated"]
            else ""
        ),
    ]
    for reason, n in g["not_located"].items():
        lines.append(f"  not located: {n} x {reason}")
    if iv["gold_not_in_run"]:
        lines.append(f"  gold interviews not in the run: {', '.join(iv['gold_not_in_run'])}")
    ge = result.get("given_excerpts")
    if ge:
        systems = [s for s in ("coder", "baseline") if s in ge]
        lines += ["", f"given the excerpts: {ge['units']} excerpts, leave one interview out"]
        lines.append(f"{'':24}" + "".join(f"{s:>10}" for s in systems))
        for view, name in (("strict", "top-1"), ("lenient", "top-1 lenient")):
            for m in ("accuracy", "macro_f1", "kappa", "alpha"):
                vals = [ge[s]["single"][view][m] for s in systems]
                lines.append(f"{name + ' ' + m:24}" + "".join(f"{_fmt(v):>10}" for v in vals))
        for avg in ("micro", "macro"):
            for m in _HEAD:
                vals = [ge[s][avg][m] for s in systems]
                lines.append(f"{avg + ' ' + m:24}" + "".join(f"{_fmt(v):>10}" for v in vals))
        if "baseline" in ge:
            lines.append(f"baseline: {ge['baseline']['model']}")
        if per_code:
            lines += ["", "per code, given the excerpts (F1 / kappa):"]
            head = f"{'code':42}{'n':>6}" + "".join(f"{s + ' f1':>12}{'kappa':>8}" for s in systems)
            lines.append(head)
            for code, row in ge["coder"]["per_code"].items():
                cells = "".join(
                    f"{_fmt(ge[s]['per_code'][code]['f1']):>12}"
                    f"{_fmt(ge[s]['per_code'][code]['kappa']):>8}"
                    for s in systems
                )
                lines.append(f"{code[:41]:42}{row['support']:>6}{cells}")
    ee = result.get("end_to_end")
    if ee:
        lines += [
            "",
            f"end to end: {ee['units']} {ee['unit']}s of roles {', '.join(ee['roles']) or 'all'} "
            f"({ee['coded_units']} coded), leave one interview out",
            f"  {ee['unit_reason']}",
            f"  excerpts found (a unit they touch got one of their codes): "
            f"{ee['excerpts_found']} of {ee['excerpts_in_units']} ({_fmt(ee['excerpt_recall'])})",
            f"{'':24}" + "".join(f"{m:>10}" for m in _HEAD),
        ]
        for avg in ("micro", "macro"):
            lines.append(f"{avg:24}" + "".join(f"{_fmt(ee['coder'][avg][m]):>10}" for m in _HEAD))
        if per_code:
            lines.append(f"{'code':42}{'n':>6}" + "".join(f"{m:>10}" for m in _HEAD))
            for code, row in ee["coder"]["per_code"].items():
                lines.append(
                    f"{code[:41]:42}{row['support']:>6}"
                    + "".join(f"{_fmt(row[m]):>10}" for m in _HEAD)
                )
    sec = result.get("seconds", {})
    if sec:
        lines += ["", "seconds: " + ", ".join(f"{k} {v}" for k, v in sec.items())]
    return "\n".join(lines)


__all__ = [
    "BASELINE",
    "GOLD_FROM_TURNS",
    "baseline_fit_predict",
    "evaluate_coding",
    "format_coding",
    "read_gold",
]
