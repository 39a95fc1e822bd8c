"""The stages of the pipeline, declared once.

Each :class:`Stage` names the command that runs it, the function that computes it,
the catalog artifacts it reads and writes, the settings its outputs depend on and the
code its outputs depend on. Everything that needs the stage order or a stage's
contract reads it from here: ``insights run``, the per-stage commands, lineage records
and checks, the benchmark (through :func:`add_hook`), the tests and the Makefile's
targets (``python -m pipeline.core.registry --makefile`` writes ``stages.mk``; a test
checks it is current).

:func:`run_stage` runs one stage: it checks the records of the stages it reads, runs
the stage's function inside one batch of atomic writes, refuses outputs the stage did
not declare, and records what it wrote.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger(__name__)


# Settings that change how fast a stage runs, never what it writes (tests/test_embed_batching.py
# checks the vectors are the same bit for bit whatever the thread count): no stage's outputs
# depend on them, so changing one redoes nothing.
SPEED_ONLY = frozenset({"embed.threads"})


@dataclass(frozen=True)
class Stage:
    """One stage's contract."""

    name: str
    command: str  # the command that (re)makes its outputs, for messages
    entry: str  # "module:function" computing the stage: fn(out_dir, config, **options)
    inputs: tuple[str, ...]  # catalog artifacts it reads
    outputs: tuple[str, ...]  # catalog artifacts it writes; the first is named in messages
    settings: tuple[str, ...]  # dotted config keys (or whole sections) its outputs depend on
    code: tuple[str, ...]  # files or folders below pipeline/ whose source its outputs depend on
    description: str = ""
    in_run: bool = True  # part of `insights run` (compare needs a field, so it runs on demand)
    # Later commands compare these settings with theirs and warn when they differ. Not so for
    # ingest: its settings come with RAW_DIR on its own command line (`--redact`).
    settings_checked_later: bool = True
    parameters: tuple[str, ...] = ()  # placeholders in its output paths, e.g. compare's {field}

    @property
    def primary(self) -> str:
        """The relative path of the output named in messages."""
        from .catalog import artifact

        return artifact(self.outputs[0]).path

    @property
    def upstream(self) -> tuple[str, ...]:
        """The stages whose outputs it reads, in pipeline order."""
        from .catalog import artifact

        makers = {artifact(name).stage for name in self.inputs}
        return tuple(s.name for s in ORDER if s.name in makers and s.name != self.name)

    def function(self) -> Callable[..., Any]:
        module, _, attr = self.entry.partition(":")
        return getattr(importlib.import_module(module), attr)


CORE = ("core/config.py", "core/catalog.py", "core/atomic.py")

ORDER: tuple[Stage, ...] = (
    Stage(
        name="ingest",
        command="insights ingest RAW_DIR",
        entry="pipeline.ingest.stage:run",
        inputs=(),
        outputs=("turns", "interviews", "manifest", "effective_config"),
        settings=("ingest", "redact", "redaction"),
        code=("ingest", "core/redact.py", *CORE),
        description="read every note and transcript into turns with speakers, roles and languages",
        settings_checked_later=False,
    ),
    Stage(
        name="passages",
        command="insights passages",
        entry="pipeline.passages.stage:run",
        inputs=("turns",),
        outputs=("passages",),
        settings=("passages", "ingest.extra_fillers"),
        code=("passages", "core/nlp.py", "ingest/clean.py", *CORE),
        description="cut interviewee speech into passages of 1-3 sentences; keep questions whole",
    ),
    Stage(
        name="embed",
        command="insights embed",
        entry="pipeline.embed.stage:run",
        inputs=("passages",),
        outputs=("embeddings", "embeddings_info"),
        settings=("embed",),  # embed.cache changes embeddings.json's counts, not the vectors
        code=("embed", *CORE),
        description="embed the passages (cached by model and text)",
    ),
    Stage(
        name="segment",
        command="insights segment",
        entry="pipeline.segment.stage:run",
        inputs=("turns", "passages", "embeddings", "embeddings_info"),
        outputs=("segments", "segments_info", "segment_guide"),
        settings=(
            "segment",
            "embed.model",
            "embed.backend",
            "embed.batch_size",
            "embed.cache",
        ),
        code=("segment", *CORE),
        description="give every turn and passage a section of the interview guide",
    ),
    Stage(
        name="themes",
        command="insights themes",
        entry="pipeline.themes.stage:run",
        inputs=("turns", "passages", "embeddings", "embeddings_info", "interviews", "segments"),
        outputs=(
            "themes",
            "assignments",
            "theme_sections",
            "theme_interviews",
            "hierarchy",
            "themes_model",
            "themes_info",
        ),
        settings=(
            "themes",
            "embed.model",
            "embed.backend",
            "embed.batch_size",
            "embed.cache",
            # themes.guided seeds the fit with the codebook
            "coding.file",
            "coding.codebook",
            "coding.from_turns",
            "coding.min_score",
        ),
        code=("themes", "coding", "ingest/clean.py", *CORE),
        description="find themes across conversations with BERTopic built for interview passages",
    ),
    Stage(
        name="code",
        command="insights code",
        entry="pipeline.coding.stage:run",
        inputs=("turns", "passages", "embeddings", "embeddings_info", "segments"),
        outputs=("coding", "codes", "coding_info", "coding_suggestions"),
        settings=("coding", "embed"),
        code=("coding", "ingest/clean.py", *CORE),
        description="code the corpus with the researcher's codebook, learnt from their coding",
    ),
    Stage(
        name="report",
        command="insights report",
        entry="pipeline.report.stage:run",
        inputs=(
            "turns",
            "interviews",
            "manifest",
            "passages",
            "embeddings",
            "embeddings_info",
            "segments",
            "segments_info",
            "segment_guide",
            "themes",
            "assignments",
            "theme_sections",
            "theme_interviews",
            "hierarchy",
            "themes_info",
            "coding",
            "codes",
            "coding_info",
        ),
        outputs=(
            "report_json",
            "report_md",
            "report_html",
            "report_figure_sections",
            "report_figure_numbers",
        ),
        # The method section records the themes settings and a hash of every setting that can change
        # what the report says.
        settings=(
            "report",
            "coding",
            "segment",
            "embed",
            "themes",
            "passages",
            "ingest",
            "redact",
            "redaction",
        ),
        code=(
            "report",
            "results.py",
            "core/nlp.py",
            "evaluate/report.py",
            "segment/guide.py",
            "segment/stage.py",
            *CORE,
        ),
        description="write the takeaways report (HTML, Markdown + figures, JSON)",
    ),
    Stage(
        name="compare",
        command="insights compare --by FIELD",
        entry="pipeline.compare.stage:run",
        inputs=("interviews", "passages", "segments", "themes", "assignments"),
        outputs=("compare_html", "compare_md", "compare_csv", "compare_png"),
        settings=("compare", "themes.extra_stop_words"),
        code=("compare", "themes/vectorizer.py", *CORE),
        description="compare cohorts of interviews by a metadata field",
        in_run=False,
        parameters=("field",),
    ),
)

