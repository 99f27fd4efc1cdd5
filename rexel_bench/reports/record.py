"""The one place that builds and reads ``metrics.json`` (schema ``rexel-bench.metrics/2``).

``run`` and ``compare`` write it with every system resampled; ``score --json`` writes the same record without
resampling (``kind: score``). Every record carries its provenance: the command, the toolkit's and libraries'
versions, the git commit, the data's path, SHA-256 and size. The shipped JSON Schema
(``rexel_bench/schemas/metrics.schema.json``) states the layout; :func:`validate` checks a record against it, and
:class:`MetricsRecord` is the typed view that reports and the leaderboard read.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from rexel_bench import __version__
from rexel_bench.errors import ConfigError
from rexel_bench.resources import checkout_root, schema_text

SCHEMA = "rexel-bench.metrics/2"
KINDS = ("score", "compare", "run", "leaderboard")


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, or of every file of a directory in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if file.is_file():
            digest.update(file.read_bytes())
    return digest.hexdigest()


#: Folders of the checkout that hold outputs only (generated reports): a change there never changes a number,
#: so it does not make the tree dirty (``make reports`` regenerates one report after another).
OUTPUT_FOLDERS = ("reports",)


def git_commit() -> str | None:
    """The checkout's commit (with ``+dirty`` when a tracked file outside :data:`OUTPUT_FOLDERS` has uncommitted
    changes), or None outside git."""
    root = checkout_root()
    if root is None:  # an installed package: its version says what it is
        return None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                *(f":(exclude){folder}" for folder in OUTPUT_FOLDERS)], cwd=root,
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


def provenance(kind: str, *, command: str, dataset: str, dataset_path: str | Path | None, documents: int,
               seed: int | None) -> dict[str, Any]:
    """The head of every record: what wrote it, with which versions, at which commit, on which data."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    return {
        "schema": SCHEMA,
        "kind": kind,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "git_commit": git_commit(),
        "versions": versions(),
        "seed": seed,
        "dataset": {"name": dataset, "path": str(dataset_path) if dataset_path else None,
                    "sha256": sha256_of(dataset_path) if dataset_path else None, "documents": documents},
    }


def metric_entry(result: Any, intervals: Mapping[str, Any] | None = None, per_document: bool = False
                 ) -> dict[str, Any]:
    """One metric of one system (a ``scoring.api.MetricResult``): its values, summed counts and intervals."""
    entry = result.to_dict(per_document)
    if intervals is not None:
        entry["ci"] = {k: i.to_dict() for k, i in intervals.items()}
    return entry


def system_entry(result: Any, *, source: str | None = None, speed: Mapping[str, Any] | None = None,
                 intervals: Mapping[str, Mapping[str, Any]] | None = None, per_document: bool = False
                 ) -> dict[str, Any]:
    """One system (a ``scoring.api.ScoreResult``): its source, notes, speed and metrics."""
    return {"source": source, "notes": list(result.notes), "speed": dict(speed or {}),
            "metrics": {m: metric_entry(r, None if intervals is None else intervals.get(m, {}), per_document)
                        for m, r in result.metrics.items()}}


def scoring_rules(first: Any) -> dict[str, Any]:
    """What every system of a record was scored under (from one ``ScoreResult``): metric versions, conventions,
    the ED exclusion rule."""
    from rexel_bench.scoring.linking import EXCLUSION_RULE

    return {"metric_versions": {name: m.version for name, m in first.metrics.items()},
            "conventions": list(first.conventions), "ed_exclusion_rule": EXCLUSION_RULE}


def score_record(results: Mapping[str, Any], *, dataset: str, dataset_path: str | Path | None, command: str,
                 data_notes: Sequence[str] = (), per_document: bool = False) -> dict[str, Any]:
    """What ``score --json`` writes: each prediction file's metrics (no resampling) under the common schema."""
    first = next(iter(results.values()))
    record = {
        **provenance("score", command=command, dataset=dataset, dataset_path=dataset_path,
                     documents=len(first.doc_ids), seed=None),
        "data_notes": list(data_notes), **scoring_rules(first), "headline_metric": None,
        "systems": {name: system_entry(r, source=name, per_document=per_document) for name, r in results.items()},
        "bootstrap": None, "family": None, "comparisons": [], "buckets": None, "per_relation": None,
        "per_document": {"doc_ids": first.doc_ids, "counts": {}} if per_document else None,
    }
    return validate(record)


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_text("metrics.schema.json")))


