"""Quotes: a passage's (or one of its sentences') words, with where a reader can find them.

Every quote in the report is made by one :class:`QuoteMaker`, so they all say "where" the
same way: the source file, then a timestamp, a page or a line, whichever the source has.
"""

from __future__ import annotations

import pandas as pd

from .schema import Quote


def _timestamp(seconds) -> str | None:
    if seconds is None or pd.isna(seconds):
        return None
    s = int(round(float(seconds)))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


class QuoteMaker:
    """Builds :class:`Quote` objects for passages, with where each one can be found.

    Args:
        passages: the passages table (``passage_id``, ``text``, ``interview_id``, ``speaker``,
            ``source_file``, ``source_line``, ``source_page``, ``start``).
        sections: the guide section of each passage id (missing or ``""`` when it has none).
    """

    def __init__(self, passages: pd.DataFrame, sections: dict[str, str]):
        self.rows = passages.set_index("passage_id")
        self.sections = sections

    def __call__(self, passage_id: str, text: str | None = None) -> Quote:
        """Quote one passage.

        Args:
            passage_id: the passage quoted.
            text: the words to show (e.g. one sentence of it); default: the whole passage.

        Returns:
            The quote, with its conversation, speaker, section and location in the source.
        """
        row = self.rows.loc[passage_id]
        ts = _timestamp(row["start"])
        line, page = _int(row["source_line"]), _int(row["source_page"])
        where = str(row["source_file"])
        if ts:
            where += f" at {ts}"
        elif page:
            where += f", page {page}"
        elif line:
            where += f", line {line}"
        return Quote(
            text=str(text if text is not None else row["text"]),
            interview_id=str(row["interview_id"]),
            speaker=str(row["speaker"]),
            where=where,
            source_file=str(row["source_file"]),
            line=line,
            page=page,
            timestamp=ts,
            section=self.sections.get(passage_id),
            passage_id=passage_id,
        )
