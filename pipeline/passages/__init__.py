"""Passages, the unit of analysis: interviewee speech in windows of 1-3 sentences, questions whole.

:mod:`.build` cuts turns into passages (pure); :mod:`.stage` reads and writes them.
"""

from ..core.registry import runner
from .build import MAX_CHUNK_CHARS, PLACEHOLDER_RE, build_passages, split_for_nlp

run = runner("passages")

__all__ = ["MAX_CHUNK_CHARS", "PLACEHOLDER_RE", "build_passages", "run", "split_for_nlp"]
