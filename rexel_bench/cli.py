"""The ``rexel-bench`` command line: parses arguments, calls the library, prints with rich.

Every failure of the toolkit (:class:`~rexel_bench.errors.RexelBenchError`) becomes one readable
line on stderr and exit status 2; no traceback for a user's bad input.

Unlike the other modules, this one does not postpone its annotations (``from __future__ import annotations``):
typer reads every command's signature at each start, and evaluating postponed annotations from their text
took 15 ms of every command.
"""

import functools
import gc
import json
import os
import sqlite3
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer.core
from rich import box
from rich.console import Console, ConsoleDimensions
from rich.table import Table
from rich.text import Text

from rexel_bench import __version__
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import DATASETS, data_dir, resolve, spec_path
from rexel_bench.data.statistics import corpus_statistics
from rexel_bench.errors import ConfigError, RexelBenchError, RexelBenchNote
from rexel_bench.limits import check_numbers, option_name
from rexel_bench.perf import paused_gc
from rexel_bench.resources import missing_extra

if TYPE_CHECKING:
    from rexel_bench.distributed import ClusterRun
    from rexel_bench.reports.record import MetricsRecord

app = typer.Typer(
    name="rexel-bench",
    help="Train, run, score and compare document-level closed information extraction (DocIE) systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
class OutputConsole(Console):
    """Standard output. A terminal gets rich's layout; a file or a pipe gets every line whole (no wrapping at 80
    columns, no colour), so that what a pipe receives is what ``--out`` writes. ``say`` prints what is not a
    result (where something was written, notes, conventions), which ``--quiet`` leaves out."""

    results_only = False  # --quiet (rich's own ``quiet`` silences everything)

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        return size if self.is_terminal else ConsoleDimensions(PIPE_WIDTH, size.height)

    @size.setter
    def size(self, value: tuple[int, int]) -> None:
        Console.size.fset(self, value)  # type: ignore[attr-defined]

    def say(self, *objects: Any, **options: Any) -> None:
        """Print a line that is not a result (nothing with ``--quiet``)."""
        if not self.results_only:
            self.print(*objects, **options)


#: The width of a line written to a file or a pipe: wide enough that no table row is ever broken.
PIPE_WIDTH = 100_000

# User text (titles, file names, notes, look-up strings) is never read as console markup: styles are
# given as Text spans instead.
console = OutputConsole(markup=False)
err_console = Console(stderr=True, markup=False)
F = TypeVar("F", bound=Callable[..., Any])

FormatOption = Annotated[str, typer.Option(
    "--format", "-f", help="Input format: auto, docred (also Re-DocRED, Revisit-DocRED, DWIE-in-DocRED-layout), "
    "docred-ie, linked-docred, dwie (original DWIE, a file or a directory), jsonl (rexel-bench's own), "
    "linked-triples (facts between QIDs only).")]
DataDirOption = Annotated[Path | None, typer.Option(
    "--data-dir", help="Directory of the non-vendored datasets (default: $REXEL_BENCH_DATA, else ../shared/datasets).")]
SkipBadGoldOption = Annotated[bool, typer.Option(
    "--skip-bad-gold", help="Score the gold documents that load and list those left out (with why) in the "
                            "output and metrics.json, instead of stopping at the gold file's first error.")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", help="Run on a Dask cluster: 'local' (a local cluster of --workers processes) or a "
                        "dask.distributed scheduler address (tcp://host:8786).")]
WorkersOption = Annotated[int, typer.Option("--workers", help="Worker processes of a local cluster (one thread each).")]


def entry_point() -> None:
    """The ``rexel-bench`` executable and ``python -m rexel_bench``: the app, its start-up objects set aside.

    The modules, classes and functions loaded at start-up live until the process ends. Moved to the
    garbage collector's permanent generation (:func:`gc.freeze`), they are not scanned again by any
    collection, the last one at exit included: about 0.03 s of every command.
    """
    gc.freeze()
    app()


