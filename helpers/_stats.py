"""Shared interval arithmetic for the results of :mod:`helpers`.

Private to the package. Internal interface:

``CI_LEVEL``
    The default coverage of every reported interval (0.95).
``OVERALL``
    The group label of the aggregate, every group pooled, in the tables of results (``"overall"``).
``percentile_interval(draws, level=CI_LEVEL, *, axis=0, omit_nan=False, method="linear")``
    The equal-tailed percentile interval ``(low, high)`` of resampled values, along ``axis``.
``interval(draws, level=CI_LEVEL, *, omit_nan=False, method="linear")``
    The same for a 1-d array of draws, as two floats.
``interval_dict(draws, level=CI_LEVEL)``
    Column name to its ``(low, high)`` interval, for a frame of draws with one column per parameter.
``wilson_interval(share, n, level=CI_LEVEL)``
    The Wilson score interval ``(low, high)`` of a proportion, elementwise over arrays; ``n`` may be fractional.
``conf_int_frame(estimates, draws, alpha, *, refit, omit_nan=False, method="linear")``
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
#: Group label of the aggregate (every group pooled) in result tables: the rows of helpers.experiments, the
#: error rates of measurement.threshold_sensitivity, the aggregate law of disaggregate.fit_by_group.
OVERALL = "overall"


def percentile_interval(draws: Any, level: float = CI_LEVEL, *, axis: int | None = 0, omit_nan: bool = False,
                        method: str = "linear") -> tuple[Any, Any]:
    """Lower and upper bounds of the equal-tailed percentile interval of ``draws`` at coverage ``level``.

    The quantiles are ``(1 - level) / 2`` and ``(1 + level) / 2``, taken along ``axis``. With ``omit_nan`` a NaN
    draw (a degenerate resample) is left out instead of making the bounds NaN. ``method`` is numpy's quantile
    rule: ``"inverted_cdf"`` returns actual draws, which keeps the bounds right when some draws are infinite
    (interpolating between a finite draw and ``inf`` gives NaN).
    """
    quantile = np.nanquantile if omit_nan else np.quantile
    low, high = quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=axis, method=method)
    return low, high


def interval(draws: Any, level: float = CI_LEVEL, *, omit_nan: bool = False,
             method: str = "linear") -> tuple[float, float]:
    """:func:`percentile_interval` of a 1-d array of draws, as a pair of floats (the ``ci`` of a result)."""
    low, high = percentile_interval(draws, level, axis=None, omit_nan=omit_nan, method=method)
    return float(low), float(high)


def interval_dict(draws: pd.DataFrame, level: float = CI_LEVEL, *, omit_nan: bool = False,
                  method: str = "linear") -> dict[str, tuple[float, float]]:
    """``{column: (low, high)}`` for a frame of bootstrap draws, one column per parameter."""
    lo, hi = percentile_interval(draws.to_numpy(), level, omit_nan=omit_nan, method=method)
    return {col: (float(a), float(b)) for col, a, b in zip(draws.columns, lo, hi)}


def wilson_interval(share: Any, n: Any, level: float = CI_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``share`` seen in ``n`` trials, elementwise (Wilson 1927).

    With ``z`` the standard normal quantile at ``(1 + level) / 2``, the bounds are
    ``(share + z**2/(2n) -/+ z * sqrt(share(1 - share)/n + z**2/(4n**2))) / (1 + z**2/n)``, clipped to ``[0, 1]``
    (the exact bounds lie inside it; the clip removes rounding). ``n`` may be fractional, e.g. Kish's effective
    sample size of weighted counts; ``n = 0`` gives NaN bounds. Hand-written rather than scipy's ``binomtest``,
    which gives one interval per call and needs whole counts.
    """
    from scipy import stats  # imported here: most users of this module never need it

    z = float(stats.norm.ppf((1 + level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z**2 / n
        centre = (share + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def conf_int_frame(estimates: Mapping[str, float], draws: pd.DataFrame | None, alpha: Any, *, refit: str,
                   omit_nan: bool = False, method: str = "linear") -> pd.DataFrame:
    """One row per parameter: ``parameter``, ``estimate``, ``ci_low``, ``ci_high`` at coverage ``1 - alpha``.

    ``draws`` holds one column per parameter (``None`` when none were kept); ``refit`` names the call that would
    keep them, for the error message; ``omit_nan`` and ``method`` are those the result's ``ci`` was computed with.
    ``1 - alpha`` is the level, so ``alpha=0.05`` gives exactly a ``ci`` at 0.95 (``1 - 0.05`` is the float
    ``0.95``).
    """
    alpha = probability(alpha, "alpha", strict=True, example=0.05)
    if draws is None:
        raise ValueError(
            f"This result kept no bootstrap draws (it was computed with n_boot=0), so it has no interval at any "
            f"level; recompute it with n_boot > 0, e.g. {refit}(..., n_boot=200)."
        )
    if len(draws) == 0:
        raise ValueError(
            f"Every bootstrap resample of this result was degenerate (the statistic is undefined on each), so no "
            f"interval exists at any level; {refit} needs more varied data, not a larger n_boot."
        )
    ci = interval_dict(draws[list(estimates)], 1 - alpha, omit_nan=omit_nan, method=method)
    return pd.DataFrame([{"parameter": p, "estimate": float(v), "ci_low": ci[p][0], "ci_high": ci[p][1]}
                         for p, v in estimates.items()])
