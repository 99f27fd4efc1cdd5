"""Peak memory of REXEL on one long document: 10k, 100k and 1M characters (one process each).

The pair stages (coreference, relations) run in bounded blocks, so memory does not grow with the
square of the number of mentions; documents over the model's ``max_words`` limit are skipped with a
note instead of being predicted (their pair stages would take hours, never memory). The text is
news-like sentences drawn at random (seeded). Run: ``python benchmarks/bench_long_document.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from rich.console import Console
from rich.table import Table

CHILD = """
import json, random, resource, sys, time
from rexel_bench.data.text import document_from_text
from rexel_bench.models.base import load_model
n, model_name = int(sys.argv[1]), sys.argv[2]
rng = random.Random(0)
words = ("Angela Merkel met Emmanuel Macron in Paris on Monday . The German chancellor said that Berlin and "
         "France agree on trade , while the Bank of England in London disagreed .").split()
text = " ".join(rng.choice(words) for _ in range(n // 5))[:n]
doc = document_from_text("long", "long", text)
model = load_model(model_name)
began = time.perf_counter()
predicted = model.predict([doc])
print(json.dumps({"words": doc.num_tokens, "seconds": time.perf_counter() - began,
                  "mentions": sum(len(e.mentions) for d in predicted for e in d.entities),
                  "skipped": getattr(model, "skipped", {}).get("long"),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    """Print one table: characters, words, mentions, seconds, peak resident memory, outcome."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="rexel")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    table = Table(title=f"One long document, {args.model} (peak RSS of the whole process, model loaded)")
    for column in ("characters", "words", "mentions", "seconds", "peak RSS (MB)", "outcome"):
        table.add_column(column, justify="right")
    for size in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run([sys.executable, "-c", CHILD, str(size), args.model], capture_output=True, text=True,
                              check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        table.add_row(f"{size:,}", f"{row['words']:,}", f"{row['mentions']:,}", f"{row['seconds']:.1f}",
                      f"{row['peak_rss_mb']:,.0f}", f"skipped: {row['skipped']}" if row["skipped"] else "predicted")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
