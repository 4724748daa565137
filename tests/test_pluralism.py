"""Tests for helpers.pluralism.

Expected values come from independent implementations (scipy's Wasserstein
distance, Kendall's tau and Wilson interval; pandas crosstab; brute-force loops
written here), a published table (Newcombe 1998), or hand computations shown in
the comments.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from helpers.pluralism import (
    RULES,
    aggregate_rankings,
    condorcet_winner,
    coverage_curve,
    coverage_null,
    disagreement_curve,
    group_distributions,
    majority_agreement,
    majority_cycles,
    pairwise_majority,
    ranking_disagreement,
    representativeness,
    representativeness_by_group,
    representativeness_matrix,
    representativeness_null,
)

Z = stats.norm.ppf(0.975)


def scipy_rep(p, q) -> float:
    """Santurkar et al.'s alignment via scipy's (independent) 1-Wasserstein distance."""
    n = len(p)
    pos = np.arange(1, n + 1)
    return 1 - stats.wasserstein_distance(pos, pos, u_weights=p, v_weights=q) / (n - 1)


def survey(seed: int = 1, n: int = 400, n_groups: int = 4, n_opts: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = np.linspace(1, 2, n_groups)
    groups = rng.choice([f"g{i}" for i in range(n_groups)], size=n, p=sizes / sizes.sum())
    # Each group puts 55% on a different option, so groups genuinely differ.
    base = np.array([0.55] + [0.45 / (n_opts - 1)] * (n_opts - 1))
    answers = np.array([rng.choice(n_opts, p=np.roll(base, int(g[1:]) % n_opts)) for g in groups])
    df = pd.DataFrame({"g": groups, "h": rng.choice(["x", "y"], size=n), "x": answers.astype(float),
                       "w": rng.uniform(0.2, 3.0, size=n)})
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    return df


# --------------------------------------------------------------------------- representativeness


def test_representativeness_identical_is_one_and_opposite_extremes_zero():
    rng = np.random.default_rng(0)
    for n in range(2, 9):
        p = rng.dirichlet(np.ones(n))
        assert representativeness(p, p) == pytest.approx(1.0)
        lo, hi = np.eye(n)[0], np.eye(n)[-1]
        # All mass at option 1 vs at option N: W1 = N - 1, its maximum.
        assert representativeness(lo, hi) == pytest.approx(0.0)


def test_representativeness_matches_scipy_wasserstein():
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        p, q = rng.dirichlet(np.ones(n) * 0.7, size=2)
        assert representativeness(p, q) == pytest.approx(scipy_rep(p, q), abs=1e-12)


def test_representativeness_normalises_counts_and_hand_value():
    # Two options, shares (0.5, 0.5) vs (0.8, 0.2): W1 = |0.5 - 0.8| = 0.3, N - 1 = 1 -> 0.7.
    assert representativeness([5, 5], [8, 2]) == pytest.approx(0.7)
    # Three options: CDFs (0.2, 0.5, 1) vs (0.5, 0.5, 1): W1 = 0.3 -> 1 - 0.3 / 2 = 0.85.
    assert representativeness([0.2, 0.3, 0.5], [0.5, 0.0, 0.5]) == pytest.approx(0.85)


# --------------------------------------------------------------------------- group_distributions


def test_group_distributions_counts_match_crosstab_and_shares_sum_to_one():
    df = survey()
    out = group_distributions(df, item="x", group="g")
    expected = pd.crosstab(df["g"], df["x"])  # crosstab drops missing answers
    got = out.pivot(index="g", columns="option", values="count")
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    np.testing.assert_allclose(out.groupby("g")["share"].sum(), 1.0)
    np.testing.assert_array_equal(out.groupby("g")["n_missing"].first(), df["x"].isna().groupby(df["g"]).sum())
    assert (out["low"] <= out["share"]).all() and (out["share"] <= out["high"]).all()


def test_group_distributions_two_group_columns_match_crosstab():
    df = survey(seed=2)
    out = group_distributions(df, item="x", group=["g", "h"])
    expected = pd.crosstab([df["g"], df["h"]], df["x"])
    got = out.pivot_table(index=["g", "h"], columns="option", values="count", observed=True)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def test_group_distributions_options_order_and_zero_shares():
    answers = pd.Categorical(["lo", "hi", "hi"], categories=["lo", "mid", "hi"], ordered=True)
    df = pd.DataFrame({"g": ["a", "a", "b"], "x": answers})
    out = group_distributions(df, item="x", group="g")
    assert list(out["option"][:3]) == ["lo", "mid", "hi"]  # categorical order, not alphabetical
    # Group a: one "lo", one "hi" out of 2; group b: one "hi".
    assert out["share"].tolist() == [0.5, 0.0, 0.5, 0.0, 0.0, 1.0]
    fixed = group_distributions(pd.DataFrame({"g": ["a"], "x": [2]}), item="x", group="g", options=[1, 2, 3])
    assert fixed["share"].tolist() == [0.0, 1.0, 0.0]


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe (1998, Stat. Med. 17:857-872), Table I, method 3 (Wilson score): 81/263 -> 0.2553-0.3662,
    # 15/148 -> 0.0624-0.1605, 0/20 -> 0-0.1611, 1/29 -> 0.0061-0.1718.
    published = {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605),
                 (0, 20): (0.0, 0.1611), (1, 29): (0.0061, 0.1718)}
    for (k, n), (lo, hi) in published.items():
        df = pd.DataFrame({"g": "a", "x": [1] * k + [0] * (n - k)})
        row = group_distributions(df, item="x", group="g", options=[0, 1]).iloc[1]
        assert round(row["low"], 4) == lo and round(row["high"], 4) == hi
        ci = stats.binomtest(k, n).proportion_ci(method="wilson")  # scipy's independent implementation
        assert row["low"] == pytest.approx(ci.low, abs=1e-10) and row["high"] == pytest.approx(ci.high, abs=1e-10)


def test_weighted_distribution_uses_weighted_share_and_kish_n():
    # Weights 1, 1, 2, 4 on answers 0, 1, 1, 0: weighted share of 1 = 3/8; Kish n = 8^2 / (1+1+4+16) = 64/22.
    df = pd.DataFrame({"g": "a", "x": [0, 1, 1, 0], "w": [1.0, 1.0, 2.0, 4.0]})
    row = group_distributions(df, item="x", group="g", weight="w").iloc[1]
    n_eff, p = 64 / 22, 3 / 8
    assert row["count"] == 3 and row["n_unweighted"] == 2
    assert row["share"] == pytest.approx(p) and row["n_eff"] == pytest.approx(n_eff)
    # Wilson's bounds are the roots in p of (phat - p)^2 = z^2 p (1 - p) / n.
    roots = np.sort(np.roots([1 + Z**2 / n_eff, -(2 * p + Z**2 / n_eff), p**2]).real)
    assert (row["low"], row["high"]) == pytest.approx(tuple(roots), abs=1e-10)


def test_weighted_counts_match_groupby_sum():
    df = survey(seed=3)
    out = group_distributions(df, item="x", group="g", weight="w")
    expected = df.dropna(subset=["x"]).groupby(["g", "x"])["w"].sum()
    np.testing.assert_allclose(out["count"], expected.to_numpy())


# --------------------------------------------------------------------------- representativeness_by_group


def test_representativeness_by_group_matches_scipy_for_every_reference():
    df = survey(seed=4)
    answered = df.dropna(subset=["x"])
    table = pd.crosstab(answered["g"], answered["x"])
    pooled = table.sum().to_numpy()
    weighted = answered.groupby("x")["w"].sum().to_numpy()
    explicit = np.array([0.1, 0.2, 0.3, 0.4])
    cases = {
        "pooled": (dict(), pooled),
        "weighted pooled": (dict(weight="w"), weighted),
        "array": (dict(reference=explicit), explicit),
        "series": (dict(reference=pd.Series(explicit[::-1], index=[3.0, 2.0, 1.0, 0.0])), explicit),
        "group": (dict(reference="g2"), table.loc["g2"].to_numpy()),
    }
    for name, (kwargs, ref) in cases.items():
        out = representativeness_by_group(df, item="x", group="g", **kwargs)
        if "weight" in kwargs:
            shares = answered.pivot_table(index="g", columns="x", values="w", aggfunc="sum").to_numpy()
        else:
            shares = table.to_numpy()
        expected = [scipy_rep(s / s.sum(), ref / ref.sum()) for s in shares]
        np.testing.assert_allclose(out["representativeness"], expected, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(out["n"], table.sum(axis=1))


# --------------------------------------------------------------------------- social choice

# Classic 5-voter profile: 3 voters A > B > C, 2 voters B > C > A.
FIVE = pd.DataFrame({"A": [1, 1, 1, 3, 3], "B": [2, 2, 2, 1, 1], "C": [3, 3, 3, 2, 2]})
# Condorcet paradox: A > B > C, B > C > A, C > A > B.
CYCLE = pd.DataFrame({"A": [1, 3, 2], "B": [2, 1, 3], "C": [3, 2, 1]})
# Weighted cycle: 4 voters A > B > C, 3 voters B > C > A, 2 voters C > A > B.
WEIGHTED_CYCLE = CYCLE.copy()
CYCLE_WEIGHTS = [4, 3, 2]


def test_five_voter_profile_plurality_borda_condorcet_kemeny():
    # Plurality: first places A 3, B 2, C 0 -> A.
    plur = aggregate_rankings(FIVE, rule="plurality")
    assert plur.winner == "A" and plur.scores.tolist() == pytest.approx([3 / 5, 2 / 5, 0])
    # Borda (2, 1, 0 points): A = 3*2 + 2*0 = 6, B = 3*1 + 2*2 = 7, C = 3*0 + 2*1 = 2 -> B; mean per voter /5.
    borda = aggregate_rankings(FIVE, rule="borda")
    assert borda.winner == "B" and list(borda.ranking) == ["B", "A", "C"]
    assert borda.scores.tolist() == pytest.approx([6 / 5, 7 / 5, 2 / 5])
    # Head to head: A beats B 3-2 and C 3-2, so A is the Condorcet winner Borda misses.
    assert condorcet_winner(FIVE) == "A"
    # Kemeny: disagreements of A>B>C = #(B>A) + #(C>A) + #(C>B) = 2 + 2 + 0 = 4, the fewest of the 6 orders
    # (B>A>C = 3 + 2 + 0 = 5, B>C>A = 3 + 0 + 3 = 6, ...). Score = 4 / 5 voters.
    kem = aggregate_rankings(FIVE, rule="kemeny")
    assert list(kem.ranking) == ["A", "B", "C"] and kem.scores["A"] == pytest.approx(4 / 5)
    # Mean rank: A = (3*1 + 2*3)/5 = 1.8, B = (3*2 + 2*1)/5 = 1.6, C = 2.6 -> B.
    mean = aggregate_rankings(FIVE, rule="mean")
    assert mean.winner == "B" and mean.scores.tolist() == pytest.approx([1.8, 1.6, 2.6])
    # Rawlsian maximin: worst ranks A 3, B 2, C 3 -> B.
    assert aggregate_rankings(FIVE, rule="maximin").scores.tolist() == [3, 2, 3]
    assert aggregate_rankings(FIVE, rule="simpson_kramer").winner == "A"


def test_condorcet_cycle_has_no_winner_and_kemeny_ties():
    assert condorcet_winner(CYCLE) is None
    # Each pair is won 2-1 (A>B, B>C, C>A); each cyclic order disagrees with 1 + 2 + 1 = 4 pairwise votes,
    # each reverse order with 5, so A, B and C all head an optimal order.
    kem = aggregate_rankings(CYCLE, rule="kemeny")
    assert set(kem.tied_winners) == {"A", "B", "C"}
    assert kem.scores.tolist() == pytest.approx([4 / 3] * 3)
    pm = pairwise_majority(CYCLE)
    assert pm.loc["A", "B"] == pytest.approx(2 / 3) and pm.loc["B", "C"] == pytest.approx(2 / 3)
    assert pm.loc["C", "A"] == pytest.approx(2 / 3) and pm.loc["B", "A"] == pytest.approx(1 / 3)


def test_weighted_cycle_simpson_kramer_and_kemeny():
    # 9 voters: A beats B 6-3 (margin 3/9), B beats C 7-2 (5/9), C beats A 5-4 (1/9): a cycle.
    assert condorcet_winner(WEIGHTED_CYCLE, weights=CYCLE_WEIGHTS) is None
    sk = aggregate_rankings(WEIGHTED_CYCLE, rule="simpson_kramer", weights=CYCLE_WEIGHTS)
    # Largest defeats: A 1/9 (by C), B 3/9 (by A), C 5/9 (by B) -> A.
    assert sk.winner == "A" and sk.scores.tolist() == pytest.approx([1 / 9, 3 / 9, 5 / 9])
    # Kemeny costs: A>B>C 3+5+2 = 10, B>C>A 12, C>A>B 14, B>A>C 13, A>C>B 15, C>B>A 17 -> A>B>C, 10/9.
    kem = aggregate_rankings(WEIGHTED_CYCLE, rule="kemeny", weights=CYCLE_WEIGHTS)
    assert list(kem.ranking) == ["A", "B", "C"]
    assert kem.scores.tolist() == pytest.approx([10 / 9, 12 / 9, 14 / 9])


def test_weighted_plurality_and_rawlsian_maximin_on_scores():
    votes = pd.DataFrame({"A": [1, 2, 2], "B": [2, 1, 1]})
    # Weights 5, 2, 2: A has 5/9 of first places, B 4/9.
    assert aggregate_rankings(votes, rule="plurality", weights=[5, 2, 2]).winner == "A"
    assert aggregate_rankings(votes, rule="plurality").winner == "B"
    # Tied first places split the vote: voter 1 ties A and B first (1/2 each), voter 2 puts A first.
    # A = (1/2 + 1) / 2 = 0.75, B = (1/2) / 2 = 0.25, C = 0.
    tied = pd.DataFrame({"A": [1, 1], "B": [1, 2], "C": [3, 3]})
    assert aggregate_rankings(tied, rule="plurality").scores.tolist() == pytest.approx([0.75, 0.25, 0.0])
    # Utilities of three groups: A = (10, 10, 0), B = (6, 5, 5). Mean: A 20/3 > B 16/3; worst-off: A 0 < B 5.
    util = pd.DataFrame({"A": [10, 10, 0], "B": [6, 5, 5]})
    assert aggregate_rankings(util, rule="mean", higher_is_better=True).winner == "A"
    rawls = aggregate_rankings(util, rule="maximin", higher_is_better=True)
    assert rawls.winner == "B" and rawls.scores.tolist() == [0, 5]
    frame = rawls.to_frame()
    assert frame["candidate"].tolist() == ["B", "A"] and frame["position"].tolist() == [1, 2]


def brute_kemeny(ranks: np.ndarray, weights: np.ndarray) -> tuple[float, set[int]]:
    """Plain loops: weighted Kendall distance of every order to every voter."""
    m = ranks.shape[1]
    best, heads = math.inf, set()
    for perm in itertools.permutations(range(m)):
        cost = 0.0
        for voter, w in zip(ranks, weights, strict=True):
            for i in range(m):
                for j in range(i + 1, m):
                    a, b = perm[i], perm[j]  # the order puts a before b
                    if voter[b] < voter[a]:
                        cost += w
        if cost < best - 1e-12:
            best, heads = cost, {perm[0]}
        elif abs(cost - best) <= 1e-12:
            heads.add(perm[0])
    return best / weights.sum(), heads


def test_kemeny_matches_brute_force_on_random_profiles():
    rng = np.random.default_rng(5)
    for _ in range(6):
        ranks = np.array([rng.permutation(5) + 1 for _ in range(7)])
        weights = rng.integers(1, 4, size=7).astype(float)
        res = aggregate_rankings(pd.DataFrame(ranks, columns=list("abcde")), rule="kemeny", weights=weights)
        best, heads = brute_kemeny(ranks, weights)
        assert res.scores.min() == pytest.approx(best)
        assert set(res.tied_winners) == {"abcde"[h] for h in heads}


def test_borda_matches_hand_loop_on_random_profiles():
    rng = np.random.default_rng(6)
    ranks = np.array([rng.permutation(4) + 1 for _ in range(9)])
    points = np.zeros(4)
    for voter in ranks:
        for c in range(4):
            points[c] += 4 - voter[c]  # rank 1 -> 3 points ... rank 4 -> 0
    res = aggregate_rankings(pd.DataFrame(ranks), rule="borda")
    np.testing.assert_allclose(res.scores, points / 9)


def test_condorcet_winner_matches_pairwise_loop():
    # An even number of voters makes tied head-to-head contests (no winner) common.
    assert condorcet_winner(pd.DataFrame({"A": [1, 2], "B": [2, 1], "C": [3, 3]})) is None
    rng = np.random.default_rng(7)
    for _ in range(40):
        ranks = np.array([rng.permutation(4) for _ in range(4)])
        wins = [all(sum(r[a] < r[b] for r in ranks) > sum(r[b] < r[a] for r in ranks) for b in range(4) if b != a)
                for a in range(4)]
        expected = wins.index(True) if any(wins) else None
        assert condorcet_winner(pd.DataFrame(ranks)) == expected


# --------------------------------------------------------------------------- ranking_disagreement


def test_kendall_tau_self_reverse_and_scipy():
    r = pd.DataFrame([[1, 2, 3, 4], [1, 2, 3, 4], [4, 3, 2, 1]], index=["same", "copy", "rev"])
    res = ranking_disagreement(r)
    assert res.tau.loc["same", "copy"] == pytest.approx(1.0)
    assert res.tau.loc["same", "rev"] == pytest.approx(-1.0)
    # Random rankings with ties vs scipy's tau-b.
    rng = np.random.default_rng(8)
    ranks = rng.integers(1, 5, size=(6, 7))
    tau = ranking_disagreement(pd.DataFrame(ranks)).tau.to_numpy()
    for i, j in itertools.combinations(range(6), 2):
        assert tau[i, j] == pytest.approx(stats.kendalltau(ranks[i], ranks[j]).statistic, abs=1e-12)
    np.testing.assert_allclose(tau, tau.T)
    np.testing.assert_allclose(np.diag(tau), 1.0)


def test_share_contested_by_hand():
    # Groups x, y: A > B > C; group z: A > C > B. Pairs: (A,B) all prefer A; (A,C) all prefer A;
    # (B,C) x and y prefer B, z prefers C -> contested. Share = 1/3.
    r = pd.DataFrame({"A": [1, 1, 1], "B": [2, 2, 3], "C": [3, 3, 2]}, index=list("xyz"))
    res = ranking_disagreement(r)
    assert res.share_contested == pytest.approx(1 / 3)
    assert res.pairs["contested"].tolist() == [False, False, True]
    # tau(x, y) = 1; tau(x, z) = tau(y, z) = (2 concordant - 1 discordant) / 3 = 1/3; mean = (1 + 2/3) / 3.
    assert res.mean_tau == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)
    assert len(res.to_frame()) == 3


# --------------------------------------------------------------------------- coverage_curve


def brute_coverage(df: pd.DataFrame, order: list, threshold: float, reference=None) -> pd.DataFrame:
    """Loop over k, re-pool with pandas, score with scipy."""
    rows = []
    for k in range(1, len(order) + 1):
        sub = df[df["g"].isin(order[:k])].dropna(subset=["x"])
        table = pd.crosstab(sub["g"], sub["x"]).reindex(columns=[0.0, 1.0, 2.0, 3.0], fill_value=0)
        ref = table.sum().to_numpy() if reference is None else reference
        reps = [scipy_rep(row / row.sum(), ref / ref.sum()) for row in table.to_numpy()]
        rows.append((k, np.mean(np.array(reps) >= threshold), min(reps), np.mean(reps)))
    return pd.DataFrame(rows, columns=["k", "share", "min_rep", "mean_rep"])


def test_coverage_curve_matches_brute_force_loop():
    df = survey(seed=9, n=600, n_groups=5)
    sizes = df.dropna(subset=["x"])["g"].value_counts()
    for order in (["g3", "g0", "g4", "g1", "g2"], ["g4", "g1"], "size"):
        got = coverage_curve(df, item="x", group="g", threshold=0.85, order=order)
        names = list(sizes.index) if order == "size" else order
        expected = brute_coverage(df, names, 0.85)
        np.testing.assert_allclose(got["share_represented"], expected["share"])
        np.testing.assert_allclose(got["low"], expected["share"])
        np.testing.assert_allclose(got["min_rep"], expected["min_rep"], atol=1e-12)
        np.testing.assert_allclose(got["mean_rep"], expected["mean_rep"], atol=1e-12)
        assert got["added"].tolist() == names


def test_coverage_curve_fixed_reference_matches_brute_force():
    df = survey(seed=10, n=500, n_groups=4)
    ref = np.array([0.4, 0.3, 0.2, 0.1])
    got = coverage_curve(df, item="x", group="g", threshold=0.8, order=["g1", "g0", "g3", "g2"], reference=ref)
    expected = brute_coverage(df, ["g1", "g0", "g3", "g2"], 0.8, reference=ref)
    np.testing.assert_allclose(got["share_represented"], expected["share"])
    np.testing.assert_allclose(got["mean_rep"], expected["mean_rep"], atol=1e-12)


def test_coverage_curve_identical_groups_stay_represented():
    # Every group has the same answer mix (sizes differ), so every pooled mix equals each group's.
    base = [0, 1, 1, 2, 2, 2, 3]
    df = pd.DataFrame({"g": np.repeat([f"g{i}" for i in range(6)], [len(base) * m for m in (1, 2, 3, 1, 5, 2)]),
                       "x": np.concatenate([np.tile(base, m) for m in (1, 2, 3, 1, 5, 2)])})
    for order in ("size", "random"):
        got = coverage_curve(df, item="x", group="g", threshold=1.0, order=order, n_perm=20)
        assert (got["share_represented"] == 1).all() and (got["low"] == 1).all()
        np.testing.assert_allclose(got["min_rep"], 1.0)


def test_coverage_curve_random_mean_converges_to_all_permutations():
    df = survey(seed=11, n=400, n_groups=4)
    labels = ["g0", "g1", "g2", "g3"]
    # Exact expectation over a uniformly random order: average the brute-force curve over all 24 orders.
    exact = np.mean([brute_coverage(df, list(p), 0.85)["share"] for p in itertools.permutations(labels)], axis=0)
    got = coverage_curve(df, item="x", group="g", threshold=0.85, order="random", n_perm=4000, seed=3)
    # Each share lies in [0, 1], so its SD is <= 0.5 and the mean of 4000 orders has SE <= 0.008;
    # 0.04 is 5 SE, a false failure has probability < 1e-6.
    np.testing.assert_allclose(got["share_represented"], exact, atol=0.04)
    # With all groups in, the order no longer matters: the band collapses.
    assert got["low"].iloc[-1] == got["high"].iloc[-1] == pytest.approx(exact[-1])
    again = coverage_curve(df, item="x", group="g", threshold=0.85, order="random", n_perm=4000, seed=3)
    pd.testing.assert_frame_equal(got, again)


# --------------------------------------------------------------------------- representativeness_matrix


def test_representativeness_matrix_matches_scipy_loop():
    df = survey(seed=14, n=500)
    answered = df.dropna(subset=["x"])
    rows = pd.crosstab(answered["g"], answered["x"])
    cols = pd.crosstab(answered["h"], answered["x"])
    got = representativeness_matrix(df, item="x", group="g", candidates="h")
    assert list(got.columns) == ["pooled", "x", "y"] and list(got.index) == list(rows.index)
    pooled = rows.sum().to_numpy()
    for g, row in rows.iterrows():
        r = row.to_numpy()
        assert got.loc[g, "pooled"] == pytest.approx(scipy_rep(r / r.sum(), pooled / pooled.sum()), abs=1e-12)
        for h, col in cols.iterrows():
            c = col.to_numpy()
            assert got.loc[g, h] == pytest.approx(scipy_rep(r / r.sum(), c / c.sum()), abs=1e-12)


def test_representativeness_matrix_mapping_and_hand_value():
    # Group a answers option 0 only; candidate "flat" is uniform over 3 options.
    # CDFs (1, 1, 1) vs (1/3, 2/3, 1): W1 = 2/3 + 1/3 = 1, N - 1 = 2 -> 0.5.
    df = pd.DataFrame({"g": ["a", "b", "b"], "x": [0, 1, 2]})
    got = representativeness_matrix(df, item="x", group="g", pooled=False,
                                    candidates={"flat": [1, 1, 1], "b": "b", "top": pd.Series([1.0], index=[2])
                                                .reindex([2, 1, 0], fill_value=0.0)})
    assert got.loc["a", "flat"] == pytest.approx(0.5)
    # a vs group b's mix (0, 1/2, 1/2): CDFs (1, 1, 1) vs (0, 1/2, 1): W1 = 1.5 -> 0.25.
    assert got.loc["a", "b"] == pytest.approx(0.25)
    # a vs all mass on option 2 (Series indexed in reverse order): opposite extremes -> 0.
    assert got.loc["a", "top"] == pytest.approx(0.0) and got.loc["b", "b"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- permutation nulls


def test_representativeness_null_pvalues_are_uniform_under_the_null():
    # 400 groups of 50 answers, all drawn from one distribution: no real differences.
    rng = np.random.default_rng(15)
    df = pd.DataFrame({"g": np.repeat(np.arange(400), 50), "x": rng.choice(4, size=20_000, p=[0.1, 0.2, 0.3, 0.4])})
    out = representativeness_null(df, item="x", group="g", n_perm=199, seed=1)
    # A permutation p-value is valid: P(p <= 0.1) is 0.1 up to the 1/200 grid. Over 400 (nearly independent)
    # groups the rate has SE sqrt(0.09 / 400) = 0.015; 0.05 is more than 3 SE.
    assert abs((out["p_value"] <= 0.1).mean() - 0.1) < 0.05
    assert (out["null_low"] <= out["null_mean"]).all()


def test_representativeness_null_mean_matches_normal_approximation():
    # 100 groups of 400 from a pool of 40,000. For a group of n, E|F_hat - F| ~ sqrt(2/pi) sqrt(F(1-F)/n) at each
    # cumulative share F (normal approximation to the binomial; the finite-population factor 0.99 is ignored),
    # so E[1 - rep] ~ sum_k sqrt(2/pi) sqrt(F_k (1 - F_k) / n) / (N - 1), summed over the N - 1 inner CDF points.
    p = np.array([0.1, 0.2, 0.3, 0.4])
    group_answers = np.repeat(np.arange(4), (p * 400).astype(int))  # exactly the pooled mix in every group
    df = pd.DataFrame({"g": np.repeat(np.arange(100), 400), "x": np.tile(group_answers, 100)})
    out = representativeness_null(df, item="x", group="g", n_perm=50, seed=2)
    cdf = np.cumsum(p)[:-1]
    expected_gap = np.sum(np.sqrt(2 / np.pi) * np.sqrt(cdf * (1 - cdf) / 400)) / 3
    # Averaged over 100 groups x 50 shuffles the Monte Carlo error is < 1%; 5% covers the approximation.
    assert 1 - out["null_mean"].mean() == pytest.approx(expected_gap, rel=0.05)
    np.testing.assert_allclose(out["representativeness"], 1.0)  # every group is exactly the pooled mix
    assert (out["p_value"] == 1.0).all()


def test_representativeness_null_flags_groups_that_really_differ():
    df = survey(seed=16, n=1200)  # each group puts 55% on its own option
    out = representativeness_null(df, item="x", group="g", n_perm=99)
    assert (out["p_value"] == 0.01).all()  # observed below every shuffle: 1 / (1 + 99)
    assert (out["representativeness"] < out["null_low"]).all()


def test_coverage_null_share_matches_multinomial_monte_carlo():
    # 50 groups of 100 drawn from one distribution; the noise-only share represented at k = 50 is the chance that a
    # group of 100 scores >= t against the pooled mix. Estimate that chance independently with multinomial draws
    # and scipy's Wasserstein distance (sampling with replacement; the pool of 5,000 makes the difference ~1%).
    p = np.array([0.25, 0.25, 0.25, 0.25])
    df = pd.DataFrame({"g": np.repeat(np.arange(50), 100), "x": np.tile(np.repeat(np.arange(4), 25), 50)})
    t = 0.96
    got = coverage_null(df, item="x", group="g", threshold=t, n_perm=200, seed=3)
    draws = np.random.default_rng(4).multinomial(100, p, size=4000)
    chance = np.mean([scipy_rep(d / 100, p) >= t for d in draws])
    # SE of the shuffle mean: SD of a share over 50 groups <= 0.5/sqrt(50) = 0.07, over 200 shuffles 0.005;
    # of the Monte Carlo chance 0.008. 0.04 allows the with/without-replacement difference as well.
    assert got["share_represented"].iloc[-1] == pytest.approx(chance, abs=0.04)
    assert got["share_represented"].iloc[0] == 1.0  # one group always matches its own pooled mix
    assert (got["low"] <= got["share_represented"]).all() and (got["share_represented"] <= got["high"]).all()


def test_coverage_null_stays_high_where_real_groups_differ():
    df = survey(seed=17, n=2000, n_groups=4)
    real = coverage_curve(df, item="x", group="g", threshold=0.9)
    null = coverage_null(df, item="x", group="g", threshold=0.9, n_perm=30)
    # Groups of ~450 answers from the pooled mix score ~0.98 (normal approximation above), so every shuffle
    # clears 0.9 ...
    assert (null["share_represented"] == 1.0).all()
    # ... while no real group does. Against a roughly uniform pooled mix (CDF 0.25, 0.5, 0.75), a group with 55% on
    # an end option has CDF (0.55, 0.7, 0.85): W1 = 0.6, score 0.8; with 55% on an inner option, CDF (0.15, 0.7,
    # 0.85): W1 = 0.4, score 0.87. Both are below 0.9.
    assert real["share_represented"].iloc[-1] == 0.0
    again = coverage_null(df, item="x", group="g", threshold=0.9, n_perm=30, order="random", seed=5)
    assert again.equals(coverage_null(df, item="x", group="g", threshold=0.9, n_perm=30, order="random", seed=5))


# --------------------------------------------------------------------------- cycles and disagreement curves


def brute_cycles(ranks: np.ndarray) -> set[tuple[int, int, int]]:
    """Loops: every ordered triple (a, b, c) with a > b > c > a by strict majority, as a rotation-free key."""
    m = ranks.shape[1]

    def beats(a, b):
        return sum(r[a] < r[b] for r in ranks) > sum(r[b] < r[a] for r in ranks)

    found = set()
    for a, b, c in itertools.permutations(range(m), 3):
        if beats(a, b) and beats(b, c) and beats(c, a):
            k = [a, b, c].index(min(a, b, c))
            found.add(tuple([a, b, c][k:] + [a, b, c][:k]))
    return found


def test_majority_cycles_match_brute_force_and_imply_no_condorcet_winner():
    rng = np.random.default_rng(18)
    n_with_cycles = 0
    for _ in range(60):
        ranks = np.array([rng.permutation(5) for _ in range(7)])  # 7 voters: no tied contests
        got = majority_cycles(pd.DataFrame(ranks))
        assert set(map(tuple, got[["first", "second", "third"]].to_numpy())) == brute_cycles(ranks)
        n_with_cycles += len(got) > 0
        # Without ties the majority relation is a tournament; one without a 3-cycle is transitive, so it has a
        # Condorcet winner.
        if got.empty:
            assert condorcet_winner(pd.DataFrame(ranks)) is not None
    assert n_with_cycles > 0  # the check above is not vacuous
    # Condorcet paradox: every contest is won 2-1, so each share is 2/3 and each margin 1/3.
    cyc = majority_cycles(CYCLE)
    np.testing.assert_allclose(cyc[["share_12", "share_23", "share_31"]].to_numpy(), [[2 / 3] * 3])
    assert cyc["smallest_margin"].iloc[0] == pytest.approx(1 / 3)
    # Weighted cycle (4, 3, 2 voters): A beats B 6-3, B beats C 7-2, C beats A 5-4 -> narrowest margin 1/9.
    assert majority_cycles(WEIGHTED_CYCLE, weights=CYCLE_WEIGHTS)["smallest_margin"].iloc[0] == pytest.approx(1 / 9)
    assert majority_cycles(FIVE).empty and list(majority_cycles(FIVE).columns)[:3] == ["first", "second", "third"]


def test_disagreement_curve_matches_ranking_disagreement_on_prefixes():
    rng = np.random.default_rng(19)
    r = pd.DataFrame(rng.integers(1, 5, size=(7, 5)), index=[f"g{i}" for i in range(7)], columns=list("ABCDE"))
    for order in ("given", ["g3", "g0", "g6", "g1"]):
        got = disagreement_curve(r, order=order)
        names = list(r.index) if order == "given" else order
        for k, row in zip(range(2, len(names) + 1), got.itertuples(), strict=True):
            ref = ranking_disagreement(r.loc[names[:k]])
            assert row.k == k and row.added == names[k - 1]
            assert row.share_contested == pytest.approx(ref.share_contested)
            assert row.mean_tau == pytest.approx(ref.mean_tau, abs=1e-12)
        # A pair once contested stays contested.
        assert (np.diff(got["share_contested"]) >= 0).all()


def test_disagreement_curve_random_mean_matches_all_orders():
    rng = np.random.default_rng(20)
    r = pd.DataFrame(rng.integers(1, 4, size=(4, 4)) + np.arange(4) * 0.1, index=list("wxyz"))
    exact = np.mean([[ranking_disagreement(r.loc[list(p[:k])]).share_contested for k in range(2, 5)]
                     for p in itertools.permutations(r.index)], axis=0)
    got = disagreement_curve(r, order="random", n_perm=3000, seed=1)
    # Shares lie in [0, 1] (SD <= 0.5): the mean of 3000 orders has SE <= 0.01; 0.04 is 4 SE.
    np.testing.assert_allclose(got["share_contested"], exact, atol=0.04)
    assert got["low"].iloc[-1] == got["high"].iloc[-1] == pytest.approx(exact[-1])
    assert got["added"].isna().all()


# --------------------------------------------------------------------------- bad inputs

finite = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=2, max_size=8), st.data(), st.sampled_from([np.nan, np.inf, -1.0, -0.01]))
def test_bad_shares_raise(values, data, bad):
    values = [v + 1 for v in values]  # positive total
    i = data.draw(st.integers(0, len(values) - 1))
    broken = list(values)
    broken[i] = bad
    with pytest.raises(ValueError):
        representativeness(broken, values)
    with pytest.raises(ValueError):
        representativeness(values, broken)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.integers(2, 8))
def test_mismatched_lengths_raise(n, m):
    if n != m:
        with pytest.raises(ValueError, match="Mismatched"):
            representativeness(np.ones(n), np.ones(m))


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_unknown_rule_raises(rule):
    if rule not in RULES:
        with pytest.raises(ValueError, match="Unknown rule"):
            aggregate_rankings(FIVE, rule=rule)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_unknown_column_raises(name):
    df = survey(seed=12, n=50)
    if name not in df.columns:
        for kwargs in (dict(item=name, group="g"), dict(item="x", group=name), dict(item="x", group="g", weight=name)):
            with pytest.raises(ValueError, match="Unknown column"):
                group_distributions(df, **kwargs)


def test_other_bad_inputs_raise():
    df = survey(seed=13, n=80)
    with pytest.raises(ValueError):
        representativeness([0, 0], [1, 1])  # zero total
    with pytest.raises(ValueError):
        representativeness([1], [1])  # one option: no distance to normalise
    empty = df.copy()
    empty.loc[empty["g"] == "g0", "x"] = np.nan
    with pytest.raises(ValueError, match="no .*answers"):
        group_distributions(empty, item="x", group="g")
    with pytest.raises(ValueError):
        group_distributions(df.iloc[:0], item="x", group="g")
    with pytest.raises(ValueError, match="not among options"):
        group_distributions(df, item="x", group="g", options=[0.0, 1.0])
    with pytest.raises(ValueError, match="duplicates"):
        group_distributions(df, item="x", group="g", options=[0.0, 1.0, 1.0, 2.0, 3.0])
    negative = df.assign(w=-df["w"])
    with pytest.raises(ValueError, match="negative"):
        group_distributions(negative, item="x", group="g", weight="w")
    with pytest.raises(ValueError, match="Unknown reference"):
        representativeness_by_group(df, item="x", group="g", reference="nowhere")
    with pytest.raises(ValueError, match="Mismatched"):
        representativeness_by_group(df, item="x", group="g", reference=[0.5, 0.5])
    with pytest.raises(ValueError):
        coverage_curve(df, item="x", group="g", threshold=1.5)
    with pytest.raises(ValueError, match="Unknown order"):
        coverage_curve(df, item="x", group="g", threshold=0.9, order="biggest")
    with pytest.raises(ValueError, match="unknown group"):
        coverage_curve(df, item="x", group="g", threshold=0.9, order=["g0", "g9"])
    with pytest.raises(ValueError):
        coverage_curve(df, item="x", group="g", threshold=0.9, order="random", n_perm=0)
    with pytest.raises(ValueError, match="non-finite"):
        aggregate_rankings(FIVE.astype(float).mask(FIVE == 3), rule="borda")
    with pytest.raises(ValueError):
        aggregate_rankings(FIVE[["A"]], rule="borda")
    with pytest.raises(ValueError):
        aggregate_rankings(FIVE, rule="borda", weights=[1, 1, -1, 1, 1])
    with pytest.raises(ValueError, match="Mismatched"):
        aggregate_rankings(FIVE, rule="borda", weights=[1, 1])
    with pytest.raises(ValueError, match="at most 8"):
        aggregate_rankings(pd.DataFrame([list(range(9))]), rule="kemeny")
    with pytest.raises(ValueError, match="rank every candidate equal"):
        ranking_disagreement(pd.DataFrame({"A": [1, 1], "B": [2, 1]}))
    with pytest.raises(ValueError, match="pooled"):
        representativeness_matrix(df.assign(c="pooled"), item="x", group="g", candidates="c")
    with pytest.raises(ValueError):
        representativeness_matrix(df, item="x", group="g", candidates={}, pooled=False)
    with pytest.raises(ValueError, match="Unknown reference"):
        representativeness_matrix(df, item="x", group="g", candidates={"m": "nowhere"})
    with pytest.raises(ValueError, match="quantile"):
        representativeness_null(df, item="x", group="g", quantile=0.9)
    with pytest.raises(ValueError):
        representativeness_null(df, item="x", group="g", n_perm=0)
    with pytest.raises(ValueError):
        coverage_null(df, item="x", group="g", threshold=-0.1)
    with pytest.raises(ValueError, match="Unknown order"):
        disagreement_curve(FIVE, order="size")
    with pytest.raises(ValueError, match="unknown or repeated"):
        disagreement_curve(FIVE, order=[0, 0, 1])
    with pytest.raises(ValueError, match="at least 2"):
        disagreement_curve(FIVE, order=[3])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 4), st.integers(0, 2), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_non_finite_preferences_raise(row, col, bad):
    broken = FIVE.astype(float)
    broken.iloc[row, col] = bad
    for fn in (majority_cycles, disagreement_curve):
        with pytest.raises(ValueError, match="non-finite"):
            fn(broken)


# ---------------------------------------------------------------------------
# majority_agreement: a second construct of "a good answer"
# ---------------------------------------------------------------------------


def test_majority_agreement_hand_counts_and_ties():
    # Group a answers 1,1,2 (majority 1); b answers 2,2,3,3 (tied 2 and 3); c answers 3 only.
    # Pooled: 1 x2, 2 x3, 3 x3 -> tied, so pass a reference that puts its peak on 3.
    df = pd.DataFrame({"g": list("aaabbbbc"), "x": [1, 1, 2, 2, 2, 3, 3, 3]})
    out = majority_agreement(df, item="x", group="g", reference=[0.2, 0.3, 0.5]).set_index("g")
    assert out["answer"].tolist() == [3, 3, 3]
    assert out["group_answer"].tolist() == [1, 2, 3]  # a tie reports the first option in order
    assert out["agrees"].tolist() == [False, True, True]  # b's tie includes 3, so 3 is a majority answer of b
    assert out["share_agreeing"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert out["n"].tolist() == [3, 4, 1]


def test_majority_agreement_tied_reference_is_rejected():
    df = pd.DataFrame({"g": list("aabb"), "x": [0, 1, 0, 1]})
    with pytest.raises(ValueError, match="no single answer"):
        majority_agreement(df, item="x", group="g")


def test_majority_agreement_differs_from_representativeness():
    # A community split 0.45 / 0.55 and a reference 0.55 / 0.45: representativeness is 0.9
    # (W1 = 0.1 on a two-option scale), yet the single answer misses the community's majority.
    df = pd.DataFrame({"g": ["a"] * 20, "x": [0] * 9 + [1] * 11})
    ref = [0.55, 0.45]
    rep = representativeness_by_group(df, item="x", group="g", reference=ref)["representativeness"].iloc[0]
    agree = majority_agreement(df, item="x", group="g", reference=ref)
    assert rep == pytest.approx(0.9)
    assert not agree["agrees"].iloc[0]
    assert agree["share_agreeing"].iloc[0] == pytest.approx(0.45)


def test_majority_agreement_group_label_reference_and_bad_item():
    df = pd.DataFrame({"g": list("aab"), "x": [1, 1, 2]})
    out = majority_agreement(df, item="x", group="g", reference="b")
    assert out["agrees"].tolist() == [False, True]
    with pytest.raises(ValueError, match="Unknown column"):
        majority_agreement(df, item="y", group="g")
