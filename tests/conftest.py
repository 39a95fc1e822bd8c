import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RAW = ROOT / "data" / "raw"

# Tests never touch the network or a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def run_cli(*args, cwd=None, check=False):
    """Run `python -m pipeline ARGS` the way a user runs `insights ARGS`."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, args)],
        cwd=cwd or ROOT, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"insights {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory):
    """The bundled sample notes through ingest, passages, embed, segment and themes, once per test run."""
    from pipeline import embed, passages, segment, themes
    from pipeline.config import Config
    from pipeline.ingest import run as ingest

    out = tmp_path_factory.mktemp("sample_out")
    cfg = Config()
    ingest(SAMPLE_RAW, out, cfg)
    passages.run(out, cfg)
    embed.run(out, cfg)
    segment.run(out, cfg)
    themes.run(out, cfg)
    return out
