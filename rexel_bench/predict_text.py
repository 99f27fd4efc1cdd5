"""Prediction on users' raw text, streamed in bounded memory.

Input: a plain text file with one document per line, or JSON Lines with a ``text`` field (``id`` and
``title`` optional). Each document is split into sentences and tokens (:mod:`rexel_bench.data.text`),
predicted in batches, and written at once in the toolkit's JSONL, with its linked facts
``(head QID, relation, tail QID)`` and their mentions under ``meta.facts``. Only one batch is held in
memory at a time, so memory does not grow with the file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexel_bench.data.formats import jsonl
from rexel_bench.data.io import parse_json, staged_file
from rexel_bench.data.model import Document
from rexel_bench.data.text import tokenize_with_offsets
from rexel_bench.distributed import ClusterRun, check_scheduler, partitions, predict_partition, run_partitions
from rexel_bench.errors import DataError
from rexel_bench.limits import check_numbers
from rexel_bench.models.base import load_model
from rexel_bench.perf import torch_threads
from rexel_bench.progress import progress_bar


def read_texts(path: Path) -> Iterator[tuple[str, str, str]]:
    """(id, title, text) of each document of the input, lazily."""
    as_json = path.suffix in (".jsonl", ".ndjson")
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError("", file=str(path), field=f"line {number}", expected="UTF-8 text",
                                found=f"byte {raw[exc.start:exc.start + 1]!r} at column {exc.start + 1}") from exc
            if not line.strip():
                continue
            if not as_json:
                yield f"{path.stem}-{number}", f"{path.stem} line {number}", line.strip()
                continue
            record = parse_json(line, str(path), f"line {number}")
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise DataError("", file=str(path), field=f"line {number}.text", expected="a 'text' string field",
                                found=str(record)[:60])
            doc_id = str(record.get("id", f"{path.stem}-{number}"))
            yield doc_id, str(record.get("title", doc_id)), record["text"]


def to_document(doc_id: str, title: str, text: str) -> Document:
    """A document with sentences and tokens from raw text (no annotation)."""
    return Document(id=doc_id, title=title, sentences=tokenize_with_offsets(text).sentences, meta={"format": "jsonl"})


def linked_facts(doc: Document) -> list[dict[str, object]]:
    """The document's relations between linked entities, with the mentions of head and tail."""
    facts = []
    for r in doc.relations:
        head, tail = doc.entities[r.head], doc.entities[r.tail]
        if head.qid and tail.qid:
            facts.append({"head": head.qid, "relation": r.label, "tail": tail.qid, "score": r.score,
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
    with staged_file(out) as tmp, tmp.open("w", encoding="utf-8", errors="backslashreplace") as sink:
        def write(predicted: tuple[list[Document], dict[str, str], Any]) -> None:
            sink.writelines(predicted_lines(predicted[0]))
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
    cluster: ClusterRun | None = None


def _documents_with_text(source: Path, skipped: dict[str, str]) -> Iterator[Document]:
    for doc_id, title, text in read_texts(source):
        document = to_document(doc_id, title, text)
        if document.has_text:
            yield document
        else:
            skipped[doc_id] = "its text has no word to predict on"


def predicted_lines(predictions: Sequence[Document]) -> list[str]:
    """The JSONL lines of predicted documents, each with its linked facts under ``meta.facts``."""
    lines = []
    for pred in predictions:
        line = jsonl.dump(pred)
        line["meta"] = {**line.get("meta", {}), "facts": linked_facts(pred)}
        lines.append(json.dumps(line, ensure_ascii=False) + "\n")
    return lines
