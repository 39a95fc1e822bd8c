"""The report's lists: tools, platforms and other items people mentioned, from a codebook.

The codebook (the profile's ``lists``, or ``report.lists_file``) names kinds of item,
each with a description, the words of each item and optional context words a sentence must
also hold. An item counts the conversations with a sentence that mentions it.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .quotes import QuoteMaker
from .schema import ListGroup, ListItem
from .sentences import ParsedSentences


def load_codebook(path: str | Path | None) -> dict:
    """Read and check the lists codebook.

    Args:
        path: a YAML codebook file (the profile's ``lists``, or ``report.lists_file``);
            ``None``: no lists.

    Returns:
        ``{kind: {"description": ..., "items": {item: [words]}, "context": [words]?}}``
        (empty without a path).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: the file is not a mapping of kinds that each have ``items``.
    """
    if not path:
        return {}
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"lists codebook not found: {path}")
    book = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if not isinstance(book, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("items"), dict) for v in book.values()
    ):
        raise ValueError(f"{path}: expected kinds with description and items: {{item: [words]}}")
    return book


def word_pattern(words: list) -> re.Pattern:
    """A pattern matching any of the words, case-insensitive.

    Args:
        words: whole words or phrases; plurals (``s``/``es``) are matched too, and a trailing
            ``*`` matches any ending (``"introduc*"``).

    Returns:
        The compiled pattern, anchored at word boundaries.
    """
    parts = []
    for word in words:
        word = str(word).strip()
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(re.escape(word) + r"(?:s|es)?")
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def build_lists(parsed: ParsedSentences, quote: QuoteMaker, codebook: dict) -> list[ListGroup]:
    """The codebook's items that people mentioned, by kind.

    Args:
        parsed: the passages' sentences, searched for the items' words.
        quote: makes each item's quote (its first mention).
        codebook: the codebook from :func:`load_codebook`.

    Returns:
        One group per kind with any item mentioned, in codebook order; items by most
        conversations, then name.
    """
    table = parsed.table
    groups = []
    for kind, spec in codebook.items():
        context = word_pattern(spec["context"]) if spec.get("context") else None
        items = []
        for item, words in spec["items"].items():
            pattern = word_pattern(words)
            hits = [
                r
                for r, text in enumerate(table["text"])
                if pattern.search(text) and (context is None or context.search(text))
            ]
            if not hits:
                continue
            interviews = sorted({table.at[r, "interview_id"] for r in hits})
            first = hits[0]
            items.append(
                ListItem(
                    item=str(item),
                    conversations=len(interviews),
                    interviews=interviews,
                    quote=quote(table.at[first, "passage_id"], table.at[first, "text"]),
                )
            )
        items.sort(key=lambda i: (-i.conversations, i.item))
        if items:
            description = str(spec.get("description", kind))
            groups.append(ListGroup(kind=str(kind), description=description, items=items))
    return groups
