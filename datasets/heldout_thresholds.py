"""Sweep REXEL's inference thresholds on the held-out part of its training documents, never on an evaluation set.

For a checkpoint, the held-out documents are the ones its own training config held out (``dev: holdout:<share>``,
the same documents ``training.best_dev`` was measured on), linked with its training KB. They are encoded once;
then, for every pair of ``coarse_threshold`` (coarse-to-fine pruning) and ``relation_margin`` (how far a relation's
logit must beat the adaptive-threshold class), the heads predict again and the end-to-end scorers score the result.
With ``--coref`` the coreference threshold (mention pairs joined above it) is swept too. The table gives e2e
hard, soft and linked F1; the chosen setting is the best on linked F1 (the key training selects epochs on), ties
going to the values the checkpoint already has. Nothing is changed: set the chosen values in the
config (and the checkpoint's ``config.json``) by hand, and say so in ``docs/results.md``.

The pipeline gets the same sweeps (``--system pipeline``: the margin on its relation stage, the coreference
threshold on its coreference stage), so that both systems have the same optimisation. Run: ``python
datasets/heldout_thresholds.py [--system rexel|pipeline] [--checkpoint DIR] [--coref T ...] [--out FILE.json]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path

import torch

from baselines.pipeline import DEFAULT_DIRECTORY as PIPELINE_DIRECTORY
from baselines.pipeline import NeuralPipeline
from rexel_bench.kb.build import training_kb_path
from rexel_bench.kb.store import KnowledgeBase
from rexel_bench.models.rexel.model import DEFAULT_CHECKPOINT, RexelModel
from rexel_bench.models.rexel.train import load_training_data
from rexel_bench.scoring.api import score_documents

METRICS = ("e2e_hard", "e2e_soft", "e2e_linked")


def heldout_sweep(system: str, checkpoint: Path, coarse: list[float], margins: list[float],
                  coref: list[float] | None = None) -> tuple[list[dict[str, float]], dict[str, float]]:
    """One row per (coreference threshold, coarse threshold, margin): the held-out e2e F1s (%) of the system's
    predictions; and the checkpoint's own values of the three (``coref`` None: its own threshold only).

    ``system`` ``rexel``: the documents are encoded once and the heads predict again per setting; ``pipeline``:
    the four stages predict again per setting, the margin set on the relation stage. A relation head that
    prunes nothing (localized context) is swept over the margin only: the coarse threshold does not apply.
    """
    config_file = checkpoint / ("rc" if system == "pipeline" else "") / "config.json"
    probe = json.loads(config_file.read_text())
    kb_path = Path(probe["kb"]) if probe.get("kb") else training_kb_path()
    kb = KnowledgeBase(kb_path)
    pipeline = NeuralPipeline(checkpoint=checkpoint, kb=kb_path) if system == "pipeline" else None
    model = pipeline.stages["rc"] if pipeline else RexelModel.load(checkpoint, kb).eval()
    clusterer = pipeline.stages["coref"] if pipeline else model
    _, heldout, info = load_training_data(model.config, kb, kb_path)
    print(f"{checkpoint}: {info['dev']} held-out documents ({model.config.dev}) of {info['loaded']} loaded")
    base, current = model.config, model.relation_decision()
    cluster_base = clusterer.config
    grid = itertools.product(coref or [cluster_base.coref_threshold],
                             coarse if current["coarse_threshold"] is not None else [base.coarse_threshold], margins)
    rows = []
    with torch.no_grad():
        encoded = None if pipeline else model.encode(heldout)
        for joined, threshold, margin in grid:
            clusterer.config = dataclasses.replace(cluster_base, coref_threshold=joined)
            model.config = dataclasses.replace(clusterer.config if clusterer is model else base,
                                               coarse_threshold=threshold, relation_margin=margin)
            predicted = pipeline.predict(heldout) if pipeline else model.predict_encoded(heldout, encoded)
            result = score_documents(heldout, predicted, metrics=["end-to-end"])
            rows.append({"coref_threshold": joined, "coarse_threshold": threshold, "relation_margin": margin,
                         **{m: 100 * result.metrics[m].values["f1"] for m in METRICS if m in result.metrics}})
    model.config, clusterer.config = base, cluster_base
    return rows, {"coref_threshold": cluster_base.coref_threshold, "coarse_threshold": base.coarse_threshold,
                  "relation_margin": base.relation_margin}


SETTINGS = ("coref_threshold", "coarse_threshold", "relation_margin")


def chosen(rows: list[dict[str, float]], current: dict[str, float]) -> dict[str, float]:
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
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    checkpoint = args.checkpoint or (PIPELINE_DIRECTORY if args.system == "pipeline" else DEFAULT_CHECKPOINT)
    rows, current = heldout_sweep(args.system, checkpoint, args.coarse, args.margins, args.coref)
    names = [m for m in METRICS if m in rows[0]]
    print("| coref threshold | coarse threshold | relation margin | " + " | ".join(names) + " |")
    print("|---:|---:|---:|" + "---:|" * len(names))
    for row in rows:
        print(f"| {row['coref_threshold']:g} | {row['coarse_threshold']:g} | {row['relation_margin']:+g} | "
              + " | ".join(f"{row[m]:.1f}" for m in names) + " |")
    best = chosen(rows, current)

    def shown(values: dict[str, float]) -> str:
        return (f"coref {values['coref_threshold']:g}, coarse {values['coarse_threshold']:g}, "
                f"margin {values['relation_margin']:+g}")
    print(f"current: {shown(current)}; chosen on held-out: {shown(best)}")
    if args.out:
        record = {"system": args.system, "checkpoint": str(checkpoint), "rows": rows, "chosen": best}
        args.out.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
