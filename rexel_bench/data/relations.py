"""Relation inventories: the relation ids a dataset allows, with their names.

An inventory is read from DocRED's ``rel_info.json`` (id → name), a ``rel2id.json`` (name → index,
as in the DWIE conversions; the no-relation class ``Na``/``NA`` is dropped), or the Wikidata
properties CSV (``ID,label,...``). :func:`inventory_for` finds the one that fits a data file.
"""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

from rexel_bench.errors import DataError
from rexel_bench.resources import dataset_file

NO_RELATION = frozenset({"Na", "NA", "P0"})


def docred_relations_path() -> Path:
    """The vendored DocRED relation names (Wikidata property labels of the 96 DocRED relations)."""
    return dataset_file("docred-meta/rel_info.json")


def read_inventory(path: str | Path) -> dict[str, str]:
    """Read a relation inventory file into ``{relation id: name}``."""
    path = Path(path)
    try:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as f:
                return {row["ID"]: row["label"] for row in csv.DictReader(f) if row["ID"] not in NO_RELATION}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise DataError(f"cannot read a relation inventory: {exc}", file=str(path)) from exc
    if isinstance(data, dict) and all(isinstance(v, int) for v in data.values()):
        return {k: k for k in data if k not in NO_RELATION}
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items() if k not in NO_RELATION}
    if isinstance(data, list):
        return {str(k): str(k) for k in data if k not in NO_RELATION}
    raise DataError("expected an object {id: name}, {name: index} or a list of ids", file=str(path))


@lru_cache(maxsize=1)
def docred_relations() -> dict[str, str]:
    """The 96 DocRED relations, id → name."""
    return read_inventory(docred_relations_path())


def inventory_for(data_path: str | Path, labels: set[str]) -> tuple[dict[str, str] | None, str]:
    """The inventory to check a file's relation labels against, and where it came from.

    A ``meta/rel2id.json`` beside the file wins (the DWIE conversions ship one); otherwise DocRED's
    96 relations when most labels are Wikidata property ids; otherwise none (labels unchecked).
    """
    data_path = Path(data_path)
    base = data_path if data_path.is_dir() else data_path.parent
    for candidate in (base / "meta" / "rel2id.json", base / "rel2id.json"):
        if candidate.is_file():
            return read_inventory(candidate), str(candidate)
    property_like = sum(label.startswith("P") and label[1:].isdigit() for label in labels)
    if labels and property_like * 2 >= len(labels):
        return docred_relations(), "DocRED's 96 relations"
    return None, "none (relation ids not checked)"


def with_name(label: str) -> str:
    """A relation as a person reads it: ``P17 country`` for a Wikidata property DocRED names, else the
    label itself (DWIE's relations are already names)."""
    name = docred_relations().get(label)
    return f"{label} {name}" if name else label
