"""Ingest stage: readers per format -> one table of turns with speakers, roles and languages."""

from ..core.registry import runner
from .stage import IngestResult, NothingIngested, discover

run = runner("ingest")

__all__ = ["IngestResult", "NothingIngested", "discover", "run"]
