"""REXEL inference on DocRED-IE dev: docs/s, peak memory, encoder vs heads time, coarse-stage pruning.

Prints one table. The share of time in the heads (target: at most 25%) comes from the model's own
stage timers; "pairs kept" counts the ordered entity pairs the coarse scorer passes to the fine
classifier on predicted entities, and "gold-pair recall" is measured on the gold entities: the share
of entity pairs holding a gold relation that the coarse stage keeps.
Run: ``python benchmarks/bench_rexel.py [--checkpoint DIR] [--limit N]``.
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
from rexel_bench.models.rexel.heads import entity_embeddings, span_embeddings
from rexel_bench.models.rexel.targets import doc_spans
from rexel_bench.perf import peak_memory_mb, reset_peak_memory


@torch.no_grad()
def coarse_recall(model, docs) -> tuple[int, int]:
    """(gold relation pairs kept by the coarse stage, gold relation pairs), on gold entities."""
    kept = total = 0
    for start in range(0, len(docs), 8):
        kept_batch, total_batch = _coarse_batch(model, docs[start:start + 8])
        kept, total = kept + kept_batch, total + total_batch
    return kept, total


def _coarse_batch(model, docs) -> tuple[int, int]:
    kept = total = 0
    for doc, encoded in zip(docs, model.encode(docs), strict=True):
        spans, owners = doc_spans(doc)
        if len(doc.entities) < 2:
            continue
        mentions = span_embeddings(encoded.words, spans)
        clusters = [[i for i, o in enumerate(owners) if o == e] for e in range(len(doc.entities))]
        present = [e for e, c in enumerate(clusters) if c]
        entities = entity_embeddings(mentions, [clusters[e] for e in present])
        position = {e: k for k, e in enumerate(present)}
        gold = {(position[r.head], position[r.tail]) for r in doc.relations
                if r.head in position and r.tail in position}
        if not gold:
            continue
        pairs = torch.tensor(sorted(gold))
        probs = torch.sigmoid(model.relation_head.coarse(entities, pairs))
        kept += int((probs >= model.config.coarse_threshold).sum())
        total += len(gold)
    return kept, total


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    docs = data_io.load(resolve("docred-ie:dev")).documents[: args.limit]
    rexel = load_model("rexel", **({"checkpoint": args.checkpoint} if args.checkpoint else {}))
    rexel.predict(docs[:8])  # warm-up
    rexel.model.timings.update(encoder=0.0, heads=0.0)
    rexel.model.pruning.clear()
    reset_peak_memory()
    began = time.perf_counter()
    rexel.predict(docs)
    seconds = time.perf_counter() - began
    timings, pruning, peak = dict(rexel.timings), dict(rexel.model.pruning), peak_memory_mb()
    kept, total = coarse_recall(rexel.model, docs)
    table = Table(title=f"REXEL inference on DocRED-IE dev ({len(docs)} documents, {torch.get_num_threads()} threads)")
    for column in ("docs/s", "tokens/s", "peak RSS (MB)", "encoder (s)", "heads (s)", "heads share",
                   "pairs kept by coarse stage", "gold-pair recall of coarse stage"):
        table.add_column(column, justify="right")
    table.add_row(f"{len(docs) / seconds:.2f}", f"{sum(d.num_tokens for d in docs) / seconds:,.0f}",
                  f"{peak or 0:,.0f}", f"{timings['encoder']:.2f}", f"{timings['heads']:.2f}",
                  f"{100 * timings['heads'] / (timings['encoder'] + timings['heads']):.1f}%",
                  f"{pruning['kept']:,}/{pruning['pairs']:,} ({100 * pruning['kept'] / max(1, pruning['pairs']):.1f}%)",
                  f"{kept}/{total} ({100 * kept / max(1, total):.1f}%)")
    Console().print(table)


if __name__ == "__main__":
    main()
