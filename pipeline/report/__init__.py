"""The takeaways report: report.json (the data), report.html (one offline page), report.md + PNGs.

    from pipeline import report
    paths = report.run("data/processed", config)
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from .. import lineage
from ..artifacts import write_bytes, write_text
from ..config import Config
from .build import build_report
from .render import FIGURES, figures, render_html, render_markdown
from .schema import Report

REPORT_DIR = "report"

__all__ = ["run", "build_report", "Report", "REPORT_DIR"]


def run(out_dir: Path, config: Config, embedder=None, generated_at: str | None = None) -> dict[str, Path]:
    """Build the report from OUT's artifacts and write it to OUT/report/; returns the written paths."""
    out_dir = Path(out_dir)
    with lineage.producing(out_dir, "report", config):
        stamp = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        report = build_report(out_dir, config, stamp, embedder)
        report.figures = dict(FIGURES)
        images = figures(report)
        folder = out_dir / REPORT_DIR
        written = {}
        for name, png in images.items():
            written[name] = write_bytes(png, folder / FIGURES[name])
        written["json"] = write_text(report.model_dump_json(indent=2) + "\n", folder / "report.json")
        written["md"] = write_text(render_markdown(report), folder / "report.md")
        written["html"] = write_text(render_html(report, images), folder / "report.html")
        return written
