"""The ``insights`` command line: one command per stage of the registry, plus ``run`` for all.

Every command that touches an output folder takes the same options (``--out``,
``--config``, ``--set``, ``-v``, ``-q``), defined once in :data:`COMMON_OPTIONS` and
added by :func:`stage_command`. Stage commands run the stage through
:func:`pipeline.core.registry.run_stage`, the same function the Makefile, the
notebooks and the tests use. Messages and progress go to stderr; a command's result
(evaluation figures, the configuration, the schema, the version) goes to stdout.
``-q`` keeps only errors, on both.
"""

import functools
import inspect
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

# Library progress bars (BERTopic's hierarchy, tokenizers) would interleave with ours;
# tqdm reads this when it is first imported, so it must be set before any stage loads.
os.environ.setdefault("TQDM_DISABLE", "1")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.logging import RichHandler  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from . import __version__  # noqa: E402
from .core import runlog  # noqa: E402
from .core.atomic import remove_leftovers  # noqa: E402
from .core.catalog import ArtifactError, location, output_folders, write_json  # noqa: E402
from .core.config import Config, ConfigError, load_config  # noqa: E402
from .core.outlock import OutputLocked, hold  # noqa: E402
from .core.registry import RUN_ORDER, STAGES, UpToDate, run_stage  # noqa: E402

