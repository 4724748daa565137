"""When a measure becomes a target: simulations of Goodhart's law and over-optimisation.

A metric that tracks what we care about in ordinary use can stop tracking it
once something is optimised against it. This module gives the book small,
seeded simulations in which the gap between the **proxy** (what is optimised)
and the **true** outcome (what was wanted) can be watched as optimisation
pressure grows, and the tools to fit the over-optimisation curves of Gao,
Schulman and Hilton (2022):

* **best-of-n selection as a scaling axis** -- the KL divergence of best-of-n
  from the base distribution, ``log n - (n - 1) / n`` (:func:`best_of_n_kl`),
  and a vectorised simulation of the true and proxy reward of the best of ``n``
  candidates under Gaussian or heavy-tailed proxy error
  (:func:`simulate_best_of_n`);
* **over-optimisation curves** -- least-squares fits of ``R = d (alpha - beta d)``
  (best-of-n) and ``R = d (alpha - beta log d)`` (reinforcement learning) in
  ``d = sqrt(KL)``, with the distance ``d*`` at which the true reward peaks
  (:func:`fit_overoptimization`, :class:`OveroptimizationFit`);
* **the four variants of Manheim and Garrabrant (2018)** -- regressional,
  extremal, causal and adversarial Goodhart, one generative model each
  (:func:`simulate_goodhart`);
* **Goodhart per group** -- a proxy calibrated on a majority, optimised for
  everyone: the aggregate and the majority improve while the minority gets
  worse (:func:`simulate_group_goodhart`).

Everything here is a simulation with stated generative assumptions; none of it
is a measurement of a real model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from helpers._stats import conf_int_frame, interval
from helpers._validate import (
    MAX_COUNT,
    as_float_array,
    confidence_level,
    finite_scalar,
    min_points,
    one_of,
    positive_int,
    same_length,
    whole_numbers,
)
from helpers._validate import seed as _seed

NOISE_KINDS = ("gaussian", "student_t")
FIT_FORMS = ("bon", "rl")
VARIANTS = ("regressional", "extremal", "causal", "adversarial")
#: Selection strengths used by default: keep the top 10**-s of the units, s = 0 (everyone) to 3 (top 0.1%).
DEFAULT_STRENGTHS = tuple(np.round(np.linspace(0.0, 3.0, 13), 2))
#: Default best-of-n grid: 1 to 10,000 in roughly even steps on a log scale.
DEFAULT_N_VALUES = (1, 2, 3, 5, 8, 13, 22, 36, 60, 100, 167, 278, 464, 774, 1292, 2154, 3594, 5995, 10000)
# Random draws are generated in blocks of about this many numbers, so memory stays small for any n_trials.
_BLOCK = 2_000_000


# --------------------------------------------------------------------------- checks


def _integer_values(values: Any, name: str, *, maximum: float = MAX_COUNT) -> np.ndarray:
    """Numbers of candidates in [1, maximum] as int64. The default cap is for simulations, which draw ``n``
    candidates per trial; a formula can allow up to 2**53."""
    return whole_numbers(values, name, maximum=maximum, meaning="numbers of candidates").astype(np.int64)


def _n_grid(n_values: Any) -> np.ndarray:
    n = _integer_values(n_values, "n_values")
    if len(np.unique(n)) != len(n):
        raise ValueError("n_values contains duplicates; pass each number of candidates once.")
    return np.sort(n)


# --------------------------------------------------------------------------- best-of-n


def best_of_n_kl(n: int | ArrayLike) -> float | np.ndarray:
    """KL divergence of best-of-n sampling from the base distribution, ``log n - (n - 1) / n``.

    Drawing ``n`` candidates from a continuous distribution and keeping the one a
    reward model scores highest gives a new distribution whose density is
    ``n F^(n-1) f``; its KL divergence from the base distribution ``f`` is
    ``log n - (n - 1) / n`` nats, whatever ``f`` is (Gao, Schulman & Hilton 2022).
    It is 0 at ``n = 1``, and ``log n - 1`` plus a vanishing term for large
    ``n``. For a discrete base distribution with ties the formula is an upper bound.

    Parameters
    ----------
    n : int or array-like of int
        Number of candidates, each a whole number >= 1.

    Returns
    -------
    float or numpy.ndarray
        KL in nats: a float for a scalar ``n``, an array of the same shape otherwise.

    Raises
    ------
    ValueError
        If any ``n`` is not a whole number >= 1 (or is NaN/inf).

    Examples
    --------
    >>> from helpers.goodhart import best_of_n_kl
    >>> best_of_n_kl(1)
    0.0
    >>> round(best_of_n_kl(2), 4)  # log 2 - 1/2
    0.1931
    >>> best_of_n_kl([1, 4, 16]).round(3)
    array([0.   , 0.636, 1.835])
    """
    scalar = np.ndim(n) == 0
    arr = np.asarray(n)
    flat = _integer_values(arr.ravel() if arr.size else arr, "n", maximum=2.0**53).astype(float)
    kl = (np.log(flat) - (flat - 1) / flat).reshape(arr.shape)
    return float(kl) if scalar else kl


def _draw_noise(rng: np.random.Generator, shape: tuple[int, ...], scale: float, noise: str,
                df: float | None) -> np.ndarray:
    if noise == "gaussian":
        return scale * rng.standard_normal(shape)
    return scale * rng.standard_t(df, shape)


def _running_best(proxy: np.ndarray, n_values: np.ndarray) -> np.ndarray:
    """Column index of the best (by proxy) of the first n candidates in each row, for every n.

    A running maximum marks the rows' record positions; a running maximum of those
    positions gives the index of the current best at every prefix length, so all n
    share the same draws and no Python loop over n is needed.
    """
    m = proxy.shape[1]
    record = proxy >= np.maximum.accumulate(proxy, axis=1)
    idx = np.where(record, np.arange(m), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    return idx[:, n_values - 1]


def _best_of_n_draws(rng: np.random.Generator, n_trials: int, n_values: np.ndarray,
                     draw: Callable[[np.random.Generator, int, int], tuple[np.ndarray, ...]]) -> list[np.ndarray]:
    """Run best-of-n for every trial in blocks; ``draw`` returns (proxy, other arrays...) for a block.

    Returns, for the proxy and each other array, the selected values (n_trials x len(n_values)).
    """
    m = int(n_values[-1])
    per_block = max(1, _BLOCK // m)
    out: list[list[np.ndarray]] = []
    for start in range(0, n_trials, per_block):
        rows = min(per_block, n_trials - start)
        arrays = draw(rng, rows, m)
        sel = _running_best(arrays[0], n_values)
        picked = [np.take_along_axis(a, sel, axis=1) for a in arrays]
        out = [o + [p] for o, p in zip(out, picked)] if out else [[p] for p in picked]
    return [np.concatenate(o, axis=0) for o in out]


def _summarise(values: np.ndarray, z: float) -> dict[str, np.ndarray]:
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
    return {"mean": mean, "se": se, "ci_low": mean - z * se, "ci_high": mean + z * se}


def simulate_best_of_n(
    *,
    n_values: ArrayLike = DEFAULT_N_VALUES,
    n_trials: int = 500,
    proxy_noise: float = 0.5,
    noise: str = "gaussian",
    df: float | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """True and proxy reward of best-of-n selection on a noisy proxy, by n (a simulation).

    Generative model, per trial: ``max(n_values)`` candidates with a **true
    reward** ``X ~ N(0, 1)`` each and a **proxy reward** ``Y = X + e``, the error
    ``e`` independent of ``X``:

    * ``noise="gaussian"``: ``e = proxy_noise * Z``, ``Z ~ N(0, 1)``. Then
      ``E[X | best of n by Y] = E[max of n standard normals] / sqrt(1 + proxy_noise**2)``,
      which grows with ``n`` without bound: regressional Goodhart shrinks the gain
      but never reverses it.
    * ``noise="student_t"``: ``e = proxy_noise * T``, ``T`` Student-t with ``df``
      degrees of freedom (not rescaled; its variance is ``df / (df - 2)`` for
      ``df > 2``). With heavy-tailed error the largest proxies are increasingly
      large errors rather than good candidates, so the true reward of the best of
      ``n`` rises and then falls back towards the mean (extremal Goodhart).

    The best of the first ``n`` candidates is taken for every ``n`` in
    ``n_values`` from the same draws (running maxima), so the curve over ``n`` is
    smooth within a trial; trials are independent.

    Parameters
    ----------
    n_values : array-like of int, default 1 to 10,000
        Numbers of candidates, whole numbers >= 1, distinct (sorted on output).
    n_trials : int, default 500
        Independent repetitions (at least 2, for a standard error).
    proxy_noise : float, default 0.5
        Scale of the proxy error, >= 0 (0 makes the proxy exact).
    noise : {"gaussian", "student_t"}, default "gaussian"
        Distribution of the proxy error.
    df : float, optional
        Degrees of freedom of the Student-t error, > 0; required with
        ``noise="student_t"`` and not allowed otherwise.
    confidence : float, default 0.95
        Coverage of the normal interval for the mean over trials.
    seed : int, default 0
        Seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    pandas.DataFrame
        Two rows per ``n`` (tidy): ``n``, ``kl`` (:func:`best_of_n_kl`), ``d``
        (``sqrt(kl)``), ``reward`` (``"true"`` or ``"proxy"``), ``mean`` over
        trials, ``se`` (its standard error), ``ci_low`` / ``ci_high`` (normal
        interval for the mean), ``n_trials``, ``noise``, ``proxy_noise`` and ``df``
        (NaN for Gaussian error).

    Raises
    ------
    ValueError
        On invalid ``n_values``, ``n_trials`` < 2, negative ``proxy_noise``, an
        unknown ``noise``, a missing or misplaced ``df``, or a bad ``confidence``.

    Examples
    --------
    >>> from helpers.goodhart import simulate_best_of_n
    >>> out = simulate_best_of_n(n_values=[1, 10, 100], n_trials=200, proxy_noise=0.5, seed=1)
    >>> out.query("reward == 'true'")[["n", "d"]].round(3).to_numpy().tolist()  # d = sqrt(log n - (n - 1) / n)
    [[1.0, 0.0], [10.0, 1.184], [100.0, 1.901]]
    >>> true = out.query("reward == 'true'")["mean"].to_numpy()
    >>> bool(true[0] < true[1] < true[2])  # Gaussian error: more selection, more true reward
    True
    """
    n_grid = _n_grid(n_values)
    n_trials = positive_int(n_trials, "n_trials", minimum=2, maximum=MAX_COUNT)
    proxy_noise = finite_scalar(proxy_noise, "proxy_noise", low=0, example=0.5)
    one_of(noise, NOISE_KINDS, "noise")
    if noise == "student_t":
        if df is None:
            raise ValueError("noise='student_t' needs df, the degrees of freedom (e.g. df=3; smaller = heavier tails).")
        df = finite_scalar(df, "df", low=0, low_open=True, example=3)
    elif df is not None:
        raise ValueError("df is only used with noise='student_t'; drop it or set noise='student_t'.")
    z = float(stats.norm.ppf(0.5 + confidence_level(confidence) / 2))

    def draw(rng: np.random.Generator, rows: int, m: int) -> tuple[np.ndarray, ...]:
        true = rng.standard_normal((rows, m))
        return true + _draw_noise(rng, (rows, m), proxy_noise, noise, df), true

    proxy_sel, true_sel = _best_of_n_draws(np.random.default_rng(_seed(seed)), n_trials, n_grid, draw)
    kl = best_of_n_kl(n_grid)
    frames = [
        pd.DataFrame({"n": n_grid, "kl": kl, "d": np.sqrt(kl), "reward": label, **_summarise(vals, z)})
        for label, vals in (("true", true_sel), ("proxy", proxy_sel))
    ]
    out = pd.concat(frames, ignore_index=True).sort_values(["n", "reward"], ascending=[True, False])
    return out.assign(n_trials=n_trials, noise=noise, proxy_noise=proxy_noise,
                      df=np.nan if df is None else float(df)).reset_index(drop=True)


# --------------------------------------------------------------------------- over-optimisation fits


@dataclass(frozen=True)
class OveroptimizationFit:
    """A fitted over-optimisation curve of Gao, Schulman & Hilton (2022).

    Attributes
    ----------
    alpha, beta : float
        Coefficients of ``R = d (alpha - beta d)`` (``form="bon"``) or
        ``R = d (alpha - beta log d)`` (``form="rl"``).
    form : str
        ``"bon"`` (best-of-n) or ``"rl"`` (reinforcement learning).
    n : int
        Number of points fitted.
    rss : float
        Residual sum of squares, the least-squares objective at the optimum.
    ci : dict
        Percentile intervals ``{"alpha": (lo, hi), "beta": ..., "peak_d": ...}``
        from a residual bootstrap; ``{}`` when ``n_boot=0``.
    confidence : float
        Nominal coverage of ``ci``.
    n_boot : int
        Bootstrap resamples (0 = none).
    boot : DataFrame or None
        The bootstrap draws (columns ``alpha``, ``beta``, ``peak_d``), kept for :meth:`conf_int`; ``None`` when
        ``n_boot=0``.
    """

    alpha: float
    beta: float
    form: str
    n: int
    rss: float
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    confidence: float = 0.95
    n_boot: int = 0
    boot: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Intervals of ``alpha``, ``beta`` and ``peak_d`` at coverage ``1 - alpha`` (the argument, not the
        coefficient), from the residual-bootstrap draws the fit kept.

        Rows as in :meth:`helpers.scaling.PowerLawFit.conf_int`; ``conf_int(1 - confidence)`` gives ``ci``. The
        bounds are actual draws (inverted CDF), so a ``peak_d`` bound can be ``inf``. A fit with ``n_boot=0``
        raises a ``ValueError``.

        Examples
        --------
        >>> import numpy as np
        >>> from helpers.goodhart import fit_overoptimization
        >>> d = np.linspace(0, 3, 13)
        >>> fit = fit_overoptimization(d, d * (1.2 - 0.3 * d) + 0.02 * np.cos(7 * d), n_boot=300, seed=2)
        >>> fit.conf_int(0.2)["parameter"].tolist()
        ['alpha', 'beta', 'peak_d']
        """
        estimates = {"alpha": self.alpha, "beta": self.beta, "peak_d": self.peak_d}
        return conf_int_frame(estimates, self.boot, alpha, refit="fit_overoptimization", method="inverted_cdf")

    def predict(self, d: float | ArrayLike) -> float | np.ndarray:
        """Fitted reward at distance(s) ``d >= 0`` (``d log d`` is taken as 0 at ``d = 0``)."""
        scalar = np.ndim(d) == 0
        x = _distances(np.atleast_1d(d))
        r = _design(x, self.form) @ np.array([self.alpha, self.beta])
        return float(r[0]) if scalar else r

    @property
    def peak_d(self) -> float:
        """Distance at which the fitted reward is largest; ``inf`` when ``beta <= 0`` (no peak).

        Best-of-n: ``dR/dd = alpha - 2 beta d = 0`` gives ``d* = alpha / (2 beta)``.
        RL: ``dR/dd = alpha - beta (log d + 1) = 0`` gives ``d* = exp(alpha / beta - 1)``.
        Both are maxima when ``beta > 0`` (the second derivatives are ``-2 beta`` and
        ``-beta / d``). With ``alpha <= 0`` (best-of-n) the fitted reward never rises
        and the peak is at ``d = 0``.
        """
        if self.beta <= 0:
            return float("inf")
        if self.form == "bon":
            return max(self.alpha / (2 * self.beta), 0.0)
        return float(np.exp(self.alpha / self.beta - 1))

    @property
    def peak_reward(self) -> float:
        """Fitted reward at :attr:`peak_d` (``inf`` when there is no peak)."""
        d_star = self.peak_d
        return float("inf") if np.isinf(d_star) else float(self.predict(d_star))

    def to_frame(self) -> pd.DataFrame:
        """One row: coefficients, ``peak_d``, ``peak_reward``, ``rss``, and ``*_low``/``*_high`` intervals (NaN without bootstrap)."""
        row: dict[str, Any] = {"form": self.form, "alpha": self.alpha, "beta": self.beta, "peak_d": self.peak_d,
                               "peak_reward": self.peak_reward, "rss": self.rss, "n": self.n, "n_boot": self.n_boot}
        for key in ("alpha", "beta", "peak_d"):
            low, high = self.ci.get(key, (np.nan, np.nan))
            row[f"{key}_low"], row[f"{key}_high"] = low, high
        return pd.DataFrame([row])


