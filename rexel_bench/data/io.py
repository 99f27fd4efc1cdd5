"""Reading and writing documents in every supported format, with validation.

:func:`load` is the one entry point: it reads a file (``.json`` array, ``.jsonl``, a single-document
``.json`` such as a DWIE file, optionally ``.gz``) or a directory of per-document files, detects the
format, parses every document, checks its content and returns the usable documents with every
problem found. Nothing is dropped without a problem saying so.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from rexel_bench.data.formats import docred, dwie, jsonl, linked_docred, triples
from rexel_bench.data.model import Document
from rexel_bench.data.problems import Problem, ProblemLog
from rexel_bench.data.relations import inventory_for, read_inventory
from rexel_bench.data.validate import check_documents
from rexel_bench.errors import ConfigError, DataError
from rexel_bench.perf import paused_gc

#: Format name → reader/writer module. The DocRED dialects share one module.
FORMATS: dict[str, ModuleType] = {
    "docred": docred,
    "docred-ie": docred,
    "dwie-docred": docred,
    "linked-docred": linked_docred,
    "dwie": dwie,
    "jsonl": jsonl,
    "linked-triples": triples,
}
FORMAT_CHOICES = ("auto", "docred", "docred-ie", "linked-docred", "dwie", "jsonl", "linked-triples")


@dataclass
class LoadResult:
    """Documents that loaded, every problem found, and what was read."""

    path: str
    format: str
    documents: list[Document]
    problems: list[Problem] = field(default_factory=list)
    n_read: int = 0
    relation_inventory: str = ""

    @property
    def n_dropped(self) -> int:
        """Documents read but not loaded because of errors."""
        return self.n_read - len(self.documents)

    def count(self, severity: str) -> int:
        """Number of problems of a severity."""
        return sum(p.severity == severity for p in self.problems)


@dataclass(frozen=True)
class RawDocument:
    """One document as parsed JSON, with the file and position it came from."""

    file: str
    index: int
    value: Any


def _open_text(path: Path) -> str:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig") as f:
                return f.read()
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write first is not JSON
    except FileNotFoundError as exc:
        raise DataError("no such file or directory", file=str(path)) from exc
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"cannot read the file: {exc}", file=str(path)) from exc


def parse_json(text: str, file: str, where: str = "") -> Any:
    """Parse JSON from a user's file; any failure is a :class:`DataError` naming the file and place."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg} at column {exc.colno}", file=file, field=where or None) from exc
    except RecursionError as exc:
        raise DataError("JSON nested too deeply to read (more levels than any document has)", file=file,
                        field=where or None) from exc


def _json_error(path: Path, exc: json.JSONDecodeError, line_offset: int = 0) -> DataError:
    truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip()) - 1
    what = "truncated JSON (the file ends before the JSON value does)" if truncated else f"invalid JSON: {exc.msg}"
    return DataError(f"{what} at line {exc.lineno + line_offset}, column {exc.colno}", file=str(path))


def is_jsonl(path: Path) -> bool:
    """Whether a file is JSON Lines by its name."""
    return path.name.endswith((".jsonl", ".jsonl.gz", ".ndjson"))


