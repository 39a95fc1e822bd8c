"""What every format reader returns, and the two ways a file can be refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SkipFile(Exception):
    """The file is not something to ingest (empty, no text layer, ...): status 'skipped'."""


class FailFile(Exception):
    """The file should have been ingestable but is broken: status 'failed'."""


@dataclass
class RawTurn:
    speaker: str | None  # None: no speaker label (typed notes, preamble)
    text: str
    line: int | None = None
    page: int | None = None
    start: float | None = None
    end: float | None = None
    heading: str | None = None
    label: str = ""  # the exact label text consumed, e.g. "[00:12:03] Maria:"
    codes: tuple[str, ...] = ()  # codes given in the source (a CSV's tags column), in order


@dataclass
class ParsedDoc:
    """One conversation as read from a file, before roles, cleaning and language."""

    turns: list[RawTurn]
    interview_id: str | None = None  # set by readers whose files hold several conversations
    metadata: dict[str, Any] = field(default_factory=dict)
    headings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReadResult:
    docs: list[ParsedDoc]
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
