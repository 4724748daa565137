"""Fitting scaling laws: power laws with an irreducible term, and the Chinchilla form, with honest uncertainty.

Two model families cover the laws in this book:

* the power law :func:`power_law`, ``y = a * x**(-b) + c``, fitted by :func:`fit_power_law`;
* the Chinchilla form :func:`chinchilla_loss`, ``L = E + A / N**alpha + B / D**beta``
  :cite:`hoffmann2022training`, fitted by :func:`fit_chinchilla`.

Both are fitted the way Hoffmann et al. fitted their Approach 3: the residual is taken on the log scale,
``log(prediction) - log(observed)``, and summed through a Huber loss (``huber_delta = 1e-3`` by default, which
behaves almost like an absolute-value loss and so is robust to outliers). The prediction is written as a
log-sum-exp of its terms, e.g. ``log L = LSE(a - alpha log N, b - beta log D, e)`` with ``A = exp(a)``,
``B = exp(b)``, ``E = exp(e)``, so every coefficient stays positive without bounds.

How the fit is found, and why it is fast
----------------------------------------
The reference recipe :cite:`hoffmann2022training,besiroglu2024chinchilla` starts L-BFGS-B from every point of
a grid of about 4,500 starting values and keeps the best. This module does less work more carefully:

1. *Variable projection for the start.* For fixed exponents the model is linear in its coefficients
   (``E``, ``A``, ``B``). On a grid of exponents we solve, for every grid point at once, the non-negative least
   squares problem for the coefficients on the relative residual ``prediction / observed - 1`` (a first-order
   approximation of the log residual). A problem with three coefficients has only seven active sets, so the
   non-negative solution is found exactly by solving all seven and keeping the best feasible one; numpy does
   this for thousands of grid points in one batched call. Each design column depends on one exponent only, so
   the normal equations are summed once per exponent (and per pair of exponents) and gathered for the grid.
2. *Polish on the real objective.* The best few grid points start a batched Levenberg-Marquardt iteration with
   iteratively reweighted least squares for the Huber loss (each step minimises a quadratic that majorises the
   Huber loss at the current residuals, so accepted steps always lower the real objective), with the analytic
   Jacobian of the log-sum-exp model. The fixed points of this iteration are exactly the stationary points of
   the Huber objective, so it does not stop early the way a first-order method can on an almost piecewise-linear
   loss. All starts are iterated together as one array, and the evaluation of an accepted step is reused as the
   next step's Jacobian.
3. *Bootstrap as weights.* A bootstrap resample is the same problem with integer weights on the points, so
   ``n_boot`` resamples are polished together, warm-started at the full-data fit, in the same batched solver.

The benchmark ``tests/benchmarks/bench_chinchilla.py`` compares this with the reference recipe on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import huber as _scipy_huber

from helpers._validate import (
    as_float_array,
    as_positive_array,
    finite_output,
    finite_scalar,
    flag,
    min_points,
    one_of,
    positive_int,
    same_length,
)
from helpers._validate import seed as _seed

LOSSES = ("huber", "squared")
#: Percentile interval reported in ``ci``.
CI_LEVEL = 0.95

# Log-coefficients are kept in this range: exp(-60) is zero for any loss a reader will fit, and the cap stops a
# vanishing term from drifting to -inf, where its gradient is zero and the linear algebra becomes singular.
_LOG_COEF_RANGE = (-60.0, 60.0)
_EXPONENT_RANGE = (-5.0, 20.0)


# --------------------------------------------------------------------------- the two laws


def power_law(x: Any, *, a: float, b: float, c: float = 0.0) -> np.ndarray:
    """The power law ``a * x**(-b) + c``.

    Parameters
    ----------
    x : array-like
        Sizes (data, parameters or compute), all > 0.
    a : float
        Scale, > 0.
    b : float
        Exponent: how fast the reducible part falls.
    c : float, default 0.0
        Irreducible term, >= 0: the value approached as ``x`` grows.

    Returns
    -------
    numpy.ndarray
        The law evaluated at ``x``.

    Raises
    ------
    ValueError
        If ``x`` has non-positive or non-finite entries, ``a <= 0`` or ``c < 0``.

    Examples
    --------
    >>> from helpers.scaling import power_law
    >>> power_law([1, 10, 100], a=2.0, b=1.0, c=0.5)
    array([2.5 , 0.7 , 0.52])
    """
    x = as_positive_array(x, "x")
    a = finite_scalar(a, "a", low=0.0, low_open=True, example=2.0)  # the scale of the reducible term
    b = finite_scalar(b, "b", example=0.3)
    c = finite_scalar(c, "c", low=0.0, example=0.0)  # an irreducible loss cannot be negative
    with np.errstate(over="ignore"):  # an overflow is reported below, by name, instead of as a numpy warning
        y = a * x ** (-b) + c
    return finite_output(y, "power_law", inputs="x, a, b and c")


def chinchilla_loss(N: Any, D: Any, *, E: float, A: float, B: float, alpha: float, beta: float) -> np.ndarray:  # noqa: N803
    """The Chinchilla form ``E + A / N**alpha + B / D**beta`` :cite:`hoffmann2022training`.

    Parameters
    ----------
    N, D : array-like
        Parameters and training tokens (broadcast against each other), all > 0.
    E, A, B : float
        Irreducible loss and the scales of the two reducible terms, all >= 0.
    alpha, beta : float
        Exponents of model size and data size.

    Returns
    -------
    numpy.ndarray
        Predicted loss.

    Raises
    ------
    ValueError
        On non-positive sizes or negative coefficients.

    Examples
    --------
    >>> from helpers.scaling import chinchilla_loss
    >>> chinchilla_loss(70e9, 1.4e12, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28).round(3)
    array([1.937])
    """
    N, D = as_positive_array(N, "N"), as_positive_array(D, "D")  # noqa: N806
    if N.size != D.size and 1 not in (N.size, D.size):
        raise ValueError(f"N and D must have the same length or one of them a single value; got {N.size} and {D.size}.")
    N, D = np.broadcast_arrays(N, D)  # noqa: N806
    E, A, B = (finite_scalar(v, name, low=0.0, example=ex)  # noqa: N806
               for v, name, ex in ((E, "E", 1.69), (A, "A", 406.4), (B, "B", 410.7)))
    alpha, beta = finite_scalar(alpha, "alpha", example=0.34), finite_scalar(beta, "beta", example=0.28)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # A zero coefficient contributes nothing, whatever its size term does (0 / 0 would be NaN).
        tn = A / N**alpha if A > 0 else np.zeros_like(N)
        td = B / D**beta if B > 0 else np.zeros_like(D)
    return finite_output(E + tn + td, "chinchilla_loss", inputs="N, D, E, A, B, alpha and beta")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PowerLawFit:
    """A fitted power law ``y = a * x**(-b) + c``.

    Attributes
    ----------
    a, b, c : float
        Fitted scale, exponent and irreducible term (``c = 0`` when fitted with ``irreducible=False``).
    n : int
        Number of points fitted.
    loss : str
        ``"huber"`` or ``"squared"``, on log residuals.
    irreducible : bool
        Whether ``c`` was fitted.
    objective : float
        The minimised value: sum over points of the loss of ``log(prediction) - log(observed)``.
    ci : dict
        Parameter name to its 95% percentile bootstrap interval ``(low, high)``; empty when ``n_boot=0``.
    x_range : tuple of float
        Smallest and largest ``x`` fitted (predictions outside it are extrapolations).
    boot : DataFrame or None
        The bootstrap draws, one row per resample (columns ``a``, ``b``, ``c``), or ``None``.
    """

    a: float
    b: float
    c: float
    n: int
    loss: str
    irreducible: bool
    objective: float
    ci: dict[str, tuple[float, float]]
    x_range: tuple[float, float]
    boot: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def predict(self, x: Any) -> np.ndarray:
        """The fitted law at ``x`` (all > 0).

        Examples
        --------
        >>> from helpers.scaling import fit_power_law
        >>> fit = fit_power_law([1, 10, 100, 1000], [1.0, 0.1, 0.01, 0.001], irreducible=False, loss="squared")
        >>> fit.predict([10000]).round(6)
        array([0.0001])
        """
        return power_law(x, a=self.a, b=self.b, c=self.c)

    def band(self, x: Any) -> pd.DataFrame:
        """The fitted law at ``x`` with a pointwise 95% percentile band from the bootstrap draws.

        Returns
        -------
        DataFrame
            Columns ``x``, ``fit``, ``low`` and ``high`` (NaN bounds when the fit has no bootstrap).

        Examples
        --------
        >>> import numpy as np
        >>> from helpers.scaling import fit_power_law, power_law
        >>> x = np.logspace(1, 4, 10)
        >>> y = power_law(x, a=2.0, b=0.5, c=0.1) * np.exp(np.random.default_rng(0).normal(0, 0.01, 10))
        >>> b = fit_power_law(x, y, n_boot=100).band([100.0])
        >>> bool(b["low"].iloc[0] <= b["fit"].iloc[0] <= b["high"].iloc[0])
        True
        """
        x = as_positive_array(x, "x")
        low = high = np.full(x.size, np.nan)
        if self.boot is not None:
            b = self.boot
            draws = b["a"].to_numpy()[:, None] * x[None, :] ** (-b["b"].to_numpy()[:, None]) + b["c"].to_numpy()[:, None]
            tail = 100 * (1 - CI_LEVEL) / 2
            low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
        return pd.DataFrame({"x": x, "fit": self.predict(x), "low": low, "high": high})

    def to_frame(self) -> pd.DataFrame:
        """One row: the estimates, their interval bounds (``b_low``, ``b_high``, ...; NaN without bootstrap)
        and the fit's size and objective."""
        row: dict[str, Any] = {"a": self.a, "b": self.b, "c": self.c}
        for p in ("a", "b", "c"):
            row[f"{p}_low"], row[f"{p}_high"] = self.ci.get(p, (np.nan, np.nan))
        row.update(n=self.n, loss=self.loss, irreducible=self.irreducible, objective=self.objective,
                   x_min=self.x_range[0], x_max=self.x_range[1])
        return pd.DataFrame([row])


