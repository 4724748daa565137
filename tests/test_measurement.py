"""Tests for helpers.measurement.

Expected values come from hand computations shown here, published numbers
(Krippendorff 2011), analytic identities, simulations with a known truth, or an
independent brute-force implementation (plain loops, numpy.corrcoef, scipy).
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from helpers import measurement as m

# --------------------------------------------------------------------------- helpers for the tests


def plain_variance(values):
    """Sample variance (n - 1) in exact fractions, written out in plain Python."""
    values = [Fraction(v) for v in values]
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def plain_alpha(rows):
    """Cronbach's alpha k/(k-1) (1 - sum var_i / var_total) in plain Python."""
    k = len(rows[0])
    item_vars = [plain_variance([r[j] for r in rows]) for j in range(k)]
    total_var = plain_variance([sum(r) for r in rows])
    return Fraction(k, k - 1) * (1 - sum(item_vars) / total_var)


def tables_to_frame(tables):
    """Respondent-level data from hand-made 2x2 tables {stratum: (A, B, C, D)}.

    A = reference & 1, B = reference & 0, C = focal & 1, D = focal & 0.
    """
    rows = []
    for stratum, (a, b, c, d) in tables.items():
        for grp, y, count in (("ref", 1, a), ("ref", 0, b), ("foc", 1, c), ("foc", 0, d)):
            rows += [{"score": stratum, "grp": grp, "y": y}] * count
    return pd.DataFrame(rows)