STAGES: dict[str, Stage] = {s.name: s for s in ORDER}
RUN_ORDER: tuple[str, ...] = tuple(s.name for s in ORDER if s.in_run)


def stage(name: str) -> Stage:
    """The stage called ``name``."""
    try:
        return STAGES[name]
    except KeyError:
        raise KeyError(f"no stage {name!r}; stages: {', '.join(STAGES)}") from None


@cache
def code_version(name: str) -> str:
    """A fingerprint of the source the stage's outputs depend on (its `code` files, by content)."""
    h = hashlib.sha256()
    for rel in stage(name).code:
        target = PACKAGE_ROOT / rel
        files = sorted(target.rglob("*")) if target.is_dir() else [target]
        for f in files:
            if f.is_file() and f.suffix in (".py", ".yaml") and "__pycache__" not in f.parts:
                h.update(
                    f.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0" + f.read_bytes() + b"\0"
                )
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------- hooks


@dataclass
class Hooks:
    """Callbacks around stages and their timed phases (the benchmark's way in; no patching).

    ``before(stage)``, ``after(stage, seconds)`` and ``phase(stage, phase, seconds, counts)``,
    where ``phase`` is the path of nested phases ("fit/MiniLM encode") and ``counts`` what the
    phase counted (e.g. ``{"texts": 64}``); any may be left out.
    """

    before: Callable[[str], None] | None = None
    after: Callable[[str, float], None] | None = None
    phase: Callable[[str, str, float, dict[str, int]], None] | None = None


_hooks: list[Hooks] = []
_current: ContextVar[str | None] = ContextVar("current_stage", default=None)
_phases: ContextVar[tuple[str, ...]] = ContextVar("current_phases", default=())


def add_hook(hooks: Hooks) -> Callable[[], None]:
    """Register ``hooks``; returns a function that removes them again."""
    _hooks.append(hooks)
    return lambda: _hooks.remove(hooks) if hooks in _hooks else None


@contextmanager
def phase(name: str, **counts: int) -> Iterator[None]:
    """Time a part of the current stage for the hooks (e.g. the themes fit vs its hierarchy).

    Phases nest: a phase inside another is reported as ``outer/inner``. Costs nothing
    measurable when no hook is registered.
    """
    if not _hooks:
        yield
        return
    path = (*_phases.get(), name)
    token = _phases.set(path)
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        _phases.reset(token)
        for h in list(_hooks):
            if h.phase:
                h.phase(_current.get() or "", "/".join(path), seconds, dict(counts))


# ---------------------------------------------------------------------- runner


@dataclass(frozen=True)
class UpToDate:
    """What :func:`run_stage` returns for a stage it skipped: its last run is still current."""

    stage: str
    finished_at: str


