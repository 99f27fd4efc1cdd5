"""A knowledge base served by PostgreSQL, for a lab that shares one Wikidata-size KB between machines.

``rexel-bench kb load URL --kb FILE`` copies a built KB file into a PostgreSQL database (its tables, its fuzzy
index's tables, and a pg_trgm GiST index on the normalised aliases); every command that takes ``--kb`` then
accepts the URL (``postgresql://user@host/db``), and :func:`rexel_bench.kb.store.open_kb` returns a
:class:`ServerKnowledgeBase`: the same reads, by the same SQL, as the embedded file
(:class:`~rexel_bench.kb.store.KnowledgeBaseReader`). Exact, one-edit and prefix-trigram look-ups (and the two
together) return exactly the file's candidates. A trigram look-up ranks the 20 nearest aliases with pg_trgm's
indexed nearest-neighbour search (``norm <-> text``) where the file ranks them with FTS5's bm25, then both keep
those whose trigram similarity is at least ``min_similarity`` and weight them alike: the candidates are the same
whenever the aliases above the threshold are among both rankings' 20 (always, when fewer than 20 aliases share
a trigram with the text).
Needs ``psycopg`` (``pip install "rexel-bench[server]"``) and a server with the ``pg_trgm`` extension
(Debian: ``apt-get install postgresql postgresql-contrib``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rexel_bench.errors import ConfigError, DataError
from rexel_bench.kb.store import (
    FUZZY_INDEXES,
    FUZZY_TABLE_NAMES,
    FUZZY_TABLES,
    KnowledgeBase,
    KnowledgeBaseReader,
    index_parts,
)

#: The tables as PostgreSQL creates them (:data:`~rexel_bench.kb.store.CONTENT_TABLES` and the fuzzy indexes'):
#: text compared byte by byte (``COLLATE "C"``, SQLite's order), counts as doubles (SQLite's REAL).
TABLES = {
    "entities": 'qid text COLLATE "C" PRIMARY KEY, label text, description text, popularity double precision',
    "aliases": 'norm text COLLATE "C" NOT NULL, alias text NOT NULL, qid text COLLATE "C" NOT NULL, '
               "count double precision NOT NULL, prior double precision, source text NOT NULL",
    "classes": 'qid text COLLATE "C" NOT NULL, class_qid text COLLATE "C" NOT NULL',
    "class_labels": 'class_qid text COLLATE "C" PRIMARY KEY, label text',
    "class_types": 'class_qid text COLLATE "C" NOT NULL, type text NOT NULL, count double precision NOT NULL',
    "facts": 'subject text COLLATE "C" NOT NULL, property text NOT NULL, object text COLLATE "C" NOT NULL',
    "properties": "pid text PRIMARY KEY, label text, description text, aliases text",
    "meta": "key text PRIMARY KEY, value text",
    "documents": "dataset text NOT NULL, doc_id text NOT NULL, title text, text_sha256 text NOT NULL, "
                 "contributes text NOT NULL",
    "alias_deletions": 'key bigint NOT NULL, norm text COLLATE "C" NOT NULL',
    "alias_word_drops": 'key bigint NOT NULL, norm text COLLATE "C" NOT NULL',
    "entity_counts": 'norm text COLLATE "C" NOT NULL, total double precision NOT NULL, qid text COLLATE "C" NOT NULL',
    "alias_grams": 'gram text COLLATE "C" NOT NULL, size integer NOT NULL, norm text COLLATE "C" NOT NULL',
    "gram_counts": 'gram text COLLATE "C" PRIMARY KEY, n integer NOT NULL',
}

#: Indexes built after the rows are copied (bulk loading), among them pg_trgm's GiST index for nearest aliases.
INDEXES = (
    "CREATE INDEX aliases_norm ON aliases (norm)",
    "CREATE INDEX aliases_qid ON aliases (qid)",
    "CREATE INDEX classes_qid ON classes (qid)",
    "CREATE INDEX class_types_class ON class_types (class_qid)",
    "CREATE INDEX facts_subject ON facts (subject, property, object)",
    "CREATE INDEX entity_counts_top ON entity_counts (norm, total DESC, qid)",
    "CREATE INDEX alias_deletions_key ON alias_deletions (key)",
    "CREATE INDEX alias_word_drops_key ON alias_word_drops (key)",
    "CREATE INDEX alias_grams_gram ON alias_grams (gram, size)",
    "CREATE TABLE alias_norms AS SELECT DISTINCT norm FROM aliases",
    "CREATE INDEX alias_norms_trgm ON alias_norms USING gist (norm gist_trgm_ops)",
)


def redacted(url: str) -> str:
    """The URL without its password, as runs record it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _connect(url: str) -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError('a KB on a server needs psycopg: pip install "rexel-bench[server]"', field="kb") from exc
    try:
        return psycopg.connect(url)
    except psycopg.OperationalError as exc:
        raise ConfigError(f"cannot connect to the knowledge base server: {str(exc).strip()}", file=redacted(url),
                          field="kb") from exc


