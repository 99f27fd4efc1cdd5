"""The one-edit fuzzy index: a KB built with it finds the aliases one edit from a text (a letter dropped, added,
replaced, or two neighbours swapped) with a number of index probes set by the text's length, never an alias two
edits away; the exact alias still comes first; the choice is recorded in the KB, and a trigram KB's bytes are
those of a KB built before the option existed."""

from __future__ import annotations

import itertools
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import build_kb
from rexel_bench.kb.store import KnowledgeBase, deletion_keys, within_one_edit


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook dynamic programme (the oracle)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, j in itertools.product(range(len(a) + 1), range(len(b) + 1)):
        if min(i, j) == 0:
            d[i][j] = max(i, j)
            continue
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
        if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
            d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abc", max_size=6), st.text(alphabet="abc", max_size=6))
def test_within_one_edit_equals_the_distance_oracle(a, b):
    assert within_one_edit(a, b) == (_osa(a, b) <= 1)
    if within_one_edit(a, b):  # the index's promise: two strings within one edit share a deletion key
        assert deletion_keys(a) & deletion_keys(b)


@pytest.fixture(scope="module")
def kbs(tmp_path_factory):
    """The same aliases in a trigram KB and a one-edit KB."""
    folder = tmp_path_factory.mktemp("kbs")
    rng = random.Random(7)
    names = sorted({"".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 12)))
                    for _ in range(400)})
    rows = [f"{name}\tQ{i}\t{1 + i % 5}" for i, name in enumerate(names)] + ["illinois\tQ1204\t9",
                                                                            "ilinois river\tQ7\t1"]
    (folder / "aliases.tsv").write_text("\n".join(rows) + "\n")
    built = {}
    for index in ("trigram", "one-edit"):
        build_kb(folder / f"{index}.sqlite", tsv=[folder / "aliases.tsv"], fuzzy_index=index)
        built[index] = KnowledgeBase(folder / f"{index}.sqlite")
    yield built, names
    for kb in built.values():
        kb.close()


def test_every_kind_of_one_edit_typo_finds_its_entity(kbs):
    built, _ = kbs
    kb = built["one-edit"]
    assert kb.fuzzy_index == "one-edit" and built["trigram"].fuzzy_index == "trigram"
    for typo in ("ilinois", "illinoiss", "illinoys", "illniois"):  # dropped, added, replaced, swapped
        found = kb.candidates(typo, k=8)
        assert [c.qid for c in found][:1] == ["Q1204"] and found[0].match == "fuzzy", typo
    assert kb.candidates("illinois")[0].match == "exact"
    assert kb.candidates("ilnios") == []  # two edits away: not a candidate
    assert kb.one_edit_aliases("ilinois") == ["illinois"]


def test_one_edit_recall_on_generated_typos_is_complete_where_trigrams_miss_some(kbs):
    built, names = kbs
    rng = random.Random(3)
    hits = {index: 0 for index in built}
    for i, name in enumerate(names[:150]):
        at = rng.randrange(len(name) - 1)
        typo = name[:at] + name[at + 1] + name[at] + name[at + 2:] if i % 2 else name[:at] + name[at + 1:]
        if typo in names:
            continue
        for index, kb in built.items():
            hits[index] += f"Q{names.index(name)}" in {c.qid for c in kb.candidates(typo, k=8)}
    assert hits["one-edit"] >= hits["trigram"] and hits["one-edit"] >= 140


def test_a_wrong_fuzzy_index_is_refused_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="fuzzy index 'bk-tree': expected one of trigram, one-edit"):
        build_kb(tmp_path / "kb.sqlite", tsv=[tmp_path / "missing.tsv"], fuzzy_index="bk-tree")
    assert not (tmp_path / "kb.sqlite").exists()


def test_a_trigram_kb_records_no_fuzzy_index(tmp_path, kbs):
    built, _ = kbs
    assert built["trigram"].db.execute("SELECT count(*) FROM meta WHERE key = 'fuzzy_index'").fetchone() == (0,)
    tables = {r[0] for r in built["trigram"].db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "alias_deletions" not in tables
