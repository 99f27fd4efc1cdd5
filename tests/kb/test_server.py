"""The PostgreSQL back-end against a real local server (started and stopped here; PostgreSQL with pg_trgm from the
Debian packages, which .ci/run installs): it returns the embedded file's candidates, facts and hash."""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import build_kb
from rexel_bench.kb.server import ServerKnowledgeBase, load_kb, redacted
from rexel_bench.kb.store import KnowledgeBase, is_server_url, open_kb
from tests.kb.conftest import write_realistic_dump
from tests.kb.test_kb import write_dump

psycopg = pytest.importorskip("psycopg", reason="the server back-end needs psycopg (the test extra installs it)")


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)),
                                            None)
    return Path(found).parent if found else None


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a Unix socket in a temporary folder (as the ``postgres`` user when the
    tests run as root, since PostgreSQL refuses root), stopped and removed afterwards."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql postgresql-contrib; .ci/run does)")
    folder = Path(tempfile.mkdtemp(prefix="rexel-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"

    def pg(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    pg(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
       f"-k {folder} -c listen_addresses='' -p 54329 -c fsync=off", "start")
    try:
        yield f"postgresql://postgres@/postgres?host={folder}&port=54329"
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module", params=["trigram", "one-edit", "prefix-trigram", "one-edit+prefix-trigram"])
def both(request, server_url, tmp_path_factory) -> Iterator[tuple[KnowledgeBase, ServerKnowledgeBase]]:
    """The same KB as a file and loaded into the server."""
    folder = tmp_path_factory.mktemp(request.param)
    write_realistic_dump(folder / "dump.json", 600)
    build_kb(folder / "kb.sqlite", wikidata_dump=[folder / "dump.json", write_dump(folder / "places.json", 40)],
             fuzzy_index=request.param)
    with KnowledgeBase(folder / "kb.sqlite") as file:
        copied = load_kb(file, server_url)
        assert copied["entities"] == file.stats()["entities"] and copied["aliases"] == file.stats()["aliases"]
        with ServerKnowledgeBase(server_url) as server:
            yield file, server


def _queries(kb: KnowledgeBase) -> list[str]:
    """Aliases as held, in other cases, with a letter dropped or two swapped, and texts held nowhere."""
    rng = random.Random(0)
    aliases = [a for (a,) in kb.db.execute("SELECT alias FROM aliases WHERE length(alias) >= 6 ORDER BY alias")]
    picked = rng.sample(aliases, 60)
    dropped = [a[:3] + a[4:] for a in picked]
    swapped = [a[:2] + a[3] + a[2] + a[4:] for a in picked]
    return [*picked, *(a.lower() for a in picked[:10]), *dropped, *swapped, "Place 7", "P7 twon", "zzqx", "", "a"]


def test_the_server_returns_the_files_candidates(both):
    file, server = both
    queries = _queries(file)
    fuzzy = sum(1 for q in queries if (c := file.candidates(q, k=8)) and c[0].match == "fuzzy")
    assert fuzzy >= 20  # the fuzzy path is exercised, not only exact look-ups
    for text in queries:
        assert server.candidates(text, k=8) == file.candidates(text, k=8), text


def test_the_server_reads_entities_facts_classes_and_provenance_as_the_file(both):
    file, server = both
    qids = [q for (q,) in file.db.execute("SELECT qid FROM entities ORDER BY qid LIMIT 50")]
    assert [server.entity(q) for q in qids] == [file.entity(q) for q in qids]
    assert server.entity("Q999999999") is None
    subject, prop, obj = file.db.execute("SELECT * FROM facts ORDER BY 1, 2, 3 LIMIT 1").fetchone()
    assert server.has_fact(subject, prop, obj) and not server.has_fact(subject, prop, "Q0")
    assert server.facts_between(qids, [f"Q{i}" for i in range(300)]) == file.facts_between(qids, [f"Q{i}" for i in
                                                                                                   range(300)])
    assert server.class_label("Q5") == file.class_label("Q5")
    assert server.documents() == file.documents() == []
    assert server.stats() == file.stats()
    assert server.content_hash == file.content_hash and server.fuzzy_index == file.fuzzy_index


def test_open_kb_takes_a_url_and_records_it_without_its_password(server_url, both):
    assert is_server_url(server_url) and not is_server_url("kb.sqlite") and not is_server_url(Path("a:/b"))
    with open_kb(server_url) as kb:
        assert isinstance(kb, ServerKnowledgeBase) and kb.location == server_url and kb.name.startswith("postgres")
    assert redacted("postgresql://ann:secret@db.lab:5432/kb") == "postgresql://ann:***@db.lab:5432/kb"


def test_a_database_without_a_kb_and_an_unreachable_server_are_refused(server_url):
    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS empty")
        db.execute("CREATE DATABASE empty")
    with pytest.raises(ConfigError, match="holds no knowledge base"):
        ServerKnowledgeBase(server_url.replace("/postgres?", "/empty?"))
    with pytest.raises(ConfigError, match="cannot connect"):
        ServerKnowledgeBase(server_url.replace("port=54329", "port=54328"))


def test_kb_load_then_every_command_takes_the_url_and_scores_as_with_the_file(server_url, tmp_path):
    """A new user's path: copy the embedded KB into the server, look a name up and run a system with --kb URL."""
    import json

    from typer.testing import CliRunner

    from rexel_bench.cli import app
    from rexel_bench.kb.build import default_kb_path

    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS docred")
        db.execute("CREATE DATABASE docred")
    url, kb_file, runner = server_url.replace("/postgres?", "/docred?"), str(default_kb_path()), CliRunner()
    loaded = runner.invoke(app, ["kb", "load", url, "--kb", kb_file])
    assert loaded.exit_code == 0 and "aliases:" in loaded.output, loaded.output
    looked_up = [runner.invoke(app, ["kb", "lookup", "U.S.", "--kb", kb]).output for kb in (url, kb_file)]
    assert looked_up[0] == looked_up[1] and "Q30" in looked_up[0]
    scores = {}
    for name, kb in (("server", url), ("file", kb_file)):
        done = runner.invoke(app, ["run", "--models", "pipeline-heuristic", "--limit", "5", "--bootstrap", "20",
                                   "--kb", kb, "--no-cache", "--out", str(tmp_path / name)])
        assert done.exit_code == 0, done.output
        record = json.loads((tmp_path / name / "metrics.json").read_text())
        (system,) = record["systems"].values()
        scores[name] = system["metrics"]
    assert scores["server"] == scores["file"]
    refused = runner.invoke(app, ["kb", "load", "kb.sqlite"])
    assert refused.exit_code != 0 and "not a PostgreSQL URL" in refused.output
