"""The Coder against researchers' coding on the real corpora (prints figures, asserts nothing).

For every corpus of ../shared/corpora that has a coding (serdif: coded-excerpts.csv and
codebook.csv; oral-history: the codes of its tagged transcripts, ``gold = "turns"``, and
codebook.csv), runs :func:`pipeline.evaluate.coding.evaluate_coding` on an output folder of
that corpus and prints :func:`~pipeline.evaluate.coding.format_coding`: leave one
interview out, the Coder beside the logistic-regression baseline given the excerpts, and
the Coder end to end (finding the excerpts too).

The output folder is ``--out-root/NAME`` when it holds embeddings (e.g. a finished
``insights run``), else ``--work/NAME``, made here with ``insights ingest``, ``passages`` and
``embed`` (skipped when current).

    .venv/bin/python bench/coding_eval.py                          # every corpus present
    .venv/bin/python bench/coding_eval.py --only serdif --out-root /tmp/rc
    .venv/bin/python bench/coding_eval.py --json coding.json --no-end-to-end
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"

# name -> (gold relative to the corpus folder, or "turns"; codebook relative to it or None)
GOLD = {
    "serdif": ("coding/coded-excerpts.csv", "coding/codebook.csv"),
    "oral-history": ("turns", "codebook.csv"),
}


def _insights(*args: str) -> None:
    exe = Path(sys.executable).with_name("insights")
    cmd = [str(exe) if exe.exists() else "insights", *args, "--quiet"]
    subprocess.run(cmd, check=True, cwd=REPO)


def output_folder(name: str, raw: Path, out_root: Path | None, work: Path) -> Path:
    if out_root is not None and (out_root / name / "embeddings.npy").is_file():
        return out_root / name
    out = work / name
    _insights("ingest", str(raw), "--out", str(out))
    _insights("passages", "--out", str(out))
    _insights("embed", "--out", str(out))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", type=Path, default=CORPORA)
    ap.add_argument("--out-root", type=Path, default=None, help="folders of finished runs")
    ap.add_argument("--work", type=Path, default=Path("/tmp/coding-eval"))
    ap.add_argument("--only", action="append", help="a corpus name (repeatable)")
    ap.add_argument("--json", type=Path, default=None, help="write every figure here")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-end-to-end", action="store_true")
    ap.add_argument("--no-per-code", action="store_true", help="leave out the per-code tables")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    from pipeline.core.config import load_config
    from pipeline.evaluate.coding import evaluate_coding, format_coding

    config = load_config()
    figures = {}
    for name, (gold, codebook) in GOLD.items():
        if args.only and name not in args.only:
            continue
        corpus = args.corpora / name
        if not (corpus / "raw").is_dir():
            print(f"## {name}: not found under {args.corpora}\n")
            continue
        start = time.perf_counter()
        out = output_folder(name, corpus / "raw", args.out_root, args.work)
        print(f"## {name} ({out})\n")
        result = evaluate_coding(
            out,
            config,
            gold=gold if gold == "turns" else corpus / gold,
            codebook=corpus / codebook if codebook and (corpus / codebook).is_file() else None,
            baseline=not args.no_baseline,
            end_to_end=not args.no_end_to_end,
        )
        print(format_coding(result, per_code=not args.no_per_code))
        print(f"\n({time.perf_counter() - start:.0f} s with the run)\n")
        figures[name] = result
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
