"""Score several systems on one gold set and resample: everything a report shows, as one dict.

The dict is what ``metrics.json`` holds (schema ``rexel-bench.metrics/1``): every value, interval
and p-value, the per-size buckets and per-relation F1, plus provenance (command, versions, git
commit, data checksums, seed). Reports only render it; nothing is computed while rendering.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from rexel_bench import __version__
from rexel_bench.data.model import Document
from rexel_bench.data.relations import with_name
from rexel_bench.resources import checkout_root
from rexel_bench.scoring.api import ScoreResult, score_documents
from rexel_bench.scoring.base import prf
from rexel_bench.scoring.linking import EXCLUSION_RULE
from rexel_bench.scoring.relations import TrainFacts
from rexel_bench.stats.bootstrap import metric_counts_from_scores
from rexel_bench.stats.buckets import bucket_scores
from rexel_bench.stats.compare import compare_systems, prestated_family

SCHEMA = "rexel-bench.metrics/1"
HEADLINE_METRICS = ("e2e_linked", "e2e_hard")


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, or of every file of a directory in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if file.is_file():
            digest.update(file.read_bytes())
    return digest.hexdigest()


def git_commit() -> str | None:
    """The checkout's commit (with ``+dirty`` when it has uncommitted changes), or None outside git."""
    root = checkout_root()
    if root is None:  # an installed package: its version says what it is
        return None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    """Versions of the toolkit, Python and the packages numbers depend on."""
    out = {"rexel-bench": __version__, "python": platform.python_version()}
    for package in ("numpy", "scipy", "torch", "transformers"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return out


def headline_metric(metrics: Mapping[str, object]) -> str | None:
    """The end-to-end metric a report leads with: linked facts if the gold has QIDs, else hard."""
    return next((m for m in HEADLINE_METRICS if m in metrics), None)


def per_relation_f1(scores: Mapping[str, ScoreResult], metric: str, top: int = 15) -> dict[str, Any] | None:
    """F1 of each system on the ``top`` most frequent gold relations of a per-relation metric."""
    macro = f"{metric}.macro"
    if any(macro not in s.metrics for s in scores.values()):
        return None
    gold_counts: Counter[str] = Counter()
    per_system: dict[str, dict[str, float]] = {}
    for name, result in scores.items():
        m = result.metrics[macro]
        per_class = m.counts.reshape(m.counts.shape[0], -1, 4).sum(axis=0)
        values = prf(per_class)["f1"]
        per_system[name] = {c: float(v) for c, v in zip(m.classes, values, strict=True)}
        for c, row in zip(m.classes, per_class, strict=True):
            gold_counts[c] = int(row[3])
    labels = [label for label, _ in gold_counts.most_common(top) if gold_counts[label] > 0]
    return {"metric": metric, "relations": labels, "names": [with_name(c) for c in labels],
            "gold_counts": [gold_counts[c] for c in labels],
            "f1": {s: [per_system[s].get(c, 0.0) for c in labels] for s in scores}}


def evaluate(
    gold: Sequence[Document],
    predictions: Mapping[str, Sequence[Document]],
    *,
    dataset: str,
    dataset_path: str | Path | None = None,
    metrics: Sequence[str] | None = None,
    train: Sequence[Document] | TrainFacts | None = None,
    n_resamples: int = 10_000,
    seed: int = 0,
    randomization_rounds: int = 1000,
    lenient: bool = False,
    speed: Mapping[str, Mapping[str, Any]] | None = None,
    sources: Mapping[str, str] | None = None,
    command: str | None = None,
    data_notes: Sequence[str] = (),
    reference: str | None = None,
) -> dict[str, Any]:
    """Score every system, bootstrap every metric, test every pair: the content of ``metrics.json``.

    ``data_notes`` says what happened to the gold data before scoring (documents left out, and why). Holm
    corrects the pre-stated family, each system against ``reference`` (default: the first system) on the
    headline metrics; every other comparison is exploratory (uncorrected).
    """
    scores = {name: score_documents(gold, pred, metrics=metrics, train=train, lenient=lenient,
                                    pred_file=(sources or {}).get(name))
              for name, pred in predictions.items()}
    systems = list(scores)
    # every system was scored on the metrics ``metrics`` names (family names expanded by the scorer): resample those
    first = next(iter(scores.values()))
    family = prestated_family(systems, list(first.metrics), reference)
    stats = compare_systems(scores, n_resamples=n_resamples, seed=seed, randomization_rounds=randomization_rounds,
                            family=family)
    headline = headline_metric(first.metrics)
    buckets: dict[str, Any] = {}
    if headline:
        counts = next(c for c in metric_counts_from_scores(scores, [headline]))
        by_id = {d.id: d for d in gold}
        docs = [by_id.get(doc_id) for doc_id in first.doc_ids]
        buckets = {"metric": headline,
                   "tokens": bucket_scores(counts, systems, [d.num_tokens if d else 0 for d in docs], seed=seed),
                   "entities": bucket_scores(counts, systems, [len(d.entities) if d else 0 for d in docs],
                                             seed=seed)}
    return {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command or " ".join(sys.argv),
        "git_commit": git_commit(),
        "versions": versions(),
        "seed": seed,
        "dataset": {"name": dataset, "path": str(dataset_path) if dataset_path else None,
                    "sha256": sha256_of(dataset_path) if dataset_path else None, "documents": len(gold)},
        "data_notes": list(data_notes),
        "metric_versions": {name: m.version for name, m in first.metrics.items()},
        "conventions": list(first.conventions),
        "headline_metric": headline,
        "ed_exclusion_rule": EXCLUSION_RULE,
        "systems": {
            name: {
                "source": (sources or {}).get(name),
                "notes": result.notes,
                "speed": dict((speed or {}).get(name, {})),
                "metrics": {m: {"description": r.description, "family": r.family, "headline": r.headline,
                                "values": r.values,
                                "totals": {n: float(v) for n, v in zip(r.count_names, r.counts.sum(axis=0),
                                                                       strict=True)},
                                "ci": {k: i.to_dict() for k, i in stats.intervals[name].get(m, {}).items()}}
                            for m, r in result.metrics.items()},
            }
            for name, result in scores.items()
        },
        "bootstrap": {"n_resamples": n_resamples, "seed": seed, "confidence": stats.confidence,
                      "randomization_rounds": randomization_rounds,
                      "correction": "Holm-Bonferroni over the pre-stated family (each system against "
                                    f"{family.reference} on the headline metrics; two-sided bootstrap p); other "
                                    "comparisons exploratory, uncorrected"},
        "family": family.to_dict(sum(c.confirmatory for c in stats.comparisons)),
        "comparisons": [c.to_dict() for c in stats.comparisons],
        "buckets": buckets,
        "per_relation": per_relation_f1(scores, headline or "e2e_hard") if headline else None,
        "per_document": {"doc_ids": first.doc_ids,
                         "counts": {name: {m: r.counts.tolist() for m, r in s.metrics.items() if not r.classes}
                                    for name, s in scores.items()}},
    }

