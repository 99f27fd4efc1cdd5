"""The main flows as a user drives them from a terminal, a pipe, a script and a notebook: every metric family
name is accepted wherever a metric list is, and output written to a pipe is the exported file itself."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.scoring.api import FAMILIES

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Twenty real DocRED-IE dev documents as gold, and two systems: the gold itself, and the gold with one
    fact per document."""
    folder = tmp_path_factory.mktemp("flows")
    gold = data_io.load(resolve("docred-ie:dev")).documents[:20]
    paths = {"gold": folder / "gold.jsonl", "a": folder / "a.jsonl", "b": folder / "b.jsonl"}
    data_io.write(gold, paths["gold"])
    data_io.write(gold, paths["a"])
    data_io.write([dataclasses.replace(d, relations=d.relations[:1]) for d in gold], paths["b"])
    return paths


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_name_is_accepted_by_score_compare_and_the_api(files, family, tmp_path):
    import rexel_bench as rb

    scored = runner.invoke(app, ["score", str(files["gold"]), str(files["b"]), "-m", family])
    assert scored.exit_code == 0, scored.output
    compared = runner.invoke(app, ["compare", str(files["a"]), str(files["b"]), "--gold", str(files["gold"]),
                                   "-m", family, "--bootstrap", "50", "--out", str(tmp_path / "c")])
    assert compared.exit_code == 0, compared.output
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    families = {entry["family"] for system in metrics["systems"].values() for entry in system["metrics"].values()}
    assert families == {family}
    report = rb.compare(str(files["gold"]), {"a": str(files["a"]), "b": str(files["b"])}, metrics=[family],
                        bootstrap=50)
    assert set(report.to_pandas()["family"]) == {family}


