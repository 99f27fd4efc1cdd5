"""The one-edit index's deletion keys as a hash-addressed file beside the KB (``<kb>-deletions``): a probe costs
a directory read and a few neighbouring keys, whatever the KB's size, where a B-tree probe costs one page per level
and the levels grow with the index.

The file holds every (deletion key, alias) pair of :func:`~rexel_bench.kb.store.deletion_keys`: the keys as
unsigned 64-bit integers in ascending order with the alias number of each, a directory that gives, for each value
of a key's top ``bits`` bits, where its keys begin, and the distinct normalised aliases (numbered in their order)
as UTF-8 text with their offsets. A 4 KiB header names the format, the sections and the ``sha256`` of the aliases
it was made from, which the KB records (``meta.deletion_index``) so that a reader never uses a file made for other
aliases. It is written in bounded memory: the pairs go to 256 partition files by their top byte, each sorted on
its own.
"""

from __future__ import annotations

import hashlib
import json
import math
import mmap
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from rexel_bench.errors import DataError

MAGIC = b"rexel-bench deletion index\n"
FORMAT = 1
HEADER_BYTES = 4096
#: Pairs held in memory before they are appended to their partition files while writing.
BATCH_PAIRS = 4_000_000
PARTITIONS = 256
#: Keys per directory entry, on average: a probe reads one entry and its bucket's keys (128 bytes on average, in one
#: page of the file), and the directory is an eighth of the keys' size (128 MiB for 10 million entities).
BUCKET_KEYS = 16
#: A bucket holding more keys than this (a key that many aliases share) is searched on its own; the others are
#: searched together, as one array as wide as the widest.
WIDE_BUCKET = 4 * BUCKET_KEYS
_UNSIGNED = (1 << 64) - 1
_SECTIONS = (("keys", "<u8"), ("ids", "<u4"), ("directory", "<u8"), ("offsets", "<u8"), ("text", "u1"))


def deletions_path(kb_path: str | Path) -> Path:
    """Where the deletion keys of the KB file ``kb_path`` are kept: beside it, its name with ``-deletions``."""
    return Path(f"{kb_path}-deletions")


def write_deletion_index(path: Path, norms: Iterable[str], keys_of: Callable[[str], Iterable[int]],
                         batch_pairs: int = BATCH_PAIRS) -> dict[str, object]:
    """Write the deletion index of the distinct normalised aliases ``norms`` (in ascending order, each once) at
    ``path``, each filed under ``keys_of(norm)`` (signed 64-bit keys); returns what the KB records of it: the
    ``sha256`` of the aliases and of the format, and the number of ``entries``. At most ``batch_pairs`` pairs
    are held in memory before they go to their partition files."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as tmp:
        work = Path(tmp)
        digest, count, pairs = _partition(work, norms, keys_of, batch_pairs)
        bits = max(8, math.ceil(math.log2(max(pairs, 1) / BUCKET_KEYS)))
        sizes = {"keys": pairs * 8, "ids": pairs * 4, "directory": ((1 << bits) + 1) * 8,
                 "offsets": (count + 1) * 8, "text": (work / "text").stat().st_size}
        sections, at = {}, HEADER_BYTES
        for name, _ in _SECTIONS:
            sections[name] = at
            at += -(-sizes[name] // 8) * 8  # each section starts on 8 bytes
        header = {"format": FORMAT, "sha256": digest, "entries": pairs, "aliases": count, "bits": bits,
                  "sections": sections}
        staged = work / "index"
        with staged.open("wb") as out:
            out.truncate(at)
            out.write(MAGIC + json.dumps(header).encode() + b"\n")
            _write_sorted(out, work, sections, bits)
            for name in ("offsets", "text"):
                out.seek(sections[name])
                with (work / name).open("rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
        staged.replace(path)
    return {"sha256": digest, "entries": pairs}


def _partition(work: Path, norms: Iterable[str], keys_of: Callable[[str], Iterable[int]],
               batch_pairs: int) -> tuple[str, int, int]:
    """Number the aliases, write their text and offsets, and append their (key, number) pairs to one partition
    file per top byte; returns the aliases' digest, their count and the number of pairs."""
    digest = hashlib.sha256(f"deletion index {FORMAT}\n".encode())
    keys = [array("Q") for _ in range(PARTITIONS)]
    ids = [array("I") for _ in range(PARTITIONS)]
    held = pairs = count = position = 0
    offsets = array("Q")
    with (work / "text").open("wb") as text, (work / "offsets").open("wb") as offsets_file:
        for number, norm in enumerate(norms):
            encoded = norm.encode("utf-8")
            digest.update(encoded + b"\n")
            offsets.append(position)
            text.write(encoded)
            position += len(encoded)
            for key in keys_of(norm):
                unsigned = key & _UNSIGNED
                keys[unsigned >> 56].append(unsigned)
                ids[unsigned >> 56].append(number)
                held += 1
            count = number + 1
            if held >= batch_pairs:
                pairs += _flush(work, keys, ids)
                offsets.tofile(offsets_file)
                del offsets[:]
                held = 0
        offsets.append(position)
        offsets.tofile(offsets_file)
    pairs += _flush(work, keys, ids)
    return digest.hexdigest(), count, pairs


def _flush(work: Path, keys: list[array], ids: list[array]) -> int:
    """Append each partition's pairs held in memory to its files and empty them; returns how many."""
    flushed = 0
    for part in range(PARTITIONS):
        if keys[part]:
            with (work / f"{part}.keys").open("ab") as k, (work / f"{part}.ids").open("ab") as i:
                keys[part].tofile(k)
                ids[part].tofile(i)
            flushed += len(keys[part])
            del keys[part][:], ids[part][:]
    return flushed


