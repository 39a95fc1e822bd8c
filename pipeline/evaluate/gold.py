"""Hand-made gold files (coded excerpts, labelled sections): one reader for all."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd


def read_gold_csv(path: Path) -> pd.DataFrame:
    """The CSV with column names lower-cased and every cell stripped; the caller checks columns."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"gold file not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip().lower() for c in (reader.fieldnames or []) if c]
        rows = [
            {k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader
        ]
    return pd.DataFrame(rows, columns=columns)
