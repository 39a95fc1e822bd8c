"""The code stage, the codes part of the report and the export to QDA tools, on the bundled
sample (SYNTHETIC notes) with the sample's own gold coding (data/gold/codes.csv, written for
this project): coding of some interviews is learnt and applied to the others."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from test_coding_formats import PROJECT_XSD, _minimal_read, _validate

from pipeline.coding import read_coding, read_excerpts_csv, read_qdc, read_qdpx, read_qdpx_sources
from pipeline.coding.exporters import MACHINE_USER
from pipeline.coding.handoff import THEMES_PARENT, build_project, export_project
from pipeline.coding.locate import interview_text
from pipeline.core.catalog import load
from pipeline.core.config import Config, load_config
from pipeline.core.registry import run_stage
from pipeline.report.schema import Report

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "data" / "gold" / "codes.csv"


def _words(text) -> set[str]:
    return {w.strip(".,!?;:'\"()").lower() for w in str(text).split()} - {"um", "uh", ""}


def _gold_rows() -> list[dict]:
    with GOLD.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_coding(path: Path, interviews: set[str]) -> Path:
    rows = [r for r in _gold_rows() if r["interview"] in interviews]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["interview", "code", "text"])
        w.writeheader()
        w.writerows({k: r[k] for k in ("interview", "code", "text")} for r in rows)
    return path


@pytest.fixture(scope="module")
def coded(themed, tmp_path_factory):
    """The sample with the gold coding of six interviews given: code stage, then report."""
    base = tmp_path_factory.mktemp("coded")
    out = base / "out"
    import shutil

    shutil.copytree(themed, out)
    interviews = sorted({r["interview"] for r in _gold_rows()})
    learn = set(interviews[:6])
    coding = _write_coding(base / "coding.csv", learn)
    cfg = load_config(None, [f"coding.file={coding}"])
    run_stage("code", out, cfg)
    run_stage("report", out, cfg, generated_at="2026-01-01T00:00:00+00:00")
    return out, cfg, learn, set(interviews) - learn


def test_code_stage_locates_learns_and_codes_the_rest(coded):
    out, _, learn, rest = coded
    info = load("coding_info", out)
    table = load("coding", out)
    assert info["enabled"] and info["located"]["share"] >= 0.95
    human = table[table["source"] == "human"]
    machine = table[table["source"] == "machine"]
    assert set(human["interview_id"]) <= learn and len(human) >= 6 * 10
    assert set(machine["interview_id"]) == rest  # the French sample conversation is left out
    assert any("another language" in n for n in info["notes"])
    assert machine["confidence"].between(0, 1).all() and (human["confidence"] == 1).all()
    # Evidence names coded units of the interviews learnt from.
    ev = [json.loads(e) for e in machine["evidence"]]
    assert all(e for e in ev)
    # Every row's offsets slice its own words out of the interview text.
    texts = interview_text(load("turns", out))
    for r in table.itertuples():
        piece = texts[r.interview_id][int(r.start) : int(r.end)]
        # The slice holds the unit's words (a filler at either end may be left outside).
        said, shown = _words(piece), _words(r.text)
        assert said and len(said & shown) >= 0.8 * len(shown), (piece, r.text)


def test_learnt_coding_agrees_with_the_held_out_gold_better_than_chance(coded):
    """On the interviews not given, passages coded with a gold code's excerpt agree with it
    far more often than the same predictions against shuffled codes."""
    out, _, _, rest = coded
    table = load("coding", out)
    machine = table[table["source"] == "machine"]
    gold = [r for r in _gold_rows() if r["interview"] in rest]

    def words(text: str) -> set[str]:
        return {w.strip(".,!?;:'\"").lower() for w in str(text).split() if len(w) > 3}

    def agreement(pairs) -> float:
        hits = 0
        for g_code, g_text in pairs:
            g_words = words(g_text)
            same = machine[machine["code"] == g_code]
            hits += any(len(g_words & words(t)) >= 3 for t in same["text"])
        return hits / len(pairs)

    real = agreement([(r["code"], r["text"]) for r in gold])
    codes = [r["code"] for r in gold]
    shifted = codes[7:] + codes[:7]  # each excerpt paired with another excerpt's code
    control = agreement(list(zip(shifted, [r["text"] for r in gold])))
    assert real >= 0.5 and real >= control + 0.25, (real, control)


def test_codes_table_and_suggestions(coded):
    out, _, _, _ = coded
    codes = load("codes", out)
    gold_codes = {r["code"] for r in _gold_rows()}
    assert set(codes["code"]) == gold_codes
    assert (codes["human_excerpts"] > 0).all()
    learnt = codes[~codes["few_shot"].astype(bool)]
    assert learnt["expected_f1"].between(0, 1).all()
    suggestions = pd.read_csv(out / "coding" / "suggestions.csv")
    assert 0 < len(suggestions) <= 20
    assert suggestions["unit_id"].is_unique
    assert (suggestions["text"].str.split().str.len() >= 6).all()


def test_report_has_a_codes_part(coded):
    out, _, _, rest = coded
    report = Report.model_validate_json((out / "report" / "report.json").read_text())
    part = report.coding
    assert part is not None and part.learnt_conversations == len(rest)
    assert len(part.codes) == len({r["code"] for r in _gold_rows()})
    for c in part.codes:
        assert c.conversations >= c.researcher_conversations
        assert c.quotes and len({q.interview_id for q in c.quotes}) == len(c.quotes)
    html = (out / "report" / "report.html").read_text()
    md = (out / "report" / "report.md").read_text()
    assert 'id="codes"' in html and "## Codes" in md
    assert part.codes[0].code.replace("_", "\\_") in md


def test_no_coding_no_codes_part(reported):
    info = load("coding_info", reported)
    assert info == {"enabled": False, "reason": info["reason"]} and not info["enabled"]
    assert len(load("coding", reported)) == 0
    report = json.loads((reported / "report" / "report.json").read_text())
    assert report["coding"] is None
    assert "## Codes" not in (reported / "report" / "report.md").read_text()


# SYNTHETIC tagged interviews: kitchen talk is tagged "cooking", garden talk "garden".
COOKING = [
    "I bake bread every Sunday morning and the whole kitchen smells of yeast and flour.",
    "My grandmother taught me to simmer the tomato sauce for hours with basil and garlic.",
    "We chop onions, fry them slowly in butter, and then add the rice and the stock.",
    "The oven at our flat runs hot, so I lower the temperature when I roast vegetables.",
]
GARDEN = [
    "In spring I plant tomatoes and beans in the raised beds behind the house.",
    "The roses need pruning in winter and a lot of compost around their roots.",
    "Slugs ate half of my lettuce seedlings last year, so now I water in the morning.",
    "We dug a small pond and the frogs came back to the garden within a month.",
]


def _tagged(path: Path, tagged: bool, order: int) -> None:
    rows = ["speaker,words,tags"]
    lines = COOKING[order:] + COOKING[:order] + GARDEN[order:] + GARDEN[:order]
    for k, line in enumerate(lines):
        code = "cooking" if line in COOKING else "garden"
        question = "What do you do at home?" if k % 2 == 0 else "And then what happens?"
        rows.append(f"Interviewer,{question},")
        rows.append(f'Narrator,"{line}",{code if tagged else ""}')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_coding_from_tagged_turns_is_used_without_a_file(tmp_path):
    """A tagged CSV's codes column in the turns is the researcher's coding (from_turns):
    three tagged interviews teach the two codes, the untagged one is coded from them."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for n in range(4):
        _tagged(raw / f"narrator-{n}.csv", tagged=n < 3, order=n)
    cfg = Config()
    run_stage("ingest", out, cfg, raw_dir=raw)
    for stage in ("passages", "embed", "segment"):
        run_stage(stage, out, cfg)
    result = run_stage("code", out, cfg)
    info = load("coding_info", out)
    assert result is not None and info["source"] == "the codes column of the ingested turns"
    assert info["unit"] == "turn" and info["located"]["share"] == 1.0
    assert info["coded_interviews"] == ["narrator-0", "narrator-1", "narrator-2"]
    machine = load("coding", out).query("source == 'machine'")
    assert set(machine["interview_id"]) == {"narrator-3"}
    got = {(str(t).split()[0], c) for t, c in zip(machine["text"], machine["code"])}
    want = {(x.split()[0], "cooking") for x in COOKING} | {(x.split()[0], "garden") for x in GARDEN}
    assert len(got & want) >= 6 and len(got - want) <= 1, got


