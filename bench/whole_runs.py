"""Whole commands timed as a user runs them: the targets of bench/benchmark.py's first part.

Every figure is one command in its own process, timed from the outside (wall seconds)
with its peak resident memory read from ``/proc/PID/status`` (VmHWM, sampled every 0.1 s
while it runs; the process's own peak, not its parent's). Stage seconds come from the
lineage records the run writes (``OUT/lineage/<stage>.json``, field ``seconds``).

- ``plain``: bench/plain_bertopic.py, the approach a user would try first;
- ``cold``: ``insights run RAW`` on an empty out folder;
- ``warm``: the same command again, nothing changed;
- ``plus_one``: ``insights run`` on a folder that was run without one interview, after
  putting it back (the run without it is set-up, not timed);
- ``scaling``: every stage as its own command on synthetic corpora made from RAW's
  conversations repeated 1x, 2x, 4x, 8x (copies have their sentences rotated within each
  turn, so the copies' passages are new texts for the embedding cache).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PLAIN = REPO / "bench" / "plain_bertopic.py"
TEXT_SUFFIXES = {".md", ".txt", ".markdown"}


def _hwm_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


def timed(cmd: list[str], log: Path | None = None) -> dict[str, Any]:
    """Run ``cmd``; its wall seconds, peak RSS (MB), return code and the end of its stderr."""
    start = time.perf_counter()
    err = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _hwm_mb(proc.pid) or 0.0)
            time.sleep(0.1)
        out = proc.stdout.read() if proc.stdout else ""
    finally:
        if log:
            err.close()
    wall = time.perf_counter() - start
    result = {"wall_s": round(wall, 2), "peak_rss_mb": round(peak), "rc": proc.returncode}
    if proc.returncode:
        result["error"] = (log.read_text()[-2000:] if log else "") or out[-2000:]
    result["stdout"] = out[-4000:]
    return result


def insights(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def stage_seconds(out: Path, since: float) -> dict[str, float | str]:
    """Seconds of each stage recorded after ``since`` (epoch); 'up to date' for the others."""
    figures: dict[str, float | str] = {}
    for record in sorted((out / "lineage").glob("*.json")):
        data = json.loads(record.read_text())
        fresh = record.stat().st_mtime >= since
        figures[data["stage"]] = data.get("seconds", "?") if fresh else "up to date"
    return figures


def _run(raw: Path, out: Path, logs: Path, name: str, extra: list[str]) -> dict[str, Any]:
    since = time.time()
    result = timed(insights("run", str(raw), "--out", str(out), *extra), logs / f"{name}.log")
    result["stages"] = stage_seconds(out, since)
    return result


def interview_files(raw: Path) -> list[str]:
    """The files under ``raw`` the ingest stage reads as conversations (relative, in order)."""
    from pipeline import ingest
    from pipeline.ingest.formats import SUPPORTED
    from pipeline.ingest.metadata import METADATA_FILE

    files = [p.relative_to(raw).as_posix() for p in ingest.discover(raw)]
    return [
        f
        for f in files
        if f != METADATA_FILE
        and Path(f).suffix.lower() in SUPPORTED
        and not Path(f).name.startswith(".")
    ]


def default_leave_out(raw: Path) -> Path:
    files = interview_files(raw)
    if not files:
        raise ValueError(f"no interview file in {raw}")
    return Path(files[-1])


def whole_runs(
    raw: Path, tmp: Path, extra: list[str], leave_out: str | None = None, plus_one: bool = True
) -> dict[str, Any]:
    """Plain baseline, cold, warm and +1 runs of ``insights run`` on ``raw``, with ratios."""
    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {}
    print("[bench] targets: plain BERTopic approach ...", file=sys.stderr, flush=True)
    plain = timed([sys.executable, str(PLAIN), str(raw)], logs / "plain.log")
    try:
        plain["figures"] = json.loads(plain["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        plain["figures"] = {}
    res["plain"] = plain
    print("[bench] targets: cold insights run ...", file=sys.stderr, flush=True)
    res["cold"] = _run(raw, tmp / "out-full", logs, "cold", extra)
    print("[bench] targets: warm insights run ...", file=sys.stderr, flush=True)
    res["warm"] = _run(raw, tmp / "out-full", logs, "warm", extra)
    if plus_one:
        left = Path(leave_out) if leave_out else default_leave_out(raw)
        partial = tmp / "raw-minus-one"
        shutil.copytree(raw, partial)
        (partial / left).unlink()
        print(f"[bench] targets: set-up run without {left} ...", file=sys.stderr, flush=True)
        res["setup"] = _run(partial, tmp / "out-inc", logs, "setup", extra)
        shutil.copy2(raw / left, partial / left)
        print("[bench] targets: run with it put back ...", file=sys.stderr, flush=True)
        res["plus_one"] = _run(partial, tmp / "out-inc", logs, "plus_one", extra)
        res["plus_one"]["interview"] = str(left)
    cold = res["cold"]["wall_s"]
    res["ratios"] = {
        "cold / plain": round(cold / plain["wall_s"], 3) if plain["wall_s"] else None,
        "warm / cold": round(res["warm"]["wall_s"] / cold, 3),
        **(
            {"plus_one / cold": round(res["plus_one"]["wall_s"] / cold, 3)}
            if "plus_one" in res
            else {}
        ),
    }
    return res


# --- the scaling curve ---------------------------------------------------------


def _rotate_sentences(text: str, k: int) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(sentences) < 2:
        return text
    k %= len(sentences)
    return " ".join(sentences[k:] + sentences[:k])


def _copy_text_file(src: Path, dst: Path, k: int) -> None:
    """A copy whose turns keep their speakers and order but say their sentences rotated by k."""
    lines = src.read_text(encoding="utf-8", errors="replace").splitlines()
    out = []
    for line in lines:
        head, sep, body = line.partition(": ")
        if sep and len(head) <= 40 and not head.startswith("#"):
            out.append(head + sep + _rotate_sentences(body, k))
        else:
            out.append(_rotate_sentences(line, k) if len(line.split()) > 12 else line)
    dst.write_text("\n".join(out) + "\n", encoding="utf-8")


def repeated_corpus(raw: Path, dest: Path, factor: int) -> int:
    """RAW's text conversations repeated ``factor`` times (copy 0 as it is); files written."""
    dest.mkdir(parents=True)
    sources = sorted(p for p in raw.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
    written = 0
    for k in range(factor):
        for src in sources:
            target = dest / f"copy{k}" / src.relative_to(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            if k == 0:
                shutil.copy2(src, target)
            else:
                _copy_text_file(src, target, k)
            written += 1
    return written


def scaling(
    raw: Path, tmp: Path, factors: tuple[int, ...], stages: tuple[str, ...], extra: list[str]
) -> dict[str, Any]:
    """Time and peak RSS of each stage, each its own command, on RAW repeated 1x..8x."""
    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    curve: dict[str, Any] = {}
    for factor in factors:
        corpus = tmp / f"raw-x{factor}"
        files = repeated_corpus(raw, corpus, factor)
        out = tmp / f"out-x{factor}"
        row: dict[str, Any] = {"files": files}
        print(f"[bench] scaling x{factor}: {files} files ...", file=sys.stderr, flush=True)
        for name in stages:
            args = [name, str(corpus)] if name == "ingest" else [name]
            row[name] = timed(
                insights(*args, "--out", str(out), "--force", *extra),
                logs / f"x{factor}-{name}.log",
            )
            row[name].pop("stdout", None)
        passages = out / "passages.parquet"
        if passages.is_file():
            import pandas as pd

            row["n_passages"] = len(pd.read_parquet(passages, columns=["passage_id"]))
        curve[f"x{factor}"] = row
    return curve


# --- printing -------------------------------------------------------------------

TARGETS = {"cold / plain": 0.75, "warm / cold": 0.05, "plus_one / cold": 0.25}
RSS_TARGET_MB = 2048


def _stages_line(stages: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {v:.1f} s" if isinstance(v, int | float) else f"{k} {v}" for k, v in stages.items()
    )


def render(res: dict[str, Any]) -> list[str]:
    """The targets part of the benchmark's printout."""
    lines = ["0. Whole commands, as a user runs them (each its own process)"]
    plain = res["plain"]
    figures = plain.get("figures", {})
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in figures.get("steps_s", {}).items())
    lines.append(
        f"  plain approach (sentences, MiniLM batch 64, BERTopic()): {plain['wall_s']:.1f} s, "
        f"peak {plain['peak_rss_mb']} MB; {figures.get('sentences', '?')} sentences, "
        f"{figures.get('topics', '?')} topics, {figures.get('outlier_share', 0):.0%} outliers"
    )
    if steps:
        lines.append(f"    {steps}")
    for key, label in (
        ("cold", "insights run, cold"),
        ("warm", "insights run, warm (nothing changed)"),
        ("plus_one", "insights run, one interview added"),
    ):
        if key not in res:
            continue
        run = res[key]
        extra = f" ({run['interview']})" if "interview" in run else ""
        status = "" if not run.get("rc") else f"  FAILED rc={run['rc']}"
        lines.append(
            f"  {label}{extra}: {run['wall_s']:.1f} s, peak {run['peak_rss_mb']} MB{status}"
        )
        lines.append(f"    {_stages_line(run.get('stages', {}))}")
    lines.append("  target                 measured  target  met")
    for key, value in res["ratios"].items():
        goal = TARGETS.get(key)
        met = "-" if value is None or goal is None else ("yes" if value <= goal else "no")
        lines.append(f"  {key:<20} {value!s:>10}  {goal!s:>6}  {met}")
    peak = max(res[k]["peak_rss_mb"] for k in ("cold", "warm", "plus_one") if k in res)
    lines.append(
        f"  {'peak RSS (MB)':<20} {peak:>10}  {RSS_TARGET_MB:>6}  "
        f"{'yes' if peak <= RSS_TARGET_MB else 'no'}"
    )
    return lines


def render_scaling(curve: dict[str, Any], stages: tuple[str, ...]) -> list[str]:
    lines = ["0b. Scaling: each stage its own command, corpus repeated (seconds / peak MB)"]
    header = f"  {'corpus':<8} {'files':>5} {'passages':>8}  " + "  ".join(
        f"{s:>14}" for s in stages
    )
    lines.append(header)
    base = None
    for name, row in curve.items():
        cells = []
        for s in stages:
            r = row.get(s, {})
            cells.append(f"{r.get('wall_s', 0):>7.1f}/{r.get('peak_rss_mb', 0):>5}M")
        total = sum(row.get(s, {}).get("wall_s", 0) for s in stages)
        base = base or total
        lines.append(
            f"  {name:<8} {row['files']:>5} {row.get('n_passages', '?')!s:>8}  "
            + "  ".join(f"{c:>14}" for c in cells)
            + f"   total {total:.1f} s ({total / base:.2f}x)"
        )
    return lines
