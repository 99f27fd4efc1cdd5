"""How the knowledge base scales: build time, size, memory and candidate look-up latency on generated dumps.

No Wikidata dump exists offline, so this script generates dumps in the official JSON layout (one entity a line,
statement GUIDs, references, sitelinks, ``en`` and ``mul`` labels) with a realistic mix: people whose names are
drawn from Zipf-distributed first and last names (so names are shared), places with shared names, taxa,
organisations and scholarly articles with long titles; sitelink counts are Zipf-distributed too. Generated lines
are about 1.2 KB against about 13 KB for real ones, so parsing is a smaller share of a build than it is for a real
dump; ``--line-kb 13`` pads each line with non-item statements (quantities with qualifiers and references) to the
real size, for measuring how ingestion scales with workers.

For each size and fuzzy index (:data:`~rexel_bench.kb.store.FUZZY_INDEXES`) it builds a KB (``build_kb``) from one
dump file (plain, or one ``.json.bz2`` with ``--compressed``) with each number of ``--workers``, and times
``KnowledgeBase.candidates`` (k=8) on aliases taken from the KB (exact) and on the same aliases with one letter
dropped or two neighbouring letters swapped (typos) or with a word added before or after ("city", "the"), with the
share of queries whose entity comes back (overall, and among the queries whose exact alias brings it back: what the
change costs) and the index rows a look-up reads (trigram matches, one-edit index rows, prefix-trigram postings).
Latencies are of a second pass over the queries (warm caches), beside each typo's fastest of ``--repeats`` more warm
passes (other processes' interference left out, as ``timeit`` advises) and the typo p99 of the first pass right
after the build (the file's pages read for the first time), or with ``--cold`` after the operating system's page
cache is dropped (every page read from disk). Memory is the peak, during the last build, of the resident
memory of the whole process tree (this process, the Dask nanny and its workers), summed. For the one-edit index it
also counts the typos whose look-up, over several near aliases, ranks its top 8 otherwise than summing every row of
those aliases would (the entities a bounded look-up passes over).
Run: ``python benchmarks/bench_kb_scale.py [--sizes 10000 100000 1000000] [--queries 300] [--workers 1 2]
[--compressed] [--line-kb 13] [--fuzzy-index trigram one-edit ...] [--folder DIR [--reuse]] [--repeats 5] [--cold]``.
"""

from __future__ import annotations

import argparse
import bz2
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from rexel_bench.kb.build import build_kb
from rexel_bench.kb.deletions import deletions_path
from rexel_bench.kb.normalize import normalize_alias
from rexel_bench.kb.store import FUZZY_INDEXES, KnowledgeBase, _fts_query, index_parts

SYLLABLES = ("an", "ber", "cor", "da", "el", "fin", "gar", "hol", "is", "jan", "kel", "lor", "mar", "nor", "ol",
             "per", "quin", "ros", "sal", "tor", "ul", "ven", "wil", "xan", "yor", "zel")


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _zipf_pick(rng: random.Random, pool: list[str]) -> str:
    """A name from ``pool``, the k-th most common with probability about 1/k."""
    return pool[min(len(pool) - 1, int(rng.paretovariate(1.0)) - 1)]


def _claim(pid: str, target: str, subject: str, n: int) -> dict:
    return {"mainsnak": {"snaktype": "value", "property": pid, "datavalue": {
        "value": {"entity-type": "item", "numeric-id": int(target[1:]), "id": target}, "type": "wikibase-entityid"}},
        "type": "statement", "id": f"{subject}${n:08x}-0000-4000-8000-000000000000", "rank": "normal",
        "references": [{"hash": f"{n:040x}", "snaks": {"P248": [{"snaktype": "value", "property": "P248"}]}}]}


