"""``evaluate_coding`` on a small synthetic corpus: a separable codebook, a shuffled control.

The corpus is written here (eight interviews; the interviewee answers about cost, time or
quality in words of that topic, among words every answer uses), run through ingest,
passages and embed with a bag-of-words hashing embedder (no model to load), and coded by
a coded-excerpts CSV: the answers' topic sentences. A clearly separable codebook must be
learnt from the other interviews (kappa near 1); the same excerpts with their codes
shuffled must not be (kappa near 0).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.coding.classify import CoderSettings
from pipeline.core.config import Config
from pipeline.evaluate import evaluate_coding
from pipeline.evaluate.coding import (
    BASELINE,
    GOLD_FROM_TURNS,
    baseline_fit_predict,
    format_coding,
    read_gold,
)

TOPICS = {
    "Cost": "price money budget expensive invoice cheap fee payment discount salary".split(),
    "Time": "hours deadline schedule late weekend calendar overtime week delay morning".split(),
    "Quality": "bugs errors broken reliable crash tested defects review flaky regression".split(),
}
SHARED = "really think project client team work usually mostly things honestly".split()
QUESTION = "Interviewer: Can you tell me a bit more about how that part goes for you?"


class HashEmbedder:
    """Bag of words, each word a fixed random +-1 vector (from its sha256): deterministic."""

    model_id = "test-hash-bow"
    dim = 128

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                seed = int(hashlib.sha256(word.encode()).hexdigest()[:8], 16)
                out[i] += np.random.default_rng(seed).choice([-1.0, 1.0], self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def _corpus(raw: Path, n_interviews: int = 12, answers: int = 16, seed: int = 0) -> list[dict]:
    """Write the interviews; return the coded excerpts (interview, code, text).

    Every fourth answer is small talk (no code); the others speak of one topic in three of
    its words and one word of another topic, among words every answer uses.
    """
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    excerpts = []
    raw.mkdir(parents=True, exist_ok=True)
    for k in range(n_interviews):
        iid = f"interview-{k + 1:02d}"
        lines = ["Interviewer: Thanks for joining, shall we start with your work?"]
        for a in range(answers):
            lines.append(QUESTION)
            if a % 4 == 3:
                chat = " ".join(rng.choice(SHARED, 6))
                lines.append(f"Participant: Oh, {chat}, nothing much more to say there.")
                continue
            code = names[(a + k) % len(names)]
            other = names[(a + k + 1 + a % 2) % len(names)]
            words = list(rng.choice(TOPICS[code], 3, replace=False))
            words += [str(rng.choice(TOPICS[other]))] + list(rng.choice(SHARED, 4, replace=False))
            rng.shuffle(words)
            topic = f"I would say the {' and the '.join(words[:4])} matter, {' '.join(words[4:])}."
            tail = f"Well, {' '.join(rng.choice(SHARED, 5))} that is how it is."
            lines.append(f"Participant: {topic[0].upper()}{topic[1:]} {tail}")
            excerpts.append({"interview": iid, "code": code, "text": topic[0].upper() + topic[1:]})
        (raw / f"{iid}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return excerpts


def _write_gold(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["interview", "code", "text"])
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from pipeline import embed, passages
    from pipeline.ingest import run as ingest

    root = tmp_path_factory.mktemp("coding-eval")
    rows = _corpus(root / "raw")
    out = root / "out"
    cfg = Config()
    ingest(out, cfg, raw_dir=root / "raw")
    passages.run(out, cfg)
    embed.run(out, cfg, embedder=HashEmbedder())
    return out, cfg, _write_gold(root / "coded.csv", rows), root, rows


def _shuffled(rows: list[dict], seed: int) -> list[dict]:
    """The same excerpts, their codes permuted among them."""
    out = [dict(r) for r in rows]
    for r, c in zip(out, np.random.default_rng(seed).permutation([r["code"] for r in rows])):
        r["code"] = str(c)
    return out


def _run(synthetic, gold, **kw):
    out, cfg = synthetic[:2]
    return evaluate_coding(out, cfg, gold=gold, embedder=HashEmbedder(), **kw)


@pytest.mark.slow
def test_a_separable_codebook_is_learnt_from_the_other_interviews(synthetic):
    result = _run(synthetic, synthetic[2])
    json.dumps(result, allow_nan=False)  # JSON-able: no NaN, no numpy types
    g = result["gold"]
    assert g["excerpts"] == g["located"] == len(synthetic[4]) == 144
    assert g["interviews"] == {
        "in_run": 12,
        "with_located_excerpts": 12,
        "not_evaluated": [],
        "gold_not_in_run": [],
    }
    ge = result["given_excerpts"]
    assert ge["units"] == 144 and ge["interviews"] == 12
    coder, base = ge["coder"], ge["baseline"]
    assert base["model"] == BASELINE
    assert coder["single"]["strict"]["kappa"] >= 0.8
    assert coder["micro"]["kappa"] >= 0.8 and coder["macro"]["f1"] >= 0.85
    assert base["single"]["strict"]["kappa"] >= 0.8
    assert set(coder["per_code"]) == set(TOPICS)
    assert all(r["support"] == 48 for r in coder["per_code"].values())
    assert len(coder["per_interview"]) == 12
    # The topic sentence is most of each answer but not all: passages are the unit; the
    # interviewer never coded, so only the participant's passages are units.
    ee = result["end_to_end"]
    assert ee["unit"] == "passage" and ee["roles"] == ["interviewee"]
    # Small talk gives passages no code: a quarter of the answers.
    assert ee["coded_units"] == 144 and ee["units"] == 192
    assert ee["coder"]["micro"]["kappa"] >= 0.75
    assert ee["excerpt_recall"] >= 0.85
    assert set(result["seconds"]) >= {
        "read_and_locate",
        "embed_excerpts",
        "given_excerpts_coder",
        "given_excerpts_baseline",
        "end_to_end",
        "total",
    }
    text = format_coding(result)
    assert "given the excerpts: 144 excerpts" in text and "end to end:" in text
    for code in TOPICS:
        assert code in text


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_codes_are_not_learnt(synthetic, seed):
    gold = _write_gold(synthetic[3] / f"shuffled-{seed}.csv", _shuffled(synthetic[4], seed))
    result = _run(synthetic, gold, end_to_end=False)
    ge = result["given_excerpts"]
    assert "end_to_end" not in result
    for system in ("coder", "baseline"):
        assert abs(ge[system]["single"]["strict"]["kappa"]) < 0.25, system
        assert abs(ge[system]["micro"]["kappa"]) < 0.25, system


@pytest.mark.slow
def test_the_same_run_gives_the_same_figures(synthetic):
    a = _run(synthetic, synthetic[2], baseline=False, end_to_end=False)
    b = _run(synthetic, synthetic[2], baseline=False, end_to_end=False)
    a.pop("seconds"), b.pop("seconds")
    assert a == b and "baseline" not in a["given_excerpts"]


@pytest.mark.slow
def test_interviews_without_excerpts_are_not_evaluated(synthetic, tmp_path):
    rows = [r for r in synthetic[4] if r["interview"] != "interview-08"]
    rows.append({"interview": "no-such-interview", "code": "Cost", "text": "Not here at all."})
    gold = _write_gold(tmp_path / "coded.csv", rows)
    result = _run(
        synthetic, gold, settings=CoderSettings(text_C=0), baseline=False, end_to_end=False
    )
    iv = result["gold"]["interviews"]
    assert iv["not_evaluated"] == ["interview-08"]
    assert iv["gold_not_in_run"] == ["no-such-interview"]
    assert result["gold"]["located"] == len(rows) - 1
    assert result["given_excerpts"]["interviews"] == 11
    assert "not evaluated: interview-08" in format_coding(result)


@pytest.mark.slow
def test_a_coding_in_one_interview_cannot_be_evaluated(synthetic, tmp_path):
    rows = [r for r in synthetic[4] if r["interview"] == "interview-01"]
    with pytest.raises(ValueError, match="needs two"):
        _run(synthetic, _write_gold(tmp_path / "one.csv", rows))


# ---------------------------------------------------------------------------- fast


def test_gold_from_turns_reads_the_codes_column():
    turns = pd.DataFrame(
        {
            "interview_id": ["a", "a", "b"],
            "turn_index": [0, 1, 0],
            "text": ["Hello there.", "It costs a lot.", "It takes long."],
            "codes": [None, "Cost", "Time; Cost"],
        }
    )
    book, excerpts, source = read_gold(GOLD_FROM_TURNS, turns)
    assert source == "turns.parquet codes" and set(book.paths) == {"Cost", "Time"}
    assert [(e.interview, e.codes) for e in excerpts] == [("a", ("Cost",)), ("b", ("Time", "Cost"))]
    with pytest.raises(ValueError, match="no turn carries a code"):
        read_gold(GOLD_FROM_TURNS, turns.assign(codes=None))
    with pytest.raises(ValueError, match="no codes column"):
        read_gold(GOLD_FROM_TURNS, turns.drop(columns="codes"))


def test_baseline_predicts_one_code_per_unit_from_the_first_code():
    from pipeline.coding.agreement import Fold

    rng = np.random.default_rng(0)
    centres = np.eye(3) * 3
    y_train = np.repeat([0, 1, 2], 10)
    train = centres[y_train] + rng.normal(0, 0.3, (30, 3))
    test = centres[[2, 0, 1]] + rng.normal(0, 0.3, (3, 3))
    codes = ("a", "b", "c")
    fold = Fold(
        "held",
        codes,
        pd.DataFrame({"primary": [codes[j] for j in y_train]}),
        pd.DataFrame({"primary": ["?"] * 3}),
        train,
        test,
        np.eye(3, dtype=bool)[y_train],
        np.array(["g1"] * 15 + ["g2"] * 15, dtype=object),
    )
    pred, scores = baseline_fit_predict(fold)
    assert pred.sum(1).tolist() == [1, 1, 1]
    assert pred.argmax(1).tolist() == [2, 0, 1]
    assert np.allclose(scores.sum(1), 1)
