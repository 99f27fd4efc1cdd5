"""How the knowledge base scales: build time, size, memory and candidate look-up latency on generated dumps.

No Wikidata dump exists offline, so this script generates dumps in the official JSON layout (one entity a line,
statement GUIDs, references, sitelinks, ``en`` and ``mul`` labels) with a realistic mix: people whose names are
drawn from Zipf-distributed first and last names (so names are shared), places with shared names, taxa,
organisations and scholarly articles with long titles; sitelink counts are Zipf-distributed too. Generated lines
are shorter than real ones (about 1 KB against 13 KB), so build times here are a lower bound for real dumps.

For each size it builds a KB (``build_kb``, Dask on ``--workers`` processes) and times ``KnowledgeBase.candidates``
(k=8) on aliases taken from the KB (exact) and on the same aliases with one letter dropped (fuzzy), with the
share of queries whose entity comes back, and the aliases the fuzzy search ranks (trigram matches) per query.
Run: ``python benchmarks/bench_kb_scale.py [--sizes 10000 100000 1000000] [--queries 300] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rexel_bench.kb.build import build_kb
from rexel_bench.kb.store import KnowledgeBase, _fts_query

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


def write_dump(path: Path, n: int, seed: int = 0) -> None:
    """A generated dump of ``n`` entities in the official layout ('[', lines ending in ',', ']')."""
    rng = random.Random(seed)
    firsts = [_name(rng, rng.randint(1, 2)) for _ in range(2000)]
    lasts = [_name(rng, rng.randint(2, 3)) for _ in range(20000)]
    places = [_name(rng, rng.randint(2, 3)) for _ in range(max(100, n // 20))]
    with path.open("w", encoding="utf-8") as f:
        f.write("[\n")
        for i in range(1, n + 1):
            f.write(json.dumps(entity(i, rng, firsts, lasts, places)) + (",\n" if i < n else "\n"))
        f.write("]\n")


def _drop_letter(text: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(text) - 1)
    return text[:at] + text[at + 1:]


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def measure(n: int, queries: int, workers: int, folder: Path) -> dict[str, object]:
    """Build a KB of ``n`` generated entities and time its look-ups."""
    dump = folder / f"dump-{n}.json"
    write_dump(dump, n)
    began = time.perf_counter()
    build_kb(folder / f"kb-{n}.sqlite", wikidata_dump=[dump], scheduler=None)
    seconds = time.perf_counter() - began
    rng = random.Random(1)
    with KnowledgeBase(folder / f"kb-{n}.sqlite") as kb:
        rows = kb.db.execute("SELECT alias, qid FROM aliases WHERE length(alias) >= 6 ORDER BY random() LIMIT ?",
                             (queries,)).fetchall()
        out: dict[str, object] = {"entities": n, "build_s": seconds, "entities_per_s_per_worker": n / seconds / workers,
                                  "kb_mib": (folder / f"kb-{n}.sqlite").stat().st_size / 2**20}
        for kind, texts in (("exact", [(a, q) for a, q in rows]),
                            ("fuzzy", [(_drop_letter(a, rng), q) for a, q in rows])):
            times, found = [], 0
            for text, qid in texts:
                start = time.perf_counter()
                candidates = kb.candidates(text, k=8)
                times.append(1000 * (time.perf_counter() - start))
                found += any(c.qid == qid for c in candidates)
            out[f"{kind}_p50_ms"], out[f"{kind}_p99_ms"] = _percentile(times, 50), _percentile(times, 99)
            out[f"{kind}_recall_at_8"] = found / len(texts)
        ranked = [kb.db.execute("SELECT count(*) FROM alias_trigrams WHERE alias_trigrams MATCH ?",
                                (_fts_query(text.casefold()),)).fetchone()[0] for text, _ in texts[:50]]
        out["fuzzy_aliases_ranked_p50"] = statistics.median(ranked)
    out["peak_rss_mib"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    table = Table(title="Knowledge base at scale (generated dumps in the official layout)")
    columns = ("entities", "build (s)", "entities/s/worker", "KB (MiB)", "peak RSS (MiB)", "exact p50/p99 (ms)",
               "exact recall@8", "fuzzy p50/p99 (ms)", "fuzzy recall@8", "aliases ranked (fuzzy, p50)")
    for column in columns:
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            r = measure(n, args.queries, args.workers, Path(tmp))
            table.add_row(f"{n:,}", f"{r['build_s']:.1f}", f"{r['entities_per_s_per_worker']:,.0f}",
                          f"{r['kb_mib']:.1f}", f"{r['peak_rss_mib']:,.0f}",
                          f"{r['exact_p50_ms']:.2f} / {r['exact_p99_ms']:.2f}", f"{100 * r['exact_recall_at_8']:.1f}%",
                          f"{r['fuzzy_p50_ms']:.2f} / {r['fuzzy_p99_ms']:.2f}", f"{100 * r['fuzzy_recall_at_8']:.1f}%",
                          f"{r['fuzzy_aliases_ranked_p50']:,.0f}")
    Console(width=240).print(table)


if __name__ == "__main__":
    main()
