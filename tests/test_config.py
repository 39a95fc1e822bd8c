"""One typed config: defaults, then YAML file, then --set overrides."""

import json

import pytest

from pipeline.core.config import Config, ConfigError, load_config


def test_defaults():
    cfg = load_config()
    assert cfg.ingest.max_file_mb == 50
    assert "en" in cfg.ingest.languages


def test_yaml_file_then_overrides(tmp_path):
    path = tmp_path / "insights.yaml"
    path.write_text("ingest:\n  max_file_mb: 5\n  interviewer_names: [Sam]\n")
    cfg = load_config(path, ["ingest.max_file_mb=7", "ingest.extra_fillers=[honestly, literally]"])
    assert cfg.ingest.max_file_mb == 7
    assert cfg.ingest.interviewer_names == ["Sam"]
    assert cfg.ingest.extra_fillers == ["honestly", "literally"]


def test_insights_yaml_in_working_directory_is_read(tmp_path, monkeypatch):
    (tmp_path / "insights.yaml").write_text("ingest:\n  max_file_mb: 3\n")
    monkeypatch.chdir(tmp_path)
    assert load_config().ingest.max_file_mb == 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("ingest:\n  max_file_mb: [1\n", r"bad.yaml \(line \d+\): not valid YAML"),
        ("ingest:\n  no_such_setting: 1\n", "ingest.no_such_setting: unknown setting"),
        ("- a list\n", "expected a mapping"),
        ("ingest:\n  max_file_mb: -1\n", "ingest.max_file_mb"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.mark.parametrize(
    "override, message",
    [
        ("nokey", "expected KEY=VALUE"),
        ("ingest.bogus=1", "unknown setting"),
        ("ingest.max_file_mb=abc", "valid number"),
        (
            "themes.keyword_candidates=20",
            r"keyword_candidates \(20\) must be at least 4 x top_n_words",
        ),
    ],
)
def test_bad_overrides(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_hash_changes_with_settings():
    assert Config().sha256() == Config().sha256()
    assert Config().sha256() != load_config(overrides=["ingest.max_file_mb=1"]).sha256()
    assert json.loads(Config().to_json())["ingest"]["max_file_mb"] == 50
