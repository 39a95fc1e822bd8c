"""Researchers' codebooks and coding: reading and writing their formats.

Pure functions over files, with no dependency on the rest of the pipeline:

- :mod:`.model`: :class:`Code`, :class:`Codebook`, :class:`CodedExcerpt`.
- :mod:`.importers`: coded-excerpts and codebook CSV, YAML codebooks, Taguette (highlights
  CSV export and project database), REFI-QDA ``.qdpx`` / ``.qdc``; :func:`read_coding`
  picks the reader.
- :mod:`.exporters`: REFI-QDA ``.qdpx`` (sources, human and machine-suggested coding,
  themes as code sets) and ``.qdc``, and a coded-excerpts CSV.
"""

from .exporters import Selection, write_coded_csv, write_qdc, write_qdpx
from .importers import (
    read_codebook,
    read_codebook_csv,
    read_codebook_yaml,
    read_coding,
    read_excerpts_csv,
    read_qdc,
    read_qde,
    read_qdpx,
    read_qdpx_sources,
    read_taguette_csv,
    read_taguette_sqlite,
)
from .model import Code, Codebook, CodedExcerpt, CodingFormatError

__all__ = [
    "Code",
    "Codebook",
    "CodedExcerpt",
    "CodingFormatError",
    "Selection",
    "read_codebook",
    "read_codebook_csv",
    "read_codebook_yaml",
    "read_coding",
    "read_excerpts_csv",
    "read_qdc",
    "read_qde",
    "read_qdpx",
    "read_qdpx_sources",
    "read_taguette_csv",
    "read_taguette_sqlite",
    "write_coded_csv",
    "write_qdc",
    "write_qdpx",
]