def reports_errors(func: F) -> F:
    """Turn toolkit errors, knowledge-base errors and failed reads or writes into one red line and exit status 2."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (RexelBenchError, sqlite3.Error, OSError) as exc:
            err_console.print(Text.assemble(("error:", "bold red"), f" {_error_line(exc)}"), highlight=False,
                              soft_wrap=True)
            raise typer.Exit(2) from None
        except ModuleNotFoundError as exc:
            extra = missing_extra(exc)
            if extra is None:
                raise
            err_console.print(Text.assemble(("error:", "bold red"), f" this needs {exc.name!r}, which comes with "
                                            f"the {extra} extra: pip install 'rexel-bench[{extra}]'"),
                              highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    return wrapper  # type: ignore[return-value]


def _error_line(exc: Exception) -> str:
    """What went wrong, in one line: a toolkit error names file, document and field itself."""
    if isinstance(exc, sqlite3.Error):  # a knowledge base that cannot be read or written (disk full, damaged)
        return f"knowledge base: {exc}"
    if isinstance(exc, OSError):  # disk full, file too large, permission denied: nothing half-written is kept
        return f"cannot read or write{f': {exc.filename}' if exc.filename else ''}: {exc.strerror or exc}"
    return str(exc)


def _version(value: bool) -> None:
    if value:
        console.print(f"rexel-bench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="Also show the libraries' own progress bars and "
                                                            "warnings while models load.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only results and errors: no progress bars, "
                                                              "notes, conventions or where files were written.")
                     ] = False,
) -> None:
    """rexel-bench: load, validate, score and compare DocIE systems (REXEL and pipelines)."""
    if verbose:
        os.environ["REXEL_BENCH_VERBOSE"] = "1"
    console.results_only = quiet
    if quiet:
        os.environ["REXEL_BENCH_QUIET"] = "1"
    else:
        os.environ.pop("REXEL_BENCH_QUIET", None)
    warnings.showwarning = _show_note_or_warning


_show_warning = warnings.showwarning


def _show_note_or_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """The toolkit's notes (:class:`RexelBenchNote`) as one ``note:`` line on stderr; other warnings as Python
    shows them."""
    if issubclass(category, RexelBenchNote):
        err_console.print(Text.assemble(("note:", "yellow"), f" {message}"), highlight=False, soft_wrap=True)
    else:
        _show_warning(message, category, *args, **kwargs)


def _write_json(path: Path, data: Any) -> None:
    """JSON to a file (written whole), or to standard output when the path is ``-``."""
    text = json.dumps(data, indent=1) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        data_io.atomic_write_text(path, text)


@contextmanager
def _results_to_stderr(active: bool) -> Iterator[None]:
    """With ``--json -`` standard output carries the JSON alone: the human-readable results go to stderr."""
    if not active:
        yield
        return
    console.file = sys.stderr
    try:
        yield
    finally:
        console.file = None  # type: ignore[assignment]  # back to standard output


def _check_numbers(**values: Any) -> None:
    """Refuse a number below its option's minimum before any work starts (one line naming the option)."""
    check_numbers(values, option_name)


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
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every problem as JSON to this file "
                                                                 "(- for standard output).")] = None,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Check a file: structure, spans, mention text, relation ends and ids, duplicate ids, empty documents.

    Exit status 0 when every document loads (warnings allowed), 1 when some documents have errors,
    2 when the file cannot be read at all (or, with --strict, at the first error).
    """
    result = data_io.load(resolve(file, data_dir_opt), format, strict=strict, relations=relations)
    with _results_to_stderr(str(json_out) == "-"):
        _print_validation(result, max_shown)
    if json_out:
        _write_json(json_out, {
            "file": result.path, "format": result.format, "documents_read": result.n_read,
            "documents_loaded": len(result.documents), "relation_inventory": result.relation_inventory,
            "problems": [p.to_dict() for p in result.problems]})
    if result.n_dropped:
        raise typer.Exit(1)


def _print_validation(result: Any, max_shown: int) -> None:
    """Each problem (up to ``max_shown`` of each severity), then the verdict."""
    for severity, style in (("error", "red"), ("warning", "yellow"), ("info", "cyan")):
        found = [p for p in result.problems if p.severity == severity]
        for problem in found[:max_shown]:
            console.print(str(problem), style=style, highlight=False, soft_wrap=True)
        if len(found) > max_shown:
            console.print(f"... and {len(found) - max_shown} more {severity}s (use --show or --json)", style=style)
    verdict = ("OK", "green") if result.n_dropped == 0 else (f"{result.n_dropped} document(s) NOT loaded", "red")
    console.print(Text.assemble(
        f"{result.path}: format {result.format}, {len(result.documents)}/{result.n_read} documents loaded, "
        f"{result.count('error')} errors, {result.count('warning')} warnings, {result.count('info')} notes; "
        f"relation ids checked against: {result.relation_inventory}. ", verdict), highlight=False)


@app.command()
@reports_errors
def datasets(
    data_dir_opt: DataDirOption = None,
    counts: Annotated[bool, typer.Option("--counts/--no-counts", help="Load each dataset to count it.")] = True,
) -> None:
    """List the registered datasets, where they are on this machine, and their sizes."""
    root = data_dir(data_dir_opt)
    table = Table(title=f"Registered datasets (data directory: {root or 'none found'})", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)  # fits 80 columns
    for column in ("name", "licence", "docs", "entities", "mentions", "facts", "in"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("docs", "entities", "mentions", "facts")
                         else "left")
    for spec in DATASETS:
        path = spec_path(spec, data_dir_opt)
        sizes = ["", "", "", ""]
        if path is not None and counts:
            stats = corpus_statistics(data_io.load(path).documents)
            sizes = [f"{stats[k]:,}" for k in ("documents", "entities", "mentions", "relations")]
        where = ("repo" if spec.vendored else "data") if path else Text("none", style="red")
        table.add_row(spec.key, spec.licence.replace("local evaluation only", "local eval."), *sizes, where)
    console.print(table)
    for spec in DATASETS:
        path = spec_path(spec, data_dir_opt)
        console.print(Text.assemble((spec.key, "bold"), f": {spec.description}"
                                    + (f" ({path})" if path and not spec.vendored else "")))
    console.print("in: repo (vendored), data (the data directory) or none (not on this machine); local eval.: text "
                  "for local evaluation only, never shipped", style="dim")


@app.command()
@reports_errors
def stats(
    file: Annotated[str, typer.Argument(help="A data or prediction file, a DWIE directory, or a dataset name.")],
    format: FormatOption = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the statistics as JSON (- for standard "
                                                                 "output).")] = None,
    top: Annotated[int, typer.Option("--top", help="How many types and relations to list.")] = 15,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Corpus statistics: documents, tokens, mentions, entities, relations, QIDs, types, relation labels."""
    result = data_io.load(resolve(file, data_dir_opt), format)
    figures = corpus_statistics(result.documents)
    figures["problems"] = {s: result.count(s) for s in ("error", "warning", "info")}
    with _results_to_stderr(str(json_out) == "-"):
        _print_statistics(result, figures, top)
    if json_out:
        _write_json(json_out, figures)