def _distances(d: Any) -> np.ndarray:
    x = as_float_array(d, "d")
    if (x < 0).any():
        raise ValueError(f"d = sqrt(KL) is a distance and must be >= 0; found {x.min():g}.")
    return x


def _design(d: np.ndarray, form: str) -> np.ndarray:
    if form == "bon":
        return np.column_stack([d, -d**2])
    with np.errstate(divide="ignore", invalid="ignore"):
        dlogd = np.where(d > 0, d * np.log(np.where(d > 0, d, 1.0)), 0.0)  # d log d -> 0 as d -> 0
    return np.column_stack([d, -dlogd])


def _peak(alpha: np.ndarray, beta: np.ndarray, form: str) -> np.ndarray:
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        peak = np.maximum(alpha / (2 * beta), 0.0) if form == "bon" else np.exp(alpha / beta - 1)
    return np.where(beta > 0, peak, np.inf)


def fit_overoptimization(
    d: ArrayLike,
    reward: ArrayLike,
    *,
    form: str = "bon",
    n_boot: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> OveroptimizationFit:
    """Fit Gao et al.'s over-optimisation curve of true reward against ``d = sqrt(KL)``.

    ``form="bon"``: ``R(d) = d (alpha - beta d)``, their form for best-of-n;
    ``form="rl"``: ``R(d) = d (alpha - beta log d)``, their form for RL. Both
    pass through ``R(0) = 0``, so ``reward`` should be measured relative to the
    unoptimised policy (``d = 0``). The reward peaks at :attr:`OveroptimizationFit.peak_d`,
    where over-optimisation starts.

    Parameters
    ----------
    d : array-like
        Distances ``sqrt(KL)`` from the initial policy, >= 0.
    reward : array-like
        True (gold) reward at each distance, same length.
    form : {"bon", "rl"}, default "bon"
        Functional form.
    n_boot : int, default 0
        Residual-bootstrap resamples for percentile intervals of alpha, beta and
        the peak; 0 skips them.
    confidence : float, default 0.95
        Coverage of the intervals.
    seed : int, default 0
        Seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    OveroptimizationFit

    Raises
    ------
    ValueError
        On NaN/inf, negative ``d``, mismatched lengths, fewer than 3 points, fewer
        than 2 distinct positive ``d`` (the two coefficients are then not
        identified), an unknown ``form`` or bad options.

    Examples
    --------
    >>> import numpy as np
    >>> from helpers.goodhart import fit_overoptimization
    >>> d = np.linspace(0, 4, 9)
    >>> fit = fit_overoptimization(d, d * (1.0 - 0.25 * d))
    >>> round(fit.alpha, 6), round(fit.beta, 6), round(fit.peak_d, 6)
    (1.0, 0.25, 2.0)
    >>> round(fit.predict(2.0), 6)
    1.0
    """
    x, y = _distances(d), as_float_array(reward, "reward")
    n = same_length(d=x, reward=y)
    min_points(n, 3, "fit_overoptimization")
    one_of(form, FIT_FORMS, "form")
    if len(np.unique(x[x > 0])) < 2:
        raise ValueError("d needs at least 2 distinct values > 0 to identify alpha and beta; add more distances.")
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
    confidence, seed = confidence_level(confidence), _seed(seed)
    X = _design(x, form)
    # Both forms are linear in (alpha, beta), so ordinary least squares (numpy lstsq) gives the exact optimum:
    # no starting values and no iterative optimiser that could stop early.
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    fitted = X @ coef
    resid = y - fitted
    ci: dict[str, tuple[float, float]] = {}
    draws = None
    if n_boot:
        # Residual bootstrap: the distances are a fixed design (chosen n values), so resample residuals, not points.
        rng = np.random.default_rng(seed)
        y_star = fitted[:, None] + rng.choice(resid, size=(n, n_boot), replace=True)
        boot = np.linalg.pinv(X) @ y_star  # 2 x n_boot: every refit in one matrix product
        draws = pd.DataFrame({"alpha": boot[0], "beta": boot[1], "peak_d": _peak(boot[0], boot[1], form)})
        # A resample with no peak has peak_d = inf: the inverted-CDF rule picks actual draws, where interpolating
        # between a finite draw and inf would give NaN.
        ci = {k: interval(vals.to_numpy(), confidence, method="inverted_cdf") for k, vals in draws.items()}
    return OveroptimizationFit(float(coef[0]), float(coef[1]), form, n, float(resid @ resid), ci, confidence, n_boot,
                               draws)


# --------------------------------------------------------------------------- the four variants


def _selection_summary(variant: str, strengths: np.ndarray, proxy: np.ndarray, true: np.ndarray) -> pd.DataFrame:
    """Mean proxy and true outcome of the units in the top 10**-s by proxy, for every strength s."""
    order = np.argsort(-proxy, kind="stable")
    cum_proxy, cum_true = np.cumsum(proxy[order]), np.cumsum(true[order])
    k = np.maximum(1, np.round(len(proxy) * 10.0 ** -strengths).astype(int))
    return pd.DataFrame({"variant": variant, "strength": strengths, "proxy": cum_proxy[k - 1] / k,
                         "true": cum_true[k - 1] / k, "n_units": k})


def _regressional(rng: np.random.Generator, strengths: np.ndarray, n_units: int, *, noise: float) -> pd.DataFrame:
    true = rng.standard_normal(n_units)
    return _selection_summary("regressional", strengths, true + noise * rng.standard_normal(n_units), true)


def _extremal(rng: np.random.Generator, strengths: np.ndarray, n_units: int, *, noise: float, breakpoint: float,
              decline: float) -> pd.DataFrame:
    x = rng.standard_normal(n_units)
    true = np.where(x <= breakpoint, x, breakpoint - decline * (x - breakpoint))
    return _selection_summary("extremal", strengths, x + noise * rng.standard_normal(n_units), true)


def _causal(rng: np.random.Generator, strengths: np.ndarray, n_units: int, *, noise: float,
            causal_share: float) -> pd.DataFrame:
    cause = rng.standard_normal(n_units)
    proxy0 = cause + noise * rng.standard_normal(n_units)
    rows = []
    for s in strengths:
        proxy = proxy0 + s  # the optimiser intervenes on the proxy itself
        true = (1 - causal_share) * cause + causal_share * proxy
        rows.append({"variant": "causal", "strength": s, "proxy": proxy.mean(), "true": true.mean(),
                     "n_units": n_units})
    return pd.DataFrame(rows)


def _adversarial(rng: np.random.Generator, strengths: np.ndarray, n_units: int, *, noise: float,
                 adversary_share: float, gaming_rate: float, gaming_cost: float) -> pd.DataFrame:
    true0 = rng.standard_normal(n_units)
    honest_proxy = true0 + noise * rng.standard_normal(n_units)
    adversary = rng.random(n_units) < adversary_share
    frames = []
    for s in strengths:
        gaming = np.where(adversary, gaming_rate * s, 0.0)  # more is at stake, more gaming (Campbell's law)
        frames.append(_selection_summary("adversarial", np.array([s]), honest_proxy + gaming,
                                         true0 - gaming_cost * gaming))
    return pd.concat(frames, ignore_index=True)


_VARIANT_MODELS: dict[str, tuple[Callable[..., pd.DataFrame], dict[str, float]]] = {
    "regressional": (_regressional, {"noise": 1.0}),
    "extremal": (_extremal, {"noise": 0.25, "breakpoint": 1.5, "decline": 2.0}),
    "causal": (_causal, {"noise": 0.5, "causal_share": 0.0}),
    "adversarial": (_adversarial, {"noise": 0.5, "adversary_share": 0.05, "gaming_rate": 1.0, "gaming_cost": 1.0}),
}
_COMMON = {"strengths": DEFAULT_STRENGTHS, "n_units": 200_000, "seed": 0}


def _variant_params(variant: str, params: dict[str, Any]) -> dict[str, float]:
    model_defaults = _VARIANT_MODELS[variant][1]
    valid = sorted([*model_defaults, *_COMMON])
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown} for variant {variant!r}; valid parameters are {valid}.")
    out = {k: params.get(k, v) for k, v in model_defaults.items()}
    out["noise"] = finite_scalar(out["noise"], "noise", low=0, example=model_defaults["noise"])
    for name in ("causal_share", "adversary_share"):
        if name in out:
            out[name] = finite_scalar(out[name], name, low=0, high=1, example=model_defaults[name])
    for name in ("decline", "gaming_rate", "gaming_cost"):
        if name in out:
            out[name] = finite_scalar(out[name], name, low=0, example=model_defaults[name])
    if "breakpoint" in out:
        out["breakpoint"] = finite_scalar(out["breakpoint"], "breakpoint", example=model_defaults["breakpoint"])
    return out


