"""Assemble the report: every figure, sentence and quote, into one :class:`Report`.

Reads the artifacts of the earlier stages (checked fresh) and computes nothing the
renderers would have to compute again. Everything is sorted with explicit tie
breakers, so the same inputs give the same report.json.

Each part of the report has its own builder: :mod:`.overview`, :mod:`.sections`,
:mod:`.takeaway_builder`, :mod:`.number_builder`, :mod:`.lists`, :mod:`.rare` and
:mod:`.method`; :mod:`.quotes` makes every quote they hold.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..core.catalog import cache_dir
from ..core.config import Config
from ..embed import load_embeddings, make_embedder
from ..results import load_results
from ..segment.stage import guide_in_use
from .advice import advice_points
from .codes import build_coding
from .findings import build_findings
from .lists import build_lists, load_codebook
from .method import build_method
from .number_builder import build_numbers
from .overview import build_overview
from .profile import choose_profile, profile_parts
from .quotes import QuoteMaker, parsed_or_spacy
from .rare import build_rare
from .schema import ProfileInfo, Report
from .sections import build_sections
from .sentences import parse_sentences
from .takeaway_builder import build_takeaways, embed


def content_sha256(report: Report) -> str:
    """The hash of what the report says, so two runs can be compared by one value.

    Args:
        report: the report; it is not changed.

    Returns:
        The SHA-256 of its JSON without ``generated_at`` and with ``method.report_sha256``
        empty, so neither the time it was made nor the hash itself changes the hash.
    """
    data = report.model_dump(mode="json")
    data.pop("generated_at", None)
    data["method"]["report_sha256"] = ""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def build_report(out_dir: Path, cfg: Config, generated_at: str, embedder=None) -> Report:
    """Build the whole report from the earlier stages' artifacts.

    Args:
        out_dir: the output folder holding every earlier stage's artifacts.
        cfg: the effective configuration.
        generated_at: the timestamp to stamp (it does not enter ``method.report_sha256``).
        embedder: an embedder to reuse for the advice sentences (default: the ``embed`` one).

    Returns:
        The report, with ``method.report_sha256`` set.

    Raises:
        ArtifactError: an artifact the report reads is missing or stale (naming the command
            that makes it).
    """
    out_dir = Path(out_dir)
    r = load_results(out_dir)
    for name in ("passages", "segments", "themes", "assignments"):
        getattr(r, name)  # raises ArtifactError naming the command when missing or stale
    guide = guide_in_use(out_dir, cfg)
    passages = r.passages_with_themes()
    sections = dict(zip(passages["passage_id"], passages["section"].fillna(""), strict=True))
    parsed = parse_sentences(passages, r.turns, cache_dir(out_dir))
    quote = QuoteMaker(passages, sections, cfg.report, split=parsed_or_spacy(parsed.offsets))
    passage_vectors, embed_info = load_embeddings(out_dir)
    # One embedder for every sentence the report embeds (its model loads on first use).
    embedder = embedder or make_embedder(cfg.embed, cache_dir(out_dir))
    choice = choose_profile(cfg.report.profile, guide.profile, parsed.table)
    profile = choice.profile
    points = (
        advice_points(parsed.table, min_score=cfg.report.advice_min_score) if profile.advice else []
    )
    takeaways, rest = build_takeaways(
        r, parsed, cfg, quote, out_dir, passage_vectors, points, embedder
    )
    findings, context, rare_themes = build_findings(
        r, parsed, cfg, quote, passage_vectors, lambda texts: embed(texts, out_dir, cfg, embedder)
    )
    lists_file = cfg.report.lists_file or profile.lists
    report = Report(
        title=cfg.report.title,
        generated_at=generated_at,
        guide=guide.name,
        profile=ProfileInfo(name=profile.name, reason=choice.reason, parts=profile_parts(profile)),
        overview=build_overview(r, parsed, cfg, quote, backgrounds=profile.backgrounds),
        sections=build_sections(r, guide, parsed, cfg, quote),
        # Advice is the finding where people give advice; otherwise the themes are.
        takeaways=takeaways or findings,
        context=context,
        numbers=build_numbers(
            parsed,
            quote,
            guide.names,
            kinds=profile.numbers,
            min_conversations=cfg.report.numbers_min_conversations,
        ),
        lists=build_lists(parsed, quote, load_codebook(lists_file)) if choice.on else [],
        rare=build_rare(rest, rare_themes, parsed.table, quote, cfg),
        coding=build_coding(out_dir, passages, quote, r.theme_labels()),
        method=build_method(r, cfg, out_dir, parsed, len(points), embed_info, choice),
    )
    report.method.report_sha256 = content_sha256(report)
    return report