def _print_statistics(result: Any, figures: dict[str, Any], top: int) -> None:
    """The summary table, the top types and relation labels, and how many documents did not load."""
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
        console.print(f"{result.n_dropped} document(s) not loaded because of errors: run rexel-bench validate",
                      style="red")


@app.command()
@reports_errors
def score(
    gold: Annotated[str, typer.Argument(help="Gold file, DWIE directory or dataset name (e.g. docred-ie:dev).")],
    pred: Annotated[list[Path], typer.Argument(
        help="Predictions: rexel-bench JSONL, any supported format, or DocRED's result.json (a list of {title, "
             "h_idx, t_idx, r, evidence}). Several files (e.g. one per checkpoint) are scored against the gold "
             "read once, with one summary table.")],
    metrics: Annotated[str | None, typer.Option(
        "--metrics", "-m", help="Comma-separated metric or family names (mentions, typing, linking, coreference, "
                                "docred, end-to-end); default: all that apply.")] = None,
    train: Annotated[str | None, typer.Option("--train", help="Training file whose facts Ign F1 ignores.")] = None,
    lenient: Annotated[bool, typer.Option(
        "--lenient", help="Count bad predictions (unknown documents, spans outside the document, relations to "
                          "missing entities) as wrong and report them, instead of failing.")] = False,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write every value and count as JSON, - for standard output (with several prediction files: "
                       "an object from each file's path, as given, to its result).")] = None,
    per_document: Annotated[bool, typer.Option(
        "--per-document", help="Include per-document counts in --json.")] = False,
    only_predicted: Annotated[bool, typer.Option(
        "--only-predicted", help="Score only the gold documents the predictions cover; the others are left out "
                                 "and counted (by default they are scored as empty predictions).")] = False,
    format: FormatOption = "auto",
    skip_bad_gold: SkipBadGoldOption = False,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Score predictions against gold on every subtask: MD, ET, ED, coreference, DocRED RE, end to end."""
    from rexel_bench import api

    sources = {str(path): path for path in pred}
    if len(sources) < len(pred):
        raise ConfigError(f"a prediction file is named twice: {', '.join(str(p) for p in pred)}")
    # the documents read here live until the command ends and hold no reference cycles: a collection would
    # only scan them (about 0.04 s of a single-file score)
    with paused_gc(), _results_to_stderr(str(json_out) == "-"):
        scored = api.score_each(gold, sources, metrics=metrics.split(",") if metrics else None, train=train,
                                lenient=lenient, skip_bad_gold=skip_bad_gold, format=format, data_dir=data_dir_opt,
                                progress=True, only_predicted=only_predicted)
        if len(sources) == 1:
            [(name, result)] = scored
            _print_score(result, f"{pred[0]} against {gold}")
            if json_out:
                _write_json(json_out, _score_record(gold, {name: result}, per_document, data_dir_opt))
            return
        # of each file: its headline values and notes (and, for --json, its result without per-document counts
        # unless asked: hundreds of files)
        first, kept, results = None, {}, {}
        for name, result in scored:
            first = result if first is None else first
            kept[name] = ({m: r.values[r.headline] for m, r in result.metrics.items()}, result.notes)
            if json_out:
                results[name] = result
        _print_summary(kept, first, gold)
        if json_out:
            _write_json(json_out, _score_record(gold, results, per_document, data_dir_opt))


def _score_record(gold: str, results: dict[str, Any], per_document: bool, data_dir: Path | None) -> dict[str, Any]:
    """``score --json``: the common metrics record (``kind: score``) of every prediction file."""
    from rexel_bench.data.registry import resolve
    from rexel_bench.reports.record import score_record

    return score_record(results, dataset=gold, dataset_path=resolve(gold, data_dir), per_document=per_document,
                        command=" ".join(["rexel-bench", *sys.argv[1:]]))


def _print_score(result: Any, title: str) -> None:
    """One system's table: a line per metric, then the conventions and notes."""
    table = Table(title=f"{title} ({len(result.doc_ids)} documents)")
    # one line per metric; on a narrow terminal only the description ("what") is cut short
    metric_width = max(map(len, result.metrics), default=6)
    what_width = max(12, console.width - metric_width - 6 - 6 - 9 - 16)  # 16: rules and padding of 5 columns
    for column in ("metric", "P", "R", "F1 / acc.", "what"):
        table.add_column(column, justify="right" if column in ("P", "R", "F1 / acc.") else "left", no_wrap=True,
                         max_width=what_width if column == "what" else None, overflow="ellipsis")
    for name, m in result.metrics.items():
        values = m.values
        cells = [f"{100 * values[k]:.2f}" if k in values else "" for k in ("p", "r")]
        table.add_row(name, *cells, f"{100 * values[m.headline]:.2f}", m.description)
    console.print(table)
    for note in result.notes:  # before the conventions: a note can change what a number means
        _print_note(note)
    _print_rules(result)


def _print_rules(result: Any) -> None:
    """The ED exclusion rule (where ED is scored) and the scoring conventions."""
    if any(m.family == "linking" for m in result.metrics.values()):  # the rule is about ED scores only
        from rexel_bench.scoring.linking import EXCLUSION_RULE

        console.say(EXCLUSION_RULE, style="dim")
    for convention in result.conventions:
        console.say(f"convention: {convention}", style="dim", highlight=False, soft_wrap=True)


