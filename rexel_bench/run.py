"""``rexel-bench run``: models and data → predictions (cached) → scores → resampling → report.

A run is described by a :class:`RunConfig` (command-line options or a YAML/TOML file); the report
directory keeps ``run-config.yaml`` so that ``rexel-bench run --config`` replays it exactly. For each
model the documents are predicted in batches with a progress bar (docs/s), each prediction cached as
soon as it exists (under ``$REXEL_BENCH_CACHE``, default ``.cache/``), so an interrupted run resumes where
it stopped and a repeated run reuses everything.
Speed is measured in the same process for every model: documents and tokens per second, peak resident
memory (the kernel's high-water mark, reset before each model) and seconds per stage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

from rexel_bench.cache import KEY_COVERS, PredictionCache, cache_key
from rexel_bench.config_files import read_config_file
from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document, unannotated
from rexel_bench.data.registry import resolve
from rexel_bench.distributed import check_scheduler, cluster, partitions, predict_partition, run_partitions
from rexel_bench.errors import ConfigError, PredictionError
from rexel_bench.evaluate import evaluate
from rexel_bench.kb.provenance import LinkingSetting, classify, declared
from rexel_bench.kb.reach import Reach, decompose, reach_of
from rexel_bench.kb.store import KnowledgeBase, kb_location, open_kb
from rexel_bench.limits import check_numbers
from rexel_bench.models.base import Model, load_model, model_detail, runs_code, seed_members, takes_option
from rexel_bench.perf import peak_memory_mb, reset_peak_memory, torch_thread_count
from rexel_bench.progress import progress_bar
from rexel_bench.reports.record import sha256_of
from rexel_bench.resources import cache_root
from rexel_bench.scoring.io import read_train_facts
from rexel_bench.stats.seeds import Seeded


@dataclass
class RunConfig:
    """Everything that defines a run."""

    models: list[str] = field(default_factory=lambda: ["rexel", "pipeline"])
    dataset: str = "docred-ie:dev"
    split: str | None = None  # appended to a bare dataset name: --dataset re-docred --split test
    metrics: list[str] | None = None
    bootstrap: int = 10_000
    randomization: int = 1000
    seed: int = 0
    device: str = "cpu"
    batch_size: int = 8
    limit: int | None = None
    out: str | None = None
    name: str = "run"
    cache: bool = True
    skip_bad_gold: bool = False  # score the gold documents that load, listing those left out
    # None: held-out (cross-fitted) linking when the default KB holds the evaluated documents, else the default
    # KB; "oracle": the default KB as it is (labelled oracle-candidates when it holds them); a path: that KB
    kb: str | None = None
    folds: int = 5
    train: str | None = None  # training file for Ign F1
    data_dir: str | None = None
    # predict on a Dask cluster: "local" (a local cluster of ``workers`` one-thread processes) or an address
    scheduler: str | None = None
    workers: int = 2
    model_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    reference: str | None = None  # the system every other is tested against (default: the first model)
    names: dict[str, str] = field(default_factory=dict)  # a model's label in the report (e.g. a seeded one's)

    def __post_init__(self) -> None:
        check_numbers({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        check_scheduler(self.scheduler, "scheduler")
        if isinstance(self.models, str) or not self.models or not all(isinstance(m, str) and m for m in self.models):
            raise ConfigError(f"models: expected a list of model names, found {self.models!r}")
        if self.reference is not None and self.reference not in self.models:  # before any model predicts
            raise ConfigError(f"reference: {self.reference!r} is not one of the models: {', '.join(self.models)}")
        self._check_names()

    def _check_names(self) -> None:
        """``names`` maps some of the models to labels that no two systems share."""
        if not isinstance(self.names, dict):
            raise ConfigError(f"names: expected a mapping of model to label, found {self.names!r}")
        unknown = [spec for spec in self.names if spec not in self.models]
        if unknown:
            raise ConfigError(f"names: {', '.join(map(repr, unknown))} is not one of the models: "
                              f"{', '.join(self.models)}")
        labels = self.labels
        if not all(isinstance(label, str) and label for label in labels.values()) or \
                len(set(labels.values())) < len(labels):
            raise ConfigError(f"names: expected a distinct non-empty label per model, found {list(labels.values())}")

    @property
    def labels(self) -> dict[str, str]:
        """Each model's label in the report: its ``names`` entry, else the model as named."""
        return {spec: self.names.get(spec, spec) for spec in self.models}

    @property
    def dataset_name(self) -> str:
        """``name:split`` (or the path) of the data."""
        return f"{self.dataset}:{self.split}" if self.split and ":" not in self.dataset else self.dataset

    @classmethod
    def from_file(cls, path: str | Path, *, allow_code: bool = False) -> RunConfig:
        """Read a YAML or TOML run config (its ``include:`` chain resolved), rejecting unknown keys, and,
        unless ``allow_code``, any model that would import and call code (``py:`` factories, installed
        plugins): replaying someone else's report must not run their code."""
        path = Path(path)
        values = read_config_file(path)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values or {}) - known)
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}; known: {', '.join(sorted(known))}", file=str(path))
        try:
            config = cls(**(values or {}))
        except ConfigError as exc:
            raise ConfigError(exc.message, file=str(path)) from None
        code = [spec for spec in config.models if runs_code(spec)]
        if code and not allow_code:
            raise ConfigError(f"the config names models that import and call code: {', '.join(code)}; run it "
                              "only if you trust its author, with --allow-code", file=str(path))
        return config

    def to_yaml(self) -> str:
        """The config as YAML (what ``--config`` reads back)."""
        return yaml.safe_dump(dataclasses.asdict(self), sort_keys=False)


