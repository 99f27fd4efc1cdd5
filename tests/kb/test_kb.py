"""Knowledge base: dump ingestion (plain, gz, bz2; streamed; on a Dask local cluster), look-up, priors."""

from __future__ import annotations

import bz2
import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from rexel_bench.errors import DataError
from rexel_bench.kb.build import build_kb
from rexel_bench.kb.ingest.sources import ingest_tsv
from rexel_bench.kb.ingest.wikidata_dump import DumpFilter, dump_pieces, ingest_dump, iter_dump, parse_pieces
from rexel_bench.kb.normalize import normalize_alias
from rexel_bench.kb.store import KnowledgeBase
from tests.kb.conftest import write_realistic_dump


def _entity(i: int) -> dict:
    """A Wikidata-dump-shaped item: label, aliases, description, P31 class, a P17 fact."""
    return {"type": "item", "id": f"Q{i}", "labels": {"en": {"language": "en", "value": f"Place {i}"}},
            "aliases": {"en": [{"language": "en", "value": f"P{i} town"}]},
            "descriptions": {"en": {"language": "en", "value": f"a place numbered {i}"}},
            "claims": {"P31": [{"mainsnak": {"datavalue": {"value": {"entity-type": "item", "id": "Q515"}}}}],
                       "P17": [{"mainsnak": {"datavalue": {"value": {"entity-type": "item", "id": "Q30"}}}}],
                       "P1082": [{"mainsnak": {"datavalue": {"value": {"amount": "+5"}}}}]}}


def write_dump(path: Path, n: int) -> Path:
    """The official dump layout: '[', one entity per line with a trailing comma, ']'."""
    lines = ["["] + [json.dumps(_entity(i)) + ("," if i < n else "") for i in range(1, n + 1)] + ["]"]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    elif path.suffix == ".bz2":
        with bz2.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".json", ".json.gz", ".json.bz2"])
def test_stream_reads_every_format_with_filters(tmp_path, suffix):
    path = write_dump(tmp_path / f"dump{suffix}", 50)
    records = list(iter_dump(path, DumpFilter(qids=frozenset({"Q3", "Q7"}), properties=frozenset({"P17"}))))
    assert [r.qid for r in records] == ["Q3", "Q7"]
    r = records[0]
    assert r.label == "Place 3" and r.aliases == {"P3 town": 1.0, "Place 3": 1.0}
    assert r.classes == {"Q515"} and r.facts == {("P17", "Q30")} and r.description == "a place numbered 3"


def test_byte_ranges_cover_every_line_once(tmp_path):
    path = write_dump(tmp_path / "dump.json", 200)
    pieces = list(dump_pieces([path], block_size=1000))
    assert len(pieces) > 5 and all(p.text is None for p in pieces)
    seen = [r.qid for p in pieces for r in iter_dump(p.path, DumpFilter(), p.start, p.end)]
    assert seen == [f"Q{i}" for i in range(1, 201)]


@pytest.mark.parametrize("suffix", [".json.gz", ".json.bz2"])
@pytest.mark.parametrize("threads", [1, 2])
def test_one_compressed_dump_is_cut_into_runs_of_whole_lines(tmp_path, suffix, threads):
    """A single compressed dump becomes many pieces (decompressed in parallel threads or not), which together
    hold every entity once, in dump order."""
    path = write_dump(tmp_path / f"dump{suffix}", 200)
    pieces = list(dump_pieces([path], block_size=2000, threads=threads))
    assert len(pieces) > 10 and all(p.text is not None for p in pieces)
    assert [r.qid for r in parse_pieces(pieces, DumpFilter())] == [f"Q{i}" for i in range(1, 201)]
    assert pieces[1].start == pieces[0].text.count("\n") + 1  # a piece knows the dump line it starts at


