"""``pipeline``: the neural pipeline — four separately trained stages, each with its own encoder pass.

Stages, each a REXEL network trained on one task only (one-hot loss weights), on the same data, with
the same encoder family and size and the same epoch budget as the default REXEL:
1. ``md``: mention detection and typing;
2. ``coref``: mention-pair classifier + clustering (no link feature: linking comes after it);
3. ``ed``: candidate ranker over the same knowledge base as REXEL;
4. ``rc``: document-level relation classifier on the predicted entities, ATLOP-style (localized
   context pooling, adaptive threshold, no coarse-to-fine pruning).
Each stage re-encodes the document and receives the previous stages' *predicted* output, which is what
makes a pipeline slower and lets its errors cascade. Every stage's checkpoint is saved like REXEL's. The
default (``checkpoints/pipeline-minilm-lora-neg4-factfree/<stage>/``) gives each stage its own LoRA adapters,
like the default REXEL, and is trained with ``python -m rexel_bench.baselines.pipeline --config
configs/pipeline.yaml`` (``--stages rc`` trains one stage again).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rexel_bench.data.model import Document
from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import default_kb_path
from rexel_bench.kb.store import open_kb
from rexel_bench.models.base import MAX_WORDS, as_documents, register, split_too_long
from rexel_bench.models.rexel.checkpoint import checkpoint_hash, encoder_hash, trained_parameters, training_kb_of
from rexel_bench.models.rexel.config import LossWeights, RexelConfig
from rexel_bench.models.rexel.heads import span_embeddings
from rexel_bench.models.rexel.model import RexelModel
from rexel_bench.resources import default_checkpoint

DEFAULT_DIRECTORY = default_checkpoint("pipeline")
STAGES: dict[str, dict[str, Any]] = {
    "md": {"loss_weights": LossWeights(md=1.0, et=1.0, ed=0.0, coref=0.0, rc=0.0)},
    "coref": {"loss_weights": LossWeights(md=0.0, et=0.0, ed=0.0, coref=1.0, rc=0.0), "coref_uses_links": False},
    "ed": {"loss_weights": LossWeights(md=0.0, et=0.0, ed=1.0, coref=0.0, rc=0.0)},
    "rc": {"loss_weights": LossWeights(md=0.0, et=0.0, ed=0.0, coref=0.0, rc=1.0),
           "relation_head": "localized-context"},
}


def stage_configs(base: RexelConfig) -> dict[str, RexelConfig]:
    """Each stage's training config: the base one with one task's loss and its own output directory."""
    return {stage: dataclasses.replace(base, output=str(Path(base.output) / stage), early_stopping="dev_loss",
                                       **changes) for stage, changes in STAGES.items()}


def train_pipeline(base: RexelConfig, limit: int | None = None, stages: Sequence[str] = tuple(STAGES)) -> Path:
    """Train the four stages (or those named in ``stages``, e.g. one whose training changed) one after the other;
    returns the pipeline's directory."""
    from rexel_bench.models.rexel.train import train

    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise ConfigError(f"unknown pipeline stage(s) {unknown}; the stages are {', '.join(STAGES)}")
    for stage, config in stage_configs(base).items():
        if stage not in stages:
            continue
        print(f"training stage {stage} → {config.output}", flush=True)
        train(config, limit=limit)
    return Path(base.output)


