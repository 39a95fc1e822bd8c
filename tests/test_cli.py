"""The `insights` command line as a user runs it (in process, but for the console script)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

COMMANDS = ["ingest", "embed", "themes", "evaluate", "report", "run", "config", "version"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli, command):
    proc = cli(command, "--help")
    assert proc.returncode == 0
    assert "Usage" in proc.stdout


def test_top_level_help_lists_commands(cli):
    proc = cli("--help")
    assert proc.returncode == 0
    for command in COMMANDS:
        assert command in proc.stdout


def test_version_goes_to_stdout(cli):
    proc = cli("version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == "0.1.0" and proc.stderr == ""


@pytest.mark.slow
def test_console_script_is_installed():
    exe = shutil.which("insights", path=str(Path(sys.executable).parent))
    assert exe, "the `insights` console script is not installed in this environment"
    proc = subprocess.run([exe, "version"], capture_output=True, text=True)
    assert proc.stdout.strip() == "0.1.0"


@pytest.mark.slow
def test_python_dash_m_pipeline_works():
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0 and "ingest" in proc.stdout


def _raw(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "call-a.txt").write_text(
        "Sam: How did you get into data science?\n"
        "Maria: Uh, I studied physics and then I did a bootcamp, you know, to learn the tools.\n"
        "Sam: And how do you find clients these days?\n"
        "Maria: Mostly referrals from people I have worked with before.\n"
    )
    return raw


def test_ingest_writes_outputs_and_effective_config(cli, tmp_path):
    raw, out = _raw(tmp_path), tmp_path / "out"
    proc = cli("ingest", raw, "--out", out, "--set", "ingest.max_file_mb=3")
    assert proc.returncode == 0, proc.stderr
    written = {p.name for p in out.iterdir()}
    assert written >= {"turns.parquet", "interviews.parquet", "manifest.json", "config.json"}
    assert json.loads((out / "config.json").read_text())["ingest"]["max_file_mb"] == 3
    turns = pd.read_parquet(out / "turns.parquet")
    assert turns["role"].tolist() == ["interviewer", "interviewee", "interviewer", "interviewee"]
    assert "wrote" in proc.stderr and "turns.parquet" in proc.stderr
    assert proc.stdout == ""  # messages go to stderr


def test_quiet_prints_nothing_and_verbose_more(cli, tmp_path):
    raw = _raw(tmp_path)
    quiet = cli("ingest", raw, "--out", tmp_path / "q", "-q")
    assert quiet.returncode == 0 and quiet.stderr.strip() == "" and quiet.stdout.strip() == ""
    loud = cli("ingest", raw, "--out", tmp_path / "v", "-v")
    assert loud.returncode == 0 and "ingested" in loud.stderr


def test_config_file_option_and_config_command(cli, tmp_path):
    cfg = tmp_path / "my.yaml"
    cfg.write_text("ingest:\n  interviewer_names: [Maria]\n")
    shown = json.loads(cli("config", "--config", cfg, "--set", "ingest.max_file_mb=9").stdout)
    assert shown["ingest"]["interviewer_names"] == ["Maria"]
    assert shown["ingest"]["max_file_mb"] == 9
    out = tmp_path / "out"
    assert cli("ingest", _raw(tmp_path), "--out", out, "--config", cfg).returncode == 0
    roles = pd.read_parquet(out / "turns.parquet")["role"].tolist()
    assert roles[:2] == ["interviewee", "interviewer"]  # the configured name is the interviewer


def test_bad_override_is_one_clear_line(cli, tmp_path):
    proc = cli("ingest", _raw(tmp_path), "--out", tmp_path / "out", "--set", "ingest.nope=1")
    assert proc.returncode == 2
    assert "config error" in proc.stderr and "ingest.nope: unknown setting" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_raw_folder(cli, tmp_path):
    proc = cli("ingest", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
