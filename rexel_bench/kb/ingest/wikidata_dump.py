"""Ingest the official Wikidata JSON dump (``.json``, ``.json.gz``, ``.json.bz2``) in bounded memory, on every core.

The dump is one JSON array with one entity per line (``[``, then ``{...},`` lines, then ``]``).
:func:`iter_dump` streams it line by line, whatever its size. :func:`ingest_dump` parses it on Dask, cut into
pieces (:func:`dump_pieces`): byte ranges of an uncompressed file, which each worker reads itself, and runs of
lines of a compressed one, which the client decompresses (in parallel threads with ``rapidgzip`` or
``indexed_bzip2`` when installed) and sends, so that one ``latest-all.json.bz2`` keeps every worker busy. At most
two pieces per worker are in flight (:func:`rexel_bench.distributed.map_partitions`) and their records are
written in dump order as they come back, so memory depends on the piece size, never on the dump's, and the KB is
the one a single process would write. The cluster is a local one unless a ``dask.distributed`` scheduler address
is given.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rexel_bench.errors import DataError
from rexel_bench.kb.normalize import normalize_alias
from rexel_bench.kb.store import EntityRecord, KnowledgeBase

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


COMPRESSED = (".gz", ".bz2")


def open_dump(path: str | Path, threads: int = 1) -> IO[str]:
    """Open a dump file as text, by its compression suffix; with ``threads`` > 1, a compressed file is
    decompressed by that many threads (``rapidgzip`` for gzip, ``indexed_bzip2`` for bzip2, when installed;
    the standard library's one-thread readers otherwise)."""
    path = Path(path)
    if path.suffix not in COMPRESSED:
        return path.open(encoding="utf-8")
    if threads > 1:
        try:
            if path.suffix == ".gz":
                import rapidgzip

                raw = rapidgzip.open(str(path), parallelization=threads)
            else:
                import indexed_bzip2

                raw = indexed_bzip2.open(str(path), parallelization=threads)
            return io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8")
        except ImportError:
            pass
    opener = gzip.open if path.suffix == ".gz" else bz2.open
    return opener(path, "rt", encoding="utf-8")


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
        yield from _records(_range_lines(path, start, end), keep, path)
        return
    with open_dump(path) as f:
        yield from _records(((f"line {n}", line) for n, line in enumerate(f, 1)), keep, path)


def _range_lines(path: Path, start: int, end: int | None) -> Iterator[tuple[str, str]]:
    """The lines that start inside the byte range, each with where it starts (``byte N``)."""
    with path.open("rb") as f:
        if start:
            f.seek(start - 1)
            if f.read(1) != b"\n":
                f.readline()  # the line that straddles the start belongs to the previous range
        while end is None or f.tell() < end:
            at = f.tell()
            raw = f.readline()
            if not raw:
                break
            yield f"byte {at}", raw.decode("utf-8")


def _records(lines: Iterable[tuple[str, str]], keep: DumpFilter, path: Path) -> Iterator[EntityRecord]:
    """The kept records of ``(where, line)`` pairs; a line that is not an entity is an error naming where it is."""
    for where, line in lines:
        try:
            entity = parse_line(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not a Wikidata dump line: {exc.msg}", file=str(path), field=where) from exc
        if entity is not None and not isinstance(entity, dict):
            raise DataError("", file=str(path), field=where, expected="an entity object", found=line.strip()[:60])
        if entity is not None:
            record = to_record(entity, keep)
            if record is not None:
                yield record


@dataclass(frozen=True)
class DumpPiece:
    """One piece of parsing work: the byte range ``[start, end)`` of an uncompressed dump file (read by the
    worker), or ``text``, a run of a compressed dump's lines from line ``start`` on (decompressed by the client)."""

    path: str
    start: int
    end: int | None = None
    text: str | None = None

    @property
    def id(self) -> str:
        """Where the piece is, for messages (``latest-all.json.bz2 line 1200001``)."""
        where = f"line {self.start}" if self.text is not None else f"byte {self.start}"
        return f"{Path(self.path).name} {where}"

    def lines(self) -> Iterator[tuple[str, str]]:
        """The piece's lines, each with where it is in its file."""
        if self.text is None:
            return _range_lines(Path(self.path), self.start, self.end)
        return ((f"line {n}", line) for n, line in enumerate(self.text.splitlines(), self.start))


def dump_pieces(paths: Iterable[str | Path], block_size: int = 16 << 20, threads: int = 1) -> Iterator[DumpPiece]:
    """The dumps cut into pieces of about ``block_size`` bytes, in dump order, read lazily: byte ranges of
    uncompressed files; runs of whole lines of compressed ones, decompressed with ``threads`` threads."""
    for path in map(Path, paths):
        if path.suffix in COMPRESSED:
            yield from _line_runs(path, block_size, threads)
            continue
        size = path.stat().st_size
        for start in range(0, size, block_size):
            yield DumpPiece(str(path), start, min(start + block_size, size))


def _line_runs(path: Path, block_size: int, threads: int) -> Iterator[DumpPiece]:
    with open_dump(path, threads) as f:
        first, lines, size = 1, [], 0
        for number, line in enumerate(f, 1):
            lines.append(line)
            size += len(line)
            if size >= block_size:
                yield DumpPiece(str(path), first, text="".join(lines))
                first, lines, size = number + 1, [], 0
        if lines:
            yield DumpPiece(str(path), first, text="".join(lines))


def parse_pieces(pieces: list[DumpPiece], keep: DumpFilter) -> list[EntityRecord]:
    """The kept records of some pieces (the task each Dask worker runs)."""
    return [record for piece in pieces for record in _records(piece.lines(), keep, Path(piece.path))]


def ingest_dump(kb: KnowledgeBase, paths: Iterable[str | Path], keep: DumpFilter, *, scheduler: str | None = None,
                block_size: int = 16 << 20, workers: int | None = None, progress: bool = False) -> int:
    """Parse the dumps' pieces on a Dask cluster and write the kept records in dump order; returns how many were
    kept (an entity in several dumps counts once per dump).

    ``scheduler`` is a ``dask.distributed`` address (``tcp://host:8786``); without one, a local cluster of
    ``workers`` processes (default: the CPU count) is started and stopped. Compressed dumps are decompressed
    here with as many threads.
    """
    from rexel_bench.distributed import map_partitions

    workers = workers or os.cpu_count() or 1
    parts = ([piece] for piece in dump_pieces(paths, block_size, threads=workers))
    kept = 0
    with kb.bulk_load():
        for records in map_partitions(functools.partial(parse_pieces, keep=keep), parts, scheduler=scheduler,
                                      workers=workers, progress=progress):
            kept += kb.add_entities(records, source="wikidata-dump")
    return kept
