"""The report judge (pipeline/evaluate/report.py): each check on hand-written texts and reports.

Tests of the grammar rules load the spaCy tagger and are marked slow; the surface rules
(markers, filler, length, placeholders, quotes) fail before any tagging, so they are fast.
"""

import copy
import json

import pandas as pd
import pytest

from pipeline.evaluate.report import (
    InterviewerWords,
    discourse_marker,
    evaluate_report,
    evaluate_report_data,
    filler,
    finding_quote_problem,
    interviewer_speakers,
    is_well_formed_headline,
    is_well_formed_summary,
    label_placeholder,
    number_single_conversation,
    quote_is_clean,
    quotes_in,
    stutter,
    summary_problem,
    takeaway_summary,
)

# ------------------------------------------------------------------ headlines: surface rules


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Let's say you have a history data set", "discourse marker"),
        ("Let’s say handling Unicode", "discourse marker"),  # curly apostrophe
        ("Say worse data", "discourse marker"),  # "say" = "for example"
        ("Say you have a big client", "discourse marker"),  # "say" = "suppose"
        ("And charge more for rush jobs", "discourse marker"),
        ("So the rates went up", "discourse marker"),
        ("But clients pay late", "discourse marker"),
        ("Well the market is small", "discourse marker"),
        ("Yeah rates matter", "discourse marker"),
        ("Okay pricing first", "discourse marker"),
        ("Because clients pay late", "discourse marker"),
        ("Or charge by the day", "discourse marker"),
        ("Right, charge by the day", "discourse marker"),
        ("First, pick a niche", "discourse marker"),
        ("Like, pick a niche", "filler"),
        ("Come on", "conversational formula"),
        ("Makes sense", "conversational formula"),
        ("Let's sort all those out", "conversation management"),
        ("Let you respond to each of those in turn", "conversation management"),
        ("If well maintained just means sort of… There’s people there", "ellipsis"),
        ("Charge more... for rush jobs", "ellipsis"),
        ("…", "no words"),
        ("", "empty"),
        ("How do you find clients?", "question"),
        ("Pricing", "too short"),
        (" ".join(["word"] * 17), "too long"),
        ("Um charge more for rush jobs", "filler"),
        ("Charge, you know, more", "filler"),
        ("Charge the the client more", "stutter"),
        ("I, I charge more", "stutter"),
        ("Charge more -- rush jobs", "false start"),
        ("Pull in the projects or whatever it is", "vague tail"),
        ("Handling Unicode or something like that", "vague tail"),
        ("Referrals from Company 1", "placeholder"),
        ("Pricing [inaudible] matters", "placeholder"),
        ("> TERRI: pricing matters", "markup"),
        ("Pricing (per project matters", "unbalanced"),
        ("Charge more for rush jobs,", "cut off"),
    ],
)
def test_headline_surface_rules_reject(text, reason):
    ok, why = is_well_formed_headline(text)
    assert not ok
    assert reason in why


def test_discourse_marker_is_a_whole_word_and_knows_its_exceptions():
    assert discourse_marker("So many people underprice") is None
    assert discourse_marker("Now is the time to specialise") is None
    assert discourse_marker("Now, specialise") == "Now"
    assert discourse_marker("Well-paid gigs are rare") is None
    assert discourse_marker("Oregon clients pay well") is None  # "Or" is not a prefix match
    assert discourse_marker("Andrew found clients") is None
    assert discourse_marker("Say no to scope creep") is None
    assert discourse_marker("“So it goes”") == "So"  # after an opening quote mark


def test_filler_and_stutter_detectors():
    assert filler("It was, like, fine.") == "like"
    assert filler("I like dogs.") is None  # the verb
    assert filler("Do you know Python?") is None  # not set off
    assert filler("I mean, it works.") == "I mean"
    assert filler("What I mean is that it works.") is None
    assert filler("It was uh fine.") == "uh"
    assert filler("The rumours were fine.") is None  # "um" inside a word
    assert stutter("I had had enough.") is None  # grammatical doubling
    assert stutter("I know that that is wrong.") is None
    assert stutter("We we charge more.") == "We we"
    assert stutter("It was the the best.") == "the the"
    assert stutter("It was fine. It was good.") is None  # across a full stop


