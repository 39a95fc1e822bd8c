"""Assemble the report: every figure, sentence and quote, into one :class:`Report`.

Reads the artifacts of the earlier stages (checked fresh) and computes nothing the
renderers would have to compute again. Everything is sorted with explicit tie
breakers, so the same inputs give the same report.json.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from importlib import metadata as importlib_metadata
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import __version__, nlp
from ..config import Config
from ..embed import embed_texts, load_embeddings, make_embedder
from ..guide import load_guide
from ..results import Results, load_results
from .advice import advice_points, advice_score, strip_lead
from .numbers import KINDS, extract_from_sentence
from .schema import (
    ListGroup, ListItem, Method, NumberFact, NumberMention, Overview, Quote, RarePoint, Report, Section,
    SectionTheme, SkippedFile, Takeaway,
)
from .sentences import ParsedSentences, parse_sentences
from .takeaways import group_points, headline_for, normalise, rank_groups

OUTLIER = -1


# ---------------------------------------------------------------------- quotes

def _timestamp(seconds) -> str | None:
    if seconds is None or pd.isna(seconds):
        return None
    s = int(round(float(seconds)))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


class QuoteMaker:
    """Builds :class:`Quote` objects for passages, with where each one can be found."""

    def __init__(self, passages: pd.DataFrame, sections: dict[str, str]):
        self.rows = passages.set_index("passage_id")
        self.sections = sections

    def __call__(self, passage_id: str, text: str | None = None) -> Quote:
        row = self.rows.loc[passage_id]
        ts = _timestamp(row["start"])
        line, page = _int(row["source_line"]), _int(row["source_page"])
        where = str(row["source_file"])
        if ts:
            where += f" at {ts}"
        elif page:
            where += f", page {page}"
        elif line:
            where += f", line {line}"
        return Quote(text=str(text if text is not None else row["text"]), interview_id=str(row["interview_id"]),
                     speaker=str(row["speaker"]), where=where, source_file=str(row["source_file"]), line=line,
                     page=page, timestamp=ts, section=self.sections.get(passage_id), passage_id=passage_id)


# -------------------------------------------------------------------- overview

DEGREE_RE = re.compile(
    r"^(?:(?:bs|ba|bsc|ms|msc|ma|mres|meng|beng|phd|dphil|mphil|bachelor'?s?|master'?s?|doctorate|degree|diploma|"
    r"licence|licenciatura)\b\.?\s*(?:(?:and|&|/)\s*)?(?:in\s+|of\s+)?)+",
    re.IGNORECASE,
)
SAID_DEGREE_RE = re.compile(
    r"\b(?:bachelor'?s|master'?s|undergrad(?:uate)?(?: degree)?|phd|doctorate|degree|diploma)\s+(?:was\s+|is\s+)?"
    r"(?:in\s+)?(?P<field>(?:[a-z]+[ -]){0,2}[a-z]+?)(?=\s*(?:[,.;(]|\band\b|\bthen\b|\bat\b|\bfrom\b|\bwith\b|\bwhich\b|$))"
    r"|\b(?P<mba>mba)\b|\b(?P<bootcamp>(?:data science |coding )?bootcamp)\b|\b(?P<self>self-taught)\b",
    re.IGNORECASE,
)
NOT_FIELDS = {"program", "the", "a", "one", "my", "it", "that", "year", "years", "part-time", "in", "and", "students",
              "student", "school", "course", "courses"}


def normalise_background(text: str) -> str:
    text = re.sub(r"\([^)]*\)", "", str(text)).strip(" .;,")
    text = DEGREE_RE.sub("", text).strip(" .;,")
    if text.lower() == "mba":
        return "MBA"
    return text.lower()


def backgrounds_from_metadata(interviews: pd.DataFrame, fields: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for field in fields:
        if field not in interviews.columns:
            continue
        for row in interviews[["interview_id", field]].itertuples(index=False):
            if isinstance(row[1], str) and row[1].strip():
                for part in re.split(r";|\bplus\b", row[1]):
                    value = normalise_background(part)
                    if value and value not in out[row[0]]:
                        out[row[0]].append(value)
    return dict(out)


def backgrounds_from_speech(sentences: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(interview, background, sentence row) for degrees people named when they talked about their past."""
    found = []
    for r, row in enumerate(sentences.itertuples(index=False)):
        for m in SAID_DEGREE_RE.finditer(row.text):
            if m.group("mba"):
                value = "MBA"
            elif m.group("bootcamp"):
                value = m.group("bootcamp").lower()
            elif m.group("self"):
                value = "self-taught"
            else:
                value = m.group("field").lower().strip()
                if value in NOT_FIELDS or value.split()[0] in NOT_FIELDS:
                    continue
            found.append((row.interview_id, value, r))
    return found


