"""Bytes to text, coping with the encodings real exports come in."""

from __future__ import annotations

import codecs
import unicodedata

from .model import FailFile, SkipFile

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = {"\n", "\r", "\t", "\f", "\v"}


def _guess_bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as zero bytes in every other position."""
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even_zero = sample[0::2].count(0) / len(sample[0::2])
    odd_zero = sample[1::2].count(0) / len(sample[1::2])
    if odd_zero > 0.4 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.4 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> tuple[str, str, list[str]]:
    """Decode a text file's bytes, whatever common encoding it was saved in.

    A byte-order mark decides first; NUL bytes mean UTF-16 without one (or binary);
    otherwise UTF-8, falling back to cp1252 and then latin-1 with a warning. Line
    endings become ``\n`` and the text is NFC-normalised.

    Args:
        data: the file's bytes.

    Returns:
        ``(text, encoding, warnings)``.

    Raises:
        SkipFile: the file is empty or only whitespace.
        FailFile: it looks like binary data, or its declared encoding does not decode.
    """
    warnings: list[str] = []
    if not data.strip():
        raise SkipFile("empty file")
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data:
        encoding = _guess_bomless_utf16(data)
        if encoding is None:
            raise FailFile("looks like binary data, not text (contains NUL bytes)")
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise FailFile(
                f"declared {encoding} but cannot be decoded: {exc.reason} at byte {exc.start}"
            ) from None
    else:
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as exc:
            bad_at = exc.start
            try:
                text = data.decode("cp1252")
                encoding = "cp1252"
            except UnicodeDecodeError:
                text = data.decode("latin-1")
                encoding = "latin-1"
            warnings.append(
                f"not valid UTF-8 (first bad byte at offset {bad_at}); decoded as {encoding}"
            )
    text = text.lstrip("\ufeff")
    controls = sum(
        1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS
    )
    if text and controls / len(text) > 0.02:
        raise FailFile(f"looks like binary data, not text ({controls} control characters)")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise SkipFile("empty file (only whitespace)")
    return text, encoding, warnings
