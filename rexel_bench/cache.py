"""A prediction cache that survives interruption and never trusts a damaged or stale entry.

Predictions are stored one document per file under ``<root>/<key>/``. The key hashes everything a
prediction depends on: the model name, the model's own description (checkpoint hash, KB content hash,
encoder), the options that change outputs (batch size, device, model options), the dataset checksum
and the version of the code (a hash of the toolkit's and the baselines' source files). Each entry's file
name hashes the document id and its content (title and tokens), so that an edited document is predicted
again. Each file is written atomically and carries the SHA-256 of its payload; a file that does not parse,
whose checksum does not match, or whose document id is not the one asked for is reported and recomputed.
Temporary files left by an interrupted writer (whose process is gone) are removed and counted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexel_bench import __version__
from rexel_bench.data.formats import jsonl
from rexel_bench.data.io import atomic_write_text
from rexel_bench.data.model import Document, text_hash
from rexel_bench.resources import code_folders

#: Description entries that are measured while predicting, not inputs of the prediction.
RUNTIME_KEYS = frozenset({"pruning"})


@functools.cache
def code_version() -> str:
    """SHA-256 over the source and data files of the package and the baselines: changes with any edit."""
    digest = hashlib.sha256(__version__.encode())
    for root in code_folders():
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".json", ".yaml", ".gz") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


#: The libraries whose versions can change a prediction's numbers (those installed go into every key).
LIBRARIES = ("torch", "transformers", "peft", "tokenizers", "safetensors", "numpy", "spacy")

#: What the cache key covers, in words (recorded in ``metrics.json``).
KEY_COVERS = (
    "the model's name and options (device, batch size, torch threads, model options)",
    "the model's description: checkpoint files' SHA-256, encoder files' SHA-256 (weights, vocabulary), the KB "
    "file's SHA-256, decision thresholds",
    f"the installed versions of {', '.join(LIBRARIES)}",
    "the toolkit's code (a SHA-256 of its source and data files)",
    "the dataset file's SHA-256",
    "each document's id, title and tokens",
)


@functools.cache
def library_versions() -> dict[str, str]:
    """The installed version of each of :data:`LIBRARIES` (those not installed are left out)."""
    from importlib import metadata

    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cache_key(model_name: str, description: Mapping[str, Any], dataset_sha256: str,
              options: Mapping[str, Any] | None = None) -> str:
    """Hash of everything a cached prediction depends on (:data:`KEY_COVERS`)."""
    payload = json.dumps({"model": model_name,
                          "description": {k: v for k, v in description.items() if k not in RUNTIME_KEYS},
                          "options": dict(options or {}), "dataset": dataset_sha256, "code": code_version(),
                          "libraries": library_versions()},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphan_temporaries(directory: Path) -> int:
    """Delete temporary files (``.<name>.<pid>.<random>.tmp``) whose writing process is gone; their count."""
    removed = 0
    for tmp in directory.glob(".*.tmp"):
        parts = tmp.name.split(".")
        pid = next((int(p) for p in reversed(parts[:-2]) if p.isdigit()), None)
        if pid is None or not _pid_alive(pid):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


@dataclass
class PredictionCache:
    """Per-document prediction files of one (model, data) pair."""

    root: Path
    key: str
    problems: list[str] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        """Where this key's files live."""
        return self.root / self.key

    def __post_init__(self) -> None:
        if self.directory.is_dir():
            removed = remove_orphan_temporaries(self.directory)
            if removed:
                self.problems.append(f"{removed} temporary file(s) left by an interrupted run removed from the cache")

    def _path(self, doc: Document) -> Path:
        # what a prediction depends on in the document itself: its id, title and tokens
        return self.directory / f"{hashlib.sha256((doc.id + text_hash(doc)).encode()).hexdigest()[:32]}.json"

    def get(self, doc: Document) -> Document | None:
        """The cached prediction of a document, or None if absent or damaged (damage is recorded in ``problems``)."""
        doc_id = doc.id
        path = self._path(doc)
        if not path.exists():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            payload = json.dumps(entry["document"], sort_keys=True)
            if hashlib.sha256(payload.encode()).hexdigest() != entry["sha256"] or entry["doc_id"] != doc_id:
                raise ValueError("checksum or document id does not match")
            return jsonl.parse(entry["document"], 0)
        except Exception as exc:
            self.problems.append(f"cache entry {path.name} for document {doc_id!r} is damaged ({exc}); recomputed")
            path.unlink(missing_ok=True)
            return None

    def put(self, source: Document, doc: Document) -> None:
        """Store the prediction ``doc`` of the document ``source`` atomically."""
        document = jsonl.dump(doc)
        payload = json.dumps(document, sort_keys=True)
        atomic_write_text(self._path(source), json.dumps({"doc_id": doc.id, "document": document,
                                                          "sha256": hashlib.sha256(payload.encode()).hexdigest()}))

    def read_meta(self) -> dict[str, Any]:
        """Speed measured when the predictions were computed (kept with them)."""
        path = self.directory / "meta.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}

    def write_meta(self, meta: Mapping[str, Any]) -> None:
        """Store the measured speed beside the predictions."""
        atomic_write_text(self.directory / "meta.json", json.dumps(dict(meta), indent=1))
