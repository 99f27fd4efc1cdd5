"""Prediction on users' raw text, streamed in bounded memory.

Input: a plain text file with one document per line, or JSON Lines with a ``text`` field (``id`` and
``title`` optional). Each document is split into sentences and tokens (:mod:`rexel_bench.data.text`),
predicted in batches, and written at once in the toolkit's JSONL, with its linked facts
``(head QID, relation, tail QID)`` and their mentions under ``meta.facts``. Only one batch is held in
memory at a time, so memory does not grow with the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from rexel_bench.data.formats import jsonl
from rexel_bench.data.io import parse_json
from rexel_bench.data.model import Document
from rexel_bench.data.text import tokenize_with_offsets
from rexel_bench.errors import DataError
from rexel_bench.models.base import load_model
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
                 progress: bool = True) -> tuple[int, dict[str, str]]:
    """Predict every document of ``source`` into ``out`` (JSONL); returns how many were written, and the
    documents the model skipped (too long for its memory bound) with why."""
    if not source.exists():
        raise DataError("no such file", file=str(source))
    model = load_model(model_name, device=device, batch_size=batch_size)
    count = 0
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tmp.open("w", encoding="utf-8", errors="backslashreplace") as sink, \
                progress_bar(enabled=progress) as bar:
            task = bar.add_task(f"{model_name}: predicting", total=None)
            batch: list[Document] = []
            for doc_id, title, text in read_texts(source):
                document = to_document(doc_id, title, text)
                if document.has_text:
                    batch.append(document)
                if len(batch) == batch_size:
                    count += _flush(model, batch, sink)
                    bar.advance(task, len(batch))
                    batch = []
            count += _flush(model, batch, sink)
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)  # never leave a half-written output behind
        raise
    return count, dict(getattr(model, "skipped", None) or {})


def _flush(model, batch: list[Document], sink) -> int:
    if not batch:
        return 0
    predicted = model.predict(batch)
    for pred in predicted:
        line = jsonl.dump(pred)
        line["meta"] = {**line.get("meta", {}), "facts": linked_facts(pred)}
        sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(predicted)
