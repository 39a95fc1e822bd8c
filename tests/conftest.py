"""Shared fixtures: the sample through each stage (read only), copies to write to, the CLI.

Layers (``make test-fast`` runs only the tests not marked ``slow``):

- ``ingested`` -> ``embedded`` (passages + embed) -> ``segmented`` -> ``themed`` -> ``reported``:
  the bundled sample (data/raw) through the stages, once per session, each in its own folder
  (a copy of the one before plus one more stage). Tests only read them: every file is recorded
  when the folder is made, checked after each test that uses the folder and again at the end
  of the session, and a change fails naming the files. ``sample_out`` is ``themed``.
- ``copy_of(folder)`` (and ``themed_copy``): a private copy for a test that writes.
- ``distilled``: a cache folder with the model2vec backend's static model, distilled once.
- ``cli``: ``insights ARGS`` in this process (Typer's CliRunner); :func:`run_cli` runs it in a
  real process, for the few tests that need one (killing a run, the output lock, the console
  script).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import tree_snapshot

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RAW = ROOT / "data" / "raw"
# The `reported` folder's report is stamped with this time, so its report.json is reproducible.
REPORT_STAMP = "2026-01-01T00:00:00+00:00"
CLI_ENV = {"COLUMNS": "200"}  # wide enough that no path in a message is wrapped

# Tests never touch the network or a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# ------------------------------------------------------------------ the command line


@dataclass
class CliResult:
    """What a run of ``insights ARGS`` gave: exit status and what it wrote to each stream."""

    returncode: int
    stdout: str
    stderr: str
    output: str = ""  # stdout and stderr interleaved, as a terminal shows them

    @property
    def exit_code(self) -> int:
        return self.returncode


def invoke(*args, env: dict[str, str] | None = None, input: str | None = None) -> CliResult:
    """Run ``insights ARGS`` in this process, with Typer's CliRunner, as a user's shell would.

    The process-wide state a command sets up (the ``pipeline`` logger's handlers, level and
    propagation; ``sys.argv``, which the run log records) is put back afterwards, so one test's
    command cannot change what the next test sees. An exception the command does not turn
    into an exit status is raised here, as it would end a real run with a traceback;
    ``ArtifactError`` gets the one line ``insights``' ``main()`` prints for it.
    """
    from typer.testing import CliRunner

    from pipeline import cli
    from pipeline.core.catalog import ArtifactError

    argv = [str(a) for a in args]
    logger = logging.getLogger("pipeline")
    saved_logger = (logger.handlers[:], logger.level, logger.propagate)
    saved_argv = sys.argv
    console = cli.console
    # As in a real run with its streams piped: no terminal, so no colours or cursor codes.
    saved_console = (console._force_terminal, console._color_system)
    console._force_terminal, console._color_system = False, None
    sys.argv = ["insights", *argv]
    try:
        result = CliRunner().invoke(cli.app, argv, env={**CLI_ENV, **(env or {})}, input=input)
    finally:
        sys.argv = saved_argv
        console._force_terminal, console._color_system = saved_console
        logger.handlers[:] = saved_logger[0]
        logger.setLevel(saved_logger[1])
        logger.propagate = saved_logger[2]
    stderr, output, error = result.stderr, result.output, result.exception
    if error is not None and not isinstance(error, SystemExit):
        if not isinstance(error, ArtifactError):
            raise error
        stderr, output = stderr + f"error: {error}\n", output + f"error: {error}\n"
    return CliResult(result.exit_code, result.stdout, stderr, output)


def run_cli(*args, cwd=None, check=False) -> subprocess.CompletedProcess:
    """Run ``python -m pipeline ARGS`` in a new process, the way a user runs ``insights ARGS``."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **CLI_ENV},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"insights {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}"
        )
    return proc


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """``cli(*args)``: ``insights ARGS`` in this process (see :func:`invoke`)."""
    return invoke


# ------------------------------------------------------------------ read-only session folders


def _files(root: Path) -> dict[str, tuple[int, int] | str]:
    """A quick look at a folder: size and modification time of every file, every folder."""
    seen: dict[str, tuple[int, int] | str] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_dir():
            seen[rel] = "<dir>"
        else:
            st = p.stat()
            seen[rel] = (st.st_size, st.st_mtime_ns)
    return seen


def _changes(before: dict, after: dict) -> list[str]:
    return (
        [f"added {k}" for k in sorted(set(after) - set(before))]
        + [f"removed {k}" for k in sorted(set(before) - set(after))]
        + [f"changed {k}" for k in sorted(set(before) & set(after)) if before[k] != after[k]]
    )


