"""Hostile and oversized input: a 100k-word turn, megabyte lines, text that looks like code.

Nothing here asserts a duration (speed is measured by ``bench/long_input.py``): an
input that sent a regex or a join quadratic would make these tests hang until CI's
time limit, which is the failure they guard against. Every transcript is synthetic.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pandas as pd
import pytest
from factories import write_text
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core import nlp
from pipeline.core.catalog import TURNS, read_table
from pipeline.core.config import Config
from pipeline.ingest import run as ingest
from pipeline.ingest.clean import STAGE_DIRECTION_RE, clean_text
from pipeline.ingest.turn_parser import parse_text
from pipeline.passages import MAX_CHUNK_CHARS, build_passages, split_for_nlp
from pipeline.passages import build as passages_module

MB = 1024 * 1024
_VOCABULARY = """
we clients project data model pipeline analysis started studied worked moved found learned built
shipped priced charged wrote asked physics statistics python notebooks dashboards reports contracts
invoices rates hours weeks months years first then later because while although freelance consulting
agency startup company team manager budget deadline scope market network referral meetup portfolio
""".split()


def flat(text: str) -> str:
    return " ".join(text.split())


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text))


def long_answer_lines(n_words: int, per_line: int = 11, seed: int = 3) -> list[str]:
    """``n_words`` words in sentences of 6-14 words, wrapped every ``per_line`` words, so
    most line breaks fall inside a sentence, as in typed notes."""
    rng = random.Random(seed)
    tokens: list[str] = []
    while len(tokens) < n_words:
        sentence = [
            rng.choice(_VOCABULARY) for _ in range(min(rng.randint(6, 14), n_words - len(tokens)))
        ]
        sentence[0] = sentence[0].capitalize()
        sentence[-1] += "."
        tokens += sentence
    return [" ".join(tokens[i : i + per_line]) for i in range(0, len(tokens), per_line)]


def dialogue(answer: str) -> str:
    return (
        "Interviewer: How did you find your first clients?\n"
        f"Maria: {answer}\n"
        "Interviewer: And what would you do differently today?\n"
        "Maria: I would raise my rates much earlier and write the scope down.\n"
    )


def transcript(answer: str) -> str:
    """A .txt transcript marked synthetic in its front matter."""
    return "---\nsynthetic: true\n---\n" + dialogue(answer)


# (a) one interviewee turn of 100,000 words over about 9,000 lines (through spaCy: slow)


@pytest.fixture(scope="module")
def huge_turn(tmp_path_factory):
    lines = long_answer_lines(100_000)
    raw = tmp_path_factory.mktemp("huge_raw")
    out = tmp_path_factory.mktemp("huge_out")
    write_text(raw / "synthetic-huge-turn.txt", transcript("\n".join(lines)))
    ingest(out, Config(), raw_dir=raw)
    turns = read_table(TURNS, out)
    return lines, turns, build_passages(turns, Config())


@pytest.mark.slow
def test_a_100k_word_turn_is_one_turn_with_every_line(huge_turn):
    lines, turns, _ = huge_turn
    assert list(turns.speaker) == ["Interviewer", "Maria", "Interviewer", "Maria"]
    long = turns.iloc[1]
    assert long.role == "interviewee"
    assert long.text == "\n".join(lines)
    assert sum(words(long.text).values()) == 100_000


@pytest.mark.slow
def test_the_passages_of_a_100k_word_turn_hold_every_word(huge_turn):
    lines, turns, passages = huge_turn
    long = turns.iloc[1]
    assert len(flat(long.text)) > MAX_CHUNK_CHARS  # spaCy read it in chunks
    mine = passages[passages.turn_index == long.turn_index].sort_values("passage_index")
    assert list(mine.passage_index) == list(range(len(mine)))
    assert len(mine) > 1000
    assert words(" ".join(mine.text)) == words(long.text)
    # Nothing lost, reordered or rewritten: the passages, in order, are the turn's text.
    assert " ".join(mine.text) == flat(long.text)
    assert (mine.role == "interviewee").all() and (mine.n_words >= 3).all()


def cut_offsets(chunks: list[str]) -> list[int]:
    """Where, in the flattened text, the space dropped at each cut between two chunks was."""
    cuts, at = [], -1
    for chunk in chunks[:-1]:
        at += len(chunk) + 1
        cuts.append(at)
    return cuts


def line_breaks(lines: list[str]) -> set[int]:
    """Offsets, in ``" ".join(lines)``, of the spaces that stand for line breaks."""
    ends, at = set(), -1
    for line in lines[:-1]:
        at += len(line) + 1
        ends.add(at)
    return ends


def test_chunks_are_cut_at_line_breaks_when_no_sentence_ends():
    lines = [line.replace(".", "") for line in long_answer_lines(3_000, per_line=7)]
    text = "\n".join(lines)
    chunks = split_for_nlp(text, limit=500)
    assert len(chunks) > 20 and all(0 < len(c) <= 500 for c in chunks)
    assert " ".join(chunks) == flat(text)
    assert set(cut_offsets(chunks)) <= line_breaks(lines)


def test_chunks_prefer_a_sentence_end_at_a_line_break():
    # Blocks of three lines: a sentence ends inside the first line and at the end of the
    # third; the second and the first break fall mid-sentence.
    rng = random.Random(5)
    lines = []
    for _ in range(300):
        w = [rng.choice(_VOCABULARY) for _ in range(20)]
        lines += [
            " ".join(w[:4]) + ". " + " ".join(w[4:7]).capitalize(),
            " ".join(w[7:14]),
            " ".join(w[14:]) + ".",
        ]
    text = "\n".join(lines)
    chunks = split_for_nlp(text, limit=500)
    assert " ".join(chunks) == flat(text) and all(len(c) <= 500 for c in chunks)
    block_ends = {at for k, at in enumerate(sorted(line_breaks(lines)), start=1) if k % 3 == 0}
    assert len(chunks) > 20 and set(cut_offsets(chunks)) <= block_ends


def test_chunks_without_line_breaks_are_cut_after_a_sentence_or_at_a_space():
    sentences = " ".join(long_answer_lines(2_000, per_line=10**6))
    chunks = split_for_nlp(sentences, limit=400)
    assert " ".join(chunks) == flat(sentences)
    assert all(c.endswith(".") for c in chunks[:-1])
    no_full_stops = sentences.replace(".", "")
    chunks = split_for_nlp(no_full_stops, limit=400)
    assert " ".join(chunks) == flat(no_full_stops) and all(len(c) <= 400 for c in chunks)
    assert words(" ".join(chunks)) == words(no_full_stops)  # no word was cut in two


def test_a_short_sentence_at_a_cut_is_kept_with_its_neighbour(monkeypatch):
    # Chunks of one line each (limit 600): every chunk ends with "Right." or starts with
    # "Sure." before a sentence too long to share a window. Alone, either is a window under
    # passages.min_words and would be dropped; a whole turn would have kept it.
    rng = random.Random(9)

    def sentence(n):
        return " ".join([rng.choice(_VOCABULARY) for _ in range(n)]).capitalize() + "."

    lines = []
    for k in range(12):
        if k % 2:
            lines.append("Sure. " + sentence(61))
        else:
            lines.append(" ".join(sentence(9) for _ in range(6)) + " Right.")
    text = "\n".join(lines)
    turns = pd.DataFrame(
        [
            {
                "interview_id": "x",
                "turn_index": 0,
                "speaker": "Maria",
                "role": "interviewee",
                "text": text,
                "clean_text": clean_text(text),
                "is_backchannel": False,
                "start": None,
                "end": None,
                "heading": None,
                "source_file": "x.txt",
                "source_line": 1,
                "source_page": None,
                "language": "en",
                "in_main_language": True,
            }
        ]
    )
    monkeypatch.setattr(passages_module, "MAX_CHUNK_CHARS", 600)
    assert split_for_nlp(text, 600) == lines
    got = build_passages(turns, Config())
    assert " ".join(got.text) == flat(text)
    assert got.text.str.contains("Right").sum() == 6 and got.text.str.startswith("Sure").sum() == 6


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(list("ab .?!\n\té") + ["[laughs]", "“x”", "word", "Sentence."]),
        max_size=120,
    ).map("".join),
    st.integers(min_value=1, max_value=60),
)
def test_chunks_cover_the_text_in_order_whatever_the_limit(text, limit):
    expected = flat(STAGE_DIRECTION_RE.sub(" ", text))
    chunks = split_for_nlp(text, limit)
    assert all(len(c) <= limit for c in chunks)
    if len(expected) <= limit:
        assert chunks == [expected]
        return
    assert all(chunks) and all(c == c.strip() for c in chunks)
    # Each chunk is the next slice of the text; at most one space between two chunks.
    at = 0
    for chunk in chunks:
        assert expected.startswith(chunk, at) or expected.startswith(" " + chunk, at)
        at += len(chunk) + (0 if expected.startswith(chunk, at) else 1)
    assert at == len(expected)


# (b) megabyte lines do not hang the turn parser (or cleaning, or spaCy)


def test_a_1_mb_line_without_spaces_parses_as_one_turn():
    blob = ("dataconsultingrates" * (MB // 19 + 1))[:MB]
    turns = parse_text(dialogue(blob)).turns
    assert [t.speaker for t in turns] == ["Interviewer", "Maria", "Interviewer", "Maria"]
    assert turns[1].text == blob


def test_a_line_of_50k_colons_parses_and_keeps_its_text():
    colons = ":" * 50_000
    turns = parse_text(
        f"Interviewer: Anything else?\nMaria: Yes.\n{colons}\nInterviewer: Thanks.\nMaria: Bye now."
    ).turns
    assert [t.speaker for t in turns] == ["Interviewer", "Maria", "Interviewer", "Maria"]
    assert turns[1].text == f"Yes.\n{colons}"
    assert parse_text(colons).turns[0].text == colons  # alone, as notes


@pytest.mark.parametrize(
    "line",
    [
        "Maria"
        + " " * MB
        + "x",  # a name, a run of blanks, no colon: the label regex backtracked (cubic)
        "Maria" + "\t" * MB + "x",
        "00:12" + " " * MB + "x",  # after a timestamp
        "[00:12]" + " " * MB + "x",
        "**a**" + " " * MB + "x",  # a bold line that is not a heading
        "- " + " " * MB + "x",
    ],
    ids=[
        "name-spaces",
        "name-tabs",
        "timestamp-spaces",
        "bracketed-timestamp-spaces",
        "bold-spaces",
        "bullet-spaces",
    ],
)
def test_long_runs_of_blanks_do_not_hang_the_parser(line):
    text = (
        f"Interviewer: Tell me more?\nMaria: Sure.\n{line}\nInterviewer: Thanks.\nMaria: Bye now."
    )
    turns = parse_text(text).turns
    assert [t.speaker for t in turns] == ["Interviewer", "Maria", "Interviewer", "Maria"]
    # A bracketed timestamp opening a paragraph marks the time, it is not said.
    said = line[len("[00:12]") :] if line.startswith("[00:12]") else line
    assert flat(turns[1].text) == flat(f"Sure. {said}")


def test_a_heading_line_of_a_million_hashes_does_not_hang_the_parser():
    # A lazy "(?P<h>.+?)[ \t#]*$" retried the trailing run at every position: quadratic.
    line = "# " + " #" * (MB // 2) + " x"
    parsed = parse_text(f"Maria: Sure.\n{line}\nSam: Thanks?\nMaria: Bye now.\nSam: Bye.")
    assert parsed.headings == [line]
    assert [t.heading for t in parsed.turns] == [
        None,
        flat(line[2:]),
        flat(line[2:]),
        flat(line[2:]),
    ]


@pytest.mark.parametrize(
    "text, cleaned",
    [
        ("like, " * 200_000 + "I quit.", "I quit."),  # fillers leave a long run of blanks behind
        ("you know, " * 100_000 + "I quit.", "I quit."),
        ("m" * MB + "x", "m" * MB + "x"),  # "m+m+" backtracked over every split of the run
        ("Um " + " " * MB + ", so", "So"),
    ],
    ids=["likes", "you-knows", "m-run", "blank-run"],
)
def test_cleaning_megabyte_strings_finishes(text, cleaned):
    assert clean_text(text) == cleaned


@pytest.mark.slow
def test_a_1_mb_line_goes_through_ingest_and_spacy(tmp_path):
    # Longer than spaCy's nlp.max_length: build_passages used to raise E088 on it.
    blob = ("dataconsultingrates" * (MB // 19 + 1))[:MB]
    assert len(blob) > nlp.english().max_length
    answer = f"I sent them this. {blob} That was the whole file."
    write_text(tmp_path / "raw" / "synthetic-blob.txt", transcript(answer))
    ingest(tmp_path / "out", Config(), raw_dir=tmp_path / "raw")
    turns = read_table(TURNS, tmp_path / "out")
    assert turns.text.iloc[1] == answer
    passages = build_passages(turns, Config())
    mine = passages[passages.turn_index == 1]
    assert "I sent them this." in " ".join(mine.text) and "That was the whole file." in " ".join(
        mine.text
    )


# (c) text that looks like markup or code is plain text


MARKUP = [
    "I wrote <b>x</b> in bold on every invoice.",
    "Someone pasted <script>alert(1)</script> into my contact form.",
    "My portfolio is at [x](http://e.com) and it brings leads.",
    "The email template said {{ template }} instead of their name.",
    "Jinja blocks like {% if %} broke the report for weeks.",
    "I just ran `pip install pandas` and it worked.",
    "The CSV had Tom &amp; Jerry and &lt;b&gt; in every cell.",
    "The path was C:\\Users\\maria\\data and ${HOME}/data on Linux, 100% sure.",
    "Pricing went ```python print(rate)``` in the proposal, can you believe it.",
    'Use <!-- hidden --> comments and <a href="http://e.com?a=1&b=2">links</a> sparingly.',
]


@pytest.fixture(scope="module")
def markup_out(tmp_path_factory):
    raw = tmp_path_factory.mktemp("markup_raw")
    out = tmp_path_factory.mktemp("markup_out")
    body = "".join(f"Interviewer: What happened next?\nMaria: {line}\n" for line in MARKUP)
    write_text(raw / "synthetic-markup.md", "---\nsynthetic: true\n---\n" + body)
    ingest(out, Config(), raw_dir=raw)
    turns = read_table(TURNS, out)
    return turns, build_passages(turns, Config())


def test_markup_is_kept_verbatim_in_turns(markup_out):
    turns, _ = markup_out
    answers = turns[turns.speaker == "Maria"]
    assert list(answers.text) == MARKUP
    assert (answers.role == "interviewee").all()


def test_markup_is_kept_verbatim_in_passages(markup_out):
    turns, passages = markup_out
    answers = turns[turns.speaker == "Maria"]
    for turn_index, line in zip(answers.turn_index, MARKUP):
        mine = passages[passages.turn_index == turn_index].sort_values("passage_index")
        assert " ".join(mine.text) == line, line
