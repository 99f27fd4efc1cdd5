"""Corpus statistics of a list of documents (``rexel-bench stats``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from rexel_bench.data.model import Document


def qid_disagreements(docs: Sequence[Document]) -> dict[str, int]:
    """Entities whose mentions disagree on the QID: two or more distinct QIDs, or a QID and none."""
    several = partial = 0
    for doc in docs:
        for entity in doc.entities:
            if entity.has_qid_disagreement:
                distinct = {q for q in entity.mention_qids if q is not None}
                several += len(distinct) >= 2
                partial += len(distinct) < 2
    return {"total": several + partial, "distinct_qids": several, "qid_and_none": partial}


def length_distribution(docs: Sequence[Document]) -> dict[str, float]:
    """Tokens per document: min, mean, median, 90th percentile, max."""
    lengths = np.array([d.num_tokens for d in docs if d.has_text], dtype=float)
    if lengths.size == 0:
        return {}
    return {"min": float(lengths.min()),
            "mean": round(float(lengths.mean()), 2),
            "median": float(np.median(lengths)),
            "p90": round(float(np.percentile(lengths, 90)), 2),
            "max": float(lengths.max())}


def corpus_statistics(docs: Sequence[Document]) -> dict[str, Any]:
    """Counts a researcher checks first: documents, tokens, mentions, entities, relations, links, types."""
    mentions = [m for d in docs for m in d.mentions]
    entities = [e for d in docs for e in d.entities]
    return {
        "documents": len(docs),
        "documents_without_text": sum(not d.has_text for d in docs),
        "sentences": sum(len(d.sentences) for d in docs),
        "tokens": sum(d.num_tokens for d in docs),
        "mentions": len(mentions),
        "entities": len(entities),
        "relations": sum(len(d.relations) for d in docs),
        "mentions_with_qid": sum(m.qid is not None for m in mentions),
        "entities_with_qid": sum(e.qid is not None for e in entities),
        "entities_with_link": sum(e.link is not None for e in entities),
        "qid_disagreements": qid_disagreements(docs),
        "entity_types": dict(Counter(e.type for e in entities if e.type is not None).most_common()),
        "relation_labels": dict(Counter(r.label for d in docs for r in d.relations).most_common()),
        "tokens_per_document": length_distribution(docs),
    }
