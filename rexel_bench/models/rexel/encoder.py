"""One encoder pass per document, in overlapping windows when it is longer than the encoder's limit.

Words are split into sub-words by the checkpoint's own tokenizer; special tokens come from the
tokenizer (the ids it adds around a probe word), never hard-coded. A document longer than a window
is cut into windows of ``window - specials`` sub-words that overlap by ``stride``; a sub-word seen in
several windows gets the mean of its embeddings. A word's embedding is the mean of its sub-words'.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer

from rexel_bench.errors import ConfigError


@contextmanager
def third_party_quiet() -> Iterator[None]:
    """Silence the libraries' own progress bars ("Loading weights") and deprecation warnings while a model
    loads, so that the toolkit's output is what a user reads; ``REXEL_BENCH_VERBOSE=1`` (``--verbose``)
    keeps them."""
    if os.environ.get("REXEL_BENCH_VERBOSE"):
        yield
        return
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)(\.|$)")
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(transformers|peft)(\.|$)")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


@dataclass
class EncodedDocument:
    """Encoder output of one document."""

    words: torch.Tensor  # [n_words, hidden]: mean of each word's sub-word embeddings
    tokens: torch.Tensor  # [n_subwords, hidden]: merged sub-word embeddings (for cross-attention)


class WindowedEncoder(nn.Module):
    """A Hugging Face encoder from a local directory, applied in overlapping windows."""

    def __init__(self, directory: str | Path, window: int = 512, stride: int = 128) -> None:
        super().__init__()
        self.directory = str(directory)
        with third_party_quiet():
            self.tokenizer = AutoTokenizer.from_pretrained(self.directory)
            self.model = AutoModel.from_pretrained(self.directory)
        self.tokenizer.model_max_length = 1 << 30  # documents are windowed here, not truncated
        if not self.tokenizer.is_fast:
            raise ValueError(f"{directory}: a fast tokenizer (tokenizer.json) is needed to align words and sub-words")
        limit = getattr(self.model.config, "max_position_embeddings", window)
        self.window = min(window, limit)
        self.prefix, self.suffix = self._special_frame()
        self.content = self.window - len(self.prefix) - len(self.suffix)
        self.stride = min(stride, self.content // 2)

    def add_lora(self, rank: int, alpha: int, dropout: float) -> None:
        """Wrap the encoder with LoRA adapters (peft) on its attention projections; the base stays frozen.

        The target modules are peft's defaults for the architecture (BERT: query/value, MPNet: q/v).
        """
        from peft import LoraConfig, get_peft_model

        try:
            with third_party_quiet():
                self.model = get_peft_model(self.model, LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout))
        except ValueError as exc:
            raise ConfigError(f"LoRA cannot be applied to this encoder: {exc}", file=self.directory) from exc

    def merge_lora(self) -> bool:
        """Fold the LoRA adapters into the weights they adapt (W + (alpha/r)·BA), for inference: the same
        function without the adapters' extra matrix products. False when there are no adapters."""
        from peft import PeftModel

        if not isinstance(self.model, PeftModel):
            return False
        with third_party_quiet():
            self.model = self.model.merge_and_unload()
        return True

    def quantize_int8(self) -> None:
        """Dynamic int8 quantization of the encoder's linear layers (CPU): weights stored as int8,
        activations quantized batch by batch. Inference only; merge LoRA adapters first."""
        with warnings.catch_warnings():  # torch's notices that this API moves to torchao one day (it works in 2.13)
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor", category=UserWarning)
            warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated",
                                    category=DeprecationWarning)
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {nn.Linear}, dtype=torch.qint8)

    @property
    def hidden_size(self) -> int:
        """Width of the embeddings."""
        return int(self.model.config.hidden_size)

    def _subwords(self, words: Sequence[str]) -> tuple[list[int], list[int]]:
        encoded = self.tokenizer(list(words), is_split_into_words=True, add_special_tokens=False)
        ids, word_ids = encoded["input_ids"], encoded.word_ids()
        # a word the tokenizer drops entirely (e.g. a lone control character) gets the unknown token
        present = set(word_ids)
        for w in range(len(words)):
            if w not in present:
                ids.append(self.tokenizer.unk_token_id)
                word_ids.append(w)
        order = sorted(range(len(ids)), key=lambda i: word_ids[i])
        return [ids[i] for i in order], [word_ids[i] for i in order]

    def windows(self, n: int) -> list[tuple[int, int]]:
        """``[start, end)`` sub-word ranges covering ``n`` sub-words with the configured overlap."""
        if n <= self.content:
            return [(0, n)]
        out, start = [], 0
        while True:
            end = min(start + self.content, n)
            out.append((start, end))
            if end == n:
                return out
            start = end - self.stride

    def forward(self, docs_words: Sequence[Sequence[str]]) -> list[EncodedDocument]:
        """Encode documents given as word lists."""
        device = next(self.model.parameters()).device
        prepared = [self._subwords(words) for words in docs_words]
        chunks, owners = [], []
        for d, (ids, _) in enumerate(prepared):
            for start, end in self.windows(len(ids)):
                chunks.append(self.prefix + ids[start:end] + self.suffix)
                owners.append((d, start, end))
        width = max(len(c) for c in chunks)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.tensor([c + [pad] * (width - len(c)) for c in chunks], device=device)
        mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in chunks], device=device)
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        lead = len(self.prefix)
        out = []
        for d, (ids, word_ids) in enumerate(prepared):
            summed = hidden.new_zeros(len(ids), hidden.shape[-1])
            seen = hidden.new_zeros(len(ids), 1)
            for row, (owner, start, end) in enumerate(owners):
                if owner == d:
                    summed[start:end] += hidden[row, lead: lead + end - start]
                    seen[start:end] += 1
            tokens = summed / seen.clamp(min=1)
            index = torch.tensor(word_ids, device=device)
            n_words = len(docs_words[d])
            words = hidden.new_zeros(n_words, hidden.shape[-1]).index_add_(0, index, tokens)
            counts = torch.bincount(index, minlength=n_words).clamp(min=1).unsqueeze(1)
            out.append(EncodedDocument(words=words / counts, tokens=tokens))
        return out

    def _special_frame(self) -> tuple[list[int], list[int]]:
        """The special-token ids the tokenizer puts before and after content ([CLS] … [SEP], <s> … </s>)."""
        probe = ["word"]
        bare = self.tokenizer(probe, is_split_into_words=True, add_special_tokens=False)["input_ids"]
        framed = self.tokenizer(probe, is_split_into_words=True, add_special_tokens=True)["input_ids"]
        for start in range(len(framed) - len(bare) + 1):
            if framed[start:start + len(bare)] == bare:
                return framed[:start], framed[start + len(bare):]
        raise ValueError(f"{self.directory}: cannot locate the content among the tokenizer's special tokens")
