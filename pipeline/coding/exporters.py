"""Writers: a REFI-QDA project (``.qdpx``) and codebook (``.qdc``), and a coded-excerpts CSV.

The REFI-QDA files follow the QDA-XML 1.0 schemas (Project.xsd, Codebook.xsd): element
order as in their sequences, required attributes present, GUIDs as RFC 4122 strings. Every
GUID is a uuid5 of what the element stands for (a code's path, a source's name, a
selection's place), so exporting the same input twice gives the same bytes; only
``creation_time`` (a parameter, "now" when omitted) changes them.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from .importers import CODEBOOK_NS, EXAMPLES_HEADING, MACHINE_MARK, PROJECT_NS
from .model import Codebook, CodedExcerpt

ORIGIN = "interview-insights"
MACHINE_USER = "interview-insights (machine)"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PROJECT_SCHEMA = f"{PROJECT_NS} http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
CODEBOOK_SCHEMA = f"{CODEBOOK_NS} http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:interview-insights:refi-qda")

# Tableau 10 and a few more: distinct, readable on white, stable across runs.
PALETTE = (
    "#4E79A7",
    "#F28E2B",
    "#E15759",
    "#76B7B2",
    "#59A14F",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
    "#BAB0AC",
    "#1F77B4",
    "#17BECF",
)
CHILD_TINT = 0.35  # a child code without a colour: its parent's, this much towards white


class Selection(NamedTuple):
    """A coded stretch of one source's plain text, for :func:`write_qdpx`.

    ``start``/``end`` are code-point offsets (``text[start:end]``); ``codes`` are code
    paths (or names only one code has); ``source`` is "human" or "machine".
    """

    source_name: str
    start: int
    end: int
    codes: Sequence[str]
    source: str = "human"
    confidence: float | None = None
    note: str | None = None

    @classmethod
    def from_excerpt(cls, excerpt: CodedExcerpt) -> Selection:
        """The selection of an excerpt that has offsets (source = its interview)."""
        if excerpt.start is None or excerpt.end is None:
            raise ValueError(f"excerpt of {excerpt.interview!r} has no offsets")
        return cls(
            excerpt.interview,
            excerpt.start,
            excerpt.end,
            excerpt.codes,
            excerpt.source,
            excerpt.confidence,
            excerpt.note,
        )


def guid(kind: str, *key: object) -> str:
    """The deterministic GUID of an element: uuid5 of its kind and key."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join([kind, *map(str, key)])))


def code_colors(codebook: Codebook) -> dict[str, str]:
    """Every code's colour: its own, else the palette in order for top-level codes and a
    tint of the parent's colour for children."""
    colors: dict[str, str] = {}
    top = 0
    for code in codebook:
        if code.color:
            colors[code.path] = code.color
        elif code.parent is None:
            colors[code.path] = PALETTE[top % len(PALETTE)]
        else:
            colors[code.path] = _tint(colors[code.parent], CHILD_TINT)
        if code.parent is None:
            top += 1
    return colors


def _tint(color: str, amount: float) -> str:
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


def code_description(description: str, examples: Sequence[str]) -> str:
    """A code's description with its examples appended as an "Examples:" list (REFI-QDA
    has no element for examples; :func:`~pipeline.coding.importers.split_examples`
    reads them back)."""
    text = (description or "").strip()
    if examples:
        lines = "\n".join("- " + " ".join(e.split()) for e in examples)
        text = f"{text}\n\n{EXAMPLES_HEADING}\n{lines}" if text else f"{EXAMPLES_HEADING}\n{lines}"
    return text


def _timestamp(when: datetime | str | None) -> tuple[str, datetime]:
    if when is None:
        when = datetime.now(UTC).replace(microsecond=0)
    elif isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC).replace(microsecond=0)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ"), when


