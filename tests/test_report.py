"""The takeaways report on the bundled sample notes: content, determinism, escaping, rendering."""

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from pipeline.core.config import Config
from pipeline.core.registry import run_stage
from pipeline.report import run as report_run
from pipeline.report.build import build_report
from pipeline.report.findings import strip_lead
from pipeline.report.overview import normalise_background
from pipeline.report.render import render_html, render_markdown
from pipeline.report.schema import Report

# Every test here reads a stage fixture, runs a stage or loads a model.
pytestmark = pytest.mark.slow

STAMP = "2026-01-01T00:00:00+00:00"
# The article's four lessons, by key terms (MISSION.md); the sample notes were written before
# this code.
LESSONS = {
    "referrals / word of mouth": r"referral|word of mouth|good work|great work",
    "a niche": r"niche|domain|speciali",
    "alliances with engineers and designers": r"engineer|designer|developer|partner|complement",
    "a personal brand": r"brand|in public|linkedin|youtube",
}


@pytest.fixture(scope="module")
def sample_report(themed, tmp_path_factory):
    # The session's themed folder is read-only: the report is written into a copy of it.
    out = tmp_path_factory.mktemp("report") / "out"
    shutil.copytree(themed, out)
    run_stage("code", out, Config())  # no coding given: the report has no codes part
    written = report_run(out, Config(), generated_at=STAMP)
    return (
        out,
        written,
        Report.model_validate_json(written["json"].read_text(encoding="utf-8")),
    )


def test_writes_all_three_files_and_figures(sample_report):
    out, written, report = sample_report
    folder = out / "report"
    for name in ("report.html", "report.md", "report.json", "themes_by_section.png", "numbers.png"):
        assert (folder / name).stat().st_size > 0, name
    assert "![Main themes per section](themes_by_section.png)" in (folder / "report.md").read_text(
        encoding="utf-8"
    )
    assert report.figures == {
        "themes_by_section": "themes_by_section.png",
        "numbers": "numbers.png",
    }


def test_overview_counts_and_diversity(sample_report):
    _, _, report = sample_report
    o = report.overview
    assert o.conversations == 11
    assert o.languages == {"en": 10, "fr": 1}
    assert o.date_range[0] <= o.date_range[1]
    # metadata.csv gives every interviewee's background; no two people share the same set
    assert len(o.backgrounds_by_interview) == 11
    assert len({tuple(v) for v in o.backgrounds_by_interview.values()}) == 11
    assert {"biomedical engineering", "industrial engineering", "physics", "MBA"} <= set(
        o.backgrounds
    )
    assert len(o.backgrounds) >= 14


def test_sections_follow_the_guide_with_counts_and_quotes(sample_report):
    _, _, report = sample_report
    assert [s.name for s in report.sections] == ["past", "present", "future"]
    for section in report.sections:
        assert section.themes, section.name
        counts = [t.conversations for t in section.themes]
        assert counts == sorted(counts, reverse=True)
        for theme in section.themes:
            assert theme.conversations >= 2
            assert theme.quote.section == section.name
            # the summary is its source's words without a spoken opener ("So, ...")
            assert strip_lead(theme.summary_source.text) == theme.summary


def test_top_takeaways_are_the_articles_four_lessons(sample_report):
    _, _, report = sample_report
    assert len(report.takeaways) == 4
    matched = {}
    for t in report.takeaways:
        text = " ".join([t.headline, t.lesson, *t.keywords]).lower()
        hits = [name for name, pattern in LESSONS.items() if re.search(pattern, text)]
        assert hits, f"takeaway {t.rank} {t.headline!r} matches none of the article's lessons"
        matched.setdefault(hits[0], t.rank)
    assert set(matched) == set(LESSONS), matched


def test_takeaways_have_support_and_quotes_from_different_people(sample_report):
    _, _, report = sample_report
    supports = [(t.support + t.also_discussed, t.support) for t in report.takeaways]
    assert supports == sorted(supports, reverse=True)
    for t in report.takeaways:
        assert 2 <= t.support <= t.conversations == 11
        assert 2 <= len(t.quotes) <= 3
        assert len({q.interview_id for q in t.quotes}) == len(t.quotes)
        assert set(q.interview_id for q in t.quotes) <= set(t.interviews)
        assert t.lesson_source.interview_id in t.interviews
        for q in t.quotes:
            assert re.search(r"(line \d+|page \d+| at \d\d:\d\d:\d\d)$", q.where), q.where