@register("pipeline")
class NeuralPipeline:
    """The four stages chained on predicted inputs, each encoding the document again.

    Options: ``checkpoint`` (the directory of the four stage checkpoints), ``kb``, ``batch_size``, ``device``,
    ``max_words`` (longer documents are skipped, with why), ``merge_lora`` and ``quantize`` (as REXEL's).
    """

    def __init__(self, checkpoint: str | Path | None = None, kb: str | Path | None = None, batch_size: int = 8,
                 device: str = "cpu", max_words: int = MAX_WORDS, merge_lora: bool = True,
                 quantize: str | None = None) -> None:
        self.max_words = max_words
        self.skipped: dict[str, str] = {}
        self.directory = Path(checkpoint) if checkpoint else DEFAULT_DIRECTORY
        self.kb = open_kb(kb or default_kb_path())
        self.stages = {s: RexelModel.load(self.directory / s, self.kb).to(device) for s in STAGES}
        for stage in self.stages.values():
            stage.prepare_inference(merge_lora=merge_lora, quantize=quantize, device=device)
        self.batch_size = batch_size
        self.name = "pipeline"
        self.timings: dict[str, float] = {f"{s}_{part}": 0.0 for s in STAGES for part in ("encoder", "head")}

    def describe(self) -> dict[str, Any]:
        """The four checkpoints and their hashes, inference form, relation decision, coreference threshold, mention
        decoding and trained parameters."""
        return {"name": self.name, "checkpoint": str(self.directory),
                "stages": {s: checkpoint_hash(self.directory / s) for s in STAGES},
                "encoder_sha256": {s: encoder_hash(self.stages[s].config.encoder) for s in STAGES},
                "kb": self.kb.location,
                "kb_sha256": self.kb.content_hash, "training_kb": training_kb_of(self.directory / next(iter(STAGES))),
                "inference": self.stages["md"].inference_form, "relations": self.stages["rc"].relation_decision(),
                "coref_threshold": self.stages["coref"].config.coref_threshold,
                "mention_decoding": self.stages["md"].config.mention_decoding,
                "trained_parameters": trained_parameters(*(self.directory / s for s in STAGES)),
                "encoder_passes": len(STAGES)}

    def _encode(self, stage: str, docs: Sequence[Document]) -> list:
        began = time.perf_counter()
        out = self.stages[stage].encode(docs)
        self.timings[f"{stage}_encoder"] += time.perf_counter() - began
        return out

    def _timed(self, stage: str, func, *args):
        began = time.perf_counter()
        out = func(*args)
        self.timings[f"{stage}_head"] += time.perf_counter() - began
        return out

    @torch.inference_mode()
    def predict(self, docs: Sequence[Document | str]) -> list[Document]:
        """Run the stages in order on each batch of documents or texts (those over ``max_words`` are skipped)."""
        md, coref, ed, rc = (self.stages[s] for s in STAGES)
        docs, skipped = split_too_long(as_documents(docs), self.max_words, self.name)
        self.skipped.update(skipped)
        out = []
        for start in range(0, len(docs), self.batch_size):
            batch = docs[start:start + self.batch_size]
            detected = [self._timed("md", md.detect, d, e) for d, e in zip(batch, self._encode("md", batch),
                                                                            strict=True)]
            clusters = []
            for found, encoded in zip(detected, self._encode("coref", batch), strict=True):
                mentions = span_embeddings(encoded.words, found.spans)
                clusters.append(self._timed("coref", coref.cluster, mentions, found.texts, [None] * len(found.texts),
                                            found.coarse) if found.spans else [])
            qids = [self._timed("ed", ed.link, found, span_embeddings(encoded.words, found.spans))
                    for found, encoded in zip(detected, self._encode("ed", batch), strict=True)]
            for doc, found, groups, links, encoded in zip(batch, detected, clusters, qids, self._encode("rc", batch),
                                                          strict=True):
                mentions = span_embeddings(encoded.words, found.spans)
                relations = self._timed("rc", rc.relate, mentions, groups, encoded.tokens) if found.spans else []
                out.append(md.assemble(doc, found, links, groups, relations))
        return out


def main() -> None:
    """Command line: train the pipeline's four stages from a REXEL-style config."""
    parser = argparse.ArgumentParser(description="Train the neural pipeline baseline's four stages.")
    parser.add_argument("--config", required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--stages", nargs="+", choices=tuple(STAGES), default=tuple(STAGES),
                        help="Train only these stages (default: all four, in order).")
    args = parser.parse_args()
    print(f"pipeline written to {train_pipeline(RexelConfig.from_yaml(args.config), args.limit, args.stages)}")


if __name__ == "__main__":
    main()
