"""The annotation auditor: how good are silver links before scores are trusted on them?

:func:`audit_links` reports link coverage by type, entities whose mentions disagree on the QID, surface
forms linked to different QIDs across documents, type incompatibilities and the share of gold
relations supported by KB facts (both with a KB), and agreement with a reference annotation.
:func:`sample_for_verification` draws a stratified sample for people to judge, and
:func:`score_judgements` turns their judgements into a precision estimate with Wilson intervals.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtri

from rexel_bench.data.io import atomic_write_text
from rexel_bench.data.model import Document
from rexel_bench.errors import DataError
from rexel_bench.kb.normalize import normalize_alias
from rexel_bench.kb.store import KnowledgeBaseReader
from rexel_bench.scoring.linking import is_value_type
from rexel_bench.silver.agreement import link_agreement

INCOMPATIBLE = 0.05  # p(type | best class) below this is a type incompatibility


def coverage_by_type(docs: Sequence[Document]) -> dict[str, dict[str, float]]:
    """Share of entities with a QID, per coarse type."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        for e in doc.entities:
            counts[e.type or "?"]["entities"] += 1
            counts[e.type or "?"]["linked"] += e.qid is not None
    return {t: {"entities": c["entities"], "linked": c["linked"], "coverage": c["linked"] / c["entities"]}
            for t, c in sorted(counts.items())}


def disagreeing_entities(docs: Sequence[Document]) -> list[dict[str, Any]]:
    """Entities whose mentions do not all carry the same QID (kept, counted, listed)."""
    out = []
    for doc in docs:
        for i, e in enumerate(doc.entities):
            if e.has_qid_disagreement:
                distinct = sorted({q for q in e.mention_qids if q})
                out.append({"document": doc.title, "entity": i, "type": e.type, "majority_qid": e.qid,
                            "kind": "distinct QIDs" if len(distinct) > 1 else "QID and none",
                            "mentions": [[m.text, m.qid] for m in e.mentions]})
    return out


def inconsistent_surface_forms(docs: Sequence[Document], min_count: int = 2) -> list[dict[str, Any]]:
    """Surface forms linked to different QIDs across documents, most frequent first."""
    links: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        for e in doc.entities:
            if e.qid and not is_value_type(e.type):
                for m in e.mentions:
                    links[normalize_alias(m.text)][e.qid] += 1
    rows = [{"surface_form": form, "qids": dict(c.most_common()), "mentions": sum(c.values())}
            for form, c in links.items() if len(c) > 1 and sum(c.values()) >= min_count]
    return sorted(rows, key=lambda r: (-r["mentions"], r["surface_form"]))


def type_incompatibilities(docs: Sequence[Document], kb: KnowledgeBaseReader) -> list[dict[str, Any]]:
    """Linked entities whose QID's classes make their coarse type implausible (p < 0.05)."""
    out = []
    for doc in docs:
        for i, e in enumerate(doc.entities):
            if not e.qid or not e.type:
                continue
            known = kb.entity(e.qid)
            classes = [f.qid for f in e.fine_types] or (list(known.classes) if known else [])
            compat = kb.type_compatibility(classes, e.type)
            if compat is not None and compat < INCOMPATIBLE:
                out.append({"document": doc.title, "entity": i, "type": e.type, "qid": e.qid,
                            "name": e.mentions[0].text if e.mentions else "", "p_type_given_class": round(compat, 4)})
    return out


def relations_supported(docs: Sequence[Document], kb: KnowledgeBaseReader) -> dict[str, float]:
    """Share of gold relations between two linked entities that are facts of the KB."""
    linked = supported = 0
    for doc in docs:
        for r in doc.relations:
            head, tail = doc.entities[r.head].qid, doc.entities[r.tail].qid
            if head and tail:
                linked += 1
                supported += kb.has_fact(head, r.label, tail)
    total = sum(len(d.relations) for d in docs)
    return {"relations": total, "between_linked_entities": linked, "supported_by_kb": supported,
            "share_supported": supported / linked if linked else 0.0}


def audit_links(docs: Sequence[Document], *, kb: KnowledgeBaseReader | None = None,
                reference: Sequence[Document] | None = None, file: str = "") -> dict[str, Any]:
    """Every check of the auditor, as one dict (written as audit.json)."""
    disagreements = disagreeing_entities(docs)
    result: dict[str, Any] = {
        "file": file, "documents": len(docs), "entities": sum(len(d.entities) for d in docs),
        "coverage_by_type": coverage_by_type(docs),
        "qid_disagreements": {"total": len(disagreements),
                              "by_kind": dict(Counter(d["kind"] for d in disagreements)),
                              "entities": disagreements},
        "inconsistent_surface_forms": inconsistent_surface_forms(docs),
    }
    if kb is not None:
        incompatible = type_incompatibilities(docs, kb)
        result["type_incompatibilities"] = {"total": len(incompatible), "entities": incompatible}
        result["relations_supported_by_kb"] = relations_supported(docs, kb)
    if reference is not None:
        result["agreement_with_reference"] = link_agreement(docs, reference)
    return result


