"""What an uploaded file really is, read from its bytes, and a name safe to keep. Pure.

The content type a client declares is not believed: a file is a PDF, PNG or JPEG when it
starts with that format's signature, and text when it is UTF-8 without control
characters. Text is CSV when its name or declared type says so (CSV has no signature).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

PDF: Final = "application/pdf"
PNG: Final = "image/png"
JPEG: Final = "image/jpeg"
TEXT: Final = "text/plain"
CSV: Final = "text/csv"

ALLOWED: Final = (PDF, PNG, JPEG, TEXT, CSV)

EXTENSIONS: Final = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", TEXT: ".txt", CSV: ".csv"}

_SIGNATURES: Final = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
# Control characters other than tab, line feed, form feed and carriage return.
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_UTF8_BOM: Final = b"\xef\xbb\xbf"


def sniff(data: bytes, *, filename: str = "", declared: str | None = None) -> str | None:
    """The content type of ``data`` among ``ALLOWED``, or ``None`` for anything else."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if not data or not _is_text(data):
        return None
    declared_type = (declared or "").split(";")[0].strip().lower()
    if filename.lower().endswith(".csv") or declared_type == CSV:
        return CSV
    return TEXT


def _is_text(data: bytes) -> bool:
    try:
        text = data.removeprefix(_UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CONTROL.search(text) is None


MAX_NAME_LENGTH: Final = 255


def printable(name: str | None) -> str | None:
    """``name`` without control characters, at most 255 characters; ``None`` if empty."""
    if name is None:
        return None
    kept = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    return kept[:MAX_NAME_LENGTH] or None


def safe_filename(name: str | None, fallback: str) -> str:
    """``name`` without directories, control characters or leading dots, at most 255
    characters (the extension kept); ``fallback`` when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(char for char in base if unicodedata.category(char)[0] != "C")
    cleaned = cleaned.strip().lstrip(".").strip()
    if not cleaned:
        return fallback
    if len(cleaned) <= MAX_NAME_LENGTH:
        return cleaned
    stem, dot, extension = cleaned.rpartition(".")
    if not dot or len(extension) > 10:
        return cleaned[:MAX_NAME_LENGTH]
    return stem[: MAX_NAME_LENGTH - len(extension) - 1] + "." + extension