class ClusterModel:
    """A model whose documents are predicted on a Dask cluster, behind the ``Model`` interface: each worker
    loads the model once, documents travel in partitions of whole batches, and the predictions are those of
    one process with one torch thread (what each worker uses). ``describe()`` is the model's own (a copy
    loaded here), so the cache and the report identify the same predictions."""

    #: batches per partition, and partitions handed to the cluster per ``predict`` call per worker
    PARTITION_BATCHES, PARTITIONS_PER_WORKER = 4, 4

    def __init__(self, local: Model, spec: str, options: dict[str, Any], client: Any) -> None:
        self.local, self.spec, self.client = local, spec, client
        self.options = tuple(sorted(options.items()))
        self.batch_size = int(options["batch_size"])
        self.name = local.name
        self.skipped: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []
        self.workers = len(client.scheduler_info()["workers"])

    @property
    def chunk_size(self) -> int:
        """Documents per ``predict`` call: enough partitions to keep every worker busy."""
        return self.batch_size * self.PARTITION_BATCHES * self.PARTITIONS_PER_WORKER * max(1, self.workers)

    def describe(self) -> dict[str, Any]:
        """The model's own description (it identifies the predictions)."""
        return self.local.describe()

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        """Predictions of ``docs``, computed on the cluster, in input order."""
        out: list[Document] = []

        def collect(result: tuple[list[Document], dict[str, str], dict[str, float]]) -> None:
            out.extend(result[0])
            self.skipped.update(result[1])
            for stage, seconds in result[2].items():
                self.timings[stage] = self.timings.get(stage, 0.0) + seconds
        task = functools.partial(predict_partition, self.spec, self.options, 1)
        run = run_partitions(task, partitions(list(docs), self.batch_size * self.PARTITION_BATCHES), collect,
                             client=self.client)
        self.notes += run.notes()
        return out