def _write_sorted(out, work: Path, sections: dict[str, int], bits: int) -> None:
    """Sort each partition's pairs by key (then alias number) and write them with their part of the directory:
    partition ``p`` holds the keys whose top byte is ``p``, so the partitions in order are the keys in order."""
    done = 0
    per_part = 1 << (bits - 8)
    for part in range(PARTITIONS):
        keys = np.fromfile(work / f"{part}.keys", dtype="<u8") if (work / f"{part}.keys").exists() else \
            np.zeros(0, "<u8")
        ids = np.fromfile(work / f"{part}.ids", dtype="<u4") if keys.size else np.zeros(0, "<u4")
        order = np.lexsort((ids, keys))
        keys, ids = keys[order], ids[order]
        bounds = (np.arange(per_part, dtype=np.uint64) + np.uint64(part * per_part)) << np.uint64(64 - bits)
        out.seek(sections["keys"] + 8 * done)
        keys.tofile(out)
        out.seek(sections["ids"] + 4 * done)
        ids.tofile(out)
        out.seek(sections["directory"] + 8 * part * per_part)
        (np.searchsorted(keys, bounds).astype("<u8") + np.uint64(done)).tofile(out)
        done += keys.size
    out.seek(sections["directory"] + 8 * (1 << bits))
    np.array([done], dtype="<u8").tofile(out)


class DeletionIndex:
    """A deletion index file opened for reading (memory-mapped): the aliases filed under given keys."""

    def __init__(self, path: Path, sha256: str) -> None:
        if not path.exists():
            raise DataError("the KB's one-edit index file is missing: it is written beside the KB file and goes "
                            "with it (rebuild the KB with rexel-bench kb build --fuzzy-index one-edit)",
                            file=str(path))
        with path.open("rb") as f:
            header = _header(f.read(HEADER_BYTES), path)  # before mapping: an empty file cannot be mapped
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if header["sha256"] != sha256:
            raise DataError("this one-edit index file was written for other aliases than its KB's (rebuild the KB "
                            "with rexel-bench kb build --fuzzy-index one-edit)", file=str(path))
        mapped.madvise(mmap.MADV_RANDOM)  # a probe reads a few bytes here and there: no read-ahead around them
        sections, self.bits = header["sections"], header["bits"]
        lengths = {"keys": header["entries"], "ids": header["entries"], "directory": (1 << self.bits) + 1,
                   "offsets": header["aliases"] + 1}
        self._arrays = {name: np.frombuffer(mapped, dtype=dtype, count=lengths[name], offset=sections[name])
                        for name, dtype in _SECTIONS if name != "text"}
        self._text = np.frombuffer(mapped, dtype="u1", count=int(self._arrays["offsets"][-1]),
                                   offset=sections["text"])
        self.path = path

    def norms_under(self, keys: Iterable[int]) -> list[str]:
        """The aliases filed under each of ``keys`` (signed 64-bit), one for each (key, alias) pair, in the order
        of the keys (ascending, as unsigned) and then of the aliases."""
        probe = np.array(sorted({key & _UNSIGNED for key in keys}), dtype=np.uint64)
        if not probe.size or not self._arrays["keys"].size:
            return []
        directory, stored = self._arrays["directory"], self._arrays["keys"]
        bucket = (probe >> np.uint64(64 - self.bits)).astype(np.int64)
        begin, end = directory[bucket].astype(np.int64), directory[bucket + 1].astype(np.int64)
        narrow = end - begin <= WIDE_BUCKET
        width = int((end - begin)[narrow].max(initial=0))
        at = begin[narrow, None] + np.arange(width)
        inside = at < end[narrow, None]
        at = np.where(inside, at, 0)
        found = [at[inside & (stored[at] == probe[narrow, None])]]
        for key, first, last in zip(probe[~narrow], begin[~narrow], end[~narrow], strict=True):  # a shared key
            found.append(first + np.flatnonzero(stored[first:last] == key))
        return [self._norm(int(number)) for number in self._arrays["ids"][np.concatenate(found)]]

    def _norm(self, number: int) -> str:
        offsets = self._arrays["offsets"]
        return bytes(self._text[int(offsets[number]):int(offsets[number + 1])]).decode("utf-8")

    def rows(self) -> Iterator[tuple[int, str]]:
        """Every (signed key, alias) pair, in key order: the index as the rows of a table."""
        keys, ids = self._arrays["keys"], self._arrays["ids"]
        for start in range(0, keys.size, 1 << 20):
            for key, number in zip(keys[start:start + (1 << 20)].tolist(), ids[start:start + (1 << 20)].tolist(),
                                   strict=True):
                yield key - (1 << 64) if key >> 63 else key, self._norm(number)


def _header(head: bytes, path: Path) -> dict:
    """The header of a deletion index file, checked."""
    if not head.startswith(MAGIC):
        raise DataError("not a one-edit index file (rebuild the KB with rexel-bench kb build --fuzzy-index "
                        "one-edit)", file=str(path))
    try:
        header = json.loads(head[len(MAGIC):].split(b"\n", 1)[0])
    except json.JSONDecodeError as exc:
        raise DataError(f"a damaged one-edit index file: {exc}", file=str(path)) from exc
    if header.get("format") != FORMAT:
        raise DataError(f"one-edit index format {header.get('format')!r}: this version reads format {FORMAT} "
                        "(rebuild the KB)", file=str(path))
    return header
