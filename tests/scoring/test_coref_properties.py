"""Coreference metrics against brute-force restatements of their definitions, on random partitions.

Each oracle below follows the metric's published definition literally (enumerating links, mentions or
alignments), independently of the vectorised counting in :mod:`rexel_bench.scoring.coref`.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from rexel_bench.scoring import coref

from .helpers import doc, score


def _pairs(clusters):
    return {frozenset(p) for c in clusters for p in itertools.combinations(c, 2)}


def oracle_muc(key, resp):
    def side(a, b):
        where = {m: i for i, c in enumerate(b) for m in c}
        num = sum(len(c) - len({where.get(m, ("alone", m)) for m in c}) for c in a)
        return num, sum(len(c) - 1 for c in a)
    r_num, r_den = side(key, resp)
    p_num, p_den = side(resp, key)
    return p_num, p_den, r_num, r_den


def oracle_b3(key, resp):
    def side(a, b):
        total = 0.0
        for c in a:
            for m in c:
                other = next((d for d in b if m in d), [])
                total += len(set(c) & set(other)) / len(c)
        return total, sum(map(len, a))
    r_num, r_den = side(key, resp)
    p_num, p_den = side(resp, key)
    return p_num, p_den, r_num, r_den


def oracle_ceaf(key, resp, entity_based):
    def phi(k, r):
        n = len(set(k) & set(r))
        return 2 * n / (len(k) + len(r)) if entity_based else n
    small, large, flipped = (key, resp, False) if len(key) <= len(resp) else (resp, key, True)
    best = 0.0
    for perm in itertools.permutations(range(len(large)), len(small)):
        total = sum(phi(*((large[j], small[i]) if flipped else (small[i], large[j]))) for i, j in enumerate(perm))
        best = max(best, total)
    if entity_based:
        return best, len(resp), best, len(key)
    return best, sum(map(len, resp)), best, sum(map(len, key))


def oracle_blanc_links(key, resp):
    ck, cr = _pairs(key), _pairs(resp)
    mk, mr = [m for c in key for m in c], [m for c in resp for m in c]
    nk = {frozenset(p) for p in itertools.combinations(mk, 2)} - ck
    nr = {frozenset(p) for p in itertools.combinations(mr, 2)} - cr
    return len(ck & cr), len(ck), len(ck & cr), len(cr), len(nk & nr), len(nk), len(nk & nr), len(nr)


def oracle_lea(key, resp):
    def side(a, b):
        b_links, b_single = _pairs(b), {c[0] for c in b if len(c) == 1}
        num = 0.0
        for c in a:
            if len(c) == 1:
                resolved = 1.0 if c[0] in b_single else 0.0
            else:
                links = _pairs([c])
                resolved = len(links & b_links) / len(links)
            num += len(c) * resolved
        return num, sum(map(len, a))
    r_num, r_den = side(key, resp)
    p_num, p_den = side(resp, key)
    return p_num, p_den, r_num, r_den


@st.composite
def partitions(draw):
    """A key and a response over overlapping random mention sets (twinless mentions on both sides)."""
    def partition(mentions):
        labels = draw(st.lists(st.integers(0, 4), min_size=len(mentions), max_size=len(mentions)))
        groups: dict[int, list] = {}
        for m, label in zip(mentions, labels, strict=True):
            groups.setdefault(label, []).append((0, m, m + 1))
        return list(groups.values())

    universe = list(range(9))
    key_mentions = draw(st.lists(st.sampled_from(universe), min_size=1, max_size=8, unique=True))
    resp_mentions = draw(st.lists(st.sampled_from(universe), min_size=1, max_size=8, unique=True))
    return partition(key_mentions), partition(resp_mentions)


def _values(counts):
    p = counts[0] / counts[1] if counts[1] else 0.0
    r = counts[2] / counts[3] if counts[3] else 0.0
    return p, r


@settings(max_examples=150, deadline=None)
@given(partitions())
def test_prf_metrics_match_their_definitions(case):
    key, resp = case
    pair = [(doc(key), doc(resp))]
    for metric, counts in ((coref.MUC, oracle_muc(key, resp)), (coref.B3, oracle_b3(key, resp)),
                           (coref.CEAFE, oracle_ceaf(key, resp, True)), (coref.CEAFM, oracle_ceaf(key, resp, False)),
                           (coref.LEA, oracle_lea(key, resp))):
        got = score(metric, pair)
        p, r = _values(counts)
        assert abs(got["p"] - p) < 1e-9 and abs(got["r"] - r) < 1e-9, metric.name


@settings(max_examples=150, deadline=None)
@given(partitions())
def test_blanc_link_counts_match_explicit_link_sets(case):
    key, resp = case
    from rexel_bench.scoring.base import DocPair

    got = coref.BLANC.counts(DocPair(doc(key), doc(resp)))
    assert tuple(got) == oracle_blanc_links(key, resp)


@settings(max_examples=50, deadline=None)
@given(partitions(), partitions())
def test_corpus_score_sums_counts_over_documents(first, second):
    pairs = [(doc(first[0]), doc(first[1])), (doc(second[0], doc_id="e"), doc(second[1], doc_id="e"))]
    got = score(coref.B3, pairs)
    a, b = oracle_b3(*first), oracle_b3(*second)
    p, r = _values([x + y for x, y in zip(a, b, strict=True)])
    assert abs(got["p"] - p) < 1e-9 and abs(got["r"] - r) < 1e-9
