"""Reading prediction files for scoring: the toolkit's formats or DocRED's submission format."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.errors import DataError, PredictionError
from rexel_bench.scoring.api import is_docred_submission, read_docred_submission


def _peek_json(path: Path) -> object | None:
    if path.is_dir() or path.name.endswith((".jsonl", ".gz")):
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # unreadable, not UTF-8 or not JSON: data_io.load says why
        return None


def load_predictions(path: str | Path, gold: Sequence[Document], *, lenient: bool = False,
                     left_out: Collection[str] = frozenset()) -> tuple[list[Document], list[str]]:
    """Predicted documents and notes about what could not be used.

    DocRED's ``result.json`` is recognised and put on the gold entities. Any other file is loaded as
    data; without ``lenient`` its first error is fatal, with it the broken documents are reported
    and scored as empty predictions. Predictions of gold documents that were left out (``left_out``:
    their titles or ids, see :func:`rexel_bench.data.io.load_gold`) are set aside and counted.
    """
    path = Path(path)
    if is_docred_submission(_peek_json(path)):
        docs = read_docred_submission(path, gold, lenient=lenient, left_out=left_out)
        notes = ["predictions read as a DocRED submission (result.json) on the gold entities"]
    else:
        try:
            result = data_io.load(path, strict=not lenient)
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