def _xml_bytes(root: ET.Element, namespace: str) -> bytes:
    """The document, its one namespace the default one (no prefixes), ``xsi`` declared.

    ElementTree's ``default_namespace`` refuses unqualified attributes, so the namespace is
    dropped from the tags and declared on the root as an attribute instead.
    """
    prefix = f"{{{namespace}}}"
    for el in root.iter():
        if el.tag.startswith(prefix):
            el.tag = el.tag[len(prefix) :]
        if el.text:
            el.text = _xml_safe(el.text)
        for key, value in el.attrib.items():
            el.set(key, _xml_safe(value))
    attrib = {"xmlns": namespace}
    if any(k.startswith(f"{{{XSI}}}") for k in root.attrib):
        attrib["xmlns:xsi"] = XSI
    for key, value in root.attrib.items():
        attrib[key.replace(f"{{{XSI}}}", "xsi:")] = value
    root.attrib.clear()
    root.attrib.update(attrib)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """Text XML 1.0 can hold: control characters it forbids are dropped."""
    return _XML_ILLEGAL.sub("", text)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _merged_groups(
    codebook: Codebook, themes: Mapping[str, Iterable[str]] | None
) -> dict[str, tuple[str, ...]]:
    groups = dict(codebook.groups)
    for name, members in (themes or {}).items():
        paths = []
        for m in members:
            try:
                p = codebook.resolve(m)
            except KeyError as e:
                raise ValueError(f"theme {name!r}: {e.args[0]}") from None
            if p not in paths:
                paths.append(p)
        groups[str(name)] = tuple(paths)
    return groups


def _codes_element(codebook: Codebook, ns: str, parent: ET.Element) -> None:
    colors = code_colors(codebook)
    elements: dict[str, ET.Element] = {}
    codes_el = ET.SubElement(parent, f"{{{ns}}}Codes")
    for code in codebook:
        holder = elements[code.parent] if code.parent else codes_el
        el = ET.SubElement(
            holder,
            f"{{{ns}}}Code",
            {
                "guid": guid("code", code.path),
                "name": code.name,
                "isCodable": "true",
                "color": colors[code.path],
            },
        )
        text = code_description(code.description, code.examples)
        if text:
            # Description comes before child codes in CodeType's sequence: children are
            # only added after their parent (parents come first in a Codebook).
            ET.SubElement(el, f"{{{ns}}}Description").text = text
        elements[code.path] = el


def write_qdc(
    path: str | Path,
    codebook: Codebook,
    themes: Mapping[str, Iterable[str]] | None = None,
    *,
    origin: str = ORIGIN,
) -> Path:
    """Write a REFI-QDA codebook (``.qdc``): codes (hierarchy, descriptions with examples,
    colours) and the codebook's groups plus ``themes`` as ``Sets`` (``MemberCode guid=``,
    as Codebook.xsd has it)."""
    if not len(codebook):
        raise ValueError("a .qdc needs at least one code (Codebook.xsd: Codes/Code)")
    ns = CODEBOOK_NS
    root = ET.Element(
        f"{{{ns}}}CodeBook", {"origin": origin, f"{{{XSI}}}schemaLocation": CODEBOOK_SCHEMA}
    )
    _codes_element(codebook, ns, root)
    groups = _merged_groups(codebook, themes)
    if groups:
        sets = ET.SubElement(root, f"{{{ns}}}Sets")
        for name, members in groups.items():
            s = ET.SubElement(sets, f"{{{ns}}}Set", {"guid": guid("set", name), "name": name})
            for m in members:
                ET.SubElement(s, f"{{{ns}}}MemberCode", {"guid": guid("code", m)})
    out = Path(path)
    _write_atomic(out, _xml_bytes(root, ns))
    return out


def machine_description(confidence: float | None, note: str | None) -> str:
    """``"machine-suggested, confidence 0.83"`` (and the note on the next line)."""
    head = MACHINE_MARK
    if confidence is not None:
        head += f", confidence {format(round(float(confidence), 4), 'g')}"
    return f"{head}\n{note.strip()}" if note and note.strip() else head


def _as_selection(item: Selection | Sequence) -> Selection:
    sel = item if isinstance(item, Selection) else Selection(*item)
    if sel.source not in ("human", "machine"):
        raise ValueError(f"selection in {sel.source_name!r}: source must be human or machine")
    if sel.confidence is not None and not 0.0 <= float(sel.confidence) <= 1.0:
        raise ValueError(f"selection in {sel.source_name!r}: confidence not in [0, 1]")
    codes = (sel.codes,) if isinstance(sel.codes, str) else tuple(sel.codes)
    return sel._replace(codes=codes, start=int(sel.start), end=int(sel.end))