def validate(record: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """``record`` itself if it follows the shipped schema; otherwise an error naming the first field that does
    not (its path in the record, what was expected, what was found)."""
    error = next(iter(sorted(_validator().iter_errors(record), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"not a {SCHEMA} record: at {where}: {error.message}", file=source)
    return record


@dataclass(frozen=True)
class MetricRecord:
    """One metric of one system, as a record holds it."""

    description: str
    family: str
    headline: str
    values: dict[str, float]
    totals: dict[str, float]
    ci: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def value(self) -> float:
        """The headline value (F1 or accuracy)."""
        return self.values[self.headline]

    def interval(self) -> tuple[float, float] | None:
        """The headline value's percentile interval, where the record was resampled."""
        found = self.ci.get(self.headline)
        return tuple(found["ci_percentile"]) if found else None  # type: ignore[return-value]


@dataclass(frozen=True)
class SystemRecord:
    """One system of a record: its metrics and what the report shows beside them."""

    name: str
    metrics: dict[str, MetricRecord]
    notes: list[str]
    source: str | None
    linking_label: str | None
    transductive: bool  # its training KB holds the evaluated data's entity inventory
    entry: dict[str, Any]  # the whole entry, for the renderers' detail sections


@dataclass(frozen=True)
class ComparisonRecord:
    """One paired comparison: A − B on a metric's headline value, its interval, p-values, and whether it is in
    the pre-stated family (``confirmatory``; else exploratory and ``p_holm`` is None)."""

    metric: str
    a: str
    b: str
    delta: float
    p_two_sided: float
    p_holm: float | None
    confirmatory: bool
    delta_interval: tuple[float, float] | None

    def between(self, metric: str, one: str, other: str) -> bool:
        """Whether this compares ``one`` and ``other`` (either way round) on ``metric``."""
        return self.metric == metric and {self.a, self.b} == {one, other}


@dataclass(frozen=True)
class FamilyRecord:
    """The pre-stated family Holm corrects: each system against ``reference`` on ``metrics``."""

    reference: str
    metrics: tuple[str, ...]
    comparisons: int


@dataclass(frozen=True)
class MetricsRecord:
    """A validated ``metrics.json``: its provenance, systems and comparisons, typed."""

    kind: str
    command: str
    git_commit: str | None
    dataset: dict[str, Any]
    metric_versions: dict[str, str]
    systems: dict[str, SystemRecord]
    comparisons: list[ComparisonRecord]
    family: FamilyRecord | None
    n_resamples: int | None
    per_document: dict[str, Any] | None
    data: dict[str, Any]  # the record as written

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None, *, checked: bool = False
                  ) -> MetricsRecord:
        """The typed view of a record, validated first unless ``checked`` says it just was."""
        if not checked:
            validate(data, source)
        systems = {name: SystemRecord(
            name=name, notes=entry["notes"], source=entry["source"],
            linking_label=(entry.get("linking") or {}).get("label"), entry=entry,
            transductive=bool((entry.get("training_kb") or {}).get("holds_evaluated_dataset")),
            metrics={m: MetricRecord(description=v["description"], family=v["family"], headline=v["headline"],
                                     values=v["values"], totals=v["totals"], ci=v.get("ci", {}))
                     for m, v in entry["metrics"].items()})
            for name, entry in data["systems"].items()}
        comparisons = [ComparisonRecord(
            metric=c["metric"], a=c["a"], b=c["b"], delta=c["delta"], p_two_sided=c["p_two_sided"],
            p_holm=c.get("p_holm"), confirmatory=c.get("confirmatory", True),
            delta_interval=tuple(c["delta_interval"]) if c.get("delta_interval") else None)  # type: ignore[arg-type]
            for c in data["comparisons"]]
        family = data.get("family")
        return cls(kind=data["kind"], command=data["command"], git_commit=data["git_commit"],
                   dataset=data["dataset"], metric_versions=data["metric_versions"], systems=systems,
                   comparisons=comparisons, per_document=data["per_document"], data=data,
                   family=FamilyRecord(family["reference"], tuple(family["metrics"]), family["comparisons"])
                   if family else None,
                   n_resamples=(data.get("bootstrap") or {}).get("n_resamples"))

    def comparison(self, metric: str, one: str, other: str) -> ComparisonRecord | None:
        """The comparison of two systems on a metric, whichever was A."""
        return next((c for c in self.comparisons if c.between(metric, one, other)), None)

    @classmethod
    def read(cls, path: str | Path) -> MetricsRecord:
        """A report directory's ``metrics.json`` (or the file itself), with a clear error if it is none."""
        path = Path(path) / "metrics.json" if Path(path).is_dir() else Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError("not a report directory (no metrics.json)", file=str(path.parent)) from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"metrics.json is not valid JSON: {exc}", file=str(path)) from exc
        return cls.from_dict(data, str(path))
