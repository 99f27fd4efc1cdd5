"""Agreement of entity links with a reference annotation, overall and per type (P/R/F1).

Documents are matched by id, else by their first sentence (DocRED-IE and Re-DocRED share documents
under different titles); entities by their exact set of mention spans. A link is correct when the
QIDs are equal; precision is over the entities the file links, recall over those the reference links.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rexel_bench.data.model import Document


def first_sentence_key(doc: Document) -> tuple[str, ...]:
    """The key that matches the same document across datasets: its first sentence's tokens."""
    return doc.sentences[0] if doc.sentences else (doc.id,)


def match_documents(docs: Sequence[Document], reference: Sequence[Document]) -> list[tuple[Document, Document]]:
    """Pairs of the same document in both collections (by id, else by first sentence)."""
    by_id = {d.id: d for d in reference}
    by_sentence = {first_sentence_key(d): d for d in reference}
    pairs = []
    for doc in docs:
        other = by_id.get(doc.id) or by_sentence.get(first_sentence_key(doc))
        if other is not None:
            pairs.append((doc, other))
    return pairs


def link_agreement(docs: Sequence[Document], reference: Sequence[Document]) -> dict[str, Any]:
    """P/R/F1 of the file's entity QIDs against the reference's, overall and per reference type."""
    counts: dict[str, Counter[str]] = {}
    pairs = match_documents(docs, reference)
    for doc, ref in pairs:
        ref_by_spans = {e.spans: e for e in ref.entities}
        doc_by_spans = {e.spans: e for e in doc.entities}
        for spans in set(ref_by_spans) | set(doc_by_spans):
            mine, theirs = doc_by_spans.get(spans), ref_by_spans.get(spans)
            kind = (theirs or mine).type or "?"
            for bucket in ("all", kind):
                c = counts.setdefault(bucket, Counter())
                c["predicted"] += bool(mine and mine.qid)
                c["reference"] += bool(theirs and theirs.qid)
                c["correct"] += bool(mine and theirs and mine.qid and mine.qid == theirs.qid)
    def prf(c: Counter[str]) -> dict[str, float]:
        p = c["correct"] / c["predicted"] if c["predicted"] else 0.0
        r = c["correct"] / c["reference"] if c["reference"] else 0.0
        return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, **{k: int(v) for k, v in c.items()}}
    return {"documents_matched": len(pairs), "overall": prf(counts.get("all", Counter())),
            "by_type": {t: prf(c) for t, c in sorted(counts.items()) if t != "all"}}
