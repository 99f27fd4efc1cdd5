"""Prediction on users' raw text, streamed in bounded memory.

Input: a plain text file with one document per line, or JSON Lines with a ``text`` field (``id`` and
``title`` optional). Each document is split into sentences and tokens (:mod:`rexel_bench.data.text`),
predicted in batches, and written at once in the toolkit's JSONL, with its linked facts
``(head QID, relation, tail QID)`` and their mentions under ``meta.facts``. Only one batch is held in
memory at a time, so memory does not grow with the file.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexel_bench.data.formats import jsonl
from rexel_bench.data.io import parse_json, staged_file
from rexel_bench.data.model import Document
from rexel_bench.data.relations import docred_relations
from rexel_bench.data.text import document_from_text
from rexel_bench.distributed import ClusterRun, check_scheduler, partitions, predict_partition, run_partitions
from rexel_bench.errors import DataError
from rexel_bench.kb.build import default_kb_path
from rexel_bench.kb.store import KnowledgeBase, kb_location, open_kb
from rexel_bench.limits import check_numbers
from rexel_bench.models.base import load_model, takes_option
from rexel_bench.perf import torch_threads
from rexel_bench.progress import progress_bar
from rexel_bench.reports.readable import entity_name


def input_layout(path: Path) -> str:
    """How an input holds its documents, read from its first non-blank line only (a large input is streamed
    afterwards): ``array`` (a JSON array of records), ``lines`` (JSON Lines) or ``text`` (a document a line).
    JSON by its suffix in any case (``.jsonl``, ``.ndjson``, ``.json``), or, for any other name, by a first line
    that is a JSON object."""
    with path.open("rb") as f:
        first = next((line for line in f if line.strip()), b"").lstrip(b"\xef\xbb\xbf").strip()
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return "array" if first.startswith(b"[") else "lines"
    try:
        return "lines" if first.startswith(b"{") and isinstance(json.loads(first.decode("utf-8")), dict) else "text"
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "text"


def read_texts(path: Path) -> Iterator[tuple[str, str, str]]:
    """(id, title, text) of each document of the input, lazily: one document per line of plain text, or JSON
    Lines records with a ``text`` field (``id`` and ``title`` optional), or a JSON array of such records."""
    layout = input_layout(path)
    if layout == "array":
        records = parse_json(path.read_text(encoding="utf-8-sig"), str(path))
        if not isinstance(records, list):
            raise DataError("", file=str(path), expected="a JSON array of {text} records", found=str(records)[:60])
        for number, record in enumerate(records):
            yield _text_record(record, path, f"[{number}]", f"{path.stem}-{number + 1}")
        return
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError("", file=str(path), field=f"line {number}", expected="UTF-8 text",
                                found=f"byte {raw[exc.start:exc.start + 1]!r} at column {exc.start + 1}") from exc
            if not line.strip():
                continue
            if layout == "text":
                yield f"{path.stem}-{number}", f"{path.stem} line {number}", line.strip()
                continue
            record = parse_json(line.lstrip("\ufeff"), str(path), f"line {number}")
            yield _text_record(record, path, f"line {number}", f"{path.stem}-{number}")


def _text_record(record: Any, path: Path, where: str, default_id: str) -> tuple[str, str, str]:
    """(id, title, text) of one JSON record, or an error naming the file and the record."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise DataError("", file=str(path), field=f"{where}.text", expected="a 'text' string field",
                        found=str(record)[:60])
    doc_id = str(record.get("id", default_id))
    return doc_id, str(record.get("title", doc_id)), record["text"]


def linked_facts(doc: Document, label: Callable[[str], str | None] = lambda qid: None) -> list[dict[str, object]]:
    """The document's relations between linked entities, readable: head and tail QIDs with their labels (from
    ``label``, e.g. the KB's; else the entity's most frequent mention), the relation's id and name, the score
    and the mentions of head and tail."""
    names = docred_relations()
    facts = []
    for r in doc.relations:
        head, tail = doc.entities[r.head], doc.entities[r.tail]
        if head.qid and tail.qid:
            facts.append({"head": head.qid, "head_label": label(head.qid) or entity_name(head),
                          "relation": r.label, "relation_name": names.get(r.label, r.label),
                          "tail": tail.qid, "tail_label": label(tail.qid) or entity_name(tail), "score": r.score,
                          "head_mentions": [m.text for m in head.mentions],
                          "tail_mentions": [m.text for m in tail.mentions]})
    return facts


