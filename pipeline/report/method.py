"""The report's method section: how it was made, so a reader can judge and reproduce it.

Records the tool, model and library versions, the settings, the hashes of the inputs and
configuration, the counts at each step, the files that were not ingested, and notes on how
takeaways, numbers and lists are found.
"""

from __future__ import annotations

from importlib import metadata as importlib_metadata
from pathlib import Path

from .. import __version__
from ..core import nlp
from ..core.catalog import load
from ..core.config import Config
from ..results import OUTLIER, Results
from .schema import Method, SkippedFile
from .sentences import ParsedSentences

NOTES = [
    "Takeaways are built from advice people gave (imperatives, advice phrases, answers to advice "
    "questions), grouped by meaning and shared words; support counts conversations that gave the "
    "advice.",
    "Numbers are read by a grammar over spoken and written numbers; each mention is listed with "
    "its quote, so a misread one can be spotted.",
    "Lists come from a codebook of item words (report.lists_file); they count conversations that "
    "mention an item.",
]


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
    notes = list(NOTES)
    left_out = themes_info.get("left_out_languages") or {}
    if left_out:
        notes.append(
            "Passages in other languages are quoted nowhere in the themes: "
            + ", ".join(f"{k}: {v} passages" for k, v in sorted(left_out.items()))
        )
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
            "theme_clustering_params": themes_info.get("params", {}),
        },
        counts=counts,
        skipped_files=skipped,
        notes=notes,
    )
