"""Cohort comparison: statistics against known values, folder and unknown cohorts, small n."""

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_RAW
from scipy.stats import fisher_exact

from pipeline import compare, embed, passages, segment, themes
from pipeline.core.catalog import INTERVIEWS, ArtifactError, read_table, write_table
from pipeline.core.config import Config, load_config
from pipeline.ingest import run as ingest


def test_fisher_exact_against_a_known_table():
    # The lady tasting tea: [[3, 1], [1, 3]] has a two-sided p-value of 0.4857 (= 34/70).
    result = compare.test_theme([(3, 4), (1, 4)])
    assert result["test"] == "Fisher's exact"
    assert result["p_value"] == pytest.approx(34 / 70, abs=1e-4)
    assert result["difference"] == 0.5
    # Haldane-Anscombe corrected odds ratio: (3.5 * 3.5) / (1.5 * 1.5)
    assert result["effect_size"] == pytest.approx(3.5 * 3.5 / (1.5 * 1.5), abs=1e-3)


def test_extreme_table_is_significant():
    result = compare.test_theme([(10, 10), (0, 10)])
    assert result["p_value"] == pytest.approx(fisher_exact([[10, 0], [0, 10]])[1])
    assert result["p_value"] < 1e-4


def test_no_variation_is_not_tested():
    assert compare.test_theme([(4, 4), (3, 3)])["test"].startswith("none")


def test_permutation_test_for_three_cohorts():
    strong = compare.test_theme([(8, 8), (0, 8), (0, 8)], n_permutations=500, seed=1)
    weak = compare.test_theme([(4, 8), (4, 8), (3, 8)], n_permutations=500, seed=1)
    assert strong["test"] == "chi-square permutation" and strong["p_value"] < 0.01
    assert weak["p_value"] > 0.5
    assert strong["effect_measure"] == "Cramer's V" and strong["effect_size"] == pytest.approx(1.0)


def test_benjamini_hochberg_by_hand():
    # p sorted: 0.01, 0.02, 0.03, 0.5 with m = 4 -> 0.04, 0.04, 0.04, 0.5
    q = compare.benjamini_hochberg([0.03, 0.01, 0.5, 0.02])
    assert q == pytest.approx([0.04, 0.04, 0.5, 0.04])


@pytest.mark.slow
def test_folder_cohorts_on_the_sample(themed):
    c = compare.compare_folder(themed, "folder", Config())
    assert set(c.cohorts.cohort) == {"round-1", "round-2"}
    assert (c.tests.test.isin(["Fisher's exact", "none (no variation)"])).all()
    assert (
        c.tests.q_value.between(0, 1).all() and (c.tests.q_value >= c.tests.p_value - 1e-12).all()
    )
    shares = c.themes.groupby("theme_id").share.apply(list)
    assert len(shares) == len(c.tests)
    assert set(c.sections.section) <= {"past", "present", "future"}
    assert set(c.distinctive.cohort) == {"round-1", "round-2"}
    assert not c.quotes.empty and set(c.quotes.cohort) == {"round-1", "round-2"}


@pytest.mark.slow
def test_small_cohorts_get_an_exploratory_warning(themed):
    c = compare.compare_folder(themed, "operating_mode", Config())
    assert c.cohorts.exploratory.all()
    assert any("exploratory, n = 1" in w for w in c.warnings)
    assert c.tests.exploratory.all()


@pytest.mark.slow
def test_missing_values_form_an_unknown_cohort(themed_copy):
    out = themed_copy
    interviews = read_table(INTERVIEWS, out)
    interviews.loc[
        interviews.interview_id.isin(["call-01-maria", "call-02-dev"]), "background_group"
    ] = None
    write_table(interviews, INTERVIEWS, out)
    c = compare.compare_folder(out, "background_group", Config())
    unknown = c.cohorts.set_index("cohort").loc["unknown"]
    assert unknown.n_interviews == 2
    assert any("no 'background_group'" in w and "call-01-maria" in w for w in c.warnings)


@pytest.mark.slow
def test_unknown_field_lists_the_available_ones(themed):
    with pytest.raises(compare.CohortError, match="available:.*background_group"):
        compare.compare_folder(themed, "nonexistent", Config())


@pytest.mark.slow
def test_a_hand_edited_table_is_refused(themed_copy):
    out = themed_copy
    interviews = read_table(INTERVIEWS, out)
    interviews["cohort_label"] = "x"
    write_table(interviews, INTERVIEWS, out)
    with pytest.raises(
        ArtifactError, match="interviews.parquet is not what `insights ingest RAW_DIR` last wrote"
    ):
        compare.run(out, Config(), field="cohort_label")


@pytest.mark.slow
def test_outputs_are_written_and_escaped(themed, tmp_path):
    # A new metadata field the way a user adds one: metadata.csv, then the stages again
    # (vectors from the cache).
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(SAMPLE_RAW, raw)
    meta = pd.read_csv(raw / "metadata.csv")
    meta["cohort_label"] = np.where(meta.index % 2 == 0, "<script>alert(1)</script>", "plain")
    meta.to_csv(raw / "metadata.csv", index=False)
    shutil.copytree(themed / "cache", out / "cache")
    cfg = load_config(None, ["themes.k_layouts=1"])  # how k is judged is not tested here
    ingest(out, cfg, raw_dir=raw)
    for stage in (passages, embed, segment, themes):
        stage.run(out, cfg)
    comparison, written = compare.run(out, cfg, field="cohort_label")
    names = {p.name for p in written}
    assert names == {"cohort_label.html", "cohort_label.md", "cohort_label.csv", "cohort_label.png"}
    page = (out / "compare" / "cohort_label.html").read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page  # self-contained, no external requests
    table = pd.read_csv(out / "compare" / "cohort_label.csv")
    assert {"label", "p_value", "q_value"} <= set(table.columns)
    assert (out / "compare" / "cohort_label.png").read_bytes()[:4] == b"\x89PNG"


def test_permutation_chi2_equals_scipy_on_every_permutation():
    from scipy.stats import chi2_contingency

    from pipeline.compare.cohorts import permutation_chi2

    def by_scipy(table, n_permutations, seed):  # the definition, one permutation at a time
        mention = np.repeat([1, 0] * table.shape[1], table.T.ravel())
        cohorts = np.repeat(np.arange(table.shape[1]), table.sum(axis=0))

        def statistic(labels):
            counts = np.array(
                [
                    [np.sum((labels == k) & (mention == m)) for k in range(table.shape[1])]
                    for m in (1, 0)
                ]
            )
            return float(chi2_contingency(counts, correction=False)[0])

        observed = statistic(cohorts)
        rng = np.random.default_rng(seed)
        hits = sum(
            statistic(rng.permutation(cohorts)) >= observed - 1e-12 for _ in range(n_permutations)
        )
        return (hits + 1) / (n_permutations + 1)

    rng = np.random.default_rng(3)
    for _ in range(6):
        sizes = rng.integers(2, 9, size=rng.integers(3, 5))
        mentioning = [int(rng.integers(0, n + 1)) for n in sizes]
        table = np.array([mentioning, [n - m for m, n in zip(mentioning, sizes)]])
        if table.sum(axis=1).min() == 0:
            continue
        assert permutation_chi2(table, 300, 7) == by_scipy(table, 300, 7), table.tolist()
