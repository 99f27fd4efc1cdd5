"""Predictions written by people: a prediction line may leave out what the gold document already has.

A line of the toolkit's JSONL must normally repeat the document's sentences and each mention's text. Scored
against gold, a prediction may instead give only what the system predicted::

    {"id": "Skai TV", "entities": [{"mentions": [{"sent": 0, "start": 0, "end": 2}], "type": "ORG",
     "qid": "Q7536"}, ...], "relations": [{"head": 0, "tail": 1, "label": "P17"}]}

- ``schema_version``, ``title`` and ``sentences`` come from the gold document, found by ``id`` or, failing
  that, by ``title``;
- a mention's ``text`` comes from the gold tokens it covers;
- a mention may be given by character offsets instead, ``"char_span": [begin, end]`` into the document's text,
  which is its tokens joined by single spaces (sentences too): DocRED-style data keeps no other text;
- ``"qid": null`` means NIL (no link), like leaving ``qid`` out.

:func:`complete_record` turns such a line into the full format, which is then read and checked as any other;
a line that already is complete is left as it is.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from rexel_bench.data.formats import triples
from rexel_bench.data.model import Document
from rexel_bench.errors import PredictionError


def document_text(doc: Document) -> str:
    """The text character offsets of a prediction refer to: the tokens joined by single spaces."""
    return " ".join(" ".join(sentence) for sentence in doc.sentences)


def _token_starts(doc: Document) -> tuple[list[int], list[tuple[int, int, int, int]]]:
    """Character start of every token of :func:`document_text`, and (start, end, sentence, token) of each."""
    starts, spans, offset = [], [], 0
    for s, sentence in enumerate(doc.sentences):
        for t, token in enumerate(sentence):
            starts.append(offset)
            spans.append((offset, offset + len(token), s, t))
            offset += len(token) + 1
    return starts, spans


class GoldIndex:
    """The gold documents by id and by title, to complete the predictions that name them."""

    def __init__(self, gold: Sequence[Document]) -> None:
        self.by_id = {d.id: d for d in gold}
        self.by_title = {d.title: d for d in gold}
        self._starts: dict[str, tuple[list[int], list[tuple[int, int, int, int]]]] = {}

    def find(self, record: Mapping[str, Any]) -> Document | None:
        """The gold document a record predicts: by id, else by title."""
        doc_id, title = record.get("id"), record.get("title")
        if isinstance(doc_id, str) and doc_id in self.by_id:
            return self.by_id[doc_id]
        return self.by_title.get(title) if isinstance(title, str) else None

    def token_span(self, doc: Document, begin: int, end: int) -> tuple[int, int, int] | None:
        """(sentence, start, end) of the whole tokens covering characters [begin, end), or None."""
        if doc.id not in self._starts:
            self._starts[doc.id] = _token_starts(doc)
        starts, spans = self._starts[doc.id]
        first = bisect.bisect_left(starts, begin)
        if first == len(starts) or starts[first] != begin:
            return None
        last = first
        while last < len(spans) and spans[last][1] < end:
            last += 1
        if last == len(spans) or spans[last][1] != end or spans[last][2] != spans[first][2]:
            return None
        return spans[first][2], spans[first][3], spans[last][3] + 1


def is_complete(record: Any) -> bool:
    """Whether a line already has everything the full format needs (nothing to fill from the gold)."""
    if not isinstance(record, dict) or "schema_version" not in record or "sentences" not in record:
        return False
    for entity in _list(record.get("entities")):
        if isinstance(entity, dict) and entity.get("qid", "") is None:
            return False
        for mention in _list(entity.get("mentions") if isinstance(entity, dict) else None):
            if isinstance(mention, dict) and ("text" not in mention or mention.get("qid", "") is None):
                return False
    return True


def _list(value: Any) -> list:
    """A list field as it is, anything else as empty (the reader then names what is wrong with it)."""
    return value if isinstance(value, list) else []


def complete_record(record: Any, gold: GoldIndex, *, file: str, index: int) -> Any:
    """A prediction line in the full format, what it leaves out taken from its gold document (see the module's
    text); lines that are complete, not objects, or of no gold document are returned as they are (the reader
    and the scorer then say what is wrong with them)."""
    if is_complete(record) or not isinstance(record, dict):
        return record
    doc = gold.find(record)
    if doc is None:
        return record
    if triples.looks_like(record):  # facts between QIDs only: the gold document gives the id and title
        return {**record, "id": doc.id, "title": doc.title}
    full = {"schema_version": 1, "title": doc.title, "sentences": [list(s) for s in doc.sentences],
            "entities": [], "relations": [], **record, "id": doc.id}
    full["entities"] = [_entity(e, doc, gold, file, index, f"entities[{i}]") if isinstance(e, dict) else e
                        for i, e in enumerate(full["entities"])] if isinstance(full["entities"], list) \
        else full["entities"]
    return full


def _entity(entity: dict, doc: Document, gold: GoldIndex, file: str, index: int, where: str) -> dict:
    out = {k: v for k, v in entity.items() if not (k == "qid" and v is None)}
    mentions = out.get("mentions")
    if isinstance(mentions, list):
        out["mentions"] = [_mention(m, doc, gold, file, index, f"{where}.mentions[{j}]") if isinstance(m, dict) else m
                           for j, m in enumerate(mentions)]
    return out


def _mention(mention: dict, doc: Document, gold: GoldIndex, file: str, index: int, where: str) -> dict:
    out = {k: v for k, v in mention.items() if not (k == "qid" and v is None)}
    span = out.get("char_span")
    if "sent" not in out and span is not None:
        located = None
        if isinstance(span, list) and len(span) == 2 and all(v.__class__ is int for v in span):
            located = gold.token_span(doc, span[0], span[1])
        if located is None:
            raise PredictionError("", file=file, doc_index=index, doc_title=doc.title, field=f"{where}.char_span",
                                  expected="[begin, end) character offsets of whole tokens of one sentence in the "
                                           "document's text (its tokens joined by single spaces)", found=repr(span))
        out["sent"], out["start"], out["end"] = located
    sent, start, end = out.get("sent"), out.get("start"), out.get("end")
    if "text" not in out and all(v.__class__ is int for v in (sent, start, end)) and 0 <= sent < len(doc.sentences):
        out["text"] = " ".join(doc.sentences[sent][start:end])
    return out
