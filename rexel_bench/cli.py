"""The ``rexel-bench`` command line: parses arguments, calls the library, prints with rich.

Every failure of the toolkit (:class:`~rexel_bench.errors.RexelBenchError`) becomes one readable
line on stderr and exit status 2; no traceback for a user's bad input.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from rexel_bench import __version__
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import DATASETS, data_dir, resolve, spec_path
from rexel_bench.data.statistics import corpus_statistics
from rexel_bench.errors import ConfigError, RexelBenchError

app = typer.Typer(
    name="rexel-bench",
    help="Train, run, score and compare document-level closed information extraction (DocIE) systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

FormatOption = Annotated[str, typer.Option(
    "--format", "-f", help="Input format: auto, docred (also Re-DocRED, Revisit-DocRED, DWIE-in-DocRED-layout), "
    "docred-ie, linked-docred, dwie (original DWIE, a file or a directory), jsonl (rexel-bench's own).")]
DataDirOption = Annotated[Path | None, typer.Option(
    "--data-dir", help="Directory of the non-vendored datasets (default: $REXEL_BENCH_DATA, else ../shared/datasets).")]


def reports_errors(func: F) -> F:
    """Turn toolkit errors into one red line and exit status 2."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RexelBenchError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        console.print(f"rexel-bench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """rexel-bench: load, validate, score and compare DocIE systems (REXEL and pipelines)."""


