"""Tokenisation and sentence splitting of raw text, keeping character offsets.

Used for DWIE articles (mentions given as character offsets) and for users' raw text in
``rexel-bench predict``. Tokens are runs of word characters or single other non-space characters
(the Penn-style split DocRED's tokens roughly follow); sentences end after ``.``, ``!`` or ``?``
followed by whitespace and an upper-case letter, digit or quote, or at a blank line. No boundary
is placed inside a protected span (an annotated mention).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from rexel_bench.data.model import Document

#: Characters that take no room (zero-width spaces and joiners, direction marks and overrides, the byte-order
#: mark): never a token of their own, never inside one, so that no mention or entity is invisible or reversed.
INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_TOKEN = re.compile(rf"\w+(?:[-'’.]\w+)*|[^\w\s{INVISIBLE}]", re.UNICODE)
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "sen", "gen", "gov", "rep", "jr", "sr", "vs", "no",
                            "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct", "nov", "dec", "inc", "co",
                            "corp", "ltd", "mt", "ft", "lt", "col", "capt", "sgt", "rev", "fig", "etc", "e.g", "i.e"})
_LAST_WORD = re.compile(r"([\w.]+)\.$")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*\n")


@dataclass(frozen=True)
class TokenisedText:
    """Sentences of tokens with each token's character span, and the inverse look-up."""

    sentences: tuple[tuple[str, ...], ...]
    spans: tuple[tuple[tuple[int, int], ...], ...]

    @cached_property
    def _flat(self) -> tuple[list[tuple[int, int, tuple[int, int]]], list[int]]:
        flat = [(s, t, span) for s, sent in enumerate(self.spans) for t, span in enumerate(sent)]
        return flat, [span[0] for _, _, span in flat]

    def locate(self, begin: int, end: int) -> tuple[int, int, int] | None:
        """Token span ``(sentence, start, end)`` covering characters ``[begin, end)``; None if outside.

        A mention that starts or ends inside a token covers that whole token.
        """
        flat, starts = self._flat
        first = bisect.bisect_right(starts, begin) - 1
        if first < 0 or flat[first][2][1] <= begin:
            first += 1
        last = bisect.bisect_left(starts, end) - 1
        if first >= len(flat) or last < first or end <= begin:
            return None
        (s1, t1, _), (s2, t2, _) = flat[first], flat[last]
        if s1 != s2:
            return None
        return s1, t1, t2 + 1


def _is_abbreviation(before: str) -> bool:
    """Whether text ending in a period ends with an abbreviation (Mr., St., U.S., J.) rather than a sentence."""
    found = _LAST_WORD.search(before)
    if not found:
        return False
    word = found.group(1).lower()
    return word in _ABBREVIATIONS or len(word.replace(".", "")) == 1 or "." in word


def sentence_boundaries(text: str, protected: Iterable[tuple[int, int]] = ()) -> list[int]:
    """Character offsets where new sentences start, none inside a protected ``[begin, end)`` span."""
    blocked = [(b, e) for b, e in protected if isinstance(b, int) and isinstance(e, int)]
    cuts = []
    for match in _SENTENCE_END.finditer(text):
        cut = match.end()
        if _is_abbreviation(text[max(0, match.start() - 12): match.start() + 1]):
            continue
        if not any(b < cut < e for b, e in blocked):
            cuts.append(cut)
    return cuts


def document_from_text(doc_id: str, title: str, text: str) -> Document:
    """A document with sentences and tokens from raw text, and no annotation (what a model predicts on)."""
    return Document(id=doc_id, title=title, sentences=tokenize_with_offsets(text).sentences, meta={"format": "jsonl"})


def tokenize_with_offsets(text: str, protected: Iterable[tuple[int, int]] = ()) -> TokenisedText:
    """Split text into sentences of tokens, keeping each token's character span."""
    cuts = sentence_boundaries(text, protected)
    sentences: list[list[str]] = [[]]
    spans: list[list[tuple[int, int]]] = [[]]
    next_cut = 0
    for match in _TOKEN.finditer(text):
        while next_cut < len(cuts) and match.start() >= cuts[next_cut]:
            next_cut += 1
            if sentences[-1]:
                sentences.append([])
                spans.append([])
        sentences[-1].append(match.group())
        spans[-1].append(match.span())
    if not sentences[-1]:
        sentences.pop()
        spans.pop()
    return TokenisedText(tuple(tuple(s) for s in sentences), tuple(tuple(s) for s in spans))