def test_headline_copied_from_an_interviewer_question():
    said = InterviewerWords.from_turns(
        [("a", "Thanks. How do you find your first clients? Tell me more.")]
    )
    ok, why = is_well_formed_headline("How do you find your first clients", said)
    assert not ok and "interviewer's question" in why
    # Three words are too few to count as a copy, and plain statements are not questions.
    assert said.copied("find your first") is None
    assert said.copied("Tell me more about it") is None
    # Read out in two conversations: material the interviewer showed.
    shown = InterviewerWords.from_turns(
        [
            ("a", "> 1. There are people to triage issues."),
            ("b", "There are people to triage issues"),
        ]
    )
    assert "read out (2 conversations)" in shown.copied("There are people to triage issues.")
    once = InterviewerWords.from_turns([("a", "You said: work on green field ideas.")])
    assert once.copied("Work on green field ideas") is None  # an interviewee's words read back


def test_a_plain_list_of_questions_is_accepted():
    ok, why = is_well_formed_headline(
        "What do clients pay per project", ["So what do clients pay per project?"]
    )
    assert not ok and "interviewer" in why


# ------------------------------------------------------------------ headlines: grammar (spaCy)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Pushed it", "no subject"),  # past tense, subject left behind
        ("Pushed the release", "no subject"),
        ("Can gum up the entire system", "no subject: starts with the modal"),
        ("Should raise the rates", "modal"),
        ("Depends on the client", "no subject"),
        ("Is worth the money", "no subject"),
        ("Do you charge hourly", "question without"),
        ("Work on these sort", "needs its 'of"),
        ("Get a couple", "needs its 'of"),
        ("Work on these", "determiner"),
        ("Look at the", "determiner"),
        ("Think about", "preposition"),
        ("Charge more because", "conjunction"),
        ("Raise your rates and", "conjunction"),
        ("Try not to", "particle"),
        ("Never put yourself", "no noun, and ends in the pronoun"),
        ("Look at it", "no noun, and ends in the pronoun"),
        ("That also like", "ends in 'like'"),
        ("Be really", "needs what it qualifies"),
        ("Don't have to be about burnout I guess", "hedge"),
        ("Charge more. Clients pay", "more than one sentence"),
    ],
)
def test_headline_grammar_rejects(text, reason):
    ok, why = is_well_formed_headline(text)
    assert not ok, text
    assert reason in why


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        # "Read the profile": an imperative with a concrete object is well-formed; whether it
        # says enough is a matter of content, which these checks do not judge.
        "Read the profile",
        "Raise your rates",
        "Referrals from past clients",  # a noun phrase
        "Building a portfolio takes time",  # a full clause
        "Companies rarely fund the infrastructure they use",
        "Open source needs paid maintainers",
        "Pricing by value, not by the hour",
        "Believe in yourself",  # reflexive after a preposition
        "Follow up",  # phrasal-verb particle
        "Put it off",
        "Charge more",
        "Paid per project",  # a participle phrase, not a subjectless past tense
        "Based on referrals",
        "Do what you can",  # auxiliary after a wh-word
        "Find work you're proud of",  # preposition stranded by a relative clause
        "Find out who you are",
        "Say no to scope creep",
        "Don't undercharge",
        "Be honest with clients",
        "How to price a project",
        "So many people underprice",
        "Specialise early",
    ],
)
def test_headline_grammar_accepts(text):
    assert is_well_formed_headline(text) == (True, "")


# ------------------------------------------------------------------ summaries


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("So… The vast majority of the budget comes from PyCon.", "discourse marker"),
        ("Like, there's number 11 is maintainers not burning out themselves.", "filler"),
        ("So, you know, there are people to communicate to, is pretty much it.", "filler"),
        ("And part of the way we structured Warehouse was to reduce that burden.", "marker"),
        ("Charge more.", "too short"),
        (" ".join(["word"] * 61) + ".", "too long"),
        ("How much would you charge for a project like this one?", "question"),
        ("Five minutes from now… Or responding to issues, or whatever.", "ellipsis"),
        ("There are people to make sure a project is keeping up (ex: compat, etc.) >", "markup"),
    ],
)
def test_summary_rejects(text, reason):
    ok, why = is_well_formed_summary(text)
    assert not ok
    assert reason in why


