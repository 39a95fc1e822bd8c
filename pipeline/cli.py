"""The ``insights`` command line: one command per stage, plus ``run`` for all.

Every command takes the same ``--config``/``--set``/``--out``/``-v``/``-q`` options
and calls the stage's ``run`` function, the same one the Makefile, the notebooks
and the tests use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

# Library progress bars (BERTopic's hierarchy, tokenizers) would interleave with ours;
# tqdm reads this when it is first imported, so it must be set before any stage loads.
os.environ.setdefault("TQDM_DISABLE", "1")
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from . import runlog
from .artifacts import ArtifactError, remove_leftovers
from .config import Config, ConfigError, load_config
from .outlock import OutputLocked, hold

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
RedactOpt = Annotated[
    bool,
    typer.Option("--redact", help="Replace names, organisations, places, e-mails, phone numbers and URLs with "
                 "placeholders in everything written to OUT (same as --set redact=true)."),
]
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


def _with_guide(overrides: list[str] | None, guide: Path | None) -> list[str]:
    """--guide is a shorthand for --set segment.guide=FILE."""
    return (overrides or []) + ([f"segment.guide={guide}"] if guide else [])


@contextmanager
def _session(out: Path, cfg: Config, ingests: bool = False) -> Iterator[None]:
    """What every command that touches OUT does: hold its lock, log to OUT/run.log, sweep leftovers."""
    try:
        with hold(out, cfg.output.lock_timeout_s,
                  on_wait=lambda msg: console.print(f"[yellow]{msg}[/yellow]", highlight=False)):
            left = remove_leftovers(out)
            with runlog.attached(out, hold=ingests and cfg.redact):
                if left:
                    logging.getLogger("pipeline.run").warning(
                        "removed %d temporary file(s) an interrupted run left in %s", len(left), out)
                yield
    except OutputLocked as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Show one error line, keep it in the run log, and give the exit to raise."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    runlog.note(logging.ERROR, message)
    return typer.Exit(code)


def _outside_raw(raw_dir: Path, out: Path) -> None:
    """Raw notes are never written to: refuse an output folder that is, or is inside, RAW_DIR."""
    if raw_dir.is_dir() and out.resolve().is_relative_to(raw_dir.resolve()):
        raise _fail(f"the output folder {out} is inside the raw folder {raw_dir}, which is never written to: "
                    "choose another --out", 2)
    if raw_dir.is_dir() and raw_dir.resolve().is_relative_to(out.resolve()):
        raise _fail(f"the raw folder {raw_dir} is inside the output folder {out}; keep them apart "
                    "(e.g. data/raw and data/processed)", 2)


def _with_redact(overrides: list[str] | None, redact: bool) -> list[str]:
    return (overrides or []) + (["redact=true"] if redact else [])


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
            raise _fail(str(exc)) from None
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
    redact: RedactOpt = False,
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
    cfg = _setup(config, _with_redact(set_, redact), verbose, quiet)
    _outside_raw(raw_dir, out)
    with _session(out, cfg, ingests=True):
        _do_ingest(raw_dir, out, cfg, quiet)


def _stage(name: str, fn, *args, quiet: bool = False, **kwargs):
    """Run one stage with a spinner; turn known failures into one clear line."""
    from .artifacts import ArtifactError
    from .embed import EmbeddingModelError

    with console.status(f"[bold]{name}[/bold] ...", spinner="dots") if not quiet else nullcontext():
        try:
            return fn(*args, **kwargs)
        except (ArtifactError, EmbeddingModelError, ValueError, FileNotFoundError) as exc:
            raise _fail(f"{name}: {exc}") from None


def _do_embed(out: Path, cfg: Config, quiet: bool) -> None:
    from . import embed, passages

    table = _stage("passages", passages.run, out, cfg, quiet=quiet)
    vectors = _stage("embed", embed.run, out, cfg, quiet=quiet)
    if not quiet:
        console.print(f"{len(table)} passages, vectors {vectors.shape[1] if len(vectors) else 0}-d -> {out / 'embeddings.npy'}", highlight=False)


def _do_segment(out: Path, cfg: Config, quiet: bool) -> None:
    from . import segment
    from .guide import GuideError, load_guide

    try:
        guide = load_guide(cfg.segment.guide)
    except GuideError as exc:
        raise _fail(f"guide: {exc}", 2) from None
    table = _stage("segment", segment.run, out, cfg, guide, quiet=quiet)
    if quiet:
        return
    turns = table[(table.unit == "turn") & (table.role == "interviewee")]
    counts = turns.section.value_counts()
    summary = ", ".join(f"{name}: {int(counts.get(name, 0))}" for name in guide.names)
    console.print(f"guide '{guide.name}': interviewee turns per section: {summary}", highlight=False)
    console.print(f"wrote {out / 'segments.parquet'}", highlight=False)


def _do_themes(out: Path, cfg: Config, quiet: bool) -> None:
    from . import themes

    table = _stage("themes", themes.run, out, cfg, quiet=quiet)
    if quiet:
        return
    view = Table(title="themes", header_style="bold")
    for col, justify in (("id", "right"), ("label", "left"), ("passages", "right"), ("interviews", "right")):
        view.add_column(col, justify=justify)
    for row in table.itertuples():
        view.add_row(str(row.theme_id), str(row.label), str(row.size), str(row.n_interviews))
    console.print(view)
    console.print(f"wrote {out / 'themes.parquet'}, assignments.parquet, themes_model/", highlight=False)


@app.command()
def embed(
    out: OutOpt = Path("data/processed"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Split interviewee speech into passages of 1-3 sentences and embed them (cached on disk).

    Reads turns.parquet; writes passages.parquet, embeddings.npy and embeddings.json. Vectors are cached in OUT/cache by (model, text), so a re-run embeds only new passages. Set embed.backend=model2vec for the fast static backend.
    """
    cfg = _setup(config, set_, verbose, quiet)
    with _session(out, cfg):
        _do_embed(out, cfg, quiet)


