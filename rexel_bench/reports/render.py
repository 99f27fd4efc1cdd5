"""Write a report directory from metrics.json: report.md, report.html, leaderboard.csv/.tex, plots.

``report.html`` is self-contained (styles inline, plots embedded as base64 PNG) so it opens in any
browser offline. Every file is written atomically.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rexel_bench.data.io import atomic_write_text
from rexel_bench.reports.plots import draw_all
from rexel_bench.reports.record import MetricsRecord, validate
from rexel_bench.reports.tables import csv_table, latex_table, markdown_table
from rexel_bench.reports.verdicts import resolution_note, sentences, verdict_markdown, verdicts

CAPTIONS = {
    "scores": "Headline value of every subtask with its 95% bootstrap interval.",
    "speed": "End-to-end F1 against documents per second.",
    "by_tokens": "End-to-end F1 by document length (tokens), 95% intervals shaded.",
    "by_entities": "End-to-end F1 by number of gold entities, 95% intervals shaded.",
    "relations": "F1 per relation on the most frequent gold relations.",
}


def _comparison_rows(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    metric = run.get("headline_metric")
    rows = [c for c in run.get("comparisons", []) if c["metric"] == metric] if metric else []
    return rows or run.get("comparisons", [])[:20]


def _fmt_p(p: float | None) -> str:
    return "–" if p is None else (f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}")


def _num(values: Mapping[str, Any], key: str, spec: str) -> str:
    return format(values[key], spec) if values.get(key) is not None else "–"


def _speed_rows(run: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(s, e["speed"]) for s, e in run["systems"].items() if e.get("speed")]


def markdown_report(record: MetricsRecord, plots: Mapping[str, Path]) -> str:
    """The human-readable report in Markdown."""
    run = record.data
    d = run["dataset"]
    lines = [f"# rexel-bench report: {', '.join(run['systems'])} on {d['name']}", "",
             f"- documents: {d['documents']} · data sha256: `{d.get('sha256')}`",
             f"- created {run['created']} · rexel-bench {run['versions'].get('rexel-bench')} · git "
             f"`{run.get('git_commit')}` · seed {run['seed']}",
             f"- command: `{run['command']}`",
             f"- {run['bootstrap']['n_resamples']:,} paired bootstrap resamples over documents; "
             f"{run['bootstrap']['correction']}",
             f"- linking setting: {linking_summary(run)}", *_training_kb_lines(run), *_capacity_lines(run),
             *_relation_lines(run), "",
             *_oracle_banner(run),
             *_training_leak_banner(run),
             "## Scores (%, 95% percentile interval)", "",
             "Bold: significantly ahead of every other system; †: significantly behind the best (Holm-adjusted "
             "p < 0.05). A best value that is not bold has not been shown to lead.", "",
             markdown_table(record, names=True), "", *_linking_explained(run), *_seed_lines(run)]
    if _speed_rows(run):
        lines += ["## Speed", "", "| system | docs/s | tokens/s | peak memory (MB) | time per stage (s) |",
                  "|---|---:|---:|---:|---|"]
        for system, s in _speed_rows(run):
            stages = ", ".join(f"{k} {v:.2f}" for k, v in s.get("stages", {}).items())
            lines.append(f"| {system} | {_num(s, 'docs_per_s', '.2f')} | {_num(s, 'tokens_per_s', ',.0f')} | "
                         f"{_num(s, 'peak_rss_mb', ',.0f')} | {stages or '–'} |")
        lines.append("")
    found = verdicts(record)
    if found:
        family = run.get("family") or {}
        lines += [f"## Against the reference system, {found[0].reference}", "",
                  "Each system against the reference on the headline metrics: the difference in points of F1, its "
                  "95% paired bootstrap interval and the Holm-adjusted p (ahead or behind where p < 0.05, level "
                  "otherwise).", "",
                  f"Holm's family, stated before any comparison was computed: {family.get('comparisons', '?')} "
                  f"comparisons, each system against {found[0].reference} on {', '.join(family.get('metrics', []))}. "
                  "Every other comparison in this report and in `metrics.json` is exploratory: its p is not "
                  "corrected.", "", verdict_markdown(found), "", *(f"- {s}" for s in sentences(found)),
                  *([f"- **Note**: {note}"] if (note := resolution_note(record)) else []), ""]
    lines += ["## Paired comparisons", "", "| metric | A | B | Δ (A−B) | p(A>B) | p(B>A) | p two-sided | "
              "p randomization | p Holm | family |", "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for c in _comparison_rows(run):
        kind = "pre-stated" if c.get("confirmatory", True) else "exploratory (uncorrected)"
        lines.append(f"| {c['metric']} | {c['a']} | {c['b']} | {100 * c['delta']:+.2f} | {_fmt_p(c['p_a_better'])} | "
                     f"{_fmt_p(c['p_b_better'])} | {_fmt_p(c['p_two_sided'])} | {_fmt_p(c.get('p_randomization'))} "
                     f"| {_fmt_p(c.get('p_holm'))} | {kind} |")
    lines += _decomposed_lines(run)
    lines += _per_relation_lines(run)
    lines += ["", "## Plots", ""]
    lines += [f"![{CAPTIONS[name]}](plots/{path.name})\n\n{CAPTIONS[name]}\n" for name, path in plots.items()]
    notes = [f"- {system}: {n}" for system, e in run["systems"].items() for n in e.get("notes", [])]
    data_notes = [f"- data: {n}" for n in run.get("data_notes", [])]
    lines += ["## Notes", "", *data_notes, f"- {run['ed_exclusion_rule']}", *notes, "",
              "Every number, interval and p-value is in `metrics.json`; all metrics of all systems are in "
              "`leaderboard.csv`."]
    return "\n".join(lines) + "\n"


#: What each linking setting means for the linked scores, in the words a report reader needs.
LINKING_MEANINGS = {
    "held-out": "each document was linked with a KB built without that document's annotations (cross-fitting "
                "over folds): linked scores show linking to entities the KB could only know from other documents",
    "oracle-candidates": "the KB holds the evaluated documents' own entities and aliases: every gold QID is a "
                         "candidate, so linked scores are an upper bound, not what a general KB gives",
    "external": "the KB shares no annotation with the evaluated documents (for example one built from a "
                "Wikidata dump): linked scores are what a user of that KB gets",
    "unknown": "the system did not declare how it links (a prediction file): its linked scores cannot be "
               "compared as like for like",
}


#: The metrics whose per-seed values a report shows for a system trained with several seeds.
SEED_METRICS = ("md", "coref_conll", "e2e_hard", "e2e_soft", "e2e_linked")


def _seed_lines(run: Mapping[str, Any]) -> list[str]:
    """Each seeded system's seeds: per metric, every seed's value, their mean and sd (the scores above are the
    means; their intervals resample documents and seeds together)."""
    seeded = [(s, e["seeds"]) for s, e in run["systems"].items() if e.get("seeds")]
    if not seeded:
        return []
    lines = ["## Training seeds", "",
             "A system named with several checkpoints (`name:a+b+c`) is one system trained with several seeds: "
             "its scores above are the mean over its seeds, and their intervals and paired tests resample the "
             "documents and the seeds together. Here each seed's value, the mean and the sample sd (%).", ""]
    for system, seeds in seeded:
        shown = [m for m in SEED_METRICS if m in seeds["metrics"]]
        lines += [f"**{system}** ({len(seeds['members'])} seeds)", "",
                  "| seed | " + " | ".join(shown) + " |", "|---|" + "---:|" * len(shown)]
        for n, member in enumerate(seeds["members"]):
            lines.append(f"| {member} | " + " | ".join(f"{100 * seeds['metrics'][m]['values'][n]:.2f}"
                                                       for m in shown) + " |")
        lines.append("| mean ± sd | " + " | ".join(
            f"{100 * seeds['metrics'][m]['mean']:.2f} ± {100 * seeds['metrics'][m]['sd']:.2f}" for m in shown) + " |")
        lines.append("")
    return lines


def _decomposed_lines(run: Mapping[str, Any]) -> list[str]:
    """Each system's linked score beside what its KB allowed: the ceiling, candidate recall, reachable-fact F1."""
    rows = [(s, e["linked_decomposed"]) for s, e in run["systems"].items() if e.get("linked_decomposed")]
    if not rows:
        return []
    ks = list(rows[0][1]["candidate_recall"])
    lines = ["", "## Linked facts, decomposed", "",
             "How much of the linked score is the KB's: the *ceiling* is the share of gold linked entities (and facts, "
             "both ends) whose QID the KB used returns for at least one of their mentions, the most any system "
             "can link with it; *recall@k* the share of gold linked mentions whose QID is in the top k candidates "
             "of their text; *reachable F1* the system's linked facts against the reachable gold facts only: how "
             "well it links where the KB gives it the chance.", "",
             "| system | ceiling, entities | ceiling, facts | " + " | ".join(f"recall@{k}" for k in ks)
             + " | linked F1 | reachable F1 |", "|---|---:|---:|" + "---:|" * len(ks) + "---:|---:|"]
    for system, d in rows:
        linked = run["systems"][system]["metrics"].get("e2e_linked", {}).get("values", {}).get("f1")
        recall = " | ".join(f"{100 * d['candidate_recall'][k]['share']:.1f}" for k in ks)
        lines.append(f"| {system} | {100 * d['ceiling']['entities']['share']:.1f} | "
                     f"{100 * d['ceiling']['facts']['share']:.1f} | {recall} | "
                     f"{'–' if linked is None else f'{100 * linked:.2f}'} | {100 * d['reachable_linked']['f1']:.2f} |")
    return lines


