"""Build a knowledge base from any mix of sources, and the embedded default KB.

The default KB (``kb-default.sqlite`` under ``$REXEL_BENCH_CACHE`` or ``.cache/``, built on first use,
deterministic) holds what the
vendored data gives: DocRED-IE dev's linked entities (their mention names as aliases with counts,
fine types as classes, gold relations between linked entities as facts), Revisit-DocRED's QID
popularity (MIT) and DocRED's relation names. Because its aliases come from the evaluation
documents themselves, candidate recall on DocRED-IE dev is far higher than a full Wikidata alias table
would give (every gold QID is reachable from its own surface forms): scores obtained with it are an
upper bound of the linking a system would reach with a general KB. Build a KB from a Wikidata dump,
alias tables or DWIE for anything else.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from rexel_bench.data.io import atomic_write_text
from rexel_bench.data.relations import cache_root, docred_relations, repo_root
from rexel_bench.kb.ingest import sources
from rexel_bench.kb.ingest.wikidata_dump import DumpFilter, ingest_dump
from rexel_bench.kb.store import KnowledgeBase


def build_kb(
    out: str | Path,
    *,
    docred_ie: Sequence[str | Path] = (),
    exclude_ids: set[str] | None = None,
    facts: bool = True,
    tsv: Sequence[str | Path] = (),
    dwie_annos: str | Path | None = None,
    dwie_text: Sequence[str | Path] = (),
    popularity: str | Path | None = None,
    properties: str | Path | None = None,
    wikidata_dump: Sequence[str | Path] = (),
    dump_filter: DumpFilter | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Ingest every given source into a new KB at ``out`` and return what each contributed."""
    out = Path(out)
    if out.exists():
        out.unlink()
    contributed: dict[str, Any] = {}
    with KnowledgeBase(out, create=True) as kb:
        if wikidata_dump:
            contributed["wikidata_dump"] = ingest_dump(kb, wikidata_dump, dump_filter or DumpFilter(),
                                                       scheduler=scheduler, progress=progress)
        if docred_ie:
            contributed["docred_ie_entities"] = sources.ingest_linked_documents(kb, docred_ie, exclude_ids=exclude_ids,
                                                                                facts=facts)
        for path in tsv:
            contributed[f"tsv:{Path(path).name}"] = sources.ingest_tsv(kb, path)
        if dwie_annos:
            contributed["dwie"] = sources.ingest_dwie_candidates(kb, dwie_annos, dwie_text)
        if popularity:
            contributed["popularity"] = sources.ingest_popularity(kb, popularity)
        if properties:
            contributed["properties"] = sources.ingest_properties(kb, properties)
        else:
            kb.add_properties((pid, name, "", "") for pid, name in docred_relations().items())
            contributed["properties"] = "DocRED's 96 relation names"
        kb.record_source("built_from", {k: str(v) for k, v in contributed.items()})
        if exclude_ids:
            kb.record_source("excluded_documents", sorted(exclude_ids))
        kb.finalize()
    return contributed


#: How the embedded default KB is made from the vendored data (a change of version rebuilds it).
DEFAULT_RECIPE = {"docred_ie": "datasets/docred-ie/dev_joint_qcode.json",
                  "popularity": "datasets/revisit-docred/final_id2popular.json.gz", "version": 2}


def default_kb_path() -> Path:
    """The embedded default KB, built from the vendored data on first use."""
    return _built_once(cache_root() / "kb-default.sqlite", DEFAULT_RECIPE, frozenset())


def held_out_kb_path(excluded: Collection[str]) -> Path:
    """The default KB without the annotations of the documents whose ids are ``excluded`` (one fold of a
    cross-fitted run), built once and cached under a name that hashes the excluded ids."""
    key = hashlib.sha256(json.dumps(sorted(excluded)).encode()).hexdigest()[:16]
    return _built_once(cache_root() / "kb-held-out" / f"{key}.sqlite", {**DEFAULT_RECIPE, "excluded": key},
                       frozenset(excluded))


def training_kb_path() -> Path:
    """The KB that silver-links training documents: the default KB without facts, so that no gold relation
    of the evaluation documents reaches training (its entities and aliases still come from DocRED-IE dev,
    which a checkpoint records as ``training.training_kb``)."""
    return _built_once(cache_root() / "kb-training.sqlite", {**DEFAULT_RECIPE, "facts": False}, frozenset())


def _built_once(path: Path, recipe: dict, excluded: frozenset[str]) -> Path:
    """Build a recipe's KB at ``path`` unless it is there already; under a lock, into a temporary file
    that is then moved into place, so that two processes never see a half-built KB."""
    stamp = path.with_suffix(".json")
    if _is_built(path, stamp, recipe):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits here, then finds the KB built
        if not _is_built(path, stamp, recipe):
            root = repo_root()
            partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            partial.unlink(missing_ok=True)
            build_kb(partial, docred_ie=[root / recipe["docred_ie"]], popularity=root / recipe["popularity"],
                     exclude_ids=set(excluded) or None, facts=recipe.get("facts", True))
            os.replace(partial, path)
            atomic_write_text(stamp, json.dumps(recipe))
    return path


def _is_built(path: Path, stamp: Path, recipe: dict) -> bool:
    try:
        return path.exists() and json.loads(stamp.read_text()) == recipe
    except (OSError, json.JSONDecodeError):
        return False