class ServerKnowledgeBase(KnowledgeBaseReader):
    """A KB read from a PostgreSQL database that ``rexel-bench kb load`` filled (read only)."""

    def __init__(self, url: str) -> None:
        self.location = redacted(url)
        parts = urlsplit(url)
        self.name = f"{parts.path.lstrip('/') or 'postgres'} on {parts.hostname or 'localhost'}"
        self.db = _connect(url)
        self.db.autocommit = True
        if not self._has_table("meta") or not self._rows("SELECT 1 FROM meta WHERE key = 'content_sha256'"):
            self.db.close()
            raise ConfigError("this database holds no knowledge base (fill it with rexel-bench kb load)",
                              file=self.location, field="kb")

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self.db.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), tuple(params))
            return cursor.fetchall()

    def _nearest_aliases(self, norm: str, limit: int) -> list[str]:
        # pg_trgm's indexed nearest-neighbour search: the GiST index hands out aliases by trigram distance
        return [n for (n,) in self._rows("SELECT norm FROM alias_norms ORDER BY norm <-> ?, norm LIMIT ?",
                                         (norm, limit))]

    def _has_table(self, name: str) -> bool:
        return self._rows("SELECT to_regclass(?)", (name,))[0][0] is not None

    def compute_content_hash(self) -> str:
        """The hash :func:`load_kb` recorded: the KB file's, whose content the database holds."""
        return json.loads(self._rows("SELECT value FROM meta WHERE key = 'content_sha256'")[0][0])

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


def load_kb(kb: KnowledgeBase, url: str) -> dict[str, int]:
    """Copy a built KB file into the PostgreSQL database at ``url`` (replacing the KB it held), with the pg_trgm
    extension and the indexes built after the rows; returns the rows copied per table. One transaction: a
    failed load leaves the database as it was."""
    if kb.fuzzy_index not in FUZZY_INDEXES:
        raise DataError(f"unknown fuzzy index {kb.fuzzy_index!r}", file=kb.location)
    content_hash = kb.content_hash
    copied: dict[str, int] = {}
    parts = index_parts(kb.fuzzy_index)  # the fuzzy index's tables, the deletion keys among them
    kept = {table for part in parts for table in FUZZY_TABLES.get(part, {})} | \
        ({"alias_deletions"} if "one-edit" in parts else set())
    with _connect(url) as db, db.transaction(), db.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("DROP TABLE IF EXISTS alias_norms, " + ", ".join(TABLES))
        for table, columns in TABLES.items():
            cursor.execute(f"CREATE TABLE {table} ({columns})")
            if table in FUZZY_TABLE_NAMES and table not in kept:
                copied[table] = 0
                continue
            names = [re.match(r"\w+", c.strip()).group(0) for c in columns.split(",")]
            source = kb.deletion_index_rows() if table == "alias_deletions" else \
                kb.db.execute(f"SELECT {', '.join(names)} FROM {table}") if kb._has_table(table) else []
            with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                copied[table] = 0
                for row in source:
                    copy.write_row(row)
                    copied[table] += 1
        if not copied["entity_counts"]:  # a KB file finalised before it kept them
            cursor.execute("INSERT INTO entity_counts SELECT norm, sum(count), qid FROM aliases GROUP BY norm, qid")
        for statement in INDEXES:
            cursor.execute(statement)
        cursor.execute("INSERT INTO meta VALUES ('content_sha256', %s) ON CONFLICT (key) DO UPDATE "
                       "SET value = excluded.value", (json.dumps(content_hash),))
        cursor.execute("ANALYZE")
    return copied
