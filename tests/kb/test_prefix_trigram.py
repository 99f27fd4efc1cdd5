"""The prefix-trigram fuzzy index: it returns every alias whose trigram similarity to a text reaches the threshold
(the brute-force set, where FTS5's bm25 keeps 20 of them), while reading only the postings of the text's rarest
trigrams; the trigram and prefix-trigram KBs agree wherever bm25's 20 hold every such alias. With the one-edit
index beside it, the aliases one edit away join them."""

from __future__ import annotations

import random

import pytest

from rexel_bench.kb.build import build_kb
from rexel_bench.kb.store import KnowledgeBase, _jaccard, _trigrams
from tests.kb.conftest import write_realistic_dump


@pytest.fixture(scope="module")
def kbs(tmp_path_factory) -> dict[str, KnowledgeBase]:
    folder = tmp_path_factory.mktemp("prefix")
    write_realistic_dump(folder / "dump.json", 1500)
    out = {}
    for index in ("trigram", "prefix-trigram", "one-edit+prefix-trigram"):
        build_kb(folder / f"{index}.sqlite", wikidata_dump=[folder / "dump.json"], fuzzy_index=index, workers=1)
        out[index] = KnowledgeBase(folder / f"{index}.sqlite")
    yield out
    for kb in out.values():
        kb.close()


def _typos(kb: KnowledgeBase, n: int) -> list[str]:
    rng = random.Random(3)
    norms = [a for (a,) in kb.db.execute("SELECT DISTINCT norm FROM aliases WHERE length(norm) >= 5 ORDER BY norm")]
    out = []
    for norm in rng.sample(norms, n):
        at = rng.randrange(1, len(norm) - 1)
        out += [norm[:at] + norm[at + 1:], norm[:at] + "q" + norm[at:], norm + " jr"]
    return out


@pytest.mark.parametrize("threshold", [0.4, 0.6, 0.8])
def test_prefix_trigram_finds_exactly_the_aliases_over_the_threshold(kbs, threshold):
    kb = kbs["prefix-trigram"]
    norms = [n for (n,) in kb.db.execute("SELECT DISTINCT norm FROM aliases")]
    for text in _typos(kb, 40):
        grams = _trigrams(text)
        brute = {n: _jaccard(grams, _trigrams(n)) for n in norms}
        assert kb.similar_aliases(text, threshold) == {n: v for n, v in brute.items() if v >= threshold}, text


def test_it_reads_the_postings_of_few_trigrams_only(kbs):
    kb = kbs["prefix-trigram"]
    total = kb.db.execute("SELECT count(*) FROM alias_grams").fetchone()[0]
    statements = []
    kb.db.set_trace_callback(statements.append)
    try:
        kb.similar_aliases("marcorberos", 0.6)
    finally:
        kb.db.set_trace_callback(None)
    (posting_query,) = [s for s in statements if "FROM alias_grams" in s]
    assert posting_query.count("'") // 2 <= 5  # 12 trigrams, 8 to share: the postings of the 5 rarest are read
    assert total > 20_000


def test_prefix_trigram_keeps_what_trigram_keeps_and_agrees_where_bm25s_20_hold_every_near_alias(kbs):
    trigram, prefix = kbs["trigram"], kbs["prefix-trigram"]
    compared = 0
    for text in _typos(trigram, 60):
        near, every = trigram.similar_aliases(text), prefix.similar_aliases(text)
        assert near.items() <= every.items(), text
        if set(every) <= set(trigram._nearest_aliases(text, 20)):
            compared += 1
            assert trigram.candidates(text, k=8) == prefix.candidates(text, k=8), text
    assert compared >= 100
    assert prefix.fuzzy_index == "prefix-trigram" and prefix.candidates("Q") == trigram.candidates("Q")


def test_one_edit_plus_prefix_trigram_adds_the_aliases_one_edit_away_and_nothing_else(kbs):
    prefix, both = kbs["prefix-trigram"], kbs["one-edit+prefix-trigram"]
    added = 0
    for text in _typos(prefix, 60):
        over, near = prefix.similar_aliases(text), both.one_edit_aliases(text)
        found = both.similar_aliases(text)
        assert found == {**over, **{n: _jaccard(_trigrams(text), _trigrams(n)) for n in near if n not in over}}
        added += len(set(near) - set(over))
        if not near:
            assert both.candidates(text, k=8) == prefix.candidates(text, k=8), text
    assert added >= 5  # short names' typos fall under the threshold and are found one edit away
