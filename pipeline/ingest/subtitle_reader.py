"""WebVTT (``.vtt``) and SubRip (``.srt``) transcripts from Zoom, Teams and Meet.

Speakers come from WebVTT voice tags (``<v Maria>``) or a ``Maria:`` prefix in the
cue text. Exports cut one person's answer into many short cues, so consecutive cues
of the same speaker are merged into one turn that keeps the first cue's start and
the last cue's end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .decode import decode_text
from .model import ParsedDoc, RawTurn, ReadResult
from .turn_parser import accepted_speakers, match_label, parse_timestamp

_TIMING_RE = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)?[ \t]+(?P<name>[^>]+)>")
# Only WebVTT's own markup is removed; anything else that looks like a tag is text.
_CUE_TAG_RE = re.compile(
    r"</?(?:v|c|i|b|u|ruby|rt|lang)(?:[.\s][^>]*)?>|<\d{1,2}:\d{2}(?::\d{2})?[.,]\d{3}>"
)
_SKIP_BLOCKS = ("NOTE", "STYLE", "REGION")
_MAX_GAP_UNLABELLED = 2.0  # seconds of silence that end an unlabelled turn


@dataclass
class _Cue:
    speaker: str | None
    text: str
    start: float | None
    end: float | None
    line: int
    label: str = ""


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    blocks, current, first = [], [], 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _cues(text: str, warnings: list[str]) -> list[_Cue]:
    cues = []
    for first, lines in _blocks(text):
        head = lines[0].strip()
        if head.startswith("WEBVTT") or head.split(" ")[0] in _SKIP_BLOCKS:
            continue
        timing_at = next((i for i, ln in enumerate(lines[:2]) if "-->" in ln), None)
        start = end = None
        if timing_at is None:
            warnings.append(
                f"line {first}: block without a cue timing; kept as text without a time"
            )
            body = lines
            body_line = first
        else:
            m = _TIMING_RE.match(lines[timing_at])
            if m:
                start, end = parse_timestamp(m.group("start")), parse_timestamp(m.group("end"))
            else:
                warnings.append(
                    f"line {first + timing_at}: malformed cue timing {lines[timing_at].strip()!r}"
                )
            body = lines[timing_at + 1 :]
            body_line = first + timing_at + 1
        if not body:
            continue
        raw = " ".join(ln.strip() for ln in body)
        voice = _VOICE_RE.search(raw)
        speaker = " ".join(voice.group("name").split()) if voice else None
        clean = " ".join(_CUE_TAG_RE.sub("", raw).split())
        cues.append(
            _Cue(speaker, clean, start, end, body_line, label=voice.group(0) if voice else "")
        )
    return cues


def _apply_name_prefixes(cues: list[_Cue]) -> None:
    labels = [match_label(c.text) if c.speaker is None else None for c in cues]
    accepted = accepted_speakers(labels, len(cues))
    for cue, label in zip(cues, labels):
        if label is not None and label.key in accepted and not label.header_only:
            cue.speaker, cue.label, cue.text = label.name, label.raw, label.rest.strip()


def _merge(cues: list[_Cue]) -> list[RawTurn]:
    turns: list[RawTurn] = []
    parts: list[
        list[str]
    ] = []  # each turn's cue texts, joined once at the end (a long monologue is thousands of cues)
    previous: _Cue | None = None
    for cue in cues:
        same = previous is not None and cue.speaker == previous.speaker
        if same and cue.speaker is None:
            gap = (cue.start or 0) - (previous.end or 0)
            same = previous.end is not None and cue.start is not None and gap <= _MAX_GAP_UNLABELLED
        if same and turns:
            turn = turns[-1]
            parts[-1].append(cue.text)
            turn.end = cue.end if cue.end is not None else turn.end
        else:
            turns.append(
                RawTurn(
                    cue.speaker,
                    cue.text,
                    line=cue.line,
                    start=cue.start,
                    end=cue.end,
                    label=cue.label,
                )
            )
            parts.append([cue.text])
        previous = cue
    for turn, texts in zip(turns, parts):
        turn.text = " ".join(texts).strip()
    return turns


def read_subtitle_file(data: bytes, *, name: str) -> ReadResult:
    """Read a WebVTT or SubRip transcript: cues merged into turns, with timestamps.

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
    doc_warnings: list[str] = []
    cues = _cues(text, doc_warnings)
    _apply_name_prefixes(cues)
    turns = _merge([c for c in cues if c.text])
    return ReadResult(
        docs=[ParsedDoc(turns=turns, warnings=doc_warnings)], encoding=encoding, warnings=warnings
    )