def _print_summary(kept: dict[str, tuple[dict[str, float], list[str]]], first: Any, gold: str) -> None:
    """Several systems: one row per prediction file, one column per metric's headline value (F1 or accuracy,
    in %), then the conventions once, the notes every file shares once, and each file's other notes under its
    name. ``kept``: each file's headline values and notes; ``first``: the first file's whole result."""
    names = list(dict.fromkeys(name for values, _ in kept.values() for name in values))
    table = Table(title=f"{len(kept)} prediction files against {gold} ({len(first.doc_ids)} documents; "
                        "F1 or accuracy, %)", box=box.SIMPLE_HEAD)
    table.add_column("predictions", no_wrap=True)
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    for source, (values, _) in kept.items():
        table.add_row(source, *(f"{100 * values[name]:.2f}" if name in values else "—" for name in names))
    console.print(table)  # on a terminal it fits the window; to a file or pipe every row is whole (OutputConsole)
    _print_rules(first)
    shared = [note for note in first.notes if all(note in notes for _, notes in kept.values())]  # the gold's
    for note in shared:
        _print_note(f"every file: {note}")
    for source, (_, notes) in kept.items():
        for note in notes:
            if note not in shared:
                _print_note(f"{source}: {note}")


def _print_verdicts(record: "MetricsRecord") -> None:
    """Each system against the reference on the headline metrics: a compact table and one sentence each."""
    from rexel_bench.reports.verdicts import points, resolution_note, sentences, verdicts

    found = verdicts(record)
    if not found:
        return
    table = Table(title=f"Against the reference system, {found[0].reference} (points of F1; 95% paired bootstrap "
                        "interval; Holm-adjusted p)", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("system", "metric", "value", "Δ", "interval", "p Holm", "verdict"):
        table.add_column(column, justify="right" if column in ("value", "Δ", "p Holm") else "left", no_wrap=True)
    for v in found:
        table.add_row(v.system, v.metric, f"{100 * v.value:.2f}", points(v.delta), v.interval_text,
                      "–" if v.p_holm is None else f"{v.p_holm:.4f}", v.outcome)
    console.print(table)
    for line in sentences(found):
        console.print(line, highlight=False, soft_wrap=True)
    caution = resolution_note(record)
    if caution:
        _print_note(caution)


def _print_note(note: str) -> None:
    """One scoring note, as a line of its own (user text: never highlighted, never broken)."""
    console.say(Text.assemble(("note:", "yellow"), f" {note}"), highlight=False, soft_wrap=True)


def _report_dir(out: Path | None, name: str) -> Path:
    from datetime import datetime

    return out or Path("reports") / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{name}"


@app.command()
@reports_errors
def compare(
    preds: Annotated[list[Path], typer.Argument(help="Two or more prediction files (any supported format); the "
                                                     "first is the reference the others are compared with. Files "
                                                     "joined by + are one system's training seeds "
                                                     "(s0.jsonl+s1.jsonl+s2.jsonl).")],
    gold: Annotated[str, typer.Option("--gold", "-g", help="Gold file or dataset name.")] = "docred-ie:dev",
    names: Annotated[str | None, typer.Option("--names", help="Comma-separated names, one per file "
                                                               "(default: the file names).")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="The system every other is tested against "
                                                                      "(Holm's family; default: the first).")
                         ] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Report directory (default: reports/<time>-compare).")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Paired bootstrap resamples.")] = 10_000,
    randomization: Annotated[int, typer.Option("--randomization", help="Approximate-randomization rounds "
                                                                       "(0: none).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every resampling.")] = 0,
    metrics: Annotated[str | None, typer.Option("--metrics", "-m", help="Metric or family names.")] = None,
    train: Annotated[str | None, typer.Option("--train", help="Training file for Ign F1.")] = None,
    lenient: Annotated[bool, typer.Option("--lenient", help="Count bad predictions as wrong.")] = False,
    skip_bad_gold: SkipBadGoldOption = False,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Compare prediction files on one gold: every metric with CIs, paired tests, who is ahead of the first.

    The first file (or --reference) is the reference: Holm corrects each system against it on the headline
    metrics; every other comparison is exploratory. Writes a report folder (--out)."""
    from rexel_bench import api
    from rexel_bench.models.base import SEED_SEPARATOR
    from rexel_bench.reports.record import MetricsRecord
    from rexel_bench.reports.tables import markdown_table

    _check_numbers(bootstrap=bootstrap, randomization=randomization, seed=seed)
    sources = [str(p).split(SEED_SEPARATOR) if SEED_SEPARATOR in str(p) and not p.exists() else p for p in preds]
    labels = names.split(",") if names else [
        f"{Path(s[0]).stem} ({len(s)} seeds)" if isinstance(s, list) else s.stem for s in sources]
    if len(preds) < 2:
        raise ConfigError("compare needs two or more prediction files")
    if len(labels) != len(preds) or len(set(labels)) != len(labels):
        raise ConfigError(f"--names needs {len(preds)} different names, one per file, e.g. --names rexel,pipeline"
                          if names else "two prediction files share a file name: give --names")
    report = api.compare(gold, dict(zip(labels, sources, strict=True)), bootstrap=bootstrap, seed=seed,
                         randomization=randomization, metrics=metrics.split(",") if metrics else None, train=train,
                         lenient=lenient, skip_bad_gold=skip_bad_gold, data_dir=data_dir_opt, reference=reference)
    directory = report.write(_report_dir(out, "compare"))
    record = MetricsRecord.from_dict(report.to_dict(), checked=True)  # validated when the report was written
    console.print(markdown_table(record), highlight=False)
    _print_verdicts(record)
    console.say(f"report written to {directory} (report.html, report.md, metrics.json, leaderboards, plots)")


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

    _check_numbers(bootstrap=bootstrap, seed=seed)
    if format not in ("md", "csv", "tex", "html"):
        raise ConfigError(f"unknown --format {format!r}: choose md, csv, tex or html")
    merged = merge_runs(runs, metric, n_resamples=bootstrap, seed=seed)
    text = leaderboard_text(merged, format, [metric])
    text += "" if text.endswith("\n") else "\n"
    if out:
        data_io.atomic_write_text(out, text)
    if console.is_terminal:
        console.print(text.rstrip("\n"), highlight=False, markup=False)
    else:  # a pipe or a file receives exactly the bytes --out writes
        sys.stdout.write(text)
        sys.stdout.flush()


@app.command()
@reports_errors
def show(
    file: Annotated[str, typer.Argument(help="Predictions or data (any supported format), or a dataset name.")],
    doc: Annotated[str | None, typer.Option("--doc", help="Only the document with this id.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many documents.")] = 5,
    format: FormatOption = "auto",
    data_dir_opt: DataDirOption = None,
) -> None:
    """Print documents as a person reads them: entities with types, QIDs and labels; facts with names."""
    from rexel_bench import api

    _check_numbers(limit=limit)
    documents = api.load(resolve(file, data_dir_opt), format)
    chosen = [d for d in documents if doc is None or d.id == doc][:limit]
    if doc is not None and not chosen:
        raise ConfigError(f"no document with id {doc!r}", file=file)
    for entry in api.readable(chosen):
        _print_readable(entry)
    if len(chosen) < (len(documents) if doc is None else 1):
        console.say(f"{len(chosen)} of {len(documents)} documents shown (--limit, --doc)")


def _print_readable(entry: dict[str, Any]) -> None:
    """One document's entities and facts as two tables."""
    console.print(Text.assemble((entry["title"], "bold"), f"  (id {entry['id']})"), highlight=False)
    entities = Table(box=box.SIMPLE_HEAD, title="entities", title_justify="left")
    for column in ("#", "name", "type", "QID", "label", "mentions"):
        entities.add_column(column)
    for e in entry["entities"]:
        entities.add_row(str(e["entity"]), e["name"], e["type"] or "", e["qid"] or "NIL", e["label"] or "",
                         " | ".join(dict.fromkeys(e["mentions"])))
    console.print(entities)
    facts = Table(box=box.SIMPLE_HEAD, title="facts", title_justify="left")
    for column in ("head", "relation", "tail", "score"):
        facts.add_column(column)
    for f in entry["facts"]:
        facts.add_row(f"{f['head']} ({f['head_qid'] or 'NIL'})", f"{f['relation_name']} ({f['relation']})",
                      f"{f['tail']} ({f['tail_qid'] or 'NIL'})", "" if f["score"] is None else f"{f['score']:.2f}")
    console.print(facts if entry["facts"] else "no facts")


