"""The README's references are generated from the code and must be current."""

from pipeline import docs


def test_readme_generated_blocks_are_current():
    current = docs.README.read_text(encoding="utf-8")
    assert docs.render(current) == current, "README.md is stale: run `python -m pipeline.docs`"


def test_readme_lists_every_command_and_every_setting():
    text = docs.README.read_text(encoding="utf-8")
    for name in ("insights ingest RAW_DIR", "insights evaluate segments", "insights compare"):
        assert name in text
    for key in ("keyword_cooccurrence_weight:", "lock_timeout_s:", "max_words:"):
        assert key in text
