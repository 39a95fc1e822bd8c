"""Plain text and Markdown notes (YAML front matter = interview metadata)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from .decode import decode_text
from .model import ParsedDoc, ReadResult
from .turn_parser import parse_text

_FENCES = ("---", "...")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int, list[str]]:
    """Separate YAML front matter (between ``---`` fences) from the body of a note.

    Args:
        text: the whole file's text.

    Returns:
        ``(metadata, body, line number where the body starts, warnings)``; invalid front
        matter gives empty metadata and a warning, never an error.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 1, []
    for i in range(1, len(lines)):
        if lines[i].strip() in _FENCES:
            block = "\n".join(lines[1:i])
            body = "\n".join(lines[i + 1 :])
            try:
                meta = yaml.safe_load(block) if block.strip() else {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 2}" if mark is not None else "front matter"
                return (
                    {},
                    body,
                    i + 2,
                    [
                        f"front matter is not valid YAML "
                        f"({where}: {getattr(exc, 'problem', exc)}); metadata ignored"
                    ],
                )
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                return (
                    {},
                    body,
                    i + 2,
                    ["front matter is not a mapping of key: value; metadata ignored"],
                )
            return _jsonable(meta), body, i + 2, []
    return {}, text, 1, ["front matter opened with '---' but never closed; read as text"]


# CommonMark: a backslash before ASCII punctuation makes it literal ("\\[01:44\\]" is "[01:44]").
_MD_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")


def unescape_markdown(text: str) -> str:
    """Markdown's backslash escapes resolved, so transcripts exported as Markdown read as
    their words ("\\[unintelligible\\]" -> "[unintelligible]"); line numbers are unchanged."""
    return _MD_ESCAPE_RE.sub(r"\1", text)


def read_text_file(data: bytes, *, name: str) -> ReadResult:
    """Read a plain text or Markdown file: front matter as metadata, the body as turns.

    Args:
        data: the file's bytes.
        name: its path relative to the raw folder (the reader signature; unused).

    Returns:
        One conversation.

    Raises:
        SkipFile: the file is empty.
        FailFile: it is binary or cannot be decoded.
    """
    text, encoding, warnings = decode_text(data)
    meta, body, first_line, fm_warnings = split_front_matter(text)
    if name.lower().endswith((".md", ".markdown")):
        body = unescape_markdown(body)
    parsed = parse_text(body, first_line=first_line)
    doc = ParsedDoc(
        turns=parsed.turns, metadata=meta, headings=parsed.headings, warnings=fm_warnings
    )
    return ReadResult(docs=[doc], encoding=encoding, warnings=warnings)
