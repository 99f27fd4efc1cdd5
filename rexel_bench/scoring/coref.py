"""Coreference: MUC, B³, CEAFm, CEAFe, BLANC, LEA and the CoNLL average, on predicted mentions.

Conventions are those of the CoNLL-2012 reference scorer v8.01 (Pradhan et al. 2014):
- mentions are identified by exact span; a response mention repeated (the same span twice) is
  removed, keeping the first occurrence, and the number removed is reported;
- singletons are kept (key and response);
- twinless mentions (in one side only): MUC follows Cai & Strube (2010) as v8.01 does — which, for
  MUC's link counts, equals the plain definition; B³, CEAF and BLANC use the original chains, so a
  twinless response mention lowers precision and a missed key mention lowers recall;
- corpus scores sum numerators and denominators over documents (micro), as the scorer does.

BLANC follows Luo et al. (2014) for predicted mentions, with the v8.01 special cases: when the key has
no coreference links (only singletons) BLANC is the non-coreference F; when it has no
non-coreference links, the coreference F; when neither, 0. LEA (Moosavi & Strube 2016) counts a
singleton's self-link, resolved when the mention is a singleton in the other side too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from math import comb

import numpy as np
from scipy.optimize import linear_sum_assignment

from rexel_bench.scoring.base import DocPair, Metric, Span, f1, prf, ratio

Clusters = list[list[Span]]


def _nonempty(clusters: Clusters) -> Clusters:
    return [c for c in clusters if c]


def overlap_table(key: Clusters, response: Clusters) -> Counter[tuple[int, int]]:
    """``|k ∩ r|`` for every key cluster k and response cluster r that share mentions."""
    where = {m: i for i, cluster in enumerate(key) for m in cluster}
    table: Counter[tuple[int, int]] = Counter()
    for j, cluster in enumerate(response):
        for m in cluster:
            if m in where:
                table[(where[m], j)] += 1
    return table


def _view(pair: DocPair) -> tuple[Clusters, Clusters, Counter[tuple[int, int]]]:
    def build(p: DocPair) -> tuple[Clusters, Clusters, Counter[tuple[int, int]]]:
        key, response = _nonempty(p.gold_clusters), _nonempty(p.pred_clusters)
        return key, response, overlap_table(key, response)
    return pair.memo("coref", build)


def muc_counts_of(key: Clusters, response: Clusters, table: Counter) -> tuple[float, ...]:
    """MUC: correct links over key links (recall) and response links (precision)."""
    correct = sum(n - 1 for n in table.values())
    return correct, sum(len(r) - 1 for r in response), correct, sum(len(k) - 1 for k in key)


def b3_counts_of(key: Clusters, response: Clusters, table: Counter) -> tuple[float, ...]:
    """B³: per-mention overlap ratios summed over response (precision) and key (recall) mentions."""
    p_num = sum(n * n / len(response[j]) for (_, j), n in table.items())
    r_num = sum(n * n / len(key[i]) for (i, _), n in table.items())
    return p_num, sum(map(len, response)), r_num, sum(map(len, key))


def _ceaf(key: Clusters, response: Clusters, table: Counter, entity_based: bool) -> tuple[float, ...]:
    if entity_based:
        p_den, r_den = len(response), len(key)
    else:
        p_den, r_den = sum(map(len, response)), sum(map(len, key))
    if not table:
        return 0.0, p_den, 0.0, r_den
    similarity = np.zeros((len(key), len(response)))
    for (i, j), n in table.items():
        similarity[i, j] = 2 * n / (len(key[i]) + len(response[j])) if entity_based else n
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    best = float(similarity[rows, cols].sum())
    return best, p_den, best, r_den


def ceafe_counts_of(key: Clusters, response: Clusters, table: Counter) -> tuple[float, ...]:
    """CEAFe: optimal entity alignment with φ4 = 2|k∩r| / (|k| + |r|), over entity counts."""
    return _ceaf(key, response, table, entity_based=True)


def ceafm_counts_of(key: Clusters, response: Clusters, table: Counter) -> tuple[float, ...]:
    """CEAFm: optimal entity alignment with φ3 = |k∩r|, over mention counts."""
    return _ceaf(key, response, table, entity_based=False)


def _lea_side(clusters: Clusters, other: Clusters, table_rows: dict[int, list[int]]) -> tuple[float, float]:
    other_size = {m: len(c) for c in other for m in c}
    num = den = 0.0
    for i, cluster in enumerate(clusters):
        if len(cluster) == 1:
            resolved = 1.0 if other_size.get(cluster[0]) == 1 else 0.0
        else:
            resolved = sum(comb(n, 2) for n in table_rows.get(i, ())) / comb(len(cluster), 2)
        num += len(cluster) * resolved
        den += len(cluster)
    return num, den


def lea_counts_of(key: Clusters, response: Clusters, table: Counter) -> tuple[float, ...]:
    """LEA: each entity weighted by its size, credited with the share of its links it resolves."""
    by_key: dict[int, list[int]] = defaultdict(list)
    by_response: dict[int, list[int]] = defaultdict(list)
    for (i, j), n in table.items():
        by_key[i].append(n)
        by_response[j].append(n)
    r_num, r_den = _lea_side(key, response, by_key)
    p_num, p_den = _lea_side(response, key, by_response)
    return p_num, p_den, r_num, r_den


def blanc_counts_of(key: Clusters, response: Clusters, table: Counter) -> tuple[float, ...]:
    """BLANC link counts: (C_k∩C_r, |C_k|, C_k∩C_r, |C_r|, N_k∩N_r, |N_k|, N_k∩N_r, |N_r|).

    Recall counts first within each pair, as the reference scorer returns them.
    """
    key_c = sum(comb(len(k), 2) for k in key)
    resp_c = sum(comb(len(r), 2) for r in response)
    key_n = comb(sum(map(len, key)), 2) - key_c
    resp_n = comb(sum(map(len, response)), 2) - resp_c
    both_c = sum(comb(n, 2) for n in table.values())
    in_key = Counter()
    in_resp = Counter()
    for (i, j), n in table.items():
        in_key[i] += n
        in_resp[j] += n
    common = sum(table.values())
    both_n = (comb(common, 2) - sum(comb(n, 2) for n in in_key.values())
              - sum(comb(n, 2) for n in in_resp.values()) + both_c)
    return both_c, key_c, both_c, resp_c, both_n, key_n, both_n, resp_n


def blanc_aggregate(totals: np.ndarray) -> dict[str, np.ndarray]:
    """BLANC from summed link counts, with the reference scorer's special cases."""
    totals = np.asarray(totals, dtype=float)
    rc, pc = ratio(totals[..., 0], totals[..., 1]), ratio(totals[..., 2], totals[..., 3])
    rn, pn = ratio(totals[..., 4], totals[..., 5]), ratio(totals[..., 6], totals[..., 7])
    fc, fn = f1(pc, rc), f1(pn, rn)
    no_c, no_n = totals[..., 1] == 0, totals[..., 5] == 0
    def pick(c: np.ndarray, n: np.ndarray) -> np.ndarray:
        both = (c + n) / 2
        return np.where(no_c & no_n, 0.0, np.where(no_c, n, np.where(no_n, c, both)))
    return {"p": pick(pc, pn), "r": pick(rc, rn), "f1": pick(fc, fn)}


