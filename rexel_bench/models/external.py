"""``file:<path>``: an external system's predictions in the toolkit's JSONL, as a model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.models.base import register
from rexel_bench.reports.record import sha256_of


@dataclass
class FilePredictions:
    """Predictions read from a file; ``predict`` returns the file's document for each input id."""

    path: Path
    name: str = ""
    linking: str = "unknown"
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = self.name or f"file:{self.path.name}"
        result = data_io.load(self.path, strict=True)
        self._by_id = {d.id: d for d in result.documents}

    @property
    def document_ids(self) -> frozenset[str]:
        """Every document id the file holds (a run refuses a file with ids its dataset lacks)."""
        return frozenset(self._by_id)

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        """The file's prediction of each document it has; documents it lacks are left out (the run counts
        and reports them as missing predictions, scored as empty)."""
        return [self._by_id[d.id] for d in docs if d.id in self._by_id]

    def describe(self) -> dict[str, Any]:
        """The file and its checksum."""
        return {"name": self.name, "kind": "file", "path": str(self.path), "sha256": sha256_of(self.path),
                "linking": self.linking}


@register("file")
def file_model(path: Path, linking: str = "unknown") -> FilePredictions:
    """Factory for ``file:<path>``; ``linking`` declares the system's linking setting (external, held-out,
    oracle-candidates), shown as ``unknown`` when not declared."""
    return FilePredictions(Path(path), linking=linking)
