"""Each turn's passages, kept by the turn's content so spaCy reads a turn once.

Adding one interview or re-running after a change elsewhere would otherwise parse every
turn again: on a real corpus of 50 interviews the passages stage took 63-70 s, nearly all of
it spaCy. What a passage holds besides its links (interview, turn, source position) depends
only on the turn's text, its role and whether it is English, and on the recipe: the
passages settings, ``ingest.extra_fillers``, the stage's code and the spaCy pipelines'
versions. The cache is one gzipped JSON file per recipe under ``OUT/cache/passages/``
(only the last recipe is kept), written atomically; ``make clean-cache`` removes it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from ..core.atomic import atomic_path
from ..core.config import Config

log = logging.getLogger(__name__)

FOLDER = "passages"
# The columns a passage takes from its turn's text; the rest come from the turn's record.
CONTENT = (
    "text",
    "clean_text",
    "lemmas",
    "words",
    "n_words",
    "past_verbs",
    "present_verbs",
    "is_question",
)


def turn_key(text: str, role: str, english: bool) -> str:
    """What a turn's passages are made from, as a short hash."""
    raw = json.dumps([text, role, english], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def recipe(config: Config, pipelines: list[Any]) -> str:
    """How passages are made: settings, the stage's code and the spaCy pipelines used."""
    from ..core.lineage import settings_of
    from ..core.registry import code_version

    made_by = [f"{p.meta.get('name')}-{p.meta.get('version')}" for p in pipelines]
    raw = json.dumps([settings_of("passages", config), code_version("passages"), made_by])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


class PassageCache:
    """Passage contents (:data:`CONTENT`) by :func:`turn_key`, for one :func:`recipe`."""

    def __init__(self, store: Path, recipe: str):
        self.folder = Path(store) / FOLDER
        self.path = self.folder / f"{recipe}.json.gz"
        self.turns: dict[str, list[dict[str, Any]]] = {}
        self.added = 0
        if self.path.is_file():
            try:
                with gzip.open(self.path, "rt", encoding="utf-8") as fh:
                    self.turns = json.load(fh)
            except (OSError, ValueError, EOFError) as exc:
                log.warning("passage cache %s unreadable (%s); starting afresh", self.path, exc)

    def get(self, key: str) -> list[dict[str, Any]] | None:
        return self.turns.get(key)

    def put(self, key: str, passages: list[dict[str, Any]]) -> None:
        self.turns[key] = [{c: p[c] for c in CONTENT} for p in passages]
        self.added += 1

    def save(self) -> None:
        """Write the cache, if it has new turns, and drop other recipes' files."""
        if not self.added:
            return
        with atomic_path(self.path, now=True) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as fh:
            json.dump(self.turns, fh, ensure_ascii=False)
        for other in self.folder.glob("*.json.gz"):
            if other != self.path:
                other.unlink(missing_ok=True)