def _snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def write_qdpx(
    path: str | Path,
    project_name: str,
    codebook: Codebook,
    sources: Mapping[str, str],
    selections: Iterable[Selection | Sequence],
    themes: Mapping[str, Iterable[str]] | None = None,
    *,
    creation_time: datetime | str | None = None,
    human_user: str = "researcher",
    origin: str = ORIGIN,
) -> Path:
    """Write a REFI-QDA project (``.qdpx``): ``project.qde`` and ``sources/<guid>.txt``.

    Args:
        path: the ``.qdpx`` to write (replaced atomically).
        project_name: the project's name.
        codebook: the codes (hierarchy, descriptions, colours; a palette for codes without).
        sources: source name (an interview) -> its plain text; each is a ``TextSource``.
        selections: :class:`Selection` or tuples ``(source_name, start, end, codes,
            source, confidence, note)`` (the last three optional). Each is a
            ``PlainTextSelection`` with one ``Coding``/``CodeRef`` per code. Human ones are
            created by the human user; machine ones by the user "interview-insights
            (machine)", described "machine-suggested, confidence 0.83" (and their note) in
            their ``Description`` and in a ``Note`` they refer to. A human note is the
            selection's description (and a Note) too.
        themes: theme name -> code names or paths; each is a ``Set`` of codes (a code
            group), with the codebook's own groups.
        creation_time: stamped on the project and every element; the only thing that
            differs between two exports of the same input. Default: now (UTC).
        human_user: the name of the user who made the human coding.

    Raises:
        ValueError: a selection of an unknown source or code, offsets outside the source
        or empty, a bad source/confidence.
    """
    stamp, when = _timestamp(creation_time)
    ns = PROJECT_NS

    def tag(name: str) -> str:
        return f"{{{ns}}}{name}"

    human = guid("user", human_user)
    machine = guid("user", MACHINE_USER)
    if human == machine:
        raise ValueError("the human user needs another name than the machine user")
    groups = _merged_groups(codebook, themes)

    by_source: dict[str, list[Selection]] = {name: [] for name in sources}
    for item in selections:
        sel = _as_selection(item)
        if sel.source_name not in sources:
            raise ValueError(f"selection of unknown source {sel.source_name!r}")
        n = len(sources[sel.source_name])
        if not 0 <= sel.start < sel.end <= n:
            raise ValueError(
                f"selection {sel.start}..{sel.end} of {sel.source_name!r} is empty or "
                f"outside its {n} characters"
            )
        paths = []
        for c in sel.codes:
            try:
                p = codebook.resolve(c)
            except KeyError as e:
                raise ValueError(f"selection in {sel.source_name!r}: {e.args[0]}") from None
            if p not in paths:
                paths.append(p)
        by_source[sel.source_name].append(sel._replace(codes=tuple(paths)))

    root = ET.Element(
        tag("Project"),
        {
            "name": project_name,
            "origin": origin,
            "creatingUserGUID": human,
            "creationDateTime": stamp,
            f"{{{XSI}}}schemaLocation": PROJECT_SCHEMA,
        },
    )
    users = ET.SubElement(root, tag("Users"))
    ET.SubElement(users, tag("User"), {"guid": human, "name": human_user})
    ET.SubElement(users, tag("User"), {"guid": machine, "name": MACHINE_USER})
    if len(codebook):
        _codes_element(codebook, ns, ET.SubElement(root, tag("CodeBook")))

    files: list[tuple[str, bytes]] = []
    notes: list[ET.Element] = []
    if sources:
        sources_el = ET.SubElement(root, tag("Sources"))
    for name, text in sources.items():
        src_guid = guid("source", project_name, name)
        files.append((f"sources/{src_guid}.txt", text.encode("utf-8")))
        src = ET.SubElement(
            sources_el,
            tag("TextSource"),
            {
                "guid": src_guid,
                "name": name,
                "plainTextPath": f"internal://{src_guid}.txt",
                "creatingUser": human,
                "creationDateTime": stamp,
            },
        )
        seen: dict[tuple[int, int], int] = {}
        for sel in sorted(by_source[name], key=lambda s: (s.start, s.end)):
            nth = seen[(sel.start, sel.end)] = seen.get((sel.start, sel.end), -1) + 1
            sel_guid = guid("selection", project_name, name, sel.start, sel.end, nth)
            user = machine if sel.source == "machine" else human
            el = ET.SubElement(
                src,
                tag("PlainTextSelection"),
                {
                    "guid": sel_guid,
                    "name": _snippet(text[sel.start : sel.end]),
                    "startPosition": str(sel.start),
                    "endPosition": str(sel.end),
                    "creatingUser": user,
                    "creationDateTime": stamp,
                },
            )
            if sel.source == "machine":
                description = machine_description(sel.confidence, sel.note)
            else:
                description = (sel.note or "").strip()
            if description:
                ET.SubElement(el, tag("Description")).text = description
            for code in sel.codes:
                coding = ET.SubElement(
                    el,
                    tag("Coding"),
                    {
                        "guid": guid("coding", sel_guid, code),
                        "creatingUser": user,
                        "creationDateTime": stamp,
                    },
                )
                ET.SubElement(coding, tag("CodeRef"), {"targetGUID": guid("code", code)})
            if description:
                note_guid = guid("note", sel_guid)
                ET.SubElement(el, tag("NoteRef"), {"targetGUID": note_guid})
                note = ET.Element(
                    tag("Note"),
                    {
                        "guid": note_guid,
                        "name": "machine suggestion" if sel.source == "machine" else "note",
                        "creatingUser": user,
                        "creationDateTime": stamp,
                    },
                )
                ET.SubElement(note, tag("PlainTextContent")).text = description
                notes.append(note)
    if notes:
        ET.SubElement(root, tag("Notes")).extend(notes)
    if groups:
        sets = ET.SubElement(root, tag("Sets"))
        for name, members in groups.items():
            s = ET.SubElement(sets, tag("Set"), {"guid": guid("set", name), "name": name})
            for m in members:
                ET.SubElement(s, tag("MemberCode"), {"targetGUID": guid("code", m)})

    out = Path(path)
    buf = io.BytesIO()
    date_time = max(when, datetime(1980, 1, 1, tzinfo=UTC)).timetuple()[:6]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in [("project.qde", _xml_bytes(root, ns)), *files]:
            info = zipfile.ZipInfo(member, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    _write_atomic(out, buf.getvalue())
    return out


CSV_COLUMNS = ("id", "interview", "code", "text", "source", "confidence", "start", "end", "note")


def write_coded_csv(path: str | Path, excerpts: Iterable[CodedExcerpt]) -> Path:
    """Write excerpts as a CSV :func:`~pipeline.coding.importers.read_excerpts_csv` reads
    back: columns id (1, 2, ...: keeps excerpts of the same words apart), interview, code
    (paths joined by ``"; "``), text, source, confidence, start, end, note; one row per
    excerpt.

    Raises:
        ValueError: a code path holding ``;`` (it could not be read back).
    """
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for n, ex in enumerate(excerpts, start=1):
        bad = [c for c in ex.codes if ";" in c]
        if bad:
            raise ValueError(f"code {bad[0]!r} holds ';', the CSV's code separator")
        w.writerow(
            [
                n,
                ex.interview,
                "; ".join(ex.codes),
                ex.text,
                ex.source,
                "" if ex.confidence is None else format(ex.confidence, "g"),
                "" if ex.start is None else ex.start,
                "" if ex.end is None else ex.end,
                ex.note or "",
            ]
        )
    out = Path(path)
    _write_atomic(out, buf.getvalue().encode("utf-8"))
    return out


__all__ = [
    "MACHINE_USER",
    "PALETTE",
    "Selection",
    "code_colors",
    "code_description",
    "guid",
    "machine_description",
    "write_coded_csv",
    "write_qdc",
    "write_qdpx",
]
