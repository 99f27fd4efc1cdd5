"""The KB, builder and audit commands as a user runs them."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve

runner = CliRunner(env={"COLUMNS": "240"})


def test_kb_build_lookup_stats_then_link_and_audit(tmp_path):
    docs = data_io.load(resolve("docred-ie:dev")).documents
    data_io.write(docs[:150], tmp_path / "kb-docs.json", "docred-ie")
    data_io.write(docs[150:170], tmp_path / "target.json", "docred-ie")
    kb = tmp_path / "kb.sqlite"
    result = runner.invoke(app, ["kb", "build", "--docred-ie", str(tmp_path / "kb-docs.json"), "--out", str(kb)])
    assert result.exit_code == 0, result.output
    lookup = runner.invoke(app, ["kb", "lookup", "U.S.", "--kb", str(kb)])
    assert lookup.exit_code == 0 and "Q30" in lookup.output
    stats = runner.invoke(app, ["kb", "stats", "--kb", str(kb)])
    assert stats.exit_code == 0 and '"entities"' in stats.output
    missing = runner.invoke(app, ["kb", "stats", "--kb", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "no knowledge base" in missing.output

    out = tmp_path / "linked.json"
    built = runner.invoke(app, ["build-docred-ie", "--input", str(tmp_path / "target.json"), "--kb", str(kb),
                                "--out", str(out)])
    assert built.exit_code == 0, built.output
    linked = data_io.load(out)
    assert linked.format == "docred-ie" and len(linked.documents) == 20
    assert any(e.qid for d in linked.documents for e in d.entities)
    methods = {m.extra["link_method"] for d in linked.documents for m in d.mentions}
    assert "num/time" in methods and methods & {"alias-prior+type", "alias-prior", "relation-consistency"}

    audit = runner.invoke(app, ["audit", str(out), "--reference", str(tmp_path / "target.json"), "--kb", str(kb),
                                "--out", str(tmp_path)])
    assert audit.exit_code == 0, audit.output
    report = json.loads((tmp_path / "audit.json").read_text())
    assert report["agreement_with_reference"]["documents_matched"] == 20
    assert "Link coverage by type" in (tmp_path / "audit.md").read_text()

    sample = runner.invoke(app, ["audit", "sample", str(out), "--n", "10", "--seed", "0", "--kb", str(kb),
                                 "--out", str(tmp_path)])
    assert sample.exit_code == 0, sample.output
    rows = list(csv.DictReader((tmp_path / "sample.csv").open()))
    for row in rows:
        row["judgement"] = "correct"
    with (tmp_path / "sample.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    scored = runner.invoke(app, ["audit", "score", str(tmp_path / "sample.csv")])
    assert scored.exit_code == 0 and "100.0%" in scored.output


def test_a_one_edit_build_names_the_two_files_that_go_together(tmp_path):
    (tmp_path / "aliases.tsv").write_text("Illinois\tQ1174\t1\nIndiana\tQ1415\t1\n")
    kb = tmp_path / "kb.sqlite"
    result = runner.invoke(app, ["kb", "build", "--tsv", str(tmp_path / "aliases.tsv"), "--out", str(kb),
                                 "--fuzzy-index", "one-edit"])
    assert result.exit_code == 0, result.output
    assert f"{kb}-deletions" in " ".join(result.output.split()) and "keep the two files together" in result.output
    lookup = runner.invoke(app, ["kb", "lookup", "Ilinois", "--kb", str(kb)])
    assert lookup.exit_code == 0 and "Q1174" in lookup.output
    (tmp_path / "kb.sqlite-deletions").unlink()
    lookup = runner.invoke(app, ["kb", "lookup", "Ilinois", "--kb", str(kb)])
    said = " ".join(lookup.output.split())
    assert lookup.exit_code == 2 and "kb.sqlite-deletions" in said and "index file is missing" in said