@pytest.mark.slow
def test_summary_accepts_a_sentence_as_said_and_rejects_a_cut_one():
    good = "People are always surprised that it had been around for so long."
    assert is_well_formed_summary(good) == (True, "")
    assert is_well_formed_summary("I think you should specialise early in your career.")[0]
    assert "determiner" in summary_problem("We started to work on the projects with the")
    assert "conjunction" in summary_problem("We started to work on the projects and")


# ------------------------------------------------------------------ quotes


@pytest.mark.parametrize(
    "text",
    [
        "I charge by the project.",
        "“Raise your rates,” she said.",
        '"Raise your rates."',
        "2019 was the year I quit.",
        "Is it worth it?",
        "Zofia said so!",
        "I had had enough of it.",
        "It was fine (mostly).",
        "我们按项目收费。",  # a script without letter case
    ],
)
def test_clean_quotes(text):
    assert quote_is_clean(text) == (True, "")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (", and then we left.", "starts mid-sentence"),
        ("and then we left.", "starts mid-sentence (lowercase"),
        ("…so I left.", "starts mid-sentence"),
        ("> _Source: Terri-1_ > > TERRI: Well, yes.", "starts mid-sentence"),
        ("I left and then…", "trails off"),
        ("I left and then...", "trails off"),
        ("I left and", "ends mid-sentence"),
        ("We charge per project,", "ends mid-sentence"),
        ("Um, I charge by the project.", "filler"),
        ("I think, you know, it works.", "filler"),
        ("It was, like, fine.", "filler"),
        ("I, I charge by the project.", "stutter"),
        ("We charge the the same.", "stutter"),
        ("I work in a department that's -- so, we work openly.", "false start"),
        ("Well, yes. TERRI: No.", "speaker label"),
        ("It was fine \\[04:10\\] and then it was not.", "timestamp"),
        ("Are they burning out? > 1. Are they?", "markup"),
        ("", "empty"),
    ],
)
def test_unclean_quotes(text, reason):
    ok, why = quote_is_clean(text)
    assert not ok
    assert reason in why


# ------------------------------------------------------------------ labels, findings, numbers


@pytest.mark.parametrize(
    "label",
    [
        "xxxx",
        "XXX pricing",
        "[inaudible]",
        "[crosstalk]",
        "inaudible",
        "Company 1",
        "participant 2",
        "PERSON_1",
        "<redacted>",
        "[name]",
        "00:12:03",
        "rates · 04:10",
    ],
)
def test_placeholders_found(label):
    assert label_placeholder(label) is not None


@pytest.mark.parametrize(
    "label",
    ["pricing · clients", "open source", "web3", "24/7", "person", "company", "tax", "x-ray"],
)
def test_no_placeholder(label):
    assert label_placeholder(label) is None


def _quote(conversation, text="I charge by the project.", **extra):
    return {
        "text": text,
        "interview_id": conversation,
        "speaker": conversation.upper(),
        "where": f"{conversation}.md, line 1",
        "source_file": f"{conversation}.md",
        **extra,
    }


def test_finding_quotes_from_distinct_conversations():
    assert finding_quote_problem({"quotes": [_quote("a"), _quote("b", "We bill daily.")]}) is None
    assert "one conversation" in finding_quote_problem(
        {"quotes": [_quote("a"), _quote("a", "We bill daily.")]}
    )
    assert "same text" in finding_quote_problem({"quotes": [_quote("a"), _quote("b")]})
    assert "1 conversation" in finding_quote_problem({"quotes": [_quote("a")]})


def test_number_family_from_one_conversation():
    one = {"mentions": [{"quote": _quote("a")}, {"quote": _quote("a", "Twenty hours.")}]}
    two = {"mentions": [{"quote": _quote("a")}, {"quote": _quote("b")}]}
    assert number_single_conversation(one) == "a"
    assert number_single_conversation(two) is None
    assert number_single_conversation({"mentions": [], "n_conversations": 1}) == "?"