def predict_with_cache(model: Model, docs: Sequence[Document], cache: PredictionCache | None, batch_size: int,
                       progress: bool = True) -> tuple[list[Document], dict[str, Any]]:
    """Predictions for every document (cached ones reused) and the speed measured on the others."""
    docs = [unannotated(d) for d in docs]
    found: dict[str, Document] = {}
    if cache is not None:
        for d in docs:
            hit = cache.get(d)
            if hit is not None:
                found[d.id] = hit
    todo = [d for d in docs if d.id not in found]
    stages_before = dict(model_detail(model, "timings"))
    reset_peak_memory()
    began = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} docs/s"), TimeRemainingColumn())
    with progress_bar(*columns, enabled=progress) as bar:
        task = bar.add_task(f"{model.name}: predicting", total=len(todo), rate="–")
        step = model_detail(model, "chunk_size", batch_size)  # a cluster takes many batches at once
        for start in range(0, len(todo), step):
            batch = todo[start:start + step]
            by_id = {d.id: d for d in batch}
            for pred in model.predict(batch):
                found[pred.id] = pred
                if cache is not None and pred.id in by_id:
                    cache.put(by_id[pred.id], pred)
            done = start + len(batch)
            bar.update(task, advance=len(batch), rate=f"{done / (time.perf_counter() - began):.2f}")
    seconds = time.perf_counter() - began
    missing = [d for d in docs if d.id not in found]
    skipped = {d.id: reason for d in missing if (reason := model_detail(model, "skipped").get(d.id))}
    if docs and len(missing) == len(docs) and not skipped:
        raise PredictionError(f"{model.name} returned no prediction for any of the {len(docs)} documents "
                              f"(first id {docs[0].id!r})")
    stages_after = dict(model_detail(model, "timings"))
    speed: dict[str, Any] = {}
    computed = [d for d in todo if d.id in found]  # documents skipped or missing were not predicted: no speed
    if computed:
        tokens = sum(d.num_tokens for d in computed)
        speed = {"documents": len(computed), "seconds": round(seconds, 3), "docs_per_s": len(computed) / seconds,
                 "tokens_per_s": tokens / seconds, "peak_rss_mb": peak_memory_mb(),
                 "stages": {k: round(v - stages_before.get(k, 0.0), 3) for k, v in stages_after.items()}}
    counts = {"computed": len(computed), "from_cache": len(docs) - len(todo),
              "missing_predictions": [d.id for d in missing], "skipped": skipped}
    return [found[d.id] for d in docs if d.id in found], {**counts, **speed}


def fold_of(doc_id: str, folds: int) -> int:
    """The cross-fitting fold of a document: a stable hash of its id (the same on every machine and run)."""
    return int(hashlib.sha256(doc_id.encode()).hexdigest()[:8], 16) % folds


@dataclass
class LinkingPlan:
    """Which KB predicts which documents (None: the model links with no KB), and the setting that gives."""

    parts: list[tuple[str | Path | None, list[Document]]]
    setting: LinkingSetting


def plan_linking(config: RunConfig, gold: list[Document]) -> LinkingPlan:
    """The KB of every document: the one asked for (``--kb PATH`` or ``oracle``), or by default a
    cross-fitted plan — each of ``folds`` folds predicted with the default KB built without that fold's
    documents — when the default KB holds annotations of the evaluated documents."""
    from rexel_bench.kb.build import default_kb_path, held_out_kb_path

    chosen = linking_with(kb_location(config.kb) if config.kb not in (None, "oracle") else default_kb_path(), gold)
    if config.kb is not None or chosen.setting.name != "oracle-candidates":
        return chosen
    parts = []
    for fold in range(config.folds):
        docs = [d for d in gold if fold_of(d.id, config.folds) == fold]
        if not docs:
            continue
        path = held_out_kb_path({d.id for d in docs})
        with KnowledgeBase(path) as kb:
            check = classify(kb, docs)
        if check.name != "external":
            raise ConfigError(f"fold {fold}'s KB still holds annotations of its own documents ({check.detail})",
                              file=str(path))
        parts.append((path, docs))
    return LinkingPlan(parts, LinkingSetting(
        "held-out", 0, len(gold), f"{len(parts)} folds by a hash of the document id, each predicted with the "
        f"default KB built without that fold's documents"))


def linking_with(kb_path: str | Path, gold: list[Document]) -> LinkingPlan:
    """Every document linked with one KB, and the setting its provenance gives on them."""
    with open_kb(kb_path) as kb:
        return LinkingPlan([(kb_path, gold)], classify(kb, gold))