def build_overview(r: Results, parsed: ParsedSentences, cfg: Config, quote: QuoteMaker) -> Overview:
    interviews = r.interviews
    dates = []
    for field in ("date", "interview_date"):
        if field in interviews.columns:
            dates += [d.date().isoformat() for d in pd.to_datetime(interviews[field], errors="coerce").dropna()]
    by_interview = backgrounds_from_metadata(interviews, cfg.report.background_fields)
    quotes = []
    for interview_id, value, row in backgrounds_from_speech(parsed.table):
        known = by_interview.setdefault(interview_id, [])
        if not any(value.lower() in k.lower() or k.lower() in value.lower() for k in known):
            known.append(value)
        if len(quotes) < 3 and interview_id not in {q.interview_id for q in quotes}:
            quotes.append(quote(parsed.table.at[row, "passage_id"], parsed.table.at[row, "text"]))
    distinct = sorted({b for values in by_interview.values() for b in values})
    languages = interviews["language"].fillna("unknown").value_counts()
    folders = interviews["folder"].fillna("").replace("", "(top level)").value_counts()
    interviewee_words = int(interviews["n_words_interviewee"].fillna(0).sum())
    return Overview(
        conversations=len(interviews), words=int(interviews["n_words"].fillna(0).sum()),
        interviewee_words=interviewee_words, date_range=[min(dates), max(dates)] if dates else [],
        languages={str(k): int(v) for k, v in sorted(languages.items())},
        main_language=str(r.manifest.get("main_language", "")),
        folders={str(k): int(v) for k, v in sorted(folders.items())},
        backgrounds=distinct,
        backgrounds_by_interview={k: sorted(v) for k, v in sorted(by_interview.items()) if v},
        background_quotes=quotes,
    )


# -------------------------------------------------------------------- sections

def _best_sentence(passage_ids: list[str], keywords: list[str], parsed: ParsedSentences) -> int | None:
    """The sentence of these passages that carries most theme keywords (readable length, not a question)."""
    table = parsed.table
    candidates = table[table["passage_id"].isin(passage_ids)]
    best, best_key = None, None
    rank = {pid: i for i, pid in enumerate(passage_ids)}
    for r, row in candidates.iterrows():
        words = len(row["text"].split())
        if words < 6 or words > 40 or row["text"].rstrip().endswith("?"):
            continue
        words = set(row["lemmas"].split()) | set(re.findall(r"[a-z]+", row["text"].lower()))
        hits = sum(1 for k in keywords if k in words)
        if hits == 0:
            continue
        key = (-hits, rank[row["passage_id"]], row["sentence_index"])
        if best_key is None or key < best_key:
            best, best_key = r, key
    return best