def entity(i: int, rng: random.Random, firsts: list[str], lasts: list[str], places: list[str]) -> dict:
    """One generated entity in the dump's layout."""
    qid = f"Q{i}"
    kind = rng.random()
    if kind < 0.35:
        label, cls = f"{_zipf_pick(rng, firsts)} {_zipf_pick(rng, lasts)}", "Q5"
    elif kind < 0.55:
        label, cls = _zipf_pick(rng, places), "Q486972"
    elif kind < 0.65:
        label, cls = f"{_name(rng, 2)} {_name(rng, 3).lower()}", "Q16521"
    elif kind < 0.75:
        label, cls = f"{_name(rng, 2)} {rng.choice(('Group', 'Institute', 'Records', 'FC'))}", "Q43229"
    else:
        label = " ".join(_name(rng, rng.randint(1, 3)).lower() for _ in range(rng.randint(5, 10))).capitalize()
        cls = "Q13442814"
    labels = {"mul": {"language": "mul", "value": label}} if rng.random() < 0.12 else \
        {"en": {"language": "en", "value": label}}
    aliases = {"en": [{"language": "en", "value": label.upper()}]} if rng.random() < 0.2 else {}
    linked = min(200, int(rng.paretovariate(1.2)) - 1)  # most entities have no sitelink, a few have many
    sitelinks = {f"wiki{k}": {"site": f"wiki{k}", "title": label} for k in range(linked)}
    claims = {"P31": [_claim("P31", cls, qid, 1)], "P17": [_claim("P17", f"Q{rng.randint(1, 200)}", qid, 2)]}
    return {"type": "item", "id": qid, "labels": labels, "aliases": aliases,
            "descriptions": {"en": {"language": "en", "value": f"generated entity {i}"}}, "claims": claims,
            "sitelinks": sitelinks, "lastrevid": i}


def _quantity_claim(pid: str, subject: str, n: int) -> dict:
    """A statement whose value is not an item (a quantity with a unit, qualifiers and a reference): what makes
    most of a real dump line, which the KB parses and skips."""
    return {"mainsnak": {"snaktype": "value", "property": pid, "datavalue": {"value": {
        "amount": f"+{n * 7919 % 100000}", "unit": "http://www.wikidata.org/entity/Q11573"}, "type": "quantity"}},
        "type": "statement", "id": f"{subject}${n:08x}-1111-4000-8000-000000000000", "rank": "normal",
        "qualifiers": {"P585": [{"snaktype": "value", "property": "P585", "datavalue": {"value": {
            "time": "+2020-01-01T00:00:00Z", "precision": 11}, "type": "time"}}]},
        "references": [{"hash": f"{n:040x}", "snaks": {"P854": [{"snaktype": "value", "property": "P854",
                                                                 "datavalue": {"value": "https://example.org/"}}]}}]}


