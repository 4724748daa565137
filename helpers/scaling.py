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

The solver itself is the package-private module ``helpers._solver``, which :mod:`helpers.disaggregate` shares.
The benchmark ``tests/benchmarks/bench_chinchilla.py`` compares this with the reference recipe on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import huber as _scipy_huber

from helpers import _solver
# Re-exported: experimental design moved to helpers.design, and chapters import it from here.
from helpers.design import chinchilla_design  # noqa: F401
from helpers._stats import CI_LEVEL, conf_int_frame, interval_dict, percentile_interval
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
        :meth:`conf_int` gives the intervals at any other level.
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
            low, high = percentile_interval(draws, CI_LEVEL)
        return pd.DataFrame({"x": x, "fit": self.predict(x), "low": low, "high": high})

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Percentile bootstrap intervals at coverage ``1 - alpha``, from the stored draws (nothing is refitted).

        Modelled on ``conf_int(alpha=...)`` of statsmodels' results: ``alpha=0.05`` gives the intervals in ``ci``.

        Parameters
        ----------
        alpha : float, default 0.05
            One minus the coverage, strictly between 0 and 1.

        Returns
        -------
        DataFrame
            One row per parameter (``a``, ``b``, ``c``): ``parameter``, ``estimate``, ``ci_low``, ``ci_high``.

        Raises
        ------
        ValueError
            If the fit kept no draws (``n_boot=0``) or ``alpha`` is not in ``(0, 1)``.

        Examples
        --------
        >>> import numpy as np
        >>> from helpers.scaling import fit_power_law, power_law
        >>> x = np.logspace(2, 5, 12)
        >>> noise = np.exp(np.random.default_rng(1).normal(0, 0.02, x.size))
        >>> fit = fit_power_law(x, power_law(x, a=3.0, b=0.4, c=0.05) * noise, n_boot=200)
        >>> wide, narrow = fit.conf_int(0.05).set_index("parameter"), fit.conf_int(0.5).set_index("parameter")
        >>> bool(wide.loc["b", "ci_low"] <= narrow.loc["b", "ci_low"] <= fit.b <= narrow.loc["b", "ci_high"])
        True
        """
        return conf_int_frame({"a": self.a, "b": self.b, "c": self.c}, self.boot, alpha, refit="fit_power_law")

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
        Parameter to its 95% percentile bootstrap interval; empty when ``n_boot=0``. :meth:`conf_int` gives the
        intervals at any other level.
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
        for name, draws in (("N_opt", n_d), ("D_opt", d_d), ("tokens_per_parameter", r_d), ("loss", loss_d)):
            if draws.shape[0]:
                out[f"{name}_low"], out[f"{name}_high"] = percentile_interval(draws, CI_LEVEL, omit_nan=True)
            else:
                out[f"{name}_low"] = out[f"{name}_high"] = np.nan
        out["n_draws"] = int(ok.sum())
        return out

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Intervals of ``E``, ``A``, ``B``, ``alpha`` and ``beta`` at coverage ``1 - alpha``, from the stored draws.

        The argument ``alpha`` is the interval's error rate, not the exponent. It is used, and the table laid out
        (with the columns of :meth:`to_frame`), as in :meth:`PowerLawFit.conf_int`; ``alpha=0.05`` gives ``ci``.
        Without draws (``n_boot=0``) it raises a ``ValueError``.

        Examples
        --------
        >>> from helpers.design import chinchilla_design
        >>> from helpers.scaling import fit_chinchilla
        >>> runs = chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, noise_sd=0.01, seed=1)
        >>> fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=50)
        >>> table = fit.conf_int(0.10)
        >>> list(table.columns), len(table)
        (['parameter', 'estimate', 'ci_low', 'ci_high'], 5)
        """
        estimates = {p: getattr(self, p) for p in ("E", "A", "B", "alpha", "beta")}
        return conf_int_frame(estimates, self.boot, alpha, refit="fit_chinchilla")

    def to_frame(self) -> pd.DataFrame:
        """One row, as :meth:`PowerLawFit.to_frame`: the estimates, their interval bounds (``alpha_low``,
        ``alpha_high``, ...; NaN without bootstrap), the fit's size and objective. :meth:`conf_int` is the long
        table, one row per parameter.

        Examples
        --------
        >>> from helpers.design import chinchilla_design
        >>> from helpers.scaling import fit_chinchilla
        >>> runs = chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, noise_sd=0.01, seed=1)
        >>> row = fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=20).to_frame()
        >>> len(row), list(row.columns[:7])
        (1, ['E', 'A', 'B', 'alpha', 'beta', 'E_low', 'E_high'])
        """
        params = ("E", "A", "B", "alpha", "beta")
        row: dict[str, Any] = {p: getattr(self, p) for p in params}
        for p in params:
            row[f"{p}_low"], row[f"{p}_high"] = self.ci.get(p, (np.nan, np.nan))
        row.update(n=self.n, huber_delta=self.huber_delta, objective=self.objective)
        return pd.DataFrame([row])


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
    prob = _solver.Problem.make(np.log(x)[:, None], np.log(y), const=bool(irreducible), delta=opts["delta"])
    theta, obj = _solver.fit(prob)
    a, b, c = _solver.power_params(prob, theta[None, :])
    ci: dict[str, tuple[float, float]] = {}
    boot = None
    if opts["n_boot"]:
        draws = _solver.bootstrap(prob, theta, opts["n_boot"], opts["seed"])
        ba, bb, bc = _solver.power_params(prob, draws)
        boot = pd.DataFrame({"a": ba, "b": bb, "c": bc})
        ci = interval_dict(boot)
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
    >>> from helpers.design import chinchilla_design
    >>> from helpers.scaling import fit_chinchilla
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
    prob = _solver.Problem.make(np.log(np.column_stack([N, D])), np.log(y), const=True, delta=opts["delta"])
    theta, obj = _solver.fit(prob)
    est = _solver.chinchilla_params(prob, theta[None, :])
    ci: dict[str, tuple[float, float]] = {}
    boot = None
    if opts["n_boot"]:
        draws = _solver.bootstrap(prob, theta, opts["n_boot"], opts["seed"])
        boot = pd.DataFrame(_solver.chinchilla_params(prob, draws))
        ci = interval_dict(boot)
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


# --------------------------------------------------------------------------- validation helpers


def _options(loss: str, huber_delta: float, n_boot: int, seed: int) -> dict[str, Any]:
    one_of(loss, LOSSES, "loss")
    # huber_delta is the Huber threshold on log residuals.
    delta = finite_scalar(huber_delta, "huber_delta", low=0.0, low_open=True, example=1e-3)
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=100_000)
    seed = _seed(seed)
    return {"delta": delta if loss == "huber" else None, "n_boot": n_boot, "seed": seed}
