"""Scoring speed: all metrics on 1,000 documents (target: under 0.5 s), and the whole ``rexel-bench score``
process on a DocRED submission beside DocRED's official ``evaluation.py`` on the same files.

In-process: gold is 1,000 documents, DocRED-IE dev repeated under new ids (it has QIDs and fine types, so
every metric applies; Ign F1 uses Re-DocRED dev as the training file). The prediction is the gold with a
tenth of the mentions and facts dropped and every fifth entity cut to one mention, so that every metric
has real work to do.

Whole process: Re-DocRED dev scored with ``-m docred --train test_revised.json`` against a submission
(``result.json``) made from its gold facts, a fifth dropped, a tenth relabelled and three random facts
added per document (seed 0). Each command runs ``--repeats`` times; the median wall time is shown. Then ten
such submissions (seeds 0 to 9, as a user scores every checkpoint of a run) go to one ``score`` command,
which reads the gold and training files once: its time per submission.
The toolkit's own JSONL predictions are timed too: DocRED-IE dev perturbed as in process, scored on every
metric (Ign F1 with Re-DocRED dev). So is the same command on a missing file: the start-up (interpreter,
imports, argument parsing) that every ``score`` pays before it reads a file. The toolkit's modules are
byte-compiled first, as an installed package is (``pip install`` compiles them; where
``PYTHONDONTWRITEBYTECODE`` is set, nothing else would, and every command would compile the toolkit's sources
again: about 0.03 s).
With ``--official PATH/evaluation.py`` (thunlp/DocRED ``code/evaluation.py``, not shipped here) the
official script runs on the same files, laid out as it expects (``train_annotated.json`` is
test_revised.json, ``train_distant.json`` is empty): "cold" deletes the ``.fact`` files it caches its
training facts in before every run (the work ``score`` does every time), "warm" keeps them.

Run: ``python benchmarks/bench_scoring.py [--official evaluation.py]``. To compare two versions of the toolkit in
one session, run it again with ``PYTHONPATH=<other checkout>``: both parts then use that checkout's package.
"""

from __future__ import annotations

import argparse
import compileall
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

import rexel_bench
from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.data.registry import resolve
from rexel_bench.errors import RexelBenchError
from rexel_bench.scoring.api import score_documents
from rexel_bench.scoring.io import read_train_facts

#: Submissions scored by one ``score`` command (one per checkpoint of a training run, say).
CHECKPOINTS = 10


def perturbed(doc: Document) -> Document:
    """A plausible system output: some mentions and facts lost, some clusters split."""
    entities = []
    for i, entity in enumerate(doc.entities):
        kept = tuple(m for j, m in enumerate(entity.mentions) if (i + j) % 10 != 3) or entity.mentions[:1]
        entities.append(replace(entity, mentions=kept[:1] if i % 5 == 0 else kept))
    relations = tuple(r for k, r in enumerate(doc.relations) if k % 10 != 7)
    return replace(doc, entities=tuple(entities), relations=relations)


def in_process(data_dir: str | None, repeats: int) -> Table:
    """Time ``score_documents`` on 1,000 documents, every metric."""
    start = time.perf_counter()
    base = data_io.load(resolve("docred-ie:dev", data_dir)).documents
    parse_s = time.perf_counter() - start
    gold = [replace(base[i % len(base)], id=f"{base[i % len(base)].id}#{i}") for i in range(1000)]
    try:
        train = read_train_facts(resolve("re-docred:dev", data_dir))
    except RexelBenchError:
        train = None
    pred = [perturbed(d) for d in gold]
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = score_documents(gold, pred, train=train)
        timings.append(time.perf_counter() - start)
    table = Table(title="Scoring in one process (all metrics)")
    for column in ("documents", "metrics", f"parse JSON + validate, {len(base)} docs (s)", "score, first run (s)",
                   "score, best run (s)", "docs/s (best)"):
        table.add_column(column, justify="right")
    table.add_row(str(len(gold)), str(len(result.metrics)), f"{parse_s:.2f}", f"{timings[0]:.3f}",
                  f"{min(timings):.3f}", f"{len(gold) / min(timings):,.0f}")
    return table


def submission(gold_path: Path, seed: int = 0) -> list[dict]:
    """A DocRED ``result.json`` made from the gold facts: a fifth dropped, a tenth relabelled, three random
    facts added per document."""
    rng = random.Random(seed)
    docs = json.loads(gold_path.read_text(encoding="utf-8"))
    labels = sorted({label["r"] for doc in docs for label in doc["labels"]})
    out = []
    for doc in docs:
        for label in doc["labels"]:
            if rng.random() < 0.2:
                continue
            relation = label["r"] if rng.random() > 0.1 else rng.choice(labels)
            out.append({"title": doc["title"], "h_idx": label["h"], "t_idx": label["t"], "r": relation,
                        "evidence": label["evidence"]})
        n = len(doc["vertexSet"])
        out += [{"title": doc["title"], "h_idx": rng.randrange(n), "t_idx": rng.randrange(n),
                 "r": rng.choice(labels), "evidence": [0]} for _ in range(3)]
    return out