def write_dump(path: Path, n: int, seed: int = 0, line_kb: float = 0.0) -> None:
    """A generated dump of ``n`` entities in the official layout ('[', lines ending in ',', ']'); with ``line_kb``,
    each line is padded with non-item statements to about that many KB (real lines average about 13)."""
    rng = random.Random(seed)
    firsts = [_name(rng, rng.randint(1, 2)) for _ in range(2000)]
    lasts = [_name(rng, rng.randint(2, 3)) for _ in range(20000)]
    places = [_name(rng, rng.randint(2, 3)) for _ in range(max(100, n // 20))]
    with path.open("w", encoding="utf-8") as f:
        f.write("[\n")
        for i in range(1, n + 1):
            item = entity(i, rng, firsts, lasts, places)
            padding = max(0, int(line_kb * 1024 - len(json.dumps(item))) // 560)
            if padding:
                item["claims"]["P1082"] = [_quantity_claim("P1082", item["id"], i * 1000 + k) for k in range(padding)]
            f.write(json.dumps(item) + (",\n" if i < n else "\n"))
        f.write("]\n")


def _drop_letter(text: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(text) - 1)
    return text[:at] + text[at + 1:]


def _swap_letters(text: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(text) - 2)
    return text[:at] + text[at + 1] + text[at] + text[at + 2:]


def _add_word(text: str, rng: random.Random) -> str:
    """The text with a word before or after it, as a mention often has one ("New York City", "the Hot 100")."""
    word = rng.choice(("the", "city", "river", "county", "chart", "prize", "company", "jr"))
    return f"{word} {text}" if rng.random() < 0.5 else f"{text} {word}"


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def rows_examined(kb: KnowledgeBase, text: str) -> int:
    """Index rows a fuzzy look-up of ``text`` reads before ranking: trigram matches, or the one-edit index rows and
    the prefix-trigram postings of the index's parts."""
    norm = normalize_alias(text)
    if kb.fuzzy_index == "trigram":
        return kb.db.execute("SELECT count(*) FROM alias_trigrams WHERE alias_trigrams MATCH ?",
                             (_fts_query(norm),)).fetchone()[0]
    parts = index_parts(kb.fuzzy_index)
    return (len(kb.one_edit_rows(norm)) if "one-edit" in parts else 0) + \
        (len(kb.prefix_rows(norm, 0.6)) if "prefix-trigram" in parts else 0)


class TreeMemory:
    """The peak, while in the ``with`` block, of the resident memory of this process and every process below it
    (the parsing workers and their nanny), summed: sampled every 50 ms, shared pages counted in each process.
    ``writer_peak_mib`` is this process's own peak (the KB writer: SQLite's page cache and journal, the batches in
    flight), ``workers_peak_mib`` the peak of the processes below it summed."""

    def __init__(self) -> None:
        self.peak_mib = self.writer_peak_mib = self.workers_peak_mib = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.05):
            writer = me.memory_info().rss / 2**20
            workers = 0
            for process in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # a worker that exited between the listing and the reading
                    workers += process.memory_info().rss
            workers /= 2**20
            self.peak_mib = max(self.peak_mib, writer + workers)
            self.writer_peak_mib = max(self.writer_peak_mib, writer)
            self.workers_peak_mib = max(self.workers_peak_mib, workers)

    def __enter__(self) -> TreeMemory:
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()


def ranks_otherwise(kb: KnowledgeBase, text: str, ks: tuple[int, ...] = (8,)) -> bool | None:
    """Whether the one-edit look-up of ``text``, over several near aliases (none held exactly), ranks its top k
    otherwise than summing every row of those aliases would, at some k of ``ks``: the entities a look-up bounded
    by k passes over. None when the look-up is not over several near aliases."""
    norm = normalize_alias(text)
    near = kb.one_edit_aliases(norm) if len(norm) >= 3 else []
    if len(near) < 2 or kb.candidates(text, k=1, fuzzy=False):
        return None
    return any(kb._counts_by_qid(near, k) != kb._summed_counts(near, k) for k in ks)


def dump_file(folder: Path, n: int, compressed: bool, line_kb: float = 0.0) -> Path:
    """The generated dump of ``n`` entities (written once): plain, or one ``.json.bz2``."""
    plain = folder / (f"dump-{n}.json" if not line_kb else f"dump-{n}-{line_kb:g}kb.json")
    if not plain.exists():
        write_dump(plain, n, line_kb=line_kb)
    if not compressed:
        return plain
    packed = plain.with_suffix(".json.bz2")
    if not packed.exists():
        with plain.open("rb") as source, bz2.open(packed, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    return packed


def fastest_of(kb: KnowledgeBase, texts: list[str], repeats: int) -> list[float]:
    """Each text's fastest look-up (ms) over ``repeats`` warm passes: what a look-up costs once the time other
    processes took from it is left out (as ``timeit`` advises), so that two KBs' tails compare on a shared machine."""
    fastest = [float("inf")] * len(texts)
    for _ in range(repeats):
        for i, text in enumerate(texts):
            start = time.perf_counter()
            kb.candidates(text, k=8)
            fastest[i] = min(fastest[i], 1000 * (time.perf_counter() - start))
    return fastest


def drop_os_cache() -> None:
    """Write dirty pages out and drop the operating system's page cache (Linux, as root), so that the next reads of
    a file come from disk."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def measure(n: int, queries: int, workers: list[int], dump: Path, folder: Path, fuzzy_index: str,
            reuse: bool = False, repeats: int = 5, cold: bool = False) -> dict[str, object]:
    """Build a KB of ``n`` generated entities with ``fuzzy_index`` with each number of workers (the last build is
    kept; with ``reuse``, a KB already in the folder is measured without building) and time its look-ups: a first
    pass over the queries (with ``cold``, each kind's from a KB opened anew after the operating system's page cache
    is dropped: every page read from disk), then a second one (warm: the pages the first read are cached), then each
    query's fastest of ``repeats`` more warm passes (:func:`fastest_of`)."""
    kb_path = folder / f"kb-{n}-{fuzzy_index}.sqlite"
    build_s: dict[int, float] = {}
    build_tree_mib: dict[int, tuple[float, float, float]] = {}
    for count in workers if not (reuse and kb_path.exists()) else ():
        began = time.perf_counter()
        with TreeMemory() as memory:
            build_kb(kb_path, wikidata_dump=[dump], scheduler=None, workers=count, fuzzy_index=fuzzy_index)
        build_s[count] = time.perf_counter() - began
        build_tree_mib[count] = (memory.peak_mib, memory.writer_peak_mib, memory.workers_peak_mib)
    rng = random.Random(1)
    deletions = deletions_path(kb_path)
    with contextlib.ExitStack() as opened:
        kb = opened.enter_context(KnowledgeBase(kb_path))
        rows = kb.db.execute("SELECT alias, qid FROM aliases WHERE length(alias) >= 6 ORDER BY alias, qid").fetchall()
        rows = random.Random(2).sample(rows, min(queries, len(rows)))  # the same queries for either index
        out: dict[str, object] = {"entities": n, "index": fuzzy_index, "build_s": build_s,
                                  "build_tree_peak_rss_mib": build_tree_mib, "kb_mib": kb_path.stat().st_size / 2**20,
                                  "deletions_mib": deletions.stat().st_size / 2**20 if deletions.exists() else 0.0}
        timed: dict[str, list[float]] = {}
        texts_by_kind: dict[str, list[tuple[str, str]]] = {}
        exact_found: list[bool] = []
        found_where_exact: dict[str, list[bool]] = {"typo": [], "word": []}
        for kind, texts in (("exact", [(a, q) for a, q in rows]),
                            ("dropped", [(_drop_letter(a, rng), q) for a, q in rows]),
                            ("swapped", [(_swap_letters(a, rng), q) for a, q in rows]),
                            ("word", [(_add_word(a, rng), q) for a, q in rows])):
            group = "typo" if kind in ("dropped", "swapped") else kind
            texts_by_kind[kind] = texts
            first, times, hits = timed.setdefault(f"{group}_first", []), timed.setdefault(group, []), []
            if cold:
                kb.close()
                drop_os_cache()
                kb = opened.enter_context(KnowledgeBase(kb_path))
            for text, _ in texts:
                start = time.perf_counter()
                kb.candidates(text, k=8)
                first.append(1000 * (time.perf_counter() - start))
            for text, qid in texts:
                start = time.perf_counter()
                candidates = kb.candidates(text, k=8)
                times.append(1000 * (time.perf_counter() - start))
                hits.append(any(c.qid == qid for c in candidates))
            timed.setdefault(f"{group}_min", []).extend(fastest_of(kb, [text for text, _ in texts], repeats))
            out[f"{kind}_recall_at_8"] = sum(hits) / len(texts)
            if kind == "exact":
                exact_found = hits
            else:
                found_where_exact[group] += [hit for hit, exact in zip(hits, exact_found, strict=True) if exact]
        for group, found in found_where_exact.items():
            out[f"{group}_recall_where_exact"] = sum(found) / max(1, len(found))
        for kind, times in timed.items():
            out[f"{kind}_p50_ms"], out[f"{kind}_p99_ms"] = _percentile(times, 50), _percentile(times, 99)
        for group, kinds in (("typo", ("dropped", "swapped")), ("word", ("word",))):
            examined = [rows_examined(kb, text) for kind in kinds for text, _ in texts_by_kind[kind][:100]]
            out[f"{group}_rows_p50"], out[f"{group}_rows_p99"] = _percentile(examined, 50), _percentile(examined, 99)
        typos = [text for kind in ("dropped", "swapped") for text, _ in texts_by_kind[kind]]
        out["typos_ranked_otherwise"] = sum(bool(ranks_otherwise(kb, text)) for text in typos) \
            if "one-edit" in index_parts(fuzzy_index) else None
        out["typos"] = len(typos)
        recorded = kb.db.execute("SELECT value FROM meta WHERE key = 'fuzzy_index_not_kept'").fetchone()
        out["word_keys_not_kept"] = json.loads(recorded[0]) if recorded else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[2],
                        help="Build with each number of parsing workers (the ingestion's scaling); the last is kept.")
    parser.add_argument("--compressed", action="store_true", help="Build from one .json.bz2 dump.")
    parser.add_argument("--reuse", action="store_true", help="Measure a KB already in --folder instead of building.")
    parser.add_argument("--line-kb", type=float, default=0.0, help="Pad each dump line with non-item statements to "
                                                                   "about this many KB (real lines: about 13).")
    parser.add_argument("--cold", action="store_true", help="Drop the operating system's page cache before each "
                                                             "first pass (Linux, as root): they read from disk.")
    parser.add_argument("--repeats", type=int, default=5, help="Warm passes of which each query's fastest is kept "
                                                                  "(the 'fastest of' columns).")
    parser.add_argument("--fuzzy-index", nargs="+", default=list(FUZZY_INDEXES), choices=FUZZY_INDEXES)
    parser.add_argument("--folder", type=Path, default=None, help="Keep dumps and KBs here (default: a temporary "
                                                                   "folder, removed after).")
    args = parser.parse_args()
    table = Table(title="Knowledge base at scale (generated dumps in the official layout)")
    columns = ("entities", "fuzzy index", *(f"build, {w} worker(s) (s)" for w in args.workers),
               "entities/s/worker", "KB: file + deletion keys' file (MiB)",
               "build peak RSS: tree / writer / workers (MiB)", "exact p50/p99 (ms)",
               "exact recall@8", "typo p50/p99 (ms)", f"typo p50/p99, fastest of {args.repeats} (ms)",
               "typo p99, first pass (ms)", "dropped letter recall@8",
               "swapped letters recall@8",
               "typo recall@8 where exact finds it", "index rows read per typo (p50/p99)",
               "typos ranked otherwise than by every row", "word added p50/p99 (ms)",
               "word added recall@8 where exact finds it", "index rows read per word added (p50/p99)",
               "word keys not kept (keys / alias rows)")
    for column in columns:
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            dump = dump_file(folder, n, args.compressed, args.line_kb)
            for index in args.fuzzy_index:
                r = measure(n, args.queries, args.workers, dump, folder, index, args.reuse, args.repeats, args.cold)
                built, last = r["build_s"], args.workers[-1]
                table.add_row(f"{n:,}", index, *(f"{built[w]:.1f}" if w in built else "-" for w in args.workers),
                              f"{n / built[last] / last:,.0f}" if last in built else "-",
                              f"{r['kb_mib']:,.1f} + {r['deletions_mib']:,.1f}",
                              " / ".join(f"{m:,.0f}" for m in r["build_tree_peak_rss_mib"][last])
                              if last in built else "-",
                              f"{r['exact_p50_ms']:.2f} / {r['exact_p99_ms']:.2f}",
                              f"{100 * r['exact_recall_at_8']:.1f}%",
                              f"{r['typo_p50_ms']:.2f} / {r['typo_p99_ms']:.2f}",
                              f"{r['typo_min_p50_ms']:.2f} / {r['typo_min_p99_ms']:.2f}",
                              f"{r['typo_first_p99_ms']:.2f}",
                              f"{100 * r['dropped_recall_at_8']:.1f}%", f"{100 * r['swapped_recall_at_8']:.1f}%",
                              f"{100 * r['typo_recall_where_exact']:.1f}%",
                              f"{r['typo_rows_p50']:,.0f} / {r['typo_rows_p99']:,.0f}",
                              "-" if r["typos_ranked_otherwise"] is None else
                              f"{r['typos_ranked_otherwise']} of {r['typos']}",
                              f"{r['word_p50_ms']:.2f} / {r['word_p99_ms']:.2f}",
                              f"{100 * r['word_recall_where_exact']:.1f}%",
                              f"{r['word_rows_p50']:,.0f} / {r['word_rows_p99']:,.0f}",
                              "-" if r["word_keys_not_kept"] is None else
                              "{word_drop_keys:,} / {alias_rows:,}".format(**r["word_keys_not_kept"]))
                print(json.dumps(r), file=sys.stderr, flush=True)  # each measurement as it is made, as JSON
    Console(width=300).print(table)


if __name__ == "__main__":
    main()
