"""The passages stage: turns in, passages out, through the catalog."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..core.catalog import cache_dir, load, save
from ..core.config import Config
from ..ingest.roles import INTERVIEWEE
from .build import build_passages

log = logging.getLogger(__name__)


def run(out_dir: Path, config: Config) -> pd.DataFrame:
    """Cut the ingested turns into passages and write passages.parquet.

    Args:
        out_dir: the output folder holding turns.parquet.
        config: the effective configuration (``passages`` and ``ingest.extra_fillers`` are read).

    Returns:
        The passages table.
    """
    turns = load("turns", out_dir)
    passages = build_passages(turns, config, cache_dir(out_dir))
    save("passages", passages, out_dir)
    n_answer = int((passages["role"] == INTERVIEWEE).sum())
    log.info(
        "%d passages (%d interviewee, %d interviewer) from %d turns",
        len(passages),
        n_answer,
        len(passages) - n_answer,
        len(turns),
    )
    return passages
