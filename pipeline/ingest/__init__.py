"""Ingest stage: readers per format -> one table of turns."""

from .stage import IngestResult, NothingIngested, run

__all__ = ["IngestResult", "NothingIngested", "run"]
