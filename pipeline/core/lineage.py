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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from .atomic import pending_outputs, sha256_file, together
from .catalog import LINEAGE_RECORD, ArtifactError, artifact, read_json, write_json
from .config import Config
from .registry import SPEED_ONLY, STAGES, code_version

LINEAGE_DIR = LINEAGE_RECORD.split("/")[0]
log = logging.getLogger(__name__)


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
    leaves = {k: v for k, v in leaves.items() if k not in SPEED_ONLY}
    # Lists of names are recorded by their length only: a fingerprint of a short name list can be
    # found by trying candidate names.
    leaves = {
        k: (len(v) if k.endswith("names") and isinstance(v, list) else v) for k, v in leaves.items()
    }
    # A setting naming a file (a guide, a lists codebook) counts by the file's content too, so
    # editing the guide in place remakes the sections.
    leaves = {k: _with_file_content(v) for k, v in leaves.items()}
    return {
        k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16]
        for k, v in leaves.items()
    }


def _with_file_content(value: Any) -> Any:
    if isinstance(value, str) and value and len(value) < 4096:
        path = Path(value).expanduser()
        try:
            if path.is_file():
                return [value, sha256_file(path)]
        except OSError:
            return value
    return value


def digest(record: dict) -> str:
    """Identity of one finished run of a stage: what it wrote."""
    return hashlib.sha256(json.dumps(record["outputs"], sort_keys=True).encode()).hexdigest()


def record_path(out_dir: Path, stage: str, params: dict[str, str] | None = None) -> Path:
    """Where the record of ``stage`` (for these parameters, e.g. compare's field) lives."""
    suffix = "".join(f".{v}" for _, v in sorted((params or {}).items()))
    return Path(out_dir) / LINEAGE_RECORD.format(stage=stage + suffix)


def _differences(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    return [
        key for key in sorted(set(recorded) | set(current)) if recorded.get(key) != current.get(key)
    ]


def whole(out_dir: Path, stage: str, params: dict[str, str] | None = None) -> dict:
    """The record of ``stage``'s last finished run, its outputs checked to be exactly what it
    wrote."""
    out_dir = Path(out_dir)
    spec = STAGES[stage]
    record = read_json(record_path(out_dir, stage, params), spec.command)
    for name, sha in record.get("outputs", {}).items():
        target = out_dir / name
        if not target.exists():
            raise ArtifactError(f"{target} is missing: run `{spec.command}` again")
        if sha256_file(target) != sha:
            raise ArtifactError(
                f"{target} is not what `{spec.command}` last wrote (changed since, or left by an "
                f"interrupted run): run `{spec.command}` again"
            )
    return record


def require(
    out_dir: Path, stage: str, config: Config | None = None, _seen: dict | None = None
) -> dict:
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
            raise ArtifactError(f"{out_dir / spec.primary} is missing: run `{spec.command}` first")
        raise ArtifactError(
            f"{out_dir / spec.primary} has no record of the run that made it (an older version, "
            "or a run "
            f"that was interrupted): run `{spec.command}` again"
        )
    record = whole(out_dir, stage)
    for up in spec.upstream:
        up_record = require(out_dir, up, config, seen)
        if record.get("upstream", {}).get(up) != digest(up_record):
            raise ArtifactError(
                f"{out_dir / spec.primary} was made from older {STAGES[up].primary}: run "
                f"`{spec.command}` again"
            )
    if config is not None and spec.settings_checked_later:
        changed = _differences(record.get("settings", {}), settings_of(stage, config))
        if changed:
            # A warning, not a refusal: `--set` and `--guide` are often given to one command
            # only, and the outputs are whole and consistent with each other either way.
            log.warning(
                "%s was made with other settings (%s) than this command's; run `%s` again "
                "to remake it with these",
                out_dir / spec.primary,
                ", ".join(changed),
                spec.command,
            )
    seen[stage] = record
    return record


@contextmanager
def producing(
    out_dir: Path,
    stage: str,
    config: Config,
    params: dict[str, str] | None = None,
    inputs: str | None = None,
) -> Iterator[None]:
    """Run a stage's writes as one batch and record them; upstream records are checked first.

    Args:
        out_dir: the output folder.
        stage: the stage's name in the registry.
        config: the effective configuration (its settings for the stage are recorded).
        params: values of the stage's path placeholders (compare's ``field``).
        inputs: a fingerprint of what the stage reads from outside OUT (ingest's raw folder).

    Raises:
        ArtifactError: an upstream record fails its check, or the stage wrote a file below
            OUT that its declaration in the registry does not name.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    spec = STAGES[stage]
    seen: dict[str, dict] = {}
    upstream = {up: digest(require(out_dir, up, config, seen)) for up in spec.upstream}
    declared = {
        artifact(name).location(out_dir, **(params or {})).resolve() for name in spec.outputs
    }
    with together():
        yield
        root = out_dir.resolve()
        outputs = {}
        for target, tmp in sorted(pending_outputs().items()):
            resolved = target.resolve()
            rel = resolved.relative_to(root) if resolved.is_relative_to(root) else None
            if rel is None or rel.parts[0] == LINEAGE_DIR:
                continue
            if resolved not in declared:
                raise ArtifactError(
                    f"stage {stage} wrote {rel.as_posix()}, which its entry in "
                    "pipeline/core/registry.py does not declare"
                )
            outputs[rel.as_posix()] = sha256_file(tmp)
        write_json(
            {
                "stage": stage,
                "made_by": spec.command,
                "tool_version": __version__,
                "code": code_version(stage),
                "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                "seconds": round(time.perf_counter() - started, 2),
                "outputs": outputs,
                "settings": settings_of(stage, config),
                "upstream": upstream,
                **({"parameters": params} if params else {}),
                **({"inputs": inputs} if inputs else {}),
            },
            record_path(out_dir, stage, params),
        )


def stale_because(
    out_dir: Path,
    stage: str,
    config: Config,
    params: dict[str, str] | None = None,
    inputs: str | None = None,
) -> str | None:
    """Why ``stage`` must run again, or None when its last run is still current.

    Current means: its outputs are exactly what it wrote, with the same code version and
    settings, from the same upstream runs (each itself whole) and, for a stage that reads
    outside OUT, the same ``inputs`` fingerprint. This is what lets a warm ``insights run``
    do no work.
    """
    out_dir = Path(out_dir)
    spec = STAGES[stage]
    if not record_path(out_dir, stage, params).is_file():
        return "not run yet"
    try:
        record = whole(out_dir, stage, params)
    except ArtifactError as exc:
        return str(exc)
    if record.get("code") != code_version(stage) or record.get("tool_version") != __version__:
        return "its code changed"
    changed = _differences(record.get("settings", {}), settings_of(stage, config))
    if changed:
        return f"settings changed ({', '.join(changed)})"
    for up in spec.upstream:
        try:
            up_record = whole(out_dir, up)
        except ArtifactError:
            return f"{up} outputs changed"
        if record.get("upstream", {}).get(up) != digest(up_record):
            return f"{up} was run again since"
    if inputs is not None and record.get("inputs") != inputs:
        return "its input files changed"
    return None
