"""Candidate recall of the fuzzy indexes on DocRED-IE dev's mentions, with held-out linking.

Each of the 5 folds of a held-out run is linked with the default KB built without that fold's documents (the
cached fold KBs of ``rexel-bench run``); this script copies each fold KB, rebuilds its fuzzy index as ``one-edit``
and as ``prefix-trigram`` (the same aliases and priors), and, for every gold mention with a QID, asks each KB for
candidates: recall@k is the share of mentions whose gold QID is among the top k, for all mentions and for those
the KB does not hold exactly (the only ones a fuzzy index serves); it also counts the mentions whose candidate
list differs from the trigram index's, and the one-edit look-ups over several near aliases that rank otherwise
than summing every row of them would (the entities a look-up bounded by k passes over).
Run: ``python benchmarks/bench_candidate_recall.py`` (after a held-out run has built the fold KBs, or it builds them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench_kb_scale import ranks_otherwise
from rich.console import Console
from rich.table import Table

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.kb.build import held_out_kb_path, with_fuzzy_index
from rexel_bench.kb.store import FUZZY_INDEXES, KnowledgeBase
from rexel_bench.run import fold_of

KS = (1, 8, 30)
FOLDS = 5


def main() -> None:
    gold = data_io.load(resolve("docred-ie:dev")).documents
    hits = {index: {scope: {k: 0 for k in KS} for scope in ("all", "not exact")} for index in FUZZY_INDEXES}
    counts = {"all": 0, "not exact": 0}
    changed = {index: 0 for index in FUZZY_INDEXES if index != "trigram"}
    several = {"mentions": 0, "ranked otherwise": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for fold in range(FOLDS):
            docs = [d for d in gold if fold_of(d.id, FOLDS) == fold]
            base = held_out_kb_path({d.id for d in docs})
            paths = {"trigram": base, **{index: with_fuzzy_index(base, Path(tmp) / f"fold-{fold}-{index}.sqlite", index)
                                         for index in changed}}
            kbs = {index: KnowledgeBase(path) for index, path in paths.items()}
            for doc in docs:
                for entity in doc.entities:
                    if not entity.qid:
                        continue
                    for mention in entity.mentions:
                        exact = bool(kbs["trigram"].candidates(mention.text, k=1, fuzzy=False))
                        scopes = ["all"] if exact else ["all", "not exact"]
                        found = {index: [c.qid for c in kb.candidates(mention.text, k=max(KS))]
                                 for index, kb in kbs.items()}
                        for index in kbs:
                            for scope in scopes:
                                for k in KS:
                                    hits[index][scope][k] += entity.qid in found[index][:k]
                        for scope in scopes:
                            counts[scope] += 1
                        for index in changed:
                            changed[index] += found["trigram"] != found[index]
                        outcome = ranks_otherwise(kbs["one-edit"], mention.text, KS)
                        if outcome is not None:  # a look-up over several near aliases
                            several["mentions"] += 1
                            several["ranked otherwise"] += outcome
            for kb in kbs.values():
                kb.close()
    table = Table(title=f"Candidate recall on DocRED-IE dev's gold mentions, held-out linking ({FOLDS} folds)")
    for column in ("fuzzy index", "mentions", *(f"recall@{k}" for k in KS), "not held exactly: mentions",
                   *(f"recall@{k} " for k in KS)):
        table.add_column(column, justify="right")
    for index, by_scope in hits.items():
        table.add_row(index, f"{counts['all']:,}", *(f"{100 * by_scope['all'][k] / counts['all']:.1f}" for k in KS),
                      f"{counts['not exact']:,}",
                      *(f"{100 * by_scope['not exact'][k] / max(1, counts['not exact']):.1f}" for k in KS))
    Console(width=200).print(table)
    for index, count in changed.items():
        print(f"mentions whose top-{max(KS)} candidates differ between trigram and {index}: {count:,} of "
              f"{counts['all']:,}")
    print(f"one-edit look-ups over several near aliases ranked otherwise than summing every row (k = "
          f"{', '.join(map(str, KS))}): {several['ranked otherwise']:,} of {several['mentions']:,} mentions")


if __name__ == "__main__":
    main()
