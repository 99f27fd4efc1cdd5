"""Predictions as a person reads them: each entity with its mentions, type, QID and label, each fact with
the names of its head, relation and tail. ``rexel-bench show`` prints it; ``rexel_bench.readable`` returns it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rexel_bench.data.model import Document, Entity
from rexel_bench.data.relations import docred_relations


def entity_name(entity: Entity) -> str:
    """An entity's most frequent mention text (ties: the first)."""
    texts = [m.text for m in entity.mentions]
    return max(texts, key=texts.count) if texts else ""


def readable(doc: Document, label: Callable[[str], str | None] = lambda qid: None) -> dict[str, Any]:
    """One document's entities and facts with names: ``label`` gives a QID's label (e.g. the KB's), else the
    entity's most frequent mention names it; relation ids are named from DocRED's inventory where known."""
    names = docred_relations()
    entities = [{"entity": i, "name": entity_name(e), "type": e.type, "qid": e.qid,
                 "label": (label(e.qid) if e.qid else None) or (entity_name(e) if e.qid else None),
                 "mentions": [m.text for m in e.mentions]} for i, e in enumerate(doc.entities)]
    facts = [{"head": entities[r.head]["name"], "head_qid": entities[r.head]["qid"], "relation": r.label,
              "relation_name": names.get(r.label, r.label), "tail": entities[r.tail]["name"],
              "tail_qid": entities[r.tail]["qid"], "score": r.score} for r in doc.relations]
    return {"id": doc.id, "title": doc.title, "entities": entities, "facts": facts}


def readable_all(docs: Sequence[Document], label: Callable[[str], str | None] = lambda qid: None
                 ) -> list[dict[str, Any]]:
    """:func:`readable` of every document."""
    return [readable(d, label) for d in docs]