def build_sections(r: Results, guide, parsed: ParsedSentences, cfg: Config, quote: QuoteMaker) -> list[Section]:
    themed = r.passages_with_themes(themed_only=True)
    themed = themed[themed["theme_id"] != OUTLIER]
    labels = r.theme_labels()
    keywords = {int(t.theme_id): [k for k in str(t.keywords).split("; ") if k] for t in r.themes.itertuples()}
    out = []
    for section in guide.sections:
        here = themed[themed["section"] == section.name]
        rows = []
        for theme_id, group in here.groupby("theme_id", sort=True):
            n_conv = group["interview_id"].nunique()
            if n_conv < cfg.report.min_theme_conversations:
                continue
            rows.append((int(theme_id), n_conv, len(group), group))
        rows.sort(key=lambda t: (-t[1], -t[2], t[0]))
        themes = []
        for theme_id, n_conv, n_pass, group in rows[: cfg.report.themes_per_section]:
            ordered = group.sort_values(["probability", "passage_id"], ascending=[False, True])
            ids = ordered["passage_id"].tolist()
            lemma_keys = sorted({k for kw in keywords.get(theme_id, []) for k in re.split(r"[\s-]+", kw.lower()) if k})
            best = _best_sentence(ids, lemma_keys, parsed)
            if best is None:
                summary_quote = quote(ids[0])
                summary = summary_quote.text
            else:
                summary = str(parsed.table.at[best, "text"])
                summary_quote = quote(parsed.table.at[best, "passage_id"], summary)
            other = ordered[ordered["interview_id"] != summary_quote.interview_id]
            rep = quote((other if len(other) else ordered)["passage_id"].iloc[0])
            themes.append(SectionTheme(theme_id=theme_id, label=labels.get(theme_id, str(theme_id)),
                                       keywords=keywords.get(theme_id, [])[:6], conversations=n_conv, passages=n_pass,
                                       summary=summary, summary_source=summary_quote, quote=rep))
        out.append(Section(name=section.name, description=section.description, passages=len(here),
                           conversations=int(here["interview_id"].nunique()), themes=themes))
    return out


# ------------------------------------------------------------------- takeaways

def _embed(texts: list[str], out_dir: Path, cfg: Config, embedder=None) -> np.ndarray:
    if not texts:
        return np.zeros((0, 1))
    embedder = embedder or make_embedder(cfg.embed, Path(out_dir) / "cache")
    vectors, _ = embed_texts(texts, embedder, Path(out_dir) / "cache", use_cache=cfg.embed.cache)
    return np.asarray(vectors, dtype=np.float64)


def build_takeaways(r: Results, parsed: ParsedSentences, cfg: Config, quote: QuoteMaker, out_dir: Path,
                    passage_vectors: np.ndarray, points: list, embedder=None) -> tuple[list[Takeaway], list]:
    table = parsed.table
    if not points:
        return [], []
    rows, owner = advice_sentences(points, table)
    vectors = _embed([strip_lead(str(table.at[i, "text"])) for i in rows], out_dir, cfg, embedder)
    groups = group_points(points, np.asarray(owner), vectors, [str(table.at[i, "lemmas"]) for i in rows],
                          [p.score for p in points], cfg.report.group_threshold, cfg.report.word_weight)

    # Conversations that discuss a group's subject without giving it as advice.
    passages = r.passages.reset_index(drop=True)
    mask = (passages["role"] == "interviewee").to_numpy()
    pv = normalise(passage_vectors[mask])
    p_interviews = passages.loc[mask, "interview_id"].to_numpy()
    p_lemmas = passages.loc[mask, "lemmas"].fillna("").to_numpy()
    for g in groups:
        g.headline = headline_for(g, table, parsed.spans)
        top_words = set(g.keywords[:3])
        close = (pv @ g.centroid) >= cfg.report.also_discussed_similarity
        also = set()
        for i in np.flatnonzero(close):
            if p_interviews[i] not in g.interviews and top_words & set(str(p_lemmas[i]).split()):
                also.add(str(p_interviews[i]))
        g.also_discussed = sorted(also)
    ranked = rank_groups(groups)
    n_conv = len(r.interviews)
    takeaways, rest = [], []
    for g in ranked:
        if len(takeaways) < cfg.report.takeaways and len(g.interviews) >= 2:
            takeaways.append(_takeaway(len(takeaways) + 1, g, table, quote, n_conv, cfg, (rows, owner)))
        else:
            rest.append(g)
    return takeaways, rest


