"""Offline language detection per conversation (lingua, no network)."""

from __future__ import annotations

from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

from .clean import CJK_RE

UNDETERMINED = "und"
_SAMPLE_CHARS = 4000


@lru_cache(maxsize=4)
def _detector(codes: tuple[str, ...]):
    languages = []
    for code in codes:
        try:
            languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError):
            raise ValueError(f"ingest.languages: unknown ISO 639-1 code {code!r}") from None
    if len(languages) < 2:
        raise ValueError("ingest.languages: give at least two languages to choose among")
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect_language(text: str, codes: list[str] | tuple[str, ...]) -> tuple[str, float]:
    """The language of a text, among the configured ones.

    Args:
        text: the text to judge (only its first few thousand characters are read).
        codes: ISO 639-1 codes to choose among (``ingest.languages``), at least two.

    Returns:
        ``(ISO 639-1 code, confidence 0..1)``; ``("und", 0.0)`` when there is too little text
        (under 20 characters, or under 6 for Chinese or Japanese).
    """
    sample = " ".join(text.split())[:_SAMPLE_CHARS]
    # Chinese and Japanese say in 6 characters what alphabets say in 20.
    if len(sample) < 20 and len(CJK_RE.findall(sample)) < 6:
        return UNDETERMINED, 0.0
    values = _detector(tuple(codes)).compute_language_confidence_values(sample)
    if not values:
        return UNDETERMINED, 0.0
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), round(float(best.value), 4)


def language_name(code: str) -> str:
    """The English name of a language ("zh" -> "Chinese"), or the code when it is unknown.

    Args:
        code: an ISO 639-1 code.

    Returns:
        The name, title-cased; "Undetermined" for ``und``.
    """
    if code == UNDETERMINED:
        return "Undetermined"
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())).name.title()
    except (AttributeError, ValueError):
        return code
