"""The knowledge base: an SQLite file of entities, aliases with priors, classes and facts, and the read interface
every back-end shares (:class:`KnowledgeBaseReader`; :func:`open_kb` opens a file or a server's URL).

Tables:
- ``entities(qid, label, description, popularity)``;
- ``aliases(norm, alias, qid, count, prior, source)``: surface forms, keyed by their normalised form;
  ``prior`` is p(entity | alias) = count / total count of the normalised alias, recomputed by
  :meth:`KnowledgeBase.finalize`. The fuzzy index (:data:`FUZZY_INDEXES`) serves a text held nowhere exactly:
  ``alias_trigrams`` (FTS5, trigram tokenizer); or the one-edit index: the 64-bit keys of every normalised alias
  and of each string one character shorter (a symmetric-deletion index in the style of SymSpell: a query costs
  its length + 1 probes), kept in a hash-addressed file beside the KB (:mod:`rexel_bench.kb.deletions`: a probe's
  cost does not grow with the KB; ``alias_deletions`` in a KB built before it), and ``alias_word_drops``; or
  ``alias_grams(gram, size, norm)`` and
  ``gram_counts(gram, n)``, the postings of every trigram (prefix filtering reads only the query's rarest);
- ``classes(qid, class_qid)`` from P31/P279 and fine types, ``class_labels(class_qid, label)``, and
  ``class_types(class_qid, type, count)``: how often entities of a class carry each coarse dataset type
  (learnt from linked documents), for type compatibility;
- ``facts(subject, property, object)`` between entities; ``properties(pid, label, description, aliases)``;
- ``meta(key, value)``: what was ingested from where, the fuzzy index, the content hash.
- ``documents(dataset, doc_id, title, text_sha256, contributes)``: every document whose annotations
  went in (the KB's provenance, from which a run tells whether a KB saw the documents it evaluates).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from rexel_bench.data.model import Document, text_hash
from rexel_bench.errors import ConfigError, DataError
from rexel_bench.kb.deletions import DeletionIndex, deletions_path, write_deletion_index
from rexel_bench.kb.normalize import normalize_alias

SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (qid TEXT PRIMARY KEY, label TEXT, description TEXT, popularity REAL);
CREATE TABLE IF NOT EXISTS aliases (norm TEXT NOT NULL, alias TEXT NOT NULL, qid TEXT NOT NULL, count REAL NOT NULL,
    prior REAL, source TEXT NOT NULL, PRIMARY KEY (norm, qid, source));
CREATE INDEX IF NOT EXISTS aliases_qid ON aliases(qid);
CREATE TABLE IF NOT EXISTS classes (qid TEXT NOT NULL, class_qid TEXT NOT NULL, PRIMARY KEY (qid, class_qid));
CREATE TABLE IF NOT EXISTS class_labels (class_qid TEXT PRIMARY KEY, label TEXT);
CREATE TABLE IF NOT EXISTS class_types (class_qid TEXT NOT NULL, type TEXT NOT NULL, count REAL NOT NULL,
    PRIMARY KEY (class_qid, type));
CREATE TABLE IF NOT EXISTS facts (subject TEXT NOT NULL, property TEXT NOT NULL, object TEXT NOT NULL,
    PRIMARY KEY (subject, property, object));
CREATE INDEX IF NOT EXISTS facts_object ON facts(object);
CREATE TABLE IF NOT EXISTS properties (pid TEXT PRIMARY KEY, label TEXT, description TEXT, aliases TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (dataset TEXT NOT NULL, doc_id TEXT NOT NULL, title TEXT,
    text_sha256 TEXT NOT NULL, contributes TEXT NOT NULL, PRIMARY KEY (dataset, doc_id));
CREATE VIRTUAL TABLE IF NOT EXISTS alias_trigrams USING fts5(norm, tokenize='trigram');
"""


@dataclass(frozen=True)
class Candidate:
    """A candidate entity for a surface form, with what disambiguation needs."""

    qid: str
    prior: float
    label: str | None = None
    description: str | None = None
    popularity: float | None = None
    classes: tuple[str, ...] = ()
    match: str = "exact"  # exact (normalised alias) or fuzzy (trigram)


@dataclass
class EntityRecord:
    """What an ingester contributes about one entity (everything optional but the QID)."""

    qid: str
    label: str | None = None
    description: str | None = None
    aliases: dict[str, float] = field(default_factory=dict)  # surface form → count
    classes: set[str] = field(default_factory=set)
    facts: set[tuple[str, str]] = field(default_factory=set)  # (property, object QID)
    popularity: float | None = None


