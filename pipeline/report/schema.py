"""The schema of ``report.json``: the one source of every number and quote in the report.

The HTML and Markdown renderers read only a :class:`Report`; nothing they show is
computed anywhere else. ``insights report --schema`` prints this as JSON Schema.
Bump :data:`SCHEMA_VERSION` when a field changes meaning or disappears.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Quote(_Model):
    text: str = Field(description="The interviewee's words as written in the source (filler kept).")
    interview_id: str
    speaker: str
    where: str = Field(description="Where to find it: file plus timestamp, line or page.")
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
    headline: str
    lesson: str = Field(description="One advice-like sentence, central to the takeaway, as said.")
    lesson_source: Quote
    keywords: list[str]
    support: int = Field(description="Conversations that gave this advice.")
    also_discussed: int = Field(
        description="Further conversations whose passages are close to it without giving it "
        "as advice."
    )
    conversations: int = Field(description="Total conversations in the report (the denominator).")
    strength: float = Field(
        description="Mean advice score x cohesion of its points, 0..1; breaks ties in the ranking."
    )
    interviews: list[str]
    quotes: list[Quote] = Field(description="2-3 quotes, each from a different person.")


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
    overview: Overview
    sections: list[Section]
    takeaways: list[Takeaway]
    numbers: list[NumberFact]
    lists: list[ListGroup]
    rare: list[RarePoint]
    method: Method
    figures: dict[str, str] = Field(
        default_factory=dict, description="Figure name -> PNG file name beside report.md."
    )