def rasch_data(rng, n_per_group, difficulties, *, dif_item=None, dif=0.0, impact=0.5):
    """Rasch responses for a reference (R) and a focal (F) group.

    The focal group's ability is lower by ``impact`` (a true group difference, not
    DIF); the item ``dif_item`` is ``dif`` logits harder for the focal group, so its
    true reference/focal odds ratio at every ability is exp(dif).
    """
    focal = np.repeat([False, True], n_per_group)
    theta = rng.normal(size=focal.size) - impact * focal
    b = np.tile(np.asarray(difficulties, float), (focal.size, 1))
    if dif_item is not None:
        b[focal, dif_item] += dif
    y = (rng.random(b.shape) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
    df = pd.DataFrame(y, columns=[f"i{j}" for j in range(len(difficulties))])
    df["grp"] = np.where(focal, "F", "R")
    return df


# --------------------------------------------------------------------------- Cronbach's alpha


def test_cronbach_alpha_matches_a_hand_computation():
    rows = [[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5]]
    # Item variances 5/3, 4/3, 19/12; totals 5, 7, 10, 13 have variance 49/4.
    item_vars = [plain_variance([r[j] for r in rows]) for j in range(3)]
    assert item_vars == [Fraction(5, 3), Fraction(4, 3), Fraction(19, 12)]
    assert plain_variance([sum(r) for r in rows]) == Fraction(49, 4)
    expected = Fraction(3, 2) * (1 - (Fraction(5, 3) + Fraction(4, 3) + Fraction(19, 12)) / Fraction(49, 4))
    assert expected == plain_alpha(rows)
    res = m.cronbach_alpha(np.array(rows))
    assert res.alpha == pytest.approx(float(expected), abs=1e-12)
    assert (res.n_items, res.n_respondents, res.n_dropped, res.ci) == (3, 4, 0, {})


def test_perfectly_parallel_items_give_alpha_one():
    true_score = np.random.default_rng(3).normal(size=50)
    # Equal true scores, zero error, constant offsets: the items are parallel, so alpha = 1 exactly.
    items = np.column_stack([true_score, true_score + 1, true_score - 2, true_score])
    assert m.cronbach_alpha(items).alpha == pytest.approx(1.0, abs=1e-12)


def test_alpha_of_equicorrelated_standardized_items_follows_spearman_brown():
    k, r, n = 6, 0.3, 100_000
    cov = np.full((k, k), r) + (1 - r) * np.eye(k)
    x = np.random.default_rng(11).standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    expected = k * r / (1 + (k - 1) * r)  # = 0.72 for unit-variance items with common correlation r
    # Sampling SD of alpha here is ~0.0015 (a 300-replicate simulation at n = 20,000 gave 0.0034,
    # and the SD shrinks as 1/sqrt(n)); 0.008 is more than 5 SDs.
    assert m.cronbach_alpha(x).alpha == pytest.approx(expected, abs=0.008)


def test_missing_rows_are_dropped_and_counted_or_refused():
    rows = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [np.nan, 1, 1], [2, np.nan, np.nan]])
    res = m.cronbach_alpha(rows)
    assert (res.n_respondents, res.n_dropped) == (4, 2)
    assert res.alpha == pytest.approx(float(plain_alpha(rows[:4].tolist())), abs=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        m.cronbach_alpha(rows, missing="raise")
    with pytest.raises(ValueError, match="missing policy"):
        m.cronbach_alpha(rows, missing="impute")
    with pytest.raises(ValueError, match="Every row"):
        m.cronbach_alpha(np.array([[1, np.nan], [np.nan, 2], [3, np.nan]]))


def test_vectorised_bootstrap_equals_a_loop_over_resamples():
    x = np.random.default_rng(5).integers(1, 7, size=(120, 4)).astype(float)
    x[:, 1] += x[:, 0]  # some correlation so alpha is not near 0
    n_boot, seed = 300, 9
    res = m.cronbach_alpha(x, n_boot=n_boot, seed=seed)
    # Same resampling scheme written as a loop: rows drawn with replacement from default_rng(seed).
    idx = np.random.default_rng(seed).integers(0, len(x), size=(n_boot, len(x)))
    loop = [float(plain_alpha_np(x[i])) for i in idx]
    assert res.ci["alpha"] == pytest.approx(tuple(np.quantile(loop, [0.025, 0.975])), abs=1e-10)
    assert res.ci["alpha"][0] < res.alpha < res.ci["alpha"][1]
    assert m.cronbach_alpha(x, n_boot=n_boot, seed=seed).ci == res.ci  # same seed, same numbers


def plain_alpha_np(x):
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_bootstrap_interval_covers_the_true_alpha_at_about_the_nominal_rate():
    k, r, n, reps = 5, 0.4, 300, 200
    truth = k * r / (1 + (k - 1) * r)
    cov = np.full((k, k), r) + (1 - r) * np.eye(k)
    chol = np.linalg.cholesky(cov)
    rng = np.random.default_rng(21)
    hits = 0
    for rep in range(reps):
        ci = m.cronbach_alpha(rng.standard_normal((n, k)) @ chol.T, n_boot=300, seed=rep).ci["alpha"]
        hits += ci[0] <= truth <= ci[1]
    # Binomial SD of the rate at 0.95 over 200 replicates is 0.015; percentile intervals for a skewed
    # statistic may undercover slightly, so accept 0.88-0.99 (about -4.5 / +2.5 SDs).
    assert 0.88 <= hits / reps <= 0.99


def test_bootstrap_of_2800_by_5_with_1000_resamples_is_fast():
    x = np.random.default_rng(0).integers(1, 7, size=(2800, 5)).astype(float)
    # Best of three: one call in a full run of the suite once took over 1 s where the computation takes about
    # 0.05 s alone (a busy or memory-starved moment of the machine), which says nothing about the code.
    times = []
    for _ in range(3):
        start = time.perf_counter()
        m.cronbach_alpha(x, n_boot=1000)
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0, times


def test_reliability_result_to_frame():
    frame = m.cronbach_alpha(np.array([[1, 2], [2, 3], [3, 3], [4, 5]]), n_boot=50).to_frame()
    assert len(frame) == 1 and {"alpha", "ci_low", "ci_high", "n_dropped"} <= set(frame.columns)


# --------------------------------------------------------------------------- item-total correlations


def test_item_total_correlations_match_a_brute_force_loop():
    rng = np.random.default_rng(2)
    common = rng.normal(size=(400, 1))
    x = common + rng.normal(size=(400, 5)) * np.array([0.5, 1, 1.5, 2, 3])
    df = pd.DataFrame(x, columns=list("abcde"))
    out = m.item_total_correlations(df)
    for j, name in enumerate("abcde"):
        rest = np.delete(x, j, axis=1)
        r = np.corrcoef(x[:, j], rest.sum(axis=1))[0, 1]
        row = out.loc[out["item"] == name].iloc[0]
        assert row["item_total_r"] == pytest.approx(r, abs=1e-12)
        assert row["alpha_if_deleted"] == pytest.approx(plain_alpha_np(rest), abs=1e-12)
    assert list(out.columns) == ["item", "item_total_r", "alpha_if_deleted"]


def test_item_total_correlations_need_three_items():
    with pytest.raises(ValueError, match="at least 3"):
        m.item_total_correlations(np.array([[1, 2], [2, 3], [3, 5]]))


# --------------------------------------------------------------------------- Mantel-Haenszel DIF


def test_common_odds_ratio_two_by_construction():
    # Every stratum has A*D = 2*B*C, so each table's odds ratio is 2 and so is alpha_MH.
    tables = {0: (20, 10, 10, 10), 1: (10, 20, 5, 20), 2: (40, 10, 20, 10)}
    for a, b, c, d in tables.values():
        assert Fraction(a * d, b * c) == 2
    res = m.mantel_haenszel_dif(tables_to_frame(tables), item="y", group="grp", focal="foc", matching="score")
    assert res.alpha_mh == pytest.approx(2.0, abs=1e-12)
    assert res.delta_mh == pytest.approx(-2.35 * math.log(2), abs=1e-12)
    assert (res.n_strata, res.n_reference, res.n_focal) == (3, 30 + 30 + 50, 20 + 25 + 30)


def test_a_stratum_with_an_empty_group_contributes_nothing():
    tables = {0: (20, 10, 10, 10), 1: (10, 20, 5, 20)}
    base = m.mantel_haenszel_dif(tables_to_frame(tables), item="y", group="grp", focal="foc", matching="score")
    tables[7] = (30, 4, 0, 0)  # nobody from the focal group scored 7
    more = m.mantel_haenszel_dif(tables_to_frame(tables), item="y", group="grp", focal="foc", matching="score")
    for field in ("alpha_mh", "delta_se", "chi2", "p_value"):
        assert getattr(more, field) == pytest.approx(getattr(base, field), abs=1e-12)
    assert more.n_strata == base.n_strata == 2
    assert more.n_reference == base.n_reference + 34


def test_mh_chi_square_matches_a_hand_computation_on_two_strata():
    # Stratum 1: A=15, B=5, C=10, D=10 (N=40); stratum 2: A=8, B=12, C=4, D=16 (N=40).
    tables = {1: (15, 5, 10, 10), 2: (8, 12, 4, 16)}
    # E(A) = n_ref * m1 / N:           s1: 20*25/40 = 12.5;   s2: 20*12/40 = 6
    # Var(A) = n_ref n_foc m1 m0 / (N^2 (N-1)):
    #                                  s1: 20*20*25*15/(1600*39) = 150000/62400
    #                                  s2: 20*20*12*28/(1600*39) = 134400/62400
    sum_a, sum_e = 15 + 8, 12.5 + 6
    sum_var = 150000 / 62400 + 134400 / 62400
    chi2 = (abs(sum_a - sum_e) - 0.5) ** 2 / sum_var  # 16 / 4.5577 = 3.5105
    # alpha_MH = (15*10/40 + 8*16/40) / (5*10/40 + 12*4/40) = (150 + 128) / (50 + 48)
    alpha = (150 + 128) / (50 + 48)
    res = m.mantel_haenszel_dif(tables_to_frame(tables), item="y", group="grp", focal="foc", matching="score")
    assert res.chi2 == pytest.approx(chi2, rel=1e-12)
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(chi2 / 2)), rel=1e-9)  # chi2(1) tail via erfc
    assert res.alpha_mh == pytest.approx(alpha, rel=1e-12)


