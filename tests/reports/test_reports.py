"""Reports: metrics.json provenance, Markdown/HTML/CSV/LaTeX outputs, plots, leaderboards, compare."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.errors import ConfigError
from rexel_bench.evaluate import evaluate
from rexel_bench.reports.leaderboard import merge_runs
from rexel_bench.reports.render import write_report

runner = CliRunner(env={"COLUMNS": "240"})


def _systems(docs):
    strong = [replace(d, relations=d.relations[: len(d.relations) * 3 // 4]) for d in docs]
    weak = [replace(d, relations=d.relations[: len(d.relations) // 3]) for d in docs]
    return {"strong": strong, "weak": weak}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = resolve("docred-ie:dev")
    docs = data_io.load(path).documents[:120]
    run = evaluate(docs, _systems(docs), dataset="docred-ie:dev[:120]", dataset_path=path, n_resamples=500,
                   randomization_rounds=200, seed=7,
                   speed={"strong": {"docs_per_s": 5.0}, "weak": {"docs_per_s": 50.0}},
                   command="rexel-bench test")
    out = tmp_path_factory.mktemp("report")
    return run, write_report(run, out), out


def test_metrics_json_holds_every_number_and_provenance(report):
    run, _files, out = report
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["command"] == "rexel-bench test" and saved["seed"] == 7
    assert saved["dataset"]["sha256"] == run["dataset"]["sha256"] and len(saved["dataset"]["sha256"]) == 64
    assert {"rexel-bench", "python", "numpy"} <= set(saved["versions"])
    assert "git_commit" in saved
    strong = saved["systems"]["strong"]["metrics"]["e2e_linked"]
    assert set(strong["ci"]["f1"]) == {"value", "ci_percentile", "ci_bca"}
    assert strong["ci"]["f1"]["ci_percentile"][0] <= strong["values"]["f1"] <= strong["ci"]["f1"]["ci_percentile"][1]
    linked = [c for c in saved["comparisons"] if c["metric"] == "e2e_linked"]
    assert linked[0]["delta"] > 0 and linked[0]["p_holm"] < 0.05 and linked[0]["p_randomization"] < 0.05
    assert len(saved["per_document"]["doc_ids"]) == 120


def test_all_files_and_plots_written(report):
    _, _files, out = report
    for name in ("metrics.json", "report.md", "report.html", "leaderboard.csv", "leaderboard.tex"):
        assert (out / name).stat().st_size > 0
    for plot in ("scores", "speed", "by_tokens", "by_entities", "relations"):
        assert (out / "plots" / f"{plot}.png").stat().st_size > 5000
        assert (out / "plots" / f"{plot}.svg").read_text().lstrip().startswith("<?xml")


def test_html_is_self_contained(report):
    _, _, out = report
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<table>" in page and "strong" in page


def test_relations_are_named_where_a_person_reads_them(report, tmp_path):
    run, _, out = report
    assert "P17 country" in run["per_relation"]["names"]
    assert re.search(r"\| P17 country \| \d+ \|", (out / "report.md").read_text())
    from rexel_bench.reports.errors import write_error_analysis

    docs = data_io.load(resolve("docred-ie:dev")).documents[:5]
    write_error_analysis(docs, _systems(docs), tmp_path / "errors.html")
    page = (tmp_path / "errors.html").read_text()
    assert "P17 country" in page and "P131 located in the administrative territorial entity" in page


def test_plots_of_systems_with_long_names_are_written_without_a_warning(report, tmp_path):
    """A system named by long checkpoint paths (``rexel:/path/a+/path/b``) leaves too little room for the axes to
    be laid out: the figure is saved cropped to its contents instead, silently."""
    import warnings

    from rexel_bench.reports import plots
    from rexel_bench.reports.record import MetricsRecord

    run, _, _ = report
    long = "rexel:" + "+".join(f"/home/someone/experiments/checkpoints/seed-{i}/rexel-md1-r32" for i in range(3))
    renamed = {**run, "systems": {long if name == "strong" else name: entry for name, entry in run["systems"].items()}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = plots.plot_speed(MetricsRecord.from_dict(renamed), tmp_path)
    assert path.stat().st_size > 5000


def test_speed_axis_reads_as_plain_numbers(report, tmp_path, monkeypatch):
    from rexel_bench.reports import plots
    from rexel_bench.reports.record import MetricsRecord

    run, _, _ = report
    captured = {}
    monkeypatch.setattr(plots, "_save", lambda fig, out_dir, name: captured.setdefault(name, fig))
    plots.plot_speed(MetricsRecord.from_dict(run), tmp_path)
    figure = captured["speed"]
    figure.canvas.draw()
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"[0-9.]+", label) for label in labels), labels  # "5", "50": no 5×10⁰


def test_latex_marks_best_bold_and_significant_gap_with_dagger(report):
    _, _, out = report
    tex = (out / "leaderboard.tex").read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    strong_row = next(line for line in tex.splitlines() if line.startswith("strong"))
    weak_row = next(line for line in tex.splitlines() if line.startswith("weak"))
    assert r"\textbf{" in strong_row and r"$^\dagger$" in weak_row


def test_csv_has_every_metric_of_every_system(report):
    run, _, out = report
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    for system, entry in run["systems"].items():
        for metric in entry["metrics"]:
            assert any(r["system"] == system and r["metric"] == metric for r in rows), (system, metric)
    assert all(r["dataset_sha256"] == run["dataset"]["sha256"] for r in rows)


def test_markdown_report_lists_speed_comparisons_and_notes(report):
    _, _, out = report
    text = (out / "report.md").read_text()
    for heading in ("## Scores", "## Speed", "## Paired comparisons", "## Plots", "## Notes"):
        assert heading in text
    assert "ED excludes" in text


def test_leaderboard_merges_runs_and_refuses_different_data(report, tmp_path):
    run, _, out = report
    merged = merge_runs([out, out], "e2e_linked", n_resamples=200)
    assert len(merged["systems"]) == 4  # duplicates of the same run are labelled by directory
    other = json.loads(json.dumps(run))
    other["dataset"]["sha256"] = "0" * 64
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "metrics.json").write_text(json.dumps(other))
    with pytest.raises(ConfigError, match="different data"):
        merge_runs([out, tmp_path / "other"], "e2e_linked")
    other = json.loads(json.dumps(run))
    other["metric_versions"]["e2e_linked"] = "2"
    (tmp_path / "other" / "metrics.json").write_text(json.dumps(other))
    with pytest.raises(ConfigError, match="version"):
        merge_runs([out, tmp_path / "other"], "e2e_linked")


def test_compare_and_leaderboard_commands(tmp_path):
    docs = data_io.load(resolve("docred-ie:dev")).documents[:60]
    data_io.write(docs, tmp_path / "gold.json", "docred-ie")
    for name, pred in _systems(docs).items():
        data_io.write(pred, tmp_path / f"{name}.jsonl")
    result = runner.invoke(app, ["compare", str(tmp_path / "strong.jsonl"), str(tmp_path / "weak.jsonl"),
                                 "--gold", str(tmp_path / "gold.json"), "--out", str(tmp_path / "run"),
                                 "--bootstrap", "300", "--randomization", "100"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "report.html").exists()
    board = runner.invoke(app, ["leaderboard", str(tmp_path / "run"), "--format", "csv", "--bootstrap", "200"])
    assert board.exit_code == 0 and "strong,e2e_linked,f1" in board.output
    bad = runner.invoke(app, ["leaderboard", str(tmp_path / "nowhere")])
    assert bad.exit_code == 2 and "not a report directory" in bad.output


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_html_report_renders_in_headless_chromium(report, tmp_path):
    """The page opens offline in Chromium and the screenshot shows the table and plots."""
    _, _, out = report
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400",
                    f"--screenshot={shot}", (out / "report.html").as_uri()], check=True, timeout=120,
                   capture_output=True)
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 2400)
    colours = image.resize((120, 240)).getcolors(maxcolors=100_000)
    assert colours is not None and len(colours) > 50  # not a blank page: text, table rules and plots
    Path(out / "screenshot.png").write_bytes(shot.read_bytes())


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_error_page_shows_relation_names_in_headless_chromium(tmp_path):
    """The error page, rendered by Chromium: its DOM after the page's script ran names the relations, and
    the screenshot is a drawn page (kept beside it as error-page.png)."""
    from PIL import Image

    from rexel_bench.reports.errors import write_error_analysis

    docs = data_io.load(resolve("docred-ie:dev")).documents[:8]
    write_error_analysis(docs, _systems(docs), tmp_path / "errors.html")
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
              "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp_path / 'p'}"]
    dom = subprocess.run([*common, "--dump-dom", (tmp_path / "errors.html").as_uri()], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    assert "P17 country" in dom and "located in the administrative territorial entity" in dom
    shot = tmp_path / "error-page.png"
    subprocess.run([*common, "--window-size=1200,1600", f"--screenshot={shot}", (tmp_path / "errors.html").as_uri()],
                   check=True, timeout=120, capture_output=True)
    colours = Image.open(shot).convert("RGB").resize((120, 160)).getcolors(maxcolors=100_000)
    assert colours is not None and len(colours) > 20


def test_the_report_page_names_metrics_explains_linking_and_renders_markdown(report):
    _, _, out = report
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Linked facts (e2e_linked)" in page and "Coreference (CoNLL) (coref_conll)" in page
    assert "which knowledge base produced each system" in page
    assert "`" not in page.split("<body>", 1)[1]  # no Markdown left unrendered: code spans are <code>
    assert "<code>" in page
    assert "Against the reference system, strong" in page


def test_bold_marks_only_a_significant_lead():
    from rexel_bench.reports.record import MetricsRecord
    from rexel_bench.reports.tables import marks

    def run(p_holm: float) -> MetricsRecord:
        def system(f1: float) -> dict:
            return {"source": None, "notes": [], "metrics": {"m": {"description": "", "family": "f", "headline": "f1",
                                                                   "values": {"f1": f1}, "totals": {}}}}
        return MetricsRecord.from_dict({
            "kind": "compare", "command": "", "git_commit": None, "dataset": {}, "metric_versions": {},
            "systems": {"a": system(0.5), "b": system(0.4)}, "family": None, "bootstrap": None, "per_document": None,
            "comparisons": [{"metric": "m", "a": "a", "b": "b", "delta": 0.1, "p_two_sided": p_holm,
                             "p_holm": p_holm, "confirmatory": True}]}, checked=True)
    assert marks(run(0.01), "m") == {"a": (True, False), "b": (False, True)}
    assert marks(run(0.20), "m") == {"a": (False, False), "b": (False, False)}  # best, but not shown to lead


def test_the_error_page_counts_every_error_kind_of_every_system(tmp_path):
    from collections import Counter

    from rexel_bench.reports.errors import ERROR_KINDS, error_counts, write_error_analysis

    docs = data_io.load(resolve("docred-ie:dev")).documents[:8]
    systems = _systems(docs)
    write_error_analysis(docs, systems, tmp_path / "errors.html")
    page = (tmp_path / "errors.html").read_text(encoding="utf-8")
    assert "Errors by kind" in page
    for name, preds in systems.items():
        totals = sum((error_counts(g, p) for g, p in zip(docs, preds, strict=True)), Counter())
        row = page.split(f"<tr><th>{name}</th>", 1)[1].split("</tr>", 1)[0]
        for kind in ERROR_KINDS:
            assert f'data-kind="{kind}">{totals[kind]:,} ' in row
        assert totals["missed-fact"] > 0


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_comparison_table_and_error_summary_render_in_headless_chromium(report, tmp_path):
    """The reference comparison of the report and the error-kind summary of the error page, as Chromium draws
    them (DOM after load, and screenshots kept beside the pages)."""
    from PIL import Image

    from rexel_bench.reports.errors import write_error_analysis

    _, _, out = report
    docs = data_io.load(resolve("docred-ie:dev")).documents[:8]
    write_error_analysis(docs, _systems(docs), tmp_path / "errors.html")
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
              "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp_path / 'p'}"]
    for page, expected in ((out / "report.html", ("Against the reference system, strong", "weak", "behind")),
                           (tmp_path / "errors.html", ("Errors by kind", "missed facts", "in "))):
        dom = subprocess.run([*common, "--dump-dom", page.as_uri()], check=True, timeout=120, capture_output=True,
                             text=True).stdout
        assert all(text in dom for text in expected), (page, expected)
        shot = tmp_path / f"{page.stem}.png"
        subprocess.run([*common, "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri()], check=True,
                       timeout=120, capture_output=True)
        colours = Image.open(shot).convert("RGB").resize((120, 140)).getcolors(maxcolors=100_000)
        assert colours is not None and len(colours) > 20
