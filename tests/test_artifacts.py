"""The catalog: schemas enforced on read, writes atomic."""

import pandas as pd
import pytest

from pipeline.core import catalog as artifacts
from pipeline.core.catalog import TURNS, ArtifactError, read_table, write_table


def minimal_turns():
    row = {c: None for c in TURNS.columns}
    row.update(
        interview_id="a",
        turn_index=0,
        speaker="Maria",
        role="interviewee",
        text="Hi",
        clean_text="Hi",
        is_backchannel=False,
        source_file="a.txt",
        language="en",
        in_main_language=True,
    )
    return pd.DataFrame([row])


def test_roundtrip_keeps_types(tmp_path):
    write_table(minimal_turns(), TURNS, tmp_path)
    df = read_table(TURNS, tmp_path)
    assert list(df.columns) == list(TURNS.columns)
    assert str(df["turn_index"].dtype) == "Int64"
    assert df.loc[0, "text"] == "Hi"


def test_missing_artifact_names_the_command(tmp_path):
    with pytest.raises(
        ArtifactError, match=r"turns.parquet is missing: run `insights ingest RAW_DIR` first"
    ):
        read_table(TURNS, tmp_path)


def test_missing_column_is_reported(tmp_path):
    minimal_turns().drop(columns=["role"]).to_parquet(tmp_path / "turns.parquet")
    with pytest.raises(ArtifactError, match="missing column.*role.*insights ingest"):
        read_table(TURNS, tmp_path)


def test_garbage_file_is_reported(tmp_path):
    (tmp_path / "turns.parquet").write_bytes(b"not parquet")
    with pytest.raises(ArtifactError, match="cannot be read"):
        read_table(TURNS, tmp_path)


def test_failed_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    write_table(minimal_turns(), TURNS, tmp_path)
    before = (tmp_path / "turns.parquet").read_bytes()

    def explode(self, path, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", explode)
    with pytest.raises(KeyboardInterrupt):
        write_table(minimal_turns(), TURNS, tmp_path)
    assert (tmp_path / "turns.parquet").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["turns.parquet"]  # no temp file left


def test_write_json_is_atomic(tmp_path):
    target = tmp_path / "m.json"
    artifacts.write_json({"a": 1}, target)
    assert artifacts.read_json(target, "x") == {"a": 1}
    with pytest.raises(ArtifactError, match="missing: run `make it`"):
        artifacts.read_json(tmp_path / "none.json", "make it")
