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

from ..config import Config
from ..redact import ConversationRedactor, Redactor, fold
from .roles import INTERVIEWEE, INTERVIEWER
from .turn_parser import ROLE_WORDS

log = logging.getLogger(__name__)
CONSOLE_ONLY = {"console_only": True}
_HANDLED = {"interview_id", "source_file", "folder", "metadata_json", "speakers", "interviewer"}  # a record the run log leaves out (it names what was hidden)


def _speaker_names(turns: pd.DataFrame) -> list[str]:
    names = turns.loc[turns.role.isin([INTERVIEWEE, INTERVIEWER]), "speaker"].dropna().astype(str)
    return [n for n in dict.fromkeys(names) if n.strip() and not ROLE_WORDS.match(n.strip().casefold())]


def _metadata(row: pd.Series) -> dict[str, Any]:
    try:
        return json.loads(row["metadata_json"]) if isinstance(row["metadata_json"], str) else {}
    except ValueError:
        return {}


class IngestRedaction:
    """The redactor for one ingest run, and the id and path renames it decided."""

    def __init__(self, turns: pd.DataFrame, interviews: pd.DataFrame, config: Config, files: list[str] = ()):
        self.config = config
        self.redactor = Redactor(config.redaction)
        for name in config.ingest.interviewer_names:
            self.redactor.add_name(name)
        fields = {f.casefold() for f in config.redaction.name_fields}
        by_interview = dict(tuple(turns.groupby("interview_id", sort=False)))
        for row in interviews.itertuples():
            conv = by_interview.get(row.interview_id, turns.iloc[:0])
            meta = _metadata(pd.Series(row._asdict()))
            names = [("Person", n) for n in _speaker_names(conv)]
            names += [("Person", str(v)) for k, v in meta.items()
                      if k.casefold() in fields and v and "@" not in str(v) and not any(c.isdigit() for c in str(v))]
            free_text = [str(v) for k, v in meta.items() if isinstance(v, str) and k.casefold() not in fields]
            self.redactor.learn(list(conv.text.fillna("")) + list(conv.heading.dropna().unique()) + free_text, names)
        self.conversations: dict[str, ConversationRedactor] = {}
        self.ids: dict[str, str] = {}
        for n, interview_id in enumerate(interviews.interview_id, start=1):
            cr = self.redactor.conversation()
            conv = by_interview.get(interview_id, turns.iloc[:0])
            cr.reserve(list(conv.text.fillna("")) + list(conv.heading.dropna()))
            self.conversations[interview_id] = cr
            self.ids[interview_id] = f"interview-{n:02d}" if self.redactor.mentions_name(interview_id) else interview_id
        self.paths: dict[str, str] = {}
        for row in interviews.itertuples():
            self.paths[row.source_file] = self._file_path(row.source_file, self.ids[row.interview_id])
        for rel in files:  # skipped and failed files are named in warnings too
            self.paths.setdefault(rel, self.redactor.path(rel))
        self.general = self.redactor.conversation()  # for messages that are about no one conversation

    def _file_path(self, rel: str, new_id: str) -> str:
        folder, _, name = rel.rpartition("/")
        if self.redactor.mentions_name(name):
            suffix = Path(name).suffix
            name = f"{new_id}{suffix}" if new_id != Path(name).stem else f"redacted{suffix}"
        return "/".join(filter(None, [self.redactor.path(folder) if folder else "", name]))

    def path(self, rel: str | None) -> str | None:
        if rel is None:
            return None
        return self.paths.get(rel) or self.redactor.path(rel)

    def message(self, text: str) -> str:
        """A log line or warning: known paths first (their ids), then any name left."""
        for old in sorted(self.paths, key=len, reverse=True):
            text = text.replace(old, self.paths[old])
        for old, new in self.ids.items():
            if old != new:
                text = text.replace(old, new)
        text = re.sub(r"\S*/\S*", lambda m: self.redactor.path(m.group(0)), text)  # other paths (the raw folder)
        return self.general.text(text) or text

    # --- the three outputs ------------------------------------------------------------------------
    def turns(self, turns: pd.DataFrame) -> pd.DataFrame:
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

    def interviews(self, interviews: pd.DataFrame) -> pd.DataFrame:
        out = interviews.copy()
        fields = {f.casefold() for f in self.config.redaction.name_fields}
        for i, row in out.iterrows():
            cr = self.conversations[row.interview_id]
            meta = _metadata(row)
            clean: dict[str, Any] = {}
            for key, value in meta.items():
                if key.casefold() == "id":
                    clean[key] = self.ids[row.interview_id]
                elif key == "folder":
                    clean[key] = self.redactor.path(str(value))
                elif key.casefold() in fields and value not in (None, ""):
                    redacted = cr.text(str(value))
                    clean[key] = redacted if redacted != str(value) else cr.value(f"{key}:{fold(str(value))}", "Person")
                elif isinstance(value, str):
                    clean[key] = cr.text(value)
                elif isinstance(value, list):
                    clean[key] = [cr.text(v) if isinstance(v, str) else v for v in value]
                else:
                    clean[key] = value
            out.at[i, "metadata_json"] = json.dumps(clean, ensure_ascii=False, sort_keys=True, default=str)
            for key, value in clean.items():
                if key in out.columns and key not in ("interview_id", "source_file", "folder"):
                    out.at[i, key] = value if value is None or isinstance(value, str) else json.dumps(value, default=str)
            for col in ("speakers", "interviewer"):
                if isinstance(row[col], str):
                    out.at[i, col] = "; ".join(cr.text(s.strip()) or "" for s in row[col].split(";"))
            for col in out.columns:  # any other text ("metadata: interviewer is Marcus")
                if col not in clean and col not in _HANDLED and isinstance(row[col], str):
                    out.at[i, col] = cr.text(row[col])
        out["folder"] = out["folder"].map(lambda f: self.redactor.path(f) if isinstance(f, str) else f)
        out["source_file"] = out["source_file"].map(self.path)
        out["interview_id"] = out["interview_id"].map(self.ids)
        return out

    def manifest(self, manifest: dict[str, Any]) -> dict[str, Any]:
        out = json.loads(json.dumps(manifest))
        out["raw_dir"] = self.redactor.path(out["raw_dir"])
        for entry in out["files"]:
            entry["path"] = self.path(entry["path"])
            entry["reason"] = self.message(entry["reason"]) if entry.get("reason") else entry.get("reason")
            entry["warnings"] = [self.message(w) for w in entry.get("warnings", [])]
            entry["interviews"] = [self.ids.get(i, i) for i in entry.get("interviews", [])]
        out["languages"] = {k: [self.ids.get(i, i) for i in v] for k, v in out["languages"].items()}
        meta = out["metadata"]
        meta["unknown_ids"] = [self.general.text(i) if not self.redactor.mentions_name(i) else "redacted"
                               for i in meta.get("unknown_ids", [])]
        meta["interviews_without_metadata"] = [self.ids.get(i, i) for i in meta.get("interviews_without_metadata", [])]
        meta["warnings"] = [self.message(w) for w in meta.get("warnings", [])]
        out["redacted"] = True
        return out

    def effective_config(self, config_json: dict[str, Any]) -> dict[str, Any]:
        out = json.loads(json.dumps(config_json))
        out["ingest"]["interviewer_names"] = ["[redacted]"] * len(out["ingest"]["interviewer_names"])
        out["redaction"]["names"] = ["[redacted]"] * len(out["redaction"]["names"])
        return out

    def announce(self) -> None:
        """Tell the user (on the console only) which files got new ids."""
        for old, new in self.ids.items():
            if old != new:
                log.info("redacted id: %s -> %s", old, new, extra=CONSOLE_ONLY)
