"""Is an exported graph run by ONNX Runtime a faster CPU path for REXEL's encoder than PyTorch?

The default REXEL's encoder (MiniLM with its LoRA adapters merged, exactly what ``predict`` runs) is
exported to ONNX (opset 17) and run by ONNX Runtime's CPU provider, plain and after
``onnxruntime.transformers``' BERT graph optimizer, on the windows ``predict`` feeds it: DocRED-IE dev's
first documents, 8 per batch, cut and padded as :class:`WindowedEncoder` cuts them. Each engine uses the
same number of threads; the table gives each one's seconds for all batches (best of ``--repeats``), its speed
relative to PyTorch, and the largest difference from PyTorch's output on real (unpadded) positions.

ONNX Runtime is not a dependency of rexel-bench: ``pip install onnxruntime onnx`` first.
Run: ``python benchmarks/bench_onnx.py [--docs 48] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.models.rexel.encoder import WindowedEncoder
from rexel_bench.models.rexel.model import Rexel

Batch = tuple[torch.Tensor, torch.Tensor]


def encoder_batches(encoder: WindowedEncoder, docs_words: list[list[str]], size: int = 8) -> list[Batch]:
    """(input ids, attention mask) of each batch of ``size`` documents, as the windowed encoder builds them."""
    batches = []
    for start in range(0, len(docs_words), size):
        chunks = []
        for words in docs_words[start:start + size]:
            ids, _ = encoder._subwords(words)
            chunks += [encoder.prefix + ids[a:b] + encoder.suffix for a, b in encoder.windows(len(ids))]
        width = max(len(c) for c in chunks)
        pad = encoder.tokenizer.pad_token_id or 0
        batches.append((torch.tensor([c + [pad] * (width - len(c)) for c in chunks]),
                        torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in chunks])))
    return batches


class HiddenStates(torch.nn.Module):
    """The encoder as a function of (input ids, mask) to its last hidden states, for export."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Last hidden states ``[batch, length, hidden]``."""
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def export(module: HiddenStates, sample: Batch, path: Path) -> None:
    """ONNX export with batch size and length left dynamic."""
    axes = {0: "batch", 1: "length"}
    with warnings.catch_warnings():  # the tracer's notes on Python control flow in transformers' masking code
        warnings.simplefilter("ignore")
        torch.onnx.export(module, sample, str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["hidden"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes})


def onnx_runner(path: Path, threads: int) -> Callable[[Batch], torch.Tensor]:
    """A function running the exported graph with ONNX Runtime's CPU provider on ``threads`` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda batch: torch.from_numpy(session.run(None, {"input_ids": batch[0].numpy(),
                                                              "attention_mask": batch[1].numpy()})[0])


def best_seconds(run: Callable[[Batch], torch.Tensor], batches: list[Batch], repeats: int) -> float:
    """Best wall time over ``repeats`` passes over every batch (one untimed warm-up pass first)."""
    for batch in batches[:1]:
        run(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            run(batch)
        times.append(time.perf_counter() - start)
    return min(times)


def max_difference(run: Callable[[Batch], torch.Tensor], reference: list[torch.Tensor], batches: list[Batch]) -> float:
    """Largest absolute difference from the reference outputs, on unpadded positions."""
    return max(float((run(b) - r)[b[1].bool()].abs().max()) for b, r in zip(batches, reference, strict=True))


def main() -> None:
    """Export, run each engine on the same batches, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=48, help="DocRED-IE dev documents (default 48)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        from onnxruntime.transformers import optimizer
    except ImportError:
        raise SystemExit("ONNX Runtime is not installed: pip install onnxruntime onnx") from None
    threads = torch.get_num_threads()
    encoder = Rexel().model.encoder  # the default checkpoint, LoRA merged as predict runs it
    docs = data_io.load(resolve("docred-ie:dev")).documents[: args.docs]
    batches = encoder_batches(encoder, [list(d.tokens) for d in docs])
    module = HiddenStates(encoder.model).eval()
    with torch.inference_mode():
        reference = [module(*b) for b in batches]
    engines: dict[str, Callable[[Batch], torch.Tensor]] = {"PyTorch (eager, SDPA)": torch.inference_mode()(
        lambda b: module(*b))}
    with tempfile.TemporaryDirectory() as tmp:
        plain, fused = Path(tmp) / "encoder.onnx", Path(tmp) / "encoder-optimized.onnx"
        export(module, batches[0], plain)
        config = encoder.model.config
        optimizer.optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                                 hidden_size=config.hidden_size).save_model_to_file(str(fused))
        engines["ONNX Runtime"] = onnx_runner(plain, threads)
        engines["ONNX Runtime + BERT graph optimizer"] = onnx_runner(fused, threads)
        windows = sum(len(b[0]) for b in batches)
        table = Table(title=f"REXEL's encoder on {len(docs)} DocRED-IE dev documents ({windows} windows, "
                            f"{len(batches)} batches), {threads} threads, best of {args.repeats}")
        for column in ("engine", "seconds", "speed vs PyTorch", "max |Δ| vs PyTorch"):
            table.add_column(column, justify="left" if column == "engine" else "right")
        baseline = None
        for name, run in engines.items():
            seconds = best_seconds(run, batches, args.repeats)
            baseline = baseline or seconds
            table.add_row(name, f"{seconds:.3f}", f"{baseline / seconds:.2f}x",
                          f"{max_difference(run, reference, batches):.1e}")
    Console().print(table)


if __name__ == "__main__":
    main()