@dataclass(frozen=True)
class ChinchillaFit:
    """A fitted Chinchilla law ``L = E + A / N**alpha + B / D**beta``.

    Attributes
    ----------
    E, A, B, alpha, beta : float
        Fitted constants.
    n : int
        Number of (N, D, loss) points.
    huber_delta : float
        The Huber threshold used on the log residuals.
    objective : float
        The minimised sum of Huber losses of the log residuals.
    ci : dict
        Parameter to its 95% percentile bootstrap interval; empty when ``n_boot=0``.
    boot : DataFrame or None
        Bootstrap draws (columns ``E, A, B, alpha, beta``), or ``None``.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    n: int
    huber_delta: float
    objective: float
    ci: dict[str, tuple[float, float]]
    boot: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def predict(self, N: Any, D: Any) -> np.ndarray:  # noqa: N803
        """Predicted loss at model sizes ``N`` and data sizes ``D``.

        Examples
        --------
        >>> from helpers.scaling import ChinchillaFit
        >>> fit = ChinchillaFit(1.69, 406.4, 410.7, 0.34, 0.28, n=0, huber_delta=1e-3, objective=0.0, ci={})
        >>> fit.predict(70e9, 1.4e12).round(3)
        array([1.937])
        """
        return chinchilla_loss(N, D, E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta)

    def compute_optimal(self, C: Any, *, ci: bool = False) -> pd.DataFrame:  # noqa: N803
        """The loss-minimising split of a compute budget ``C = 6 N D`` (FLOPs).

        Minimising ``A N^-alpha + B D^-beta`` subject to ``N D = C / 6`` gives
        ``N_opt = G (C/6)^(beta/(alpha+beta))`` with ``G = (alpha A / (beta B))^(1/(alpha+beta))``, and
        ``D_opt = (C/6) / N_opt`` :cite:`hoffmann2022training`.

        Parameters
        ----------
        C : array-like
            Compute budgets in FLOPs, > 0.
        ci : bool, default False
            Add 95% percentile intervals from the stored bootstrap draws (:attr:`boot`): the optimum of every
            draw's law, so the intervals carry the joint uncertainty of all five constants. Draws whose law has
            no finite optimum (a vanished term) are left out, and their number is in ``n_draws``.

        Returns
        -------
        DataFrame
            One row per budget: ``C``, ``N_opt``, ``D_opt``, ``tokens_per_parameter`` and the predicted ``loss``;
            with ``ci=True`` also ``N_opt_low``, ``N_opt_high``, ``D_opt_low``, ``D_opt_high``,
            ``tokens_per_parameter_low``/``_high``, ``loss_low``/``_high`` and ``n_draws`` (draws used).

        Raises
        ------
        ValueError
            On non-positive budgets, when a fitted term vanished (``A`` or ``B`` is 0, or an exponent is not
            positive), so that no finite optimum exists, or with ``ci=True`` when the fit has no bootstrap
            draws.

        Examples
        --------
        >>> from helpers.scaling import ChinchillaFit
        >>> fit = ChinchillaFit(1.69, 406.4, 410.7, 0.34, 0.28, n=0, huber_delta=1e-3, objective=0.0, ci={})
        >>> row = fit.compute_optimal([5.76e23]).iloc[0]
        >>> f"{row.N_opt:.3g} parameters, {row.D_opt:.3g} tokens"
        '3.22e+10 parameters, 2.98e+12 tokens'

        With intervals from the bootstrap of a fit:

        >>> from helpers.scaling import chinchilla_design, fit_chinchilla
        >>> runs = chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, noise_sd=0.01, seed=0)
        >>> fitted = fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=100, seed=1)
        >>> row = fitted.compute_optimal([1e22], ci=True).iloc[0]
        >>> bool(row.N_opt_low <= row.N_opt <= row.N_opt_high), int(row.n_draws)
        (True, 100)
        """
        ci = flag(ci, "ci")
        C = as_positive_array(C, "C")  # noqa: N806
        A, B, alpha, beta = (finite_scalar(getattr(self, p), p) for p in ("A", "B", "alpha", "beta"))  # noqa: N806
        if A <= 0 or B <= 0 or alpha <= 0 or beta <= 0:
            raise ValueError(
                "No finite compute-optimal split: it needs A, B, alpha and beta all > 0, but the fit has "
                f"A={A:g}, B={B:g}, alpha={alpha:g}, beta={beta:g}."
            )
        if ci and self.boot is None:
            raise ValueError("compute_optimal(ci=True) needs bootstrap draws; fit with n_boot > 0 "
                             "(e.g. fit_chinchilla(..., n_boot=200)), or pass ci=False.")
        n_opt, d_opt, ratio = _optimal_split(C, A, B, alpha, beta)
        finite_output(np.concatenate([n_opt, d_opt, ratio]), "The compute-optimal split",
                      inputs="budgets C and constants A, B, alpha and beta")
        out = pd.DataFrame({"C": C, "N_opt": n_opt, "D_opt": d_opt, "tokens_per_parameter": ratio,
                            "loss": self.predict(n_opt, d_opt)})
        if not ci:
            return out
        b = {p: self.boot[p].to_numpy(dtype=float)[:, None] for p in ("E", "A", "B", "alpha", "beta")}
        ok = ((b["A"] > 0) & (b["B"] > 0) & (b["alpha"] > 0) & (b["beta"] > 0))[:, 0]
        b = {p: v[ok] for p, v in b.items()}
        n_d, d_d, r_d = _optimal_split(C[None, :], b["A"], b["B"], b["alpha"], b["beta"])
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            loss_d = b["E"] + b["A"] * n_d ** -b["alpha"] + b["B"] * d_d ** -b["beta"]
        tail = 100 * (1 - CI_LEVEL) / 2
        for name, draws in (("N_opt", n_d), ("D_opt", d_d), ("tokens_per_parameter", r_d), ("loss", loss_d)):
            if draws.shape[0]:
                out[f"{name}_low"], out[f"{name}_high"] = np.nanpercentile(draws, [tail, 100 - tail], axis=0)
            else:
                out[f"{name}_low"] = out[f"{name}_high"] = np.nan
        out["n_draws"] = int(ok.sum())
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: ``parameter``, ``estimate``, ``ci_low``, ``ci_high`` (NaN without bootstrap)."""
        rows = []
        for p in ("E", "A", "B", "alpha", "beta"):
            low, high = self.ci.get(p, (np.nan, np.nan))
            rows.append({"parameter": p, "estimate": getattr(self, p), "ci_low": low, "ci_high": high})
        return pd.DataFrame(rows)


