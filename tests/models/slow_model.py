"""A deliberately slow, deterministic model for run tests (loaded as py:tests.models.slow_model:factory)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rexel_bench.data.model import Document


class SlowEcho:
    """Predicts each document's first half of gold entities and facts among them, slowly."""

    name = "slow-echo"

    def __init__(self, delay: float = 0.1) -> None:
        self.delay = delay
        self.timings = {"sleep": 0.0}

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        out = []
        for doc in docs:
            time.sleep(self.delay)
            self.timings["sleep"] += self.delay
            keep = len(doc.entities) // 2
            relations = tuple(r for r in doc.relations if r.head < keep and r.tail < keep)
            out.append(replace(doc, entities=doc.entities[:keep], relations=relations, meta={"format": "jsonl"}))
        return out

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "delay": self.delay}


def factory(**_: Any) -> SlowEcho:
    """The factory ``rexel-bench run --models py:tests.models.slow_model:factory`` calls."""
    return SlowEcho()
