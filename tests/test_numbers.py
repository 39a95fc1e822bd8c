"""Number extraction: many ways people say quantities, and arbitrary text never breaks it."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.report.numbers import extract_quantities


def only(text, context=None):
    found = extract_quantities(text, context)
    assert len(found) == 1, f"{text!r} -> {found}"
    q = found[0]
    return q.kind, q.low, q.high


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10 hrs/week", ("hours_per_week", 10, 10)),
        ("ten hours a week", ("hours_per_week", 10, 10)),
        ("I do about 12 hours per week on it", ("hours_per_week", 12, 12)),
        ("between 5 and 20 hours a week per client", ("hours_per_client_week", 5, 20)),
        ("between five and twenty hours a week", ("hours_per_week", 5, 20)),
        ("Each one is roughly ten, twelve hours a week.", ("hours_per_client_week", 10, 12)),
        ("I'm about eight to ten hours per client per week.", ("hours_per_client_week", 8, 10)),
        ("Roughly 10 hrs/week per client", ("hours_per_client_week", 10, 10)),
        ("maybe 2-3 hrs/week", ("hours_per_week", 2, 3)),
        ("So the full-time job is forty-ish hours.", ("hours_per_week", 40, 40)),
        ("each maybe twenty hours a week", ("hours_per_client_week", 20, 20)),
        ("twenty-five hours weekly", ("hours_per_week", 25, 25)),
        ("2 or 3 clients at a time", ("clients_at_once", 2, 3)),
        ("I usually have two or three clients", ("clients_at_once", 2, 3)),
        ("I have three clients right now.", ("clients_at_once", 3, 3)),
        ("Right now I've got two clients.", ("clients_at_once", 2, 2)),
        ("Two or three at a time.", ("clients_at_once", 2, 3)),
        ("I'm at a hundred and ten an hour for new clients.", ("hourly_rate", 110, 110)),
        ("About ninety-five bucks an hour.", ("hourly_rate", 95, 95)),
        ("One-seventy-five an hour.", ("hourly_rate", 175, 175)),
        ("one hundred and five dollars per hour", ("hourly_rate", 105, 105)),
        ("Started at $30/hr because", ("hourly_rate", 30, 30)),
        ("she was at ~$90/hr", ("hourly_rate", 90, 90)),
        ("I charge $120 per hour", ("hourly_rate", 120, 120)),
        ("two thousand bucks, flat", ("project_price", 2000, 2000)),
        ("a $10k project", ("project_price", 10000, 10000)),
        ("I quit my job to go freelance four years ago", ("years", 4, 4)),
        ("there are three ways to get clients", ("count_of", 3, 3)),
    ],
)
def test_phrasings(text, expected):
    context = (
        "How many clients do you have?" if "at a time" in text and "client" not in text else None
    )
    if context:
        assert only(text, f"{text} {context}") == expected
    else:
        assert only(text) == expected


def test_range_and_approximation_are_kept():
    (q,) = extract_quantities("maybe six, seven hours a week")
    assert (q.low, q.high, q.value, q.approximate) == (6, 7, 6.5, True)
    assert q.span == "six, seven hours a week"


@pytest.mark.parametrize(
    "text",
    [
        "So much of my work came from one client telling another client.",
        "I try to apply in the first hour after the job is posted.",
        "if I had three or four clients at my rate I'd make more",
        "I have until the top of the hour.",
        "The first client was my old employer.",
        "It was 2019 when I started.",
    ],
)
def test_things_that_are_not_quantities(text):
    assert [q for q in extract_quantities(text) if q.kind != "years"] == []


def test_per_client_comes_from_context():
    text = "That's about twenty hours a week."
    (alone,) = extract_quantities(text)
    assert alone.kind == "hours_per_week"
    (with_context,) = extract_quantities(text, "The other client is smaller. " + text)
    assert with_context.kind == "hours_per_client_week"


def test_offsets_point_at_the_span():
    text = "Honestly? I charge a hundred and twenty an hour, and I have 3 clients now."
    for q in extract_quantities(text):
        assert text[q.start : q.end] == q.span


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_text_is_safe(text):
    for q in extract_quantities(text):
        assert text[q.start : q.end] == q.span
        assert q.low <= q.high


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "ten",
                "hours",
                "a",
                "week",
                "per",
                "client",
                "two",
                "or",
                "three",
                "clients",
                "$",
                "5",
                "-",
                "20",
                "an",
                "hour",
                "between",
                "and",
                "hundred",
                ",",
                "about",
                "each",
            ]
        ),
        max_size=25,
    )
)
def test_number_soup_is_safe(words):
    text = " ".join(words)
    for q in extract_quantities(text):
        assert text[q.start : q.end] == q.span and 0 <= q.low <= q.high