@app.command()
@reports_errors
def validate(
    file: Annotated[str, typer.Argument(help="A data or prediction file, a DWIE directory, or a dataset name.")],
    format: FormatOption = "auto",
    strict: Annotated[bool, typer.Option("--strict", help="Fail at the first error instead of reporting all.")] = False,
    relations: Annotated[Path | None, typer.Option(
        "--relations",
        help="Relation inventory (rel_info.json, rel2id.json or properties CSV); inferred if absent.")] = None,
    max_shown: Annotated[int, typer.Option("--show", help="How many problems of each severity to print.")] = 20,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every problem as JSON to this file.")] = None,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Check a file: structure, spans, mention text, relation ends and ids, duplicate ids, empty documents.

    Exit status 0 when every document loads (warnings allowed), 1 when some documents have errors,
    2 when the file cannot be read at all (or, with --strict, at the first error).
    """
    result = data_io.load(resolve(file, data_dir_opt), format, strict=strict, relations=relations)
    for severity, style in (("error", "red"), ("warning", "yellow"), ("info", "cyan")):
        found = [p for p in result.problems if p.severity == severity]
        for problem in found[:max_shown]:
            console.print(f"[{style}]{problem}[/]", highlight=False, soft_wrap=True)
        if len(found) > max_shown:
            console.print(f"[{style}]... and {len(found) - max_shown} more {severity}s (use --show or --json)[/]")
    if json_out:
        data_io.atomic_write_text(json_out, json.dumps({
            "file": result.path, "format": result.format, "documents_read": result.n_read,
            "documents_loaded": len(result.documents), "relation_inventory": result.relation_inventory,
            "problems": [p.to_dict() for p in result.problems]}, indent=1))
    verdict = "[green]OK[/]" if result.n_dropped == 0 else f"[red]{result.n_dropped} document(s) NOT loaded[/]"
    console.print(
        f"{result.path}: format {result.format}, {len(result.documents)}/{result.n_read} documents loaded, "
        f"{result.count('error')} errors, {result.count('warning')} warnings, {result.count('info')} notes; "
        f"relation ids checked against: {result.relation_inventory}. {verdict}", highlight=False)
    if result.n_dropped:
        raise typer.Exit(1)


@app.command()
@reports_errors
def datasets(
    data_dir_opt: DataDirOption = None,
    counts: Annotated[bool, typer.Option("--counts/--no-counts", help="Load each dataset to count it.")] = True,
) -> None:
    """List the registered datasets, where they are on this machine, and their sizes."""
    table = Table(title=f"Registered datasets (data directory: {data_dir(data_dir_opt) or 'none found'})")
    for column in ("name", "licence", "docs", "entities", "mentions", "relations", "where", "description"):
        table.add_column(column, overflow="fold")
    for spec in DATASETS:
        path = spec_path(spec, data_dir_opt)
        sizes = ["", "", "", ""]
        if path is not None and counts:
            stats = corpus_statistics(data_io.load(path).documents)
            sizes = [str(stats[k]) for k in ("documents", "entities", "mentions", "relations")]
        where = ("vendored" if spec.vendored else str(path)) if path else "[red]not found[/]"
        table.add_row(spec.key, spec.licence, *sizes, where, spec.description)
    console.print(table)


@app.command()
@reports_errors
def stats(
    file: Annotated[str, typer.Argument(help="A data or prediction file, a DWIE directory, or a dataset name.")],
    format: FormatOption = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the statistics as JSON.")] = None,
    top: Annotated[int, typer.Option("--top", help="How many types and relations to list.")] = 15,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Corpus statistics: documents, tokens, mentions, entities, relations, QIDs, types, relation labels."""
    result = data_io.load(resolve(file, data_dir_opt), format)
    figures = corpus_statistics(result.documents)
    figures["problems"] = {s: result.count(s) for s in ("error", "warning", "info")}
    summary = Table(title=f"{result.path} ({result.format})", show_header=False)
    for key, value in figures.items():
        if not isinstance(value, dict):
            summary.add_row(key.replace("_", " "), f"{value:,}")
    for key in ("qid_disagreements", "tokens_per_document", "problems"):
        summary.add_row(key.replace("_", " "), ", ".join(f"{k} {v:,}" for k, v in figures[key].items()))
    console.print(summary)
    for key in ("entity_types", "relation_labels"):
        table = Table(title=f"{key.replace('_', ' ')} (top {top} of {len(figures[key])})")
        table.add_column("label")
        table.add_column("count", justify="right")
        for label, count in list(figures[key].items())[:top]:
            table.add_row(label, f"{count:,}")
        console.print(table)
    if result.n_dropped:
        console.print(f"[red]{result.n_dropped} document(s) not loaded because of errors: run rexel-bench validate[/]")
    if json_out:
        data_io.atomic_write_text(json_out, json.dumps(figures, indent=1))


@app.command()
@reports_errors
def score(
    gold: Annotated[str, typer.Argument(help="Gold file, DWIE directory or dataset name (e.g. docred-ie:dev).")],
    pred: Annotated[Path, typer.Argument(help="Predictions: rexel-bench JSONL, any supported format, or DocRED's "
                                              "result.json (a list of {title, h_idx, t_idx, r, evidence}).")],
    metrics: Annotated[str | None, typer.Option(
        "--metrics", "-m", help="Comma-separated metric or family names (mentions, typing, linking, coreference, "
                                "docred, end-to-end); default: all that apply.")] = None,
    train: Annotated[str | None, typer.Option("--train", help="Training file whose facts Ign F1 ignores.")] = None,
    lenient: Annotated[bool, typer.Option(
        "--lenient", help="Count bad predictions (unknown documents, spans outside the document, relations to "
                          "missing entities) as wrong and report them, instead of failing.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every value and count as JSON.")] = None,
    per_document: Annotated[bool, typer.Option(
        "--per-document", help="Include per-document counts in --json.")] = False,
    format: FormatOption = "auto",
    data_dir_opt: DataDirOption = None,
) -> None:
    """Score predictions against gold on every subtask: MD, ET, ED, coreference, DocRED RE, end to end."""
    from rexel_bench.scoring.api import score_documents
    from rexel_bench.scoring.io import load_predictions

    gold_docs = data_io.load(resolve(gold, data_dir_opt), format).documents
    train_docs = data_io.load(resolve(train, data_dir_opt)).documents if train else None
    pred_docs, load_notes = load_predictions(pred, gold_docs, lenient=lenient)
    result = score_documents(gold_docs, pred_docs, metrics=metrics.split(",") if metrics else None,
                             train=train_docs, lenient=lenient, pred_file=str(pred))
    result.notes[:0] = load_notes
    table = Table(title=f"{pred} against {gold} ({len(result.doc_ids)} documents)")
    for column in ("metric", "P", "R", "F1 / acc.", "what"):
        table.add_column(column, justify="right" if column in ("P", "R", "F1 / acc.") else "left")
    for name, m in result.metrics.items():
        values = m.values
        cells = [f"{100 * values[k]:.2f}" if k in values else "" for k in ("p", "r")]
        table.add_row(name, *cells, f"{100 * values[m.headline]:.2f}", m.description)
    console.print(table)
    console.print(f"[dim]{result.to_dict()['ed_exclusion_rule']}[/]")
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    if json_out:
        data_io.atomic_write_text(json_out, json.dumps(result.to_dict(per_document), indent=1))


def _report_dir(out: Path | None, name: str) -> Path:
    from datetime import datetime

    return out or Path("reports") / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{name}"


@app.command()
@reports_errors
def compare(
    pred_a: Annotated[Path, typer.Argument(help="Predictions of system A (any supported format).")],
    pred_b: Annotated[Path, typer.Argument(help="Predictions of system B.")],
    gold: Annotated[str, typer.Option("--gold", "-g", help="Gold file or dataset name.")] = "docred-ie:dev",
    names: Annotated[str | None, typer.Option("--names", help="Comma-separated names for A and B "
                                                               "(default: the file names).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Report directory (default: reports/<time>-compare).")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Paired bootstrap resamples.")] = 10_000,
    randomization: Annotated[int, typer.Option("--randomization", help="Approximate-randomization rounds "
                                                                       "(0: none).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every resampling.")] = 0,
    metrics: Annotated[str | None, typer.Option("--metrics", "-m", help="Metric or family names.")] = None,
    train: Annotated[str | None, typer.Option("--train", help="Training file for Ign F1.")] = None,
    lenient: Annotated[bool, typer.Option("--lenient", help="Count bad predictions as wrong.")] = False,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Compare two prediction files on the same gold: every metric with CIs, paired p-values, a report."""
    from rexel_bench.evaluate import evaluate
    from rexel_bench.reports.render import write_report
    from rexel_bench.scoring.io import load_predictions

    gold_path = resolve(gold, data_dir_opt)
    gold_docs = data_io.load(gold_path).documents
    labels = names.split(",") if names else [pred_a.stem, pred_b.stem]
    if len(labels) != 2 or labels[0] == labels[1]:
        raise ConfigError("--names needs two different names, e.g. --names rexel,pipeline")
    predictions = {label: load_predictions(path, gold_docs, lenient=lenient)[0]
                   for label, path in zip(labels, (pred_a, pred_b), strict=True)}
    run = evaluate(gold_docs, predictions, dataset=gold, dataset_path=gold_path,
                   metrics=metrics.split(",") if metrics else None,
                   train=data_io.load(resolve(train, data_dir_opt)).documents if train else None,
                   n_resamples=bootstrap, seed=seed, randomization_rounds=randomization, lenient=lenient,
                   sources={labels[0]: str(pred_a), labels[1]: str(pred_b)})
    directory = _report_dir(out, "compare")
    files = write_report(run, directory)
    from rexel_bench.reports.tables import markdown_table

    console.print(markdown_table(run), highlight=False)
    console.print(f"report written to {directory} ({', '.join(sorted(files))})")


@app.command()
@reports_errors
def leaderboard(
    runs: Annotated[list[Path], typer.Argument(help="Report directories (each with metrics.json).")],
    metric: Annotated[str, typer.Option("--metric", help="Metric to rank by.")] = "e2e_linked",
    format: Annotated[str, typer.Option("--format", help="md, csv, tex or html.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="Write the table to this file too.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Paired bootstrap resamples.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the resampling.")] = 0,
) -> None:
    """Merge runs into one table; refuses runs scored on different data or metric versions."""
    from rexel_bench.reports.leaderboard import merge_runs
    from rexel_bench.reports.render import leaderboard_text

    if format not in ("md", "csv", "tex", "html"):
        raise ConfigError(f"unknown --format {format!r}: choose md, csv, tex or html")
    merged = merge_runs(runs, metric, n_resamples=bootstrap, seed=seed)
    text = leaderboard_text(merged, format, [metric])
    console.print(text, highlight=False, markup=False)
    if out:
        data_io.atomic_write_text(out, text)
