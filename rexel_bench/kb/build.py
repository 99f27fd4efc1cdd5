"""Build a knowledge base from any mix of sources, and the embedded default KB.

The default KB (``kb-default.sqlite`` under the cache root, :func:`rexel_bench.resources.cache_root`,
built on first use, deterministic) holds what the vendored data gives: DocRED-IE dev's linked entities
(their mention names as aliases with counts, fine types as classes, gold relations between linked
entities as facts), Revisit-DocRED's QID popularity (MIT) and DocRED's relation names. Because its
aliases come from the evaluation documents themselves, candidate recall on DocRED-IE dev is far higher
than a full Wikidata alias table would give (every gold QID is reachable from its own surface forms):
scores obtained with it are an upper bound of the linking a system would reach with a general KB. Build
a KB from a Wikidata dump, alias tables or DWIE for anything else.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import shutil
import sqlite3
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from rexel_bench.data.io import atomic_write_text, staged_file
from rexel_bench.data.relations import docred_relations
from rexel_bench.errors import RexelBenchNote
from rexel_bench.kb.deletions import deletions_path
from rexel_bench.kb.ingest import sources
from rexel_bench.kb.ingest.wikidata_dump import ALIAS_PRIOR, DumpFilter, ingest_dump
from rexel_bench.kb.store import KnowledgeBase, check_fuzzy_index
from rexel_bench.resources import cache_root, dataset_file


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
    workers: int | None = None,
    progress: bool = False,
    fuzzy_index: str = "trigram",
) -> dict[str, Any]:
    """Ingest every given source into a new KB that replaces ``out`` once it is complete, and return what each
    source contributed. A failed or interrupted build leaves ``out`` as it was (:func:`staged_file`).
    ``fuzzy_index``: how the KB finds an alias it does not hold exactly (``KnowledgeBase.finalize``);
    ``scheduler``, ``workers``: where the dump is parsed (:func:`ingest_dump`)."""
    check_fuzzy_index(fuzzy_index)  # before any work
    with staged_file(out) as staging:
        staging.unlink()  # SQLite creates its own file
        contributed = _ingest_all(staging, docred_ie=docred_ie, exclude_ids=exclude_ids, facts=facts, tsv=tsv,
                                  dwie_annos=dwie_annos, dwie_text=dwie_text, popularity=popularity,
                                  properties=properties, wikidata_dump=wikidata_dump, dump_filter=dump_filter,
                                  scheduler=scheduler, workers=workers, progress=progress, fuzzy_index=fuzzy_index)
        _move_side_files(staging, out)
    return contributed


def _move_side_files(staging: Path, out: str | Path) -> None:
    """Put the staged KB's side file (the one-edit index's deletion keys) in place beside ``out``, or remove the
    one an earlier KB there had. It moves just before the KB itself: were the build stopped between the two moves,
    the KB left in place would refuse the file, which records the aliases it was made from."""
    staged, final = deletions_path(staging), deletions_path(out)
    if staged.exists():
        staged.replace(final)
    else:
        final.unlink(missing_ok=True)


def _ingest_all(out: Path, *, docred_ie: Sequence[str | Path], exclude_ids: set[str] | None, facts: bool,
                tsv: Sequence[str | Path], dwie_annos: str | Path | None, dwie_text: Sequence[str | Path],
                popularity: str | Path | None, properties: str | Path | None, wikidata_dump: Sequence[str | Path],
                dump_filter: DumpFilter | None, scheduler: str | None, workers: int | None, progress: bool,
                fuzzy_index: str) -> dict[str, Any]:
    contributed: dict[str, Any] = {}
    with KnowledgeBase(out, create=True) as kb:
        if wikidata_dump:
            contributed["wikidata_dump"] = ingest_dump(kb, wikidata_dump, dump_filter or DumpFilter(),
                                                       scheduler=scheduler, workers=workers, progress=progress)
            contributed["wikidata_dump_alias_prior"] = ALIAS_PRIOR
            contributed["wikidata_dump_popularity"] = "sitelink count (a --popularity table replaces it)"
        if docred_ie:
            contributed["docred_ie_entities"] = sources.ingest_linked_documents(kb, docred_ie, exclude_ids=exclude_ids,
                                                                                facts=facts)
        for path in tsv:
            contributed[f"tsv:{Path(path).name}"] = sources.ingest_tsv(kb, path)
        if dwie_annos:
            contributed["dwie"] = sources.ingest_dwie_candidates(kb, dwie_annos, dwie_text, exclude_ids)
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
        not_kept = kb.finalize(fuzzy_index)
        if not_kept is not None:
            contributed["fuzzy_index_not_kept"] = not_kept
    return contributed


def with_fuzzy_index(source: str | Path, out: str | Path, fuzzy_index: str) -> Path:
    """A copy of the KB file ``source`` at ``out`` whose fuzzy index is rebuilt as ``fuzzy_index`` (the same
    entities, aliases and priors): to compare indexes on one KB."""
    check_fuzzy_index(fuzzy_index)
    shutil.copy(source, out)
    with KnowledgeBase(out) as kb:
        kb.finalize(fuzzy_index)
    return Path(out)


#: How the embedded default KB is made from the vendored data (files under ``datasets/``; a change of version
#: rebuilds it).
DEFAULT_RECIPE = {"docred_ie": "docred-ie/dev_joint_qcode.json",
                  "popularity": "revisit-docred/final_id2popular.json.gz", "version": 6}


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
    """Build a recipe's KB at ``path`` unless it is there already and sound; under a lock, so that two
    processes never build it twice, and whole (:func:`build_kb` moves a complete file into place). A cached
    KB that is damaged is rebuilt, with a :class:`KnowledgeBaseRebuilt` note."""
    stamp = path.with_suffix(".json")
    if _is_built(path, stamp, recipe):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits here, then finds the KB built
        if not _is_built(path, stamp, recipe):
            if path.exists() and _recipe_of(stamp) == recipe:
                warnings.warn(f"the cached knowledge base {path} was damaged; it has been rebuilt",
                              KnowledgeBaseRebuilt, stacklevel=3)
            build_kb(path, docred_ie=[dataset_file(recipe["docred_ie"])], popularity=dataset_file(recipe["popularity"]),
                     exclude_ids=set(excluded) or None, facts=recipe.get("facts", True))
            atomic_write_text(stamp, json.dumps(recipe))
            _sound.cache_clear()
    return path


class KnowledgeBaseRebuilt(RexelBenchNote):
    """A cached knowledge base was found damaged and built again."""


def _recipe_of(stamp: Path) -> dict | None:
    try:
        return json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _is_built(path: Path, stamp: Path, recipe: dict) -> bool:
    """Whether the KB is there, of this recipe, and passes SQLite's quick integrity check (checked once per
    process and file state: the embedded KBs are a few MB)."""
    if not path.exists() or _recipe_of(stamp) != recipe:
        return False
    status = path.stat()
    return _sound(path, status.st_size, status.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _sound(path: Path, size: int, mtime_ns: int) -> bool:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("PRAGMA quick_check").fetchone() == ("ok",) and \
                db.execute("SELECT count(*) FROM entities").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return False
