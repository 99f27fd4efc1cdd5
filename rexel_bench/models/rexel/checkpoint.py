"""What a checkpoint directory records, read without loading its model: the KB that silver-linked its training
data, how many parameters it trained, and the hash that identifies its predictions (caches and reports)."""

from __future__ import annotations

import functools
import hashlib
import json
import math
from pathlib import Path
from typing import Any


def training_kb_of(checkpoint: str | Path) -> dict[str, Any] | None:
    """What the KB that silver-linked a checkpoint's training data held (``training.training_kb`` of its
    config), or None where the checkpoint does not record it."""
    try:
        config = json.loads((Path(checkpoint) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (config.get("training") or {}).get("training_kb")


def trained_parameters(*checkpoints: str | Path) -> dict[str, int]:
    """How many parameters the checkpoints trained together (a pipeline's stages, or one model), read from
    their weights files: ``encoder`` (LoRA adapters, or the whole encoder when it was fine-tuned) and
    ``heads``. Reports show it, so that a comparison says whether the systems had the same capacity."""
    from safetensors import safe_open

    counts = {"encoder": 0, "heads": 0}
    for checkpoint in checkpoints:
        with safe_open(str(Path(checkpoint) / "model.safetensors"), "pt") as weights:
            for key in weights.keys():  # noqa: SIM118 (a safetensors file is not a mapping)
                part = "encoder" if key.startswith("encoder.") else "heads"
                counts[part] += math.prod(weights.get_slice(key).get_shape())
    return counts


def checkpoint_hash(directory: str | Path) -> str:
    """SHA-256 over a checkpoint's files, identifying its predictions (for caches and reports)."""
    digest = hashlib.sha256()
    for name in ("config.json", "vocab.json", "model.safetensors"):
        digest.update((Path(directory) / name).read_bytes())
    return digest.hexdigest()


def encoder_hash(spec: str) -> str:
    """SHA-256 over the files of an encoder (weights, configuration, vocabulary): a prediction depends on them as
    much as on the checkpoint, so the cache key and the report carry it. Hashed once per process and file state."""
    from rexel_bench.models.rexel.config import encoder_directory

    directory = encoder_directory(spec)
    files = sorted(p for p in directory.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".py", ".pyc"))
    state = tuple((str(p.relative_to(directory)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _hash_files(directory, state)


@functools.lru_cache(maxsize=8)
def _hash_files(directory: Path, state: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in state:
        digest.update(name.encode())
        with (directory / name).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