def advice_sentences(points, table: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Each point's advice sentences (its first, and any later imperative or advice phrase): rows and owners."""
    rows, owner = [], []
    for k, p in enumerate(points):
        for j, r in enumerate(p.rows):
            if j == 0 or table.at[r, "imperative"] or table.at[r, "advice_cue"]:
                rows.append(r)
                owner.append(k)
    return rows, owner


def _takeaway(rank: int, g, table: pd.DataFrame, quote: QuoteMaker, n_conv: int, cfg: Config,
              advice_sentence_rows: tuple[list[int], list[int]]) -> Takeaway:
    # The lesson: the group's advice sentence that is most advice-like, central, and uses its key words.
    key = set(g.keywords[:3])
    sentence_sims = g.vectors @ g.centroid
    all_rows, owners = advice_sentence_rows
    def lesson_key(j: int):
        r = all_rows[g.sentences[j]]
        score = advice_score(bool(table.at[r, "imperative"]), bool(table.at[r, "advice_cue"]),
                             bool(table.at[r, "enumerated"]), bool(table.at[r, "advice_answer"]))
        hits = len(key & set(str(table.at[r, "lemmas"]).split()))
        return (-(score * float(sentence_sims[j]) + 0.1 * hits), r)
    lesson_row = all_rows[g.sentences[min(range(len(g.sentences)), key=lesson_key)]]
    lesson = strip_lead(str(table.at[lesson_row, "text"]))
    lesson_pid = str(table.at[lesson_row, "passage_id"])
    quotes, seen = [], set()
    for i in sorted(range(len(g.points)), key=lambda i: (-g.point_sims[i], g.points[i].passage_id)):
        p = g.points[i]
        if p.interview_id in seen:
            continue
        seen.add(p.interview_id)
        quotes.append(quote(p.passage_id, p.text(table)))
        if len(quotes) == cfg.report.quotes_per_takeaway:
            break
    return Takeaway(
        rank=rank, headline=g.headline, lesson=lesson,
        lesson_source=quote(lesson_pid, str(table.at[lesson_row, "text"])),
        keywords=g.keywords, support=len(g.interviews), also_discussed=len(g.also_discussed or []),
        conversations=n_conv, strength=round(float(g.strength), 3), interviews=g.interviews, quotes=quotes,
    )


# --------------------------------------------------------------------- numbers

def build_numbers(parsed: ParsedSentences, quote: QuoteMaker, guide_order: list[str]) -> list[NumberFact]:
    table = parsed.table
    found = defaultdict(list)  # (kind, what) -> [(interview, section, Quantity, row)]
    for r, (row, span) in enumerate(zip(table.itertuples(index=False), parsed.spans, strict=True)):
        context = f"{row.text} {row.question}"
        for q in extract_from_sentence(span, context):
            found[(q.kind, q.what)].append((row.interview_id, row.section, q, r))
    facts = []
    for (kind, what), items in found.items():
        per_interview = defaultdict(list)
        for interview_id, _, q, _ in items:
            per_interview[interview_id].append(q.value)
        if kind == "count_of" and len(per_interview) < 2:
            continue
        medians = [float(np.median(v)) for _, v in sorted(per_interview.items())]
        by_section = defaultdict(list)
        for _, section, q, _ in items:
            if section:
                by_section[section].append(q.value)
        section_medians = {s: round(float(np.median(by_section[s])), 2) for s in guide_order if s in by_section}
        if len(set(section_medians.values())) <= 1:
            section_medians = {}
        mentions = [
            NumberMention(low=q.low, high=q.high, value=q.value, approximate=q.approximate, span=q.span,
                          quote=quote(table.at[r, "passage_id"], table.at[r, "text"]))
            for _, _, q, r in sorted(items, key=lambda t: (t[0], table.at[t[3], "passage_id"], t[2].start))
        ]
        label = KINDS[kind] if kind != "count_of" else f"'{what}' people counted"
        facts.append(NumberFact(
            kind=kind, label=label, what=what, median=round(float(np.median(medians)), 2),
            low=min(q.low for _, _, q, _ in items), high=max(q.high for _, _, q, _ in items),
            n_conversations=len(per_interview), n_mentions=len(items), by_section=section_medians, mentions=mentions,
        ))
    order = list(KINDS)
    return sorted(facts, key=lambda f: (order.index(f.kind), -f.n_conversations, f.what))


# ----------------------------------------------------------------------- lists

def load_codebook(path: str | None) -> dict:
    if path:
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"report.lists_file not found: {path}")
        text = source.read_text(encoding="utf-8")
    else:
        text = resources.files("pipeline.report").joinpath("lists.yaml").read_text(encoding="utf-8")
    book = yaml.safe_load(text) or {}
    if not isinstance(book, dict) or not all(isinstance(v, dict) and isinstance(v.get("items"), dict) for v in book.values()):
        raise ValueError(f"{path or 'lists.yaml'}: expected kinds with description and items: {{item: [words]}}")
    return book