def test_numbers_recover_the_articles_facts(sample_report):
    _, _, report = sample_report
    facts = {f.kind: f for f in report.numbers}
    hours = facts["hours_per_client_week"]
    assert 8 <= hours.median <= 15 and hours.low <= 5 and hours.high >= 20
    assert hours.n_conversations >= 5
    clients = facts["clients_at_once"]
    assert 2 <= clients.median <= 3 and clients.low >= 1 and clients.high <= 4
    assert facts["hourly_rate"].n_conversations >= 5
    for fact in report.numbers:
        for m in fact.mentions:
            assert m.span in m.quote.verbatim


def test_lists_group_and_count_items(sample_report):
    _, _, report = sample_report
    groups = {g.kind: g for g in report.lists}
    niches = {i.item: i.conversations for i in groups["niches"].items}
    assert {"finance", "crypto", "energy", "OCR / document extraction"} <= set(niches)
    ways = {i.item: i for i in groups["ways_to_get_clients"].items}
    assert ways["referrals / word of mouth"].conversations >= 3
    assert ways["applying to job postings"].conversations >= 3
    for item in ways.values():
        assert item.quote.interview_id in item.interviews


def test_rare_points_come_from_one_or_two_conversations(sample_report):
    _, _, report = sample_report
    assert report.rare
    top = {t.headline for t in report.takeaways}
    for p in report.rare:
        assert 1 <= p.conversations <= 2 and p.headline not in top
        assert p.quote.interview_id in p.interviews


