"""Time to score 1,000 documents on every metric (target: under 1 s here), JSON parsing reported apart.

Gold: 1,000 documents, DocRED-IE dev repeated under new ids (it has QIDs and fine types, so every
metric applies; Ign F1 uses Re-DocRED dev as the training file when available). Prediction: the gold
with a tenth of the mentions and facts dropped and every fifth entity cut to one mention, so that
every metric has real work to do. Run: ``python benchmarks/bench_scoring.py``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from rich.console import Console
from rich.table import Table

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.data.registry import resolve
from rexel_bench.errors import RexelBenchError
from rexel_bench.scoring.api import score_documents


def perturbed(doc: Document) -> Document:
    """A plausible system output: some mentions and facts lost, some clusters split."""
    entities = []
    for i, entity in enumerate(doc.entities):
        kept = tuple(m for j, m in enumerate(entity.mentions) if (i + j) % 10 != 3) or entity.mentions[:1]
        entities.append(replace(entity, mentions=kept[:1] if i % 5 == 0 else kept))
    relations = tuple(r for k, r in enumerate(doc.relations) if k % 10 != 7)
    return replace(doc, entities=tuple(entities), relations=relations)


def main() -> None:
    """Print one table: documents, parse time, scoring time, documents per second."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    base = data_io.load(resolve("docred-ie:dev", args.data_dir)).documents
    parse_s = time.perf_counter() - start
    gold = [replace(base[i % len(base)], id=f"{base[i % len(base)].id}#{i}") for i in range(1000)]
    try:
        train = data_io.load(resolve("re-docred:dev", args.data_dir)).documents
    except RexelBenchError:
        train = None
    pred = [perturbed(d) for d in gold]
    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = score_documents(gold, pred, train=train)
        timings.append(time.perf_counter() - start)
    best = min(timings)
    table = Table(title="Scoring benchmark (all metrics)")
    for column in ("documents", "metrics", f"parse JSON + validate, {len(base)} docs (s)", "score, best run (s)",
                   "docs/s"):
        table.add_column(column, justify="right")
    table.add_row(str(len(gold)), str(len(result.metrics)), f"{parse_s:.2f}", f"{best:.3f}", f"{len(gold) / best:,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
