"""Do the default systems' predictions on DocRED-IE dev change with the KB's fuzzy index, and only where candidates do?

Each of the 5 held-out folds is predicted with its fold KB (``rexel-bench run``'s, trigram index) and with copies
whose fuzzy index is rebuilt as each of the other indexes (the same aliases and priors). For each system
and index it counts the documents whose predictions differ from the trigram KB's, and, of those, the ones in which
no predicted mention's candidates (top 30) differ between the two KBs: a change there would not come from the
index. Run: ``python experiments/fuzzy_index_predictions.py [--models rexel pipeline] [--limit N]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document
from rexel_bench.data.registry import resolve
from rexel_bench.kb.build import held_out_kb_path, with_fuzzy_index
from rexel_bench.kb.store import FUZZY_INDEXES, KnowledgeBase
from rexel_bench.models.base import load_model
from rexel_bench.run import fold_of

FOLDS = 5
OTHER_INDEXES = tuple(i for i in FUZZY_INDEXES if i != "trigram")


def fold_kbs(docs: list[Document], folder: Path, fold: int) -> dict[str, Path]:
    """The fold's KB and its copies with the other fuzzy indexes."""
    base = held_out_kb_path({d.id for d in docs})
    return {"trigram": base, **{index: with_fuzzy_index(base, folder / f"fold-{fold}-{index}.sqlite", index)
                                for index in OTHER_INDEXES}}


def _texts(*docs: Document) -> set[str]:
    return {m.text for d in docs for e in d.entities for m in e.mentions}


def candidates_differ(texts: set[str], a: KnowledgeBase, b: KnowledgeBase) -> bool:
    """Whether any of the texts gets other candidates (top 30) from the two KBs."""
    return any(a.candidates(t, k=30) != b.candidates(t, k=30) for t in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["rexel", "pipeline"])
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    gold = data_io.load(resolve("docred-ie:dev")).documents[:args.limit]
    changed = {(m, i): 0 for m in args.models for i in OTHER_INDEXES}
    unexplained = dict.fromkeys(changed, 0)
    with tempfile.TemporaryDirectory() as tmp:
        for fold in range(FOLDS):
            docs = [d for d in gold if fold_of(d.id, FOLDS) == fold]
            paths = fold_kbs(docs, Path(tmp), fold)
            for model in args.models:
                predicted = {index: load_model(model, kb=str(path)).predict(docs) for index, path in paths.items()}
                with KnowledgeBase(paths["trigram"]) as base:
                    for index in OTHER_INDEXES:
                        with KnowledgeBase(paths[index]) as other:
                            for a, b in zip(predicted["trigram"], predicted[index], strict=True):
                                if (a.entities, a.relations) == (b.entities, b.relations):
                                    continue
                                changed[model, index] += 1
                                unexplained[model, index] += not candidates_differ(_texts(a, b), base, other)
            print(f"fold {fold} done", flush=True)
    print(f"{len(gold)} documents of DocRED-IE dev, held-out linking ({FOLDS} folds)")
    for (model, index), count in changed.items():
        print(f"{model}: {count} documents predicted otherwise with {index} than with trigram; "
              f"{unexplained[model, index]} of them without a predicted mention whose candidates differ")


if __name__ == "__main__":
    main()