def test_single_stratum_standard_error_is_woolfs():
    # With one stratum the Robins-Breslow-Greenland variance reduces to Woolf's 1/A + 1/B + 1/C + 1/D.
    a, b, c, d = 30, 12, 17, 25
    res = m.mantel_haenszel_dif(tables_to_frame({0: (a, b, c, d)}), item="y", group="grp", focal="foc",
                                matching="score")
    assert res.alpha_mh == pytest.approx(a * d / (b * c), rel=1e-12)
    assert res.delta_se == pytest.approx(2.35 * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel=1e-12)


@pytest.mark.parametrize(
    "m_count,expected",
    [
        # Tables A=2m, B=C=D=m: OR = 2, delta = -1.629, SE(delta) = 2.35 sqrt(3.5 / m) (Woolf).
        (5, "A"),    # E(A) = 15*15/25 = 9, Var(A) = 15*10*15*10/(25^2*24) = 1.5: chi2 = 0.5^2/1.5 = 0.17
        (80, "B"),   # significant, but (1.629 - 1) / 0.491 = 1.28 < 1.645: not significantly above 1
        (400, "C"),  # (1.629 - 1) / 0.220 = 2.86 > 1.645 and |delta| >= 1.5
    ],
)
def test_ets_classes_follow_the_documented_rule(m_count, expected):
    tables = {0: (2 * m_count, m_count, m_count, m_count)}
    res = m.mantel_haenszel_dif(tables_to_frame(tables), item="y", group="grp", focal="foc", matching="score")
    assert res.ets_class == expected


def test_moderate_dif_is_class_b_even_with_huge_samples():
    # OR = 32*20 / (20*20) = 1.6, delta = -2.35 ln 1.6 = -1.10: in [1, 1.5), so never C.
    tables = {0: (3200, 2000, 2000, 2000)}
    res = m.mantel_haenszel_dif(tables_to_frame(tables), item="y", group="grp", focal="foc", matching="score")
    assert res.delta_mh == pytest.approx(-2.35 * math.log(1.6), abs=1e-12)
    assert res.ets_class == "B"


def test_no_dif_rasch_items_are_mostly_class_a():
    # Under the Rasch model, matching on the total score (studied item included) gives alpha_MH = 1 for an
    # item without DIF (Holland & Thayer 1988), even with a true group difference in ability.
    rng = np.random.default_rng(7)
    classes = []
    for _ in range(5):
        df = rasch_data(rng, 1000, np.linspace(-1.5, 1.5, 15))
        classes += m.dif_table(df, items=[f"i{j}" for j in range(15)], group="grp", focal="F")["ets_class"].tolist()
    # A non-A class needs p < 0.05 (about 5% of items under the null) *and* |delta| >= 1, which at
    # 1,000 per group (SE of delta ~0.3) essentially never happens; 90% leaves ample room.
    assert np.mean(np.array(classes) == "A") >= 0.9


def test_known_dif_is_recovered_and_flagged_c():
    rng = np.random.default_rng(8)
    df = rasch_data(rng, 2000, np.linspace(-1.5, 1.5, 15), dif_item=4, dif=1.0)
    out = m.dif_table(df, items=[f"i{j}" for j in range(15)], group="grp", focal="F")
    row = out.set_index("item").loc["i4"]
    # True log odds ratio is 1 (item 1 logit harder for F). SE of ln alpha_MH here is ~0.09;
    # 0.3 allows > 3 SEs plus the small contamination of the total score by the DIF item.
    assert math.log(row["alpha_mh"]) == pytest.approx(1.0, abs=0.3)
    assert row["ets_class"] == "C"
    assert (out.drop(columns="item")["ets_class"] == "C").sum() == 1


def test_delta_se_gives_nominal_coverage_of_the_true_log_odds_ratio():
    rng = np.random.default_rng(12)
    true_log_or = math.log(2.0)
    hits, reps = 0, 300
    for _ in range(reps):
        rows = []
        for stratum, p_ref in enumerate([0.3, 0.5, 0.7]):
            p_foc = 1 / (1 + 2 * (1 - p_ref) / p_ref)  # focal odds = reference odds / 2
            for grp, p in (("ref", p_ref), ("foc", p_foc)):
                rows.append(pd.DataFrame({"score": stratum, "grp": grp, "y": (rng.random(60) < p).astype(int)}))
        res = m.mantel_haenszel_dif(pd.concat(rows), item="y", group="grp", focal="foc", matching="score")
        se_log = res.delta_se / 2.35
        hits += abs(math.log(res.alpha_mh) - true_log_or) <= 1.96 * se_log
    # Binomial SD at 0.95 over 300 replicates is 0.0126; accept 0.91-0.985 (about 3 SDs each way).
    assert 0.91 <= hits / reps <= 0.985


def test_threshold_dichotomises_polytomous_items():
    rng = np.random.default_rng(4)
    poly = pd.DataFrame(rng.integers(1, 7, size=(300, 4)), columns=list("abcd"))
    poly["sex"] = rng.choice(["m", "f"], size=300)
    binary = poly.copy()
    binary[list("abcd")] = (poly[list("abcd")] >= 4).astype(int)
    via_threshold = m.mantel_haenszel_dif(poly, item="a", group="sex", focal="f", items=list("abcd"), threshold=4)
    by_hand = m.mantel_haenszel_dif(binary, item="a", group="sex", focal="f", items=list("abcd"))
    assert via_threshold == by_hand
    with pytest.raises(ValueError, match="0/1"):
        m.mantel_haenszel_dif(poly, item="a", group="sex", focal="f", items=list("abcd"))


