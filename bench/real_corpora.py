"""The report checks on every real corpus, side by side (prints figures, asserts nothing).

Runs ``insights run RAW --out WORK/NAME`` on each corpus of ../shared/corpora that is present
(founders-talk, mismatches, serdif, oral-history; each has a raw/ folder) and on the bundled
sample (data/raw), then ``insights evaluate report --out WORK/NAME --json`` on each, and prints
one markdown table with a column per corpus: every check's figure, the run time and whether
the run failed (with the reason: a corpus whose format is not supported yet does not stop the
others). An output folder whose stages are current is not redone (``insights run`` skips
them), so a second run only re-evaluates; pass --force for cold times.

    .venv/bin/python bench/real_corpora.py                      # every corpus, ~15 min on 2 cores
    .venv/bin/python bench/real_corpora.py --only sample        # the sample alone, ~2 min
    .venv/bin/python bench/real_corpora.py --skip-run --work /tmp/real-corpora   # evaluate only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"
CORPUS_NAMES = ("founders-talk", "mismatches", "serdif", "oral-history")
SAMPLE = "sample"


@dataclass
class Corpus:
    name: str
    raw: Path


@dataclass
class Outcome:
    """What happened to one corpus: ``status`` ok, failed, missing or not run."""

    name: str
    status: str
    reason: str = ""
    run_s: float | None = None
    evaluate_s: float | None = None
    evaluation: dict[str, Any] | None = None
    out: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def corpora(root: Path = CORPORA, only: list[str] | None = None) -> list[Corpus]:
    """The corpora to run, in a fixed order: the sample first, then every known corpus.

    A corpus is listed even when its folder is missing (it shows as missing in the table).
    ``only`` keeps those names (an unknown name is looked for under ``root`` too).
    """
    names = [SAMPLE, *CORPUS_NAMES]
    if only:
        names = [n for n in names if n in only] + [n for n in only if n not in names]
    return [
        Corpus(n, REPO / "data" / "raw" if n == SAMPLE else Path(root) / n / "raw") for n in names
    ]


def _insights(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def _last_error(text: str, limit: int = 160) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    line = (errors or lines or ["(no message)"])[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def run_corpus(corpus: Corpus, work: Path, skip_run: bool, force: bool) -> Outcome:
    """Run the pipeline on one corpus (unless ``skip_run``), then evaluate its report."""
    out = work / corpus.name
    outcome = Outcome(corpus.name, "ok", out=str(out))
    if not corpus.raw.is_dir():
        outcome.status, outcome.reason = "missing", f"no raw folder {corpus.raw}"
        return outcome
    env = {**os.environ, "COLUMNS": "200"}
    if not skip_run:
        print(f"[bench] {corpus.name}: insights run {corpus.raw} ...", file=sys.stderr, flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        cmd = _insights("run", str(corpus.raw), "--out", str(out), "-q", *(["--force"] * force))
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        outcome.run_s = time.perf_counter() - started
        (work / f"{corpus.name}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            outcome.status = "failed"
            outcome.reason = f"run exit {done.returncode}: {_last_error(done.stderr + done.stdout)}"
            return outcome
    if not (out / "report" / "report.json").is_file():
        outcome.status = "not run" if skip_run else "failed"
        outcome.reason = f"no report in {out}" + (" (run without --skip-run)" if skip_run else "")
        return outcome
    started = time.perf_counter()
    done = subprocess.run(
        _insights("evaluate", "report", "--out", str(out), "--json"),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    outcome.evaluate_s = time.perf_counter() - started
    if done.returncode != 0:
        outcome.status = "failed"
        outcome.reason = f"evaluate exit {done.returncode}: {_last_error(done.stderr)}"
        return outcome
    try:
        outcome.evaluation = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        outcome.status, outcome.reason = "failed", f"evaluate printed no JSON: {exc}"
    return outcome


# ------------------------------------------------------------------ the table


def _cell(check: dict | None) -> str:
    if check is None:
        return "-"
    value, target = check.get("value"), str(check.get("target", ""))
    if value is None:
        return "n/a"
    shown = (
        f"{value:.0%}"
        if "%" in target
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )
    n = check.get("n")
    if "%" in target and n is not None:
        shown += f" of {n}"
    passed = check.get("passed")
    return shown if passed is None else f"{shown} {'✓' if passed else '✗'}"


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def table(outcomes: list[Outcome]) -> str:
    """One markdown table: a row per check (in the order the first report gives them), a column
    per corpus, plus a target column; then the run's status, time and size."""
    names = [o.name for o in outcomes]
    checks: list[str] = []
    targets: dict[str, str] = {}
    for o in outcomes:
        for c in (o.evaluation or {}).get("checks", []):
            if c["check"] not in targets:
                checks.append(c["check"])
                targets[c["check"]] = str(c.get("target", ""))
    by_name = {
        o.name: {c["check"]: c for c in (o.evaluation or {}).get("checks", [])} for o in outcomes
    }
    rows = [["check", "target", *names], ["---", "---", *["---"] * len(names)]]
    status = []
    for o in outcomes:
        text = o.status if o.status == "ok" else f"**{o.status}**: {o.reason}"
        status.append(text.replace("|", "\\|"))
    rows.append(["run", "", *status])
    rows.append(["run time", "", *(_fmt_s(o.run_s) for o in outcomes)])
    counts = [(o.evaluation or {}).get("counts", {}) for o in outcomes]
    for key, label in (
        ("conversations", "conversations"),
        ("takeaways", "findings"),
        ("section_themes", "section themes"),
        ("quotes", "quotes"),
    ):
        rows.append([label, "", *(str(c.get(key, "-")) for c in counts)])
    for name in checks:
        rows.append([name, targets[name], *(_cell(by_name[n].get(name)) for n in names)])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def failures(outcomes: list[Outcome], per_check: int = 3) -> str:
    """The first offending items of each failed check, per corpus (for the developer)."""
    out = []
    for o in outcomes:
        for c in (o.evaluation or {}).get("checks", []):
            if c.get("passed") is not False:
                continue
            for item in c.get("examples", [])[:per_check]:
                text = " ".join(str(item.get("text", "")).split())
                text = text if len(text) <= 90 else text[:87] + "..."
                out.append(f"- {o.name} / {c['check']}: {text!r}: {item.get('reason')}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this corpus (repeatable): {SAMPLE}, {', '.join(CORPUS_NAMES)}",
    )
    parser.add_argument(
        "--skip-run", action="store_true", help="evaluate the outputs already in --work"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/real-corpora"),
        help="folder for the outputs, one per corpus (default /tmp/real-corpora)",
    )
    parser.add_argument(
        "--corpora",
        type=Path,
        default=CORPORA,
        help=f"folder holding the corpora (default {CORPORA})",
    )
    parser.add_argument("--force", action="store_true", help="redo every stage (cold times)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)

    work = args.work.expanduser().resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    outcomes = []
    for corpus in corpora(args.corpora, args.only):
        try:
            outcomes.append(run_corpus(corpus, work, args.skip_run, args.force))
        except Exception as exc:  # one corpus must not hide the others
            outcomes.append(Outcome(corpus.name, "failed", f"{type(exc).__name__}: {exc}"))
    print(f"Report checks on real corpora (outputs in {work}; ✓ pass, ✗ fail)\n")
    print(table(outcomes))
    shown = failures(outcomes)
    if shown:
        print("\nFirst offending items per failed check:\n")
        print(shown)
    print(f"\nbench wall time: {_fmt_s(time.perf_counter() - started)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = [o.__dict__ for o in outcomes]
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
