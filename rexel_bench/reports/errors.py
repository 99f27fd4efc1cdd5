"""The error-analysis page of a run (``errors.html``), in the spirit of JEREX's ``examples.html``.

For every document and system: the text with gold and predicted mentions marked (correct, spurious,
missed), entities with their links (wrong links marked), and facts (found, spurious, missed — by exact
head and tail clusters). A filter shows one system and the error kinds chosen; documents without such
errors are hidden. Self-contained: styles and script inline, opens offline.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rexel_bench.data.io import atomic_write_text
from rexel_bench.data.model import Document
from rexel_bench.data.relations import with_name

ERROR_KINDS = {"spurious-mention": "spurious mentions", "missed-mention": "missed mentions",
               "wrong-link": "wrong links", "spurious-fact": "spurious facts", "missed-fact": "missed facts"}


def _mention_marks(gold: Document, pred: Document) -> dict[tuple[int, int], str]:
    """Each gold or predicted mention span's status: tp, wrong-link, spurious-mention or missed-mention."""
    gold_spans = {gold.doc_span(m): e for e in gold.entities for m in e.mentions}
    pred_spans = {pred.doc_span(m): e for e in pred.entities for m in e.mentions} if pred.has_text else {}
    marks = {}
    for span in gold_spans.keys() | pred_spans.keys():
        if span in gold_spans and span in pred_spans:
            wrong = gold_spans[span].qid and gold_spans[span].qid != pred_spans[span].qid
            marks[span] = "wrong-link" if wrong else "tp"
        else:
            marks[span] = "spurious-mention" if span in pred_spans else "missed-mention"
    return marks


def _text(doc: Document, marks: Mapping[tuple[int, int], str], links: Mapping[tuple[int, int], str]) -> str:
    tokens = [html.escape(t) for t in doc.tokens]
    starts: dict[int, list[tuple[int, str]]] = {}
    for (start, end), kind in marks.items():
        starts.setdefault(start, []).append((end, kind))
    out, i = [], 0
    while i < len(tokens):
        if i in starts:
            end, kind = max(starts[i])
            title = html.escape(links.get((i, end), ""))
            out.append(f'<span class="m {kind}" title="{title}">{" ".join(tokens[i:end])}</span>')
            i = end
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def _name(doc: Document, index: int) -> str:
    entity = doc.entities[index]
    first = entity.mentions[0].text if entity.mentions else "?"
    return f"{first} ({entity.qid})" if entity.qid else first


def _facts(gold: Document, pred: Document) -> list[tuple[str, str]]:
    """Each gold and predicted fact's status (tp, missed-fact or spurious-fact) and its list item."""
    def key(doc: Document, r) -> tuple:
        return (doc.entities[r.head].spans, doc.entities[r.tail].spans, r.label)
    def item(doc: Document, r, status: str) -> tuple[str, str]:
        return status, (f'<li class="{status}">{html.escape(_name(doc, r.head))} — '
                        f'<b>{html.escape(with_name(r.label))}</b> → {html.escape(_name(doc, r.tail))}</li>')
    gold_keys = {key(gold, r): r for r in gold.relations}
    pred_keys = {key(pred, r): r for r in pred.relations}
    rows = [item(gold, r, "tp" if k in pred_keys else "missed-fact") for k, r in gold_keys.items()]
    return rows + [item(pred, r, "spurious-fact") for k, r in pred_keys.items() if k not in gold_keys]


@dataclass(frozen=True)
class _View:
    """One system's errors on one document: its mention marks and its facts, each with a status."""

    marks: dict[tuple[int, int], str]
    facts: list[tuple[str, str]]

    @property
    def counts(self) -> Counter[str]:
        """How many errors of each kind (``tp`` is not one)."""
        return Counter(k for k in self.marks.values() if k != "tp") + Counter(s for s, _ in self.facts if s != "tp")


def _view(gold: Document, pred: Document) -> _View:
    return _View(_mention_marks(gold, pred), _facts(gold, pred))


def error_counts(gold: Document, pred: Document) -> Counter[str]:
    """How many errors of each kind one system makes on one document (mentions, links and facts)."""
    return _view(gold, pred).counts


