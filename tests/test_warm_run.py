"""A warm run does no work: a stage whose last run is current is skipped, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_RAW

from pipeline.core import lineage
from pipeline.core.catalog import load
from pipeline.core.config import Config
from pipeline.core.registry import RUN_ORDER, UpToDate, run_stage


def _finished(out: Path, stage: str) -> str:
    return json.loads(lineage.record_path(out, stage).read_text())["finished_at"]


def _raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(
        "Sam: How did you start?\nMaria: I studied physics and then I freelanced for years.\n"
    )
    return raw


def test_ingest_is_skipped_while_its_files_and_settings_are_the_same(cli, tmp_path):
    raw, out = _raw(tmp_path), tmp_path / "out"
    assert cli("ingest", raw, "--out", out).returncode == 0
    record = lineage.record_path(out, "ingest").read_text()
    again = cli("ingest", raw, "--out", out)
    assert again.returncode == 0 and "ingest: up to date" in again.stderr
    assert lineage.record_path(out, "ingest").read_text() == record  # nothing was redone
    assert json.loads(record)["seconds"] >= 0  # how long the stage took, for benchmarks
    assert "ingest: done in" in cli("ingest", raw, "--out", out, "--force").stderr

    (raw / "a.txt").write_text(
        "Sam: And now?\nMaria: Now I run a small agency with two partners.\n"
    )
    changed = cli("ingest", raw, "--out", out)
    assert "up to date" not in changed.stderr and "wrote" in changed.stderr
    assert "small agency" in " ".join(load("turns", out)["text"])
    forced = cli("ingest", raw, "--out", out, "--force")
    assert "up to date" not in forced.stderr
    setting = cli("ingest", raw, "--out", out, "--set", "ingest.max_file_mb=5")
    assert "up to date" not in setting.stderr


def test_an_edited_output_is_made_again(cli, tmp_path):
    raw, out = _raw(tmp_path), tmp_path / "out"
    cli("ingest", raw, "--out", out)
    (out / "manifest.json").write_text("{}")
    again = cli("ingest", raw, "--out", out)
    assert "up to date" not in again.stderr
    lineage.whole(out, "ingest")  # whole again


def test_library_calls_run_the_stage_unless_asked_to_skip(tmp_path):
    raw, out = _raw(tmp_path), tmp_path / "out"
    first = run_stage("ingest", out, Config(), raw_dir=raw)
    assert not isinstance(first, UpToDate)
    assert isinstance(run_stage("ingest", out, Config(), skip_fresh=True, raw_dir=raw), UpToDate)
    assert not isinstance(run_stage("ingest", out, Config(), raw_dir=raw), UpToDate)


@pytest.mark.slow
def test_a_warm_run_does_no_work_and_a_setting_redoes_only_what_reads_it(
    cli, reported, copy_of, tmp_path
):
    out = copy_of(reported)
    before = {s: _finished(out, s) for s in RUN_ORDER}
    warm = cli("run", SAMPLE_RAW, "--out", out)
    assert warm.returncode == 0, warm.stderr
    for stage in RUN_ORDER:
        assert f"{stage}: up to date" in warm.stderr, stage
    assert {s: _finished(out, s) for s in RUN_ORDER} == before

    # A report setting: the report is made again; the stages before it are not.
    changed = cli("run", SAMPLE_RAW, "--out", out, "--set", "report.takeaways=3")
    assert changed.returncode == 0, changed.stderr
    after = {s: _finished(out, s) for s in RUN_ORDER}
    for stage in ("ingest", "passages", "embed", "segment", "themes"):
        assert after[stage] == before[stage], stage
        assert f"{stage}: up to date" in changed.stderr, stage
    assert "report: up to date" not in changed.stderr and after["report"] != before["report"]
    assert lineage.require(out, "report", Config())  # and everything checks out


@pytest.mark.slow
def test_a_guide_edited_in_place_remakes_the_sections(cli, segmented, copy_of, tmp_path):
    out = copy_of(segmented)
    guide = tmp_path / "guide.yaml"
    base = (
        Path(__file__).parents[1] / "pipeline" / "segment" / "guides" / "default.yaml"
    ).read_text()
    guide.write_text(base)
    assert cli("segment", "--out", out, "--guide", guide).returncode == 0
    assert "segment: up to date" in cli("segment", "--out", out, "--guide", guide).stderr
    guide.write_text(base.replace("How they got where they are", "How they began"))
    again = cli("segment", "--out", out, "--guide", guide)
    assert again.returncode == 0 and "segment: up to date" not in again.stderr
