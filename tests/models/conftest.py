"""A tiny randomly initialised BERT encoder (no download) and a few real DocRED-IE documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertModel, BertTokenizerFast

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve


def make_tiny_encoder(directory: Path, words: set[str], max_positions: int = 64) -> Path:
    """A 1-layer, 32-wide BERT with a word-level vocabulary; short positions force windowing."""
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
    return data_io.load(resolve("docred-ie:dev")).documents[:8]


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory, real_docs):
    """Path of the tiny encoder, its vocabulary covering the real documents' words."""
    words = {w for d in real_docs for w in d.tokens}
    return make_tiny_encoder(tmp_path_factory.mktemp("tiny-bert"), words)
