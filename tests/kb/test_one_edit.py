"""The one-edit fuzzy index: a KB built with it finds the aliases one edit from a text (a letter dropped, added,
replaced, or two neighbours swapped, or a whole word dropped or added) with a number of index probes set by the
text's length, never an alias two edits away; the exact alias still comes first; the choice is recorded in the KB,
and a trigram KB's bytes are those of a KB built before the option existed."""

from __future__ import annotations

import itertools
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import build_kb
from rexel_bench.kb.store import (
    COMMON_KEY_ROWS,
    KnowledgeBase,
    _key,
    deletion_keys,
    one_word_apart,
    probe_keys,
    within_one_edit,
    word_drops,
)


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


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from("ab"), min_size=1, max_size=5), st.lists(st.sampled_from("ab"), min_size=1, max_size=5))
def test_one_word_apart_equals_the_word_oracle_and_the_keys_meet(a, b):
    """One word apart means a word-level edit distance of one by a deletion or an insertion; a look-up of the
    longer text finds the shorter, and one of the shorter finds the longer when it has three words or more."""
    def drops(words: list[str]) -> set[tuple[str, ...]]:
        return {tuple(words[:i] + words[i + 1:]) for i in range(len(words))}

    expected = (len(a) == len(b) + 1 and tuple(b) in drops(a)) or (len(b) == len(a) + 1 and tuple(a) in drops(b))
    assert one_word_apart(" ".join(a), " ".join(b)) == expected
    short, long = sorted((" ".join(a), " ".join(b)), key=lambda t: t.count(" "))
    if one_word_apart(short, long):  # a look-up of the longer probes the shorter's own key; the longer is filed
        assert deletion_keys(short) & probe_keys(long)  # under the shorter when it has three words or more
        assert (short in word_drops(long, keep=2)) == (long.count(" ") >= 2)


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


def test_the_index_holds_every_key_of_every_alias_once(tmp_path):
    """The one-edit index, sorted before it is written, holds each distinct alias under each of its deletion keys
    and, for aliases of three words or more, under each text one word shorter: nothing more, nothing twice, an
    alias that several entities share once."""
    rng = random.Random(3)
    words = ["".join(rng.choice("abcdef") for _ in range(rng.randint(2, 6))) for _ in range(30)]
    names = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 4))) for _ in range(300)]
    (tmp_path / "aliases.tsv").write_text("".join(f"{name}\tQ{i}\t1\n" for i, name in enumerate(names)))
    build_kb(tmp_path / "kb.sqlite", tsv=[tmp_path / "aliases.tsv"], fuzzy_index="one-edit")
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        norms = {n for (n,) in kb.db.execute("SELECT norm FROM aliases")}
        assert len(norms) < len(names)  # shared aliases
        deletions = list(kb.deletion_index_rows())
        assert deletions == sorted({(key, norm) for norm in norms for key in deletion_keys(norm)},
                                   key=lambda row: (row[0] % 2**64, row[1]))  # in key order, as unsigned
        drops = kb.db.execute("SELECT key, norm FROM alias_word_drops").fetchall()
        assert drops and sorted(drops) == sorted({(_key(drop), norm) for norm in norms
                                                  for drop in word_drops(norm, keep=2)})


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


def test_a_text_a_word_longer_or_shorter_than_an_alias_finds_it(tmp_path):
    """A word added to the alias ("New York City") or dropped from it ("Ulysses Grant") finds it; a replaced word,
    two words, and a single word of a two-word alias do not; a key more than COMMON_KEY_ROWS aliases share is not
    kept, so the look-up's cost does not grow with them."""
    rows = ["new york\tQ60\t5", "ulysses s grant\tQ34836\t3", "new jersey\tQ1408\t4"]
    rows += [f"university of town{i}\tQ{1000 + i}\t1" for i in range(COMMON_KEY_ROWS + 1)]
    rows += [f"new york club{i}\tQ{2000 + i}\t1" for i in range(COMMON_KEY_ROWS + 1)]  # filed under "new york"
    (tmp_path / "aliases.tsv").write_text("\n".join(rows) + "\n")
    build_kb(tmp_path / "kb.sqlite", tsv=[tmp_path / "aliases.tsv"], fuzzy_index="one-edit")
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        for text, qid in (("New York City", "Q60"), ("the new york", "Q60"), ("Ulysses Grant", "Q34836"),
                          ("Ulysses S. Grant Jr III", None), ("New Jersey City", "Q1408"), ("new yrok", "Q60"),
                          ("new yorkk", "Q60")):  # a letter added to an alias whose word-drop key is not kept
            found = kb.candidates(text, k=8)
            assert [c.qid for c in found][:1] == ([qid] if qid else []) and all(c.match == "fuzzy" for c in found)
        assert kb.candidates("new york state city") == []  # two words away
        assert kb.candidates("york") == [] and kb.candidates("grant") == []  # one word of a two-word alias
        assert kb.one_edit_aliases("university of") == []  # under a key 101 aliases share: not kept
        assert kb.db.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM alias_word_drops GROUP BY key)"
                             ).fetchone()[0] <= COMMON_KEY_ROWS
        assert [c.match for c in kb.candidates("university of town7", k=1)] == ["exact"]
        assert kb.one_edit_aliases("university of twn7") == ["university of town7"]


def test_the_word_keys_not_kept_are_counted_in_the_build_and_the_kb(tmp_path):
    """Every word-drop key shared by more than COMMON_KEY_ROWS aliases is left out of the index: the build returns
    how many keys and alias rows that was, the KB records it beside its fuzzy index (``kb stats``), and rebuilding
    the index as trigram (which leaves nothing out) forgets it."""
    rows = [f"university of town{i}\tQ{1000 + i}\t1" for i in range(COMMON_KEY_ROWS + 1)]
    rows += [f"new york club{i}\tQ{2000 + i}\t1" for i in range(COMMON_KEY_ROWS)]  # 100 share "new york": kept
    (tmp_path / "aliases.tsv").write_text("\n".join(rows) + "\n")
    contributed = build_kb(tmp_path / "kb.sqlite", tsv=[tmp_path / "aliases.tsv"], fuzzy_index="one-edit")
    expected = {"word_drop_keys": 1, "alias_rows": COMMON_KEY_ROWS + 1, "over_rows": COMMON_KEY_ROWS}
    assert contributed["fuzzy_index_not_kept"] == expected
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        assert kb.stats()["sources"]["fuzzy_index_not_kept"] == expected
        assert kb.one_edit_aliases("new york") != [] and kb.one_edit_aliases("university of") == []
        kb.finalize("trigram")
        assert "fuzzy_index_not_kept" not in kb.stats()["sources"]


def test_a_one_edit_kb_built_without_the_word_table_still_finds_letter_typos(tmp_path):
    """A one-edit KB from before the word edits has no ``alias_word_drops``: its look-ups work as they did, and
    finalizing it makes the table."""
    (tmp_path / "aliases.tsv").write_text("illinois\tQ1204\t9\nulysses s grant\tQ34836\t3\n")
    build_kb(tmp_path / "kb.sqlite", tsv=[tmp_path / "aliases.tsv"], fuzzy_index="one-edit")
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        kb.db.execute("DROP TABLE alias_word_drops")
        kb.db.commit()
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        assert [c.qid for c in kb.candidates("ilinois")] == ["Q1204"]
        assert kb.candidates("ulysses grant") == []  # a word shorter: found only through the word table
        kb.finalize("one-edit")  # the same reader sees the word table finalize makes
        assert [c.qid for c in kb.candidates("ulysses grant")] == ["Q34836"]


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