def test_matching_on_items_equals_matching_on_a_precomputed_score():
    df = rasch_data(np.random.default_rng(6), 300, [-1, 0, 0.5, 1])
    items = ["i0", "i1", "i2", "i3"]
    df["total"] = df[items].sum(axis=1)
    df["rest"] = df["total"] - df["i2"]
    with_total = m.mantel_haenszel_dif(df, item="i2", group="grp", focal="F", items=items)
    assert with_total == m.mantel_haenszel_dif(df, item="i2", group="grp", focal="F", matching="total")
    rest = m.mantel_haenszel_dif(df, item="i2", group="grp", focal="F", items=items, include_studied=False)
    assert rest == m.mantel_haenszel_dif(df, item="i2", group="grp", focal="F", matching="rest")


def test_reference_none_pools_the_other_groups():
    df = tables_to_frame({0: (20, 10, 10, 10), 1: (10, 20, 5, 20)})
    df.loc[df.index % 2 == 0, "grp"] = df.loc[df.index % 2 == 0, "grp"].str.replace("ref", "ref2")
    pooled = m.mantel_haenszel_dif(df, item="y", group="grp", focal="foc", matching="score")
    df2 = df.assign(grp=df["grp"].replace({"ref2": "ref"}))
    explicit = m.mantel_haenszel_dif(df2, item="y", group="grp", focal="foc", matching="score", reference="ref")
    assert pooled.alpha_mh == pytest.approx(explicit.alpha_mh, abs=1e-12)
    assert pooled.reference == "all other groups" and explicit.reference == "ref"
    only_ref = m.mantel_haenszel_dif(df, item="y", group="grp", focal="foc", matching="score", reference="ref")
    assert only_ref.n_reference < pooled.n_reference


def test_dif_missing_rows_dropped_and_counted():
    df = tables_to_frame({0: (20, 10, 10, 10), 1: (10, 20, 5, 20)}).astype({"y": float})
    full = m.mantel_haenszel_dif(df, item="y", group="grp", focal="foc", matching="score")
    extra = pd.concat([df, pd.DataFrame({"score": [0, np.nan], "grp": ["foc", "ref"], "y": [np.nan, 1.0]})])
    res = m.mantel_haenszel_dif(extra, item="y", group="grp", focal="foc", matching="score")
    assert res.n_dropped == 2 and res.alpha_mh == full.alpha_mh
    with pytest.raises(ValueError, match="missing"):
        m.mantel_haenszel_dif(extra, item="y", group="grp", focal="foc", matching="score", missing="raise")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"item": "nope", "matching": "score"}, "Unknown column"),
        ({"item": "y", "matching": "nope"}, "Unknown column"),
        ({"item": "y"}, "exactly one"),
        ({"item": "y", "matching": "score", "items": ["y"]}, "exactly one"),
        ({"item": "y", "matching": "score", "focal": "nobody"}, "focal group is empty"),
        ({"item": "y", "matching": "score", "reference": "nobody"}, "reference group is empty"),
        ({"item": "y", "matching": "score", "significance": 1.5}, "significance"),
        ({"item": "y", "matching": "score", "reference": "foc"}, "different"),
        ({"item": "y", "items": "y"}, "list of column names"),
    ],
)
def test_dif_bad_arguments_raise(kwargs, match):
    df = tables_to_frame({0: (20, 10, 10, 10), 1: (10, 20, 5, 20)})
    kwargs = {"group": "grp", "focal": "foc", **kwargs}
    with pytest.raises(ValueError, match=match):
        m.mantel_haenszel_dif(df, **kwargs)


def test_undefined_odds_ratio_raises():
    # The focal group always answers 1, so sum(B C / N) = 0 and alpha_MH is infinite.
    df = tables_to_frame({0: (5, 5, 6, 0), 1: (7, 3, 4, 0)})
    with pytest.raises(ValueError, match="alpha_MH"):
        m.mantel_haenszel_dif(df, item="y", group="grp", focal="foc", matching="score")


# --------------------------------------------------------------------------- Krippendorff's alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", worked example C:
# 4 observers x 12 units with missing values; published alpha 0.743 nominal, 0.815 ordinal, 0.849 interval.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
)


