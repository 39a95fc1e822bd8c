"""The stage registry is the one source of the stage order, contracts and Makefile targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from pipeline.core import catalog, registry
from pipeline.core.catalog import CATALOG, ArtifactError
from pipeline.core.config import Config
from pipeline.core.registry import ORDER, RUN_ORDER, SPEED_ONLY, STAGES


def test_stages_mk_is_generated_from_the_registry():
    # `make` reads stages.mk; a stage added or changed in the registry must reach the Makefile.
    assert (ROOT / "stages.mk").read_text() == registry.makefile_rules(), (
        "stages.mk is stale: run `python -m pipeline.core.registry --makefile`"
    )


def test_every_stage_input_and_output_is_in_the_catalog_and_made_by_one_stage():
    makers: dict[str, str] = {}
    for stage in ORDER:
        for name in stage.outputs:
            assert CATALOG[name].stage == stage.name, f"{name} is declared by {stage.name}"
            assert name not in makers, f"{name} is written by {makers[name]} and {stage.name}"
            makers[name] = stage.name
        for name in stage.inputs:
            assert name in CATALOG, f"{stage.name} reads {name}, which the catalog does not know"
    assert set(makers) == set(CATALOG), "every catalog entry is some stage's output"


def test_upstream_comes_before_every_stage_that_reads_it():
    for i, stage in enumerate(ORDER):
        for up in stage.upstream:
            assert up in [s.name for s in ORDER[:i]], f"{stage.name} reads {up}, which runs later"
    assert RUN_ORDER[0] == "ingest" and RUN_ORDER[-1] == "report" and "compare" not in RUN_ORDER


def test_every_stage_entry_point_exists_and_its_code_is_there():
    for stage in ORDER:
        assert callable(stage.function()), stage.entry
        for rel in stage.code:
            assert (registry.PACKAGE_ROOT / rel).exists(), (
                f"{stage.name}: code {rel} does not exist"
            )
        assert len(registry.code_version(stage.name)) == 16


def test_a_stage_that_writes_an_undeclared_file_is_refused(tmp_path, monkeypatch):
    # The registry's outputs are the whole contract: a stage spelling a file name of its own
    # (here: passages writing a second table) fails before anything is renamed into place.
    from pipeline.core.catalog import write_text
    from pipeline.ingest import stage as ingest_stage

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(
        "Sam: How did you start?\nMaria: I studied physics and then I freelanced.\n"
    )
    out = tmp_path / "out"
    original = ingest_stage.run

    def sloppy(out_dir, config, **options):
        result = original(out_dir, config, **options)
        write_text("stray", Path(out_dir) / "notes.txt")
        return result

    monkeypatch.setattr(ingest_stage, "run", sloppy)
    with pytest.raises(ArtifactError, match="wrote notes.txt, which its entry .* does not declare"):
        registry.run_stage("ingest", out, Config(), raw_dir=raw)
    assert not (out / "turns.parquet").exists() and not (out / "notes.txt").exists()


@pytest.mark.slow  # runs the real ingest stage
def test_hooks_see_every_stage_and_its_phases(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(
        "Sam: How did you start?\nMaria: I studied physics and then I freelanced.\n"
    )
    seen: list[tuple] = []
    remove = registry.add_hook(
        registry.Hooks(
            before=lambda s: seen.append(("before", s)),
            after=lambda s, t: seen.append(("after", s, t >= 0)),
            phase=lambda s, p, t, n: seen.append(("phase", s, p)),
        )
    )
    try:
        registry.run_stage("ingest", tmp_path / "out", Config(), raw_dir=raw)
        with registry.phase("outside"):
            pass
    finally:
        remove()
    assert seen[:2] == [("before", "ingest"), ("after", "ingest", True)]
    assert seen[-1] == ("phase", "", "outside")


def test_catalog_paths_fill_parameters_safely(tmp_path):
    assert (
        catalog.location("compare_html", tmp_path, field="a/b c")
        == tmp_path / "compare" / "a_b_c.html"
    )
    assert set(catalog.output_folders()) >= {"report", "compare", "lineage", "cache"}


@pytest.mark.slow
def test_each_stage_declares_the_settings_it_reads(reported):
    """The session folders were made with a config that recorded every setting each stage read."""
    from conftest import SETTINGS_READ

    assert set(SETTINGS_READ) >= set(RUN_ORDER), "every stage ran for the session folders"
    undeclared = {}
    for name in RUN_ORDER:
        read = SETTINGS_READ[name]
        assert read, f"stage {name} read no setting at all: is recording on?"
        declared = STAGES[name].settings
        extra = sorted(
            k
            for k in read - SPEED_ONLY
            if not any(k == d or k.startswith(d + ".") for d in declared)
        )
        if extra:
            undeclared[name] = extra
    assert not undeclared, f"stages read settings they do not declare: {undeclared}"


def test_a_speed_only_setting_changes_no_stage_fingerprint():
    from pipeline.core.config import load_config
    from pipeline.core.lineage import settings_of

    default, other = Config(), load_config(None, ["embed.threads=1", "embed.batch_size=8"])
    for name in RUN_ORDER:
        assert not any(k in SPEED_ONLY for k in settings_of(name, other)), name
    changed = {n for n in RUN_ORDER if settings_of(n, default) != settings_of(n, other)}
    # the batch size sets the batch shapes, so what reads vectors depends on it
    assert changed == {"embed", "segment", "themes", "code", "report"}