def predict_model(spec: str, options: dict[str, Any], plan: LinkingPlan, gold: list[Document], dataset_sha: str,
                  config: RunConfig, progress: bool, client: Any = None, known_ids: set[str] | None = None
                  ) -> tuple[list[Document], dict[str, Any], list[str], LinkingSetting]:
    """One system's predictions of every document (each with its part's KB), the merged speed, notes and the
    system's linking setting. A model that uses no KB predicts all documents at once. With a Dask ``client``
    the documents are predicted on its cluster (:class:`ClusterModel`). ``known_ids``: every document id of
    the dataset (default: those of ``gold``); a prediction file holding another is refused."""
    known_ids = known_ids if known_ids is not None else {d.id for d in gold}
    found: dict[str, Document] = {}
    measures: list[dict[str, Any]] = []
    notes: list[str] = []
    setting = plan.setting
    for kb_path, docs in plan.parts:
        part_options = {**options, **({"kb": kb_path} if kb_path else {})}
        model: Model = load_model(spec, **part_options)
        _refuse_unknown_documents(model, known_ids)
        if client is not None:
            model = ClusterModel(model, spec, part_options, client)
        description = model.describe()
        if "kb" not in description:
            docs, setting = gold, declared(str(description.get("linking", "unknown")), gold)
        # the floats of a prediction depend on the torch thread count (a cluster's workers use one)
        threads = 1 if client is not None else torch_thread_count()
        cache = PredictionCache(cache_root() / "predictions", cache_key(
            spec, description, dataset_sha, {**options, "torch_threads": threads})) if config.cache else None
        preds, measured = predict_with_cache(model, docs, cache, config.batch_size, progress)
        notes += [f"document {doc_id!r} not predicted: {reason}" for doc_id, reason in measured["skipped"].items()]
        notes += model_detail(model, "notes")
        measured = {"describe": model.describe(), **measured}  # after predicting: with what was measured
        if cache is not None:
            if measured.get("docs_per_s"):
                cache.write_meta({k: v for k, v in measured.items()
                                  if k not in ("computed", "from_cache", "missing_predictions", "skipped")})
            elif measured["from_cache"]:  # nothing predicted now: speed and description as measured then
                measured = {**measured, **cache.read_meta(), "speed_from_earlier_run": True}
            notes += cache.problems
        found.update((p.id, p) for p in preds)
        measures.append(measured)
        if docs is gold:
            break
    return [found[d.id] for d in gold if d.id in found], merge_speed(measures), notes, setting


def _refuse_unknown_documents(model: Model, known_ids: set[str]) -> None:
    """A system that says which documents it holds (a prediction file) may hold none that the dataset lacks:
    ``score`` refuses such a file, and so does ``run``."""
    unknown = sorted(set(model_detail(model, "document_ids")) - known_ids)
    if unknown:
        raise PredictionError(f"document id {unknown[0]!r} is not in the gold data ({len(unknown)} such documents; "
                              f"first {', '.join(map(repr, unknown[:3]))})", file=str(model_detail(model, "path")))


def merge_speed(measures: list[dict[str, Any]]) -> dict[str, Any]:
    """The speed of a system over all its parts (folds): documents and seconds added, rates recomputed."""
    if len(measures) == 1:
        return measures[0]
    out: dict[str, Any] = {"describe": {**measures[0]["describe"],
                                        "kb": [m["describe"].get("kb") for m in measures],
                                        "kb_sha256": [m["describe"].get("kb_sha256") for m in measures]}}
    for key in ("computed", "from_cache"):
        out[key] = sum(m[key] for m in measures)
    out["missing_predictions"] = [i for m in measures for i in m["missing_predictions"]]
    out["skipped"] = {k: v for m in measures for k, v in m["skipped"].items()}
    timed = [m for m in measures if m.get("seconds")]
    if timed:
        seconds = sum(m["seconds"] for m in timed)
        documents = sum(m["documents"] for m in timed)
        tokens = sum(m["tokens_per_s"] * m["seconds"] for m in timed)
        stages: dict[str, float] = {}
        for m in timed:
            for k, v in m.get("stages", {}).items():
                stages[k] = round(stages.get(k, 0.0) + v, 3)
        out |= {"documents": documents, "seconds": round(seconds, 3), "docs_per_s": documents / seconds,
                "tokens_per_s": tokens / seconds, "stages": stages,
                "peak_rss_mb": max((m.get("peak_rss_mb") or 0) for m in timed) or None}
        if any(m.get("speed_from_earlier_run") for m in timed):
            out["speed_from_earlier_run"] = True
    return out


def training_kb_summary(description: dict[str, Any], data_path: Path) -> dict[str, Any] | None:
    """What a checkpoint's training KB held, and whether it came from the evaluated data file (a training
    leak reports show); None for systems that record no training KB."""
    record = description.get("training_kb")
    if not record:
        return None
    datasets = (record.get("provenance") or {}).get("by_dataset", {})
    transductive = Path(data_path).name in datasets
    return {"facts": record.get("facts"), "datasets": datasets,
            "contributes": (record.get("provenance") or {}).get("contributes", []),
            "holds_evaluated_dataset": transductive,
            "label": TRANSDUCTIVE if transductive else "inductive: the training KB holds none of the evaluated data"}


