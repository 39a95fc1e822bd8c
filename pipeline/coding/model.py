"""Codes, codebooks and coded excerpts: what researchers' coding files are read into.

A code is known by its *path*: its name, after its ancestors' names joined by ``" > "``
(``"Barriers > Cost"``). Every reader and writer of this package speaks in paths, so a child
code's name may repeat under another parent (``"Barriers > Other"``, ``"Drivers > Other"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

SEP = " > "
"""Joins a code's ancestors' names and its own into its path."""

SOURCES = ("human", "machine")


class CodingFormatError(ValueError):
    """A coding file that cannot be read: the message names the file and the problem."""


def split_path(path: str, sep: str = ">") -> tuple[str, ...]:
    """The names in a code path, ``"A > B"`` -> ``("A", "B")``, each stripped of spaces.

    Args:
        path: a code path as written in a file.
        sep: the separator (``">"``; spaces around it do not matter).

    Raises:
        ValueError: an empty name (``"A > "``, ``""``).
    """
    parts = tuple(p.strip() for p in path.split(sep))
    if not all(parts):
        raise ValueError(f"empty code name in {path!r}")
    return parts


def join_path(parts: Iterable[str]) -> str:
    return SEP.join(parts)


@dataclass(frozen=True)
class Code:
    """One code of a codebook.

    Attributes:
        name: the code's own name (no ``" > "``).
        description: what the code means, when to apply it.
        parent: the parent code's *path*, or None for a top-level code.
        color: ``"#RRGGBB"``, or None (exporters then choose one).
        examples: example excerpts.
    """

    name: str
    description: str = ""
    parent: str | None = None
    color: str | None = None
    examples: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a code needs a name, got {self.name!r}")
        if ">" in self.name:
            raise ValueError(f"code name {self.name!r} holds '>': give the parent instead")
        if self.name != self.name.strip():
            object.__setattr__(self, "name", self.name.strip())
        if self.parent is not None and not self.parent.strip():
            object.__setattr__(self, "parent", None)
        if self.color is not None and not _is_rgb(self.color):
            raise ValueError(f"code {self.name!r}: colour {self.color!r} is not #RRGGBB")
        if self.color is not None:
            object.__setattr__(self, "color", _six_digit(self.color))
        object.__setattr__(self, "examples", tuple(self.examples))
        object.__setattr__(self, "description", self.description or "")

    @property
    def path(self) -> str:
        """``"Parent > Child"``: the ancestors' names and this one's."""
        return f"{self.parent}{SEP}{self.name}" if self.parent else self.name

    @property
    def depth(self) -> int:
        """0 for a top-level code, 1 for its children, ..."""
        return self.path.count(SEP)


def _is_rgb(value: str) -> bool:
    v = value.strip()
    return (
        v.startswith("#") and len(v) in (4, 7) and all(c in "0123456789abcdefABCDEF" for c in v[1:])
    )


def _six_digit(value: str) -> str:
    v = value.strip().upper()
    return "#" + "".join(c * 2 for c in v[1:]) if len(v) == 4 else v


@dataclass
class Codebook:
    """The codes, parents before their children, and named groups of codes.

    Attributes:
        codes: every code; a parent comes before its children (the order of the file).
        groups: code groups (REFI-QDA sets, e.g. themes): group name -> code paths.

    Raises:
        ValueError: two codes with one path, a code whose parent is not in the codebook
        (or comes after it), a group naming a code that is not in it.
    """

    codes: tuple[Code, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.codes = tuple(self.codes)
        self._by_path: dict[str, Code] = {}
        self._by_name: dict[str, list[Code]] = {}
        self._by_folded: dict[str, list[Code]] = {}
        for code in self.codes:
            if code.path in self._by_path:
                raise ValueError(f"two codes are called {code.path!r}")
            if code.parent is not None and code.parent not in self._by_path:
                raise ValueError(
                    f"code {code.path!r}: its parent {code.parent!r} is not before it "
                    "in the codebook"
                )
            self._by_path[code.path] = code
            self._by_name.setdefault(code.name, []).append(code)
            self._by_folded.setdefault(_fold(code.path), []).append(code)
        groups = {}
        for name, members in (self.groups or {}).items():
            try:
                groups[name] = tuple(dict.fromkeys(self.resolve(m) for m in members))
            except KeyError as e:
                raise ValueError(f"group {name!r}: {e.args[0]}") from None
        self.groups = groups

    @classmethod
    def from_paths(
        cls, paths: Iterable[str], descriptions: Mapping[str, str] | None = None
    ) -> Codebook:
        """A codebook of these code paths (and their ancestors): parents first, each
        followed by its children, siblings in first-seen order."""
        codes: dict[str, Code] = {}
        for path in paths:
            _add_path(codes, split_path(path), (descriptions or {}).get(path, ""))
        return cls(_tree_order(codes.values()))

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) is not None

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.codes)

    def find(self, key: str) -> Code | None:
        """The code with this path or, if only one has it, this name; else None.

        The path may be written with any spaces around ``>`` and in any case when that is
        unambiguous (``"barriers>cost"`` finds ``"Barriers > Cost"``).
        """
        key = key.strip()
        if key in self._by_path:
            return self._by_path[key]
        named = self._by_name.get(key, [])
        if len(named) == 1:
            return named[0]
        if named:
            return None
        try:
            folded = self._by_folded.get(_fold(join_path(split_path(key))), [])
        except ValueError:
            return None
        return folded[0] if len(folded) == 1 else None

    def get(self, key: str) -> Code:
        """Like :meth:`find`, but raises KeyError saying why nothing was found."""
        code = self.find(key)
        if code is not None:
            return code
        named = self._by_name.get(key.strip(), [])
        if len(named) > 1:
            paths = ", ".join(repr(c.path) for c in named)
            raise KeyError(f"code name {key!r} is ambiguous: {paths}; give the path")
        raise KeyError(f"no code {key!r} in the codebook")

    def resolve(self, key: str) -> str:
        """The path of the code :meth:`get` finds."""
        return self.get(key).path

    def children(self, path: str | None) -> tuple[Code, ...]:
        """The codes whose parent is ``path`` (None: the top-level codes)."""
        return tuple(c for c in self.codes if c.parent == path)

    def with_codes(self, paths: Iterable[str]) -> Codebook:
        """This codebook plus any of these paths (and their ancestors) it lacks, at the end."""
        codes = {c.path: c for c in self.codes}
        for path in paths:
            if self.find(path) is None:
                _add_path(codes, split_path(path), "")
        return Codebook(_tree_order(codes.values()), dict(self.groups))


def _tree_order(codes: Iterable[Code]) -> tuple[Code, ...]:
    """Codes in preorder: each parent followed by its children, siblings in the given order."""
    kids: dict[str | None, list[Code]] = {}
    for code in codes:
        kids.setdefault(code.parent, []).append(code)
    out: list[Code] = []

    def visit(parent: str | None) -> None:
        for code in kids.get(parent, []):
            out.append(code)
            visit(code.path)

    visit(None)
    return tuple(out)


def _fold(path: str) -> str:
    return join_path(p.strip() for p in path.split(">")).casefold()


def _add_path(codes: dict[str, Code], parts: tuple[str, ...], description: str) -> None:
    for depth in range(len(parts)):
        path = join_path(parts[: depth + 1])
        if path not in codes:
            parent = join_path(parts[:depth]) if depth else None
            desc = description if depth == len(parts) - 1 else ""
            codes[path] = Code(parts[depth], desc, parent)


@dataclass(frozen=True)
class CodedExcerpt:
    """A piece of an interview and the codes a researcher (or a model) gave it.

    Attributes:
        interview: the interview (document) it comes from; readers give the file stem of a
            document name (``"P2_GMT20211119.odt"`` -> ``"P2_GMT20211119"``).
        codes: code paths, in the order given.
        text: the excerpt.
        source: ``"human"`` or ``"machine"`` (suggested by a model).
        confidence: a machine suggestion's confidence in [0, 1].
        start, end: the excerpt's position in the interview's plain text, in code points
            (``text == document[start:end]``), when the format records it.
        note: a memo or comment attached to the excerpt.
    """

    interview: str
    codes: tuple[str, ...]
    text: str
    source: str = "human"
    confidence: float | None = None
    start: int | None = None
    end: int | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(self.codes))
        if self.source not in SOURCES:
            raise ValueError(f"source must be 'human' or 'machine', got {self.source!r}")
        if self.confidence is not None:
            conf = float(self.confidence)
            if not 0.0 <= conf <= 1.0:
                raise ValueError(f"confidence {self.confidence!r} is not in [0, 1]")
            object.__setattr__(self, "confidence", conf)
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start is not None and not 0 <= self.start <= self.end:
            raise ValueError(f"bad offsets {self.start}..{self.end}")