# --- knowledge base, silver annotation, audit -----------------------------------------------------
kb_app = typer.Typer(help="Build and query the SQLite knowledge base (entities, aliases with priors, classes, facts).",
                     no_args_is_help=True)
app.add_typer(kb_app, name="kb")
KbOption = Annotated[str | None, typer.Option("--kb", help="Knowledge base: a file, or a PostgreSQL URL that "
                                                           "'kb load' filled (default: the embedded default KB, built "
                                                           "from the vendored data on first use).")]


def _kb_path(kb: str | None) -> str | Path:
    from rexel_bench.kb.build import default_kb_path
    from rexel_bench.kb.store import kb_location

    return kb_location(kb) if kb is not None else default_kb_path()


@kb_app.command("build")
@reports_errors
def kb_build(
    out: Annotated[Path, typer.Option("--out", help="The KB file to write (replaced if it exists).")],
    docred_ie: Annotated[list[Path], typer.Option("--docred-ie", help="DocRED-IE (QID-bearing) files.")] = [],  # noqa: B006
    exclude_docs_of: Annotated[list[Path], typer.Option(
        "--exclude-docs-of", help="Leave out DocRED-IE documents that also appear in these files (matched on the "
                                  "first sentence), e.g. the documents you will rebuild links for.")] = [],  # noqa: B006
    tsv: Annotated[list[Path], typer.Option("--tsv", help="alias<TAB>QID[<TAB>count] tables.")] = [],  # noqa: B006
    dwie_annos: Annotated[Path | None, typer.Option("--dwie-annos", help="DWIE annotations directory.")] = None,
    dwie_text: Annotated[list[Path], typer.Option(
        "--dwie-text", help="DWIE-with-text files giving title → QID pairs (KnowRA).")] = [],  # noqa: B006
    popularity: Annotated[Path | None, typer.Option("--popularity", help="QID → popularity JSON(.gz).")] = None,
    properties: Annotated[Path | None, typer.Option("--properties", help="Wikidata properties CSV.")] = None,
    wikidata_dump: Annotated[list[Path], typer.Option(
        "--wikidata-dump", help="Wikidata JSON dump(s): .json, .json.gz or .json.bz2 (parts run in parallel).")] = [],  # noqa: B006
    only_qids: Annotated[Path | None, typer.Option("--only-qids", help="File of QIDs (one per line) to keep "
                                                                        "from the dump.")] = None,
    only_properties: Annotated[str | None, typer.Option("--only-properties",
                                                        help="Comma-separated properties to keep facts of.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="dask.distributed scheduler address "
                                                                      "(default: a local cluster).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Processes of the local cluster that parse the "
                                                                  "dump (default: the CPU count).")] = None,
    fuzzy_index: Annotated[str, typer.Option(
        "--fuzzy-index", help="How a text the KB does not hold exactly finds candidates: trigram (FTS5 bm25's 20 "
                              "nearest, the default), one-edit (the aliases one letter or one word away), "
                              "prefix-trigram (every alias over the similarity threshold, from the rarest "
                              "trigrams' postings) or "
                              "one-edit+prefix-trigram (both; docs/performance.md).")] = "trigram",
) -> None:
    """Build a KB from any mix of sources."""
    from rexel_bench.kb.build import build_kb
    from rexel_bench.kb.deletions import deletions_path
    from rexel_bench.kb.ingest.wikidata_dump import DumpFilter
    from rexel_bench.silver.agreement import first_sentence_key

    _check_numbers(workers=workers)

    exclude = None
    if exclude_docs_of:
        keys = {first_sentence_key(d) for p in exclude_docs_of for d in data_io.load(p).documents}
        exclude = {d.id for p in docred_ie for d in data_io.load(p).documents if first_sentence_key(d) in keys}
    keep = DumpFilter(qids=frozenset(only_qids.read_text().split()) if only_qids else None,
                      properties=frozenset(only_properties.split(",")) if only_properties else None)
    contributed = build_kb(out, docred_ie=docred_ie, exclude_ids=exclude, tsv=tsv, dwie_annos=dwie_annos,
                           dwie_text=dwie_text, popularity=popularity, properties=properties,
                           wikidata_dump=wikidata_dump, dump_filter=keep, scheduler=scheduler, workers=workers,
                           progress=True, fuzzy_index=fuzzy_index)
    for source, value in contributed.items():
        console.print(f"{source}: {value}")
    if exclude:
        console.print(f"left out {len(exclude)} DocRED-IE documents shared with {', '.join(map(str, exclude_docs_of))}")
    console.say(f"knowledge base written to {out}")
    if deletions_path(out).exists():
        console.say(f"its one-edit index's deletion keys written to {deletions_path(out)}: keep the two files "
                    "together")


