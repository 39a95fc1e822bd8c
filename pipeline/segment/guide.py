"""Interview guides: ordered sections with example questions, read from YAML.

A malformed guide is refused with the field and the line at fault, e.g.
``my-guide.yaml line 9: sections[1].questions: expected a list of strings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_GUIDE = Path(__file__).parent / "guides" / "default.yaml"
TENSES = ("past", "present", "future")


class GuideError(ValueError):
    pass


@dataclass(frozen=True)
class Section:
    name: str
    description: str
    questions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    tense: str | None = None


@dataclass(frozen=True)
class Guide:
    name: str
    sections: tuple[Section, ...]
    source: str = ""
    description: str = ""
    profile: str | None = None  # the report profile its interviews call for (report.profile)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sections]


@dataclass
class _Node:
    value: object
    line: int
    children: dict = field(default_factory=dict)


def _line(node) -> int:
    return node.start_mark.line + 1


def _fail(source: str, node, where: str, message: str) -> GuideError:
    return GuideError(f"{source} line {_line(node)}: {where}: {message}")


def _mapping(node) -> dict[str, object]:
    return {k.value: v for k, v in node.value}


def _string(source: str, node, where: str, required: bool = True) -> str:
    if node is None:
        if required:
            raise GuideError(f"{source}: {where}: missing")
        return ""
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(source, node, where, "expected a non-empty text")
    return str(node.value).strip()


def _strings(source: str, node, where: str, required: bool = True) -> tuple[str, ...]:
    if node is None:
        if required:
            raise GuideError(f"{source}: {where}: missing")
        return ()
    if not isinstance(node, yaml.SequenceNode) or not all(
        isinstance(n, yaml.ScalarNode) and str(n.value).strip() for n in node.value
    ):
        raise _fail(source, node, where, "expected a list of strings")
    if required and not node.value:
        raise _fail(source, node, where, "needs at least one entry")
    return tuple(str(n.value).strip() for n in node.value)


def load_guide(path: Path | str | None = None) -> Guide:
    path = Path(path) if path else DEFAULT_GUIDE
    source = str(path)
    if not path.is_file():
        raise GuideError(f"guide not found: {path}")
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise GuideError(
            f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(root, yaml.MappingNode):
        raise GuideError(f"{source}: expected a mapping with `name` and `sections`")
    top = _mapping(root)
    unknown = set(top) - {"name", "description", "sections", "profile"}
    if unknown:
        raise _fail(
            source,
            root,
            ", ".join(sorted(unknown)),
            "unknown field (expected name, description, profile, sections)",
        )
    sections_node = top.get("sections")
    if sections_node is None:
        raise GuideError(f"{source}: sections: missing")
    if not isinstance(sections_node, yaml.SequenceNode) or not sections_node.value:
        raise _fail(source, sections_node, "sections", "expected a non-empty list of sections")
    sections = []
    for i, node in enumerate(sections_node.value):
        where = f"sections[{i}]"
        if not isinstance(node, yaml.MappingNode):
            raise _fail(source, node, where, "expected a mapping with name, description, questions")
        fields = _mapping(node)
        unknown = set(fields) - {"name", "description", "questions", "aliases", "tense"}
        if unknown:
            raise _fail(
                source,
                node,
                f"{where}.{sorted(unknown)[0]}",
                "unknown field (expected name, description, questions, aliases, tense)",
            )
        tense = _string(source, fields.get("tense"), f"{where}.tense", required=False) or None
        if tense is not None and tense not in TENSES:
            raise _fail(
                source, fields["tense"], f"{where}.tense", f"expected one of {', '.join(TENSES)}"
            )
        sections.append(
            Section(
                name=_string(source, fields.get("name"), f"{where}.name"),
                description=_string(source, fields.get("description"), f"{where}.description"),
                questions=_strings(source, fields.get("questions"), f"{where}.questions"),
                aliases=tuple(
                    a.lower()
                    for a in _strings(
                        source, fields.get("aliases"), f"{where}.aliases", required=False
                    )
                ),
                tense=tense,
            )
        )
    names = [s.name for s in sections]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise GuideError(f"{source}: sections: duplicate name(s) {', '.join(duplicates)}")
    name = _string(source, top.get("name"), "name", required=False) or path.stem
    description = _string(source, top.get("description"), "description", required=False)
    profile = _string(source, top.get("profile"), "profile", required=False) or None
    return Guide(
        name=name,
        sections=tuple(sections),
        source=source,
        description=description,
        profile=profile,
    )


def render_guide(guide: dict, made_by: str) -> str:
    """A guide mapping (``name``, ``description``, ``sections``) as commented YAML.

    Sections may carry ``from`` (the protocol heading they came from): it goes into the
    header comment, not the YAML.
    """
    body = {
        "name": guide["name"],
        "description": guide.get("description", ""),
        "sections": [{k: v for k, v in s.items() if k != "from" and v} for s in guide["sections"]],
    }
    header = (
        f"# Guide made by `{made_by}`.\n"
        "# Edit it: rename sections, sharpen descriptions, delete the sections your\n"
        "# interviews do not have (a protocol often covers several rounds), add the\n"
        "# questions your interviewer really asks. Matching is by meaning.\n"
    )
    for i, s in enumerate(guide["sections"]):
        if s.get("from"):
            header += f"# sections[{i}] {s['name']}: from '{s['from']}'\n"
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def guide_from_text(text: str, source: str) -> Guide:
    """Load a guide from YAML text (validated as a file would be); ``source`` names it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "guide.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            guide = load_guide(path)
        except GuideError as exc:
            raise GuideError(str(exc).replace(str(path), source)) from None
    return Guide(guide.name, guide.sections, source, guide.description, guide.profile)


def write_guide(guide: dict, target: Path, made_by: str) -> Guide:
    """Write a guide mapping as YAML at ``target``, refusing one that would not load."""
    text = render_guide(guide, made_by)
    loaded = guide_from_text(text, str(target))
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return loaded