def simulate_goodhart(variant: str, **params: Any) -> pd.DataFrame:
    """Proxy and true outcome under growing optimisation pressure, for one Goodhart variant (a simulation).

    The four variants of Manheim & Garrabrant (2018), one generative model each.
    ``n_units`` units are drawn once; the optimiser then applies pressure of
    each ``strength``. In the three *selection* variants, strength ``s`` keeps the
    top ``10**-s`` of the units by proxy (``s = 0`` keeps everyone, ``s = 3`` the
    top 0.1%); in the *causal* variant it is the size of an intervention on the
    proxy. Before any pressure the proxy is an unbiased measurement of the true
    outcome, so ``gap = proxy - true`` is the part of the proxy's improvement
    that did not reach the goal.

    ``"regressional"`` (parameter ``noise``, default 1.0)
        True ``V ~ N(0, 1)``; proxy ``Y = V + noise * Z``. Selecting on ``Y``
        also selects on the noise, so ``E[V | selected] = E[Y | selected] / (1 + noise**2)``:
        the gap grows with pressure, the true outcome still rises.
    ``"extremal"`` (``noise`` 0.25, ``breakpoint`` 1.5, ``decline`` 2.0)
        A feature ``x ~ N(0, 1)`` is measured by ``Y = x + noise * Z``. The true
        outcome equals ``x`` up to ``breakpoint`` standard deviations and falls
        with slope ``decline`` beyond it: the relation that holds in the bulk of
        the data breaks down in the extremes, where strong selection goes.
    ``"causal"`` (``noise`` 0.5, ``causal_share`` 0.0)
        A common cause ``C ~ N(0, 1)`` drives the proxy, ``Y = C + noise * Z``. The
        true outcome is ``V = (1 - causal_share) C + causal_share * Y``: with
        ``causal_share = 0`` the proxy and the goal are correlated only through
        ``C``. The optimiser intervenes on the proxy, ``Y -> Y + strength``, which
        moves ``V`` by ``causal_share * strength`` only.
    ``"adversarial"`` (``noise`` 0.5, ``adversary_share`` 0.05, ``gaming_rate`` 1.0, ``gaming_cost`` 1.0)
        As regressional, but a share ``adversary_share`` of units are agents who
        game the proxy. Gaming responds to the stakes: at strength ``s`` they add
        ``g = gaming_rate * s`` to their proxy, and their true outcome falls by
        ``gaming_cost * g`` (effort spent on gaming is not spent on the goal).

    Common parameters: ``strengths`` (array of pressures >= 0; default 0 to 3 in
    steps of 0.25), ``n_units`` (default 200,000) and ``seed`` (default 0).

    Parameters
    ----------
    variant : {"regressional", "extremal", "causal", "adversarial"}
        Which generative model.
    **params
        The variant's parameters (above); unknown names are refused.

    Returns
    -------
    pandas.DataFrame
        One row per strength: ``variant``, ``strength``, ``proxy`` and ``true``
        (means over the selected or intervened units), ``gap`` (``proxy - true``)
        and ``n_units`` (how many units the means are over).

    Raises
    ------
    ValueError
        For an unknown variant or parameter (listing the valid ones) or an
        out-of-range value.

    Examples
    --------
    >>> from helpers.goodhart import simulate_goodhart
    >>> out = simulate_goodhart("regressional", noise=1.0, strengths=[0, 1, 2], seed=1)
    >>> out[["strength", "n_units"]].to_numpy().tolist()
    [[0.0, 200000.0], [1.0, 20000.0], [2.0, 2000.0]]
    >>> bool(abs(out["true"].iloc[2] - out["proxy"].iloc[2] / 2) < 0.1)  # E[V | Y] = Y / (1 + 1)
    True
    """
    one_of(variant, VARIANTS, "variant")
    model, _ = _VARIANT_MODELS[variant]
    kwargs = _variant_params(variant, params)
    strengths = as_float_array(params.get("strengths", _COMMON["strengths"]), "strengths")
    if (strengths < 0).any():
        raise ValueError(f"strengths must be >= 0 (0 = no optimisation pressure); found {strengths.min():g}.")
    n_units = positive_int(params.get("n_units", _COMMON["n_units"]), "n_units", minimum=100, maximum=MAX_COUNT)
    if variant != "causal" and (np.round(n_units * 10.0 ** -strengths) < 1).any():
        raise ValueError(f"With n_units={n_units}, the largest strength {strengths.max():g} keeps no unit; "
                         f"use strengths <= {np.log10(n_units):.2f} or more units.")
    rng = np.random.default_rng(_seed(params.get("seed", _COMMON["seed"])))
    out = model(rng, strengths, n_units, **kwargs)
    out["gap"] = out["proxy"] - out["true"]
    return out[["variant", "strength", "proxy", "true", "gap", "n_units"]].reset_index(drop=True)


