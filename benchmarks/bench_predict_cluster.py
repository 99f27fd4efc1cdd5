"""``predict`` on 1,000 documents: one process against a local Dask cluster of 2 workers × 1 thread.

The input is the text of DocRED-IE dev's documents (repeated under new ids up to ``--documents``), one
JSON line each, as a user would give it. Three runs of the default REXEL: one process with torch's
default threads, one process with 1 thread (what each worker uses), and the cluster. Printed: docs/s,
peak memory (the process, or each worker), and whether the outputs are byte-identical — the cluster's
with the one-thread process's (the same arithmetic), and with the default process's (torch's sums may
differ in the last digits when split over another number of threads).

Run: ``python benchmarks/bench_predict_cluster.py [--documents N] [--workers 2] [--partition-size 64]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.perf import peak_memory_mb, reset_peak_memory
from rexel_bench.predict_text import predict_file


def write_input(path: Path, n: int) -> None:
    """``n`` documents of DocRED-IE dev text as JSONL (``id``, ``title``, ``text``)."""
    docs = data_io.load(resolve("docred-ie:dev")).documents
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            doc = docs[i % len(docs)]
            text = " ".join(" ".join(sentence) for sentence in doc.sentences)
            f.write(json.dumps({"id": f"{doc.id}#{i}", "title": doc.title, "text": text}) + "\n")


def main() -> None:
    """Run the three predictions and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partition-size", type=int, default=64)
    args = parser.parse_args()
    table = Table(title=f"predict on {args.documents} documents (REXEL, default options)")
    for column in ("run", "docs/s", "peak memory (MB)", "same bytes as"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_input(root / "input.jsonl", args.documents)
        write_input(root / "warmup.jsonl", 8)  # loads the model and KB once, so that no run pays a cold disk
        predict_file(root / "warmup.jsonl", root / "warmup-out.jsonl", progress=False)
        runs = {
            f"one process, {torch.get_num_threads()} threads": {},
            "one process, 1 thread": {"threads": 1},
            f"Dask local cluster, {args.workers} workers × 1 thread": {
                "scheduler": "local", "workers": args.workers, "partition_size": args.partition_size},
        }
        outputs = {}
        for i, (label, options) in enumerate(runs.items()):
            reset_peak_memory()
            began = time.perf_counter()
            result = predict_file(root / "input.jsonl", root / f"out-{i}.jsonl", progress=False, **options)
            seconds = time.perf_counter() - began
            outputs[label] = (root / f"out-{i}.jsonl").read_bytes()
            memory = (", ".join(f"{mb:,.0f}" for mb in result.cluster.peak_memory_mb.values() if mb)
                      if result.cluster else f"{peak_memory_mb() or 0:,.0f}")
            same = [other for other in outputs if other != label and outputs[other] == outputs[label]]
            table.add_row(label, f"{result.count / seconds:.2f}", memory, "; ".join(same) or "—")
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
