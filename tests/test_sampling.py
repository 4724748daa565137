"""Tests for helpers.sampling.

Expected values come from independent sources: the one-step recursion for
E[K_n], harmonic numbers, exact sums, hypergeometric formulas, brute-force
enumeration, hand computations, closed-form raking of a 2x2 table, published
example output (R package fossil), and simulations with known truth.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import gamma

from helpers.sampling import (
    Chao1Result,
    PitmanYorFit,
    _running_distinct,
    accumulation_curve,
    _allocate,
    chao1,
    compare_on_mixes,
    composition_by_size,
    expected_distinct_groups,
    fit_pitman_yor,
    good_turing_unseen,
    ipw,
    kish_ess,
    platform_growth_sample,
    poststratify,
    rake,
    sample_partition,
)

FAST = settings(max_examples=40, deadline=None)
PARAMS = [(5.0, 0.5), (0.0, 0.5), (-0.3, 0.5), (1.0, 0.0), (0.01, 0.9), (100.0, 0.2), (2.0, 1e-12), (0.5, 0.05)]


def recursion(n_max: int, theta: float, discount: float) -> np.ndarray:
    """E[K_1..K_n] from E[K_{n+1}] = E[K_n] + (theta + d E[K_n]) / (theta + n), a Python loop."""
    out = [1.0]
    for n in range(1, n_max):
        out.append(out[-1] + (theta + discount * out[-1]) / (theta + n))
    return np.array(out)


# ---------------------------------------------------------------------------
# expected_distinct_groups
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("theta", "discount"), PARAMS)
def test_expectation_matches_recursion(theta, discount):
    n = np.arange(1, 5001)
    exact = expected_distinct_groups(n, theta=theta, discount=discount)
    np.testing.assert_allclose(exact, recursion(5000, theta, discount), rtol=1e-11)


def test_expectation_first_item_is_one_group():
    for theta, discount in PARAMS:
        assert expected_distinct_groups(1, theta=theta, discount=discount)[0] == pytest.approx(1.0, abs=1e-12)


def test_crp_with_theta_one_is_harmonic_number():
    n = np.array([1, 2, 3, 10, 100])
    harmonic = [float(sum(Fraction(1, i) for i in range(1, m + 1))) for m in n]
    np.testing.assert_allclose(expected_distinct_groups(n, theta=1.0), harmonic, rtol=1e-13)


def test_crp_equals_direct_sum_and_large_theta_approaches_n():
    # E[K_n] = sum_{i<n} theta / (theta + i): each item is new with probability theta / (theta + i).
    n = np.array([1, 10, 100, 1000])
    for theta in [0.3, 7.0, 1e6]:
        direct = [sum(theta / (theta + i) for i in range(m)) for m in n]
        np.testing.assert_allclose(expected_distinct_groups(n, theta=theta), direct, rtol=1e-12)
    # As theta grows every item starts its own group; same for Pitman-Yor.
    for discount in [0.0, 0.5]:
        np.testing.assert_allclose(expected_distinct_groups(n, theta=1e8, discount=discount), n, rtol=1e-5)


def test_pitman_yor_power_law_asymptote():
    # (theta + d)_n / (theta)_n ~ n^d Gamma(theta) / Gamma(theta + d), so
    # E[K_n] + theta/d -> Gamma(theta + 1) / (d Gamma(theta + d)) n^d with relative error O(1/n).
    theta, d, n = 2.0, 0.5, 1e8
    c = gamma(theta + 1) / (d * gamma(theta + d))
    got = expected_distinct_groups(n, theta=theta, discount=d)[0]
    assert (got + theta / d) / (c * n**d) == pytest.approx(1.0, rel=1e-6)


def test_tiny_discount_is_continuous_with_crp():
    n = np.geomspace(1, 1e6, 13).round()
    crp = expected_distinct_groups(n, theta=3.0)
    # dE/dd is O(E log n), so at d = 1e-12 the gap is below 1e-9 relative.
    np.testing.assert_allclose(expected_distinct_groups(n, theta=3.0, discount=1e-12), crp, rtol=1e-9)


@pytest.mark.parametrize(("theta", "discount"), [(2.0, 0.5), (3.0, 0.0), (-0.3, 0.5)])
def test_expectation_matches_simulation(theta, discount):
    # Labels are numbered in order of first appearance, so running max + 1 is K_1..K_N of one draw.
    reps, size = 1500, 200
    runs = np.stack(
        [np.maximum.accumulate(sample_partition(size, theta=theta, discount=discount, seed=s)) + 1 for s in range(reps)]
    )
    at = np.array([2, 10, 50, 200])
    mean, se = runs[:, at - 1].mean(axis=0), runs[:, at - 1].std(axis=0, ddof=1) / np.sqrt(reps)
    exact = expected_distinct_groups(at, theta=theta, discount=discount)
    # 4 standard errors: with 12 comparisons in this test family, a correct sampler fails
    # with probability < 1e-3 under the normal approximation (1500 draws), yet a wrong
    # seating rule (e.g. ignoring the discount) shifts the mean by tens of SEs.
    assert np.all(np.abs(mean - exact) < 4 * se)


def seating_probabilities(n: int, theta: float, d: float) -> dict[tuple[int, ...], float]:
    """Exact law of the sorted block sizes after n items, by enumerating every seating history."""
    out: dict[tuple[int, ...], float] = {}

    def walk(blocks: tuple[int, ...], prob: float) -> None:
        i = sum(blocks)
        if i == n:
            key = tuple(sorted(blocks, reverse=True))
            out[key] = out.get(key, 0.0) + prob
            return
        walk(blocks + (1,), prob * (theta + d * len(blocks)) / (theta + i))
        for j, size in enumerate(blocks):
            walk(blocks[:j] + (size + 1,) + blocks[j + 1 :], prob * (size - d) / (theta + i))

    walk((1,), 1.0)
    return out


def eppf_pattern_probability(sizes: tuple[int, ...], theta: float, d: float) -> float:
    """Pitman-Yor EPPF times the number of set partitions with these block sizes."""
    n, k = sum(sizes), len(sizes)
    eppf = math.prod(theta + i * d for i in range(1, k)) / math.prod(theta + 1 + i for i in range(n - 1))
    eppf *= math.prod(math.prod(1 - d + i for i in range(m - 1)) for m in sizes)
    ways = math.factorial(n) / math.prod(math.factorial(m) for m in sizes)
    ways /= math.prod(math.factorial(c) for c in pd.Series(sizes).value_counts())
    return eppf * ways


def test_sample_partition_block_sizes_follow_the_pitman_yor_law():
    # E[K_n] only checks when new groups open; this checks which group a joining item picks
    # (weight n_k - d), through the law of the block sizes of 4 items.
    theta, d, n, reps = 1.0, 0.5, 4, 8000
    exact = seating_probabilities(n, theta, d)
    for sizes, prob in exact.items():  # two independent derivations agree
        assert prob == pytest.approx(eppf_pattern_probability(sizes, theta, d), rel=1e-12)
    seen = pd.Series(
        [tuple(sorted(np.bincount(sample_partition(n, theta=theta, discount=d, seed=s)), reverse=True))
         for s in range(reps)]
    ).value_counts(normalize=True)
    for sizes, prob in exact.items():
        # 4 binomial SEs per pattern (5 patterns): false-failure probability < 4e-4.
        assert abs(seen.get(sizes, 0.0) - prob) < 4 * np.sqrt(prob * (1 - prob) / reps)


def test_sample_partition_is_seeded_and_labelled_in_order():
    a = sample_partition(5000, theta=2.0, discount=0.3, seed=7)
    assert np.array_equal(a, sample_partition(5000, theta=2.0, discount=0.3, seed=7))
    assert not np.array_equal(a, sample_partition(5000, theta=2.0, discount=0.3, seed=8))
    first_seen = pd.unique(a)
    assert np.array_equal(first_seen, np.arange(len(first_seen)))


def test_sample_partition_extremes():
    assert np.array_equal(sample_partition(1, theta=1.0), [0])
    # theta huge: every item starts a new group with probability ~1.
    assert len(np.unique(sample_partition(300, theta=1e12))) == 300


# ---------------------------------------------------------------------------
# accumulation_curve
# ---------------------------------------------------------------------------


def test_running_distinct_matches_brute_force_loop():
    rng = np.random.default_rng(3)
    for _ in range(20):
        codes = rng.integers(0, 12, size=int(rng.integers(1, 60)))
        seen, brute = set(), []
        for c in codes:
            seen.add(int(c))
            brute.append(len(seen))
        assert _running_distinct(codes).tolist() == brute


def test_accumulation_mean_matches_enumeration_and_hypergeometric():
    labels = list("aaabbc")
    n_items, counts = len(labels), {"a": 3, "b": 2, "c": 1}
    sizes = [1, 2, 3, 4, 5, 6]
    # Brute force: average over all 720 orderings.
    perms = list(itertools.permutations(labels))
    brute = [np.mean([len(set(p[:s])) for p in perms]) for s in sizes]
    # Hypergeometric: group g is missed by s draws with probability C(N - n_g, s) / C(N, s).
    hyper = [sum(1 - math.comb(n_items - m, s) / math.comb(n_items, s) for m in counts.values()) for s in sizes]
    np.testing.assert_allclose(brute, hyper, rtol=1e-12)
    curve = accumulation_curve(labels, sizes=sizes, n_perm=3000, seed=1)
    # Distinct counts lie in [1, 3], so their sd is at most 1 and the SE at most 1/sqrt(3000);
    # 4 such SEs is a conservative tolerance.
    assert np.all(np.abs(curve["mean"].to_numpy() - hyper) < 4 / np.sqrt(3000))


def test_accumulation_curve_shape_and_ends():
    labels = sample_partition(2000, theta=5.0, discount=0.3, seed=2)
    curve = accumulation_curve(labels, sizes=[2000, 1, 100, 100], n_perm=7)
    assert list(curve.columns) == ["size", "mean", "low", "high", "n_perm"]
    assert curve["size"].tolist() == [1, 100, 2000]
    assert curve.iloc[0][["mean", "low", "high"]].tolist() == [1, 1, 1]
    k = len(np.unique(labels))
    assert curve.iloc[-1][["mean", "low", "high"]].tolist() == [k, k, k]
    assert (curve["low"] <= curve["mean"]).all() and (curve["mean"] <= curve["high"]).all()
    assert curve["n_perm"].eq(7).all()


def test_accumulation_curve_dataframe_rows_are_cells():
    df = pd.DataFrame({"x": list("aabbab"), "y": [1, 1, 2, 2, 2, 1]})
    # distinct (x, y) rows by hand: (a,1), (b,2), (a,2), (b,1) -> 4
    curve = accumulation_curve(df, sizes=[6], n_perm=3)
    assert curve["mean"].iloc[0] == 4


def test_accumulation_curve_is_seeded():
    labels = sample_partition(500, theta=3.0, seed=4)
    a = accumulation_curve(labels, sizes=[10, 50], n_perm=5, seed=1)
    pd.testing.assert_frame_equal(a, accumulation_curve(labels, sizes=[10, 50], n_perm=5, seed=1))


def test_accumulation_curve_errors():
    with pytest.raises(ValueError, match="only 3 items"):
        accumulation_curve(["a", "b", "c"], sizes=[4])
    with pytest.raises(ValueError, match="missing label"):
        accumulation_curve(["a", None, "c"], sizes=[1])
    with pytest.raises(ValueError, match="whole numbers"):
        accumulation_curve(["a", "b"], sizes=[0])
    with pytest.raises(ValueError, match="whole numbers"):
        accumulation_curve(["a", "b"], sizes=[1.5])
    with pytest.raises(ValueError, match="empty"):
        accumulation_curve([], sizes=[1])


# ---------------------------------------------------------------------------
# fit_pitman_yor
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("theta", "discount"), [(3.0, 0.4), (0.5, 0.0), (20.0, 0.0), (0.0, 0.6), (-0.2, 0.5), (50.0, 0.1)]
)
def test_fit_recovers_parameters_from_exact_curve(theta, discount):
    n = np.unique(np.geomspace(1, 1e5, 25).round())
    fit = fit_pitman_yor(n, expected_distinct_groups(n, theta=theta, discount=discount))
    assert fit.theta == pytest.approx(theta, abs=1e-6 * max(1, abs(theta)))
    assert fit.discount == pytest.approx(discount, abs=1e-6)
    assert fit.objective < 1e-8 and fit.n_points == len(n)


def test_fit_crp_model_and_frame_input():
    n = np.array([1, 10, 100, 1000, 10_000])
    curve = pd.DataFrame({"size": n, "mean": expected_distinct_groups(n, theta=4.0)})
    fit = fit_pitman_yor(curve, model="crp")
    assert isinstance(fit, PitmanYorFit)
    assert fit.theta == pytest.approx(4.0, rel=1e-8) and fit.discount == 0.0
    np.testing.assert_allclose(fit.predict(n), curve["mean"], rtol=1e-8)
    assert fit.to_frame().columns.tolist() == ["theta", "discount", "objective", "n_points", "model"]


def test_fit_recovers_parameters_from_simulated_average():
    # The first m items of a draw are a draw of size m, so averaging running counts over
    # 300 independent draws estimates E[K_m]. Repeating this whole procedure 30 times
    # (seeds 0..29 in steps of 1000) gave sd(theta_hat) = 0.19 and sd(discount_hat) = 0.005,
    # largest errors 0.39 and 0.010; the tolerances below are about 4 sds.
    theta, discount, reps, size = 4.0, 0.5, 300, 3000
    runs = np.stack(
        [np.maximum.accumulate(sample_partition(size, theta=theta, discount=discount, seed=s)) + 1 for s in range(reps)]
    )
    sizes = np.unique(np.geomspace(1, size, 20).round()).astype(int)
    fit = fit_pitman_yor(sizes, runs[:, sizes - 1].mean(axis=0))
    assert abs(fit.theta - theta) < 0.8
    assert abs(fit.discount - discount) < 0.02


def test_fit_recovers_growth_exponent_from_single_draws():
    # One draw's curve fixes the exponent but not theta (K_n / n^d tends to a random limit).
    # Over 60 single draws of 20,000 items, sd(discount_hat) was 0.036, so the mean of 4 has
    # sd ~0.018; tolerance 0.07 is about 4 of those.
    fits = []
    for s in range(4):
        labels = sample_partition(20_000, theta=4.0, discount=0.5, seed=100 + s)
        curve = accumulation_curve(labels, sizes=np.unique(np.geomspace(1, 20_000, 20).round()), n_perm=10)
        fits.append(fit_pitman_yor(curve).discount)
    assert abs(np.mean(fits) - 0.5) < 0.07


def test_fit_errors():
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_pitman_yor([1, 10], [1, 5])
    with pytest.raises(ValueError, match="between 1 and the sample size"):
        fit_pitman_yor([1, 10, 100], [1, 12, 50])
    with pytest.raises(ValueError, match="Unknown model"):
        fit_pitman_yor([1, 10, 100], [1, 5, 20], model="dirichlet")
    with pytest.raises(ValueError, match="Mismatched lengths"):
        fit_pitman_yor([1, 10, 100], [1, 5])
    with pytest.raises(ValueError, match="sizes together with"):
        fit_pitman_yor([1, 10, 100])
    with pytest.raises(ValueError, match="Unknown column"):
        fit_pitman_yor(pd.DataFrame({"n": [1, 2, 3], "k": [1, 2, 3]}))


# ---------------------------------------------------------------------------
# Good-Turing and Chao1
# ---------------------------------------------------------------------------


def test_good_turing_by_hand():
    assert good_turing_unseen([1, 1, 1, 2, 3, 5]) == pytest.approx(3 / 13)  # 3 singletons, 13 items
    assert good_turing_unseen(pd.Series([4, 4])) == 0.0
    assert good_turing_unseen([1, 1, 1]) == 1.0


def test_good_turing_matches_its_expectation_in_simulation():
    # E[N1 / n] = sum_i p_i (1 - p_i)^(n - 1) for multinomial sampling (E[N1] = sum_i n p_i (1 - p_i)^(n-1)).
    p = 1.0 / np.arange(1, 501)
    p /= p.sum()
    n, reps = 300, 2000
    draws = np.random.default_rng(5).multinomial(n, p, size=reps)
    estimates = np.array([good_turing_unseen(row[row > 0]) for row in draws])
    expected = float(np.sum(p * (1 - p) ** (n - 1)))
    # 4 SEs of the simulation mean: a false failure has probability ~6e-5.
    assert abs(estimates.mean() - expected) < 4 * estimates.std(ddof=1) / np.sqrt(reps)


def test_chao1_by_hand_and_published_example():
    res = chao1([1, 1, 1, 2, 3, 5])  # S_obs = 6, F1 = 3, F2 = 1
    assert isinstance(res, Chao1Result)
    assert res.estimate == 6 + 3 * 2 / (2 * 2) and res.unseen == 1.5
    assert (res.observed, res.singletons, res.doubletons, res.n) == (6, 3, 1, 13)
    assert chao1([1, 1, 1, 2, 3, 5], bias_corrected=False).estimate == 6 + 3**2 / (2 * 1)
    assert chao1([1, 1, 1]).estimate == 3 + 3 * 2 / 2  # no doubletons: bias-corrected form
    # R package fossil 0.4.0, ?int.chao example: int.chao(c(4,5,1,1,2,0,0,1,3,0,8,45,23)) prints 14.5
    # (classic F1^2 / (2 F2) form) and int.chao(c(4,5,0,0,2,0,0,0,3,0,8,45,23)) prints 7.
    a = np.array([4, 5, 1, 1, 2, 0, 0, 1, 3, 0, 8, 45, 23])
    assert chao1(a[a > 0], bias_corrected=False).estimate == 14.5
    b = np.array([4, 5, 0, 0, 2, 0, 0, 0, 3, 0, 8, 45, 23])
    assert chao1(b[b > 0]).estimate == 7
    assert chao1([2, 3]).to_frame()["unseen"].iloc[0] == 0


def test_count_errors():
    for f in (good_turing_unseen, chao1):
        with pytest.raises(ValueError, match="observed"):
            f([3, 0, 1])
        with pytest.raises(ValueError, match="whole numbers"):
            f([1.5, 2])
        with pytest.raises(ValueError, match="whole numbers"):
            f([-1, 2])
        with pytest.raises(ValueError, match="empty"):
            f([])


# ---------------------------------------------------------------------------
# weights: Kish, IPW, post-stratification, raking
# ---------------------------------------------------------------------------


def test_kish_ess():
    assert kish_ess(np.full(17, 2.5)) == pytest.approx(17)
    assert kish_ess([0, 0, 5, 0]) == 1.0
    assert kish_ess([1, 2, 3]) == pytest.approx(36 / 14)  # (1+2+3)^2 / (1+4+9)
    with pytest.raises(ValueError, match="negative"):
        kish_ess([1, -1, 2])
    with pytest.raises(ValueError, match="all zero"):
        kish_ess([0, 0])


def test_ipw():
    np.testing.assert_allclose(ipw([0.1, 0.5, 1.0]), [10, 2, 1])
    with pytest.raises(ValueError, match="never be sampled"):
        ipw([0.5, 0.0])
    with pytest.raises(ValueError, match=r"> 1"):
        ipw([1.2])


def test_poststratify_by_hand():
    df = pd.DataFrame({"g": ["a", "a", "a", "b"]}, index=[10, 11, 12, 13])
    w = poststratify(df, cells="g", population_shares={"a": 0.5, "b": 0.5})
    # a: 0.5 / 0.75 = 2/3; b: 0.5 / 0.25 = 2
    np.testing.assert_allclose(w.to_numpy(), [2 / 3, 2 / 3, 2 / 3, 2])
    assert w.index.tolist() == [10, 11, 12, 13] and w.name == "weight"


def test_poststratify_reproduces_population_shares():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"race": rng.choice(["w", "b", "h"], 400, p=[0.7, 0.2, 0.1]),
                       "age": rng.choice(["young", "old"], 400)})
    df["race"] = df["race"].astype("category")
    pop = pd.DataFrame({"race": ["w", "w", "b", "b", "h", "h"], "age": ["young", "old"] * 3,
                        "share": [0.3, 0.3, 0.1, 0.1, 0.1, 0.1]})
    w = poststratify(df, cells=["race", "age"], population_shares=pop)
    got = w.groupby([df["race"].astype(str), df["age"]]).sum() / w.sum()
    want = pop.set_index(["race", "age"])["share"]
    np.testing.assert_allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-12)
    assert w.mean() == pytest.approx(1.0)
    mapping = {(r, a): s for r, a, s in pop.itertuples(index=False)}
    pd.testing.assert_series_equal(w, poststratify(df, cells=["race", "age"], population_shares=mapping))


def test_poststratify_errors():
    df = pd.DataFrame({"g": ["a", "a", "b"]})
    with pytest.raises(ValueError, match="cell 'c' has population share 0.2 but no respondents"):
        poststratify(df, cells="g", population_shares={"a": 0.4, "b": 0.4, "c": 0.2})
    with pytest.raises(ValueError, match="not in population_shares"):
        poststratify(df, cells="g", population_shares={"a": 1.0})
    with pytest.raises(ValueError, match="sums to"):
        poststratify(df, cells="g", population_shares={"a": 0.5, "b": 0.6})
    with pytest.raises(ValueError, match="Unknown column"):
        poststratify(df, cells="h", population_shares={"a": 0.5, "b": 0.5})
    with pytest.raises(ValueError, match="missing value"):
        poststratify(pd.DataFrame({"g": ["a", None]}), cells="g", population_shares={"a": 0.5, "b": 0.5})
    # a zero-share cell may be absent, and present respondents in it get weight 0
    w = poststratify(df, cells="g", population_shares={"a": 1.0, "b": 0.0, "c": 0.0})
    assert w.tolist() == [1.5, 1.5, 0.0]


def test_rake_matches_closed_form_2x2():
    # IPF keeps the sample odds ratio and imposes the margins (Deming & Stephan 1940), so the
    # raked table solves p11 (1 - r - c + p11) = OR (r - p11)(c - p11): a quadratic.
    cells = {("x", "u"): 30, ("x", "v"): 10, ("y", "u"): 20, ("y", "v"): 40}
    df = pd.DataFrame([k for k, m in cells.items() for _ in range(m)], columns=["a", "b"])
    r, c, odds = 0.5, 0.4, (30 * 40) / (10 * 20)
    roots = np.roots([1 - odds, 1 - r - c + odds * (r + c), -odds * r * c])
    p11 = float(next(x.real for x in roots if max(0, r + c - 1) < x.real < min(r, c)))
    want = {("x", "u"): p11, ("x", "v"): r - p11, ("y", "u"): c - p11, ("y", "v"): 1 - r - c + p11}
    w = rake(df, margins={"a": {"x": r, "y": 1 - r}, "b": {"u": c, "v": 1 - c}})
    got = (w.groupby([df["a"], df["b"]]).sum() / w.sum()).to_dict()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-7)
    assert w.sum() == pytest.approx(len(df))


def test_rake_reproduces_margins_and_keeps_total():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"sex": rng.choice(["f", "m"], 300), "age": rng.choice(["18-29", "30-64", "65+"], 300),
                       "edu": rng.choice(["hs", "college"], 300, p=[0.3, 0.7])})
    margins = {"sex": {"f": 0.51, "m": 0.49}, "age": {"18-29": 0.2, "30-64": 0.55, "65+": 0.25},
               "edu": {"hs": 0.6, "college": 0.4}}
    base = rng.uniform(0.5, 2.0, 300)
    w = rake(df, margins=margins, weights=base, tol=1e-10)
    for col, shares in margins.items():
        got = w.groupby(df[col]).sum() / w.sum()
        for cat, share in shares.items():
            assert got[cat] == pytest.approx(share, abs=1e-10)
    assert w.sum() == pytest.approx(base.sum())


def test_rake_with_matching_margins_leaves_weights_alone():
    df = pd.DataFrame({"a": list("xxyy"), "b": list("uvuv")})
    w = rake(df, margins={"a": {"x": 0.5, "y": 0.5}, "b": {"u": 0.5, "v": 0.5}})
    np.testing.assert_allclose(w.to_numpy(), 1.0)


def test_rake_errors():
    df = pd.DataFrame({"a": list("xxyy"), "b": list("xxyy")})
    good = {"x": 0.5, "y": 0.5}
    with pytest.raises(ValueError, match="category 'z' has population share 0.2 but no respondents"):
        rake(df, margins={"a": {"x": 0.4, "y": 0.4, "z": 0.2}})
    with pytest.raises(ValueError, match="sums to 1.1"):
        rake(df, margins={"a": {"x": 0.5, "y": 0.6}})
    with pytest.raises(ValueError, match="category 'y' occurs in the sample but has no target"):
        rake(df, margins={"a": {"x": 1.0}})
    with pytest.raises(ValueError, match="negative"):
        rake(df, margins={"a": good}, weights=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="Mismatched lengths"):
        rake(df, margins={"a": good}, weights=[1, 1, 1])
    with pytest.raises(ValueError, match="Unknown column"):
        rake(df, margins={"c": good})
    # a == b in every row, so a 50/50 margin on a and 20/80 on b cannot both hold.
    with pytest.raises(ValueError, match="did not converge.*margin 'a'"):
        rake(df, margins={"a": good, "b": {"x": 0.2, "y": 0.8}}, max_iter=20)


# ---------------------------------------------------------------------------
# platform growth
# ---------------------------------------------------------------------------


def population(n_a: int = 30_000, n_b: int = 30_000) -> pd.DataFrame:
    return pd.DataFrame({"g": ["a"] * n_a + ["b"] * n_b, "x": np.arange(n_a + n_b)})


def test_platform_growth_wave_sizes_and_composition():
    pop = population(40_000, 20_000)  # p_a = 2/3, p_b = 1/3
    growth = {"a": 0.0, "b": 1.0}
    sample = platform_growth_sample(pop, group="g", waves=4, growth=growth, first_wave=2000, seed=3)
    # N_t = round(2000 (2/3 + 1/3 * 2^t)) by hand: 2000, 2667, 4000, 6667
    assert sample.groupby("wave").size().tolist() == [2000, 2667, 4000, 6667]
    for t, wave in sample.groupby("wave"):
        share_b = (wave["g"] == "b").mean()
        pi_b = (2**t / 3) / (2 / 3 + 2**t / 3)  # analytic share of b in wave t
        # Group counts are binomial within a wave; 4 SEs per wave (4 waves) gives a
        # false-failure probability < 3e-4.
        assert abs(share_b - pi_b) < 4 * np.sqrt(pi_b * (1 - pi_b) / len(wave))
    assert sample.index.is_unique and sample.index.isin(pop.index).all()
    assert (sample["x"] == pop.loc[sample.index, "x"]).all()


def test_platform_growth_is_seeded():
    pop = population(2000, 2000)
    kw = dict(group="g", waves=3, growth={"a": 0.5, "b": -0.5}, first_wave=50)
    a = platform_growth_sample(pop, seed=1, **kw)
    pd.testing.assert_frame_equal(a, platform_growth_sample(pop, seed=1, **kw))
    assert not a.index.equals(platform_growth_sample(pop, seed=2, **kw).index)


def test_platform_growth_errors():
    pop = population(100, 100)
    with pytest.raises(ValueError, match="needs .* rows but df has only 100"):
        platform_growth_sample(pop, group="g", waves=5, growth={"a": 1.0, "b": 0.0}, first_wave=100)
    with pytest.raises(ValueError, match="no growth rate"):
        platform_growth_sample(pop, group="g", waves=2, growth={"a": 1.0})
    with pytest.raises(ValueError, match="no rows in df"):
        platform_growth_sample(pop, group="g", waves=2, growth={"a": 1.0, "b": 0.0, "c": 3.0})
    with pytest.raises(ValueError, match="> -1"):
        platform_growth_sample(pop, group="g", waves=2, growth={"a": -1.0, "b": 0.0})
    with pytest.raises(ValueError, match="'wave' column"):
        platform_growth_sample(pop.assign(wave=0), group="g", waves=2, growth={"a": 0.0, "b": 0.0})


def test_composition_by_size():
    d = pd.DataFrame({"g": pd.Categorical(["a", "a", "b", "a", "b"], categories=["a", "b", "c"]),
                      "wave": [1, 0, 1, 0, 2]})
    out = composition_by_size(d, group="g")
    # by hand: wave 0 rows (a, a); waves <= 1 add (a, b); wave 2 adds b
    want = {(2, "a"): 2, (2, "b"): 0, (2, "c"): 0, (4, "a"): 3, (4, "b"): 1, (4, "c"): 0,
            (5, "a"): 3, (5, "b"): 2, (5, "c"): 0}
    assert {(s, g): c for s, g, c in out[["size", "group", "count"]].itertuples(index=False)} == want
    assert out["wave"].tolist() == [0] * 3 + [1] * 3 + [2] * 3
    np.testing.assert_allclose(out.groupby("size")["share"].sum(), 1.0)
    by_size = composition_by_size(d, group="g", order_col=None, sizes=[1, 3])
    assert by_size.query("size == 3 and group == 'b'")["count"].item() == 1  # rows a, a, b
    with pytest.raises(ValueError, match="Pass sizes"):
        composition_by_size(d, group="g", order_col=None)
    with pytest.raises(ValueError, match="df has 5 rows"):
        composition_by_size(d, group="g", sizes=[6])


# ---------------------------------------------------------------------------
# bad inputs (hypothesis)
# ---------------------------------------------------------------------------

bad_discount = st.one_of(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False, min_value=-1e6),
                         st.floats(min_value=1.0, max_value=1e6))


@FAST
@given(theta=st.floats(min_value=0.01, max_value=1e3), discount=bad_discount)
def test_discount_outside_unit_interval_raises(theta, discount):
    with pytest.raises(ValueError, match="discount must be in"):
        expected_distinct_groups(10, theta=theta, discount=discount)
    with pytest.raises(ValueError, match="discount must be in"):
        sample_partition(10, theta=theta, discount=discount)


@FAST
@given(discount=st.floats(min_value=0.0, max_value=0.999), gap=st.floats(min_value=0.0, max_value=1e3))
def test_theta_not_above_minus_discount_raises(discount, gap):
    theta = -discount - gap
    with pytest.raises(ValueError, match="theta must satisfy"):
        expected_distinct_groups([1, 2], theta=theta, discount=discount)
    with pytest.raises(ValueError, match="theta must satisfy"):
        sample_partition(5, theta=theta, discount=discount)


@FAST
@given(values=st.lists(st.integers(1, 50), min_size=1, max_size=30), pos=st.integers(0, 29),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_non_finite_counts_and_weights_raise(values, pos, bad):
    arr = np.array(values, dtype=float)
    arr[pos % len(arr)] = bad
    for f in (good_turing_unseen, chao1, kish_ess, ipw):
        with pytest.raises(ValueError, match="non-finite"):
            f(arr)
    with pytest.raises(ValueError, match="non-finite"):
        expected_distinct_groups(arr, theta=1.0)


@FAST
@given(weights=st.lists(st.floats(0, 10), min_size=1, max_size=30), pos=st.integers(0, 29),
       neg=st.floats(max_value=-1e-12, min_value=-1e6))
def test_negative_weight_anywhere_raises(weights, pos, neg):
    w = np.array(weights)
    w[pos % len(w)] = neg
    with pytest.raises(ValueError, match="negative"):
        kish_ess(w)


@FAST
@given(weights=st.lists(st.floats(0, 1e3), min_size=1, max_size=30).filter(lambda w: sum(w) > 0))
def test_kish_ess_between_one_and_n(weights):
    # Cauchy-Schwarz: (sum w)^2 <= n sum w^2, and (sum w)^2 >= sum w^2 for w >= 0.
    ess = kish_ess(weights)
    assert 1 - 1e-9 <= ess <= len(weights) + 1e-9


@FAST
@given(share=st.floats(0.0, 1.0), off=st.floats(1e-5, 0.5))
def test_shares_not_summing_to_one_raise(share, off):
    df = pd.DataFrame({"g": ["a", "b"]})
    shares = {"a": share, "b": 1 - share + off}
    with pytest.raises(ValueError, match="sums to"):
        rake(df, margins={"g": shares})
    with pytest.raises(ValueError, match="sums to"):
        poststratify(df, cells="g", population_shares=shares)


# ---------------------------------------------------------------------------
# compare_on_mixes
# ---------------------------------------------------------------------------


def pool(n_x: int = 400, n_y: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pool where A is right on 90% of x and 60% of y rows, B on 70% of both (exact, by construction)."""
    a = np.r_[np.ones(int(0.9 * n_x)), np.zeros(n_x - int(0.9 * n_x)), np.ones(int(0.6 * n_y)),
              np.zeros(n_y - int(0.6 * n_y))]
    b = np.r_[np.tile([1, 1, 1, 1, 1, 1, 1, 0, 0, 0], n_x // 10), np.tile([1, 1, 1, 1, 1, 1, 1, 0, 0, 0], n_y // 10)]
    return a, b, np.array(["x"] * n_x + ["y"] * n_y)


def test_compare_on_mixes_expected_accuracy_is_the_mixture():
    a, b, g = pool()
    mixes = [{"x": 1.0}, {"x": 0.75, "y": 0.25}, {"y": 1.0}, {"x": 1 / 3, "y": 2 / 3}]
    res = compare_on_mixes(a, b, g, mixes=mixes, n=300, n_boot=50)
    # A: 0.9 share_x + 0.6 share_y; B: 0.7 throughout; 1/3 of 300 is exactly 100 rows.
    np.testing.assert_allclose(res["acc_a"], [0.9, 0.825, 0.6, 0.7], atol=1e-12)
    np.testing.assert_allclose(res["acc_b"], 0.7, atol=1e-12)
    np.testing.assert_allclose(res["diff"], res["acc_a"] - res["acc_b"], atol=1e-12)
    np.testing.assert_allclose(res["share_x"], [1.0, 0.75, 0.0, 1 / 3])
    # Crossing at share_x = 1/3: the two models tie in expectation.
    assert res["diff"].iloc[3] == pytest.approx(0.0, abs=1e-12)


def test_compare_on_mixes_draws_match_binomial_theory():
    a, b, g = pool()
    size, draws = 400, 4000
    res = compare_on_mixes(a, b, g, mixes=[{"x": 0.5, "y": 0.5}], n=size, n_boot=draws, seed=3).iloc[0]
    # Paired difference per row d = a - b; within a group the rows are iid draws from the pool, so
    # Var(diff) = sum_g k_g Var_g(d) / size^2, computed here from the pool directly.
    var = sum(200 * np.var(a[g == k] - b[g == k]) for k in ("x", "y")) / size**2
    half = 1.959964 * np.sqrt(var)
    assert res["diff_high"] - res["diff_low"] == pytest.approx(2 * half, rel=0.08)
    # A's accuracy is a sum of two binomials: 200 draws at 0.9 and 200 at 0.6.
    sd_a = np.sqrt(200 * 0.9 * 0.1 + 200 * 0.6 * 0.4) / size
    assert res["acc_a_high"] - res["acc_a_low"] == pytest.approx(2 * 1.959964 * sd_a, rel=0.08)
    # Expected diff 0.05 over sd ~ 0.021: A ahead in about Phi(0.05 / sd) of draws (ties aside).
    p_ahead = 0.5 * (1 + math.erf(0.05 / np.sqrt(var) / math.sqrt(2)))
    assert res["p_a_better"] + res["p_b_better"] <= 1.0
    assert abs(res["p_a_better"] - p_ahead) < 0.06


def test_compare_on_mixes_dominance_and_seeding():
    a, b = np.ones(50), np.zeros(50)
    g = np.array(["only"] * 50)
    res = compare_on_mixes(a, b, g, mixes=[{"only": 1.0}], n=20, n_boot=100)
    assert res["p_a_better"].iloc[0] == 1.0 and res["p_b_better"].iloc[0] == 0.0
    assert res["diff_low"].iloc[0] == res["diff_high"].iloc[0] == 1.0
    a, b, g = pool()
    one = compare_on_mixes(a, b, g, mixes=[{"x": 0.2, "y": 0.8}], n=50, seed=5)
    pd.testing.assert_frame_equal(one, compare_on_mixes(a, b, g, mixes=[{"x": 0.2, "y": 0.8}], n=50, seed=5))
    assert not one.equals(compare_on_mixes(a, b, g, mixes=[{"x": 0.2, "y": 0.8}], n=50, seed=6))


def test_compare_on_mixes_errors():
    a, b, g = pool(10, 10)
    with pytest.raises(ValueError, match="no rows in the pool"):
        compare_on_mixes(a, b, g, mixes=[{"x": 0.5, "z": 0.5}], n=10)
    with pytest.raises(ValueError, match="sums to"):
        compare_on_mixes(a, b, g, mixes=[{"x": 0.5, "y": 0.4}], n=10)
    with pytest.raises(ValueError, match="0/1"):
        compare_on_mixes(a * 0.5, b, g, mixes=[{"x": 1.0}], n=10)
    with pytest.raises(ValueError, match="Mismatched lengths"):
        compare_on_mixes(a[:-1], b, g, mixes=[{"x": 1.0}], n=10)
    with pytest.raises(ValueError, match="list of mappings"):
        compare_on_mixes(a, b, g, mixes={"x": 1.0}, n=10)
    with pytest.raises(ValueError, match="not a DataFrame"):
        compare_on_mixes(a, b, pd.DataFrame({"g": g}), mixes=[{"x": 1.0}], n=10)
    with pytest.raises(ValueError, match="n must be"):
        compare_on_mixes(a, b, g, mixes=[{"x": 1.0}], n=0)


@FAST
@given(raw=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8).filter(lambda v: sum(v) > 1e-3),
       size=st.integers(1, 500))
def test_allocate_counts_add_up_and_round(raw, size):
    shares = np.array(raw) / sum(raw)
    counts = _allocate(shares, size)
    assert counts.sum() == size
    assert np.all(np.abs(counts - shares * size) < 1.0 + 1e-9)


def test_compare_on_mixes_old_size_name_still_works_for_one_release_with_a_warning():
    a, b, g = [1, 1, 0, 0], [0, 1, 1, 1], ["x", "x", "y", "y"]
    new = compare_on_mixes(a, b, g, mixes=[{"x": 0.5, "y": 0.5}], n=40, n_boot=30, seed=1)
    with pytest.warns(FutureWarning, match="size was renamed n"):
        old = compare_on_mixes(a, b, g, mixes=[{"x": 0.5, "y": 0.5}], size=40, n_boot=30, seed=1)
    pd.testing.assert_frame_equal(old, new)
    assert new["size"].tolist() == [40]  # the output column keeps its name: a column of sizes is "size"
    with pytest.raises(ValueError, match="pass only n=40"):
        compare_on_mixes(a, b, g, mixes=[{"x": 1.0}], n=40, size=40)
    with pytest.raises(ValueError, match="n is required"):
        compare_on_mixes(a, b, g, mixes=[{"x": 1.0}])


def test_compare_on_mixes_old_n_draws_name_still_works_for_one_release_with_a_warning():
    a, b, g = pool()
    new = compare_on_mixes(a, b, g, mixes=[{"x": 0.5, "y": 0.5}], n=100, n_boot=60, seed=2)
    with pytest.warns(FutureWarning, match="n_draws was renamed n_boot"):
        old = compare_on_mixes(a, b, g, mixes=[{"x": 0.5, "y": 0.5}], n=100, n_draws=60, seed=2)
    pd.testing.assert_frame_equal(old, new)  # the same draws under either name
    with pytest.raises(ValueError, match="pass only n_boot"):
        compare_on_mixes(a, b, g, mixes=[{"x": 1.0}], n=10, n_boot=50, n_draws=60)
