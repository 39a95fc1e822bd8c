"""The schema of ``report.json``: the one source of every number and quote in the report.

The HTML and Markdown renderers read only a :class:`Report`; nothing they show is
computed anywhere else. ``insights report --schema`` prints this as JSON Schema.
Bump :data:`SCHEMA_VERSION` when a field changes meaning or disappears.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Quote(_Model):
    text: str = Field(
        description="The words shown: whole sentences in clean verbatim (fillers, stutters and "
        "repetitions removed; report.verbatim: strict keeps them), '…' where words were cut."
    )
    verbatim: str = Field(
        "", description="The exact words of the source that the quote shows (filler kept)."
    )
    interview_id: str
    speaker: str
    where: str = Field(description="Where to find it: file plus timestamp, or page and/or line.")
    source_file: str
    line: int | None = None
    page: int | None = None
    timestamp: str | None = Field(
        None, description="hh:mm:ss from the start of the recording, when known."
    )
    section: str | None = None
    passage_id: str | None = None


class Overview(_Model):
    conversations: int
    words: int
    interviewee_words: int
    date_range: list[str] = Field(
        description="[first, last] ISO dates from metadata; empty when none given."
    )
    languages: dict[str, int] = Field(description="Language code -> number of conversations.")
    main_language: str
    folders: dict[str, int]
    backgrounds: list[str] = Field(
        description="Distinct educational backgrounds, from metadata and from what people said."
    )
    backgrounds_by_interview: dict[str, list[str]]
    background_quotes: list[Quote] = Field(default_factory=list)


class SectionTheme(_Model):
    theme_id: int
    label: str
    keywords: list[str]
    conversations: int = Field(
        description="Conversations with at least one passage of this theme in this section."
    )
    passages: int
    summary: str = Field(
        description="One sentence from the text, central to the theme in this section."
    )
    summary_source: Quote
    quote: Quote


class Section(_Model):
    name: str
    description: str
    passages: int
    conversations: int
    themes: list[SectionTheme]


class Takeaway(_Model):
    rank: int
    kind: str = Field(
        "advice",
        description="'advice' (grouped from advice people gave) or 'theme' (a finding made from "
        "a theme: what people said about it).",
    )
    headline: str
    summary: str = Field("", description="One sentence: support, subject and where it sits.")
    lesson: str = Field(
        description="One sentence central to the finding, as said (advice-like for advice)."
    )
    lesson_source: Quote
    keywords: list[str]
    support: int = Field(
        description="Conversations that gave this advice, or that raise the theme substantively."
    )
    also_discussed: int = Field(
        description="Further conversations that touch it: close to the advice without giving "
        "it, or with a passing passage in the theme."
    )
    conversations: int = Field(description="Total conversations in the report (the denominator).")
    strength: float = Field(
        description="Mean advice score x cohesion of its points, 0..1; breaks ties in the ranking."
    )
    interviews: list[str]
    quotes: list[Quote] = Field(description="2-3 quotes, each from a different person.")
    sections: dict[str, int] = Field(
        default_factory=dict, description="Guide section -> passages of it there (themes)."
    )
    theme_id: int | None = None


class ContextTheme(_Model):
    theme_id: int
    headline: str
    keywords: list[str]
    conversations: int
    keyword_spread: dict[str, float] = Field(
        description="Keyword -> share of all conversations whose speech uses it."
    )
    reason: str


class ProfileInfo(_Model):
    name: str = Field(description="The report profile in use, or 'none'.")
    reason: str = Field(description="Why it is on or off, with the figures.")
    parts: list[str] = Field(default_factory=list, description="The domain parts it shows.")


class NumberMention(_Model):
    low: float
    high: float
    value: float
    approximate: bool
    span: str
    quote: Quote


class NumberFact(_Model):
    kind: str
    label: str
    what: str = ""
    median: float = Field(
        description="Median over conversations of each one's median value (a range counts as "
        "its midpoint)."
    )
    low: float
    high: float
    n_conversations: int
    n_mentions: int
    by_section: dict[str, float] = Field(
        default_factory=dict, description="Median per guide section, when it differs."
    )
    mentions: list[NumberMention]


class ListItem(_Model):
    item: str
    conversations: int
    interviews: list[str]
    quote: Quote


class ListGroup(_Model):
    kind: str
    description: str
    items: list[ListItem]


class RarePoint(_Model):
    kind: str = Field(
        description="'advice' (advice given in one or two conversations) or 'theme' (a theme "
        "of one or two)."
    )
    headline: str
    conversations: int
    interviews: list[str]
    quote: Quote


class CodeSummary(_Model):
    code: str = Field(description="The code's path, 'Parent > Child'.")
    description: str = ""
    conversations: int = Field(description="Conversations with this code, yours or learnt.")
    researcher_excerpts: int = Field(description="Your excerpts with this code.")
    researcher_conversations: int
    learnt_units: int = Field(description="Passages (or turns) coded by what was learnt.")
    learnt_conversations: int
    few_shot: bool = Field(
        False, description="Too few coded examples: applied from the code's own words."
    )
    expected_f1: float | None = Field(
        None, description="F1 on your coded interviews, each held out in turn: what to expect."
    )
    sections: dict[str, int] = Field(default_factory=dict, description="Section -> units.")
    themes: list[str] = Field(
        default_factory=list, description="The themes most of its passages fall in."
    )
    quotes: list[Quote] = Field(default_factory=list)
    quote_notes: list[str] = Field(
        default_factory=list,
        description="Per quote: 'coded by you' or 'learnt, confidence 0.83'.",
    )


class CodingPart(_Model):
    source: str = Field(description="Where the coding came from.")
    unit: str = Field(description="What was coded: passage or turn (and why, in unit_reason).")
    unit_reason: str
    excerpts: int
    located: int
    coded_conversations: int = Field(description="Conversations you coded (learnt from).")
    learnt_conversations: int = Field(description="Conversations coded from what was learnt.")
    codes: list[CodeSummary]
    new_themes: list[str] = Field(
        default_factory=list, description="Themes where no code's passages gather: new ground."
    )
    notes: list[str] = Field(default_factory=list)


class SkippedFile(_Model):
    path: str
    status: str
    reason: str


class Method(_Model):
    tool_version: str
    inputs_sha256: str
    config_sha256: str
    report_sha256: str = Field(
        description="sha256 of this report's content (everything but generated_at)."
    )
    models: dict[str, str]
    parameters: dict
    counts: dict[str, int]
    skipped_files: list[SkippedFile]
    notes: list[str]


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    title: str
    generated_at: str
    guide: str = Field("", description="The interview guide's name; sections follow it.")
    profile: ProfileInfo = Field(default_factory=lambda: ProfileInfo(name="none", reason=""))
    overview: Overview
    sections: list[Section]
    takeaways: list[Takeaway]
    context: list[ContextTheme] = Field(
        default_factory=list,
        description="Themes nearly every conversation touches with common words: context.",
    )
    numbers: list[NumberFact]
    lists: list[ListGroup]
    rare: list[RarePoint]
    coding: CodingPart | None = Field(
        None, description="Your codebook applied to the corpus (only when coding was given)."
    )
    method: Method
    figures: dict[str, str] = Field(
        default_factory=dict, description="Figure name -> PNG file name beside report.md."
    )