def _kb_rows(kb: KnowledgeBase) -> dict[str, list[tuple]]:
    tables = ("entities", "aliases", "classes", "class_labels", "facts", "properties", "meta")
    return {t: sorted(kb.db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


@pytest.mark.parametrize("suffix", [".json.gz", ".json.bz2"])
def test_parallel_ingestion_of_one_compressed_dump_gives_the_kb_of_one_process(tmp_path, suffix):
    plain = tmp_path / "dump.json"
    write_realistic_dump(plain, 400)  # shared names, sitelinks, mul labels: priors and merges to get right
    path = tmp_path / f"dump{suffix}"
    path.write_bytes((gzip.compress if suffix == ".json.gz" else bz2.compress)(plain.read_bytes()))
    with KnowledgeBase(tmp_path / "one.sqlite", create=True) as one:
        one.add_entities(iter_dump(path, DumpFilter()), source="wikidata-dump")
        one.finalize()
        expected, expected_bytes = _kb_rows(one), one.content_hash
    with KnowledgeBase(tmp_path / "parallel.sqlite", create=True) as parallel:
        assert len(list(dump_pieces([path], block_size=8000))) > 20
        assert ingest_dump(parallel, [path], DumpFilter(), workers=2, block_size=8000) == 400
        parallel.finalize()
        assert _kb_rows(parallel) == expected and len(expected["aliases"]) >= 400
        assert parallel.content_hash == expected_bytes


def test_a_bad_line_in_a_compressed_piece_names_its_dump_line(tmp_path):
    lines = ["["] + [json.dumps(_entity(i)) + "," for i in range(1, 60)] + ["{broken", "]"]
    path = tmp_path / "bad.json.bz2"
    path.write_bytes(bz2.compress(("\n".join(lines) + "\n").encode()))
    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb, pytest.raises(DataError, match="line 61"):
        ingest_dump(kb, [path], DumpFilter(), workers=1, block_size=500)


@pytest.mark.parametrize("suffix", [".json.gz", ".json.bz2"])
def test_streaming_memory_does_not_grow_with_the_dump(tmp_path, suffix):
    keep = DumpFilter(qids=frozenset({"Q1"}))

    def peak(n: int) -> int:
        path = write_dump(tmp_path / f"d{n}{suffix}", n)
        tracemalloc.start()
        assert sum(1 for _ in iter_dump(path, keep)) == 1
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(500), peak(5000)
    assert large < small * 1.5 + 64_000  # ten times the dump, about the same memory


def test_dump_ingestion_on_a_dask_local_cluster(tmp_path):
    parts = [write_dump(tmp_path / "a.json.gz", 30), write_dump(tmp_path / "b.json.bz2", 30),
             write_dump(tmp_path / "c.json", 30)]
    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb:
        kept = ingest_dump(kb, parts, DumpFilter(properties=frozenset({"P17"})), workers=2, block_size=2000)
        kb.finalize()
        assert kept == 90  # the same 30 items in three parts: merged by QID
        stats = kb.stats()
        assert stats["entities"] == 30 and stats["facts"] == 30 and stats["classes"] == 30
        (c,) = kb.candidates("P7 town")
        assert c.qid == "Q7" and c.label == "Place 7" and c.classes == ("Q515",)
        assert kb.has_fact("Q7", "P17", "Q30")


def test_bad_dump_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n{"type": "item", "id": "Q1"},\n{broken\n]\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 3"):
        list(iter_dump(path, DumpFilter()))


def test_alias_priors_and_normalisation(tmp_path):
    tsv = tmp_path / "aliases.tsv"
    tsv.write_text("# alias\tqid\tcount\nU.S.\tQ30\t90\nUS\tQ30\t5\nus\tQ9212\t5\nIllinois\tQ1204\t3\n",
                   encoding="utf-8")
    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb:
        assert ingest_tsv(kb, tsv) == 4
        kb.finalize()
        found = kb.candidates("U.S.")
        # "U.S.", "US" and "us" share the key "us": 95 of 100 counts go to Q30
        assert [(c.qid, round(c.prior, 2)) for c in found] == [("Q30", 0.95), ("Q9212", 0.05)]
        fuzzy = kb.candidates("Ilinois")
        assert fuzzy[0].qid == "Q1204" and fuzzy[0].match == "fuzzy"
        assert kb.candidates("Zzzzqqq") == []
    assert normalize_alias("Zürich") == "zurich" and normalize_alias("St. John's") == "st johns"


def test_bad_tsv_line_is_explained(tmp_path):
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("U.S.\tnot-a-qid\n", encoding="utf-8")
    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb, pytest.raises(DataError, match="line 1"):
        ingest_tsv(kb, tsv)


def _homonym(qid: str, label: str, sitelinks: int, **extra: object) -> dict:
    return {"type": "item", "id": qid, "labels": {"en": {"language": "en", "value": label}},
            "sitelinks": {f"wiki{i}": {"site": f"wiki{i}", "title": label} for i in range(sitelinks)}, **extra}


def _dump_of(path: Path, entities: list[dict]) -> Path:
    path.write_text("[\n" + ",\n".join(json.dumps(e) for e in entities) + "\n]\n", encoding="utf-8")
    return path


def test_the_sitelink_prior_ranks_a_well_linked_entity_above_an_obscure_homonym(tmp_path):
    dump = _dump_of(tmp_path / "d.json", [_homonym("Q167646", "Paris", 0), _homonym("Q90", "Paris", 180)])
    build_kb(tmp_path / "kb.sqlite", wikidata_dump=[dump])
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        found = kb.candidates("Paris", k=2)
        assert [c.qid for c in found] == ["Q90", "Q167646"] and found[0].prior > 0.9
        assert kb.entity("Q90").popularity == 180
        assert "sitelink" in json.dumps(kb.stats()["sources"])


def test_spelling_variants_of_one_entity_count_once(tmp_path):
    us = _homonym("Q30", "U.S.", 0, aliases={"en": [{"value": "US"}, {"value": "U.S"}]})
    other = _homonym("Q1", "US", 0)
    build_kb(tmp_path / "kb.sqlite", wikidata_dump=[_dump_of(tmp_path / "d.json", [us, other])])
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        assert {c.qid: c.prior for c in kb.candidates("US")} == {"Q1": 0.5, "Q30": 0.5}


def test_mul_labels_are_read_and_classes_get_their_labels(tmp_path):
    berlin = {"type": "item", "id": "Q64", "labels": {"mul": {"language": "mul", "value": "Berlin"}},
              "claims": {"P31": [{"mainsnak": {"datavalue": {"value": {"entity-type": "item", "id": "Q515"}}}}]}}
    city = _homonym("Q515", "city", 3)
    build_kb(tmp_path / "kb.sqlite", wikidata_dump=[_dump_of(tmp_path / "d.json", [berlin, city])])
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        assert kb.entity("Q64").label == "Berlin" and kb.candidates("Berlin")[0].qid == "Q64"
        assert kb.class_label("Q515") == "city"


def test_priors_in_one_pass_equal_the_per_row_definition(tmp_path):
    from rexel_bench.data.registry import resolve

    build_kb(tmp_path / "kb.sqlite", docred_ie=[resolve("docred-ie:dev")])
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        rows = kb.db.execute("SELECT norm, qid, source, prior, count / (SELECT sum(a.count) FROM aliases a "
                             "WHERE a.norm = aliases.norm) FROM aliases").fetchall()
    assert len(rows) > 3000 and all(prior == expected for *_, prior, expected in rows)


def test_dwie_candidates_of_excluded_documents_stay_out_of_the_kb(tmp_path, shared):
    """A DWIE KB for training may leave out the test split's candidate lists: the excluded documents are neither
    recorded as the KB's sources nor give an alias."""
    import json
    import shutil

    from rexel_bench.kb.ingest.sources import ingest_dwie_candidates

    annos = shared("dwie-annos/annos")
    text = shared("dwie-text-knowra/test.json")
    chosen = sorted(p for p in annos.iterdir() if "test" in json.loads(p.read_text())["tags"])[:3]
    (tmp_path / "annos").mkdir()
    for path in chosen:
        shutil.copy(path, tmp_path / "annos" / path.name)
    counts = {}
    for name, excluded in (("all", set()), ("less", {chosen[0].stem})):
        with KnowledgeBase(tmp_path / f"{name}.sqlite", create=True) as kb:
            counts[name] = ingest_dwie_candidates(kb, tmp_path / "annos", [text], exclude_ids=excluded)
            recorded = {r["doc_id"] for r in kb.documents() or []}
        assert chosen[0].stem not in recorded or not excluded
    assert (counts["all"]["documents"], counts["less"]["documents"]) == (3, 2)
    assert counts["less"]["mapped_candidates"] < counts["all"]["mapped_candidates"]


def test_the_content_hash_is_recorded_and_forgotten_by_a_later_write(tmp_path):
    path = write_dump(tmp_path / "dump.json", 20)
    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb:
        kb.add_entities(iter_dump(path, DumpFilter()), source="wikidata-dump")
        kb.finalize()
        recorded = kb.content_hash
        assert kb.db.execute("SELECT value FROM meta WHERE key = 'content_sha256'").fetchone()[0] == f'"{recorded}"'
        assert recorded == kb.compute_content_hash()
        kb.add_aliases([("Big Town", "Q3", 1.0)], source="tsv")  # a write: the recorded hash no longer holds
        assert kb.db.execute("SELECT 1 FROM meta WHERE key = 'content_sha256'").fetchone() is None
        changed = kb.content_hash
        assert changed != recorded and changed == kb.compute_content_hash()
    with KnowledgeBase(tmp_path / "kb.sqlite") as again:  # a KB without a recorded hash computes it
        assert again.content_hash == changed


def test_a_dump_is_read_no_faster_than_two_pieces_per_worker_are_parsed(tmp_path):
    """Memory bounded by the piece size: the dump is read lazily, at most two pieces per worker ahead."""
    import functools

    from rexel_bench.distributed import map_partitions

    path = write_dump(tmp_path / "dump.json.bz2", 300)
    drawn: list[int] = []

    def pieces():
        for piece in dump_pieces([path], block_size=2000):
            drawn.append(piece.start)
            yield [piece]

    results = map_partitions(functools.partial(parse_pieces, keep=DumpFilter()), pieces(), workers=2)
    first = next(results)
    assert [r.qid for r in first][:1] == ["Q1"] and len(drawn) <= 4
    rest = [r.qid for part in results for r in part]
    assert len(drawn) > 20 and [r.qid for r in first] + rest == [f"Q{i}" for i in range(1, 301)]


def test_an_exact_look_up_reads_k_rows_whatever_the_number_of_homonyms(tmp_path):
    """Entity counts per alias are kept in look-up order: the top k come from the index, equal to summing every
    alias row; a write forgets them until the next finalize, and look-ups stay right meanwhile."""
    write_realistic_dump(tmp_path / "dump.json", 3000)
    build_kb(tmp_path / "kb.sqlite", wikidata_dump=[tmp_path / "dump.json"], workers=1)
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        shared = [n for (n,) in kb.db.execute("SELECT norm FROM aliases GROUP BY norm HAVING count(*) > 10")]
        assert shared
        for norm in shared:
            summed = kb.db.execute("SELECT qid, sum(count) AS c FROM aliases WHERE norm = ? GROUP BY qid "
                                   "ORDER BY c DESC, qid LIMIT 8", (norm,)).fetchall()
            assert kb._counts_by_qid([norm], 8) == summed
        plan = kb.db.execute("EXPLAIN QUERY PLAN SELECT qid, total FROM entity_counts WHERE norm = ? "
                             "ORDER BY total DESC, qid LIMIT 8", (shared[0],)).fetchall()
        assert "TEMP B-TREE" not in str(plan)  # read in the index's order, stopped after k rows
        newcomer = "Q99999999"
        kb.add_aliases([(shared[0], newcomer, 1e6)], source="tsv")
        assert kb.candidates(shared[0], k=1)[0].qid == newcomer  # the write is seen before any finalize


def _sum_over_first_rows(rows: list[tuple[str, str, float]], norms: list[str], k: int) -> list[tuple[str, float]]:
    """The reference for a look-up over several aliases, by brute force: every entity in some alias's first ``k``
    (by summed count, then QID), ranked by its counts summed over all the aliases."""
    counts: dict[tuple[str, str], float] = {}
    for norm, qid, count in rows:
        if norm in norms:
            counts[norm, qid] = counts.get((norm, qid), 0.0) + count
    seen = {qid for norm in norms
            for _, qid in sorted((-c, q) for (n, q), c in counts.items() if n == norm)[:k]}
    summed = {qid: sum(c for (n, q), c in counts.items() if q == qid) for qid in seen}
    return sorted(summed.items(), key=lambda qc: (-qc[1], qc[0]))[:k]


def test_top_entities_over_several_aliases_equal_summing_the_first_rows(tmp_path):
    """Over several aliases a look-up ranks the entities in some alias's first k by their counts summed over all
    the aliases (equal to a brute-force reference on random aliases, counts and ties, k from 1 to 30), which is the
    full sum's top k when at most one alias has more than k entities; an entity in no alias's first k, first
    once summed, is passed over."""
    import random

    rng = random.Random(4)
    rows = [(name, f"Q{rng.randrange(60)}", float(rng.randrange(1, 4))) for name in ("rosa", "rosi", "rose", "rasa")
            for _ in range(20)]
    rows += [(name, "Q999", 5.0) for name in ("rosa", "rosi", "rose")]  # below every first 3, first once summed
    rows += [(name, f"Q{100 + 10 * j + i}", 6.0) for j, name in enumerate(("rosa", "rosi", "rose")) for i in range(3)]
    rows += [("rusa", "Q7", 2.0), ("rusa", "Q999", 1.0)]  # an alias of two entities
    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb:
        kb.add_aliases(rows, source="tsv")
        kb.add_aliases([("rosa", "Q7", 1.0)], source="wikidata")  # counts of two sources add up
        kb.finalize()
        rows.append(("rosa", "Q7", 1.0))
        for norms in (["rosa", "rosi"], ["rosa", "rosi", "rose"], ["rosa", "rasa"], ["rosa", "rosi", "rose", "rasa"],
                      ["rosa", "rusa"], ["rusa", "rasa", "rose"]):
            for k in (1, 3, 8, 30):
                assert kb._counts_by_qid(norms, k) == _sum_over_first_rows(rows, norms, k), (norms, k)
        for k in (1, 3, 8):  # one alias with more than k entities: the full sum's top k
            assert kb._counts_by_qid(["rosa", "rusa"], k) == type(kb)._summed_counts(kb, ["rosa", "rusa"], k)
        assert type(kb)._summed_counts(kb, ["rosa", "rosi", "rose"], 1)[0][0] == "Q999"
        assert "Q999" not in dict(kb._counts_by_qid(["rosa", "rosi", "rose"], 3))


def test_a_look_up_over_several_aliases_reads_k_rows_of_each(tmp_path):
    """Two aliases each shared by 1,000 entities with equal counts: the look-up reads the first k rows of each and,
    under an alias with k entities or more, the other seen entities' counts, whatever the number of entities sharing
    them. The one entity under both, last in QID order, is passed over (summing every row would rank it first): the
    price of a look-up bounded by k."""
    rows = [(name, f"Q{1000 * j + i:05d}", 1.0) for j, name in enumerate(("abba", "abbe")) for i in range(1000)]
    rows += [("abba", "Q99999", 1.0), ("abbe", "Q99999", 1.0)]
    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb:
        kb.add_aliases(rows, source="tsv")
        kb.finalize()
        read = []
        kb._rows = lambda sql, params=(): read.append(len(found := type(kb)._rows(kb, sql, params))) or found
        top = kb._counts_by_qid(["abba", "abbe"], 8)
        assert top == [("Q00000", 1.0), ("Q00001", 1.0), ("Q00002", 1.0), ("Q00003", 1.0), ("Q00004", 1.0),
                       ("Q00005", 1.0), ("Q00006", 1.0), ("Q00007", 1.0)]
        # a table check, the two aliases' first k rows in one statement, and under each (it has k entities or more)
        # the other's seen entities: none
        assert read == [1, 16, 0, 0]
        read.clear()
        kb.add_aliases([("abbi", "Q00009", 3.0), ("abbi", "Q01000", 1.0)], source="tsv")
        kb.finalize()
        assert kb._counts_by_qid(["abba", "abbi"], 8)[0] == ("Q00009", 4.0)  # 1 under abba, past its first k
        assert read == [1, 10, 1]  # only under abba: abbi, of fewer than k entities, is read whole
        assert type(kb)._summed_counts(kb, ["abba", "abbe"], 1) == [("Q99999", 2.0)]


def test_a_kb_connection_keeps_a_page_cache_for_its_indexes_inner_pages(tmp_path):
    """SQLite's default 2 MiB cache cannot hold the inner pages of a Wikidata-size KB's look-up indexes; each
    connection asks for PAGE_CACHE_KIB, and bulk loading's larger cache is given back after it."""
    from rexel_bench.kb.store import PAGE_CACHE_KIB

    with KnowledgeBase(tmp_path / "kb.sqlite", create=True) as kb:
        assert kb.db.execute("PRAGMA cache_size").fetchone() == (-PAGE_CACHE_KIB,) and PAGE_CACHE_KIB > 2000
        with kb.bulk_load():
            assert kb.db.execute("PRAGMA cache_size").fetchone()[0] < -PAGE_CACHE_KIB
        assert kb.db.execute("PRAGMA cache_size").fetchone() == (-PAGE_CACHE_KIB,)