#: The label of a system whose training KB was built from the evaluated data file.
TRANSDUCTIVE = "transductive: the training KB holds the evaluated data's entity inventory"
#: The decisions a checkpoint carries (its relation head and margin, coreference threshold, mention decoding),
#: recorded per system and, for a seeded one, per seed.
DECISIONS = ("relations", "coref_threshold", "mention_decoding")


def capacity_of(description: dict[str, Any]) -> dict[str, Any] | None:
    """Trained parameters (encoder adapters or encoder, heads) and encoder passes per document of a system
    that records them, so that a report says whether a comparison is capacity-matched; None otherwise."""
    if not description.get("trained_parameters"):
        return None
    return {"trained_parameters": description["trained_parameters"],
            "encoder_passes": description.get("encoder_passes")}


def run(config: RunConfig, *, progress: bool = True, command: str | None = None) -> Path:
    """Execute a run and write its report directory; returns the directory."""
    from rexel_bench.reports.errors import write_error_analysis
    from rexel_bench.reports.render import write_report

    if not data_io.is_safe_file_name(config.name):
        raise ConfigError(f"a run name usable as a folder name (no / or \\, not . or ..), found {config.name!r}",
                          field="name")
    data_path = resolve(config.dataset_name, config.data_dir)
    gold_data = data_io.load_gold(data_path, skip_bad=config.skip_bad_gold)
    gold = gold_data.documents
    if config.limit:
        gold = gold[: config.limit]
    dataset_sha = sha256_of(data_path)
    shared: LinkingPlan | None = None  # the run's linking plan, made when the first model that links needs it
    predictions: dict[str, list[Document] | Seeded] = {}
    speed: dict[str, dict[str, Any]] = {}
    notes: dict[str, list[str]] = {}
    settings: dict[str, LinkingSetting] = {}
    plans: dict[str, LinkingPlan] = {}
    decisions: dict[str, dict[str, dict[str, Any]]] = {}  # each system's members' own DECISIONS, first seed first
    known_ids = {d.id for d in gold_data.documents} | gold_data.left_out  # every id a prediction file may hold
    with cluster(config.scheduler, config.workers) if config.scheduler else contextlib.nullcontext() as client:
        for spec, label in config.labels.items():
            members = seed_members(spec)  # the checkpoints of one model, one per training seed
            options = {"device": config.device, "batch_size": config.batch_size,
                       **config.model_options.get(spec, {})}
            if "kb" in options:  # a model given its own KB links every document with it
                plan = linking_with(kb_location(options.pop("kb")), gold)
            elif takes_option(members[0], "kb"):
                shared = shared or plan_linking(config, gold)
                plan = shared
            else:
                plan = LinkingPlan([(None, gold)], LinkingSetting("unknown", 0, len(gold)))
            plans[label] = plan
            predicted = {member: predict_model(member, options, plan, gold, dataset_sha, config, progress, client,
                                               known_ids) for member in members}
            (first, speed[label], notes[label], settings[label]), *_ = predicted.values()  # the first seed's speed
            decisions[label] = {member: {key: own_speed["describe"].get(key) for key in DECISIONS}
                                for member, (_, own_speed, *_) in predicted.items()}
            predictions[label] = first if len(predicted) == 1 else Seeded(
                {member: preds for member, (preds, *_) in predicted.items()})
            if len(predicted) > 1:
                notes[label] = [f"{len(predicted)} training seeds ({', '.join(predicted)}): each metric is their mean, "
                                "with their sd and values; intervals and tests resample documents and seeds together; "
                                "speed is the first seed's",
                                *dict.fromkeys(note for _, _, own, _ in predicted.values() for note in own)]
            if client is not None and speed[label].get("documents"):
                workers = len(client.scheduler_info()["workers"])
                speed[label]["cluster_workers"] = workers
                notes[label].append(f"predicted on a Dask cluster of {workers} workers × 1 thread: docs/s is the "
                                    "cluster's throughput, not one process's")
    train = read_train_facts(resolve(config.train, config.data_dir)) if config.train else None
    report = evaluate(gold, predictions, dataset=config.dataset_name, dataset_path=data_path, metrics=config.metrics,
                      train=train, n_resamples=config.bootstrap, seed=config.seed,
                      randomization_rounds=config.randomization, speed=speed, data_notes=gold_data.notes,
                      command=command or " ".join(["rexel-bench", *sys.argv[1:]]),
                      reference=config.labels.get(config.reference), kind="run")
    report["prediction_cache"] = {"used": config.cache, "key_covers": list(KEY_COVERS)}
    reaches: dict[int, Reach | None] = {}  # by linking plan: the systems that share a plan share its reach
    for spec, label in config.labels.items():
        system = report["systems"][label]
        system["model"] = spec
        system["notes"] = notes[label] + system["notes"]
        system["linking"] = settings[label].to_dict()
        if id(plans[label]) not in reaches:
            reaches[id(plans[label])] = reach_of(plans[label].parts)
        reach = reaches[id(plans[label])]
        system["linked_decomposed"] = decompose_seeds(reach, predictions[label]) if reach else None
        system["training_kb"] = training_kb_summary(speed[label]["describe"], data_path)
        system["capacity"] = capacity_of(speed[label]["describe"])
        system.update(next(iter(decisions[label].values())))  # the first seed's
        if len(decisions[label]) > 1:  # each seed's own thresholds: seeds may have chosen theirs apart
            system["seed_decisions"] = decisions[label]
    out = Path(config.out) if config.out else Path("reports") / f"{datetime.now():%Y%m%d-%H%M%S}-{config.name}"
    with data_io.staged_directory(out) as staging:
        write_report(report, staging)
        data_io.atomic_write_text(staging / "run-config.yaml", config.to_yaml())
        each: dict[str, Sequence[Document]] = {}  # every system's members (a seeded one's seeds), with its setting
        linking: dict[str, str] = {}
        for spec, given in predictions.items():
            for member, preds in (given.members.items() if isinstance(given, Seeded) else [(spec, given)]):
                each[member], linking[member] = preds, settings[spec].label
        for name, preds in each.items():
            data_io.write(preds, staging / "predictions" / f"{data_io.safe_file_name(name)}.jsonl")
        write_error_analysis(gold, each, staging / "errors.html", linking=linking)
    return out


