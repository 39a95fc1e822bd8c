"""Guided themes: the researcher's codebook and coding seed the fit (``themes.guided``).

BERTopic's own guided topic modelling (``BERTopic(seed_topic_list=...)``) embeds each seed
topic's keywords, gives every document the seed topic it is most similar to when that beats
its similarity to the average document, moves those documents' vectors a quarter of the way
toward their seed's, passes the labels to UMAP as a semi-supervised target and raises the
seed words' c-TF-IDF weight. It is not used as it is here, because:

- its seeds are keywords only: a code's coded passages, the best evidence of what the code
  is in this corpus, cannot be given to it (in the MiniLM space a code's description is a
  poor stand-in: on serdif the nearest description is the researcher's code for 20% of the
  coded passages, the nearest coded-passage centroid for 48%);
- it overwrites the caller's vector array in place (our membership, outlier reassignment
  and topic vectors need the passages' own vectors), does not make the moved vectors unit
  length again, and labels documents by similarity alone, never by the researcher's coding;
- the seed-word boost changes every theme's keywords toward the codebook's words: keywords
  and labels here stay the words people said.

So the same steps are done here, with precomputed vectors and our clustering:

1. Seeds (:func:`make_seeds`): per code, the unit mean of the vectors of the passages the
   researcher coded with it (their located excerpts' passages), blended with the vector of
   the code's own words (name, description, examples; ``themes.guided_text_weight``); a code
   with no coded passage has its words only. A parent code with no coded passage of its own
   is left to its children.
2. Labels and nudge (:func:`guide`): a passage the researcher coded is labelled with its code
   (the one with most coded characters); any other passage with the seed it is most similar
   to, when that beats its similarity to the corpus's mean vector (BERTopic's rule), else
   none. Each labelled passage's vector moves toward its seed (weighted average with
   ``themes.guided_strength``, then unit length).
3. The fit clusters the moved vectors, with the labels as UMAP's semi-supervised target
   (as BERTopic passes its guided labels; every UMAP layout k-means's k is judged on gets
   it too). Passages no seed draws are unlabelled (-1), free to form new themes. Topic
   vectors, membership and outlier reassignment use the passages' own vectors.

   Moving vectors toward a seed is a contraction toward it, and UMAP's neighbours are by
   rank: the nudge mostly moves passages between codes at their borders, and the target
   separates different codes; neither merges one code's passages that fall in two distinct
   groups (they make two themes, both lined up with the code). On serdif, with the coding
   of half the interviews, giving UMAP all the labels rather than the researcher's alone
   lifted agreement with the other half's coding (NMI 0.388 -> 0.400, ARI 0.140 -> 0.157,
   mean best F1 0.325 -> 0.383; unguided 0.391, 0.121, 0.309).
4. Each theme is matched to the code most of its passages were labelled with
   (:func:`theme_codes`). It is ``new`` (no code covers it) when most of its passages were
   drawn to no seed, or when the researcher coded under half as large a share of its passages
   (in the interviews they coded) as of all those interviews' themed passages. Seeds alone draw
   nearly every passage in a sentence-embedding space (on serdif, 85% of the passages coded
   only with four codes left out of the codebook were drawn to another code), so with a coding,
   what the researcher left uncoded is the better sign of what the codebook does not cover.

Everything is deterministic: no sampling, ties go to the codebook's order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.config import Config

log = logging.getLogger(__name__)

NONE = -1  # the label of a passage no seed draws
NEW_BELOW = 0.5  # a theme with less than this share of passages labelled with a code is new
# ... or, with a coding, whose passages the researcher coded at less than this times the rate
# they coded all the themed passages of the interviews they coded
NEW_CODED_RATIO = 0.5
MAX_EXAMPLES = 3  # a code's examples in its words


def code_text(code) -> str:
    """A code's own words, embedded as its seed when it has no coded passages.

    Args:
        code: a :class:`~pipeline.coding.model.Code` (``name``, ``description``, ``examples``).

    Returns:
        ``"Name. Description. Example 1 Example 2"`` (at most :data:`MAX_EXAMPLES` examples).
    """
    parts = [code.name.strip(), (code.description or "").strip()]
    parts += [str(e).strip() for e in tuple(code.examples)[:MAX_EXAMPLES]]
    return ". ".join(p.rstrip(".") for p in parts if p) + "."


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


@dataclass
class Seeds:
    """One seed vector per code that guides the fit.

    Attributes:
        codes: the codes' paths, in the codebook's order.
        vectors: ``(k, d)`` unit vectors, row for row.
        n_passages: themed passages the researcher coded with each code.
        sources: what each seed is made of: ``"coded passages and words"`` or ``"words"``.
    """

    codes: list[str]
    vectors: np.ndarray
    n_passages: list[int]
    sources: list[str]

    def __len__(self) -> int:
        return len(self.codes)

    def record(self) -> list[dict]:
        """The seeds for themes.json: code, passages, source."""
        return [
            {"code": c, "coded_passages": n, "source": s}
            for c, n, s in zip(self.codes, self.n_passages, self.sources, strict=True)
        ]


def coded_chars(
    codebook, excerpts: Sequence, turns: pd.DataFrame, passages: pd.DataFrame
) -> pd.DataFrame:
    """How many characters of each passage the researcher coded with each code.

    Args:
        codebook: the :class:`~pipeline.coding.model.Codebook` (its paths are the columns).
        excerpts: the coded excerpts (:func:`~pipeline.coding.stage.read_researcher_coding`).
        turns: turns.parquet.
        passages: the themed passages (passage_id, interview_id, turn_index, passage_index,
            text), row for row with the vectors.

    Returns:
        ``(len(passages), len(codebook))`` characters coded, index = the passages' rows,
        columns = the code paths (an excerpt's characters count for each of its codes).
    """
    from ..coding.locate import locate

    paths = list(codebook.paths)
    out = pd.DataFrame(0, index=range(len(passages)), columns=paths, dtype=np.int64)
    if not excerpts or not len(passages):
        return out
    result = locate(excerpts, turns, passages)
    row_of = {str(p): i for i, p in enumerate(passages["passage_id"])}
    for ex, pid, chars in zip(
        result.overlaps["excerpt"], result.overlaps["passage_id"], result.overlaps["chars"]
    ):
        row = row_of.get(str(pid))
        if row is None:
            continue
        for code in dict.fromkeys(excerpts[int(ex)].codes):
            found = codebook.find(code)
            if found is not None:
                out.iat[row, paths.index(found.path)] += int(chars)
    return out


def main_codes(chars: pd.DataFrame) -> np.ndarray:
    """Each passage's code index (most characters, ties to the codebook's order), else -1."""
    values = chars.to_numpy()
    best = values.argmax(axis=1) if values.shape[1] else np.zeros(len(values), dtype=int)
    coded = values.max(axis=1) > 0 if values.shape[1] else np.zeros(len(values), dtype=bool)
    return np.where(coded, best, NONE).astype(int)


def make_seeds(
    codebook,
    chars: pd.DataFrame,
    embeddings: np.ndarray,
    text_vectors: np.ndarray,
    text_weight: float,
) -> Seeds:
    """The seed vector of every code that can guide (see the module's step 1).

    Args:
        codebook: the codebook (its codes in order, row for row with ``text_vectors``).
        chars: :func:`coded_chars` for the themed passages.
        embeddings: the themed passages' vectors.
        text_vectors: the vectors of each code's :func:`code_text`.
        text_weight: the weight of the code's words beside its coded passages' mean.

    Returns:
        The seeds, in the codebook's order.
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    texts = _unit(text_vectors)
    codes, vectors, counts, sources = [], [], [], []
    for j, code in enumerate(codebook):
        coded = chars[code.path].to_numpy() > 0
        n = int(coded.sum())
        if n == 0 and codebook.children(code.path):
            continue  # its children stand for it
        if n:
            mean = _unit(embeddings[coded].mean(axis=0))
            vectors.append(_unit(text_weight * texts[j] + (1 - text_weight) * mean))
            sources.append("coded passages and words")
        else:
            vectors.append(texts[j])
            sources.append("words")
        codes.append(code.path)
        counts.append(n)
    dim = embeddings.shape[1] if embeddings.ndim == 2 else 0
    matrix = np.array(vectors) if vectors else np.zeros((0, dim))
    return Seeds(codes, matrix, counts, sources)


@dataclass
class Guidance:
    """What guides one fit, and what it did.

    Attributes:
        seeds: the seeds.
        labels: per passage, the seed it was labelled with (:data:`NONE` for none).
        coded: per passage, the seed of the researcher's code (:data:`NONE`: not coded).
        vectors: the passages' vectors after the nudge (unit length).
        strength: the nudge's weight.
        source: where the codebook and coding came from.
        in_coded: per passage, whether it is from an interview the researcher coded (None:
            every passage is).
    """

    seeds: Seeds
    labels: np.ndarray
    coded: np.ndarray
    vectors: np.ndarray
    strength: float
    source: str = ""
    in_coded: np.ndarray | None = None

    @property
    def in_coded_interviews(self) -> np.ndarray:
        """Per passage, whether it is from an interview the researcher coded."""
        if self.in_coded is None:
            return np.ones(len(self.labels), dtype=bool)
        return np.asarray(self.in_coded, dtype=bool)

    @property
    def coded_rate(self) -> float | None:
        """The share of the coded interviews' themed passages the researcher coded, or None."""
        mask = self.in_coded_interviews
        if not mask.any() or not (self.coded != NONE).any():
            return None
        return float((self.coded[mask] != NONE).mean())

    @property
    def target(self) -> np.ndarray | None:
        """UMAP's semi-supervised target: the labels (-1: drawn to no seed), or None if none."""
        return self.labels if (self.labels != NONE).any() else None

    def summary(self) -> dict:
        """The counts for themes.json."""
        rate = self.coded_rate
        return {
            "n_seeds": len(self.seeds),
            "coded_passages": int((self.coded != NONE).sum()),
            "coded_interviews_rate": round(rate, 4) if rate is not None else None,
            "drawn_passages": int(((self.labels != NONE) & (self.coded == NONE)).sum()),
            "unguided_passages": int((self.labels == NONE).sum()),
        }


def guide(
    embeddings: np.ndarray,
    seeds: Seeds,
    coded: np.ndarray,
    strength: float,
    source: str = "",
    in_coded: np.ndarray | None = None,
) -> Guidance:
    """Label the passages with seeds and move their vectors toward them (the module's step 2).

    Args:
        embeddings: the themed passages' vectors, ``(n, d)``.
        seeds: the seeds.
        coded: per passage, the seed index of the researcher's code, or :data:`NONE`.
        strength: the nudge's weight in [0, 1].
        source: where the coding came from (recorded).
        in_coded: per passage, whether its interview was coded (None: every one was).

    Returns:
        The guidance; the input array is not changed.
    """
    original = np.asarray(embeddings)
    x = _unit(original)
    n = len(x)
    labels = np.full(n, NONE, dtype=int)
    if len(seeds) and n:
        sims = x @ seeds.vectors.T
        best = sims.argmax(axis=1)
        mean_sim = x @ _unit(x.mean(axis=0))
        labels = np.where(sims[np.arange(n), best] > mean_sim, best, NONE)
    coded = np.asarray(coded, dtype=int)
    labels = np.where(coded != NONE, coded, labels)
    moved = x.copy()
    drawn = labels != NONE
    if drawn.any():
        moved[drawn] = _unit((1 - strength) * x[drawn] + strength * seeds.vectors[labels[drawn]])
    return Guidance(seeds, labels, coded, moved.astype(original.dtype), strength, source, in_coded)


def seed_index(chars: pd.DataFrame, seeds: Seeds) -> np.ndarray:
    """Per passage, the seed index of the researcher's main code (:func:`main_codes`)."""
    main = main_codes(chars)
    row_of = {c: i for i, c in enumerate(seeds.codes)}
    columns = list(chars.columns)
    return np.array(
        [row_of.get(columns[m], NONE) if m != NONE else NONE for m in main.tolist()], dtype=int
    )


def prepare(
    codebook,
    excerpts: Sequence,
    turns: pd.DataFrame,
    passages: pd.DataFrame,
    embeddings: np.ndarray,
    embed: Callable[[list[str]], np.ndarray],
    strength: float,
    text_weight: float,
    source: str = "",
) -> Guidance:
    """Seeds from the codebook and coding, and the guidance of the themed passages.

    Args:
        codebook: the codebook.
        excerpts: the researcher's coded excerpts (may be empty: a codebook alone).
        turns: turns.parquet (to locate the excerpts).
        passages: the themed passages, row for row with ``embeddings``.
        embeddings: their vectors.
        embed: texts -> vectors, with the model that made ``embeddings``.
        strength: ``themes.guided_strength``.
        text_weight: ``themes.guided_text_weight``.
        source: where the coding came from.

    Returns:
        The guidance.
    """
    chars = coded_chars(codebook, excerpts, turns, passages)
    texts = [code_text(c) for c in codebook]
    text_vectors = np.asarray(embed(texts)) if texts else np.zeros((0, embeddings.shape[1]))
    seeds = make_seeds(codebook, chars, embeddings, text_vectors, text_weight)
    interviews = passages["interview_id"].astype(str).to_numpy()
    coded_interviews = set(interviews[chars.to_numpy().sum(axis=1) > 0].tolist())
    in_coded = np.array([i in coded_interviews for i in interviews], dtype=bool)
    return guide(embeddings, seeds, seed_index(chars, seeds), strength, source, in_coded)


def theme_codes(
    topics: Sequence[int], guidance: Guidance, embeddings: np.ndarray, outlier: int = -1
) -> list[dict]:
    """Which code each theme lines up with, or ``new`` (the module's step 4).

    A theme is new when no code covers it: fewer than :data:`NEW_BELOW` of its passages
    were labelled with a code (no seed draws them), or, with a coding, the researcher
    coded less than :data:`NEW_CODED_RATIO` times as large a share of its passages (in the
    interviews they coded) as of all the themed passages of those interviews.

    Args:
        topics: each passage's theme.
        guidance: the fit's guidance (its labels, the researcher's codes, the seeds).
        embeddings: the passages' own vectors (the theme's centroid is made of them).
        outlier: the outliers' theme id (not matched).

    Returns:
        One dict per theme, by theme id: ``theme_id``; ``kind`` (``"code"`` or ``"new"``);
        ``code`` (the code most of its passages were labelled with; None for a new theme,
        whose closest code is ``nearest_code``); ``match`` (that code's share of the
        theme's passages); ``similarity`` (cosine of the theme's centroid, made of the
        passages' own vectors, to that code's seed); ``coverage`` (the share labelled with
        any code); ``coded_passages`` (its passages the researcher coded), ``coded_share``
        (the share of those coded with that code; None when none is); ``coded_rate`` (the
        share of its passages in the coded interviews that the researcher coded; None
        without a coding); for a new theme, ``why``: ``"not coded"`` (the coded-rate rule)
        or ``"no code draws it"`` (the coverage rule).
    """
    labels = guidance.labels
    topics_arr = np.asarray(topics, dtype=int)
    x = _unit(embeddings)
    seeds = guidance.seeds
    is_coded = guidance.coded != NONE
    in_coded = guidance.in_coded_interviews
    overall = guidance.coded_rate
    out = []
    for t in sorted(set(topics_arr.tolist()) - {outlier}):
        mine = topics_arr == t
        size = int(mine.sum())
        counts = np.bincount(labels[mine][labels[mine] != NONE], minlength=len(seeds))
        coverage = float(counts.sum()) / size if size else 0.0
        centroid = _unit(x[mine].mean(axis=0))
        sims = seeds.vectors @ centroid if len(seeds) else np.zeros(0)
        coded = guidance.coded[mine]
        n_coded = int(is_coded[mine].sum())
        judged = mine & in_coded
        rate = float(is_coded[judged].mean()) if overall and judged.any() else None
        if counts.sum():
            best = int(counts.argmax())
        elif len(sims):
            best = int(sims.argmax())
        else:
            best = None
        why = None
        if best is None or coverage < NEW_BELOW:
            why = "no code draws it"
        elif rate is not None and rate < NEW_CODED_RATIO * overall:
            why = "not coded"
        code = seeds.codes[best] if best is not None else None
        row: dict = {"theme_id": int(t), "kind": "code" if why is None else "new"}
        row["code"] = code if why is None else None
        if why is not None:
            row["nearest_code"] = code
        row.update(
            match=round(float(counts[best]) / size, 4) if best is not None else 0.0,
            similarity=round(float(sims[best]), 4) if best is not None else None,
            coverage=round(coverage, 4),
            coded_passages=n_coded,
            coded_share=(
                round(float((coded == best).sum()) / n_coded, 4)
                if n_coded and best is not None
                else None
            ),
            coded_rate=round(rate, 4) if rate is not None else None,
        )
        if why is not None:
            row["why"] = why
        out.append(row)
    return out


def guided_notes(matches: list[dict], seeds: Seeds) -> list[str]:
    """What themes.json ``notes`` say of a guided fit: which themes are new, codes unmatched.

    Args:
        matches: :func:`theme_codes`.
        seeds: the seeds.

    Returns:
        A sentence on the themes no code covers (or that every theme lines up with a code),
        and one on the codes no theme lines up with, if any.
    """
    new = [m["theme_id"] for m in matches if m["kind"] == "new"]
    n = len(seeds)
    guided = f"The themes were guided by {n} code{'s' if n != 1 else ''} of the codebook"
    if new:
        ids = ", ".join(str(t) for t in new)
        one = len(new) == 1
        notes = [
            f"{guided}; theme{'' if one else 's'} {ids} {'is' if one else 'are'} new: no code "
            f"covers {'it' if one else 'them'} (themes.json guided.themes)."
        ]
    else:
        notes = [f"{guided}; every theme lines up with a code (themes.json guided.themes)."]
    matched = {m["code"] for m in matches if m["kind"] == "code"}
    unmatched = [c for c in seeds.codes if c not in matched]
    if unmatched:
        notes.append(
            f"No theme lines up with {len(unmatched)} of the {n} codes: "
            + "; ".join(unmatched)
            + "."
        )
    return notes


def from_config(
    out_dir: Path,
    config: Config,
    passages: pd.DataFrame,
    embeddings: np.ndarray,
    embed: Callable[[list[str]], np.ndarray],
) -> tuple[Guidance | None, str]:
    """The guidance ``themes.guided`` asks for, from the coding settings, or why there is none.

    Args:
        out_dir: the output folder (turns.parquet is read when guided).
        config: the effective configuration (``themes.guided*``, ``coding.file``,
            ``coding.codebook``, ``coding.from_turns``).
        passages: the themed passages, row for row with ``embeddings``.
        embeddings: their vectors.
        embed: texts -> vectors, with the model that made ``embeddings``.

    Returns:
        ``(guidance, "")``, or ``(None, reason)`` when the fit is not guided.

    Raises:
        ValueError: ``themes.guided: on`` with no codebook or coding, or a coding file that
            cannot be read.
    """
    from ..coding.model import CodingFormatError
    from ..coding.stage import read_researcher_coding
    from ..core.catalog import load

    cfg = config.themes
    if cfg.guided == "off":
        return None, "themes.guided is off"
    turns = load("turns", out_dir)
    try:
        given = read_researcher_coding(config, turns)
    except CodingFormatError as exc:
        raise ValueError(str(exc)) from None
    if given is None or not len(given[0]):
        reason = "no codebook or coding given (coding.file, coding.codebook, coding.from_turns)"
        if cfg.guided == "on":
            raise ValueError(f"themes.guided is on but there is {reason}")
        return None, reason
    codebook, excerpts, source = given
    guidance = prepare(
        codebook,
        excerpts,
        turns,
        passages,
        embeddings,
        embed,
        cfg.guided_strength,
        cfg.guided_text_weight,
        source,
    )
    if not len(guidance.seeds):
        return None, f"{source}: no code to seed the themes with"
    counts = guidance.summary()
    log.info(
        "themes guided by %d codes from %s: %d passages coded, %d drawn to a code, %d not",
        counts["n_seeds"],
        source,
        counts["coded_passages"],
        counts["drawn_passages"],
        counts["unguided_passages"],
    )
    return guidance, ""