def _optimal_split(C: np.ndarray, A: Any, B: Any, alpha: Any, beta: Any) -> tuple[np.ndarray, ...]:  # noqa: N803
    """``N_opt``, ``D_opt`` and tokens per parameter of budgets ``C`` (broadcast against the constants)."""
    s = alpha + beta
    # In logs: alpha A / (beta B) overflows a float for extreme constants long before N_opt does.
    log_n = (np.log(alpha) + np.log(A) - np.log(beta) - np.log(B)) / s + (beta / s) * np.log(C / 6)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        n_opt = np.exp(log_n)
        d_opt = (C / 6) / n_opt
        return n_opt, d_opt, d_opt / n_opt


# --------------------------------------------------------------------------- public fitting functions


def fit_power_law(
    x: Any,
    y: Any,
    *,
    irreducible: bool = True,
    loss: str = "huber",
    huber_delta: float = 1e-3,
    n_boot: int = 0,
    seed: int = 0,
) -> PowerLawFit:
    """Fit ``y = a * x**(-b) + c`` on log residuals.

    With ``irreducible=False`` this is the straight line ``log y = log a - b log x`` (ordinary least squares
    with ``loss="squared"``, a robust line with ``"huber"``). With ``irreducible=True`` the floor ``c >= 0`` is
    fitted too.

    Parameters
    ----------
    x, y : array-like
        Sizes and metric values (lower is better), one per measured point, all finite and > 0.
    irreducible : bool, default True
        Fit the irreducible term ``c``.
    loss : {"huber", "squared"}, default "huber"
        Loss on ``log(prediction) - log(y)``; squared is half the squared residual.
    huber_delta : float, default 1e-3
        Huber threshold (on the log scale), as in :cite:`hoffmann2022training`.
    n_boot : int, default 0
        Bootstrap resamples of the points for percentile intervals (0 = none).
    seed : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    ValueError
        On non-positive or non-finite values, mismatched lengths, fewer points than parameters (3 with
        ``irreducible=True``, 2 without), fewer than two distinct sizes, an unknown ``loss``, a non-positive
        ``huber_delta`` or a negative ``n_boot``.

    Examples
    --------
    >>> import numpy as np
    >>> from helpers.scaling import fit_power_law, power_law
    >>> x = np.logspace(2, 6, 12)
    >>> fit = fit_power_law(x, power_law(x, a=5.0, b=0.3, c=0.2))
    >>> round(fit.a, 3), round(fit.b, 3), round(fit.c, 3)
    (5.0, 0.3, 0.2)
    """
    x = as_positive_array(x, "x")
    y = as_positive_array(y, "y")
    same_length(x=x, y=y)
    irreducible = flag(irreducible, "irreducible")
    opts = _options(loss, huber_delta, n_boot, seed)
    min_points(len(x), 3 if irreducible else 2, f"fit_power_law(irreducible={irreducible})")
    if np.unique(x).size < 2:
        raise ValueError("x must contain at least two distinct sizes; a slope cannot be fitted at one size.")
    prob = _Problem.make(np.log(x)[:, None], np.log(y), const=bool(irreducible), delta=opts["delta"])
    theta, obj = _fit(prob)
    a, b, c = _power_params(prob, theta[None, :])
    ci: dict[str, tuple[float, float]] = {}
    boot = None
    if opts["n_boot"]:
        draws = _bootstrap(prob, theta, opts["n_boot"], opts["seed"])
        ba, bb, bc = _power_params(prob, draws)
        boot = pd.DataFrame({"a": ba, "b": bb, "c": bc})
        ci = _intervals(boot)
    return PowerLawFit(
        a=float(a[0]), b=float(b[0]), c=float(c[0]), n=len(x), loss=loss, irreducible=bool(irreducible),
        objective=float(obj), ci=ci, x_range=(float(x.min()), float(x.max())), boot=boot,
    )


