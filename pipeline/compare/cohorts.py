"""Compare cohorts of interviews by any metadata field (background, mode, year, folder).

For each theme: the share of each cohort's conversations that mention it, the
difference, a significance test fit for small counts (Fisher's exact test for two
cohorts; a permutation test of the chi-square statistic for more), Benjamini-Hochberg
correction across themes, and an effect size (difference in shares and odds ratio
for two cohorts; Cramer's V for more). Cohorts smaller than ``compare.min_cohort_size``
are marked exploratory rather than reported with confidence. Missing values of the
field form their own "unknown" cohort. Also: distinctive words per cohort (c-TF-IDF
per class), quotes, and sections x cohort.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact

from ..core.config import Config

log = logging.getLogger(__name__)
UNKNOWN = "unknown"
_FIXED = {
    "interview_id",
    "source_file",
    "format",
    "language",
    "language_confidence",
    "in_main_language",
    "n_turns",
    "n_words",
    "n_words_interviewee",
    "speakers",
    "role_method",
    "metadata_json",
}


class CohortError(ValueError):
    pass


@dataclass
class CohortComparison:
    field: str
    cohorts: pd.DataFrame  # cohort, n_interviews, interviews, exploratory
    themes: pd.DataFrame  # theme_id, label, cohort, n_mentioning, n_interviews, share
    # theme_id, label, test, p_value, q_value, effect_size, effect_measure, difference, exploratory
    tests: pd.DataFrame
    sections: pd.DataFrame  # cohort, section, n_passages, share
    distinctive: pd.DataFrame  # cohort, word, score, rank
    quotes: pd.DataFrame  # cohort, theme_id, label, passage_id, interview_id, text
    warnings: list[str] = field(default_factory=list)


def available_fields(interviews: pd.DataFrame) -> list[str]:
    return sorted(c for c in interviews.columns if c not in _FIXED)


def cohort_of(interviews: pd.DataFrame, field_name: str) -> pd.Series:
    if field_name not in interviews.columns:
        raise CohortError(
            f"no metadata field {field_name!r}; available: "
            f"{', '.join(available_fields(interviews))}"
        )
    values = interviews[field_name].astype("string").str.strip()
    return values.mask(values.isna() | (values == ""), UNKNOWN).fillna(UNKNOWN).astype(str)


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """q-values: the smallest false discovery rate at which each test would be significant."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if not m:
        return []
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return [float(v) for v in out]


def permutation_chi2(table: np.ndarray, n_permutations: int, seed: int) -> float:
    """p-value of the chi-square statistic of a 2 x k table, by permuting cohort labels.

    Permuting the labels keeps both margins (how many conversations mention the theme, how
    large each cohort is), so the expected counts are the same for every permutation and the
    statistics of all permutations are computed at once from their observed counts.
    """
    k = table.shape[1]
    mention = np.repeat([1, 0] * k, table.T.ravel()).astype(bool)
    cohorts = np.repeat(np.arange(k), table.sum(axis=0))
    rows, columns = table.sum(axis=1), table.sum(axis=0)
    if (columns == 0).any():
        raise ValueError(f"a cohort without conversations in {table.tolist()}")
    if (rows == 0).any():
        return 1.0
    expected = np.outer(rows, columns) / table.sum()

    def statistics(labels: np.ndarray) -> np.ndarray:
        """Pearson's chi-square of each row of ``labels`` (one labelling per row)."""
        mentioned = np.stack([((labels == c) & mention).sum(axis=1) for c in range(k)], axis=1)
        observed = np.stack([mentioned, columns[None, :] - mentioned], axis=1)
        return (((observed - expected) ** 2) / expected).sum(axis=(1, 2))

    observed = statistics(cohorts[None, :])[0]
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_permutations, 256):  # a block of permutations at a time
        block = np.stack(
            [rng.permutation(cohorts) for _ in range(min(256, n_permutations - start))]
        )
        hits += int((statistics(block) >= observed - 1e-12).sum())
    return (hits + 1) / (n_permutations + 1)


