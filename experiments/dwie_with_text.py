"""Every DWIE document that has text, in one layout: the 219 train-split and 99 test-split documents.

Two public conversions carry DWIE's text (see ``../shared/datasets/README.md``): KnowRA (137 train + 96 test
docs, real sentence splits, gold Wikipedia ``link`` and a silver ``wikidata_eid`` on each mention) and BCBR
(98 train + 99 test docs, one "sentence" per document, ``type::x`` types, no links). Their union by ``DW_`` id
is 219 train and 99 test documents. This builder keeps KnowRA's version of a document where it has one and
converts the others (82 train, 3 test) to KnowRA's layout:

- types ``type::location`` → ``type_location`` (KnowRA's spelling of the same DWIE tag), except that KnowRA
  folds DWIE's ``time``, ``role`` and ``money`` into ``type_value`` (measured on its 137 train docs, paired
  with the DWIE annotations: 1,275 of its 1,341 type differences from BCBR's choice are these three), so the
  converted documents fold them too;
- each mention's gold ``link`` comes from the original DWIE annotations (``dwie-annos``): both files keep
  every DWIE mention, so the document's mentions in token order pair one-to-one with the annotation's
  mentions in character order, matched on their texts (spacing aside); a document whose pairing fails is an
  error naming it. The same pairing run on KnowRA's 233 documents gives back every one of KnowRA's links;
- ``wikidata_eid`` is the QID KnowRA's training documents give the same title (silver, like KnowRA's own);
  a title they never link is left without a QID, so training treats it as an unknown link, not as NIL;
- ``absolute_pos`` equals ``pos`` (one sentence per document); BCBR's sentence split is kept as it is.

The output is local only (the article text belongs to Deutsche Welle): ``.cache/dwie-with-text/{train,test}.json``
plus ``sources.json`` saying where each document came from. Run ``python experiments/dwie_with_text.py
[--data-dir ../shared/datasets] [--out .cache/dwie-with-text]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rexel_bench.data.registry import data_dir
from rexel_bench.errors import DataError
from rexel_bench.kb.ingest.sources import title_to_qid

ROOT = Path(__file__).resolve().parents[1]
#: (KnowRA file, BCBR file) of each official split, relative to the data directory.
#: How many of the next unpaired annotation mentions a mention may pair with (see :func:`gold_links`).
LOOK_AHEAD = 4
#: DWIE coarse types KnowRA writes as ``type_value``.
FOLDED_INTO_VALUE = frozenset({"time", "role", "money"})
SPLITS = {"train": ("dwie-text-knowra/dev.json", "dwie-text-bcbr/dev.json"),
          "test": ("dwie-text-knowra/test.json", "dwie-text-bcbr/test.json")}


def squeeze(text: str) -> str:
    """A mention text without whitespace, to compare token-joined names with the article's characters."""
    return "".join(text.split())


def gold_links(doc: dict[str, Any], annotation: dict[str, Any], source: str) -> list[list[str]]:
    """The gold Wikipedia title of every mention of a BCBR document (``''`` where DWIE has none), per entity.

    Walks the document's mentions in token order and pairs each with the first of the next few unpaired
    annotation mentions (in character order) that has the same text: the two orders agree except where
    the tokenisation reorders neighbours (``2002-2003``), which the look-ahead absorbs.
    """
    ours = sorted(((m["pos"][0], m["pos"][1], e, k) for e, ent in enumerate(doc["vertexSet"])
                   for k, m in enumerate(ent)))
    unpaired = sorted(annotation["mentions"], key=lambda m: (m["begin"], m["end"]))
    if len(ours) != len(unpaired):
        raise DataError(f"{source}: document {doc['title']} has {len(ours)} mentions, its DWIE annotation "
                        f"{len(unpaired)}; expected the same mentions")
    link_of = {c["concept"]: c.get("link") or "" for c in annotation["concepts"]}
    links = [[""] * len(ent) for ent in doc["vertexSet"]]
    for _, _, e, k in ours:
        name = doc["vertexSet"][e][k]["name"]
        match = next((i for i, raw in enumerate(unpaired[:LOOK_AHEAD]) if squeeze(raw["text"]) == squeeze(name)),
                     None)
        if match is None:
            raise DataError(f"{source}: document {doc['title']}, entity {e} mention {k}: text {name!r} matches none "
                            f"of the DWIE annotation's next mentions {[m['text'] for m in unpaired[:LOOK_AHEAD]]}")
        links[e][k] = link_of[unpaired.pop(match)["concept"]]
    return links