def test_bad_coding_file_fails_with_its_name(themed, copy_of, tmp_path, cli):
    out = copy_of(themed)
    bad = tmp_path / "coding.csv"
    bad.write_text("interview,colour\nx,y\n", encoding="utf-8")
    result = cli("code", "--out", out, "--coding", bad)
    assert result.exit_code == 1
    assert "coding.csv" in result.stderr
    assert not (out / "coding").exists()


def test_code_and_export_commands(coded, tmp_path, cli):
    out, _, learn, rest = coded
    result = cli(
        "export",
        "--out",
        out,
        "--qdpx",
        tmp_path / "p.qdpx",
        "--qdc",
        tmp_path / "c.qdc",
        "--csv",
        tmp_path / "s.csv",
    )
    assert result.exit_code == 0, result.stderr
    assert "machine-suggested" in result.stderr
    for name in ("p.qdpx", "c.qdc", "s.csv"):
        assert (tmp_path / name).is_file()


def test_export_round_trip_offsets_slice_the_coded_text(coded, tmp_path):
    out, _, learn, rest = coded
    project = build_project(out)
    qdpx = tmp_path / "project.qdpx"
    export_project(project, qdpx=qdpx, qdc=tmp_path / "book.qdc", csv=tmp_path / "coded.csv")
    with zipfile.ZipFile(qdpx) as zf:
        _validate(PROJECT_XSD, zf.read("project.qde"))
    seen = _minimal_read(qdpx)  # an independent reader of the standard's structure
    sources = read_qdpx_sources(qdpx)
    assert sources == interview_text(load("turns", out))
    table = load("coding", out)
    # Every coded stretch is exported at its own offsets, with every code it has.
    expected = {
        (r.interview_id, sources[r.interview_id][int(r.start) : int(r.end)], r.code)
        for r in table.itertuples()
    }
    got = {(s["source"], s["text"], c) for s in seen["selections"] for c in s["codes"]}
    assert expected <= got
    # Our reader gives back every selection's text as the slice of its source.
    book, excerpts = read_qdpx(qdpx)
    assert len(excerpts) == len(project.selections)
    for e, s in zip(
        sorted(excerpts, key=lambda e: (e.interview, e.start, e.end)),
        sorted(project.selections, key=lambda s: (s.source_name, s.start, s.end)),
    ):
        assert e.text == project.sources[s.source_name][s.start : s.end]
    humans = [s for s in seen["selections"] if s["user"] != MACHINE_USER]
    assert {s["source"] for s in humans} <= learn
    machine_sources = {
        s["source"]
        for s in seen["selections"]
        if s["user"] == MACHINE_USER and not s["codes"][0].startswith(THEMES_PARENT)
    }
    assert machine_sources <= rest
    assert THEMES_PARENT in seen["sets"] and seen["sets"][THEMES_PARENT]
    assert {c.path for c in read_qdc(tmp_path / "book.qdc")[0]} == set(book.paths)
    rows = read_excerpts_csv(tmp_path / "coded.csv")[1]
    assert len(rows) == len(project.selections)
    # And the exported coding reads back as coding the code stage can learn from again.
    again = read_coding(tmp_path / "coded.csv")[1]
    assert {c for e in again for c in e.codes} >= set(table["code"])


def test_evaluate_coding_command(coded, tmp_path, cli):
    out, _, _, _ = coded
    gold = _write_coding(tmp_path / "gold.csv", {r["interview"] for r in _gold_rows()})
    figures = tmp_path / "figures.json"
    result = cli(
        "evaluate", "coding", "--out", out, "--gold", gold, "--no-end-to-end", "--json", figures
    )
    assert result.exit_code == 0, result.stderr
    assert "given the excerpts" in result.stdout and "baseline" in result.stdout
    data = json.loads(figures.read_text())
    coder = data["given_excerpts"]["coder"]["single"]["strict"]
    assert 0 < coder["kappa"] <= 1 and data["gold"]["located"] >= 0.95 * data["gold"]["excerpts"]
    missing = cli("evaluate", "coding", "--out", out, "--gold", tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "nope.csv" in missing.stderr