@pytest.mark.parametrize("level,published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_reproduces_the_published_example(level, published):
    res = m.krippendorff_alpha(KRIPPENDORFF_2011, level=level)
    assert round(res.alpha, 3) == published
    # the worked example's counts: units 1-11 have two or more ratings (unit 12 has one), 40 pairable values
    assert (res.n_raters, res.n_units, res.n_pairable) == (4, 11, 40)
    as_frame = pd.DataFrame(KRIPPENDORFF_2011, index=list("ABCD"))
    assert round(m.krippendorff_alpha(as_frame, level=level).alpha, 3) == published
    # the release that returned a bare float: float() still gives it, and there is no bootstrap by default
    assert float(res) == res.alpha and res.ci == {} and res.boot is None


def test_krippendorff_perfect_agreement_is_one():
    ratings = np.array([[1, 2, 3, 4, np.nan], [1, 2, 3, 4, 2]])
    assert m.krippendorff_alpha(ratings, level="nominal").alpha == pytest.approx(1.0)


def _random_ratings(seed: int, raters: int = 4, units: int = 25, codes: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, codes + 1, size=(raters, units)).astype(float)
    x[rng.random(x.shape) < 0.25] = np.nan
    return x


@pytest.mark.parametrize("level", m.KRIPPENDORFF_LEVELS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_krippendorff_resample_formula_is_the_packages_alpha(level, seed):
    # The bootstrap's vectorised alpha against the krippendorff package, an independent implementation: every unit
    # once is the data; every unit twice is the data placed beside itself (the units are what a resample counts).
    x = _random_ratings(seed)
    values, counts = m._pairable_counts(x)
    once, twice = m._alpha_draws(counts, values, level, np.array([np.ones(len(counts)), 2 * np.ones(len(counts))]))
    assert once == pytest.approx(krippendorff.alpha(reliability_data=x, level_of_measurement=level), abs=1e-12)
    assert twice == pytest.approx(krippendorff.alpha(reliability_data=np.hstack([x, x]), level_of_measurement=level),
                                  abs=1e-12)
    # and a resample that leaves units out is the package's alpha on the units it kept
    keep = np.zeros(len(counts))
    keep[: len(counts) // 2] = 1
    kept = x[:, (~np.isnan(x)).sum(axis=0) >= 2][:, : len(counts) // 2]
    assert m._alpha_draws(counts, values, level, keep[None, :])[0] == pytest.approx(
        krippendorff.alpha(reliability_data=kept, level_of_measurement=level), abs=1e-12)


def test_krippendorff_bootstrap_interval_is_seeded_and_recomputable():
    res = m.krippendorff_alpha(KRIPPENDORFF_2011, level="interval", n_boot=500, seed=4, confidence=0.9)
    low, high = res.ci["alpha"]
    assert low < res.alpha < high <= 1
    assert res.conf_int(0.1)[["ci_low", "ci_high"]].iloc[0].tolist() == [low, high]
    narrow = res.conf_int(0.5).iloc[0]
    assert low <= narrow["ci_low"] <= narrow["ci_high"] <= high
    assert m.krippendorff_alpha(KRIPPENDORFF_2011, level="interval", n_boot=500, seed=4, confidence=0.9).ci == res.ci
    assert m.krippendorff_alpha(KRIPPENDORFF_2011, level="interval", n_boot=500, seed=5, confidence=0.9).ci != res.ci
    row = res.to_frame()
    assert len(row) == 1 and (row.loc[0, "ci_low"], row.loc[0, "ci_high"]) == (low, high)


def test_krippendorff_bootstrap_covers_the_truth_of_a_simulation():
    # Simulated coders: each unit has a true score of variance 4 (Binomial(16, 1/2)), each rating adds independent
    # noise of variance 1 (Binomial(4, 1/2) - 2), all whole numbers (few distinct codes, as coders use), so the
    # interval-level alpha of the population is var(true) / (var(true) + var(noise)) = 4 / 5.
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(40):
        truth = rng.binomial(16, 0.5, 150)
        ratings = truth[None, :] + rng.binomial(4, 0.5, (3, 150)) - 2
        low, high = m.krippendorff_alpha(ratings, level="interval", n_boot=400,
                                         seed=int(rng.integers(1 << 30))).ci["alpha"]
        covered += low <= 0.8 <= high
    assert covered >= 33  # nominal 95% of 40 is 38; 32 or fewer has probability 0.07% under Binomial(40, 0.95)


@pytest.mark.parametrize(
    "ratings,level,match",
    [
        (KRIPPENDORFF_2011, "categorical", "Unknown level"),
        (np.array([[1.0, 2.0, 3.0]]), "nominal", "at least 2"),
        (np.array([[1.0, np.nan], [np.nan, 2.0]]), "nominal", "at least 2 raters"),
        (np.array([[1.0, 1.0], [1.0, 1.0]]), "nominal", "single value"),
        (np.array([[1.0, np.inf], [1.0, 2.0]]), "nominal", "inf"),
        (np.array([1.0, 2.0, 3.0]), "nominal", "2-dimensional"),
    ],
)
def test_krippendorff_bad_input_raises(ratings, level, match):
    with pytest.raises(ValueError, match=match):
        m.krippendorff_alpha(ratings, level=level)


# --------------------------------------------------------------------------- Schaeffer et al. transforms


def test_token_accuracy_is_exp_minus_loss():
    assert m.token_accuracy_from_loss([math.log(2), 0.0]).tolist() == pytest.approx([0.5, 1.0])


def test_exact_match_is_p_to_the_length():
    # 0.9^3 = 0.729, 0.5^10 = 1/1024
    assert m.exact_match_from_token_accuracy([0.9, 0.5, 1.0], length=3).tolist() == pytest.approx([0.729, 0.125, 1.0])
    assert m.exact_match_from_token_accuracy(0.5, length=10)[0] == pytest.approx(1 / 1024)


def test_edit_distance_is_length_times_one_minus_p():
    assert m.edit_distance_from_token_accuracy([0.9, 0.0, 1.0], length=10).tolist() == pytest.approx([1.0, 10.0, 0.0])


def test_metric_curves_compose_the_analytic_formulas_and_are_monotone():
    n = np.logspace(7, 11, 9)
    out = m.metric_curves(n, c=1e6, alpha=-0.3, lengths=[1, 5, 20])
    assert len(out) == 9 * 3 * 3
    for (length, metric), grp in out.groupby(["length", "metric"]):
        p = np.exp(-((grp["N"].to_numpy() / 1e6) ** -0.3))
        expected = {"token_accuracy": p, "exact_match": p**length, "edit_distance": length * (1 - p)}[metric]
        assert grp["value"].to_numpy() == pytest.approx(expected, rel=1e-12)
        steps = np.diff(grp.sort_values("N")["value"].to_numpy())
        assert (steps < 0).all() if metric == "edit_distance" else (steps > 0).all()
    # The mirage: loss 10^-0.3 = 0.50 at N = 1e7 gives p = 0.61 but p^20 = 4.4e-5; at N = 1e11 the loss is
    # 10^-1.5 = 0.032, p = 0.969 and p^20 = 0.53. Per-token accuracy moves 0.61 -> 0.97, exact match 0 -> 0.5.
    ends = out[out["N"].isin([n[0], n[-1]]) & (out["length"] == 20)].set_index(["N", "metric"])["value"]
    assert ends[(n[0], "exact_match")] < 1e-4 and ends[(n[0], "token_accuracy")] > 0.6
    assert ends[(n[-1], "exact_match")] > 0.5 and ends[(n[-1], "token_accuracy")] < 0.97


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: m.token_accuracy_from_loss([-0.1]), ">= 0"),
        (lambda: m.exact_match_from_token_accuracy([1.2], length=2), r"\[0, 1\]"),
        (lambda: m.exact_match_from_token_accuracy([0.5], length=0), "length"),
        (lambda: m.edit_distance_from_token_accuracy([0.5], length=2.5), "length"),
        (lambda: m.metric_curves([1e9], c=1e9, alpha=0.3, lengths=[1]), "negative"),
        (lambda: m.metric_curves([1e9], c=-1, alpha=-0.3, lengths=[1]), "c must"),
        (lambda: m.metric_curves([0.0], c=1, alpha=-0.3, lengths=[1]), "model sizes"),
    ],
)
def test_schaeffer_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- rank agreement


def test_identical_and_reversed_rankings():
    a = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0])
    same = m.rank_agreement(a, a * 10 + 1)
    assert same.tau == pytest.approx(1.0) and same.n_discordant == 0 and same.flip_share == 0
    rev = m.rank_agreement(a, -a)
    assert rev.tau == pytest.approx(-1.0) and rev.n_discordant == rev.n_pairs == 15 and rev.flip_share == 1


