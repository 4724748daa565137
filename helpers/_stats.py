"""Shared interval arithmetic for the results of :mod:`helpers`.

Private to the package. Internal interface:

``CI_LEVEL``
    The default coverage of every reported interval (0.95).
``percentile_interval(draws, level=CI_LEVEL, *, axis=0)``
    The equal-tailed percentile interval ``(low, high)`` of resampled values, along ``axis``.
``interval_dict(draws, level=CI_LEVEL)``
    Column name to its ``(low, high)`` interval, for a frame of draws with one column per parameter.
``conf_int_frame(estimates, draws, alpha, *, refit)``
    The tidy one-row-per-parameter table (``parameter``, ``estimate``, ``ci_low``, ``ci_high``) of intervals at
    coverage ``1 - alpha`` that the results' ``conf_int(alpha=...)`` return (the convention of statsmodels).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers._validate import probability

#: Coverage of the intervals reported in ``ci`` when no other level is asked for.
CI_LEVEL = 0.95


def percentile_interval(draws: Any, level: float = CI_LEVEL, *, axis: int | None = 0) -> tuple[Any, Any]:
    """Lower and upper percentile bounds of ``draws`` at coverage ``level`` (linear interpolation, NaN propagates).

    The tails are computed in percent, as ``100 * (1 - level) / 2``: the arithmetic the fits of scaling and
    disaggregate have always used, so their intervals stay the same to the last bit.
    """
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(draws, [tail, 100 - tail], axis=axis)
    return low, high


def interval_dict(draws: pd.DataFrame, level: float = CI_LEVEL) -> dict[str, tuple[float, float]]:
    """``{column: (low, high)}`` for a frame of bootstrap draws, one column per parameter."""
    lo, hi = percentile_interval(draws.to_numpy(), level)
    return {col: (float(a), float(b)) for col, a, b in zip(draws.columns, lo, hi)}


def conf_int_frame(estimates: Mapping[str, float], draws: pd.DataFrame | None, alpha: Any, *,
                   refit: str) -> pd.DataFrame:
    """One row per parameter: ``parameter``, ``estimate``, ``ci_low``, ``ci_high`` at coverage ``1 - alpha``.

    ``draws`` holds one column per parameter (``None`` when none were kept); ``refit`` names the call that would
    keep them, for the error message. ``alpha=0.05`` gives exactly the intervals in ``ci``: ``1 - 0.05`` is the
    float ``0.95``.
    """
    alpha = probability(alpha, "alpha", strict=True, example=0.05)
    if draws is None or len(draws) == 0:
        raise ValueError(
            f"This result kept no bootstrap draws (it was computed with n_boot=0), so it has no interval at any "
            f"level; recompute it with n_boot > 0, e.g. {refit}(..., n_boot=200)."
        )
    ci = interval_dict(draws[list(estimates)], 1 - alpha)
    return pd.DataFrame([{"parameter": p, "estimate": float(v), "ci_low": ci[p][0], "ci_high": ci[p][1]}
                         for p, v in estimates.items()])
