"""The compare stage: cohorts by one metadata field, written as compare/FIELD.{html,md,csv,png}."""

from __future__ import annotations

import logging
from pathlib import Path

from ..core.catalog import load, location, save
from ..core.config import Config
from .cohorts import CohortComparison, compare_cohorts
from .render import chart_png, prevalence_table, render_html, render_markdown

log = logging.getLogger(__name__)


def read_inputs(out_dir: Path) -> dict:
    """The tables a comparison needs, from the catalog."""
    # segments are always there: the themes stage, which compare reads, needs them
    names = ("interviews", "assignments", "themes", "passages", "segments")
    tables = {name: load(name, out_dir) for name in names}
    return tables


def compare_folder(out_dir: Path, field: str, config: Config) -> CohortComparison:
    """The comparison of ``field``'s cohorts in ``out_dir``, computed, not written (notebooks)."""
    return compare_cohorts(read_inputs(out_dir), field, config)


def run(out_dir: Path, config: Config, *, field: str) -> tuple[CohortComparison, list[Path]]:
    """Compare the cohorts of ``field`` and write the four files of the comparison.

    Args:
        out_dir: the output folder holding the themes.
        config: the effective configuration.
        field: the metadata field whose values form the cohorts (or ``folder``).

    Returns:
        (the comparison, the paths written).
    """
    comparison = compare_folder(out_dir, field, config)
    png = chart_png(comparison)
    written = [
        save(
            "compare_md",
            render_markdown(comparison, location("compare_png", out_dir, field=field).name),
            out_dir,
            field=field,
        ),
        save("compare_html", render_html(comparison, png), out_dir, field=field),
        save("compare_csv", prevalence_table(comparison).to_csv(index=False), out_dir, field=field),
        save("compare_png", png, out_dir, field=field),
    ]
    for warning in comparison.warnings:
        log.warning("%s", warning)
    return comparison, written