def test_hand_countable_example_with_ties():
    # Pairs of (a, b) = (1,1), (2,2), (2,3), (3,3):
    # (1,2) C, (1,3) C, (1,4) C, (2,3) tied in a, (2,4) C, (3,4) tied in b -> C=4, D=0,
    # tau_b = (C - D) / sqrt((6 - 1)(6 - 1)) = 4/5.
    res = m.rank_agreement([1, 2, 2, 3], [1, 2, 3, 3])
    assert res.tau == pytest.approx(0.8)
    assert (res.n_pairs, res.n_discordant, res.flip_share) == (6, 0, 0.0)
    # One swapped pair among 4 items: (C - D) / 6 = (5 - 1) / 6.
    swap = m.rank_agreement([1, 2, 3, 4], [1, 3, 2, 4])
    assert swap.tau == pytest.approx(4 / 6) and swap.n_discordant == 1


def test_series_are_aligned_on_their_index():
    a = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("wxyz"))
    b = pd.Series([40.0, 10.0, 30.0, 20.0], index=list("zwyx"))  # same order as a once aligned
    assert m.rank_agreement(a, b).tau == pytest.approx(1.0)
    with pytest.raises(ValueError, match="index"):
        m.rank_agreement(a, pd.Series([1.0, 2.0, 3.0, 4.0], index=list("wxyq")))


def test_vectorised_bootstrap_tau_equals_scipy_in_a_loop():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 15, size=40).astype(float)  # integer scores: plenty of ties
    b = a + rng.integers(-4, 5, size=40)
    n_boot, seed = 200, 3
    res = m.rank_agreement(a, b, n_boot=n_boot, seed=seed)
    idx = np.random.default_rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    loop = [stats.kendalltau(a[i], b[i]).statistic for i in idx]
    assert res.ci["tau"] == pytest.approx(tuple(np.quantile(loop, [0.025, 0.975])), abs=1e-10)


def test_rank_bootstrap_of_200_items_is_fast():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    start = time.perf_counter()
    res = m.rank_agreement(a, a + rng.normal(size=200), n_boot=1000)
    assert time.perf_counter() - start < 1.5
    assert res.ci["tau"][0] < res.tau < res.ci["tau"][1]
    assert set(res.to_frame().columns) >= {"tau", "ci_low", "ci_high", "n_discordant", "flip_share"}


def test_rank_agreement_bad_input_raises():
    with pytest.raises(ValueError, match="Mismatched lengths"):
        m.rank_agreement([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="constant"):
        m.rank_agreement([1, 1, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="at least 3"):
        m.rank_agreement([1, 2], [2, 1])
    with pytest.raises(ValueError, match="confidence"):
        m.rank_agreement([1, 2, 3], [1, 2, 3], n_boot=10, confidence=95)


# --------------------------------------------------------------------------- bad-input contract (hypothesis)

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(finite, min_size=6, max_size=30), where=st.integers(0, 10_000))
def test_any_nan_in_rank_scores_raises(values, where):
    a = np.array(values)
    b = a[::-1].copy()
    b[where % len(b)] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        m.rank_agreement(a, b)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 12), k=st.integers(2, 5), where=st.integers(0, 10_000), bad=st.sampled_from([np.nan, np.inf]))
def test_any_nan_or_inf_in_items_raises_when_refused(n, k, where, bad):
    x = np.arange(n * k, dtype=float).reshape(n, k) % 7
    x.flat[where % x.size] = bad
    with pytest.raises(ValueError, match="non-finite"):
        m.cronbach_alpha(x, missing="raise")


@settings(max_examples=40, deadline=None)
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=10), where=st.integers(0, 100))
def test_any_nan_in_token_accuracy_raises(p, where):
    arr = np.array(p)
    arr[where % len(arr)] = np.nan
    for call in (
        lambda: m.exact_match_from_token_accuracy(arr, length=3),
        lambda: m.edit_distance_from_token_accuracy(arr, length=3),
        lambda: m.token_accuracy_from_loss(arr),
    ):
        with pytest.raises(ValueError, match="non-finite"):
            call()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 20), extra=st.integers(1, 5))
def test_mismatched_lengths_raise(n, extra):
    with pytest.raises(ValueError, match="Mismatched lengths"):
        m.rank_agreement(np.arange(n, dtype=float), np.arange(n + extra, dtype=float))


@settings(max_examples=30, deadline=None)
@given(level=st.text(min_size=1, max_size=12).filter(lambda s: s not in m.KRIPPENDORFF_LEVELS))
def test_unknown_level_raises(level):
    with pytest.raises(ValueError, match="Unknown level"):
        m.krippendorff_alpha(KRIPPENDORFF_2011, level=level)


