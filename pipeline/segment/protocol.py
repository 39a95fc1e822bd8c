"""A guide from a study's interview protocol: headings, numbered or bulleted questions,
probes in parentheses, read from Markdown, plain text, Word or PDF.

How a protocol becomes sections:

- every heading starts a block; its numbered or bulleted items and script lines are the
  block's questions, the first plain paragraph that asks nothing is its description;
- probes in parentheses ("(If needed: what would the criteria be?)") become questions of
  the same section; parentheses that only instruct the interviewer ("(Wait for consent.)")
  are dropped, as are italic notes and block-quoted example material;
- a block that lists three or more questions of its own ("Initial prompt: 1. How would you
  describe your involvement? 2. What does it mean to be well maintained? ...") is a list
  of topics, one section per question; an item that asks nothing ("Let's break that down
  together") joins the question before it;
- a block with statements only (a closing script) keeps its sentences as questions:
  matching is by meaning, and the interviewer says them.

The result is a guide the user edits (names, descriptions, sections their interviews do
not have), written by :func:`~pipeline.segment.guide.write_guide`, which checks it loads.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HEADING_MD = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
ITEM = re.compile(r"^(?P<indent>\s*)(?:\d{1,2}[.)]|[a-zA-Z][.)]|[-*•‣◦])\s+(?P<text>.+)$")
SCRIPT_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:interviewer|researcher|moderator|facilitator|int|q)"
    r"(?:\*\*)?\s*:\s*(?:\*\*)?\s*",
    re.I,
)
PARENTHESES = re.compile(r"\(([^()]*)\)")
PLACEHOLDER = re.compile(r"\[[^\]]{1,40}\]")
NOTE_LINE = re.compile(r"^\s*(?:_[^_].*_|\*[^*].*\*)\s*$")  # an italic line: a note to self
WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
# Words that name the act of asking, not a topic: never part of a section's name.
ASKING_WORDS = set(
    """ask answer answers question questions tell describe think say mean like would could
    know want need thing things way lot different possible respect ok okay specifically
    personally does doing did done look looks going get make feel kind""".split()
)


class ProtocolError(ValueError):
    pass


@dataclass
class Item:
    text: str
    probes: list[str] = field(default_factory=list)


@dataclass
class Block:
    heading: str
    items: list[Item] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)


def _is_question(text: str) -> bool:
    return "?" in PARENTHESES.sub("", text)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.?!])\s+(?=[A-Z\"'(])", text) if s.strip()]


def _strip_markup(text: str) -> str:
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # [link](url) -> link
    return " ".join(text.split())


def _split_probes(text: str) -> tuple[str, list[str]]:
    """Main text without parentheses, and the parenthesised probes that ask something."""
    probes = []
    for inner in PARENTHESES.findall(text):
        inner = re.sub(
            r"^(?:if needed|probe|follow[- ]up|optional)\s*:\s*", "", inner.strip(), flags=re.I
        )
        probes.extend(s[:1].upper() + s[1:] for s in _sentences(inner) if _is_question(s))
    main = " ".join(PARENTHESES.sub(" ", text).split())
    return re.sub(r"\s+([.,;:?!])", r"\1", main), probes


def _looks_like_heading(line: str, next_line: str) -> bool:
    """Plain-text and PDF protocols have no heading markup: a short line without end
    punctuation, followed by more text, is taken as one ("Initial prompt", "CLOSING")."""
    words = line.split()
    if not 1 <= len(words) <= 8 or line.rstrip()[-1:] in ".?!,;" or ITEM.match(line):
        return False
    if line.rstrip().endswith(":"):
        return True
    return bool(next_line.strip()) or line.isupper() or line.istitle()


def protocol_text(path: Path) -> str:
    """The protocol as Markdown-like text: Word headings become ``#`` lines, list
    paragraphs items; PDFs give their text layer."""
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix == ".docx":
        import io

        import docx

        from ..ingest.docx_reader import check_zip_bomb

        try:
            check_zip_bomb(data, 50, 100)
            document = docx.Document(io.BytesIO(data))
        except Exception as exc:  # python-docx raises several types for a broken file
            raise ProtocolError(f"{path}: not a readable .docx file ({exc})") from None
        lines = []
        for para in document.paragraphs:
            style = ((para.style.name if para.style is not None else "") or "").lower()
            text = para.text.strip()
            if not text:
                lines.append("")
            elif style.startswith("heading") or style == "title":
                level = re.findall(r"\d", style)
                lines.append("#" * int(level[0] if level else 1) + " " + text)
            elif "list" in style:
                lines.append("1. " + text)
            else:
                lines.append(text)
            lines.append("")
        return "\n".join(lines)
    if suffix == ".pdf":
        import io

        from pypdf import PdfReader

        try:
            reader = PdfReader(io.BytesIO(data))
            return "\n\n".join(page.extract_text() or "" for page in reader.pages)
        except Exception as exc:  # pypdf raises many types for damaged files
            raise ProtocolError(f"{path}: not a readable PDF ({exc})") from None
    from ..ingest.decode import decode_text
    from ..ingest.model import FailFile, SkipFile

    try:
        return decode_text(data)[0]
    except (SkipFile, FailFile) as exc:
        raise ProtocolError(f"{path}: no questions or headings found ({exc})") from None


def read_blocks(text: str) -> list[Block]:
    """Headings with their items (and probes) and paragraphs, in order."""
    blocks: list[Block] = []
    current: Block | None = None
    item_indent = -1
    lines = text.splitlines()
    # Headings are guessed from the line's shape only when the file has no heading markup.
    guess_headings = not any(HEADING_MD.match(ln) for ln in lines)
    paragraph: list[str] = []

    def block() -> Block:
        nonlocal current
        if current is None:
            current = Block("")
            blocks.append(current)
        return current

    def flush() -> None:
        if paragraph:
            joined = _strip_markup(" ".join(paragraph))
            if joined:
                block().paragraphs.append(joined)
            paragraph.clear()

    for i, raw in enumerate(lines):
        line = raw.rstrip()
        following = next((ln for ln in lines[i + 1 :] if ln.strip()), "")
        if not line.strip():
            flush()
            continue
        if line.lstrip().startswith(">") or NOTE_LINE.match(line):
            flush()  # example material shown to participants, or a note to self
            continue
        heading = HEADING_MD.match(line)
        if heading or (
            guess_headings and not paragraph and _looks_like_heading(line.strip(), following)
        ):
            flush()
            title = _strip_markup(heading.group(2) if heading else line.strip().rstrip(":"))
            current = Block(title)
            blocks.append(current)
            item_indent = -1
            continue
        item = ITEM.match(line)
        if item:
            flush()
            indent = len(item.group("indent").expandtabs(4))
            text = _strip_markup(item.group("text"))
            b = block()
            if b.items and item_indent >= 0 and indent > item_indent:
                b.items[-1].probes.append(text)  # an indented sub-item probes its parent
            else:
                b.items.append(Item(text))
                item_indent = indent
            continue
        paragraph.append(SCRIPT_LABEL.sub("", line.strip()))
    flush()
    return blocks


def _content_words(text: str, nlp=None) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    text = PLACEHOLDER.sub(" ", text)
    words = [w.lower().strip("'-") for w in WORD.findall(text)]
    return [
        w for w in words if w not in ENGLISH_STOP_WORDS and w not in ASKING_WORDS and len(w) > 2
    ]


def _slug(words: list[str], limit: int = 3) -> str:
    return "-".join(words[:limit]) or "section"


def _readable(text: str) -> str:
    """``[Project]`` -> ``Project``: placeholders read as the word they stand for."""
    return " ".join(re.sub(r"\[([^\]]{1,40})\]", lambda m: m.group(1).strip(" ,"), text).split())


def _questions(block_items: list[Item], paragraphs: list[str]) -> list[str]:
    out = []
    for item in block_items:
        main, probes = _split_probes(item.text)
        out.extend(s for s in [main, *probes, *(_split_probes(p)[0] for p in item.probes)] if s)
    for para in paragraphs:
        main, probes = _split_probes(para)
        out.extend(s for s in _sentences(main) if _is_question(s))
        out.extend(probes)
    return list(dict.fromkeys(_readable(q) for q in out if len(q.split()) >= 2))


def _description(block: Block) -> str:
    for para in block.paragraphs:
        main, _ = _split_probes(para)
        if main and not _is_question(main) and len(main.split()) >= 6:
            return _sentences(main)[0]
    return ""


def sections_from_blocks(blocks: list[Block]) -> list[dict]:
    """The guide's sections, in protocol order, as plain dicts (see the module doc)."""
    all_words = Counter()
    for b in blocks:
        for item in b.items:
            all_words.update(set(_content_words(item.text)))
    n_items = max(1, sum(len(b.items) for b in blocks))
    # Words in many questions ("project") name no topic of their own.
    common = {w for w, n in all_words.items() if n >= max(3, 0.3 * n_items)}

    sections: list[dict] = []
    for b in blocks:
        heading = " ".join(PARENTHESES.sub(" ", b.heading).split())
        asked = [it for it in b.items if _is_question(it.text)]
        if len(asked) >= 3:
            groups: list[list[Item]] = []
            for it in b.items:
                if _is_question(it.text) or not groups:
                    groups.append([it])
                else:
                    groups[-1].append(it)
            for group in groups:
                main, _ = _split_probes(group[0].text)
                words = [
                    w
                    for w in _content_words(_sentences(main)[0] if main else "")
                    if w not in common
                ]
                questions = _questions(group, [])
                if not questions:
                    continue
                sections.append(
                    {
                        "name": _slug(words),
                        "description": _readable(_sentences(main)[0]) if main else heading,
                        "questions": questions,
                        "from": heading,
                    }
                )
            continue
        questions = _questions(b.items, b.paragraphs)
        statements = [
            s
            for para in [*(it.text for it in b.items), *b.paragraphs]
            for s in _sentences(_split_probes(para)[0])
            if not _is_question(s) and len(s.split()) >= 4
        ]
        if not questions and not statements:
            continue
        if not b.items:
            # A script block (a closing, a consent text): what the interviewer says there
            # identifies it as well as its questions do.
            questions = list(dict.fromkeys([*questions, *map(_readable, statements)]))
        name_words = _content_words(heading) or _content_words(questions[0])
        sections.append(
            {
                "name": _slug(name_words, 4),
                "description": _readable(_description(b)) or heading or questions[0],
                "questions": questions[:12],
                "aliases": sorted(set(_content_words(heading)))[:8],
                "from": heading,
            }
        )
    _unique_names(sections)
    return sections


def _unique_names(sections: list[dict]) -> None:
    seen: Counter[str] = Counter()
    for s in sections:
        seen[s["name"]] += 1
        if seen[s["name"]] > 1:
            s["name"] = f"{s['name']}-{seen[s['name']]}"


def guide_from_protocol(path: Path, name: str | None = None) -> dict:
    """The guide (as the YAML's mapping) a protocol file describes."""
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"protocol not found: {path}")
    blocks = read_blocks(protocol_text(path))
    sections = sections_from_blocks(blocks)
    if not sections:
        raise ProtocolError(
            f"{path}: no questions or headings found; a protocol needs headings with "
            "numbered or bulleted questions"
        )
    title = next((b.heading for b in blocks if b.heading), "")
    return {
        "name": name or re.sub(r"[^\w-]+", "-", path.stem.lower()).strip("-"),
        "description": f"Made from {path.name}" + (f" ({title})" if title else ""),
        "sections": sections,
    }
