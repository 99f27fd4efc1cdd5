"""Speed of every model on DocRED-IE dev in one process: docs/s and peak memory after a warm-up,
and the ratio REXEL / pipeline (docs/s), measured in the same run on the same machine.

Run: ``python benchmarks/bench_run.py [--models rexel,pipeline,pipeline-heuristic] [--limit N]``.
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console
from rich.table import Table

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.models.base import load_model
from rexel_bench.run import _reset_peak_memory, peak_memory_mb


def main() -> None:
    """Measure every model and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="rexel,pipeline,pipeline-heuristic")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=8)
    args = parser.parse_args()
    docs = data_io.load(resolve("docred-ie:dev")).documents[: args.limit]
    tokens = sum(d.num_tokens for d in docs)
    rates: dict[str, float] = {}
    table = Table(title=f"Inference on DocRED-IE dev: {len(docs)} documents, {torch.get_num_threads()} threads")
    for column in ("model", "docs/s", "tokens/s", "peak RSS (MB)", "seconds"):
        table.add_column(column, justify="right")
    for name in args.models.split(","):
        model = load_model(name)
        model.predict(docs[: args.warmup])
        _reset_peak_memory()
        began = time.perf_counter()
        model.predict(docs)
        seconds = time.perf_counter() - began
        rates[name] = len(docs) / seconds
        table.add_row(name, f"{rates[name]:.2f}", f"{tokens / seconds:,.0f}", f"{peak_memory_mb() or 0:,.0f}",
                      f"{seconds:.1f}")
    console = Console()
    console.print(table)
    if "rexel" in rates and "pipeline" in rates:
        console.print(f"speed ratio REXEL / pipeline: {rates['rexel'] / rates['pipeline']:.2f}x")


if __name__ == "__main__":
    main()
