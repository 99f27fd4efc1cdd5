"""A prediction cache that survives interruption and never trusts a damaged entry.

Predictions are stored one document per file under ``<root>/<key>/``, where the key hashes the model
name, the model's own description (checkpoint hash), the dataset checksum and the toolkit version.
Each file is written atomically and carries the SHA-256 of its payload; a file that does not parse, whose
checksum does not match, or whose document id is not the one asked for is reported and recomputed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexel_bench import __version__
from rexel_bench.data.formats import jsonl
from rexel_bench.data.io import atomic_write_text
from rexel_bench.data.model import Document


def cache_key(model_name: str, description: Mapping[str, Any], dataset_sha256: str) -> str:
    """Hash of everything a cached prediction depends on."""
    payload = json.dumps({"model": model_name, "description": description, "dataset": dataset_sha256,
                          "toolkit": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


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

    def _path(self, doc_id: str) -> Path:
        return self.directory / f"{hashlib.sha256(doc_id.encode()).hexdigest()[:32]}.json"

    def get(self, doc_id: str) -> Document | None:
        """The cached prediction, or None if absent or damaged (damage is recorded in ``problems``)."""
        path = self._path(doc_id)
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

    def put(self, doc: Document) -> None:
        """Store one prediction atomically."""
        document = jsonl.dump(doc)
        payload = json.dumps(document, sort_keys=True)
        atomic_write_text(self._path(doc.id), json.dumps({"doc_id": doc.id, "document": document,
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
