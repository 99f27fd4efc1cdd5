"""The public Python API: the functions the command line calls, for notebooks and scripts.

::

    import rexel_bench as rb

    gold = rb.load("docred-ie:dev")                      # a dataset name, a path, or a list of Documents
    scores = rb.score(gold, "predictions.jsonl")         # every metric that applies
    scores.to_pandas()                                   # one row per metric
    report = rb.compare(gold, {"a": "a.jsonl", "b": "b.jsonl"}, bootstrap=1000)
    report.to_pandas()                                   # one row per system × metric, with the 95% interval
    report = rb.run(models=["rexel", "pipeline"], limit=20)   # predict, score, resample, write the report
    model = rb.load_model("rexel")                       # any registered model: model.predict(documents)

Documents are accepted wherever data is: a registered dataset name (``docred-ie:dev``), a file or
directory path in any supported format, or a list of :class:`~rexel_bench.data.model.Document`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.data.registry import resolve
from rexel_bench.models.base import load_model
from rexel_bench.perf import paused_gc
from rexel_bench.scoring.api import ScoreResult
from rexel_bench.scoring.io import load_predictions, read_train_facts
from rexel_bench.scoring.relations import TrainFacts, train_facts
from rexel_bench.stats.seeds import Seeded

__all__ = ["Documents", "Report", "compare", "load", "load_model", "readable", "run", "score", "score_each"]

#: What every function accepts as data: a dataset name, a path, or documents already loaded.
Documents = str | Path | Sequence[Document]


def load(source: Documents, format: str = "auto", *, data_dir: str | Path | None = None,
         skip_bad: bool = False) -> list[Document]:
    """Documents from a dataset name, a path or a list of documents.

    A document with an error stops with the file's error (or, with ``skip_bad``, is left out: use
    :func:`rexel_bench.data.io.load_gold` to see which and why).
    """
    return _gold(source, format, data_dir, skip_bad).documents


def readable(source: Documents, format: str = "auto", *, data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Documents (a file, a name or a list, e.g. a model's predictions) as a person reads them: each entity with
    its mentions, type, QID and label, each fact with the names of its head, relation and tail
    (``pandas.DataFrame(rb.readable(docs)[0]["facts"])`` is a table). ``rexel-bench show`` prints the same."""
    from rexel_bench.reports.readable import readable_all

    docs = load(source, format, data_dir=data_dir) if isinstance(source, (str, Path)) else list(source)
    return readable_all(docs)


def _gold(source: Documents, format: str, data_dir: str | Path | None, skip_bad: bool) -> data_io.Gold:
    if isinstance(source, (str, Path)):
        return data_io.load_gold(resolve(source, data_dir), format, skip_bad=skip_bad)
    return data_io.Gold(list(source))


def _predictions(source: Documents, gold: data_io.Gold, lenient: bool, data_dir: str | Path | None
                 ) -> tuple[list[Document], list[str], str | None]:
    if isinstance(source, (str, Path)):
        path = resolve(source, data_dir)
        docs, notes = load_predictions(path, gold.documents, lenient=lenient, left_out=gold.left_out)
        return docs, notes, str(path)
    return list(source), [], None


def _names_seeds(source: Any) -> bool:
    """Whether a system is given as several prediction files, one per training seed (a list of paths)."""
    return isinstance(source, (list, tuple)) and bool(source) and all(isinstance(s, (str, Path)) for s in source)


def _seeded_predictions(files: Sequence[str | Path], gold: data_io.Gold, lenient: bool, data_dir: str | Path | None
                        ) -> tuple[Seeded, list[str], None]:
    """A seeded system's predictions, one set per file, with the notes of each (named by its file)."""
    members = {str(file): _predictions(file, gold, lenient, data_dir) for file in files}
    notes = [f"{file}: {note}" for file, (_, own, _) in members.items() for note in own]
    return Seeded({file: docs for file, (docs, _, _) in members.items()}), notes, None


def _train_facts(source: Documents | None, data_dir: str | Path | None) -> TrainFacts | None:
    """What Ign F1 ignores, from a training file (read for its facts only) or training documents."""
    if source is None:
        return None
    if isinstance(source, (str, Path)):
        return read_train_facts(resolve(source, data_dir))
    return train_facts(source)


