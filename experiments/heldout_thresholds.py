"""Sweep REXEL's inference thresholds on the held-out part of its training documents, never on an evaluation set.

For a checkpoint, the held-out documents are the ones its own training config held out (``dev: holdout:<share>``,
the same documents ``training.best_dev`` was measured on), linked with its training KB. They are encoded once;
then, for every pair of ``coarse_threshold`` (coarse-to-fine pruning) and ``relation_margin`` (how far a relation's
logit must beat the adaptive-threshold class), the heads predict again and the end-to-end scorers score the result.
With ``--coref`` the coreference threshold (mention pairs joined above it) is swept too, and with
``--mention-decoding greedy viterbi`` the BIO decoding of mentions (argmax per word, or the best sequence BIO
allows). The table gives e2e hard, soft and linked F1; the chosen setting is the best on linked F1 (the key
training selects epochs on), ties going to the values the checkpoint already has. Nothing is changed: set the
chosen values in the config (and the checkpoint's ``config.json``) by hand, and say so in ``docs/results.md``.

With ``--reach R`` the held-out documents are predicted with a copy of the training KB from which the aliases of a
random (seeded) share 1 − R of the held-out documents' linked entities are removed, so that about R of them can
be found at all, as in the evaluated held-out setting (about 0.2 of DocRED-IE dev's gold linked entities): the
regime the evaluation is in, where the plain sweep links every held-out entity's QID (their silver links come from
that KB). The silver links themselves still come from the training KB.

The pipeline gets the same sweeps (``--system pipeline``: the margin on its relation stage, the coreference
threshold on its coreference stage, the decoding on its mention stage), so that both systems have the same
optimisation. Run: ``python experiments/heldout_thresholds.py [--system rexel|pipeline] [--checkpoint DIR]
[--coref T ...] [--mention-decoding D ...] [--out FILE.json]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from rexel_bench.baselines.pipeline import DEFAULT_DIRECTORY as PIPELINE_DIRECTORY
from rexel_bench.baselines.pipeline import NeuralPipeline

from rexel_bench.kb.build import training_kb_path
from rexel_bench.kb.reach import decompose, reach_of
from rexel_bench.kb.store import KnowledgeBase
from rexel_bench.models.rexel.config import RexelConfig
from rexel_bench.models.rexel.model import DEFAULT_CHECKPOINT, RexelModel
from rexel_bench.models.rexel.train import load_training_data
from rexel_bench.scoring.api import score_documents

METRICS = ("e2e_hard", "e2e_soft", "e2e_linked")


#: The inference settings swept, in table order, and the pipeline stage that holds each.
SETTINGS = ("mention_decoding", "coref_threshold", "coarse_threshold", "relation_margin")
PIPELINE_STAGE = {"mention_decoding": "md", "coref_threshold": "coref", "coarse_threshold": "rc",
                  "relation_margin": "rc"}


def reach_matched_kb(kb_path: Path, heldout: list, reach: float, out: Path, seed: int = 0) -> float:
    """A copy of the KB at ``out`` without the aliases of a random share ``1 - reach`` of the linked entities of
    ``heldout``; returns the copy's ceiling on them as reports count it (``kb.reach``: the share of the documents'
    linked entities whose QID the copy returns for at least one of their mentions)."""
    qids = sorted({e.qid for d in heldout for e in d.entities if e.qid})
    dropped = set(random.Random(seed).sample(qids, round(len(qids) * (1 - reach))))
    shutil.copy(kb_path, out)
    with KnowledgeBase(out) as kb:
        with kb.transaction() as db:
            db.executemany("DELETE FROM aliases WHERE qid = ?", ((q,) for q in sorted(dropped)))
        kb.finalize()
    return decompose(reach_of([(out, heldout)]), heldout)["ceiling"]["entities"]["share"]


def encode_once(stage: RexelModel) -> None:
    """Make ``stage`` keep its encoding of each batch of documents it has encoded: the pipeline's sweep predicts
    the same batches once per setting, and no setting changes what the encoder computes (each stage encodes the
    text alone), so each of its four encoder passes runs once instead of once per setting."""
    encode, kept = stage.encode, {}

    def encoded(docs: list) -> list:
        key = tuple(d.id for d in docs)
        if key not in kept:
            kept[key] = encode(docs)
        return kept[key]

    stage.encode = encoded


def heldout_sweep(system: str, checkpoint: Path, values: dict[str, list | None], reach: float | None = None,
                  workdir: Path | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per combination of the settings' values (``values[setting]`` None: the checkpoint's own value
    only): the held-out e2e F1s (%) of the system's predictions; and the checkpoint's own values.

    ``system`` ``rexel``: the documents are encoded once and the heads predict again per setting; ``pipeline``:
    the four stages' heads predict again per setting, each setting on its stage (:data:`PIPELINE_STAGE`), from
    encodings made once (:func:`encode_once`). A relation
    head that prunes nothing (localized context) is not swept over the coarse threshold: it does not apply.
    """
    config_file = checkpoint / ("rc" if system == "pipeline" else "") / "config.json"
    probe = json.loads(config_file.read_text())
    kb_path = Path(probe["kb"]) if probe.get("kb") else training_kb_path()
    kb = KnowledgeBase(kb_path)
    config = RexelConfig.from_dict({k: v for k, v in probe.items() if k in RexelConfig.__dataclass_fields__})
    _, heldout, info = load_training_data(config, kb, kb_path)  # silver-linked with the training KB
    predict_kb = kb_path
    if reach is not None:
        predict_kb = (workdir or Path(".")) / f"reach-{reach:g}.sqlite"
        found = reach_matched_kb(kb_path, heldout, reach, predict_kb)
        print(f"predicting with {predict_kb}: {100 * found:.1f}% of the held-out linked entities reachable")
    pipeline = NeuralPipeline(checkpoint=checkpoint, kb=predict_kb) if system == "pipeline" else None
    for stage in pipeline.stages.values() if pipeline else ():
        encode_once(stage)
    model = pipeline.stages["rc"] if pipeline else RexelModel.load(checkpoint, KnowledgeBase(predict_kb)).eval()
    holders = {s: pipeline.stages[PIPELINE_STAGE[s]] if pipeline else model for s in SETTINGS}
    stages = list({id(h): h for h in holders.values()}.values())
    bases = {id(h): h.config for h in stages}
    print(f"{checkpoint}: {info['dev']} held-out documents ({model.config.dev}) of {info['loaded']} loaded")
    current = {s: getattr(holders[s].config, s) for s in SETTINGS}
    prunes = model.relation_decision()["coarse_threshold"] is not None
    grid = itertools.product(*((values.get(s) if s != "coarse_threshold" or prunes else None) or [current[s]]
                               for s in SETTINGS))
    rows = []
    with torch.no_grad():
        encoded = None if pipeline else model.encode(heldout)
        for combination in grid:
            setting = dict(zip(SETTINGS, combination, strict=True))
            for stage in stages:
                stage.config = dataclasses.replace(bases[id(stage)], **{s: v for s, v in setting.items()
                                                                          if holders[s] is stage})
            predicted = pipeline.predict(heldout) if pipeline else model.predict_encoded(heldout, encoded)
            result = score_documents(heldout, predicted, metrics=["end-to-end"])
            rows.append({**setting, **{m: 100 * result.metrics[m].values["f1"] for m in METRICS
                                       if m in result.metrics}})
    for stage in stages:
        stage.config = bases[id(stage)]
    return rows, current


