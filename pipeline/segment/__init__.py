"""Sections: which part of the interview guide each turn and passage belongs to.

:mod:`.guide` reads and validates guides (YAML; the built-in one is ``guides/default.yaml``);
:mod:`.evidence` gathers the evidence and decodes each conversation; :mod:`.stage` runs it.
"""

from ..core.registry import runner
from .evidence import (
    Evidence,
    GuideVectors,
    TurnSimilarity,
    cue_counts,
    decode,
    emission,
    gather_evidence,
    heading_section,
    posteriors,
    start_scores,
    transition_matrix,
    transitions,
    turn_similarities,
    viterbi,
)
from .guide import DEFAULT_GUIDE, Guide, GuideError, Section, load_guide

run = runner("segment")

__all__ = [
    "DEFAULT_GUIDE",
    "Evidence",
    "Guide",
    "GuideError",
    "GuideVectors",
    "TurnSimilarity",
    "Section",
    "cue_counts",
    "decode",
    "emission",
    "gather_evidence",
    "heading_section",
    "load_guide",
    "posteriors",
    "run",
    "start_scores",
    "transition_matrix",
    "transitions",
    "turn_similarities",
    "viterbi",
]