def read_raw(path: str | Path, log: ProblemLog) -> list[RawDocument]:
    """Parse the JSON of a file or directory into raw documents; bad JSONL lines become problems."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".gz", ".jsonl"))
        if not files:
            raise DataError("a directory with .json files (one document each, as DWIE ships)", file=str(path))
        return [raw for f in files for raw in read_raw(f, log)]
    text = _open_text(path)
    if is_jsonl(path):
        out = []
        for lineno, line in enumerate(text.splitlines()):
            if not line.strip():
                continue
            try:
                out.append(RawDocument(str(path), len(out), json.loads(line)))
            except json.JSONDecodeError as exc:
                error = _json_error(path, exc, line_offset=lineno)
                log.add("error", len(out), None, f"line {lineno + 1}", "a JSON object", error.message)
            except RecursionError:
                log.add("error", len(out), None, f"line {lineno + 1}", "a JSON object",
                        "JSON nested too deeply to read")
        return out
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(path, exc) from exc
    except RecursionError as exc:
        raise DataError("JSON nested too deeply to read (more levels than any document has)",
                        file=str(path)) from exc
    if isinstance(value, list):
        return [RawDocument(str(path), i, v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return [RawDocument(str(path), 0, value)]
    raise DataError("", file=str(path), expected="a JSON list of documents or one document object",
                    found=type(value).__name__)


def detect_format(raw: Any) -> str | None:
    """The format of a raw document, or None when no reader recognises it."""
    if jsonl.looks_like(raw):
        return "jsonl"
    if docred.looks_like(raw):
        return docred.dialect_of(raw)
    if dwie.looks_like(raw):
        return "dwie"
    if linked_docred.looks_like(raw):
        return "linked-docred"
    if triples.looks_like(raw):
        return "linked-triples"
    return None


def _format_for(raws: Sequence[RawDocument], requested: str, path: Path) -> str:
    if requested != "auto":
        if requested not in FORMATS:
            raise DataError(f"unknown format {requested!r}; choose one of {', '.join(FORMAT_CHOICES)}")
        return requested
    for raw in raws:
        found = detect_format(raw.value)
        if found:
            return found
    keys = sorted(raws[0].value)[:8] if raws and isinstance(raws[0].value, dict) else []
    raise DataError("", file=str(path), expected="a known format (docred, docred-ie, linked-docred, dwie, jsonl, "
                                                 "linked-triples)",
                    found=f"documents with fields {keys}" if raws else "no document")


def parse_raw(raws: Iterable[RawDocument], fmt: str, log: ProblemLog) -> tuple[list[Document], list[str]]:
    """Parse raw documents with a format's reader; structurally broken ones are logged, not kept."""
    module = FORMATS[fmt]
    docs, files = [], []
    for raw in raws:
        try:
            docs.append(module.parse(raw.value, raw.index))
            files.append(raw.file)
        except DataError as exc:
            exc.file = raw.file
            log.add_error(exc)
            log.add("error", raw.index, exc.doc_title, "", "a usable document",
                    "structural error above: document not loaded", file=raw.file)
    return docs, files


def load(
    path: str | Path,
    format: str = "auto",
    *,
    strict: bool = False,
    relations: str | Path | None = None,
    complete: Callable[[Any, int], Any] | None = None,
) -> LoadResult:
    """Load and check a dataset or prediction file.

    ``strict`` raises :class:`DataError` at the first error; otherwise every problem is collected
    and documents with errors are left out (and counted in the result). ``relations`` names a
    relation inventory file; by default one is inferred (see :func:`inventory_for`). ``complete`` (record,
    index → record) fills in each parsed record before it is read (predictions written in the short form).
    """
    path = Path(path)
    log = ProblemLog(str(path), strict=strict)
    with paused_gc():
        raws = read_raw(path, log)
        if complete is not None:
            raws = [RawDocument(raw.file, raw.index, complete(raw.value, raw.index)) for raw in raws]
        fmt = _format_for(raws, format, path)
        docs, files = parse_raw(raws, fmt, log)
    if relations is not None:
        inventory, source = read_inventory(relations), str(relations)
    else:
        inventory, source = inventory_for(path, {r.label for d in docs for r in d.relations})
    kept = check_documents(docs, log, inventory, files)
    return LoadResult(str(path), fmt, kept, log.problems, n_read=len(raws) + _unparsed_lines(log),
                      relation_inventory=source)


def _unparsed_lines(log: ProblemLog) -> int:
    return sum(p.field.startswith("line ") for p in log.problems)


@dataclass
class Gold:
    """Gold documents to score against, a note for every document left out, and the left-out titles."""

    documents: list[Document]
    notes: list[str] = field(default_factory=list)
    left_out: frozenset[str] = frozenset()


def load_gold(path: str | Path, format: str = "auto", *, skip_bad: bool = False) -> Gold:
    """Gold documents to score against, every document left out named with why.

    A gold document with an error would otherwise vanish from the scores (and its predictions would be
    blamed on the prediction file): it stops the command with the gold file's error, or, with
    ``skip_bad``, is left out and named — index, title, what was expected and found — in the notes.
    """
    result = load(path, format)
    first_error: dict[tuple[str, int | None], Problem] = {}
    for problem in result.problems:
        if problem.severity == "error":
            first_error.setdefault((problem.file, problem.doc_index), problem)
    if not first_error:
        return Gold(result.documents)
    if not skip_bad:
        p = next(iter(first_error.values()))
        raise DataError(f"expected {p.expected}, found {p.found} ({len(first_error)} gold document(s) with errors; "
                        "--skip-bad-gold scores the others and lists those left out)", file=p.file,
                        doc_index=p.doc_index, doc_title=p.doc_title, field=p.field)
    notes = [f"gold document left out: {p.location()}: expected {p.expected}, found {p.found}"
             for p in first_error.values()]
    return Gold(result.documents, [f"{len(notes)} gold document(s) left out because of errors (--skip-bad-gold); "
                                   "their predictions are not scored", *notes],
                frozenset(p.doc_title for p in first_error.values() if p.doc_title))


