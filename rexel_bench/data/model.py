"""The one document model that every loader produces and every scorer and model consumes.

Gold annotations and predictions share these types: a prediction is a :class:`Document` whose
entities and relations came from a model. All classes are frozen; derive new documents with
:func:`dataclasses.replace`.

Offsets are token offsets, end exclusive, relative to the mention's sentence. Document-level
offsets are derived (never stored twice) through :meth:`Document.to_doc_offset` and
:meth:`Document.to_sent_offset`, the one place that converts between the two.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rexel_bench.perf import cached_value

#: Sentence index used by mentions of documents whose text is absent (DWIE annotations only).
NO_TEXT = -1


def majority(values: Iterable[Any]) -> Any:
    """Most frequent non-None value; None if there is none.

    This is the rule for an entity's QID (and type) from its mentions' values. Ties are broken by
    the smallest value under :func:`tie_order` (QIDs by number: Q5 before Q42), never by the order of
    the mentions, so that an entity's QID does not change when its mentions are listed in another order.
    """
    present = [v for v in values if v is not None]
    if not present:
        return None
    if present.count(present[0]) == len(present):  # all agree: the common case, without counting
        return present[0]
    counts = Counter(present)
    best = max(counts.values())
    return min((v for v, n in counts.items() if n == best), key=tie_order)


def tie_order(value: Any) -> tuple[int, str]:
    """Sort key that breaks majority ties: shorter first, then alphabetical (numeric order for QIDs)."""
    text = str(value)
    return len(text), text


@dataclass(frozen=True)
class FineType:
    """A fine-grained Wikidata class (e.g. Q5 "human") with the annotator's or model's score."""

    qid: str
    label: str = ""
    score: float | None = None


@dataclass(frozen=True)
class Mention:
    """A span of tokens ``[start, end)`` inside sentence ``sent`` with its surface text.

    ``type``, ``qid`` and ``fine_types`` are the mention's own annotations where a format carries
    them per mention (DocRED types, DocRED-IE ``wikidata_qcode``/``fine_type``). ``char_span`` holds
    character offsets where the source has them (DWIE). ``extra`` keeps fields that the model does
    not interpret, so that writers round-trip them unchanged.
    """

    sent: int
    start: int
    end: int
    text: str
    type: str | None = None
    qid: str | None = None
    fine_types: tuple[FineType, ...] = ()
    link: str | None = None
    char_span: tuple[int, int] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @cached_value
    def span(self) -> tuple[int, int, int]:
        """The mention's identity for scoring: ``(sent, start, end)``; char offsets when text is absent
        (computed once: every scorer reads it, several times per mention)."""
        if self.sent == NO_TEXT and self.char_span is not None:
            return (NO_TEXT, *self.char_span)
        return (self.sent, self.start, self.end)


@dataclass(frozen=True)
class Entity:
    """A cluster of coreferent mentions with its coarse type, Wikidata QID and fine types.

    ``type`` and ``qid`` are stored explicitly (models set them); loaders fill them with the
    majority over mentions. ``tags`` holds multi-label type tags (DWIE), ``link`` a gold Wikipedia
    title (DWIE).
    """

    mentions: tuple[Mention, ...]
    type: str | None = None
    qid: str | None = None
    fine_types: tuple[FineType, ...] = ()
    tags: tuple[str, ...] = ()
    link: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def mention_qids(self) -> tuple[str | None, ...]:
        """The QID of each mention, in mention order (None where a mention has none)."""
        return tuple(m.qid for m in self.mentions)

    @property
    def has_qid_disagreement(self) -> bool:
        """True when the mentions do not all carry the same QID (two QIDs, or a QID and none)."""
        return len(set(self.mention_qids)) > 1

    @cached_value
    def spans(self) -> frozenset[tuple[int, int, int]]:
        """The set of mention spans, the cluster's identity for coreference and strict matching."""
        return frozenset(m.span for m in self.mentions)


