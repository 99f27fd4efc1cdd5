"""Training REXEL: AdamW with warm-up, gradient accumulation, early stopping on dev end-to-end F1,
atomic checkpoints, resume after interruption, and any number of GPUs or nodes through Accelerate.

Run ``rexel-bench train --config configs/rexel.yaml`` on one machine, or
``accelerate launch -m rexel_bench.cli train --config ...`` on several GPUs or nodes: the same code
runs under DDP, each process taking its share of every batch. The training step goes through the DDP
wrapper's forward (``RexelModel.forward``) so that gradients are averaged, and the processes' final
weights are checked to agree. Tested on two CPU processes (``torchrun --nproc_per_node 2``, gloo), the
same DDP path without a GPU.

Training files may be any loadable file or dataset name; ``silver:<file or name>`` first links the
file's entities with the DocRED-IE builder (cached under ``.cache/``). ``dev: holdout:<fraction>``
holds out that share of the training documents for early stopping, so the evaluation set is never
used for model selection.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.data.registry import resolve
from rexel_bench.data.relations import docred_relations
from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import training_kb_path
from rexel_bench.kb.store import KnowledgeBase
from rexel_bench.models.rexel.config import RexelConfig
from rexel_bench.models.rexel.encoder import EncodedDocument
from rexel_bench.models.rexel.model import RexelModel
from rexel_bench.models.rexel.targets import Vocabulary
from rexel_bench.progress import progress_bar
from rexel_bench.resources import cache_root
from rexel_bench.scoring.api import score_documents
from rexel_bench.silver.agreement import first_sentence_key


def silver_documents(spec: str, kb: KnowledgeBase, kb_path: Path) -> list[Document]:
    """Documents of ``spec`` linked by the builder; cached by input and KB checksum."""
    from rexel_bench.reports.record import sha256_of
    from rexel_bench.silver.builder import build_docred_ie

    path = resolve(spec)
    key = hashlib.sha256((sha256_of(path) + sha256_of(kb_path)).encode()).hexdigest()[:16]
    cached = cache_root() / f"silver-{path.stem}-{key}.json"
    if cached.exists():
        return data_io.load(cached).documents
    linked = build_docred_ie(data_io.load(path).documents, kb)
    data_io.write(linked, cached, "docred-ie")
    return linked


def load_training_data(config: RexelConfig, kb: KnowledgeBase, kb_path: Path
                       ) -> tuple[list[Document], list[Document], dict[str, Any]]:
    """Training and dev documents, and what was excluded."""
    if not config.train:
        raise ConfigError("the config names no training data (train: [...])")
    docs: list[Document] = []
    for spec in config.train:
        docs += silver_documents(spec[7:], kb, kb_path) if spec.startswith("silver:") else \
            data_io.load(resolve(spec)).documents
    info: dict[str, Any] = {"loaded": len(docs)}
    if config.exclude_shared_with:
        shared = {first_sentence_key(d) for d in data_io.load(resolve(config.exclude_shared_with)).documents}
        kept = [d for d in docs if first_sentence_key(d) not in shared]
        info["excluded_shared"] = len(docs) - len(kept)
        docs = kept
    if config.dev and config.dev.startswith("holdout:"):
        share = float(config.dev.split(":", 1)[1])
        order = sorted(range(len(docs)), key=lambda i: hashlib.sha256(docs[i].id.encode()).hexdigest())
        n_dev = max(1, int(len(docs) * share))
        dev_ids = {docs[i].id for i in order[:n_dev]}
        dev = [d for d in docs if d.id in dev_ids]
        docs = [d for d in docs if d.id not in dev_ids]
    else:
        dev = data_io.load(resolve(config.dev)).documents if config.dev else []
    info.update(train=len(docs), dev=len(dev))
    return docs, dev, info


def dev_f1(model: RexelModel, dev: Sequence[Document], encoded: Sequence[EncodedDocument]) -> float:
    """End-to-end F1 on dev: linked facts when the dev set has QIDs, else hard matching."""
    result = score_documents(dev, model.predict_encoded(dev, encoded), metrics=["end-to-end"])
    name = "e2e_linked" if "e2e_linked" in result.metrics else "e2e_hard"
    return result.metrics[name].values["f1"]


def dev_loss(model: RexelModel, dev: Sequence[Document], encoded: Sequence[EncodedDocument]) -> float:
    """Mean weighted loss on dev documents (gold inputs), for stages that only train one head."""
    total = sum(float(model.weighted_loss(model.loss(model.prepare(d), e))) for d, e in zip(dev, encoded, strict=True))
    return total / max(1, len(dev))


@torch.no_grad()
def dev_score(model: RexelModel, dev: Sequence[Document]) -> tuple[float, float]:
    """The early-stopping key, higher is better: (dev end-to-end F1, minus the dev loss), or the loss alone.

    The loss breaks ties in F1: while a young model finds no end-to-end fact at all (F1 0 epoch after
    epoch, common on small or long-document data), F1 alone would keep the first, worst epoch. The dev
    documents are encoded once for both.
    """
    model.eval()
    encoded = model.encode(dev)
    loss = -dev_loss(model, dev, encoded)
    score = (dev_f1(model, dev, encoded), loss) if model.config.early_stopping == "e2e_f1" else (loss, loss)
    model.train()
    return score


def _set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _config_hash(config: RexelConfig) -> str:
    return hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def training_kb_record(kb: KnowledgeBase) -> dict[str, Any]:
    """What the KB that silver-linked the training data held, kept in the checkpoint: its file and hash, how
    many facts, and which documents its entities came from (an evaluation set there is shown in reports)."""
    stats = kb.stats()
    return {"file": kb.path.name, "sha256": kb.content_hash, "facts": stats["facts"], "entities": stats["entities"],
            "provenance": stats["provenance"]}


def load_resume_state(path: Path) -> dict[str, Any]:
    """The training state saved after the last epoch, read with ``weights_only`` (tensors, numbers,
    strings and containers only), so that a resume file can never run code."""
    try:
        return torch.load(path, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        raise ConfigError(f"the resume file holds more than weights and numbers, or is damaged ({exc}); delete it to "
                          "train from the start", file=str(path)) from exc


def train(config: RexelConfig, *, progress: bool = True, limit: int | None = None) -> Path:
    """Train a REXEL model as configured; returns the best checkpoint's directory.

    An interrupted run (same config) resumes from its last finished epoch.
    """
    from accelerate import Accelerator, DistributedDataParallelKwargs
    from transformers import get_linear_schedule_with_warmup

    # heads without a loss on a batch (no relations, no candidates) leave parameters unused: DDP must allow it
    accelerator = Accelerator(gradient_accumulation_steps=config.grad_accumulation, cpu=not torch.cuda.is_available(),
                              kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    _set_seed(config.seed)
    kb_path = Path(config.kb) if config.kb else training_kb_path()
    kb = KnowledgeBase(kb_path)
    train_docs, dev_docs, info = load_training_data(config, kb, kb_path)
    info["training_kb"] = training_kb_record(kb)
    if limit:
        train_docs, dev_docs = train_docs[:limit], dev_docs[: max(1, limit // 4)]
    labels = [r.label for d in train_docs for r in d.relations]
    docred_like = sum(label.startswith("P") and label[1:].isdigit() for label in labels) * 2 >= len(labels)
    vocab = Vocabulary.from_documents(train_docs, list(docred_relations()) if docred_like else [])
    model = RexelModel(config, vocab, kb)
    output = Path(config.output)
    state_dir = output.with_name(output.name + ".state")
    prepared = [model.prepare(d) for d in train_docs]
    cache: list[EncodedDocument] | None = None
    if not config.encoder_trains:  # frozen encoder: one pass over the training data, reused every epoch
        model.eval()
        cache = []
        with _progress(progress) as bar:
            task = bar.add_task("encoding training documents", total=len(train_docs))
            for start in range(0, len(train_docs), 8):
                cache += [EncodedDocument(e.words.detach(), e.tokens.detach())
                          for e in model.encode(train_docs[start:start + 8])]
                bar.advance(task, min(8, len(train_docs) - start))
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    params = [{"params": heads, "lr": config.head_lr}]
    if config.encoder_trains:  # the whole encoder, or only its LoRA adapters
        params.append({"params": [p for p in model.encoder.parameters() if p.requires_grad], "lr": config.lr})
    optimizer = torch.optim.AdamW(params)
    steps = config.epochs * max(1, len(train_docs) // (config.batch_size * config.grad_accumulation))
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup * steps), steps)
    loader = torch.utils.data.DataLoader(list(range(len(train_docs))), batch_size=config.batch_size, shuffle=True,
                                         collate_fn=list, generator=torch.Generator().manual_seed(config.seed))
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    core: RexelModel = accelerator.unwrap_model(model)
    start_epoch, best, stale, history = 0, (-math.inf, -math.inf), 0, []
    if (state_dir / "state.pt").exists():
        state = load_resume_state(state_dir / "state.pt")
        if state["config_hash"] == _config_hash(config):
            core.load_state_dict(state["model"], strict=False)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            start_epoch, best, stale, history = state["epoch"] + 1, tuple(state["best"]), state["stale"], \
                state["history"]
            torch.set_rng_state(state["rng"])
            if stale >= config.patience:  # the run had already stopped early: nothing is left to train
                start_epoch = config.epochs
    began = time.perf_counter()
    for epoch in range(start_epoch, config.epochs):
        model.train()
        totals: dict[str, float] = {}
        with _progress(progress) as bar:
            task = bar.add_task(f"epoch {epoch + 1}/{config.epochs}", total=len(loader))
            for batch in loader:
                with accelerator.accumulate(model):
                    loss, parts = model([prepared[i] for i in batch],
                                        [cache[i] for i in batch] if cache is not None else None)
                    accelerator.backward(loss)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
                for p in parts:
                    for k, v in p.items():
                        totals[k] = totals.get(k, 0.0) + v.item() / len(train_docs)
                bar.advance(task)
        train_loss = -float(sum(totals.values()))
        score = dev_score(core, dev_docs) if dev_docs else (train_loss, train_loss)
        history.append({"epoch": epoch + 1, f"dev_{core.config.early_stopping}": score[0],
                        "dev_loss" if dev_docs else "train_loss": -score[1], "losses": totals})
        if score > best:
            best, stale = score, 0
            if accelerator.is_main_process:
                core.save(output, extra={"training": {**info, "history": history, "best_dev": best[0],
                                                      "seconds": round(time.perf_counter() - began, 1)}})
        else:
            stale += 1
        if accelerator.is_main_process:
            state_dir.mkdir(parents=True, exist_ok=True)
            torch.save({"config_hash": _config_hash(config), "model": core.trainable_state(),
                        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": epoch,
                        "best": best, "stale": stale, "history": history, "rng": torch.get_rng_state()},
                       state_dir / "state.tmp")
            (state_dir / "state.tmp").replace(state_dir / "state.pt")
        if stale >= config.patience:
            break
    check_replicas_agree(accelerator, core)
    kb.close()
    return output


def check_replicas_agree(accelerator: Any, model: RexelModel) -> None:
    """Under DDP every process must end with the same weights; a difference means gradients were not
    synchronised, and the saved checkpoint would be one replica's alone."""
    if accelerator.num_processes == 1:
        return
    checksum = torch.stack([v.double().sum() for v in model.trainable_state().values()]).sum().reshape(1)
    gathered = accelerator.gather(checksum.to(accelerator.device))
    if not torch.allclose(gathered, gathered[0].expand_as(gathered), rtol=1e-6):
        raise RuntimeError(f"the {accelerator.num_processes} training processes ended with different weights "
                           f"(checksums {gathered.tolist()}): gradients were not synchronised")


def end_distributed_process() -> NoReturn:
    """End one process of a multi-process (DDP) training, its work done and saved, without interpreter teardown
    (`rexel-bench train` calls it after :func:`train` in every DDP process; a script that calls :func:`train`
    under ``accelerate launch`` should end the same way).

    Teardown destroys gloo's process group and joins its worker threads while holding the GIL; a worker that is
    still releasing the last collective's tensors needs the GIL to do so. The process then hangs (when the group
    was destroyed explicitly) or aborts at exit ("terminate called without an active exception", exit -6), after
    a training that succeeded: py-spy showed the main thread in ``~ProcessGroupGloo`` joining a worker blocked
    in ``gil_scoped_acquire`` under ``~AsyncAllgatherWork``. Output is flushed first; nothing else is pending.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _progress(enabled: bool) -> Progress:
    return progress_bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        enabled=enabled)
