"""Shared fixtures: the real data directory (../shared/datasets), a few real DocRED-IE documents, and tiny
models built at test time (a randomly initialised BERT, REXEL checkpoints of any setting), never downloaded or
read from historical checkpoint files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rexel_bench.data.registry import data_dir

SHARED = data_dir()


def shared_file(relative: str) -> Path:
    """A file of ../shared/datasets; the test is skipped where that directory is absent."""
    if SHARED is None or not (SHARED / relative).exists():
        pytest.skip(f"real data {relative} not available (no ../shared/datasets)")
    return SHARED / relative


@pytest.fixture()
def shared():
    """Accessor for files of the real data directory."""
    return shared_file


def make_tiny_encoder(directory: Path, words: set[str], max_positions: int = 64) -> Path:
    """A 1-layer, 32-wide BERT with a word-level vocabulary; short positions force windowing."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted({w.lower() for w in words})]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=True).save_pretrained(directory)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=max_positions)
    with torch.random.fork_rng():  # the same weights whichever test builds it first
        torch.manual_seed(0)
        BertModel(config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def real_docs():
    """Eight real DocRED-IE dev documents."""
    from rexel_bench.data import io as data_io
    from rexel_bench.data.registry import resolve

    return data_io.load(resolve("docred-ie:dev")).documents[:8]


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory, real_docs):
    """Path of the tiny encoder, its vocabulary covering the real documents' words."""
    words = {w for d in real_docs for w in d.tokens}
    return make_tiny_encoder(tmp_path_factory.mktemp("tiny-bert"), words)


@pytest.fixture()
def tiny_checkpoint(tmp_path, tiny_encoder, real_docs):
    """``tiny_checkpoint(name, **settings)``: a REXEL checkpoint on the tiny encoder under ``tmp_path/name``."""

    def build(name: str, *, training_kb: str | Path | None = None, **settings: Any) -> Path:
        return make_tiny_checkpoint(tmp_path / name, tiny_encoder, real_docs, training_kb=training_kb, **settings)
    return build


def make_tiny_checkpoint(directory: Path, encoder: Path, docs: list, *, training_kb: str | Path | None = None,
                         **settings: Any) -> Path:
    """A REXEL checkpoint on the tiny encoder with any settings (untrained heads, seeded), saved as training
    saves one: ``training_kb`` names the KB whose record the checkpoint keeps (default: the training KB)."""
    import torch

    from rexel_bench.kb.build import default_kb_path, training_kb_path
    from rexel_bench.kb.store import KnowledgeBase
    from rexel_bench.models.rexel.config import RexelConfig
    from rexel_bench.models.rexel.model import RexelModel
    from rexel_bench.models.rexel.targets import Vocabulary
    from rexel_bench.models.rexel.train import training_kb_record

    config = RexelConfig(**{"encoder": str(encoder), "window": 64, "stride": 16, "hidden": 32, "attention_heads": 2,
                            "output": str(directory), **settings})
    with torch.random.fork_rng(), KnowledgeBase(default_kb_path()) as kb, \
            KnowledgeBase(Path(training_kb) if training_kb else training_kb_path()) as record_kb:
        torch.manual_seed(config.seed)
        model = RexelModel(config, Vocabulary.from_documents(docs), kb)
        return model.save(directory, extra={"training": {"training_kb": training_kb_record(record_kb)}})