def inputs_fingerprint(raw_dir: Path) -> str:
    """What ingest reads from outside OUT: the raw folder's path and every file's content."""
    from ..ingest import discover
    from .atomic import sha256_file

    raw_dir = Path(raw_dir)
    h = hashlib.sha256(str(raw_dir.resolve()).encode() + b"\0")
    for path in discover(raw_dir) if raw_dir.is_dir() else []:
        try:
            digest = sha256_file(path)
        except OSError:
            digest = "unreadable"
        h.update(f"{path.relative_to(raw_dir).as_posix()}\0{digest}\0".encode())
    return h.hexdigest()[:32]


def run_stage(name: str, out_dir: Path, config, *, skip_fresh: bool = False, **options: Any) -> Any:
    """Run stage ``name`` on ``out_dir`` and record it; returns what the stage's function returns.

    Args:
        name: a stage of :data:`STAGES`.
        out_dir: the output folder.
        config: the effective :class:`~pipeline.core.config.Config`.
        skip_fresh: skip the stage when its last run is still current (same inputs, settings
            and code; :func:`pipeline.core.lineage.stale_because`) and return :class:`UpToDate`.
            The command line does this unless ``--force``; library calls run the stage.
        **options: passed to the stage's function (``raw_dir`` for ingest, ``field`` for
            compare, ...).

    Raises:
        ArtifactError: an input is missing, stale or was edited (the message names the command
            that remakes it), or the stage wrote a file its declaration does not name.
    """
    from . import lineage

    spec = stage(name)
    out_dir = Path(out_dir)
    params = {p: str(options[p]) for p in spec.parameters}
    inputs = inputs_fingerprint(options["raw_dir"]) if "raw_dir" in options else None
    if skip_fresh:
        reason = lineage.stale_because(out_dir, name, config, params or None, inputs)
        if reason is None:
            record = lineage.whole(out_dir, name, params or None)
            log.info("%s: up to date (made %s; --force to redo)", name, record.get("finished_at"))
            return UpToDate(name, str(record.get("finished_at")))
        log.debug("%s: running (%s)", name, reason)
    token = _current.set(name)
    for h in list(_hooks):
        if h.before:
            h.before(name)
    start = time.perf_counter()
    try:
        with lineage.producing(out_dir, name, config, params, inputs):
            result = spec.function()(out_dir, config, **options)
    finally:
        _current.reset(token)
    seconds = time.perf_counter() - start
    log.info("%s: done in %.1f s", name, seconds)
    for h in list(_hooks):
        if h.after:
            h.after(name, seconds)
    return result


def runner(name: str) -> Callable[..., Any]:
    """``run(out_dir, config, **options)`` for stage ``name``, as its package exports it."""

    def run(out_dir: Path, config, **options: Any) -> Any:
        return run_stage(name, out_dir, config, **options)

    run.__name__ = "run"
    run.__qualname__ = f"{name}.run"
    run.__doc__ = f"Run the {name} stage ({stage(name).description}) through :func:`run_stage`."
    return run


# -------------------------------------------------------------------- Makefile


def makefile_rules() -> str:
    """The Makefile's stage targets, generated from :data:`STAGES` (checked current by a test)."""
    from .catalog import artifact

    lines = [
        "# Generated from pipeline/core/registry.py by `python -m pipeline.core.registry "
        "--makefile`;",
        "# do not edit (tests/test_registry.py checks it is current). Each stage is a file target",
        "# on its first output: it re-runs when an input, the config or the stage's code changed.",
        "",
    ]
    for spec in ORDER:
        if spec.parameters:
            continue
        target = f"$(OUT)/{artifact(spec.outputs[0]).path}"
        ups = [f"$(OUT)/{artifact(STAGES[u].outputs[0]).path}" for u in spec.upstream]
        code = " ".join(
            f"$(wildcard pipeline/{c}/*.py pipeline/{c}/*/*.py pipeline/{c}/*.yaml)"
            if not c.endswith((".py", ".yaml"))
            else f"pipeline/{c}"
            for c in spec.code
        )
        first = ["$(RAW_FILES)"] if spec.name == "ingest" else ups
        lines.append(f"{spec.name.upper()}_CODE := {code}")
        lines.append(f"{spec.name}: {target}")
        lines.append(
            f"{target}: $(INSTALLED) {' '.join(first)} $(CONFIG_FILE) $({spec.name.upper()}_CODE)"
            + (" $(GUIDE)" if spec.name == "segment" else "")
        )
        lines.append(
            f"\t$(INSIGHTS) {spec.name}"
            + (' "$(RAW)"' if spec.name == "ingest" else "")
            + ' --out "$(OUT)"'
            + f"$({spec.name.upper()}_ARGS)"
        )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys

    if sys.argv[1:] == ["--makefile"]:
        Path("stages.mk").write_text(makefile_rules())
        print("wrote stages.mk")
    else:
        print("usage: python -m pipeline.core.registry --makefile")
