"""The takeaways report: report.json (the data), report.html (one offline page), report.md + PNGs.

    from pipeline import report
    paths = report.run("data/processed", config)

:mod:`.build` assembles :class:`~.schema.Report` from the artifacts, one builder module per
part (:mod:`.overview`, :mod:`.sections`, :mod:`.takeaway_builder`, :mod:`.number_builder`,
:mod:`.lists`, :mod:`.rare`, :mod:`.method`; quotes from :mod:`.quotes`); :mod:`.render`
formats it; :mod:`.stage` writes it through the catalog.
"""

from ..core.registry import runner
from .build import build_report
from .schema import Report

run = runner("report")

__all__ = ["run", "build_report", "Report"]
