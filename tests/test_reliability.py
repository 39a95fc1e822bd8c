"""Stage contracts, atomic stages, the output lock and the run log: a run that is
killed, interrupted or doubled up never leaves the user with broken outputs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SAMPLE_RAW, invoke, run_cli
from factories import tree_snapshot

from pipeline import passages
from pipeline.core import lineage
from pipeline.core.atomic import atomic_path, defer, remove_leftovers, together
from pipeline.core.catalog import PASSAGES, ArtifactError, output_folders, read_table, write_text
from pipeline.core.config import Config, load_config
from pipeline.core.outlock import OutputLocked, hold
from pipeline.core.registry import RUN_ORDER

STAGES = RUN_ORDER  # the stages of `insights run`, from the registry


# --- stage contracts ------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_stage_records_what_it_wrote_and_it_checks_out(reported):
    for stage in STAGES:
        record = lineage.require(reported, stage, Config())
        assert record["outputs"], stage
        assert all((reported / name).exists() for name in record["outputs"])
    assert "themes_model" in lineage.require(reported, "themes")["outputs"]


@pytest.mark.slow
def test_an_edited_output_is_refused_with_the_command_that_remakes_it(themed_copy):
    table = read_table(PASSAGES, themed_copy)
    # A valid schema, one row short.
    table.iloc[:-1].to_parquet(themed_copy / "passages.parquet", index=False)
    with pytest.raises(
        ArtifactError,
        match=r"passages.parquet is not what `insights passages` last wrote"
        r".*run `insights passages` again",
    ):
        lineage.require(themed_copy, "themes", Config())


@pytest.mark.slow
def test_outputs_made_from_older_upstream_outputs_are_refused(themed_copy):
    cfg = load_config(None, ["passages.max_words=30"])
    passages.run(themed_copy, cfg)  # passages remade; embeddings still belong to the old ones
    with pytest.raises(
        ArtifactError,
        match=r"embeddings.npy was made from older passages.parquet: run `insights embed` again",
    ):
        lineage.require(themed_copy, "embed", cfg)


@pytest.mark.slow
def test_outputs_made_with_other_settings_get_a_warning_naming_them(reported, caplog):
    # The report reads the themes and the segments: checking it checks their settings too.
    other = ["themes.k_min=5", "segment.guide=pipeline/segment/guides/default.yaml"]
    lineage.require(reported, "report", load_config(None, other))
    said = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "themes.parquet was made with other settings (themes.k_min)" in said
    assert "segments.parquet was made with other settings (segment.guide)" in said
    caplog.clear()
    # report.takeaways is not a themes setting
    lineage.require(reported, "themes", load_config(None, ["report.takeaways=6"]))
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_ctrl_c_during_the_renames_waits_until_they_are_done(tmp_path):
    write_text("old a", tmp_path / "a.txt")
    write_text("old b", tmp_path / "b.txt")
    with pytest.raises(KeyboardInterrupt), together():
        write_text("new a", tmp_path / "a.txt")
        defer(
            tmp_path / "x", tmp_path / "x", lambda: os.kill(os.getpid(), signal.SIGINT)
        )  # Ctrl-C mid-commit
        write_text("new b", tmp_path / "b.txt")
    assert (tmp_path / "a.txt").read_text() == "new a" and (
        tmp_path / "b.txt"
    ).read_text() == "new b"


def test_a_stage_on_missing_inputs_says_which_command_to_run(tmp_path, cli):
    proc = cli("themes", "--out", tmp_path / "nothing")
    assert proc.returncode == 1
    said = " ".join(proc.stderr.split())
    assert "turns.parquet is missing: run `insights ingest RAW_DIR` first" in said
    assert "Traceback" not in proc.stderr


# --- atomic batches -------------------------------------------------------------------------------


def test_a_failed_batch_changes_nothing_and_leaves_no_temporaries(tmp_path):
    write_text("old a", tmp_path / "a.txt")
    write_text("old b", tmp_path / "b.txt")
    with pytest.raises(RuntimeError), together():
        write_text("new a", tmp_path / "a.txt")
        write_text("new b", tmp_path / "b.txt")
        assert (tmp_path / "a.txt").read_text() == "old a"  # nothing visible before the end
        raise RuntimeError("stage failed")
    assert (tmp_path / "a.txt").read_text() == "old a" and (
        tmp_path / "b.txt"
    ).read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    with together():
        write_text("new a", tmp_path / "a.txt")
        with atomic_path(tmp_path / "cache.bin", now=True) as tmp:
            tmp.write_bytes(b"kept at once")
        assert (tmp_path / "cache.bin").is_file() and (tmp_path / "a.txt").read_text() == "old a"
    assert (tmp_path / "a.txt").read_text() == "new a"


def test_leftovers_of_a_killed_run_are_swept_and_a_half_swapped_folder_is_put_back(tmp_path):
    (tmp_path / ".turns.parquet.abc123xy.tmp").write_bytes(b"half")
    (tmp_path / ".themes_model.x1y2z3w4.tmp").mkdir()
    (tmp_path / ".themes_model.old.tmp").mkdir()
    (tmp_path / ".themes_model.old.tmp" / "topics.json").write_text("{}")
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / ".report.json.k9k9k9k9.tmp").write_text("half")
    (tmp_path / "notes.tmp").write_text("not ours")  # not one of our temporaries
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / ".draft.md.abc123xy.tmp").write_text(
        "a folder of yours in OUT is not swept"
    )
    remove_leftovers(tmp_path, output_folders())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mine",
        "notes.tmp",
        "report",
        "themes_model",
    ]
    assert (tmp_path / "themes_model" / "topics.json").is_file()
    assert (
        not list((tmp_path / "report").iterdir()) and len(list((tmp_path / "mine").iterdir())) == 1
    )


# --- the output lock ------------------------------------------------------------------------------

HOLDER = """
import select, sys
from pipeline.core.outlock import hold
with hold(sys.argv[1], 0):
    print("held", flush=True)
    # until told to let go, or the time is up
    select.select([sys.stdin], [], [], float(sys.argv[2]))
