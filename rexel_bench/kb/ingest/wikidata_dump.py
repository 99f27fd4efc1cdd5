"""Ingest the official Wikidata JSON dump (``.json``, ``.json.gz``, ``.json.bz2``) in constant memory.

The dump is one JSON array with one entity per line (``[``, then ``{...},`` lines, then ``]``).
:func:`iter_dump` streams it line by line, whatever its size. :func:`ingest_dump` runs the parsing on
Dask: the dump is cut into partitions (byte ranges of an uncompressed file; whole files for
compressed ones — give a dump split into several compressed parts to parallelise those), each worker
streams its partition and returns only the filtered, compact records, and the client writes them into
SQLite partition by partition. Memory therefore depends on the partition's *kept* records, never on
the dump's size. The cluster is a local one unless a ``dask.distributed`` scheduler address is given.
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rexel_bench.errors import DataError
from rexel_bench.kb.normalize import normalize_alias
from rexel_bench.kb.store import EntityRecord, KnowledgeBase
from rexel_bench.progress import progress_bar

CLASS_PROPERTIES = ("P31", "P279")


@dataclass(frozen=True)
class DumpFilter:
    """Which entities and properties to keep (None: all)."""

    qids: frozenset[str] | None = None
    properties: frozenset[str] | None = None
    language: str = "en"

    def keeps(self, qid: str) -> bool:
        """Whether an entity is kept."""
        return self.qids is None or qid in self.qids

    def keeps_property(self, pid: str) -> bool:
        """Whether a property's facts are kept (P31/P279 always feed the classes)."""
        return self.properties is None or pid in self.properties


def open_dump(path: str | Path) -> IO[str]:
    """Open a dump file as text, by its compression suffix."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def parse_line(line: str) -> dict | None:
    """One dump line → the entity object, or None for the array brackets and blank lines."""
    line = line.strip().rstrip(",")
    if not line or line in ("[", "]"):
        return None
    return json.loads(line)


def _map(entity: dict, key: str) -> dict:
    """A map of an entity (labels, aliases, claims...): old dumps write an empty one as ``[]``."""
    value = entity.get(key)
    return value if isinstance(value, dict) else {}


def _item_value(snak: dict) -> str | None:
    value = snak.get("datavalue", {}).get("value")
    return value.get("id") if isinstance(value, dict) and value.get("entity-type") == "item" else None


#: How a dump alias is weighted in p(entity | alias): by how many Wikipedia editions link the entity, so that
#: the Paris of 180 sitelinks ranks above an obscure homonym (stated in the KB's sources).
ALIAS_PRIOR = "1 + sitelink count of the entity, once per spelling (aliases equal after normalisation count once)"


def _names(entity: dict, key: str, lang: str) -> list[str]:
    """The entity's labels or aliases in ``lang``, then in ``mul`` (the language-neutral labels)."""
    out = []
    for code in (lang, "mul"):
        value = _map(entity, key).get(code)
        values = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        out += [v["value"] for v in values if isinstance(v, dict) and isinstance(v.get("value"), str)]
    return out


def to_record(entity: dict, keep: DumpFilter) -> EntityRecord | None:
    """An entity object → the record the KB stores (None if filtered out or not an item). Labels and aliases in
    the filter's language, else the ``mul`` ones; each spelling weighted by :data:`ALIAS_PRIOR`; the sitelink
    count as popularity."""
    qid = entity.get("id", "")
    if entity.get("type") != "item" or not keep.keeps(qid):
        return None
    lang = keep.language
    labels = _names(entity, "labels", lang)
    label = labels[0] if labels else None
    sitelinks = len(_map(entity, "sitelinks"))
    aliases: dict[str, float] = {}
    seen: set[str] = set()
    for name in [*labels[:1], *_names(entity, "aliases", lang)]:
        key = normalize_alias(name)
        if key not in seen:  # "U.S.", "US" and "U.S" are one spelling of one entity
            seen.add(key)
            aliases[name] = 1.0 + sitelinks
    classes, facts = set(), set()
    for pid, statements in _map(entity, "claims").items():
        for statement in statements:
            target = _item_value(statement.get("mainsnak", {}))
            if target is None:
                continue
            if pid in CLASS_PROPERTIES:
                classes.add(target)
            if keep.keeps_property(pid):
                facts.add((pid, target))
    return EntityRecord(qid=qid, label=label, description=_map(entity, "descriptions").get(lang, {}).get("value"),
                        aliases=aliases, classes=classes, facts=facts, popularity=float(sitelinks))


