"""Bad input: each broken file gets a clear reason, the rest of the folder is still
ingested, and nothing is lost (the raw folder is never touched, and a run that ingests
nothing leaves the previous outputs as they were)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from factories import (
    by_path,
    make_docx,
    make_docx_zip_bomb,
    make_pdf,
    make_shapes_pdf,
    make_zip,
    tree_snapshot,
    write_bytes,
    write_text,
)

from pipeline.core.config import Config
from pipeline.ingest import NothingIngested, run

MAX_FILE_MB = 0.5

GOOD_TXT = """\
Sam: Thanks for talking with me today. How long have you been running the clinic?
Maria: Almost twelve years now. We started with two rooms above a pharmacy and grew slowly.
Sam: What is the hardest part of running it these days?
Maria: Finding staff, without a doubt. Good nurses have many options and the paperwork scares people away.
"""

GOOD_MD = """\
**Sam:** What does a normal week look like for your team?
**Omar:** We plan on Monday, build from Tuesday to Thursday, and demo on Friday afternoon.
**Sam:** Which part of that rhythm breaks most often?
**Omar:** Planning. Priorities change in the middle of the week, so Monday's plan rarely survives until Wednesday.
"""

CP1252_TEXT = """\
Sam: What did you think of the new café near the office?
Maria: Honestly, I loved it – the owner calls it a “quoted” menu because every dish cites a recipe book.
It has become the place where our team meets every Friday afternoon.
Sam: Would you recommend it to new colleagues?
Maria: Yes, definitely. The coffee is excellent and the prices are fair for the neighbourhood.
"""

UTF16_TEXT = """\
Sam: How did the price change land with your customers?
Lucía: Better than expected. Most of them accepted the new €49 plan without complaining.
A few naïve questions came in, but our support team answered them within a day.
Sam: Did anyone cancel because of it?
Lucía: Only a handful of very small accounts, and two of them came back a month later.
"""

ZOE_TEXT = """\
Sam: How did you hear about our product?
Zoë: A colleague recommended it after using it for a large research project last year.
Sam: What convinced you to try it yourself?
Zoë: The free trial, mostly. I could test it on real data before asking my manager for a budget.
"""

ENTRETIEN_TEXT = """\
Sam: What do you enjoy most about teaching evening classes?
Élodie: The students are adults who chose to be there, so every session feels like a real conversation.
Sam: And what is the most difficult part?
Élodie: Keeping everyone motivated after a long working day. Some weeks half the class is exhausted.
"""

DOCX_PARAGRAPHS = [
    (None, "Sam: Why did your company move its servers to the cloud?"),
    (
        None,
        "Kofi: Our hardware was ten years old and the only person who understood it had just retired. "
        "Moving was cheaper than hiring a replacement.",
    ),
    (None, "Sam: What surprised you after the move?"),
    (None, "Kofi: The monthly bill. Nobody had estimated the cost of storing years of backups."),
]

PDF_LINES = [
    "Sam: What made you start a repair cafe in your town?",
    "Ines: I hated watching neighbours throw away toasters that only needed a new fuse.",
    "Sam: How many people come to each session?",
    "Ines: About thirty on a good Saturday, and most of them leave with something that works "
    "again.",
]

# path -> (status, key phrase of the reason)
BAD = {
    "empty.txt": ("skipped", "empty file"),
    "junk-nul.txt": ("failed", "binary data"),
    "junk-no-nul.txt": ("failed", "binary data"),
    "notes.xyz": ("skipped", "unsupported format '.xyz'"),
    "random-bytes.docx": ("failed", "not a valid .docx"),
    "plain-zip.docx": ("failed", "not a valid .docx"),
    "corrupt.pdf": ("failed", "not a readable PDF"),
    "scan.pdf": ("skipped", "no text layer; OCR is not supported"),
    "bomb.docx": ("failed", "zip bomb"),
    "huge.txt": ("skipped", f"over the {MAX_FILE_MB:g} MB limit (ingest.max_file_mb)"),
    ".DS_Store": ("skipped", "hidden file"),
}
GOOD = {
    "interview-a.txt": "interview-a",
    "team-week.md": "team-week",
    "cloud.docx": "cloud",
    "repair-cafe.pdf": "repair-cafe",
    "cp1252.txt": "cp1252",
    "utf16-bom.txt": "utf16-bom",
    "call 07 zoë.txt": "call 07 zoë",
    "entretien é.md": "entretien é",
}
DUPLICATE = "second copy of interview-a.txt"  # same bytes as interview-a.txt; sorts after it


def junk(seed: int, n: int = 4096, nul: bool = True) -> bytes:
    data = random.Random(seed).randbytes(n)
    if nul:
        return data[:100] + b"\x00\x00" + data[100:]
    return data.replace(b"\x00", b"\x01")


def build_bad_folder(raw: Path, only_bad: bool = False) -> Path:
    write_bytes(raw / "empty.txt", b"")
    write_bytes(raw / "junk-nul.txt", junk(1, nul=True))
    write_bytes(raw / "junk-no-nul.txt", junk(2, nul=False))
    write_text(raw / "notes.xyz", GOOD_TXT)
    write_bytes(raw / "random-bytes.docx", junk(3))
    make_zip(raw / "plain-zip.docx", {"hello.txt": b"hello, this zip holds no Word document"})
    write_bytes(raw / "corrupt.pdf", b"%PDF-1.4\n" + junk(4, nul=False))
    make_shapes_pdf(raw / "scan.pdf")
    write_bytes(raw / ".DS_Store", b"\x00\x00\x00\x01Bud1" + junk(5, 200))
    if only_bad:
        return raw
    make_docx_zip_bomb(raw / "bomb.docx", unpacked_mb=30)
    write_text(raw / "huge.txt", GOOD_TXT * (int(MAX_FILE_MB * 1024 * 1024) // len(GOOD_TXT) + 10))

    write_text(raw / "interview-a.txt", GOOD_TXT)
    shutil.copyfile(raw / "interview-a.txt", raw / DUPLICATE)
    write_text(raw / "team-week.md", GOOD_MD)
    make_docx(raw / "cloud.docx", DOCX_PARAGRAPHS)
    make_pdf(raw / "repair-cafe.pdf", [PDF_LINES])
    write_text(raw / "cp1252.txt", CP1252_TEXT, encoding="cp1252")
    write_text(raw / "utf16-bom.txt", UTF16_TEXT, encoding="utf-16")
    write_text(raw / "call 07 zoë.txt", ZOE_TEXT)
    write_text(raw / "entretien é.md", ENTRETIEN_TEXT)
    return raw


def small_limit_config() -> Config:
    cfg = Config()
    cfg.ingest.max_file_mb = MAX_FILE_MB
    return cfg


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    raw = build_bad_folder(tmp_path_factory.mktemp("raw"))
    before = tree_snapshot(raw)
    out = tmp_path_factory.mktemp("out")
    result = run(out, small_limit_config(), raw_dir=raw)
    return raw, before, result


def insights(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "insights"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1"}
    # cwd is a scratch folder so no ./insights.yaml is picked up
    return subprocess.run(
        cmd + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_fixture_folder_holds_every_case(mixed):
    raw, before, result = mixed
    assert set(before) == set(BAD) | set(GOOD) | {DUPLICATE}
    assert (raw / "huge.txt").stat().st_size > MAX_FILE_MB * 1024 * 1024
    assert b"\x00" in (raw / "junk-nul.txt").read_bytes()
    assert b"\x00" not in (raw / "junk-no-nul.txt").read_bytes()
    assert (raw / "utf16-bom.txt").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    with pytest.raises(UnicodeDecodeError):
        (raw / "cp1252.txt").read_bytes().decode("utf-8")


@pytest.mark.parametrize("path", sorted(BAD))
def test_bad_file_gets_status_and_reason(mixed, path):
    raw, before, result = mixed
    entry = by_path(result.manifest)[path]
    status, phrase = BAD[path]
    assert entry["status"] == status, entry
    assert phrase in entry["reason"], entry["reason"]
    assert entry["interviews"] == [] and entry["turns"] == 0
    assert path not in set(result.turns.source_file)


def test_every_good_file_is_ingested(mixed):
    raw, before, result = mixed
    files = by_path(result.manifest)
    for path, interview_id in GOOD.items():
        entry = files[path]
        assert entry["status"] == "ingested", (path, entry["reason"])
        assert entry["reason"] is None
        assert entry["interviews"] == [interview_id], path
        turns = result.turns[result.turns.interview_id == interview_id]
        assert len(turns) == entry["turns"] == 4, path
        assert list(turns.role) == ["interviewer", "interviewee"] * 2, path
        assert set(turns.source_file) == {path}
        assert set(turns.language) == {"en"}, path
    assert set(result.interviews.interview_id) == set(GOOD.values())
    counts = result.manifest["counts"]
    assert counts["files"] == len(BAD) + len(GOOD) + 1
    assert counts["ingested"] == len(GOOD)
    assert counts["failed"] == sum(1 for s, _ in BAD.values() if s == "failed")
    assert (
        counts["skipped"] == sum(1 for s, _ in BAD.values() if s == "skipped") + 1
    )  # + the duplicate


def test_duplicate_is_skipped_naming_the_other(mixed):
    raw, before, result = mixed
    files = by_path(result.manifest)
    original, copy = files["interview-a.txt"], files[DUPLICATE]
    # Files are read in path order, so the first one seen is kept.
    assert original["status"] == "ingested"
    assert copy["status"] == "skipped"
    assert copy["reason"] == "duplicate of interview-a.txt (same content)"
    assert copy["sha256"] == original["sha256"]
    assert copy["interviews"] == [] and DUPLICATE not in set(result.turns.source_file)


def test_cp1252_file_is_decoded_with_a_warning(mixed):
    raw, before, result = mixed
    entry = by_path(result.manifest)["cp1252.txt"]
    assert entry["encoding"] == "cp1252"
    assert any("not valid UTF-8" in w and "cp1252" in w for w in entry["warnings"]), entry[
        "warnings"
    ]
    text = "\n".join(result.turns[result.turns.interview_id == "cp1252"].text)
    assert "new café near the office" in text
    assert "I loved it – the owner calls it a “quoted” menu" in text
    assert "\ufffd" not in text


def test_utf16_with_bom_is_decoded(mixed):
    raw, before, result = mixed
    entry = by_path(result.manifest)["utf16-bom.txt"]
    assert entry["encoding"].startswith("utf-16")
    assert not any("UTF-8" in w for w in entry["warnings"])
    turns = result.turns[result.turns.interview_id == "utf16-bom"]
    assert list(turns.speaker) == ["Sam", "Lucía", "Sam", "Lucía"]
    assert list(turns.text)[1] == (
        "Better than expected. Most of them accepted the new €49 plan without complaining.\n"
        "A few naïve questions came in, but our support team answered them within a day."
    )
    assert not any("\x00" in t or "\ufeff" in t for t in turns.text)


def test_names_with_spaces_and_accents_keep_their_characters(mixed):
    raw, before, result = mixed
    interviews = result.interviews.set_index("interview_id")
    assert interviews.loc["call 07 zoë", "source_file"] == "call 07 zoë.txt"
    assert interviews.loc["entretien é", "source_file"] == "entretien é.md"
    zoe = result.turns[result.turns.interview_id == "call 07 zoë"]
    assert list(zoe.speaker) == ["Sam", "Zoë", "Sam", "Zoë"]
    elodie = result.turns[result.turns.interview_id == "entretien é"]
    assert list(elodie.speaker) == ["Sam", "Élodie", "Sam", "Élodie"]


def test_raw_folder_is_unchanged(mixed):
    raw, before, result = mixed
    after = tree_snapshot(raw)
    assert set(after) == set(before)
    assert after == before
    assert not any(p.is_relative_to(raw) for p in result.written)


@pytest.mark.slow
def test_cli_exits_0_on_the_mixed_folder(mixed, tmp_path):
    raw, before, result = mixed
    out = tmp_path / "out"
    proc = insights(
        "ingest",
        str(raw),
        "--out",
        str(out),
        "--set",
        f"ingest.max_file_mb={MAX_FILE_MB}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("turns.parquet", "interviews.parquet", "manifest.json", "config.json"):
        assert (out / name).is_file(), name
    log = flat(proc.stderr + proc.stdout)
    assert "junk-nul.txt" in log and "bomb.docx" in log  # bad files are named on the console
    assert tree_snapshot(raw) == before


def test_nothing_ingested_leaves_previous_outputs(tmp_path):
    good = tmp_path / "good"
    write_text(good / "interview-a.txt", GOOD_TXT)
    out = tmp_path / "out"
    run(out, Config(), raw_dir=good)
    previous = tree_snapshot(out)
    assert "turns.parquet" in previous

    bad = build_bad_folder(tmp_path / "bad", only_bad=True)
    raw_before = tree_snapshot(bad)
    with pytest.raises(NothingIngested) as excinfo:
        run(out, Config(), raw_dir=bad)
    message = str(excinfo.value)
    for path in ("empty.txt", "junk-nul.txt", "notes.xyz", "random-bytes.docx", "scan.pdf"):
        assert path in message, path
    assert "no text layer" in message
    assert tree_snapshot(out) == previous
    assert tree_snapshot(bad) == raw_before


@pytest.mark.slow
def test_cli_exits_1_when_nothing_ingested_and_keeps_previous_outputs(tmp_path):
    good = tmp_path / "good"
    write_text(good / "interview-a.txt", GOOD_TXT)
    out = tmp_path / "out"
    run(out, Config(), raw_dir=good)
    previous = tree_snapshot(out)
    turns_bytes = (out / "turns.parquet").read_bytes()

    bad = build_bad_folder(tmp_path / "bad", only_bad=True)
    raw_before = tree_snapshot(bad)
    proc = insights("ingest", str(bad), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert (out / "turns.parquet").read_bytes() == turns_bytes
    assert tree_snapshot(out) == previous
    assert tree_snapshot(bad) == raw_before
    stderr = flat(proc.stderr)
    assert "nothing could be ingested" in stderr
    log = (out / "run.log").read_text(encoding="utf-8")
    assert (
        "nothing could be ingested" in log
        and "corrupt.pdf" in log
        and "stopped: exit status 1" in log
    )
    message = stderr[stderr.index("nothing could be ingested") :]
    for path in (
        "empty.txt",
        "junk-nul.txt",
        "junk-no-nul.txt",
        "notes.xyz",
        "random-bytes.docx",
        "plain-zip.docx",
        "corrupt.pdf",
        "scan.pdf",
    ):
        assert path in message, path
