"""Alias normalisation: the key under which surface forms are looked up in the knowledge base."""

from __future__ import annotations

import re
import unicodedata

_DROP = re.compile(r"[.'’`]")
_SPACE = re.compile(r"[\W_]+", re.UNICODE)


def normalize_alias(text: str) -> str:
    """Case-folded, accent-free, punctuation-free form: "U.S." → "us", "Zürich" → "zurich".

    Periods and apostrophes are removed (so "U.S." meets "US"); other punctuation separates words.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", _DROP.sub("", bare.casefold())).strip()
