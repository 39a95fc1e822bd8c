"""The themes stage: which passages are themed, the fit, and its outputs through the catalog."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pandas as pd

from ..core.catalog import ArtifactError, cache_dir, load, location, save
from ..core.config import Config, ThemesConfig
from ..core.registry import phase
from ..ingest.language import UNDETERMINED, language_name
from ..ingest.roles import INTERVIEWEE
from .clustering import OUTLIER
from .guided import from_config as guidance_from_config
from .guided import guided_notes, theme_codes
from .model import embedding_record, fit_themes, membership, model_writer
from .tables import (
    THEME_COLUMNS,
    hierarchy_table,
    interview_matrix,
    section_table,
    summarise_themes,
)
from .vectorizer import analyzer_for

log = logging.getLogger(__name__)

# Sentence-transformers models trained on English only (their name holds one of these).
ENGLISH_ONLY_MODELS = (
    "all-MiniLM-L6-v2",
    "all-MiniLM-L12-v2",
    "all-mpnet-base-v2",
    "all-distilroberta-v1",
    "multi-qa-MiniLM",
    "multi-qa-mpnet",
    "paraphrase-MiniLM",
    "paraphrase-mpnet",
)
MULTILINGUAL_EXAMPLE = "paraphrase-multilingual-MiniLM-L12-v2"


def english_only(model_id: str) -> bool:
    """Whether an embedding model is known to cover English only.

    Args:
        model_id: the embedder's model id (the bundled model, a name, a folder, model2vec's).

    Returns:
        True for the bundled all-MiniLM-L6-v2 and the other English sentence-transformers
        models of :data:`ENGLISH_ONLY_MODELS` (and static models distilled from them).
    """
    lowered = model_id.lower()
    return "multilingual" not in lowered and any(m.lower() in lowered for m in ENGLISH_ONLY_MODELS)


def language_notes(selected: pd.DataFrame, left_out: dict[str, int], model_id: str) -> list[str]:
    """What the themes cannot speak for, by language, said plainly (themes.json ``notes``).

    Args:
        selected: the passages themed (their ``language`` and ``interview_id``).
        left_out: passages left out by language (:func:`theme_passages`).
        model_id: the embedding model's id.

    Returns:
        One sentence for the passages left out in other languages, and one for themed
        passages in a language the embedding model does not cover, with how to change it.
    """
    notes = []
    if left_out:
        n = sum(left_out.values())
        langs = ", ".join(f"{language_name(k)} ({k}): {v}" for k, v in sorted(left_out.items()))
        notes.append(
            f"{_plural(n, 'passage')} in another language than the corpus's main one "
            f"{'was' if n == 1 else 'were'} left out of the themes ({langs}); to theme them, set "
            "embed.model to a "
            f"multilingual sentence-transformers model (e.g. {MULTILINGUAL_EXAMPLE}, from the "
            "local cache or a folder) and themes.include_other_languages: true."
        )
    by_language = Counter(selected["language"].fillna(UNDETERMINED)) if len(selected) else {}
    foreign = {k: v for k, v in by_language.items() if k not in ("en", UNDETERMINED)}
    if foreign and english_only(model_id):
        langs = ", ".join(f"{language_name(k)} ({k})" for k in sorted(foreign))
        n = sum(foreign.values())
        cut = " (Chinese cut into words with jieba)" if {"zh", "ja"} & set(foreign) else ""
        notes.append(
            f"{n} of the {len(selected)} passages themed are in {langs}, but the embedding model "
            f"({model_id}) was trained on English only: themes that group these passages by "
            f"meaning are unreliable; their keywords are still words said{cut}. To theme them, "
            "set embed.model to a multilingual sentence-transformers model (e.g. "
            f"{MULTILINGUAL_EXAMPLE}, from the local cache or a folder) and run again."
        )
    return notes


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def too_few(n_passages: int, n_conversations: int, cfg: ThemesConfig) -> str | None:
    """Why there are no themes when there are too few passages, else None.

    Args:
        n_passages: the passages left to theme.
        n_conversations: the conversations they come from.
        cfg: the themes settings (``min_passages``).

    Returns:
        "No themes: 2 conversations with 9 passages to theme are too few (themes need at
        least 20 passages; themes.min_passages)", or None when there are enough.
    """
    if n_passages >= cfg.min_passages:
        return None
    verb = "is" if n_conversations == 1 else "are"
    return (
        f"No themes: {_plural(n_conversations, 'conversation')} with "
        f"{_plural(n_passages, 'passage')} to theme {verb} too few (themes need at least "
        f"{cfg.min_passages} passages; themes.min_passages)"
    )


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

    With a codebook or coding (``coding.file``, ``coding.codebook``, ``coding.from_turns``)
    and ``themes.guided`` auto or on, the fit is guided by the codes (:mod:`.guided`) and
    themes.json ``guided`` says which theme lines up with which code and which are new.

    Args:
        out_dir: the output folder holding the passages, embeddings and segments.
        config: the effective configuration (``themes``, ``embed`` and, for a guided fit,
            ``coding.file``, ``coding.codebook`` and ``coding.from_turns`` are read).
        embedder: an embedder to reuse (default: the one ``embed`` settings name).

    Returns:
        The themes table (one row per theme, outliers as theme -1); with fewer than
        ``themes.min_passages`` passages to theme, an empty one (every artifact is written
        empty and themes.json says why under ``skipped``).

    Raises:
        ArtifactError: the vectors were made with another model than the config names.
        ValueError: ``themes.guided: on`` with no codebook or coding, or a coding file that
            cannot be read.
    """
    from ..embed import embed_texts, load_embeddings, make_embedder

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
    contentful = (
        passages["clean_text"]
        .map(lambda t: analyzer.content_words(t) >= cfg.min_content_words)
        .astype(bool)  # also when there is no passage (an empty map keeps the string dtype)
    )
    n_small_talk = int((mask & ~contentful).sum())
    mask = mask & contentful
    selected = passages[mask].reset_index(drop=True)
    emb = vectors[mask.to_numpy()]
    notes = language_notes(selected, left_out, info["model_id"])
    for note in notes[1 if left_out else 0 :]:  # the left-out languages were logged above
        log.warning("%s", note)
    summary = {
        "seed": cfg.seed,
        "n_passages": len(selected),
        "n_conversations": int(selected["interview_id"].nunique()),
        "left_out_small_talk": n_small_talk,
        "left_out_languages": left_out,
        "embedding_model": info["model_id"],
        # What load_model needs to embed new texts as the topic vectors were made.
        **embedding_record(embedder, out_dir),
        "passages_sha256": info["passages_sha256"],
    }
    reason = too_few(len(selected), summary["n_conversations"], cfg)
    if reason is not None:
        return _no_themes(out_dir, reason, summary, notes)
    docs = selected["clean_text"].tolist()
    store = cache_dir(out_dir) if config.embed.cache else None
    with phase("guide"):
        guidance, unguided = guidance_from_config(
            out_dir, config, selected, emb, lambda texts: embed_texts(texts, embedder, store)[0]
        )
    with phase("fit"):
        model, topics, _, parts = fit_themes(
            docs, emb, embedder, analyzer, cfg, store, guidance=guidance
        )

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
    single = themes[themes["single_conversation"] & (themes["theme_id"] != OUTLIER)]
    guided = {"enabled": False, "reason": unguided}
    if guidance is not None:
        matches = theme_codes(topics, guidance, emb, OUTLIER)
        guided = guided_record(guidance, matches, cfg)
        notes = [*notes, *guided_notes(matches, guidance.seeds)]
    save(
        "themes_info",
        {
            "clustering": parts.clustering,
            "params": parts.params,
            **summary,
            "n_themes": n_themes,
            "outliers": n_out,
            "outlier_share": round(n_out / len(selected), 4),
            # Themes mostly from one conversation (more than single_conversation_share).
            "single_conversation_themes": {
                str(r.theme_id): r.top_conversation_share for r in single.itertuples()
            },
            "guided": guided,
            "notes": notes,
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


def guided_record(guidance, matches: list[dict], cfg: ThemesConfig) -> dict:
    """themes.json ``guided`` of a guided fit: the seeds, the counts and each theme's code.

    Args:
        guidance: the fit's :class:`~.guided.Guidance`.
        matches: :func:`~.guided.theme_codes` of the fitted themes.
        cfg: the themes settings (``guided_strength``, ``guided_text_weight``).

    Returns:
        ``enabled`` (True), ``source``, ``strength``, ``text_weight``, the counts of
        :meth:`~.guided.Guidance.summary` (``n_seeds``, ``coded_passages``,
        ``coded_interviews_rate``, ``drawn_passages``, ``unguided_passages``), ``seeds``
        (code, coded_passages, source), ``themes`` (one dict per theme, see
        :func:`~.guided.theme_codes`), ``new_themes`` (their ids) and
        ``codes_without_theme``.
    """
    matched = {m["code"] for m in matches if m["kind"] == "code"}
    return {
        "enabled": True,
        "source": guidance.source,
        "strength": cfg.guided_strength,
        "text_weight": cfg.guided_text_weight,
        **guidance.summary(),
        "seeds": guidance.seeds.record(),
        "themes": matches,
        "new_themes": [m["theme_id"] for m in matches if m["kind"] == "new"],
        "codes_without_theme": [c for c in guidance.seeds.codes if c not in matched],
    }


def _no_themes(out_dir: Path, reason: str, summary: dict, notes: list[str]) -> pd.DataFrame:
    """Write every themes artifact empty, with the reason in themes.json; the empty table.

    Args:
        out_dir: the output folder.
        reason: why there are no themes (:func:`too_few`).
        summary: the counts and embedding record for themes.json.
        notes: the language notes.

    Returns:
        The themes table with its columns and no rows.
    """
    log.warning("%s", reason)
    themes = pd.DataFrame(columns=THEME_COLUMNS)
    assignments = ["passage_id", "interview_id", "theme_id", "probability", "section"]
    sections = ["theme_id", "section", "n_passages", "share_of_section", "n_interviews"]
    save("assignments", pd.DataFrame(columns=assignments), out_dir)
    save("themes", themes, out_dir)
    save("theme_sections", pd.DataFrame(columns=[*sections, "keywords"]), out_dir)
    save(
        "theme_interviews",
        pd.DataFrame(columns=["theme_id", "interview_id", "n_passages"]),
        out_dir,
    )
    save("hierarchy", hierarchy_table(None, []), out_dir)
    # A model folder saying there is none, so an older run's model never stands for this one.
    save(
        "themes_model", lambda tmp: (Path(tmp) / "NO_MODEL.txt").write_text(reason + "\n"), out_dir
    )
    save(
        "themes_info",
        {
            "clustering": "none (too few passages to theme)",
            "params": {},
            **summary,
            "n_themes": 0,
            "outliers": 0,
            "outlier_share": 0.0,
            "single_conversation_themes": {},
            "guided": {"enabled": False, "reason": reason},
            "skipped": reason,
            "notes": [reason, *notes],
        },
        out_dir,
    )
    return themes