app = typer.Typer(
    name="insights",
    help="Interview-insight analysis pipeline: turn a folder of call notes and transcripts "
    "into themes and a takeaways report. Run `insights run RAW_DIR` for everything, or one stage "
    "at a time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
evaluate_app = typer.Typer(
    help="Check the pipeline's results against internal measures and your own coding.",
    no_args_is_help=True,
)
app.add_typer(evaluate_app, name="evaluate")
guide_app = typer.Typer(
    help="Get an interview guide: from your study's protocol, found in the interviewers' "
    "questions, or check one you wrote.",
    no_args_is_help=True,
)
app.add_typer(guide_app, name="guide")
console = Console(stderr=True)


# ------------------------------------------------------------------ options

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML config file (default: ./insights.yaml if present).",
        dir_okay=False,
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", "-s", help="Override one setting, e.g. --set ingest.max_file_mb=10 (repeatable)."
    ),
]
OutOpt = Annotated[
    Path, typer.Option("--out", "-o", help="Folder for processed outputs.", file_okay=False)
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show debug messages.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Show only errors.")]
RedactOpt = Annotated[
    bool,
    typer.Option(
        "--redact",
        help="Replace names, organisations, places, e-mails, phone numbers and URLs with "
        "placeholders in everything written to OUT (same as --set redact=true).",
    ),
]
RawArg = Annotated[
    Path,
    typer.Argument(
        help="Folder of notes and transcripts (read only; never modified).", file_okay=False
    ),
]
GuideOpt = Annotated[
    Path | None,
    typer.Option(
        "--guide",
        "-g",
        help="Interview guide YAML (default: built-in past/present/future).",
        dir_okay=False,
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        "-f",
        help="Run the stage(s) even when the last run is still current "
        "(same inputs, settings and code).",
    ),
]
JsonOpt = Annotated[
    Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
]


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# The options every command on an output folder takes; :func:`stage_command` adds them.
COMMON_OPTIONS = (
    _keyword("out", OutOpt, Path("data/processed")),
    _keyword("config", ConfigOpt, None),
    _keyword("set_", SetOpt, None),
    _keyword("verbose", VerboseOpt, False),
    _keyword("quiet", QuietOpt, False),
)


# Commands that run stages also take --force (a stage whose last run is current is skipped).
FORCE_OPTION = _keyword("force", ForceOpt, False)


@dataclass
class Common:
    """The common options as one value, with the effective configuration built from them."""

    out: Path
    config: Path | None
    set_: list[str] | None
    verbose: bool
    quiet: bool
    force: bool = True  # commands without --force (evaluate) always compute

    def settings(self, *extra: str) -> Config:
        """The effective configuration: defaults < config file < --set < ``extra`` overrides."""
        return _setup(self.config, [*(self.set_ or []), *extra], self.verbose, self.quiet)


def stage_command(
    parent: typer.Typer = app, name: str | None = None, runs_stages: bool = True
) -> Callable:
    """Register ``fn(..., common: Common)`` as a command with :data:`COMMON_OPTIONS` added.

    Args:
        parent: the Typer app or group to add the command to.
        name: the command's name (default: the function's).
        runs_stages: add ``--force`` (commands that run stages skip the current ones).

    Returns:
        The decorator.
    """
    shared = (*COMMON_OPTIONS, FORCE_OPTION) if runs_stages else COMMON_OPTIONS

    def decorate(fn: Callable) -> Callable:
        own = [p for p in inspect.signature(fn).parameters.values() if p.name != "common"]

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            common = Common(**{p.name: kwargs.pop(p.name) for p in shared})
            return fn(**kwargs, common=common)

        params = own + [p for p in shared if p.name not in {q.name for q in own}]
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return parent.command(name)(command)

    return decorate


# ------------------------------------------------------------------ plumbing


def _setup(config: Path | None, overrides: list[str], verbose: bool, quiet: bool) -> Config:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    root = logging.getLogger("pipeline")
    root.handlers.clear()
    root.addHandler(RichHandler(console=console, show_time=False, show_path=False, markup=False))
    root.setLevel(level)
    root.propagate = False
    try:
        return load_config(config, overrides)
    except ConfigError as exc:
        console.print(f"[red]config error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None


@contextmanager
def _session(out: Path, cfg: Config, ingests: bool = False) -> Iterator[None]:
    """What every command that touches OUT does: hold its lock, log to OUT/run.log, sweep
    leftovers."""
    try:
        with hold(
            out,
            cfg.output.lock_timeout_s,
            on_wait=lambda msg: console.print(f"[yellow]{msg}[/yellow]", highlight=False),
        ):
            left = remove_leftovers(out, output_folders())
            with runlog.attached(out, hold=ingests and cfg.redact):
                if left:
                    logging.getLogger("pipeline.run").warning(
                        "removed %d temporary file(s) an interrupted run left in %s", len(left), out
                    )
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
        raise _fail(
            f"the output folder {out} is inside the raw folder {raw_dir}, which is never written "
            "to: "
            "choose another --out",
            2,
        )
    if raw_dir.is_dir() and raw_dir.resolve().is_relative_to(out.resolve()):
        raise _fail(
            f"the raw folder {raw_dir} is inside the output folder {out}; keep them apart "
            "(e.g. data/raw and data/processed)",
            2,
        )


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


def _run(
    name: str, out: Path, cfg: Config, quiet: bool, force: bool = False, **options: Any
) -> Any:
    """Run one stage with a spinner (or skip it when current); known failures become one line."""
    from .embed import EmbeddingModelError
    from .ingest import NothingIngested
    from .segment.guide import GuideError

    spinner = (
        console.status(f"[bold]{name}[/bold] ...", spinner="dots") if not quiet else nullcontext()
    )
    try:
        with spinner:
            return run_stage(name, out, cfg, skip_fresh=not force, **options)
    except GuideError as exc:
        raise _fail(f"guide: {exc}", 2) from None
    except NothingIngested as exc:
        raise _fail(str(exc)) from None
    except (ArtifactError, EmbeddingModelError, ValueError, FileNotFoundError) as exc:
        raise _fail(f"{name}: {exc}") from None


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        console.print(text, highlight=False)


# ------------------------------------------------------- what each stage prints


def _show_ingest(result, raw_dir: Path, quiet: bool) -> None:
    if quiet:
        return
    counts = result.manifest["counts"]
    columns = ("files", "ingested", "skipped", "failed", "interviews", "turns", "words")
    table = Table(title=f"ingested {raw_dir}", show_header=True, header_style="bold")
    for col in columns:
        table.add_column(col, justify="right")
    table.add_row(*(str(counts[c]) for c in columns))
    console.print(table)
    langs = ", ".join(f"{k}: {len(v)}" for k, v in result.manifest["languages"].items())
    _say(quiet, f"languages: {langs} (main: {result.manifest['main_language']})")
    for path in result.written:
        _say(quiet, f"wrote {path}")


def _do_ingest(raw_dir: Path, out: Path, cfg: Config, quiet: bool, force: bool = False) -> None:
    from .ingest import discover

    total = len(discover(raw_dir)) if raw_dir.is_dir() else 0
    with _progress(quiet) as progress:
        task = progress.add_task("ingest", total=total, item="")
        result = _run(
            "ingest",
            out,
            cfg,
            True,
            force,
            raw_dir=raw_dir,
            on_file=lambda name: progress.update(task, advance=1, item=name),
        )
    if not isinstance(result, UpToDate):
        _show_ingest(result, raw_dir, quiet)


def _do_passages(out: Path, cfg: Config, quiet: bool, force: bool = False) -> None:
    table = _run("passages", out, cfg, quiet, force)
    if isinstance(table, UpToDate):
        return
    _say(quiet, f"{len(table)} passages -> {location('passages', out)}")


def _do_embed(out: Path, cfg: Config, quiet: bool, force: bool = False) -> None:
    vectors = _run("embed", out, cfg, quiet, force)
    if isinstance(vectors, UpToDate):
        return
    dim = vectors.shape[1] if len(vectors) else 0
    _say(quiet, f"{len(vectors)} passages, vectors {dim}-d -> {location('embeddings', out)}")


def _do_segment(out: Path, cfg: Config, quiet: bool, force: bool = False) -> None:
    from .segment.guide import GuideError, load_guide

    try:
        guide = load_guide(cfg.segment.guide)
    except GuideError as exc:
        raise _fail(f"guide: {exc}", 2) from None
    table = _run("segment", out, cfg, quiet, force, guide=guide)
    if isinstance(table, UpToDate):
        return
    from .segment.stage import guide_in_use

    guide = guide_in_use(out, cfg)
    turns = table[(table.unit == "turn") & (table.role == "interviewee")]
    counts = turns.section.value_counts()
    summary = ", ".join(f"{name}: {int(counts.get(name, 0))}" for name in guide.names)
    _say(quiet, f"guide '{guide.name}': interviewee turns per section: {summary}")
    _say(quiet, f"wrote {location('segments', out)}")


def _do_themes(out: Path, cfg: Config, quiet: bool, force: bool = False) -> None:
    table = _run("themes", out, cfg, quiet, force)
    if isinstance(table, UpToDate):
        return
    if quiet:
        return
    view = Table(title="themes", header_style="bold")
    for col, justify in (
        ("id", "right"),
        ("label", "left"),
        ("passages", "right"),
        ("interviews", "right"),
    ):
        view.add_column(col, justify=justify)
    for row in table.itertuples():
        view.add_row(str(row.theme_id), str(row.label), str(row.size), str(row.n_interviews))
    console.print(view)
    _say(quiet, f"wrote {location('themes', out)}, assignments.parquet, themes_model/")


def _do_code(out: Path, cfg: Config, quiet: bool, force: bool = False) -> None:
    result = _run("code", out, cfg, quiet, force)
    if isinstance(result, UpToDate) or quiet:
        return
    if result is None:
        _say(quiet, "code: no coding given (coding.file / coding.codebook): nothing to code")
        return
    info = result.info()
    located = info["located"]
    _say(
        quiet,
        f"located {located['located']} of {located['excerpts']} coded excerpts "
        f"({located['share']:.1%}); unit: {result.unit.unit} ({result.unit.reason})",
    )
    for item in info["not_located"][:10]:
        _say(
            quiet,
            f"  not located: excerpt {item['excerpt']} of {item['interview']}: {item['reason']}",
        )
    view = Table(title="codes", header_style="bold")
    for col, justify in (
        ("code", "left"),
        ("examples", "right"),
        ("expected F1", "right"),
        ("researcher", "right"),
        ("learnt", "right"),
        ("interviews", "right"),
    ):
        view.add_column(col, justify=justify)
    for row in result.codes.itertuples():
        f1 = (
            "few-shot"
            if row.few_shot
            else ("" if row.expected_f1 != row.expected_f1 else f"{row.expected_f1:.2f}")
        )
        view.add_row(
            str(row.code),
            str(row.examples),
            f1,
            str(row.human_excerpts),
            str(row.machine_units),
            str(row.interviews),
        )
    console.print(view)
    if len(result.suggestions):
        _say(
            quiet,
            f"code next ({len(result.suggestions)} in {location('coding_suggestions', out)}):",
        )
        for row in result.suggestions.head(10).itertuples():
            text = " ".join(str(row.text).split())
            text = text if len(text) <= 90 else text[:87] + "..."
            _say(quiet, f"  {row.unit_id}: {text!r} ({row.reason})")
    _say(quiet, f"wrote {location('coding', out)}, codes.parquet, coding.json")


def _do_report(out: Path, cfg: Config, quiet: bool, force: bool = False) -> None:
    written = _run("report", out, cfg, quiet, force)
    if isinstance(written, UpToDate):
        return
    for key in ("html", "md", "json"):
        _say(quiet, f"wrote {written[key]}")


# Stage name -> what its command does after setting up; `insights run` calls them in order.
STEP: dict[str, Callable[[Path, Config, bool, bool], None]] = {
    "passages": _do_passages,
    "embed": _do_embed,
    "segment": _do_segment,
    "themes": _do_themes,
    "code": _do_code,
    "report": _do_report,
}


# ------------------------------------------------------------------ commands


@stage_command()
def ingest(raw_dir: RawArg, redact: RedactOpt = False, *, common: Common) -> None:
    """Read every note and transcript under RAW_DIR into turns.parquet, interviews.parquet and
    manifest.json.

    Formats: .txt .md .docx .pdf .vtt .srt .csv .jsonl. Subfolders become the `folder`
    metadata field; an optional RAW_DIR/metadata.csv adds fields per interview id (file stem).
    A file that cannot be read is listed in the manifest with the reason; the command
    fails only when nothing could be ingested.
    """
    cfg = common.settings(*(["redact=true"] if redact else []))
    _outside_raw(raw_dir, common.out)
    with _session(common.out, cfg, ingests=True):
        _do_ingest(raw_dir, common.out, cfg, common.quiet, common.force)


@stage_command()
def passages(*, common: Common) -> None:
    """Cut interviewee speech into passages of 1-3 sentences (questions kept whole):
    passages.parquet.

    Reads turns.parquet. A passage links back to its interview, turn, source file and line.
    """
    cfg = common.settings()
    with _session(common.out, cfg):
        _do_passages(common.out, cfg, common.quiet, common.force)


@stage_command()
def embed(*, common: Common) -> None:
    """Embed the passages (cached on disk): embeddings.npy and embeddings.json.

    Reads passages.parquet (run `insights passages` first, or `insights run`). Vectors are
    cached in OUT/cache by (model, text), so a re-run embeds only new passages. Set
    embed.backend=model2vec for the fast static backend.
    """
    cfg = common.settings()
    with _session(common.out, cfg):
        _do_embed(common.out, cfg, common.quiet, common.force)


@stage_command()
def segment(guide: GuideOpt = None, *, common: Common) -> None:
    """Assign every turn and passage to a section of the interview guide (past / present / future
    by default).

    Combines notes headings, interviewer questions matched to the guide, tense and time cues in the
    answers, and an order prior decoded jointly per conversation. Writes segments.parquet with a
    confidence and the evidence for every turn.
    """
    cfg = common.settings(*([f"segment.guide={guide}"] if guide else []))
    with _session(common.out, cfg):
        _do_segment(common.out, cfg, common.quiet, common.force)


@stage_command()
def themes(*, common: Common) -> None:
    """Find themes across conversations with BERTopic built for interview passages.

    Writes themes.parquet, assignments.parquet, theme_sections.parquet, theme_interviews.parquet,
    hierarchy.parquet, themes.json and the fitted model (safetensors) in themes_model/.
    """
    cfg = common.settings()
    with _session(common.out, cfg):
        _do_themes(common.out, cfg, common.quiet, common.force)


CodingOpt = Annotated[
    Path | None,
    typer.Option(
        "--coding",
        help="Your coding: coded excerpts CSV (interview, code, text), Taguette CSV or .sqlite3, "
        "REFI-QDA .qdpx, or a codebook alone (same as --set coding.file=...).",
        dir_okay=False,
    ),
]
CodebookOpt = Annotated[
    Path | None,
    typer.Option(
        "--codebook",
        help="Codebook CSV/YAML/.qdc with the codes' descriptions (--set coding.codebook=...).",
        dir_okay=False,
    ),
]


def _coding_overrides(coding: Path | None, codebook: Path | None) -> list[str]:
    out = []
    for key, path in (("file", coding), ("codebook", codebook)):
        if path is not None:
            if not path.is_file():
                raise _fail(f"--{'coding' if key == 'file' else key}: no such file: {path}", 2)
            out.append(f"coding.{key}={path.resolve()}")
    return out


@stage_command()
def code(
    coding: CodingOpt = None,
    codebook: CodebookOpt = None,
    suggest: Annotated[
        int | None,
        typer.Option("--suggest", "-n", help="List this many passages to code next (default 20)."),
    ] = None,
    *,
    common: Common,
) -> None:
    """Code the corpus with your codebook: locate your coded excerpts, learn every code from
    them, and code the interviews you did not code, with a confidence and the nearest coded
    examples as evidence.

    Writes OUT/coding/coding.parquet (your coding and the learnt coding, with character
    offsets), codes.parquet (per code: examples, expected F1, counts), coding.json (excerpts
    located and why not) and suggestions.csv (what to code next). `insights report` then adds
    a codes part; `insights export` hands it to your QDA tool.
    """
    extra = _coding_overrides(coding, codebook)
    if suggest is not None:
        extra.append(f"coding.suggest={max(0, suggest)}")
    cfg = common.settings(*extra)
    with _session(common.out, cfg):
        _do_code(common.out, cfg, common.quiet, common.force)


@stage_command()
def report(
    takeaways: Annotated[
        int | None,
        typer.Option("--takeaways", "-n", help="Number of ranked takeaways (default 4)."),
    ] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON Schema of report.json and exit.")
    ] = False,
    *,
    common: Common,
) -> None:
    """Write the takeaways report: OUT/report/report.html (one offline page), report.md (+ PNG
    figures) and report.json.

    Overview and diversity of backgrounds, the main themes per guide section, ranked takeaways with
    support
    and quotes, numbers people gave (median, range, n, quotes), lists people enumerated, what only
    one or two
    said, and the method (models, parameters, counts, skipped files, input hash).
    """
    if schema:
        import json

        from .report.schema import Report

        typer.echo(json.dumps(Report.model_json_schema(), indent=2))
        return
    cfg = common.settings(*([f"report.takeaways={takeaways}"] if takeaways else []))
    with _session(common.out, cfg):
        # The codes part reads the code stage; without a codebook it is a quick empty run,
        # so a report after `insights themes` needs no extra command.
        _do_code(common.out, cfg, True, False)
        _do_report(common.out, cfg, common.quiet, common.force)


@stage_command()
def compare(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            "-b",
            help="Metadata field whose values form the cohorts, e.g. folder, background_group.",
        ),
    ] = "folder",
    *,
    common: Common,
) -> None:
    """Compare cohorts of interviews by any metadata field (or `folder`).

    Per theme: share of each cohort's conversations mentioning it, a significance test fit for
    small counts
    (Fisher's exact for two cohorts, a chi-square permutation test for more) with Benjamini-Hochberg
    correction and an effect size; distinctive words, quotes and sections per cohort.
    Writes OUT/compare/FIELD.{html,md,csv,png}.
    """
    from .compare import prevalence_table

    cfg = common.settings()
    with _session(common.out, cfg):
        outcome = _run("compare", common.out, cfg, common.quiet, common.force, field=by)
        if common.quiet or isinstance(outcome, UpToDate):
            return
        comparison, written = outcome
        view = Table(title=f"themes by {by} (top 10 by q)", header_style="bold")
        for col in ("theme", *comparison.cohorts.cohort, "test", "p", "q"):
            view.add_column(str(col))
        for row in prevalence_table(comparison).head(10).to_dict("records"):
            view.add_row(
                str(row["label"]),
                *(f"{row.get(f'share[{c}]', 0):.0%}" for c in comparison.cohorts.cohort),
                str(row.get("test", "")),
                f"{row.get('p_value', 1):.3f}",
                f"{row.get('q_value', 1):.3f}",
            )
        console.print(view)
        for path in written:
            _say(False, f"wrote {path}")