def _summary(views: Mapping[str, Sequence[_View]]) -> str:
    """A table of every system's errors by kind: how many, and in how many documents."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in ERROR_KINDS.values())
    rows = []
    for system, per_doc in views.items():
        totals: Counter[str] = Counter()
        documents: Counter[str] = Counter()
        for view in per_doc:
            counts = view.counts
            totals.update(counts)
            documents.update(counts.keys())
        cells = "".join(f'<td data-kind="{k}">{totals[k]:,} <span class="docs">in {documents[k]:,} documents</span>'
                        "</td>" for k in ERROR_KINDS)
        rows.append(f"<tr><th>{html.escape(system)}</th>{cells}</tr>")
    return (f"<h2>Errors by kind</h2><table class='summary'><tr><th>system</th>{head}</tr>{''.join(rows)}</table>")


def document_block(gold: Document, pred: Document, system: str, view: _View | None = None) -> str:
    """One system's view of one document, tagged with the error kinds it shows (``view``: its errors, when
    already worked out)."""
    view = view or _view(gold, pred)
    links = {gold.doc_span(m): f"gold {e.qid or 'NIL'}" for e in gold.entities for m in e.mentions}
    for e in pred.entities:
        for m in e.mentions:
            span = pred.doc_span(m)
            links[span] = (links.get(span, "") + f" · predicted {e.qid or 'NIL'}").strip(" ·")
    kinds = sorted(view.counts)
    return (f'<div class="system" data-system="{html.escape(system)}" data-errors="{" ".join(kinds)}">'
            f'<p class="text">{_text(gold, view.marks, links)}</p>'
            f'<ul class="facts">{"".join(row for _, row in view.facts)}</ul></div>')


SCRIPT = """
function apply(){const s=document.getElementById('system').value;
const kinds=[...document.querySelectorAll('input.kind:checked')].map(x=>x.value);
document.querySelectorAll('section.doc').forEach(d=>{let show=false;
d.querySelectorAll('div.system').forEach(b=>{const on=b.dataset.system===s;b.style.display=on?'':'none';
if(on){const e=b.dataset.errors.split(' ');show=kinds.length===0||kinds.some(k=>e.includes(k));}});
d.style.display=show?'':'none';});}
document.addEventListener('change',apply);window.addEventListener('load',apply);
"""
STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1em auto;color:#222}section.doc{border-bottom:1px solid
#ccc;padding:.5em 0}.m{padding:0 2px;border-radius:3px}.tp{background:#cdeccd}.spurious-mention,.spurious-fact{
background:#f9c6c6}.missed-mention,.missed-fact{background:#fde7a9}.wrong-link{background:#c6d8f9}ul.facts{font-size:
13px}ul.facts li.tp{background:none;color:#2a7a2a}.legend span{margin-right:1em}table.summary{border-collapse:
collapse;margin:1em 0}table.summary td,table.summary th{border-bottom:1px solid #ccc;padding:4px 10px;text-align:right}
table.summary th:first-child{text-align:left}.docs{color:#777;font-size:12px}
"""


def write_error_analysis(gold: Sequence[Document], predictions: Mapping[str, Sequence[Document]], path: Path,
                         linking: Mapping[str, str] | None = None) -> None:
    """Write the error-analysis page for every system of a run; ``linking`` gives each system's linking
    setting (shown at the top: links made with a KB that holds the documents are an upper bound)."""
    by_system = {s: {d.id: d for d in preds} for s, preds in predictions.items()}
    views = {s: [_view(doc, by_system[s].get(doc.id, Document(doc.id, doc.title, doc.sentences))) for doc in gold]
             for s in predictions}  # each system's errors on each document, worked out once
    options = "".join(f'<option value="{html.escape(s)}">{html.escape(s)}</option>' for s in predictions)
    boxes = "".join(f'<label><input type="checkbox" class="kind" value="{k}"> {v}</label> '
                    for k, v in ERROR_KINDS.items())
    sections = []
    for i, doc in enumerate(gold):
        blocks = "".join(document_block(doc, by_system[s].get(doc.id, Document(doc.id, doc.title, doc.sentences)), s,
                                        views[s][i]) for s in predictions)
        sections.append(f'<section class="doc"><h3>{html.escape(doc.title)}</h3>{blocks}</section>')
    legend = ('<p class="legend"><span class="m tp">correct</span><span class="m spurious-mention">spurious</span>'
              '<span class="m missed-mention">missed</span><span class="m wrong-link">wrong link</span> '
              "(hover a mention for its gold and predicted QIDs)</p>")
    settings = "".join(f"<li>{html.escape(s)}: linking {html.escape((linking or {}).get(s, 'unknown'))}</li>"
                       for s in predictions)
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>rexel-bench error analysis</title>"
            f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body><h1>Error analysis</h1>"
            f"<ul class='linking'>{settings}</ul>{_summary(views)}"
            f"<p>System: <select id='system'>{options}</select> Show documents with: {boxes}</p>{legend}"
            + "".join(sections) + "</body></html>")
    atomic_write_text(path, page)
