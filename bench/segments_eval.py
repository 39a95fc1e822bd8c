"""Sections on real interviews against the hand-labelled gold (prints figures, asserts nothing).

Gold: ``data/gold/real/sections-*.csv`` (labels written before any tuning; see the
LABELLING-*.md beside them). Needs output folders made by ``bench/real_corpora.py``
(``WORK/founders-talk``, ``WORK/mismatches``); each is copied, then ``insights segment``
runs on the copy with each guide, and ``insights evaluate segments`` scores it on the
tuning part of the gold, the held-out part and all of it, beside the position-only and
question-similarity baselines:

- founders-talk, the built-in past/present/future guide;
- mismatches, the guide written by hand from the protocol (data/gold/real/guides/);
- mismatches, the guide ``insights guide from-protocol`` makes from the study's protocol,
  unedited except that its sections are renamed to the hand guide's names (the mapping
  below, fixed before scoring; sections for later rounds keep their names and so count
  as wrong on round-1 gold);
- mismatches, the guide ``insights guide suggest`` finds (its names are its own, so only
  its fit is printed, and accuracy with each found section mapped to its commonest gold
  section, an upper bound).

    .venv/bin/python bench/segments_eval.py --work /tmp/real-corpora
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "data" / "gold" / "real"
PROTOCOL = REPO.parent / "shared" / "corpora" / "mismatches" / "interview-protocol.md"
# The weights were set on these conversations; the others are held out.
TUNE = {"founders-talk-57", "founders-talk-7", "donald-1-full", "ernest-1-full", "jackie-1-full"}
# from-protocol's section names -> the hand guide's, by what each protocol item asks.
PROTOCOL_NAMES = {
    "briefing": "briefing",
    "involvement": "involvement",
    "well-maintained-sustainable": "sustainability",
    "responsible-elements": "responsibility",
    "elements": "assessment",
    "better-elements": "improvement",
    "people-assessment": "perspectives",
    "open-licensing-closing": "closing",
}
SYSTEMS = ("interview-insights", "position only", "question similarity only")


def insights(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("insights")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=False)


def gold_parts(gold: Path, tmp: Path) -> dict[str, Path]:
    table = pd.read_csv(gold)
    parts = {
        "tuning": table[table.interview.isin(TUNE)],
        "held out": table[~table.interview.isin(TUNE)],
        "all": table,
    }
    out = {}
    for name, part in parts.items():
        path = tmp / f"{gold.stem}-{name.replace(' ', '-')}.csv"
        part.to_csv(path, index=False)
        out[name] = path
    return out


def score(out: Path, guide: Path | None, gold: Path, tmp: Path) -> dict:
    args = ["-o", str(out), "-q"] + (["-g", str(guide)] if guide else [])
    done = insights("segment", *args, "--set", "segment.suggest_when_poor=false")
    if done.returncode:
        raise SystemExit(f"segment failed: {done.stderr[-400:]}")
    results = {}
    for part, path in gold_parts(gold, tmp).items():
        target = tmp / "eval.json"
        ev = insights("evaluate", "segments", *args, "--gold", str(path), "--json", str(target))
        if ev.returncode:
            raise SystemExit(f"evaluate failed: {ev.stderr[-400:]}")
        results[part] = json.loads(target.read_text())
    return results


def print_table(title: str, results: dict) -> None:
    print(f"\n### {title}\n")
    print("| part | turns | " + " | ".join(f"{s} acc / F1" for s in SYSTEMS) + " |")
    print("|---|---:|" + "---:|" * len(SYSTEMS))
    for part, r in results.items():
        cells = [f"{r[s]['accuracy']:.3f} / {r[s]['macro_f1']:.3f}" for s in SYSTEMS]
        print(f"| {part} | {r['located']} | " + " | ".join(cells) + " |")


def renamed_protocol_guide(tmp: Path) -> Path:
    made = tmp / "protocol-guide.yaml"
    done = insights("guide", "from-protocol", str(PROTOCOL), "--write", str(made), "-q")
    if done.returncode:
        raise SystemExit(f"from-protocol failed: {done.stderr[-400:]}")
    guide = yaml.safe_load(made.read_text())
    for s in guide["sections"]:
        s["name"] = PROTOCOL_NAMES.get(s["name"], s["name"])
    target = tmp / "protocol-guide-renamed.yaml"
    target.write_text(yaml.safe_dump(guide, sort_keys=False), encoding="utf-8")
    print(f"from-protocol sections: {', '.join(s['name'] for s in guide['sections'])}")
    return target


def suggested(out: Path, gold: Path, tmp: Path) -> None:
    target = tmp / "suggested.yaml"
    done = insights("guide", "suggest", "-o", str(out), "--write", str(target), "-q")
    if done.returncode:
        print(f"guide suggest: {done.stderr.strip()[-300:]}")
        return
    names = [s["name"] for s in yaml.safe_load(target.read_text())["sections"]]
    insights("segment", "-o", str(out), "-g", str(target), "-q")
    info = json.loads((out / "segments.json").read_text())
    seg = pd.read_parquet(out / "segments.parquet")
    seg = seg[seg.unit == "turn"][["interview_id", "turn_index", "section"]]
    g = pd.read_csv(gold)
    g = g[g.section != "-"].merge(
        seg, left_on=["interview", "turn"], right_on=["interview_id", "turn_index"]
    )
    majority = g.groupby("section_y")["section_x"].agg(lambda s: s.value_counts().index[0])
    upper = (g["section_y"].map(majority) == g["section_x"]).mean()
    print("\n### mismatches, guide found by `insights guide suggest`\n")
    print(f"sections: {', '.join(names)}")
    print(f"fit: {json.dumps({k: info['fit'][k] for k in ('share', 'mean_confidence', 'poor')})}")
    print(f"accuracy with each found section mapped to its commonest gold section: {upper:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/real-corpora"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        copies = {}
        for corpus in ("founders-talk", "mismatches"):
            source = args.work / corpus
            if not (source / "embeddings.npy").is_file():
                raise SystemExit(f"{source}: run bench/real_corpora.py --work {args.work} first")
            copies[corpus] = tmp / corpus
            shutil.copytree(source, copies[corpus])
        ft = GOLD / "sections-founders-talk.csv"
        mm = GOLD / "sections-mismatches.csv"
        print_table("founders-talk, built-in guide", score(copies["founders-talk"], None, ft, tmp))
        hand = GOLD / "guides" / "mismatches-round1.yaml"
        print_table("mismatches, guide written by hand", score(copies["mismatches"], hand, mm, tmp))
        if PROTOCOL.is_file():
            guide = renamed_protocol_guide(tmp)
            print_table(
                "mismatches, guide from `insights guide from-protocol`",
                score(copies["mismatches"], guide, mm, tmp),
            )
            suggested(copies["mismatches"], mm, tmp)


if __name__ == "__main__":
    main()