def median_seconds(command: list[str], repeats: int, cwd: Path | None = None, before=None,
                   expected_status: int = 0) -> float:
    """Median wall time of a command (its output discarded); ``before`` runs before each try; a command that
    exits with another status than ``expected_status`` stops the benchmark."""
    timings = []
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        timings.append(time.perf_counter() - start)
        if done.returncode != expected_status:
            raise SystemExit(f"{' '.join(command)} exited with {done.returncode}: {done.stderr[-500:]}")
    return statistics.median(timings)


def whole_process(data_dir: str | None, repeats: int, official: Path | None) -> Table:
    """Time ``rexel-bench score`` (and the official script) as whole processes on Re-DocRED files."""
    gold, train = resolve("re-docred:dev", data_dir), resolve("re-docred:test", data_dir)
    table = Table(title=f"Scoring a DocRED submission, whole process (Re-DocRED dev, median of {repeats})")
    for column in ("command", "submitted facts", "seconds"):
        table.add_column(column, justify="right")
    # the package this script imported (``-m`` would put the working directory first: the commands run in
    # the temporary directory), byte-compiled as an installed package is
    compileall.compile_dir(Path(rexel_bench.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        entries = submission(gold)
        (root / "result.json").write_text(json.dumps(entries), encoding="utf-8")
        ours = median_seconds([sys.executable, "-m", "rexel_bench", "score", str(gold), str(root / "result.json"),
                               "-m", "docred", "--train", str(train)], repeats, cwd=root)
        table.add_row("rexel-bench score -m docred --train", f"{len(entries):,}", f"{ours:.2f}")
        others = []
        for seed in range(1, CHECKPOINTS):  # submissions of other "checkpoints"
            others.append(root / f"result{seed}.json")
            others[-1].write_text(json.dumps(submission(gold, seed)), encoding="utf-8")
        many = median_seconds([sys.executable, "-m", "rexel_bench", "score", str(gold), str(root / "result.json"),
                               *map(str, others), "-m", "docred", "--train", str(train)], repeats, cwd=root)
        table.add_row(f"the same on {CHECKPOINTS} submissions in one command, per submission", "",
                      f"{many / CHECKPOINTS:.2f}")
        missing = str(root / "missing.json")
        startup = median_seconds([sys.executable, "-m", "rexel_bench", "score", missing, missing, "-m", "docred"],
                                 repeats, cwd=root, expected_status=2)
        table.add_row("of which start-up: the same on a missing file (imports, arguments, the error)", "",
                      f"{startup:.2f}")
        if official:
            for folder in ("in/ref", "in/res", "data", "work"):
                (root / folder).mkdir(parents=True)
            shutil.copy(gold, root / "in/ref/dev_test.json")
            shutil.copy(root / "result.json", root / "in/res/result.json")
            shutil.copy(train, root / "data/train_annotated.json")
            (root / "data/train_distant.json").write_text("[]", encoding="utf-8")
            command = [sys.executable, str(official.resolve()), "../in", "../out"]

            def forget_facts() -> None:
                for fact in (root / "in/ref").glob("*.fact"):
                    fact.unlink()
            cold = median_seconds(command, repeats, cwd=root / "work", before=forget_facts)
            warm = median_seconds(command, repeats, cwd=root / "work")
            table.add_row("official evaluation.py, cold (training facts computed)", f"{len(entries):,}", f"{cold:.2f}")
            table.add_row("official evaluation.py, warm (training facts cached)", f"{len(entries):,}", f"{warm:.2f}")
        jsonl_gold = resolve("docred-ie:dev", data_dir)
        data_io.write([perturbed(d) for d in data_io.load(jsonl_gold).documents], root / "pred.jsonl", "jsonl")
        jsonl_seconds = median_seconds([sys.executable, "-m", "rexel_bench", "score", str(jsonl_gold),
                                        str(root / "pred.jsonl"), "--train", str(gold)], repeats, cwd=root)
        table.add_row("rexel-bench score, the toolkit's JSONL predictions of DocRED-IE dev, all metrics", "",
                      f"{jsonl_seconds:.2f}")
    return table


def main() -> None:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--official", type=Path, default=None, help="DocRED's code/evaluation.py, to time beside")
    args = parser.parse_args()
    console = Console()
    console.print(in_process(args.data_dir, args.repeats))
    try:
        console.print(whole_process(args.data_dir, args.repeats, args.official))
    except RexelBenchError as exc:
        console.print(f"whole-process timing skipped: {exc}")


if __name__ == "__main__":
    main()
