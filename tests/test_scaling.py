"""Tests of helpers.scaling against truths that do not come from the code: analytic values, parameters used to
simulate the data, the closed form of ordinary least squares, a numerical optimum, and interval coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from helpers.design import chinchilla_design
from helpers.scaling import (
    ChinchillaFit,
    PowerLawFit,
    chinchilla_loss,
    fit_chinchilla,
    fit_power_law,
    huber_objective,
    power_law,
)

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
BESIROGLU = {"E": 1.817, "A": 482.01, "B": 2085.43, "alpha": 0.348, "beta": 0.366}


# --------------------------------------------------------------------------- the laws themselves


def test_power_law_values():
    np.testing.assert_allclose(power_law([1, 10, 100], a=2.0, b=1.0, c=0.5), [2.5, 0.7, 0.52])
    np.testing.assert_allclose(power_law([4.0], a=1.0, b=0.5), [0.5])


def test_chinchilla_loss_by_hand():
    # 1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28, worked out term by term
    expected = 1.69 + 406.4 * np.exp(-0.34 * np.log(70e9)) + 410.7 * np.exp(-0.28 * np.log(1.4e12))
    np.testing.assert_allclose(chinchilla_loss(70e9, 1.4e12, **HOFFMANN), [expected])
    assert chinchilla_loss([1e9, 1e10], [1e11, 1e12], **HOFFMANN).shape == (2,)


def test_huber_objective_pieces():
    # inside delta: r^2/2; outside: delta (|r| - delta/2)
    assert huber_objective([0.0005], delta=1e-3) == pytest.approx(0.0005**2 / 2)
    assert huber_objective([-0.01], delta=1e-3) == pytest.approx(1e-3 * (0.01 - 0.0005))


# --------------------------------------------------------------------------- recovery of known parameters


@pytest.mark.parametrize("truth", [
    {"a": 5.0, "b": 0.05, "c": 0.5},   # a slow, Kaplan-like exponent
    {"a": 2.0, "b": 0.7, "c": 0.1},    # a fast one
    {"a": 10.0, "b": 0.3, "c": 0.0},   # no floor at all
])
def test_power_law_recovers_parameters_without_noise(truth):
    x = np.logspace(1, 7, 30)
    fit = fit_power_law(x, power_law(x, **truth))
    assert fit.a == pytest.approx(truth["a"], rel=1e-4)
    assert fit.b == pytest.approx(truth["b"], rel=1e-4)
    assert fit.c == pytest.approx(truth["c"], abs=1e-6)


@pytest.mark.parametrize("truth", [
    {"a": 5.0, "b": 0.05, "c": 0.5},
    {"a": 2.0, "b": 0.7, "c": 0.1},
])
def test_power_law_recovers_parameters_with_noise(truth):
    x = np.logspace(1, 7, 60)
    rng = np.random.default_rng(4)
    y = power_law(x, **truth) * np.exp(rng.normal(0, 0.005, x.size))
    fit = fit_power_law(x, y)
    assert fit.b == pytest.approx(truth["b"], rel=0.15)
    assert fit.c == pytest.approx(truth["c"], rel=0.15)


@pytest.mark.parametrize("truth", [
    HOFFMANN,
    BESIROGLU,
    {"E": 1.5, "A": 50.0, "B": 30.0, "alpha": 0.7, "beta": 0.05},
    {"E": 2.0, "A": 3.0, "B": 800.0, "alpha": 0.05, "beta": 0.7},
])
def test_chinchilla_recovers_parameters_without_noise(truth):
    runs = chinchilla_design(**truth)
    fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"])
    for name, value in truth.items():
        assert getattr(fit, name) == pytest.approx(value, rel=1e-4), name


def test_chinchilla_recovers_parameters_with_noise():
    runs = chinchilla_design(**BESIROGLU, noise_sd=0.01, seed=7)
    fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"])
    assert fit.alpha == pytest.approx(BESIROGLU["alpha"], abs=0.03)
    assert fit.beta == pytest.approx(BESIROGLU["beta"], abs=0.03)
    assert fit.E == pytest.approx(BESIROGLU["E"], abs=0.08)


def test_fit_minimises_the_objective():
    """The fitted constants score no worse than the true ones, or than nearby perturbations, on the objective."""
    runs = chinchilla_design(**HOFFMANN, noise_sd=0.02, seed=3)
    fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"])
    log_y = np.log(runs["loss"])

    def score(p):
        return huber_objective(np.log(chinchilla_loss(runs["N"], runs["D"], **p)) - log_y)

    best = {k: getattr(fit, k) for k in HOFFMANN}
    assert fit.objective == pytest.approx(score(best), rel=1e-9)
    assert fit.objective <= score(HOFFMANN)
    rng = np.random.default_rng(0)
    for _ in range(50):
        nudged = {k: v * (1 + rng.normal(0, 1e-3)) for k, v in best.items()}
        assert fit.objective <= score(nudged) + 1e-15


def test_straight_line_with_squared_loss_is_ordinary_least_squares():
    rng = np.random.default_rng(1)
    x = np.logspace(0, 4, 15)
    y = 3 * x**-0.4 * np.exp(rng.normal(0, 0.1, x.size))
    fit = fit_power_law(x, y, irreducible=False, loss="squared")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    assert fit.b == pytest.approx(-slope, rel=1e-10)
    assert fit.a == pytest.approx(np.exp(intercept), rel=1e-10)
    assert fit.c == 0.0
    residual = np.log(fit.predict(x)) - np.log(y)
    assert fit.objective == pytest.approx(0.5 * np.sum(residual**2), rel=1e-10)


def test_huber_line_resists_an_outlier_that_moves_least_squares():
    x = np.logspace(0, 4, 20)
    y = 3 * x**-0.4
    y[-1] *= 20  # one wild point at the largest size
    robust = fit_power_law(x, y, irreducible=False, loss="huber")
    ols = fit_power_law(x, y, irreducible=False, loss="squared")
    assert robust.b == pytest.approx(0.4, abs=0.01)
    assert abs(ols.b - 0.4) > 0.05


# --------------------------------------------------------------------------- uncertainty


def test_power_law_bootstrap_intervals_cover_the_truth_at_about_their_level():
    """Across repeated simulations the 95% intervals should contain the true exponent most of the time, and their
    width should match the spread of the estimates across simulations (3.92 sd for a normal 95% interval)."""
    x = np.logspace(2, 6, 25)
    truth = {"a": 5.0, "b": 0.3, "c": 0.2}
    hits, widths, estimates = 0, [], []
    n_sim = 60
    for r in range(n_sim):
        rng = np.random.default_rng(1000 + r)
        y = power_law(x, **truth) * np.exp(rng.normal(0, 0.02, x.size))
        fit = fit_power_law(x, y, n_boot=200, seed=r)
        low, high = fit.ci["b"]
        hits += low <= truth["b"] <= high
        widths.append(high - low)
        estimates.append(fit.b)
    assert hits / n_sim >= 0.85
    ratio = np.median(widths) / np.std(estimates)
    assert 2.5 < ratio < 6.0


def test_chinchilla_bootstrap_intervals_cover_the_truth():
    hits = {k: 0 for k in ("alpha", "beta", "E")}
    n_sim = 25
    for r in range(n_sim):
        runs = chinchilla_design(**BESIROGLU, noise_sd=0.02, seed=500 + r)
        fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=200, seed=r)
        for k in hits:
            hits[k] += fit.ci[k][0] <= BESIROGLU[k] <= fit.ci[k][1]
    for k, h in hits.items():
        assert h / n_sim >= 0.8, (k, h)


def test_bootstrap_is_seeded_and_stored():
    x = np.logspace(2, 5, 12)
    y = power_law(x, a=2.0, b=0.5, c=0.1) * np.exp(np.random.default_rng(0).normal(0, 0.02, x.size))
    one = fit_power_law(x, y, n_boot=50, seed=3)
    two = fit_power_law(x, y, n_boot=50, seed=3)
    other = fit_power_law(x, y, n_boot=50, seed=4)
    assert one.ci == two.ci
    assert one.ci != other.ci
    assert list(one.boot.columns) == ["a", "b", "c"] and len(one.boot) == 50
    assert fit_power_law(x, y).ci == {} and fit_power_law(x, y).boot is None


# --------------------------------------------------------------------------- compute-optimal allocation


def test_compute_optimal_matches_the_closed_form_and_a_numerical_optimum():
    fit = ChinchillaFit(**HOFFMANN, n=0, huber_delta=1e-3, objective=0.0, ci={})
    budgets = np.array([1e20, 5.76e23, 1e25])
    table = fit.compute_optimal(budgets)
    a, b, A, B = HOFFMANN["alpha"], HOFFMANN["beta"], HOFFMANN["A"], HOFFMANN["B"]
    G = (a * A / (b * B)) ** (1 / (a + b))
    np.testing.assert_allclose(table["N_opt"], G * (budgets / 6) ** (b / (a + b)), rtol=1e-12)
    for C, n_opt in zip(budgets, table["N_opt"]):
        # minimise the loss along N D = C / 6 directly, over log N
        res = minimize_scalar(lambda logn: fit.predict(np.exp(logn), C / (6 * np.exp(logn)))[0],
                              bounds=(np.log(1e6), np.log(1e15)), method="bounded", options={"xatol": 1e-10})
        assert np.exp(res.x) == pytest.approx(n_opt, rel=1e-4)
    np.testing.assert_allclose(6 * table["N_opt"] * table["D_opt"], budgets)


def test_compute_optimal_needs_both_terms():
    fit = ChinchillaFit(E=1.7, A=0.0, B=400.0, alpha=0.3, beta=0.3, n=0, huber_delta=1e-3, objective=0.0, ci={})
    with pytest.raises(ValueError, match="No finite compute-optimal"):
        fit.compute_optimal([1e21])


# --------------------------------------------------------------------------- results and design


def test_to_frame_shapes():
    x = np.logspace(1, 4, 10)
    row = fit_power_law(x, power_law(x, a=1.0, b=0.5, c=0.1), n_boot=20).to_frame()
    assert len(row) == 1 and {"a", "b", "c", "b_low", "b_high", "n", "objective"} <= set(row.columns)
    runs = chinchilla_design(**HOFFMANN)
    fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=20, seed=2)
    wide = fit.to_frame()
    assert len(wide) == 1 and wide.loc[0, "n"] == len(runs)
    # the one-row table and the long conf_int(0.05) hold the same bounds, parameter by parameter
    long = fit.conf_int(0.05).set_index("parameter")
    for p in ("E", "A", "B", "alpha", "beta"):
        assert wide.loc[0, p] == long.loc[p, "estimate"]
        assert (wide.loc[0, f"{p}_low"], wide.loc[0, f"{p}_high"]) == tuple(long.loc[p, ["ci_low", "ci_high"]])
    bare = fit_chinchilla(runs["N"], runs["D"], runs["loss"]).to_frame()
    assert bare[[f"{p}_{s}" for p in ("E", "beta") for s in ("low", "high")]].isna().all(axis=None)


# --------------------------------------------------------------------------- the bad-input contract

finite_positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(st.lists(finite_positive, min_size=4, max_size=12), st.sampled_from([np.nan, np.inf, 0.0, -1.0]),
       st.integers(min_value=0, max_value=3), st.booleans())
def test_bad_values_raise_value_error(values, bad, where, in_x):
    x = np.logspace(1, 3, len(values))
    y = np.array(values)
    target = x if in_x else y
    target[where % len(target)] = bad
    with pytest.raises(ValueError, match="non-finite|strictly positive"):
        fit_power_law(x, y)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=3, max_value=10), st.integers(min_value=1, max_value=3))
def test_mismatched_lengths_raise(n, extra):
    with pytest.raises(ValueError, match="Mismatched lengths"):
        fit_power_law(np.logspace(1, 3, n), np.ones(n + extra))
    with pytest.raises(ValueError, match="Mismatched lengths"):
        fit_chinchilla(np.ones(n) * 1e9, np.ones(n + extra) * 1e10, np.ones(n) * 2)


@pytest.mark.parametrize("irreducible, n", [(True, 2), (False, 1)])
def test_too_few_points_raise(irreducible, n):
    with pytest.raises(ValueError, match="at least"):
        fit_power_law(np.logspace(1, 2, n), np.ones(n), irreducible=irreducible)
    with pytest.raises(ValueError, match="at least 5"):
        fit_chinchilla([1e9] * 4, [1e10] * 4, [2.0] * 4)


def test_other_bad_options_raise():
    x, y = np.logspace(1, 3, 6), np.linspace(2, 1, 6)
    with pytest.raises(ValueError, match="Unknown loss"):
        fit_power_law(x, y, loss="absolute")
    with pytest.raises(ValueError, match="huber_delta"):
        fit_power_law(x, y, huber_delta=0.0)
    with pytest.raises(ValueError, match="n_boot"):
        fit_power_law(x, y, n_boot=-1)
    with pytest.raises(ValueError, match="distinct"):
        fit_power_law(np.full(6, 10.0), y)
    with pytest.raises(ValueError, match="numeric"):
        fit_power_law(["a"] * 6, y)
    with pytest.raises(ValueError, match="a must be > 0"):
        power_law([1.0], a=0.0, b=1.0)
    with pytest.raises(ValueError, match="c must be >= 0"):
        power_law([1.0], a=1.0, b=1.0, c=-0.1)


@pytest.mark.parametrize("constant", ["N", "D"])
def test_chinchilla_with_one_distinct_size_raises_naming_it(constant):
    runs = chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, noise_sd=0.0)
    runs[constant] = 1e9
    with pytest.raises(ValueError, match=f"^{constant} must contain at least two distinct"):
        fit_chinchilla(runs["N"], runs["D"], runs["loss"])


def test_results_are_frozen_dataclasses():
    x = np.logspace(1, 3, 6)
    fit = fit_power_law(x, power_law(x, a=1.0, b=0.5, c=0.1))
    assert isinstance(fit, PowerLawFit)
    with pytest.raises(AttributeError):
        fit.a = 2.0  # type: ignore[misc]
    assert isinstance(fit.to_frame(), pd.DataFrame)


def test_band_covers_the_true_curve_at_about_its_level():
    x = np.logspace(2, 6, 25)
    truth = {"a": 5.0, "b": 0.3, "c": 0.2}
    probe = np.array([1e3, 1e5])
    hits = np.zeros(2)
    n_sim = 40
    for r in range(n_sim):
        y = power_law(x, **truth) * np.exp(np.random.default_rng(2000 + r).normal(0, 0.02, x.size))
        band = fit_power_law(x, y, n_boot=200, seed=r).band(probe)
        true = power_law(probe, **truth)
        hits += (band["low"].to_numpy() <= true) & (true <= band["high"].to_numpy())
        assert (band["low"] <= band["fit"]).all() and (band["fit"] <= band["high"]).all()
    assert (hits / n_sim >= 0.85).all()
    assert fit_power_law(x, power_law(x, **truth)).band(probe)["low"].isna().all()


def test_compute_optimal_intervals_from_the_bootstrap_cover_the_true_optimum():
    truth = dict(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37)
    budgets = np.array([1e20, 1e22, 1e24])
    # The optimum of the true law, from the closed form: N_opt = G (C/6)^(beta/(alpha+beta)).
    s = truth["alpha"] + truth["beta"]
    g = (truth["alpha"] * truth["A"] / (truth["beta"] * truth["B"])) ** (1 / s)
    n_true = g * (budgets / 6) ** (truth["beta"] / s)
    hits = 0
    for r in range(4):
        runs = chinchilla_design(**truth, noise_sd=0.02, seed=r)
        fit = fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=100, seed=r)
        out = fit.compute_optimal(budgets, ci=True)
        assert (out["N_opt_low"] <= out["N_opt"]).all() and (out["N_opt"] <= out["N_opt_high"]).all()
        assert (out["loss_low"] <= out["loss_high"]).all() and (out["n_draws"] == 100).all()
        np.testing.assert_allclose(out["D_opt_low"] * out["N_opt_high"], budgets / 6, rtol=0.1)  # D = C/(6N) falls as N rises
        hits += int(((out["N_opt_low"] <= n_true) & (n_true <= out["N_opt_high"])).sum())
    assert hits >= 9  # of 12
    plain = fit.compute_optimal(budgets)
    assert list(plain.columns) == ["C", "N_opt", "D_opt", "tokens_per_parameter", "loss"]


def test_compute_optimal_intervals_need_draws():
    fit = ChinchillaFit(1.69, 406.4, 410.7, 0.34, 0.28, n=0, huber_delta=1e-3, objective=0.0, ci={})
    with pytest.raises(ValueError, match=r"ci=True\) needs bootstrap draws; fit with n_boot > 0"):
        fit.compute_optimal([1e22], ci=True)
    with pytest.raises(ValueError, match="ci must be True or False"):
        fit.compute_optimal([1e22], ci="yes")


def test_unshifted_log_sum_exp_agrees_with_the_shifted_one_and_is_used_only_where_safe():
    """The solver skips the log-sum-exp shift when no allowed parameters can overflow exp; both forms are the same
    function, and sizes spanning 40 decades (terms up to 60 + 20 * 46 in the exponent) must take the shifted one."""
    import dataclasses

    from helpers import _solver

    rng = np.random.default_rng(3)
    log_x = np.log(np.column_stack([np.geomspace(1e7, 1e10, 30), np.geomspace(1e9, 1e12, 30)]))
    prob = _solver.Problem.make(log_x, np.zeros(30), const=True, delta=1e-3)
    assert prob.exp_is_safe
    shifted = dataclasses.replace(prob)
    shifted.__dict__["exp_is_safe"] = False  # the cached property, overridden on a copy
    th = np.vstack([rng.uniform(-5, 5, (2, 50)), rng.uniform(0, 2, (2, 50)), rng.uniform(-3, 1, (1, 50))])
    L = [prob.L[:, j][:, None] for j in range(2)]  # noqa: N806
    (p1, s1), (p2, s2) = (_solver._log_prediction_t(q, th, L) for q in (prob, shifted))
    np.testing.assert_allclose(p1, p2, rtol=1e-12, atol=1e-12)
    for a, b in zip(s1, s2):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-15)
    wide = _solver.Problem.make(np.log(np.geomspace(1.0, 1e40, 9))[:, None], np.zeros(9), const=True, delta=None)
    assert not wide.exp_is_safe
    x = np.geomspace(1.0, 1e40, 9)
    fit = fit_power_law(x, 2 * x**-0.05 + 0.1, n_boot=0)
    assert abs(fit.b - 0.05) < 1e-6 and abs(fit.c - 0.1) < 1e-6
