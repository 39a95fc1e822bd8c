"""What each stage made, from what, with which settings: checked before it is used.

A stage runs inside :func:`producing`: its outputs are renamed into place together
at the end (see :func:`pipeline.artifacts.together`) along with a record in
``OUT/lineage/<stage>.json`` holding the sha256 of every output, the settings the
stage depends on and the records of the stages it read. A later stage calls
:func:`require` first, so outputs that were edited, left half-replaced by a killed
run, or made from older upstream outputs are refused with one line naming the command
that remakes them, instead of being silently mixed; outputs made with other
settings than the current command's get a warning saying which.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .artifacts import ArtifactError, pending_outputs, read_json, sha256_file, together, write_json
from .config import Config

LINEAGE_DIR = "lineage"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    made_by: str  # the command that (re)makes its outputs
    primary: str  # the output named in messages
    settings: tuple[str, ...]  # dotted config keys its outputs depend on
    upstream: tuple[str, ...]  # stages whose outputs it reads
    # Later commands compare these settings with theirs and warn when they differ. Not so for
    # ingest: its settings come with RAW_DIR on its own command line (`--redact`).
    settings_checked_later: bool = True


STAGES: dict[str, Stage] = {
    "ingest": Stage("insights ingest RAW_DIR", "turns.parquet", ("ingest", "redact", "redaction"), (), False),
    "passages": Stage("insights embed", "passages.parquet", ("passages", "ingest.extra_fillers"), ("ingest",)),
    "embed": Stage("insights embed", "embeddings.npy", ("embed.model", "embed.backend", "embed.batch_size"), ("passages",)),
    "segment": Stage("insights segment", "segments.parquet", ("segment",), ("passages", "embed")),
    "themes": Stage("insights themes", "themes.parquet", ("themes",), ("passages", "embed", "segment")),
    "report": Stage("insights report", "report/report.json", ("report",), ("ingest", "themes")),
}


def _setting(dumped: dict[str, Any], dotted: str) -> Any:
    node: Any = dumped
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _leaves(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(f"{prefix}.{k}", v))
        return out
    return {prefix: value}


def settings_of(stage: str, config: Config) -> dict[str, str]:
    """The settings ``stage``'s outputs depend on, one fingerprint per setting.

    Fingerprints, not values: settings can hold names (``redaction.names``,
    ``ingest.interviewer_names``) that must not be written in clear.
    """
    leaves: dict[str, Any] = {}
    dumped = config.model_dump(mode="json")
    for key in STAGES[stage].settings:
        if key == "redaction" and not config.redact:
            continue  # redaction settings change nothing while redaction is off
        leaves.update(_leaves(key, _setting(dumped, key)))
    # Lists of names are recorded by their length only: a fingerprint of a short name list can be
    # found by trying candidate names.
    leaves = {k: (len(v) if k.endswith("names") and isinstance(v, list) else v) for k, v in leaves.items()}
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16] for k, v in leaves.items()}


def digest(record: dict) -> str:
    """Identity of one finished run of a stage: what it wrote."""
    return hashlib.sha256(json.dumps(record["outputs"], sort_keys=True).encode()).hexdigest()


def record_path(out_dir: Path, stage: str) -> Path:
    return Path(out_dir) / LINEAGE_DIR / f"{stage}.json"


def _differences(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    return [key for key in sorted(set(recorded) | set(current)) if recorded.get(key) != current.get(key)]


def whole(out_dir: Path, stage: str) -> dict:
    """The record of ``stage``'s last finished run, its outputs checked to be exactly what it wrote."""
    out_dir = Path(out_dir)
    spec = STAGES[stage]
    record = read_json(record_path(out_dir, stage), spec.made_by)
    for name, sha in record.get("outputs", {}).items():
        target = out_dir / name
        if not target.exists():
            raise ArtifactError(f"{target} is missing: run `{spec.made_by}` again")
        if sha256_file(target) != sha:
            raise ArtifactError(
                f"{target} is not what `{spec.made_by}` last wrote (changed since, or left by an "
                f"interrupted run): run `{spec.made_by}` again"
            )
    return record


def require(out_dir: Path, stage: str, config: Config | None = None, _seen: dict | None = None) -> dict:
    """The record of ``stage``'s last finished run, checked against what is on disk now.

    Raises :class:`ArtifactError` with one line (what is wrong, which command fixes
    it) when an output is missing or differs from what that run wrote, or when it was
    made from outputs of an upstream stage that have since been remade. Given
    ``config``, settings other than the current ones are logged as a warning.
    """
    seen = {} if _seen is None else _seen
    if stage in seen:
        return seen[stage]
    out_dir = Path(out_dir)
    spec = STAGES[stage]
    path = record_path(out_dir, stage)
    if not path.is_file():
        for up in spec.upstream:  # name the earliest stage that needs running
            require(out_dir, up, config, seen)
        if not (out_dir / spec.primary).exists():
            raise ArtifactError(f"{out_dir / spec.primary} is missing: run `{spec.made_by}` first")
        raise ArtifactError(
            f"{out_dir / spec.primary} has no record of the run that made it (an older version, or a run "
            f"that was interrupted): run `{spec.made_by}` again"
        )
    record = whole(out_dir, stage)
    for up in spec.upstream:
        up_record = require(out_dir, up, config, seen)
        if record.get("upstream", {}).get(up) != digest(up_record):
            raise ArtifactError(
                f"{out_dir / spec.primary} was made from older {STAGES[up].primary}: run `{spec.made_by}` again"
            )
    if config is not None and spec.settings_checked_later:
        changed = _differences(record.get("settings", {}), settings_of(stage, config))
        if changed:
            # A warning, not a refusal: `--set` and `--guide` are often given to one command
            # only, and the outputs are whole and consistent with each other either way.
            log.warning("%s was made with other settings (%s) than this command's; run `%s` again "
                        "to remake it with these", out_dir / spec.primary, ", ".join(changed), spec.made_by)
    seen[stage] = record
    return record


@contextmanager
def producing(out_dir: Path, stage: str, config: Config) -> Iterator[None]:
    """Run a stage's writes as one batch and record them; upstream records are checked first."""
    out_dir = Path(out_dir)
    spec = STAGES[stage]
    seen: dict[str, dict] = {}
    upstream = {up: digest(require(out_dir, up, config, seen)) for up in spec.upstream}
    with together():
        yield
        root = out_dir.resolve()
        outputs = {}
        for target, tmp in sorted(pending_outputs().items()):
            rel = target.resolve().relative_to(root) if target.resolve().is_relative_to(root) else None
            if rel is not None and rel.parts[0] != LINEAGE_DIR:
                outputs[rel.as_posix()] = sha256_file(tmp)
        write_json({
            "stage": stage,
            "made_by": spec.made_by,
            "tool_version": __version__,
            "finished_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "outputs": outputs,
            "settings": settings_of(stage, config),
            "upstream": upstream,
        }, record_path(out_dir, stage))