GuideOpt = Annotated[
    Path | None,
    typer.Option("--guide", "-g", help="Interview guide YAML (default: built-in past/present/future).", dir_okay=False),
]


@app.command()
def segment(
    out: OutOpt = Path("data/processed"),
    guide: GuideOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Assign every turn and passage to a section of the interview guide (past / present / future by default).

    Combines notes headings, interviewer questions matched to the guide, tense and time cues in the answers, and an order prior decoded jointly per conversation. Writes segments.parquet with a confidence and the evidence for every turn.
    """
    cfg = _setup(config, _with_guide(set_, guide), verbose, quiet)
    with _session(out, cfg):
        _do_segment(out, cfg, quiet)


@app.command()
def themes(
    out: OutOpt = Path("data/processed"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Find themes across conversations with BERTopic built for interview passages.

    Writes themes.parquet, assignments.parquet, theme_sections.parquet, theme_interviews.parquet, hierarchy.parquet and the fitted model (safetensors) in themes_model/.
    """
    cfg = _setup(config, set_, verbose, quiet)
    with _session(out, cfg):
        _do_themes(out, cfg, quiet)


evaluate_app = typer.Typer(help="Check the pipeline's results against internal measures and your own coding.", no_args_is_help=True)
app.add_typer(evaluate_app, name="evaluate")


@evaluate_app.command("themes")
def evaluate_themes_cmd(
    gold: Annotated[Path | None, typer.Option("--gold", help="CSV of coded excerpts: interview, code, text.", dir_okay=False)] = None,
    out: OutOpt = Path("data/processed"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")] = None,
) -> None:
    """Outlier share, topic diversity and NPMI coherence (and, with --gold, NMI, ARI and best-match F1), beside vanilla BERTopic() fitted on the same passages in the same run."""
    from .artifacts import write_json
    from .evaluate import evaluate_themes

    cfg = _setup(config, set_, verbose, quiet)
    with _session(out, cfg):
        result = _stage("evaluate", evaluate_themes, out, cfg, gold, quiet=quiet)
        if json_out:
            write_json(result, json_out)
        systems = list(result["internal"])
        table = Table(title=f"themes on {result['n_passages']} passages", header_style="bold")
        table.add_column("measure")
        for name in systems:
            table.add_column(name, justify="right")
        for metric in ("themes", "outlier_share", "topic_diversity", "npmi", "npmi_content"):
            table.add_row(metric, *(str(result["internal"][s][metric]) for s in systems))
        if "gold" in result:
            g = result["gold"]
            for metric in ("nmi", "ari", "mean_best_f1"):
                table.add_row(f"gold {metric}", *(str(g[s][metric]) for s in systems))
        Console().print(table)
        if "gold" in result:
            g = result["gold"]
            typer.echo(f"gold: {g['located']} of {g['excerpts']} excerpts located in the themed passages")
            for line in g["not_found"][:10]:
                typer.echo(f"  not found: {line}")


@evaluate_app.command("segments")
def evaluate_segments_cmd(
    gold: Annotated[Path, typer.Option("--gold", help="CSV: interview, turn or text, section.", dir_okay=False)],
    out: OutOpt = Path("data/processed"),
    guide: GuideOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")] = None,
) -> None:
    """Accuracy, macro-F1, Pk and WindowDiff of the sections against a gold file, beside two baselines (position only, question similarity only)."""
    from .artifacts import write_json
    from .segment_eval import evaluate_segments

    cfg = _setup(config, _with_guide(set_, guide), verbose, quiet)
    with _session(out, cfg):
        result = _stage("evaluate", evaluate_segments, out, gold, cfg, quiet=quiet)
        if json_out:
            write_json(result, json_out)
        systems = ["interview-insights", "position only", "question similarity only"]
        table = Table(title=f"sections: {result['located']} of {result['rows']} gold turns located", header_style="bold")
        table.add_column("measure")
        for name in systems:
            table.add_column(name, justify="right")
        for metric, note in (("accuracy", ""), ("macro_f1", ""), ("pk", " (lower is better)"), ("window_diff", " (lower is better)")):
            table.add_row(metric + note, *(str(result[s][metric]) for s in systems))
        Console().print(table)
        for line in result["not_found"][:10]:
            typer.echo(f"  not found: {line}")


@app.command()
def compare(
    by: Annotated[str, typer.Option("--by", "-b", help="Metadata field whose values form the cohorts, e.g. folder, background_group.")] = "folder",
    out: OutOpt = Path("data/processed"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Compare cohorts of interviews by any metadata field (or `folder`).

    Per theme: share of each cohort's conversations mentioning it, a significance test fit for small counts (Fisher's exact for two cohorts, a chi-square permutation test for more) with Benjamini-Hochberg correction and an effect size; distinctive words, quotes and sections per cohort. Writes OUT/compare/FIELD.{html,md,csv,png}.
    """
    from . import compare as compare_stage

    cfg = _setup(config, set_, verbose, quiet)
    with _session(out, cfg):
        comparison, written = _stage("compare", compare_stage.run, out, by, cfg, quiet=quiet)
        if quiet:
            return
        view = Table(title=f"themes by {by} (top 10 by q)", header_style="bold")
        for col in ("theme", *comparison.cohorts.cohort, "test", "p", "q"):
            view.add_column(str(col))
        wide = compare_stage.prevalence_table(comparison).head(10)
        for row in wide.to_dict("records"):
            view.add_row(str(row["label"]), *(f"{row.get(f'share[{c}]', 0):.0%}" for c in comparison.cohorts.cohort),
                         str(row.get("test", "")), f"{row.get('p_value', 1):.3f}", f"{row.get('q_value', 1):.3f}")
        console.print(view)
        for path in written:
            console.print(f"wrote {path}", highlight=False)


def _do_report(out: Path, cfg: Config, quiet: bool) -> None:
    from . import report as report_stage

    written = _stage("report", report_stage.run, out, cfg, quiet=quiet)
    for key in ("html", "md", "json"):
        typer.echo(f"wrote {written[key]}")


@app.command()
def report(
    out: OutOpt = Path("data/processed"),
    takeaways: Annotated[int | None, typer.Option("--takeaways", "-n", help="Number of ranked takeaways (default 4).")] = None,
    schema: Annotated[bool, typer.Option("--schema", help="Print the JSON Schema of report.json and exit.")] = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write the takeaways report: OUT/report/report.html (one offline page), report.md (+ PNG figures) and report.json.

    Overview and diversity of backgrounds, the main themes per guide section, ranked takeaways with support
    and quotes, numbers people gave (median, range, n, quotes), lists people enumerated, what only one or two
    said, and the method (models, parameters, counts, skipped files, input hash).
    """
    if schema:
        import json

        from .report.schema import Report

        typer.echo(json.dumps(Report.model_json_schema(), indent=2))
        return
    cfg = _setup(config, (set_ or []) + ([f"report.takeaways={takeaways}"] if takeaways else []), verbose, quiet)
    with _session(out, cfg):
        _do_report(out, cfg, quiet)


@app.command()
def run(
    raw_dir: RawArg,
    out: OutOpt = Path("data/processed"),
    redact: RedactOpt = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run every stage on RAW_DIR: ingest, embed, segment, themes, report."""
    cfg = _setup(config, _with_redact(set_, redact), verbose, quiet)
    _outside_raw(raw_dir, out)
    with _session(out, cfg, ingests=True):
        _do_ingest(raw_dir, out, cfg, quiet)
        _do_embed(out, cfg, quiet)
        _do_segment(out, cfg, quiet)
        _do_themes(out, cfg, quiet)
        _do_report(out, cfg, quiet)


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