def test_theme(counts: list[tuple[int, int]], n_permutations: int = 2000, seed: int = 0) -> dict:
    """counts: per cohort (mentioning, total). Returns test name, p-value and effect size."""
    table = np.array([[m for m, _ in counts], [t - m for m, t in counts]])
    if table.sum(axis=1).min() == 0:  # every or no conversation mentions it: nothing to test
        return {
            "test": "none (no variation)",
            "p_value": 1.0,
            "effect_size": 0.0,
            "effect_measure": "",
            "difference": 0.0,
        }
    if len(counts) == 2:
        (a, n1), (c, n2) = counts
        _, p = fisher_exact([[a, n1 - a], [c, n2 - c]], alternative="two-sided")
        odds = ((a + 0.5) * (n2 - c + 0.5)) / (
            (n1 - a + 0.5) * (c + 0.5)
        )  # Haldane-Anscombe correction
        return {
            "test": "Fisher's exact",
            "p_value": float(p),
            "effect_size": round(float(odds), 4),
            "effect_measure": "odds ratio",
            "difference": round(a / n1 - c / n2, 4),
        }
    p = permutation_chi2(table, n_permutations, seed)
    chi2 = chi2_contingency(table, correction=False)[0]
    v = float(np.sqrt(chi2 / table.sum()))  # Cramer's V for a 2 x k table
    shares = [m / t for m, t in counts]
    return {
        "test": "chi-square permutation",
        "p_value": float(p),
        "effect_size": round(v, 4),
        "effect_measure": "Cramer's V",
        "difference": round(max(shares) - min(shares), 4),
    }


def compare_cohorts(
    tables: dict[str, pd.DataFrame], field_name: str, config: Config
) -> CohortComparison:
    """Compare the cohorts that ``field_name`` forms, theme by theme.

    Args:
        tables: the catalog tables ``interviews``, ``assignments``, ``themes``, ``passages`` and
            ``segments`` (``segments`` may be missing: then no sections by cohort).
        field_name: the metadata field whose values form the cohorts (or ``folder``).
        config: the effective configuration (``compare`` settings and the themes' stop words).

    Returns:
        The comparison: cohorts, prevalence per theme and cohort, tests, sections, words, quotes.
    """
    cfg = config.compare
    interviews, assignments = tables["interviews"], tables["assignments"]
    themes, passages = tables["themes"], tables["passages"]
    themed_ids = set(assignments.interview_id)
    interviews = interviews[interviews.interview_id.isin(themed_ids)].copy()
    interviews["cohort"] = cohort_of(interviews, field_name).to_numpy()
    warnings: list[str] = []

    cohort_rows = []
    for cohort, group in interviews.groupby("cohort", sort=True):
        n = len(group)
        exploratory = n < cfg.min_cohort_size
        if exploratory:
            warnings.append(f"cohort {cohort!r}: exploratory, n = {n}")
        cohort_rows.append(
            {
                "cohort": cohort,
                "n_interviews": n,
                "interviews": "; ".join(sorted(group.interview_id)),
                "exploratory": exploratory,
            }
        )
    cohorts = pd.DataFrame(cohort_rows)
    if (interviews.cohort == UNKNOWN).any():
        missing = sorted(interviews.loc[interviews.cohort == UNKNOWN, "interview_id"])
        warnings.append(
            f"{len(missing)} conversation(s) have no {field_name!r}; they form the 'unknown' "
            f"cohort: {', '.join(missing)}"
        )
    if len(cohorts) < 2:
        warnings.append(f"only one cohort for {field_name!r}: nothing to compare")

    cohort_by_interview = dict(zip(interviews.interview_id, interviews.cohort))
    size = dict(zip(cohorts.cohort, cohorts.n_interviews))
    labels = dict(zip(themes.theme_id.astype(int), themes.label))
    real = assignments[assignments.theme_id != -1].copy()
    real["cohort"] = real.interview_id.map(cohort_by_interview)
    mentions = real.groupby(["theme_id", "cohort"]).interview_id.nunique()
    theme_rows, test_rows = [], []
    for theme_id in sorted(labels):
        if theme_id == -1:
            continue
        counts = []
        for cohort in cohorts.cohort:
            m = int(mentions.get((theme_id, cohort), 0))
            counts.append((m, int(size[cohort])))
            theme_rows.append(
                {
                    "theme_id": theme_id,
                    "label": labels[theme_id],
                    "cohort": cohort,
                    "n_mentioning": m,
                    "n_interviews": int(size[cohort]),
                    "share": round(m / size[cohort], 4),
                }
            )
        if len(counts) >= 2:
            result = test_theme(counts, cfg.permutations, config.themes.seed)
            test_rows.append(
                {
                    "theme_id": theme_id,
                    "label": labels[theme_id],
                    **result,
                    "exploratory": bool(cohorts.exploratory.any()),
                }
            )
    tests = pd.DataFrame(
        test_rows,
        columns=[
            "theme_id",
            "label",
            "test",
            "p_value",
            "effect_size",
            "effect_measure",
            "difference",
            "exploratory",
        ],
    )
    tests.insert(4, "q_value", benjamini_hochberg(tests.p_value.tolist()) if len(tests) else [])
    tests = tests.sort_values(["q_value", "p_value", "theme_id"]).reset_index(drop=True)

    return CohortComparison(
        field=field_name,
        cohorts=cohorts,
        themes=pd.DataFrame(theme_rows),
        tests=tests,
        sections=_sections_by_cohort(tables.get("segments"), cohort_by_interview),
        distinctive=_distinctive_words(
            passages, assignments, cohort_by_interview, interviews, config
        ),
        quotes=_quotes(real, passages, tests, cohorts, labels),
        warnings=warnings,
    )