def conll_aggregate(totals: np.ndarray) -> dict[str, np.ndarray]:
    """CoNLL score: the mean of MUC, B³ and CEAFe (P, R and F1 each averaged)."""
    totals = np.asarray(totals, dtype=float)
    parts = [prf(totals[..., 4 * i: 4 * i + 4]) for i in range(3)]
    return {k: sum(p[k] for p in parts) / 3 for k in ("p", "r", "f1")}


def _counts(fn):
    def counts(pair: DocPair) -> tuple[float, ...]:
        return fn(*_view(pair))
    counts.__name__ = fn.__name__.replace("_of", "")
    counts.__doc__ = fn.__doc__
    return counts


def conll_counts(pair: DocPair) -> tuple[float, ...]:
    """MUC, B³ and CEAFe counts side by side, for the CoNLL average."""
    view = _view(pair)
    return (*muc_counts_of(*view), *b3_counts_of(*view), *ceafe_counts_of(*view))


PRF = ("p_num", "p_den", "r_num", "r_den")
MUC = Metric("coref_muc", "v8.01", "Coreference MUC (CoNLL-2012 scorer v8.01 conventions)", PRF,
             _counts(muc_counts_of), family="coreference")
B3 = Metric("coref_b3", "v8.01", "Coreference B-cubed", PRF, _counts(b3_counts_of), family="coreference")
CEAFM = Metric("coref_ceafm", "v8.01", "Coreference CEAF, mention-based (phi3)", PRF, _counts(ceafm_counts_of),
               family="coreference")
CEAFE = Metric("coref_ceafe", "v8.01", "Coreference CEAF, entity-based (phi4)", PRF, _counts(ceafe_counts_of),
               family="coreference")
LEA = Metric("coref_lea", "1", "Coreference LEA (link-based entity-aware)", PRF, _counts(lea_counts_of),
             family="coreference")
BLANC = Metric("coref_blanc", "v8.01", "Coreference BLANC for predicted mentions (Luo et al. 2014)",
               ("c_r_num", "c_r_den", "c_p_num", "c_p_den", "n_r_num", "n_r_den", "n_p_num", "n_p_den"),
               _counts(blanc_counts_of), aggregate=blanc_aggregate, family="coreference")
CONLL = Metric("coref_conll", "v8.01", "CoNLL average F1: (MUC + B3 + CEAFe) / 3",
               tuple(f"{m}_{c}" for m in ("muc", "b3", "ceafe") for c in PRF), conll_counts,
               aggregate=conll_aggregate, family="coreference")