@settings(max_examples=30, deadline=None)
@given(name=st.text(min_size=1, max_size=12).filter(lambda s: s not in {"score", "grp", "y"}))
def test_unknown_column_raises(name):
    df = tables_to_frame({0: (3, 2, 2, 3), 1: (4, 1, 2, 3)})
    with pytest.raises(ValueError, match="Unknown column"):
        m.mantel_haenszel_dif(df, item=name, group="grp", focal="foc", matching="score")
    with pytest.raises(ValueError, match="Unknown column"):
        m.dif_table(df, items=["y", name], group="grp", focal="foc", matching="score")


# --------------------------------------------------------------------------- group score gaps


def test_score_gap_matches_a_hand_computation():
    df = pd.DataFrame({
        "a": [1, 2, 3, 4, 6, np.nan],
        "b": [3, 4, 5, 6, 2, 1],
        "g": ["x", "x", "y", "y", "y", "x"],
    })
    res = m.score_gap(df, items=["a", "b"], group="g", focal="y", reference="x", n_boot=0)
    # Row means: x -> 2, 3 (the NaN row is dropped); y -> 4, 5, 4. Means 2.5 and 13/3.
    assert res.reference_mean == pytest.approx(2.5)
    assert res.focal_mean == pytest.approx(13 / 3)
    assert res.difference == pytest.approx(13 / 3 - 2.5)
    assert (res.n_focal, res.n_reference, res.n_items, res.n_dropped) == (3, 2, 2, 1)
    assert res.ci == {}
    with pytest.raises(ValueError, match="missing"):
        m.score_gap(df, items=["a", "b"], group="g", focal="y", missing="raise")


def test_score_gap_bootstrap_equals_a_loop_resampling_within_groups():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"s": rng.normal(size=90), "g": np.repeat(["f", "r"], [40, 50])})
    n_boot, seed = 200, 4
    res = m.score_gap(df, items=["s"], group="g", focal="f", n_boot=n_boot, seed=seed)
    # Independent loop: the same generator draws focal indices for all resamples, then reference indices.
    gen = np.random.default_rng(seed)
    f, r = df.loc[df.g == "f", "s"].to_numpy(), df.loc[df.g == "r", "s"].to_numpy()
    fi, ri = gen.integers(0, len(f), size=(n_boot, len(f))), gen.integers(0, len(r), size=(n_boot, len(r)))
    diffs = [f[fi[b]].mean() - r[ri[b]].mean() for b in range(n_boot)]
    assert res.ci["difference"] == pytest.approx(tuple(np.quantile(diffs, [0.025, 0.975])), abs=1e-12)
    assert res.reference == "r"


def test_score_gap_interval_agrees_with_welch_for_large_normal_samples():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"s": np.r_[rng.normal(0.3, 1, 3000), rng.normal(0, 2, 2000)],
                       "g": np.repeat(["f", "r"], [3000, 2000])})
    res = m.score_gap(df, items=["s"], group="g", focal="f", n_boot=4000)
    f, r = df.s[df.g == "f"], df.s[df.g == "r"]
    se = np.sqrt(f.var(ddof=1) / len(f) + r.var(ddof=1) / len(r))
    welch = (res.difference - 1.96 * se, res.difference + 1.96 * se)
    # With n in the thousands the bootstrap distribution of a mean difference is close to normal; its
    # 2.5% and 97.5% quantiles from 4000 draws deviate from the normal ones by a few percent of the width.
    assert res.ci["difference"] == pytest.approx(welch, abs=0.06 * (welch[1] - welch[0]))


def test_score_gap_interval_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(11)
    hits, reps = 0, 200
    for rep in range(reps):
        df = pd.DataFrame({"s": np.r_[rng.normal(0.5, 1, 80), rng.normal(0.0, 1.5, 120)],
                           "g": np.repeat(["f", "r"], [80, 120])})
        ci = m.score_gap(df, items=["s"], group="g", focal="f", n_boot=400, seed=rep).ci["difference"]
        hits += ci[0] <= 0.5 <= ci[1]
    # Binomial SD of the rate at 0.95 over 200 replicates is 0.015; percentile intervals undercover a
    # little at n = 80 (about 0.94), so accept 0.89-0.99.
    assert 0.89 <= hits / reps <= 0.99


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"items": []}, "at least 1"),
        ({"items": ["a", "a"]}, "repeated"),
        ({"items": "a"}, "list of column names"),
        ({"items": ["zz"]}, "Unknown column"),
        ({"focal": "nobody"}, "focal group is empty"),
        ({"n_boot": -1}, "n_boot"),
        ({"confidence": 1.5}, "confidence"),
        ({"missing": "impute"}, "missing policy"),
    ],
)
def test_score_gap_bad_arguments_raise(kwargs, match):
    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "g": ["x", "x", "y", "y"]})
    args = {"items": ["a"], "group": "g", "focal": "y", **kwargs}
    with pytest.raises(ValueError, match=match):
        m.score_gap(df, **args)


def test_score_gap_refuses_an_interval_from_a_single_respondent():
    df = pd.DataFrame({"a": [1.0, 2, 3], "g": ["x", "x", "y"]})
    with pytest.raises(ValueError, match="at least 2 respondents"):
        m.score_gap(df, items=["a"], group="g", focal="y")
    assert m.score_gap(df, items=["a"], group="g", focal="y", n_boot=0).difference == pytest.approx(1.5)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(4, 30), where=st.integers(0, 1000), bad=st.sampled_from([np.inf, -np.inf]))
def test_score_gap_any_inf_raises(n, where, bad):
    df = pd.DataFrame({"a": np.arange(n, dtype=float), "g": np.where(np.arange(n) % 2 == 0, "x", "y")})
    df.loc[where % n, "a"] = bad
    with pytest.raises(ValueError, match="non-finite"):
        m.score_gap(df, items=["a"], group="g", focal="y", n_boot=0)