class ReadOnlyFolder:
    """A session folder that tests may only read; records its files when made."""

    def __init__(self, name: str, root: Path):
        self.name, self.root = name, root
        self.made = tree_snapshot(root, skip=set())  # relative path -> sha256 (or "<dir>")
        self.last = _files(root)
        self.blamed: list[str] = []

    def _message(self, who: str, changes: list[str]) -> str:
        shown = "\n  ".join(changes[:30]) + ("\n  ..." if len(changes) > 30 else "")
        return (
            f"{who} wrote into the session folder `{self.name}` ({self.root}), which tests must "
            f"only read; use `copy_of({self.name})` for a folder to write to:\n  {shown}"
        )

    def check_after(self, test: str) -> None:
        now = _files(self.root)
        if now != self.last:
            changes, self.last = _changes(self.last, now), now
            self.blamed.append(test)
            pytest.fail(self._message(test, changes), pytrace=False)

    def check_at_end(self) -> None:
        changes = _changes(self.made, tree_snapshot(self.root, skip=set()))
        if changes:
            who = ", ".join(self.blamed) if self.blamed else "a test"
            pytest.fail(self._message(who, changes), pytrace=False)


READ_ONLY: dict[str, ReadOnlyFolder] = {}


@pytest.fixture(autouse=True)
def _session_folders_stay_unchanged(request):
    """After each test, check the session folders it used (directly or through its fixtures)."""
    yield
    for name, folder in list(READ_ONLY.items()):
        if name in request.fixturenames:
            folder.check_after(request.node.nodeid)


# Stage name -> the settings it read while the session folders were made (tests/test_registry.py
# checks each stage declares them).
SETTINGS_READ: dict[str, frozenset[str]] = {}


def _stage_folder(tmp_path_factory, name: str, base: Path | None, stages: dict[str, dict]):
    """Copy ``base`` (if any) to a new folder and run ``stages`` on it, then guard it."""
    from pipeline.core.config import Config
    from pipeline.core.registry import run_stage

    out = tmp_path_factory.mktemp(name)
    if base is not None:
        shutil.copytree(base, out, dirs_exist_ok=True)
    from pipeline.core.config import recording

    cfg = Config()  # built outside the recording: validators read settings too
    for stage, options in stages.items():
        with recording() as read:
            run_stage(stage, out, cfg, **options)
        SETTINGS_READ[stage] = frozenset(read)
    folder = READ_ONLY[name] = ReadOnlyFolder(name, out)
    return folder


@pytest.fixture(scope="session")
def ingested(tmp_path_factory):
    """The bundled sample ingested: turns, interviews, manifest, config (read only)."""
    folder = _stage_folder(tmp_path_factory, "ingested", None, {"ingest": {"raw_dir": SAMPLE_RAW}})
    yield folder.root
    folder.check_at_end()


@pytest.fixture(scope="session")
def embedded(tmp_path_factory, ingested):
    """``ingested`` plus passages and embeddings (and the embedding cache) (read only)."""
    folder = _stage_folder(tmp_path_factory, "embedded", ingested, {"passages": {}, "embed": {}})
    yield folder.root
    folder.check_at_end()


@pytest.fixture(scope="session")
def segmented(tmp_path_factory, embedded):
    """``embedded`` plus segments with the built-in guide (read only)."""
    folder = _stage_folder(tmp_path_factory, "segmented", embedded, {"segment": {}})
    yield folder.root
    folder.check_at_end()


@pytest.fixture(scope="session")
def themed(tmp_path_factory, segmented):
    """``segmented`` plus themes and the saved model (read only)."""
    folder = _stage_folder(tmp_path_factory, "themed", segmented, {"themes": {}})
    yield folder.root
    folder.check_at_end()


@pytest.fixture(scope="session")
def reported(tmp_path_factory, themed):
    """``themed`` plus the report, stamped :data:`REPORT_STAMP` (read only)."""
    options = {"code": {}, "report": {"generated_at": REPORT_STAMP}}
    folder = _stage_folder(tmp_path_factory, "reported", themed, options)
    yield folder.root
    folder.check_at_end()


@pytest.fixture(scope="session")
def sample_out(themed):
    """The bundled sample through ingest, passages, embed, segment and themes: ``themed``."""
    return themed


@pytest.fixture(scope="session")
def distilled(tmp_path_factory) -> Path:
    """A cache folder holding the model2vec model distilled from the bundled MiniLM, distilled
    once per session (about 13 s): tests copy its ``model2vec`` folder into their own cache."""
    from pipeline import embed
    from pipeline.core.config import load_config

    store = tmp_path_factory.mktemp("distilled")
    fast = embed.make_embedder(load_config(overrides=["embed.backend=model2vec"]).embed, store)
    fast.encode(["distilled once"])
    return store


@pytest.fixture
def copy_of(tmp_path) -> Callable[..., Path]:
    """``copy_of(folder, without=("cache",))``: a private copy of a session folder to write to."""
    made: list[Path] = []

    def copy(folder: Path, without: tuple[str, ...] = ()) -> Path:
        target = tmp_path / f"copy-{len(made)}-of-{Path(folder).name}"
        ignore = shutil.ignore_patterns(*without) if without else None
        shutil.copytree(folder, target, ignore=ignore)
        made.append(target)
        return target

    return copy


@pytest.fixture
def themed_copy(themed, copy_of) -> Path:
    """A private copy of ``themed`` for a test that writes."""
    return copy_of(themed)
