"""A deliberately slow, deterministic model for run tests (loaded as py:tests.models.slow_model:factory)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rexel_bench.data.model import Document, Entity, Mention, Relation


class SlowEcho:
    """Predicts, slowly and from the text alone, each capitalised word as an entity of its own (its first three
    occurrences as mentions) and a "country" fact from the first such entity to the second."""

    name = "slow-echo"

    def __init__(self, delay: float = 0.1) -> None:
        self.delay = delay
        self.timings = {"sleep": 0.0}

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        out = []
        for doc in docs:
            time.sleep(self.delay)
            self.timings["sleep"] += self.delay
            spans: dict[str, list[Mention]] = {}
            for s, sentence in enumerate(doc.sentences):
                for t, token in enumerate(sentence):
                    if token[:1].isupper() and len(spans.setdefault(token, [])) < 3:
                        spans[token].append(Mention(s, t, t + 1, token, type="MISC"))
            entities = tuple(Entity(tuple(mentions), type="MISC") for mentions in spans.values())
            relations = (Relation(0, 1, "P17"),) if len(entities) > 1 else ()
            out.append(replace(doc, entities=entities, relations=relations, meta={"format": "jsonl"}))
        return out

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "delay": self.delay}


def factory(**_: Any) -> SlowEcho:
    """The factory ``rexel-bench run --models py:tests.models.slow_model:factory`` calls."""
    return SlowEcho()