def decompose_seeds(reach: Reach, predicted: list[Document] | Seeded) -> dict[str, Any]:
    """What the KB can reach and the reachable-fact F1 (``kb.reach.decompose``); for a seeded system the
    reachable-fact P, R and F1 are the seeds' means (with each seed's F1), the KB's ceiling and candidate recall
    being the same for every seed."""
    if not isinstance(predicted, Seeded):
        return decompose(reach, predicted)
    each = [decompose(reach, preds) for preds in predicted.members.values()]
    merged = dict(each[0])
    means = {k: sum(e["reachable_linked"][k] for e in each) / len(each) for k in ("p", "r", "f1")}
    merged["reachable_linked"] = {**each[0]["reachable_linked"], **means,
                                  "per_seed_f1": [e["reachable_linked"]["f1"] for e in each]}
    return merged


def summary_lines(report_dir: Path) -> list[str]:
    """One line per system: headline F1 and speed, for the terminal."""
    run_data = json.loads((report_dir / "metrics.json").read_text())
    metric = run_data.get("headline_metric")
    lines = []
    for name, entry in run_data["systems"].items():
        value = entry["metrics"].get(metric, {}).get("values", {}).get("f1") if metric else None
        speed = entry.get("speed", {})
        setting = (entry.get("linking") or {}).get("label", "unknown")
        lines.append(f"{name}: {metric} F1 {100 * value:.2f} [linking: {setting}]" if value is not None
                     else f"{name}:")
        if speed.get("docs_per_s"):
            lines[-1] += f", {speed['docs_per_s']:.2f} docs/s" + (" (cached speed)" if speed.get(
                "speed_from_earlier_run") else "")
        lines += [f"  note: {note}" for note in entry.get("notes", []) if _worth_a_line(note)]
    lines += [f"note: {note}" for note in run_data.get("data_notes", [])]
    return lines


def _worth_a_line(note: str) -> bool:
    """Notes that change what a number means (missing, skipped, damaged, left out) are printed; the rest
    (e.g. which metrics do not apply to this data) stay in the report."""
    return any(word in note for word in ("no prediction", "not predicted", "damaged", "left out",
                                         "counted as wrong", "not in the gold", "removed"))
