"""The bundled synthetic sample notes ingest cleanly, and the gold file lines up."""

import csv
import json

import pytest
from conftest import ROOT, SAMPLE_RAW

from pipeline.core.config import Config
from pipeline.ingest import run


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return run(tmp_path_factory.mktemp("out"), Config(), raw_dir=SAMPLE_RAW)


def test_every_sample_file_is_ingested_in_several_formats(sample):
    files = sample.manifest["files"]
    assert all(f["status"] == "ingested" for f in files), [
        f for f in files if f["status"] != "ingested"
    ]
    assert {f["format"] for f in files} >= {"md", "txt", "vtt", "docx"}
    assert sample.manifest["counts"]["interviews"] >= 10
    assert sample.manifest["metadata"]["unknown_ids"] == []
    assert sample.manifest["metadata"]["interviews_without_metadata"] == []


def test_every_sample_interview_is_marked_synthetic(sample):
    assert set(sample.interviews["synthetic"].str.lower()) == {"true"}


def test_folders_give_cohorts(sample):
    assert set(sample.interviews["folder"]) == {"round-1", "round-2"}


def test_french_call_is_detected_and_kept_apart(sample):
    by_id = sample.interviews.set_index("interview_id")
    assert by_id.loc["appel-11-camille", "language"] == "fr"
    assert not by_id.loc["appel-11-camille", "in_main_language"]
    english = by_id.drop(index="appel-11-camille")
    assert set(english["language"]) == {"en"} and english["in_main_language"].all()
    assert sample.manifest["main_language"] == "en"


def test_each_conversation_has_an_interviewer_unless_it_is_notes(sample):
    for row in sample.interviews.itertuples():
        roles = set(sample.turns.loc[sample.turns.interview_id == row.interview_id, "role"])
        if "unlabelled" in row.role_method:
            assert roles == {"interviewee"}
        else:
            assert {"interviewer", "interviewee"} <= roles, row.interview_id


def test_every_gold_answer_is_found_as_an_interviewee_turn(sample):
    with open(ROOT / "data" / "gold" / "sections.csv", newline="", encoding="utf-8") as fh:
        gold = list(csv.DictReader(fh))
    assert len(gold) > 200
    assert {g["section"] for g in gold} == {"past", "present", "future"}
    turns = sample.turns
    for g in gold:
        hits = turns[
            (turns.interview_id == g["interview"]) & turns.text.str.contains(g["text"], regex=False)
        ]
        assert not hits.empty, g
        assert (hits.role == "interviewee").any(), g


def test_timestamps_survive_for_vtt_and_timestamped_text(sample):
    turns = sample.turns
    for interview in ("call-04-tomasz", "call 07 zoë", "call-02-dev"):
        starts = turns.loc[(turns.interview_id == interview) & (turns.role != "note"), "start"]
        assert starts.notna().all() and starts.is_monotonic_increasing, interview


def test_manifest_is_json_with_hashes(sample):
    manifest = json.loads((sample.out_dir / "manifest.json").read_text())
    assert len(manifest["inputs_sha256"]) == 64
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])


def test_ingest_is_deterministic(sample, tmp_path):
    again = run(tmp_path, Config(), raw_dir=SAMPLE_RAW)
    assert again.turns.equals(sample.turns)
    assert (tmp_path / "manifest.json").read_bytes() == (
        sample.out_dir / "manifest.json"
    ).read_bytes()
