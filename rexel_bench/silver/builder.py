"""The DocRED-IE silver-annotation builder: link every entity cluster of a DocRED-layout file to Wikidata.

For each entity that is not a number or a date:
1. **candidates**: every mention's surface form is looked up in the KB (exact normalised alias, else
   trigram); a candidate's alias score is the mean over mentions of p(entity | alias);
2. **type compatibility**: p(DocRED type | class) learnt in the KB from linked data, best over the
   candidate's classes (unknown classes are neutral);
3. **local score** = log alias score + log type compatibility + a small log-popularity prior;
4. **relation consistency**: iterated conditional modes over the document's entities — each entity in
   turn takes the candidate that maximises its local score plus a bonus for every gold relation of
   the document that the assignment turns into a KB fact — until no entity changes (bounded rounds);
5. **confidence**: the softmax probability of the chosen candidate among the entity's candidates;
   below ``threshold`` the entity is NIL.

Every link records its method (``alias-prior``, ``alias-prior+type``, ``relation-consistency``,
``fuzzy``) and confidence in the mention fields ``link_method`` and ``link_confidence``. Ties break by
QID, so the output is deterministic.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rexel_bench.data.model import Document, Entity, FineType
from rexel_bench.distributed import ClusterRun, partitions, run_partitions, worker_resource
from rexel_bench.kb.store import Candidate, KnowledgeBaseReader, is_server_url
from rexel_bench.progress import progress_bar
from rexel_bench.scoring.linking import is_value_type


@dataclass(frozen=True)
class LinkerConfig:
    """Knobs of the builder (defaults documented in the module docstring)."""

    top_k: int = 8
    threshold: float = 0.3
    relation_bonus: float = 3.0
    popularity_weight: float = 0.05
    max_rounds: int = 5


@dataclass
class EntityCandidates:
    """The scored candidates of one entity."""

    candidates: list[Candidate]
    local: list[float]
    fuzzy: bool


@dataclass(frozen=True)
class Link:
    """The decision for one entity."""

    qid: str | None
    method: str
    confidence: float
    candidate: Candidate | None = None


def entity_candidates(kb: KnowledgeBaseReader, entity: Entity, config: LinkerConfig) -> EntityCandidates:
    """Candidates of an entity from all its mentions, with local scores."""
    scores: dict[str, float] = defaultdict(float)
    found: dict[str, Candidate] = {}
    fuzzy = False
    texts = [m.text for m in entity.mentions]
    for text in texts:
        for c in kb.candidates(text, k=config.top_k):
            scores[c.qid] += c.prior / len(texts)
            found.setdefault(c.qid, c)
            fuzzy = fuzzy or c.match == "fuzzy"
    ranked = sorted(found, key=lambda q: (-scores[q], q))[: config.top_k]
    local = []
    for qid in ranked:
        c = found[qid]
        compat = kb.type_compatibility(c.classes, entity.type) if entity.type else None
        local.append(math.log(scores[qid] + 1e-6) + (math.log(compat + 1e-3) if compat is not None else 0.0)
                     + config.popularity_weight * math.log1p(c.popularity or 0.0))
    return EntityCandidates([found[q] for q in ranked], local, fuzzy)


def _relation_support(doc: Document, index: int, qid: str, assignment: dict[int, str | None],
                      kb: KnowledgeBaseReader) -> int:
    support = 0
    for rel in doc.relations:
        if rel.head == index and assignment.get(rel.tail):
            support += kb.has_fact(qid, rel.label, assignment[rel.tail])  # type: ignore[arg-type]
        elif rel.tail == index and assignment.get(rel.head):
            support += kb.has_fact(assignment[rel.head], rel.label, qid)  # type: ignore[arg-type]
    return support


def link_document(doc: Document, kb: KnowledgeBaseReader, config: LinkerConfig = LinkerConfig()) -> list[Link]:
    """Link every entity of a document (NIL for numbers and dates), jointly over its relations."""
    options: dict[int, EntityCandidates] = {}
    for i, entity in enumerate(doc.entities):
        if not is_value_type(entity.type) and entity.mentions:
            found = entity_candidates(kb, entity, config)
            if found.candidates:
                options[i] = found
    assignment = {i: o.candidates[max(range(len(o.local)), key=lambda j: (o.local[j], -j))].qid
                  for i, o in options.items()}
    local_choice = dict(assignment)
    for _ in range(config.max_rounds):
        changed = False
        for i, o in options.items():
            totals = [o.local[j] + config.relation_bonus * _relation_support(doc, i, c.qid, assignment, kb)
                      for j, c in enumerate(o.candidates)]
            best = o.candidates[max(range(len(totals)), key=lambda j: (totals[j], -j))].qid
            if best != assignment[i]:
                assignment[i], changed = best, True
        if not changed:
            break
    links = []
    for i, entity in enumerate(doc.entities):
        if i not in options:
            method = "num/time" if is_value_type(entity.type) else "no-candidate"
            links.append(Link(None, method, 0.0))
            continue
        o = options[i]
        totals = [o.local[j] + config.relation_bonus * _relation_support(doc, i, c.qid, assignment, kb)
                  for j, c in enumerate(o.candidates)]
        peak = max(totals)
        probs = [math.exp(t - peak) for t in totals]
        chosen = next(j for j, c in enumerate(o.candidates) if c.qid == assignment[i])
        confidence = probs[chosen] / sum(probs)
        if assignment[i] != local_choice[i] or _relation_support(doc, i, assignment[i], assignment, kb):
            method = "relation-consistency"
        elif o.fuzzy:
            method = "fuzzy"
        else:
            compat = kb.type_compatibility(o.candidates[chosen].classes, entity.type) if entity.type else None
            method = "alias-prior+type" if compat is not None else "alias-prior"
        if confidence < config.threshold:
            links.append(Link(None, f"nil:{method}", round(confidence, 4)))
        else:
            links.append(Link(assignment[i], method, round(confidence, 4), o.candidates[chosen]))
    return links


def apply_links(doc: Document, links: Sequence[Link], kb: KnowledgeBaseReader) -> Document:
    """The document with every mention carrying its entity's QID, fine types and link provenance."""
    entities = []
    for entity, link in zip(doc.entities, links, strict=True):
        classes = link.candidate.classes if link.candidate else ()
        fine = tuple(FineType(c, kb.class_label(c) or "", 1.0) for c in classes)
        mentions = tuple(replace(m, qid=link.qid, fine_types=fine,
                                 extra={**{k: v for k, v in m.extra.items() if k != "_keys"},
                                        "link_method": link.method, "link_confidence": link.confidence})
                         for m in entity.mentions)
        entities.append(replace(entity, mentions=mentions, qid=link.qid, fine_types=fine))
    return replace(doc, entities=tuple(entities), meta={**doc.meta, "format": "docred-ie"})


