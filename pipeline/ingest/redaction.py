"""Redaction at ingest: every later artifact is made from redacted turns, so hiding
names once here hides them in everything under the output folder.

Applied to the ingest stage's three outputs just before they are written: the turns
(text, cleaned text, speaker, heading, source path), the interviews (ids, speakers,
interviewer, every metadata value; name and contact fields replaced whole) and the
manifest (paths, reasons, warnings, ids). Ids and paths that contain a name become
``interview-NN`` / ``redacted``; the console (never the output folder) says which
file became which id.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.catalog import INTERVIEWS
from ..core.config import Config
from ..core.redact import EMPTY_VALUES, ConversationRedactor, Redactor, fold
from .roles import INTERVIEWEE, INTERVIEWER
from .turn_parser import ROLE_WORDS

log = logging.getLogger(__name__)
CONSOLE_ONLY = {"console_only": True}
_HANDLED = {
    "interview_id",
    "source_file",
    "folder",
    "metadata_json",
    "speakers",
    "interviewer",
}  # a record the run log leaves out (it names what was hidden)


def _speaker_names(turns: pd.DataFrame) -> list[str]:
    names = turns.loc[turns.role.isin([INTERVIEWEE, INTERVIEWER]), "speaker"].dropna().astype(str)
    return [
        n for n in dict.fromkeys(names) if n.strip() and not ROLE_WORDS.match(n.strip().casefold())
    ]


# Metadata fields by what they hold: a person's name (split into parts, each hidden), an
# organisation (hidden whole), contact details (the value replaced whole).
PERSON_FIELD = re.compile(
    r"name|interviewee|interviewer|participant|respondent|speaker|person", re.I
)
ORG_FIELD = re.compile(r"company|organi[sz]ation|employer|firm|business_name", re.I)
CONTACT_FIELD = re.compile(
    r"mail|phone|mobile|tel|contact|handle|linkedin|twitter|address|url|website|whatsapp", re.I
)


def _strings(value: Any) -> list[str]:
    """Every string in a metadata value (lists and mappings flattened), empty markers left out."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    if value is None or str(value).strip().casefold() in EMPTY_VALUES:
        return []
    return [str(value)]


def _kind_of_field(key: str, person_fields: set[str]) -> str | None:
    if key.casefold() in person_fields or PERSON_FIELD.search(key):
        return "Person"
    if ORG_FIELD.search(key):
        return "Organisation"
    if CONTACT_FIELD.search(key):
        return "Contact"
    return None


def _metadata(row: pd.Series) -> dict[str, Any]:
    try:
        return json.loads(row["metadata_json"]) if isinstance(row["metadata_json"], str) else {}
    except ValueError:
        return {}


