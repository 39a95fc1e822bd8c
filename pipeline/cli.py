"""The ``insights`` command line: one command per stage, plus ``run`` for all.

Every command takes the same ``--config``/``--set``/``--out``/``-v``/``-q`` options
and calls the stage's ``run`` function, the same one the Makefile, the notebooks
and the tests use.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .artifacts import ArtifactError
from .config import Config, ConfigError, load_config

app = typer.Typer(
    name="insights",
    help="Interview-insight analysis pipeline: turn a folder of call notes and transcripts "
    "into themes and a takeaways report. Run `insights run RAW_DIR` for everything, or one stage at a time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: ./insights.yaml if present).", dir_okay=False),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override one setting, e.g. --set ingest.max_file_mb=10 (repeatable)."),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for processed outputs.", file_okay=False)]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show debug messages.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Show only errors.")]
RawArg = Annotated[
    Path,
    typer.Argument(help="Folder of notes and transcripts (read only; never modified).", file_okay=False),
]


def _setup(config: Path | None, overrides: list[str] | None, verbose: bool, quiet: bool) -> Config:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    root = logging.getLogger("pipeline")
    root.handlers.clear()
    root.addHandler(RichHandler(console=console, show_time=False, show_path=False, markup=False))
    root.setLevel(level)
    root.propagate = False
    try:
        return load_config(config, overrides or [])
    except ConfigError as exc:
        console.print(f"[red]config error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[item]}"),
        console=console,
        transient=True,
        disable=quiet,
    )


def _do_ingest(raw_dir: Path, out: Path, cfg: Config, quiet: bool) -> None:
    from .ingest import NothingIngested
    from .ingest import run as ingest_run
    from .ingest.stage import discover

    total = len(discover(raw_dir)) if raw_dir.is_dir() else 0
    with _progress(quiet) as progress:
        task = progress.add_task("ingest", total=total, item="")

        def tick(name: str) -> None:
            progress.update(task, advance=1, item=name)

        try:
            result = ingest_run(raw_dir, out, cfg, on_file=tick)
        except NothingIngested as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
    if quiet:
        return
    counts = result.manifest["counts"]
    table = Table(title=f"ingested {raw_dir}", show_header=True, header_style="bold")
    for col in ("files", "ingested", "skipped", "failed", "interviews", "turns", "words"):
        table.add_column(col, justify="right")
    table.add_row(*(str(counts[c]) for c in ("files", "ingested", "skipped", "failed", "interviews", "turns", "words")))
    console.print(table)
    langs = ", ".join(f"{k}: {len(v)}" for k, v in result.manifest["languages"].items())
    console.print(f"languages: {langs} (main: {result.manifest['main_language']})", highlight=False)
    for path in result.written:
        console.print(f"wrote {path}", highlight=False)


@app.command()
def ingest(
    raw_dir: RawArg,
    out: OutOpt = Path("data/processed"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read every note and transcript under RAW_DIR into turns.parquet, interviews.parquet and manifest.json.

    Formats: .txt .md .docx .pdf .vtt .srt .csv .jsonl. Subfolders become the `folder`
    metadata field; an optional RAW_DIR/metadata.csv adds fields per interview id (file stem).
    A file that cannot be read is listed in the manifest with the reason; the command
    fails only when nothing could be ingested.
    """
    cfg = _setup(config, set_, verbose, quiet)
    _do_ingest(raw_dir, out, cfg, quiet)


@app.command()
def run(
    raw_dir: RawArg,
    out: OutOpt = Path("data/processed"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run every stage on RAW_DIR: ingest, then the later stages as they are available."""
    cfg = _setup(config, set_, verbose, quiet)
    _do_ingest(raw_dir, out, cfg, quiet)


@app.command("config")
def show_config(
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Print the effective configuration (defaults + config file + --set overrides) as JSON."""
    cfg = _setup(config, set_, False, True)
    typer.echo(cfg.to_json())


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:  # pragma: no cover - console script entry
    try:
        app()
    except ArtifactError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise SystemExit(1) from None
