"""The benchmark is not run by the tests (it takes minutes); its stage order must stay runnable."""

import importlib.util

from conftest import ROOT

from pipeline.core import lineage


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "bench" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_every_stage_after_the_stages_it_reads():
    # Each stage refuses to start without its upstream outputs (lineage.require), so a
    # benchmark that skips or reorders one fails at once; this caught segment missing.
    stages = _benchmark().STAGES
    for i, stage in enumerate(stages):
        for up in lineage.STAGES[stage].upstream:
            assert up in stages[:i], f"benchmark runs {stage} before {up}"
