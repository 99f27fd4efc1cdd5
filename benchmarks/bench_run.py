"""Inference speed and quality of every inference form on DocRED-IE dev, measured in one run.

Forms: REXEL with its LoRA adapters unmerged (fp32), merged (the default), merged and int8-quantized
(``quantize=int8``); the neural pipeline merged (its default) and merged + int8, so that the ratio
REXEL / pipeline compares the two with the same optimisations. For each: docs/s after a warm-up, peak
memory, and the share of time in the heads (REXEL: its heads; pipeline: the four stages' non-encoder
work). Quality: every form of a model is compared with that model's fp32 default on the same documents
(paired bootstrap, Holm over that model's comparisons): the change of e2e_hard, e2e_soft and e2e_linked
F1 in points. Linking uses the default KB, the same on both sides of each comparison (so e2e_linked here
is an oracle-candidates number; only its change is read). An option whose e2e F1 falls by more than 0.5
point stays opt-in.

Run: ``python benchmarks/bench_run.py [--limit N] [--bootstrap B]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from rexel_bench import api
from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.data.registry import resolve
from rexel_bench.models.base import load_model
from rexel_bench.perf import peak_memory_mb, reset_peak_memory

#: (label, model, options); the first form of each model is the one the others are compared with.
FORMS = (
    ("rexel merged fp32 (default)", "rexel", {}),
    ("rexel adapters fp32", "rexel", {"merge_lora": False}),
    ("rexel merged int8", "rexel", {"quantize": "int8"}),
    ("pipeline merged fp32 (default)", "pipeline", {}),
    ("pipeline merged int8", "pipeline", {"quantize": "int8"}),
)
E2E = ("e2e_hard", "e2e_soft", "e2e_linked")


def heads_share(timings: dict[str, float]) -> float:
    """Share of the measured time spent outside the encoder(s)."""
    encoder = sum(v for k, v in timings.items() if k.endswith("encoder"))
    heads = sum(v for k, v in timings.items() if not k.endswith("encoder"))
    return heads / max(encoder + heads, 1e-9)


def measure(model_name: str, options: dict[str, Any], docs: list[Document], warmup: int
            ) -> tuple[list[Document], dict[str, float]]:
    """Predictions of every document and the speed figures of one inference form."""
    model = load_model(model_name, **options)
    model.predict(docs[:warmup])
    for key in model.timings:
        model.timings[key] = 0.0
    reset_peak_memory()
    began = time.perf_counter()
    predicted = model.predict(docs)
    seconds = time.perf_counter() - began
    return predicted, {"docs_s": len(docs) / seconds, "peak_mb": peak_memory_mb() or 0.0,
                       "heads": heads_share(model.timings), "seconds": seconds}


def quality_changes(gold: list[Document], predictions: dict[str, list[Document]], bootstrap: int
                    ) -> dict[str, dict[str, tuple[float, float]]]:
    """For each non-default form: (change in F1 points, Holm p) per e2e metric against its model's default."""
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for model_name in dict.fromkeys(name for _, name, _ in FORMS):
        labels = [label for label, name, _ in FORMS if name == model_name]
        report = api.compare(gold, {label: predictions[label] for label in labels}, bootstrap=bootstrap,
                             metrics=list(E2E), randomization=0)
        rows = report.comparisons()
        for label in labels[1:]:
            out[label] = {}
            for metric in E2E:
                row = rows[(rows.metric == metric) & (rows.a == labels[0]) & (rows.b == label)].iloc[0]
                out[label][metric] = (-100 * row.delta, row.p_holm)  # delta is A − B; a change is B − A
    return out


def main() -> None:
    """Measure every form and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--bootstrap", type=int, default=2000)
    args = parser.parse_args()
    docs = data_io.load(resolve("docred-ie:dev")).documents[: args.limit]
    predictions, speed = {}, {}
    for label, model_name, options in FORMS:
        predictions[label], speed[label] = measure(model_name, options, docs, args.warmup)
    changes = quality_changes(docs, predictions, args.bootstrap)
    table = Table(title=f"Inference on DocRED-IE dev: {len(docs)} documents, {torch.get_num_threads()} threads, "
                        "one run")
    for column in ("form", "docs/s", "peak RSS (MB)", "heads' share", *(f"Δ {m} (Holm p)" for m in E2E)):
        table.add_column(column, justify="right")
    for label, _, _ in FORMS:
        s = speed[label]
        deltas = [f"{d:+.2f} ({p:.2f})" for d, p in changes[label].values()] if label in changes else ["—"] * 3
        table.add_row(label, f"{s['docs_s']:.2f}", f"{s['peak_mb']:,.0f}", f"{s['heads']:.1%}", *deltas)
    console = Console(width=150)
    console.print(table)
    for rexel, pipeline in ((FORMS[0][0], FORMS[3][0]), (FORMS[2][0], FORMS[4][0])):
        console.print(f"speed ratio {rexel} / {pipeline}: {speed[rexel]['docs_s'] / speed[pipeline]['docs_s']:.2f}x")


if __name__ == "__main__":
    main()
