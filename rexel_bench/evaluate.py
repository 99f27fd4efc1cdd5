"""Score several systems on one gold set and resample: everything a report shows, as one dict.

The dict is what ``metrics.json`` holds (``reports.record``: schema ``rexel-bench.metrics/2``): every value,
interval and p-value, the per-size buckets and per-relation F1, plus provenance (command, versions, git
commit, data checksums, seed). Reports only render it; nothing is computed while rendering.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rexel_bench.data.model import Document
from rexel_bench.data.relations import with_name
from rexel_bench.reports.record import provenance, scoring_rules, system_entry
from rexel_bench.scoring.api import ScoreResult, score_documents
from rexel_bench.scoring.base import prf
from rexel_bench.scoring.relations import TrainFacts
from rexel_bench.stats.bootstrap import metric_counts_from_scores
from rexel_bench.stats.buckets import bucket_scores
from rexel_bench.stats.compare import compare_systems, prestated_family
from rexel_bench.stats.seeds import Seeded, seed_mean, seed_spread

HEADLINE_METRICS = ("e2e_linked", "e2e_hard")


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
    predictions: Mapping[str, Sequence[Document] | Seeded],
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
    kind: str = "compare",
) -> dict[str, Any]:
    """Score every system, bootstrap every metric, test every pair: the content of ``metrics.json``
    (``kind``: the command that asked, ``compare`` or ``run``).

    ``data_notes`` says what happened to the gold data before scoring (documents left out, and why). Holm
    corrects the pre-stated family, each system against ``reference`` (default: the first system) on the
    headline metrics; every other comparison is exploratory (uncorrected). A system given as :class:`Seeded`
    predictions (one set per training seed) is reported as the mean over its seeds, with their sd and values,
    and resampled over documents and seeds (:mod:`rexel_bench.stats.seeds`).
    """
    members: dict[str, ScoreResult] = {}
    seeds: dict[str, list[str]] = {}
    for name, pred in predictions.items():
        given = pred.members if isinstance(pred, Seeded) else {name: pred}
        seeds[name] = [name if len(given) == 1 else f"{name} @ {label}" for label in given]
        for key, docs in zip(seeds[name], given.values(), strict=True):
            members[key] = score_documents(gold, docs, metrics=metrics, train=train, lenient=lenient,
                                           pred_file=(sources or {}).get(name))
    scores = {name: seed_mean([members[k] for k in keys]) if len(keys) > 1 else members[keys[0]]
              for name, keys in seeds.items()}
    systems = list(scores)
    # every system was scored on the metrics ``metrics`` names (family names expanded by the scorer): resample those
    first = next(iter(scores.values()))
    family = prestated_family(systems, list(first.metrics), reference)
    stats = compare_systems(members, n_resamples=n_resamples, seed=seed, randomization_rounds=randomization_rounds,
                            family=family, seeds=seeds)
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
        **provenance(kind, command=command or " ".join(sys.argv), dataset=dataset, dataset_path=dataset_path,
                     documents=len(gold), seed=seed),
        "data_notes": list(data_notes),
        **scoring_rules(first),
        "headline_metric": headline,
        "systems": {name: {**system_entry(result, source=(sources or {}).get(name), speed=(speed or {}).get(name),
                                          intervals=stats.intervals[name]),
                           "seeds": seed_spread(list(predictions[name].members), [members[k] for k in seeds[name]])
                           if len(seeds[name]) > 1 else None}
                    for name, result in scores.items()},
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