def audit_markdown(result: dict[str, Any], top: int = 25) -> str:
    """The audit as a readable Markdown page."""
    lines = [f"# Link audit: {result['file']}", "", f"{result['documents']} documents, {result['entities']} entities.",
             "", "## Link coverage by type", "", "| type | entities | linked | coverage |", "|---|---:|---:|---:|"]
    lines += [f"| {t} | {c['entities']} | {c['linked']} | {100 * c['coverage']:.1f}% |"
              for t, c in result["coverage_by_type"].items()]
    d = result["qid_disagreements"]
    lines += ["", f"## Entities whose mentions disagree on the QID: {d['total']}", "",
              ", ".join(f"{k}: {v}" for k, v in d["by_kind"].items()), "", "| document | type | majority | mentions |",
              "|---|---|---|---|"]
    lines += [f"| {e['document']} | {e['type']} | {e['majority_qid']} | "
              + "; ".join(f"{t} → {q}" for t, q in e["mentions"]) + " |" for e in d["entities"][:top]]
    forms = result["inconsistent_surface_forms"]
    lines += ["", f"## Surface forms linked to different QIDs across documents: {len(forms)}", "",
              "| surface form | mentions | QIDs (mentions) |", "|---|---:|---|"]
    lines += [f"| {f['surface_form']} | {f['mentions']} | " + ", ".join(f"{q} ({n})" for q, n in f["qids"].items())
              + " |" for f in forms[:top]]
    if "type_incompatibilities" in result:
        ti = result["type_incompatibilities"]
        lines += ["", f"## Type incompatibilities (p(type | class) < {INCOMPATIBLE}): {ti['total']}", "",
                  "| document | name | type | QID | p |", "|---|---|---|---|---:|"]
        lines += [f"| {e['document']} | {e['name']} | {e['type']} | {e['qid']} | {e['p_type_given_class']} |"
                  for e in ti["entities"][:top]]
        rs = result["relations_supported_by_kb"]
        lines += ["", "## Gold relations supported by KB facts", "",
                  f"{rs['supported_by_kb']} of the {rs['between_linked_entities']} relations between two linked "
                  f"entities ({100 * rs['share_supported']:.1f}%); {rs['relations']} relations in all."]
    if "agreement_with_reference" in result:
        a = result["agreement_with_reference"]
        lines += ["", f"## Agreement with the reference ({a['documents_matched']} documents matched)", "",
                  "| type | P | R | F1 | linked here | linked in reference | same QID |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for t, v in [("all", a["overall"]), *a["by_type"].items()]:
            lines.append(f"| {t} | {100 * v['p']:.1f} | {100 * v['r']:.1f} | {100 * v['f1']:.1f} | "
                         f"{v.get('predicted', 0)} | {v.get('reference', 0)} | {v.get('correct', 0)} |")
    return "\n".join(lines) + "\n"


def write_audit(result: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Write audit.md and audit.json."""
    out = Path(out_dir)
    atomic_write_text(out / "audit.json", json.dumps(result, indent=1, ensure_ascii=False))
    atomic_write_text(out / "audit.md", audit_markdown(result))
    return out / "audit.md", out / "audit.json"


# --- manual verification -------------------------------------------------------------------------
SAMPLE_COLUMNS = ("item", "stratum", "document", "sentence", "mention", "qid", "label", "description",
                  "alternatives", "judgement")


def sample_for_verification(docs: Sequence[Document], kb: KnowledgeBaseReader | None, n: int, seed: int
                            ) -> list[dict[str, str]]:
    """A sample of linked entities stratified by type (proportional, at least one per type), reproducible."""
    rng = np.random.default_rng(seed)
    by_type: dict[str, list[tuple[Document, int]]] = defaultdict(list)
    for doc in docs:
        for i, e in enumerate(doc.entities):
            if e.qid and e.mentions:
                by_type[e.type or "?"].append((doc, i))
    total = sum(len(v) for v in by_type.values())
    rows = []
    for stratum, items in sorted(by_type.items()):
        take = min(len(items), max(1, round(n * len(items) / total)))
        for k in sorted(rng.choice(len(items), size=take, replace=False)):
            doc, i = items[k]
            rows.append(_sample_row(doc, i, stratum, kb, len(rows)))
    return rows


def _sample_row(doc: Document, index: int, stratum: str, kb: KnowledgeBaseReader | None, item: int) -> dict[str, str]:
    entity = doc.entities[index]
    m = entity.mentions[0]
    tokens = list(doc.sentences[m.sent]) if doc.has_text else [m.text]
    if doc.has_text:
        tokens[m.start] = "[[" + tokens[m.start]
        tokens[m.end - 1] = tokens[m.end - 1] + "]]"
    chosen = kb.entity(entity.qid) if kb and entity.qid else None
    alternatives = [c for c in (kb.candidates(m.text, k=4) if kb else []) if c.qid != entity.qid]
    return {"item": str(item), "stratum": stratum, "document": doc.title, "sentence": " ".join(tokens),
            "mention": m.text, "qid": entity.qid or "", "label": (chosen.label if chosen else "") or "",
            "description": (chosen.description if chosen else "") or "",
            "alternatives": "; ".join(f"{c.qid} {c.label or ''}".strip() for c in alternatives[:3]), "judgement": ""}


def write_sample(rows: Sequence[dict[str, str]], out_dir: str | Path) -> tuple[Path, Path]:
    """The sample as CSV (fill the ``judgement`` column: correct / incorrect) and a static HTML page."""
    out = Path(out_dir)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SAMPLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "sample.csv", text.getvalue())
    buffer = []
    for r in rows:
        sentence = html.escape(r["sentence"]).replace("[[", "<mark>").replace("]]", "</mark>")
        link = f'<a href="https://www.wikidata.org/wiki/{html.escape(r["qid"])}">{html.escape(r["qid"])}</a>'
        buffer.append(f"<tr><td>{r['item']}</td><td>{html.escape(r['stratum'])}</td><td>{sentence}</td><td>{link} "
                      f"<b>{html.escape(r['label'])}</b><br><small>{html.escape(r['description'])}</small></td>"
                      f"<td><small>{html.escape(r['alternatives'])}</small></td></tr>")
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Link verification sample</title>"
            "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}td{border-bottom:1px solid #ddd;"
            "padding:4px;vertical-align:top}mark{background:#ffe58a}</style></head><body>"
            "<h1>Link verification sample</h1><p>Judge each link in sample.csv (column judgement: correct or "
            "incorrect), then run <code>rexel-bench audit score sample.csv</code>.</p><table><tr><th>#</th>"
            "<th>stratum</th><th>sentence (mention marked)</th><th>chosen QID</th><th>alternatives</th></tr>"
            + "".join(buffer) + "</table></body></html>")
    atomic_write_text(out / "sample.html", page)
    return out / "sample.csv", out / "sample.html"


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    z = float(ndtri(1 - (1 - confidence) / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


_YES = {"correct", "yes", "y", "1", "true", "ok"}
_NO = {"incorrect", "no", "n", "0", "false", "wrong"}


def score_judgements(path: str | Path) -> dict[str, Any]:
    """Estimated precision of the links from a judged sample, with Wilson 95% intervals, per stratum."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    with Path(path).open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.DictReader(f), 2):
            verdict = (row.get("judgement") or "").strip().lower()
            if not verdict:
                counts[row.get("stratum", "?")]["unjudged"] += 1
                continue
            if verdict not in _YES | _NO:
                raise DataError("", file=str(path), field=f"line {number}.judgement",
                                expected="correct or incorrect (or yes/no, 1/0)", found=repr(verdict))
            for bucket in ("all", row.get("stratum", "?")):
                counts[bucket]["n"] += 1
                counts[bucket]["correct"] += verdict in _YES
    out = {}
    for stratum, c in sorted(counts.items()):
        if c["n"]:
            low, high = wilson_interval(c["correct"], c["n"])
            out[stratum] = {"judged": c["n"], "correct": c["correct"], "precision": c["correct"] / c["n"],
                            "wilson_95": [low, high], "unjudged": c["unjudged"]}
    if "all" not in out:
        raise DataError("no judged row (fill the judgement column with correct or incorrect)", file=str(path))
    return out


def silver_qids_against_gold_titles(docs: Sequence[Document], kb: KnowledgeBaseReader | None = None) -> dict[str, Any]:
    """DWIE check: silver QIDs against the gold Wikipedia links they should denote.

    Lists gold titles given several silver QIDs across the corpus, and — with a KB — entities whose
    silver QID is not the KB's most probable entity for the gold title's own words (e.g. the title
    "Mexico" with Q82112, the State of Mexico, where the KB's "Mexico" is the country, Q96).
    """
    by_title: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        for e in doc.entities:
            if e.link and e.qid:
                by_title[e.link][e.qid] += len(e.mentions)
    several = sorted(({"title": t, "qids": dict(c.most_common())} for t, c in by_title.items() if len(c) > 1),
                     key=lambda r: (-sum(r["qids"].values()), r["title"]))
    out: dict[str, Any] = {"titles": len(by_title), "titles_with_several_qids": several}
    if kb is not None:
        clashes, checked = [], 0
        for title, counter in sorted(by_title.items()):
            best = kb.candidates(title.replace("_", " "), k=1, fuzzy=False)
            if not best:
                continue
            checked += 1
            silver = counter.most_common(1)[0][0]
            if silver != best[0].qid:
                clashes.append({"title": title, "silver_qid": silver, "kb_qid": best[0].qid,
                                "kb_label": best[0].label, "kb_prior": round(best[0].prior, 3),
                                "mentions": sum(counter.values())})
        out["titles_checked_against_kb"] = checked
        out["silver_differs_from_kb"] = sorted(clashes, key=lambda r: (-r["mentions"], r["title"]))
    return out