def test_method_says_how_to_reproduce(sample_report):
    out, _, report = sample_report
    m = report.method
    manifest = json.loads((out / "manifest.json").read_text())
    assert m.inputs_sha256 == manifest["inputs_sha256"]
    assert m.models["embedding"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert m.models["bertopic"] == "0.17.4"
    assert m.counts["conversations"] == 11 and m.counts["themed_passages"] > 0
    assert "outlier_passages" in m.counts
    # Which guide the sections follow, and the figures of how well it fits.
    note = next(n for n in m.notes if n.startswith("Sections follow the guide"))
    assert "'past-present-future' (built-in)" in note and "fits:" in note
    assert m.parameters["guide_fit"]["poor"] is False
    assert set(m.parameters["guide_fit"]["share"]) == {"past", "present", "future"}


def test_same_input_gives_the_same_report(sample_report):
    out, written, report = sample_report
    again = build_report(out, Config(), "a later time")
    first = json.loads(written["json"].read_text(encoding="utf-8"))
    second = json.loads(again.model_dump_json())
    first.pop("generated_at"), second.pop("generated_at")
    second["figures"] = first["figures"]
    assert first == second
    assert again.method.report_sha256 == report.method.report_sha256


def test_takeaways_option_changes_the_count(themed_copy):
    # build_report adds the advice sentences' vectors to OUT/cache: a copy, not the session folder
    report = build_report(themed_copy, Config(report={"takeaways": 2}), STAMP)
    assert len(report.takeaways) == 2


def test_the_sample_switches_the_mentor_calls_profile_on(sample_report):
    _, written, report = sample_report
    assert report.profile.name == "mentor-calls"
    assert "the guide names it" in report.profile.reason
    assert {t.kind for t in report.takeaways} == {"advice"}
    md = written["md"].read_text(encoding="utf-8")
    assert "## Numbers people gave" in md and "Different is the norm" in md


def test_without_a_profile_findings_come_from_themes_and_domain_parts_are_gone(themed_copy):
    report = build_report(themed_copy, Config(report={"profile": "none"}), STAMP)
    assert report.profile.name == "none"
    assert report.numbers == [] and report.lists == [] and report.overview.backgrounds == []
    assert report.takeaways and {t.kind for t in report.takeaways} == {"theme"}
    for t in report.takeaways:
        assert t.support >= 2 and f"{t.support} of 11 conversations" in t.summary
        assert 1 <= len(t.headline.split()) <= 12 and t.headline[0].isupper()
        people = [q.interview_id for q in t.quotes]
        assert len(people) >= 2 and len(set(people)) == len(people)
        assert t.sections and set(t.sections) <= {"past", "present", "future"}
    supports = [t.support for t in report.takeaways]
    assert max(supports) >= 2
    md = render_markdown(report)
    assert "## Findings" in md and "## Takeaways" not in md
    assert "Numbers people gave" not in md and "Different is the norm" not in md
    assert "Lists people enumerated" not in md
    assert "Report profile: none (report.profile is none)" in md


HOSTILE = (
    "<script>alert(1)</script> [a link](http://evil.example) {{ template }} "
    "<img src=x onerror=alert(2)>"
)


def _hostile(report: Report) -> Report:
    data = json.loads(report.model_dump_json())
    data["takeaways"][0]["headline"] = HOSTILE
    data["takeaways"][0]["quotes"][0]["text"] = HOSTILE
    data["sections"][0]["themes"][0]["summary"] = HOSTILE
    data["overview"]["backgrounds"].append(HOSTILE)
    return Report.model_validate(data)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def test_transcript_text_is_escaped_and_the_page_is_offline(sample_report):
    _, written, report = sample_report
    hostile = _hostile(report)
    page = render_html(hostile, {"themes_by_section": b"png", "numbers": b"png"})
    assert "<script>" not in page and "<img src=x" not in page
    assert html.escape(HOSTILE) in page
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "link" not in parser.tags and "iframe" not in parser.tags
    assert all(u.startswith("data:image/png;base64,") or u.startswith("#") for u in parser.urls), (
        parser.urls
    )
    markdown = render_markdown(hostile)
    assert "<script>" not in markdown and "[a link](" not in markdown and "\\<script\\>" in markdown
    # the real page: every quote is there, escaped
    real = written["html"].read_text(encoding="utf-8")
    for t in report.takeaways:
        for q in t.quotes:
            assert html.escape(q.text) in real


def test_background_normalisation():
    assert (
        normalise_background("BS and MS electrical engineering (power systems)")
        == "electrical engineering"
    )
    assert normalise_background(" PhD physics") == "physics"
    assert normalise_background("MBA") == "MBA"


def _chromium() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


def test_report_renders_in_headless_chromium(sample_report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "headless Chromium is not installed and `make test` could not install it "
            "(needs root and apt)"
        )
    page = sample_report[1]["html"].resolve()
    shot = tmp_path / "report.png"
    base = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--user-data-dir=" + str(tmp_path / "profile"),
    ]
    subprocess.run(
        [*base, "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from PIL import Image

    image = Image.open(shot).convert("L")
    assert image.size == (1200, 2400)
    low, high = image.getextrema()
    assert high - low > 100, "the screenshot is blank"
    dom = subprocess.run(
        [*base, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for section in ("overview", "sections", "takeaways", "numbers", "lists", "rare", "method"):
        assert f'id="{section}"' in dom, section
    assert dom.count('class="takeaway"') == 4


def test_cli_report_prints_where_the_files_are(cli, sample_out, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sample_out, out)  # the other tests read sample_out's report
    proc = cli("report", "--out", out, "--takeaways", "3")
    assert proc.returncode == 0, proc.stderr
    for name in ("report.html", "report.md", "report.json"):
        assert str(out / "report" / name) in proc.stderr  # messages go to stderr, results to stdout
    assert len(json.loads((out / "report" / "report.json").read_text())["takeaways"]) == 3


def test_cli_report_without_themes_is_one_clear_line(cli, tmp_path):
    proc = cli("report", "--out", tmp_path)
    assert proc.returncode == 1
    assert "run `insights ingest" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_prints_the_schema(cli):
    proc = cli("report", "--schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert {"overview", "sections", "takeaways", "numbers", "lists", "rare", "method"} <= set(
        schema["properties"]
    )