def score(gold: Documents, pred: Documents, *, metrics: Sequence[str] | None = None, train: Documents | None = None,
          lenient: bool = False, skip_bad_gold: bool = False, format: str = "auto",
          data_dir: str | Path | None = None, only_predicted: bool = False) -> ScoreResult:
    """Score one system's predictions on every metric that applies (or those named in ``metrics``).

    ``pred`` may also be DocRED's ``result.json``; ``train`` enables Ign F1; ``lenient`` counts bad
    predictions as wrong instead of failing; ``only_predicted`` scores only the gold documents the predictions
    cover (the others are counted in a note, not scored as empty). The result holds values, per-document
    counts and notes
    (``.to_pandas()``, ``.to_dict()``) — the numbers ``rexel-bench score`` prints.
    """
    [(_, result)] = score_each(gold, {"pred": pred}, metrics=metrics, train=train, lenient=lenient,
                               skip_bad_gold=skip_bad_gold, format=format, data_dir=data_dir,
                               only_predicted=only_predicted)
    return result


def score_each(gold: Documents, predictions: Mapping[str, Documents], *, metrics: Sequence[str] | None = None,
               train: Documents | None = None, lenient: bool = False, skip_bad_gold: bool = False,
               format: str = "auto", data_dir: str | Path | None = None, progress: bool = False,
               only_predicted: bool = False) -> Iterator[tuple[str, ScoreResult]]:
    """Score several systems' predictions (name → source) against one gold, each as :func:`score` would:
    ``(name, result)`` pairs in the given order, each as soon as it is scored (``dict(score_each(...))`` keeps
    them all; a loop over hundreds of checkpoints need not hold every result's per-document counts at once).

    The gold and the training facts are read and checked once for all of them, which is what makes scoring
    many checkpoints fast (``rexel-bench score GOLD PRED...``). Every file is found before any is scored. There
    is no resampling: :func:`compare` tests differences. The first prediction file with an error stops it with
    that file's error (``lenient``: bad predictions count as wrong instead). ``progress`` draws a bar over the
    prediction sources on a terminal.
    """
    sources = {name: resolve(source, data_dir) if isinstance(source, (str, Path)) else source
               for name, source in predictions.items()}  # a missing 100th checkpoint stops it before any work
    return _scored_each(gold, sources, list(metrics) if metrics else None, train, lenient, skip_bad_gold, format,
                        data_dir, progress and len(sources) > 1, only_predicted)


def _scored_each(gold: Documents, sources: dict[str, Documents], metrics: list[str] | None, train: Documents | None,
                 lenient: bool, skip_bad_gold: bool, format: str, data_dir: str | Path | None, progress: bool,
                 only_predicted: bool = False) -> Iterator[tuple[str, ScoreResult]]:
    from rexel_bench.scoring.api import score_documents

    with paused_gc():
        gold_data = _gold(gold, format, data_dir, skip_bad_gold)
        facts = _train_facts(train, data_dir)
    for name, pred in _tracked(sources, progress):
        with paused_gc():  # per file: the collector runs between files, as the caller's code may need it
            pred_docs, pred_notes, pred_file = _predictions(pred, gold_data, lenient, data_dir)
            gold_docs = gold_data.documents
            if only_predicted:
                gold_docs, left_out = _predicted_only(gold_docs, pred_docs)
                pred_notes = [*pred_notes, *left_out]
            result = score_documents(gold_docs, pred_docs, metrics=metrics, train=facts, lenient=lenient,
                                     pred_file=pred_file)
        result.notes[:0] = gold_data.notes + pred_notes
        yield name, result


def _predicted_only(gold: list[Document], pred: Sequence[Document]) -> tuple[list[Document], list[str]]:
    """The gold documents that have a prediction, and a note counting those left out."""
    predicted = {d.id for d in pred}
    kept = [d for d in gold if d.id in predicted]
    left = len(gold) - len(kept)
    return kept, ([f"{left} gold document(s) without a prediction left out (only the {len(kept)} predicted "
                   "documents are scored)"] if left else [])


def _tracked(sources: dict[str, Documents], progress: bool) -> Iterator[tuple[str, Documents]]:
    """The (name, source) items, counted on a progress bar when asked (without one, ``rich.progress`` is not
    even imported: a single-file ``score`` pays nothing for it)."""
    if not progress:
        yield from sources.items()
        return
    from rexel_bench.progress import progress_bar

    with progress_bar() as bar:
        yield from bar.track(sources.items(), total=len(sources), description="scoring predictions")