@kb_app.command("lookup")
@reports_errors
def kb_lookup(
    text: Annotated[str, typer.Argument(help="A surface form, e.g. \"U.S.\".")],
    kb: KbOption = None,
    k: Annotated[int, typer.Option("-k", help="How many candidates.")] = 10,
) -> None:
    """Candidates of a surface form with their priors, labels and classes."""
    from rexel_bench.kb.store import open_kb

    with open_kb(_kb_path(kb)) as store:
        found = store.candidates(text, k=k)
        table = Table(title=f"candidates for {text!r}")
        for column in ("QID", "prior", "label", "popularity", "classes", "match"):
            table.add_column(column)
        for c in found:
            classes = ", ".join(f"{q} {store.class_label(q) or ''}".strip() for q in c.classes[:4])
            table.add_row(c.qid, f"{c.prior:.3f}", c.label or "", f"{c.popularity or ''}", classes, c.match)
    console.print(table if found else f"no candidate for {text!r}")


@kb_app.command("stats")
@reports_errors
def kb_stats(kb: KbOption = None) -> None:
    """Table sizes and sources of a KB."""
    from rexel_bench.kb.store import open_kb

    with open_kb(_kb_path(kb)) as store:
        console.print_json(data=store.stats())


@kb_app.command("load")
@reports_errors
def kb_load(
    url: Annotated[str, typer.Argument(help="The PostgreSQL database to fill, e.g. postgresql://user@host/kb.")],
    kb: Annotated[Path | None, typer.Option("--kb", help="The KB file to copy (default: the embedded KB).")] = None,
) -> None:
    """Copy a KB file into a PostgreSQL database (with pg_trgm) that then serves it: --kb URL in every command."""
    from rexel_bench.kb.server import load_kb, redacted
    from rexel_bench.kb.store import KnowledgeBase, is_server_url

    if not is_server_url(url):
        raise ConfigError(f"not a PostgreSQL URL: {url!r} (expected postgresql://user@host/database)", field="url")
    with KnowledgeBase(_kb_path(str(kb) if kb else None)) as store:
        copied = load_kb(store, url)
    for table, rows in copied.items():
        console.print(f"{table}: {rows:,} rows")
    console.say(f"knowledge base loaded into {redacted(url)}; use it with --kb {redacted(url)}")