def knowra_type(bcbr_type: str) -> str:
    """KnowRA's spelling of a BCBR type: ``type::person`` → ``type_person``, ``type::time`` → ``type_value``."""
    coarse = bcbr_type.removeprefix("type::")
    return f"type_{'value' if coarse in FOLDED_INTO_VALUE else coarse}"


def knowra_layout(doc: dict[str, Any], annotation: dict[str, Any], qid_of: dict[str, str], source: str
                  ) -> dict[str, Any]:
    """A BCBR document rewritten in KnowRA's layout, with gold links and silver QIDs (see the module doc)."""
    links = gold_links(doc, annotation, source)
    vertex_set = []
    for ent, ent_links in zip(doc["vertexSet"], links, strict=True):
        mentions = []
        for m, link in zip(ent, ent_links, strict=True):
            mention = {**m, "type": knowra_type(m["type"]), "absolute_pos": list(m["pos"]), "link": link}
            if link in qid_of:
                mention["wikidata_eid"] = qid_of[link]
            mentions.append(mention)
        vertex_set.append(mentions)
    return {"id": doc["title"], "title": doc["title"], "sents": doc["sents"], "vertexSet": vertex_set,
            "labels": doc["labels"]}


def read_json(path: Path) -> Any:
    """A JSON file, with an error naming it when it is missing."""
    if not path.exists():
        raise DataError(f"{path}: not found (DWIE with text is expected under the data directory)")
    return json.loads(path.read_text(encoding="utf-8"))


def build(base: Path, out: Path) -> dict[str, dict[str, list[str]]]:
    """Write the union of both conversions per split under ``out``; returns each split's doc ids by source."""
    knowra_train = read_json(base / SPLITS["train"][0])
    qid_of = title_to_qid([base / SPLITS["train"][0]])
    out.mkdir(parents=True, exist_ok=True)
    sources: dict[str, dict[str, list[str]]] = {}
    for split, (knowra_file, bcbr_file) in SPLITS.items():
        knowra = knowra_train if split == "train" else read_json(base / knowra_file)
        have = {d["id"] for d in knowra}
        converted = []
        for doc in read_json(base / bcbr_file):
            if doc["title"] not in have:
                annotation = read_json(base / "dwie-annos" / "annos" / f"{doc['title']}.json")
                converted.append(knowra_layout(doc, annotation, qid_of, bcbr_file))
        docs = sorted([*knowra, *converted], key=lambda d: d["id"])
        (out / f"{split}.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
        sources[split] = {"knowra": sorted(have), "bcbr": sorted(d["id"] for d in converted)}
    (out / "sources.json").write_text(json.dumps(sources, indent=1), encoding="utf-8")
    return sources


def main() -> None:
    """Command line: build .cache/dwie-with-text/ from the data directory."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(ROOT / ".cache" / "dwie-with-text"))
    args = parser.parse_args()
    base = data_dir(args.data_dir)
    if base is None:
        raise SystemExit("no data directory: pass --data-dir or set REXEL_BENCH_DATA")
    for split, by_source in build(base, Path(args.out)).items():
        print(f"{split}: {sum(map(len, by_source.values()))} documents "
              f"({len(by_source['knowra'])} KnowRA, {len(by_source['bcbr'])} BCBR with links from dwie-annos)")


if __name__ == "__main__":
    main()