def test_summary_field_wins_over_lesson():
    assert (
        takeaway_summary({"lesson": "L one two three four five."}) == "L one two three four five."
    )
    assert takeaway_summary({"lesson": "L.", "summary": "S."}) == "S."
    assert takeaway_summary({"lesson": "L.", "summary": ""}) == "L."
    assert takeaway_summary({}) is None


def test_quotes_found_anywhere_even_in_new_fields():
    report = {"a": [{"b": _quote("x", verbatim="Uh, I charge.")}], "new": {"q": _quote("y")}}
    found = dict(quotes_in(report))
    assert set(found) == {"a[0].b", "new.q"}


def test_interviewer_is_the_speaker_who_recurs():
    rows = []
    for i in range(4):  # MEL interviews four people; roles are swapped in the last call
        swapped = i == 3
        rows += [
            (f"c{i}", "MEL", "interviewee" if swapped else "interviewer"),
            (f"c{i}", f"P{i}", "interviewer" if swapped else "interviewee"),
        ]
    rows += [("c1", "ERNEST", "interviewer")]  # one call's guest labelled interviewer
    turns = pd.DataFrame(rows, columns=["interview_id", "speaker", "role"])
    assert interviewer_speakers(turns) == {"MEL"}


# ------------------------------------------------------------------ whole reports


def _report():
    """A small report.json written by hand: one good finding, one bad, and the rest."""
    good_quotes = [
        _quote("a", "I send the contract before any work starts."),
        _quote("b", "Nobody starts without a signed contract, ever."),
    ]
    return {
        "schema_version": 1,
        "title": "t",
        "overview": {"conversations": 3},
        "takeaways": [
            {
                "rank": 1,
                "kind": "advice",  # a field added later: ignored
                "headline": "Sign the contract before the work starts",
                "lesson": "Always sign the contract before you start any of the work.",
                "lesson_source": good_quotes[0],
                "interviews": ["a", "b"],
                "support": 2,
                "quotes": good_quotes,
            },
            {
                "rank": 2,
                "headline": "Pushed it",
                "summary": "So, you know, we pushed it to the next week.",
                "lesson": "We pushed it to the next week and then the week after.",
                "interviews": ["c"],
                "support": 1,
                "quotes": [_quote("c", "and we, we pushed it…", verbatim="and we, we pushed it…")],
            },
        ],
        "sections": [
            {
                "name": "past",
                "themes": [
                    {
                        "label": "rates · xxxx",
                        "keywords": ["rates", "[inaudible]"],
                        "summary": "We raised our rates every year after the first client.",
                        "summary_source": _quote("a", "We raised our rates every year."),
                        "quote": _quote("b", "Rates went up, like, every year."),
                    }
                ],
            }
        ],
        "numbers": [
            {"label": "hourly rate", "mentions": [{"quote": _quote("a")}, {"quote": _quote("b")}]},
            {"label": "clients at once", "mentions": [{"quote": _quote("c")}]},
        ],
        "lists": [{"kind": "k", "items": [{"item": "Company 1", "quote": _quote("a")}]}],
        "rare": [{"headline": "Come on", "quote": _quote("c", "Come on, keyboard.")}],
    }


def _checks(result):
    return {c["check"]: c for c in result["checks"]}


