"""Compare cohorts of interviews by any metadata field (background, mode, year, folder).

:mod:`.cohorts` computes the comparison (tests, effect sizes, words, quotes);
:mod:`.render` formats it; :mod:`.stage` reads the themes and writes compare/FIELD.*.
"""

from ..core.registry import runner
from .cohorts import (
    UNKNOWN,
    CohortComparison,
    CohortError,
    available_fields,
    benjamini_hochberg,
    cohort_of,
    compare_cohorts,
    permutation_chi2,
    test_theme,
)
from .render import chart_png, prevalence_table, render_html, render_markdown
from .stage import compare_folder

run = runner("compare")

__all__ = [
    "UNKNOWN",
    "CohortComparison",
    "CohortError",
    "available_fields",
    "benjamini_hochberg",
    "chart_png",
    "cohort_of",
    "compare_cohorts",
    "compare_folder",
    "permutation_chi2",
    "prevalence_table",
    "render_html",
    "render_markdown",
    "run",
    "test_theme",
]