def link_one(doc: Document, kb: KnowledgeBaseReader, config: LinkerConfig = LinkerConfig()) -> Document:
    """One document with every entity linked (or NIL), its links recorded in the mention fields."""
    return apply_links(doc, link_document(doc, kb, config), kb)


def build_docred_ie(docs: Sequence[Document], kb: KnowledgeBaseReader, config: LinkerConfig = LinkerConfig(),
                    progress: bool = True) -> list[Document]:
    """Silver-link every document (deterministic; a progress bar on long inputs)."""
    out = []
    with progress_bar(enabled=progress) as bar:
        task = bar.add_task("linking documents", total=len(docs))
        for doc in docs:
            out.append(link_one(doc, kb, config))
            bar.advance(task)
    return out


def build_docred_ie_on_cluster(docs: Sequence[Document], kb_path: str | Path, config: LinkerConfig = LinkerConfig(),
                               *, scheduler: str | None = None, workers: int = 2, partition_size: int = 64,
                               progress: bool = True) -> tuple[list[Document], ClusterRun]:
    """:func:`build_docred_ie` on a Dask cluster (each worker opens the KB once; documents travel in
    partitions; the result is in input order and equal to one process's), with what happened there."""
    out: list[Document] = []
    where = kb_path if is_server_url(kb_path) else str(Path(kb_path).resolve())
    task = functools.partial(_link_partition, where, config)
    cluster = run_partitions(task, partitions(docs, partition_size), out.extend, scheduler=scheduler,
                             workers=workers, progress=progress, total=math.ceil(len(docs) / partition_size))
    return out, cluster


def _link_partition(kb_path: str, config: LinkerConfig, docs: list[Document]) -> list[Document]:
    """Run on a worker: link a partition with the worker's KB (opened once per worker)."""
    kb = worker_resource("kb", kb_path)
    return [link_one(doc, kb, config) for doc in docs]