def predict_file(source: Path, out: Path, *, model_name: str = "rexel", batch_size: int = 8, device: str = "cpu",
                 progress: bool = True, options: Mapping[str, Any] | None = None, scheduler: str | None = None,
                 workers: int = 2, partition_size: int = 256, threads: int | None = None) -> Prediction:
    """Predict every document of ``source`` into ``out`` (JSONL, in input order) in one process, or with
    ``scheduler`` (``local`` for a local cluster of ``workers`` processes, or a ``tcp://`` address) on a Dask
    cluster in partitions of about ``partition_size`` documents. ``options`` go to the model (e.g.
    ``quantize``).

    ``threads`` is the number of torch threads of each predicting process (default: torch's own in one
    process, 1 per worker on a cluster). Partitions are whole batches, so a cluster writes the same bytes as
    one process with the same ``threads``; a different thread count can move a float in its last digits
    (torch's sums are split across threads), and with it a rounded score."""
    check_numbers({"batch_size": batch_size, "workers": workers, "partition_size": partition_size,
                   "threads": threads})
    check_scheduler(scheduler)
    if not source.exists():
        raise DataError("no such file", file=str(source))
    options = {"device": device, "batch_size": batch_size, **(options or {})}
    result = Prediction()
    documents = _documents_with_text(source, result.skipped)
    kb_path = kb_location(options["kb"]) if options.get("kb") else default_kb_path() if takes_option(model_name, "kb") \
        else None
    if kb_path is not None and not options.get("kb"):
        result.notes.append(embedded_kb_note(kb_path))
    with staged_file(out) as tmp, tmp.open("w", encoding="utf-8", errors="backslashreplace") as sink, \
            _labels(kb_path) as label:
        def write(predicted: tuple[list[Document], dict[str, str], Any]) -> None:
            sink.writelines(predicted_lines(predicted[0], label))
            result.count += len(predicted[0])
            result.skipped.update(predicted[1])
        if scheduler:
            size = max(1, round(partition_size / batch_size)) * batch_size
            task = functools.partial(predict_partition, model_name, tuple(sorted(options.items())), threads or 1)
            result.cluster = run_partitions(task, partitions(documents, size), write, workers=workers,
                                            scheduler=scheduler, progress=progress)
        else:
            model = load_model(model_name, **options)
            with torch_threads(threads), progress_bar(enabled=progress) as bar:
                bar_task = bar.add_task(f"{model_name}: predicting", total=None)
                for part in partitions(documents, batch_size):
                    write((model.predict(part), dict(getattr(model, "skipped", None) or {}), None))
                    bar.advance(bar_task, len(part))
    return result


@dataclass
class Prediction:
    """What ``predict`` did: documents written, documents not predicted (id → why), and on a cluster, what
    happened there."""

    count: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cluster: ClusterRun | None = None


def _documents_with_text(source: Path, skipped: dict[str, str]) -> Iterator[Document]:
    for doc_id, title, text in read_texts(source):
        document = document_from_text(doc_id, title, text)
        if document.has_text:
            yield document
        else:
            skipped[doc_id] = "its text has no word to predict on"


def embedded_kb_note(kb_path: Path) -> str:
    """What the embedded default KB knows, said whenever it links a user's own text."""
    with KnowledgeBase(kb_path) as kb:
        sizes = kb.stats()
    return (f"linked with the embedded default KB, which can link only DocRED-IE dev's "
            f"{sizes['entities_with_aliases']:,} entities ({sizes['distinct_aliases']:,} aliases): most entities "
            "of other text get no QID. For real linking build a KB from a Wikidata dump (rexel-bench kb build "
            "--wikidata-dump latest-all.json.bz2 --out kb.sqlite) and pass --kb kb.sqlite")


@contextlib.contextmanager
def _labels(kb_path: str | Path | None) -> Iterator[Callable[[str], str | None]]:
    """A QID → label look-up in the KB that linked the predictions (none without a KB)."""
    if kb_path is None:
        yield lambda qid: None
        return
    with open_kb(kb_path) as kb:
        yield lambda qid: (found.label if (found := kb.entity(qid)) else None)


def predicted_lines(predictions: Sequence[Document], label: Callable[[str], str | None] = lambda qid: None
                    ) -> list[str]:
    """The JSONL lines of predicted documents, each with its readable linked facts under ``meta.facts``."""
    lines = []
    for pred in predictions:
        line = jsonl.dump(pred)
        line["meta"] = {**line.get("meta", {}), "facts": linked_facts(pred, label)}
        lines.append(json.dumps(line, ensure_ascii=False) + "\n")
    return lines
