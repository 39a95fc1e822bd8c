"""The report stage: build report.json from the earlier stages' artifacts and render it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from ..core.catalog import save
from ..core.config import Config
from .build import build_report
from .render import FIGURE_ARTIFACTS, FIGURES, figures, render_html, render_markdown

log = logging.getLogger(__name__)


def run(
    out_dir: Path, config: Config, embedder=None, generated_at: str | None = None
) -> dict[str, Path]:
    """Build the report and write report.json, report.md (+ PNG figures) and report.html.

    Args:
        out_dir: the output folder holding every earlier stage's artifacts.
        config: the effective configuration.
        embedder: an embedder to reuse for the advice sentences (default: the ``embed`` one).
        generated_at: the timestamp to stamp (default: now, UTC).

    Returns:
        The written paths by kind: ``json``, ``md``, ``html`` and one per figure.
    """
    out_dir = Path(out_dir)
    # Said once the stage's libraries are imported (the kill test waits for it).
    log.info("report: building from the artifacts in %s", out_dir)
    stamp = generated_at or datetime.now(UTC).replace(microsecond=0).isoformat()
    report = build_report(out_dir, config, stamp, embedder)
    report.figures = dict(FIGURES)
    images = figures(report)
    written = {name: save(FIGURE_ARTIFACTS[name], png, out_dir) for name, png in images.items()}
    written["json"] = save("report_json", report.model_dump_json(indent=2) + "\n", out_dir)
    written["md"] = save("report_md", render_markdown(report), out_dir)
    written["html"] = save("report_html", render_html(report, images), out_dir)
    return written