@app.command("build-docred-ie")
@reports_errors
def build_docred_ie_command(
    input: Annotated[str, typer.Option("--input", help="DocRED-layout file (or dataset name) to link.")],
    out: Annotated[Path, typer.Option("--out", help="Output file in the DocRED-IE format.")],
    kb: KbOption = None,
    threshold: Annotated[float, typer.Option("--threshold", help="Below this confidence an entity is NIL.")] = 0.3,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 2,
    partition_size: Annotated[int, typer.Option("--partition-size", help="Documents per partition on a cluster.")
                              ] = 64,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Silver-link every entity cluster to Wikidata (alias prior, type compatibility, relation consistency), on
    one process or a Dask cluster (the same bytes either way: linking has no floats that threads split)."""
    from rexel_bench.distributed import check_scheduler
    from rexel_bench.kb.store import open_kb
    from rexel_bench.silver.builder import LinkerConfig, build_docred_ie, build_docred_ie_on_cluster

    _check_numbers(workers=workers, partition_size=partition_size)
    check_scheduler(scheduler)
    docs = data_io.load(resolve(input, data_dir_opt)).documents
    config = LinkerConfig(threshold=threshold)
    if scheduler is not None:
        linked, cluster = build_docred_ie_on_cluster(docs, _kb_path(kb), config, workers=workers,
                                                     scheduler=scheduler,
                                                     partition_size=partition_size)
        _print_cluster(cluster)
    else:
        with open_kb(_kb_path(kb)) as store:
            linked = build_docred_ie(docs, store, config)
    data_io.write(linked, out, "docred-ie")
    entities = [e for d in linked for e in d.entities]
    console.print(f"{len(linked)} documents, {sum(e.qid is not None for e in entities)}/{len(entities)} entities "
                  f"linked; written to {out}")


class _DefaultCommandGroup(typer.core.TyperGroup):
    """A group whose first argument, if not a sub-command, goes to the ``check`` command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args.insert(0, "check")
        return super().parse_args(ctx, args)


audit_app = typer.Typer(cls=_DefaultCommandGroup, no_args_is_help=True,
                        help="Audit silver links: rexel-bench audit FILE [--reference FILE]; "
                             "audit sample FILE; audit score JUDGEMENTS.csv.")
app.add_typer(audit_app, name="audit")


@audit_app.command("check")
@reports_errors
def audit_check(
    file: Annotated[str, typer.Argument(help="A linked file (DocRED-IE format, DWIE-with-links, ...).")],
    reference: Annotated[str | None, typer.Option("--reference", help="Reference annotation to agree with.")] = None,
    kb: KbOption = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for audit.md and audit.json.")] = Path("."),
    data_dir_opt: DataDirOption = None,
) -> None:
    """Coverage by type, disagreeing entities, inconsistent surface forms, type incompatibilities, KB support."""
    from rexel_bench.kb.store import open_kb
    from rexel_bench.silver.audit import audit_links, write_audit

    path = resolve(file, data_dir_opt)
    docs = data_io.load(path).documents
    ref = data_io.load(resolve(reference, data_dir_opt)).documents if reference else None
    with open_kb(_kb_path(kb)) as store:
        result = audit_links(docs, kb=store, reference=ref, file=str(path))
    md, js = write_audit(result, out)
    console.print(md.read_text(), markup=False, highlight=False)
    console.say(f"written {md} and {js}")


@audit_app.command("sample")
@reports_errors
def audit_sample(
    file: Annotated[str, typer.Argument(help="A linked file.")],
    n: Annotated[int, typer.Option("--n", help="Sample size.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 0,
    kb: KbOption = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for sample.csv and sample.html.")] = Path("."),
    data_dir_opt: DataDirOption = None,
) -> None:
    """A sample stratified by type for manual verification (CSV to fill in, HTML to read)."""
    from rexel_bench.kb.store import open_kb
    from rexel_bench.silver.audit import sample_for_verification, write_sample

    docs = data_io.load(resolve(file, data_dir_opt)).documents
    with open_kb(_kb_path(kb)) as store:
        rows = sample_for_verification(docs, store, n, seed)
    csv_path, html_path = write_sample(rows, out)
    console.print(f"{len(rows)} links sampled: fill the judgement column of {csv_path}; read them in {html_path}")


@audit_app.command("score")
@reports_errors
def audit_score(judgements: Annotated[Path, typer.Argument(help="The sample CSV with its judgement column filled.")],
                ) -> None:
    """Estimated precision with Wilson 95% intervals, overall and per stratum."""
    from rexel_bench.silver.audit import score_judgements

    result = score_judgements(judgements)
    table = Table(title=f"Link precision from {judgements}")
    for column in ("stratum", "judged", "correct", "precision", "Wilson 95%"):
        table.add_column(column)
    for stratum, v in result.items():
        table.add_row(stratum, str(v["judged"]), str(v["correct"]), f"{100 * v['precision']:.1f}%",
                      f"[{100 * v['wilson_95'][0]:.1f}, {100 * v['wilson_95'][1]:.1f}]")
    console.print(table)


@app.command()
@reports_errors
def train(
    config: Annotated[Path, typer.Option("--config", help="A training config (e.g. configs/rexel.yaml).")],
    limit: Annotated[int | None, typer.Option("--limit", help="Use only the first N training documents "
                                                              "(a quick check).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--out", "--output", help="Checkpoint directory (overrides the config).")] = None,
) -> None:
    """Train REXEL (resumes an interrupted run of the same config; multi-GPU with `accelerate launch`)."""
    import dataclasses

    from rexel_bench.models.rexel.config import RexelConfig
    from rexel_bench.models.rexel.train import end_distributed_process
    from rexel_bench.models.rexel.train import train as run_training

    settings = RexelConfig.from_yaml(config)
    if output:
        settings = dataclasses.replace(settings, output=str(output))
    directory = run_training(settings, limit=limit)
    if os.environ.get("RANK", "0") == "0":  # under DDP only the main process reports
        summary = json.loads((directory / "config.json").read_text()).get("training", {})
        console.print(f"best checkpoint: {directory} (dev {settings.early_stopping} "
                      f"{summary.get('best_dev', float('nan')):.4f}, {summary.get('seconds', 0):.0f} s)")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        end_distributed_process()


@app.command("run")
@reports_errors
def run_command(
    models: Annotated[str | None, typer.Option("--models", help="Comma-separated models: rexel, pipeline, "
                                                                "pipeline-spacy, pipeline-heuristic, a name with "
                                                                "another checkpoint (rexel:<dir>), file:<path>, "
                                                                "py:<module>:<factory> or an installed plugin (these "
                                                                "two imports and calls code).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="A run config (YAML or TOML) to replay; "
                                                                 "other options override it. A config that names "
                                                                 "py: or plugin models needs --allow-code.")] = None,
    allow_code: Annotated[bool, typer.Option("--allow-code", help="Let --config name py: factories and plugins, "
                                                                  "which imports and calls their code: only for a "
                                                                  "config whose author you trust.")] = False,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset name or path "
                                                                  "(default: docred-ie:dev, embedded).")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Split of a bare dataset name.")] = None,
    metrics: Annotated[str | None, typer.Option("--metrics", help="Metric or family names.")] = None,
    bootstrap: Annotated[int | None, typer.Option("--bootstrap", help="Paired bootstrap resamples.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of every resampling.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu or cuda.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Documents per batch.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N documents.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Report directory "
                                                           "(default: reports/<time>-<name>).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute every prediction.")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Name of the run.")] = None,
    kb: Annotated[str | None, typer.Option("--kb", help="The KB every model links with: a path, or 'oracle' for the "
                                                        "default KB even where it holds the evaluated documents "
                                                        "(labelled oracle-candidates, an upper bound). Default: "
                                                        "held-out (cross-fitted) linking when the default KB holds "
                                                        "them, else the default KB.")] = None,
    folds: Annotated[int | None, typer.Option("--folds", help="Folds of held-out linking (default 5).")] = None,
    scheduler: SchedulerOption = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes of a local cluster "
                                                                  "(one thread each; default 2).")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="The model every other is tested against "
                                                                      "(Holm's family; default: the first).")
                         ] = None,
    skip_bad_gold: SkipBadGoldOption = False,
    data_dir_opt: DataDirOption = None,
) -> None:
    """Predict with every model (cached, resumable), score every subtask, bootstrap, write the report."""
    import dataclasses

    from rexel_bench import api
    from rexel_bench.distributed import check_scheduler
    from rexel_bench.reports.record import MetricsRecord
    from rexel_bench.run import RunConfig, summary_lines

    _check_numbers(bootstrap=bootstrap, seed=seed, batch_size=batch_size, limit=limit, folds=folds, workers=workers)
    check_scheduler(scheduler)
    settings = RunConfig.from_file(config, allow_code=allow_code) if config else RunConfig()
    overrides = {"models": models.split(",") if models else None, "dataset": dataset, "split": split,
                 "metrics": metrics.split(",") if metrics else None, "bootstrap": bootstrap, "seed": seed,
                 "device": device, "batch_size": batch_size, "limit": limit, "out": str(out) if out else None,
                 "name": name, "data_dir": str(data_dir_opt) if data_dir_opt else None, "kb": kb, "folds": folds,
                 "scheduler": scheduler, "workers": workers, "reference": reference}
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None},
                                   **({"cache": False} if no_cache else {}),
                                   **({"skip_bad_gold": True} if skip_bad_gold else {}))
    directory = api.run(config=settings).directory
    for line in summary_lines(directory):
        console.print(line, highlight=False, markup=False)
    written = json.loads((directory / "metrics.json").read_text(encoding="utf-8"))
    _print_verdicts(MetricsRecord.from_dict(written, checked=True))  # validated when the run wrote it
    console.say(f"report written to {directory} (report.html, report.md, errors.html, metrics.json)")