def test_a_family_name_is_accepted_by_run(files, tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    done = runner.invoke(app, ["run", "--models", f"file:{files['b']}", "--dataset", str(files["gold"]),
                               "--metrics", "end-to-end", "--bootstrap", "50", "--out", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert {e["family"] for e in metrics["systems"][f"file:{files['b']}"]["metrics"].values()} == {"end-to-end"}


@pytest.fixture(scope="module")
def two_runs(files, tmp_path_factory) -> list[Path]:
    """Two report folders (a compare of the two systems, twice with other names) for the leaderboard."""
    folder = tmp_path_factory.mktemp("runs")
    runs = []
    for name in ("first", "second"):
        done = runner.invoke(app, ["compare", str(files["a"]), str(files["b"]), "--gold", str(files["gold"]),
                                   "--names", f"{name}-a,{name}-b", "--bootstrap", "50", "--out", str(folder / name)])
        assert done.exit_code == 0, done.output
        runs.append(folder / name)
    return runs


@pytest.mark.parametrize("fmt", ["md", "csv", "tex", "html"])
def test_a_leaderboard_written_to_a_pipe_is_byte_identical_to_out(two_runs, fmt, tmp_path):
    out = tmp_path / f"lb.{fmt}"
    to_file = runner.invoke(app, ["leaderboard", *map(str, two_runs), "--format", fmt, "--bootstrap", "50",
                                  "--out", str(out)])
    piped = runner.invoke(app, ["leaderboard", *map(str, two_runs), "--format", fmt, "--bootstrap", "50"])
    assert to_file.exit_code == piped.exit_code == 0, piped.output
    assert piped.stdout == out.read_text(encoding="utf-8")
    if fmt == "csv":
        rows = [line.count(",") for line in piped.stdout.splitlines()]
        assert len(set(rows)) == 1 and len(rows) > 1  # every row whole: as many fields as the header
    if fmt == "tex":
        assert all(not line.lstrip().startswith(("Bold", "best")) for line in piped.stdout.splitlines())


def test_compare_tables_in_a_pipe_keep_one_row_per_line(files, tmp_path):
    done = runner.invoke(app, ["compare", str(files["a"]), str(files["b"]), "--gold", str(files["gold"]),
                               "--bootstrap", "50", "--out", str(tmp_path / "c")])
    rows = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert rows and len({line.count("|") for line in rows}) == 1, done.stdout


@pytest.mark.parametrize("command", [["score", "GOLD", "B"], ["validate", "B"], ["stats", "B"]])
def test_json_dash_writes_json_alone_to_standard_output(files, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [str(files["gold"]) if a == "GOLD" else str(files["b"]) if a == "B" else a for a in command]
    done = runner.invoke(app, [*args, "--json", "-"])
    assert done.exit_code == 0, done.output
    assert isinstance(json.loads(done.stdout), dict)
    assert not (tmp_path / "-").exists()


def test_quiet_prints_the_results_and_nothing_else(files):
    loud = runner.invoke(app, ["score", str(files["gold"]), str(files["b"])])
    quiet = runner.invoke(app, ["--quiet", "score", str(files["gold"]), str(files["b"])])
    assert quiet.exit_code == loud.exit_code == 0
    assert "convention:" in loud.stdout and "convention:" not in quiet.stdout
    assert "e2e_linked" in quiet.stdout


def test_only_predicted_scores_the_covered_documents_and_counts_the_rest(files, tmp_path):
    import rexel_bench as rb

    five = data_io.load(files["b"]).documents[:5]
    data_io.write(five, tmp_path / "five.jsonl")
    alone = rb.score(data_io.load(files["gold"]).documents[:5], five)
    covered = rb.score(str(files["gold"]), str(tmp_path / "five.jsonl"), only_predicted=True)
    assert len(covered.doc_ids) == 5
    assert {m: r.values for m, r in covered.metrics.items()} == {m: r.values for m, r in alone.metrics.items()}
    assert any("15 gold document(s) without a prediction left out" in note for note in covered.notes)
    everything = rb.score(str(files["gold"]), str(tmp_path / "five.jsonl"))
    assert len(everything.doc_ids) == 20
    shown = runner.invoke(app, ["score", str(files["gold"]), str(tmp_path / "five.jsonl"), "--only-predicted"])
    assert shown.exit_code == 0 and "15 gold document(s) without a prediction left out" in shown.stdout


def test_score_prints_the_conventions_of_the_metrics_it_scored_only(files):
    docred = runner.invoke(app, ["score", str(files["gold"]), str(files["b"]), "-m", "docred"]).stdout
    conventions = [line for line in docred.splitlines() if line.startswith("convention:")]
    assert any("DocRED protocol" in line for line in conventions)
    assert not any("Coreference" in line or "e2e_hard" in line for line in conventions)


def test_every_command_that_writes_a_folder_or_file_takes_out():
    for command in (["compare"], ["leaderboard"], ["train"], ["run"], ["predict"], ["kb", "build"],
                    ["build-docred-ie"], ["audit", "check"], ["audit", "sample"]):
        assert "--out" in runner.invoke(app, [*command, "--help"]).output, command


def test_compare_takes_several_files_and_ends_saying_who_is_ahead(files, tmp_path):
    worse = tmp_path / "worse.jsonl"
    data_io.write([dataclasses.replace(d, relations=()) for d in data_io.load(files["gold"]).documents], worse)
    done = runner.invoke(app, ["compare", str(files["a"]), str(files["b"]), str(worse), "--gold", str(files["gold"]),
                               "--bootstrap", "2000", "--randomization", "0", "--out", str(tmp_path / "c")])
    assert done.exit_code == 0, done.output
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert list(metrics["systems"]) == ["a", "b", "worse"]
    lines = done.stdout.splitlines()
    b_line = next(line for line in lines if line.startswith("b against a:"))
    assert "significantly behind on e2e_linked" in b_line and "level (no significant difference) on" in b_line
    assert any(line.startswith("worse against a:") for line in lines)
    assert "Against the reference system, a" in (tmp_path / "c" / "report.md").read_text()


def test_a_verdict_reads_the_comparison_in_either_direction(files):
    import rexel_bench as rb
    from rexel_bench.reports.record import MetricsRecord
    from rexel_bench.reports.verdicts import verdicts

    run = MetricsRecord.from_dict(rb.compare(str(files["gold"]), {"b": str(files["b"]), "a": str(files["a"])},
                                             bootstrap=2000, metrics=["end-to-end"]).to_dict())
    found = {v.metric: v for v in verdicts(run)}  # a against the reference b: ahead, a positive difference
    linked = found["e2e_linked"]
    assert linked.system == "a" and linked.reference == "b" and linked.delta > 0 and linked.outcome == "ahead"
    assert linked.interval[0] > 0 and linked.interval[0] <= linked.delta <= linked.interval[1]
    same = MetricsRecord.from_dict(rb.compare(str(files["gold"]), {"a": str(files["a"]), "copy": str(files["a"])},
                                              bootstrap=100, metrics=["end-to-end"]).to_dict())
    assert all(v.outcome == "level" and v.delta == 0 for v in verdicts(same))


def test_too_few_resamples_for_any_significance_is_said(files, tmp_path):
    done = runner.invoke(app, ["compare", str(files["a"]), str(files["b"]), "--gold", str(files["gold"]),
                               "--bootstrap", "100", "--out", str(tmp_path / "c")])
    assert "no difference can be significant" in done.stdout and "--bootstrap" in done.stdout


def test_run_ends_saying_who_is_ahead(files, tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    done = runner.invoke(app, ["run", "--models", f"file:{files['a']},file:{files['b']}", "--dataset",
                               str(files["gold"]), "--bootstrap", "2000", "--out", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    assert any(line.startswith(f"file:{files['b']} against file:{files['a']}:") for line in done.stdout.splitlines())


@pytest.mark.parametrize(("name", "content", "ids"), [
    ("news.JSONL", '{"id": "n1", "text": "Berlin is the capital of Germany."}\n', ["n1"]),
    ("news.json", '[{"id": "a", "text": "Berlin is in Germany."}, {"text": "Paris is in France."}]', ["a", "news-2"]),
    ("news.data", '{"id": "z", "text": "Berlin is in Germany."}\n', ["z"]),
    ("news.TXT", "Berlin is in Germany.\nParis is in France.\n", ["news-1", "news-2"]),
])
def test_predict_reads_text_or_json_records_by_suffix_in_any_case_or_by_content(name, content, ids, tmp_path,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(content, encoding="utf-8")
    done = runner.invoke(app, ["predict", name, "--out", "o.jsonl", "--model", "pipeline-heuristic"])
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ids
    fact = next(f for line in lines for f in line["meta"]["facts"])
    assert {"head_label", "relation_name", "tail_label"} <= set(fact) and fact["relation_name"] != fact["relation"]
    assert "embedded default KB" in done.stdout and "kb build --wikidata-dump" in done.stdout


def test_show_prints_entities_and_facts_with_names(files):
    done = runner.invoke(app, ["show", str(files["gold"]), "--limit", "1"])
    assert done.exit_code == 0, done.output
    first = data_io.load(files["gold"]).documents[0]
    assert first.title in done.stdout and "entities" in done.stdout and "facts" in done.stdout
    assert first.entities[0].qid in done.stdout
    assert "country (P17)" in done.stdout or "(P" in done.stdout


def test_a_model_predicts_plain_strings():
    import rexel_bench as rb

    [doc] = rb.load_model("pipeline-heuristic").predict(["Angela Merkel was born in Hamburg."])
    assert doc.id == "text-1" and doc.sentences[0][:2] == ("Angela", "Merkel")
    assert {e.qid for e in doc.entities} >= {"Q567", "Q1055"}


def test_validate_names_spans_repeated_within_and_across_entities(tmp_path):
    from rexel_bench.data.model import Entity

    doc = data_io.load(resolve("docred-ie:dev")).documents[0]
    first, second = doc.entities[0], doc.entities[1]
    twice = dataclasses.replace(first, mentions=(*first.mentions, first.mentions[0]))
    shared = dataclasses.replace(second, mentions=(*second.mentions, first.mentions[0]))
    edited = dataclasses.replace(doc, entities=(twice, shared, *doc.entities[2:]))
    assert isinstance(edited.entities[0], Entity)
    data_io.write([edited], tmp_path / "repeats.jsonl")
    done = runner.invoke(app, ["validate", str(tmp_path / "repeats.jsonl"), "--show", "50"])
    assert done.exit_code == 0, done.output
    span = first.mentions[0].text
    repeated = [line for line in done.stdout.splitlines() if repr(span) in line and "listed" in line]
    assert len(repeated) == 1 and "listed 3 times in 2 entities" in repeated[0] and "100 on coreference" in repeated[0]
    scored = runner.invoke(app, ["score", str(tmp_path / "repeats.jsonl"), str(tmp_path / "repeats.jsonl")])
    assert "even a perfect system does not score 100 on coreference" in scored.stdout


def _short_lines(docs, *, by_chars: bool = False) -> str:
    """Each document as a person writes a prediction: ids, spans, types, QIDs, fine types and facts with their
    evidence, nothing the gold already has (sentences, mention text)."""
    from rexel_bench.scoring.short_form import document_text

    lines = []
    for doc in docs:
        text = document_text(doc)
        entities = []
        for e in doc.entities:
            mentions = []
            for m in e.mentions:
                if by_chars:
                    begin = len(" ".join(" ".join(s) for s in doc.sentences[:m.sent]) + (" " if m.sent else ""))
                    begin += len(" ".join(doc.sentences[m.sent][:m.start])) + (1 if m.start else 0)
                    mention = {"char_span": [begin, begin + len(" ".join(doc.sentences[m.sent][m.start:m.end]))]}
                    assert text[mention["char_span"][0]:mention["char_span"][1]] == " ".join(doc.span_tokens(m))
                else:
                    mention = {"sent": m.sent, "start": m.start, "end": m.end}
                fine = [{"qid": f.qid, "label": f.label} for f in m.fine_types]
                mention.update(type=m.type, qid=m.qid, fine_types=fine)
                mentions.append(mention)
            entities.append({"mentions": mentions, "type": e.type, "qid": e.qid,
                             "fine_types": [{"qid": f.qid, "label": f.label} for f in e.fine_types]})
        relations = [{"head": r.head, "tail": r.tail, "label": r.label, "evidence": list(r.evidence or ())}
                     for r in doc.relations]
        lines.append(json.dumps({"id": doc.id, "entities": entities, "relations": relations}))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("by_chars", [False, True])
def test_a_hand_written_short_prediction_scores_as_the_full_format(files, tmp_path, by_chars):
    import rexel_bench as rb

    docs = data_io.load(files["b"]).documents
    short = tmp_path / "short.jsonl"
    short.write_text(_short_lines(docs, by_chars=by_chars), encoding="utf-8")
    full = rb.score(str(files["gold"]), str(files["b"]))
    brief = rb.score(str(files["gold"]), str(short))
    assert {m: r.values for m, r in brief.metrics.items()} == {m: r.values for m, r in full.metrics.items()}


def test_a_minimal_prediction_line_with_null_qid_and_title_alignment(files, tmp_path):
    import rexel_bench as rb

    doc = data_io.load(files["gold"]).documents[0]
    line = {"title": doc.title, "entities": [{"mentions": [{"sent": 0, "start": 0, "end": 1}], "qid": None}]}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = rb.score(str(files["gold"]), str(path), only_predicted=True)
    assert result.doc_ids == [doc.id] and result.metrics["md"].values["p"] in (0.0, 1.0)


def test_a_bad_character_span_names_file_document_field_expected_and_found(files, tmp_path):
    doc = data_io.load(files["gold"]).documents[0]
    line = {"id": doc.id, "entities": [{"mentions": [{"char_span": [1, 4]}]}]}
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    done = runner.invoke(app, ["score", str(files["gold"]), str(path)])
    assert done.exit_code == 2
    for part in (str(path), "document 0", "entities[0].mentions[0].char_span", "whole tokens", "[1, 4]"):
        assert part in done.output, (part, done.output)


TRIPLES = Path(__file__).resolve().parent / "fixtures" / "linked-triples.jsonl"


def _linked_facts_of(docs):
    return {(d.id, d.entities[r.head].qid, r.label, d.entities[r.tail].qid) for d in docs for r in d.relations
            if d.entities[r.head].qid and d.entities[r.tail].qid}


def test_linked_triples_are_scored_on_linked_facts_as_a_brute_force_count_gives(tmp_path):
    import rexel_bench as rb

    gold = rb.load("docred-ie:dev")[:3]
    predicted = rb.load(str(TRIPLES))
    assert [d.id for d in predicted] == [d.id for d in gold]  # the second line names its document by title
    result = rb.score("docred-ie:dev", str(TRIPLES), only_predicted=True)
    assert set(result.metrics) == {"e2e_linked", "e2e_linked.macro"}
    mine, theirs = _linked_facts_of(predicted), _linked_facts_of(gold)
    right = len(mine & theirs)
    values = result.metrics["e2e_linked"].values
    assert values["p"] == pytest.approx(right / len(mine)) and values["r"] == pytest.approx(right / len(theirs))
    assert any("linked triples" in note for note in result.notes)


def test_linked_triples_compare_and_run_beside_a_full_system(tmp_path, monkeypatch):
    import rexel_bench as rb

    gold = tmp_path / "gold.jsonl"
    data_io.write(rb.load("docred-ie:dev")[:3], gold)
    full = tmp_path / "full.jsonl"
    data_io.write(rb.load("docred-ie:dev")[:3], full)
    compared = runner.invoke(app, ["compare", str(full), str(TRIPLES), "--gold", str(gold), "--bootstrap", "200",
                                   "--out", str(tmp_path / "c")])
    assert compared.exit_code == 0, compared.output
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert {c["metric"] for c in metrics["comparisons"]} == {"e2e_linked", "e2e_linked.macro"}
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    ran = runner.invoke(app, ["run", "--models", f"file:{TRIPLES}", "--dataset", str(gold), "--bootstrap", "50",
                              "--out", str(tmp_path / "r")])
    assert ran.exit_code == 0, ran.output
    assert "e2e_linked" in json.loads((tmp_path / "r" / "metrics.json").read_text())["systems"][f"file:{TRIPLES}"][
        "metrics"]


def test_score_json_to_a_pipe_equals_the_file(files, tmp_path):
    to_file = runner.invoke(app, ["score", str(files["gold"]), str(files["b"]), "--json", str(tmp_path / "s.json")])
    piped = runner.invoke(app, ["score", str(files["gold"]), str(files["b"]), "--json", "-"])
    assert to_file.exit_code == piped.exit_code == 0
    written, streamed = json.loads((tmp_path / "s.json").read_text(encoding="utf-8")), json.loads(piped.stdout)
    assert written.pop("created") and streamed.pop("created")  # the one field that says when
    assert streamed == written


def test_holm_corrects_exactly_the_prestated_family(files, tmp_path):
    import rexel_bench as rb
    from rexel_bench.stats.compare import FAMILY_METRICS

    worse = tmp_path / "worse.jsonl"
    data_io.write([dataclasses.replace(d, relations=()) for d in data_io.load(files["gold"]).documents], worse)
    run = rb.compare(str(files["gold"]), {"a": str(files["a"]), "b": str(files["b"]), "worse": str(worse)},
                     bootstrap=500, randomization=0, reference="b").to_dict()
    scored = set(run["systems"]["a"]["metrics"])
    stated = {(m, other) for m in FAMILY_METRICS if m in scored for other in ("a", "worse")}
    family = {(c["metric"], c["a"] if c["b"] == "b" else c["b"]) for c in run["comparisons"] if c["confirmatory"]}
    assert family == stated and run["family"]["comparisons"] == len(stated) and run["family"]["reference"] == "b"
    assert all((c["p_holm"] is None) != c["confirmatory"] for c in run["comparisons"])
    exploratory = [c for c in run["comparisons"] if not c["confirmatory"]]
    assert exploratory and all("b" not in (c["a"], c["b"]) or c["metric"] not in FAMILY_METRICS for c in exploratory)


def test_identical_systems_are_level_with_p_one():
    import rexel_bench as rb

    docs = data_io.load(resolve("docred-ie:dev")).documents[:20]
    run = rb.compare(docs, {"one": docs, "same": docs}, bootstrap=200, randomization=0).to_dict()
    assert all(c["p_holm"] == 1.0 for c in run["comparisons"] if c["confirmatory"])