def word_pattern(words: list) -> re.Pattern:
    """Whole words or phrases, plurals included; a trailing * matches any ending."""
    parts = []
    for word in words:
        word = str(word).strip()
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(re.escape(word) + r"(?:s|es)?")
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def build_lists(parsed: ParsedSentences, quote: QuoteMaker, codebook: dict) -> list[ListGroup]:
    table = parsed.table
    groups = []
    for kind, spec in codebook.items():
        context = word_pattern(spec["context"]) if spec.get("context") else None
        items = []
        for item, words in spec["items"].items():
            pattern = word_pattern(words)
            hits = [r for r, text in enumerate(table["text"])
                    if pattern.search(text) and (context is None or context.search(text))]
            if not hits:
                continue
            interviews = sorted({table.at[r, "interview_id"] for r in hits})
            first = hits[0]
            items.append(ListItem(item=str(item), conversations=len(interviews), interviews=interviews,
                                  quote=quote(table.at[first, "passage_id"], table.at[first, "text"])))
        items.sort(key=lambda i: (-i.conversations, i.item))
        if items:
            groups.append(ListGroup(kind=str(kind), description=str(spec.get("description", kind)), items=items))
    return groups


# ------------------------------------------------------------------------ rare

def build_rare(rest: list, r: Results, table: pd.DataFrame, quote: QuoteMaker, cfg: Config) -> list[RarePoint]:
    out = []
    limit = cfg.report.rare_max_conversations
    for g in rest:
        if len(g.interviews) > limit:
            continue
        best = max(g.points, key=lambda p: (p.score, -len(p.passage_id), p.passage_id))
        first = best.rows[0]
        # advice phrases in passing ("with a focus on ...") are not advice; imperatives and advice answers are
        if best.score < cfg.report.advice_min_score or not (table.at[first, "imperative"] or table.at[first, "advice_answer"]):
            continue
        out.append(RarePoint(kind="advice", headline=g.headline, conversations=len(g.interviews),
                             interviews=g.interviews, quote=quote(best.passage_id, best.text(table))))
    out.sort(key=lambda p: (p.conversations, p.headline))
    themes = r.themes[(r.themes["theme_id"] != OUTLIER) & (r.themes["n_interviews"] <= limit)]
    for t in themes.sort_values(["n_interviews", "theme_id"]).itertuples():
        reps = [p for p in str(t.representative_passages).split("; ") if p]
        if reps:
            out.append(RarePoint(kind="theme", headline=str(t.label), conversations=int(t.n_interviews),
                                 interviews=[i for i in str(t.interviews).split("; ") if i], quote=quote(reps[0])))
    return out[: cfg.report.rare_max_items]


# ---------------------------------------------------------------------- method

