"""Ingesters for the smaller sources: alias TSVs, DocRED-IE files, DWIE candidates, popularity, properties."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.errors import DataError
from rexel_bench.kb.store import EntityRecord, KnowledgeBase


def ingest_tsv(kb: KnowledgeBase, path: str | Path) -> int:
    """Alias/prior table: ``alias<TAB>QID[<TAB>count or prior]`` per line (``#`` comments allowed)."""
    rows = []
    for number, line in enumerate(_text_lines(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) < 2 or not parts[1].startswith("Q"):
            raise DataError("", file=str(path), field=f"line {number}", expected="alias<TAB>QID[<TAB>count]",
                            found=repr(line.strip()[:60]))
        try:
            count = float(parts[2]) if len(parts) > 2 and parts[2] else 1.0
        except ValueError as exc:
            raise DataError("", file=str(path), field=f"line {number}", expected="a number in column 3",
                            found=repr(parts[2])) from exc
        rows.append((parts[0], parts[1], count))
    kb.add_aliases(rows, source=f"tsv:{Path(path).name}")
    return len(rows)


def _text_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file; bytes that are not UTF-8 are one error naming the line."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise DataError("no such file", file=str(path)) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        number, column = raw.count(b"\n", 0, exc.start) + 1, exc.start - raw.rfind(b"\n", 0, exc.start)
        raise DataError("", file=str(path), field=f"line {number}", expected="UTF-8 text",
                        found=f"byte {raw[exc.start:exc.start + 1]!r} at column {column}") from exc
    return io.StringIO(text, newline=None).readlines()  # universal newlines, as open() reads a text file


def records_from_linked_documents(docs: Iterable[Document], facts: bool = True) -> list[EntityRecord]:
    """Entities, surface forms, fine types and (unless ``facts`` is false) facts of documents that carry
    QIDs (DocRED-IE).

    The label is the entity's most frequent mention name; aliases are mention names with counts;
    classes are the fine types; facts are the documents' relations between two linked entities.
    """
    records: dict[str, EntityRecord] = {}
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        for entity in doc.entities:
            if entity.qid is None:
                continue
            record = records.setdefault(entity.qid, EntityRecord(entity.qid))
            for m in entity.mentions:
                names[entity.qid][m.text] += 1
            record.classes.update(f.qid for f in entity.fine_types)
        for rel in doc.relations if facts else ():
            head, tail = doc.entities[rel.head].qid, doc.entities[rel.tail].qid
            if head and tail:
                records[head].facts.add((rel.label, tail))
    for qid, record in records.items():
        record.aliases = dict(names[qid])
        record.label = names[qid].most_common(1)[0][0]
    return list(records.values())


def class_type_counts(docs: Iterable[Document]) -> list[tuple[str, str, float]]:
    """(class QID, coarse type, count) over linked entities: how classes map to the dataset's types."""
    counts: Counter[tuple[str, str]] = Counter()
    for doc in docs:
        for entity in doc.entities:
            if entity.qid and entity.type:
                for fine in entity.fine_types:
                    counts[(fine.qid, entity.type)] += 1
    return [(c, t, float(n)) for (c, t), n in sorted(counts.items())]


def fine_type_labels(docs: Iterable[Document]) -> set[tuple[str, str]]:
    """(class QID, label) pairs of the fine types in documents."""
    return {(f.qid, f.label) for d in docs for e in d.entities for m in e.mentions for f in m.fine_types if f.label}


def ingest_linked_documents(kb: KnowledgeBase, paths: Sequence[str | Path], *, exclude_ids: set[str] | None = None,
                            source: str = "docred-ie", facts: bool = True) -> int:
    """Ingest DocRED-IE (or any QID-bearing) files, leaving out documents whose id is in ``exclude_ids``
    (and their relations, when ``facts`` is false); every ingested document is recorded as provenance."""
    docs = []
    for path in paths:
        kept = [d for d in data_io.load(path).documents if d.id not in (exclude_ids or set())]
        kb.record_documents(str(Path(path).name), kept, "entities,aliases,classes" + (",facts" if facts else ""))
        docs += kept
    n = kb.add_entities(records_from_linked_documents(docs, facts), source=source)
    kb.add_class_labels(fine_type_labels(docs))
    kb.add_class_types(class_type_counts(docs))
    return n


def title_to_qid(paths: Iterable[str | Path]) -> dict[str, str]:
    """Wikipedia title → QID from DWIE-with-text files whose mentions carry ``link`` and ``wikidata_eid``."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for path in paths:
        for doc in data_io.load(path).documents:
            for m in doc.mentions:
                if m.link and m.qid and m.qid.startswith("Q"):
                    votes[m.link][m.qid] += 1
    return {title: counter.most_common(1)[0][0] for title, counter in votes.items()}


def ingest_dwie_candidates(kb: KnowledgeBase, annos_dir: str | Path, text_files: Iterable[str | Path],
                           exclude_ids: set[str] | None = None) -> dict[str, int]:
    """DWIE mention candidates with their priors (Wikipedia titles), mapped to QIDs where known.

    Each mention contributes its candidate scores as fractional alias counts; candidates whose title
    has no QID in the DWIE-with-text files are skipped and counted. Documents in ``exclude_ids`` (e.g. the test
    split, so that a KB for training holds none of the evaluated documents' candidate lists) are left out.
    """
    mapping = title_to_qid(text_files)
    rows, mapped, unmapped = [], 0, 0
    annotated = [d for d in data_io.load(annos_dir, "dwie").documents if d.id not in (exclude_ids or set())]
    kb.record_documents(f"dwie:{Path(annos_dir).name}", annotated, "aliases")
    for doc in annotated:
        for m in doc.mentions:
            for title, score in zip(m.extra.get("candidates", []), m.extra.get("scores", []), strict=False):
                qid = mapping.get(title)
                if qid is None:
                    unmapped += 1
                    continue
                mapped += 1
                rows.append((m.text, qid, float(score)))
    kb.add_aliases(rows, source="dwie-candidates")
    return {"documents": len(annotated), "mapped_candidates": mapped, "unmapped_candidates": unmapped,
            "titles_with_qid": len(mapping)}


def ingest_popularity(kb: KnowledgeBase, path: str | Path) -> int:
    """A QID → popularity count map (JSON, optionally gzipped), e.g. Revisit-DocRED's final_id2popular."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        table = json.loads(raw.decode("utf-8"))
    except FileNotFoundError as exc:
        raise DataError("no such file", file=str(path)) from exc
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not a JSON object of QID → popularity: {exc}", file=str(path)) from exc
    if not isinstance(table, dict):
        raise DataError("", file=str(path), expected="a JSON object of QID → popularity",
                        found=type(table).__name__)
    rows = []
    for qid, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DataError("", file=str(path), field=qid, expected="a number", found=repr(value)[:60])
        rows.append((qid, float(value)))
    return kb.set_popularity(rows)


def ingest_properties(kb: KnowledgeBase, path: str | Path) -> int:
    """Wikidata property labels and aliases from a CSV with ``ID,label,description,aliases`` columns."""
    reader = csv.DictReader(io.StringIO("".join(_text_lines(path)), newline=""))
    missing = {"ID", "label"} - set(reader.fieldnames or ())
    if missing:
        raise DataError("", file=str(path), field="header", expected="columns ID,label[,description,aliases]",
                        found=",".join(reader.fieldnames or ()) or "no header")
    rows = [(r["ID"], r["label"], r.get("description") or "", r.get("aliases") or "") for r in reader]
    kb.add_properties(rows)
    return len(rows)
