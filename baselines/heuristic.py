"""``pipeline-heuristic``: a floor that needs no training beyond counting.

- **Mentions**: gazetteer matches (surface forms of the training entities, longest first, with their
  most frequent type), then runs of capitalised words (MISC unless the last word's gazetteer type says
  otherwise), years and dates (TIME), and numbers (NUM).
- **Coreference**: exact string match, then head-word (last word) match to an earlier, longer
  mention of the same type.
- **Linking**: most frequent sense — the KB candidate with the highest alias prior.
- **Relations**: for every pair of entities mentioned in a common sentence, the most frequent
  relation of their (head type, tail type) in training, if it holds for at least ``min_share`` of
  such co-occurring pairs there.
The counts live in a small JSON (``checkpoints/pipeline-heuristic/counts.json``), made by :func:`fit`.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rexel_bench.data.model import Document, Entity, Mention, Relation, majority
from rexel_bench.kb.build import default_kb_path
from rexel_bench.kb.store import kb_location, open_kb
from rexel_bench.models.base import as_documents, register
from rexel_bench.resources import default_checkpoint
from rexel_bench.scoring.linking import is_value_type

DEFAULT_COUNTS = default_checkpoint("pipeline-heuristic") / "counts.json"
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"}
_YEAR = re.compile(r"^(1[0-9]{3}|20[0-9]{2})s?$")
_NUMBER = re.compile(r"^[0-9][0-9,.]*$")
_SMALL = {"of", "the", "and", "de", "for", "von", "van", "del", "la", "le"}  # inside names: Bank of America


def fit(train: Sequence[Document], min_share: float = 0.1) -> dict[str, Any]:
    """Count what the heuristics need from training documents."""
    gazetteer: dict[str, Counter[str]] = defaultdict(Counter)
    pair_relations: dict[str, Counter[str]] = defaultdict(Counter)
    pair_counts: Counter[str] = Counter()
    for doc in train:
        for e in doc.entities:
            for m in e.mentions:
                if e.type:
                    gazetteer[m.text][e.type] += 1
        by_pair = defaultdict(set)
        for r in doc.relations:
            by_pair[(r.head, r.tail)].add(r.label)
        sentences = [{m.sent for m in e.mentions} for e in doc.entities]
        for h, head in enumerate(doc.entities):
            for t, tail in enumerate(doc.entities):
                if h != t and head.type and tail.type and sentences[h] & sentences[t]:
                    key = f"{head.type}|{tail.type}"
                    pair_counts[key] += 1
                    for label in by_pair.get((h, t), ()):
                        pair_relations[key][label] += 1
    rules = {}
    for key, counter in pair_relations.items():
        label, n = counter.most_common(1)[0]
        if n / pair_counts[key] >= min_share:
            rules[key] = {"relation": label, "share": round(n / pair_counts[key], 4)}
    return {"gazetteer": {text: c.most_common(1)[0][0] for text, c in gazetteer.items() if len(text) > 1},
            "rules": rules, "min_share": min_share, "documents": len(train)}


@dataclass
class HeuristicPipeline:
    """The counting-only baseline behind the common ``predict`` interface."""

    counts_path: Path = DEFAULT_COUNTS
    kb_path: str | Path | None = None
    name: str = "pipeline-heuristic"
    timings: dict[str, float] = field(default_factory=lambda: {"mentions": 0.0, "linking": 0.0, "relations": 0.0})

    def __post_init__(self) -> None:
        self.counts = json.loads(Path(self.counts_path).read_text(encoding="utf-8"))
        self.kb = open_kb(self.kb_path or default_kb_path())
        self._forms = sorted(((tuple(text.split()), kind) for text, kind in self.counts["gazetteer"].items()),
                             key=lambda f: -len(f[0]))
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for words, kind in self._forms:
            self._by_first[words[0]].append((words, kind))

    def describe(self) -> dict[str, Any]:
        """The counts file and its size."""
        return {"name": self.name, "counts": str(self.counts_path), "gazetteer": len(self.counts["gazetteer"]),
                "rules": len(self.counts["rules"]), "kb": self.kb.location, "kb_sha256": self.kb.content_hash}

    @staticmethod
    def _is_date_start(sentence: Sequence[str], i: int) -> bool:
        word = sentence[i]
        return bool(_YEAR.match(word)) or (word.lower() in MONTHS and i + 1 < len(sentence)
                                           and bool(_NUMBER.match(sentence[i + 1])))

    def mentions(self, sentence: Sequence[str]) -> list[tuple[int, int, str]]:
        """Typed mention spans of one sentence, longest gazetteer matches first.

        A capitalised span without a gazetteer type is typed MISC and flagged as a guess (type "MISC?")
        so that coreference may attach it to a typed antecedent by its head word.
        """
        out, i = [], 0
        while i < len(sentence):
            match = next(((len(words), kind) for words, kind in self._by_first.get(sentence[i], ())
                          if tuple(sentence[i:i + len(words)]) == words), None)
            if match:
                out.append((i, i + match[0], match[1]))
                i += match[0]
                continue
            word = sentence[i]
            if self._is_date_start(sentence, i):
                end = i + 1
                while end < len(sentence) and (_NUMBER.match(sentence[end]) or sentence[end] == ","):
                    end += 1
                out.append((i, end, "TIME"))
                i = end
            elif _NUMBER.match(word):
                out.append((i, i + 1, "NUM"))
                i += 1
            elif word[:1].isupper() and (i > 0 or (len(word) > 1 and word.lower() not in _SMALL)):
                end = i + 1
                while end < len(sentence) and not self._is_date_start(sentence, end) and (
                        sentence[end][:1].isupper() or (sentence[end] in _SMALL and end + 1 < len(sentence)
                                                        and sentence[end + 1][:1].isupper())):
                    end += 1
                kind = self.counts["gazetteer"].get(sentence[end - 1], "MISC?")
                out.append((i, end, kind))
                i = end
            else:
                i += 1
        return out

    @staticmethod
    def _cluster(mentions: list[Mention]) -> list[list[int]]:
        """Exact string match, or head-word match to a longer antecedent of the same (or a guessed) type."""
        clusters: list[list[int]] = []
        for i, m in enumerate(mentions):
            target = None
            for c, cluster in enumerate(clusters):
                first = mentions[cluster[0]]
                compatible = (first.type == m.type or m.type == "MISC?") and not is_value_type(m.type)
                if first.text == m.text or (compatible and m.text.split()[-1] == first.text.split()[-1]
                                            and len(first.text) > len(m.text)):
                    target = c
                    break
            if target is None:
                clusters.append([i])
            else:
                clusters[target].append(i)
        return clusters

    def predict_one(self, doc: Document) -> Document:
        """Mentions, clusters, links and relations of one document."""
        import time

        began = time.perf_counter()
        mentions = [Mention(s, a, b, " ".join(sent[a:b]), type=kind)
                    for s, sent in enumerate(doc.sentences) for a, b, kind in self.mentions(sent)]
        clusters = self._cluster(mentions)
        self.timings["mentions"] += time.perf_counter() - began
        began = time.perf_counter()
        entities = []
        for cluster in clusters:
            kind = majority(mentions[i].type for i in cluster if not (mentions[i].type or "").endswith("?")) or "MISC"
            members = [replace(mentions[i], type=kind) for i in cluster]
            qid = None
            if not is_value_type(kind):
                found = self.kb.candidates(max((m.text for m in members), key=len), k=1, fuzzy=False)
                qid = found[0].qid if found else None
            entities.append(Entity(mentions=tuple(members), type=kind, qid=qid))
        self.timings["linking"] += time.perf_counter() - began
        began = time.perf_counter()
        relations = []
        sentences = [{m.sent for m in e.mentions} for e in entities]
        for h, head in enumerate(entities):
            for t, tail in enumerate(entities):
                rule = self.counts["rules"].get(f"{head.type}|{tail.type}")
                if h != t and rule and sentences[h] & sentences[t]:
                    relations.append(Relation(h, t, rule["relation"], evidence=None, score=rule["share"]))
        self.timings["relations"] += time.perf_counter() - began
        return Document(id=doc.id, title=doc.title, sentences=doc.sentences, entities=tuple(entities),
                        relations=tuple(relations), meta={"format": "jsonl"})

    def predict(self, docs: Sequence[Document | str]) -> list[Document]:
        """Predict every document or text."""
        return [self.predict_one(d) for d in as_documents(docs)]


@register("pipeline-heuristic")
def heuristic_model(checkpoint: str | Path | None = None, kb: str | Path | None = None) -> HeuristicPipeline:
    """Factory for ``pipeline-heuristic`` (options: checkpoint — its counts.json —, kb)."""
    return HeuristicPipeline(Path(checkpoint) if checkpoint else DEFAULT_COUNTS, kb_location(kb) if kb else None)


def main() -> None:
    """Command line: count the heuristics' statistics from training files into counts.json."""
    import argparse

    from rexel_bench.data import io as data_io
    from rexel_bench.data.registry import resolve
    from rexel_bench.silver.agreement import first_sentence_key

    parser = argparse.ArgumentParser(description="Fit the pipeline-heuristic counts.")
    parser.add_argument("--train", nargs="+", required=True, help="training files or dataset names")
    parser.add_argument("--exclude-shared-with", default=None, help="leave out documents that also appear here")
    parser.add_argument("--out", default=str(DEFAULT_COUNTS))
    args = parser.parse_args()
    docs = [d for spec in args.train for d in data_io.load(resolve(spec)).documents]
    if args.exclude_shared_with:
        shared = {first_sentence_key(d) for d in data_io.load(resolve(args.exclude_shared_with)).documents}
        docs = [d for d in docs if first_sentence_key(d) not in shared]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    data_io.atomic_write_text(args.out, json.dumps(fit(docs), indent=0, sort_keys=True))
    print(f"counts from {len(docs)} documents written to {args.out}")


if __name__ == "__main__":
    main()