class IngestRedaction:
    """The redactor for one ingest run, and the id and path renames it decided."""

    def __init__(
        self, turns: pd.DataFrame, interviews: pd.DataFrame, config: Config, files: list[str] = ()
    ):
        self.redactor = Redactor(config.redaction)
        for name in config.ingest.interviewer_names:
            self.redactor.add_name(name)
        self.person_fields = {f.casefold() for f in config.redaction.name_fields}
        by_interview = dict(tuple(turns.groupby("interview_id", sort=False)))
        for row in interviews.itertuples():
            conv = by_interview.get(row.interview_id, turns.iloc[:0])
            meta = _metadata(pd.Series(row._asdict()))
            names = [("Person", n) for n in _speaker_names(conv)]
            free_text = []
            for key, value in meta.items():
                kind = _kind_of_field(key, self.person_fields)
                if kind in ("Person", "Organisation"):
                    names += [
                        (kind, v)
                        for v in _strings(value)
                        if "@" not in v and not any(c.isdigit() for c in v)
                    ]
                elif kind is None and key != "folder":
                    free_text += _strings(value)
            # The model reads English only: in other languages it takes words ("de", "peu")
            # for names.
            english = str(row.language) in ("en", "und")
            self.redactor.learn(list(conv.text.fillna("")) + free_text if english else [], names)
        self.conversations: dict[str, ConversationRedactor] = {}
        self.ids: dict[str, str] = {}
        for n, interview_id in enumerate(interviews.interview_id, start=1):
            cr = self.redactor.conversation()
            conv = by_interview.get(interview_id, turns.iloc[:0])
            cr.reserve(
                list(conv.text.fillna(""))
                + list(conv.heading.dropna())
                + list(conv.speaker.dropna())
            )
            self.conversations[interview_id] = cr
            self.ids[interview_id] = (
                f"interview-{n:02d}" if self.redactor.sensitive(interview_id) else interview_id
            )
        self.paths: dict[str, str] = {}
        for row in interviews.itertuples():
            self.paths[row.source_file] = self._file_path(
                row.source_file, self.ids[row.interview_id]
            )
        for rel in files:  # skipped and failed files are named in warnings too
            self.paths.setdefault(rel, self.redactor.path(rel))
        # for messages that are about no one conversation
        self.general = self.redactor.conversation()
        self._renames: tuple[list[str], re.Pattern[str] | None, dict[str, str]] | None = None

    def _file_path(self, rel: str, new_id: str) -> str:
        folder, _, name = rel.rpartition("/")
        if self.redactor.sensitive(name):
            suffix = Path(name).suffix
            name = f"{new_id}{suffix}" if new_id != Path(name).stem else f"redacted{suffix}"
        return "/".join(filter(None, [self.redactor.path(folder) if folder else "", name]))

    def path(self, rel: str | None) -> str | None:
        """A raw-folder path as it may be shown: renamed files by their new ids.

        Args:
            rel: a path relative to the raw folder, or None.

        Returns:
            The redacted path (None for None).
        """
        if rel is None:
            return None
        return self.paths.get(rel) or self.redactor.path(rel)

    def message(self, text: str) -> str:
        """A log line or warning: known paths first (their ids), then any name left.

        Args:
            text: the message.

        Returns:
            The message with paths, ids and names replaced.
        """
        if self._renames is None:  # every run-log line comes through here: build the matchers once
            renamed = {old: new for old, new in self.ids.items() if old != new}
            # whole ids only: an id "ann" must not change "annual"
            pattern = "|".join(re.escape(old) for old in sorted(renamed, key=len, reverse=True))
            self._renames = (
                sorted(self.paths, key=len, reverse=True),
                re.compile(r"(?<![^\W_])(?:" + pattern + r")(?![^\W_])") if renamed else None,
                renamed,
            )
        paths, ids_re, renamed = self._renames
        for old in paths:
            text = text.replace(old, self.paths[old])
        if ids_re is not None:
            text = ids_re.sub(lambda m: renamed[m.group(0)], text)
        # other paths (the raw folder)
        text = re.sub(r"\S*/\S*", lambda m: self.redactor.path(m.group(0)), text)
        return self.general.text(text) or text

    # --- the three outputs ------------------------------------------------------------------------
    def turns(self, turns: pd.DataFrame) -> pd.DataFrame:
        """The turns table with names hidden in its text columns, files and ids renamed.

        Args:
            turns: the turns table as ingested.

        Returns:
            A redacted copy.
        """
        out = turns.copy()
        for i, row in out.iterrows():
            cr = self.conversations[row.interview_id]
            for col in ("speaker", "text", "clean_text", "heading"):
                value = row[col]
                if isinstance(value, str):
                    out.at[i, col] = cr.text(value)
        out["source_file"] = out["source_file"].map(self.path)
        out["interview_id"] = out["interview_id"].map(self.ids)
        return out

    def _value(self, cr: ConversationRedactor, key: str, value: Any) -> Any:
        """One metadata value, redacted: names and contact fields whole, text by the
        conversation's map."""
        if isinstance(value, dict):
            return {k: self._value(cr, key, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._value(cr, key, v) for v in value]
        if (
            value is None
            or isinstance(value, bool)
            or str(value).strip().casefold() in EMPTY_VALUES
        ):
            return value
        text = str(value)
        kind = _kind_of_field(key, self.person_fields)
        redacted = cr.text(text) or text
        # a name field the patterns and names did not cover
        if kind is not None and redacted == text:
            return cr.value(f"{key}:{fold(text)}", "Person" if kind == "Person" else kind)
        if isinstance(value, (int, float)) and redacted == text:
            return value
        return redacted

    def interviews(self, interviews: pd.DataFrame) -> pd.DataFrame:
        """The interviews table with names hidden in its metadata, speakers and other text.

        Args:
            interviews: the interviews table as ingested.

        Returns:
            A redacted copy.
        """
        out = interviews.copy()
        for i, row in out.iterrows():
            cr = self.conversations[row.interview_id]
            meta = _metadata(row)
            clean: dict[str, Any] = {}
            for key, value in meta.items():
                if key.casefold() == "id":
                    clean[key] = self.ids[row.interview_id]
                elif key == "folder":
                    clean[key] = self.redactor.path(str(value))
                else:
                    clean[key] = self._value(cr, key, value)
            out.at[i, "metadata_json"] = json.dumps(
                clean, ensure_ascii=False, sort_keys=True, default=str
            )
            for key, value in clean.items():
                # metadata columns, not ours
                if key in out.columns and key not in INTERVIEWS.columns:
                    out.at[i, key] = (
                        value
                        if value is None or isinstance(value, str)
                        else json.dumps(value, default=str)
                    )
            for col in ("speakers", "interviewer"):
                if isinstance(row[col], str):
                    out.at[i, col] = "; ".join(
                        cr.text(s.strip()) or "" for s in row[col].split(";")
                    )
            for col in out.columns:  # any other text ("metadata: interviewer is Marcus")
                if col not in clean and col not in _HANDLED and isinstance(row[col], str):
                    out.at[i, col] = cr.text(row[col])
        out["folder"] = out["folder"].map(
            lambda f: self.redactor.path(f) if isinstance(f, str) else f
        )
        out["source_file"] = out["source_file"].map(self.path)
        out["interview_id"] = out["interview_id"].map(self.ids)
        return out

    def manifest(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """The manifest with paths, reasons, warnings and ids redacted, marked ``redacted``.

        Args:
            manifest: the manifest as built.

        Returns:
            A redacted copy.
        """
        out = json.loads(json.dumps(manifest))
        out["raw_dir"] = self.redactor.path(out["raw_dir"])
        for entry in out["files"]:
            entry["path"] = self.path(entry["path"])
            entry["reason"] = (
                self.message(entry["reason"]) if entry.get("reason") else entry.get("reason")
            )
            entry["warnings"] = [self.message(w) for w in entry.get("warnings", [])]
            entry["interviews"] = [self.ids.get(i, i) for i in entry.get("interviews", [])]
        out["languages"] = {k: [self.ids.get(i, i) for i in v] for k, v in out["languages"].items()}
        meta = out["metadata"]
        # names nobody's notes hold
        meta["unknown_ids"] = ["redacted"] * len(meta.get("unknown_ids", []))
        meta["interviews_without_metadata"] = [
            self.ids.get(i, i) for i in meta.get("interviews_without_metadata", [])
        ]
        meta["warnings"] = [self.message(w) for w in meta.get("warnings", [])]
        out["redacted"] = True
        return out

    def effective_config(self, config_json: dict[str, Any]) -> dict[str, Any]:
        """The effective configuration without the names it was given to hide.

        Args:
            config_json: the configuration as JSON data.

        Returns:
            A copy with the interviewer and redaction names replaced by ``[redacted]``.
        """
        out = json.loads(json.dumps(config_json))
        out["ingest"]["interviewer_names"] = ["[redacted]"] * len(
            out["ingest"]["interviewer_names"]
        )
        out["redaction"]["names"] = ["[redacted]"] * len(out["redaction"]["names"])
        return out

    def announce(self) -> None:
        """Tell the user (on the console only) which files got new ids."""
        for old, new in self.ids.items():
            if old != new:
                log.info("redacted id: %s -> %s", old, new, extra=CONSOLE_ONLY)