def fit_chinchilla(
    N: Any,  # noqa: N803
    D: Any,  # noqa: N803
    loss: Any,
    *,
    huber_delta: float = 1e-3,
    n_boot: int = 0,
    seed: int = 0,
) -> ChinchillaFit:
    """Fit ``L = E + A / N**alpha + B / D**beta`` by Hoffmann et al.'s Approach 3 objective.

    The objective is the sum over points of ``huber(log Lhat - log L)`` with the model written as
    ``log Lhat = LSE(a - alpha log N, b - beta log D, e)`` :cite:`hoffmann2022training`. See the module
    documentation for how the minimum is found.

    Parameters
    ----------
    N, D : array-like
        Parameters and training tokens of each run, all > 0.
    loss : array-like
        Final loss of each run, > 0.
    huber_delta : float, default 1e-3
        Huber threshold on log residuals.
    n_boot : int, default 0
        Bootstrap resamples of the runs for percentile intervals.
    seed : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    ChinchillaFit

    Raises
    ------
    ValueError
        On non-positive or non-finite values, mismatched lengths, fewer than 5 points, a single distinct
        ``N`` or a single distinct ``D``, a non-positive ``huber_delta`` or a negative ``n_boot``.

    Examples
    --------
    >>> from helpers.scaling import chinchilla_design, fit_chinchilla
    >>> runs = chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, noise_sd=0.0)
    >>> fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"])
    >>> round(fit.alpha, 3), round(fit.beta, 3), round(fit.E, 3)
    (0.35, 0.37, 1.8)
    """
    N, D, y = (as_positive_array(v, name) for v, name in ((N, "N"), (D, "D"), (loss, "loss")))  # noqa: N806
    same_length(N=N, D=D, loss=y)
    opts = _options("huber", huber_delta, n_boot, seed)
    min_points(len(y), 5, "fit_chinchilla (five parameters)")
    # With one distinct N the N term is a constant that E absorbs, so A and alpha are not identified and
    # the optimiser walks to its bounds (A ~ 1e27, alpha = 3) instead of failing.
    for values, name, other in ((N, "N", "D"), (D, "D", "N")):
        if np.unique(values).size < 2:
            raise ValueError(
                f"{name} must contain at least two distinct values; all {len(values)} runs have {name} = "
                f"{values[0]:g}, so the {name} term cannot be separated from E. Add runs at other {name}, "
                f"or fit the loss against {other} alone with fit_power_law."
            )
    prob = _Problem.make(np.log(np.column_stack([N, D])), np.log(y), const=True, delta=opts["delta"])
    theta, obj = _fit(prob)
    est = _chinchilla_params(prob, theta[None, :])
    ci: dict[str, tuple[float, float]] = {}
    boot = None
    if opts["n_boot"]:
        boot = pd.DataFrame(_chinchilla_params(prob, _bootstrap(prob, theta, opts["n_boot"], opts["seed"])))
        ci = _intervals(boot)
    return ChinchillaFit(**{k: float(v[0]) for k, v in est.items()}, n=len(y), huber_delta=opts["delta"],
                         objective=float(obj), ci=ci, boot=boot)