def iter_dump(path: str | Path, keep: DumpFilter, start: int = 0, end: int | None = None) -> Iterator[EntityRecord]:
    """Stream the kept records of a dump (or of the byte range ``[start, end)`` of an uncompressed one).

    A byte range owns the lines that start inside it, so consecutive ranges cover every line once.
    """
    path = Path(path)
    if start or end is not None:
        with path.open("rb") as f:
            if start:
                f.seek(start - 1)
                if f.read(1) != b"\n":
                    f.readline()  # the line that straddles the start belongs to the previous range
            while end is None or f.tell() < end:
                raw = f.readline()
                if not raw:
                    break
                yield from _records([raw.decode("utf-8")], keep, path)
        return
    with open_dump(path) as f:
        yield from _records(f, keep, path)


def _records(lines: Iterable[str], keep: DumpFilter, path: Path) -> Iterator[EntityRecord]:
    for number, line in enumerate(lines, 1):
        try:
            entity = parse_line(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not a Wikidata dump line: {exc.msg}", file=str(path), field=f"line {number}") from exc
        if entity is not None and not isinstance(entity, dict):
            raise DataError("", file=str(path), field=f"line {number}", expected="an entity object",
                            found=line.strip()[:60])
        if entity is not None:
            record = to_record(entity, keep)
            if record is not None:
                yield record


def partitions(paths: Iterable[str | Path], block_size: int = 64 << 20) -> list[tuple[str, int, int | None]]:
    """Dump partitions: byte ranges of uncompressed files, whole compressed files."""
    out = []
    for path in map(Path, paths):
        if path.suffix in (".gz", ".bz2"):
            out.append((str(path), 0, None))
            continue
        size = path.stat().st_size
        out += [(str(path), start, min(start + block_size, size)) for start in range(0, size, block_size)] or \
            [(str(path), 0, 0)]
    return out


def _partition_records(spec: tuple[str, int, int | None], keep: DumpFilter) -> list[EntityRecord]:
    path, start, end = spec
    if end is None:
        return list(iter_dump(path, keep))
    return list(iter_dump(path, keep, start, end))


def ingest_dump(kb: KnowledgeBase, paths: Iterable[str | Path], keep: DumpFilter, *, scheduler: str | None = None,
                block_size: int = 64 << 20, workers: int | None = None, progress: bool = False) -> int:
    """Parse dump partitions on a Dask cluster and write the kept records; returns how many were kept.

    ``scheduler`` is a ``dask.distributed`` address (``tcp://host:8786``); without one, a local
    cluster of ``workers`` processes (default: the CPU count) is started and stopped.
    """
    import dask.bag as db

    from rexel_bench.distributed import cluster

    specs = partitions(paths, block_size)
    kept = 0
    with cluster(scheduler, workers or os.cpu_count() or 1) as client:
        bag = db.from_sequence(specs, npartitions=len(specs)).map(_partition_records, keep)
        for future in _as_completed(client, bag, progress):
            for records in future.result():
                kept += kb.add_entities(records, source="wikidata-dump")
            future.release()
    return kept


def _as_completed(client, bag, progress: bool):
    from dask.distributed import as_completed

    futures = client.compute(bag.to_delayed())
    with progress_bar(enabled=progress) as bar:
        task = bar.add_task("Wikidata dump partitions", total=len(futures))
        for future in as_completed(futures):
            bar.advance(task)
            yield future