def chosen(rows: list[dict[str, Any]], current: dict[str, Any]) -> dict[str, Any]:
    """The best row on linked F1 (hard F1 where nothing is linked); a tie keeps the current values."""
    key = "e2e_linked" if "e2e_linked" in rows[0] else "e2e_hard"
    return max(rows, key=lambda r: (round(r[key], 6), all(r[k] == current[k] for k in SETTINGS)))


def main() -> None:
    """Print the sweep's table and the chosen values; optionally write the rows as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", choices=["rexel", "pipeline"], default="rexel")
    parser.add_argument("--checkpoint", type=Path, help="default: the system's default checkpoint")
    parser.add_argument("--coarse", type=float, nargs="+", default=[0.0, 0.02, 0.05, 0.1, 0.2])
    parser.add_argument("--margins", type=float, nargs="+", default=[-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0])
    parser.add_argument("--coref", type=float, nargs="+", help="coreference thresholds (default: the checkpoint's)")
    parser.add_argument("--mention-decoding", nargs="+", choices=["greedy", "viterbi"],
                        help="BIO decodings (default: the checkpoint's)")
    parser.add_argument("--reach", type=float, help="predict with a KB that reaches about this share of the "
                                                     "held-out linked entities (the evaluated setting: about 0.2)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    checkpoint = args.checkpoint or (PIPELINE_DIRECTORY if args.system == "pipeline" else DEFAULT_CHECKPOINT)
    with tempfile.TemporaryDirectory() as workdir:
        rows, current = heldout_sweep(args.system, checkpoint, {
            "mention_decoding": args.mention_decoding, "coref_threshold": args.coref, "coarse_threshold": args.coarse,
            "relation_margin": args.margins}, reach=args.reach, workdir=Path(workdir))
    names = [m for m in METRICS if m in rows[0]]
    print("| mention decoding | coref threshold | coarse threshold | relation margin | " + " | ".join(names) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(names))
    for row in rows:
        print(f"| {row['mention_decoding']} | {row['coref_threshold']:g} | {row['coarse_threshold']:g} | "
              f"{row['relation_margin']:+g} | " + " | ".join(f"{row[m]:.1f}" for m in names) + " |")
    best = chosen(rows, current)

    def shown(values: dict[str, Any]) -> str:
        return (f"decoding {values['mention_decoding']}, coref {values['coref_threshold']:g}, "
                f"coarse {values['coarse_threshold']:g}, margin {values['relation_margin']:+g}")
    print(f"current: {shown(current)}; chosen on held-out: {shown(best)}")
    if args.out:
        record = {"system": args.system, "checkpoint": str(checkpoint), "reach": args.reach, "rows": rows,
                  "chosen": best}
        args.out.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
