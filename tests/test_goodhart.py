"""Tests for helpers.goodhart.

Expected values come from independent sources: numerical integration (the KL of
best-of-n from its density on the uniform scale, the expected maximum of n
standard normals, conditional means of a kinked outcome), the closed form of
Gaussian conditional expectations, brute-force argmax over prefixes, a numerical
optimiser for the peak of a fitted curve, and curves generated with known
coefficients.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from helpers import goodhart as gh
from helpers.goodhart import (
    OveroptimizationFit,
    best_of_n_kl,
    fit_overoptimization,
    simulate_best_of_n,
    simulate_goodhart,
    simulate_group_goodhart,
)

FAST = settings(max_examples=40, deadline=None)


def expected_max_normal(n: int) -> float:
    """E[max of n iid N(0, 1)] = integral of n x phi(x) Phi(x)^(n-1), by quadrature."""
    if n == 1:
        return 0.0
    f = lambda x: n * x * stats.norm.pdf(x) * stats.norm.cdf(x) ** (n - 1)  # noqa: E731
    return integrate.quad(f, -12, 12, limit=400, points=[0.0, 2.0, 3.0, 4.0])[0]


def kl_by_integration(n: int) -> float:
    """KL(best-of-n || base) on the uniform scale: the best of n uniforms has density n u^(n-1) on (0, 1)."""
    if n == 1:
        return 0.0
    f = lambda u: n * u ** (n - 1) * (math.log(n) + (n - 1) * math.log(u)) if u > 0 else 0.0  # noqa: E731
    return integrate.quad(f, 0, 1, limit=400, points=[1 - 1 / n])[0]


# --------------------------------------------------------------------------- best_of_n_kl


def test_kl_is_zero_for_one_candidate():
    assert best_of_n_kl(1) == 0.0


@pytest.mark.parametrize("n", [2, 3, 7, 16, 100, 1000])
def test_kl_matches_numerical_integration(n):
    assert best_of_n_kl(n) == pytest.approx(kl_by_integration(n), rel=1e-7, abs=1e-10)


def test_kl_known_values_and_limit():
    assert best_of_n_kl(2) == pytest.approx(math.log(2) - 0.5, rel=1e-15)
    # For large n the KL is log n - 1 + 1/n: the gap to log n - 1 vanishes like 1/n.
    for n in (10**3, 10**6, 10**9):
        assert best_of_n_kl(n) - (math.log(n) - 1) == pytest.approx(1 / n, rel=1e-6)
    kl = best_of_n_kl(np.arange(1, 500))
    assert (np.diff(kl) > 0).all(), "more candidates, further from the base distribution"


def test_kl_keeps_shape_and_accepts_integer_valued_floats():
    out = best_of_n_kl(np.array([[1, 2], [4, 8]]))
    assert out.shape == (2, 2) and out[0, 0] == 0.0
    assert best_of_n_kl(4.0) == best_of_n_kl(4)
    assert isinstance(best_of_n_kl(np.int64(3)), float)


@FAST
@given(st.one_of(st.integers(max_value=0), st.floats(0.01, 1e6).filter(lambda x: x != round(x)),
                 st.sampled_from([np.nan, np.inf, -np.inf])))
def test_kl_rejects_non_counts(bad):
    with pytest.raises(ValueError, match="n"):
        best_of_n_kl([1, 2, bad])


def test_kl_rejects_non_numeric():
    with pytest.raises(ValueError, match="numeric"):
        best_of_n_kl(["two"])


# --------------------------------------------------------------------------- simulate_best_of_n


def test_running_best_matches_brute_force():
    rng = np.random.default_rng(3)
    proxy = rng.standard_normal((50, 40))
    n_values = np.array([1, 2, 5, 17, 40])
    idx = gh._running_best(proxy, n_values)
    brute = np.array([[np.argmax(row[:n]) for n in n_values] for row in proxy])
    assert (idx == brute).all()


@pytest.mark.parametrize("s", [0.0, 0.5, 2.0])
def test_gaussian_best_of_n_matches_closed_form(s):
    # X ~ N(0, 1), Y = X + e, e ~ N(0, s^2): E[X | best of n by Y] = E[max of n normals] / sqrt(1 + s^2).
    n_values = [1, 2, 10, 100, 1000]
    out = simulate_best_of_n(n_values=n_values, n_trials=3000, proxy_noise=s, seed=11)
    for reward, factor in (("true", 1 / math.sqrt(1 + s**2)), ("proxy", math.sqrt(1 + s**2))):
        part = out[out["reward"] == reward].set_index("n")
        for n in n_values:
            expected = expected_max_normal(n) * factor
            assert abs(part.loc[n, "mean"] - expected) < 4.5 * part.loc[n, "se"] + 1e-12, (reward, n)


def test_expected_max_integration_is_right():
    # E[max of 2 standard normals] = 1 / sqrt(pi), E[max of 3] = 3 / (2 sqrt(pi)).
    assert expected_max_normal(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-9)
    assert expected_max_normal(3) == pytest.approx(1.5 / math.sqrt(math.pi), rel=1e-9)


def test_exact_proxy_selects_the_true_best():
    out = simulate_best_of_n(n_values=[1, 5, 50], n_trials=50, proxy_noise=0.0, seed=2)
    wide = out.pivot(index="n", columns="reward", values="mean")
    assert np.allclose(wide["true"], wide["proxy"])


def test_student_t_with_huge_df_is_gaussian():
    n_values = [1, 10, 100]
    out = simulate_best_of_n(n_values=n_values, n_trials=3000, proxy_noise=1.0, noise="student_t", df=1e7, seed=5)
    part = out[out["reward"] == "true"].set_index("n")
    for n in n_values:
        assert abs(part.loc[n, "mean"] - expected_max_normal(n) / math.sqrt(2)) < 4.5 * part.loc[n, "se"] + 1e-12


def test_heavy_tailed_error_makes_the_true_reward_rise_then_fall():
    out = simulate_best_of_n(n_trials=400, proxy_noise=0.5, noise="student_t", df=3, seed=0)
    true = out[out["reward"] == "true"].set_index("n")
    peak_n = true["mean"].idxmax()
    assert 1 < peak_n < true.index.max()
    drop = true.loc[peak_n, "mean"] - true["mean"].iloc[-1]
    assert drop > 5 * math.hypot(true.loc[peak_n, "se"], true["se"].iloc[-1])
    proxy = out[out["reward"] == "proxy"].set_index("n")["mean"]
    assert (np.diff(proxy.to_numpy()) > 0).all(), "the proxy keeps rising: that is what is optimised"


def test_best_of_n_frame_and_reproducibility():
    kw = dict(n_values=[10, 1, 3], n_trials=20, seed=4)
    a, b = simulate_best_of_n(**kw), simulate_best_of_n(**kw)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(simulate_best_of_n(**{**kw, "seed": 5}))
    assert list(a["n"]) == [1, 1, 3, 3, 10, 10] and list(a["reward"][:2]) == ["true", "proxy"]
    assert np.allclose(a["d"], np.sqrt(a["kl"])) and np.allclose(a["kl"], best_of_n_kl(a["n"].to_numpy()))
    assert (a["ci_low"] <= a["mean"]).all() and (a["mean"] <= a["ci_high"]).all()
    assert a["df"].isna().all()


def test_block_size_does_not_limit_n_trials(monkeypatch):
    monkeypatch.setattr(gh, "_BLOCK", 30)  # force many blocks
    out = simulate_best_of_n(n_values=[1, 10], n_trials=25, seed=1)
    assert (out["n_trials"] == 25).all() and out["se"].notna().all()


@FAST
@given(st.one_of(st.just([]), st.just([0, 2]), st.just([1.5]), st.just([2, 2]), st.just([1, np.nan])))
def test_best_of_n_rejects_bad_n_values(bad):
    with pytest.raises(ValueError):
        simulate_best_of_n(n_values=bad, n_trials=5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(noise="cauchy"), "noise"),
        (dict(noise="student_t"), "df"),
        (dict(noise="student_t", df=0), "df"),
        (dict(df=3), "only used"),
        (dict(proxy_noise=-1), "proxy_noise"),
        (dict(n_trials=1), "n_trials"),
        (dict(confidence=1.0), "confidence"),
        (dict(seed=-1), "seed"),
    ],
)
def test_best_of_n_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_best_of_n(**{"n_values": [1, 2], "n_trials": 5, **kwargs})


# --------------------------------------------------------------------------- fit_overoptimization


@pytest.mark.parametrize("form", ["bon", "rl"])
@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.25), (2.5, 0.6), (0.4, -0.1)])
def test_fit_recovers_known_coefficients_without_noise(form, alpha, beta):
    d = np.linspace(0, 6, 25)
    log_d = np.log(np.where(d > 0, d, 1.0))
    reward = d * (alpha - beta * (d if form == "bon" else log_d))
    fit = fit_overoptimization(d, reward, form=form)
    assert fit.alpha == pytest.approx(alpha, abs=1e-10) and fit.beta == pytest.approx(beta, abs=1e-10)
    assert fit.rss < 1e-18 and fit.n == 25 and fit.form == form


@pytest.mark.parametrize("form", ["bon", "rl"])
def test_fit_with_noise_is_close_and_bootstrap_covers(form):
    alpha, beta = 1.5, 0.4
    d = np.linspace(0.1, 5, 30)
    shape = d if form == "bon" else np.log(d)
    rng = np.random.default_rng(8)
    covered = {"alpha": 0, "beta": 0}
    reps = 60
    for _ in range(reps):
        reward = d * (alpha - beta * shape) + rng.normal(0, 0.05, d.size)
        fit = fit_overoptimization(d, reward, form=form, n_boot=400, seed=int(rng.integers(1e6)))
        assert abs(fit.alpha - alpha) < 0.1 and abs(fit.beta - beta) < 0.05
        covered["alpha"] += fit.ci["alpha"][0] <= alpha <= fit.ci["alpha"][1]
        covered["beta"] += fit.ci["beta"][0] <= beta <= fit.ci["beta"][1]
    # Nominal 95%; the residual bootstrap is a little narrow with 30 points, so allow some slack.
    assert all(c / reps >= 0.8 for c in covered.values()), covered


@pytest.mark.parametrize("form", ["bon", "rl"])
@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.25), (2.0, 0.9), (0.3, 0.5)])
def test_peak_matches_numerical_maximum(form, alpha, beta):
    fit = OveroptimizationFit(alpha=alpha, beta=beta, form=form, n=10, rss=0.0)
    res = optimize.minimize_scalar(lambda x: -fit.predict(x), bounds=(1e-9, 100), method="bounded",
                                   options={"xatol": 1e-10})
    assert fit.peak_d == pytest.approx(res.x, rel=1e-5)
    assert fit.peak_reward == pytest.approx(-res.fun, rel=1e-8)


def test_no_peak_without_positive_beta():
    for form in ("bon", "rl"):
        fit = OveroptimizationFit(alpha=1.0, beta=-0.1, form=form, n=5, rss=0.0)
        assert math.isinf(fit.peak_d) and math.isinf(fit.peak_reward)


def test_predict_and_frame():
    fit = fit_overoptimization([0, 1, 2, 3], [0, 0.75, 1.0, 0.75], form="bon", n_boot=100, seed=1)
    assert fit.predict(0.0) == 0.0 and isinstance(fit.predict(1.0), float)
    assert fit.predict([1.0, 2.0]).shape == (2,)
    rl = fit_overoptimization([0, 1, 2, 3], [0, 1, 1.5, 1.6], form="rl")
    assert rl.predict(0.0) == 0.0  # d log d -> 0
    frame = fit.to_frame()
    assert list(frame.columns[:4]) == ["form", "alpha", "beta", "peak_d"]
    assert frame[["alpha_low", "beta_low", "peak_d_low"]].notna().all(axis=None)
    assert rl.to_frame()[["alpha_low", "alpha_high"]].isna().all(axis=None)
    with pytest.raises(ValueError, match=">= 0"):
        fit.predict(-1.0)


def test_fit_on_heavy_tailed_simulation_finds_a_peak_inside_the_range():
    out = simulate_best_of_n(n_trials=300, proxy_noise=0.5, noise="student_t", df=3, seed=3)
    true = out[out["reward"] == "true"]
    fit = fit_overoptimization(true["d"], true["mean"])
    assert fit.beta > 0 and 0 < fit.peak_d < true["d"].max()


@FAST
@given(st.sampled_from(["negative", "nan", "short", "mismatch", "form", "one_d"]))
def test_fit_rejects_bad_input(case):
    d, r, kw = [0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 1.5, 1.0], {}
    if case == "negative":
        d = [-1.0, 1.0, 2.0, 3.0]
    elif case == "nan":
        r = [0.0, np.nan, 1.5, 1.0]
    elif case == "short":
        d, r = d[:2], r[:2]
    elif case == "mismatch":
        r = r[:3]
    elif case == "form":
        kw = {"form": "ppo"}
    elif case == "one_d":
        d = [0.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        fit_overoptimization(d, r, **kw)


@FAST
@given(st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), st.text(max_size=3)))
def test_fit_rejects_bad_options(bad):
    with pytest.raises(ValueError):
        fit_overoptimization([0, 1, 2, 3], [0, 1, 1.5, 1.0], n_boot=bad)


# --------------------------------------------------------------------------- simulate_goodhart


@pytest.mark.parametrize("noise", [0.5, 1.0, 2.0])
def test_regressional_true_is_proxy_shrunk_by_reliability(noise):
    # E[V | Y] = Y / (1 + noise^2), so the mean over any selection on Y shrinks the same way.
    out = simulate_goodhart("regressional", noise=noise, strengths=[0, 0.5, 1, 2], n_units=400_000, seed=1)
    expected = out["proxy"] / (1 + noise**2)
    assert np.allclose(out["true"], expected, atol=0.06)


def test_regressional_without_noise_has_no_gap():
    out = simulate_goodhart("regressional", noise=0.0)
    assert np.allclose(out["gap"], 0.0)


def test_extremal_matches_integration_without_noise():
    bp, k = 1.5, 2.0
    out = simulate_goodhart("extremal", noise=0.0, breakpoint=bp, decline=k, strengths=[0, 1, 2], n_units=400_000,
                            seed=2)
    g = lambda x: (x if x <= bp else bp - k * (x - bp)) * stats.norm.pdf(x)  # noqa: E731
    for s, true in zip(out["strength"], out["true"]):
        share = 10.0**-s
        z = stats.norm.ppf(1 - share) if share < 1 else -np.inf
        lo = max(z, -12.0)
        expected = integrate.quad(g, lo, 12, points=[bp] if lo < bp else None)[0] / share
        assert true == pytest.approx(expected, abs=0.05), s
    assert out["true"].iloc[-1] < out["true"].iloc[1], "strong selection lands in the extremes, where the relation breaks"


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_causal_intervention_moves_the_goal_by_the_causal_share(share):
    out = simulate_goodhart("causal", causal_share=share, strengths=[0, 1, 2.5])
    assert np.allclose(out["proxy"] - out["proxy"].iloc[0], out["strength"])
    assert np.allclose(out["true"] - out["true"].iloc[0], share * out["strength"])


def test_adversarial_without_adversaries_is_regressional():
    kw = dict(noise=0.5, strengths=[0, 1, 2], n_units=10_000, seed=3)
    adv = simulate_goodhart("adversarial", adversary_share=0.0, **kw)
    reg = simulate_goodhart("regressional", **kw)
    assert np.allclose(adv[["proxy", "true"]], reg[["proxy", "true"]])


def test_adversarial_gaming_takes_over_under_strong_pressure():
    out = simulate_goodhart("adversarial").set_index("strength")
    assert out.loc[0.0, "gap"] == pytest.approx(0.0, abs=0.005), "no stakes, no gaming: only the mean proxy noise"
    assert out["true"].idxmax() not in (0.0, out.index.max())
    assert out["true"].iloc[-1] < out["true"].max() - 1.0 and out["proxy"].is_monotonic_increasing


def test_one_frame_type_for_every_variant():
    for v in gh.VARIANTS:
        out = simulate_goodhart(v, strengths=[0, 1], n_units=1000)
        assert list(out.columns) == ["variant", "strength", "proxy", "true", "gap", "n_units"] and len(out) == 2
        assert (out["variant"] == v).all()


def test_unknown_variant_and_parameter_list_the_valid_ones():
    with pytest.raises(ValueError, match="regressional.*extremal.*causal.*adversarial"):
        simulate_goodhart("campbell")
    with pytest.raises(ValueError, match=r"causal_share.*noise.*seed.*strengths"):
        simulate_goodhart("causal", decline=1.0)


@pytest.mark.parametrize(
    ("variant", "params", "match"),
    [
        ("regressional", {"noise": -1}, "noise"),
        ("causal", {"causal_share": 1.5}, "causal_share"),
        ("adversarial", {"adversary_share": -0.1}, "adversary_share"),
        ("extremal", {"breakpoint": np.inf}, "breakpoint"),
        ("regressional", {"strengths": [-1]}, "strengths"),
        ("regressional", {"strengths": [0, 4], "n_units": 1000}, "keeps no unit"),
        ("regressional", {"n_units": 10}, "n_units"),
        ("regressional", {"seed": 1.5}, "seed"),
    ],
)
def test_goodhart_rejects_bad_values(variant, params, match):
    with pytest.raises(ValueError, match=match):
        simulate_goodhart(variant, **params)


@FAST
@given(st.text(min_size=1, max_size=15).filter(lambda s: s not in gh.VARIANTS))
def test_goodhart_rejects_any_unknown_variant(name):
    with pytest.raises(ValueError, match="variant"):
        simulate_goodhart(name)


# --------------------------------------------------------------------------- simulate_group_goodhart


def test_group_curves_match_closed_form():
    w_maj, w_min, s = 1.0, -1.5, 0.5
    n_values = [1, 10, 100]
    out = simulate_group_goodhart(n_values=n_values, n_prompts=6000, feature_weight_majority=w_maj,
                                  feature_weight_minority=w_min, proxy_noise=s, seed=7)
    scale = math.sqrt(1 + w_maj**2 + s**2)
    for group, w in (("majority", w_maj), ("minority", w_min)):
        part = out[out["group"] == group].set_index("n")
        for n in n_values:
            expected = (1 + w_maj * w) / scale * expected_max_normal(n)
            assert abs(part.loc[n, "true"] - expected) < 4.5 * part.loc[n, "true_se"] + 1e-12, (group, n)
            assert part.loc[n, "proxy"] == pytest.approx(scale * expected_max_normal(n), abs=0.1)


def test_aggregate_is_the_prompt_weighted_mean_and_hides_the_fall():
    out = simulate_group_goodhart(n_prompts=1000, minority_share=0.2, seed=1)
    wide = out.pivot(index="n", columns="group", values="true")
    counts = out.groupby("group")["n_prompts"].first()
    assert counts["minority"] == 200 and counts["aggregate"] == 1000
    weighted = (wide["majority"] * counts["majority"] + wide["minority"] * counts["minority"]) / counts["aggregate"]
    assert np.allclose(wide["aggregate"], weighted)
    assert wide["aggregate"].iloc[-1] > wide["aggregate"].iloc[0] and wide["minority"].iloc[-1] < wide["minority"].iloc[0]


def test_group_without_disagreement_improves_everyone():
    out = simulate_group_goodhart(n_values=[1, 50], n_prompts=2000, feature_weight_minority=1.0, seed=3)
    wide = out.pivot(index="n", columns="group", values="true")
    assert (wide.loc[50] > wide.loc[1] + 0.5).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(minority_share=0.0), "minority_share"),
        (dict(minority_share=1.0), "prompts"),
        (dict(n_prompts=10, minority_share=0.05), "fewer than 2"),
        (dict(proxy_noise=-0.1), "proxy_noise"),
        (dict(feature_weight_minority=np.nan), "feature_weight_minority"),
        (dict(n_values=[0, 1]), "n_values"),
        (dict(n_prompts=3), "n_prompts"),
    ],
)
def test_group_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_group_goodhart(**{"n_values": [1, 2], **kwargs})