# --------------------------------------------------------------------------- definitions of the outcome


def sensitivity_frame(rng, n=2000):
    x = rng.normal(size=n)
    g = np.where(rng.random(n) < 0.3, "small", "large")
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=n), "g": g, "c": rng.choice(["u", "v"], n)})


def test_threshold_sensitivity_rates_match_an_independent_confusion_matrix():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    df = sensitivity_frame(np.random.default_rng(2))
    out = m.threshold_sensitivity(df, outcome="y", quantiles=[0.5, 0.8], features=["x", "c"], group="g", seed=7)
    # Re-do the documented procedure by hand: same split (first 30% of default_rng(7).permutation),
    # whole-sample cut-off, x plus a 0/1 indicator of c == "v", scaled logistic regression.
    test = np.zeros(len(df), bool)
    test[np.random.default_rng(7).permutation(len(df))[: round(0.3 * len(df))]] = True
    x = np.column_stack([df.x, (df.c == "v").astype(float)])
    for q in (0.5, 0.8):
        y = (df.y > np.quantile(df.y, q)).astype(int).to_numpy()
        pred = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x[~test], y[~test]).predict(x[test])
        for grp in ("small", "large", "overall"):
            sel = np.ones(test.sum(), bool) if grp == "overall" else (df.g[test] == grp).to_numpy()
            tn, fp, fn, tp = confusion_matrix(y[test][sel], pred[sel], labels=[0, 1]).ravel()
            row = out[(out["quantile"] == q) & (out["group"] == grp)].iloc[0]
            assert row["n"] == tn + fp + fn + tp and row["n_positive"] == fn + tp
            assert row["error_rate"] == pytest.approx((fp + fn) / (tn + fp + fn + tp))
            assert row["fnr"] == pytest.approx(fn / (fn + tp))
            assert row["fpr"] == pytest.approx(fp / (fp + tn))
            assert row["balanced_error"] == pytest.approx((fn / (fn + tp) + fp / (fp + tn)) / 2)
            assert row["cutoff"] == pytest.approx(np.quantile(df.y, q))


def test_threshold_sensitivity_base_rates_follow_the_quantile_levels():
    df = sensitivity_frame(np.random.default_rng(4), n=5000)
    out = m.threshold_sensitivity(df, outcome="y", quantiles=[0.5, 0.75, 0.9], features=["x"], group="g")
    overall = out[out["group"] == "overall"]
    # Above the q-quantile lie 1 - q of all rows; a random 30% test split has SD sqrt(q(1-q)/1500) <= 0.013.
    assert overall["base_rate"].to_numpy() == pytest.approx([0.5, 0.25, 0.1], abs=0.04)
    assert (overall["n"] == 1500).all()


def test_threshold_sensitivity_separable_label_has_no_errors_and_wilson_bounds():
    # Two clusters with a wide gap; the median cut-off (0) falls in the gap, so the label is separable by
    # the only feature with a margin of 1 on either side and a fitted logistic regression makes no errors.
    x = np.r_[np.linspace(-3, -1, 200), np.linspace(1, 3, 200)]
    df = pd.DataFrame({"x": x, "y": x, "g": np.where(np.arange(400) % 2 == 0, "a", "b")})
    out = m.threshold_sensitivity(df, outcome="y", quantiles=[0.5], features=["x"], group="g")
    assert (out["error_rate"] == 0).all() and (out["fnr"] == 0).all() and (out["fpr"] == 0).all()
    # Wilson interval with 0 errors out of n: lower bound 0, upper z^2 / (n + z^2).
    z2 = 1.959963985**2
    assert np.allclose(out["error_low"], 0, atol=1e-12)
    assert out["error_high"].to_numpy() == pytest.approx((z2 / (out["n"] + z2)).to_numpy(), rel=1e-8)


def test_threshold_sensitivity_same_seed_same_numbers_and_seed_matters():
    df = sensitivity_frame(np.random.default_rng(6))
    kw = {"outcome": "y", "quantiles": [0.6], "features": ["x"], "group": "g"}
    a, b = m.threshold_sensitivity(df, seed=1, **kw), m.threshold_sensitivity(df, seed=1, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert not m.threshold_sensitivity(df, seed=2, **kw)["n_positive"].equals(a["n_positive"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"outcome": "nope"}, "Unknown column"),
        ({"quantiles": [0.5, 1.0]}, "quantile"),
        ({"quantiles": [0.5, 0.5]}, "repeated"),
        ({"quantiles": 0.5}, "list of levels"),
        ({"quantiles": []}, "at least 1"),
        ({"features": []}, "at least 1"),
        ({"features": "x"}, "list of column names"),
        ({"test_size": 0.0}, "test_size"),
        ({"test_size": 0.999}, "need 10"),
        ({"outcome": "top", "quantiles": [0.95]}, "only one class"),
        ({"outcome": "const"}, "constant"),
    ],
)
def test_threshold_sensitivity_bad_arguments_raise(kwargs, match):
    # "top": 10% ones, so its 0.95 quantile is 1 and nobody lies above it.
    df = sensitivity_frame(np.random.default_rng(0), n=300).assign(const=1.0, top=np.r_[np.zeros(270), np.ones(30)])
    args = {"outcome": "y", "quantiles": [0.5], "features": ["x"], "group": "g", **kwargs}
    with pytest.raises(ValueError, match=match):
        m.threshold_sensitivity(df, **args)


def test_threshold_sensitivity_missing_values_raise():
    df = sensitivity_frame(np.random.default_rng(0), n=300)
    df.loc[5, "x"] = np.nan
    with pytest.raises(ValueError, match="Missing values"):
        m.threshold_sensitivity(df, outcome="y", quantiles=[0.5], features=["x"], group="g")
