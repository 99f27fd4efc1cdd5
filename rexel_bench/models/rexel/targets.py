"""What REXEL's heads read of a document and learn from it: label vocabularies, the training targets (word
BIO tags, linking targets, sampled relation pairs) and the enumeration of mention and entity pairs in bounded
blocks. Shared by training (:meth:`RexelModel.loss`), prediction and the pipeline's stages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from rexel_bench.data.model import Document, Entity
from rexel_bench.kb.store import Candidate
from rexel_bench.scoring.linking import is_value_type

MAX_FINE_TYPES = 300  # fine-type vocabulary: the most frequent classes of the training data


@dataclass
class Vocabulary:
    """Label inventories learnt from the training data."""

    coarse: list[str]
    fine: list[str]
    relations: list[str]
    fine_labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, docs: Sequence[Document], relations: Sequence[str] = ()) -> Vocabulary:
        """Coarse types, the most frequent fine classes, and relations (given ones first) of the documents."""
        coarse = sorted({m.type or e.type for d in docs for e in d.entities for m in e.mentions if m.type or e.type})
        fine_counts: Counter[str] = Counter()
        labels: dict[str, str] = {}
        for d in docs:
            for e in d.entities:
                for m in e.mentions:
                    for f in m.fine_types or e.fine_types:
                        fine_counts[f.qid] += 1
                        labels.setdefault(f.qid, f.label)
        fine = sorted(q for q, _ in fine_counts.most_common(MAX_FINE_TYPES))
        rels = list(dict.fromkeys([*relations, *sorted({r.label for d in docs for r in d.relations})]))
        return cls(coarse, fine, rels, {q: labels[q] for q in fine})

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for vocab.json."""
        return {"coarse": self.coarse, "fine": self.fine, "relations": self.relations, "fine_labels": self.fine_labels}


@dataclass
class PreparedDocument:
    """What training needs of one gold document, computed once."""

    doc: Document
    spans: list[tuple[int, int]]  # doc-level word spans of unique gold mentions
    owner: list[int]  # entity index of each span
    bio: torch.Tensor


#: Pairs scored at once by the coreference and coarse relation heads (bounds their memory).
PAIR_BLOCK = 16_384


def pair_blocks(n: int, *, ordered: bool, block: int | None = None) -> Iterator[torch.Tensor]:
    """Index pairs ``[k, 2]`` of ``n`` items — ``i < j``, or every ``i != j`` when ``ordered`` — in blocks of
    about ``block`` pairs (default :data:`PAIR_BLOCK`; whole rows: a block is larger only when one row is),
    in row-major order, never building the n² list at once."""
    block = block or PAIR_BLOCK
    row = 0
    while row < n:
        rows, count = [], 0
        while row < n and (not rows or count + (n - 1 if ordered else n - 1 - row) <= block):
            rows.append(row)
            count += n - 1 if ordered else n - 1 - row
            row += 1
        grid = torch.cartesian_prod(torch.tensor(rows), torch.arange(n)).reshape(-1, 2)  # row-major
        pairs = grid[grid[:, 0] != grid[:, 1]] if ordered else grid[grid[:, 0] < grid[:, 1]]
        if len(pairs):
            yield pairs


def doc_spans(doc: Document) -> tuple[list[tuple[int, int]], list[int]]:
    """Unique gold mention spans (document word offsets) and the entity each belongs to."""
    seen, spans, owner = set(), [], []
    for e, entity in enumerate(doc.entities):
        for m in entity.mentions:
            span = doc.doc_span(m)
            if span not in seen:
                seen.add(span)
                spans.append(span)
                owner.append(e)
    return spans, owner


def span_texts(doc: Document, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The surface text of each document-level ``[start, end)`` span (the document's tokens built once)."""
    tokens = doc.tokens
    return [" ".join(tokens[s:e]) for s, e in spans]


def bio_labels(n_words: int, spans: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Word BIO labels; nested or overlapping mentions keep the earlier, longer one (BIO cannot nest)."""
    labels = torch.zeros(n_words, dtype=torch.long)
    taken = torch.zeros(n_words, dtype=torch.bool)
    for start, end in sorted(spans, key=lambda s: (s[0], s[0] - s[1])):
        if taken[start:end].any():
            continue
        labels[start], labels[start + 1:end] = 1, 2
        taken[start:end] = True
    return labels


def link_target(entity: Entity, candidates: Sequence[Candidate]) -> int | None:
    """The linking head's training target for a mention of ``entity``: 1 + the gold candidate's index, 0 for NIL.

    None (no training signal) where the gold QID is not among the candidates, for numbers and dates, and for
    an entity that has a gold Wikipedia link but no known QID (DWIE): it is unlinked in our data, not NIL.
    """
    if entity.qid:
        return next((1 + k for k, c in enumerate(candidates) if c.qid == entity.qid), None)
    if entity.link or not candidates or is_value_type(entity.type):
        return None
    return 0


def sampled_pair_rows(related: torch.Tensor, negatives_per_positive: float) -> torch.Tensor:
    """Indices of the pairs the fine relation loss trains on: every pair when ``negatives_per_positive`` is 0,
    else every related pair and ``ceil(ratio × max(1, related))`` unrelated ones drawn with torch's generator.

    On long documents (DWIE: ~700 pairs, ~25 related) the unrelated pairs swamp the adaptive-threshold loss
    and the classifier learns to put every pair below its threshold; sampling rebalances what it sees.
    """
    if negatives_per_positive <= 0:
        return torch.arange(len(related))
    positive = torch.nonzero(related).flatten()
    negative = torch.nonzero(~related).flatten()
    count = min(len(negative), math.ceil(negatives_per_positive * max(1, len(positive))))
    chosen = negative[torch.randperm(len(negative))[:count]]
    return torch.sort(torch.cat([positive, chosen])).values
