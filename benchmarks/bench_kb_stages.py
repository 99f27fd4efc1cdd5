"""Where a knowledge-base build's time goes, stage by stage, and what more parsing workers can buy.

A build (``build_kb``) parses the dump's pieces in worker processes, writes their records from one process (SQLite
has a single writer) and then finalises the KB (priors, entity counts, the fuzzy index). This script times each
stage alone on a generated dump (the layout of ``bench_kb_scale.py``): parsing every piece in this process (the
entities one core parses a second), writing the parsed records into a new KB under the build's bulk-load
settings, and finalising it; then whole builds with each number of ``--workers``. However many workers parse, a
build cannot write faster than the writer alone, so beside the measured builds the table gives the bound
``n / min(N x parse rate, write rate) + finalise`` for each N: measured for the worker counts run here, an
extrapolation (marked) for the others.
Run: ``python benchmarks/bench_kb_stages.py [--size 100000] [--workers 1 2] [--bound-workers 4 8 16]
[--line-kb 13] [--fuzzy-index one-edit] [--folder DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_kb_scale import dump_file
from rich.console import Console
from rich.table import Table

from rexel_bench.kb.build import build_kb
from rexel_bench.kb.deletions import deletions_path
from rexel_bench.kb.ingest.wikidata_dump import DumpFilter, dump_pieces, parse_pieces
from rexel_bench.kb.store import FUZZY_INDEXES, KnowledgeBase


def time_stages(dump: Path, folder: Path, fuzzy_index: str) -> dict[str, float]:
    """Seconds to parse every piece of ``dump`` in this process, to write the records into a new KB (bulk-load
    settings, as a build writes them) and to finalise it with ``fuzzy_index``; and the number of entities."""
    began = time.perf_counter()
    records = [record for piece in dump_pieces([dump]) for record in parse_pieces([piece], DumpFilter())]
    parsed = time.perf_counter()
    path = folder / "stages.sqlite"
    if path.exists():
        remove_kb(path)
    with KnowledgeBase(path, create=True) as kb:
        with kb.bulk_load():
            kb.add_entities(records, source="wikidata-dump")
        written = time.perf_counter()
        kb.finalize(fuzzy_index)
    finalised = time.perf_counter()
    remove_kb(path)
    return {"entities": len(records), "parse_s": parsed - began, "write_s": written - parsed,
            "finalize_s": finalised - written}


def build_bound(stages: dict[str, float], workers: int) -> float:
    """The shortest build ``workers`` parsing processes allow: the records reach the single writer no faster than
    they are parsed or written, whichever is slower, then the KB is finalised."""
    n = stages["entities"]
    rate = min(workers * n / stages["parse_s"], n / stages["write_s"])
    return n / rate + stages["finalize_s"]


def time_build(dump: Path, folder: Path, fuzzy_index: str, workers: int) -> float:
    """Seconds for ``build_kb`` from ``dump`` with ``workers`` parsing processes."""
    path = folder / f"build-{workers}.sqlite"
    began = time.perf_counter()
    build_kb(path, wikidata_dump=[dump], workers=workers, fuzzy_index=fuzzy_index)
    seconds = time.perf_counter() - began
    remove_kb(path)
    return seconds


def remove_kb(path: Path) -> None:
    """Remove a KB file and the deletion keys' file a one-edit KB has beside it."""
    path.unlink()
    deletions_path(path).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Builds measured with these numbers "
                                                                                "of parsing workers.")
    parser.add_argument("--bound-workers", type=int, nargs="+", default=[4, 8, 16],
                        help="Worker counts the bound is extrapolated to (not measured).")
    parser.add_argument("--line-kb", type=float, default=0.0, help="Pad each dump line to about this many KB (real "
                                                                   "lines: about 13).")
    parser.add_argument("--fuzzy-index", default="one-edit", choices=FUZZY_INDEXES)
    parser.add_argument("--folder", type=Path, default=None, help="Keep the dump here (default: a temporary folder).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        dump = dump_file(folder, args.size, compressed=False, line_kb=args.line_kb)
        dump_mib = dump.stat().st_size / 2**20
        stages = time_stages(dump, folder, args.fuzzy_index)
        builds = {w: time_build(dump, folder, args.fuzzy_index, w) for w in args.workers}
    n = stages["entities"]
    Console().print(f"{n:,} entities ({dump.name}, {dump_mib:,.0f} MiB), fuzzy index "
                    f"{args.fuzzy_index}: parse {stages['parse_s']:.1f} s on one core ({n / stages['parse_s']:,.0f} "
                    f"entities/s), write {stages['write_s']:.1f} s ({n / stages['write_s']:,.0f} entities/s), "
                    f"finalise {stages['finalize_s']:.1f} s")
    table = Table(title="Build time by parsing workers: measured, and the bound the single writer sets")
    for column in ("workers", "build, measured (s)", "bound (s)", "measured / bound"):
        table.add_column(column, justify="right")
    for w in sorted({*args.workers, *args.bound_workers}):
        bound = build_bound(stages, w)
        measured = builds.get(w)
        table.add_row(str(w), f"{measured:.1f}" if measured else "not measured", f"{bound:.1f}",
                      f"{measured / bound:.2f}" if measured else "-")
    Console().print(table)


if __name__ == "__main__":
    main()