def huber_objective(residuals: Any, *, delta: float = 1e-3) -> float:
    """Sum of Huber losses of ``residuals``: ``r**2 / 2`` inside ``[-delta, delta]``, ``delta (|r| - delta/2)`` outside.

    This is the quantity :func:`fit_chinchilla` and :func:`fit_power_law` (with ``loss="huber"``) minimise, given
    the log residuals; it is exposed so that a reader can score any set of constants on their own data.

    Examples
    --------
    >>> from helpers.scaling import huber_objective
    >>> huber_objective([0.0005, -0.01], delta=1e-3)  # 0.0005**2/2 + 1e-3*(0.01 - 0.0005)
    9.625e-06
    """
    r = as_float_array(residuals, "residuals", ndim=max(1, np.ndim(residuals)))
    delta = finite_scalar(delta, "delta", low=0.0, low_open=True, example=1e-3)
    return float(finite_output(np.sum(_scipy_huber(delta, r)), "huber_objective", inputs="residuals"))


def chinchilla_design(
    *,
    E: float,  # noqa: N803
    A: float,  # noqa: N803
    B: float,  # noqa: N803
    alpha: float,
    beta: float,
    budgets: Any = None,
    models_per_budget: int = 24,
    span: float = 30.0,
    noise_sd: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulated training runs on IsoFLOP lines: a design like Chinchilla's, with losses from a known law.

    This is a **simulation** for teaching and testing. For each compute budget ``C`` it places
    ``models_per_budget`` model sizes log-evenly over a factor ``span`` around the law's compute-optimal size
    (``span`` wide in total), sets ``D = C / (6 N)``, and draws the loss from :func:`chinchilla_loss` times
    ``exp(noise)`` with Gaussian noise of standard deviation ``noise_sd`` on the log scale (so the noise is
    multiplicative, as the fitting objective assumes).

    Parameters
    ----------
    E, A, B, alpha, beta : float
        The true law.
    budgets : array-like, optional
        Compute budgets in FLOPs; default ten budgets log-evenly from ``1e18`` to ``1e22`` (a choice of this
        book, not the original paper's grid).
    models_per_budget : int, default 24
        Models per budget (the default design has 240 runs, the size of the data refitted by
        :cite:`besiroglu2024chinchilla`).
    span : float, default 30.0
        Ratio of the largest to the smallest model on each IsoFLOP line.
    noise_sd : float, default 0.0
        Standard deviation of the log-loss noise.
    seed : int, default 0
        Seed of the noise.

    Returns
    -------
    DataFrame
        Columns ``C``, ``N``, ``D``, ``loss`` (noisy), ``true_loss``.

    Examples
    --------
    >>> from helpers.scaling import chinchilla_design
    >>> runs = chinchilla_design(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    >>> len(runs), bool(((6 * runs.N * runs.D / runs.C).round(9) == 1).all())
    (240, True)
    """
    E = finite_scalar(E, "E", low=0.0, example=1.69)  # noqa: N806
    # The design is centred on the compute-optimal size, which exists only for positive scales and exponents.
    A = finite_scalar(A, "A", low=0.0, low_open=True, example=406.4)  # noqa: N806
    B = finite_scalar(B, "B", low=0.0, low_open=True, example=410.7)  # noqa: N806
    alpha = finite_scalar(alpha, "alpha", low=0.0, low_open=True, example=0.34)
    beta = finite_scalar(beta, "beta", low=0.0, low_open=True, example=0.28)
    truth = ChinchillaFit(E, A, B, alpha, beta, n=0, huber_delta=np.nan, objective=np.nan, ci={})
    budgets = np.geomspace(1e18, 1e22, 10) if budgets is None else as_positive_array(budgets, "budgets")
    # 10,000 models per budget is far beyond any real sweep and keeps the design's memory small.
    k = positive_int(models_per_budget, "models_per_budget", minimum=2, maximum=10_000)
    if budgets.size * k > 10_000_000:
        raise ValueError(f"The design would have {budgets.size * k:,} runs; pass fewer budgets or models_per_budget.")
    span = finite_scalar(span, "span", low=1.0, low_open=True, example=30.0)
    noise_sd = finite_scalar(noise_sd, "noise_sd", low=0.0, example=0.02)
    seed = _seed(seed)
    centre = truth.compute_optimal(budgets)["N_opt"].to_numpy()
    factors = np.exp(np.linspace(-0.5, 0.5, k) * np.log(span))  # span**0.5 overflows for a huge span
    C = np.repeat(budgets, k)  # noqa: N806
    N = (centre[:, None] * factors[None, :]).ravel()  # noqa: N806
    D = C / (6 * N)  # noqa: N806
    finite_output(np.concatenate([N, D]), "The design's model and data sizes", inputs="constants, budgets and span")
    true = truth.predict(N, D)
    noise = np.random.default_rng(seed).normal(0.0, noise_sd, size=true.size) if noise_sd else 0.0
    return pd.DataFrame({"C": C, "N": N, "D": D, "loss": true * np.exp(noise), "true_loss": true})


# --------------------------------------------------------------------------- validation helpers


def _options(loss: str, huber_delta: float, n_boot: int, seed: int) -> dict[str, Any]:
    one_of(loss, LOSSES, "loss")
    # huber_delta is the Huber threshold on log residuals.
    delta = finite_scalar(huber_delta, "huber_delta", low=0.0, low_open=True, example=1e-3)
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=100_000)
    seed = _seed(seed)
    return {"delta": delta if loss == "huber" else None, "n_boot": n_boot, "seed": seed}


# --------------------------------------------------------------------------- the log-sum-exp model


@dataclass(frozen=True)
class _Problem:
    """``log yhat = LSE_j(c_j - e_j * L_j) [+ e0]`` with centred log sizes ``L`` (n, k).

    Parameter vector theta = (c_1..c_k, e_1..e_k[, e0]); centring ``L`` decorrelates each scale from its
    exponent, which keeps the Levenberg-Marquardt normal equations well conditioned. ``logy`` holds one or more
    curves measured at the same sizes, shape (R, n); every row of theta is fitted to one of them.
    """

    L: np.ndarray
    centre: np.ndarray
    logy: np.ndarray
    const: bool
    delta: float | None

    @classmethod
    def make(cls, log_x: np.ndarray, logy: np.ndarray, *, const: bool, delta: float | None) -> _Problem:
        centre = log_x.mean(axis=0)
        return cls(log_x - centre, centre, np.atleast_2d(logy), const, delta)

    @property
    def k(self) -> int:
        return self.L.shape[1]

    @property
    def p(self) -> int:
        return 2 * self.k + int(self.const)

    def rho(self, r: np.ndarray) -> np.ndarray:
        return 0.5 * r**2 if self.delta is None else _scipy_huber(self.delta, r)

    def irls_weights(self, r: np.ndarray) -> np.ndarray:
        """psi(r) / r: the weights that make a weighted quadratic touch the loss from above at r."""
        if self.delta is None:
            return np.ones_like(r)
        return np.minimum(1.0, self.delta / np.maximum(np.abs(r), 1e-300))

    @cached_property
    def columns(self) -> tuple[np.ndarray, ...]:
        """The centred log sizes as k contiguous rows (1, n): the hot loop reads them once per step."""
        return tuple(np.ascontiguousarray(self.L[:, j])[None, :] for j in range(self.k))

    def log_prediction(self, theta: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Log prediction (B, n) and the softmax weight of each term, k (+1) arrays of shape (B, n).

        A stable log-sum-exp (shifted by the largest term), on one (B, n) array per term: scipy's logsumexp and
        reductions over a trailing axis of length 2 or 3 are several times slower, and this is the fitting hot loop.
        """
        k = self.k
        t = [theta[:, j, None] - theta[:, k + j, None] * self.columns[j] for j in range(k)]
        if self.const:
            t.append(np.broadcast_to(theta[:, 2 * k, None], t[0].shape))
        m = t[0]
        for tj in t[1:]:
            m = np.maximum(m, tj)
        e = [np.exp(tj - m) for tj in t]
        total = e[0]
        for ej in e[1:]:
            total = total + ej
        return m + np.log(total), [ej / total for ej in e]

    def objective(self, theta: np.ndarray, w: np.ndarray, logy: np.ndarray) -> np.ndarray:
        r = self.log_prediction(theta)[0] - logy
        return np.sum(w * self.rho(r), axis=1)


def _fit(prob: _Problem) -> tuple[np.ndarray, float]:
    """Fit the single curve of ``prob``."""
    theta, obj = _fit_batch(prob, np.ones_like(prob.logy))
    return theta[0], float(obj[0])


def _fit_batch(prob: _Problem, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit every curve (row of ``prob.logy``, with point weights ``w`` of the same shape) at once.

    A straight line with squared loss has a closed form; everything else starts from variable-projection
    starts (or the least-squares line) and is polished, all rows and starts together.
    """
    R = prob.logy.shape[0]  # noqa: N806
    line = _ols_lines(prob, w)
    if not prob.const and prob.delta is None:
        return line, prob.objective(line, w, prob.logy)
    starts = line[:, None, :] if not prob.const else _projection_starts(prob, w)  # (R, S, p)
    S = starts.shape[1]  # noqa: N806
    rows = np.repeat(np.arange(R), S)
    # A tight tolerance here is cheap (a handful of starts per curve) and makes the reported minimum exact.
    theta, obj = _polish(prob, starts.reshape(R * S, -1), w[rows], prob.logy[rows], rtol=1e-15)
    best = np.argmin(obj.reshape(R, S), axis=1)
    pick = np.arange(R) * S + best
    return theta[pick], obj[pick]


def _ols_lines(prob: _Problem, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares line of log y on the first centred log size, per row: (R, 2) = (intercept, slope)."""
    x = prob.L[:, 0]
    sw = w.sum(axis=1)
    mx = (w * x).sum(axis=1) / sw
    my = (w * prob.logy).sum(axis=1) / sw
    sxx = (w * (x - mx[:, None]) ** 2).sum(axis=1)
    sxy = (w * (x - mx[:, None]) * (prob.logy - my[:, None])).sum(axis=1)
    slope = sxy / sxx
    return np.column_stack([my - slope * mx, -slope])


def _exponent_grid() -> np.ndarray:
    # Log-spaced, so that small exponents (Kaplan's 0.05-0.1) are as well resolved as large ones.
    return np.geomspace(0.01, 3.0, 40)


def _projection_starts(prob: _Problem, w: np.ndarray, n_starts: int = 8, chunk: int = 32) -> np.ndarray:
    """(R, n_starts, p): best exponent grid points per curve, coefficients by exact non-negative least squares.

    The design for grid point (e_1, ..., e_k) has the columns ``[1,] x_1**-e_1, ..., x_k**-e_k`` scaled by
    ``sqrt(w) / y``, so its normal equations are sums over points of ``u a b`` with ``u = w / y**2`` for two basis
    columns ``a`` and ``b``. A basis column depends on one exponent only, so those sums are formed per exponent
    (and per pair of exponents for two sizes) and then gathered for the whole grid, instead of building the
    (grid x points x columns) design itself.
    """
    grid = _exponent_grid()
    k = prob.k
    index = [ix.ravel() for ix in np.meshgrid(*[np.arange(len(grid))] * k, indexing="ij")]  # grid position per dim
    expo = np.stack([grid[ix] for ix in index], axis=-1)  # (G, k)
    G = len(expo)  # noqa: N806
    basis = [np.exp(-grid[:, None] * prob.L[None, :, j]) for j in range(k)]  # k arrays (len(grid), n)
    m = k + int(prob.const)
    out = []
    for lo in range(0, prob.logy.shape[0], chunk):  # chunks bound the memory of the (rows, G, m, m) equations
        y = np.exp(prob.logy[lo:lo + chunk])  # (r, n)
        wr = w[lo:lo + chunk]
        u, v = wr / y**2, wr / y
        r = len(y)
        # Columns in the order [const,] basis_1, ..., basis_k; entry (G, col) of each as a gather from small tables.
        cols: list[tuple[str, int]] = ([("c", -1)] if prob.const else []) + [("b", j) for j in range(k)]
        gram = np.empty((r, G, m, m))
        rhs = np.empty((r, G, m))
        for p_, (kind_p, jp) in enumerate(cols):
            rhs[:, :, p_] = (v.sum(axis=1)[:, None] if kind_p == "c" else (v @ basis[jp].T)[:, index[jp]])
            for q_ in range(p_, m):
                kind_q, jq = cols[q_]
                if kind_p == "c" and kind_q == "c":
                    val = np.broadcast_to(u.sum(axis=1)[:, None], (r, G))
                elif kind_p == "c":
                    val = (u @ basis[jq].T)[:, index[jq]]
                elif jp == jq:
                    val = (u @ (basis[jp] ** 2).T)[:, index[jp]]
                else:
                    cross = np.matmul(u[:, None, :] * basis[jp][None], basis[jq].T)  # (r, len(grid), len(grid))
                    val = cross[:, index[jp], index[jq]]
                gram[:, :, p_, q_] = gram[:, :, q_, p_] = val
        tt = np.repeat(wr.sum(axis=1), G)
        coef, sse = _nnls_normal(gram.reshape(r * G, m, m), rhs.reshape(r * G, m), tt)
        order = np.argsort(sse.reshape(r, G), axis=1)[:, :n_starts]  # (r, S)
        best = coef.reshape(r, G, -1)[np.arange(r)[:, None], order]  # (r, S, m)
        floor = 1e-12 * y.min(axis=1)[:, None, None]
        logc = np.log(np.maximum(best, floor))
        e = expo[order]  # (r, S, k)
        out.append(np.concatenate([logc[..., 1:], e, logc[..., :1]], axis=2) if prob.const
                   else np.concatenate([logc, e], axis=2))
    return np.concatenate(out, axis=0)


def _nnls_normal(gram: np.ndarray, rhs: np.ndarray, tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative least squares from the normal equations ``X'X`` (G, m, m), ``X't`` (G, m) and ``t't`` (G,),
    by enumerating active sets.

    For m <= 3 there are at most seven candidate supports, and the non-negative solution is the best
    least-squares solution among the supports whose coefficients are all positive (KKT), so enumerating them
    is exact and fully vectorised, unlike a loop over scipy.optimize.nnls.
    """
    G, m = rhs.shape  # noqa: N806
    best_sse = np.full(G, np.inf)
    best = np.zeros((G, m))
    for mask in range(1, 2**m):
        idx = [i for i in range(m) if mask >> i & 1]
        sub = gram[:, idx][:, :, idx]
        ridge = 1e-12 * np.trace(sub, axis1=1, axis2=2)[:, None, None] * np.eye(len(idx))
        b = np.linalg.solve(sub + ridge, rhs[:, idx][:, :, None])[:, :, 0]
        sse = tt - 2 * np.einsum("gi,gi->g", b, rhs[:, idx]) + np.einsum("gi,gij,gj->g", b, sub, b)
        ok = (b > 0).all(axis=1) & (sse < best_sse)
        best_sse = np.where(ok, sse, best_sse)
        full = np.zeros((G, m))
        full[:, idx] = b
        best = np.where(ok[:, None], full, best)
    return best, best_sse


def _jacobian(prob: _Problem, soft: np.ndarray) -> np.ndarray:
    """Transposed Jacobian (B, p, n) of the log prediction, from the softmax weights ``soft`` (B, k[+1], n).

    The parameter axis comes before the points so that each row of the Jacobian is contiguous.
    """
    k = prob.k
    rows = [soft[:, j] for j in range(k)] + [-soft[:, j] * prob.columns[j] for j in range(k)]
    if prob.const:
        rows.append(soft[:, k])
    return np.stack(rows, axis=1)


def _clip(prob: _Problem, theta: np.ndarray) -> np.ndarray:
    k = prob.k
    out = theta.copy()
    out[:, :k] = np.clip(out[:, :k], *_LOG_COEF_RANGE)
    out[:, k:2 * k] = np.clip(out[:, k:2 * k], *_EXPONENT_RANGE)
    if prob.const:
        out[:, 2 * k:] = np.clip(out[:, 2 * k:], *_LOG_COEF_RANGE)
    return out


def _polish(
    prob: _Problem, theta: np.ndarray, w: np.ndarray, logy: np.ndarray, *, max_iter: int = 400,
    rtol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched Levenberg-Marquardt on the IRLS majoriser of the loss; row b of ``theta`` is fitted to row b of
    ``logy`` with point weights ``w[b]``.

    A step is kept only if the real objective falls, so each row's objective is monotone; rows stop when
    the relative decrease falls below ``rtol`` or their damping grows past any useful size.
    """
    theta = _clip(prob, np.array(theta, dtype=float))
    logy = np.broadcast_to(logy, w.shape)
    # The prediction and softmax weights at each row's current theta are kept, so that an accepted step's
    # evaluation also serves as the next step's Jacobian: one log-sum-exp per iteration instead of two.
    pred, soft = prob.log_prediction(theta)
    soft = np.stack(soft, axis=1)
    obj = np.sum(w * prob.rho(pred - logy), axis=1)
    lam = np.full(len(theta), 1e-3)
    active = np.ones(len(theta), dtype=bool)
    eye = np.eye(prob.p)
    for _ in range(max_iter):
        if not active.any():
            break
        i = np.flatnonzero(active)
        JT = _jacobian(prob, soft[i])  # noqa: N806
        r = pred[i] - logy[i]
        omega = w[i] * prob.irls_weights(r)
        JTw = JT * omega[:, None, :]  # noqa: N806
        H = np.einsum("bpn,bqn->bpq", JTw, JT)  # noqa: N806  (faster than batched matmul on these small matrices)
        g = np.matmul(JTw, r[:, :, None])[:, :, 0]
        diag = np.einsum("bii->bi", H)
        damp = lam[i, None, None] * (diag[:, :, None] * eye + 1e-12 * eye)
        step = -np.linalg.solve(H + damp, g[:, :, None])[:, :, 0]
        cand = _clip(prob, theta[i] + step)
        cand_pred, cand_soft = prob.log_prediction(cand)
        new = np.sum(w[i] * prob.rho(cand_pred - logy[i]), axis=1)
        better = new < obj[i]
        gain = np.where(better, (obj[i] - new) / np.maximum(obj[i], 1e-300), 0.0)
        rows = i[better]
        theta[rows] = cand[better]
        obj[rows] = new[better]
        pred[rows] = cand_pred[better]
        soft[rows] = np.stack(cand_soft, axis=1)[better]
        lam[i] = np.where(better, np.maximum(lam[i] / 3, 1e-12), lam[i] * 4)
        done = (better & (gain < rtol)) | (lam[i] > 1e12)
        active[i[done]] = False
    return theta, obj


def _bootstrap(prob: _Problem, theta: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Parameter draws from ``n_boot`` resamples of the points, each a weighted refit warm-started at ``theta``."""
    n = prob.logy.shape[1]
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float)
    # Well-determined resamples converge in well under 100 iterations; the cap only stops rows of a law the data do
    # not pin down (e.g. a flat curve, whose exponent drifts towards its bound), which would otherwise set the pace.
    draws, _ = _polish(prob, np.repeat(theta[None, :], n_boot, axis=0), w, prob.logy[0], max_iter=200)
    return draws


def _fit_power_curves(
    x: np.ndarray, Y: np.ndarray, W: np.ndarray, *, irreducible: bool, delta: float | None  # noqa: N803
) -> pd.DataFrame:
    """Fit one power law per row of ``Y`` (R, n), all measured at sizes ``x`` (n,), with point weights ``W``.

    Zero weights mark points a curve does not have, so curves with gaps can share one batch. Used by
    :mod:`helpers.disaggregate` to fit many aggregate curves in one call; validation is the caller's job.
    """
    prob = _Problem.make(np.log(x)[:, None], np.log(np.where(W > 0, Y, 1.0)), const=irreducible, delta=delta)
    theta, obj = _fit_batch(prob, W)
    a, b, c = _power_params(prob, theta)
    return pd.DataFrame({"a": a, "b": b, "c": c, "objective": obj})


def _power_params(prob: _Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = theta[:, 1]
    a = np.exp(theta[:, 0] + b * prob.centre[0])
    c = np.exp(theta[:, 2]) if prob.const else np.zeros(len(theta))
    # A floor pinned at the bottom of its range is no floor: report it as exactly zero.
    c = np.where(theta[:, 2] <= _LOG_COEF_RANGE[0] + 1e-9, 0.0, c) if prob.const else c
    return a, b, c


def _chinchilla_params(prob: _Problem, theta: np.ndarray) -> dict[str, np.ndarray]:
    alpha, beta = theta[:, 2], theta[:, 3]
    return {
        "E": np.exp(theta[:, 4]),
        "A": np.exp(theta[:, 0] + alpha * prob.centre[0]),
        "B": np.exp(theta[:, 1] + beta * prob.centre[1]),
        "alpha": alpha,
        "beta": beta,
    }


def _intervals(draws: pd.DataFrame) -> dict[str, tuple[float, float]]:
    tail = 100 * (1 - CI_LEVEL) / 2
    lo, hi = np.percentile(draws.to_numpy(), [tail, 100 - tail], axis=0)
    return {col: (float(a), float(b)) for col, a, b in zip(draws.columns, lo, hi)}