@stage_command()
def run(
    raw_dir: RawArg,
    redact: RedactOpt = False,
    coding: CodingOpt = None,
    codebook: CodebookOpt = None,
    *,
    common: Common,
) -> None:
    """Run every stage on RAW_DIR: ingest, passages, embed, segment, themes, code, report."""
    cfg = common.settings(
        *(["redact=true"] if redact else []), *_coding_overrides(coding, codebook)
    )
    _outside_raw(raw_dir, common.out)
    with _session(common.out, cfg, ingests=True):
        _do_ingest(raw_dir, common.out, cfg, common.quiet, common.force)
        for name in RUN_ORDER[1:]:
            STEP[name](common.out, cfg, common.quiet, common.force)


@stage_command(runs_stages=False)
def export(
    qdpx: Annotated[
        Path | None,
        typer.Option(
            "--qdpx",
            help="Write a REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, ...).",
            dir_okay=False,
        ),
    ] = None,
    qdc: Annotated[
        Path | None,
        typer.Option("--qdc", help="Write the codebook alone (REFI-QDA .qdc).", dir_okay=False),
    ] = None,
    csv: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Write every coded segment as CSV (interview, code, text, ...).",
            dir_okay=False,
        ),
    ] = None,
    themes: Annotated[
        bool, typer.Option("--themes/--no-themes", help="Include the themes as codes of their own.")
    ] = True,
    name: Annotated[
        str | None, typer.Option("--name", help="Project name (default: OUT's folder name).")
    ] = None,
    *,
    common: Common,
) -> None:
    """Hand the corpus and its coding to your QDA tool: every conversation as a text source,
    your coding and the learnt coding (marked machine-suggested, with its confidence in a
    note), the codebook with its hierarchy, and the themes as a code set.

    Reads OUT (turns, coding/ from `insights code`, the themes); writes only the files named.
    """
    from .coding.handoff import build_project, export_project

    if not (qdpx or qdc or csv):
        raise _fail("export: give at least one of --qdpx, --qdc, --csv", 2)
    common.settings()
    for target in (qdpx, qdc, csv):
        if target is not None and target.resolve().is_relative_to(common.out.resolve()):
            raise _fail(f"export: write {target} outside the output folder {common.out}", 2)
    try:
        project = build_project(common.out, name, themes=themes)
        written = export_project(project, qdpx=qdpx, qdc=qdc, csv=csv)
    except (ArtifactError, ValueError, OSError) as exc:
        raise _fail(f"export: {exc}") from None
    c = project.counts
    _say(
        common.quiet,
        f"{c['sources']} sources, {c['codes']} codes ({c['themes']} themes), {c['selections']} "
        f"coded segments ({c['human']} yours, {c['machine']} machine-suggested)",
    )
    for path in written:
        _say(common.quiet, f"wrote {path}")


