"""The themes stage: which passages are themed, the fit, and its outputs through the catalog."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pandas as pd

from ..core.catalog import ArtifactError, cache_dir, load, location, save
from ..core.config import Config, ThemesConfig
from ..core.registry import phase
from ..ingest.roles import INTERVIEWEE
from .clustering import OUTLIER
from .model import embedding_record, fit_themes, membership, model_writer
from .tables import hierarchy_table, interview_matrix, section_table, summarise_themes
from .vectorizer import analyzer_for

log = logging.getLogger(__name__)


def theme_passages(passages: pd.DataFrame, cfg: ThemesConfig) -> tuple[pd.Series, dict[str, int]]:
    """Which passages are themed: interviewee speech in the main language (by default).

    Args:
        passages: the passages table.
        cfg: the themes settings (``include_other_languages``).

    Returns:
        A boolean mask over ``passages`` and, when other languages are left out, how many
        interviewee passages of each language were.
    """
    answers = passages["role"] == INTERVIEWEE
    main = passages["in_main_language"].fillna(False)
    other = answers & ~main
    left_out = Counter(passages.loc[other, "language"])
    if cfg.include_other_languages:
        if other.any():
            log.warning(
                "theming %d passages in %s together with the main language: "
                "embed.model must be multilingual",
                int(other.sum()),
                ", ".join(sorted(left_out)),
            )
        return answers, {}
    if other.any():
        n_conv = passages.loc[other, "interview_id"].nunique()
        log.warning(
            "%d passages from %d conversation(s) in %s left out of theming (another language "
            "than the corpus's); set themes.include_other_languages: true with a multilingual "
            "embed.model to include them",
            int(other.sum()),
            n_conv,
            ", ".join(sorted(left_out)),
        )
    return answers & main, dict(left_out)


def _sections(out_dir: Path, passages: pd.DataFrame) -> pd.Series:
    if not location("segments", out_dir).is_file():
        return pd.Series("all", index=passages.index, dtype="string")
    segments = load("segments", out_dir)
    by_passage = segments.dropna(subset=["passage_id"]).set_index("passage_id")["section"]
    return passages["passage_id"].map(by_passage).fillna("unknown").astype("string")


def run(out_dir: Path, config: Config, embedder=None) -> pd.DataFrame:
    """Fit the themes on the interviewee passages and write the themes artifacts.

    Args:
        out_dir: the output folder holding the passages, embeddings and segments.
        config: the effective configuration (``themes`` and ``embed`` settings are read).
        embedder: an embedder to reuse (default: the one ``embed`` settings name).

    Returns:
        The themes table (one row per theme, outliers as theme -1).

    Raises:
        ArtifactError: the vectors were made with another model than the config names.
        ValueError: fewer than 10 passages are left to theme.
    """
    from ..embed import load_embeddings, make_embedder

    out_dir = Path(out_dir)
    cfg = config.themes
    passages = load("passages", out_dir)
    vectors, info = load_embeddings(out_dir, passages)
    if embedder is None:
        embedder = make_embedder(config.embed, cache_dir(out_dir))
    if embedder.model_id != info["model_id"]:
        raise ArtifactError(
            f"embeddings were made with {info['model_id']}, config asks for "
            f"{embedder.model_id}: run `insights embed` again"
        )
    mask, left_out = theme_passages(passages, cfg)
    interviews = load("interviews", out_dir)
    analyzer = analyzer_for(passages[mask], passages, interviews, cfg)
    # Small talk ("Thanks so much for doing this") has no content words to theme.
    contentful = passages["clean_text"].map(
        lambda t: analyzer.content_words(t) >= cfg.min_content_words
    )
    n_small_talk = int((mask & ~contentful).sum())
    mask = mask & contentful
    selected = passages[mask].reset_index(drop=True)
    emb = vectors[mask.to_numpy()]
    if len(selected) < 10:
        raise ValueError(
            f"only {len(selected)} interviewee passages to theme; themes need at least 10"
        )
    docs = selected["clean_text"].tolist()
    store = cache_dir(out_dir) if config.embed.cache else None
    with phase("fit"):
        model, topics, _, parts = fit_themes(docs, emb, embedder, analyzer, cfg, store)

    selected["theme_id"] = topics
    # One meaning whatever the clustering: cosine similarity to the theme's centroid.
    selected["probability"] = membership(emb, topics)
    selected["section"] = _sections(out_dir, selected).to_numpy()

    with phase("labels"):
        themes = summarise_themes(model, selected, cfg)
    columns = ["passage_id", "interview_id", "theme_id", "probability", "section"]
    save("assignments", selected[columns], out_dir)
    save("themes", themes, out_dir)
    with phase("per-section keywords"):
        save("theme_sections", section_table(model, selected, docs), out_dir)
    save("theme_interviews", interview_matrix(selected), out_dir)
    with phase("hierarchy"):
        save("hierarchy", hierarchy_table(model, docs), out_dir)
    with phase("save model"):
        save("themes_model", model_writer(model, embedder), out_dir)
    n_out = int((selected["theme_id"] == OUTLIER).sum())
    n_themes = int((themes["theme_id"] != OUTLIER).sum())
    save(
        "themes_info",
        {
            "clustering": parts.clustering,
            "params": parts.params,
            "seed": cfg.seed,
            "n_passages": len(selected),
            "n_themes": n_themes,
            "outliers": n_out,
            "outlier_share": round(n_out / len(selected), 4),
            "left_out_small_talk": n_small_talk,
            "left_out_languages": left_out,
            "embedding_model": info["model_id"],
            # What load_model needs to embed new texts as the topic vectors were made.
            **embedding_record(embedder, out_dir),
            "passages_sha256": info["passages_sha256"],
        },
        out_dir,
    )
    log.info(
        "%d themes over %d passages (%s); %d outliers",
        n_themes,
        len(selected),
        parts.clustering,
        n_out,
    )
    return themes
