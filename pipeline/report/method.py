"""The report's method section: how it was made, so a reader can judge and reproduce it.

Records the tool, model and library versions, the settings, the hashes of the inputs and
configuration, the counts at each step, the files that were not ingested, the report
profile in use and why, and notes on how each part the report shows was found.
"""

from __future__ import annotations

from importlib import metadata as importlib_metadata
from pathlib import Path

from .. import __version__
from ..core import nlp
from ..core.catalog import load
from ..core.config import Config
from ..results import OUTLIER, Results
from .profile import NO_PROFILE, ProfileChoice
from .schema import Method, SkippedFile
from .sentences import ParsedSentences

# How each part of the report is found; only the parts the report shows are described.
NOTES = {
    "advice": "Takeaways are built from advice people gave (imperatives, advice phrases, answers "
    "to advice questions), grouped by meaning and shared words; support counts conversations "
    "that gave the advice.",
    "findings": "Findings are made from the themes: support counts conversations with two or "
    "more passages in the theme, or one as central as its median passage; they are ranked by "
    "support times distinctiveness (how few conversations use its keywords). The headline is "
    "made of the noun phrases people said most with the theme's keywords; the central sentence "
    "is the candidate closest in meaning to the theme's centre.",
    "context": "A theme raised in at least report.context_share of conversations, with keywords "
    "that on average three quarters of conversations use, is reported as context, not as a "
    "finding.",
    "numbers": "Numbers are read by a grammar over spoken and written numbers; a family is "
    "shown only with mentions from at least report.numbers_min_conversations conversations "
    "and a unit that fits it (years of experience exclude ages and spans ahead); each mention "
    "is listed with its quote, so a misread one can be spotted.",
    "backgrounds": "Backgrounds come from metadata fields (report.background_fields) and from "
    "degrees people named, kept only when the field said is a known field of study.",
    "lists": "Lists come from the profile's codebook of item words (or report.lists_file); they "
    "count conversations that mention an item.",
}


def _guide_note(info: dict) -> str:
    """Which guide the sections follow, where it came from, and how well it fits."""
    from ..segment.fit import describe_fit

    name = str(info.get("guide", ""))
    origin = str(info.get("guide_origin", ""))
    fit = info.get("fit")
    note = f"Sections follow the guide '{name}'" + (f" ({origin})." if origin else ".")
    if origin == "found in the data" and fit and fit.get("built_in_fit"):
        built_in = fit["built_in_fit"]
        note += (
            " The built-in past/present/future guide fitted poorly ("
            + "; ".join(built_in.get("problems", []))
            + "), so one was found in the interviewers' questions."
        )
    if fit:
        note += " " + describe_fit(fit, name)
    return note


def _version(package: str) -> str:
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def _counts(r: Results, themes_info: dict, parsed: ParsedSentences, n_points: int) -> dict:
    """How much there was at each step, from files to advice points."""
    assignments = r.assignments
    return {
        "files": int(r.manifest["counts"]["files"]),
        "conversations": len(r.interviews),
        "turns": len(r.turns),
        "passages": len(r.passages),
        "interviewee_passages": int((r.passages["role"] == "interviewee").sum()),
        "themed_passages": len(assignments),
        "outlier_passages": int((assignments["theme_id"] == OUTLIER).sum()),
        "themes": int(themes_info.get("n_themes", 0)),
        "sentences_analysed": len(parsed.table),
        "advice_points": n_points,
    }


def build_method(
    r: Results,
    cfg: Config,
    out_dir: Path,
    parsed: ParsedSentences,
    n_points: int,
    embed_info: dict,
    choice: ProfileChoice | None = None,
) -> Method:
    """The method section.

    Args:
        r: the earlier stages' results (manifest and tables, for hashes, counts and skipped
            files).
        cfg: the effective configuration, recorded with its hash.
        out_dir: the output folder (its ``themes_info`` artifact is read).
        parsed: the sentences analysed, counted.
        n_points: how many advice points were found.
        embed_info: the embedding stage's record (model id and backend).
        choice: the report profile in use and why (default: none).

    Returns:
        The method, with ``report_sha256`` left empty for :func:`~.build.build_report` to fill.
    """
    themes_info = load("themes_info", out_dir)
    spacy_info = nlp.describe()
    skipped = [
        SkippedFile(path=f["path"], status=f["status"], reason=str(f.get("reason") or ""))
        for f in r.manifest.get("files", [])
        if f.get("status") != "ingested"
    ]
    counts = _counts(r, themes_info, parsed, n_points)
    profile = choice.profile if choice else NO_PROFILE
    notes = [f"Report profile: {profile.name} ({choice.reason if choice else 'none given'})."]
    notes.append(NOTES["advice"] if profile.advice else NOTES["findings"])
    if not profile.advice:
        notes.append(NOTES["context"])
    for part in ("numbers", "backgrounds", "lists"):
        if getattr(profile, part):
            notes.append(NOTES[part])
    segments_info = load("segments_info", out_dir)
    notes.append(_guide_note(segments_info))
    # What the themes stage could not do (too few passages, languages the model lacks).
    notes += [str(n) for n in themes_info.get("notes", [])]
    return Method(
        tool_version=__version__,
        inputs_sha256=str(r.manifest.get("inputs_sha256", "")),
        config_sha256=cfg.sha256(),
        report_sha256="",
        models={
            "embedding": str(embed_info.get("model_id")),
            "embedding_backend": str(embed_info.get("backend")),
            "spacy_pipeline": f"{spacy_info['name']} {spacy_info['version']}",
            "spacy": spacy_info["spacy"],
            "bertopic": _version("bertopic"),
            "sentence-transformers": _version("sentence-transformers"),
            "scikit-learn": _version("scikit-learn"),
            "clustering": str(themes_info.get("clustering")),
        },
        parameters={
            "themes": cfg.themes.model_dump(mode="json"),
            "report": cfg.report.model_dump(mode="json"),
            "segment_guide": cfg.segment.guide or "built-in past/present/future",
            "guide_in_use": str(segments_info.get("guide", "")),
            "guide_origin": str(segments_info.get("guide_origin", "")),
            "guide_fit": {
                k: v
                for k, v in (segments_info.get("fit") or {}).items()
                if k
                in (
                    "share",
                    "mean_confidence",
                    "questions_like_the_guide",
                    "never_reached",
                    "rarely_reached",
                    "poor",
                )
            },
            "theme_clustering_params": themes_info.get("params", {}),
        },
        counts=counts,
        skipped_files=skipped,
        notes=notes,
    )