@dataclass
class Report:
    """Scores of several systems with paired-bootstrap intervals and tests: the content of ``metrics.json``.

    ``to_pandas()`` gives one row per system × metric with the 95% percentile interval of the headline value;
    ``comparisons()`` one row per compared pair; ``write(directory)`` the report files.
    """

    data: dict[str, Any]
    directory: Path | None = None

    @property
    def systems(self) -> list[str]:
        """The systems, in report order."""
        return list(self.data["systems"])

    def to_dict(self) -> dict[str, Any]:
        """Everything, as ``metrics.json`` holds it."""
        return self.data

    def to_pandas(self) -> Any:
        """One row per system × metric (a ``pandas.DataFrame``): P, R, the headline value (F1 or accuracy) and
        its interval."""
        import pandas as pd

        rows = []
        for system, entry in self.data["systems"].items():
            for metric, m in entry["metrics"].items():
                headline = m["headline"]
                low, high = m.get("ci", {}).get(headline, {}).get("ci_percentile", (None, None))
                rows.append({"system": system, "metric": metric, "family": m["family"],
                             "p": m["values"].get("p"), "r": m["values"].get("r"), "value": m["values"][headline],
                             "headline": headline, "ci_low": low, "ci_high": high})
        return pd.DataFrame(rows)

    def comparisons(self) -> Any:
        """One row per (metric, system A, system B) (a ``pandas.DataFrame``): the difference, paired p-values,
        Holm-adjusted p."""
        import pandas as pd

        return pd.DataFrame(self.data.get("comparisons", []))

    def write(self, directory: str | Path) -> Path:
        """Write metrics.json, report.md, report.html, leaderboards and plots (a folder, whole or not at all)."""
        from rexel_bench.reports.render import write_report

        directory = Path(directory)
        with data_io.staged_directory(directory) as staging:
            write_report(self.data, staging)
        self.directory = directory
        return directory


def compare(gold: Documents, predictions: Mapping[str, Documents | Sequence[str | Path]], *, bootstrap: int = 10_000,
            seed: int = 0,
            randomization: int = 1000, metrics: Sequence[str] | None = None, train: Documents | None = None,
            lenient: bool = False, skip_bad_gold: bool = False, data_dir: str | Path | None = None,
            dataset: str | None = None, reference: str | None = None) -> Report:
    """Score several systems on the same gold, with paired-bootstrap intervals, p-values and Holm's correction.

    Holm corrects the pre-stated family: each system against ``reference`` (default: the first system) on the
    headline metrics; every other comparison is exploratory (uncorrected). A system given as a list of files is
    one system trained with several seeds (one file each): its metrics are their mean, with sd and per-seed
    values, resampled over documents and seeds together. The numbers ``rexel-bench compare`` writes (same seed,
    same resamples).
    """
    from rexel_bench.evaluate import evaluate

    gold_path = resolve(gold, data_dir) if isinstance(gold, (str, Path)) else None
    gold_data = _gold(gold_path or gold, "auto", data_dir, skip_bad_gold)
    loaded = {name: _seeded_predictions(source, gold_data, lenient, data_dir) if _names_seeds(source)
              else _predictions(source, gold_data, lenient, data_dir) for name, source in predictions.items()}
    data = evaluate(gold_data.documents, {name: docs for name, (docs, _, _) in loaded.items()},
                    dataset=dataset or (str(gold) if gold_path else "documents"), dataset_path=gold_path,
                    metrics=list(metrics) if metrics else None,
                    train=_train_facts(train, data_dir), n_resamples=bootstrap,
                    seed=seed, randomization_rounds=randomization, lenient=lenient,
                    sources={name: file for name, (_, _, file) in loaded.items() if file}, data_notes=gold_data.notes,
                    reference=reference)
    for name, (_, notes, _) in loaded.items():
        data["systems"][name]["notes"][:0] = notes
    return Report(data)


def run(models: Sequence[str] = ("rexel", "pipeline"), dataset: str = "docred-ie:dev", *, config: Any = None,
        progress: bool = True, **options: Any) -> Report:
    """Predict with every model (cached, resumable), score, resample and write the report folder.

    ``options`` are :class:`rexel_bench.run.RunConfig` fields (``limit``, ``bootstrap``, ``seed``,
    ``out``, ``model_options``...); ``config`` a whole ``RunConfig`` (what ``rexel-bench run`` passes).
    """
    import dataclasses
    import json

    from rexel_bench.run import RunConfig
    from rexel_bench.run import run as run_job

    settings = config or RunConfig(models=list(models), dataset=dataset)
    settings = dataclasses.replace(settings, **options)
    directory = run_job(settings, progress=progress)
    return Report(json.loads((directory / "metrics.json").read_text(encoding="utf-8")), directory)

