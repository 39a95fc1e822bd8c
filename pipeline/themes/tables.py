"""The themes stage's side tables: summaries, per-section counts, theme x interview, hierarchy."""

from __future__ import annotations

import json
import logging

import pandas as pd

from ..core.config import ThemesConfig
from .clustering import OUTLIER
from .labels import make_label

log = logging.getLogger(__name__)

# The themes table's columns, in order (also those of an empty table).
THEME_COLUMNS = [
    "theme_id",
    "label",
    "keywords",
    "size",
    "n_interviews",
    "share_of_interviews",
    "interviews",
    "representative_passages",
    "section_shares",
    "top_conversation_share",
    "single_conversation",
]


def summarise_themes(model, assigned: pd.DataFrame, cfg: ThemesConfig) -> pd.DataFrame:
    """One row per theme: label, keywords, size, conversations, representative passages.

    Args:
        model: the fitted BERTopic (its keywords per theme).
        assigned: the themed passages with ``theme_id``, ``probability``, ``section``,
            ``clean_text``, ``interview_id`` and ``passage_id``.
        cfg: the themes settings.

    Returns:
        The themes table (the catalog's ``themes``), by theme id; the three passages most
        similar to their theme's centroid represent it. ``top_conversation_share`` is the
        share of the theme's passages from its most frequent conversation;
        ``single_conversation`` says it is more than ``cfg.single_conversation_share`` (the
        theme is mostly one conversation's, not a pattern across them).
    """
    rows = []
    n_interviews = assigned["interview_id"].nunique()
    for theme_id, group in assigned.groupby("theme_id", sort=True):
        keywords = [w for w, _ in (model.get_topic(int(theme_id)) or []) if w]
        texts = group["clean_text"].tolist()
        label = "(outliers)" if theme_id == OUTLIER else make_label(keywords, texts)
        best = group.sort_values(["probability", "passage_id"], ascending=[False, True]).head(3)
        sections = group["section"].value_counts(normalize=True).round(4).to_dict()
        top_share = round(float(group["interview_id"].value_counts(normalize=True).iloc[0]), 4)
        rows.append(
            {
                "theme_id": int(theme_id),
                "label": label,
                "keywords": "; ".join(keywords),
                "size": len(group),
                "n_interviews": group["interview_id"].nunique(),
                "share_of_interviews": round(group["interview_id"].nunique() / n_interviews, 4),
                "interviews": "; ".join(sorted(group["interview_id"].unique())),
                "representative_passages": "; ".join(best["passage_id"]),
                "section_shares": json.dumps(sections, sort_keys=True),
                "top_conversation_share": top_share,
                "single_conversation": top_share > cfg.single_conversation_share,
            }
        )
    return pd.DataFrame(rows, columns=THEME_COLUMNS)


def section_table(model, assigned: pd.DataFrame, docs: list[str]) -> pd.DataFrame:
    """Passages and conversations of each theme in each section, with BERTopic's keywords.

    Args:
        model: the fitted BERTopic (``topics_per_class`` over the sections).
        assigned: the themed passages with ``theme_id``, ``section`` and ``interview_id``.
        docs: their texts, row for row.

    Returns:
        The catalog's ``theme_sections`` table; keywords are empty when BERTopic cannot
        compute them (degenerate inputs).
    """
    counts = assigned.groupby(["theme_id", "section"]).size().rename("n_passages").reset_index()
    totals = assigned.groupby("section").size()
    counts["share_of_section"] = (counts["n_passages"] / counts["section"].map(totals)).round(4)
    counts["n_interviews"] = [
        assigned[(assigned.theme_id == t) & (assigned.section == s)]["interview_id"].nunique()
        for t, s in zip(counts.theme_id, counts.section, strict=True)
    ]
    try:  # BERTopic's own per-class keywords, for readers who want them
        per_class = model.topics_per_class(docs, classes=assigned["section"].tolist())
        words = {(int(r.Topic), str(r.Class)): str(r.Words) for r in per_class.itertuples()}
    except Exception as exc:  # topics_per_class fails on degenerate inputs (one class, tiny topics)
        log.debug("topics_per_class failed: %s", exc)
        words = {}
    counts["keywords"] = [
        words.get((int(t), str(s)), "")
        for t, s in zip(counts.theme_id, counts.section, strict=True)
    ]
    return counts


def interview_matrix(assigned: pd.DataFrame) -> pd.DataFrame:
    """Passages of each theme in each conversation.

    Args:
        assigned: the themed passages with ``theme_id`` and ``interview_id``.

    Returns:
        The catalog's ``theme_interviews`` table (pairs with no passage left out).
    """
    return assigned.groupby(["theme_id", "interview_id"]).size().rename("n_passages").reset_index()


def hierarchy_table(model, docs: list[str]) -> pd.DataFrame:
    """BERTopic's hierarchy of the themes: which merge into which, at what distance.

    Args:
        model: the fitted BERTopic (None: no model was fitted).
        docs: the passages' texts it was fitted on.

    Returns:
        The catalog's ``hierarchy`` table; empty with fewer than three themes.
    """
    columns = [
        "parent_id",
        "parent_name",
        "child_left_id",
        "child_left_name",
        "child_right_id",
        "child_right_name",
        "distance",
        "topics",
    ]
    if model is None or len(set(model.topics_) - {OUTLIER}) < 3:
        return pd.DataFrame(columns=columns)
    h = model.hierarchical_topics(docs)
    return pd.DataFrame(
        {
            "parent_id": h["Parent_ID"].astype(str),
            "parent_name": h["Parent_Name"].astype(str),
            "child_left_id": h["Child_Left_ID"].astype(str),
            "child_left_name": h["Child_Left_Name"].astype(str),
            "child_right_id": h["Child_Right_ID"].astype(str),
            "child_right_name": h["Child_Right_Name"].astype(str),
            "distance": h["Distance"].astype(float),
            "topics": h["Topics"].map(lambda t: json.dumps(list(map(int, t)))),
        }
    )
