"""bench/real_corpora.py without running the pipeline: its table on fake evaluations, and
corpora that are missing or not run yet."""

import importlib.util
import sys

from conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location(
        "real_corpora", ROOT / "bench" / "real_corpora.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _evaluation(headline_share, single_numbers, takeaways=4):
    return {
        "counts": {"conversations": 10, "takeaways": takeaways, "section_themes": 8, "quotes": 40},
        "checks": [
            {
                "check": "finding headlines well-formed",
                "value": headline_share,
                "target": ">= 90%",
                "passed": None if headline_share is None else headline_share >= 0.9,
                "n": takeaways,
                "examples": [{"text": "Pushed it", "reason": "no subject", "where": "t[0]"}],
            },
            {
                "check": "number families from one conversation",
                "value": single_numbers,
                "target": "0",
                "passed": single_numbers == 0,
                "n": 5,
                "examples": [],
            },
        ],
    }


def test_table_puts_corpora_side_by_side():
    bench = _bench()
    outcomes = [
        bench.Outcome("sample", "ok", run_s=95.2, evaluation=_evaluation(1.0, 0)),
        bench.Outcome("mismatches", "ok", run_s=7.25, evaluation=_evaluation(0.25, 1)),
        bench.Outcome("founders-talk", "ok", run_s=600, evaluation=_evaluation(None, 0, 0)),
        bench.Outcome("serdif", "failed", "run exit 1: nothing ingested | no .odt reader"),
    ]
    lines = bench.table(outcomes).splitlines()
    assert lines[0] == "| check | target | sample | mismatches | founders-talk | serdif |"
    row = {line.split(" | ")[0].lstrip("| "): line for line in lines}
    assert row["finding headlines well-formed"] == (
        "| finding headlines well-formed | >= 90% | 100% of 4 ✓ | 25% of 4 ✗ | n/a | - |"
    )
    assert row["number families from one conversation"].endswith("| 0 | 0 ✓ | 1 ✗ | 0 ✓ | - |")
    assert row["run time"] == "| run time |  | 95 s | 7.2 s | 600 s | - |"
    # The failure reason is shown, its "|" escaped so the table keeps its columns.
    assert "**failed**: run exit 1: nothing ingested \\| no .odt reader" in row["run"]
    assert row["run"].count(" | ") == 5
    assert row["findings"] == "| findings |  | 4 | 4 | 0 | - |"
    shown = bench.failures(outcomes)
    assert "mismatches / finding headlines well-formed: 'Pushed it': no subject" in shown
    assert "sample /" not in shown  # nothing of the sample failed


def test_corpora_order_and_only():
    bench = _bench()
    names = [c.name for c in bench.corpora()]
    assert names == ["sample", "founders-talk", "mismatches", "serdif", "oral-history"]
    assert [c.name for c in bench.corpora(only=["serdif", "sample"])] == ["sample", "serdif"]
    assert bench.corpora(only=["sample"])[0].raw == ROOT / "data" / "raw"


def test_a_missing_corpus_folder_is_reported_not_fatal(tmp_path, capsys):
    bench = _bench()
    (tmp_path / "corpora" / "oral-history").mkdir(parents=True)  # present but no raw/
    code = bench.main(
        [
            "--corpora",
            str(tmp_path / "corpora"),
            "--only",
            "mismatches",
            "--only",
            "oral-history",
            "--work",
            str(tmp_path / "work"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "| check | target | mismatches | oral-history |" in out
    assert out.count("**missing**: no raw folder") == 2
    assert not (tmp_path / "work" / "mismatches").exists()  # nothing was run


def test_skip_run_without_outputs_says_so(tmp_path, capsys):
    bench = _bench()
    work = tmp_path / "work"
    outcome = bench.run_corpus(bench.Corpus("sample", ROOT / "data" / "raw"), work, True, False)
    assert outcome.status == "not run"
    assert "--skip-run" in outcome.reason and outcome.evaluation is None
