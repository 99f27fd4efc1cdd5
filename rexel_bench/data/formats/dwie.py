"""DWIE in its original form (Zaporojets et al. 2021): one JSON file per document.

A file holds ``id``, ``content`` (the article text; absent from the public annotation release),
``tags`` (the split: ``train``/``test``), ``mentions`` (character offsets ``begin``/``end``, ``text``,
``concept``, Wikipedia ``candidates`` with prior ``scores``), ``concepts`` (``link``, multi-label
``tags``), ``relations`` (``s``, ``p``, ``o`` over concepts), ``frames`` and ``iptc``.

With ``content``, the text is tokenised (:mod:`rexel_bench.data.text`) and every mention mapped to
tokens. Without it (annotations-only mode) the document keeps its mentions with character offsets
and no tokens: ``Document.has_text`` is False and the loader says so. Concepts without mentions are
kept as entities without mentions, since relations refer to them. An entity's coarse type is its
first ``type::`` tag in :data:`COARSE_TYPES` order, its QID is unknown (DWIE links to Wikipedia).
"""

from __future__ import annotations

from typing import Any

from rexel_bench.data.formats.common import Where, rest
from rexel_bench.data.model import NO_TEXT, Document, Entity, Mention, Relation
from rexel_bench.data.text import tokenize_with_offsets

NAME = "dwie"
#: Coarse DWIE types, most specific entity classes first; the first matching tag is the entity's type.
COARSE_TYPES = ("person", "organization", "location", "event", "ethnicity", "role", "time", "money", "value",
                "language", "misc", "other")
_DOC_KEYS = frozenset({"id", "content", "mentions", "concepts", "relations"})
_MENTION_KEYS = frozenset({"begin", "end", "text", "concept"})
_CONCEPT_KEYS = frozenset({"concept", "link", "tags"})


def looks_like(raw_doc: Any) -> bool:
    """Whether a raw document is an original DWIE file."""
    return isinstance(raw_doc, dict) and "concepts" in raw_doc and "mentions" in raw_doc


def coarse_type(tags: list[str]) -> str | None:
    """The entity's coarse type from its DWIE tags (``type::person`` → ``person``)."""
    present = {t.split("::", 1)[1] for t in tags if t.startswith("type::")}
    return next((t for t in COARSE_TYPES if t in present), None)


def parse(raw_doc: Any, index: int) -> Document:
    """Read one DWIE file's object; with ``content`` tokenise it, else keep character offsets."""
    where = Where(index)
    doc_id = where.get(raw_doc, "id", str, "id")
    where = Where(index, doc_id)
    content = where.get(raw_doc, "content", str, "content", optional=True)
    concepts = where.get(raw_doc, "concepts", list, "concepts")
    order = {where.get(c, "concept", int, f"concepts[{i}].concept"): i for i, c in enumerate(concepts)}
    grouped: list[list[Mention]] = [[] for _ in concepts]
    raw_mentions = where.get(raw_doc, "mentions", list, "mentions")
    protected = [(m.get("begin"), m.get("end")) for m in raw_mentions if isinstance(m, dict)]
    tokenised = tokenize_with_offsets(content, protected) if content is not None else None
    for i, m in enumerate(raw_mentions):
        field = f"mentions[{i}]"
        begin = where.get(m, "begin", int, f"{field}.begin")
        end = where.get(m, "end", int, f"{field}.end")
        concept = where.get(m, "concept", int, f"{field}.concept")
        if concept not in order:
            raise where.fail(f"{field}.concept", "the id of a concept of this document", concept)
        sent = start = stop = NO_TEXT
        if tokenised is not None:
            located = tokenised.locate(begin, end)
            if located is None:
                raise where.fail(f"{field}.begin", f"character offsets inside the content ({len(content or '')} chars)",
                                 [begin, end])
            sent, start, stop = located
        grouped[order[concept]].append(Mention(
            sent=sent, start=start, end=stop, text=where.get(m, "text", str, f"{field}.text"),
            char_span=(begin, end), extra=rest(m, _MENTION_KEYS) | {"_position": i},
        ))
    entities = []
    for i, c in enumerate(concepts):
        tags = where.get(c, "tags", list, f"concepts[{i}].tags", optional=True, default=[])
        link = c.get("link")
        entities.append(Entity(mentions=tuple(grouped[i]), type=coarse_type(tags), tags=tuple(tags),
                               link=link if isinstance(link, str) else None, extra=rest(c, _CONCEPT_KEYS - {"link"})))
    relations = []
    for i, r in enumerate(where.get(raw_doc, "relations", list, "relations", optional=True, default=[])):
        ends = []
        for key in ("s", "o"):
            value = where.get(r, key, int, f"relations[{i}].{key}")
            if value not in order:
                raise where.fail(f"relations[{i}].{key}", "the id of a concept of this document", value)
            ends.append(order[value])
        relations.append(Relation(head=ends[0], tail=ends[1], label=where.get(r, "p", str, f"relations[{i}].p"),
                                  evidence=None, extra=rest(r, {"s", "p", "o"})))
    sentences = tokenised.sentences if tokenised is not None else ()
    meta = {"format": NAME, "content": content, "concept_ids": list(order), "extra": rest(raw_doc, _DOC_KEYS)}
    return Document(id=doc_id, title=doc_id, sentences=sentences, entities=tuple(entities),
                    relations=tuple(relations), meta=meta)


def dump(doc: Document) -> dict[str, Any]:
    """Write one document as an original DWIE file (mention order and concept ids as read)."""
    concept_ids = doc.meta.get("concept_ids") or list(range(len(doc.entities)))
    mentions = []
    for e, ent in enumerate(doc.entities):
        for m in ent.mentions:
            extra = dict(m.extra)
            position = extra.pop("_position", len(mentions))
            begin, end = m.char_span if m.char_span else (None, None)
            record = {"begin": begin, "end": end, "text": m.text, "concept": concept_ids[e], **extra}
            mentions.append((position, record))
    concepts = []
    for e, ent in enumerate(doc.entities):
        extra = dict(ent.extra)
        concept = {"concept": concept_ids[e], **extra}
        if ent.link is not None or "link" in extra:
            concept["link"] = ent.link
        concepts.append(concept | {"tags": list(ent.tags)})
    out: dict[str, Any] = {"id": doc.id}
    if doc.meta.get("content") is not None:
        out["content"] = doc.meta["content"]
    out["mentions"] = [m for _, m in sorted(mentions, key=lambda pm: pm[0])]
    out["concepts"] = concepts
    out["relations"] = [{"s": concept_ids[r.head], "p": r.label, "o": concept_ids[r.tail], **r.extra}
                        for r in doc.relations]
    out.update(doc.meta.get("extra", {}))
    return out
