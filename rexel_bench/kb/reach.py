"""What a knowledge base lets a system link at all, so that a linked score separates the KB from the system.

With a KB that cannot return an entity for any of its mentions, no system can link it, and no fact that
involves it can be a correct linked fact. For the KB each document was linked with, this module counts:

- the **ceiling**: the share of gold linked entities whose QID is a candidate of at least one of their mentions
  (``KnowledgeBase.candidates``, exact then fuzzy, up to :data:`CEILING_K` candidates), and the share of gold
  linked facts whose two ends are such entities: the most any system can link with this KB;
- **candidate recall@k**: the share of gold linked mentions whose QID is among the top k candidates of their text;
- **linked F1 on the reachable facts**: the system's precision, with recall over the reachable gold facts only:
  how well the system links where the KB gives it the chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rexel_bench.data.model import Document
from rexel_bench.kb.store import KnowledgeBaseReader, open_kb
from rexel_bench.scoring.relations import linked_facts

#: How many candidates count as "the KB can return it" for the ceiling (the look-up's own default).
CEILING_K = 30
#: The k of candidate recall@k that reports show (REXEL looks at 8 candidates per mention).
RECALL_AT = (1, 8, CEILING_K)


def _reach(kb: KnowledgeBaseReader, docs: Sequence[Document]) -> tuple[dict[str, set[str]], dict[int, list[bool]]]:
    """For each document, the gold QIDs some mention reaches; and for each k, whether each gold linked
    mention's QID is in its top k."""
    reachable: dict[str, set[str]] = {}
    hits: dict[int, list[bool]] = {k: [] for k in RECALL_AT}
    cache: dict[str, list[str]] = {}
    for doc in docs:
        found = reachable.setdefault(doc.id, set())
        for entity in doc.entities:
            for mention in entity.mentions:
                if not mention.qid:
                    continue
                if mention.text not in cache:
                    cache[mention.text] = [c.qid for c in kb.candidates(mention.text, k=CEILING_K)]
                ranked = cache[mention.text]
                for k in RECALL_AT:
                    hits[k].append(mention.qid in ranked[:k])
                if entity.qid and entity.qid in ranked:
                    found.add(entity.qid)
    return reachable, hits


@dataclass
class Reach:
    """What the KBs of a linking plan can return for its gold documents: the gold QIDs each document's mentions
    reach, and for each k whether each gold linked mention's QID is in its top k. Every system linked with the
    same plan shares it (it is computed once)."""

    gold: list[Document]
    reachable: dict[str, set[str]]
    hits: dict[int, list[bool]]


def reach_of(parts: Sequence[tuple[str | Path | None, Sequence[Document]]]) -> Reach | None:
    """The :class:`Reach` of a linking plan's parts (each a KB and the gold documents linked with it); None when
    a part has no KB (the system links with none)."""
    if any(path is None for path, _ in parts):
        return None
    reachable: dict[str, set[str]] = {}
    hits: dict[int, list[bool]] = {k: [] for k in RECALL_AT}
    for path, docs in parts:
        with open_kb(path) as kb:  # type: ignore[arg-type]
            found, part_hits = _reach(kb, docs)
        reachable.update(found)
        for k in RECALL_AT:
            hits[k] += part_hits[k]
    return Reach([d for _, docs in parts for d in docs], reachable, hits)


def decompose(reach: Reach, predictions: Sequence[Document]) -> dict[str, Any]:
    """The ceiling, candidate recall@k and reachable-fact linked scores of one system's predictions."""
    gold, reachable, hits = reach.gold, reach.reachable, reach.hits
    entities = {(d.id, e.qid) for d in gold for e in d.entities if e.qid}
    gold_facts = {(d.id, *fact) for d in gold for fact in linked_facts(d)[0]}
    reachable_facts = {f for f in gold_facts if f[1] in reachable[f[0]] and f[3] in reachable[f[0]]}
    by_id = {d.id: d for d in predictions}
    predicted = {(i, *fact) for i in reachable if i in by_id for fact in linked_facts(by_id[i])[0]}
    p = len(predicted & gold_facts) / len(predicted) if predicted else 0.0  # precision is the system's own
    r = len(predicted & reachable_facts) / len(reachable_facts) if reachable_facts else 0.0
    return {
        "ceiling": {"entities": _share(sum(q in reachable[i] for i, q in entities), len(entities)),
                    "facts": _share(len(reachable_facts), len(gold_facts))},
        "candidate_recall": {str(k): _share(sum(v), len(v)) for k, v in hits.items()},
        "reachable_linked": {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                             "gold_facts": len(reachable_facts)},
        "k": CEILING_K,
    }


def _share(part: int, whole: int) -> dict[str, float | int]:
    return {"count": part, "of": whole, "share": part / whole if whole else 0.0}