def load_documents(path: str | Path, format: str = "auto", **kwargs: Any) -> list[Document]:
    """Load a file and return its usable documents (problems are dropped: use :func:`load` to see them)."""
    return load(path, format, **kwargs).documents


def dump_document(doc: Document, fmt: str) -> dict[str, Any]:
    """A document as the JSON object of a format."""
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; choose one of {', '.join(FORMAT_CHOICES[1:])}")
    module = FORMATS[fmt]
    return module.dump(doc, fmt) if module is docred else module.dump(doc)


def iter_json_lines(docs: Iterable[Document], fmt: str = "jsonl") -> Iterator[str]:
    """Serialise documents one JSON line each."""
    for doc in docs:
        yield json.dumps(dump_document(doc, fmt), ensure_ascii=False)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a file so that readers never see it half-written (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        # backslashreplace: a lone surrogate (invalid in UTF-8) is written as its JSON escape \udXXX
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def exclusive_output(path: str | Path) -> Iterator[None]:
    """Hold the right to write ``path`` for the block: a second command (or process) that asks for the same
    output while the first writes is refused at once, never interleaved. The lock lives under the cache root,
    keyed on the output's absolute path, so the output's folder holds nothing but the output."""
    import fcntl
    import hashlib

    from rexel_bench.resources import cache_root

    target = Path(path).resolve()
    lock_path = cache_root() / "locks" / f"{hashlib.sha256(str(target).encode()).hexdigest()[:24]}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError("another command is writing this output now; wait for it to end or choose another "
                              "output", file=str(path)) from None
        yield


@contextmanager
def staged_file(path: str | Path) -> Iterator[Path]:
    """A temporary path of its own beside ``path`` (same folder, so the move is atomic) that replaces ``path``
    when the block succeeds, and is removed, with any side files a writer made beside it (SQLite's journal),
    when it fails or is interrupted: ``path`` is the old file or the new one, never a half-written one. A
    second writer of the same output at the same time is refused (:func:`exclusive_output`)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_output(target):
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
        os.close(fd)
        staging = Path(name)
        try:
            yield staging
            os.chmod(staging, 0o666 & ~_umask())
            os.replace(staging, target)
        except BaseException:
            for leftover in target.parent.glob(f"{staging.name}*"):
                leftover.unlink(missing_ok=True)
            raise


def is_safe_file_name(name: str) -> bool:
    """Whether a name or id can be one file name inside a folder: no path separator, no NUL, not . or ..."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\0")


def safe_file_name(name: str) -> str:
    """A file name made from a name (e.g. a model spec ``rexel:ckpt/dir``): separators and odd characters
    become ``_``, and the result never starts with a dot (so it is never ``.`` or ``..``)."""
    cleaned = "".join(c if c.isalnum() or c in "-_+=@," else "_" for c in name)
    return cleaned or "_"


@contextmanager
def staged_directory(target: str | Path, marker: str = "metrics.json") -> Iterator[Path]:
    """A fresh folder beside ``target`` that takes its place whole when the block succeeds and is
    removed when it fails (disk full, interruption): nobody ever sees a half-written report or checkpoint.

    An existing ``target`` is replaced only if it is empty or an earlier output of the same kind (it
    holds ``marker``: ``metrics.json`` for reports); any other folder is refused rather than deleted.
    """
    target = Path(target)
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / marker).exists())):
        raise DataError(f"an output folder that is new, empty or an earlier output (with {marker})", file=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())
        if target.exists():
            retired = staging.with_suffix(".old")
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write(docs: Sequence[Document], path: str | Path, format: str | None = None) -> None:
    """Write documents atomically; the format defaults from the suffix (``.jsonl``) or the documents."""
    path = Path(path)
    fmt = format or ("jsonl" if is_jsonl(path) else (docs[0].meta.get("format", "docred") if docs else "docred"))
    if fmt in ("jsonl", "linked-triples"):  # one JSON line per document
        atomic_write_text(path, "".join(line + "\n" for line in iter_json_lines(docs, fmt)))
    elif fmt == "dwie" and (path.is_dir() or not path.suffix):
        for index, doc in enumerate(docs):
            if not is_safe_file_name(doc.id):
                raise DataError("", file=str(path), doc_index=index, doc_title=doc.title, field="id",
                                expected="an id usable as a file name (no / or \\, not . or ..)", found=repr(doc.id))
        for doc in docs:
            atomic_write_text(path / f"{doc.id}.json", json.dumps(dump_document(doc, fmt), ensure_ascii=False))
    else:
        atomic_write_text(path, json.dumps([dump_document(d, fmt) for d in docs], ensure_ascii=False))