@dataclass(frozen=True)
class Relation:
    """A fact between two entities of the same document, by index into ``Document.entities``.

    ``evidence`` is None when the source gives no evidence (as opposed to an empty list).
    ``score`` is a model's confidence, None for gold.
    """

    head: int
    tail: int
    label: str
    evidence: tuple[int, ...] | None = ()
    score: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Document:
    """A document: sentences of tokens, entities (clusters of mentions) and relations.

    ``meta`` keeps the source format and fields the model does not interpret (for lossless
    writing). A document whose text is absent (DWIE annotations only) has no sentences and its
    mentions carry character offsets; :attr:`has_text` says which.
    """

    id: str
    title: str
    sentences: tuple[tuple[str, ...], ...]
    entities: tuple[Entity, ...] = ()
    relations: tuple[Relation, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def has_text(self) -> bool:
        """Whether the document carries its tokens (False for DWIE annotations without text)."""
        return bool(self.sentences)

    @cached_value
    def sentence_starts(self) -> tuple[int, ...]:
        """Document-level token offset at which each sentence starts."""
        starts, total = [], 0
        for sent in self.sentences:
            starts.append(total)
            total += len(sent)
        return tuple(starts)

    @cached_value
    def num_tokens(self) -> int:
        """Number of tokens in the document (computed once: converting offsets reads it for every mention)."""
        return sum(len(s) for s in self.sentences)

    @property
    def tokens(self) -> tuple[str, ...]:
        """All tokens of the document, sentences concatenated."""
        return tuple(tok for sent in self.sentences for tok in sent)

    @property
    def mentions(self) -> tuple[Mention, ...]:
        """Every mention of every entity, in entity order."""
        return tuple(m for e in self.entities for m in e.mentions)

    def to_doc_offset(self, sent: int, token: int) -> int:
        """Convert a sentence-level token offset into a document-level one."""
        return self.sentence_starts[sent] + token

    def to_sent_offset(self, doc_token: int) -> tuple[int, int]:
        """Convert a document-level token offset into ``(sentence, token within sentence)``.

        An offset equal to the document length maps to the end of the last sentence, so that
        exclusive end offsets convert too.
        """
        if not 0 <= doc_token <= self.num_tokens:
            raise IndexError(f"token offset {doc_token} outside document of {self.num_tokens} tokens")
        sent = max(bisect.bisect_right(self.sentence_starts, doc_token) - 1, 0)
        if doc_token == self.num_tokens and self.sentences:
            sent = len(self.sentences) - 1
        return sent, doc_token - self.sentence_starts[sent]

    def doc_span(self, mention: Mention) -> tuple[int, int]:
        """Document-level ``[start, end)`` token offsets of a mention."""
        return self.to_doc_offset(mention.sent, mention.start), self.to_doc_offset(mention.sent, mention.end)

    def span_tokens(self, mention: Mention) -> tuple[str, ...]:
        """The tokens a mention covers."""
        return self.sentences[mention.sent][mention.start : mention.end]


def entity_from_mentions(
    mentions: Sequence[Mention],
    *,
    tags: tuple[str, ...] = (),
    link: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Entity:
    """Build an entity whose type, QID and fine types are the majority over its mentions.

    Fine types are those of the mentions that carry the majority QID (in DocRED-IE they are a function
    of the QID), else of any mention; where such mentions disagree, the most frequent list wins, ties
    broken by the smallest list of class QIDs, so that the result does not depend on mention order.
    """
    mentions = tuple(mentions)
    if len(mentions) == 1:  # the most common entity: every majority is its one mention's value
        [only] = mentions
        return Entity(mentions=mentions, type=only.type, qid=only.qid, fine_types=only.fine_types, tags=tags,
                      link=link if link is not None else only.link or None, extra=dict(extra or {}))
    qid = majority(m.qid for m in mentions)
    with_fine = [m.fine_types for m in mentions if m.fine_types and (qid is None or m.qid == qid)]
    candidates = with_fine or [m.fine_types for m in mentions if m.fine_types]
    fine = _most_common_fine_types(candidates)
    return Entity(
        mentions=mentions,
        type=majority(m.type for m in mentions),
        qid=qid,
        fine_types=fine,
        tags=tags,
        link=link if link is not None else majority(m.link or None for m in mentions),
        extra=dict(extra or {}),
    )


def _most_common_fine_types(candidates: Sequence[tuple[FineType, ...]]) -> tuple[FineType, ...]:
    if not candidates:
        return ()
    counts = Counter(candidates)
    best = max(counts.values())
    return min((c for c, n in counts.items() if n == best), key=lambda c: [tie_order(f.qid) for f in c])


def text_hash(doc: Document) -> str:
    """SHA-256 of a document's title and tokens: the same text under another id or in another file
    (Re-DocRED and DocRED-IE share documents) has the same hash."""
    return hashlib.sha256(json.dumps([doc.title, doc.sentences]).encode()).hexdigest()  # ASCII: lone surrogates too


def unannotated(doc: Document) -> Document:
    """What a system may see of a document: its id, title and sentences of tokens, without any annotation
    (mentions, entities, types, QIDs, relations, and whatever else the source file carried). Every model is
    handed documents through this, so that no prediction can copy the gold."""
    return Document(id=doc.id, title=doc.title, sentences=doc.sentences, meta={"format": "jsonl"})