@app.command()
@reports_errors
def predict(
    input: Annotated[Path, typer.Argument(help="Plain text (one document per line), JSON Lines with a 'text' field "
                                               "(and optional 'id', 'title') or a JSON array of such records; "
                                               "told apart by suffix (any case) or content.")],
    out: Annotated[Path, typer.Option("--out", help="Output JSONL (rexel-bench format with linked facts).")],
    model: Annotated[str, typer.Option("--model", help="Model name.")] = "rexel",
    kb: Annotated[str | None, typer.Option("--kb", help="The KB the model links with: a file or a PostgreSQL URL "
                                                        "(default: the embedded KB, which knows DocRED-IE dev's "
                                                        "entities only).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Documents per batch.")] = 8,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda.")] = "cpu",
    quantize: Annotated[str | None, typer.Option("--quantize", help="int8: dynamic int8 encoder on CPU (opt-in; "
                                                                    "its speed and F1 change: see README).")] = None,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 2,
    partition_size: Annotated[int, typer.Option("--partition-size", help="Documents per partition on a cluster "
                                                                  "(rounded to whole batches).")] = 256,
    threads: Annotated[int | None, typer.Option("--threads", help="Torch threads per predicting process (default: "
                                                                  "torch's in one process, 1 per worker). The same "
                                                                  "value gives the same bytes on a cluster.")] = None,
) -> None:
    """Run a model on raw text: sentence splitting, tokenisation, batched streaming inference, on one process or a
    Dask cluster (the same bytes as one process with the same --threads)."""
    from rexel_bench.predict_text import predict_file

    _check_numbers(batch_size=batch_size, workers=workers, partition_size=partition_size, threads=threads)
    # predict_file checks the scheduler before it reads anything
    result = predict_file(input, out, model_name=model, batch_size=batch_size, device=device,
                          options={**({"quantize": quantize} if quantize else {}), **({"kb": kb} if kb else {})},
                          scheduler=scheduler, workers=workers,
                          partition_size=partition_size, threads=threads)
    console.print(f"{result.count} documents predicted; written to {out} (rexel-bench show {out} prints them)")
    for note in result.notes:
        _print_note(note)
    for doc_id, reason in result.skipped.items():
        console.say(Text.assemble(("note:", "yellow"), f" document {doc_id!r} not predicted: {reason}"))
    if result.cluster:
        _print_cluster(result.cluster)


def _print_cluster(cluster: "ClusterRun") -> None:
    """Partitions, workers, their peak memory, and a note for every partition that needed a retry."""
    memory = ", ".join(f"{mb:,.0f} MB" for mb in cluster.peak_memory_mb.values() if mb is not None)
    console.print(f"{cluster.partitions} partitions on {cluster.workers} workers (peak memory per worker: "
                  f"{memory or 'unknown'})")
    for note in cluster.notes():
        console.say(Text.assemble(("note:", "yellow"), f" {note}"))


if __name__ == "__main__":
    entry_point()