@pytest.mark.slow
def test_a_hand_written_report():
    result = evaluate_report_data(_report())
    checks = _checks(result)
    assert result["counts"]["takeaways"] == 2
    assert result["counts"]["quotes"] == 11
    c = checks["finding headlines well-formed"]
    assert (c["value"], c["passed"], c["n"]) == (0.5, False, 2)
    assert [e["text"] for e in c["examples"]] == ["Pushed it"]
    c = checks["finding summaries well-formed"]
    # The second finding's `summary` is judged, not its (clean) lesson.
    assert c["value"] == 0.5 and "you know" in c["examples"][0]["reason"]
    assert checks["theme summaries well-formed"]["value"] == 1.0
    assert checks["rare-point headlines well-formed"]["value"] == 0.0
    c = checks["quotes clean"]
    assert c["n"] == 11 and c["failures"] == 2  # the stutter that trails off; ", like,"
    assert checks["findings from >= 2 conversations"]["value"] == 0.5
    c = checks["quotes per finding, distinct conversations"]
    assert c["value"] == 1.5 and c["passed"] is False
    c = checks["number families from one conversation"]
    assert (c["value"], c["examples"][0]["text"]) == (1, "clients at once")
    c = checks["labels with placeholders"]
    assert c["value"] == 3  # "rates · xxxx", "[inaudible]", "Company 1"
    assert {e["where"] for e in c["examples"]} == {
        "sections[0].themes[0].label",
        "sections[0].themes[0].keywords[1]",
        "lists[0].items[0].item",
    }
    assert checks["quotes by an interviewer"]["passed"] is None  # no turns: n/a


def test_a_report_without_findings_or_themes_is_all_n_a():
    result = evaluate_report_data({"title": "empty", "takeaways": [], "sections": []})
    checks = _checks(result)
    for name in (
        "finding headlines well-formed",
        "finding summaries well-formed",
        "theme summaries well-formed",
        "quotes clean",
        "findings from >= 2 conversations",
        "quotes per finding, distinct conversations",
    ):
        assert checks[name]["value"] is None and checks[name]["passed"] is None, name
    assert checks["number families from one conversation"]["passed"] is True
    assert checks["labels with placeholders"]["value"] == 0


def test_a_report_with_garbage_fields_does_not_break():
    result = evaluate_report_data({"takeaways": [None, 3, {"quotes": "x"}], "sections": "?"})
    assert _checks(result)["findings from >= 2 conversations"]["value"] == 0.0


@pytest.mark.slow
def test_evaluate_report_reads_turns_for_the_interviewer_checks(tmp_path):
    report = _report()
    report["takeaways"][0]["quotes"].append(_quote("c", "How do you price your work?"))
    report["takeaways"][0]["quotes"][-1]["speaker"] = "MEL"
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.json").write_text(json.dumps(report), encoding="utf-8")
    rows = [
        (c, "MEL", "interviewer", "Sign the contract before the work starts? Yes.") for c in "abc"
    ]
    rows += [(c, c.upper(), "interviewee", "I charge by the project.") for c in "abc"]
    pd.DataFrame(rows, columns=["interview_id", "speaker", "role", "text"]).to_parquet(
        tmp_path / "turns.parquet"
    )
    checks = _checks(evaluate_report(tmp_path))
    assert checks["quotes by an interviewer"]["value"] == 1
    heads = checks["finding headlines well-formed"]["examples"]
    assert "interviewer's question" in heads[0]["reason"]


def test_evaluate_report_without_a_report(tmp_path):
    with pytest.raises(FileNotFoundError, match="insights report"):
        evaluate_report(tmp_path)


@pytest.mark.slow
def test_cli_table_and_json(tmp_path, cli):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.json").write_text(json.dumps(_report()), encoding="utf-8")
    shown = cli("evaluate", "report", "--out", tmp_path)
    assert shown.exit_code == 0, shown.output
    assert "finding headlines well-formed" in shown.stdout and "FAIL" in shown.stdout
    assert "'Pushed it'" in shown.stdout  # the offending item is listed
    as_json = cli("evaluate", "report", "--out", tmp_path, "--json")
    figures = json.loads(as_json.stdout)
    assert _checks(figures)["number families from one conversation"]["value"] == 1
    assert not (tmp_path / "run.log").exists()  # it only reads OUT


def test_cli_without_a_report_fails_with_one_line(tmp_path, cli):
    result = cli("evaluate", "report", "--out", tmp_path)
    assert result.exit_code == 1
    assert "run `insights report`" in result.stderr


@pytest.mark.slow
def test_the_hand_written_report_is_left_as_it_was():
    report = _report()
    before = copy.deepcopy(report)
    evaluate_report_data(report, examples=0)
    assert report == before
