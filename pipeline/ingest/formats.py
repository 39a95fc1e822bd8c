"""The registry of readers: file extension -> function(bytes) -> ReadResult."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ..core.config import IngestConfig
from .docx_reader import read_docx_file
from .model import ReadResult
from .odt_reader import read_odt_file
from .pdf_reader import read_pdf_file
from .subtitle_reader import read_subtitle_file
from .table_reader import read_csv_file, read_jsonl_file
from .text_reader import read_text_file

Reader = Callable[..., ReadResult]


def readers(config: IngestConfig) -> dict[str, Reader]:
    """The reader of each supported file extension.

    Args:
        config: the ingest settings (the .docx unpacking limits, also used for .odt).

    Returns:
        Extension (lower case, with the dot) -> ``reader(data, *, name) -> ReadResult``.
    """
    docx = partial(
        read_docx_file,
        max_uncompressed_mb=config.max_docx_uncompressed_mb,
        max_ratio=config.max_docx_ratio,
    )
    odt = partial(
        read_odt_file,
        max_uncompressed_mb=config.max_docx_uncompressed_mb,
        max_ratio=config.max_docx_ratio,
    )
    return {
        ".txt": read_text_file,
        ".md": read_text_file,
        ".markdown": read_text_file,
        ".docx": docx,
        ".odt": odt,
        ".pdf": read_pdf_file,
        ".vtt": read_subtitle_file,
        ".srt": read_subtitle_file,
        ".csv": read_csv_file,
        ".jsonl": read_jsonl_file,
        ".ndjson": read_jsonl_file,
    }


SUPPORTED = tuple(readers(IngestConfig()))
