"""Reading files for scoring: predictions (the toolkit's formats or DocRED's submission format) and the
training facts that Ign F1 ignores."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rexel_bench.data import io as data_io
from rexel_bench.data.formats import docred
from rexel_bench.data.formats.common import plain_int_list
from rexel_bench.data.model import Document, Relation
from rexel_bench.data.problems import ProblemLog
from rexel_bench.errors import DataError, PredictionError
from rexel_bench.perf import paused_gc
from rexel_bench.scoring.relations import TrainFacts, train_facts
from rexel_bench.scoring.short_form import GoldIndex, complete_record

_SUBMISSION_KEYS = frozenset({"title", "h_idx", "t_idx", "r"})


def _parsed_json(path: Path) -> object | None:
    """The file's JSON, or None for a directory, JSONL, a compressed file or anything unreadable (the
    general loader then says why)."""
    if path.is_dir() or path.name.endswith((".jsonl", ".gz")):
        return None
    try:
        return data_io.parse_json(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, UnicodeDecodeError, DataError):
        return None


def is_docred_submission(value: Any) -> bool:
    """Whether parsed JSON is a DocRED ``result.json``: a list of ``{title, h_idx, t_idx, r}``."""
    return isinstance(value, list) and (not value or (isinstance(value[0], dict)
                                                      and value[0].keys() >= _SUBMISSION_KEYS))


def _plain_submitted_relation(entry: Any) -> Relation | None:
    """:func:`_submitted_relation` for the common layout only (every field of its exact JSON type); None
    when anything needs the checked path, which then names the entry and field in its error."""
    if entry.__class__ is not dict:
        return None
    head, tail, label, evidence = entry.get("h_idx"), entry.get("t_idx"), entry.get("r"), entry.get("evidence")
    if (head.__class__ is not int or tail.__class__ is not int or label.__class__ is not str
            or entry.get("title").__class__ is not str):
        return None
    if evidence is not None and not plain_int_list(evidence):
        return None
    return Relation(head=head, tail=tail, label=label, evidence=tuple(evidence) if evidence is not None else None)


def _submitted_relation(entry: Any, index: int, file: str) -> Relation:
    """One submission entry as a relation, every field checked (an error names the entry and field)."""
    def fail(field: str, expected: str, found: Any) -> PredictionError:
        title = entry.get("title") if isinstance(entry, dict) else None
        return PredictionError("", file=file, doc_index=index, doc_title=title if isinstance(title, str) else None,
                               field=field or None, expected=expected, found=repr(found))
    if not isinstance(entry, dict):
        raise fail("", "an object {title, h_idx, t_idx, r, evidence}", entry)
    for key in ("title", "h_idx", "t_idx", "r"):
        if key not in entry:
            raise fail(key, f"field '{key}'", "nothing")
    for key, kind, expected in (("title", str, "a document title"), ("r", str, "a relation id (string)")):
        if not isinstance(entry[key], kind):
            raise fail(key, expected, entry[key])
    for key in ("h_idx", "t_idx"):
        if entry[key].__class__ is not int:
            raise fail(key, "an entity index (integer)", entry[key])
    evidence = entry.get("evidence")
    if evidence is not None and (not isinstance(evidence, list) or not set(map(type, evidence)) <= {int}):
        raise fail("evidence", "a list of sentence ids (integers)", evidence)
    return Relation(head=entry["h_idx"], tail=entry["t_idx"], label=entry["r"],
                    evidence=tuple(evidence) if evidence is not None else None)


def docred_submission_documents(entries: list[Any], gold: Sequence[Document], *, file: str, lenient: bool = False,
                                left_out: Collection[str] = frozenset()) -> list[Document]:
    """Predictions from DocRED's submission format (parsed), on the gold documents' entities.

    Each entry names a gold document by title; an unknown title is an error, or with ``lenient``
    becomes a prediction on an empty document (counted as wrong), as the official script counts it.
    """
    by_title = {d.title: d for d in gold}
    facts: dict[str, list] = {d.title: [] for d in gold}
    orphans: dict[str, list] = {}
    for i, entry in enumerate(entries):
        rel = _plain_submitted_relation(entry) or _submitted_relation(entry, i, file)
        title = entry["title"]
        if title not in by_title and title not in left_out and not lenient:
            raise PredictionError(f"title {title!r} is not in the gold data (--lenient counts it as wrong)",
                                  file=file, doc_index=i, doc_title=title, field="title")
        (facts if title in by_title else orphans).setdefault(title, []).append(rel)
    out = [replace(d, relations=tuple(facts[d.title])) for d in gold]
    out += [Document(id=t, title=t, sentences=(), relations=tuple(r)) for t, r in orphans.items()]
    return out


def load_predictions(path: str | Path, gold: Sequence[Document], *, lenient: bool = False,
                     left_out: Collection[str] = frozenset()) -> tuple[list[Document], list[str]]:
    """Predicted documents and notes about what could not be used.

    DocRED's ``result.json`` is recognised and put on the gold entities. Any other file is loaded as
    data; without ``lenient`` its first error is fatal, with it the broken documents are reported
    and scored as empty predictions. Predictions of gold documents that were left out (``left_out``:
    their titles or ids, see :func:`rexel_bench.data.io.load_gold`) are set aside and counted.
    """
    path = Path(path)
    with paused_gc():
        return _predictions_of(path, gold, lenient, left_out)


def _predictions_of(path: Path, gold: Sequence[Document], lenient: bool, left_out: Collection[str]
                    ) -> tuple[list[Document], list[str]]:
    parsed = _parsed_json(path)
    if is_docred_submission(parsed):
        docs = docred_submission_documents(parsed, gold, file=str(path), lenient=lenient,  # type: ignore[arg-type]
                                           left_out=left_out)
        notes = ["predictions read as a DocRED submission (result.json) on the gold entities"]
    else:
        index = GoldIndex(gold)  # a JSONL prediction may leave out what its gold document has (the short form)
        complete = (lambda record, i: complete_record(record, index, file=str(path), index=i)) \
            if data_io.is_jsonl(path) else None
        try:
            result = data_io.load(path, strict=not lenient, complete=complete)
        except DataError as exc:
            raise PredictionError(exc.message, file=exc.file, doc_index=exc.doc_index, doc_title=exc.doc_title,
                                  field=exc.field) from exc
        docs = result.documents
        notes = [f"{p} (document scored as an empty prediction)" for p in result.problems
                 if p.severity == "error" and p.field]
    kept = [d for d in docs if d.id not in left_out and d.title not in left_out]
    if len(kept) < len(docs):
        notes.append(f"{len(docs) - len(kept)} prediction(s) of left-out gold documents not scored")
    return kept, notes


def read_train_facts(path: str | Path) -> TrainFacts:
    """(head mention name, tail mention name, relation) of every fact of a training file, for Ign F1.

    Ign F1 reads nothing else of the training file, so a file in DocRED's layout is read for those fields
    only, each checked (an error names the file, document and field), much as the official script reads
    it; a file in another layout is loaded and checked whole.
    """
    path = Path(path)
    with paused_gc():
        raws = data_io.read_raw(path, ProblemLog(str(path), strict=True))
        if all(docred.looks_like(raw.value) for raw in raws):
            facts: set[tuple[str, str, str]] = set()
            for raw in raws:
                try:
                    facts.update(docred.named_facts(raw.value, raw.index))
                except DataError as exc:
                    exc.file = str(path)
                    raise
            return frozenset(facts)
    return train_facts(data_io.load_gold(path).documents)
