"""Time for 10,000 paired bootstrap resamples of all metrics for 3 systems on 1,000 documents.

Target: under 3 s here. The documents are DocRED-IE dev repeated under new ids (every metric
applies); the three systems keep all, three quarters and half of each document's facts and
mentions. Scoring time is reported apart: the bootstrap reuses the per-document counts.
Run: ``python benchmarks/bench_bootstrap.py``.
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
from rexel_bench.scoring.api import score_documents
from rexel_bench.stats.bootstrap import metric_counts_from_scores, paired_bootstrap


def keep_share(doc: Document, share: float) -> Document:
    """A system that keeps the first ``share`` of each entity's mentions and of the document's facts."""
    entities = tuple(replace(e, mentions=e.mentions[: max(1, round(len(e.mentions) * share))]) for e in doc.entities)
    return replace(doc, entities=entities, relations=doc.relations[: round(len(doc.relations) * share)])


def main() -> None:
    """Print one table: documents, systems, metrics, count columns, scoring and bootstrap seconds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args()
    base = data_io.load(resolve("docred-ie:dev")).documents
    gold = [replace(base[i % len(base)], id=f"{base[i % len(base)].id}#{i}") for i in range(args.documents)]
    start = time.perf_counter()
    scores = {f"keep-{share}": score_documents(gold, [keep_share(d, share) for d in gold])
              for share in (1.0, 0.75, 0.5)}
    score_s = time.perf_counter() - start
    counts = metric_counts_from_scores(scores)
    start = time.perf_counter()
    result = paired_bootstrap(counts, list(scores), n_resamples=args.resamples, seed=0)
    boot_s = time.perf_counter() - start
    table = Table(title="Paired bootstrap benchmark")
    for column in ("documents", "systems", "metrics", "count columns", "resamples", "scoring (s)", "bootstrap (s)"):
        table.add_column(column, justify="right")
    table.add_row(str(len(gold)), str(len(scores)), str(len(counts)),
                  str(sum(c.counts.shape[2] for c in counts) * len(scores)), f"{result.n_resamples:,}",
                  f"{score_s:.2f}", f"{boot_s:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