class KnowledgeBaseReader:
    """Candidate look-up and entity, class and fact reads, the same on every back-end: the embedded SQLite file
    (:class:`KnowledgeBase`) and a database server (:class:`rexel_bench.kb.server.ServerKnowledgeBase`). A back-end
    gives :meth:`_rows` (SQL with ``?`` placeholders), :meth:`_nearest_aliases` (its trigram ranking),
    :attr:`location` and :attr:`name`."""

    location: str  # where the KB is, as a run records it (a path, or a server URL without its password)
    name: str  # its short name for messages

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def _nearest_aliases(self, norm: str, limit: int) -> list[str]:
        """The ``limit`` normalised aliases nearest to ``norm`` by the back-end's trigram ranking."""
        raise NotImplementedError

    def _has_table(self, name: str) -> bool:
        raise NotImplementedError

    def compute_content_hash(self) -> str:
        """SHA-256 of the KB's content, read whole (:meth:`KnowledgeBase.compute_content_hash`)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @functools.cached_property
    def content_hash(self) -> str:
        """SHA-256 of the KB's content (:meth:`KnowledgeBase.compute_content_hash`): what a prediction made with
        this KB depends on (cache keys, ``kb_sha256``). Recorded by :meth:`KnowledgeBase.finalize` and forgotten by
        any later write, so that a Wikidata-size KB is not read whole on every run; computed for a KB without it."""
        rows = self._rows("SELECT value FROM meta WHERE key = 'content_sha256'")
        return json.loads(rows[0][0]) if rows else self.compute_content_hash()

    @functools.cached_property
    def fuzzy_index(self) -> str:
        """How this KB finds an alias it does not hold exactly: one of :data:`FUZZY_INDEXES`."""
        rows = self._rows("SELECT value FROM meta WHERE key = 'fuzzy_index'")
        return json.loads(rows[0][0]) if rows else "trigram"

    def candidates(self, text: str, k: int = 30, fuzzy: bool = True, min_similarity: float = 0.6) -> list[Candidate]:
        """Candidate entities of a surface form, best prior first.

        Without an exact (normalised) alias, the KB's fuzzy index finds near ones ("Ilinois" → "illinois"): with
        ``one-edit``, the aliases one letter or one word away (:meth:`one_edit_aliases`), their counts as they are;
        with the others, the aliases of :meth:`similar_aliases`, their counts weighted by their trigram similarity
        to the text.
        """
        norm = normalize_alias(text)
        if not norm:
            return []
        rows, match = self._counts_by_qid([norm], k), "exact"
        if not rows and fuzzy and len(norm) >= 3:
            if self.fuzzy_index == "one-edit":
                near = self.one_edit_aliases(norm)
                rows = self._counts_by_qid(near, k) if near else []
            else:
                rows = self._weighted_counts(self.similar_aliases(norm, min_similarity), k)
            match = "fuzzy"
        total = sum(c for _, c in rows) or 1.0
        return self._candidates([(qid, count / total) for qid, count in rows], match)

    def _counts_by_qid(self, norms: list[str], k: int) -> list[tuple[str, float]]:
        """The ``k`` entities with the most alias counts under the normalised aliases ``norms``, most first. They
        are read from ``entity_counts`` in its key's order: under one alias, ``k`` rows whatever the number of
        entities that share it; under several, each alias's first ``k`` (:meth:`_top_of_several`). A KB finalised
        before ``entity_counts`` existed sums the alias rows."""
        if not self._has_entity_counts:
            return self._summed_counts(norms, k)
        if len(norms) == 1:
            return [(q, c) for q, c in self._rows(
                "SELECT qid, total FROM entity_counts WHERE norm = ? ORDER BY total DESC, qid LIMIT ?", (norms[0], k))]
        return self._top_of_several(norms, k)

    def _top_of_several(self, norms: list[str], k: int) -> list[tuple[str, float]]:
        """The top ``k`` entities by counts summed over several aliases, among each alias's first ``k`` (in
        ``entity_counts`` order): a look-up reads ``k`` rows of each alias (:meth:`_heads`) and, under an alias
        with ``k`` entities or more, the counts of the other aliases' seen entities, in a number of statements and
        rows set by the query and ``k``, however many entities share the aliases. It is the full sum's top ``k``
        when at most one alias has more than ``k`` entities (each of that alias's first ``k`` then ranks before any
        entity unseen) and when the ``k``-th best seen sums more than the aliases' ``k``-th counts together;
        otherwise an entity in no alias's first ``k``, whose counts summed over several aliases would place it, is
        passed over."""
        heads = self._heads(norms, k)
        summed: dict[str, float] = {}
        for rows in heads.values():
            for qid, total in rows:
                summed[qid] = summed.get(qid, 0.0) + total
        seen = set(summed)
        for norm, rows in heads.items():
            if len(rows) < k:  # every entity of this alias is among its rows, counted above
                continue
            missing = sorted(seen - {qid for qid, _ in rows})
            marks = ",".join("?" * len(missing))
            for qid, count in self._rows(f"SELECT qid, sum(count) FROM aliases WHERE norm = ? AND qid IN ({marks}) "
                                         "GROUP BY qid", (norm, *missing)) if missing else ():
                summed[qid] += count
        return sorted(summed.items(), key=lambda qc: (-qc[1], qc[0]))[:k]

    def _heads(self, norms: list[str], k: int) -> dict[str, list[tuple[str, float]]]:
        """Each alias's first ``k`` entities and their counts, in ``entity_counts`` order, read in one statement
        for up to :data:`HEADS_PER_STATEMENT` aliases."""
        heads: dict[str, list[tuple[str, float]]] = {norm: [] for norm in norms}
        for start in range(0, len(norms), HEADS_PER_STATEMENT):
            chunk = norms[start:start + HEADS_PER_STATEMENT]
            sql = " UNION ALL ".join(f"SELECT * FROM (SELECT norm, qid, total FROM entity_counts WHERE norm = ? "
                                     f"ORDER BY total DESC, qid LIMIT ?) AS h{i}" for i in range(len(chunk)))
            for norm, qid, total in self._rows(sql, [value for alias in chunk for value in (alias, k)]):
                heads[norm].append((qid, total))
        return heads

    def _summed_counts(self, norms: list[str], k: int) -> list[tuple[str, float]]:
        """The top ``k`` entities by alias counts summed over every row of the aliases ``norms`` (a KB without
        ``entity_counts``)."""
        marks = ",".join("?" * len(norms))
        return [(q, c) for q, c in self._rows(f"SELECT qid, sum(count) AS c FROM aliases WHERE norm IN ({marks}) "
                                              "GROUP BY qid ORDER BY c DESC, qid LIMIT ?", (*norms, k))]

    @functools.cached_property
    def _has_entity_counts(self) -> bool:
        return self._has_table("entity_counts")

    def similar_aliases(self, norm: str, min_similarity: float = 0.6) -> dict[str, float]:
        """Normalised aliases whose trigram similarity to ``norm`` is at least ``min_similarity``, with it: among
        the 20 the back-end ranks nearest (``trigram``), or all of them (``prefix-trigram``: the postings of
        :meth:`prefix_rows`); with ``one-edit+prefix-trigram``, also the aliases one edit away, whatever their
        similarity."""
        grams, parts = _trigrams(norm), index_parts(self.fuzzy_index)
        near = set(self.prefix_rows(norm, min_similarity)) if "prefix-trigram" in parts else \
            self._nearest_aliases(norm, 20)
        similar = {n: _jaccard(grams, _trigrams(n)) for n in near}
        similar = {n: v for n, v in similar.items() if v >= min_similarity}
        if "one-edit" in parts:  # typos of short names fall under the threshold: one edit away is near enough
            similar.update({n: _jaccard(grams, _trigrams(n)) for n in self.one_edit_aliases(norm) if n not in similar})
        return similar

    def prefix_rows(self, norm: str, min_similarity: float) -> list[str]:
        """The prefix-trigram postings a look-up of ``norm`` reads (:meth:`prefix_postings`): an alias for each row,
        repeated when it holds several of the trigrams read."""
        rarest, smallest, largest = self.prefix_postings(norm, min_similarity)
        if not rarest:
            return []
        marks = ",".join("?" * len(rarest))
        return [n for (n,) in self._rows(f"SELECT norm FROM alias_grams WHERE gram IN ({marks}) AND "
                                         "size BETWEEN ? AND ?", (*rarest, smallest, largest))]

    def prefix_postings(self, norm: str, min_similarity: float) -> tuple[list[str], int, int]:
        """Which postings of the prefix-trigram index a look-up reads: an alias whose similarity to ``norm`` (``n``
        trigrams) reaches ``min_similarity`` shares at least ``s = ceil(min_similarity * n)`` of them, so it holds
        one of the ``n - s + 1`` rarest, and has between ``s`` and ``n / min_similarity`` trigrams. Returns those
        rarest trigrams that some alias has (the others have no postings) and the two sizes."""
        grams = sorted(_trigrams(norm))
        marks = ",".join("?" * len(grams))
        frequency = dict(self._rows(f"SELECT gram, n FROM gram_counts WHERE gram IN ({marks})", grams))
        shared = math.ceil(min_similarity * len(grams) - 1e-9)
        rarest = sorted(grams, key=lambda g: (frequency.get(g, 0), g))[:len(grams) - shared + 1]
        return [g for g in rarest if g in frequency], shared, math.floor(len(grams) / min_similarity + 1e-9)

    def _weighted_counts(self, similar: dict[str, float], k: int) -> list[tuple[str, float]]:
        """The ``k`` entities with the most alias counts under the ``similar`` aliases, each count weighted by its
        alias's similarity."""
        if not similar:
            return []
        marks = ",".join("?" * len(similar))
        weighted: dict[str, float] = {}
        # in the primary key's order, on every back-end: the weighted sums are added up alike
        for qid, alias_norm, count in self._rows(f"SELECT qid, norm, count FROM aliases WHERE norm IN ({marks}) "
                                                 "ORDER BY norm, qid, source", sorted(similar)):
            weighted[qid] = weighted.get(qid, 0.0) + count * similar[alias_norm]
        return sorted(weighted.items(), key=lambda qc: (-qc[1], qc[0]))[:k]

    def one_edit_aliases(self, norm: str) -> list[str]:
        """The KB's normalised aliases one edit from ``norm``: a letter dropped, added, replaced, or two neighbours
        swapped, or a whole word dropped from the text or added to it (:func:`one_word_apart`), found in the
        one-edit index and checked exactly."""
        return sorted({other for other in self.one_edit_rows(norm)
                       if other != norm and (within_one_edit(norm, other) or one_word_apart(norm, other))})

    def one_edit_rows(self, norm: str) -> list[str]:
        """The one-edit index rows a look-up of ``norm`` reads: the aliases under its :func:`probe_keys` (letter
        edits, and the aliases a word shorter), an alias for each key it shares, and the aliases a word longer,
        filed under ``norm`` in ``alias_word_drops`` (which a one-edit KB built before the word edits lacks)."""
        rows = self._deletion_rows(sorted(probe_keys(norm)))
        if self._has_word_drops:
            rows += [n for (n,) in self._rows("SELECT norm FROM alias_word_drops WHERE key = ?", (_key(norm),))]
        return rows

    def _deletion_rows(self, keys: list[int]) -> list[str]:
        """The aliases filed under ``keys`` in the deletion keys, one for each (key, alias) pair: read from the
        back-end's ``alias_deletions`` table."""
        marks = ",".join("?" * len(keys))
        return [n for (n,) in self._rows(f"SELECT norm FROM alias_deletions WHERE key IN ({marks})", keys)]

    def deletion_index_rows(self) -> Iterator[tuple[int, str]]:
        """Every (key, alias) pair of the one-edit index's deletion keys (what a server copies into its table)."""
        return iter(self._rows("SELECT key, norm FROM alias_deletions ORDER BY key, norm"))

    @functools.cached_property
    def _has_word_drops(self) -> bool:
        return self._has_table("alias_word_drops")

    def _candidates(self, priors: list[tuple[str, float]], match: str) -> list[Candidate]:
        """Candidates with their labels, popularity and classes, read in two queries for all of them."""
        if not priors:
            return []
        qids = [qid for qid, _ in priors]
        marks = ",".join("?" * len(qids))
        info = {row[0]: row[1:] for row in self._rows(
            f"SELECT qid, label, description, popularity FROM entities WHERE qid IN ({marks})", qids)}
        classes: dict[str, list[str]] = {}
        for qid, class_qid in self._rows(
                f"SELECT qid, class_qid FROM classes WHERE qid IN ({marks}) ORDER BY qid, class_qid", qids):
            classes.setdefault(qid, []).append(class_qid)
        return [Candidate(qid, prior, *info.get(qid, (None, None, None)), tuple(classes.get(qid, ())), match)
                for qid, prior in priors]

    def entity(self, qid: str) -> Candidate | None:
        """One entity by QID (prior 1), or None."""
        exists = self._rows("SELECT 1 FROM entities WHERE qid = ?", (qid,))
        return self._candidates([(qid, 1.0)], "id")[0] if exists else None

    def has_fact(self, subject: str, prop: str, obj: str) -> bool:
        """Whether (subject, property, object) is a fact of the KB."""
        return bool(self._rows("SELECT 1 FROM facts WHERE subject = ? AND property = ? AND object = ?",
                               (subject, prop, obj)))

    def facts_between(self, subjects: Iterable[str], objects: Iterable[str]) -> set[tuple[str, str, str]]:
        """All facts whose subject and object are among the given QIDs."""
        subjects, objects = sorted(set(subjects)), set(objects)
        out: set[tuple[str, str, str]] = set()
        for start in range(0, len(subjects), 500):
            chunk = subjects[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for s, p, o in self._rows(f"SELECT subject, property, object FROM facts WHERE subject IN ({marks})",
                                      chunk):
                if o in objects:
                    out.add((s, p, o))
        return out

    def class_label(self, class_qid: str) -> str | None:
        """The label of a class QID."""
        rows = self._rows("SELECT label FROM class_labels WHERE class_qid = ?", (class_qid,))
        return rows[0][0] if rows else None

    def type_compatibility(self, classes: Iterable[str], coarse_type: str) -> float | None:
        """p(coarse type | class), the best over a candidate's classes; None when no class is known."""
        best = None
        for class_qid in classes:
            rows = dict(self._rows("SELECT type, count FROM class_types WHERE class_qid = ?", (class_qid,)))
            if rows:
                value = rows.get(coarse_type, 0.0) / sum(rows.values())
                best = value if best is None else max(best, value)
        return best

    def documents(self) -> list[dict[str, str]] | None:
        """The documents whose annotations the KB holds, or None for a KB written before provenance
        was recorded (its document-derived parts are then of unknown origin)."""
        if not self._has_table("documents"):
            return None
        rows = self._rows("SELECT dataset, doc_id, title, text_sha256, contributes FROM documents")
        return [dict(zip(("dataset", "doc_id", "title", "text_sha256", "contributes"), r, strict=True)) for r in rows]

    def stats(self) -> dict[str, object]:
        """Sizes of every table and what was ingested."""
        count: dict[str, object] = {t: self._rows(f"SELECT count(*) FROM {t}")[0][0] for t in (
            "entities", "aliases", "classes", "class_labels", "class_types", "facts", "properties")}
        count["distinct_aliases"] = self._rows("SELECT count(DISTINCT norm) FROM aliases")[0][0]
        count["entities_with_aliases"] = self._rows("SELECT count(DISTINCT qid) FROM aliases")[0][0]
        count["sources"] = {k: json.loads(v) for k, v in self._rows("SELECT key, value FROM meta")}
        documents = self.documents()
        if documents is None:
            count["provenance"] = "not recorded (a KB built before provenance was kept)"
        else:
            by_dataset: dict[str, int] = {}
            for d in documents:
                by_dataset[d["dataset"]] = by_dataset.get(d["dataset"], 0) + 1
            count["provenance"] = {"documents": len(documents), "by_dataset": by_dataset,
                                   "contributes": sorted({d["contributes"] for d in documents})}
        return count


class KnowledgeBase(KnowledgeBaseReader):
    """Read and write access to one KB file."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ConfigError("no knowledge base here (build one with rexel-bench kb build)", file=str(path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, factory=_NamedConnection)
        self.db.file = str(self.path)
        self.db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        if create:  # reading never writes, so a KB shared between processes or read-only stays untouched
            self.db.executescript(SCHEMA)
        self.location, self.name = str(self.path), self.path.name

    def compute_content_hash(self) -> str:
        """SHA-256 of every row of the content tables (:data:`CONTENT_TABLES`) in a fixed order: equal for two KBs
        that hold the same entities, aliases, priors, classes, facts, properties, sources and documents, however
        and in however many transactions they were written (the file's bytes are not: SQLite's header counts
        the writes). The fuzzy indexes, derived from the aliases and the ``fuzzy_index`` setting, are left out."""
        digest = hashlib.sha256()
        present = {name for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in (t for t in CONTENT_TABLES if t in present):
            digest.update(f"\x00{table}\n".encode())
            columns = [c[1] for c in self.db.execute(f"PRAGMA table_info({table})")]
            order = ", ".join(f"{c} IS NULL, {c}" for c in columns)
            where = " WHERE key != 'content_sha256'" if table == "meta" else ""
            rows = self.db.execute(f"SELECT * FROM {table}{where} ORDER BY {order}")
            for row in rows:
                digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
        return digest.hexdigest()

    def close(self) -> None:
        """Close the database file."""
        self.db.close()
        self.__dict__.pop("_deletions", None)

    @functools.cached_property
    def _deletions(self) -> DeletionIndex | None:
        """The one-edit index's deletion keys: the file beside the KB that its ``meta.deletion_index`` names the
        aliases of, or None for a KB that keeps them in its ``alias_deletions`` table (built before the file)."""
        if self._has_table("alias_deletions"):
            return None
        recorded = self._rows("SELECT value FROM meta WHERE key = 'deletion_index'")
        if not recorded:
            raise DataError("this one-edit KB records no deletion index (rebuild it with rexel-bench kb build "
                            "--fuzzy-index one-edit)", file=self.location)
        return DeletionIndex(deletions_path(self.path), json.loads(recorded[0][0])["sha256"])

    def _deletion_rows(self, keys: list[int]) -> list[str]:
        index = self._deletions
        return super()._deletion_rows(keys) if index is None else index.norms_under(keys)

    def deletion_index_rows(self) -> Iterator[tuple[int, str]]:
        index = self._deletions
        return super().deletion_index_rows() if index is None else index.rows()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (committed on success, rolled back on error); the recorded content hash and the
        entity counts are forgotten, since the content changes (:meth:`finalize` makes them again)."""
        with self.db:
            self.db.execute("DELETE FROM meta WHERE key = 'content_sha256'")
            self.db.execute("DROP TABLE IF EXISTS entity_counts")
            for derived in ("content_hash", "_has_entity_counts"):
                self.__dict__.pop(derived, None)
            yield self.db

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Settings for loading millions of rows into a KB being built: no sync to disk, the rollback journal
        in memory, a 256 MiB page cache. Only for a file that is discarded if the build fails (``build_kb``
        writes a staged copy); the file's content is the same either way."""
        before = {name: self.db.execute(f"PRAGMA {name}").fetchone()[0]
                  for name in ("synchronous", "journal_mode", "cache_size")}
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("PRAGMA journal_mode = MEMORY")
        self.db.execute("PRAGMA cache_size = -262144")
        try:
            yield
        finally:
            for name, value in before.items():
                self.db.execute(f"PRAGMA {name} = {value}")

    # writing ---------------------------------------------------------------------------------
    def add_entities(self, records: Iterable[EntityRecord], source: str) -> int:
        """Insert or merge entity records; returns how many were written."""
        n = 0
        with self.transaction() as db:
            for r in records:
                n += 1
                db.execute("INSERT INTO entities(qid, label, description, popularity) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(qid) DO UPDATE SET label=coalesce(entities.label, excluded.label), "
                           "description=coalesce(entities.description, excluded.description), "
                           "popularity=coalesce(excluded.popularity, entities.popularity)",
                           (r.qid, r.label, r.description, r.popularity))
                self._add_aliases(db, ((alias, r.qid, count) for alias, count in r.aliases.items()), source)
                # sorted: a set's order changes with the hash seed, and with it the file's bytes
                db.executemany("INSERT OR IGNORE INTO classes VALUES (?, ?)", ((r.qid, c) for c in sorted(r.classes)))
                db.executemany("INSERT OR IGNORE INTO facts VALUES (?, ?, ?)",
                               ((r.qid, p, o) for p, o in sorted(r.facts)))
        return n

    @staticmethod
    def _add_aliases(db: sqlite3.Connection, rows: Iterable[tuple[str, str, float]], source: str) -> None:
        db.executemany(
            "INSERT INTO aliases(norm, alias, qid, count, source) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(norm, qid, source) DO UPDATE SET count = aliases.count + excluded.count",
            ((normalize_alias(a), a, q, c, source) for a, q, c in rows if normalize_alias(a)))

    def add_aliases(self, rows: Iterable[tuple[str, str, float]], source: str) -> None:
        """Add (surface form, QID, count) rows."""
        with self.transaction() as db:
            self._add_aliases(db, rows, source)

    def add_class_labels(self, labels: Iterable[tuple[str, str]]) -> None:
        """Add (class QID, label) rows."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO class_labels VALUES (?, ?)", sorted(labels))

    def add_class_types(self, rows: Iterable[tuple[str, str, float]]) -> None:
        """Add (class QID, coarse type, count) rows (counts accumulate)."""
        with self.transaction() as db:
            db.executemany("INSERT INTO class_types VALUES (?, ?, ?) ON CONFLICT(class_qid, type) "
                           "DO UPDATE SET count = class_types.count + excluded.count", rows)

    def set_popularity(self, rows: Iterable[tuple[str, float]]) -> int:
        """Set the popularity of entities (adding bare entities for unknown QIDs)."""
        n = 0
        with self.transaction() as db:
            for qid, value in rows:
                n += 1
                db.execute("INSERT INTO entities(qid, popularity) VALUES (?, ?) "
                           "ON CONFLICT(qid) DO UPDATE SET popularity = excluded.popularity", (qid, value))
        return n

    def add_properties(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Add (pid, label, description, aliases) rows."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO properties VALUES (?, ?, ?, ?)", rows)

    def record_source(self, key: str, value: object) -> None:
        """Remember what was ingested (shown by ``kb stats``)."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def record_documents(self, dataset: str, docs: Iterable[Document], contributes: str) -> None:
        """Remember every document whose annotations went into the KB (its provenance): dataset, id, title,
        hash of its text, and what it contributed (e.g. ``entities,aliases,classes,facts``)."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
                           ((dataset, d.id, d.title, text_hash(d), contributes) for d in docs))

    def finalize(self, fuzzy_index: str | None = None) -> dict[str, int] | None:
        """Recompute alias priors p(entity | alias) over all sources in one grouped pass (linear in the aliases,
        where a per-row sum is quadratic in the entities sharing an alias), label the classes whose entities the
        KB holds, and rebuild the fuzzy index: ``trigram`` (FTS5) or ``one-edit`` (:data:`FUZZY_INDEXES`;
        default: the KB's own, else trigram). Returns what a one-edit index left out (recorded in the KB as
        ``fuzzy_index_not_kept``, shown by ``kb stats``), None for an index that keeps everything."""
        fuzzy_index = check_fuzzy_index(fuzzy_index or self.fuzzy_index)
        self.__dict__.pop("_deletions", None)
        with self.transaction() as db:
            db.execute("CREATE TEMP TABLE alias_totals (norm TEXT PRIMARY KEY, total REAL) WITHOUT ROWID")
            db.execute("INSERT INTO alias_totals SELECT norm, sum(count) FROM aliases GROUP BY norm")
            db.execute("UPDATE aliases SET prior = count / "
                       "(SELECT total FROM alias_totals t WHERE t.norm = aliases.norm)")
            db.execute("DROP TABLE alias_totals")
            db.execute("DROP TABLE IF EXISTS entity_counts")
            db.execute(f"CREATE TABLE entity_counts ({ENTITY_COUNTS}) WITHOUT ROWID")
            db.execute("INSERT INTO entity_counts SELECT norm, sum(count), qid FROM aliases GROUP BY norm, qid")
            db.execute("INSERT OR IGNORE INTO class_labels SELECT DISTINCT c.class_qid, e.label FROM classes c "
                       "JOIN entities e ON e.qid = c.class_qid WHERE e.label IS NOT NULL ORDER BY c.class_qid")
            not_kept = _build_fuzzy_index(db, fuzzy_index, deletions_path(self.path))
        self.fuzzy_index = fuzzy_index
        for derived in ("_has_entity_counts", "_has_word_drops"):  # the tables finalize has just made
            self.__dict__.pop(derived, None)
        with self.db:  # after the transaction above, which forgets it
            self.db.execute("INSERT INTO meta VALUES ('content_sha256', ?)", (json.dumps(self.compute_content_hash()),))
        self.__dict__.pop("content_hash", None)
        self.db.execute("VACUUM")
        return not_kept

    # reading: the back-end's part of KnowledgeBaseReader ---------------------------------------------
    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        return self.db.execute(sql, tuple(params)).fetchall()

    def _nearest_aliases(self, norm: str, limit: int) -> list[str]:
        # bm25 called by name: the order of ORDER BY rank (the same function), about 15% faster
        return [n for (n,) in self._rows("SELECT norm FROM alias_trigrams WHERE alias_trigrams MATCH ? "
                                         "ORDER BY bm25(alias_trigrams) LIMIT ?", (_fts_query(norm), limit))]

    def _has_table(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)))


#: URL schemes of a ``--kb`` value that name a database server (:mod:`rexel_bench.kb.server`) instead of a file.
SERVER_SCHEMES = ("postgresql", "postgres")


def is_server_url(location: object) -> bool:
    """Whether a ``--kb`` value names a database server (``postgresql://...``) rather than a file."""
    return isinstance(location, str) and location.split("://", 1)[0] in SERVER_SCHEMES and "://" in location


def kb_location(value: str | Path) -> str | Path:
    """A ``--kb`` value as a location: a server URL stays as it is, anything else is a path."""
    return value if is_server_url(value) else Path(value)


def open_kb(location: str | Path) -> KnowledgeBaseReader:
    """The KB at ``location`` for reading: a file (:class:`KnowledgeBase`), or a database server's URL
    (:class:`rexel_bench.kb.server.ServerKnowledgeBase`)."""
    if is_server_url(location):
        from rexel_bench.kb.server import ServerKnowledgeBase

        return ServerKnowledgeBase(str(location))
    return KnowledgeBase(location)


#: A key of ``alias_word_drops`` that more aliases than this share is not kept: it cannot tell them apart (a text
#: that begins or ends many longer names, "university of"), and reading it would make a look-up's cost grow with
#: the KB.
COMMON_KEY_ROWS = 100

#: SQLite's page cache of a KB connection, in KiB (SQLite's default is 2 MiB): the inner pages of the look-up
#: indexes of a KB of millions of entities stay in memory, so that a look-up reads mostly their leaves. Pages are
#: cached as they are read: a small KB takes no more than its size.
PAGE_CACHE_KIB = 65536

#: At most this many aliases' first rows are read in one statement (:meth:`KnowledgeBaseReader._heads`): well
#: under SQLite's limit of 500 terms in a compound ``SELECT``.
HEADS_PER_STATEMENT = 100

#: ``entity_counts``: each entity's alias count summed over sources, per normalised alias, kept in the order a
#: look-up reads it (derived by :meth:`KnowledgeBase.finalize`).
ENTITY_COUNTS = "norm TEXT NOT NULL, total REAL NOT NULL, qid TEXT NOT NULL, PRIMARY KEY (norm, total DESC, qid)"

#: The tables whose rows are the KB's content (:meth:`KnowledgeBase.compute_content_hash`).
CONTENT_TABLES = ("entities", "aliases", "classes", "class_labels", "class_types", "facts", "properties", "meta",
                  "documents")


class _NamedConnection(sqlite3.Connection):
    """A connection whose errors name the KB file (a damaged or unreadable KB is one line that says which)."""

    file = ""

    def _named(self, exc: sqlite3.Error) -> DataError:
        return DataError(f"knowledge base: {exc}", file=self.file)

    def execute(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            raise self._named(exc) from exc

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().executemany(*args)
        except sqlite3.DatabaseError as exc:
            raise self._named(exc) from exc

    def executescript(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().executescript(*args)
        except sqlite3.DatabaseError as exc:
            raise self._named(exc) from exc


#: The fuzzy indexes a KB can be built with (``kb build --fuzzy-index``): ``trigram`` (FTS5 ranks the aliases
#: sharing a trigram by bm25 and 20 are kept), ``one-edit`` (symmetric deletions: the aliases one letter or one
#: word away), ``prefix-trigram`` (every alias whose trigram similarity reaches the threshold, found by reading the
#: postings of only the query's rarest trigrams: prefix filtering), and ``one-edit+prefix-trigram`` (the aliases of
#: both).
FUZZY_INDEXES = ("trigram", "one-edit", "prefix-trigram", "one-edit+prefix-trigram")

#: The tables each part of a fuzzy index adds to the KB (``alias_trigrams`` is in every KB's schema, empty unless
#: used).
FUZZY_TABLES = {
    "one-edit": {"alias_word_drops": "key INTEGER NOT NULL, norm TEXT NOT NULL, PRIMARY KEY (key, norm)"},
    "prefix-trigram": {"alias_grams": "gram TEXT NOT NULL, size INTEGER NOT NULL, norm TEXT NOT NULL, "
                                      "PRIMARY KEY (gram, size, norm)",
                       "gram_counts": "gram TEXT PRIMARY KEY, n INTEGER NOT NULL"},
}


#: Every table a fuzzy index may add (``alias_deletions``: the one-edit index's deletion keys in a KB built before
#: they were kept in a file beside it, :mod:`rexel_bench.kb.deletions`).
FUZZY_TABLE_NAMES = frozenset({"alias_deletions", *(t for tables in FUZZY_TABLES.values() for t in tables)})


def index_parts(fuzzy_index: str) -> tuple[str, ...]:
    """The parts a fuzzy index is made of (``one-edit+prefix-trigram`` → both)."""
    return tuple(fuzzy_index.split("+"))


def _build_fuzzy_index(db: sqlite3.Connection, fuzzy_index: str, deletions: Path) -> dict[str, int] | None:
    """Rebuild the KB's fuzzy index from its aliases (the other indexes' tables, and the deletion keys' file
    ``deletions`` if the index has no one-edit part, removed), streaming the aliases, and record which it is and
    what it left out (a trigram KB records nothing: its bytes are as they always were); returns what was left out
    (:func:`_drop_common_word_keys`), None if the index keeps every alias."""
    db.execute("DELETE FROM alias_trigrams")
    for table in sorted(FUZZY_TABLE_NAMES):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute("DELETE FROM meta WHERE key IN ('fuzzy_index', 'fuzzy_index_not_kept', 'deletion_index')")
    if "one-edit" not in index_parts(fuzzy_index):
        deletions.unlink(missing_ok=True)
    if fuzzy_index == "trigram":
        db.execute("INSERT INTO alias_trigrams(norm) SELECT DISTINCT norm FROM aliases")
        return None
    not_kept = None
    for part in index_parts(fuzzy_index):
        for table, columns in FUZZY_TABLES[part].items():
            db.execute(f"CREATE TABLE {table} ({columns}) WITHOUT ROWID")
        if part == "one-edit":
            written = write_deletion_index(deletions, _distinct_norms(db), deletion_keys)
            db.execute("INSERT INTO meta VALUES ('deletion_index', ?)", (json.dumps(written),))
            _fill_in_key_order(db, "alias_word_drops", ((_key(drop), norm) for norm in _distinct_norms(db)
                                                         for drop in word_drops(norm, keep=2)))
            not_kept = _drop_common_word_keys(db)
            db.execute("INSERT INTO meta VALUES ('fuzzy_index_not_kept', ?)", (json.dumps(not_kept),))
        else:
            _fill_in_key_order(db, "alias_grams", ((gram, len(grams), norm) for norm in _distinct_norms(db)
                                                    for grams in (_trigrams(norm),) for gram in grams))
            db.execute("INSERT INTO gram_counts SELECT gram, count(*) FROM alias_grams GROUP BY gram")
    db.execute("INSERT OR REPLACE INTO meta VALUES ('fuzzy_index', ?)", (json.dumps(fuzzy_index),))
    return not_kept


def _distinct_norms(db: sqlite3.Connection) -> Iterator[str]:
    """The KB's normalised aliases, each once, streamed."""
    return (norm for (norm,) in db.execute("SELECT DISTINCT norm FROM aliases ORDER BY norm"))


def _fill_in_key_order(db: sqlite3.Connection, table: str, rows: Iterable[tuple]) -> None:
    """Insert ``rows`` into the ``WITHOUT ROWID`` index ``table`` (a repeated row once) in its key's order: staged
    in a temporary table, sorted by SQLite's external sorter and appended, rather than inserted at random places
    of a B-tree that outgrows the page cache (whose cost per row grows with the KB)."""
    columns = db.execute(f"PRAGMA table_info({table})").fetchall()  # (cid, name, type, notnull, default, pk)
    key = [name for pk, name in sorted((column[5], column[1]) for column in columns) if pk]
    db.execute(f"CREATE TEMP TABLE staged AS SELECT * FROM {table} WHERE 0")
    db.executemany(f"INSERT INTO temp.staged VALUES ({', '.join('?' * len(columns))})", rows)
    db.execute(f"INSERT OR IGNORE INTO {table} SELECT * FROM temp.staged ORDER BY {', '.join(key)}")
    db.execute("DROP TABLE temp.staged")


def _drop_common_word_keys(db: sqlite3.Connection) -> dict[str, int]:
    """Delete the ``alias_word_drops`` keys that more than :data:`COMMON_KEY_ROWS` aliases share, and count them:
    ``word_drop_keys`` deleted, ``alias_rows`` they held (an alias under such a key is still found by its other
    keys and by every letter edit), ``over_rows`` the limit."""
    common = "SELECT key, count(*) AS n FROM alias_word_drops GROUP BY key HAVING count(*) > ?"
    keys, rows = db.execute(f"SELECT count(*), coalesce(sum(n), 0) FROM ({common})", (COMMON_KEY_ROWS,)).fetchone()
    db.execute(f"DELETE FROM alias_word_drops WHERE key IN (SELECT key FROM ({common}))", (COMMON_KEY_ROWS,))
    return {"word_drop_keys": keys, "alias_rows": rows, "over_rows": COMMON_KEY_ROWS}


def check_fuzzy_index(name: str) -> str:
    """``name`` if it is one of :data:`FUZZY_INDEXES`, else an error listing them."""
    if name not in FUZZY_INDEXES:
        raise ConfigError(f"fuzzy index {name!r}: expected one of {', '.join(FUZZY_INDEXES)}", field="fuzzy_index")
    return name


def _key(text: str) -> int:
    """A stable signed 64-bit key of a string (SQLite's integer), the same in every process."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def deletion_keys(norm: str) -> set[int]:
    """The keys of ``norm`` and of every string one character shorter: two strings within one edit share one."""
    return {_key(norm)} | {_key(norm[:i] + norm[i + 1:]) for i in range(len(norm))}


def word_drops(norm: str, keep: int) -> set[str]:
    """``norm`` with one of its words dropped, each keeping at least ``keep`` words (none for a shorter text)."""
    words = norm.split(" ")
    return {" ".join(words[:i] + words[i + 1:]) for i in range(len(words))} if len(words) > keep else set()


def probe_keys(norm: str) -> set[int]:
    """The keys a one-edit look-up of ``norm`` probes in the deletion keys: its :func:`deletion_keys` and the
    keys of it with one word dropped (an alias a word shorter, under its own key: "new york city" → "new york").
    An alias a word longer is filed in ``alias_word_drops`` under each text it gives with a word dropped, for
    aliases of three or more words ("ulysses grant" → "ulysses s grant"): two-word aliases are not filed under
    single words, which whole families of names share."""
    return deletion_keys(norm) | {_key(drop) for drop in word_drops(norm, keep=1)}


def one_word_apart(a: str, b: str) -> bool:
    """Whether one of ``a`` and ``b`` is the other with one whole word dropped."""
    short, long = sorted((a.split(" "), b.split(" ")), key=len)
    return len(long) == len(short) + 1 and any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter dropped, added or replaced, or two neighbouring letters swapped
    (optimal string alignment distance at most 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):
        return a[start:] == b[start + 1:]
    swapped = start + 1 < len(a) and a[start] == b[start + 1] and a[start + 1] == b[start]
    return a[start + 1:] == b[start + 1:] or (swapped and a[start + 2:] == b[start + 2:])


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def _jaccard(ta: set[str], tb: set[str]) -> float:
    """Jaccard similarity of two trigram sets (trigram similarity of their strings)."""
    return len(ta & tb) / len(ta | tb) if ta or tb else 0.0


def _fts_query(norm: str) -> str:
    """An FTS5 trigram query matching any trigram of the text (quoted, so punctuation is safe)."""
    grams = {norm[i:i + 3] for i in range(len(norm) - 2)}
    return " OR ".join('"' + g.replace('"', '""') + '"' for g in sorted(grams))