"""


def _hold_in_subprocess(out: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out), str(seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.slow
def test_a_second_run_on_the_same_output_folder_is_refused_with_the_holder_named(tmp_path):
    out = tmp_path / "out"
    holder = _hold_in_subprocess(out, 60)
    try:
        proc = run_cli("ingest", SAMPLE_RAW, "--out", out, "--set", "output.lock_timeout_s=0")
        message = " ".join(proc.stderr.split())
        assert proc.returncode == 1
        assert f"is in use by another insights run (pid {holder.pid}" in message
        assert not (out / "turns.parquet").exists()
        with pytest.raises(OutputLocked), hold(out, 0):
            pass
    finally:
        holder.kill()
        holder.wait()
    with hold(out, 0):  # a killed holder leaves no stale lock
        pass


@pytest.mark.slow
def test_a_second_run_waits_for_the_first_to_finish(tmp_path):
    out = tmp_path / "out"
    holder = _hold_in_subprocess(out, 120)
    second = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "ingest",
            str(SAMPLE_RAW / "round-1"),
            "--out",
            str(out),
            "--set",
            "output.lock_timeout_s=120",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        said = ""
        while "waiting up to 120 s" not in said:  # the second run is waiting, and says so
            line = second.stderr.readline()
            assert line, f"the second run ended without waiting: {said}"
            said += line
        assert not (out / "turns.parquet").exists()
        holder.communicate("let go\n", timeout=30)  # the first run finishes
        said += second.communicate(timeout=300)[1]
    finally:
        holder.kill()
        second.kill()
    assert second.returncode == 0, said
    assert (out / "turns.parquet").is_file()


# --- the run log ----------------------------------------------------------------------------------


def test_run_log_keeps_every_warning_with_its_file(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW / "round-1", raw)
    (raw / "empty.txt").write_text("")
    (raw / "notes.xyz").write_text("what format is this")
    out = tmp_path / "out"
    proc = invoke("ingest", raw, "--out", out, "-q")
    assert proc.returncode == 0, proc.stderr
    log = (out / "run.log").read_text(encoding="utf-8")
    assert "start: insights ingest" in log and log.rstrip().endswith("done")
    assert "WARNING" in log and "empty.txt: skipped: empty file" in log
    assert "notes.xyz: skipped: unsupported format '.xyz'" in log
    invoke("ingest", raw, "--out", out, "-q")
    assert (out / "run.log").read_text(encoding="utf-8").startswith(log)  # appended, not replaced


# --- killed runs ----------------------------------------------------------------------------------


def _small_raw(root: Path, extra: bool) -> Path:
    raw = root / ("raw-b" if extra else "raw-a")
    raw.mkdir(parents=True)
    for name in ("call-01-maria.md", "call-02-dev.txt", "call-05-priya.md"):
        shutil.copy(SAMPLE_RAW / "round-1" / name, raw / name)
    if extra:
        shutil.copy(SAMPLE_RAW / "round-2" / "call-06-kenji.md", raw / "call-06-kenji.md")
    return raw


# The kill test's runs: one UMAP layout to judge k by (what it tests does not depend on k).
QUICK = ("--set", "themes.k_layouts=1")


def _start(raw: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", str(raw), "--out", str(out), "-q", *QUICK],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def _wait_for(proc: subprocess.Popen, found, what: str, limit_s: float = 240) -> None:
    deadline = time.monotonic() + limit_s
    while not found():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.002)


def _log_has(out: Path, text: str, since: int):
    def found() -> bool:
        path = out / "run.log"
        return path.is_file() and text in path.read_text(encoding="utf-8")[since:]

    return found


def _temporary(out: Path, prefix: str):
    return lambda: any(p.name.startswith(prefix) and p.name.endswith(".tmp") for p in out.iterdir())


def _outputs(out: Path) -> dict[str, str]:
    return {
        k: v
        for k, v in tree_snapshot(out).items()
        if not k.startswith(("cache/", "lineage/")) and k != "cache" and not k.endswith(".tmp")
    }


def _stage_outputs(snapshot: dict[str, str], out: Path, stage: str) -> dict[str, str]:
    names = (
        lineage.whole(out, stage)["outputs"]
        if (out / lineage.LINEAGE_DIR / f"{stage}.json").exists()
        else {}
    )
    return {
        k: v for k, v in snapshot.items() if any(k == n or k.startswith(n + "/") for n in names)
    }


@pytest.mark.slow
def test_a_run_killed_in_any_stage_keeps_the_previous_outputs_and_the_next_run_completes(tmp_path):
    raw_a, raw_b = _small_raw(tmp_path, False), _small_raw(tmp_path, True)
    out = tmp_path / "out"
    # Only the runs that are killed need a process of their own; the others run here, with
    # the models this process has loaded already.
    assert invoke("run", raw_a, "--out", out, "-q", *QUICK).returncode == 0
    previous = _outputs(out)
    previous_by_stage = {s: _stage_outputs(previous, out, s) for s in STAGES}

    # (stage, signal, when, then wait): in the stage's work, or while it writes its outputs
    kills = [
        ("ingest", signal.SIGKILL, lambda o, n: _log_has(o, "start: insights run", n), 0.05),
        ("embed", signal.SIGINT, lambda o, n: _log_has(o, "passages (", n), 0.5),
        (
            "themes",
            signal.SIGKILL,
            lambda o, n: _temporary(o, ".themes_model."),
            0,
        ),  # mid-save of the model
        ("report", signal.SIGINT, lambda o, n: _log_has(o, "report: building", n), 0.5),
    ]
    for stage, sig, when, delay in kills:
        log_size = len((out / "run.log").read_text(encoding="utf-8"))
        proc = _start(raw_b, out)
        _wait_for(proc, when(out, log_size), f"{stage} to start")
        time.sleep(delay)
        proc.send_signal(sig)
        proc.wait(timeout=120)
        assert proc.returncode != 0, f"the run finished before the {stage} kill"
        now = _outputs(out)
        # The interrupted stage's outputs are exactly the previous ones, whole.
        assert _stage_outputs(now, out, stage) == previous_by_stage[stage], stage
        # Every stage's outputs are whole: each matches the record of the run that made it
        # (later stages may now be stale, which `require` reports, but none is half-written).
        for s in STAGES:
            lineage.whole(out, s)
        if sig == signal.SIGINT:
            assert not [p for p in out.rglob(".*.tmp")], "an interrupted run cleans up after itself"
            assert (
                "stopped: interrupted" in (out / "run.log").read_text(encoding="utf-8")[log_size:]
            )

    proc = invoke("run", raw_b, "--out", out, "-q", *QUICK)
    assert proc.returncode == 0, proc.stderr
    assert not [p for p in out.rglob(".*.tmp")]
    assert "temporary file(s) an interrupted run left" in (out / "run.log").read_text(
        encoding="utf-8"
    )
    cfg = load_config(None, [QUICK[1]])
    for s in STAGES:
        lineage.require(out, s, cfg)

    clean = tmp_path / "clean"
    assert invoke("run", raw_b, "--out", clean, "-q", *QUICK).returncode == 0
    for name in (
        "turns.parquet",
        "passages.parquet",
        "segments.parquet",
        "assignments.parquet",
        "themes.parquet",
    ):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / name), pd.read_parquet(clean / name), obj=name
        )
    import json

    mine, theirs = (json.loads((d / "report" / "report.json").read_text()) for d in (out, clean))
    assert [t["headline"] for t in mine["takeaways"]] == [
        t["headline"] for t in theirs["takeaways"]
    ]
