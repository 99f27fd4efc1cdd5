"""Coreference metrics equal the CoNLL-2012 reference scorer v8.01 on its published test cases.

The cases are TC-A … TC-N of conll/reference-coreference-scorers (test/TestCases.README and the
expected [recall, precision, F1] values of test/CorefMetricTestConfig.pm), transcribed in cluster
notation; the expected values are those files' numbers, compared to 4 decimals. Upper-case letters
are duplicates of the lower-case mention (same span), except where the case says "overlapping".
"""

from __future__ import annotations

import pytest

from rexel_bench.scoring import coref

from .helpers import clusters, doc, score

KEY_A = "{a} {bc} {def}"
# id: (key, response, overlapping letters, {metric: (recall, precision, f1)})
CASES = {
    "A1": (KEY_A, "{a} {bc} {def}", "", {"muc": (1, 1, 1), "b3": (1, 1, 1), "ceafm": (1, 1, 1), "ceafe": (1, 1, 1),
                                          "blanc": (1, 1, 1)}),
    "A2": (KEY_A, "{a} {de}", "", {"muc": (1 / 3, 1, 0.5), "b3": ((7 / 3) / 6, 1, 14 / 25), "ceafm": (0.5, 1, 0.66667),
                                    "ceafe": (0.6, 0.9, 0.72), "blanc": (0.21591, 1, 0.35385)}),
    "A3": (KEY_A, "{a} {bcx} {defy} {z}", "", {"muc": (1, 3 / 5, 0.75), "b3": (1, (4 + 7 / 12) / 9, 110 / 163),
                                                "ceafm": (1, 0.66667, 0.8), "ceafe": (0.88571, 0.66429, 0.75918),
                                                "blanc": (1, 0.42593, 0.59717)}),
    "A4": (KEY_A, "{a} {bcx} {dy} {z}", "", {"muc": (1 / 3, 1 / 3, 1 / 3),
                                              "b3": ((3 + 1 / 3) / 6, (1 + 4 / 3 + 1 / 2) / 7,
                                                     2 * (5 / 9) * (17 / 42) / ((5 / 9) + (17 / 42))),
                                              "ceafm": (0.66667, 0.57143, 0.61538), "ceafe": (0.73333, 0.55, 0.62857),
                                              "blanc": (0.35227, 0.27206, 0.30357)}),
    "A5": (KEY_A, "{a} {bcxB} {dy} {z}", "B", {"muc": (1 / 3, 1 / 4, 2 / 7),
                                                "b3": ((3 + 1 / 3) / 6, 2.5 / 8,
                                                       2 * (5 / 9) * (5 / 16) / ((5 / 9) + (5 / 16))),
                                                "ceafm": (0.66667, 0.5, 0.57143), "ceafe": (0.68889, 0.51667, 0.59048),
                                                "blanc": (0.35227, 0.19048, 0.24716)}),
    "A6": (KEY_A, "{a} {bcx} {dy} {Bz}", "B", {"muc": (1 / 3, 1 / 4, 2 / 7),
                                                "b3": ((10 / 3) / 6, (1 + 4 / 3 + 1 / 2) / 8,
                                                       2 * (5 / 9) * (17 / 48) / ((5 / 9) + (17 / 48))),
                                                "ceafm": (0.66667, 0.5, 0.57143), "ceafe": (0.73333, 0.55, 0.62857),
                                                "blanc": (0.35227, 0.20870, 0.25817)}),
    "A7": (KEY_A, "{a} {bcxB} {dy} {z}", "", {"muc": (1 / 3, 1 / 3, 1 / 3),
                                               "b3": ((10 / 3) / 6, (1 + 4 / 3 + 1 / 2) / 7,
                                                      2 * (5 / 9) * (17 / 42) / ((5 / 9) + (17 / 42))),
                                               "ceafm": (0.66667, 0.57143, 0.61538), "ceafe": (0.73333, 0.55, 0.62857),
                                               "blanc": (0.35227, 0.27206, 0.30357)}),
    "A8": (KEY_A, "{a} {bcx} {dy} {Bz}", "", {"muc": (1 / 3, 1 / 3, 1 / 3),
                                               "b3": ((10 / 3) / 6, (1 + 4 / 3 + 1 / 2) / 7,
                                                      2 * (5 / 9) * (17 / 42) / ((5 / 9) + (17 / 42))),
                                               "ceafm": (0.66667, 0.57143, 0.61538), "ceafe": (0.73333, 0.55, 0.62857),
                                               "blanc": (0.35227, 0.27206, 0.30357)}),
    "A9": (KEY_A, "{a} {bcx} {dy} {BBBBBBBBBBz}", "", {"muc": (1 / 3, 1 / 3, 1 / 3),
                                                         "b3": ((10 / 3) / 6, (1 + 4 / 3 + 1 / 2) / 7,
                                                                2 * (5 / 9) * (17 / 42) / ((5 / 9) + (17 / 42))),
                                                         "ceafm": (0.66667, 0.57143, 0.61538),
                                                         "ceafe": (0.73333, 0.55, 0.62857),
                                                         "blanc": (0.35227, 0.27206, 0.30357)}),
    "A10": (KEY_A, "{a} {b} {c} {d} {e} {f}", "", {"muc": (0, 0, 0), "b3": (3 / 6, 1, 2 / 3),
                                                    "blanc": (0.5, 0.36667, 0.42308)}),
    "A11": (KEY_A, "{abcdef}", "", {"muc": (1, 3 / 5, 6 / 8), "b3": (1, (1 / 6 + 2 * 2 / 6 + 3 * 3 / 6) / 6, 14 / 25),
                                    "blanc": (0.5, 0.13333, 0.21053)}),
    "A12": (KEY_A, "{a} {x} {y} {c} {d} {e} {z}", "", {"muc": (0, 0, 0),
                                                        "b3": ((1 + 1 / 2 + 2 / 3) / 6, 4 / 7,
                                                               2 * (13 / 36) * (4 / 7) / ((13 / 36) + (4 / 7))),
                                                        "blanc": (0.22727, 0.11905, 0.15625)}),
    "A13": (KEY_A, "{axycdez}", "", {"muc": (1 / 3, 1 / 6, 2 / 9),
                                     "b3": ((1 + 1 / 2 + 2 * 2 / 3) / 6, (1 / 7 + 1 / 7 + 2 * 2 / 7) / 7,
                                            2 * (17 / 36) * (6 / 49) / ((17 / 36) + (6 / 49))),
                                     "blanc": (0.125, 0.02381, 0.04)}),
    "B1": ("{ab} {cde}", "{bcx} {de}", "", {"blanc": (7 / 24, 7 / 24, 7 / 24)}),
    "C1": ("{ab} {cde} {fg}", "{bcx} {de} {fg}", "", {"blanc": (0.5125, 0.5125, 0.5125)}),
    "D1": ("{12345} {67} {89abc}".replace("1", "p").replace("2", "q").replace("3", "r").replace("4", "s")
           .replace("5", "t").replace("6", "u").replace("7", "v").replace("8", "w").replace("9", "z"),
           "{pqrst} {uvwzabc}", "", {"muc": (1, 9 / 10, 2 * (9 / 10) / (1 + 9 / 10)),
                                     "b3": (1, 16 / 21, 2 * (16 / 21) / (1 + 16 / 21))}),
    "E1": ("{pqrst} {uv} {wzabc}", "{pqrstwzabc} {uv}", "", {"muc": (1, 9 / 10, 2 * (9 / 10) / (1 + 9 / 10)),
                                                           "b3": (1, 7 / 12, 2 * (7 / 12) / (1 + 7 / 12))}),
    "F1": ("{abcd}", "{ab} {cd}", "", {"muc": (2 / 3, 1, 0.8)}),
    "G1": ("{ab} {cd}", "{abcd}", "", {"muc": (1, 2 / 3, 0.8)}),
    "H1": ("{abcd}", "{abcd}", "", {"muc": (1, 1, 1)}),
    "I1": ("{abcd}", "{ab} {cd}", "", {"muc": (2 / 3, 1, 0.8)}),
    "J1": ("{abc}", "{ac}", "", {"muc": (1 / 2, 1, 2 / 3)}),
    "K1": ("{bcdeghj}", "{abc} {def} {ghi}", "", {"muc": (0.5, 0.5, 0.5)}),
    "L1": ("{abc} {defg}", "{ab} {cd} {fgh}", "", {"muc": (2 / 5, 2 / 4, 2 * (2 / 5) * (2 / 4) / (2 / 5 + 2 / 4))}),
    "M1": ("{abcdef}", "{abcdef}", "", {"muc": (1, 1, 1), "b3": (1, 1, 1), "ceafm": (1, 1, 1), "ceafe": (1, 1, 1),
                                        "blanc": (1, 1, 1)}),
    "M2": ("{abcdef}", "{a} {b} {c} {d} {e} {f}", "", {"muc": (0, 0, 0), "blanc": (0, 0, 0)}),
    "M3": ("{abcdef}", "{ab} {cde} {f}", "", {"blanc": (0.26667, 1, 0.42105)}),
    "M4": ("{abcdef}", "{abcxyz}", "", {"blanc": (0.2, 0.2, 0.2)}),
    "M5": ("{abcdef}", "{a} {b} {c} {x} {y} {z}", "", {"muc": (0, 0, 0), "blanc": (0, 0, 0)}),
    "M6": ("{abcdef}", "{ab} {cxy} {z}", "", {"blanc": (0.06667, 0.25, 0.10526)}),
    "N1": ("{a} {b} {c} {d} {e} {f}", "{a} {b} {c} {d} {e} {f}", "", {"muc": (0, 0, 0), "blanc": (1, 1, 1)}),
    "N2": ("{a} {b} {c} {d} {e} {f}", "{abcdef}", "", {"muc": (0, 0, 0), "blanc": (0, 0, 0)}),
    "N3": ("{a} {b} {c} {d} {e} {f}", "{ab} {cde} {f}", "", {"blanc": (0.73333, 1, 0.84615)}),
    "N4": ("{a} {b} {c} {d} {e} {f}", "{a} {b} {c} {x} {y} {z}", "", {"muc": (0, 0, 0), "blanc": (0.2, 0.2, 0.2)}),
    "N5": ("{a} {b} {c} {d} {e} {f}", "{abcxyz}", "", {"blanc": (0, 0, 0)}),
    "N6": ("{a} {b} {c} {d} {e} {f}", "{ab} {cxy} {z}", "", {"blanc": (0.13333, 0.18182, 0.15385)}),
}
METRICS = {"muc": coref.MUC, "b3": coref.B3, "ceafm": coref.CEAFM, "ceafe": coref.CEAFE, "blanc": coref.BLANC}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_scorer_test_case(case):
    key, response, overlapping, expected = CASES[case]
    pair = (doc(clusters(key)), doc(clusters(response, overlapping)))
    for name, (recall, precision, f) in expected.items():
        got = score(METRICS[name], [pair])
        assert got["r"] == pytest.approx(recall, abs=5e-5) and got["p"] == pytest.approx(precision, abs=5e-5) \
            and got["f1"] == pytest.approx(f, abs=5e-5), f"{case} {name}: {got}"
