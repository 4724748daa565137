"""Who is in the data: sampling frames, unseen groups and what weights can (not) fix.

A *population* is everyone we want to speak about, a *sampling frame* is the list
we can actually draw from, and a *sample* is what we drew. Web-scale training
and evaluation data are convenience samples from frames nobody designed, so the
book asks three questions of them, and this module has tools for each.

* **How many groups does a sample of size n contain?** The number of distinct
  communities (say state x race x age x party cells) keeps growing with n. Two
  classic random-partition models give exact expectations: the Chinese restaurant
  process (growth like ``theta * log n``) and its Pitman-Yor generalisation
  (growth like ``n ** discount``) :cite:`pitman1997two`. See
  :func:`expected_distinct_groups`, :func:`sample_partition`,
  :func:`accumulation_curve` and :func:`fit_pitman_yor`.
* **How much have we not seen?** Good's estimate of the probability that the next
  item belongs to an unseen group :cite:`good1953population` and Chao's lower
  bound on the number of groups :cite:`chao1984nonparametric`:
  :func:`good_turing_unseen`, :func:`chao1`.
* **What do weights repair?** Post-stratification, raking
  :cite:`deming1940least`, inverse-probability weights and Kish's effective sample
  size :cite:`kish1965survey`: :func:`poststratify`, :func:`rake`, :func:`ipw`,
  :func:`kish_ess`. Weights re-balance groups that are in the sample; a group the
  frame never reaches gets no weight at all, and these functions refuse, loudly,
  to pretend otherwise.

:func:`platform_growth_sample` and :func:`composition_by_size` simulate a frame
that grows unevenly over time, so a group's share (and its effective n) lags the
total n, and :func:`frame_sample` draws a sample from a pool under a random or a
convenience frame (the training samples of :mod:`helpers.experiments` and the
designs of :mod:`helpers.local`). Finally, the evaluation set is a sample too: :func:`compare_on_mixes`
scores two models on evaluation sets of chosen size and group mix, where their
order can flip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from helpers._docs import SHARED, fill_doc
from helpers._stats import interval, percentile_interval
from helpers._validate import (
    MAX_COUNT,
    as_float_array,
    binary_array,
    finite_output,
    finite_scalar,
    flag,
    has_columns,
    min_points,
    nonnegative_weights,
    one_of,
    positive_int,
    renamed_required,
    same_length,
    sequence,
    renamed,
    whole_numbers,
    check_majority_weight,
)
from helpers._validate import Labels
from helpers._validate import seed as _seed

__all__ = [
    "FRAMES",
    "Chao1Result",
    "PitmanYorFit",
    "accumulation_curve",
    "chao1",
    "compare_on_mixes",
    "composition_by_size",
    "expected_distinct_groups",
    "fit_pitman_yor",
    "frame_sample",
    "good_turing_unseen",
    "ipw",
    "kish_ess",
    "platform_growth_sample",
    "poststratify",
    "rake",
    "sample_partition",
]

#: Shares given as targets must add up to 1 within this tolerance.
SHARE_TOL = 1e-6
#: Sampling frames of :func:`frame_sample`: a simple random sample, or a convenience frame that reaches the
#: majority more easily.
FRAMES = ("random", "convenience")

# Asymptotic-series terms (power m, coefficient) for log Gamma (Stirling) and digamma,
# used from argument 10 upward, where the first omitted term is below 1e-15.
_STIRLING = ((1, 1 / 12), (3, -1 / 360), (5, 1 / 1260), (7, -1 / 1680), (9, 1 / 1188), (11, -691 / 360360))
_DIGAMMA = ((2, -1 / 12), (4, 1 / 120), (6, -1 / 252), (8, 1 / 240), (10, -1 / 132), (12, 691 / 32760))
_STIRLING_FROM = 10.0

# Docstring pieces shared by several functions, set in by ``@_doc`` (helpers/_docs.py).
_DOCS = {
    "counts": """\
        counts : array-like of int
            The number of items of each *observed* group (positive whole numbers, one
            entry per group), e.g. ``df["group"].value_counts()``.""",
    # good_turing_unseen and chao1 check their counts with the same _observed_counts.
    "counts_raises": """\
        Raises
        ------
        ValueError
            If counts are empty, non-finite, zero, negative or not whole numbers.""",
    # What poststratify and rake return.
    "weights_returns": """\
        Returns
        -------
        pandas.Series
            One weight per row of ``df`` (same index), named ``"weight"``.""",
}
_doc = fill_doc({**SHARED, **_DOCS})


# ---------------------------------------------------------------------------
# validation shared inside this module
# ---------------------------------------------------------------------------


def _check_py_params(theta: float, discount: float) -> tuple[float, float]:
    theta, discount = finite_scalar(theta, "theta", example=1.0), finite_scalar(discount, "discount", example=0.0)
    if not 0.0 <= discount < 1.0:
        raise ValueError(
            f"discount must be in [0, 1); got {discount:g}. Use 0 for the Chinese restaurant "
            "process; values near 1 mean almost every item starts a new group."
        )
    if theta <= -discount:
        need = "theta > 0" if discount == 0 else f"theta > -discount = {-discount:g}"
        raise ValueError(
            f"theta must satisfy {need} (Pitman-Yor needs theta > -discount); got theta={theta:g}, "
            f"discount={discount:g}. Increase theta."
        )
    return theta, discount


def _whole_numbers(values: Any, name: str, *, maximum: float | None = 2.0**53) -> np.ndarray:
    return whole_numbers(values, name, maximum=maximum, meaning="counts of items")


def _observed_counts(counts: Any) -> np.ndarray:
    arr = as_float_array(counts, "counts")
    if (arr == 0).any():
        raise ValueError(
            f"counts has {int((arr == 0).sum())} zero(s): pass the counts of *observed* groups only, "
            "e.g. counts[counts > 0] (value_counts of a categorical lists unobserved levels as 0)."
        )
    return _whole_numbers(arr, "counts")


def _codes(values: Any, name: str) -> tuple[np.ndarray, int]:
    """Integer codes 0..K-1 for labels (a 1-d array) or for label combinations (a DataFrame's rows)."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] == 0:
            raise ValueError(f"{name} has no columns; pass at least one label column.")
        missing = int(values.isna().any(axis=1).sum())
        codes = values.groupby(list(values.columns), sort=False, observed=True, dropna=False).ngroup()
        codes = codes.to_numpy()
    else:
        arr = np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values.to_numpy()
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-dimensional (or a DataFrame of label columns); got shape {arr.shape}.")
        codes, _ = pd.factorize(arr)
        missing = int((codes < 0).sum())
    if len(codes) == 0:
        raise ValueError(f"{name} is empty; pass at least one label.")
    if missing:
        raise ValueError(f"{name} has {missing} missing label(s); drop those rows or give them an explicit label.")
    return codes.astype(np.int64), int(codes.max()) + 1


def _shares(values: Any, name: str) -> pd.Series:
    """A target-share Series: finite, non-negative, unique keys, summing to 1."""
    if not isinstance(values, (pd.Series, Mapping)):
        raise ValueError(f"{name} must be a mapping {{category: share}}, e.g. {{'x': 0.5, 'y': 0.5}}; got {values!r}.")
    shares = values.copy() if isinstance(values, pd.Series) else pd.Series(dict(values), dtype=float)
    if shares.empty:
        raise ValueError(f"{name} is empty; give at least one category with its share.")
    if shares.index.has_duplicates:
        raise ValueError(f"{name} lists {shares.index[shares.index.duplicated()][0]!r} twice; give each category once.")
    arr = as_float_array(shares.to_numpy(), name)
    if (arr < 0).any():
        raise ValueError(f"{name} has negative share(s); shares are proportions in [0, 1].")
    if abs(arr.sum() - 1.0) > SHARE_TOL:
        raise ValueError(
            f"{name} sums to {arr.sum():.6g}, not 1. Divide by the total (population counts -> shares), "
            "and make sure no category is missing."
        )
    return pd.Series(arr, index=shares.index)


def _no_missing(df: pd.DataFrame, columns: Sequence[str]) -> None:
    n_missing = df[list(columns)].isna().any(axis=1).sum()
    if n_missing:
        raise ValueError(
            f"{int(n_missing)} row(s) have a missing value in {list(columns)}; a row without a cell cannot "
            "be weighted. Impute the value or drop the rows (and say so)."
        )


# ---------------------------------------------------------------------------
# how many groups does a sample of size n contain?
# ---------------------------------------------------------------------------


def _shift_up(x: np.ndarray, term: Any) -> tuple[np.ndarray, np.ndarray]:
    """Shift x up to >= _STIRLING_FROM by whole steps; return the shifted x and sum_j term(x + j)."""
    shift = np.maximum(np.ceil(_STIRLING_FROM - x), 0.0)
    total = np.zeros_like(x)
    for j in range(int(shift.max())):  # at most 10 steps, each vectorised over x
        m = j < shift
        total[m] += term(x[m] + j)
    return x + shift, total


def _log_gamma_step(x: np.ndarray, d: float) -> np.ndarray:
    """log Gamma(x + d) - log Gamma(x) for x > 0, accurate even when d is tiny.

    Hand-written because gammaln(x + d) - gammaln(x) cancels catastrophically for
    small d or large x; the Stirling series differenced term by term does not.
    """
    z, low = _shift_up(x, lambda y: np.log1p(d / y))
    lz = np.log1p(d / z)
    out = (z - 0.5) * lz + d * np.log(z + d) - d
    for power, coef in _STIRLING:
        out += coef * z ** (-power) * np.expm1(-power * lz)
    return out - low


def _digamma_diff(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """psi(hi) - psi(lo) for 0 < lo <= hi, accurate when hi - lo is small relative to lo.

    Hand-written for the same reason as :func:`_log_gamma_step`: digamma(hi) - digamma(lo)
    loses all digits when lo is large.
    """
    a, s_lo = _shift_up(lo, np.reciprocal)
    b, s_hi = _shift_up(hi, np.reciprocal)
    lr = np.log1p((b - a) / a)
    out = lr + (b - a) / (2 * a * b)
    for power, coef in _DIGAMMA:
        out += coef * a ** (-power) * np.expm1(-power * lr)
    return out - s_hi + s_lo


def expected_distinct_groups(n: Any, *, theta: float, discount: float = 0.0) -> np.ndarray:
    r"""Exact expected number of distinct groups among ``n`` items of a Pitman-Yor sample.

    For the Chinese restaurant process (``discount = 0``)

    .. math:: E[K_n] = \theta\,(\psi(\theta + n) - \psi(\theta)) \approx \theta \log n,

    and for the Pitman-Yor process (``0 < discount < 1``, ``theta > -discount``)

    .. math:: E[K_n] = \frac{\theta}{d}\Big[\frac{(\theta + d)_n}{(\theta)_n} - 1\Big] \sim c\, n^{d},

    with :math:`\psi` the digamma function and rising factorials
    :math:`(x)_n = \Gamma(x + n) / \Gamma(x)` :cite:`pitman1997two`. The Pitman-Yor form is evaluated as
    :math:`\theta\,\mathrm{expm1}(D)/d + e^{D}` with
    :math:`D = \log[(\theta + 1 + d)_{n-1} / (\theta + 1)_{n-1}]`, which is the same
    quantity, stays finite at ``theta = 0`` and for negative ``theta``, and tends to
    the CRP value as ``discount -> 0``. Both satisfy the recursion
    :math:`E[K_{n+1}] = E[K_n] + (\theta + d\,E[K_n]) / (\theta + n)`.

    Parameters
    ----------
    n : int or array-like of int
        Sample sizes (whole numbers >= 1).
    theta : float
        Concentration: larger means more groups at every n.
    discount : float, default 0.0
        In ``[0, 1)``; 0 gives the CRP, larger values give power-law growth ``n**discount``.

    Returns
    -------
    numpy.ndarray
        1-d float array, one expectation per entry of ``n`` (length 1 for a scalar).

    Raises
    ------
    ValueError
        If ``n`` has non-finite, non-integer or values < 1, ``discount`` is outside
        ``[0, 1)``, or ``theta <= -discount``.

    Examples
    --------
    >>> from helpers.sampling import expected_distinct_groups
    >>> expected_distinct_groups([1, 2, 3], theta=1.0).round(4)  # harmonic numbers
    array([1.    , 1.5   , 1.8333])
    >>> round(float(expected_distinct_groups(10_000, theta=5.0, discount=0.5)[0]), 1)
    448.6
    """
    n = _whole_numbers(n, "n", maximum=None)  # the formula holds for any n; no integer cast follows
    theta, discount = _check_py_params(theta, discount)
    if discount == 0.0:
        # theta (psi(theta + n) - psi(theta)), written so that n = 1 gives exactly 1
        return 1.0 + theta * _digamma_diff(np.full_like(n, theta + 1.0), theta + n)
    step = _log_gamma_step(theta + n, discount) - _log_gamma_step(np.full_like(n, theta + 1.0), discount)
    return theta * np.expm1(step) / discount + np.exp(step)


def sample_partition(n: int, *, theta: float, discount: float = 0.0, seed: int = 0) -> np.ndarray:
    """Group labels of ``n`` items drawn one at a time from a Pitman-Yor (or CRP) process.

    Item ``i + 1`` (after ``i`` items in ``K`` groups) starts a new group with
    probability ``(theta + discount * K) / (theta + i)`` and otherwise joins group
    ``k`` with probability ``(n_k - discount) / (theta + i)``. Joining is simulated
    exactly and in O(1) per item by splitting ``n_k - discount = (1 - discount) n_k +
    discount (n_k - 1)``: copy the label of a uniformly chosen earlier item, or of a
    uniformly chosen earlier item that did not found its group.

    Parameters
    ----------
    n : int
        Number of items (>= 1).
    theta, discount : float
        As in :func:`expected_distinct_groups`.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray
        ``n`` integer labels ``0..K-1``, numbered in order of first appearance. The
        first ``m`` labels are themselves a draw of size ``m``.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or the parameters are invalid.

    Examples
    --------
    >>> from helpers.sampling import sample_partition
    >>> labels = sample_partition(1000, theta=2.0, discount=0.3, seed=1)
    >>> len(labels), int(labels[0]), bool(labels.max() < 1000)
    (1000, 0, True)
    """
    n = positive_int(n, "n", maximum=MAX_COUNT)
    theta, discount = _check_py_params(theta, discount)
    rng = np.random.default_rng(_seed(seed))
    u = rng.random(n).tolist()
    v = rng.random(n).tolist()
    labels = [0]
    non_founders: list[int] = []
    k = 1
    # The process is sequential (each step depends on all earlier ones), so it is a
    # Python loop over plain lists, which are faster than numpy scalars here.
    for i in range(1, n):
        x = u[i] * (theta + i)
        if x < theta + discount * k:
            label = k
            k += 1
        else:
            if x < theta + discount * k + (1.0 - discount) * i or not non_founders:
                label = labels[int(v[i] * i)]
            else:
                label = non_founders[int(v[i] * len(non_founders))]
            non_founders.append(label)
        labels.append(label)
    return np.asarray(labels, dtype=np.int64)


def _running_distinct(codes: np.ndarray) -> np.ndarray:
    """Number of distinct codes among the first 1, 2, ..., len(codes) items."""
    first = np.zeros(len(codes), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    return np.cumsum(first)


def accumulation_curve(labels: Any, *, sizes: Any, n_perm: int = 20, seed: int = 0) -> pd.DataFrame:
    """Distinct groups among the first ``s`` items of random orderings of a data set.

    This is the empirical counterpart of :func:`expected_distinct_groups`: shuffle the
    rows, walk through them and count how many groups have appeared after ``s`` rows.
    Averaging over shufflings gives the expected number of groups in a random
    subsample of size ``s`` (without replacement).

    Parameters
    ----------
    labels : array-like or pandas.DataFrame
        One group label per item, or a DataFrame whose rows' combinations of values
        are the groups (e.g. ``df[["state", "race", "age", "party"]]``).
    sizes : int or array-like of int
        Subsample sizes, each between 1 and the number of items. Duplicates are
        dropped and the result is sorted by size.
    n_perm : int, default 20
        Number of random orderings.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        Columns ``size``, ``mean`` (average over orderings), ``low`` and ``high``
        (2.5th and 97.5th percentiles over orderings; with few orderings these are
        close to the minimum and maximum) and ``n_perm``.

    Raises
    ------
    ValueError
        If labels are empty or missing, or a size is not a whole number in ``[1, len(labels)]``.

    Examples
    --------
    >>> from helpers.sampling import accumulation_curve
    >>> curve = accumulation_curve(list("aabbbc"), sizes=[1, 6], n_perm=5)
    >>> curve[["size", "mean", "low", "high"]].to_numpy().tolist()
    [[1.0, 1.0, 1.0, 1.0], [6.0, 3.0, 3.0, 3.0]]
    """
    codes, _ = _codes(labels, "labels")
    n_items = len(codes)
    sizes = np.unique(_whole_numbers(sizes, "sizes")).astype(np.int64)
    if sizes[-1] > n_items:
        raise ValueError(f"sizes go up to {sizes[-1]} but there are only {n_items} items; drop the larger sizes.")
    n_perm = positive_int(n_perm, "n_perm", maximum=100_000)
    rng = np.random.default_rng(_seed(seed))
    # One vectorised pass per ordering; orderings are few (tens).
    counts = np.stack([_running_distinct(codes[rng.permutation(n_items)])[sizes - 1] for _ in range(n_perm)])
    low, high = percentile_interval(counts)
    return pd.DataFrame(
        {"size": sizes, "mean": counts.mean(axis=0), "low": low, "high": high, "n_perm": n_perm}
    )


@dataclass(frozen=True)
class PitmanYorFit:
    """A Pitman-Yor (or CRP) accumulation curve fitted by least squares on the log scale.

    Attributes
    ----------
    theta : float
        Fitted concentration.
    discount : float
        Fitted discount (0 for ``model="crp"``); the curve grows like ``n**discount``.
    objective : float
        Root-mean-square of ``log(observed) - log(fitted)``, roughly the typical
        relative error of the fit.
    n_points : int
        Number of points fitted.
    model : str
        ``"pitman_yor"`` or ``"crp"``.
    """

    theta: float
    discount: float
    objective: float
    n_points: int
    model: str

    def predict(self, n: Any) -> np.ndarray:
        """Expected number of distinct groups at sizes ``n`` under the fitted parameters."""
        return expected_distinct_groups(n, theta=self.theta, discount=self.discount)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fit."""
        return pd.DataFrame([asdict(self)])


def _curve_arrays(curve: Any, distinct: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(curve, pd.DataFrame):
        if distinct is not None:
            raise ValueError("Pass either a curve DataFrame (columns size, mean) or sizes and distinct, not both.")
        has_columns(curve, ["size", "mean"], what="the accumulation curve")
        curve, distinct = curve["size"], curve["mean"]
    elif distinct is None:
        raise ValueError("Pass a DataFrame from accumulation_curve, or sizes together with distinct counts.")
    sizes = _whole_numbers(curve, "curve (the sample sizes)")
    k = as_float_array(distinct, "distinct")
    same_length(curve=sizes, distinct=k)
    # Slack of 1e-9 lets exact expectations (E[K_1] = 1 up to rounding) through.
    if (k < 1 - 1e-9).any() or (k > sizes * (1 + 1e-9)).any():
        raise ValueError(
            "distinct counts must lie between 1 and the sample size (a sample of n items has 1..n groups); "
            "check that sizes and counts are aligned."
        )
    return sizes, k


def fit_pitman_yor(curve: Any, distinct: Any = None, *, model: str = "pitman_yor") -> PitmanYorFit:
    """Fit ``theta`` (and ``discount``) to an observed accumulation curve.

    The fit minimises the sum of squared *log* residuals
    ``log(observed) - log(E[K_n])``: relative errors, so that small and large
    sample sizes count equally (curves are usually measured at log-spaced sizes and
    span orders of magnitude). It starts from the best point of a coarse grid and
    polishes with bounded ``scipy.optimize.least_squares``. ``theta`` is kept in
    ``(-discount, 1e8]``; a curve where every item is its own group pushes theta
    to that bound.

    A subsampling curve from one data set describes that data set: ``theta`` is
    poorly determined by a single realisation (the curve's level is random), while
    ``discount``, the growth exponent, is well determined. Extrapolating with
    :meth:`PitmanYorFit.predict` beyond the data assumes the process that produced
    the data keeps producing new groups at the same rate.

    Parameters
    ----------
    curve : pandas.DataFrame or array-like
        Output of :func:`accumulation_curve` (columns ``size`` and ``mean``), or the
        sample sizes when ``distinct`` is given.
    distinct : array-like, optional
        Number of distinct groups at each size (when ``curve`` holds the sizes).
    model : {"pitman_yor", "crp"}, default "pitman_yor"
        ``"crp"`` fixes ``discount = 0`` and fits ``theta`` only.

    Returns
    -------
    PitmanYorFit

    Raises
    ------
    ValueError
        If there are too few points (3 for Pitman-Yor, 2 for CRP), values are
        non-finite, counts are outside ``[1, size]``, or ``model`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from helpers.sampling import expected_distinct_groups, fit_pitman_yor
    >>> n = np.unique(np.geomspace(1, 1e5, 30).round())
    >>> fit = fit_pitman_yor(n, expected_distinct_groups(n, theta=3.0, discount=0.4))
    >>> round(fit.theta, 3), round(fit.discount, 3)
    (3.0, 0.4)
    """
    one_of(model, ["pitman_yor", "crp"], "model")
    sizes, k = _curve_arrays(curve, distinct)
    min_points(len(sizes), 3 if model == "pitman_yor" else 2, f"fit_pitman_yor(model={model!r})")
    best = _least_squares_fit(sizes, np.log(k), pitman_yor=False)
    if model == "pitman_yor":
        # discount = 0 is a boundary that bounded optimisers approach only slowly, so the
        # CRP is fitted on its own and kept when it fits at least as well.
        py = _least_squares_fit(sizes, np.log(k), pitman_yor=True)
        best = py if py[2] < best[2] else best
    theta, discount, rms = best
    return PitmanYorFit(theta=theta, discount=discount, objective=rms, n_points=len(sizes), model=model)


def _least_squares_fit(sizes: np.ndarray, log_k: np.ndarray, *, pitman_yor: bool) -> tuple[float, float, float]:
    """(theta, discount, rms log residual): best of a coarse grid, polished by least_squares."""

    def unpack(x: np.ndarray) -> tuple[float, float]:
        discount = float(x[1]) if pitman_yor else 0.0
        return float(np.exp(x[0])) - discount, discount  # x[0] = log(theta + discount) keeps theta > -discount

    def residuals(x: np.ndarray) -> np.ndarray:
        theta, discount = unpack(x)
        return np.log(expected_distinct_groups(sizes, theta=theta, discount=discount)) - log_k

    grid_u = np.linspace(np.log(1e-2), np.log(1e6), 17)
    grid_d = [0.0, 0.2, 0.4, 0.6, 0.8, 0.95] if pitman_yor else [None]
    starts = [np.array([u] if d is None else [u, d]) for u in grid_u for d in grid_d]
    x0 = min(starts, key=lambda x: float(np.sum(residuals(x) ** 2)))
    lo_u, hi_u = np.log(1e-8), np.log(1e8)
    bounds = ([lo_u, 0.0], [hi_u, 1.0 - 1e-9]) if pitman_yor else ([lo_u], [hi_u])
    sol = least_squares(residuals, x0, bounds=bounds, xtol=1e-12, ftol=1e-12, gtol=1e-12)
    theta, discount = unpack(sol.x)
    return theta, discount, float(np.sqrt(np.mean(sol.fun**2)))


# ---------------------------------------------------------------------------
# how much have we not seen?
# ---------------------------------------------------------------------------


@_doc
def good_turing_unseen(counts: Any) -> float:
    """Good-Turing estimate of the probability that the next item is from an unseen group.

    The estimate is ``N1 / n``: the share of the sample made up of groups seen
    exactly once :cite:`good1953population`. If a sample is all singletons, the
    estimate is 1: we have learned almost nothing about what else is out there.

    Parameters
    ----------
    {{counts}}

    Returns
    -------
    float
        Estimated total probability of all groups absent from the sample.

    {{counts_raises}}

    Examples
    --------
    >>> from helpers.sampling import good_turing_unseen
    >>> round(good_turing_unseen([1, 1, 1, 2, 3, 5]), 4)  # 3 singletons in 13 items
    0.2308
    """
    c = _observed_counts(counts)
    return float((c == 1).sum() / c.sum())


@dataclass(frozen=True)
class Chao1Result:
    """Chao1 richness estimate.

    Attributes
    ----------
    estimate : float
        Estimated number of groups, seen and unseen.
    observed : int
        Groups in the sample (S_obs).
    singletons, doubletons : int
        Groups seen exactly once (F1) and twice (F2).
    n : int
        Items in the sample.
    bias_corrected : bool
        Whether ``estimate`` uses the bias-corrected form.
    """

    estimate: float
    observed: int
    singletons: int
    doubletons: int
    n: int
    bias_corrected: bool

    @property
    def unseen(self) -> float:
        """Estimated number of groups present in the population but absent from the sample."""
        return self.estimate - self.observed

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame, including ``unseen``."""
        return pd.DataFrame([{**asdict(self), "unseen": self.unseen}])


@_doc
def chao1(counts: Any, *, bias_corrected: bool = True) -> Chao1Result:
    """Chao1 estimate of how many groups exist, including those not yet seen.

    Bias-corrected form (default): ``S_obs + F1 (F1 - 1) / (2 (F2 + 1))``, which is
    finite when there are no doubletons. Classic form :cite:`chao1984nonparametric`:
    ``S_obs + F1**2 / (2 F2)``, used when ``bias_corrected=False`` and ``F2 > 0``
    (otherwise the bias-corrected form is used). This mirrors scikit-bio's
    ``skbio.diversity.alpha.chao1``. Either way it is a *lower bound*-type
    estimate: groups too rare to be seen even once leave no trace.

    Parameters
    ----------
    {{counts}}
    bias_corrected : bool, default True
        Use the bias-corrected form.

    Returns
    -------
    Chao1Result

    {{counts_raises}}

    Examples
    --------
    >>> from helpers.sampling import chao1
    >>> res = chao1([1, 1, 1, 2, 3, 5])  # 6 + 3 * 2 / (2 * 2)
    >>> res.estimate, res.unseen
    (7.5, 1.5)
    """
    c = _observed_counts(counts)
    bias_corrected = flag(bias_corrected, "bias_corrected")
    f1, f2 = int((c == 1).sum()), int((c == 2).sum())
    if bias_corrected or f2 == 0:
        extra, used = f1 * (f1 - 1) / (2 * (f2 + 1)), True
    else:
        extra, used = f1**2 / (2 * f2), False
    return Chao1Result(
        estimate=float(len(c) + extra), observed=len(c), singletons=f1, doubletons=f2, n=int(c.sum()),
        bias_corrected=used,
    )


# ---------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------


def kish_ess(weights: Any) -> float:
    """Kish's effective sample size ``(sum w)**2 / sum w**2`` :cite:`kish1965survey`.

    Equal weights give ``n``; the more unequal the weights, the fewer independent
    observations the weighted sample is worth.

    Parameters
    ----------
    weights : array-like of float
        Non-negative weights, not all zero.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If weights are empty, non-finite, negative or all zero.

    Examples
    --------
    >>> from helpers.sampling import kish_ess
    >>> kish_ess([1, 1, 1, 1]), round(kish_ess([1, 2, 3]), 4)  # 36 / 14
    (4.0, 2.5714)
    """
    w = nonnegative_weights(weights, "weights")
    w = w / w.max()  # ESS is scale-free; rescaling avoids underflow of w**2
    return float(w.sum() ** 2 / np.sum(w**2))


def ipw(propensity: Any) -> np.ndarray:
    """Inverse-probability (Horvitz-Thompson) weights ``1 / p``.

    Parameters
    ----------
    propensity : array-like of float
        Each unit's probability of being in the sample, in ``(0, 1]``.

    Returns
    -------
    numpy.ndarray
        The weights, unnormalised (they estimate how many population units each
        sampled unit stands for).

    Raises
    ------
    ValueError
        If a propensity is non-finite, ``<= 0`` or ``> 1``. A unit with probability 0
        can never be sampled, and no weight can stand in for it.

    Examples
    --------
    >>> from helpers.sampling import ipw
    >>> ipw([0.5, 0.25, 1.0]).tolist()
    [2.0, 4.0, 1.0]
    """
    p = as_float_array(propensity, "propensity")
    if (p <= 0).any():
        raise ValueError(
            f"propensity has {int((p <= 0).sum())} value(s) <= 0: units that can never be sampled cannot be "
            "weighted back in. Change the frame or restrict the target population, and say so."
        )
    if (p > 1).any():
        raise ValueError(f"propensity has value(s) > 1 (largest {p.max():g}); probabilities lie in (0, 1].")
    return 1.0 / p


def _population_table(population_shares: Any, cells: list[str]) -> pd.Series:
    if isinstance(population_shares, pd.DataFrame):
        has_columns(population_shares, [*cells, "share"], what="population_shares")
        population_shares = population_shares.set_index(cells)["share"]
    elif not isinstance(population_shares, (Mapping, pd.Series)):
        raise ValueError(
            "population_shares must be a mapping {cell: share}, a Series, or a DataFrame with the cell "
            f"columns and a 'share' column; got {type(population_shares).__name__}."
        )
    shares = _shares(population_shares, "population_shares")
    if shares.index.nlevels != len(cells):
        raise ValueError(
            f"population_shares keys have {shares.index.nlevels} level(s) but cells has {len(cells)} column(s); "
            "with several cell columns use tuple keys, one value per column."
        )
    return shares


@_doc
def poststratify(df: pd.DataFrame, *, cells: str | Sequence[str], population_shares: Any) -> pd.Series:
    """Post-stratification weights: population share / sample share of each cell.

    A respondent in cell ``c`` gets weight ``P_c / (n_c / n)``. When the population
    shares sum to 1 and every cell is covered, these weights have mean exactly 1,
    so they sum to the sample size; weighted shares then equal the population
    shares. Cells with population share 0 give their respondents weight 0.

    Parameters
    ----------
    df : pandas.DataFrame
        The sample, one row per respondent.
    cells : str or list of str
        Column(s) defining the cells (e.g. ``["race", "age"]``).
    population_shares : mapping, Series or DataFrame
        Population share of each cell: ``{cell: share}`` (tuple keys for several
        columns), a Series indexed by cell, or a DataFrame with the cell columns and
        a ``share`` column. Shares must sum to 1.

    {{weights_returns}}

    Raises
    ------
    ValueError
        If a cell has population share > 0 but no respondents (weighting cannot
        create people who are not in the sample), a sample cell is absent from the
        population table, shares do not sum to 1, or cell values are missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.sampling import poststratify
    >>> df = pd.DataFrame({"g": ["a", "a", "a", "b"]})
    >>> poststratify(df, cells="g", population_shares={"a": 0.5, "b": 0.5}).round(4).tolist()
    [0.6667, 0.6667, 0.6667, 2.0]
    """
    cells = [cells] if isinstance(cells, str) else sequence(cells, "cells", example="['race', 'age']")
    if not cells:
        raise ValueError("cells is empty; name at least one column that defines the cells.")
    has_columns(df, cells)
    if len(df) == 0:
        raise ValueError("df has no rows; there is nobody to weight.")
    _no_missing(df, cells)
    target = _population_table(population_shares, cells)
    grouped = df.groupby(cells if len(cells) > 1 else cells[0], observed=True, sort=True)
    sample = grouped.size() / len(df)
    empty = target.index[(target > 0).to_numpy() & ~target.index.isin(sample.index)]
    if len(empty):
        raise ValueError(
            f"cell {empty[0]!r} has population share {target[empty[0]]:g} but no respondents "
            f"({len(empty)} such cell(s)): collapse cells or drop it from the target; weighting cannot "
            "create people who are not in the sample."
        )
    extra = sample.index[~sample.index.isin(target.index)]
    if len(extra):
        raise ValueError(
            f"cell {extra[0]!r} has respondents but is not in population_shares ({len(extra)} such cell(s)); "
            "add its population share (0 if it is out of scope)."
        )
    ratio = target.reindex(sample.index).to_numpy() / sample.to_numpy()
    return pd.Series(ratio[grouped.ngroup().to_numpy()], index=df.index, name="weight")


def _margin_codes(df: pd.DataFrame, column: str, shares: pd.Series) -> np.ndarray:
    values = df[column]
    codes = shares.index.get_indexer(values.to_numpy()).astype(np.int64)
    unknown = (codes < 0) & values.notna().to_numpy()
    if unknown.any():
        example = values[unknown].iloc[0]
        raise ValueError(
            f"margin {column!r}: category {example!r} occurs in the sample but has no target share; "
            "add it to the margin (share 0 if out of scope) or drop those rows."
        )
    return codes


@_doc
def rake(
    df: pd.DataFrame,
    *,
    margins: Mapping[str, Mapping[Any, float]],
    weights: Any = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> pd.Series:
    """Rake weights to known marginal shares by iterative proportional fitting.

    Each sweep rescales the weights so that one margin at a time matches its
    target share exactly (Deming-Stephan IPF, :cite:`deming1940least`); sweeps
    repeat until every margin is within ``tol``. Raking keeps the sample's
    associations between the raking variables (its odds ratios) and changes only the margins.
    The weights keep the total of the starting weights (so mean 1 by default).

    IPF is hand-written because no maintained raking library (statsmodels,
    samplics, ipfn) is among the book's pinned dependencies, and it is a few lines.

    Parameters
    ----------
    df : pandas.DataFrame
        The sample, one row per respondent.
    margins : mapping
        ``{column: {category: share}}``; each margin's shares must sum to 1.
    weights : array-like, optional
        Starting (design) weights, non-negative, aligned with the rows by position; default all 1.
    max_iter : int, default 100
        Maximum number of sweeps over all margins.
    tol : float, default 1e-8
        Largest allowed absolute gap between a weighted share and its target.

    {{weights_returns}}

    Raises
    ------
    ValueError
        If a category has a target share but no respondents (or only zero-weight
        ones), a sample category has no target, shares do not sum to 1, values are
        missing, or IPF does not converge (the message names the worst margin).

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.sampling import rake
    >>> df = pd.DataFrame({"sex": list("fffmm"), "age": ["young", "old", "old", "young", "old"]})
    >>> w = rake(df, margins={"sex": {"f": 0.5, "m": 0.5}, "age": {"young": 0.5, "old": 0.5}})
    >>> round(float(w[df.sex == "f"].sum() / w.sum()), 6), round(float(w[df.age == "young"].sum() / w.sum()), 6)
    (0.5, 0.5)
    """
    if not isinstance(margins, Mapping) or not margins:
        raise ValueError("margins must be a non-empty mapping {column: {category: share}}.")
    has_columns(df, list(margins))
    if len(df) == 0:
        raise ValueError("df has no rows; there is nobody to weight.")
    _no_missing(df, list(margins))
    max_iter = positive_int(max_iter, "max_iter", maximum=MAX_COUNT)
    tol = finite_scalar(tol, "tol", low=0.0, low_open=True, example=1e-8)
    w = np.ones(len(df)) if weights is None else nonnegative_weights(weights, "weights").copy()
    same_length(df=df, weights=w)
    total = w.sum()
    targets = {col: _shares(shares, f"margin {col!r}") for col, shares in margins.items()}
    codes = {col: _margin_codes(df, col, shares) for col, shares in targets.items()}
    for col, shares in targets.items():
        _check_margin_support(col, shares, np.bincount(codes[col], weights=w, minlength=len(shares)))
    for _ in range(max_iter):
        for col, shares in targets.items():
            got = np.bincount(codes[col], weights=w, minlength=len(shares))
            _check_margin_support(col, shares, got)
            factor = np.divide(shares.to_numpy() * total, got, out=np.zeros(len(shares)), where=got > 0)
            w = w * factor[codes[col]]
        gaps = {col: _margin_gap(w, codes[col], shares) for col, shares in targets.items()}
        if max(gaps.values()) <= tol:
            return pd.Series(w, index=df.index, name="weight")
    worst = max(gaps, key=gaps.get)
    raise ValueError(
        f"raking did not converge in {max_iter} sweeps: margin {worst!r} is still off by {gaps[worst]:.3g} "
        f"(tol {tol:g}). The margins may be incompatible with the sample (e.g. a combination they require "
        "is empty); collapse categories, or raise max_iter."
    )


def _check_margin_support(column: str, shares: pd.Series, weighted: np.ndarray) -> None:
    bad = np.flatnonzero((shares.to_numpy() > 0) & (weighted <= 0))
    if len(bad):
        cat = shares.index[bad[0]]
        raise ValueError(
            f"margin {column!r}: category {cat!r} has population share {shares.iloc[bad[0]]:g} but no "
            "respondents with positive weight. Collapse it with a neighbour or drop it from the target; "
            "weighting cannot create people who are not in the sample."
        )


def _margin_gap(w: np.ndarray, codes: np.ndarray, shares: pd.Series) -> float:
    got = np.bincount(codes, weights=w, minlength=len(shares)) / w.sum()
    return float(np.max(np.abs(got - shares.to_numpy())))


# ---------------------------------------------------------------------------
# a frame that grows unevenly
# ---------------------------------------------------------------------------


def platform_growth_sample(
    df: pd.DataFrame,
    *,
    group: str,
    waves: int,
    growth: Mapping[Any, float],
    first_wave: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """Sample rows as a platform whose user groups grow at different rates would.

    Generative model. Let ``p_g`` be group ``g``'s share of ``df`` (the
    population) and ``r_g = growth[g]`` its relative growth per wave. In wave
    ``t = 0, 1, ..., waves - 1`` the platform collects

    * ``N_t = round(first_wave * sum_g p_g (1 + r_g)**t)`` new rows, of which
    * group counts are multinomial with probabilities ``p_g (1 + r_g)**t / sum_h p_h (1 + r_h)**t``;
    * the rows themselves are drawn from ``df`` without replacement within group.

    So wave 0 mirrors the population, and a group growing more slowly than the
    platform becomes a shrinking share of each new wave: its count (its effective
    n) grows more slowly than the total n.

    Parameters
    ----------
    df : pandas.DataFrame
        The population to draw from, one row per unit.
    group : str
        Column naming each row's group.
    waves : int
        Number of collection waves (>= 1).
    growth : mapping
        ``{group: r}`` with ``r > -1`` for every group in ``df`` (0 = constant
        volume, 1 = doubling each wave).
    first_wave : int, default 100
        Rows collected in wave 0.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        The sampled rows of ``df`` (original index kept) with an added integer
        ``wave`` column, ordered by wave and shuffled within it.

    Raises
    ------
    ValueError
        If a group in ``df`` has no growth rate (or vice versa), a rate is ``<= -1``,
        ``df`` already has a ``wave`` column, or a group runs out of rows (lower
        ``first_wave``, ``waves`` or its rate, or pass a larger population).

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.sampling import platform_growth_sample
    >>> pop = pd.DataFrame({"g": ["a"] * 5000 + ["b"] * 5000})
    >>> s = platform_growth_sample(pop, group="g", waves=3, growth={"a": 1.0, "b": 0.0}, first_wave=200)
    >>> s.groupby("wave").size().tolist()  # 200, 200 * 1.5, 200 * 2.5
    [200, 300, 500]
    """
    has_columns(df, [group])
    if "wave" in df.columns:
        raise ValueError("df already has a 'wave' column; rename it first (the result adds one).")
    _no_missing(df, [group])
    # Growth compounds over waves, so a few thousand waves already overflow any rate > 0.
    waves = positive_int(waves, "waves", maximum=1_000)
    first_wave = positive_int(first_wave, "first_wave", maximum=MAX_COUNT)
    groups = pd.Index(pd.unique(df[group].to_numpy()))
    if not isinstance(growth, Mapping):
        raise ValueError(f"growth must be a mapping {{group: rate}}; got {type(growth).__name__}.")
    missing = [g for g in groups if g not in growth]
    if missing:
        raise ValueError(f"group(s) {missing} have rows but no growth rate; add them to growth.")
    absent = [g for g in growth if g not in set(groups)]
    if absent:
        raise ValueError(
            f"group(s) {absent} have a growth rate but no rows in df: a frame cannot sample units it does not contain."
        )
    rates = as_float_array([growth[g] for g in groups], "growth")
    if (rates <= -1).any():
        raise ValueError(f"growth rates must be > -1 (a group cannot shrink by 100% or more); got {rates.min():g}.")
    codes = groups.get_indexer(df[group].to_numpy())
    available = np.bincount(codes, minlength=len(groups))
    with np.errstate(over="ignore", invalid="ignore"):
        intensity = (available / len(df)) * (1.0 + rates) ** np.arange(waves)[:, None]
        expected = first_wave * intensity.sum(axis=1)
    finite_output(expected, "The expected wave sizes", inputs="growth rates, waves and first_wave")
    if expected.sum() > 1e15:  # beyond whole-number precision; the per-group check below would fail anyway
        raise ValueError(
            f"The waves need about {expected.sum():.3g} units in total but df has only {len(df)} rows; lower "
            "first_wave, waves or the growth rates, or pass a larger population."
        )
    wave_sizes = np.round(expected).astype(np.int64)
    rng = np.random.default_rng(_seed(seed))
    counts = rng.multinomial(wave_sizes, intensity / intensity.sum(axis=1, keepdims=True))
    needed = counts.sum(axis=0)
    short = np.flatnonzero(needed > available)
    if len(short):
        g = short[0]
        raise ValueError(
            f"group {groups[g]!r} needs {needed[g]} rows but df has only {available[g]}; lower first_wave, waves "
            "or its growth rate, or pass a larger population."
        )
    positions, wave_of = [], []
    for g in range(len(groups)):  # groups are few; each draw is vectorised
        rows = rng.permutation(np.flatnonzero(codes == g))[: needed[g]]
        positions.append(rows)
        wave_of.append(np.repeat(np.arange(waves), counts[:, g]))
    positions, wave_of = np.concatenate(positions), np.concatenate(wave_of)
    order = rng.permutation(len(positions))
    order = order[np.argsort(wave_of[order], kind="stable")]
    out = df.iloc[positions[order]].copy()
    out["wave"] = wave_of[order]
    return out


def composition_by_size(
    df: pd.DataFrame, *, group: str, order_col: str | None = "wave", sizes: Any = None
) -> pd.DataFrame:
    """Cumulative group counts and shares as a data set grows.

    Rows are taken in order of ``order_col`` (stable, so ties keep their row order)
    or, with ``order_col=None``, in their current order. The composition is
    reported at the end of each value of ``order_col`` (e.g. after each wave) or,
    if ``sizes`` is given, after the first ``s`` rows for each ``s``.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows in collection order, e.g. from :func:`platform_growth_sample`.
    group : str
        Column naming each row's group. For a categorical column, categories with
        no rows are reported with count 0.
    order_col : str or None, default "wave"
        Column giving collection order.
    sizes : array-like of int, optional
        Cumulative sizes at which to report (required when ``order_col`` is None).

    Returns
    -------
    pandas.DataFrame
        Tidy columns ``size``, ``group``, ``count``, ``share``, plus the ``order_col``
        value reached when reporting by ``order_col``.

    Raises
    ------
    ValueError
        If columns are unknown, groups are missing, or sizes are outside ``[1, len(df)]``.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.sampling import composition_by_size
    >>> d = pd.DataFrame({"g": ["a", "a", "b", "a"], "wave": [0, 0, 1, 1]})
    >>> composition_by_size(d, group="g")[["size", "group", "count"]].to_numpy().tolist()
    [[2, 'a', 2], [2, 'b', 0], [4, 'a', 3], [4, 'b', 1]]
    """
    has_columns(df, [group] + ([order_col] if order_col is not None else []))
    if len(df) == 0:
        raise ValueError("df has no rows.")
    _no_missing(df, [group])
    if order_col is not None:
        _no_missing(df, [order_col])
        df = df.sort_values(order_col, kind="stable")
    elif sizes is None:
        raise ValueError("Pass sizes when order_col is None (there is no other way to know where to report).")
    col = df[group]
    levels = col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else pd.Index(sorted(pd.unique(col)))
    codes = levels.get_indexer(col.to_numpy())
    if sizes is None:
        ends = df[order_col].to_numpy()
        last = np.r_[ends[1:] != ends[:-1], True]
        cuts, reached = np.flatnonzero(last) + 1, ends[last]
    else:
        cuts = np.unique(_whole_numbers(sizes, "sizes")).astype(np.int64)
        if cuts[-1] > len(df):
            raise ValueError(f"sizes go up to {cuts[-1]} but df has {len(df)} rows; drop the larger sizes.")
        reached = None
    # One bincount per reporting point (a few dozen at most).
    counts = np.stack([np.bincount(codes[:s], minlength=len(levels)) for s in cuts])
    out = pd.DataFrame(
        {
            "size": np.repeat(cuts, len(levels)),
            "group": np.tile(np.asarray(levels, dtype=object), len(cuts)),
            "count": counts.ravel(),
            "share": (counts / cuts[:, None]).ravel(),
        }
    )
    if reached is not None:
        out.insert(0, order_col, np.repeat(reached, len(levels)))
    return out


# ---------------------------------------------------------------------------
# the evaluation set is a sample too
# ---------------------------------------------------------------------------


def _allocate(shares: np.ndarray, size: int) -> np.ndarray:
    """Whole counts summing to ``size``, each within 1 of ``share * size`` (largest remainders)."""
    exact = shares * size
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: size - counts.sum()]] += 1
    return counts


@_doc
def compare_on_mixes(
    correct_a: Any,
    correct_b: Any,
    groups: Any,
    *,
    mixes: Sequence[Mapping[Any, float]],
    n: int | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    n_draws: int | None = None,
    size: int | None = None,
) -> pd.DataFrame:
    """Accuracy of two models on evaluation sets of a given size and group mix.

    A pool of labelled rows has been scored by two models (``correct_a`` and
    ``correct_b`` say whether each got the row right). For each mix
    ``{group: share}`` an evaluation set of ``n`` rows holds ``round(share *
    n)`` rows of each group (largest remainders, so the counts add up to
    ``n``), drawn with replacement from that group's rows of the pool: a
    stratified bootstrap, in which the pool stands for each group's population.
    Both models are scored on the same rows, so their difference is paired.
    Draws are vectorised: within a group, the counts of the four outcomes (both
    right, only A, only B, neither) of ``n`` rows are multinomial.

    The expected accuracy of a model under a mix is the mix-weighted average of
    its per-group accuracies, so two models whose group accuracies cross swap
    ranks at some mix; the draws show how often a finite evaluation set of that
    mix puts them in each order.

    Parameters
    ----------
    correct_a, correct_b : array-like of 0/1 or bool
        Whether model A (B) is right on each row of the pool.
    groups : array-like
        Group label of each row.
    mixes : sequence of mappings
        Each ``{group: share}`` with shares summing to 1; groups left out get share 0.
    n : int
        Rows per evaluation set (required).
    n_boot : int, default 2000
        Evaluation sets drawn per mix (bootstrap resamples of the pool, hence the library's name for them).
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.
    n_draws : int, optional
        Deprecated old name of ``n_boot``, accepted with a ``FutureWarning`` until the next release.
    {{size_deprecated_n}}

    Returns
    -------
    pandas.DataFrame
        One row per mix: ``mix`` (its position in ``mixes``), ``size`` (``n``), the
        expected accuracies ``acc_a`` and ``acc_b`` with 2.5th/97.5th percentiles over
        draws (``acc_a_low`` ...), ``diff = acc_a - acc_b`` with ``diff_low`` and
        ``diff_high``, ``p_a_better`` and ``p_b_better`` (share of draws in which
        each model is strictly more accurate), and one ``share_<group>`` column per
        group of the pool.

    Raises
    ------
    ValueError
        If the arrays differ in length or are not 0/1, labels are missing, a mix's
        shares do not sum to 1, or a mix gives a share to a group with no rows in the
        pool (an evaluation set cannot contain people the pool does not hold).

    Examples
    --------
    >>> from helpers.sampling import compare_on_mixes
    >>> a = [1, 1, 1, 1, 0, 0, 0, 0]  # A is right on every "x" row, wrong on every "y" row
    >>> b = [0, 0, 1, 1, 1, 1, 1, 1]  # B is right on half the "x" rows and every "y" row
    >>> g = ["x"] * 4 + ["y"] * 4
    >>> res = compare_on_mixes(a, b, g, mixes=[{"x": 1.0}, {"x": 0.5, "y": 0.5}], n=10, n_boot=200)
    >>> res[["acc_a", "acc_b", "diff"]].to_numpy().tolist()
    [[1.0, 0.5, 0.5], [0.5, 0.75, -0.25]]
    >>> float(res["p_a_better"].iloc[0])
    1.0
    """
    right = "whether the model got each row right (compare predictions with labels first)"
    a, b = binary_array(correct_a, "correct_a", meaning=right), binary_array(correct_b, "correct_b", meaning=right)
    if isinstance(groups, pd.DataFrame):
        raise ValueError("groups must be one label per row (a Series or 1-d array), not a DataFrame.")
    codes, _ = _codes(groups, "groups")
    same_length(correct_a=a, correct_b=b, groups=codes)
    n, used_n = renamed_required(n, size, new="n", old="size", example="1000")
    n = positive_int(n, used_n, maximum=MAX_COUNT)
    n_boot, used = renamed(n_boot, n_draws, new="n_boot", old="n_draws", default=2000)
    n_boot = positive_int(n_boot, used, maximum=1_000_000)
    if isinstance(mixes, Mapping) or not isinstance(mixes, Sequence) or not mixes:
        raise ValueError("mixes must be a non-empty list of mappings {group: share}, e.g. [{'x': 0.5, 'y': 0.5}].")
    # _codes numbers labels in order of first appearance, as pd.unique lists them
    levels = pd.Index(pd.unique(np.asarray(groups, dtype=object).ravel()))
    # outcome type per row: 0 neither, 1 only B, 2 only A, 3 both
    types = np.bincount(codes * 4 + 2 * a + b, minlength=4 * len(levels)).reshape(len(levels), 4)
    probs = types / types.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(_seed(seed))
    rows = []
    for i, mix in enumerate(mixes):
        shares = _shares(mix, f"mixes[{i}]")
        unknown = [g for g in shares.index if g not in levels]
        if unknown:
            raise ValueError(
                f"mixes[{i}] gives a share to {unknown[0]!r}, which has no rows in the pool: an evaluation set "
                "cannot contain people the pool does not hold. Add such rows to the pool or drop the group."
            )
        full = shares.reindex(levels, fill_value=0.0).to_numpy()
        counts = _allocate(full, n)
        drawn = sum(rng.multinomial(k, probs[g], size=n_boot) for g, k in enumerate(counts) if k)
        acc_a, acc_b = (drawn[:, 2] + drawn[:, 3]) / n, (drawn[:, 1] + drawn[:, 3]) / n
        exp_a = float(counts @ (probs[:, 2] + probs[:, 3])) / n
        exp_b = float(counts @ (probs[:, 1] + probs[:, 3])) / n
        row = {"mix": i, "size": n, "acc_a": exp_a, "acc_b": exp_b, "diff": exp_a - exp_b}
        for name, values in (("acc_a", acc_a), ("acc_b", acc_b), ("diff", acc_a - acc_b)):
            row[f"{name}_low"], row[f"{name}_high"] = interval(values)
        row["p_a_better"] = float(np.mean(acc_a > acc_b))
        row["p_b_better"] = float(np.mean(acc_b > acc_a))
        row.update({f"share_{g}": float(k / n) for g, k in zip(levels, counts)})
        rows.append(row)
    columns = ["mix", "size", "acc_a", "acc_a_low", "acc_a_high", "acc_b", "acc_b_low", "acc_b_high", "diff",
               "diff_low", "diff_high", "p_a_better", "p_b_better"]
    return pd.DataFrame(rows)[columns + [f"share_{g}" for g in levels]]


# --------------------------------------------------------------------------- sampling frames


@_doc
def frame_sample(groups: Labels, n: int | None = None, *, frame: str = "random", majority_weight: float = 4.0,
                 seed: int = 0, size: int | None = None) -> np.ndarray:
    """Draw a training sample from a pool under a sampling frame.

    Parameters
    ----------
    groups : array-like
        Group label of each pool member; the most frequent label is the majority.
    n : int
        Sample size, 1 <= n <= len(groups) (required).
    frame : {"random", "convenience"}, default "random"
        ``"random"``: simple random sample. ``"convenience"``: draws without replacement
        with probability proportional to weight, ``majority_weight`` for the majority
        and 1 for everyone else (:meth:`numpy.random.Generator.choice` with ``p``).
    majority_weight : float, default 4.0
        Inclusion weight of the majority, between 1e-100 and 1e100 (1 gives a random frame; beyond these the draw
        probabilities round to 0 or overflow).
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.
    {{size_deprecated_n}}

    Returns
    -------
    numpy.ndarray
        ``n`` distinct positions into ``groups`` in draw order. The whole pool is
        ordered first and the first ``n`` taken, so for one seed and frame a smaller
        sample is always a prefix of a larger one (nested samples).

    Raises
    ------
    ValueError
        Unknown frame, n outside [1, len(groups)], missing labels or a
        non-positive weight.

    Examples
    --------
    >>> import numpy as np
    >>> from helpers.sampling import frame_sample
    >>> labels = np.array(["a"] * 500 + ["b"] * 500)
    >>> idx = frame_sample(labels, 100, frame="convenience", majority_weight=4.0, seed=1)
    >>> len(np.unique(idx)), bool((labels[idx] == "a").mean() > 0.6)
    (100, True)
    """
    one_of(frame, FRAMES, "frame")
    raw = groups.to_numpy() if isinstance(groups, pd.Series) else groups
    labels = raw if isinstance(raw, np.ndarray) else np.asarray(sequence(raw, "groups", example='["a", "a", "b"]'),
                                                                dtype=object)
    if labels.ndim != 1:
        raise ValueError(f"groups must be one label per pool member (1-dimensional); got shape {labels.shape}.")
    codes, _ = pd.factorize(labels)
    if (codes < 0).any():
        raise ValueError(f"groups has {int((codes < 0).sum())} missing label(s); label every pool member.")
    n, used = renamed_required(n, size, new="n", old="size", example="100")
    n = positive_int(n, used)
    if n > len(codes):
        raise ValueError(f"{used}={n} exceeds the pool of {len(codes)} rows in groups; draw at most the whole pool.")
    weight = check_majority_weight(majority_weight)
    rng = np.random.default_rng(_seed(seed))
    if frame == "random":
        return rng.permutation(len(codes))[:n]
    majority = np.bincount(codes).argmax()
    w = np.where(codes == majority, weight, 1.0)
    return rng.choice(len(codes), size=len(codes), replace=False, p=w / w.sum())[:n]
