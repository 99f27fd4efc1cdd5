"""Multiple-comparison correction: Holm–Bonferroni step-down adjusted p-values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm (1979) adjusted p-values, in the input order; controls the family-wise error rate.

    The i-th smallest p-value is multiplied by (m − i), and monotonicity is enforced.
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out.tolist()
