"""Tests for helpers.local: local against pooled models, metrics per community, evaluation designs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

from helpers.local import draw_evaluation_set, evaluation_study, local_vs_pooled, score_designs


def _opposite_communities(n: int = 600, seed: int = 0) -> pd.DataFrame:
    # Two communities whose outcome depends on x in opposite directions: no single linear model on x (even with a
    # community intercept) can be right for both, while each local model can be right for its own.
    rng = np.random.default_rng(seed)
    x = rng.normal(size=2 * n)
    g = np.repeat(["a", "b"], n)
    return pd.DataFrame({"x": x, "g": g, "y": np.where(g == "a", x > 0, x < 0)})


def test_local_models_win_when_communities_want_opposite_answers():
    df = _opposite_communities()
    res = local_vs_pooled(df, target="y", features=["x", "g"], group="g", sizes=[50, 200], n_boot=300, seed=1)
    groups = res.groups.set_index("g")
    assert (groups["error_local"] < 0.05).all()
    # One slope on x cannot be right for both: at best it serves one community and is no better than a constant
    # (error about a half) for the other, which therefore gains clearly from its local model.
    assert groups["error_pooled"].max() > 0.4
    assert (groups["gain_low"] <= groups["gain"]).all() and (groups["gain"] <= groups["gain_high"]).all()
    assert groups["gain_low"].max() > 0.3
    assert groups["n_to_match"].tolist() == [50.0, 50.0]  # even 50 local rows beat the pooled model
    assert res.n_pooled == groups["n_train"].sum() == 2 * 420
    assert len(res.predictions) == 2 * groups["n_test"].sum()


def test_local_vs_pooled_split_is_stratified_and_curve_is_nested_by_size():
    df = _opposite_communities(n=300)
    res = local_vs_pooled(df, target="y", features=["x"], group="g", test_size=0.3, sizes=[20, 100, 1000],
                          n_seeds=2, n_boot=50)
    assert res.groups["n_test"].tolist() == [90, 90]
    # 1000 exceeds a community's 210 training rows, so the curve has 20, 100 (two seeds each) and all rows.
    assert sorted(res.curve.query("g == 'a'")["n_train"].tolist()) == [20, 20, 100, 100, 210]


def test_local_vs_pooled_rejects_bad_input():
    df = _opposite_communities(n=50)
    with pytest.raises(ValueError, match="binary"):
        local_vs_pooled(df.assign(y=df["x"]), target="y", features=["x"], group="g")
    with pytest.raises(ValueError, match="test_size"):
        local_vs_pooled(df, target="y", features=["x"], group="g", test_size=1.5)
    with pytest.raises(ValueError, match="Unknown column"):
        local_vs_pooled(df, target="y", features=["z"], group="g")
    with pytest.raises(ValueError, match="too few"):
        local_vs_pooled(pd.concat([df, df.iloc[:2].assign(g="c")]), target="y", features=["x"], group="g")
    with pytest.raises(ValueError, match="no inputs"):
        local_vs_pooled(df, target="y", features=["g"], group="g")


@pytest.mark.parametrize("bad", [1.5, -1, True, "0"])
def test_seeds_are_checked_with_the_librarys_error(bad):
    """A float, negative, boolean or text seed raises the library's ValueError, not numpy's TypeError."""
    df, labels = _opposite_communities(n=50), np.array(["a"] * 5 + ["b"] * 5)
    calls = [lambda: local_vs_pooled(df, target="y", features=["x"], group="g", seed=bad),
             lambda: draw_evaluation_set(labels, 2, seed=bad),
             lambda: evaluation_study(np.zeros(10), labels, n=2, designs={"r": {"allocation": "random"}}, seed=bad)]
    for call in calls:
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            call()


def test_scalar_options_and_targets_get_the_librarys_checks():
    df = _opposite_communities(n=50)
    with pytest.raises(ValueError, match="test_size must be a single real number"):
        local_vs_pooled(df, target="y", features=["x"], group="g", test_size="0.3")
    with pytest.raises(ValueError, match=r"must be binary, 0/1 or False/True; got values \['u', 'v'\]"):
        local_vs_pooled(df.assign(y=np.where(df["y"] == 1, "u", "v")), target="y", features=["x"], group="g")
    pred = pd.DataFrame({"g": ["c", "c"], "design": ["a", "a"], "y": [0, 1], "p": [0.2, 0.7]})
    with pytest.raises(ValueError, match="threshold must be a single real number"):
        score_designs(pred, group="g", threshold=True)


def test_score_designs_hand_values_and_log_loss_matches_sklearn():
    y = np.array([1, 1, 0, 0, 1, 0])
    p_a = np.array([0.9, 0.4, 0.2, 0.6, 0.7, 0.1])
    p_b = np.array([0.6, 0.6, 0.6, 0.3, 0.2, 0.2])
    pred = pd.DataFrame({"g": ["c"] * 12, "design": ["a"] * 6 + ["b"] * 6, "y": np.r_[y, y], "p": np.r_[p_a, p_b]})
    # a: predicts 1,0,0,1,1,0 -> one false negative of 3 positives, one false positive of 3 negatives.
    # b: predicts 1,1,1,0,0,0 -> one false negative, one false positive.
    fnr = score_designs(pred, group="g", metric="false_negative_rate").iloc[0]
    assert (fnr["a"], fnr["b"]) == pytest.approx((1 / 3, 1 / 3))
    bal = score_designs(pred, group="g", metric="balanced_error").iloc[0]
    assert (bal["a"], bal["b"]) == pytest.approx((1 / 3, 1 / 3))
    # At a threshold of 0.65 design a predicts 1,0,0,0,1,0 (one FN, no FP) and b predicts nothing positive.
    err = score_designs(pred, group="g", metric="error", threshold=0.65).iloc[0]
    assert (err["a"], err["b"], err["best"]) == (pytest.approx(1 / 6), pytest.approx(3 / 6), "a")
    ll = score_designs(pred, group="g", metric="log_loss").iloc[0]
    assert ll["a"] == pytest.approx(log_loss(y, p_a)) and ll["b"] == pytest.approx(log_loss(y, p_b))


def test_score_designs_rejects_bad_input():
    pred = pd.DataFrame({"g": ["c", "c"], "design": ["a", "a"], "y": [0, 0], "p": [0.2, 0.7]})
    with pytest.raises(ValueError, match="no positive"):
        score_designs(pred, group="g", metric="false_negative_rate")
    with pytest.raises(ValueError, match="Unknown metric"):
        score_designs(pred, group="g", metric="accuracy")
    with pytest.raises(ValueError, match="threshold"):
        score_designs(pred, group="g", threshold=1.0)


def test_draw_evaluation_set_allocations():
    labels = np.array(["a"] * 700 + ["b"] * 200 + ["c"] * 100)
    equal = draw_evaluation_set(labels, 31, allocation="equal", seed=0)
    assert pd.Series(labels[equal]).value_counts().sort_index().tolist() == [11, 10, 10]
    agreed = draw_evaluation_set(labels, 60, allocation={"a": 10, "b": 20, "c": 30}, seed=0)
    assert pd.Series(labels[agreed]).value_counts().sort_index().tolist() == [10, 20, 30]
    assert len(set(agreed)) == 60
    # Convenience: weight 4 on "a"; over many draws of one row the share of "a" is 4*700 / (4*700 + 300).
    first = [labels[draw_evaluation_set(labels, 1, allocation="convenience", seed=s)[0]] for s in range(2000)]
    assert np.mean(np.array(first) == "a") == pytest.approx(2800 / 3100, abs=0.02)


def test_draw_evaluation_set_rejects_bad_allocations():
    labels = np.array(["a"] * 5 + ["b"] * 5)
    with pytest.raises(ValueError, match="sums to"):
        draw_evaluation_set(labels, 4, allocation={"a": 1, "b": 1})
    with pytest.raises(ValueError, match="not in groups"):
        draw_evaluation_set(labels, 2, allocation={"a": 1, "z": 1})
    with pytest.raises(ValueError, match="members"):
        draw_evaluation_set(labels, 7, allocation={"a": 6, "b": 1})
    with pytest.raises(ValueError, match="exceeds"):
        draw_evaluation_set(labels, 11)
    with pytest.raises(ValueError, match="Unknown allocation"):
        draw_evaluation_set(labels, 2, allocation="quota")


def test_evaluation_study_census_is_exact_and_convenience_misses_small_communities():
    labels = np.array(["a"] * 95 + ["b"] * 5)
    wrong = np.r_[np.zeros(95), np.ones(5)]
    out = evaluation_study(wrong, labels, n=100, n_trials=5, designs={"all": {"allocation": "random"}})
    assert (out["mean_abs_error"] == 0).all()  # drawing the whole pool reproduces every truth
    conv = evaluation_study(wrong, labels, n=10, n_trials=200, designs={"c": {"allocation": "convenience",
                                                                      "majority_weight": 20.0}}).set_index("community")
    # Weight 20 on "a": each row of b is drawn with probability about 10 / (20 * 95 + 5) per draw, so b is absent
    # from most sets of 10.
    assert conv.loc["b", "share_unmeasured"] > 0.6
    with pytest.raises(ValueError, match="one of each"):
        evaluation_study(wrong[:5], labels, n=2, designs={"r": {}})


def test_evaluation_study_old_n_rep_name_still_works_for_one_release_with_a_warning():
    labels = np.array(["a"] * 30 + ["b"] * 10)
    wrong = np.r_[np.zeros(30), np.ones(10)]
    designs = {"r": {"allocation": "random"}}
    new = evaluation_study(wrong, labels, n=8, n_trials=7, designs=designs, seed=4)
    with pytest.warns(FutureWarning, match="n_rep was renamed n_trials"):
        old = evaluation_study(wrong, labels, n=8, n_rep=7, designs=designs, seed=4)
    pd.testing.assert_frame_equal(old, new)
    with pytest.raises(ValueError, match="n_rep"):  # a bad value under the old name is reported under that name
        with pytest.warns(FutureWarning):
            evaluation_study(wrong, labels, n=8, n_rep=1.5, designs=designs)
