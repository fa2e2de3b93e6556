"""Text normalisation for matching what officers type: case, spacing and diacritics."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, collapse spaces and drop Vietnamese diacritics ("Không có" → "khong co")."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(bare.split())