def _version(package: str) -> str:
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def build_method(r: Results, cfg: Config, out_dir: Path, parsed: ParsedSentences, n_points: int,
                 embed_info: dict) -> Method:
    themes_info = json.loads((Path(out_dir) / "themes.json").read_text(encoding="utf-8"))
    spacy_info = nlp.describe()
    assignments = r.assignments
    skipped = [SkippedFile(path=f["path"], status=f["status"], reason=str(f.get("reason") or ""))
               for f in r.manifest.get("files", []) if f.get("status") != "ingested"]
    counts = {
        "files": int(r.manifest["counts"]["files"]), "conversations": len(r.interviews),
        "turns": len(r.turns), "passages": len(r.passages),
        "interviewee_passages": int((r.passages["role"] == "interviewee").sum()),
        "themed_passages": len(assignments),
        "outlier_passages": int((assignments["theme_id"] == OUTLIER).sum()),
        "themes": int(themes_info.get("n_themes", 0)),
        "sentences_analysed": len(parsed.table), "advice_points": n_points,
    }
    notes = [
        "Takeaways are built from advice people gave (imperatives, advice phrases, answers to advice questions), "
        "grouped by meaning and shared words; support counts conversations that gave the advice.",
        "Numbers are read by a grammar over spoken and written numbers; each mention is listed with its quote, "
        "so a misread one can be spotted.",
        "Lists come from a codebook of item words (report.lists_file); they count conversations that mention an item.",
    ]
    left_out = themes_info.get("left_out_languages") or {}
    if left_out:
        notes.append("Passages in other languages are quoted nowhere in the themes: "
                     + ", ".join(f"{k}: {v} passages" for k, v in sorted(left_out.items())))
    return Method(
        tool_version=__version__, inputs_sha256=str(r.manifest.get("inputs_sha256", "")),
        config_sha256=cfg.sha256(), report_sha256="",
        models={
            "embedding": str(embed_info.get("model_id")), "embedding_backend": str(embed_info.get("backend")),
            "spacy_pipeline": f"{spacy_info['name']} {spacy_info['version']}", "spacy": spacy_info["spacy"],
            "bertopic": _version("bertopic"), "sentence-transformers": _version("sentence-transformers"),
            "scikit-learn": _version("scikit-learn"), "clustering": str(themes_info.get("clustering")),
        },
        parameters={"themes": cfg.themes.model_dump(mode="json"), "report": cfg.report.model_dump(mode="json"),
                    "segment_guide": cfg.segment.guide or "built-in past/present/future",
                    "theme_clustering_params": themes_info.get("params", {})},
        counts=counts, skipped_files=skipped, notes=notes,
    )


# ----------------------------------------------------------------------- build

def content_sha256(report: Report) -> str:
    data = report.model_dump(mode="json")
    data.pop("generated_at", None)
    data["method"]["report_sha256"] = ""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def build_report(out_dir: Path, cfg: Config, generated_at: str, embedder=None) -> Report:
    out_dir = Path(out_dir)
    r = load_results(out_dir)
    for name in ("passages", "segments", "themes", "assignments"):
        getattr(r, name)  # raises ArtifactError naming the command when missing or stale
    guide = load_guide(cfg.segment.guide)
    with_sections = r.passages_with_themes()
    sections = dict(zip(with_sections["passage_id"], with_sections["section"].fillna(""), strict=True))
    passages = with_sections
    quote = QuoteMaker(passages, sections)
    parsed = parse_sentences(passages, r.turns)
    passage_vectors, embed_info = load_embeddings(out_dir)
    points = advice_points(parsed.table, min_score=cfg.report.advice_min_score)
    takeaways, rest = build_takeaways(r, parsed, cfg, quote, out_dir, passage_vectors, points, embedder)
    report = Report(
        title=cfg.report.title, generated_at=generated_at,
        overview=build_overview(r, parsed, cfg, quote),
        sections=build_sections(r, guide, parsed, cfg, quote),
        takeaways=takeaways,
        numbers=build_numbers(parsed, quote, guide.names),
        lists=build_lists(parsed, quote, load_codebook(cfg.report.lists_file)),
        rare=build_rare(rest, r, parsed.table, quote, cfg),
        method=build_method(r, cfg, out_dir, parsed, len(points), embed_info),
    )
    report.method.report_sha256 = content_sha256(report)
    return report
