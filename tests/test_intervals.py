"""One interval convention: ``conf_int(alpha=...)`` on every result with a ``ci``, from the stored draws; one
Wilson interval for proportions.

Truths that do not come from the code: ``1 - 0.05`` is the float ``0.95`` (so ``alpha=0.05`` must reproduce
``ci`` exactly), the percentiles of the stored draws computed here with numpy's quantile, the nesting of
intervals of growing coverage, and the coverage of the true exponent over repeated simulations at the nominal
level asked for. For the Wilson interval: the closed form of Wilson (1927) written out here, the roots of the
quadratic it solves, scipy's ``binomtest(...).proportion_ci(method="wilson")`` and textbook values.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import helpers
from helpers import goodhart, measurement, pluralism
from helpers._stats import wilson_interval
from helpers.design import chinchilla_design
from helpers.disaggregate import OVERALL, fit_by_group
from helpers.scaling import ChinchillaFit, PowerLawFit, fit_chinchilla, fit_power_law, power_law

COLUMNS = ["parameter", "estimate", "ci_low", "ci_high"]
TRUTH = {"a": 2.0, "b": 0.5, "c": 0.1}


def _power_fit(n_boot: int = 200, seed: int = 0, noise_seed: int = 0) -> PowerLawFit:
    x = np.logspace(1, 4, 15)
    y = power_law(x, **TRUTH) * np.exp(np.random.default_rng(noise_seed).normal(0, 0.02, x.size))
    return fit_power_law(x, y, n_boot=n_boot, seed=seed)


def _chinchilla_fit(n_boot: int = 40) -> ChinchillaFit:
    runs = chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, models_per_budget=6, noise_sd=0.01,
                             seed=1)
    return fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=n_boot)


@pytest.fixture(scope="module")
def fits() -> dict[str, PowerLawFit | ChinchillaFit]:
    return {"power law": _power_fit(), "chinchilla": _chinchilla_fit()}


@pytest.mark.parametrize("kind", ["power law", "chinchilla"])
def test_alpha_005_reproduces_ci_exactly(fits, kind):
    fit = fits[kind]
    table = fit.conf_int(0.05)
    assert list(table.columns) == COLUMNS and list(table["parameter"]) == list(fit.boot.columns)
    for row in table.itertuples():
        assert (row.ci_low, row.ci_high) == fit.ci[row.parameter]
        assert row.estimate == getattr(fit, row.parameter)


@pytest.mark.parametrize("kind", ["power law", "chinchilla"])
@pytest.mark.parametrize("alpha", [0.5, 0.2, 0.1, 0.01])
def test_bounds_are_the_percentiles_of_the_stored_draws(fits, kind, alpha):
    fit = fits[kind]
    table = fit.conf_int(alpha).set_index("parameter")
    expected = np.quantile(fit.boot.to_numpy(), [alpha / 2, 1 - alpha / 2], axis=0)
    np.testing.assert_allclose(table.loc[list(fit.boot.columns), "ci_low"], expected[0], rtol=1e-12)
    np.testing.assert_allclose(table.loc[list(fit.boot.columns), "ci_high"], expected[1], rtol=1e-12)


def test_intervals_nest_as_the_coverage_grows(fits):
    tables = [fits["power law"].conf_int(a).set_index("parameter") for a in (0.5, 0.2, 0.05, 0.01)]
    for narrow, wide in zip(tables, tables[1:]):
        assert (wide["ci_low"] <= narrow["ci_low"]).all() and (narrow["ci_high"] <= wide["ci_high"]).all()


def test_the_coverage_of_the_true_exponent_follows_the_level_asked_for():
    """50% intervals should hold the true exponent about half the time; 90% intervals most of the time."""
    n_sim = 60
    hits = {0.5: 0, 0.1: 0}
    for r in range(n_sim):
        table = _power_fit(n_boot=200, seed=r, noise_seed=100 + r)
        for alpha in hits:
            row = table.conf_int(alpha).set_index("parameter").loc["b"]
            hits[alpha] += row["ci_low"] <= TRUTH["b"] <= row["ci_high"]
    # Binomial sd at 60 draws is 0.065 for p = 0.5; the percentile bootstrap of a non-linear fit under-covers a bit.
    assert 0.3 <= hits[0.5] / n_sim <= 0.7
    assert hits[0.1] / n_sim >= 0.75 and hits[0.1] > hits[0.5]


def test_without_draws_conf_int_raises_naming_n_boot():
    with pytest.raises(ValueError, match="n_boot"):
        _power_fit(n_boot=0).conf_int()
    runs = chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, models_per_budget=4)
    with pytest.raises(ValueError, match="n_boot"):
        fit_chinchilla(runs["N"], runs["D"], runs["loss"]).conf_int(0.1)


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 1.5, float("nan"), "0.05", True, None])
def test_bad_alpha_raises_naming_alpha(fits, alpha):
    with pytest.raises(ValueError, match="alpha"):
        fits["power law"].conf_int(alpha)


# --------------------------------------------------------------------------- per-group fits


@pytest.fixture(scope="module")
def group_fit():
    x = np.logspace(2, 5, 10)
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"n": np.tile(x, 3), "group": np.repeat(["A", "B", "C"], x.size),
                       "error": np.r_[power_law(x, a=2.0, b=0.5, c=0.05), power_law(x, a=1.0, b=0.25, c=0.1),
                                      power_law(x, a=3.0, b=0.35, c=0.0)] * np.exp(rng.normal(0, 0.02, 3 * x.size))})
    return fit_by_group(df, size="n", metric="error", group="group", n_boot=60, seed=2)


def test_group_conf_int_at_alpha_005_is_the_by_group_table(group_fit):
    table = group_fit.conf_int()
    assert list(table.columns) == ["group", *COLUMNS]
    assert list(dict.fromkeys(table["group"])) == [OVERALL, "A", "B", "C"]
    wide = group_fit.to_frame().set_index("group")
    for row in table.itertuples():
        assert row.estimate == wide.loc[row.group, row.parameter]
        assert (row.ci_low, row.ci_high) == (wide.loc[row.group, f"{row.parameter}_low"],
                                             wide.loc[row.group, f"{row.parameter}_high"])


def test_group_conf_int_is_each_laws_own_conf_int(group_fit):
    table = group_fit.conf_int(0.2)
    for label, law in [(OVERALL, group_fit.overall), *group_fit.fits.items()]:
        block = table[table["group"] == label].drop(columns="group").reset_index(drop=True)
        pd.testing.assert_frame_equal(block, law.conf_int(0.2))


def test_group_conf_int_without_draws_raises_naming_n_boot(group_fit):
    no_boot = fit_by_group(group_fit.points[group_fit.points["group"] != OVERALL], size="n", metric="error",
                           group="group", n_boot=0)
    with pytest.raises(ValueError, match="n_boot"):
        no_boot.conf_int()


# --------------------------------------------------------------------------- one shape across the library


def _result_classes() -> list[type]:
    """Every public dataclass of helpers with a ``ci`` field."""
    found = []
    for info in pkgutil.iter_modules(helpers.__path__):
        if info.name.startswith("_") or info.name in ("lm_train",):  # lm_train needs torch (the lm extra)
            continue
        module = importlib.import_module(f"helpers.{info.name}")
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and not name.startswith("_") and obj.__module__ == module.__name__
                    and dataclasses.is_dataclass(obj) and "ci" in {f.name for f in dataclasses.fields(obj)}):
                found.append(obj)
    return found


def test_the_scan_finds_the_fits():
    names = {c.__name__ for c in _result_classes()}
    assert {"PowerLawFit", "ChinchillaFit", "ReliabilityResult", "ScoreGap", "RankAgreement",
            "OveroptimizationFit", "KrippendorffResult"} <= names


def _items() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    theta = rng.normal(size=200)
    df = pd.DataFrame({f"i{j}": (rng.random(200) < 1 / (1 + np.exp(-(theta - b)))).astype(int)
                       for j, b in enumerate([-1.0, 0.0, 1.0, 0.5])})
    return df.assign(sex=np.where(np.arange(200) % 2 == 0, "F", "M"))


def _distances() -> tuple[np.ndarray, np.ndarray]:
    d = np.linspace(0, 4, 15)
    return d, d * (1.0 - 0.25 * d) + 0.05 * np.sin(1.3 * np.arange(15))


#: A result of each class with a ci, computed with bootstrap draws at coverage 0.9.
INSTANCES = {
    "PowerLawFit": _power_fit,
    "ChinchillaFit": _chinchilla_fit,
    "ReliabilityResult": lambda: measurement.cronbach_alpha(_items()[["i0", "i1", "i2", "i3"]], n_boot=300,
                                                            confidence=0.9),
    "ScoreGap": lambda: measurement.score_gap(_items(), items=["i0", "i1", "i2"], group="sex", focal="F",
                                              n_boot=300, confidence=0.9),
    "RankAgreement": lambda: measurement.rank_agreement(np.arange(20), np.r_[np.arange(10), np.arange(19, 9, -1)],
                                                        n_boot=300, confidence=0.9),
    "OveroptimizationFit": lambda: goodhart.fit_overoptimization(*_distances(), form="rl", n_boot=300,
                                                                 confidence=0.9),
    "KrippendorffResult": lambda: measurement.krippendorff_alpha(_items()[["i0", "i1", "i2", "i3"]].T, level="nominal",
                                                                 n_boot=300, confidence=0.9),
}


@pytest.mark.parametrize("cls", _result_classes(), ids=lambda c: c.__name__)
def test_every_result_with_ci_has_conf_int_with_the_same_columns(cls):
    method = getattr(cls, "conf_int", None)
    assert callable(method), f"{cls.__name__} has ci but no conf_int(alpha)"
    params = inspect.signature(method).parameters
    assert list(params) == ["self", "alpha"] and params["alpha"].default == 0.05
    assert cls.__name__ in INSTANCES, f"add a {cls.__name__} with bootstrap draws to INSTANCES"
    result = INSTANCES[cls.__name__]()
    table = result.conf_int(0.1)
    assert list(table.columns) == COLUMNS
    intervals = result.ci
    assert list(table["parameter"]) == list(intervals)
    # The measurement and goodhart results were computed at confidence 0.9: alpha = 0.1 is their own ci.
    if getattr(result, "confidence", None) == 0.9:
        for row in table.itertuples():
            assert (row.ci_low, row.ci_high) == intervals[row.parameter]
    for row in table.itertuples():
        expected = result.peak_d if row.parameter == "peak_d" else getattr(result, row.parameter)
        assert row.estimate == expected


@pytest.mark.parametrize("cls", _result_classes(), ids=lambda c: c.__name__)
def test_every_result_ci_has_one_shape(cls):
    """One convention: ``ci`` maps each estimate's name (a field of the result, or ``peak_d``) to a (low, high)
    pair of floats, with low <= estimate <= high for these well-identified instances."""
    result = INSTANCES[cls.__name__]()
    assert isinstance(result.ci, dict) and result.ci, f"{cls.__name__}.ci is {type(result.ci).__name__}"
    for name, pair in result.ci.items():
        assert isinstance(name, str) and isinstance(pair, tuple) and len(pair) == 2
        assert all(type(v) is float for v in pair), f"{cls.__name__}.ci[{name!r}] holds {[type(v) for v in pair]}"
        estimate = getattr(result, name)
        assert pair[0] <= estimate <= pair[1], (cls.__name__, name, pair, estimate)


def test_results_without_a_bootstrap_have_an_empty_ci():
    """``{}``, never ``None``, so ``fit.ci.get(name)`` and ``for name, (low, high) in fit.ci.items()`` always work."""
    d, reward = _distances()
    x = np.logspace(1, 3, 6)
    empty = [fit_power_law(x, power_law(x, **TRUTH)), measurement.cronbach_alpha(_items()[["i0", "i1", "i2"]]),
             measurement.rank_agreement([1, 2, 3, 4], [1, 3, 2, 4]), goodhart.fit_overoptimization(d, reward)]
    assert [r.ci for r in empty] == [{}] * len(empty)


@pytest.mark.parametrize("name", [n for n in INSTANCES if n not in ("PowerLawFit", "ChinchillaFit")])
def test_measurement_and_goodhart_results_without_draws_raise_naming_n_boot(name):
    d, reward = _distances()
    no_draws = {"ReliabilityResult": lambda: measurement.cronbach_alpha(_items()[["i0", "i1", "i2"]]),
                "ScoreGap": lambda: measurement.score_gap(_items(), items=["i0"], group="sex", focal="F", n_boot=0),
                "RankAgreement": lambda: measurement.rank_agreement([1, 2, 3, 4], [1, 3, 2, 4]),
                "OveroptimizationFit": lambda: goodhart.fit_overoptimization(d, reward),
                "KrippendorffResult": lambda: measurement.krippendorff_alpha([[1, 2, 2], [1, 2, 3]], level="ordinal"),
                }[name]()
    assert no_draws.ci == {}
    with pytest.raises(ValueError, match="n_boot"):
        no_draws.conf_int()


def test_degenerate_resamples_are_left_out_of_the_kept_draws_and_the_interval():
    # Four respondents: a resample that draws one row four times (4 of the 256 equally likely ones, 1.6%) has no
    # variance, so its alpha is 0/0. (Column means are exact binary fractions, so the centred variance is exactly 0.)
    res = measurement.cronbach_alpha([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5]], n_boot=4000, confidence=0.9)
    kept = res.boot["alpha"].to_numpy()
    assert np.isfinite(kept).all() and 0.008 < 1 - len(kept) / 4000 < 0.024
    row = res.conf_int(0.1).iloc[0]
    assert (row["ci_low"], row["ci_high"]) == res.ci["alpha"]
    np.testing.assert_allclose([row["ci_low"], row["ci_high"]], np.quantile(kept, [0.05, 0.95]), rtol=1e-12)


# --------------------------------------------------------------------------- the Wilson interval


def _wilson_closed_form(k: int, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson (1927): (p + z^2/2n -/+ z sqrt(p(1 - p)/n + z^2/4n^2)) / (1 + z^2/n), p = k/n, z the normal quantile."""
    z = stats.norm.ppf((1 + level) / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


@pytest.mark.parametrize("level", [0.95, 0.9, 0.5])
@pytest.mark.parametrize("k, n", [(81, 263), (15, 148), (0, 20), (1, 29), (0, 10), (2, 10), (10, 10)])
def test_wilson_interval_is_the_closed_form_and_scipys(k, n, level):
    low, high = wilson_interval(np.array([k / n]), np.array([float(n)]), level)
    assert (low[0], high[0]) == pytest.approx(_wilson_closed_form(k, n, level), abs=1e-12)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")  # scipy's own
    assert (low[0], high[0]) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_interval_gives_the_textbook_values():
    # Newcombe (1998, Stat. Med. 17:857-872), Table I, the score method: 81/263 -> 0.2553-0.3662; the closed form and
    # scipy above reproduce it. For 0/n the interval is [0, z^2 / (n + z^2)]: for 0/10 at 95%, 3.8415 / 13.8415.
    bounds = wilson_interval(np.array([81 / 263, 0.0]), np.array([263.0, 10.0]))
    assert np.round(bounds, 4).tolist() == [[0.2553, 0.0], [0.3662, 0.2775]]
    z2 = stats.norm.ppf(0.975) ** 2
    assert bounds[1][1] == pytest.approx(z2 / (10 + z2), abs=1e-12)


def test_wilson_interval_takes_a_fractional_n_and_gives_nan_without_trials():
    # A Kish effective n of 64/22 for a weighted share of 3/8: the bounds are the roots in p of
    # (phat - p)^2 = z^2 p (1 - p) / n.
    n, p, z = 64 / 22, 3 / 8, stats.norm.ppf(0.975)
    roots = np.sort(np.roots([1 + z**2 / n, -(2 * p + z**2 / n), p**2]).real)
    low, high = wilson_interval(np.array([p, np.nan]), np.array([n, 0.0]))
    assert (low[0], high[0]) == pytest.approx(tuple(roots), abs=1e-12)
    assert np.isnan(low[1]) and np.isnan(high[1])


def test_both_public_users_of_the_wilson_interval_delegate_to_it():
    rng = np.random.default_rng(3)
    survey = pd.DataFrame({"g": rng.choice(["a", "b"], 300), "x": rng.integers(0, 3, 300), "w": rng.random(300)})
    dist = pluralism.group_distributions(survey, item="x", group="g", weight="w")
    low, high = wilson_interval(dist["share"].to_numpy(), dist["n_eff"].to_numpy())
    assert np.array_equal(dist["low"], low) and np.array_equal(dist["high"], high)

    x = rng.normal(size=600)
    df = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=600), "g": rng.choice(["u", "v"], 600)})
    out = measurement.threshold_sensitivity(df, outcome="y", quantiles=[0.5, 0.9], features=["x"], group="g",
                                            confidence=0.9)
    err = wilson_interval(out["error_rate"].to_numpy(), out["n"].to_numpy(float), 0.9)
    fnr = wilson_interval(out["fnr"].to_numpy(), out["n_positive"].to_numpy(float), 0.9)
    assert np.array_equal(out["error_low"], err[0]) and np.array_equal(out["error_high"], err[1])
    assert np.array_equal(out["fnr_low"], fnr[0], equal_nan=True)
    assert np.array_equal(out["fnr_high"], fnr[1], equal_nan=True)
