"""Reading prediction files for scoring: the toolkit's formats or DocRED's submission format."""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    except (OSError, json.JSONDecodeError):
        return None


def load_predictions(path: str | Path, gold: Sequence[Document], *, lenient: bool = False,
                     ) -> tuple[list[Document], list[str]]:
    """Predicted documents and notes about what could not be used.

    DocRED's ``result.json`` is recognised and put on the gold entities. Any other file is loaded as
    data; without ``lenient`` its first error is fatal, with it the broken documents are reported
    and scored as empty predictions.
    """
    path = Path(path)
    if is_docred_submission(_peek_json(path)):
        return read_docred_submission(path, gold, lenient=lenient), ["predictions read as a DocRED submission "
                                                                     "(result.json) on the gold entities"]
    try:
        result = data_io.load(path, strict=not lenient)
    except DataError as exc:
        raise PredictionError(exc.message, file=exc.file, doc_index=exc.doc_index, doc_title=exc.doc_title,
                              field=exc.field) from exc
    notes = [f"{p} (document scored as an empty prediction)" for p in result.problems
             if p.severity == "error" and p.field]
    return result.documents, notes
