"""Tests for helpers.experiments: cache reproducibility, metadata, metrics, frames, bad input."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss

from helpers import data
from helpers.sampling import frame_sample
from helpers.experiments import (
    EXPERIMENTS,
    KEYS,
    PROB_CLIP,
    RESULTS_DIR,
    group_metrics,
    learning_curve,
    load_results,
    run_experiment,
)

NAMES = sorted(EXPERIMENTS)
CELL = [k for k in KEYS if k not in ("group_var", "group", "metric")]


@pytest.fixture(scope="module", params=NAMES)
def cached(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame]:
    return request.param, load_results(request.param)


# ---------------------------------------------------------------------------
# the cache
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_cache_matches_a_rerun_of_part_of_the_grid(name: str) -> None:
    spec = EXPERIMENTS[name]
    # Small cells of both frames and model families, one cubic logistic cell (the one whose optimiser is most
    # sensitive to rounding), and one cell at the whole pool.
    fresh = pd.concat([
        run_experiment(name, sizes=[250, 1000], seeds=[0, 3], models=["logistic_d1", "logistic_d2", "hgb_4x25"],
                       frames=("random", "convenience"), progress=False),
        run_experiment(name, sizes=[4000], seeds=[1], models=["logistic_d3"], frames=("convenience",), progress=False),
        run_experiment(name, sizes=[spec.sizes[-1]], seeds=[1], models=["logistic_d1"], progress=False),
    ])
    merged = fresh.merge(load_results(name), on=list(KEYS), how="left", suffixes=("", "_cache"), indicator=True)
    assert (merged["_merge"] == "both").all(), "rerun cells are missing from the cache"
    # Counts are integers: exact.
    assert (merged["n_eval"] == merged["n_eval_cache"]).all()
    assert (merged["n_train_group"] == merged["n_train_group_cache"]).all()
    # Both models are deterministic given their (sorted) training rows and every fit runs on one thread (the cache
    # was written with n_jobs=2, this rerun uses n_jobs=1). Thresholded metrics count examples, so they must repeat
    # exactly: one flipped prediction moves an error rate by at least 1/n_eval >= 1/5631 ~ 2e-4.
    counted = merged["metric"] != "log_loss"
    np.testing.assert_array_equal(merged.loc[counted, "value"], merged.loc[counted, "value_cache"])
    # Log losses of the logistic models move slightly: L-BFGS stops at a tolerance, and last-bit differences in
    # floating-point sums (SIMD reductions depend on memory alignment) move where it stops. Regenerating both full
    # caches gave differences of at most 4.2e-7, and 1e-6 allows that. Two training samples can give log losses
    # closer than 1e-6 in the largest cells, so it is the exact check of the thresholded metrics above that catches
    # a different sample; this one catches any larger change in the predicted probabilities.
    np.testing.assert_allclose(merged.loc[~counted, "value"], merged.loc[~counted, "value_cache"], rtol=0, atol=1e-6)


def test_metadata_records_the_registered_data_checksum(cached: tuple[str, pd.DataFrame]) -> None:
    name, results = cached
    meta = json.loads((RESULTS_DIR / f"{name}.json").read_text())
    dataset = EXPERIMENTS[name].dataset
    assert meta["data_sha256"] == data.REGISTRY[dataset].sha256
    assert meta["data_sha256"] == hashlib.sha256(data.source_path(dataset).read_bytes()).hexdigest()
    assert meta["file_sha256"] == hashlib.sha256((RESULTS_DIR / meta["file"]).read_bytes()).hexdigest()
    assert meta["rows"] == len(results)
    assert {"python", "numpy", "pandas", "scikit-learn"} <= set(meta["versions"])
    assert meta["wall_clock_seconds"] > 0 and meta["peak_memory_mb"]["main"] > 0


def test_cache_covers_the_registered_grid(cached: tuple[str, pd.DataFrame]) -> None:
    name, results = cached
    spec = EXPERIMENTS[name]
    cells = results[CELL].drop_duplicates()
    n_models = len(spec.models)
    assert len(cells) == len(spec.sizes) * len(spec.seeds) * n_models * len(spec.frames)
    assert results.duplicated(list(KEYS)).sum() == 0


# ---------------------------------------------------------------------------
# groups partition the evaluation set
# ---------------------------------------------------------------------------


def test_groups_partition_the_evaluation_set(cached: tuple[str, pd.DataFrame]) -> None:
    name, results = cached
    spec = EXPERIMENTS[name]
    one_metric = results[results["metric"] == "error"]
    overall = one_metric[one_metric["group_var"] == "overall"].set_index(CELL)
    for var in spec.groups:
        block = one_metric[one_metric["group_var"] == var]
        sums = block.groupby(CELL)[["n_eval", "n_train_group"]].sum()
        assert len(sums) == len(overall)
        assert (sums["n_eval"] == overall.loc[sums.index, "n_eval"]).all()
        assert (sums["n_train_group"] == sums.index.get_level_values("train_size")).all()
    # Independent count of the held-out set: round(20 %) of every group-combination stratum, from the raw data.
    frame = spec.frame()
    strata = frame.groupby(list(spec.groups), observed=True).size().to_numpy()
    assert set(overall["n_eval"]) == {int(np.rint(spec.eval_fraction * strata).sum())}


def test_fertility_groups_follow_the_documented_coding() -> None:
    frame = EXPERIMENTS["fertility"].frame()
    flags = frame[["afam", "hispanic", "other"]].eq("yes")
    # Hand rule: exactly one flag -> that flag's name; none -> "none"; two or more -> "multiple".
    expected = np.select([flags.sum(axis=1) == 0, flags.sum(axis=1) > 1], ["none", "multiple"],
                         default=flags.idxmax(axis=1))
    assert (frame["race_ethnicity"].astype(str).to_numpy() == expected).all()
    assert frame["worked"].equals(frame["work"] > 0)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def test_group_metrics_match_sklearn_group_by_group() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    groups = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    y = rng.integers(0, 2, size=n)
    p = np.clip(rng.beta(2, 2, size=n) + 0.2 * y - 0.1, 0, 1)
    p[:5] = [0.0, 1.0, 0.5, 1e-9, 1 - 1e-9]  # exercise the clipping and the 0.5 threshold
    got = group_metrics(y, p, groups).set_index(["group", "metric"])
    for g, mask in [("overall", np.ones(n, bool))] + [(g, groups == g) for g in "abc"]:
        yt, pt = y[mask], p[mask]
        pred = (pt >= 0.5).astype(int)
        assert got.loc[(g, "error"), "value"] == pytest.approx(1 - accuracy_score(yt, pred), abs=1e-12)
        assert got.loc[(g, "balanced_error"), "value"] == pytest.approx(
            1 - balanced_accuracy_score(yt, pred), abs=1e-12)
        assert got.loc[(g, "log_loss"), "value"] == pytest.approx(
            log_loss(yt, np.clip(pt, PROB_CLIP, 1 - PROB_CLIP), labels=[0, 1]), abs=1e-12)
        assert got.loc[(g, "base_rate"), "value"] == pytest.approx(yt.mean(), abs=1e-12)
        assert (got.loc[g, "n_eval"] == mask.sum()).all()


def test_group_metrics_hand_computed_example() -> None:
    # y = 1,1,1,0 ; p = .9,.6,.3,.7 -> predictions 1,1,0,1: recall(1) = 2/3, recall(0) = 0,
    # balanced error = 1 - (2/3 + 0)/2 = 2/3; error = 2/4.
    m = group_metrics([1, 1, 1, 0], [0.9, 0.6, 0.3, 0.7]).set_index("metric")["value"]
    assert m["error"] == pytest.approx(0.5)
    assert m["balanced_error"] == pytest.approx(2 / 3)
    assert m["log_loss"] == pytest.approx(-(np.log(0.9) + np.log(0.6) + np.log(0.3) + np.log(0.3)) / 4)
    # A group with a single class has no balanced error.
    one_class = group_metrics([1, 1, 0], [0.8, 0.2, 0.4], ["a", "a", "b"]).set_index(["group", "metric"])
    assert np.isnan(one_class.loc[("a", "balanced_error"), "value"])


def test_learning_curve_recovers_a_known_bayes_error() -> None:
    # y | x ~ Bernoulli(0.2) for x = 0 and Bernoulli(0.9) for x = 1, x ~ Bernoulli(1/2): the Bayes rule predicts x,
    # with error 0.5 * 0.2 + 0.5 * 0.1 = 0.15. With 16,000 training rows the fitted rule is the Bayes rule; the
    # held-out error on 4,000 rows has SE sqrt(.15 * .85 / 4000) ~ 0.0056, so 0.025 is a > 4 SE band.
    rng = np.random.default_rng(11)
    x = rng.integers(0, 2, size=20_000)
    df = pd.DataFrame({"x": x, "y": rng.random(20_000) < np.where(x == 1, 0.9, 0.2),
                       "g": np.where(rng.random(20_000) < 0.8, "big", "small")})
    lc = learning_curve(df, target="y", features=["x"], group="g", sizes=[16_000], seeds=[0],
                        models=["logistic_d1"], progress=False)
    err = lc.query("group == 'overall' and metric == 'error'")["value"].item()
    assert abs(err - 0.15) < 0.025


# ---------------------------------------------------------------------------
# sampling frames (helpers.sampling.frame_sample; its tests are in tests/test_sampling.py)
# ---------------------------------------------------------------------------


def test_the_sampling_frame_keeps_its_import_path_here() -> None:
    import helpers.experiments as experiments
    import helpers.sampling as sampling

    assert experiments.frame_sample is sampling.frame_sample and experiments.FRAMES == sampling.FRAMES


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [1.5, -1, True])
def test_frame_sample_and_split_seeds_are_checked_with_the_librarys_error(bad) -> None:
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        frame_sample(np.repeat(["a", "b"], 5), 3, seed=bad)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        _curve(_toy(), seed=bad)


def test_a_text_target_names_its_values_and_how_to_derive_one() -> None:
    with pytest.raises(ValueError, match=r"target 'c' must be binary.*\['u', 'v'\]\. Derive it first"):
        _curve(_toy(), target="c", features=["x"])
    with pytest.raises(ValueError, match="y_true must be binary"):
        group_metrics([0, 2], [0.1, 0.2])


def _toy(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["u", "v"], n), "y": rng.random(n) < 0.5,
                         "g": rng.choice(["a", "b"], n)})


def _curve(df: pd.DataFrame, **kw: object) -> pd.DataFrame:
    args: dict = {"target": "y", "features": ["x", "c"], "group": "g", "sizes": [50], "seeds": [0],
                  "models": ["logistic_d1"], "progress": False}
    return learning_curve(df, **{**args, **kw})


def test_unknown_experiment_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown experiment name"):
        run_experiment("imagenet")
    with pytest.raises(ValueError, match="Unknown experiment name"):
        load_results("imagenet")


def test_sizes_larger_than_the_pool_are_refused() -> None:
    with pytest.raises(ValueError, match="training pool of 160"):
        _curve(_toy(), sizes=[50, 161])
    with pytest.raises(ValueError, match="training pool"):
        run_experiment("cps1988", sizes=[EXPERIMENTS["cps1988"].sizes[-1] + 1], progress=False)


@given(st.integers(max_value=0))
@settings(max_examples=25, deadline=None)
def test_non_positive_sizes_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="sizes"):
        _curve(_toy(), sizes=[100, size])


@pytest.mark.parametrize("kw", [{"target": "nope"}, {"features": ["x", "nope"]}, {"group": ["g", "nope"]}])
def test_unknown_columns_are_refused(kw: dict) -> None:
    with pytest.raises(ValueError, match="Unknown column"):
        _curve(_toy(), **kw)


@pytest.mark.parametrize("kw, message", [
    ({"models": ["gpt"]}, "Unknown model"),
    ({"frame": "snowball"}, "Unknown frame"),
    ({"target": "c", "features": ["x"]}, "binary"),
    ({"features": ["x", "y"]}, "also listed in features"),
    ({"eval_fraction": 1.0}, "eval_fraction"),
    ({"n_jobs": 0}, "n_jobs"),
])
def test_bad_options_are_refused(kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _curve(_toy(), **kw)


@given(st.integers(min_value=0, max_value=199), st.sampled_from(["x", "c", "y", "g"]))
@settings(max_examples=25, deadline=None)
def test_any_missing_value_is_refused(row: int, column: str) -> None:
    df = _toy()
    df[column] = df[column].astype(object)
    df.loc[row, column] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        _curve(df)


def test_bad_metric_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="Mismatched lengths"):
        group_metrics([0, 1], [0.2, 0.4, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        group_metrics([0, 1], [0.2, 1.5])
    with pytest.raises(ValueError, match="non-finite"):
        group_metrics([0, 1], [0.2, np.nan])


# ---------------------------------------------------------------------------
# integrity of the cache against edits (issue 20)
# ---------------------------------------------------------------------------


def _copy_cache(tmp_path, monkeypatch, name="cps1988"):
    import shutil

    from helpers import experiments

    for suffix in (".csv", ".json"):
        shutil.copy(RESULTS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    return tmp_path / f"{name}.csv", tmp_path / f"{name}.json"


def test_an_edited_results_file_with_an_edited_sidecar_is_caught(tmp_path, monkeypatch) -> None:
    from helpers import experiments

    csv, meta_path = _copy_cache(tmp_path, monkeypatch)
    df = pd.read_csv(csv, keep_default_na=False, na_values=[""])
    df.loc[df["metric"] == "error", "value"] *= 0.5  # a flattering edit
    df.to_csv(csv, index=False)
    meta = json.loads(meta_path.read_text())
    meta["file_sha256"] = hashlib.sha256(csv.read_bytes()).hexdigest()  # and the sidecar made to agree
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"differs from the checksum registered in helpers/data.py"):
        experiments.load_results("cps1988")


@pytest.mark.parametrize(
    "text,message",
    [("{not json", r"not valid JSON \(.* at line 1, column 2\)"),
     ("[1, 2]", r"holds a JSON list, not an object"),
     ('{"file": "cps1988.csv"}', r"lacks or garbles file_sha256 \(missing\)"),
     (None, r"rows \(str, not int\)")],
    ids=["broken", "list", "missing-keys", "wrong-type"],
)
def test_a_broken_sidecar_is_a_clear_error(tmp_path, monkeypatch, text, message) -> None:
    from helpers import experiments

    _, meta_path = _copy_cache(tmp_path, monkeypatch)
    if text is None:
        meta = json.loads(meta_path.read_text())
        text = json.dumps({**meta, "rows": "many"})
    meta_path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        experiments.load_results("cps1988")
    assert "python -m helpers.experiments cps1988" in str(info.value)


def test_a_crlf_checkout_of_the_cache_still_loads(tmp_path, monkeypatch) -> None:
    from helpers import experiments

    csv, _ = _copy_cache(tmp_path, monkeypatch)
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n"))
    assert len(experiments.load_results("cps1988")) == json.loads((tmp_path / "cps1988.json").read_text())["rows"]


# ---------------------------------------------------------------------------
# the contract walk's findings (tests/test_api_contract.py)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [1e308, 5e-324, float("inf"), 1e101, 0.0])
def test_an_extreme_majority_weight_is_the_librarys_error_not_numpys(weight) -> None:
    # 1e308 overflows the sum of the weights and 5e-324 underflows the others' share: numpy's choice() then
    # raised "probabilities do not sum to 1", which says nothing about the argument.
    with pytest.raises(ValueError, match="majority_weight must be"):
        frame_sample(np.repeat(["a", "b"], 5), 3, frame="convenience", majority_weight=weight)
    with pytest.raises(ValueError, match="majority_weight must be"):
        _curve(_toy(), frame="convenience", majority_weight=weight)
    # the bounds themselves still draw a sample of both groups
    for ok in (1e-100, 1e100):
        assert len(frame_sample(np.repeat(["a", "b"], 5), 10, frame="convenience", majority_weight=ok)) == 10


@pytest.mark.parametrize("kw, message", [
    ({"features": None}, "features must be a list"), ({"group": None}, "group must be a list"),
    ({"sizes": None}, "sizes must be a list"), ({"seeds": 3}, "seeds must be a list"),
    ({"models": None}, "models must be a list"), ({"progress": None}, "progress must be True or False"),
    ({"n_jobs": pd.NA}, "n_jobs must be"), ({"eval_fraction": 1e-300}, "raise eval_fraction"),
])
def test_arguments_that_are_not_lists_flags_or_counts_get_the_librarys_error(kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        _curve(_toy(), **kw)


def test_groups_of_metrics_and_samples_must_be_one_label_per_row() -> None:
    with pytest.raises(ValueError, match="groups must be a list"):
        group_metrics([1, 0], [0.9, 0.2], groups=1 + 2j)
    with pytest.raises(ValueError, match="groups must be one label per pool member"):
        frame_sample(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="exceeds the pool of 0 rows in groups"):
        frame_sample([], 1)


def test_paths_flags_seeds_and_argv_of_the_registry_and_cli_are_checked() -> None:
    from helpers.experiments import EXPERIMENTS, MODELS, main
    with pytest.raises(ValueError, match="directory must be a file path"):
        load_results("cps1988", directory=0)
    with pytest.raises(ValueError, match="live must be True or False"):
        EXPERIMENTS["cps1988"].grid(live=None)
    with pytest.raises(ValueError, match="random_state must be an integer >= 0"):
        MODELS["logistic_d1"].build(None)
    with pytest.raises(ValueError, match="argv must be a list of strings"):
        main(np.ones((2, 2)))


def test_the_cli_returns_argparses_exit_code_instead_of_raising_systemexit(capsys) -> None:
    from helpers.experiments import main
    assert main([]) == 2
    assert "required: name" in capsys.readouterr().err


def test_the_cli_replaces_existing_results_only_with_force(tmp_path, capsys) -> None:
    from helpers.experiments import main
    sidecar = tmp_path / "cps1988_quick.json"
    sidecar.write_text("keep me")
    # refused before the grid runs, and the file is untouched
    assert main(["cps1988", "--quick", "--out", str(tmp_path)]) == 1
    assert "pass --force" in capsys.readouterr().err and sidecar.read_text() == "keep me"
    assert main(["cps1988", "--quick", "--out", str(tmp_path), "--force"]) == 0
    assert json.loads(sidecar.read_text())["experiment"] == "cps1988"