# --------------------------------------------------------------------------- Goodhart per group


def simulate_group_goodhart(
    *,
    n_values: ArrayLike = DEFAULT_N_VALUES[:15],
    n_prompts: int = 2_000,
    minority_share: float = 0.2,
    feature_weight_majority: float = 1.0,
    feature_weight_minority: float = -1.5,
    proxy_noise: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Best-of-n on a proxy calibrated on the majority, with true outcomes per group (a simulation).

    Generative model. Each of ``n_prompts`` prompts comes from a user of the
    majority or the minority group (fixed counts: a share ``minority_share`` of
    them are minority prompts). For each prompt a system proposes ``max(n_values)``
    candidate answers; each has a **quality** ``Q ~ N(0, 1)`` that both groups
    value, and a **feature** ``F ~ N(0, 1)`` (independent of ``Q``; think of
    length, register or a dialect) that the groups value differently:

    * true outcome for a majority user: ``Q + feature_weight_majority * F``;
    * true outcome for a minority user: ``Q + feature_weight_minority * F``;
    * the **proxy** (a reward model calibrated on majority judgements):
      ``Q + feature_weight_majority * F + proxy_noise * Z``, the same for everyone.

    So the proxy is unbiased for the majority, and for the minority its error,
    ``(feature_weight_majority - feature_weight_minority) F + noise``, is correlated
    with the feature. Optimisation is best-of-n on the proxy; its strength is
    reported as ``n``, ``kl = log n - (n - 1) / n`` and ``d = sqrt(kl)``. The
    expected true outcome of the selected answer grows in proportion to
    ``1 + w_maj * w_group`` (times ``E[max of n] / sqrt(1 + w_maj**2 + noise**2)``),
    so the minority's falls whenever ``w_maj * w_min < -1``.

    Parameters
    ----------
    n_values : array-like of int, default 1 to 1292
        Numbers of candidates per prompt, distinct whole numbers >= 1.
    n_prompts : int, default 2000
        Prompts, at least 2 per group.
    minority_share : float, default 0.2
        Share of prompts from the minority, strictly between 0 and 1.
    feature_weight_majority, feature_weight_minority : float, default 1.0 and -1.5
        How much each group's true outcome changes per unit of the feature.
    proxy_noise : float, default 0.5
        Standard deviation of the proxy's remaining error, >= 0.
    seed : int, default 0
        Seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    pandas.DataFrame
        Three rows per ``n``: ``group`` (``"majority"``, ``"minority"``,
        ``"aggregate"`` = all prompts pooled), ``n``, ``kl``, ``d``, ``proxy``
        and ``true`` (means of the selected answers over the group's prompts),
        ``true_se`` (standard error of ``true``) and ``n_prompts``.

    Raises
    ------
    ValueError
        On invalid ``n_values``, too few prompts per group, a share outside (0, 1),
        a negative ``proxy_noise`` or non-finite weights.

    Examples
    --------
    >>> from helpers.goodhart import simulate_group_goodhart
    >>> out = simulate_group_goodhart(n_values=[1, 100], n_prompts=1000, seed=2)
    >>> t = out.pivot(index="n", columns="group", values="true")
    >>> bool(t.loc[100, "majority"] > t.loc[1, "majority"]), bool(t.loc[100, "minority"] < t.loc[1, "minority"])
    (True, True)
    >>> bool(t.loc[100, "aggregate"] > t.loc[1, "aggregate"])  # the pooled outcome hides the minority's loss
    True
    """
    n_grid = _n_grid(n_values)
    n_prompts = positive_int(n_prompts, "n_prompts", minimum=4, maximum=MAX_COUNT)
    share = finite_scalar(minority_share, "minority_share", low=0, high=1, low_open=True, example=0.2)
    n_min = int(round(share * n_prompts))
    if n_min < 2 or n_prompts - n_min < 2:
        raise ValueError(f"minority_share={share:g} of n_prompts={n_prompts} leaves fewer than 2 prompts in a group; "
                         f"use more prompts or a share nearer 0.5.")
    w_maj = finite_scalar(feature_weight_majority, "feature_weight_majority", example=1.0)
    w_min = finite_scalar(feature_weight_minority, "feature_weight_minority", example=-1.5)
    proxy_noise = finite_scalar(proxy_noise, "proxy_noise", low=0, example=0.5)

    def draw(rng: np.random.Generator, rows: int, m: int) -> tuple[np.ndarray, ...]:
        quality, feature = rng.standard_normal((rows, m)), rng.standard_normal((rows, m))
        proxy = quality + w_maj * feature + proxy_noise * rng.standard_normal((rows, m))
        return proxy, quality, feature

    proxy, quality, feature = _best_of_n_draws(np.random.default_rng(_seed(seed)), n_prompts, n_grid, draw)
    minority = np.arange(n_prompts) < n_min  # fixed counts; prompts are exchangeable, so the first n_min will do
    true = quality + np.where(minority, w_min, w_maj)[:, None] * feature
    kl = best_of_n_kl(n_grid)
    frames = []
    for group, rows in (("majority", ~minority), ("minority", minority), ("aggregate", slice(None))):
        t = true[rows]
        frames.append(pd.DataFrame({
            "group": group, "n": n_grid, "kl": kl, "d": np.sqrt(kl), "proxy": proxy[rows].mean(axis=0),
            "true": t.mean(axis=0), "true_se": t.std(axis=0, ddof=1) / np.sqrt(t.shape[0]), "n_prompts": t.shape[0],
        }))
    return pd.concat(frames, ignore_index=True)