def _sections_by_cohort(segments: pd.DataFrame | None, cohort_by_interview: dict) -> pd.DataFrame:
    columns = ["cohort", "section", "n_passages", "share"]
    if segments is None:
        return pd.DataFrame(columns=columns)
    answers = segments[(segments.unit == "passage") & (segments.role == "interviewee")].copy()
    answers["cohort"] = answers.interview_id.map(cohort_by_interview)
    answers = answers.dropna(subset=["cohort"])
    counts = answers.groupby(["cohort", "section"]).size().rename("n_passages").reset_index()
    counts["share"] = (
        counts.n_passages / counts.cohort.map(counts.groupby("cohort").n_passages.sum())
    ).round(4)
    return counts[columns]


def _distinctive_words(
    passages, assignments, cohort_by_interview, interviews, config, top_n: int = 10
) -> pd.DataFrame:
    """c-TF-IDF with the cohorts as classes, over the themed passages."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    from ..themes import analyzer_for

    themed = passages[passages.passage_id.isin(set(assignments.passage_id))].copy()
    themed["cohort"] = themed.interview_id.map(cohort_by_interview)
    themed = themed.dropna(subset=["cohort"])
    columns = ["cohort", "word", "score", "rank"]
    if themed.cohort.nunique() < 2:
        return pd.DataFrame(columns=columns)
    analyzer = analyzer_for(themed, passages, interviews, config.themes)
    docs = themed.groupby("cohort").clean_text.apply(" ".join)
    counts = CountVectorizer(analyzer=analyzer).fit(docs.tolist())
    matrix = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(
        counts.transform(docs.tolist())
    )
    words = counts.get_feature_names_out()
    rows = []
    for i, cohort in enumerate(docs.index):
        scores = matrix[i].toarray().ravel()
        for rank, j in enumerate(np.argsort(-scores, kind="stable")[:top_n], start=1):
            if scores[j] > 0:
                rows.append(
                    {
                        "cohort": cohort,
                        "word": words[j],
                        "score": round(float(scores[j]), 4),
                        "rank": rank,
                    }
                )
    return pd.DataFrame(rows, columns=columns)


def _quotes(
    real: pd.DataFrame,
    passages: pd.DataFrame,
    tests: pd.DataFrame,
    cohorts: pd.DataFrame,
    labels: dict,
    per_cohort: int = 3,
) -> pd.DataFrame:
    """For each cohort, its most central passage in each of the most differing themes."""
    text = dict(zip(passages.passage_id, passages.text))
    order = tests.theme_id.tolist()
    rows = []
    for cohort in cohorts.cohort:
        mine = real[real.cohort == cohort]
        picked = 0
        for theme_id in order:
            candidates = mine[mine.theme_id == theme_id].sort_values(
                ["probability", "passage_id"], ascending=[False, True]
            )
            if candidates.empty:
                continue
            best = candidates.iloc[0]
            rows.append(
                {
                    "cohort": cohort,
                    "theme_id": int(theme_id),
                    "label": labels[int(theme_id)],
                    "passage_id": best.passage_id,
                    "interview_id": best.interview_id,
                    "text": text[best.passage_id],
                }
            )
            picked += 1
            if picked == per_cohort:
                break
    return pd.DataFrame(
        rows, columns=["cohort", "theme_id", "label", "passage_id", "interview_id", "text"]
    )


# --- rendering ------------------------------------------------------------