def _print_guide(guide, target: Path, quiet: bool) -> None:
    _say(quiet, f"wrote {target}: guide '{guide.name}', {len(guide.sections)} sections")
    for s in guide.sections:
        _say(quiet, f"  {s.name}: {len(s.questions)} question(s) - {s.description[:70]}")


ProtocolArg = Annotated[
    Path,
    typer.Argument(
        help="The study's interview protocol: .md, .txt, .docx or .pdf.", dir_okay=False
    ),
]
WriteOpt = Annotated[
    Path | None,
    typer.Option("--write", "-w", help="Where to write the guide YAML.", dir_okay=False),
]
ReplaceOpt = Annotated[
    bool, typer.Option("--replace", help="Overwrite the target file if it exists.")
]


def _guide_target(target: Path, replace: bool) -> Path:
    if target.exists() and not replace:
        raise _fail(f"{target} exists; choose another --write or pass --replace", 2)
    return target


@guide_app.command("from-protocol")
def guide_from_protocol_cmd(
    protocol: ProtocolArg,
    write: WriteOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="The guide's name.")] = None,
    replace: ReplaceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Turn a study's interview protocol (headings, numbered or bulleted questions, probes in
    parentheses) into a guide YAML to edit and pass with --guide."""
    from .segment.guide import GuideError, write_guide
    from .segment.protocol import ProtocolError, guide_from_protocol

    target = _guide_target(write or Path(f"{protocol.stem}-guide.yaml"), replace)
    try:
        mapping = guide_from_protocol(protocol, name)
        guide = write_guide(mapping, target, f"insights guide from-protocol {protocol.name}")
    except (ProtocolError, GuideError, OSError) as exc:
        raise _fail(str(exc), 2) from None
    _print_guide(guide, target, quiet)


@stage_command(guide_app, "suggest", runs_stages=False)
def guide_suggest_cmd(
    write: WriteOpt = None,
    min_share: Annotated[
        float,
        typer.Option(
            "--min-share",
            help="A part of the guide is asked in at least this share of conversations.",
        ),
    ] = 0.3,
    sections: Annotated[int, typer.Option("--sections", help="The most sections to look for.")] = 8,
    replace: ReplaceOpt = False,
    *,
    common: Common,
) -> None:
    """Find the guide in the data: cluster the interviewers' questions across conversations
    into an ordered list of sections named by their key words (needs `insights embed`)."""
    from .core import lineage
    from .core.catalog import load
    from .embed import load_embeddings
    from .segment.guide import write_guide
    from .segment.suggest import SuggestError, suggest_guide

    cfg = common.settings()
    target = _guide_target(write or common.out / "guide-suggested.yaml", replace)
    with _session(common.out, cfg):
        try:
            lineage.require(common.out, "embed", cfg)
            turns = load("turns", common.out)
            passages = load("passages", common.out)
            vectors, _ = load_embeddings(common.out, passages)
            mapping = suggest_guide(
                turns,
                passages,
                vectors,
                min_share=min_share,
                max_sections=sections,
                seed=cfg.themes.seed,
            )
        except (ArtifactError, SuggestError) as exc:
            raise _fail(f"guide suggest: {exc}") from None
        guide = write_guide(mapping, target, "insights guide suggest")
    _print_guide(guide, target, common.quiet)


@guide_app.command("check")
def guide_check_cmd(
    guide: Annotated[Path, typer.Argument(help="A guide YAML.", dir_okay=False)],
) -> None:
    """Check a guide YAML: every problem named with its line."""
    from .segment.guide import GuideError, load_guide

    try:
        loaded = load_guide(guide)
    except GuideError as exc:
        raise _fail(str(exc), 2) from None
    typer.echo(
        f"{guide}: guide '{loaded.name}', {len(loaded.sections)} sections: "
        + ", ".join(loaded.names)
    )


@stage_command(evaluate_app, "themes", runs_stages=False)
def evaluate_themes_cmd(
    gold: Annotated[
        Path | None,
        typer.Option(
            "--gold", help="CSV of coded excerpts: interview, code, text.", dir_okay=False
        ),
    ] = None,
    json_out: JsonOpt = None,
    *,
    common: Common,
) -> None:
    """Outlier share, topic diversity and NPMI coherence (and, with --gold, NMI, ARI and best-match
    F1), beside vanilla BERTopic() fitted on the same passages in the same run."""
    from .evaluate import evaluate_themes

    cfg = common.settings()
    with _session(common.out, cfg):
        result = _evaluation(evaluate_themes, common.out, cfg, gold=gold)
        if json_out:
            write_json(result, json_out)
        if common.quiet:
            return
        systems = list(result["internal"])
        table = Table(title=f"themes on {result['n_passages']} passages", header_style="bold")
        table.add_column("measure")
        for name in systems:
            table.add_column(name, justify="right")
        for metric in ("themes", "outlier_share", "topic_diversity", "npmi", "npmi_content"):
            table.add_row(metric, *(str(result["internal"][s][metric]) for s in systems))
        if "gold" in result:
            for metric in ("nmi", "ari", "mean_best_f1"):
                table.add_row(f"gold {metric}", *(str(result["gold"][s][metric]) for s in systems))
        Console().print(table)
        if "gold" in result:
            g = result["gold"]
            typer.echo(
                f"gold: {g['located']} of {g['excerpts']} excerpts located in the themed passages"
            )
            for line in g["not_found"][:10]:
                typer.echo(f"  not found: {line}")


@stage_command(evaluate_app, "coding", runs_stages=False)
def evaluate_coding_cmd(
    gold: Annotated[
        str,
        typer.Option(
            "--gold",
            help="Your coding (coded excerpts CSV, Taguette CSV/.sqlite3, .qdpx), or `turns` "
            "for the codes a tagged CSV carried into the turns.",
        ),
    ],
    codebook: CodebookOpt = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Also fit the LR baseline.")
    ] = True,
    end_to_end: Annotated[
        bool,
        typer.Option("--end-to-end/--no-end-to-end", help="Also code the passages end to end."),
    ] = True,
    json_out: JsonOpt = None,
    *,
    common: Common,
) -> None:
    """Code each interview from the other interviews' coding only (leave one interview out):
    precision, recall, F1, Cohen's kappa and Krippendorff's alpha per code and overall, given
    your excerpts and end to end, beside logistic regression on the same vectors."""
    from .evaluate import evaluate_coding
    from .evaluate.coding import format_coding

    if gold != "turns" and not Path(gold).is_file():
        raise _fail(f"evaluate: --gold: no such file: {gold}", 2)
    cfg = common.settings()
    with _session(common.out, cfg):
        result = _evaluation(
            evaluate_coding,
            common.out,
            cfg,
            gold=gold,
            codebook=codebook,
            baseline=baseline,
            end_to_end=end_to_end,
        )
        if json_out:
            write_json(result, json_out)
        if not common.quiet:
            typer.echo(format_coding(result))


@stage_command(evaluate_app, "segments", runs_stages=False)
def evaluate_segments_cmd(
    gold: Annotated[
        Path, typer.Option("--gold", help="CSV: interview, turn or text, section.", dir_okay=False)
    ],
    guide: GuideOpt = None,
    json_out: JsonOpt = None,
    *,
    common: Common,
) -> None:
    """Accuracy, macro-F1, Pk and WindowDiff of the sections against a gold file, beside two
    baselines (position only, question similarity only)."""
    from .evaluate import evaluate_segments

    cfg = common.settings(*([f"segment.guide={guide}"] if guide else []))
    with _session(common.out, cfg):
        result = _evaluation(evaluate_segments, common.out, cfg, gold=gold)
        if json_out:
            write_json(result, json_out)
        if common.quiet:
            return
        systems = ["interview-insights", "position only", "question similarity only"]
        table = Table(
            title=f"sections: {result['located']} of {result['rows']} gold turns located",
            header_style="bold",
        )
        table.add_column("measure")
        for name in systems:
            table.add_column(name, justify="right")
        for metric, note in (
            ("accuracy", ""),
            ("macro_f1", ""),
            ("pk", " (lower is better)"),
            ("window_diff", " (lower is better)"),
        ):
            table.add_row(metric + note, *(str(result[s][metric]) for s in systems))
        Console().print(table)
        for line in result["not_found"][:10]:
            typer.echo(f"  not found: {line}")


@stage_command(evaluate_app, "report", runs_stages=False)
def evaluate_report_cmd(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON instead of the table.")
    ] = False,
    examples: Annotated[
        int, typer.Option("--examples", "-n", help="Offending items listed per failed check.")
    ] = 10,
    *,
    common: Common,
) -> None:
    """Well-formed headlines and summaries, clean quotes, findings from 2+ conversations,
    number families from one conversation and placeholder labels, read from OUT/report/report.json.

    Works on any report (n/a where it has no takeaways or themes); lists the offending items of
    each failed check. Only reads OUT (report.json, and turns.parquet for the interviewer checks),
    so it holds no lock and can run beside another run.
    """
    import json

    from .evaluate import evaluate_report
    from .evaluate.report import format_value, verdict

    common.settings()
    try:
        result = evaluate_report(common.out, examples=max(0, examples))
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(f"evaluate: {exc}") from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if common.quiet:
        return
    counts = result["counts"]
    table = Table(
        title=f"report checks: {counts['takeaways']} findings, {counts['section_themes']} section "
        f"themes, {counts['rare']} rare points, {counts['quotes']} quotes",
        header_style="bold",
    )
    for col, justify in (("check", "left"), ("value", "right"), ("target", "right"), ("", "left")):
        table.add_column(col, justify=justify)
    for check in result["checks"]:
        n = f" (n={check['n']})" if check.get("n") is not None else ""
        table.add_row(check["check"] + n, format_value(check), check["target"], verdict(check))
    Console(width=max(100, Console().width)).print(table)
    for check in result["checks"]:
        if check["passed"] is not False:
            continue
        shown = len(check["examples"])
        typer.echo(f"\n{check['check']}: {check['failures']} failing (first {shown}):")
        for item in check["examples"]:
            text = " ".join(str(item["text"]).split())
            text = text if len(text) <= 110 else text[:107] + "..."
            typer.echo(f"  - {text!r}: {item['reason']}  [{item['where']}]")


def _evaluation(fn: Callable[..., dict], out: Path, cfg: Config, **options: Any) -> dict:
    try:
        return fn(out, cfg, **options)
    except (ArtifactError, ValueError, FileNotFoundError) as exc:
        raise _fail(f"evaluate: {exc}") from None


@app.command("config")
def show_config(config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Print the effective configuration (defaults + config file + --set overrides) as JSON."""
    cfg = _setup(config, set_ or [], False, True)
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


assert set(STEP) | {"ingest"} == set(RUN_ORDER), "every stage of `insights run` needs a step"
assert set(STAGES) >= set(RUN_ORDER)