def _linking_explained(run: Mapping[str, Any]) -> list[str]:
    """A paragraph on what each linking setting of the run means (shown under the scores)."""
    settings = {(e.get("linking") or {}).get("name", "unknown") for e in run["systems"].values()}
    lines = [f"- **{name}**: {LINKING_MEANINGS[name]}." for name in sorted(settings) if name in LINKING_MEANINGS]
    return ["The *linking* column says which knowledge base produced each system's candidates:", "", *lines, ""] \
        if lines else []


def linking_summary(run: Mapping[str, Any]) -> str:
    """Each system's linking setting, e.g. ``rexel: held-out (cross-fitted) · pipeline: held-out ...``."""
    return " · ".join(f"{system}: {linking_label(entry)}" for system, entry in run["systems"].items())


def linking_label(entry: Mapping[str, Any]) -> str:
    """One system's linking setting as shown; ``unknown`` where the report does not record one."""
    return (entry.get("linking") or {}).get("label", "unknown")


def _recorded(run: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Each system's ``key`` entry, for the systems that record one."""
    return {s: e[key] for s, e in run["systems"].items() if e.get(key)}


def _training_kb_lines(run: Mapping[str, Any]) -> list[str]:
    recorded = _recorded(run, "training_kb")
    if not recorded:
        return []
    parts = [f"{s}: {', '.join(k.get('contributes') or ['?'])} of {', '.join(k['datasets']) or 'no documents'}"
             f" ({k.get('facts', 0):,} facts)" for s, k in recorded.items()]
    return [f"- training KB (silver links of the training data): {' · '.join(parts)}"]


def _capacity_lines(run: Mapping[str, Any]) -> list[str]:
    recorded = _recorded(run, "capacity")
    if not recorded:
        return []
    parts = [f"{s}: {c['trained_parameters']['encoder']:,} in the encoder + {c['trained_parameters']['heads']:,} "
             f"in the heads, {c.get('encoder_passes') or '?'} encoder pass(es)" for s, c in recorded.items()]
    return [f"- trained parameters (LoRA adapters or a fine-tuned encoder; heads): {' · '.join(parts)}"
            f"{_capacity_verdict(recorded)}"]


def _relation_lines(run: Mapping[str, Any]) -> list[str]:
    """Each system's relation head, the thresholds its entities and facts passed and how its mentions were decoded
    (systems that record them); a seeded system whose seeds chose different ones, seed by seed."""
    parts = []
    for system, entry in run["systems"].items():
        per_seed = list((entry.get("seed_decisions") or {}).values())
        if len({json.dumps(d, sort_keys=True) for d in per_seed}) > 1:
            parts.append(f"{system}: per seed: " + "; ".join(_decisions_text(d) for d in per_seed))
        elif entry.get("relations"):
            parts.append(f"{system}: {_decisions_text(entry)}")
    return [f"- relation head and thresholds: {' · '.join(parts)}"] if parts else []


def _decisions_text(decisions: Mapping[str, Any]) -> str:
    """A checkpoint's decisions (``run.DECISIONS``) in words: relation head, thresholds, mention decoding."""
    relations, threshold = decisions["relations"], decisions.get("coref_threshold")
    decoding = decisions.get("mention_decoding")
    return (relations["head"] + (f", coarse threshold {relations['coarse_threshold']:g}"
                                 if relations.get("coarse_threshold") is not None else "")
            + f", margin {relations['margin']:+g}"
            + (f", coreference threshold {threshold:g}" if threshold is not None else "")
            + (f", mention decoding {decoding}" if decoding is not None else ""))


def _capacity_verdict(recorded: Mapping[str, Any]) -> str:
    """Which systems train as many encoder parameters as each other: all of them, some groups, or none."""
    if len(recorded) < 2:
        return ""
    groups: dict[int, list[str]] = {}
    for system, capacity in recorded.items():
        groups.setdefault(capacity["trained_parameters"]["encoder"], []).append(system)
    if len(groups) == 1:
        return " — encoder capacity matched"
    matched = [f"{' = '.join(systems)} ({count:,} each)" for count, systems in groups.items() if len(systems) > 1]
    if not matched:
        return " — encoder capacity NOT matched"
    return f" — encoder capacity matched only within: {'; '.join(matched)}"


def _training_leak_banner(run: Mapping[str, Any]) -> list[str]:
    leaked = [s for s, e in run["systems"].items() if (e.get("training_kb") or {}).get("holds_evaluated_dataset")]
    if not leaked:
        return []
    return [f"> **TRAINING USED THE EVALUATED DOCUMENTS** (transductive). {', '.join(leaked)}: the KB that "
            "silver-linked the training data was built from the evaluated data file (its entities, aliases and "
            "classes, and facts where listed above): the training KB holds the evaluated data's entity inventory. "
            "Compare such systems with that in mind.", ""]


def _oracle_banner(run: Mapping[str, Any]) -> list[str]:
    oracle = [(s, e["linking"]) for s, e in run["systems"].items()
              if (e.get("linking") or {}).get("name") == "oracle-candidates"]
    if not oracle:
        return []
    details = "; ".join(f"{s}: {setting['detail']}" for s, setting in oracle)
    return [f"> **UPPER BOUND — oracle-candidates linking.** The knowledge base holds annotations (aliases, QIDs, "
            f"types, facts) of the documents it links ({details}). Linking and linked-fact scores are an upper "
            "bound, not a measure of a real system.", ""]


def _per_relation_lines(run: Mapping[str, Any]) -> list[str]:
    """The most frequent gold relations, named, with each system's F1 on them."""
    table = run.get("per_relation")
    if not table or not table["relations"]:
        return []
    systems = list(table["f1"])
    names = table.get("names") or table["relations"]
    lines = ["", f"## {table['metric']} F1 per relation (the {len(names)} most frequent in the gold)", "",
             "| relation | gold facts | " + " | ".join(systems) + " |", "|---|---:|" + "---:|" * len(systems)]
    for i, name in enumerate(names):
        cells = " | ".join(f"{100 * table['f1'][s][i]:.1f}" for s in systems)
        lines.append(f"| {name} | {table['gold_counts'][i]} | {cells} |")
    return lines


_CODE, _BOLD, _ITALIC = re.compile(r"`([^`]+)`"), re.compile(r"\*\*(.+?)\*\*"), re.compile(r"\*([^*\s][^*]*)\*")


def inline_html(text: str) -> str:
    """A line of the Markdown report as HTML: escaped, with its `code`, **bold** and *italic* rendered."""
    out = html.escape(text)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    return _ITALIC.sub(r"<i>\1</i>", out)


def _html_table(markdown: str) -> str:
    rows = [r.strip().strip("|").split("|") for r in markdown.strip().splitlines()]
    head, body = rows[0], rows[2:]
    def cell(text: str, tag: str) -> str:
        return f"<{tag}>{inline_html(text.strip())}</{tag}>"
    out = ["<table>", "<tr>" + "".join(cell(h, "th") for h in head) + "</tr>"]
    out += ["<tr>" + "".join(cell(c, "td") for c in row) + "</tr>" for row in body]
    return "\n".join([*out, "</table>"])


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border-bottom:1px solid #ccc;padding:4px 10px;
text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}img{max-width:100%}
.banner{background:#fde2e1;border:2px solid #c0392b;color:#7b1d14;padding:.8em 1em;margin:1em 0;font-weight:600}
figure{margin:1.5em 0}figcaption{color:#555;font-size:13px}code{background:#f5f5f5;padding:1px 4px}
.notes li{margin:.3em 0}
"""


def _html_blocks(lines: list[str]) -> list[str]:
    """A section's Markdown lines as HTML, in their order: tables, lists and paragraphs."""
    out: list[str] = []
    for kind, group in itertools.groupby((line for line in lines if line.strip()),
                                         key=lambda line: "table" if line.startswith("|") else
                                         "list" if line.startswith("- ") else "text"):
        block = list(group)
        if kind == "table":
            out.append(_html_table("\n".join(block)))
        elif kind == "list":
            out.append('<ul class="notes">' + "".join(f"<li>{inline_html(i[2:])}</li>" for i in block) + "</ul>")
        else:
            out += [f"<p>{inline_html(line)}</p>" for line in block]
    return out


def html_report(run: Mapping[str, Any], plots: Mapping[str, Path], markdown: str) -> str:
    """A self-contained HTML page: the same content as the Markdown report, plots embedded."""
    sections = markdown.split("\n## ")
    head = sections[0].splitlines()
    parts = [f"<h1>{html.escape(head[0].lstrip('# '))}</h1>", "<ul>"]
    parts += [f"<li>{inline_html(line[2:])}</li>" for line in head[1:] if line.startswith("- ")]
    parts.append("</ul>")
    parts += [f'<div class="banner">{inline_html(line[2:])}</div>' for line in head[1:] if line.startswith("> ")]
    for section in sections[1:]:
        title, _, body = section.partition("\n")
        if title == "Plots":
            parts.append("<h2>Plots</h2>")
            for name, path in plots.items():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(CAPTIONS[name])}" src="data:image/png;base64,{data}">'
                             f"<figcaption>{html.escape(CAPTIONS[name])}</figcaption></figure>")
            continue
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts += _html_blocks(body.splitlines())
    title = html.escape(head[0].lstrip("# "))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def write_report(run: Mapping[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write metrics.json (validated against the shipped schema first), report.md, report.html,
    leaderboard.csv, leaderboard.tex and plots/."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = MetricsRecord.from_dict(validate(dict(run)), checked=True)
    atomic_write_text(out / "metrics.json", json.dumps(record.data, indent=1))
    plots = draw_all(record, out / "plots")
    markdown = markdown_report(record, plots)
    files = {"metrics.json": out / "metrics.json", "report.md": out / "report.md", "report.html": out / "report.html",
             "leaderboard.csv": out / "leaderboard.csv", "leaderboard.tex": out / "leaderboard.tex"}
    atomic_write_text(files["report.md"], markdown)
    atomic_write_text(files["report.html"], html_report(run, plots, markdown))
    atomic_write_text(files["leaderboard.csv"], csv_table(record))
    atomic_write_text(files["leaderboard.tex"], latex_table(record))
    return {**files, **{f"plots/{k}": v for k, v in plots.items()}}


def leaderboard_text(run: Mapping[str, Any], fmt: str, metrics: list[str]) -> str:
    """A leaderboard in one format: md, csv, tex or html (a self-contained page)."""
    record = MetricsRecord.from_dict(dict(run))
    if fmt == "md":
        return markdown_table(record, metrics)
    if fmt == "csv":
        return csv_table(record)
    if fmt == "tex":
        return latex_table(record, metrics)
    if fmt == "html":
        table = _html_table(markdown_table(record, metrics))
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rexel-bench leaderboard"
                f"</title><style>{STYLE}</style></head><body><h1>Leaderboard: {html.escape(', '.join(metrics))}</h1>"
                f"{table}<p>Bold: significantly ahead of every other system; †: significantly behind the best "
                "(Holm-adjusted paired bootstrap p &lt; 0.05)."
                "</p></body></html>\n")
    raise ValueError(f"unknown format {fmt!r}: choose md, csv, tex or html")
